// torture_driver.cpp — crash torture with real processes (issue "Trust").
//
//   zfd_torture points       the hard-coded fault-point list equals the
//                            ZFD_FAULT_POINT("...") names in src/*.{cpp,hpp}
//   zfd_torture selftest     a writer that damages samples must be caught
//   zfd_torture writer-kill  (a) writer SIGKILLed at random moments / random
//                            fault points, restarted with REPLACE_STALE;
//                            4 long-lived reader processes
//   zfd_torture reader-kill  (b) readers SIGKILLed while holding 0..K samples;
//                            the writer reaps and continues
//   zfd_torture sweep        (c) every fault point, >= 20 kills each
//   zfd_torture hung         (d) SIGSTOPped reader, eviction bound
//   zfd_torture overwrite    (e) OVERWRITE_OLDEST: a writer that never
//                            waits, holding/slow/stalled readers, reader
//                            and writer kills; held samples intact
//   zfd_torture history      (f) history: readers re-attaching with
//                            ZFD_READER_HISTORY get exactly the retained
//                            samples, then live ones, no gap; kills
//
// Every sample is self-checking (torture_payload.hpp) and verified by the
// reader processes (torture_worker.cpp). A test fails when a must-be-zero
// figure is non-zero: corrupt samples accepted, duplicates/reorders, leaked
// slots, leaked /dev/shm objects, a live reader detached, a hang (every wait
// has a watchdog), or any ERROR/VIOLATION line from a worker.
//
// Environment: ZFD_TORTURE_WORKER (worker program), ZFD_SOURCE_ROOT (for
// `points`), ZFD_TORTURE_SCALE (multiplies the trial counts, default 1),
// ZFD_TORTURE_SEED (reproduce a run; printed at the start).
#include <zerodds/flatdata.h>

#include "torture_proc.hpp"

#include <dirent.h>
#include <inttypes.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace {

using torture::ifield;
using torture::now_ns;
using torture::Proc;
using torture::pump;
using torture::pump_for;
using torture::ufield;
using torture::wait_until;

constexpr int64_t kMs = 1'000'000;

// Every ZFD_FAULT_POINT in src/*.cpp and src/*.hpp (the per-sample steps are
// inline in sample_path.hpp). `points` fails when this list and the
// sources differ, so a new point cannot be forgotten by the sweep.
const std::vector<std::string> kFaultPoints = {
    "owner.create.initialised",
    "writer.reserve.claimed",
    "writer.reserve.probed",
    "writer.commit.filled",
    "writer.commit.committed",
    "writer.commit.counted",
    "writer.commit.log_invalidated",
    "writer.commit.log_written",
    "writer.commit.published",
    "writer.discard.freed",
    "writer.evict.busy",
    "writer.evict.counted",
    "detach.entry_freed",
    "reader.open.locked",
    "reader.open.entry_active",
    "reader.open.visible",
    "reader.close.closing",
    "reader.close.left",
    "reader.take.held",
    "reader.take.found",
    "reader.release.bit_cleared",
    "reader.release.released",
};

constexpr uint32_t kSlots = 16;
constexpr uint64_t kCap = 512;

std::mt19937_64 g_rng;

uint64_t urand(uint64_t lo, uint64_t hi) {  // inclusive
    return lo + g_rng() % (hi - lo + 1);
}

int scale() {
    const char* s = std::getenv("ZFD_TORTURE_SCALE");
    const int v = s != nullptr ? std::atoi(s) : 1;
    return v < 1 ? 1 : v;
}

std::string fmt_count(uint64_t v) {
    const std::string d = std::to_string(v);
    std::string s;
    for (size_t i = 0; i < d.size(); ++i) {
        if (i != 0 && (d.size() - i) % 3 == 0) s.push_back(',');
        s.push_back(d[i]);
    }
    return s;
}

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------

struct Dist {
    std::vector<double> v;  // ms
    void add_ns(int64_t ns) { v.push_back(static_cast<double>(ns) / 1e6); }
    double pct(double p) const {
        if (v.empty()) return NAN;
        std::vector<double> s = v;
        std::sort(s.begin(), s.end());
        size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(s.size())));
        if (rank < 1) rank = 1;
        return s[rank - 1];
    }
    std::string str() const {
        if (v.empty()) return "n/a";
        char b[128];
        std::snprintf(b, sizeof b, "%.1f/%.1f/%.1f ms", pct(50), pct(99), pct(100));
        return b;
    }
    std::string str_n() const { return str() + " (n=" + std::to_string(v.size()) + ")"; }
};

struct ReaderTotals {
    uint64_t accepted = 0, corrupt = 0, torn = 0, evicted = 0, dup = 0, gaps = 0, gap_samples = 0,
             peer_gone = 0, detached = 0, attaches = 0, copies = 0;
    uint64_t held_checked = 0, held_changed = 0, history_attaches = 0, history_samples = 0,
             history_bad = 0, latest = 0;
    int reports = 0;
    void add(const std::string& l) {
        held_checked += ufield(l, "held_checked");
        held_changed += ufield(l, "held_changed");
        history_attaches += ufield(l, "history_attaches");
        history_samples += ufield(l, "history_samples");
        history_bad += ufield(l, "history_bad");
        latest += ufield(l, "latest");
        accepted += ufield(l, "accepted");
        corrupt += ufield(l, "corrupt_accepted");
        torn += ufield(l, "torn_detected");
        evicted += ufield(l, "evicted_release");
        dup += ufield(l, "dup_or_reorder");
        gaps += ufield(l, "gaps");
        gap_samples += ufield(l, "gap_samples");
        peer_gone += ufield(l, "peer_gone");
        detached += ufield(l, "detached");
        attaches += ufield(l, "attaches");
        copies += ufield(l, "copies");
        ++reports;
    }
};

class Test {
public:
    explicit Test(const std::string& tag) : name_("torture-" + std::to_string(::getpid()) + "-" + tag) {
        std::snprintf(torture::g_shm_path, sizeof torture::g_shm_path, "/dev/shm/zfd.%s", name_.c_str());
    }
    const std::string& name() const { return name_; }

    void fail(const std::string& what) {
        failures_.push_back(what);
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    }
    bool failed() const { return !failures_.empty(); }
    const std::vector<std::string>& failures() const { return failures_; }

    // Alarm lines seen from a process (VIOLATION / ERROR / DETACHED ...).
    void absorb_alarms(const Proc& p) { alarm_lines_ += p.alarms(); }
    int alarm_lines() const { return alarm_lines_; }

    // The run reached its graceful end (final writer closed its segment);
    // only then do /dev/shm leftovers count as leaks.
    void set_graceful(bool g) { graceful_ = g; }
    bool graceful() const { return graceful_; }

    void log_proc_failure(const std::string& what, const Proc& p) {
        fail(what + " [" + p.label() + " pid " + std::to_string(p.pid()) + ", " + p.describe() + "]\n" +
             p.tail());
    }

private:
    std::string name_;
    std::vector<std::string> failures_;
    int alarm_lines_ = 0;
    bool graceful_ = false;
};

// /dev/shm entries of this driver ("zfd.torture-<pid>-*").
std::vector<std::string> shm_leftovers() {
    std::vector<std::string> found;
    const std::string prefix = "zfd.torture-" + std::to_string(::getpid()) + "-";
    if (DIR* d = ::opendir("/dev/shm")) {
        while (dirent* e = ::readdir(d)) {
            if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) found.push_back(e->d_name);
        }
        ::closedir(d);
    }
    return found;
}

// Counts and then removes leftovers; the count is the leak figure.
// After an aborted run (a failure already recorded, the live writer killed
// by the cleanup) leftovers are expected; they are removed, not counted.
size_t leaked_shm_and_clean(Test& t) {
    const auto left = shm_leftovers();
    for (const auto& n : left) ::unlink(("/dev/shm/" + n).c_str());
    if (!shm_leftovers().empty()) t.fail("/dev/shm still holds torture objects after cleanup");
    torture::g_shm_path[0] = '\0';
    if (!t.graceful()) {
        std::printf("  run aborted: %zu /dev/shm object(s) of the killed writer removed (not counted as a leak)\n",
                    left.size());
        return 0;
    }
    return left.size();
}

std::vector<Proc*> ptrs(const std::vector<std::unique_ptr<Proc>>& v, std::initializer_list<Proc*> more = {}) {
    std::vector<Proc*> r;
    for (const auto& p : v) r.push_back(p.get());
    for (Proc* p : more) r.push_back(p);
    return r;
}

std::unique_ptr<Proc> spawn(Test& t, const std::string& label, const std::vector<std::string>& args) {
    auto p = std::make_unique<Proc>(label);
    if (!p->start(args)) t.fail("cannot start " + label);
    return p;
}

