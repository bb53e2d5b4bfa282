// report.cpp — the targets of DESIGN §5 from one run's figures, and the
// table or JSON that shows them.
#include "report.hpp"

#include "measure.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <cstdio>

namespace zfd_bench {

namespace {

// The file the dynamic loader opened for libzerodds_flatdata (as it named it:
// an LD_LIBRARY_PATH entry shows here), so a comparison of two builds can
// check which one ran.
std::string library_path() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&zfd_version_string), &info) != 0 && info.dli_fname) return info.dli_fname;
    return "";
}

struct Target {
    std::string what;
    std::string measured;
    std::string limit;
    std::optional<bool> met;  // nullopt = not measured
    double value = NAN;
};

// The SPSC ring floor measured for this payload size, if it ran and succeeded.
const Throughput* ring_floor(const std::vector<TputRow>& rows, size_t payload) {
    for (const auto& r : rows)
        if (r.ring_floor && r.payload == payload && r.t.ok && r.t.per_s > 0) return &r.t;
    return nullptr;
}

// What the report derives from the rows.
struct Derived {
    std::vector<Target> targets;  // DESIGN §5
    std::string iceoryx;          // the iceoryx comparison line(s)
    double iox_ratio = NAN;       // library spin 64 B p50 / iceoryx spin 64 B p50
};

