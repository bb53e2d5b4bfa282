// eventloop_test.cpp — zfd_reader_fd and zfd_segment_fd as an event loop
// uses them (DESIGN §9): the contract in one process (threads for the race
// between arming and committing), then with real processes (fork): three
// writers into one epoll loop, an idle loop that burns no CPU, a writer
// killed, a reader killed while armed, a forked child, 64 readers armed.
//
// Only the public header and the shared library are used.
#include <zerodds/flatdata.h>

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string unique_name(const char* test, int k = 0) {
    return "ev-" + std::to_string(::getpid()) + "-" + test + "-" + std::to_string(k);
}

// Unlinks the names a test used when it ends, passed or failed (a killed
// writer cannot): /dev/shm is left empty.
struct Unlinker {
    std::vector<std::string> names;
    ~Unlinker() {
        for (const auto& n : names) zfd_segment_unlink(n.c_str(), nullptr);
    }
};

int readable(int fd, int timeout_ms = 0) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms);
}

zfd_segment* create(const std::string& name, uint32_t slots = 64, uint64_t cap = 64) {
    zfd_segment_options o;
    zfd_segment_options_init(&o);
    o.slot_count = slots;
    o.slot_capacity = cap;
    o.flags = ZFD_SEGMENT_REPLACE_STALE;
    zfd_segment* s = nullptr;
    const int32_t rc = zfd_segment_create(name.empty() ? nullptr : name.c_str(), &o, &s, nullptr);
    return rc == ZFD_OK ? s : nullptr;
}

std::string hex(const uint8_t* p, size_t n) {
    std::string s;
    char b[3];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", p[i]);
        s += b;
    }
    return s;
}

std::string instance_hex(const zfd_segment* s) {
    zfd_segment_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (zfd_segment_get_info(s, &info) != ZFD_OK) return "?";
    return hex(info.instance_id, sizeof info.instance_id);
}

// Abstract sockets of a segment instance still bound anywhere in this
// network namespace (/proc/net/unix lists them as "@name").
int sockets_of(const std::string& iid) {
    std::ifstream in("/proc/net/unix");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        if (line.find("@zfd/" + iid + "/") != std::string::npos) ++n;
    }
    return n;
}

bool shm_exists(const std::string& name) {
    struct stat st {};
    return ::stat(("/dev/shm/zfd." + name).c_str(), &st) == 0;
}

double cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Takes until the reader says something else than OK; checks each sample's
// 8-byte payload is the next expected value. Returns the last code.
int32_t drain(zfd_reader* r, uint64_t* next, uint64_t* bad) {
    for (;;) {
        zfd_slot t;
        const void* data = nullptr;
        size_t len = 0;
        const int32_t rc = zfd_take(r, &t, &data, &len, nullptr);
        if (rc != ZFD_OK) return rc;
        uint64_t v = ~0ull;
        if (len == sizeof v) std::memcpy(&v, data, sizeof v);
        if (v != *next) ++*bad;
        *next = v + 1;
        zfd_release(r, t);
    }
}

// ---------------------------------------------------------------- processes

struct Child {
    pid_t pid = -1;
    int to = -1;    // parent writes here (child's stdin side)
    int from = -1;  // parent reads here
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (to >= 0) ::close(to);
        if (from >= 0) ::close(from);
    }
    // Waits for one byte from the child (false on timeout or EOF).
    bool expect(char want, int timeout_ms = 10000) {
        pollfd p{from, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return false;
        char c = 0;
        return ::read(from, &c, 1) == 1 && c == want;
    }
    void say(char c) { ASSERT_EQ(::write(to, &c, 1), 1); }
    int wait_exit(int timeout_ms = 60000) {
        for (int waited = 0; waited < timeout_ms; waited += 10) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            ::usleep(10000);
        }
        return -1;
    }
    void kill9() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
};

