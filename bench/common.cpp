// common.cpp — clocks, pinning, statistics and segment-name bookkeeping of zfd-bench.
#include "common.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace zfd_bench {

Config g;
std::vector<std::string> g_warnings;

// ---------------------------------------------------------------------------
// Clocks and pinning
// ---------------------------------------------------------------------------

void calibrate_ticks() {
    std::ifstream f("/proc/cpuinfo");
    std::string line, flags;
    while (std::getline(f, line))
        if (line.rfind("flags", 0) == 0) {
            flags = " " + line + " ";
            break;
        }
#if defined(ZFD_BENCH_X86)
    g.use_tsc = flags.find(" constant_tsc ") != std::string::npos && flags.find(" nonstop_tsc ") != std::string::npos;
#endif
    if (!g.use_tsc) return;
    const int64_t m0 = now_ns(), t0 = ticks();
    timespec ts{0, 50'000'000};
    nanosleep(&ts, nullptr);
    const int64_t m1 = now_ns(), t1 = ticks();
    if (t1 <= t0 || m1 <= m0) {
        g.use_tsc = false;
        return;
    }
    g.ns_per_tick = static_cast<double>(m1 - m0) / static_cast<double>(t1 - t0);
}

double timer_cost_ns() {
    const int n = 100000;
    const int64_t a = ticks();
    int64_t x = 0;
    for (int i = 0; i < n; ++i) x ^= ticks();
    const int64_t b = ticks();
    asm volatile("" ::"r"(x));
    return static_cast<double>(b - a) * g.ns_per_tick / n;
}

// pid 0 = the calling thread on Linux.
void pin_to(int cpu) {
    if (!g.pinned || cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}

SharedMem::SharedMem(size_t n) : size(std::max<size_t>(n, 4096)) {
    p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        std::fprintf(stderr, "zfd-bench: mmap(%zu) failed: %s\n", size, std::strerror(errno));
        std::exit(2);
    }
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

Stats make_stats(std::vector<double> v) {
    Stats s;
    if (v.empty()) {
        s.error = "no samples";
        return s;
    }
    std::sort(v.begin(), v.end());
    auto pct = [&](double q) {
        size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
        rank = std::clamp<size_t>(rank, 1, v.size());
        return v[rank - 1];
    };
    s.ok = true;
    s.n = v.size();
    s.p50 = pct(0.50);
    s.p99 = pct(0.99);
    s.p999 = pct(0.999);
    s.max = v.back();
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / static_cast<double>(v.size());
    return s;
}

Sampled samples_from_timestamps(const int64_t* ts, uint64_t warm, uint64_t total) {
    Sampled out;
    out.ok = true;
    out.v.reserve(total - warm);
    for (uint64_t i = warm; i < total; ++i)
        out.v.push_back(static_cast<double>(ts[i + 1] - ts[i]) * g.ns_per_tick / 2.0);
    return out;
}

Sampled sample_error(const std::string& e) {
    Sampled out;
    out.error = e;
    return out;
}

// ---------------------------------------------------------------------------
// Segment names
// ---------------------------------------------------------------------------

namespace {
std::vector<std::string> g_names;
int g_name_counter = 0;

std::string shm_prefix() { return fmt::format("zfd.bench-{}-", g.orchestrator); }
}  // namespace

std::string new_name() {
    std::string n = fmt::format("bench-{}-{}", g.orchestrator, g_name_counter++);
    g_names.push_back(n);
    return n;
}

void track_name(const std::string& name) { g_names.push_back(name); }

std::vector<std::string> shm_entries(const std::string& prefix) {
    std::vector<std::string> out;
    if (DIR* d = opendir("/dev/shm")) {
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n.compare(0, prefix.size(), prefix) == 0) out.push_back(n);
        }
        closedir(d);
    }
    return out;
}

size_t cleanup_all_names() {
    for (const auto& n : g_names) (void)zfd_segment_unlink(n.c_str(), nullptr);
    auto left = shm_entries(shm_prefix());
    for (const auto& n : left) shm_unlink(("/" + n).c_str());
    return left.size();
}

void check_leftovers(const std::vector<std::string>& names, bool children_ok) {
    for (const auto& n : names) {
        auto left = shm_entries("zfd." + n);
        // "zfd.bench-1-1" is a prefix of "zfd.bench-1-10": keep exact name or name + "."
        left.erase(std::remove_if(left.begin(), left.end(),
                                  [&](const std::string& e) {
                                      return !(e == "zfd." + n || e.rfind("zfd." + n + ".", 0) == 0);
                                  }),
                   left.end());
        if (!left.empty() && children_ok)
            g_warnings.push_back(fmt::format("after a clean owner close, /dev/shm still held {} ({} objects); removed",
                                             left.front(), left.size()));
        (void)zfd_segment_unlink(n.c_str(), nullptr);
        for (const auto& e : left) shm_unlink(("/" + e).c_str());
    }
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) {
            auto p = line.find(':');
            if (p != std::string::npos) return line.substr(p + 2);
        }
    return "unknown";
}

std::string read_first_line(const std::string& path) {
    std::ifstream f(path);
    std::string s;
    std::getline(f, s);
    return s;
}

void progress(const std::string& s) {
    if (g.progress) std::fprintf(stderr, "  ... %s\n", s.c_str());
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

std::string size_str(size_t b) {
    if (b >= (1u << 20) && b % (1u << 20) == 0) return fmt::format("{} MiB", b >> 20);
    if (b >= 1024 && b % 1024 == 0) return fmt::format("{} KiB", b >> 10);
    return fmt::format("{} B", b);
}

std::string ns_str(double ns) {
    if (ns < 1000) return fmt::format("{:.1f}", ns);
    return fmt::format("{:.0f}", ns);
}

}  // namespace zfd_bench