Derived derive(const Results& res) {
    Derived d;
    const auto& lat = res.lat;
    const auto& tput = res.tput;
    const auto& fan = res.fan;
    const auto& iox_row = res.iox_row;
    const std::string& iox_status = res.iox_status;
    const bool iox_available = res.iox_built;
    const bool iox_private_roudi = res.iox_private_roudi;

    auto find_row = [&](const std::string& group, size_t payload, bool touch, uint32_t slots) -> const LatRow* {
        for (const auto& r : lat)
            if (r.group == group && !r.floor.empty() && r.payload == payload && r.touch_all == touch &&
                r.slots == slots && r.st.ok)
                return &r;
        return nullptr;
    };
    auto find_lat = [&](const std::string& group, size_t payload, bool touch, uint32_t slots) -> const Stats* {
        const LatRow* r = find_row(group, payload, touch, slots);
        return r ? &r->st : nullptr;
    };
    auto find_tput = [&](int readers, size_t payload) -> const Throughput* {
        for (const auto& r : tput)
            if (!r.ring_floor && !r.in_process && !r.touch_all && r.readers == readers && r.payload == payload &&
                r.t.ok)
                return &r.t;
        return nullptr;
    };
    auto find_fan = [&](const std::string& id) -> const Stats* {
        for (const auto& r : fan)
            if (r.id == id && r.st.ok) return &r.st;
        return nullptr;
    };
    std::vector<Target>& targets = d.targets;
    {
        const LatRow* r = find_row("spin", 64, false, kLatSlots);
        Target t{"spin 64 B p50 / cache-line floor p50", "-", "<= 1.5x", std::nullopt};
        if (r && r->pair.ok) {
            t.value = ratio(r->st.p50, r->pair.p50);
            t.measured = fmt::format("{:.2f}x", t.value);
            t.met = t.value <= 1.5;
        }
        targets.push_back(t);
    }
    {
        const Stats* a = find_lat("spin", 64, false, kLatSlots);
        const Stats* b = find_lat("spin", 1024 * 1024, false, kLatSlots);
        Target t{"spin 1 MiB p50 vs 64 B p50 (8 B touched)", "-", "<= +10 %", std::nullopt};
        if (a && b) {
            t.value = (b->p50 / a->p50 - 1) * 100;
            t.measured = fmt::format("{:+.1f} %", t.value);
            t.met = t.value <= 10.0;
        }
        targets.push_back(t);
    }
    {
        const LatRow* r = find_row("blocking", 64, false, kLatSlots);
        Target t{"blocking 64 B p50 / futex floor p50", "-", "<= 1.2x", std::nullopt};
        if (r && r->pair.ok) {
            t.value = ratio(r->st.p50, r->pair.p50);
            t.measured = fmt::format("{:.2f}x", t.value);
            t.met = t.value <= 1.2;
        }
        targets.push_back(t);
    }
    for (auto [p, lim] : {std::pair<size_t, double>{64, 10e6}, std::pair<size_t, double>{1024, 10.5e6}}) {
        const Throughput* tp = find_tput(1, p);
        Target t{fmt::format("throughput {} -> 1 reader process", size_str(p)), "-",
                 fmt::format(">= {:.1f} M/s", lim / 1e6), std::nullopt};
        if (tp) {
            t.value = tp->per_s;
            t.measured = fmt::format("{:.2f} M/s", tp->per_s / 1e6);
            t.met = tp->per_s >= lim;
        }
        targets.push_back(t);
    }
    for (size_t p : {size_t{64}, size_t{1024}}) {
        const Throughput* tp = find_tput(1, p);
        const Throughput* ring = ring_floor(tput, p);
        Target t{fmt::format("throughput {} -> 1 reader / SPSC ring floor", size_str(p)), "-", ">= 0.5x",
                 std::nullopt};
        if (tp && ring) {
            t.value = ratio(tp->per_s, ring->per_s);
            t.measured = fmt::format("{:.2f}x", t.value);
            t.met = t.value >= 0.5;
        }
        targets.push_back(t);
    }
    {
        // The speed issue states the 1 KiB target for one process (writer
        // thread -> reader thread); the row above holds the same number to the
        // cross-process case, as DESIGN §5 reads.
        const Throughput* tp = nullptr;
        for (const auto& r : tput)
            if (!r.ring_floor && r.in_process && r.payload == 1024 && r.t.ok) tp = &r.t;
        Target t{"throughput 1 KiB, in one process", "-", ">= 10.5 M/s", std::nullopt};
        if (tp) {
            t.value = tp->per_s;
            t.measured = fmt::format("{:.2f} M/s", tp->per_s / 1e6);
            t.met = tp->per_s >= 10.5e6;
        }
        targets.push_back(t);
    }
    {
        Target t{"fan-out publish p50: 63 readers / 1 reader", "-", "<= 1.3x", std::nullopt};
        const Stats* one = find_fan("fan1");
        const Stats* many = find_fan("fan63");
        if (one && many) {
            t.value = ratio(many->p50, one->p50);
            t.measured = fmt::format("{:.2f}x", t.value);
            t.met = t.value <= 1.3;
        }
        targets.push_back(t);
    }
    {
        Target t{"overwrite-oldest publish p50: 1 stalled reader / none", "-", "<= 1.1x", std::nullopt};
        const Stats* none = find_fan("fan1-ow");
        const Stats* stalled = find_fan("fan1-ow-stalled");
        if (none && stalled) {
            t.value = ratio(stalled->p50, none->p50);
            t.measured = fmt::format("{:.2f}x", t.value);
            t.met = t.value <= 1.1;
        }
        targets.push_back(t);
    }
    {
        const Stats* a = find_lat("slots", 64, false, 16);
        const Stats* b = find_lat("slots", 64, false, 4096);
        Target t{"spin 64 B p50: 4096 slots / 16 slots", "-", "<= 1.1x (*)", std::nullopt};
        if (a && b) {
            t.value = ratio(b->p50, a->p50);
            t.measured = fmt::format("{:.2f}x", t.value);
            t.met = t.value <= 1.1;
        }
        targets.push_back(t);
    }

    std::string& iceoryx = d.iceoryx;
    double& iox_ratio = d.iox_ratio;
    if (!iox_available) {
        iceoryx = "iceoryx: not compared (zfd-bench built without iceoryx's C binding; -Diceoryx, "
                  "Debian libiceoryx-binding-c-dev)";
    } else if (!iox_status.empty()) {
        iceoryx = "iceoryx: not measured: " + iox_status;
    } else if (iox_row && iox_row->st.ok) {
        const LatRow* lib = find_row("spin", 64, false, kLatSlots);
        if (lib) {
            iox_ratio = ratio(lib->st.p50, iox_row->st.p50);
            iceoryx = fmt::format("iceoryx ratio: zerodds-flatdata spin 64 B p50 / iceoryx spin 64 B p50 = {:.2f} "
                                  "({} ns / {} ns)",
                                  iox_ratio, ns_str(lib->st.p50), ns_str(iox_row->st.p50));
        } else {
            iceoryx = "iceoryx: measured, but the zerodds-flatdata spin 64 B row failed: no ratio";
        }
    } else {
        iceoryx = "iceoryx: not measured";
    }
    if (iox_available && iox_row)
        iceoryx += fmt::format(
            "\n  (iceoryx 2.x C binding, {}; publisher history 0, subscriber queue {}, history request 0,\n   "
            "default overflow policies; loan 64 B chunk, write 8 B, publish / busy-poll take, read 8 B, release; "
            "same rounds, iterations, pinning as spin 64 B)",
            iox_private_roudi ? "private iox-roudi (built-in config) started and stopped by this run"
                              : "an iox-roudi that was already running",
            kIoxQueueCapacity);
    return d;
}