// Runs body(in, out) in a forked child; body's result is the exit code.
void spawn(Child* c, const std::function<int(int in, int out)>& body) {
    int down[2], up[2];
    ASSERT_EQ(::pipe2(down, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(up, O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(down[1]);
        ::close(up[0]);
        ::alarm(120);  // never outlive a broken test
        int rc = 99;
        try {
            rc = body(down[0], up[1]);
        } catch (...) {
        }
        std::_Exit(rc);
    }
    ::close(down[0]);
    ::close(up[1]);
    c->pid = pid;
    c->to = down[1];
    c->from = up[0];
}

void tell(int fd, char c) { (void)!::write(fd, &c, 1); }
bool hear(int fd, char want, int timeout_ms = 20000) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    char c = 0;
    return ::read(fd, &c, 1) == 1 && c == want;
}

// A writer process: creates `name`, says 'c', waits for 'g', publishes n
// samples (payload: 0, 1, 2, ... as uint64), waiting for space on its
// segment descriptor under backpressure, then closes (readers see
// PEER_GONE after the last sample). Exit 0, or which step failed.
int writer_body(const std::string& name, uint64_t n, uint32_t slots, int in, int out) {
    zfd_segment* s = create(name, slots, 64);
    if (s == nullptr) return 2;
    int sfd = -1;
    if (zfd_segment_fd(s, &sfd) != ZFD_OK) return 3;
    tell(out, 'c');
    if (!hear(in, 'g')) return 4;
    for (uint64_t i = 0; i < n;) {
        const int32_t rc = zfd_publish(s, &i, sizeof i, nullptr);
        if (rc == ZFD_OK) {
            ++i;
        } else if (rc == ZFD_E_NO_FREE_SLOT) {
            // Armed by the failed publish: a release makes it readable.
            if (readable(sfd, 10000) != 1) return 5;  // a lost wake-up
        } else {
            return 6;
        }
    }
    zfd_segment_close(s);
    return 0;
}

// ---------------------------------------------------------------- one process

TEST(EventLoop, ReadableAtOnceWhenASampleIsAlreadyWaiting) {
    zfd_segment* s = create("");
    ASSERT_NE(s, nullptr);
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(s, 0, &r), ZFD_OK);
    const uint64_t v = 0;
    ASSERT_EQ(zfd_publish(s, &v, sizeof v, nullptr), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(readable(fd), 1);
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    uint64_t next = 0, bad = 0;
    EXPECT_EQ(drain(r, &next, &bad), ZFD_E_NO_SAMPLE);
    EXPECT_EQ(next, 1u);
    EXPECT_EQ(readable(fd), 0) << "drained to NO_SAMPLE: no longer readable";
    zfd_reader_close(r);
    zfd_segment_close(s);
}

TEST(EventLoop, NotReadableUntilTheNextCommitThenReadable) {
    zfd_segment* s = create("");
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(s, 0, &r), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    EXPECT_EQ(readable(fd), 0);
    uint64_t next = 0, bad = 0;
    for (uint64_t i = 0; i < 100; ++i) {
        ASSERT_EQ(zfd_publish(s, &i, sizeof i, nullptr), ZFD_OK);
        ASSERT_EQ(readable(fd), 1) << "round " << i;
        ASSERT_EQ(drain(r, &next, &bad), ZFD_E_NO_SAMPLE);
        ASSERT_EQ(readable(fd), 0) << "round " << i;
    }
    EXPECT_EQ(next, 100u);
    EXPECT_EQ(bad, 0u);
    // take_copy and take_latest re-arm it too.
    for (uint64_t i = 0; i < 3; ++i) ASSERT_EQ(zfd_publish(s, &i, sizeof i, nullptr), ZFD_OK);
    ASSERT_EQ(readable(fd), 1);
    zfd_slot t;
    ASSERT_EQ(zfd_take_latest(r, &t, nullptr, nullptr, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_release(r, t), ZFD_OK);
    ASSERT_EQ(zfd_take_latest(r, &t, nullptr, nullptr, nullptr), ZFD_E_NO_SAMPLE);
    EXPECT_EQ(readable(fd), 0);
    ASSERT_EQ(zfd_publish(s, &next, sizeof next, nullptr), ZFD_OK);
    ASSERT_EQ(readable(fd), 1);
    uint64_t buf = 0;
    ASSERT_EQ(zfd_take_copy(r, &buf, sizeof buf, nullptr, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_take_copy(r, &buf, sizeof buf, nullptr, nullptr), ZFD_E_NO_SAMPLE);
    EXPECT_EQ(readable(fd), 0);
    zfd_reader_close(r);
    zfd_segment_close(s);
}

// The race a user cannot avoid: commits land while the loop is between
// "take said NO_SAMPLE" and "epoll_wait". A lost wake-up shows as an
// epoll_wait that times out while a sample is waiting.
TEST(EventLoop, NoWakeUpIsLostWhileCommitsRaceTheArming) {
    zfd_segment* s = create("", 8);
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(s, 0, &r), ZFD_OK);
    int fd = -1, sfd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    ASSERT_EQ(zfd_segment_fd(s, &sfd), ZFD_OK);
    constexpr uint64_t kN = 200000;
    std::atomic<int> writer_failed{0};
    std::thread writer([&] {
        for (uint64_t i = 0; i < kN;) {
            const int32_t rc = zfd_publish(s, &i, sizeof i, nullptr);
            if (rc == ZFD_OK) {
                ++i;
                if ((i & 1023) == 0) std::this_thread::yield();
            } else if (rc == ZFD_E_NO_FREE_SLOT) {
                if (readable(sfd, 5000) != 1) {
                    writer_failed = 1;  // the space descriptor lost a wake-up
                    return;
                }
            } else {
                writer_failed = 2;
                return;
            }
        }
    });
    uint64_t next = 0, bad = 0, lost = 0, wakeups = 0;
    while (next < kN && writer_failed == 0) {
        if (readable(fd, 5000) != 1) {
            zfd_slot t;
            if (zfd_take(r, &t, nullptr, nullptr, nullptr) == ZFD_OK) {
                ++lost;
                zfd_release(r, t);
                ++next;  // (counted as read; the test fails anyway)
            }
            continue;
        }
        ++wakeups;
        ASSERT_EQ(drain(r, &next, &bad), ZFD_E_NO_SAMPLE);
    }
    writer.join();
    EXPECT_EQ(writer_failed.load(), 0);
    EXPECT_EQ(lost, 0u);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(next, kN);
    std::printf("%" PRIu64 " samples, %" PRIu64 " wake-ups\n", next, wakeups);
    zfd_reader_close(r);
    zfd_segment_close(s);
}

TEST(EventLoop, DetachedReaderIsReadableAndStaysReadable) {
    zfd_segment* s = create("");
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(s, 0, &r), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    ASSERT_EQ(readable(fd), 0);
    ASSERT_EQ(zfd_mark_reader_disconnected(s, zfd_reader_index(r)), ZFD_OK);
    EXPECT_EQ(readable(fd), 1);
    zfd_slot t;
    EXPECT_EQ(zfd_take(r, &t, nullptr, nullptr, nullptr), ZFD_E_DETACHED);
    EXPECT_EQ(zfd_take(r, &t, nullptr, nullptr, nullptr), ZFD_E_DETACHED);
    EXPECT_EQ(readable(fd), 1) << "a terminal code keeps it readable";
    zfd_reader_close(r);
    zfd_segment_close(s);
}

TEST(EventLoop, OwnerCloseMakesItReadableThenPeerGone) {
    const std::string name = unique_name("close");
    Unlinker cleanup{{name}};
    zfd_segment* s = create(name);
    ASSERT_NE(s, nullptr);
    zfd_segment* c = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &c, nullptr), ZFD_OK);
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(c, 0, &r), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    const uint64_t v = 0;
    ASSERT_EQ(zfd_publish(s, &v, sizeof v, nullptr), ZFD_OK);
    uint64_t next = 0, bad = 0;
    ASSERT_EQ(drain(r, &next, &bad), ZFD_E_NO_SAMPLE);
    ASSERT_EQ(readable(fd), 0);
    const uint64_t w = 1;
    ASSERT_EQ(zfd_publish(s, &w, sizeof w, nullptr), ZFD_OK);
    zfd_segment_close(s);
    EXPECT_EQ(readable(fd), 1);
    EXPECT_EQ(drain(r, &next, &bad), ZFD_E_PEER_GONE);
    EXPECT_EQ(next, 2u) << "what remained came first";
    EXPECT_EQ(readable(fd), 1);
    const std::string iid = instance_hex(c);
    EXPECT_EQ(sockets_of(iid), 1);
    zfd_reader_close(r);
    zfd_segment_close(c);
    EXPECT_EQ(sockets_of(iid), 0);
    EXPECT_FALSE(shm_exists(name));
}

