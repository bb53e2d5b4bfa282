// writer_gate.hpp — mutual exclusion of the owner's writer threads.
//
// Every writer-side operation of a segment (reserve, commit, discard,
// publish, eviction, detach, reaping, the owner's close) runs inside the
// gate, so the writer's part of the protocol is single-threaded by
// construction: slot states, positions and the writer-private caches are
// changed by plain atomic stores, never by locked instructions (PROTOCOL.md,
// "Multi-writer-thread behaviour").
//
// The first thread that enters owns the gate and enters it without any
// locked instruction: it marks itself inside, passes a compiler barrier and
// checks that the gate is not shared. The first time another thread enters,
// the gate becomes shared for good: that thread takes the process-private
// mutex, sets `shared_`, and forces a full barrier on every thread of the
// process (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)); then it waits for
// the owner to leave the operation it may be in. From then on every thread,
// the owner too, takes the mutex. The store-load pairs (owner: inside_ then
// shared_; other: shared_ then inside_) are a Dekker pair whose owner half
// costs nothing because the other half pays with the membarrier. Without
// membarrier the owner half is a full fence.
//
// The mutex lives in the owner's heap, never in shared memory, and only the
// owner's own threads ever wait on it: no reader, and no crash of another
// process, can block a writer here.
#pragma once

#include "notify.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace zerodds::flatdata {

class WriterGate {
public:
    // Enters the gate; returns true when this is the owner's fast entry
    // (pass it to leave()).
    [[gnu::always_inline]] bool enter() {
        const std::uintptr_t me = thread_id();
        std::uintptr_t owner = owner_.load(std::memory_order_relaxed);
        if (owner == 0 && !shared_.load(std::memory_order_relaxed)) {
            owner_.compare_exchange_strong(owner, me, std::memory_order_relaxed);  // once per gate
            owner = owner_.load(std::memory_order_relaxed);
        }
        if (owner == me) {
            inside_.store(1, std::memory_order_relaxed);
            if (notify::detail::g_private_ok.load(std::memory_order_relaxed)) {
                std::atomic_signal_fence(std::memory_order_seq_cst);
            } else {
                std::atomic_thread_fence(std::memory_order_seq_cst);
            }
            if (!shared_.load(std::memory_order_relaxed)) {
                std::atomic_thread_fence(std::memory_order_acquire);
                return true;
            }
            inside_.store(0, std::memory_order_release);
        }
        enter_shared();
        return false;
    }


    [[gnu::always_inline]] void leave(bool fast) {
        if (fast) {
            inside_.store(0, std::memory_order_release);
        } else {
            mutex_.unlock();
        }
    }

    // True once a second thread has entered (diagnostics and tests).
    bool is_shared() const { return shared_.load(std::memory_order_relaxed); }

private:
    static std::uintptr_t thread_id() {
        // Unique among live threads; a reused value after a thread exited is
        // harmless (exclusion only matters between threads alive together).
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
        return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
#else
        return static_cast<std::uintptr_t>(::pthread_self());
#endif
#else
        return static_cast<std::uintptr_t>(::pthread_self());
#endif
    }

    [[gnu::noinline]] void enter_shared() {
        mutex_.lock();
        if (!shared_.load(std::memory_order_relaxed)) {
            shared_.store(true, std::memory_order_relaxed);
            if (!notify::private_heavy_barrier()) std::atomic_thread_fence(std::memory_order_seq_cst);
        }
        // The owner may be inside an operation it entered before it could
        // see shared_; it leaves within a few hundred instructions.
        while (inside_.load(std::memory_order_acquire) != 0) notify::cpu_relax();
    }

    alignas(64) std::atomic<std::uintptr_t> owner_{0};
    std::atomic<std::uint32_t> inside_{0};
    std::atomic<bool> shared_{false};
    std::mutex mutex_;
};

// Holds the gate for a scope.
class GateGuard {
public:
    explicit GateGuard(WriterGate& g) : gate_(g), fast_(g.enter()) {}
    ~GateGuard() { gate_.leave(fast_); }
    GateGuard(const GateGuard&) = delete;
    GateGuard& operator=(const GateGuard&) = delete;

private:
    WriterGate& gate_;
    bool fast_;
};

}  // namespace zerodds::flatdata
