// iceoryx.cpp — the spin 64 B ping-pong over iceoryx 2.x's C binding (only
// when built with it, -Diceoryx), against a private iox-roudi that main starts
// for the spin block and stops (SIGTERM) after it.
//
// Loan a 64 B chunk, write the 8-byte sequence number, publish; the peer
// busy-polls take, reads, releases. Same loop, timestamps and pinning as the
// library's spin rows (ping_pong of harness.hpp).
#include "harness.hpp"
#include "measure.hpp"
#include "zfd_ops.hpp"

#if defined(ZFD_BENCH_HAVE_ICEORYX)
// The binding's headers declare C functions without extern "C" of their own
// when compiled as C++ (its own .cpp files wrap them); so do we.
extern "C" {
#include <iceoryx_binding_c/enums.h>
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/types.h>
}
#include <fcntl.h>
#include <sys/file.h>
#endif

#include <fmt/format.h>

#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace zfd_bench {

// ---------------------------------------------------------------------------
// A private iox-roudi for the iceoryx rows
// ---------------------------------------------------------------------------

namespace {

// Our iox-roudi (-1: none started by us). Stopped by stop_roudi() after the
// block that uses it, and on every other exit path: interrupted(), atexit()
// (std::exit), and PR_SET_PDEATHSIG=SIGTERM in the daemon if this process dies.
pid_t g_roudi_pid = -1;
int g_roudi_log = -1;          // RouDi's stdout+stderr (a memfd), kept for error messages
std::string g_roudi_exit;      // how our RouDi ended (for the report)

// What a RouDi leaves when it does not shut down cleanly: its shared memory
// (iceoryx_mgmt and the payload segment named after the user), its socket and
// lock files under /tmp.
std::vector<std::string> roudi_files() {
    std::vector<std::string> f = {"/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"};
    if (const passwd* pw = getpwuid(geteuid())) f.push_back("/dev/shm/" + std::string(pw->pw_name));
    return f;
}

// Only called for a RouDi this process started.
void remove_roudi_files() {
    for (const auto& f : roudi_files()) unlink(f.c_str());
}

// One zfd-bench's iceoryx block at a time on this machine (there is one RouDi
// per machine, and a run stops the RouDi it started): an abstract unix socket
// name, bound while the block runs. The kernel releases it when the process
// exits, however it exits; nothing is left in the file system.
int g_block_lock = -1;

#if defined(ZFD_BENCH_HAVE_ICEORYX)
constexpr char kBlockLockName[] = "zfd-bench-iceoryx-block";
constexpr double kBlockLockWaitS = 60;

std::string lock_iceoryx_block() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fmt::format("socket(AF_UNIX): {}", std::strerror(errno));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path + 1, kBlockLockName, sizeof kBlockLockName - 1);  // sun_path[0] = 0: abstract
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof kBlockLockName);
    const Deadline dl(kBlockLockWaitS);
    bool said = false;
    while (bind(fd, reinterpret_cast<const sockaddr*>(&a), len) != 0) {
        if (errno != EADDRINUSE) {
            std::string why = fmt::format("bind(@{}): {}", kBlockLockName, std::strerror(errno));
            close(fd);
            return why;
        }
        if (dl.expired()) {
            close(fd);
            return fmt::format("another zfd-bench's iceoryx block did not end within {:.0f} s", kBlockLockWaitS);
        }
        if (!said) progress("waiting for another zfd-bench's iceoryx block to end");
        said = true;
        int sig = wait_signal(50'000'000);
        if (is_stop_signal(sig)) {
            close(fd);
            interrupted({}, sig);
        }
    }
    g_block_lock = fd;
    return "";
}
#endif

}  // namespace