TEST(EventLoop, SegmentDescriptorIsReadableWhenASlotFrees) {
    zfd_segment* s = create("", 4);
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(s, 0, &r), ZFD_OK);
    int sfd = -1;
    ASSERT_EQ(zfd_segment_fd(s, &sfd), ZFD_OK);
    EXPECT_EQ(readable(sfd), 1) << "readable when made";
    uint64_t i = 0;
    while (zfd_publish(s, &i, sizeof i, nullptr) == ZFD_OK) ++i;
    EXPECT_EQ(i, 4u);
    EXPECT_EQ(readable(sfd), 0) << "armed by the failed publish";
    zfd_slot t;
    ASSERT_EQ(zfd_take(r, &t, nullptr, nullptr, nullptr), ZFD_OK);
    EXPECT_EQ(readable(sfd), 0) << "a take frees nothing";
    ASSERT_EQ(zfd_release(r, t), ZFD_OK);
    EXPECT_EQ(readable(sfd), 1);
    zfd_slot loan;
    ASSERT_EQ(zfd_reserve(s, &loan, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_reserve(s, &loan, nullptr), ZFD_E_NO_FREE_SLOT);
    EXPECT_EQ(readable(sfd), 0);
    zfd_reader_close(r);  // a reader leaving frees what it pinned
    EXPECT_EQ(readable(sfd), 1);
    zfd_segment_close(s);
}

