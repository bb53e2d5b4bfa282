// eventloop_bench.cpp — zfd-bench-eventloop: one-way latency with the
// receiver asleep in epoll_wait on its reader's descriptor (zfd_reader_fd),
// next to a floor measured in the same run: two processes ping-ponging
// through a pair of eventfds under epoll (DESIGN §9, §5 style: ratios to a
// floor of the same run, never raw numbers).
//
// Shape (both rows): process A and process B, pinned to two CPUs. A stamps
// the time, sends, and waits in epoll_wait for the answer; B waits in
// epoll_wait, receives, answers. One-way latency = round trip / 2. Rows are
// measured in alternating rounds (floor, zfd, floor, zfd, ...) so drift of a
// noisy machine hits both; percentiles are over all rounds of a row.
//
//   floor  eventfd A->B and B->A; a wake is epoll_wait + read(eventfd); an
//          answer is write(eventfd).
//   zfd    segment "ping" (A owns, B reads) and "pong" (B owns, A reads),
//          64-byte samples; a wake is epoll_wait on the reader's descriptor
//          + zfd_take/zfd_release; the answer is zfd_publish; then the
//          receiver takes until ZFD_E_NO_SAMPLE (which re-arms) before it
//          waits again, as the descriptor's contract asks (B answers each
//          sample as it takes it, like an event loop would).
//
// Uses only the public C header and the shared library.
// usage: zfd-bench-eventloop [--quick] [--rounds N] [--iters N] [--json]
#include <zerodds/flatdata.h>

#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kPayload = 64;

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}

int cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return CPU_COUNT(&set);
}

// Waits for readiness on ep (one descriptor in it); false after 10 s.
bool wait_ready(int ep) {
    epoll_event ev;
    for (;;) {
        const int n = epoll_wait(ep, &ev, 1, 10000);
        if (n == 1) return true;
        if (n == 0) return false;
        if (errno != EINTR) return false;
    }
}

int epoll_on(int fd) {
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return -1;
    return ep;
}

// A pipe to tell the parent the child's result (one byte, 0 = ok).
struct Result {
    int fd[2];
};

// ---------------------------------------------------------------- floor

// Returns one-way samples (ns) measured by A; empty on failure.
std::vector<double> floor_round(std::uint64_t warm, std::uint64_t iters, int cpu_a, int cpu_b) {
    const int ab = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const int ba = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const std::uint64_t total = warm + iters;
    const pid_t pid = fork();
    if (pid == 0) {
        pin(cpu_b);
        const int ep = epoll_on(ab);
        for (std::uint64_t i = 0; i < total; ++i) {
            if (!wait_ready(ep)) _exit(2);
            std::uint64_t v;
            if (read(ab, &v, sizeof v) != sizeof v) _exit(3);
            const std::uint64_t one = 1;
            if (write(ba, &one, sizeof one) != sizeof one) _exit(4);
        }
        _exit(0);
    }
    pin(cpu_a);
    const int ep = epoll_on(ba);
    std::vector<double> out;
    out.reserve(iters);
    bool ok = true;
    for (std::uint64_t i = 0; i < total && ok; ++i) {
        const std::int64_t t0 = now_ns();
        const std::uint64_t one = 1;
        ok = write(ab, &one, sizeof one) == sizeof one && wait_ready(ep);
        std::uint64_t v;
        ok = ok && read(ba, &v, sizeof v) == sizeof v;
        if (i >= warm) out.push_back(double(now_ns() - t0) / 2.0);
    }
    int status = 0;
    if (!ok) kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    close(ep);
    close(ab);
    close(ba);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
    return out;
}

// ---------------------------------------------------------------- zfd

zfd_segment* create(const std::string& name) {
    zfd_segment_options o;
    zfd_segment_options_init(&o);
    o.slot_count = 8;
    o.slot_capacity = kPayload;
    o.flags = ZFD_SEGMENT_REPLACE_STALE;
    zfd_segment* s = nullptr;
    return zfd_segment_create(name.c_str(), &o, &s, nullptr) == ZFD_OK ? s : nullptr;
}