std::vector<std::string> writer_args(const std::string& name, uint32_t epoch,
                                     std::initializer_list<std::string> extra) {
    std::vector<std::string> a{"writer", "name=" + name, "epoch=" + std::to_string(epoch),
                               "slots=" + std::to_string(kSlots), "cap=" + std::to_string(kCap)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::vector<std::string> reader_args(const std::string& name, const std::string& role,
                                     std::initializer_list<std::string> extra) {
    std::vector<std::string> a{"reader", "name=" + name, "cap=" + std::to_string(kCap), "role=" + role,
                               "seed=" + std::to_string(g_rng())};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

// Sends a command and waits for the answer line starting with `word`.
std::optional<std::string> ask(Test& t, Proc& p, const std::vector<Proc*>& pump_set,
                               const std::string& cmd, const char* word, int timeout_ms = 5000) {
    if (!p.send(cmd)) {
        t.log_proc_failure("cannot send '" + cmd + "'", p);
        return std::nullopt;
    }
    std::optional<std::string> line;
    wait_until(pump_set, [&] { return (line = p.take(word)).has_value() || p.reaped(); }, timeout_ms);
    if (!line) {
        for (int i = 0; i < 20 && !line && !p.reaped(); ++i) {  // it may just have died
            pump(pump_set, 5);
            line = p.take(word);
        }
    }
    if (!line) t.log_proc_failure("no '" + std::string(word) + "' answer to '" + cmd + "' within " +
                                      std::to_string(timeout_ms) + " ms (hang?)", p);
    return line;
}

// Leak check through the writer: every slot must be loanable again.
struct CheckResult {
    bool ok = false;
    uint64_t leaked = 0;
    int readers = -1;
    int64_t t = 0;
    uint64_t reaped = 0;
};
CheckResult check_slots(Test& t, Proc& writer, const std::vector<Proc*>& pump_set, int expect_readers,
                        const std::string& context) {
    CheckResult r;
    auto line = ask(t, writer, pump_set, "check", "CHECK", 8000);
    if (!line) return r;
    r.ok = true;
    r.leaked = ufield(*line, "leaked");
    r.readers = static_cast<int>(ifield(*line, "readers"));
    r.t = ifield(*line, "t");
    r.reaped = ufield(*line, "reaped");
    if (r.leaked != 0) t.fail(context + ": " + std::to_string(r.leaked) + " slot(s) leaked: " + *line);
    if (expect_readers >= 0 && r.readers != expect_readers) {
        t.fail(context + ": " + std::to_string(r.readers) + " readers attached after reaping, expected " +
               std::to_string(expect_readers) + " (leaked reader entry?): " + *line);
    }
    return r;
}

// On a hang: the objects in /dev/shm, their OFD locks (/proc/locks) and a
// backtrace of every stuck process (gdb, when installed), before the
// processes are killed. Set ZFD_TORTURE_GDB=0 to skip the backtraces.
void diagnose_hang(const std::vector<const Proc*>& stuck) {
    std::fprintf(stderr, "---- hang diagnostics ----\n");
    std::set<std::string> inodes;
    const std::string prefix = "zfd.torture-" + std::to_string(::getpid()) + "-";
    if (DIR* d = ::opendir("/dev/shm")) {
        while (dirent* e = ::readdir(d)) {
            if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) != 0) continue;
            struct stat st {};
            ::stat(("/dev/shm/" + std::string(e->d_name)).c_str(), &st);
            std::fprintf(stderr, "/dev/shm/%s inode %lu size %lld\n", e->d_name, static_cast<unsigned long>(st.st_ino),
                         static_cast<long long>(st.st_size));
            inodes.insert(":" + std::to_string(st.st_ino) + " ");
        }
        ::closedir(d);
    }
    std::ifstream locks("/proc/locks");
    for (std::string l; std::getline(locks, l);) {
        if (l.find("OFDLCK") != std::string::npos) std::fprintf(stderr, "lock: %s\n", l.c_str());
    }
    const char* gdb_env = std::getenv("ZFD_TORTURE_GDB");
    const bool gdb = (gdb_env == nullptr || std::strcmp(gdb_env, "0") != 0) && ::access("/usr/bin/gdb", X_OK) == 0;
    for (const Proc* p : stuck) {
        std::ifstream wchan("/proc/" + std::to_string(p->pid()) + "/wchan");
        std::string w;
        std::getline(wchan, w);
        std::fprintf(stderr, "%s pid %d wchan %s\n", p->label().c_str(), static_cast<int>(p->pid()), w.c_str());
        if (gdb) {
            const std::string cmd = "/usr/bin/gdb -batch -nx -p " + std::to_string(p->pid()) +
                                    " -ex 'thread apply all bt' 2>/dev/null | grep -E '^#|^Thread' 1>&2";
            if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "(gdb failed)\n");
        }
    }
    std::fprintf(stderr, "---- end of hang diagnostics ----\n");
}

// Leaked reader entries: with `live` readers attached (dead ones reaped by
// the last check), a fresh process must attach ZFD_MAX_READERS - live more.
void check_reader_table(Test& t, const std::vector<Proc*>& pump_set, int live, const std::string& context) {
    auto f = spawn(t, "fill", {"fill", "name=" + t.name()});
    auto set = pump_set;
    set.push_back(f.get());
    std::optional<std::string> line;
    wait_until(set, [&] { return (line = f->take("FILL")).has_value() || f->exited(); }, 10000);
    if (!line) pump(set, 10), line = f->take("FILL");
    if (!line) {
        t.log_proc_failure(context + ": reader-table check gave no answer", *f);
        return;
    }
    const int64_t n = ifield(*line, "n");
    std::printf("  reader table (%s): %" PRId64 " of %d entries free with %d live readers -> %s\n", context.c_str(), n,
                ZFD_MAX_READERS, live, n == ZFD_MAX_READERS - live ? "no leaked entry" : "LEAK");
    if (n != ZFD_MAX_READERS - live) {
        t.fail(context + ": only " + std::to_string(n) + " reader entries attachable, expected " +
               std::to_string(ZFD_MAX_READERS - live) + " (leaked reader entries): " + *line);
    }
    f->wait_exit(5000);
    t.absorb_alarms(*f);
}

// Stops readers (stdin "stop") and collects their STATS.
void stop_readers(Test& t, std::vector<std::unique_ptr<Proc>>& readers, ReaderTotals& tot) {
    for (auto& r : readers) r->send("stop");
    const auto set = ptrs(readers);
    for (auto& r : readers) {
        std::optional<std::string> s;
        wait_until(set, [&] { return (s = r->take("STATS")).has_value() || r->reaped(); }, 10000);
        if (!s) {
            pump(set, 10);
            s = r->take("STATS");
        }
        if (!s) {
            t.log_proc_failure("reader did not stop with STATS within 10 s (blocked?)", *r);
            continue;
        }
        tot.add(*s);
        if (!r->wait_exit(5000)) t.log_proc_failure("reader did not exit", *r);
    }
    for (auto& r : readers) t.absorb_alarms(*r);
}

bool stop_writer(Test& t, Proc& w, const std::vector<Proc*>& pump_set, std::string* stats = nullptr) {
    auto s = ask(t, w, pump_set, "stop", "STATS", 8000);
    if (!s) return false;
    if (stats != nullptr) *stats = *s;
    if (!w.wait_exit(5000) || !w.exited_zero()) {
        t.log_proc_failure("writer did not exit cleanly after stop", w);
        return false;
    }
    return true;
}

// Waits until every reader printed "FIRST epoch=<epoch>" (or `abort` holds);
// returns the latest timestamp, -1 if not all did.
int64_t wait_first(const std::vector<std::unique_ptr<Proc>>& readers, const std::vector<Proc*>& pump_set,
                   uint32_t epoch, int timeout_ms, const std::function<bool()>& abort) {
    const std::string e = std::to_string(epoch);
    auto is_epoch = [&](const std::string& l) { return torture::field(l, "epoch") == e; };
    auto all = [&] {
        for (const auto& r : readers) {
            if (!r->has("FIRST", is_epoch)) return false;
        }
        return true;
    };
    wait_until(pump_set, [&] { return all() || (abort && abort()); }, timeout_ms);
    if (!all()) return -1;
    int64_t latest = 0;
    for (const auto& r : readers) {
        auto l = r->take("FIRST", is_epoch);
        latest = std::max<int64_t>(latest, ifield(*l, "t"));
    }
    return latest;
}

void drop_epoch_lines_below(std::vector<std::unique_ptr<Proc>>& readers, uint32_t epoch) {
    for (auto& r : readers) {
        r->drop_if([&](const std::string& l) {
            return (torture::starts(l, "FIRST") || torture::starts(l, "GONE")) &&
                   ufield(l, "epoch") < epoch;
        });
        if (r->lines.size() > 200) r->lines.clear();
    }
}

