// probe_race.cpp — a race found by the writer-kill torture, reproduced
// deterministically: zfd_segment_open opens the object twice (the mapping,
// then a second open file description for liveness probes). If a
// replacement writer (ZFD_SEGMENT_REPLACE_STALE) swaps the name between the
// two, a probe opened by NAME would reach the new object: the reader would
// map the OLD dead segment, see the NEW owner's lock, believe the dead owner
// lives and never get ZFD_E_PEER_GONE.
//
// This program interposes shm_open and open (for the library too) and, on
// the reader's second open of the object, first lets a replacement writer
// take the name. Correct behaviour: zfd_segment_open reports
// ZFD_E_PEER_GONE, or the open succeeds and zfd_reader_open /
// zfd_reader_wait report ZFD_E_PEER_GONE with owner_alive 0.
// Exit 0 = correct, 1 = the race reproduced, 2 = setup failed.
#include <zerodds/flatdata.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

std::string g_name;         // segment name
std::string g_object;       // "/zfd.<name>" as passed to shm_open
bool g_armed = false;       // interpose the reader's opens
int g_opens = 0;            // opens of g_object while armed
pid_t g_replacer = -1;      // the live replacement writer

zfd_error make_error() {
    zfd_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

zfd_segment* create(uint32_t flags) {
    zfd_segment_options o;
    zfd_segment_options_init(&o);
    o.slot_count = 4;
    o.slot_capacity = 64;
    o.flags = flags;
    zfd_error e = make_error();
    zfd_segment* s = nullptr;
    const int32_t rc = zfd_segment_create(g_name.c_str(), &o, &s, &e);
    if (rc != ZFD_OK) std::fprintf(stderr, "create: %d %s\n", rc, e.message);
    return rc == ZFD_OK ? s : nullptr;
}

// A child that creates the segment (replacing a stale one) and then either
// dies (SIGKILL: a dead owner) or stays alive until killed. Returns its pid
// once the segment is ready.
pid_t spawn_owner(bool die) {
    int p[2];
    if (::pipe(p) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        g_armed = false;
        ::close(p[0]);
        zfd_segment* s = create(ZFD_SEGMENT_REPLACE_STALE);
        if (s == nullptr) ::_exit(2);
        const char one = 1;
        zfd_publish(s, &one, 1, nullptr);
        if (::write(p[1], &one, 1) != 1) ::_exit(2);
        if (die) ::raise(SIGKILL);
        for (;;) ::pause();
    }
    ::close(p[1]);
    char c = 0;
    const bool ok = ::read(p[0], &c, 1) == 1;
    ::close(p[0]);
    if (!ok) {
        ::waitpid(pid, nullptr, 0);
        return -1;
    }
    return pid;
}

}  // namespace

// The replacement, at the reader's second open of the object: a second
// shm_open of the name, or the reopen of its descriptor through
// /proc/self/fd (which must reach the mapped object, whatever the name
// names by then).
void maybe_replace(bool second_open) {
    if (g_armed && second_open) {
        g_armed = false;
        g_replacer = spawn_owner(false);
    }
}

// Interposes libc's shm_open and open for this process (and the library it
// loads).
extern "C" int shm_open(const char* name, int oflag, mode_t mode) {
    using Fn = int (*)(const char*, int, mode_t);
    static Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "shm_open"));
    if (g_armed && g_object == name) maybe_replace(++g_opens == 2);
    return real(name, oflag, mode);
}

// With _FILE_OFFSET_BITS=64 (Meson's default, the library's too) this
// definition's symbol is open64, the one the library calls.
extern "C" int open(const char* path, int flags, ...) {
    using Fn = int (*)(const char*, int, ...);
    static Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "open64"));
    mode_t mode = 0;
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    if (g_armed && std::strncmp(path, "/proc/self/fd/", 14) == 0) maybe_replace(++g_opens == 2);
    return real(path, flags, mode);
}

int main() {
    g_name = "torture-" + std::to_string(::getpid()) + "-race";
    g_object = "/zfd." + g_name;
    int verdict = 2;
    std::printf("probe race: reader opens %s while a replacement writer swaps the name between\n"
                "the reader's two opens of the object (mapping, then liveness-probe descriptor)\n",
                g_name.c_str());
    const pid_t dead = spawn_owner(true);  // segment X, owner dead
    if (dead > 0) ::waitpid(dead, nullptr, 0);
    zfd_segment* seg = nullptr;
    zfd_reader* rd = nullptr;
    if (dead > 0) {
        g_armed = true;
        zfd_error e = make_error();
        const int32_t orc = zfd_segment_open(g_name.c_str(), nullptr, 0, &seg, &e);
        g_armed = false;
        std::printf("  zfd_segment_open: %d %s (opens seen: %d, replacer pid %d)\n", orc, e.message,
                    g_opens, static_cast<int>(g_replacer));
        if (orc == ZFD_E_PEER_GONE && g_replacer > 0) {
            verdict = 0;
            std::printf("probe race: PASSED (open saw the name replaced and reported the owner gone)\n");
        } else if (orc == ZFD_OK && g_replacer > 0) {
            zfd_segment_info info;
            std::memset(&info, 0, sizeof info);
            info.struct_size = sizeof info;
            zfd_segment_get_info(seg, &info);
            std::printf("  mapped segment: owner_pid %d (dead pid %d), owner_alive %u\n", info.owner_pid,
                        static_cast<int>(dead), info.owner_alive);
            int32_t rc = zfd_reader_open(seg, 0, &rd);
            std::printf("  zfd_reader_open: %d (%s)\n", rc, zfd_status_str(rc));
            if (rc == ZFD_OK) {
                for (int i = 0; i < 10 && rc != ZFD_E_PEER_GONE; ++i) rc = zfd_reader_wait(rd, 100'000'000);
                std::printf("  zfd_reader_wait for 1 s: %d (%s)\n", rc, zfd_status_str(rc));
            }
            const bool correct = rc == ZFD_E_PEER_GONE && info.owner_alive == 0;
            verdict = correct ? 0 : 1;
            std::printf("probe race: %s\n",
                        correct ? "PASSED (the dead owner is seen as gone)"
                                : "FAILED: the reader attached to the dead segment believes its owner lives "
                                  "(its probe descriptor reached the replacement, not the mapped object; "
                                  "src/region.cpp Region::open_named) and never gets "
                                  "ZFD_E_PEER_GONE while the replacement writer lives");
        }
    }
    if (rd != nullptr) zfd_reader_close(rd);
    if (seg != nullptr) zfd_segment_close(seg);
    if (g_replacer > 0) {
        ::kill(g_replacer, SIGKILL);
        ::waitpid(g_replacer, nullptr, 0);
    }
    zfd_error e = make_error();
    zfd_segment_unlink(g_name.c_str(), &e);
    if (::access(("/dev/shm" + g_object).c_str(), F_OK) == 0) {
        std::printf("probe race: /dev/shm%s left behind\n", g_object.c_str());
        verdict = verdict == 0 ? 1 : verdict;
    }
    std::fflush(stdout);
    return verdict;
}
