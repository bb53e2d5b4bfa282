// common.hpp — what every part of zfd-bench shares: the run's configuration,
// clocks and pinning, shared mappings, the statistics of one measurement, and
// the segment names a run hands out (every one of them is unlinked in the end).
#pragma once

#include <zerodds/flatdata.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define ZFD_BENCH_X86 1
#endif

#include <sched.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zfd_bench {

// ---------------------------------------------------------------------------
// Configuration of the run (set once by main, read everywhere, inherited by
// the forked children)
// ---------------------------------------------------------------------------

struct Config {
    bool quick = false;
    bool json = false;
    bool touch_all = false;
    bool progress = false;
    bool pinned = false;
    int cpu_a = -1;
    int cpu_b = -1;
    int cpus_available = 1;
    std::optional<bool> smt_siblings;
    double test_timeout_s = 60;
    pid_t orchestrator = 0;
    bool use_tsc = false;      // timestamps of the latency loops: rdtsc (invariant TSC) or CLOCK_MONOTONIC
    double ns_per_tick = 1.0;  // calibrated against CLOCK_MONOTONIC at start
    std::vector<std::string> only;  // --only row ids (empty: every row)
};
extern Config g;

// ---------------------------------------------------------------------------
// Clocks, spinning, pinning
// ---------------------------------------------------------------------------

inline int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

struct Deadline {
    int64_t at;
    explicit Deadline(double seconds) : at(now_ns() + static_cast<int64_t>(seconds * 1e9)) {}
    bool expired() const { return now_ns() >= at; }
};

// Timestamp of the latency loops (one per round trip): the invariant TSC when
// the cpu has one (cheaper than clock_gettime), else CLOCK_MONOTONIC ns.
inline int64_t ticks() {
#if defined(ZFD_BENCH_X86)
    if (g.use_tsc) return static_cast<int64_t>(__rdtsc());
#endif
    return now_ns();
}

// Decide between TSC and CLOCK_MONOTONIC and calibrate g.ns_per_tick.
void calibrate_ticks();
// Cost of one latency-loop timestamp (back-to-back reads), ns.
double timer_cost_ns();

// Pin the calling thread (no-op when the run is unpinned or cpu < 0).
void pin_to(int cpu);

// In spin loops: on a single core, give the peer a chance to run.
inline void spin_hint() {
    if (!g.pinned) sched_yield();
}

// ---------------------------------------------------------------------------
// A MAP_SHARED|MAP_ANONYMOUS region shared with forked children
// ---------------------------------------------------------------------------

struct SharedMem {
    void* p = MAP_FAILED;
    size_t size = 0;
    explicit SharedMem(size_t n);  // exits the program (status 2) if mmap fails
    ~SharedMem() {
        if (p != MAP_FAILED) munmap(p, size);
    }
    SharedMem(const SharedMem&) = delete;
    SharedMem& operator=(const SharedMem&) = delete;
    template <class T>
    T* as() const {
        return static_cast<T*>(p);
    }
};

// ---------------------------------------------------------------------------
// Results of one measurement
// ---------------------------------------------------------------------------

struct Stats {
    bool ok = false;
    std::string error;
    uint64_t n = 0;
    double p50 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

// values in ns (already one-way); nearest-rank percentiles
Stats make_stats(std::vector<double> v);

// Raw one-way samples (ns) of one measurement, or why it failed.
struct Sampled {
    bool ok = false;
    std::string error;
    std::vector<double> v;
};

Sampled sample_error(const std::string& e);

// ts[0..total] are loop-top timestamps of consecutive round trips; keep the
// round trips after the warm-up, halved (one-way).
Sampled samples_from_timestamps(const int64_t* ts, uint64_t warm, uint64_t total);

struct Throughput {
    bool ok = false;
    std::string error;
    uint64_t samples = 0;
    double seconds = 0;
    double per_s = 0;
    double gbps_per_reader = 0;
    uint64_t writer_parks = 0, reader_parks = 0;
};

// ---------------------------------------------------------------------------
// Segment names: unique, tracked, always unlinked
// ---------------------------------------------------------------------------

// A fresh name "bench-<orchestrator pid>-<n>", remembered for cleanup_all_names.
std::string new_name();
// Remember another name (e.g. new_name() + "-a") for cleanup_all_names.
void track_name(const std::string& name);
// Names in /dev/shm that start with the given prefix.
std::vector<std::string> shm_entries(const std::string& prefix);
// Remove everything this run created; returns how many objects were left.
size_t cleanup_all_names();
// After a test whose children exited: owners closed their segments, which must
// have unlinked them. Report anything left behind, then remove it.
void check_leftovers(const std::vector<std::string>& names, bool children_ok);

// Warnings for the report (leftovers, iceoryx shutdown trouble).
extern std::vector<std::string> g_warnings;

// The cpu's "model name" from /proc/cpuinfo; the first line of a file.
std::string cpu_model();
std::string read_first_line(const std::string& path);

// A progress line on stderr (only with g.progress).
void progress(const std::string& s);

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

std::string size_str(size_t b);
std::string ns_str(double ns);
inline double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

}  // namespace zfd_bench
