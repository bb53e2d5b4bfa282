// harness.cpp — forking, pinning, supervising and cleaning up after the
// children of one measurement (see harness.hpp).
#include "harness.hpp"

#include <fmt/format.h>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>

namespace zfd_bench {

namespace {
sigset_t g_wait_set;
std::vector<void (*)()> g_interrupt_fns;
}  // namespace

bool wait_count(const std::atomic<uint32_t>& a, uint32_t n, const Deadline& dl) {
    uint32_t spins = 0;
    while (a.load(std::memory_order_acquire) < n) {
        cpu_relax();
        if ((++spins & 0x3ff) == 0) {
            if (dl.expired()) return false;
            sched_yield();
        }
    }
    return true;
}

int Peer::fail(const char* f, ...) const {
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(ctl->err[role], sizeof ctl->err[role], f, ap);
    va_end(ap);
    return 1;
}

// ---------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------

void block_signals() {
    sigemptyset(&g_wait_set);
    sigaddset(&g_wait_set, SIGCHLD);
    sigaddset(&g_wait_set, SIGINT);
    sigaddset(&g_wait_set, SIGTERM);
    sigaddset(&g_wait_set, SIGHUP);
    sigprocmask(SIG_BLOCK, &g_wait_set, nullptr);
}

int wait_signal(int64_t ns) {
    timespec ts{};
    ts.tv_sec = ns / 1'000'000'000;
    ts.tv_nsec = ns % 1'000'000'000;
    return sigtimedwait(&g_wait_set, nullptr, &ts);
}

void at_interrupt(void (*fn)()) { g_interrupt_fns.push_back(fn); }

void interrupted(const std::vector<pid_t>& pids, int sig) {
    for (pid_t p : pids)
        if (p > 0) kill(p, SIGKILL);
    for (pid_t p : pids)
        if (p > 0) waitpid(p, nullptr, 0);
    for (auto fn : g_interrupt_fns) fn();
    size_t left = cleanup_all_names();
    std::fprintf(stderr,
                 "zfd-bench: interrupted by signal %d; children killed, segments unlinked (%zu stray objects removed)\n",
                 sig, left);
    std::_Exit(128 + sig);
}

// ---------------------------------------------------------------------------
// PinnedRun
// ---------------------------------------------------------------------------

PinnedRun::PinnedRun() : ctl_mem_(sizeof(Ctl)), ctl_(new (ctl_mem_.p) Ctl()) {}

std::string PinnedRun::segment_name(const std::string& suffix) {
    if (base_.empty()) base_ = new_name();
    if (suffix.empty()) {
        names_.push_back(base_);
        return base_;
    }
    std::string n = base_ + "-" + suffix;
    track_name(n);
    names_.push_back(n);
    return n;
}

RunResult PinnedRun::run(const std::vector<Role>& roles) {
    const double to = g.test_timeout_s;
    std::fflush(stdout);
    std::fflush(stderr);
    std::vector<pid_t> pids(roles.size(), -1);
    RunResult res;
    auto kill_all = [&] {
        for (pid_t p : pids)
            if (p > 0) kill(p, SIGKILL);
        for (pid_t& p : pids)
            if (p > 0) {
                waitpid(p, nullptr, 0);
                p = -1;
            }
    };
    auto finish = [&](RunResult r) {
        if (!names_.empty()) check_leftovers(names_, r.ok);
        return r;
    };
    if (roles.size() > static_cast<size_t>(kMaxRoles))
        return finish({false, fmt::format("{} roles, at most {}", roles.size(), kMaxRoles)});
    for (size_t i = 0; i < roles.size(); ++i) {
        pid_t pid = fork();
        if (pid < 0) {
            res = {false, fmt::format("fork failed: {}", std::strerror(errno))};
            kill_all();
            return finish(res);
        }
        if (pid == 0) {
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != g.orchestrator) std::_Exit(99);
            const int role = static_cast<int>(i);
            pin_to(role == 0 ? g.cpu_a : g.cpu_b);
            Peer peer{ctl_, role, Deadline(to)};
            int rc = 1;
            try {
                rc = roles[i](peer);
            } catch (const std::exception& e) {
                peer.fail("exception: %s", e.what());
                rc = 3;
            } catch (...) {
                peer.fail("unknown exception");
                rc = 3;
            }
            if (std_exit_) {
                std::fflush(nullptr);
                std::exit(rc);
            }
            std::_Exit(rc);
        }
        pids[i] = pid;
    }
    const double timeout_s = to + 5;
    Deadline dl(timeout_s);
    size_t alive = roles.size();
    while (alive > 0) {
        for (size_t i = 0; i < pids.size(); ++i) {
            if (pids[i] <= 0) continue;
            int st = 0;
            pid_t r = waitpid(pids[i], &st, WNOHANG);
            if (r != pids[i]) continue;
            pids[i] = -1;
            --alive;
            bool good = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            if (!good) {
                std::string why = WIFEXITED(st) ? fmt::format("exit {}", WEXITSTATUS(st))
                                                : fmt::format("signal {}", WTERMSIG(st));
                std::string msg = ctl_->err[i][0] ? std::string(ctl_->err[i]) : "no message";
                // the threads of a one-child run record under their own roles
                if (roles.size() == 1 && !ctl_->err[i][0])
                    for (int k = 1; k < kMaxRoles; ++k)
                        if (ctl_->err[k][0]) {
                            msg = fmt::format("{} (role {})", ctl_->err[k], k);
                            break;
                        }
                res = {false, fmt::format("child {} failed ({}): {}", i, why, msg)};
                kill_all();
                // which child died first is a race; what the others recorded may be the cause
                for (size_t k = 0; k < roles.size(); ++k)
                    if (k != i && ctl_->err[k][0]) res.error += fmt::format("; child {}: {}", k, ctl_->err[k]);
                return finish(res);
            }
        }
        if (alive == 0) break;
        int64_t left = dl.at - now_ns();
        if (left <= 0) {
            std::string msgs;
            for (size_t i = 0; i < roles.size(); ++i)
                if (ctl_->err[i][0]) msgs += fmt::format("; child {}: {}", i, ctl_->err[i]);
            res = {false, fmt::format("timed out after {:.0f} s, children killed{}", timeout_s, msgs)};
            kill_all();
            return finish(res);
        }
        int sig = wait_signal(std::min<int64_t>(left, 200'000'000));
        if (is_stop_signal(sig)) interrupted(pids, sig);
    }
    return finish(res);
}

// ---------------------------------------------------------------------------
// stream
// ---------------------------------------------------------------------------

Throughput collect_throughput(const Ctl* ctl, int first_reader, int readers, size_t payload) {
    Throughput t;
    t.ok = true;
    t.samples = ctl->produced.load();
    int64_t tend = 0;
    for (int i = first_reader; i < first_reader + readers; ++i) {
        if (ctl->count[i] != t.samples) {
            t.ok = false;
            t.error = fmt::format("reader {} got {} of {} samples", i, ctl->count[i], t.samples);
        }
        tend = std::max(tend, ctl->t_end[i]);
    }
    t.writer_parks = ctl->parks[0];
    for (int i = first_reader; i < first_reader + readers; ++i) t.reader_parks += ctl->parks[i];
    t.seconds = static_cast<double>(tend - ctl->t_start.load()) / 1e9;
    if (t.seconds > 0) {
        t.per_s = static_cast<double>(t.samples) / t.seconds;
        t.gbps_per_reader = t.per_s * static_cast<double>(payload) / 1e9;
    }
    return t;
}

}  // namespace zfd_bench