void stop_roudi() {
    if (g_roudi_pid <= 0 || getpid() != g.orchestrator) return;  // children never stop it
    const pid_t pid = g_roudi_pid;
    g_roudi_pid = -1;
    // SIGTERM: RouDi shuts down cleanly and removes its /dev/shm objects
    // (iceoryx_mgmt, <user>) and its /tmp socket and lock file.
    kill(pid, SIGTERM);
    const int64_t until = now_ns() + 20'000'000'000;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            g_roudi_exit = WIFEXITED(st) ? fmt::format("exit {}", WEXITSTATUS(st)) : fmt::format("signal {}", WTERMSIG(st));
            // RouDi 2.0.3 aborts in its SIGTERM shutdown when a registered client
            // died without deregistering (kill(2) -> ESRCH -> assert), leaving its
            // files behind. It was our private RouDi, so they are ours to remove.
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) remove_roudi_files();
            return;
        }
        if (r < 0 && errno != EINTR) return;
        if (now_ns() >= until) break;
        timespec ts{0, 10'000'000};
        nanosleep(&ts, nullptr);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    g_roudi_exit = "SIGKILL after 20 s";
    remove_roudi_files();
    std::fprintf(stderr, "zfd-bench: iox-roudi did not stop within 20 s of SIGTERM; killed\n");
}

// Everything our RouDi printed so far (ANSI colour codes removed).
std::string roudi_output() {
    std::string out, clean;
    if (g_roudi_log < 0) return out;
    char buf[4096];
    off_t off = 0;
    ssize_t n;
    while ((n = pread(g_roudi_log, buf, sizeof buf, off)) > 0) {
        out.append(buf, static_cast<size_t>(n));
        off += n;
    }
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\x1b') {
            while (i < out.size() && out[i] != 'm') ++i;
            continue;
        }
        clean += out[i];
    }
    return clean;
}

std::string roudi_exit() { return g_roudi_exit; }

#if defined(ZFD_BENCH_HAVE_ICEORYX)
std::string start_roudi(bool* own);
#endif

std::string begin_iceoryx(bool* own) {
    *own = false;
#if defined(ZFD_BENCH_HAVE_ICEORYX)
    std::string why = lock_iceoryx_block();
    if (!why.empty()) return why;
    why = start_roudi(own);
    if (!why.empty()) end_iceoryx();
    return why;
#else
    return "zfd-bench was built without iceoryx's C binding";
#endif
}

void end_iceoryx() {
    if (getpid() != g.orchestrator) return;
    const bool ours = g_roudi_pid > 0;
    stop_roudi();
    if (ours) {
        std::string left;
        for (const auto& f : roudi_files())
            if (access(f.c_str(), F_OK) == 0) left += (left.empty() ? "" : ", ") + f;
        if (!left.empty()) {
            g_warnings.push_back(fmt::format("after our iox-roudi stopped ({}), {} remained (removed); RouDi's "
                                             "output:\n{}",
                                             g_roudi_exit, left, roudi_output()));
            remove_roudi_files();
        }
    }
    if (g_block_lock >= 0) close(g_block_lock);
    g_block_lock = -1;
}

bool iceoryx_built() {
#if defined(ZFD_BENCH_HAVE_ICEORYX)
    return true;
#else
    return false;
#endif
}

#if defined(ZFD_BENCH_HAVE_ICEORYX)
namespace {

std::string find_in_path(const std::string& exe) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "";
    dirs += ":/usr/bin:/usr/local/bin";
    size_t pos = 0;
    while (pos <= dirs.size()) {
        size_t end = dirs.find(':', pos);
        if (end == std::string::npos) end = dirs.size();
        std::string d = dirs.substr(pos, end - pos);
        if (!d.empty()) {
            std::string f = d + "/" + exe;
            if (access(f.c_str(), X_OK) == 0) return f;
        }
        pos = end + 1;
    }
    return {};
}

}  // namespace