// ---------------------------------------------------------------- processes

TEST(EventLoopProcesses, OneEpollLoopOverThreeWritersGetsEverySampleOnce) {
    constexpr uint64_t kN = 100000;
    Unlinker cleanup;
    Child writers[3];  // (destroyed first: killed before the names go)
    std::string names[3];
    for (int k = 0; k < 3; ++k) {
        names[k] = unique_name("three", k);
        cleanup.names.push_back(names[k]);
        const std::string name = names[k];
        spawn(&writers[k], [name](int in, int out) { return writer_body(name, kN, 64, in, out); });
        ASSERT_TRUE(writers[k].expect('c')) << "writer " << k << " did not create its segment";
    }
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    zfd_segment* segs[3];
    zfd_reader* readers[3];
    for (int k = 0; k < 3; ++k) {
        ASSERT_EQ(zfd_segment_open(names[k].c_str(), nullptr, 0, &segs[k], nullptr), ZFD_OK);
        ASSERT_EQ(zfd_reader_open(segs[k], 0, &readers[k]), ZFD_OK);
        int fd = -1;
        ASSERT_EQ(zfd_reader_fd(readers[k], &fd), ZFD_OK);
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u32 = static_cast<uint32_t>(k);
        ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
    }
    for (auto& w : writers) w.say('g');
    uint64_t next[3] = {0, 0, 0}, bad[3] = {0, 0, 0};
    bool gone[3] = {false, false, false};
    uint64_t wakeups = 0, timeouts = 0;
    while (!(gone[0] && gone[1] && gone[2])) {
        epoll_event ev[3];
        const int n = ::epoll_wait(ep, ev, 3, 10000);
        if (n <= 0) {
            ++timeouts;
            break;  // 10 s without a wake-up: lost
        }
        for (int j = 0; j < n; ++j) {
            const uint32_t k = ev[j].data.u32;
            ++wakeups;
            const int32_t rc = drain(readers[k], &next[k], &bad[k]);
            if (rc == ZFD_E_PEER_GONE) {
                gone[k] = true;
                int fd = -1;
                zfd_reader_fd(readers[k], &fd);
                ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
            } else {
                ASSERT_EQ(rc, ZFD_E_NO_SAMPLE);
            }
        }
    }
    EXPECT_EQ(timeouts, 0u);
    for (int k = 0; k < 3; ++k) {
        EXPECT_EQ(next[k], kN) << "segment " << k;
        EXPECT_EQ(bad[k], 0u) << "segment " << k << ": samples missed or repeated";
        EXPECT_EQ(writers[k].wait_exit(), 0) << "writer " << k;
    }
    std::printf("3 x %" PRIu64 " samples in %" PRIu64 " wake-ups\n", kN, wakeups);
    std::vector<std::string> iids;
    for (int k = 0; k < 3; ++k) {
        iids.push_back(instance_hex(segs[k]));
        zfd_reader_close(readers[k]);
        zfd_segment_close(segs[k]);
        EXPECT_FALSE(shm_exists(names[k]));
        EXPECT_EQ(sockets_of(iids.back()), 0);
    }
    ::close(ep);
}