void print_json(const Results& res, const Derived& d) {
    const auto& lat = res.lat;
    const auto& tput = res.tput;
    const auto& fan = res.fan;
    const auto& failures = res.failures;
    const auto& iox_row = res.iox_row;
    const std::string& iox_status = res.iox_status;
    const bool iox_available = res.iox_built;
    const bool iox_private_roudi = res.iox_private_roudi;
    const bool q = g.quick;
    const int rounds = res.rounds;
    const double run_secs = res.seconds;
    const double tcost = res.timer_cost_ns;
    const auto& targets = d.targets;
    const std::string& iceoryx = d.iceoryx;
    const double iox_ratio = d.iox_ratio;

    const std::string clocksrc = read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    using nlohmann::json;
    auto stats_json = [](const Stats& s) {
        json j;
        j["ok"] = s.ok;
        if (!s.ok) {
            j["error"] = s.error;
            return j;
        }
        j["n"] = s.n;
        j["p50_ns"] = s.p50;
        j["p99_ns"] = s.p99;
        j["p999_ns"] = s.p999;
        j["max_ns"] = s.max;
        j["mean_ns"] = s.mean;
        return j;
    };
    json out;
    out["tool"] = "zfd-bench";
    out["library_version"] = zfd_version_string();
    out["library_path"] = library_path();
    out["only"] = g.only.empty() ? json(nullptr) : json(g.only);
    out["run"] = q ? "quick" : "full";
    out["touch_all"] = g.touch_all;
    out["cpu_model"] = cpu_model();
    out["cpus_available"] = g.cpus_available;
    out["pinned"] = g.pinned;
    out["cpu_a"] = g.cpu_a;
    out["cpu_b"] = g.cpu_b;
    out["smt_siblings"] = g.smt_siblings ? json(*g.smt_siblings) : json(nullptr);
    out["clocksource"] = clocksrc;
    out["timer_cost_ns"] = tcost;
    out["timestamps"] = g.use_tsc ? "tsc" : "clock_monotonic";
    out["tsc_ghz"] = g.use_tsc ? json(1.0 / g.ns_per_tick) : json(nullptr);
    out["seconds"] = run_secs;
    out["latency_method"] = fmt::format(
        "one-way = round trip / 2; two processes; one timestamp per round trip; warm-up dropped; each block "
        "(floor + rows) interleaved round-robin in {} rounds with fresh processes, samples pooled; ratios to "
        "the block's floor; blocking rows run with ZFD_SPIN_NS=0 in both processes",
        rounds);
    out["rounds"] = rounds;
    json jl = json::array();
    for (const auto& r : lat) {
        json j = stats_json(r.st);
        j["id"] = r.id;
        j["group"] = r.group;
        j["label"] = r.label;
        if (r.payload) j["payload"] = r.payload;
        if (r.slots) j["slots"] = r.slots;
        j["touch_all"] = r.touch_all;
        if (!r.floor.empty() && r.st.ok) {
            const Stats& f = r.pair;
            j["floor"] = r.floor;
            j["floor_p50_ns"] = f.ok ? json(f.p50) : json(nullptr);
            if (f.ok)
                j["ratio_to_floor"] = {{"p50", ratio(r.st.p50, f.p50)},
                                       {"p99", ratio(r.st.p99, f.p99)},
                                       {"p999", ratio(r.st.p999, f.p999)},
                                       {"max", ratio(r.st.max, f.max)}};
        }
        jl.push_back(j);
    }
    out["latency"] = jl;
    json jt = json::array(), jr = json::array();
    for (const auto& r : tput) {
        json j;
        j["id"] = r.id;
        if (r.ring_floor) {
            j["label"] = r.label;
            j["readers"] = r.readers;
            j["payload"] = r.payload;
            j["records"] = kTputSlots;
            j["ok"] = r.t.ok;
            if (!r.t.error.empty()) j["error"] = r.t.error;
            j["samples"] = r.t.samples;
            j["seconds"] = r.t.seconds;
            j["samples_per_s"] = r.t.per_s;
            j["gb_per_s_per_reader"] = r.t.gbps_per_reader;
            jr.push_back(j);
            continue;
        }
        j["label"] = r.label;
        j["readers"] = r.readers;
        j["payload"] = r.payload;
        j["in_process"] = r.in_process;
        j["touch_all"] = r.touch_all;
        j["slots"] = kTputSlots;
        j["ok"] = r.t.ok;
        if (!r.t.error.empty()) j["error"] = r.t.error;
        j["samples"] = r.t.samples;
        j["seconds"] = r.t.seconds;
        j["samples_per_s"] = r.t.per_s;
        j["gb_per_s_per_reader"] = r.t.gbps_per_reader;
        j["writer_parks"] = r.t.writer_parks;
        j["reader_parks"] = r.t.reader_parks;
        const Throughput* ring = ring_floor(tput, r.payload);
        j["ring_floor_samples_per_s"] = ring ? json(ring->per_s) : json(nullptr);
        j["ratio_to_ring_floor"] = ring && r.t.ok ? json(ratio(r.t.per_s, ring->per_s)) : json(nullptr);
        jt.push_back(j);
    }
    out["throughput"] = jt;
    out["throughput_floor"] = {
        {"definition",
         fmt::format("single-producer/single-consumer ring of {} fixed-size records in a shared mapping, one "
                     "writer and one reader process pinned as the throughput rows; head and tail on separate "
                     "cache lines, each side caches the other's index; the first 8 bytes of each record "
                     "written and checked; both sides spin (pause), never park",
                     kTputSlots)},
        {"rows", jr}};
    json jf = json::array();
    for (const auto& r : fan) {
        json j = stats_json(r.st);
        j["id"] = r.id;
        j["label"] = r.label;
        j["readers"] = r.spec.readers;
        j["stalled_readers"] = r.spec.stalled;
        j["segment_flags"] = r.spec.segment_flags;
        jf.push_back(j);
    }
    out["fanout"] = {{"definition",
                      fmt::format("ns per zfd_publish = wall time of {} back-to-back zfd_publish calls ({} B "
                                  "copied in, all ZFD_OK) / {}; {} slots; writer waits for a full drain "
                                  "before each burst; readers drained concurrently by one process",
                                  kFanBurst, kFanPayload, kFanBurst, kFanSlots)},
                     {"rows", jf}};
    json jg = json::array();
    for (const auto& t : targets) {
        json j;
        j["target"] = t.what;
        j["limit"] = t.limit;
        j["measured"] = t.measured;
        j["value"] = std::isnan(t.value) ? json(nullptr) : json(t.value);
        j["met"] = t.met ? json(*t.met) : json(nullptr);
        jg.push_back(j);
    }
    out["targets"] = jg;
    out["iceoryx"] = iceoryx;
    {
        json ji;
        ji["built"] = iox_available;
        ji["measured"] = iox_row && iox_row->st.ok;
        ji["private_roudi"] = iox_private_roudi;
        if (!iox_status.empty()) ji["reason"] = iox_status;
        if (iox_row) ji["spin_64b"] = stats_json(iox_row->st);
        ji["ratio_lib_p50_over_iceoryx_p50"] = std::isnan(iox_ratio) ? json(nullptr) : json(iox_ratio);
        out["iceoryx_comparison"] = ji;
    }
    out["failures"] = failures;
    out["warnings"] = g_warnings;
    std::printf("%s\n", out.dump(2).c_str());
}

