// zfd-bench — the project's benchmark (DESIGN §5).
//
// One invocation measures, side by side, the machine's floor and this library,
// and prints one table (or, with --json, the same figures as JSON):
//
//   floor       floor.cpp: two processes ping-ponging one shared cache line
//               (spin), and the same ping-pong through a raw shared futex word;
//               for throughput, a single-producer/single-consumer ring
//   latency     latency.cpp: library ping-pong over two named segments, spin
//               and blocking; --touch-all adds rows where every byte is
//               written and read; slot-count scaling (16 vs 4096 slots)
//   throughput  throughput.cpp: one writer to 1 and 4 reader processes, and
//               writer thread to reader thread in one process
//   fan-out     fanout.cpp: publish cost with 1 vs 63 readers
//   iceoryx     iceoryx.cpp: (only when built with iceoryx's C binding,
//               -Diceoryx) the spin 64 B ping-pong over iceoryx 2.x, run
//               interleaved in the spin block against a private iox-roudi
//   report      report.cpp: targets, table, JSON
//
// Every measurement runs in freshly forked, pinned child processes
// (harness.hpp); this process only supervises them (timeouts, kill on
// failure) and always unlinks every segment name it handed out. It uses only
// the public C header and the shared library.
#include "common.hpp"
#include "harness.hpp"
#include "measure.hpp"
#include "report.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace zfd_bench {
namespace {

// Iterations and durations of one run (--quick or full).
struct Plan {
    uint64_t spin_iters, block_iters;
    int rounds;
    double touch_budget;  // bytes written+read per touch-all row
    double tput_secs;
    uint64_t fan_bursts, fan_warm;
};

Plan make_plan(bool q) {
    Plan p{};
    p.spin_iters = q ? 20000 : 200000;
    p.block_iters = q ? 4000 : 40000;
    p.rounds = q ? 3 : 10;
    p.touch_budget = q ? 1e9 : 8e9;
    p.tput_secs = q ? 0.25 : 2.0;
    p.fan_bursts = q ? 500 : 5000;
    p.fan_warm = p.fan_bursts / 10;
    return p;
}

const std::vector<size_t> kSizes = {64, 1024, 64 * 1024, 1024 * 1024};

// Cores: the first two the process may use; whether they are SMT siblings.
void choose_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
    g.cpus_available = static_cast<int>(cpus.size());
    if (cpus.size() < 2) return;
    g.pinned = true;
    g.cpu_a = cpus[0];
    g.cpu_b = cpus[1];
    std::string sib = read_first_line(fmt::format("/sys/devices/system/cpu/cpu{}/topology/thread_siblings_list", g.cpu_a));
    if (sib.empty()) return;
    // list like "0,8" or "0-1"
    bool is_sib = false;
    size_t pos = 0;
    while (pos < sib.size()) {
        size_t end = sib.find(',', pos);
        std::string part = sib.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        auto dash = part.find('-');
        int lo = std::atoi(part.c_str());
        int hi = dash == std::string::npos ? lo : std::atoi(part.c_str() + dash + 1);
        if (g.cpu_b >= lo && g.cpu_b <= hi) is_sib = true;
        if (end == std::string::npos) break;
        pos = end + 1;
    }
    g.smt_siblings = is_sib;
}

// One row of a latency block: `iters` one-way samples from fn(warm, iters) calls.
struct Job {
    std::string label;
    std::function<Sampled(uint64_t warm, uint64_t iters)> fn;
    uint64_t iters;
};

// The machine drifts (shared, noisy): a floor and the library rows that are
// compared with it run interleaved, round-robin, in `rounds` chunks (fresh
// processes and segments each), and each pools its samples.
std::vector<Stats> run_block(const std::string& what, const std::vector<Job>& jobs, int rounds) {
    std::vector<Sampled> acc(jobs.size());
    for (auto& a : acc) a.ok = true;
    for (int r = 0; r < rounds; ++r) {
        for (size_t j = 0; j < jobs.size(); ++j) {
            if (!acc[j].ok) continue;
            uint64_t chunk = jobs[j].iters / rounds + (r == rounds - 1 ? jobs[j].iters % rounds : 0);
            if (chunk == 0) continue;
            uint64_t warm = std::max<uint64_t>(chunk / 10, 20);
            progress(fmt::format("{} round {}/{}: {}", what, r + 1, rounds, jobs[j].label));
            Sampled sm = jobs[j].fn(warm, chunk);
            if (!sm.ok) {
                acc[j].ok = false;
                acc[j].error = fmt::format("round {}: {}", r + 1, sm.error);
                continue;
            }
            acc[j].v.insert(acc[j].v.end(), sm.v.begin(), sm.v.end());
        }
    }
    std::vector<Stats> out;
    for (auto& a : acc) {
        if (!a.ok) {
            Stats st;
            st.error = a.error;
            out.push_back(st);
        } else {
            out.push_back(make_stats(std::move(a.v)));
        }
    }
    return out;
}