TEST(EventLoopProcesses, AnIdleLoopBurnsNoCpu) {
    const std::string name = unique_name("idle");
    Unlinker cleanup{{name}};
    Child w;
    spawn(&w, [name](int in, int out) { return writer_body(name, 1, 8, in, out); });
    ASSERT_TRUE(w.expect('c'));
    zfd_segment* c = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &c, nullptr), ZFD_OK);
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(c, 0, &r), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event e{};
    e.events = EPOLLIN;
    ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
    // 1 s of nothing: the loop sleeps in the kernel (no hidden polling, no
    // timer in the library).
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    epoll_event got[1];
    const int n = ::epoll_wait(ep, got, 1, 1000);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    EXPECT_EQ(n, 0) << "no wake-up while nothing happens";
    EXPECT_GE(wall, 0.9);
    EXPECT_LT(cpu, 0.02) << "CPU time over a 1 s idle stretch";
    std::printf("idle: %.3f s wall, %.6f s CPU\n", wall, cpu);
    w.say('g');
    ASSERT_EQ(::epoll_wait(ep, got, 1, 10000), 1);
    uint64_t next = 0, bad = 0;
    const int32_t rc = drain(r, &next, &bad);
    EXPECT_TRUE(rc == ZFD_E_NO_SAMPLE || rc == ZFD_E_PEER_GONE);
    EXPECT_EQ(next, 1u);
    EXPECT_EQ(w.wait_exit(), 0);
    ::close(ep);
    zfd_reader_close(r);
    zfd_segment_close(c);
    EXPECT_FALSE(shm_exists(name));
}