void print_table(const Results& res, const Derived& d) {
    const auto& lat = res.lat;
    const auto& tput = res.tput;
    const auto& fan = res.fan;
    const auto& failures = res.failures;
    const bool q = g.quick;
    const int rounds = res.rounds;
    const double run_secs = res.seconds;
    const double tcost = res.timer_cost_ns;
    const auto& targets = d.targets;
    const std::string& iceoryx = d.iceoryx;

    const std::string pin_desc =
        g.pinned ? fmt::format("pinned to cpus {} and {}{}", g.cpu_a, g.cpu_b,
                               g.smt_siblings ? (*g.smt_siblings ? " (SMT siblings)" : " (not SMT siblings)") : "")
                 : "only 1 cpu available: running UNPINNED (spin loops yield)";
    const std::string clocksrc = read_first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string o;
    o += fmt::format("zfd-bench: zerodds-flatdata {} ({} run{}), {:.0f} s\n", zfd_version_string(),
                     q ? "quick" : "full", g.touch_all ? ", --touch-all" : "", run_secs);
    o += fmt::format("machine: {}, {} cpus usable, {}\n", cpu_model(), g.cpus_available, pin_desc);
    o += fmt::format("timestamps: {} (one per round trip, ~{:.0f} ns each, in every latency row alike); "
                     "kernel clocksource {}\n",
                     g.use_tsc ? fmt::format("invariant TSC, {:.3f} GHz, calibrated on CLOCK_MONOTONIC", 1.0 / g.ns_per_tick)
                               : std::string("CLOCK_MONOTONIC"),
                     tcost, clocksrc);
    o += fmt::format("latency: one-way = round trip / 2, two processes, two named segments (a->b ping, b->a pong), "
         "16 slots,\n         slot_capacity = payload; per-iteration samples, warm-up dropped. Each block (a floor and "
         "its rows)\n         runs interleaved round-robin in {} rounds (fresh processes each), samples pooled.\n"
         "ratios (x): each figure / the same figure of the block's floor (its p50 in the last column);\n"
         "         blocking = receiver parked in zfd_reader_wait, ZFD_SPIN_NS=0 set in both processes\n\n", rounds);
    o += fmt::format("{:<36} {:>7} {:>8} {:>8} {:>8} {:>9} | {:>5} {:>5} {:>5} {:>7} | {:>6}\n",
                     "ONE-WAY LATENCY (ns)", "n", "p50", "p99", "p99.9", "max", "x p50", "p99", "p99.9", "max",
                     "floor");
    std::string last_group;
    for (const auto& r : lat) {
        if (r.group != last_group && !last_group.empty()) o += "\n";
        last_group = r.group;
        std::string name = r.group == "iceoryx" ? r.label : r.group + "  " + r.label;
        if (!r.st.ok) {
            o += fmt::format("{:<36} FAILED: {}\n", name, r.st.error);
            continue;
        }
        o += fmt::format("{:<36} {:>7} {:>8} {:>8} {:>8} {:>9}", name, r.st.n, ns_str(r.st.p50), ns_str(r.st.p99),
                         ns_str(r.st.p999), ns_str(r.st.max));
        if (!r.floor.empty()) {
            const Stats& f = r.pair;
            if (f.ok)
                o += fmt::format(" | {:>5.2f} {:>5.2f} {:>5.2f} {:>7.2f} | {:>6}", ratio(r.st.p50, f.p50),
                                 ratio(r.st.p99, f.p99), ratio(r.st.p999, f.p999), ratio(r.st.max, f.max),
                                 ns_str(f.p50));
            else
                o += " | floor failed";
        }
        o += "\n";
    }
    if (!tput.empty()) {
        o += fmt::format("\n{:<46} {:>10} {:>7} {:>11} {:>10} {:>15} {:>7}\n",
                         fmt::format("THROUGHPUT ({} slots, reserve+commit / take+release)", kTputSlots), "samples",
                         "s", "samples/s", "GB/s/rdr", "parks w/r", "x ring");
        for (const auto& r : tput) {
            if (!r.t.ok && r.t.samples == 0) {
                o += fmt::format("{:<46} FAILED: {}\n", r.label, r.t.error);
                continue;
            }
            const Throughput* ring = r.ring_floor ? nullptr : ring_floor(tput, r.payload);
            o += fmt::format("{:<46} {:>10} {:>7.2f} {:>9.2f} M {:>10.3f} {:>15} {:>7}{}\n", r.label, r.t.samples,
                             r.t.seconds, r.t.per_s / 1e6, r.t.gbps_per_reader,
                             r.ring_floor ? "-" : fmt::format("{}/{}", r.t.writer_parks, r.t.reader_parks),
                             ring ? fmt::format("{:.2f}", ratio(r.t.per_s, ring->per_s)) : "",
                             r.t.ok ? "" : "  FAILED: " + r.t.error);
        }
        o += fmt::format(
            "  (8 B written/read per sample unless 'all bytes'; samples/s = samples each reader got / (last reader "
            "done - writer start);\n   readers pinned to the cpu the writer does not use, so 4 readers share one "
            "cpu; idle sides spin 20 us, then park;\n   parks w/r = zfd_reserve_wait calls by the writer / "
            "zfd_reader_wait calls by all readers;\n   floor: SPSC ring = {} records of the row's size in a shared "
            "mapping, one writer and one reader process,\n   head and tail on separate cache lines, cached opposite "
            "index, first 8 B written/checked, both sides spin (pause);\n   x ring = samples/s / that of the SPSC "
            "ring floor of the same size)\n",
            kTputSlots);
    }
    if (!fan.empty()) {
        o += fmt::format("\n{:<36} {:>7} {:>8} {:>8} {:>8} {:>9}   {:>8}\n", "FAN-OUT: ns per zfd_publish", "bursts",
                         "p50", "p99", "p99.9", "max", "mean");
        for (const auto& r : fan) {
            const std::string& name = r.label;
            const Stats& s = r.st;
            if (!s.ok) {
                o += fmt::format("{:<36} FAILED: {}\n", name, s.error);
                continue;
            }
            o += fmt::format("{:<36} {:>7} {:>8} {:>8} {:>8} {:>9}   {:>8}\n", name, s.n, ns_str(s.p50), ns_str(s.p99),
                             ns_str(s.p999), ns_str(s.max), ns_str(s.mean));
        }
        o += fmt::format("  (one sample = wall time of {} back-to-back zfd_publish calls of {} B, all ZFD_OK, / {}; "
                         "{} slots;\n   the writer waits for a full drain before each burst; one process drains all "
                         "readers concurrently on the other cpu)\n",
                         kFanBurst, kFanPayload, kFanBurst, kFanSlots);
    }
    o += fmt::format("\n{:<46} {:>12} {:>14}  {}\n", "TARGETS (DESIGN §5)", "measured", "target", "verdict");
    for (const auto& t : targets)
        o += fmt::format("{:<46} {:>12} {:>14}  {}\n", t.what, t.measured, t.limit,
                         t.met ? (*t.met ? "met" : "NOT MET") : "not measured");
    o += "  (*) DESIGN gives no number for slot-count independence; this benchmark uses <= 1.1x.\n";
    o += fmt::format("\n{}\n", iceoryx);
    for (const auto& w : g_warnings) o += fmt::format("warning: {}\n", w);
    for (const auto& f : failures) o += fmt::format("FAILURE: {}\n", f);
    std::fputs(o.c_str(), stdout);
}

}  // namespace

int report(const Results& res) {
    const Derived d = derive(res);
    if (g.json)
        print_json(res, d);
    else
        print_table(res, d);
    return res.failures.empty() ? 0 : 1;
}

}  // namespace zfd_bench