zfd_segment* open_retry(const std::string& name) {
    const std::int64_t deadline = now_ns() + 10'000'000'000;
    zfd_segment* s = nullptr;
    while (zfd_segment_open(name.c_str(), nullptr, 0, &s, nullptr) != ZFD_OK) {
        if (now_ns() > deadline) return nullptr;
        usleep(1000);
    }
    return s;
}

// One side: owns `mine`, reads `theirs` through its descriptor.
struct Side {
    zfd_segment* own = nullptr;
    zfd_segment* other = nullptr;
    zfd_reader* reader = nullptr;
    int ep = -1;
    bool setup(const std::string& mine, const std::string& theirs) {
        own = create(mine);
        if (own == nullptr) return false;
        other = open_retry(theirs);
        if (other == nullptr || zfd_reader_open(other, 0, &reader) != ZFD_OK) return false;
        int fd = -1;
        if (zfd_reader_fd(reader, &fd) != ZFD_OK) return false;
        ep = epoll_on(fd);
        return ep >= 0;
    }
    // Waits for the peer's sample and takes it; false on failure.
    bool receive() {
        for (;;) {
            zfd_slot t;
            const int32_t rc = zfd_take(reader, &t, nullptr, nullptr, nullptr);
            if (rc == ZFD_OK) return zfd_release(reader, t) == ZFD_OK;
            if (rc != ZFD_E_NO_SAMPLE || !wait_ready(ep)) return false;
        }
    }
    // A, after the answer: take until NO_SAMPLE, which re-arms the
    // descriptor (B answers once per ping, so nothing more can be there).
    bool settle() {
        zfd_slot t;
        const int32_t rc = zfd_take(reader, &t, nullptr, nullptr, nullptr);
        if (rc == ZFD_OK) return false;
        return rc == ZFD_E_NO_SAMPLE || rc == ZFD_E_PEER_GONE;  // (the peer may be done)
    }
    bool send() {
        std::uint8_t payload[kPayload] = {};
        return zfd_publish(own, payload, sizeof payload, nullptr) == ZFD_OK;
    }
    void close() {
        if (ep >= 0) ::close(ep);
        zfd_reader_close(reader);
        zfd_segment_close(other);
        zfd_segment_close(own);
    }
};

std::vector<double> zfd_round(std::uint64_t warm, std::uint64_t iters, int cpu_a, int cpu_b,
                              int round) {
    const std::string base = "bench-ev-" + std::to_string(getpid()) + "-" + std::to_string(round);
    const std::string ping = base + "-ping", pong = base + "-pong";
    const std::uint64_t total = warm + iters;
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return {};
    const pid_t pid = fork();
    if (pid == 0) {
        pin(cpu_b);
        Side b;
        if (!b.setup(pong, ping)) _exit(2);
        // Readable only when A's first sample comes: the reader was made
        // after A's segment existed, and A publishes after our 'r'.
        char r = 'r';
        if (write(ready[1], &r, 1) != 1) _exit(3);
        // An event loop: take until ZFD_E_NO_SAMPLE (answering each sample
        // at once), then wait. A may send its next ping before our take that
        // finds nothing, so that take may find it: answered like any other.
        for (std::uint64_t answered = 0; answered < total;) {
            zfd_slot t;
            const int32_t rc = zfd_take(b.reader, &t, nullptr, nullptr, nullptr);
            if (rc == ZFD_OK) {
                if (zfd_release(b.reader, t) != ZFD_OK || !b.send()) _exit(4);
                ++answered;
            } else if (rc != ZFD_E_NO_SAMPLE || !wait_ready(b.ep)) {
                _exit(5);
            }
        }
        // Wait until A has taken the last answer (A closes its segment).
        b.close();
        _exit(0);
    }
    pin(cpu_a);
    Side a;
    std::vector<double> out;
    bool ok = a.setup(ping, pong);
    char r = 0;
    ok = ok && read(ready[0], &r, 1) == 1 && r == 'r';
    // B's reader attached to ping before 'r'; ours to pong in setup.
    out.reserve(iters);
    for (std::uint64_t i = 0; i < total && ok; ++i) {
        const std::int64_t t0 = now_ns();
        ok = a.send() && a.receive();
        if (i >= warm) out.push_back(double(now_ns() - t0) / 2.0);
        ok = ok && a.settle();
    }
    int status = 0;
    if (!ok) kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    a.close();
    close(ready[0]);
    close(ready[1]);
    zfd_segment_unlink(ping.c_str(), nullptr);  // normally gone already
    zfd_segment_unlink(pong.c_str(), nullptr);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "zfd round: A %s, B exit %d\n", ok ? "ok" : "failed",
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return {};
    }
    return out;
}

