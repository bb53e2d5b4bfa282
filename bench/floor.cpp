// floor.cpp — the machine's floor: what any shared-memory transport between
// two pinned processes pays at least. Latency: one shared cache line
// ping-ponged with spinning; the same through a raw shared futex word.
#include "harness.hpp"
#include "measure.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace zfd_bench {

namespace {

long futex(std::atomic<uint32_t>* w, int op, uint32_t val, const timespec* t) {
    // shared futex: no FUTEX_PRIVATE_FLAG, the word lives in a MAP_SHARED page
    return syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), op, val, t, nullptr, 0);
}

// Round trip i: role 0 stores 2i+1 (ping), role 1 answers 2i+2 (pong).
struct SpinLine {
    const Peer& p;
    std::atomic<uint64_t>& w;
    const uint64_t mine;    // added to 2i in what this side stores
    const uint64_t theirs;  // ... and in what it waits for

    SpinLine(const Peer& peer, std::atomic<uint64_t>& word)
        : p(peer), w(word), mine(peer.role == 0 ? 1 : 2), theirs(peer.role == 0 ? 2 : 1) {}
    int open() { return 0; }
    int close() { return 0; }
    int send(uint64_t i) {
        w.store(2 * i + mine, std::memory_order_release);
        return 0;
    }
    int recv(uint64_t i) {
        const uint64_t want = 2 * i + theirs;
        uint32_t spins = 0;
        while (w.load(std::memory_order_acquire) != want) {
            if ((++spins & 0xfff) == 0 && p.dl.expired()) return p.fail("timeout at %lu", (unsigned long)i);
            spin_hint();
        }
        return 0;
    }
};

// The same protocol on a futex word (32-bit wrap is fine): post, FUTEX_WAKE;
// wait in FUTEX_WAIT (100 ms slices, to see the deadline).
struct FutexWord {
    const Peer& p;
    std::atomic<uint32_t>* w;
    const uint32_t mine, theirs;

    FutexWord(const Peer& peer, std::atomic<uint32_t>* word)
        : p(peer), w(word), mine(peer.role == 0 ? 1 : 2), theirs(peer.role == 0 ? 2 : 1) {}
    int open() { return 0; }
    int close() { return 0; }
    int send(uint64_t i) {
        w->store(static_cast<uint32_t>(2 * i) + mine, std::memory_order_release);
        futex(w, FUTEX_WAKE, 1, nullptr);
        return 0;
    }
    int recv(uint64_t i) {
        const uint32_t want = static_cast<uint32_t>(2 * i) + theirs;
        const timespec slice{0, 100'000'000};
        for (;;) {
            uint32_t v = w->load(std::memory_order_acquire);
            if (v == want) return 0;
            futex(w, FUTEX_WAIT, v, &slice);
            if (p.dl.expired() && w->load(std::memory_order_acquire) != want)
                return p.fail("timeout at %lu", (unsigned long)i);
        }
    }
};

}  // namespace

Sampled floor_spin(uint64_t warm, uint64_t iters) {
    PinnedRun run;
    Ctl* ctl = run.ctl();
    return ping_pong(run, warm, iters, [=](const Peer& p) { return SpinLine(p, ctl->spin_word); });
}

Sampled floor_futex(uint64_t warm, uint64_t iters) {
    PinnedRun run;
    Ctl* ctl = run.ctl();
    return ping_pong(run, warm, iters, [=](const Peer& p) { return FutexWord(p, &ctl->futex_word); });
}

}  // namespace zfd_bench
