// harness.hpp — the one way zfd-bench runs a measurement: pinned child
// processes around a shared control block.
//
// A PinnedRun forks one child per role. Role 0 is pinned to cpu A, every other
// role to cpu B; each child gets the run's deadline (g.test_timeout_s) and a
// Peer through which it meets the others (start barrier) and records why it
// failed. The orchestrator only supervises: a child that fails, dies or
// overruns gets the others killed, and every segment name the run handed out
// is checked and unlinked afterwards. Results travel back through the control
// block and through shared arrays the run maps before forking.
//
// On top of it, two shapes that the measurement families share:
//   ping_pong  two processes, role 0 stamps each round trip (latency rows);
//   stream     one writer process, N reader processes (throughput rows).
#pragma once

#include "common.hpp"

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace zfd_bench {

constexpr int kMaxRoles = 8;

// The control block shared by the orchestrator and the children of one run.
// Hot words sit on their own cache lines.
struct Ctl {
    alignas(64) std::atomic<uint64_t> spin_word{0};
    alignas(64) std::atomic<uint32_t> futex_word{0};
    alignas(64) std::atomic<uint32_t> created{0};
    alignas(64) std::atomic<uint32_t> attached{0};
    alignas(64) std::atomic<uint32_t> finished{0};
    alignas(64) std::atomic<uint32_t> writer_done{0};
    alignas(64) std::atomic<uint64_t> produced{0};
    alignas(64) std::atomic<uint64_t> published{0};
    alignas(64) std::atomic<uint64_t> drained{0};
    alignas(64) std::atomic<int64_t> t_start{0};
    alignas(64) int64_t t_end[kMaxRoles]{};
    uint64_t count[kMaxRoles]{};
    uint64_t parks[kMaxRoles]{};  // throughput: zfd_reserve_wait / zfd_reader_wait calls
    char err[kMaxRoles][240]{};
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

// Spin (yielding now and then) until a >= n; false if the deadline passed first.
bool wait_count(const std::atomic<uint32_t>& a, uint32_t n, const Deadline& dl);

// One child's view of its run.
struct Peer {
    Ctl* ctl;
    int role;
    Deadline dl;
    // Record this child's failure (the orchestrator reports it); returns 1.
    __attribute__((format(printf, 2, 3))) int fail(const char* f, ...) const;
    // Count this child in on c, then wait until n children are in.
    bool meet(std::atomic<uint32_t>& c, uint32_t n) const {
        c.fetch_add(1);
        return wait_count(c, n, dl);
    }
    // Wait until c reaches n.
    bool await(const std::atomic<uint32_t>& c, uint32_t n) const { return wait_count(c, n, dl); }
};

using Role = std::function<int(Peer&)>;

struct RunResult {
    bool ok = true;
    std::string error;
};

class PinnedRun {
public:
    PinnedRun();
    PinnedRun(const PinnedRun&) = delete;
    PinnedRun& operator=(const PinnedRun&) = delete;

    Ctl* ctl() const { return ctl_; }
    // n zero-filled T's in a mapping shared with the children, valid while
    // the run lives (timestamps, rings, per-burst durations).
    template <class T>
    T* shared(size_t n) {
        arrays_.push_back(std::make_unique<SharedMem>(n * sizeof(T)));
        return arrays_.back()->as<T>();
    }
    // A segment name for this run: "bench-<pid>-<n>" plus "-<suffix>" if one
    // is given. After run(), whatever is left under it is reported and removed.
    std::string segment_name(const std::string& suffix = "");
    // Children end through std::exit (static destructors run: the iceoryx
    // runtime deregisters from RouDi in one) instead of _Exit.
    void exit_through_std_exit() { std_exit_ = true; }
    // Fork one child per role (at most kMaxRoles), wait for all of them at
    // most g.test_timeout_s + 5 s; if one fails, dies or the time runs out,
    // the others are killed.
    RunResult run(const std::vector<Role>& roles);

private:
    SharedMem ctl_mem_;
    Ctl* ctl_;
    std::vector<std::unique_ptr<SharedMem>> arrays_;
    std::string base_;
    std::vector<std::string> names_;
    bool std_exit_ = false;
};

// ---------------------------------------------------------------------------
// Signals: the orchestrator takes SIGCHLD/SIGINT/SIGTERM/SIGHUP synchronously
// ---------------------------------------------------------------------------

// Block those signals in the orchestrator (children unblock them).
void block_signals();
// Wait up to ns for one of them; returns it, or -1.
int wait_signal(int64_t ns);
inline bool is_stop_signal(int sig) { return sig == SIGINT || sig == SIGTERM || sig == SIGHUP; }
// Run fn (e.g. stop a daemon this run started) on every exit through interrupted().
void at_interrupt(void (*fn)());
// Kill and reap pids, run the at_interrupt functions, unlink every segment
// name of the run, exit 128 + sig.
[[noreturn]] void interrupted(const std::vector<pid_t>& pids, int sig);

// ---------------------------------------------------------------------------
// ping_pong: the latency shape
// ---------------------------------------------------------------------------
//
// make(Peer&) builds, in each of the two children, a session with
//   int open()            before the start barrier (create, attach, connect)
//   int send(uint64_t i)  role 0: ping i; role 1: pong i
//   int recv(uint64_t i)  role 0: wait for pong i; role 1: wait for ping i
//   int close()           after both finished the loop
// each returning 0 or p.fail(...). Role 0 takes one timestamp at the top of
// every round trip; the result is warm-up dropped, one-way (round trip / 2).
// The session type is a template parameter so its calls inline into the loop.
template <class MakeSession>
Sampled ping_pong(PinnedRun& run, uint64_t warm, uint64_t iters, MakeSession make) {
    Ctl* ctl = run.ctl();
    const uint64_t total = warm + iters;
    int64_t* ts = run.shared<int64_t>(total + 1);
    auto side = [=](Peer& p) -> int {
        auto s = make(p);
        if (s.open()) return 1;
        if (!p.meet(ctl->attached, 2)) return p.fail("peer never attached");
        if (p.role == 0) {
            for (uint64_t i = 0; i < total; ++i) {
                ts[i] = ticks();
                if (s.send(i)) return 1;
                if (s.recv(i)) return 1;
            }
            ts[total] = ticks();
        } else {
            for (uint64_t i = 0; i < total; ++i) {
                if (s.recv(i)) return 1;
                if (s.send(i)) return 1;
            }
        }
        if (!p.meet(ctl->finished, 2)) return p.fail("peer never finished");
        return s.close();
    };
    RunResult r = run.run({side, side});
    if (!r.ok) return sample_error(r.error);
    return samples_from_timestamps(ts, warm, total);
}

// ---------------------------------------------------------------------------
// stream: the throughput shape
// ---------------------------------------------------------------------------

// Throughput from the control block after a stream: samples = ctl->produced,
// time = last reader's t_end - the writer's t_start; fails unless every
// reader (roles first_reader ..) counted every sample.
Throughput collect_throughput(const Ctl* ctl, int first_reader, int readers, size_t payload);

// One writer (role 0, cpu A) and `readers` reader processes (roles 1..,
// all on cpu B). make_writer(Peer&) builds a writer with
//   int open()                 e.g. create the segment
//   int produce(double seconds) write for that long, then set ctl->produced
//                              and ctl->writer_done (ctl->t_start at its start)
// make_reader(Peer&) a reader with
//   int open()                 e.g. open the segment, attach a reader
//   int consume()              read until it has all ctl->produced samples,
//                              then set ctl->count[role] and ctl->t_end[role]
// Barriers: readers open after the writer's open; the writer starts once every
// reader is open, and stays until every reader is done.
template <class MakeWriter, class MakeReader>
Throughput stream(PinnedRun& run, int readers, size_t payload, double seconds, MakeWriter make_writer,
                  MakeReader make_reader) {
    Ctl* ctl = run.ctl();
    const auto n = static_cast<uint32_t>(readers);
    std::vector<Role> roles;
    roles.push_back([=](Peer& p) -> int {
        auto w = make_writer(p);
        if (w.open()) return 1;
        ctl->created.store(1, std::memory_order_release);
        if (!p.await(ctl->attached, n)) return p.fail("readers never attached");
        if (w.produce(seconds)) return 1;
        if (!p.await(ctl->finished, n)) return p.fail("readers never finished");
        return 0;
    });
    for (int r = 1; r <= readers; ++r) {
        roles.push_back([=](Peer& p) -> int {
            if (!p.await(ctl->created, 1)) return p.fail("writer never created the segment");
            auto rd = make_reader(p);
            if (rd.open()) return 1;
            ctl->attached.fetch_add(1);
            if (rd.consume()) return 1;
            ctl->finished.fetch_add(1);
            return 0;
        });
    }
    RunResult res = run.run(roles);
    if (!res.ok) {
        Throughput t;
        t.error = res.error;
        return t;
    }
    return collect_throughput(ctl, 1, readers, payload);
}

}  // namespace zfd_bench