// Start a private iox-roudi unless one is running already (iceoryx 2.x holds
// an flock on /tmp/iox-unique-roudi.lock while RouDi runs). Returns "" when a
// RouDi is ready (ours or an existing one), else why not. *own: ours.
std::string start_roudi(bool* own) {
    *own = false;
    {
        int fd = open("/tmp/iox-unique-roudi.lock", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
            if (!held) flock(fd, LOCK_UN);
            close(fd);
            if (held) return "";  // someone else's RouDi: use it, leave it running
        }
    }
    // ZFD_BENCH_IOX_ROUDI: path of the daemon to use instead of iox-roudi from PATH.
    const char* override_bin = std::getenv("ZFD_BENCH_IOX_ROUDI");
    const std::string bin = override_bin && *override_bin ? std::string(override_bin) : find_in_path("iox-roudi");
    if (bin.empty()) return "iox-roudi not found in PATH or /usr/bin (Debian package 'iceoryx')";
    if (access(bin.c_str(), X_OK) != 0) return fmt::format("{}: {}", bin, std::strerror(errno));
    // RouDi's output goes to an anonymous memfd: read for readiness and errors.
    int log = static_cast<int>(syscall(SYS_memfd_create, "zfd-bench-iox-roudi", 0));
    if (log < 0) return fmt::format("memfd_create: {}", std::strerror(errno));
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(log);
        return fmt::format("fork: {}", std::strerror(errno));
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);  // the mask survives execve
        setpgid(0, 0);  // not in the terminal's group: we stop it, after its clients
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != g.orchestrator) std::_Exit(99);
        // Keep the daemon off the two measuring cpus when there are others.
        cpu_set_t set;
        if (g.pinned && sched_getaffinity(0, sizeof set, &set) == 0) {
            CPU_CLR(g.cpu_a, &set);
            CPU_CLR(g.cpu_b, &set);
            if (CPU_COUNT(&set) > 0) (void)sched_setaffinity(0, sizeof set, &set);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(log, 1);
        dup2(log, 2);
        execl(bin.c_str(), bin.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    g_roudi_pid = pid;
    auto output = [&] {
        std::string out;
        char buf[4096];
        off_t off = 0;
        ssize_t n;
        while ((n = pread(log, buf, sizeof buf, off)) > 0) {
            out.append(buf, static_cast<size_t>(n));
            off += n;
        }
        return out;
    };
    auto last_line = [](std::string o) {
        std::string clean;
        for (size_t i = 0; i < o.size(); ++i) {  // strip ANSI colour codes
            if (o[i] == '\x1b') {
                while (i < o.size() && o[i] != 'm') ++i;
                continue;
            }
            clean += o[i];
        }
        while (!clean.empty() && (clean.back() == '\n' || clean.back() == ' ')) clean.pop_back();
        size_t nl = clean.rfind('\n');
        return nl == std::string::npos ? clean : clean.substr(nl + 1);
    };
    const int64_t until = now_ns() + 15'000'000'000;
    std::string why;
    for (;;) {
        std::string o = output();
        if (o.find("RouDi is ready for clients") != std::string::npos) break;
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            g_roudi_pid = -1;
            std::string last = last_line(o);
            why = fmt::format("iox-roudi ({}) exited ({}) before it was ready: {}", bin,
                              WIFEXITED(st) ? fmt::format("exit {}", WEXITSTATUS(st))
                                            : fmt::format("signal {}", WTERMSIG(st)),
                              last.empty() ? "no output" : last);
            break;
        }
        if (now_ns() >= until) {
            stop_roudi();
            why = fmt::format("iox-roudi ({}) not ready within 15 s: {}", bin, last_line(o));
            break;
        }
        int sig = wait_signal(10'000'000);
        if (is_stop_signal(sig)) {
            close(log);
            interrupted({}, sig);
        }
    }
    if (why.empty()) {
        *own = true;
        g_roudi_log = log;
    } else {
        close(log);
    }
    return why;
}


// ---------------------------------------------------------------------------
// iceoryx ping-pong latency (the spin 64 B row)
// ---------------------------------------------------------------------------

namespace {

int g_iox_counter = 0;

// The runtime name of one side. The runtime makes a unix socket and a lock
// file under /tmp by that name, and removes them when its process exits
// through std::exit; for a killed side, iox_pingpong removes them.
std::string runtime_name(const std::string& instance, int role) {
    return fmt::format("zfd-bench-{}-{}-{}", g.orchestrator, instance, role);
}

// Each side: runtime, publisher on its own topic, subscriber on the peer's;
// open() returns once both are connected.
struct IoxSession {
    const Peer& p;
    std::string service, instance;
    iox_pub_storage_t pub_storage{};
    iox_sub_storage_t sub_storage{};
    iox_pub_t pub = nullptr;
    iox_sub_t sub = nullptr;

