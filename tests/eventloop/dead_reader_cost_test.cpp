// dead_reader_cost_test: a reader killed while its event-loop descriptor was
// armed costs its writer at most one system call, once (the datagram the
// next commit sends is refused), and nothing after the reap.
//
// A traced child is the writer (owner of a named segment). It forks a reader
// process that makes its descriptor, arms it (a take that finds nothing)
// and is SIGKILLed. Then the writer runs two counted windows between marker
// system calls, while this process (the parent) counts every system call
// the writer makes with PTRACE_SYSCALL (as tests/hotpath does):
//   window 0: commits until the dead reader's pins fill the segment
//             (slot_count commits): one sendto (refused), and one socket
//             (the process's sending socket, made on its first wake-up);
//   window 1: after zfd_reap_dead_readers, 100000 commits: 0 system calls.
// Only the public header and the shared library are used.
#include <zerodds/flatdata.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr long kMarkBegin = 0x7a66642d62656721L;  // "zfd-beg!"
constexpr long kMarkEnd = 0x7a66642d656e6421L;    // "zfd-end!"
constexpr uint32_t kSlots = 64;
constexpr uint64_t kWindow1 = 100000;

struct Report {
    int32_t setup_failed;
    uint64_t committed0;   // commits in window 0
    int32_t stop0;         // the code that ended window 0
    uint32_t reaped;
    uint64_t committed1;   // commits in window 1
};

[[noreturn]] void writer_main(int report_fd, const char* name) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(3);
    raise(SIGSTOP);
    Report rep{};
    zfd_segment_options o;
    zfd_segment_options_init(&o);
    o.slot_count = kSlots;
    o.slot_capacity = 64;
    o.flags = ZFD_SEGMENT_REPLACE_STALE;
    zfd_segment* s = nullptr;
    int ready[2];
    if (zfd_segment_create(name, &o, &s, nullptr) != ZFD_OK || pipe(ready) != 0) {
        rep.setup_failed = 1;
    } else {
        const pid_t reader = fork();  // not traced (no PTRACE_O_TRACEFORK)
        if (reader == 0) {
            zfd_segment* c = nullptr;
            zfd_reader* r = nullptr;
            int fd = -1;
            zfd_slot t;
            char ok = zfd_segment_open(name, nullptr, 0, &c, nullptr) == ZFD_OK &&
                              zfd_reader_open(c, 0, &r) == ZFD_OK && zfd_reader_fd(r, &fd) == ZFD_OK &&
                              zfd_take(r, &t, nullptr, nullptr, nullptr) == ZFD_E_NO_SAMPLE
                          ? 'a'
                          : 'x';
            (void)!write(ready[1], &ok, 1);
            pause();
            _exit(0);
        }
        char c = 0;
        if (read(ready[0], &c, 1) != 1 || c != 'a') rep.setup_failed = 2;
        kill(reader, SIGKILL);
        waitpid(reader, nullptr, 0);
        uint64_t v = 0;
        // ---- window 0: the dead reader is armed and pins what comes.
        syscall(SYS_getppid, kMarkBegin, 0L);
        int32_t rc = ZFD_OK;
        while ((rc = zfd_publish(s, &v, sizeof v, nullptr)) == ZFD_OK) ++v;
        syscall(SYS_getppid, kMarkEnd, 0L);
        rep.committed0 = v;
        rep.stop0 = rc;
        zfd_reap_dead_readers(s, &rep.reaped);
        // ---- window 1: reaped; nobody attached.
        uint64_t n = 0;
        syscall(SYS_getppid, kMarkBegin, 1L);
        for (; n < kWindow1; ++n) {
            if (zfd_publish(s, &n, sizeof n, nullptr) != ZFD_OK) break;
        }
        syscall(SYS_getppid, kMarkEnd, 1L);
        rep.committed1 = n;
        zfd_segment_close(s);
    }
    (void)!write(report_fd, &rep, sizeof rep);
    _exit(0);
}

}  // namespace

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    char name[64];
    std::snprintf(name, sizeof name, "ev-deadcost-%d", (int)getpid());
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        writer_main(fds[1], name);
    }
    close(fds[1]);
    alarm(60);
    std::map<long, uint64_t> seen[2];
    uint64_t count[2] = {0, 0};
    int window = -1;
    bool inside = false, first = true;
    for (;;) {
        int status = 0;
        const pid_t tid = waitpid(child, &status, __WALL);
        if (tid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        if (!WIFSTOPPED(status)) continue;
        const int sig = WSTOPSIG(status);
        int deliver = 0;
        if (first && sig == SIGSTOP) {
            first = false;
            ptrace(PTRACE_SETOPTIONS, child, nullptr, (void*)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
        } else if (sig == (SIGTRAP | 0x80)) {
            inside = !inside;
            if (inside) {
                user_regs_struct regs{};
                ptrace(PTRACE_GETREGS, child, nullptr, &regs);
                const long nr = (long)regs.orig_rax;
                if (nr == SYS_getppid && (long)regs.rdi == kMarkBegin && regs.rsi < 2) {
                    window = (int)regs.rsi;
                } else if (nr == SYS_getppid && (long)regs.rdi == kMarkEnd) {
                    window = -1;
                } else if (window >= 0) {
                    ++count[window];
                    ++seen[window][nr];
                }
            }
        } else if (sig != SIGTRAP) {
            deliver = sig;
        }
        ptrace(PTRACE_SYSCALL, child, nullptr, (void*)(long)deliver);
    }
    Report rep{};
    const bool got = read(fds[0], &rep, sizeof rep) == (ssize_t)sizeof rep;
    zfd_segment_unlink(name, nullptr);
    if (!got || rep.setup_failed != 0) {
        std::printf("FAIL: setup (%d)\n", got ? rep.setup_failed : -1);
        return 1;
    }
    auto list = [](const std::map<long, uint64_t>& m) {
        for (auto& [nr, n] : m) {
            const std::string what = nr == SYS_sendto ? "sendto" : nr == SYS_socket ? "socket" : std::to_string(nr);
            std::printf(" %s x%llu", what.c_str(), (unsigned long long)n);
        }
        std::printf("\n");
    };
    std::printf("dead armed reader: %llu commits until its pins filled the segment (%s): %llu system calls:",
                (unsigned long long)rep.committed0, zfd_status_str(rep.stop0), (unsigned long long)count[0]);
    list(seen[0]);
    std::printf("after the reap (%u reaped): %llu commits: %llu system calls:", rep.reaped,
                (unsigned long long)rep.committed1, (unsigned long long)count[1]);
    list(seen[1]);
    // Exactly one refused datagram (the reader was armed: 0 would mean it was
    // not); the sending socket is made on this process's first wake-up.
    const uint64_t sends = seen[0].count(SYS_sendto) ? seen[0][SYS_sendto] : 0;
    const uint64_t sockets = seen[0].count(SYS_socket) ? seen[0][SYS_socket] : 0;
    const bool ok = rep.committed0 == kSlots && rep.stop0 == ZFD_E_NO_FREE_SLOT && rep.reaped == 1 &&
                    rep.committed1 == kWindow1 && count[1] == 0 && sends == 1 && sockets <= 1 &&
                    count[0] == sends + sockets;
    std::printf("%s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
