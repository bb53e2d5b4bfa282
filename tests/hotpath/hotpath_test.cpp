// hotpath_test: the hot path makes zero heap allocations and zero system
// calls after setup (DESIGN.md §4 rule 8, §5 last bullet).
//
// A forked child sets up a segment (in-memory, named, and a named one with
// ZFD_SEGMENT_OVERWRITE_OLDEST, history and a reader that never reads, so
// every publish overwrites), warms up, and runs a counted window of
// reserve/commit_in_place, publish, take/release, take_latest/release,
// take_copy and notify_generation with nobody asleep. Heap calls are counted
// by malloc-family functions interposed in this executable (they also
// interpose for the shared library and libstdc++'s operator new). System
// calls are counted by the parent, which ptraces the child with
// PTRACE_SYSCALL between two marker system calls.
//
// Uses only the public header and the shared library.

#include <zerodds/flatdata.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
// Heap interposition
// ---------------------------------------------------------------------------

extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);
void *__libc_memalign(size_t, size_t);
void *__libc_valloc(size_t);
void *__libc_pvalloc(size_t);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_allocs{0};
std::atomic<uint64_t> g_frees{0};

inline void count_alloc() {
    if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
}
} // namespace

extern "C" {
void *malloc(size_t n) {
    count_alloc();
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
    count_alloc();
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
    count_alloc();
    return __libc_realloc(p, n);
}
void free(void *p) {
    if (p != nullptr && g_counting.load(std::memory_order_relaxed))
        g_frees.fetch_add(1, std::memory_order_relaxed);
    __libc_free(p);
}
void *memalign(size_t a, size_t n) {
    count_alloc();
    return __libc_memalign(a, n);
}
void *aligned_alloc(size_t a, size_t n) {
    count_alloc();
    return __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n) {
    count_alloc();
    if (a < sizeof(void *) || (a & (a - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(a, n);
    if (p == nullptr && n != 0) return ENOMEM;
    *out = p;
    return 0;
}
void *valloc(size_t n) {
    count_alloc();
    return __libc_valloc(n);
}
void *pvalloc(size_t n) {
    count_alloc();
    return __libc_pvalloc(n);
}
}

// ---------------------------------------------------------------------------
// Shared between parent and child
// ---------------------------------------------------------------------------

namespace {

constexpr int kSegments = 3;         // in-memory, named, named with the overwrite policy
constexpr uint32_t kSlots = 64;
constexpr uint64_t kSlotBytes = 64;
constexpr int kReaders = 2;
constexpr uint64_t kWarmup = 1000;
constexpr uint64_t kCycles = 100000;
constexpr unsigned kTimeoutS = 60;

// Marker: getppid with magic arguments (getppid ignores them). The parent
// recognises orig_rax == SYS_getppid && rdi == magic; rsi = segment index.
constexpr long kMarkBegin = 0x7a66642d62656721L; // "zfd-beg!"
constexpr long kMarkEnd = 0x7a66642d656e6421L;   // "zfd-end!"

const char *const kSegName[kSegments] = {"in-memory", "named", "overwrite"};
constexpr int kOverwrite = 2;        // which == kOverwrite: policy, history, a stalled reader

struct SegReport {
    uint64_t cycles;   // cycles completed in the counted window
    uint64_t allocs;   // malloc-family calls in the window
    uint64_t frees;    // free(non-NULL) in the window
    uint64_t errors;   // API calls that did not return what was expected
    int32_t first_status;
    int32_t first_site;
    uint64_t bad_data; // samples whose content or sequence was wrong
};

struct ChildReport {
    uint32_t magic;
    int32_t setup_failed; // 0, or the step number that failed
    int32_t setup_status;
    uint32_t interpose_ok; // sanity check: operator new and strdup were counted
    SegReport seg[kSegments];
};
constexpr uint32_t kReportMagic = 0x48505431; // "HPT1"

// ---------------------------------------------------------------------------
// Child
// ---------------------------------------------------------------------------

// Never print or allocate inside the window: errors are only recorded.
struct Window {
    SegReport *r;
    void fail(int site, int32_t st) {
        if (r->errors++ == 0) {
            r->first_site = site;
            r->first_status = st;
        }
    }
};

// Returns 0 or a setup step number.
int run_segment(int which, const char *name, SegReport *rep, int32_t *setup_status) {
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = kSlots;
    opts.slot_capacity = kSlotBytes;
    const bool overwrite = which == kOverwrite;
    if (overwrite) {
        opts.flags = ZFD_SEGMENT_OVERWRITE_OLDEST;
        opts.history = 4;
    }

    zfd_segment *owner = nullptr;
    zfd_reader *stalled = nullptr;  // overwrite: attached, never reads
    zfd_segment *consumer = nullptr;
    zfd_reader *readers[kReaders] = {};
    zfd_error err;
    std::memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;

    int32_t st = zfd_segment_create(name, &opts, &owner, &err);
    if (st != ZFD_OK) {
        *setup_status = st;
        std::fprintf(stderr, "hotpath: zfd_segment_create(%s): %s: %s\n", name ? name : "NULL",
                     zfd_status_str(st), err.message);
        return 1;
    }
    // Named: one reader on the owner handle, one through a consumer handle
    // (the cross-process attach path). In-memory: both on the owner handle.
    zfd_segment *reader_seg[kReaders] = {owner, owner};
    if (name != nullptr) {
        st = zfd_segment_open(name, nullptr, 0, &consumer, &err);
        if (st != ZFD_OK) {
            *setup_status = st;
            std::fprintf(stderr, "hotpath: zfd_segment_open(%s): %s: %s\n", name,
                         zfd_status_str(st), err.message);
            zfd_segment_close(owner);
            return 2;
        }
        reader_seg[1] = consumer;
    }
    if (overwrite && zfd_reader_open(owner, 0, &stalled) != ZFD_OK) {
        zfd_segment_close(consumer);
        zfd_segment_close(owner);
        return 5;
    }
    for (int i = 0; i < kReaders; ++i) {
        st = zfd_reader_open(reader_seg[i], overwrite && i == 0 ? ZFD_READER_HISTORY : 0u, &readers[i]);
        if (st != ZFD_OK) {
            *setup_status = st;
            std::fprintf(stderr, "hotpath: zfd_reader_open: %s\n", zfd_status_str(st));
            for (int j = 0; j < i; ++j) zfd_reader_close(readers[j]);
            zfd_segment_close(consumer);
            zfd_segment_close(owner);
            return 3;
        }
    }

    // Named: reader 1 also has an event-loop descriptor (zfd_reader_fd). It
    // is armed when made and fires once in the warm-up; after that its takes
    // always find a sample, so it is never armed again and the window must
    // still count no system call.
    if (name != nullptr) {
        int fd = -1;
        st = zfd_reader_fd(readers[1], &fd);
        if (st != ZFD_OK) {
            *setup_status = st;
            std::fprintf(stderr, "hotpath: zfd_reader_fd: %s\n", zfd_status_str(st));
            for (auto *r : readers) zfd_reader_close(r);
            zfd_segment_close(consumer);
            zfd_segment_close(owner);
            return 5;
        }
    }

    uint64_t value = 0;         // payload written: a running counter
    uint64_t expect_value[kReaders] = {};
    uint64_t last_seq[kReaders] = {};
    bool have_seq[kReaders] = {};
    volatile uint64_t sink = 0;

    auto cycle = [&](Window &w) {
        // Writer: loan, write 8 bytes in place, commit.
        zfd_slot slot = 0;
        void *data = nullptr;
        int32_t s = zfd_reserve(owner, &slot, &data);
        if (s != ZFD_OK) {
            w.fail(10, s);
        } else {
            std::memcpy(data, &value, sizeof value);
            s = zfd_commit_in_place(owner, slot, sizeof value, nullptr);
            if (s != ZFD_OK) w.fail(11, s);
        }
        ++value;
        // Writer: copy path.
        s = zfd_publish(owner, &value, sizeof value, nullptr);
        if (s != ZFD_OK) w.fail(12, s);
        ++value;
        if (overwrite) {
            // Reader 0 takes both in place (history flag: nothing retained
            // before it attached here); reader 1 only the newest, the older
            // one counting as read. The stalled reader pins nothing.
            for (int i = 0; i < kReaders; ++i) {
                for (int n = 0; n < (i == 0 ? 2 : 1); ++n) {
                    zfd_slot rs = 0;
                    const void *rd = nullptr;
                    size_t len = 0;
                    uint64_t seq = 0;
                    s = i == 0 ? zfd_take(readers[i], &rs, &rd, &len, &seq)
                               : zfd_take_latest(readers[i], &rs, &rd, &len, &seq);
                    if (s != ZFD_OK) {
                        w.fail(30 + i, s);
                        continue;
                    }
                    const uint64_t want = i == 0 ? expect_value[i] + n : expect_value[i] + 1;
                    uint64_t got = 0;
                    if (len == sizeof got) std::memcpy(&got, rd, sizeof got);
                    if (len != sizeof got || got != want || (have_seq[i] && seq <= last_seq[i]))
                        w.r->bad_data++;
                    last_seq[i] = seq;
                    have_seq[i] = true;
                    sink = sink + got;
                    s = zfd_release(readers[i], rs);
                    if (s != ZFD_OK) w.fail(32 + i, s);
                }
                expect_value[i] += 2;
            }
            sink = sink + zfd_notify_generation(owner);
            return;
        }
        // Readers: one sample in place, one copied.
        for (int i = 0; i < kReaders; ++i) {
            zfd_slot rs = 0;
            const void *rd = nullptr;
            size_t len = 0;
            uint64_t seq = 0;
            s = zfd_take(readers[i], &rs, &rd, &len, &seq);
            if (s != ZFD_OK) {
                w.fail(20 + i, s);
            } else {
                uint64_t got = 0;
                if (len == sizeof got) std::memcpy(&got, rd, sizeof got);
                if (len != sizeof got || got != expect_value[i] ||
                    (have_seq[i] && seq != last_seq[i] + 1))
                    w.r->bad_data++;
                last_seq[i] = seq;
                have_seq[i] = true;
                sink = sink + got;
                s = zfd_release(readers[i], rs);
                if (s != ZFD_OK) w.fail(22 + i, s);
            }
            ++expect_value[i];
            uint64_t buf[kSlotBytes / sizeof(uint64_t)];
            len = 0;
            s = zfd_take_copy(readers[i], buf, sizeof buf, &len, &seq);
            if (s != ZFD_OK) {
                w.fail(24 + i, s);
            } else {
                if (len != sizeof(uint64_t) || buf[0] != expect_value[i] ||
                    (have_seq[i] && seq != last_seq[i] + 1))
                    w.r->bad_data++;
                last_seq[i] = seq;
                sink = sink + buf[0];
            }
            ++expect_value[i];
        }
        sink = sink + zfd_notify_generation(owner);
    };

    SegReport warm{};
    Window ww{&warm};
    for (uint64_t c = 0; c < kWarmup; ++c) cycle(ww);
    if (warm.errors != 0 || warm.bad_data != 0) {
        *setup_status = warm.first_status;
        std::fprintf(stderr,
                     "hotpath: warm-up failed: %llu errors (first at site %d: %s), %llu bad samples\n",
                     (unsigned long long)warm.errors, warm.first_site,
                     zfd_status_str(warm.first_status), (unsigned long long)warm.bad_data);
        for (auto *r : readers) zfd_reader_close(r);
        zfd_reader_close(stalled);
        zfd_segment_close(consumer);
        zfd_segment_close(owner);
        return 4;
    }

    // ---- counted window -------------------------------------------------
    Window w{rep};
    g_allocs.store(0);
    g_frees.store(0);
    syscall(SYS_getppid, kMarkBegin, (long)which);
    g_counting.store(true, std::memory_order_seq_cst);
    uint64_t c = 0;
    for (; c < kCycles; ++c) cycle(w);
    g_counting.store(false, std::memory_order_seq_cst);
    syscall(SYS_getppid, kMarkEnd, (long)which);
    // ---------------------------------------------------------------------
    rep->cycles = c;
    rep->allocs = g_allocs.load();
    rep->frees = g_frees.load();

    for (auto *r : readers) zfd_reader_close(r);
    zfd_reader_close(stalled);
    zfd_segment_close(consumer);
    zfd_segment_close(owner); // the owner's close unlinks the name
    return 0;
}

[[noreturn]] void child_main(int report_fd, const char *seg_name) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
        std::perror("hotpath: PTRACE_TRACEME");
        _exit(3);
    }
    raise(SIGSTOP); // the parent sets its options, then resumes us

    ChildReport rep{};
    rep.magic = kReportMagic;

    // Sanity: the interposed allocator sees operator new in libstdc++ and
    // malloc inside libc, so it also sees the shared library.
    g_allocs.store(0);
    g_counting.store(true);
    {
        // Called through volatile pointers so the compiler cannot elide them.
        void *(*volatile op_new)(std::size_t) = static_cast<void *(*)(std::size_t)>(&::operator new);
        void (*volatile op_delete)(void *) = static_cast<void (*)(void *)>(&::operator delete);
        char *(*volatile dup)(const char *) = &strdup;
        void (*volatile release)(void *) = &free;
        op_delete(op_new(48));   // libstdc++ -> malloc
        release(dup("hotpath")); // libc-internal -> malloc
        release(dup("hotpath"));
    }
    g_counting.store(false);
    rep.interpose_ok = g_allocs.load() >= 3 ? 1 : 0;

    const char *names[kSegments] = {nullptr, seg_name, seg_name};
    for (int i = 0; i < kSegments && rep.setup_failed == 0; ++i) {
        int step = run_segment(i, names[i], &rep.seg[i], &rep.setup_status);
        if (step != 0) rep.setup_failed = i * 100 + step;
    }
    zfd_segment_unlink(seg_name, nullptr); // normally already gone: NOT_FOUND

    ssize_t n = write(report_fd, &rep, sizeof rep);
    close(report_fd);
    _exit(n == (ssize_t)sizeof rep ? 0 : 4);
}

// ---------------------------------------------------------------------------
// Parent
// ---------------------------------------------------------------------------

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_timed_out = 0;

void on_alarm(int) {
    g_timed_out = 1;
    if (g_child > 0) kill(g_child, SIGKILL);
}

const char *syscall_name(long nr) {
    switch (nr) {
    case SYS_read: return "read";
    case SYS_write: return "write";
    case SYS_openat: return "openat";
    case SYS_close: return "close";
    case SYS_fstat: return "fstat";
    case SYS_mmap: return "mmap";
    case SYS_munmap: return "munmap";
    case SYS_mprotect: return "mprotect";
    case SYS_brk: return "brk";
    case SYS_madvise: return "madvise";
    case SYS_futex: return "futex";
    case SYS_getpid: return "getpid";
    case SYS_gettid: return "gettid";
    case SYS_getppid: return "getppid";
    case SYS_flock: return "flock";
    case SYS_fcntl: return "fcntl";
    case SYS_clock_gettime: return "clock_gettime";
    case SYS_clock_nanosleep: return "clock_nanosleep";
    case SYS_nanosleep: return "nanosleep";
    case SYS_sched_yield: return "sched_yield";
    case SYS_getrandom: return "getrandom";
    case SYS_kill: return "kill";
    case SYS_tgkill: return "tgkill";
    case SYS_pidfd_open: return "pidfd_open";
    case SYS_pidfd_send_signal: return "pidfd_send_signal";
    case SYS_rt_sigprocmask: return "rt_sigprocmask";
    case SYS_getcpu: return "getcpu";
    case SYS_membarrier: return "membarrier";
    default: return "?";
    }
}

} // namespace

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    char seg_name[64];
    std::snprintf(seg_name, sizeof seg_name, "hotpath-%d", (int)getpid());
    zfd_segment_unlink(seg_name, nullptr);

    int fds[2];
    if (pipe(fds) != 0) {
        std::perror("hotpath: pipe");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        std::perror("hotpath: fork");
        return 1;
    }
    if (child == 0) {
        close(fds[0]);
        child_main(fds[1], seg_name);
    }
    close(fds[1]);
    g_child = child;

    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, nullptr);
    alarm(kTimeoutS);

    // Per segment window: syscall numbers seen and how often.
    std::map<long, uint64_t> seen[kSegments];
    uint64_t window_syscalls[kSegments] = {};
    bool window_seen[kSegments] = {};
    int window = -1; // segment index while a window is open
    std::map<pid_t, bool> in_syscall; // per thread: true between entry and exit
    bool first_stop = true;
    int exit_status = -1;
    bool trace_error = false;

    for (;;) {
        int status = 0;
        pid_t tid = waitpid(-1, &status, __WALL);
        if (tid < 0) {
            if (errno == EINTR) continue;
            if (errno == ECHILD) break;
            std::perror("hotpath: waitpid");
            trace_error = true;
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            in_syscall.erase(tid);
            if (tid == child) {
                exit_status = status;
                break;
            }
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status);
        int deliver = 0;
        if (first_stop && tid == child && sig == SIGSTOP) {
            first_stop = false;
            if (ptrace(PTRACE_SETOPTIONS, child, nullptr,
                       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
                                      PTRACE_O_TRACECLONE)) != 0) {
                std::perror("hotpath: PTRACE_SETOPTIONS");
                trace_error = true;
                kill(child, SIGKILL);
            }
        } else if (sig == (SIGTRAP | 0x80)) {
            bool &inside = in_syscall[tid];
            inside = !inside;
            if (inside) { // syscall-entry stop
                user_regs_struct regs{};
                if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) {
                    std::perror("hotpath: PTRACE_GETREGS");
                    trace_error = true;
                } else {
                    long nr = (long)regs.orig_rax;
                    long a0 = (long)regs.rdi;
                    long a1 = (long)regs.rsi;
                    if (nr == SYS_getppid && a0 == kMarkBegin && a1 >= 0 && a1 < kSegments) {
                        window = (int)a1;
                        window_seen[window] = true;
                    } else if (nr == SYS_getppid && a0 == kMarkEnd) {
                        window = -1;
                    } else if (window >= 0) {
                        window_syscalls[window]++;
                        seen[window][nr]++;
                    }
                }
            }
        } else if (sig == SIGTRAP && (status >> 16) != 0) {
            // PTRACE_EVENT_CLONE etc.: a new thread is traced automatically.
        } else if (sig == SIGSTOP && tid != child) {
            // Initial stop of a new thread: suppress.
        } else {
            deliver = sig; // a real signal: pass it on
        }
        if (ptrace(PTRACE_SYSCALL, tid, nullptr, (void *)(long)deliver) != 0 && errno != ESRCH) {
            std::perror("hotpath: PTRACE_SYSCALL");
            trace_error = true;
        }
    }
    alarm(0);

    ChildReport rep{};
    ssize_t got = 0;
    while (got < (ssize_t)sizeof rep) {
        ssize_t n = read(fds[0], reinterpret_cast<char *>(&rep) + got, sizeof rep - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += n;
    }
    close(fds[0]);
    zfd_segment_unlink(seg_name, nullptr); // in case the child died early

    bool ok = true;
    if (g_timed_out) {
        std::printf("FAIL: child did not finish within %u s and was killed\n", kTimeoutS);
        ok = false;
    }
    if (trace_error) ok = false;
    if (exit_status == -1 || !WIFEXITED(exit_status) || WEXITSTATUS(exit_status) != 0) {
        if (exit_status != -1 && WIFSIGNALED(exit_status))
            std::printf("FAIL: child killed by signal %d\n", WTERMSIG(exit_status));
        else if (exit_status != -1)
            std::printf("FAIL: child exit status %d\n", WEXITSTATUS(exit_status));
        ok = false;
    }
    if (got != (ssize_t)sizeof rep || rep.magic != kReportMagic) {
        std::printf("FAIL: no report from the child\n");
        return 1;
    }
    if (!rep.interpose_ok) {
        std::printf("FAIL: malloc interposition does not see operator new / libc allocations\n");
        ok = false;
    }
    if (rep.setup_failed != 0) {
        std::printf("FAIL: setup of the %s segment failed at step %d: %s\n",
                    kSegName[rep.setup_failed / 100], rep.setup_failed % 100,
                    zfd_status_str(rep.setup_status));
        return 1;
    }

    uint64_t total_allocs = 0, total_frees = 0, total_sys = 0;
    for (int i = 0; i < kSegments; ++i) {
        const SegReport &s = rep.seg[i];
        std::printf("  %-9s segment: %llu cycles: %llu heap allocations, %llu frees, "
                    "%llu system calls, %llu API errors, %llu bad samples\n",
                    kSegName[i], (unsigned long long)s.cycles, (unsigned long long)s.allocs,
                    (unsigned long long)s.frees, (unsigned long long)window_syscalls[i],
                    (unsigned long long)s.errors, (unsigned long long)s.bad_data);
        if (!window_seen[i]) {
            std::printf("FAIL: %s segment: the start marker system call was never seen\n",
                        kSegName[i]);
            ok = false;
        }
        for (auto &[nr, count] : seen[i])
            std::printf("    system call %ld (%s) x %llu\n", nr, syscall_name(nr),
                        (unsigned long long)count);
        if (s.errors != 0) {
            std::printf("FAIL: %s segment: %llu API calls failed, first at site %d: %s\n",
                        kSegName[i], (unsigned long long)s.errors, s.first_site,
                        zfd_status_str(s.first_status));
            ok = false;
        }
        if (s.bad_data != 0 || s.cycles != kCycles) ok = false;
        total_allocs += s.allocs;
        total_frees += s.frees;
        total_sys += window_syscalls[i];
    }
    std::printf("hot path: %llu cycles x %d segments: %llu heap allocations, %llu frees, "
                "%llu system calls\n",
                (unsigned long long)kCycles, kSegments, (unsigned long long)total_allocs,
                (unsigned long long)total_frees, (unsigned long long)total_sys);
    if (total_allocs != 0 || total_frees != 0 || total_sys != 0) ok = false;
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
