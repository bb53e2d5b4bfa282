// notify.cpp — futex calls and clocks. See notify.hpp.
#include "notify.hpp"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

namespace zerodds::flatdata::notify {

namespace detail {
std::atomic<bool> g_light_ok{false};
std::atomic<bool> g_heavy_ok{false};
std::atomic<bool> g_private_ok{false};
}  // namespace detail

namespace {

long membarrier(int cmd) { return ::syscall(SYS_membarrier, cmd, 0u, 0); }

}  // namespace

bool register_process() {
    // Registration is per process (inherited by fork, reset by exec) and
    // idempotent; repeating it after a fork costs one system call at setup.
    static std::atomic<pid_t> registered_pid{0};
    const pid_t me = ::getpid();
    if (registered_pid.load(std::memory_order_acquire) == me) {
        return detail::g_light_ok.load(std::memory_order_relaxed);
    }
    const long supported = membarrier(MEMBARRIER_CMD_QUERY);
    const bool global = supported > 0 && (supported & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
                        membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
    const bool priv = supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
                      membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    // A sleeper can order us only if we are registered and it can issue the
    // command; both depend on this kernel, so one answer serves both sides.
    detail::g_heavy_ok.store(global, std::memory_order_relaxed);
    detail::g_light_ok.store(global, std::memory_order_relaxed);
    detail::g_private_ok.store(priv, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    registered_pid.store(me, std::memory_order_release);
    return global;
}

bool heavy_barrier() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!detail::g_heavy_ok.load(std::memory_order_relaxed)) return false;
    return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

bool private_heavy_barrier() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!detail::g_private_ok.load(std::memory_order_relaxed)) return false;
    return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}

std::int64_t now_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t coarse_now_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected, std::int64_t timeout_ns) {
    const std::int64_t slice = std::clamp<std::int64_t>(timeout_ns, 0, kMaxSleepSliceNs);
    struct timespec ts {};
    ts.tv_sec = slice / 1'000'000'000;
    ts.tv_nsec = slice % 1'000'000'000;
    // Shared (not FUTEX_PRIVATE_FLAG): the word lives in memory other
    // processes map. EAGAIN (value changed), EINTR and ETIMEDOUT all mean
    // "re-check"; the caller loops.
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr,
              0);
}

void futex_wake_all(std::atomic<std::uint32_t>* word) {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr,
              nullptr, 0);
}

std::int64_t spin_budget_ns() {
    static const std::int64_t budget = [] {
        const char* env = std::getenv("ZFD_SPIN_NS");
        if (env == nullptr || *env == '\0') return std::int64_t{2000};
        char* end = nullptr;
        const long long v = std::strtoll(env, &end, 10);
        if (end == env || v < 0) return std::int64_t{2000};
        return static_cast<std::int64_t>(std::min<long long>(v, 1'000'000'000));
    }();
    return budget;
}

// A timeout so large that now + timeout overflows is a wait without end.
Deadline::Deadline(std::int64_t timeout_ns)
    : at(INT64_MAX), forever(timeout_ns < 0) {
    if (forever) return;
    const std::int64_t now = now_ns();
    if (timeout_ns <= INT64_MAX - now) at = now + timeout_ns;
}

bool Deadline::expired() const { return !forever && now_ns() >= at; }

std::int64_t Deadline::remaining_ns() const {
    if (forever) return INT64_MAX;
    return std::max<std::int64_t>(0, at - now_ns());
}

}  // namespace zerodds::flatdata::notify
