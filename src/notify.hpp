// notify.hpp — sleeping and waking across processes.
//
// A futex word in shared memory, used without FUTEX_PRIVATE_FLAG so waiters
// in other processes are woken. Wakers pay for a system call only when a
// waiter is counted. Skipping the call is a Dekker pair: the waker stores its
// state change and then loads the waiter count; the sleeper increments the
// count and then re-checks the state. Both sides need a store-load barrier.
// The waker is the hot path (every commit, every release), the sleeper the
// slow one, so the barrier is asymmetric: in a process registered for
// membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) the waker's side is a
// compiler barrier only, and the sleeper issues
// membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which runs a full barrier on
// every CPU running a registered process. A process that could not register
// uses a real fence on its waker side; a sleeper that cannot issue the
// membarrier caps its sleeps at kFallbackSliceNs. Every sleep is cut into
// slices of at most kMaxSleepSliceNs so a dead peer costs bounded time.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace zerodds::flatdata::notify {

inline constexpr std::int64_t kMaxSleepSliceNs = 100'000'000;  // 100 ms
inline constexpr std::int64_t kFallbackSliceNs = 1'000'000;    // 1 ms, without membarrier

// Registers this process for asymmetric barriers (idempotent; a system call
// the first time in a process, so call it at setup, never on the hot path).
// Also registers for MEMBARRIER_CMD_PRIVATE_EXPEDITED (writer_gate.hpp).
// Returns true when the waker side may be a compiler barrier.
bool register_process();

namespace detail {
extern std::atomic<bool> g_light_ok;    // waker side may be a compiler barrier
extern std::atomic<bool> g_heavy_ok;    // MEMBARRIER_CMD_GLOBAL_EXPEDITED works
extern std::atomic<bool> g_private_ok;  // MEMBARRIER_CMD_PRIVATE_EXPEDITED works
}  // namespace detail

// The waker's half of the Dekker pair: between a state change that sleepers
// must see and the load of their count.
inline void light_barrier() {
    if (detail::g_light_ok.load(std::memory_order_relaxed)) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
}

// The sleeper's half: between counting itself and re-checking the state.
// False when only a fence could be issued (then sleeps are kept short).
bool heavy_barrier();

// The writer gate's half (process-private): every thread of this process
// has passed a full barrier when it returns true.
bool private_heavy_barrier();

// Monotonic clock in ns (vDSO, no system call).
std::int64_t now_ns();
// Coarse monotonic clock in ns (cheaper; jiffy resolution). Commit stamps.
std::int64_t coarse_now_ns();

// Sleeps while *word == expected, at most timeout_ns (clamped to the slice).
void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected, std::int64_t timeout_ns);
void futex_wake_all(std::atomic<std::uint32_t>* word);

// One place sleepers wait for one kind of event: how many are counted, the
// futex word they sleep on, and whether one has armed it since the last
// wake (all three in shared memory).
struct WaitPoint {
    std::atomic<std::uint32_t>& waiters;
    std::atomic<std::uint32_t>& word;
    std::atomic<std::uint32_t>& armed;
};

// Bumps the word and wakes its sleepers if one is counted and one armed it
// since the last wake; otherwise costs two loads and no system call. The
// caller has made its state change visible and passed light_barrier() (or a
// stronger one) before this call: that and the sleeper's heavy_barrier() are
// the store-load pair that makes the load of `waiters` safe to skip on.
//
// Why no wake-up is lost once a sleeper is counted (its steps are in
// wait_until): a sleeper counts itself, reads the word, arms, passes
// heavy_barrier(), then looks at the state once more before it sleeps on the
// value it read. A waker whose clear of `armed` comes before that arm
// ordered its state change before it, so the sleeper's last look sees the
// new state and it does not sleep; a waker whose clear comes after finds
// `armed` set (by this sleeper or another) and bumps and wakes, and the bump
// changes the value the sleeper read, so its futex wait returns at once if
// it had not started yet. A sleeper woken re-arms before it sleeps again.
// (tests/model/notify.pml checks this.)
inline void wake_if_waiting(const WaitPoint& p) {
    if (p.waiters.load(std::memory_order_relaxed) != 0 &&
        p.armed.exchange(0, std::memory_order_seq_cst) != 0) {
        p.word.fetch_add(1, std::memory_order_seq_cst);
        futex_wake_all(&p.word);
    }
}

// Spin budget before parking, from ZFD_SPIN_NS (default 2000 ns, read once).
std::int64_t spin_budget_ns();

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// Deadline arithmetic: timeout_ns < 0 means forever.
struct Deadline {
    explicit Deadline(std::int64_t timeout_ns);
    bool expired() const;
    std::int64_t remaining_ns() const;  // clamped to >= 0; huge when forever
    std::int64_t at;
    bool forever;
};

// Generic wait: spin for the budget, then park on `word` (counting in
// `waiters`) until ready() is true or the deadline passes. `check` may also
// end the wait early with a status of its own; it is re-evaluated after every
// wake-up. Returns true when ready.
template <typename Ready>
bool wait_until(Ready&& ready, const WaitPoint& p, const Deadline& deadline) {
    if (ready()) return true;
    const std::int64_t spin = spin_budget_ns();
    if (spin > 0) {
        const std::int64_t spin_end = now_ns() + spin;
        do {
            for (int i = 0; i < 64; ++i) {
                cpu_relax();
                if (ready()) return true;
            }
        } while (now_ns() < spin_end && !deadline.expired());
    }
    for (;;) {
        if (deadline.expired()) return ready();
        p.waiters.fetch_add(1, std::memory_order_seq_cst);
        const std::uint32_t seen = p.word.load(std::memory_order_seq_cst);
        p.armed.store(1, std::memory_order_seq_cst);
        const bool ordered = heavy_barrier();
        if (ready()) {  // after arming and the barrier: see wake_if_waiting
            p.waiters.fetch_sub(1, std::memory_order_seq_cst);
            return true;
        }
        const std::int64_t left = deadline.remaining_ns();
        futex_wait(&p.word, seen, ordered ? left : std::min(left, kFallbackSliceNs));
        p.waiters.fetch_sub(1, std::memory_order_seq_cst);
        if (ready()) return true;
    }
}

}  // namespace zerodds::flatdata::notify
