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
// --only runs selected rows (ids: --list-rows); bench/ab.py uses it with
// --json to measure two builds of the library interleaved (LD_LIBRARY_PATH).
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

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
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

// ---------------------------------------------------------------------------
// Row ids and --only
// ---------------------------------------------------------------------------

// --only: the ids of the rows to run. Empty: every row (the touch-all ones
// with --touch-all). A latency block runs its floor whenever one of its rows
// runs, a throughput row the ring floor of its size.
std::set<std::string> g_only;

bool wanted(const std::string& id, bool touch = false) {
    return g_only.empty() ? (!touch || g.touch_all) : g_only.count(id) > 0;
}

std::string size_id(size_t b) {
    if (b >= (1u << 20) && b % (1u << 20) == 0) return fmt::format("{}m", b >> 20);
    if (b >= 1024 && b % 1024 == 0) return fmt::format("{}k", b >> 10);
    return fmt::format("{}", b);
}

std::string lat_id(bool block, size_t payload, bool touch) {
    return fmt::format("{}{}{}", block ? "block" : "spin", size_id(payload), touch ? "-all" : "");
}
std::string lat_floor_id(bool block, bool touch) {
    return fmt::format("floor-{}{}", block ? "futex" : "spin", touch ? "-all" : "");
}
std::string tput_id(size_t payload, int readers, bool touch) {
    return fmt::format("tput{}{}{}", size_id(payload), readers > 1 ? fmt::format("x{}", readers) : "",
                       touch ? "-all" : "");
}
std::string ring_id(size_t payload) { return "ring" + size_id(payload); }

// The fan-out rows: ns per zfd_publish with these readers attached.
struct FanPlan {
    const char* id;
    const char* label;
    FanoutSpec spec;
};
const FanPlan kFanRows[] = {
    {"fan1", "1 reader attached", {1, 0, 0}},
    {"fan63", "63 readers attached", {63, 0, 0}},
    // The overwrite-oldest policy (DESIGN §8): publish cost with a stalled
    // reader (attached, never takes) against the same policy with none. The
    // stalled reader keeps cached_min from moving, so every publish past the
    // first slot_count takes reserve's slow path (refresh, walk, probe).
    {"fan1-ow", "1 reader, overwrite-oldest", {1, 0, ZFD_SEGMENT_OVERWRITE_OLDEST}},
    {"fan1-ow-stalled", "1 reader + 1 stalled, overwrite", {1, 1, ZFD_SEGMENT_OVERWRITE_OLDEST}},
};

// Every row id, in table order.
std::vector<std::string> all_row_ids() {
    std::vector<std::string> ids;
    for (bool block : {false, true})
        for (bool touch : {false, true}) {
            ids.push_back(lat_floor_id(block, touch));
            for (size_t p : kSizes) ids.push_back(lat_id(block, p, touch));
            if (!block && !touch) ids.push_back("iox64");
        }
    for (const char* id : {"floor-slots", "slots16", "slots4096"}) ids.push_back(id);
    for (size_t p : {size_t{64}, size_t{1024}}) {
        ids.push_back(ring_id(p));
        for (int readers : {1, 4}) ids.push_back(tput_id(p, readers, false));
        ids.push_back(tput_id(p, 1, true));
    }
    ids.push_back("tput1k-thread");
    for (const auto& f : kFanRows) ids.push_back(f.id);
    return ids;
}

// ---------------------------------------------------------------------------
// Latency blocks
// ---------------------------------------------------------------------------