void print_reader_totals(const ReaderTotals& tot) {
    std::printf("  readers: accepted=%s corrupt_accepted=%" PRIu64 " dup_or_reorder=%" PRIu64
                " gaps=%" PRIu64 " (missing samples %" PRIu64 ") torn_detected_on_release=%" PRIu64
                " evicted_on_release=%" PRIu64 " take_copy=%" PRIu64 " take_latest=%" PRIu64
                " peer_gone=%" PRIu64 " attaches=%" PRIu64 " detached(live)=%" PRIu64
                " held_checked=%" PRIu64 " history_attaches=%" PRIu64 " history_samples=%" PRIu64
                " reports=%d\n",
                fmt_count(tot.accepted).c_str(), tot.corrupt, tot.dup, tot.gaps, tot.gap_samples, tot.torn,
                tot.evicted, tot.copies, tot.latest, tot.peer_gone, tot.attaches, tot.detached,
                tot.held_checked, tot.history_attaches, tot.history_samples, tot.reports);
}

// Common must-be-zero verdict; prints and returns the exit code.
int finish(Test& t, const char* id, const ReaderTotals& tot, uint64_t leaked_slots, size_t leaked_shm) {
    if (tot.corrupt != 0) t.fail(std::to_string(tot.corrupt) + " corrupt sample(s) accepted");
    if (tot.dup != 0) t.fail(std::to_string(tot.dup) + " duplicate/reordered sample(s)");
    if (tot.detached != 0) t.fail(std::to_string(tot.detached) + " live reader(s) detached");
    if (tot.held_changed != 0) t.fail(std::to_string(tot.held_changed) + " held sample(s) changed while held");
    if (tot.history_bad != 0) t.fail(std::to_string(tot.history_bad) + " history delivery error(s)");
    if (leaked_slots != 0) t.fail(std::to_string(leaked_slots) + " leaked slot(s)");
    if (leaked_shm != 0) t.fail(std::to_string(leaked_shm) + " leaked /dev/shm object(s)");
    if (t.alarm_lines() != 0) t.fail(std::to_string(t.alarm_lines()) + " ERROR/VIOLATION/DETACHED line(s) from workers");
    std::printf("  must-be-zero: corrupt_accepted=%" PRIu64 " dup_or_reorder=%" PRIu64
                " held_changed=%" PRIu64 " history_bad=%" PRIu64 " leaked_slots=%" PRIu64
                " leaked_shm=%zu live_detached=%" PRIu64 " worker_alarms=%d\n",
                tot.corrupt, tot.dup, tot.held_changed, tot.history_bad, leaked_slots, leaked_shm,
                tot.detached, t.alarm_lines());
    std::printf("%s: %s\n", id, t.failed() ? "FAILED" : "PASSED");
    for (const auto& f : t.failures()) std::printf("  failure: %s\n", f.c_str());
    std::fflush(stdout);
    return t.failed() ? 1 : 0;
}

// ---------------------------------------------------------------------------
// points: the hard-coded list against the sources
// ---------------------------------------------------------------------------

bool fault_points_match(std::string* report) {
    const char* root = std::getenv("ZFD_SOURCE_ROOT");
    if (root == nullptr) {
        *report = "ZFD_SOURCE_ROOT is not set";
        return false;
    }
    const std::string dir = std::string(root) + "/src";
    std::set<std::string> in_src;
    const std::regex re("ZFD_FAULT_POINT\\(\"([^\"]*)\"\\)");
    int files = 0;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) {
            const std::string n = e->d_name;
            const bool source = (n.size() > 4 && n.compare(n.size() - 4, 4, ".cpp") == 0) ||
                                (n.size() > 4 && n.compare(n.size() - 4, 4, ".hpp") == 0);
            if (!source) continue;
            std::ifstream f(dir + "/" + n);
            std::stringstream ss;
            ss << f.rdbuf();
            const std::string text = ss.str();
            ++files;
            for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
                in_src.insert((*it)[1].str());
            }
        }
        ::closedir(d);
    }
    const std::set<std::string> listed(kFaultPoints.begin(), kFaultPoints.end());
    std::ostringstream o;
    o << files << " source files, " << in_src.size() << " points in src, " << listed.size() << " listed";
    bool ok = listed.size() == kFaultPoints.size() && !in_src.empty();
    for (const auto& p : in_src) {
        if (!listed.count(p)) {
            o << "\n  in src/ but not in the torture list: " << p;
            ok = false;
        }
    }
    for (const auto& p : listed) {
        if (!in_src.count(p)) {
            o << "\n  in the torture list but not in src/: " << p;
            ok = false;
        }
    }
    *report = o.str();
    return ok;
}

int cmd_points() {
    std::string report;
    const bool ok = fault_points_match(&report);
    std::printf("fault points: %s\n", report.c_str());
    for (const auto& p : kFaultPoints) std::printf("  %s\n", p.c_str());
    std::printf("points: %s\n", ok ? "PASSED (list matches grep -o 'ZFD_FAULT_POINT(\"[^\"]*\")' src/*.[ch]pp)"
                                   : "FAILED (update kFaultPoints in tests/torture/torture_driver.cpp)");
    return ok ? 0 : 1;
}

// ---------------------------------------------------------------------------
// (a) writer SIGKILL at random moments, restart with REPLACE_STALE
// ---------------------------------------------------------------------------

std::vector<std::string> writer_points() {
    std::vector<std::string> v;
    for (const auto& p : kFaultPoints) {
        if (p.rfind("writer.", 0) == 0 || p.rfind("owner.", 0) == 0) v.push_back(p);
    }
    return v;
}