// ---------------------------------------------------------------- report

struct Stats {
    double p50, p99, p999, max;
    std::size_t n;
};

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        const std::size_t i = std::min(v.size() - 1, std::size_t(q * double(v.size())));
        return v[i];
    };
    return {at(0.50), at(0.99), at(0.999), v.back(), v.size()};
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t iters = 20000, warm = 2000;
    int rounds = 3;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            iters = 2000;
            warm = 200;
            rounds = 2;
        } else if (a == "--rounds" && i + 1 < argc) {
            rounds = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--iters" && i + 1 < argc) {
            iters = std::max<std::uint64_t>(100, std::strtoull(argv[++i], nullptr, 10));
        } else if (a == "--json") {
            json = true;
        } else {
            std::fprintf(stderr, "usage: %s [--quick] [--rounds N] [--iters N] [--json]\n", argv[0]);
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const int n_cpu = cpus();
    const int cpu_a = 0, cpu_b = n_cpu > 1 ? 1 : 0;
    std::vector<double> floor_all, zfd_all;
    for (int r = 0; r < rounds; ++r) {
        auto f = floor_round(warm, iters, cpu_a, cpu_b);
        auto z = zfd_round(warm, iters, cpu_a, cpu_b, r);
        if (f.empty() || z.empty()) {
            std::fprintf(stderr, "zfd-bench-eventloop: round %d failed (%s)\n", r,
                         f.empty() ? "floor" : "zfd");
            return 1;
        }
        floor_all.insert(floor_all.end(), f.begin(), f.end());
        zfd_all.insert(zfd_all.end(), z.begin(), z.end());
    }
    const Stats f = stats(floor_all), z = stats(zfd_all);
    const double ratio = z.p50 / f.p50;
    double load[3] = {0, 0, 0};
    (void)getloadavg(load, 3);
    if (json) {
        std::printf(
            "{\"payload\": %zu, \"rounds\": %d, \"iters\": %" PRIu64 ", \"load1\": %.2f,\n"
            " \"rows\": [\n"
            "  {\"id\": \"floor-epoll-eventfd\", \"p50_ns\": %.0f, \"p99_ns\": %.0f, \"p999_ns\": %.0f, \"max_ns\": %.0f},\n"
            "  {\"id\": \"epoll64\", \"p50_ns\": %.0f, \"p99_ns\": %.0f, \"p999_ns\": %.0f, \"max_ns\": %.0f, \"p50_ratio\": %.3f}\n"
            " ]}\n",
            kPayload, rounds, iters, load[0], f.p50, f.p99, f.p999, f.max, z.p50, z.p99, z.p999, z.max,
            ratio);
        return 0;
    }
    std::printf("zfd-bench-eventloop: one-way latency, %zu B, receiver in epoll_wait; CPUs %d/%d; "
                "%d rounds x %" PRIu64 " (interleaved); load %.2f\n",
                kPayload, cpu_a, cpu_b, rounds, iters, load[0]);
    std::printf("%-44s %9s %9s %9s %10s %9s\n", "row", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "p50/floor");
    std::printf("%-44s %9.0f %9.0f %9.0f %10.0f %9s\n", "floor: eventfd ping-pong under epoll", f.p50, f.p99,
                f.p999, f.max, "1.00");
    std::printf("%-44s %9.0f %9.0f %9.0f %10.0f %9.2f\n", "zfd: zfd_reader_fd under epoll", z.p50, z.p99,
                z.p999, z.max, ratio);
    std::printf("TARGETS\n");
    std::printf("  event-loop one-way p50 %.2fx the epoll/eventfd floor (target <= 1.2x)  %s\n", ratio,
                ratio <= 1.2 ? "met" : "NOT MET");
    return 0;
}