// One row of a latency block: `iters` one-way samples from fn(warm, iters)
// calls, reported as `row` (job 0 of a block is its floor).
struct Job {
    std::string label;
    std::function<Sampled(uint64_t warm, uint64_t iters)> fn;
    uint64_t iters;
    LatRow row;
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

// Run a block (jobs[0] its floor) and add its rows, each with the floor as its pair.
void finish_block(Results& res, const std::string& what, const std::vector<Job>& jobs, int rounds) {
    std::vector<Stats> st = run_block(what, jobs, rounds);
    for (size_t k = 0; k < jobs.size(); ++k) {
        LatRow row = jobs[k].row;
        row.st = st[k];
        if (k > 0) row.pair = st[0];
        if (row.group == "iceoryx") {
            // Not added through add_lat: a failing comparison does not fail the benchmark.
            res.iox_row = row;
            res.lat.push_back(row);
            if (!row.st.ok) res.iox_status = "measurement failed: " + row.st.error;
        } else {
            add_lat(res, row);
        }
    }
}

// Latency blocks: [floor, 64 B, 1 KiB, 64 KiB, 1 MiB] spin and blocking (and
// their touch-all twins), the iceoryx row inside the spin block.
void run_latency(const Plan& plan, Results& res) {
    auto touch_iters = [&](size_t payload, uint64_t base) {
        double n = plan.touch_budget / (4.0 * static_cast<double>(payload));
        return std::clamp<uint64_t>(static_cast<uint64_t>(n), 200, base);
    };
    if (res.iox_built && !wanted("iox64")) res.iox_status = "not selected (--only)";
    for (bool block : {false, true}) {
        for (bool touch : {false, true}) {
            const std::string group = block ? "blocking" : "spin";
            const std::string floor_name = block ? "futex" : "cache-line";
            const std::string floor_label =
                fmt::format("floor: {}", block ? "raw futex ping-pong" : "shared cache line");
            std::vector<Job> jobs;
            jobs.push_back({"floor", block ? floor_futex : floor_spin, block ? plan.block_iters : plan.spin_iters,
                            LatRow{group, floor_label, "", 0, 0, touch, {}, {}, lat_floor_id(block, touch)}});
            for (size_t p : kSizes) {
                const std::string id = lat_id(block, p, touch);
                if (!wanted(id, touch)) continue;
                uint64_t it = block ? plan.block_iters : plan.spin_iters;
                if (touch) it = touch_iters(p, it);
                jobs.push_back({size_str(p),
                                [=](uint64_t w, uint64_t n) { return lib_pingpong({p, kLatSlots, block, touch, w, n}); },
                                it,
                                LatRow{group, fmt::format("{:>7}  {}", size_str(p), touch ? "all bytes" : "8 B"),
                                       floor_name, p, kLatSlots, touch, {}, {}, id}});
            }
            // iceoryx: its spin 64 B row joins the spin block (same floor, rounds,
            // iterations, pinning), with a private RouDi running for this block only.
            const bool with_iox = res.iox_built && !block && !touch && wanted("iox64");
            bool own_roudi = false;
            if (with_iox) {
                progress("starting iox-roudi");
                res.iox_status = begin_iceoryx(&own_roudi);
                res.iox_private_roudi = own_roudi;
                if (res.iox_status.empty())
                    jobs.push_back({"iceoryx 64 B", iox_pingpong, plan.spin_iters,
                                    LatRow{"iceoryx", "iceoryx 64 B 8 B (spin)", floor_name, 64, 0, false, {}, {},
                                           "iox64"}});
            }
            if (jobs.size() > 1 || wanted(lat_floor_id(block, touch), touch))
                finish_block(res, group + (touch ? " all bytes" : ""), jobs, plan.rounds);
            if (with_iox && res.iox_status.empty()) {
                if (own_roudi) progress("stopping iox-roudi");
                end_iceoryx();
            }
        }
    }
}

// Slot-count scaling: [floor, 16 slots, 4096 slots]
void run_slots(const Plan& plan, Results& res) {
    std::vector<Job> jobs;
    jobs.push_back({"floor", floor_spin, plan.spin_iters,
                    LatRow{"slots", "floor: shared cache line", "", 0, 0, false, {}, {}, "floor-slots"}});
    for (uint32_t slots : {16u, 4096u}) {
        const std::string id = fmt::format("slots{}", slots);
        if (!wanted(id)) continue;
        jobs.push_back({fmt::format("{} slots", slots),
                        [=](uint64_t w, uint64_t n) { return lib_pingpong({64, slots, false, false, w, n}); },
                        plan.spin_iters,
                        LatRow{"slots", fmt::format("   64 B  8 B, {:>4} slots", slots), "cache-line", 64, slots,
                               false, {}, {}, id}});
    }
    if (jobs.size() > 1 || wanted("floor-slots")) finish_block(res, "slots", jobs, plan.rounds);
}

// ---------------------------------------------------------------------------
// Throughput and fan-out
// ---------------------------------------------------------------------------

void run_throughput(const Plan& plan, Results& res) {
    auto row = [&](const std::string& id, const std::string& label, int readers, size_t p, bool touch) {
        progress("throughput " + label);
        add_tput(res, {label, readers, p, false, touch, tput_processes(readers, p, touch, plan.tput_secs), false, id});
    };
    for (size_t p : {size_t{64}, size_t{1024}}) {
        bool any = wanted(ring_id(p)) || (p == 1024 && wanted("tput1k-thread"));
        for (int readers : {1, 4}) any = any || wanted(tput_id(p, readers, false));
        any = any || wanted(tput_id(p, 1, true), true);
        if (!any) continue;
        // the floor of this record size, right before the rows compared with it
        std::string ring_label = fmt::format("floor: SPSC ring, {:>5} records", size_str(p));
        progress("throughput " + ring_label);
        add_tput(res, {ring_label, 1, p, false, false, floor_ring(p, plan.tput_secs), true, ring_id(p)});
        for (int readers : {1, 4})
            if (wanted(tput_id(p, readers, false)))
                row(tput_id(p, readers, false),
                    fmt::format("{:>5} -> {} reader process{}", size_str(p), readers, readers > 1 ? "es" : ""),
                    readers, p, false);
        if (wanted(tput_id(p, 1, true), true))
            row(tput_id(p, 1, true), fmt::format("{:>5} -> 1 reader process, all bytes", size_str(p)), 1, p, true);
    }
    if (wanted("tput1k-thread")) {
        std::string label = " 1 KiB -> 1 reader thread, in-process";
        progress("throughput " + label);
        add_tput(res, {label, 1, 1024, true, false, tput_in_process(1024, plan.tput_secs), false, "tput1k-thread"});
    }
}

void run_fanout(const Plan& plan, Results& res) {
    for (const auto& f : kFanRows) {
        if (!wanted(f.id)) continue;
        progress(fmt::format("fan-out: {}", f.label));
        Stats s = fanout(f.spec, plan.fan_warm, plan.fan_bursts);
        if (!s.ok) res.failures.push_back(fmt::format("fan-out {}: {}", f.label, s.error));
        res.fan.push_back({f.id, f.label, f.spec, s});
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
    std::vector<std::string> only;
    app.add_option("--only", only,
                   "run only these rows (comma-separated ids, e.g. spin64,block64,tput64,tput1k; a row's floor "
                   "always runs with it); --list-rows prints the ids")
        ->delimiter(',');
    bool list_rows = false;
    app.add_flag("--list-rows", list_rows, "print every row id, one a line, and exit");
    bool require_iceoryx = false;
    app.add_flag("--require-iceoryx", require_iceoryx,
                 "exit non-zero unless the iceoryx row ran and succeeded (the test suite's smoke run sets it when "
                 "zfd-bench was built with iceoryx)");
    CLI11_PARSE(app, argc, argv);
    const std::vector<std::string> ids = all_row_ids();
    if (list_rows) {
        for (const auto& id : ids) std::printf("%s\n", id.c_str());
        return 0;
    }
    for (const auto& id : only) {
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
            std::fprintf(stderr, "zfd-bench: --only: no row '%s' (zfd-bench --list-rows prints the ids)\n",
                         id.c_str());
            return 2;
        }
        g_only.insert(id);
    }
    g.only = only;

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