int cmd_writer_kill() {
    const int cycles = 2000 * scale();
    constexpr int kReaders = 4;
    Test t("wk");
    std::printf("(a) writer-kill: %d cycles, %d reader processes, %u slots x %" PRIu64 " B, segment %s\n",
                cycles, kReaders, kSlots, kCap, t.name().c_str());
    ReaderTotals tot;
    Dist detect, ready, resume;
    uint64_t leaked_slots = 0;
    int n_traffic = 0, n_early = 0, n_fault_fired = 0, n_fault_missed = 0, n_checks = 0;
    std::map<std::string, int> fired_by_point;
    std::map<std::string, Dist> resume_by_kind;  // by how the previous writer died
    {
        std::vector<std::unique_ptr<Proc>> readers;
        for (int i = 0; i < kReaders; ++i) {
            readers.push_back(spawn(t, "reader" + std::to_string(i),
                                    reader_args(t.name(), "bg", {"copy_pct=30", "wait_ms=10"})));
        }
        const auto wpoints = writer_points();
        std::unique_ptr<Proc> w;
        int64_t prev_kill = -1;
        std::string prev_kind;
        bool prev_traffic = false;
        uint32_t prev_epoch = 0;
        for (int c = 0; c < cycles && !t.failed(); ++c) {
            const uint32_t epoch = static_cast<uint32_t>(c + 1);
            const bool last = c == cycles - 1;
            enum { kTraffic, kEarly, kFault } mode = kTraffic;
            const uint64_t r = urand(0, 99);
            if (!last) mode = r < 55 ? kTraffic : (r < 65 ? kEarly : kFault);
            std::string fault, point;
            uint64_t discard_every = urand(0, 1) ? 7 : 0, evict_every = urand(0, 3) == 0 ? 32 : 0;
            if (mode == kFault) {
                point = wpoints[urand(0, wpoints.size() - 1)];
                uint64_t n = urand(1, 400);
                if (point == "owner.create.initialised") n = 1;
                if (point == "writer.discard.freed") discard_every = 7, n = urand(1, 60);
                if (point.rfind("writer.evict.", 0) == 0) evict_every = 8, n = urand(1, 100);
                fault = point + ":" + std::to_string(n);
            }
            // Every tenth writer, and each one armed at the overwrite probe,
            // runs the overwrite policy with a reader of its own that never reads.
            const bool overwrite = point == "writer.reserve.probed" || c % 10 == 5;
            w = spawn(t, "writer" + std::to_string(epoch),
                      writer_args(t.name(), epoch,
                                  {"wait_readers=4", "discard_every=" + std::to_string(discard_every),
                                   "evict_every=" + std::to_string(evict_every), "fault=" + fault,
                                   overwrite ? "overwrite=1" : "overwrite=0",
                                   overwrite ? "stall_reader=1" : "stall_reader=0"}));
            const auto all = ptrs(readers, {w.get()});
            int64_t t_kill = -1;
            if (mode == kEarly) {
                // A random moment of the start-up: fork/exec, create, wait for readers.
                pump_for(all, static_cast<int64_t>(urand(0, 4000)) * 1000);
                t_kill = now_ns();
                w->kill_reap();
                ++n_early;
            } else {
                std::optional<std::string> rd;
                wait_until(all, [&] { return (rd = w->take("READY")).has_value() || w->exited(); }, 5000);
                if (rd && prev_kill >= 0) ready.add_ns(ifield(*rd, "t") - prev_kill);
                if (!rd && !w->exited()) {
                    t.log_proc_failure("cycle " + std::to_string(c) + ": writer not READY within 5 s", *w);
                    break;
                }
                if (rd) {
                    const int64_t first = wait_first(readers, all, epoch, 5000, [&] { return w->exited(); });
                    if (first >= 0) {
                        if (prev_kill >= 0) {
                            resume.add_ns(first - prev_kill);
                            resume_by_kind[prev_kind].add_ns(first - prev_kill);
                        }
                        if (prev_traffic) {
                            const std::string pe = std::to_string(prev_epoch);
                            for (auto& rp : readers) {
                                if (auto g = rp->take("GONE", [&](const std::string& l) {
                                        return torture::field(l, "epoch") == pe;
                                    })) {
                                    detect.add_ns(ifield(*g, "t") - prev_kill);
                                }
                            }
                        }
                    } else if (!w->exited()) {
                        std::string who;
                        std::vector<const Proc*> stuck;
                        for (auto& rp : readers) {
                            if (!rp->has("FIRST", [&](const std::string& l) {
                                    return ufield(l, "epoch") == epoch;
                                })) {
                                who += " " + rp->label();
                                stuck.push_back(rp.get());
                            }
                        }
                        diagnose_hang(stuck);
                        t.fail("cycle " + std::to_string(c) + ": readers" + who +
                               " got no sample from writer epoch " + std::to_string(epoch) +
                               " within 5 s (previous writer: " + prev_kind + "; this one: " +
                               (fault.empty() ? std::string("unarmed") : fault) + ")");
                        for (auto& rp : readers) std::fprintf(stderr, "%s:\n%s", rp->label().c_str(), rp->tail().c_str());
                        break;
                    }
                }
                if (last) break;
                if (mode == kTraffic) {
                    if (w->exited()) {
                        t.log_proc_failure("cycle " + std::to_string(c) + ": unarmed writer died", *w);
                        break;
                    }
                    if (c % 10 == 0) {
                        leaked_slots += check_slots(t, *w, all, kReaders, "cycle " + std::to_string(c)).leaked;
                        ++n_checks;
                    }
                    pump_for(all, static_cast<int64_t>(urand(0, 4000)) * 1000);
                    t_kill = now_ns();
                    w->kill_reap();
                    ++n_traffic;
                } else {
                    wait_until(all, [&] { return w->exited(); }, 500);
                    if (w->exited() && !w->killed_by_us()) {
                        if (!w->died_of_sigkill()) {
                            t.log_proc_failure("cycle " + std::to_string(c) + ": armed writer " + fault +
                                                   " ended without the fault firing",
                                               *w);
                            break;
                        }
                        t_kill = w->exit_ns();
                        ++n_fault_fired;
                        ++fired_by_point[point];
                    } else {
                        t_kill = now_ns();
                        w->kill_reap();
                        ++n_fault_missed;
                    }
                }
            }
            t.absorb_alarms(*w);
            prev_kill = t_kill;
            prev_kind = mode == kTraffic ? "after traffic" : mode == kEarly ? "start-up moment" : "fault " + point;
            prev_traffic = mode == kTraffic;
            prev_epoch = epoch;
            drop_epoch_lines_below(readers, epoch);
            if (c % 100 == 0) {
                std::printf("  cycle %d/%d: resume %s\n", c, cycles, resume.str().c_str());
                std::fflush(stdout);
            }
        }
        if (w && !w->reaped() && !t.failed()) {
            const auto all = ptrs(readers, {w.get()});
            const auto ck = check_slots(t, *w, all, kReaders, "final");
            leaked_slots += ck.leaked;
            ++n_checks;
            t.set_graceful(stop_writer(t, *w, all));
            t.absorb_alarms(*w);
        }
        stop_readers(t, readers, tot);
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    std::printf("  kills: %d after traffic (random 0-4 ms), %d at a random start-up moment, %d by fault point"
                " (+%d armed points not reached: killed), slot checks %d\n",
                n_traffic, n_early, n_fault_fired, n_fault_missed, n_checks);
    std::printf("  fault kills by point:");
    for (const auto& [p, n] : fired_by_point) std::printf(" %s=%d", p.c_str(), n);
    std::printf("\n");
    std::printf("  writer-death detection by readers (kill -> PEER_GONE): %s\n", detect.str_n().c_str());
    std::printf("  restart (kill -> replacement segment ready, incl. fork/exec): %s\n", ready.str_n().c_str());
    std::printf("  resume (kill -> first sample of the new writer at all %d readers): %s\n", kReaders,
                resume.str_n().c_str());
    std::printf("  resume by how the previous writer died:\n");
    for (const auto& [kind, d] : resume_by_kind) {
        const auto slow = std::count_if(d.v.begin(), d.v.end(), [](double x) { return x > 100.0; });
        std::printf("    %-36s %s, %ld over 100 ms\n", kind.c_str(), d.str_n().c_str(), static_cast<long>(slow));
    }
    print_reader_totals(tot);
    std::printf("SUMMARY (a) C1: %s writer SIGKILL cycles (%d readers): %" PRIu64 " corrupted samples in %s accepted, "
                "%" PRIu64 " duplicates/reorders; writer-death detection p50/p99/max = %s; restart-to-ready "
                "p50/p99/max = %s; resume p50/p99/max = %s; %zu leaked segments, %" PRIu64 " leaked slots.\n",
                fmt_count(static_cast<uint64_t>(cycles)).c_str(), kReaders, tot.corrupt,
                fmt_count(tot.accepted).c_str(), tot.dup, detect.str().c_str(), ready.str().c_str(),
                resume.str().c_str(), leaked_shm, leaked_slots);
    return finish(t, "(a) writer-kill", tot, leaked_slots, leaked_shm);
}

// ---------------------------------------------------------------------------
// (b) readers SIGKILLed while holding 0..K samples
// ---------------------------------------------------------------------------

int cmd_reader_kill() {
    const int cycles = 2000 * scale();
    constexpr int kBg = 3;
    constexpr uint64_t kHoldMax = 6;
    Test t("rk");
    std::printf("(b) reader-kill: %d cycles, 1-2 victim readers per cycle holding 0..%" PRIu64
                " samples, %d background readers, %u slots, segment %s\n",
                cycles, kHoldMax, kBg, kSlots, t.name().c_str());
    ReaderTotals tot;
    Dist recovery, check_time;
    uint64_t leaked_slots = 0;
    int victims_total = 0, victims_early = 0, victims_unattached = 0;
    std::map<uint64_t, int> held_at_kill;
    {
        auto w = spawn(t, "writer", writer_args(t.name(), 1, {"discard_every=7"}));
        std::vector<std::unique_ptr<Proc>> readers;
        for (int i = 0; i < kBg; ++i) {
            readers.push_back(spawn(t, "bg" + std::to_string(i), reader_args(t.name(), "bg", {"copy_pct=30"})));
        }
        auto base = ptrs(readers, {w.get()});
        if (wait_first(readers, base, 1, 10000, {}) < 0) t.fail("background readers never received a sample");
        for (int c = 0; c < cycles && !t.failed(); ++c) {
            const int nv = urand(0, 3) == 0 ? 2 : 1;
            std::vector<std::unique_ptr<Proc>> victims;
            std::vector<uint64_t> holds;
            for (int v = 0; v < nv; ++v) {
                holds.push_back(urand(0, kHoldMax));
                victims.push_back(spawn(t, "victim" + std::to_string(c) + "." + std::to_string(v),
                                        reader_args(t.name(), "victim",
                                                    {"hold=" + std::to_string(holds.back()), "copy_pct=20"})));
            }
            auto all = ptrs(readers, {w.get()});
            for (auto& v : victims) all.push_back(v.get());
            for (int v = 0; v < nv; ++v) {
                if (urand(0, 99) < 15) {
                    pump_for(all, static_cast<int64_t>(urand(0, 3000)) * 1000);  // random moment
                    ++victims_early;
                } else {
                    if (!wait_until(all, [&] { return victims[v]->has("HOLDING"); }, 5000)) {
                        t.log_proc_failure("cycle " + std::to_string(c) + ": victim never attached/held", *victims[v]);
                        break;
                    }
                    pump_for(all, static_cast<int64_t>(urand(0, 2000)) * 1000);
                }
            }
            if (t.failed()) break;
            w->drop_if([](const std::string& l) { return torture::starts(l, "REAPED"); });
            const int64_t t_kill = now_ns();
            for (auto& v : victims) v->signal(SIGKILL);
            int attached = 0;
            for (int v = 0; v < nv; ++v) {
                victims[v]->kill_reap();
                t.absorb_alarms(*victims[v]);
                ++victims_total;
                if (victims[v]->has("ATTACHED")) {
                    ++attached;
                    if (auto h = victims[v]->take("HOLDING")) ++held_at_kill[ufield(*h, "n")];
                } else {
                    ++victims_unattached;
                }
            }
            victims.clear();
            all = ptrs(readers, {w.get()});
            if (attached > 0) {
                uint64_t reaped = 0;
                int64_t t_resume = -1;
                wait_until(all, [&] {
                    while (auto l = w->take("REAPED")) {
                        if (ifield(*l, "t") < t_kill) continue;
                        reaped += ufield(*l, "n");
                        t_resume = ifield(*l, "t");
                    }
                    return reaped >= static_cast<uint64_t>(attached);
                }, 5000);
                if (reaped < static_cast<uint64_t>(attached)) {
                    t.log_proc_failure("cycle " + std::to_string(c) + ": writer reaped " + std::to_string(reaped) +
                                           " of " + std::to_string(attached) + " dead reader(s) within 5 s (ring pinned)",
                                       *w);
                    break;
                }
                recovery.add_ns(t_resume - t_kill);
            }
            const int64_t t_check = now_ns();
            const auto ck = check_slots(t, *w, all, kBg, "cycle " + std::to_string(c));
            if (!ck.ok) break;
            leaked_slots += ck.leaked;
            check_time.add_ns(ck.t - t_check);
            drop_epoch_lines_below(readers, 1);
            if (c % 100 == 0) {
                std::printf("  cycle %d/%d: recovery %s\n", c, cycles, recovery.str().c_str());
                std::fflush(stdout);
            }
        }
        base = ptrs(readers, {w.get()});
        if (!w->reaped() && !t.failed()) {
            check_slots(t, *w, base, kBg, "final");
            check_reader_table(t, base, kBg, "after all reader kills");
            std::string ws;
            t.set_graceful(stop_writer(t, *w, base, &ws));
            std::printf("  writer: %s\n", ws.c_str());
        }
        t.absorb_alarms(*w);
        stop_readers(t, readers, tot);
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    std::printf("  victims: %d killed (%d at a random start-up moment, %d not yet attached when killed)\n",
                victims_total, victims_early, victims_unattached);
    std::printf("  samples held at kill (victims killed after HOLDING):");
    for (const auto& [h, n] : held_at_kill) std::printf(" %" PRIu64 ":%d", h, n);
    std::printf("\n  recovery (kill -> writer reaped and reserved again): %s\n", recovery.str_n().c_str());
    std::printf("  slot check after each cycle (drain + reserve all %u slots): %s\n", kSlots, check_time.str().c_str());
    print_reader_totals(tot);
    std::printf("SUMMARY (b) C2: %s reader SIGKILL cycles (%d victims, holding 0..%" PRIu64 "; %d background readers): "
                "%" PRIu64 " corrupted samples in %s accepted, %" PRIu64 " duplicates/reorders; recovery "
                "(kill -> writer reserves again) p50/p99/max = %s; %" PRIu64 " leaked slots; %zu leaked segments.\n",
                fmt_count(static_cast<uint64_t>(cycles)).c_str(), victims_total, kHoldMax, kBg, tot.corrupt,
                fmt_count(tot.accepted).c_str(), tot.dup, recovery.str().c_str(), leaked_slots, leaked_shm);
    return finish(t, "(b) reader-kill", tot, leaked_slots, leaked_shm);
}

// ---------------------------------------------------------------------------
// (c) fault-point sweep
// ---------------------------------------------------------------------------

struct PointResult {
    std::string point, side;
    int trials = 0, fired = 0, recovered = 0;
    Dist rec_a, rec_b;  // writer side: ready / first sample; reader side: slots reservable
};

int cmd_sweep() {
    const int target = 20 * scale();
    constexpr int kBg = 3;
    Test t("sw");
    std::string report;
    if (!fault_points_match(&report)) {
        t.fail("fault point list differs from src/: " + report);
    }
    std::printf("(c) fault-point sweep: %zu points, >= %d kills each, %d background readers, segment %s\n",
                kFaultPoints.size(), target, kBg, t.name().c_str());
    std::vector<PointResult> results;
    ReaderTotals tot;
    uint64_t leaked_slots = 0;
    uint32_t epoch_block = 0;  // epochs only grow: readers check that
    {
        std::vector<std::unique_ptr<Proc>> readers;
        for (int i = 0; i < kBg; ++i) {
            readers.push_back(spawn(t, "bg" + std::to_string(i), reader_args(t.name(), "bg", {"copy_pct=30"})));
        }
        std::vector<std::pair<std::string, std::string>> sets;  // point, side
        for (const auto& p : kFaultPoints) {
            if (p.rfind("writer.", 0) == 0 || p.rfind("owner.", 0) == 0) {
                sets.emplace_back(p, "writer");
            } else if (p.rfind("reader.", 0) == 0) {
                sets.emplace_back(p, "reader");
            } else if (p.rfind("detach.", 0) == 0) {
                sets.emplace_back(p, "writer");  // reaping a dead reader
            } else {
                t.fail("fault point '" + p + "' has no known side; classify it in the sweep");
            }
        }
        // Writer-side points first, then reader-side ones against one writer.
        std::stable_sort(sets.begin(), sets.end(),
                         [](const auto& a, const auto& b) { return a.second == "writer" && b.second != "writer"; });
        std::unique_ptr<Proc> rw;  // the writer for the reader-side sets
        for (const auto& [point, side] : sets) {
            if (t.failed()) break;
            PointResult pr;
            pr.point = point;
            pr.side = side;
            const int64_t t_set = now_ns();
            // Distinct n per trial: 1, 2, 3, ... for points passed once per
            // open/close/create/reap; 1, 2, 4, 7, 11, ... (191 at trial 20) for the
            // per-sample points, so kills land early and deep into a stream.
            const bool per_sample = point.rfind("writer.", 0) == 0 || point == "reader.take.found" ||
                                    point.rfind("reader.release.", 0) == 0;
            for (int trial = 0; pr.fired < target && trial < 4 * target && !t.failed(); ++trial) {
                ++pr.trials;
                const int n = per_sample ? 1 + trial * (trial + 1) / 2 : 1 + trial;
                const std::string fault = point + ":" + std::to_string(n);
                const std::string ctx = fault + " (" + side + ")";
                if (side == "writer") {
                    const uint32_t base = ++epoch_block * 4096;
                    const bool detach = point.rfind("detach.", 0) == 0;
                    std::unique_ptr<Proc> w;
                    if (detach) {
                        w = spawn(t, "armed-writer", writer_args(t.name(), base, {"wait_readers=3", "fault=" + fault}));
                    } else {
                        // The probe runs when the overwrite policy takes a sample
                        // from the reader in the writer that never reads (no
                        // evictions there: they would free the slots first).
                        const bool probe = point == "writer.reserve.probed";
                        w = spawn(t, "armed-writer",
                                  writer_args(t.name(), base,
                                              {"wait_readers=3", "discard_every=5",
                                               probe ? "evict_every=0" : "evict_every=8", "evict_age_ms=0",
                                               "gens=0", "gen_samples=64", "fault=" + fault,
                                               probe ? "overwrite=1" : "overwrite=0",
                                               probe ? "stall_reader=1" : "stall_reader=0"}));
                    }
                    auto all = ptrs(readers, {w.get()});
                    if (detach) {
                        // Feed it dead readers to reap until the point fires.
                        wait_until(all, [&] { return w->has("READY") || w->exited(); }, 5000);
                        for (int v = 0; v < 40 && !w->exited(); ++v) {
                            auto victim = spawn(t, "victim", reader_args(t.name(), "victim", {"hold=2"}));
                            auto with = all;
                            with.push_back(victim.get());
                            wait_until(with, [&] { return victim->has("HOLDING") || w->exited(); }, 5000);
                            victim->kill_reap();
                            t.absorb_alarms(*victim);
                            wait_until(all, [&] { return w->exited() || w->has("REAPED"); }, 500);
                            w->drop_if([](const std::string& l) { return torture::starts(l, "REAPED"); });
                        }
                    } else {
                        wait_until(all, [&] { return w->exited(); }, 4000);
                    }
                    int64_t t_kill;
                    if (w->exited() && !w->killed_by_us()) {
                        if (!w->died_of_sigkill()) {
                            t.log_proc_failure(ctx + ": armed writer ended without the fault firing", *w);
                            break;
                        }
                        t_kill = w->exit_ns();
                        ++pr.fired;
                    } else {
                        t_kill = now_ns();
                        w->kill_reap();
                    }
                    t.absorb_alarms(*w);
                    // Recovery: an unarmed replacement, every reader back, no slot lost.
                    const uint32_t rec_epoch = base + 4095;
                    auto nw = spawn(t, "writer", writer_args(t.name(), rec_epoch, {"wait_readers=3"}));
                    all = ptrs(readers, {nw.get()});
                    std::optional<std::string> rd;
                    wait_until(all, [&] { return (rd = nw->take("READY")).has_value() || nw->exited(); }, 5000);
                    if (!rd) {
                        t.log_proc_failure(ctx + ": replacement writer not READY within 5 s", *nw);
                        break;
                    }
                    pr.rec_a.add_ns(ifield(*rd, "t") - t_kill);
                    const int64_t first = wait_first(readers, all, rec_epoch, 5000, [&] { return nw->exited(); });
                    if (first < 0) {
                        t.fail(ctx + ": readers did not resume within 5 s of the replacement (hang)");
                        diagnose_hang({readers[0].get(), readers[1].get(), readers[2].get()});
                        for (auto& rp : readers) std::fprintf(stderr, "%s:\n%s", rp->label().c_str(), rp->tail().c_str());
                        break;
                    }
                    pr.rec_b.add_ns(first - t_kill);
                    const auto ck = check_slots(t, *nw, all, kBg, ctx);
                    leaked_slots += ck.leaked;
                    if (ck.ok && ck.leaked == 0 && ck.readers == kBg) ++pr.recovered;
                    stop_writer(t, *nw, all);
                    t.absorb_alarms(*nw);
                    drop_epoch_lines_below(readers, rec_epoch + 1);
                } else {
                    if (!rw) {
                        const uint32_t e = ++epoch_block * 4096;
                        rw = spawn(t, "writer", writer_args(t.name(), e, {"discard_every=5"}));
                        if (wait_first(readers, ptrs(readers, {rw.get()}), e, 5000, {}) < 0) {
                            t.fail("reader-side writer: background readers got no sample");
                            break;
                        }
                    }
                    const bool detach = point.rfind("detach.", 0) == 0;
                    auto victim = spawn(t, "victim",
                                        reader_args(t.name(), "victim",
                                                    {"fault=" + fault, "reopen_every=8", "copy_pct=20",
                                                     "hold=" + std::to_string(urand(detach ? 1 : 0, 3))}));
                    auto all = ptrs(readers, {rw.get(), victim.get()});
                    wait_until(all, [&] { return victim->exited(); }, 3000);
                    int64_t t_kill;
                    if (victim->exited() && !victim->killed_by_us()) {
                        if (!victim->died_of_sigkill()) {
                            t.log_proc_failure(ctx + ": armed reader ended without the fault firing", *victim);
                            break;
                        }
                        t_kill = victim->exit_ns();
                        ++pr.fired;
                    } else {
                        t_kill = now_ns();
                        victim->kill_reap();
                    }
                    t.absorb_alarms(*victim);
                    all = ptrs(readers, {rw.get()});
                    const auto ck = check_slots(t, *rw, all, kBg, ctx);
                    if (!ck.ok) break;
                    leaked_slots += ck.leaked;
                    pr.rec_a.add_ns(ck.t - t_kill);
                    if (ck.leaked == 0 && ck.readers == kBg) ++pr.recovered;
                    if (rw->exited()) {
                        t.log_proc_failure(ctx + ": writer died", *rw);
                        break;
                    }
                }
            }
            if (pr.fired < target && !t.failed()) {
                t.fail(point + " (" + side + "): fired only " + std::to_string(pr.fired) + " of " +
                       std::to_string(pr.trials) + " trials");
            }
            std::printf("  %-32s %-6s trials=%3d fired=%3d recovered=%3d  %s%s  [%.1f s]\n", point.c_str(),
                        side.c_str(), pr.trials, pr.fired, pr.recovered,
                        side == "writer" ? "ready/resume " : "slots free ",
                        side == "writer" ? (pr.rec_a.str() + " / " + pr.rec_b.str()).c_str() : pr.rec_a.str().c_str(),
                        static_cast<double>(now_ns() - t_set) / 1e9);
            std::fflush(stdout);
            results.push_back(std::move(pr));
        }
        if (rw && !rw->reaped()) {
            const auto all = ptrs(readers, {rw.get()});
            if (!t.failed()) check_reader_table(t, all, kBg, "after the reader-side kills");
            if (!t.failed()) t.set_graceful(stop_writer(t, *rw, all));
            t.absorb_alarms(*rw);
        }
        stop_readers(t, readers, tot);
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    int trials = 0, fired = 0, recovered = 0;
    Dist wa, wb, ra;
    for (const auto& r : results) {
        trials += r.trials;
        fired += r.fired;
        recovered += r.recovered;
        auto& dst_a = r.side == "writer" ? wa : ra;
        dst_a.v.insert(dst_a.v.end(), r.rec_a.v.begin(), r.rec_a.v.end());
        if (r.side == "writer") wb.v.insert(wb.v.end(), r.rec_b.v.begin(), r.rec_b.v.end());
    }
    std::printf("  writer-side kills: kill -> replacement ready %s; kill -> all readers resumed %s\n",
                wa.str_n().c_str(), wb.str_n().c_str());
    std::printf("  reader-side kills: kill -> writer can loan every slot again %s\n", ra.str_n().c_str());
    print_reader_totals(tot);
    std::printf("SUMMARY (c) C3: %zu points x >= %d kills (%zu point/side sets): %d trials, %d fired, %d recovered; "
                "%" PRIu64 " corrupted samples in %s accepted, %" PRIu64 " duplicates/reorders, 0 hangs%s; "
                "writer-side resume p50/p99/max = %s; reader-side slots-free p50/p99/max = %s; %" PRIu64
                " leaked slots; %zu leaked segments.\n",
                kFaultPoints.size(), target, results.size(), trials, fired, recovered, tot.corrupt,
                fmt_count(tot.accepted).c_str(), tot.dup, t.failed() ? " (see failures)" : "", wb.str().c_str(),
                ra.str().c_str(), leaked_slots, leaked_shm);
    return finish(t, "(c) fault-point sweep", tot, leaked_slots, leaked_shm);
}

// ---------------------------------------------------------------------------
// (d) hung reader (SIGSTOP) and eviction
// ---------------------------------------------------------------------------

int cmd_hung() {
    const int trials = 40 * scale();
    constexpr int64_t kEvictNs = 100 * kMs;
    Test t("hung");
    timespec res{};
    clock_getres(CLOCK_MONOTONIC_COARSE, &res);
    const int64_t res_ns = int64_t{res.tv_sec} * 1'000'000'000 + res.tv_nsec;
    const int64_t bound = kEvictNs + 10 * kMs + res_ns;
    std::printf("(d) hung reader: %d trials, T_evict = 100 ms, CLOCK_MONOTONIC_COARSE resolution = %.3f ms\n",
                trials, static_cast<double>(res_ns) / 1e6);
    std::printf("  stall bound = T_evict + 10 ms + coarse resolution = %.3f ms: commit stamps and the\n"
                "  eviction's 'now' both come from CLOCK_MONOTONIC_COARSE, so a slot's measured age can lag\n"
                "  its true age by up to one coarse tick before it counts as >= T_evict.\n",
                static_cast<double>(bound) / 1e6);
    ReaderTotals tot;
    Dist stall, stop_len;
    uint64_t leaked_slots = 0, evicted_held = 0, held_total = 0, gaps_seen = 0, evictions = 0;
    int over_bound = 0;
    {
        auto w = spawn(t, "writer", writer_args(t.name(), 1, {"wait_readers=3", "evict_age_ms=100"}));
        std::vector<std::unique_ptr<Proc>> readers;
        for (int i = 0; i < 2; ++i) {
            readers.push_back(spawn(t, "bg" + std::to_string(i), reader_args(t.name(), "bg", {"copy_pct=30"})));
        }
        readers.push_back(spawn(t, "hung", reader_args(t.name(), "hung", {})));
        Proc& hung = *readers.back();
        const auto all = ptrs(readers, {w.get()});
        if (wait_first(readers, all, 1, 10000, {}) < 0) t.fail("readers never received a sample");
        for (int i = 0; i < trials && !t.failed(); ++i) {
            if (!ask(t, *w, all, "stall", "STALL")) break;
            const uint64_t h = 1 + static_cast<uint64_t>(i) % 3;
            auto hl = ask(t, hung, all, "hold " + std::to_string(h), "HOLDING");
            if (!hl) break;
            hung.signal(SIGSTOP);
            const int64_t stop_ns = static_cast<int64_t>(urand(250, 350)) * kMs;
            pump_for(all, stop_ns);
            stop_len.add_ns(stop_ns);
            hung.signal(SIGCONT);
            auto rel = ask(t, hung, all, "release", "RELEASED");
            if (!rel) break;
            held_total += ufield(*rel, "held");
            evicted_held += ufield(*rel, "evicted");
            if (ufield(*rel, "held") != h || ufield(*rel, "evicted") != h) {
                t.fail("trial " + std::to_string(i) + ": held samples not all reported ZFD_E_EVICTED: " + *rel);
            }
            std::optional<std::string> resumed;
            wait_until(all, [&] { return (resumed = hung.take("RESUMED")).has_value(); }, 5000);
            if (!resumed) {
                t.log_proc_failure("trial " + std::to_string(i) + ": hung reader got no sample after SIGCONT", hung);
                break;
            }
            if (ufield(*resumed, "gap") != 1) {
                t.fail("trial " + std::to_string(i) + ": no gap seen after eviction: " + *resumed);
            } else {
                ++gaps_seen;
            }
            auto st = ask(t, *w, all, "stall", "STALL");
            if (!st) break;
            const int64_t max_ns = ifield(*st, "max_us") * 1000;
            evictions += ufield(*st, "evicted");
            stall.add_ns(max_ns);
            if (max_ns > bound) {
                ++over_bound;
                t.fail("trial " + std::to_string(i) + ": writer stalled " + std::to_string(max_ns / 1000) +
                       " us > bound " + std::to_string(bound / 1000) + " us");
            }
            drop_epoch_lines_below(readers, 1);
        }
        if (!t.failed()) {
            const auto ck = check_slots(t, *w, all, 3, "final");
            leaked_slots += ck.leaked;
            check_reader_table(t, all, 3, "after the SIGSTOP cycles");
            std::string ws;
            t.set_graceful(stop_writer(t, *w, all, &ws));
            std::printf("  writer: %s\n", ws.c_str());
        }
        t.absorb_alarms(*w);
        stop_readers(t, readers, tot);
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    std::printf("  SIGSTOP length %s; slots evicted %" PRIu64 "\n", stop_len.str().c_str(), evictions);
    std::printf("  writer max stall per trial: %s (bound %.1f ms, over bound: %d)\n", stall.str_n().c_str(),
                static_cast<double>(bound) / 1e6, over_bound);
    std::printf("  held samples released after SIGCONT: %" PRIu64 ", ZFD_E_EVICTED: %" PRIu64
                "; trials with a sequence gap after resuming: %" PRIu64 "/%d\n",
                held_total, evicted_held, gaps_seen, trials);
    print_reader_totals(tot);
    std::printf("SUMMARY (d) C4: %d SIGSTOP cycles (T_evict = 100 ms, coarse clock %.1f ms): %" PRIu64
                " corrupted samples in %s accepted; writer max stall p50/p99/max = %s (bound %.1f ms = T_evict + "
                "10 ms + coarse tick); %" PRIu64 "/%" PRIu64 " held samples got ZFD_E_EVICTED, gap seen %" PRIu64
                "/%d; %" PRIu64 " leaked slots; %zu leaked segments.\n",
                trials, static_cast<double>(res_ns) / 1e6, tot.corrupt, fmt_count(tot.accepted).c_str(),
                stall.str().c_str(), static_cast<double>(bound) / 1e6, evicted_held, held_total, gaps_seen, trials,
                leaked_slots, leaked_shm);
    return finish(t, "(d) hung reader", tot, leaked_slots, leaked_shm);
}

// ---------------------------------------------------------------------------
// selftest: the checker is not vacuous
// ---------------------------------------------------------------------------

int cmd_selftest() {
    Test t("self");
    std::printf("selftest: a writer that damages every 997th sample after publishing it; the reader must "
                "report corrupt samples, else the torture checks prove nothing\n");
    ReaderTotals tot;
    int alarms = 0;
    {
        auto w = spawn(t, "scribbling-writer", writer_args(t.name(), 1, {"wait_readers=1", "scribble_every=997"}));
        std::vector<std::unique_ptr<Proc>> readers;
        readers.push_back(spawn(t, "reader", reader_args(t.name(), "bg", {"copy_pct=50"})));
        const auto all = ptrs(readers, {w.get()});
        if (wait_first(readers, all, 1, 10000, {}) < 0) t.fail("reader never received a sample");
        pump_for(all, 300 * kMs);
        t.set_graceful(stop_writer(t, *w, all));
        ReaderTotals r;
        stop_readers(t, readers, r);  // counts the expected VIOLATION lines as alarms
        tot = r;
        alarms = t.alarm_lines();
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    print_reader_totals(tot);
    if (tot.corrupt == 0) t.fail("the reader accepted damaged samples without noticing");
    if (alarms == 0) t.fail("no VIOLATION line was printed for the damaged samples");
    if (leaked_shm != 0) t.fail("leaked /dev/shm objects");
    std::printf("selftest: %s (%" PRIu64 " damaged samples caught in %s taken, %d VIOLATION lines)\n",
                t.failed() ? "FAILED" : "PASSED", tot.corrupt, fmt_count(tot.accepted).c_str(), alarms);
    return t.failed() ? 1 : 0;
}

// ---------------------------------------------------------------------------
// (e) OVERWRITE_OLDEST: a writer that never waits
// ---------------------------------------------------------------------------

int cmd_overwrite() {
    const int cycles = 300 * scale();
    Test t("ow");
    std::printf("(e) overwrite: %d cycles, OVERWRITE_OLDEST, %u slots x %" PRIu64
                " B; 2 background readers (take_latest 10 %%), 1 slow reader, 2 holders (3 samples, 5 ms), "
                "a reader in the writer that never reads; a holder or the slow reader SIGKILLed every cycle, "
                "the writer every 30th; segment %s\n",
                cycles, kSlots, kCap, t.name().c_str());
    ReaderTotals tot;
    uint64_t leaked_slots = 0, full = 0, commits = 0;
    int reader_kills = 0, writer_kills = 0;
    std::vector<std::string> wstats;
    {
        auto spawn_writer = [&](uint32_t epoch) {
            return spawn(t, "writer" + std::to_string(epoch),
                         writer_args(t.name(), epoch,
                                     {"wait_readers=5", "overwrite=1", "stall_reader=1", "discard_every=11",
                                      "reap_every=64"}));
        };
        uint32_t epoch = 1;
        auto w = spawn_writer(epoch);
        std::vector<std::unique_ptr<Proc>> readers;  // 0,1 bg; 2 slow; 3,4 holders
        auto make_reader = [&](int i) {
            if (i < 2) {
                return spawn(t, "bg" + std::to_string(i),
                             reader_args(t.name(), "bg", {"copy_pct=20", "latest_pct=10", "wait_ms=5"}));
            }
            if (i == 2) return spawn(t, "slow", reader_args(t.name(), "slow", {"pace_us=300", "wait_ms=5"}));
            return spawn(t, "holder" + std::to_string(i),
                         reader_args(t.name(), "holder", {"hold=3", "hold_ms=5", "latest_pct=5", "wait_ms=5"}));
        };
        for (int i = 0; i < 5; ++i) readers.push_back(make_reader(i));
        if (wait_first(readers, ptrs(readers, {w.get()}), epoch, 10000, {}) < 0) {
            t.fail("readers never received a sample");
        }
        for (int c = 0; c < cycles && !t.failed(); ++c) {
            auto all = ptrs(readers, {w.get()});
            pump_for(all, static_cast<int64_t>(urand(5, 40)) * 1000 * 1000);  // 5-40 ms
            if (c % 30 == 29) {
                // The writer: killed and replaced; the readers follow.
                w->kill_reap();
                t.absorb_alarms(*w);
                ++writer_kills;
                ++epoch;
                w = spawn_writer(epoch);
                all = ptrs(readers, {w.get()});
                if (wait_first(readers, all, epoch, 10000, [&] { return w->exited(); }) < 0) {
                    t.log_proc_failure("cycle " + std::to_string(c) + ": readers did not follow the new writer", *w);
                    break;
                }
                drop_epoch_lines_below(readers, epoch);
                continue;
            }
            // A holder or the slow reader, at a random moment (holding or not).
            const int v = static_cast<int>(urand(2, 4));
            readers[static_cast<size_t>(v)]->kill_reap();
            t.absorb_alarms(*readers[static_cast<size_t>(v)]);
            ++reader_kills;
            readers[static_cast<size_t>(v)] = make_reader(v);
            if (c % 25 == 0) {
                // The dead reader's holds come back with the next reap; then
                // every slot is loanable (the stalled in-writer reader pins
                // nothing under this policy).
                const auto ck = check_slots(t, *w, ptrs(readers, {w.get()}), -1, "cycle " + std::to_string(c));
                if (!ck.ok) break;
                leaked_slots += ck.leaked;
                std::printf("  cycle %d/%d\n", c, cycles);
                std::fflush(stdout);
            }
        }
        auto all = ptrs(readers, {w.get()});
        if (!w->reaped() && !t.failed()) {
            leaked_slots += check_slots(t, *w, all, -1, "final").leaked;
            std::string ws;
            t.set_graceful(stop_writer(t, *w, all, &ws));
            wstats.push_back(ws);
            full += ufield(ws, "full");
            commits += ufield(ws, "commits");
            std::printf("  last writer: %s\n", ws.c_str());
        }
        t.absorb_alarms(*w);
        stop_readers(t, readers, tot);
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    if (full != 0) t.fail("the last writer found no free slot " + std::to_string(full) + " time(s): it waited");
    if (tot.evicted != 0) t.fail(std::to_string(tot.evicted) + " release(s) said EVICTED without any eviction");
    if (tot.held_checked == 0) t.fail("no held sample was checked at release");
    print_reader_totals(tot);
    std::printf("SUMMARY (e) C5: OVERWRITE_OLDEST, %d cycles (%d reader kills, %d writer kills): %" PRIu64
                " corrupted samples in %s accepted, %" PRIu64 " duplicates/reorders, %" PRIu64
                " held samples re-read intact at release (%" PRIu64 " changed), %" PRIu64
                " gaps where readers lagged (%" PRIu64 " samples overwritten before they read them); the "
                "last writer never waited (%" PRIu64 " commits, %" PRIu64 " full); %" PRIu64
                " leaked slots; %zu leaked segments.\n",
                cycles, reader_kills, writer_kills, tot.corrupt, fmt_count(tot.accepted).c_str(), tot.dup,
                tot.held_checked, tot.held_changed, tot.gaps, tot.gap_samples, commits, full, leaked_slots,
                leaked_shm);
    return finish(t, "(e) overwrite", tot, leaked_slots, leaked_shm);
}

// ---------------------------------------------------------------------------
// (f) history for late joiners
// ---------------------------------------------------------------------------

int cmd_history() {
    const int cycles = 300 * scale();
    constexpr uint32_t kHistory = 5;
    Test t("hi");
    std::printf("(f) history: %d cycles, history %u of %u slots; 3 readers with ZFD_READER_HISTORY re-attaching "
                "every 7/23/61 samples, 1 plain reader, a history reader SIGKILLed every cycle, the writer every "
                "30th; segment %s\n",
                cycles, kHistory, kSlots, t.name().c_str());
    ReaderTotals tot;
    uint64_t leaked_slots = 0;
    int reader_kills = 0, writer_kills = 0;
    {
        auto spawn_writer = [&](uint32_t epoch) {
            return spawn(t, "writer" + std::to_string(epoch),
                         writer_args(t.name(), epoch,
                                     {"wait_readers=4", "history=" + std::to_string(kHistory), "discard_every=9"}));
        };
        uint32_t epoch = 1;
        auto w = spawn_writer(epoch);
        const char* reopen[] = {"reopen_every=7", "reopen_every=23", "reopen_every=61"};
        std::vector<std::unique_ptr<Proc>> readers;  // 0..2 history, 3 plain
        auto make_reader = [&](int i) {
            if (i == 3) return spawn(t, "plain", reader_args(t.name(), "bg", {"copy_pct=20", "wait_ms=5"}));
            return spawn(t, "hist" + std::to_string(i),
                         reader_args(t.name(), "bg", {"history=1", reopen[i], "copy_pct=20", "wait_ms=5"}));
        };
        for (int i = 0; i < 4; ++i) readers.push_back(make_reader(i));
        if (wait_first(readers, ptrs(readers, {w.get()}), epoch, 10000, {}) < 0) {
            t.fail("readers never received a sample");
        }
        for (int c = 0; c < cycles && !t.failed(); ++c) {
            auto all = ptrs(readers, {w.get()});
            pump_for(all, static_cast<int64_t>(urand(5, 40)) * 1000 * 1000);  // 5-40 ms
            if (c % 30 == 29) {
                w->kill_reap();
                t.absorb_alarms(*w);
                ++writer_kills;
                ++epoch;
                w = spawn_writer(epoch);
                all = ptrs(readers, {w.get()});
                if (wait_first(readers, all, epoch, 10000, [&] { return w->exited(); }) < 0) {
                    t.log_proc_failure("cycle " + std::to_string(c) + ": readers did not follow the new writer", *w);
                    break;
                }
                drop_epoch_lines_below(readers, epoch);
                continue;
            }
            const int v = static_cast<int>(urand(0, 2));
            readers[static_cast<size_t>(v)]->kill_reap();
            t.absorb_alarms(*readers[static_cast<size_t>(v)]);
            ++reader_kills;
            readers[static_cast<size_t>(v)] = make_reader(v);
            // Reap the victim (it pins what it had not read: the default
            // policy) and check that every slot but the retained ones loans.
            const auto ck = check_slots(t, *w, ptrs(readers, {w.get()}), -1, "cycle " + std::to_string(c));
            if (!ck.ok) break;
            leaked_slots += ck.leaked;
            if (c % 50 == 0) {
                std::printf("  cycle %d/%d\n", c, cycles);
                std::fflush(stdout);
            }
        }
        auto all = ptrs(readers, {w.get()});
        if (!w->reaped() && !t.failed()) {
            leaked_slots += check_slots(t, *w, all, -1, "final").leaked;
            t.set_graceful(stop_writer(t, *w, all));
        }
        t.absorb_alarms(*w);
        stop_readers(t, readers, tot);
    }
    const size_t leaked_shm = leaked_shm_and_clean(t);
    if (tot.history_attaches == 0 || tot.history_samples == 0) t.fail("no history sample was delivered");
    print_reader_totals(tot);
    std::printf("SUMMARY (f) C6: history %u, %d cycles (%d reader kills, %d writer kills): %" PRIu64
                " history attaches, %" PRIu64 " retained samples delivered, %" PRIu64
                " delivery errors (first sample outside the retained window, or a gap); %" PRIu64
                " corrupted samples in %s accepted, %" PRIu64 " duplicates/reorders; %" PRIu64
                " leaked slots; %zu leaked segments.\n",
                kHistory, cycles, reader_kills, writer_kills, tot.history_attaches, tot.history_samples,
                tot.history_bad, tot.corrupt, fmt_count(tot.accepted).c_str(), tot.dup, leaked_slots, leaked_shm);
    return finish(t, "(f) history", tot, leaked_slots, leaked_shm);
}

}  // namespace


int main(int argc, char** argv) {
    ::unsetenv("ZFD_FAULT_POINT");  // only workers are ever armed
    ::signal(SIGPIPE, SIG_IGN);     // a dead child's stdin must not kill the driver
    ::signal(SIGTERM, torture::emergency_cleanup);
    ::signal(SIGINT, torture::emergency_cleanup);
    ::signal(SIGHUP, torture::emergency_cleanup);
    uint64_t seed = 0;
    if (const char* s = std::getenv("ZFD_TORTURE_SEED")) {
        seed = std::strtoull(s, nullptr, 10);
    } else {
        seed = static_cast<uint64_t>(now_ns()) ^ (static_cast<uint64_t>(::getpid()) << 32);
    }
    g_rng.seed(seed);
    const std::string cmd = argc > 1 ? argv[1] : "";
    std::printf("zfd_torture %s: seed %" PRIu64 " (ZFD_TORTURE_SEED), scale %d (ZFD_TORTURE_SCALE), library %s\n",
                cmd.c_str(), seed, scale(), zfd_version_string());
    std::fflush(stdout);
    const int64_t t0 = now_ns();
    int rc = 2;
    if (cmd == "points") rc = cmd_points();
    else if (cmd == "selftest") rc = cmd_selftest();
    else if (cmd == "writer-kill") rc = cmd_writer_kill();
    else if (cmd == "reader-kill") rc = cmd_reader_kill();
    else if (cmd == "sweep") rc = cmd_sweep();
    else if (cmd == "hung") rc = cmd_hung();
    else if (cmd == "overwrite") rc = cmd_overwrite();
    else if (cmd == "history") rc = cmd_history();
    else std::fprintf(stderr, "usage: %s points|selftest|writer-kill|reader-kill|sweep|hung|overwrite|history\n", argv[0]);
    std::printf("elapsed %.1f s\n", static_cast<double>(now_ns() - t0) / 1e9);
    return rc;
}