    int open() {
        const std::string rt = runtime_name(instance, p.role);
        iox_set_loglevel(Iceoryx_LogLevel_Warn);
        iox_runtime_init(rt.c_str());  // waits for RouDi (the run's timeout bounds it)
        iox_pub_options_t po;
        iox_pub_options_init(&po);
        po.historyCapacity = 0;
        pub = iox_pub_init(&pub_storage, service.c_str(), instance.c_str(), p.role == 0 ? "a2b" : "b2a", &po);
        iox_sub_options_t so;
        iox_sub_options_init(&so);
        so.queueCapacity = kIoxQueueCapacity;
        so.historyRequest = 0;
        sub = iox_sub_init(&sub_storage, service.c_str(), instance.c_str(), p.role == 0 ? "b2a" : "a2b", &so);
        if (pub == nullptr || sub == nullptr) return p.fail("iox_pub_init/iox_sub_init failed");
        // RouDi connects publishers and subscribers asynchronously.
        while (!(iox_sub_get_subscription_state(sub) == SubscribeState_SUBSCRIBED && iox_pub_has_subscribers(pub))) {
            if (p.dl.expired())
                return p.fail("iceoryx: not connected before the deadline (subscription state %d)",
                              static_cast<int>(iox_sub_get_subscription_state(sub)));
            timespec t{0, 1'000'000};
            nanosleep(&t, nullptr);
        }
        return 0;
    }
    int send(uint64_t v) {
        void* chunk = nullptr;
        auto ar = iox_pub_loan_chunk(pub, &chunk, static_cast<uint32_t>(kIoxPayload));
        if (ar != AllocationResult_SUCCESS || chunk == nullptr)
            return p.fail("iox_pub_loan_chunk: result %d (sample %lu)", static_cast<int>(ar), (unsigned long)v);
        fill_sample(chunk, kIoxPayload, v, false);
        iox_pub_publish_chunk(pub, chunk);
        return 0;
    }
    int recv(uint64_t expect) {
        const void* chunk = nullptr;
        uint32_t spins = 0;
        auto r = iox_sub_take_chunk(sub, &chunk);
        while (r == ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
            if ((++spins & 0xfff) == 0 && p.dl.expired())
                return p.fail("no sample %lu before the deadline (spinning on iox_sub_take_chunk)",
                              (unsigned long)expect);
            spin_hint();
            r = iox_sub_take_chunk(sub, &chunk);
        }
        if (r != ChunkReceiveResult_SUCCESS || chunk == nullptr)
            return p.fail("iox_sub_take_chunk: result %d", static_cast<int>(r));
        if (!check_sample(chunk, kIoxPayload, expect, false)) {
            uint64_t x;
            std::memcpy(&x, chunk, 8);
            return p.fail("wrong data: expected sample %lu, first word %lu", (unsigned long)expect, (unsigned long)x);
        }
        iox_sub_release_chunk(sub, chunk);
        return 0;
    }
    int close() {
        iox_sub_deinit(sub);
        iox_pub_deinit(pub);
        return 0;
    }
};

}  // namespace

// Two processes, two topics (service zfd-bench-<orchestrator>, instance
// run<n>, events a2b / b2a).
Sampled iox_pingpong(uint64_t warm, uint64_t iters) {
    PinnedRun run;
    // std::exit, not _Exit: the iceoryx runtime deregisters from RouDi in its
    // static destructor (else RouDi 2.0.3 aborts at shutdown trying to SIGTERM
    // the vanished process). Functions registered with atexit by this program
    // are no-ops in children.
    run.exit_through_std_exit();
    const std::string service = fmt::format("zfd-bench-{}", g.orchestrator);
    const std::string instance = fmt::format("run{}", g_iox_counter++);
    Sampled out = ping_pong(run, warm, iters, [=](const Peer& p) { return IoxSession{p, service, instance}; });
    for (int role = 0; role < 2; ++role) {
        const std::string f = "/tmp/" + runtime_name(instance, role);
        bool left = false;
        for (const std::string& e : {f, f + ".lock"}) left = unlink(e.c_str()) == 0 || left;
        if (left && out.ok)
            g_warnings.push_back(fmt::format("iceoryx: after a clean exit, the runtime left {}[.lock]; removed", f));
    }
    return out;
}

#else  // !ZFD_BENCH_HAVE_ICEORYX

Sampled iox_pingpong(uint64_t, uint64_t) { return sample_error("zfd-bench was built without iceoryx's C binding"); }

#endif

}  // namespace zfd_bench