void add_lat(Results& res, LatRow r) {
    if (!r.st.ok) res.failures.push_back(fmt::format("{} {}: {}", r.group, r.label, r.st.error));
    res.lat.push_back(std::move(r));
}

void add_tput(Results& res, TputRow r) {
    if (!r.t.ok) res.failures.push_back(fmt::format("throughput {}: {}", r.label, r.t.error));
    res.tput.push_back(std::move(r));
}

// Latency blocks: [floor, 64 B, 1 KiB, 64 KiB, 1 MiB] spin and blocking (and
// their touch-all twins), the iceoryx row inside the spin block.
void run_latency(const Plan& plan, Results& res) {
    auto touch_iters = [&](size_t payload, uint64_t base) {
        double n = plan.touch_budget / (4.0 * static_cast<double>(payload));
        return std::clamp<uint64_t>(static_cast<uint64_t>(n), 200, base);
    };
    for (bool block : {false, true}) {
        for (bool touch : {false, true}) {
            if (touch && !g.touch_all) continue;
            const std::string group = block ? "blocking" : "spin";
            const std::string floor_name = block ? "futex" : "cache-line";
            std::vector<Job> jobs;
            if (block)
                jobs.push_back({"floor", floor_futex, plan.block_iters});
            else
                jobs.push_back({"floor", floor_spin, plan.spin_iters});
            for (size_t p : kSizes) {
                uint64_t it = block ? plan.block_iters : plan.spin_iters;
                if (touch) it = touch_iters(p, it);
                jobs.push_back({size_str(p),
                                [=](uint64_t w, uint64_t n) { return lib_pingpong({p, kLatSlots, block, touch, w, n}); },
                                it});
            }
            // iceoryx: its spin 64 B row joins the spin block (same floor, rounds,
            // iterations, pinning), with a private RouDi running for this block only.
            const bool with_iox = res.iox_built && !block && !touch;
            bool own_roudi = false;
            if (with_iox) {
                progress("starting iox-roudi");
                res.iox_status = begin_iceoryx(&own_roudi);
                res.iox_private_roudi = own_roudi;
                if (res.iox_status.empty()) jobs.push_back({"iceoryx 64 B", iox_pingpong, plan.spin_iters});
            }
            std::vector<Stats> st = run_block(group + (touch ? " all bytes" : ""), jobs, plan.rounds);
            if (with_iox && res.iox_status.empty()) {
                if (own_roudi) progress("stopping iox-roudi");
                end_iceoryx();
            }
            add_lat(res, {group, fmt::format("floor: {}", block ? "raw futex ping-pong" : "shared cache line"), "", 0,
                          0, touch, st[0], {}});
            for (size_t k = 0; k < kSizes.size(); ++k)
                add_lat(res, {group, fmt::format("{:>7}  {}", size_str(kSizes[k]), touch ? "all bytes" : "8 B"),
                              floor_name, kSizes[k], kLatSlots, touch, st[k + 1], st[0]});
            if (with_iox && res.iox_status.empty()) {
                // Not added through add_lat: a failing comparison does not fail the benchmark.
                res.iox_row = LatRow{"iceoryx", "iceoryx 64 B 8 B (spin)", floor_name, 64, 0, false,
                                     st[kSizes.size() + 1], st[0]};
                res.lat.push_back(*res.iox_row);
                if (!res.iox_row->st.ok) res.iox_status = "measurement failed: " + res.iox_row->st.error;
            }
        }
    }
}

// Slot-count scaling: [floor, 16 slots, 4096 slots]
void run_slots(const Plan& plan, Results& res) {
    std::vector<Job> jobs;
    jobs.push_back({"floor", floor_spin, plan.spin_iters});
    for (uint32_t slots : {16u, 4096u})
        jobs.push_back({fmt::format("{} slots", slots),
                        [=](uint64_t w, uint64_t n) { return lib_pingpong({64, slots, false, false, w, n}); },
                        plan.spin_iters});
    std::vector<Stats> st = run_block("slots", jobs, plan.rounds);
    add_lat(res, {"slots", "floor: shared cache line", "", 0, 0, false, st[0], {}});
    add_lat(res, {"slots", "   64 B  8 B,   16 slots", "cache-line", 64, 16, false, st[1], st[0]});
    add_lat(res, {"slots", "   64 B  8 B, 4096 slots", "cache-line", 64, 4096, false, st[2], st[0]});
}