TEST(EventLoopProcesses, WriterKilledMakesTheDescriptorFireThenPeerGone) {
    const std::string name = unique_name("wkill");
    Unlinker cleanup{{name}};
    Child w;
    spawn(&w, [name](int in, int out) {
        zfd_segment* s = create(name, 8, 64);
        if (s == nullptr) return 2;
        tell(out, 'c');
        if (!hear(in, 'g')) return 4;
        for (uint64_t i = 0; i < 3; ++i) zfd_publish(s, &i, sizeof i, nullptr);
        tell(out, 'p');
        ::pause();  // killed here, the segment still open
        return 0;
    });
    ASSERT_TRUE(w.expect('c'));
    zfd_segment* c = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &c, nullptr), ZFD_OK);
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(c, 0, &r), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    w.say('g');
    ASSERT_TRUE(w.expect('p'));
    ASSERT_EQ(readable(fd, 10000), 1);
    uint64_t next = 0, bad = 0;
    ASSERT_EQ(drain(r, &next, &bad), ZFD_E_NO_SAMPLE);
    ASSERT_EQ(next, 3u);
    ASSERT_EQ(readable(fd), 0);
    w.kill9();
    EXPECT_EQ(readable(fd, 10000), 1) << "the owner's death makes the descriptor readable";
    zfd_slot t;
    EXPECT_EQ(zfd_take(r, &t, nullptr, nullptr, nullptr), ZFD_E_PEER_GONE);
    EXPECT_EQ(readable(fd), 1);
    const std::string iid = instance_hex(c);
    zfd_reader_close(r);
    zfd_segment_close(c);
    EXPECT_EQ(sockets_of(iid), 0);
    zfd_segment_unlink(name.c_str(), nullptr);  // the killed owner could not
    EXPECT_FALSE(shm_exists(name));
}

TEST(EventLoopProcesses, ReaderKilledWhileArmedCostsTheWriterNothingAndLeavesNothing) {
    const std::string name = unique_name("rkill");
    Unlinker cleanup{{name}};
    zfd_segment* s = create(name, 16, 64);
    ASSERT_NE(s, nullptr);
    const std::string iid = instance_hex(s);
    Child rd;
    spawn(&rd, [name](int, int out) {
        zfd_segment* c = nullptr;
        if (zfd_segment_open(name.c_str(), nullptr, 0, &c, nullptr) != ZFD_OK) return 2;
        zfd_reader* r = nullptr;
        if (zfd_reader_open(c, 0, &r) != ZFD_OK) return 3;
        int fd = -1;
        if (zfd_reader_fd(r, &fd) != ZFD_OK) return 4;
        zfd_slot t;
        if (zfd_take(r, &t, nullptr, nullptr, nullptr) != ZFD_E_NO_SAMPLE) return 5;  // armed
        tell(out, 'a');
        ::pause();
        return 0;
    });
    ASSERT_TRUE(rd.expect('a'));
    EXPECT_EQ(sockets_of(iid), 1) << "the reader's socket is bound";
    rd.kill9();
    EXPECT_EQ(sockets_of(iid), 0) << "the kernel dropped the dead reader's socket";
    // The writer goes on: the first commit finds the dead reader armed and
    // its datagram refused; then the dead reader pins slots until reaped.
    uint64_t i = 0;
    while (zfd_publish(s, &i, sizeof i, nullptr) == ZFD_OK) ++i;
    EXPECT_EQ(i, 16u);
    uint32_t reaped = 0;
    ASSERT_EQ(zfd_reap_dead_readers(s, &reaped), ZFD_OK);
    EXPECT_EQ(reaped, 1u);
    for (uint64_t k = 0; k < 100000; ++k) ASSERT_EQ(zfd_publish(s, &k, sizeof k, nullptr), ZFD_OK);
    zfd_segment_close(s);
    EXPECT_FALSE(shm_exists(name));
    EXPECT_EQ(sockets_of(iid), 0);
}

TEST(EventLoopProcesses, AForkedChildGetsNoWakeUpForItsParentsReader) {
    zfd_segment* s = create("");
    zfd_reader* r = nullptr;
    ASSERT_EQ(zfd_reader_open(s, 0, &r), ZFD_OK);
    int fd = -1;
    ASSERT_EQ(zfd_reader_fd(r, &fd), ZFD_OK);
    ASSERT_EQ(readable(fd), 0);
    Child child;
    spawn(&child, [r](int, int) {
        int cfd = -1;
        if (zfd_reader_fd(r, &cfd) != ZFD_E_UNSUPPORTED || cfd != -1) return 2;
        zfd_slot t;
        // Its take neither arms nor drains the parent's descriptor.
        if (zfd_take(r, &t, nullptr, nullptr, nullptr) != ZFD_E_NO_SAMPLE) return 3;
        return 0;
    });
    EXPECT_EQ(child.wait_exit(), 0);
    EXPECT_EQ(readable(fd), 0);
    const uint64_t v = 0;
    ASSERT_EQ(zfd_publish(s, &v, sizeof v, nullptr), ZFD_OK);
    EXPECT_EQ(readable(fd), 1) << "the parent's wake-up still works";
    uint64_t next = 0, bad = 0;
    EXPECT_EQ(drain(r, &next, &bad), ZFD_E_NO_SAMPLE);
    EXPECT_EQ(next, 1u);
    // The segment descriptor likewise.
    Child child2;
    spawn(&child2, [s](int, int) {
        int sfd = -1;
        return zfd_segment_fd(s, &sfd) == ZFD_E_UNSUPPORTED ? 0 : 2;
    });
    EXPECT_EQ(child2.wait_exit(), 0);
    zfd_reader_close(r);
    zfd_segment_close(s);
}

TEST(EventLoopProcesses, SixtyFourReadersArmedAtOnceEachGetEverySample) {
    constexpr uint64_t kN = 3000;
    const std::string name = unique_name("r64");
    Unlinker cleanup{{name}};
    Child w;
    spawn(&w, [name](int in, int out) { return writer_body(name, kN, 16, in, out); });
    ASSERT_TRUE(w.expect('c'));
    zfd_segment* c = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &c, nullptr), ZFD_OK);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<zfd_reader*> readers(ZFD_MAX_READERS, nullptr);
    std::vector<int> fds(ZFD_MAX_READERS, -1);
    for (uint32_t k = 0; k < ZFD_MAX_READERS; ++k) {
        ASSERT_EQ(zfd_reader_open(c, 0, &readers[k]), ZFD_OK) << k;
        ASSERT_EQ(zfd_reader_fd(readers[k], &fds[k]), ZFD_OK) << k;
        ASSERT_EQ(readable(fds[k]), 0);  // armed, nothing waiting
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u32 = k;
        ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, fds[k], &e), 0);
    }
    w.say('g');
    std::vector<uint64_t> next(ZFD_MAX_READERS, 0), bad(ZFD_MAX_READERS, 0);
    uint32_t gone = 0;
    bool stalled = false;
    while (gone < ZFD_MAX_READERS) {
        epoll_event ev[ZFD_MAX_READERS];
        const int n = ::epoll_wait(ep, ev, ZFD_MAX_READERS, 10000);
        if (n <= 0) {
            stalled = true;
            break;
        }
        for (int j = 0; j < n; ++j) {
            const uint32_t k = ev[j].data.u32;
            const int32_t rc = drain(readers[k], &next[k], &bad[k]);
            if (rc == ZFD_E_PEER_GONE) {
                ++gone;
                ::epoll_ctl(ep, EPOLL_CTL_DEL, fds[k], nullptr);
            } else {
                ASSERT_EQ(rc, ZFD_E_NO_SAMPLE);
            }
        }
    }
    EXPECT_FALSE(stalled) << "10 s without a wake-up";
    for (uint32_t k = 0; k < ZFD_MAX_READERS; ++k) {
        EXPECT_EQ(next[k], kN) << "reader " << k;
        EXPECT_EQ(bad[k], 0u) << "reader " << k;
    }
    EXPECT_EQ(w.wait_exit(), 0);
    const std::string iid = instance_hex(c);
    EXPECT_EQ(sockets_of(iid), int(ZFD_MAX_READERS));
    for (zfd_reader* r : readers) zfd_reader_close(r);
    zfd_segment_close(c);
    EXPECT_EQ(sockets_of(iid), 0);
    EXPECT_FALSE(shm_exists(name));
    ::close(ep);
}

}  // namespace