void run_throughput(const Plan& plan, Results& res) {
    for (size_t p : {size_t{64}, size_t{1024}}) {
        // the floor of this record size, right before the rows compared with it
        std::string ring_label = fmt::format("floor: SPSC ring, {:>5} records", size_str(p));
        progress("throughput " + ring_label);
        add_tput(res, {ring_label, 1, p, false, false, floor_ring(p, plan.tput_secs), true});
        for (int readers : {1, 4}) {
            std::string label =
                fmt::format("{:>5} -> {} reader process{}", size_str(p), readers, readers > 1 ? "es" : "");
            progress("throughput " + label);
            add_tput(res, {label, readers, p, false, false, tput_processes(readers, p, false, plan.tput_secs)});
        }
        if (g.touch_all) {
            std::string label = fmt::format("{:>5} -> 1 reader process, all bytes", size_str(p));
            progress("throughput " + label);
            add_tput(res, {label, 1, p, false, true, tput_processes(1, p, true, plan.tput_secs)});
        }
    }
    std::string label = " 1 KiB -> 1 reader thread, in-process";
    progress("throughput " + label);
    add_tput(res, {label, 1, 1024, true, false, tput_in_process(1024, plan.tput_secs)});
}

void run_fanout(const Plan& plan, Results& res) {
    for (int readers : {1, 63}) {
        progress(fmt::format("fan-out: {} readers", readers));
        Stats s = fanout(readers, plan.fan_warm, plan.fan_bursts);
        if (!s.ok) res.failures.push_back(fmt::format("fan-out {} readers: {}", readers, s.error));
        res.fan.emplace_back(readers, s);
    }
}

}  // namespace
}  // namespace zfd_bench

using namespace zfd_bench;


int main(int argc, char** argv) {
    CLI::App app{
        "zfd-bench: measures zerodds-flatdata against this machine's floor (shared cache-line and raw futex "
        "ping-pong) in one run and prints one table; see DESIGN.md §5 for the targets."};
    app.add_flag("--quick", g.quick, "fewer iterations (well under 30 s); same table");
    app.add_flag("--json", g.json, "print the results as JSON instead of the table");
    app.add_flag("--touch-all", g.touch_all,
                 "add rows where the writer writes every payload byte and the reader reads (sums) every byte");
    double test_timeout = 0;
    app.add_option("--test-timeout", test_timeout,
                   "seconds after which a hung measurement's processes are killed (default 10 quick, 60 full)")
        ->check(CLI::PositiveNumber);
    bool no_progress = false;
    app.add_flag("--no-progress", no_progress, "do not print progress lines on stderr");
    bool require_iceoryx = false;
    app.add_flag("--require-iceoryx", require_iceoryx,
                 "exit non-zero unless the iceoryx row ran and succeeded (the test suite's smoke run sets it when "
                 "zfd-bench was built with iceoryx)");
    CLI11_PARSE(app, argc, argv);

    g.orchestrator = getpid();
    std::atexit(stop_roudi);
    at_interrupt(stop_roudi);
    g.progress = !no_progress && isatty(STDERR_FILENO);
    g.test_timeout_s = test_timeout > 0 ? test_timeout : (g.quick ? 10 : 60);
    // SIGCHLD/SIGINT/SIGTERM/SIGHUP are taken synchronously (harness.hpp).
    block_signals();
    choose_cpus();

    const Plan plan = make_plan(g.quick);
    const int64_t run_t0 = now_ns();
    calibrate_ticks();
    Results res;
    res.timer_cost_ns = timer_cost_ns();
    res.rounds = plan.rounds;
    res.iox_built = iceoryx_built();

    run_latency(plan, res);
    if (require_iceoryx && !(res.iox_row && res.iox_row->st.ok))
        res.failures.push_back("iceoryx (--require-iceoryx): " +
                               (!res.iox_built            ? std::string("zfd-bench was built without iceoryx")
                                : res.iox_status.empty() ? std::string("not measured")
                                                         : res.iox_status));
    run_slots(plan, res);
    run_throughput(plan, res);
    run_fanout(plan, res);

    res.seconds = static_cast<double>(now_ns() - run_t0) / 1e9;
    const size_t leftover = cleanup_all_names();
    if (leftover)
        g_warnings.push_back(fmt::format("{} shared-memory objects of this run were left and removed", leftover));
    return report(res);
}
