// zfd_worker.cpp — the other process in the multi-process tests.
//
// The GoogleTest drivers in this folder fork and exec this program; it uses
// only the public header and the shared library, exactly as an application
// would. Each subcommand takes key=value arguments and talks on stdout in
// lines of the form "WORD key=value ... msg=free text", which the driver
// parses. Interactive subcommands (writer-ctl, reader-ctl) read one command
// per line from stdin and answer with one line each.
//
// A worker never hangs forever: every wait has a timeout, stdin EOF ends
// the interactive loops, and a safety alarm (alarm=<s>, default 120 s) kills
// the process if the driver forgets it.
//
//   writer-ctl    name= [slots= cap= flags= mode=<octal> umask=<octal> hash=<hex32>]
//   reader-ctl    name= [hash=<hex32>]
//   open          name= [hash=<hex32>] [uid= gid=]   one zfd_segment_open, reported
//   enospc        name=                              in a private mount namespace
//   stress-writer name= n= readers= [slots= cap=]
//   stress-reader name= n=
#include <zerodds/flatdata.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using Args = std::map<std::string, std::string>;

constexpr int64_t kMs = 1'000'000;
constexpr int kExitSkip = 77;

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void die(const char* what) {
    std::printf("FATAL msg=%s\n", what);
    std::fflush(stdout);
    std::_Exit(100);
}

std::string arg(const Args& a, const char* key, const char* fallback = nullptr) {
    auto it = a.find(key);
    if (it != a.end()) return it->second;
    if (fallback == nullptr) {
        std::fprintf(stderr, "zfd_worker: missing argument %s=\n", key);
        std::_Exit(101);
    }
    return fallback;
}

uint64_t arg_u64(const Args& a, const char* key, const char* fallback = nullptr, int base = 10) {
    return std::strtoull(arg(a, key, fallback).c_str(), nullptr, base);
}

bool parse_hash(const std::string& hex, uint8_t out[ZFD_TYPE_HASH_SIZE]) {
    if (hex.size() != 2 * ZFD_TYPE_HASH_SIZE) return false;
    for (int i = 0; i < ZFD_TYPE_HASH_SIZE; ++i) {
        out[i] = static_cast<uint8_t>(std::strtoul(hex.substr(2 * i, 2).c_str(), nullptr, 16));
    }
    return true;
}

// Message text on one line (the driver reads line by line).
std::string one_line(const char* s) {
    std::string r(s);
    for (char& c : r) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return r;
}

void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void out(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vprintf(fmt, ap);
    va_end(ap);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

zfd_error make_error() {
    zfd_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

zfd_segment_info info_of(const zfd_segment* s, int32_t* rc) {
    zfd_segment_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    *rc = zfd_segment_get_info(s, &info);
    return info;
}

int popcount64(uint64_t v) { return __builtin_popcountll(v); }

// ---------------------------------------------------------------------------
// Self-checking stress payload: {index, len, magic, checksum, body}.
// The body is a pattern derived from the index; the checksum covers
// index, len and body.
// ---------------------------------------------------------------------------

struct StressHeader {
    uint64_t index;
    uint32_t len;
    uint32_t magic;
    uint64_t checksum;
};
constexpr uint32_t kStressMagic = 0x5A464453u;
static_assert(sizeof(StressHeader) == 24);

uint64_t splitmix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint32_t stress_len(uint64_t index, uint64_t cap) {
    const uint64_t body_max = cap - sizeof(StressHeader);
    return static_cast<uint32_t>(sizeof(StressHeader) + (index * 37) % (body_max + 1));
}

void fill_body(uint64_t index, unsigned char* body, size_t n) {
    uint64_t state = index * 0x2545F4914F6CDD1Dull + 1;
    size_t i = 0;
    while (i < n) {
        state = splitmix(state);
        for (int b = 0; b < 8 && i < n; ++b, ++i) body[i] = static_cast<unsigned char>(state >> (8 * b));
    }
}

uint64_t checksum(uint64_t index, uint32_t len, const unsigned char* body, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a 64
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 0x100000001B3ull;
    };
    for (int b = 0; b < 8; ++b) mix(static_cast<unsigned char>(index >> (8 * b)));
    for (int b = 0; b < 4; ++b) mix(static_cast<unsigned char>(len >> (8 * b)));
    for (size_t i = 0; i < n; ++i) mix(body[i]);
    return h;
}

// ---------------------------------------------------------------------------
// writer-ctl: owns a segment; commands on stdin.
// ---------------------------------------------------------------------------

int writer_ctl(const Args& a) {
    const std::string name = arg(a, "name");
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = static_cast<uint32_t>(arg_u64(a, "slots", "8"));
    opts.slot_capacity = arg_u64(a, "cap", "64");
    opts.flags = static_cast<uint32_t>(arg_u64(a, "flags", "0"));
    if (a.count("mode")) opts.mode = static_cast<uint32_t>(arg_u64(a, "mode", nullptr, 8));
    if (a.count("umask")) ::umask(static_cast<mode_t>(arg_u64(a, "umask", nullptr, 8)));
    if (a.count("hash")) {
        if (!parse_hash(arg(a, "hash"), opts.type_hash)) die("bad hash");
        opts.has_type_hash = 1;
    }
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    const int32_t rc = zfd_segment_create(name.c_str(), &opts, &seg, &err);
    out("CREATE rc=%d errno=%d pid=%d msg=%s", rc, err.sys_errno, static_cast<int>(::getpid()),
        one_line(err.message).c_str());
    if (rc != ZFD_OK) return 0;

    uint64_t counter = 0;
    std::vector<zfd_slot> loans;
    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
        char cmd[32] = {0};
        long long p1 = 0;
        long long p2 = 0;
        const int n = std::sscanf(line, "%31s %lld %lld", cmd, &p1, &p2);
        if (n < 1) continue;
        const std::string c = cmd;
        if (c == "publish") {
            // p1 samples of 8 bytes, each the running counter; waits up to
            // 5 s for a free slot each.
            int32_t prc = ZFD_OK;
            long long done = 0;
            for (; done < p1; ++done) {
                zfd_slot slot = 0;
                void* data = nullptr;
                prc = zfd_reserve_wait(seg, 5000 * kMs, &slot, &data);
                if (prc != ZFD_OK) break;
                std::memcpy(data, &counter, sizeof counter);
                prc = zfd_commit_in_place(seg, slot, sizeof counter, nullptr);
                if (prc != ZFD_OK) break;
                ++counter;
            }
            out("PUBLISHED n=%lld rc=%d next=%" PRIu64, done, prc, counter);
        } else if (c == "trypublish") {
            // One non-blocking zfd_publish.
            const int32_t prc = zfd_publish(seg, &counter, sizeof counter, nullptr);
            if (prc == ZFD_OK) ++counter;
            out("TRYPUBLISH rc=%d next=%" PRIu64, prc, counter);
        } else if (c == "loan") {
            // Reserve, scribble, never commit.
            zfd_slot slot = 0;
            void* data = nullptr;
            const int32_t prc = zfd_reserve(seg, &slot, &data);
            if (prc == ZFD_OK) {
                std::memset(data, 0xEE, 8);
                loans.push_back(slot);
            }
            out("LOANED rc=%d", prc);
        } else if (c == "reap") {
            uint32_t reaped = 0xFFFFFFFFu;
            const int32_t prc = zfd_reap_dead_readers(seg, &reaped);
            out("REAPED rc=%d n=%u", prc, reaped);
        } else if (c == "info") {
            int32_t irc = 0;
            const zfd_segment_info info = info_of(seg, &irc);
            out("INFO rc=%d active=%" PRIu64 " owner_alive=%u is_owner=%u next=%" PRIu64, irc,
                info.active_readers, info.owner_alive, info.is_owner, info.next_sequence);
        } else if (c == "waitreaders") {
            // Until at least p1 readers are attached, at most p2 ms.
            const int64_t deadline = now_ns() + p2 * kMs;
            int32_t irc = 0;
            zfd_segment_info info = info_of(seg, &irc);
            while (popcount64(info.active_readers) < p1 && now_ns() < deadline) {
                ::usleep(1000);
                info = info_of(seg, &irc);
            }
            out("READERS rc=%d n=%d active=%" PRIu64,
                popcount64(info.active_readers) >= p1 ? ZFD_OK : ZFD_E_TIMEOUT,
                popcount64(info.active_readers), info.active_readers);
        } else if (c == "quit") {
            break;
        } else {
            out("UNKNOWN cmd=%s", cmd);
        }
    }
    zfd_segment_close(seg);
    out("BYE");
    return 0;
}

// ---------------------------------------------------------------------------
// reader-ctl: opens a segment as a consumer and attaches one reader.
// Samples are the 8-byte counters writer-ctl publishes.
// ---------------------------------------------------------------------------

struct Held {
    zfd_slot slot;
    const void* data;
};

int reader_ctl(const Args& a) {
    const std::string name = arg(a, "name");
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    const bool with_hash = a.count("hash") && parse_hash(arg(a, "hash"), hash);
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    int32_t rc = zfd_segment_open(name.c_str(), with_hash ? hash : nullptr, 0, &seg, &err);
    out("OPEN rc=%d errno=%d msg=%s", rc, err.sys_errno, one_line(err.message).c_str());
    if (rc != ZFD_OK) return 2;
    zfd_reader* reader = nullptr;
    rc = zfd_reader_open(seg, 0, &reader);
    out("ATTACHED rc=%d idx=%u pid=%d", rc, rc == ZFD_OK ? zfd_reader_index(reader) : 0xFFFFFFFFu,
        static_cast<int>(::getpid()));
    if (rc != ZFD_OK) {
        zfd_segment_close(seg);
        return 2;
    }

    std::vector<Held> held;
    bool have_last = false;
    uint64_t last_value = 0;
    uint64_t last_seq = 0;
    // Checks one taken sample against the previous one: consecutive values
    // and sequence numbers, 8 bytes.
    auto check = [&](const void* data, size_t len, uint64_t seq) {
        uint64_t v = 0;
        if (len == sizeof v) std::memcpy(&v, data, sizeof v);
        bool ok = len == sizeof v;
        if (have_last) ok = ok && v == last_value + 1 && seq == last_seq + 1;
        have_last = true;
        last_value = v;
        last_seq = seq;
        return ok;
    };

    char line[256];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
        char cmd[32] = {0};
        long long p1 = 0;
        const int n = std::sscanf(line, "%31s %lld", cmd, &p1);
        if (n < 1) continue;
        const std::string c = cmd;
        if (c == "take") {
            // Take p1 samples and hold them; waits up to 5 s for each.
            int32_t trc = ZFD_OK;
            long long got = 0;
            bool ok = true;
            uint64_t first = UINT64_MAX;
            while (got < p1) {
                zfd_slot slot = 0;
                const void* data = nullptr;
                size_t len = 0;
                uint64_t seq = 0;
                trc = zfd_take(reader, &slot, &data, &len, &seq);
                if (trc == ZFD_E_NO_SAMPLE) {
                    trc = zfd_reader_wait(reader, 5000 * kMs);
                    if (trc != ZFD_OK) break;
                    continue;
                }
                if (trc != ZFD_OK) break;
                ok = check(data, len, seq) && ok;
                if (first == UINT64_MAX) first = last_value;
                held.push_back({slot, data});
                ++got;
            }
            out("TOOK n=%lld rc=%d first=%" PRIu64 " last=%" PRIu64 " ok=%d held=%zu", got, trc,
                first, last_value, ok ? 1 : 0, held.size());
        } else if (c == "release") {
            int32_t bad = ZFD_OK;
            size_t count = held.size();
            for (const Held& h : held) {
                const int32_t r = zfd_release(reader, h.slot);
                if (r != ZFD_OK && bad == ZFD_OK) bad = r;
            }
            held.clear();
            out("RELEASED n=%zu rc=%d", count, bad);
        } else if (c == "drain") {
            // Take and release everything available now, without waiting.
            int32_t trc = ZFD_OK;
            long long got = 0;
            bool ok = true;
            uint64_t first = UINT64_MAX;
            int32_t bad_release = ZFD_OK;
            for (;;) {
                zfd_slot slot = 0;
                const void* data = nullptr;
                size_t len = 0;
                uint64_t seq = 0;
                trc = zfd_take(reader, &slot, &data, &len, &seq);
                if (trc != ZFD_OK) break;
                ok = check(data, len, seq) && ok;
                if (first == UINT64_MAX) first = last_value;
                const int32_t r = zfd_release(reader, slot);
                if (r != ZFD_OK && bad_release == ZFD_OK) bad_release = r;
                ++got;
            }
            out("DRAINED n=%lld rc=%d first=%" PRIu64 " last=%" PRIu64 " ok=%d release_rc=%d", got,
                trc, first, last_value, ok ? 1 : 0, bad_release);
        } else if (c == "untilgone") {
            // zfd_take every millisecond until it says PEER_GONE, at most p1 ms.
            const int64_t t0 = now_ns();
            int32_t trc = ZFD_OK;
            long long samples = 0;
            for (;;) {
                zfd_slot slot = 0;
                trc = zfd_take(reader, &slot, nullptr, nullptr, nullptr);
                if (trc == ZFD_OK) {
                    ++samples;
                    zfd_release(reader, slot);
                    continue;
                }
                if (trc != ZFD_E_NO_SAMPLE || now_ns() - t0 > p1 * kMs) break;
                ::usleep(1000);
            }
            out("GONE rc=%d us=%lld samples=%lld", trc,
                static_cast<long long>((now_ns() - t0) / 1000), samples);
        } else if (c == "trytake") {
            zfd_slot slot = 0;
            const void* data = nullptr;
            size_t len = 0;
            uint64_t seq = 0;
            const int32_t trc = zfd_take(reader, &slot, &data, &len, &seq);
            uint64_t v = 0;
            if (trc == ZFD_OK) {
                if (len == sizeof v) std::memcpy(&v, data, sizeof v);
                zfd_release(reader, slot);
            }
            out("TRY rc=%d value=%" PRIu64 " len=%zu", trc, v, len);
        } else if (c == "wait") {
            const int64_t t0 = now_ns();
            const int32_t wrc = zfd_reader_wait(reader, p1 * kMs);
            out("WAITED rc=%d us=%lld", wrc, static_cast<long long>((now_ns() - t0) / 1000));
        } else if (c == "info") {
            int32_t irc = 0;
            const zfd_segment_info info = info_of(seg, &irc);
            out("INFO rc=%d active=%" PRIu64 " owner_alive=%u is_owner=%u owner_pid=%d", irc,
                info.active_readers, info.owner_alive, info.is_owner, info.owner_pid);
        } else if (c == "poke") {
            // Write into a taken sample: the payload is mapped read-only,
            // so this must die of SIGSEGV.
            if (held.empty()) {
                out("POKE rc=-1 msg=nothing held");
                continue;
            }
            out("POKING");
            auto* p = static_cast<volatile unsigned char*>(const_cast<void*>(held.front().data));
            *p = static_cast<unsigned char>(*p + 1);
            out("POKED survived=1");
        } else if (c == "quit") {
            break;
        } else {
            out("UNKNOWN cmd=%s", cmd);
        }
    }
    for (const Held& h : held) zfd_release(reader, h.slot);
    zfd_reader_close(reader);
    zfd_segment_close(seg);
    out("BYE");
    return 0;
}

// ---------------------------------------------------------------------------
// open: one zfd_segment_open, optionally as another uid/gid, reported.
// ---------------------------------------------------------------------------

int open_once(const Args& a) {
    const std::string name = arg(a, "name");
    if (a.count("uid")) {
        const auto gid = static_cast<gid_t>(arg_u64(a, "gid", "65534"));
        const auto uid = static_cast<uid_t>(arg_u64(a, "uid"));
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
            out("SETUID rc=-1 errno=%d msg=%s", errno, std::strerror(errno));
            return 3;
        }
        if (::geteuid() != uid) {
            out("SETUID rc=-1 errno=0 msg=euid did not change");
            return 3;
        }
    }
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    const bool with_hash = a.count("hash") && parse_hash(arg(a, "hash"), hash);
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    const int64_t t0 = now_ns();
    const int32_t rc = zfd_segment_open(name.c_str(), with_hash ? hash : nullptr, 0, &seg, &err);
    const long long ms = static_cast<long long>((now_ns() - t0) / kMs);
    // The error detail must agree with the return value.
    out("OPEN rc=%d code=%d errno=%d ms=%lld euid=%u msg=%s", rc, err.code, err.sys_errno, ms,
        static_cast<unsigned>(::geteuid()), one_line(err.message).c_str());
    if (rc == ZFD_OK) {
        int32_t irc = 0;
        const zfd_segment_info info = info_of(seg, &irc);
        zfd_reader* reader = nullptr;
        const int32_t rrc = zfd_reader_open(seg, 0, &reader);
        out("OPENED info_rc=%d slots=%u cap=%" PRIu64 " reader_rc=%d", irc, info.slot_count,
            info.slot_capacity, rrc);
        zfd_reader_close(reader);
        zfd_segment_close(seg);
    }
    return 0;
}

// ---------------------------------------------------------------------------
// enospc: a 1 MiB tmpfs over /dev/shm in a private mount namespace.
// ---------------------------------------------------------------------------

int enospc(const Args& a) {
    const std::string name = arg(a, "name");
    if (::geteuid() != 0) {
        out("SKIP msg=not root");
        return kExitSkip;
    }
    if (::unshare(CLONE_NEWNS) != 0) {
        out("SKIP msg=unshare(CLONE_NEWNS): %s", std::strerror(errno));
        return kExitSkip;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        out("SKIP msg=mount(/, MS_REC|MS_PRIVATE): %s", std::strerror(errno));
        return kExitSkip;
    }
    if (::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=1777") != 0) {
        out("SKIP msg=mount tmpfs on /dev/shm: %s", std::strerror(errno));
        return kExitSkip;
    }
    out("MOUNTED");

    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = 64;
    opts.slot_capacity = 64 * 1024;
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    int32_t rc = zfd_segment_create(name.c_str(), &opts, &seg, &err);
    out("BIG rc=%d code=%d errno=%d msg=%s", rc, err.code, err.sys_errno, one_line(err.message).c_str());
    if (rc == ZFD_OK) zfd_segment_close(seg);
    const std::string path = "/dev/shm/zfd." + name;
    struct stat st {};
    out("BIGLEFT exists=%d", ::lstat(path.c_str(), &st) == 0 ? 1 : 0);

    opts.slot_count = 4;
    opts.slot_capacity = 64;
    err = make_error();
    seg = nullptr;
    rc = zfd_segment_create(name.c_str(), &opts, &seg, &err);
    int32_t io = ZFD_E_INTERNAL;
    if (rc == ZFD_OK) {
        zfd_reader* reader = nullptr;
        io = zfd_reader_open(seg, 0, &reader);
        const uint64_t v = 42;
        if (io == ZFD_OK) io = zfd_publish(seg, &v, sizeof v, nullptr);
        uint64_t got = 0;
        size_t len = 0;
        if (io == ZFD_OK) io = zfd_take_copy(reader, &got, sizeof got, &len, nullptr);
        if (io == ZFD_OK && (got != v || len != sizeof v)) io = ZFD_E_CORRUPT;
        zfd_reader_close(reader);
        zfd_segment_close(seg);
    }
    out("SMALL rc=%d io=%d msg=%s", rc, io, one_line(err.message).c_str());
    return 0;
}

// ---------------------------------------------------------------------------
// stress-writer / stress-reader
// ---------------------------------------------------------------------------

int stress_writer(const Args& a) {
    const std::string name = arg(a, "name");
    const uint64_t n = arg_u64(a, "n");
    const int readers = static_cast<int>(arg_u64(a, "readers"));
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = static_cast<uint32_t>(arg_u64(a, "slots", "64"));
    opts.slot_capacity = arg_u64(a, "cap", "256");
    if (opts.slot_capacity < sizeof(StressHeader)) die("cap too small");
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    int32_t rc = zfd_segment_create(name.c_str(), &opts, &seg, &err);
    out("CREATE rc=%d msg=%s", rc, one_line(err.message).c_str());
    if (rc != ZFD_OK) return 2;

    // Everyone must be attached before the first commit.
    int32_t irc = 0;
    int64_t deadline = now_ns() + 20000 * kMs;
    while (popcount64(info_of(seg, &irc).active_readers) < readers) {
        if (now_ns() > deadline) {
            out("READERS rc=%d n=%d", ZFD_E_TIMEOUT, popcount64(info_of(seg, &irc).active_readers));
            zfd_segment_close(seg);
            return 3;
        }
        ::usleep(1000);
    }
    out("READERS rc=0 n=%d", readers);

    const int64_t t0 = now_ns();
    uint64_t sent = 0;
    uint64_t waits_timed_out = 0;
    int64_t last_progress = now_ns();
    rc = ZFD_OK;
    while (sent < n) {
        zfd_slot slot = 0;
        void* data = nullptr;
        rc = zfd_reserve(seg, &slot, &data);
        if (rc == ZFD_E_NO_FREE_SLOT) rc = zfd_reserve_wait(seg, 1000 * kMs, &slot, &data);
        if (rc == ZFD_E_TIMEOUT) {
            ++waits_timed_out;
            if (now_ns() - last_progress > 20000 * kMs) break;  // 20 s without a free slot
            continue;
        }
        if (rc != ZFD_OK) break;
        auto* bytes = static_cast<unsigned char*>(data);
        const uint32_t len = stress_len(sent, opts.slot_capacity);
        StressHeader h{sent, len, kStressMagic, 0};
        const size_t body = len - sizeof h;
        fill_body(sent, bytes + sizeof h, body);
        h.checksum = checksum(sent, len, bytes + sizeof h, body);
        std::memcpy(bytes, &h, sizeof h);
        uint64_t seq = 0;
        rc = zfd_commit_in_place(seg, slot, len, &seq);
        if (rc != ZFD_OK) break;
        if (seq != sent) {
            out("SEQ rc=-1 msg=commit %" PRIu64 " got sequence %" PRIu64, sent, seq);
        }
        ++sent;
        last_progress = now_ns();
    }
    out("SENT n=%" PRIu64 " rc=%d ms=%lld wait_timeouts=%" PRIu64, sent, rc,
        static_cast<long long>((now_ns() - t0) / kMs), waits_timed_out);

    // Keep the segment until every reader closed, so none sees PEER_GONE
    // while it still has work; bounded.
    deadline = now_ns() + 60000 * kMs;
    while (info_of(seg, &irc).active_readers != 0 && now_ns() < deadline) ::usleep(2000);
    const uint64_t left = info_of(seg, &irc).active_readers;
    zfd_segment_close(seg);
    out("BYE left=%" PRIu64, left);
    return sent == n && rc == ZFD_OK ? 0 : 1;
}

int stress_reader(const Args& a) {
    const std::string name = arg(a, "name");
    const uint64_t n = arg_u64(a, "n");
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    int32_t rc = zfd_segment_open(name.c_str(), nullptr, 0, &seg, &err);
    if (rc != ZFD_OK) {
        out("OPEN rc=%d msg=%s", rc, one_line(err.message).c_str());
        return 2;
    }
    int32_t irc = 0;
    const uint64_t cap = info_of(seg, &irc).slot_capacity;
    zfd_reader* reader = nullptr;
    rc = zfd_reader_open(seg, 0, &reader);
    out("ATTACHED rc=%d idx=%u", rc, rc == ZFD_OK ? zfd_reader_index(reader) : 0xFFFFFFFFu);
    if (rc != ZFD_OK) {
        zfd_segment_close(seg);
        return 2;
    }

    uint64_t received = 0, dups = 0, gaps = 0, bad_sum = 0, bad_len = 0, bad_body = 0;
    uint64_t seq_jumps = 0, bad_release = 0, wait_timeouts = 0;
    uint64_t expected = 0;
    bool have_seq = false;
    uint64_t last_seq = 0;
    int32_t last_rc = ZFD_OK;
    std::vector<unsigned char> pattern(cap);
    const int64_t t0 = now_ns();
    int64_t last_progress = now_ns();
    while (received < n) {
        zfd_slot slot = 0;
        const void* data = nullptr;
        size_t len = 0;
        uint64_t seq = 0;
        rc = zfd_take(reader, &slot, &data, &len, &seq);
        if (rc == ZFD_E_NO_SAMPLE) {
            rc = zfd_reader_wait(reader, 1000 * kMs);
            if (rc == ZFD_E_TIMEOUT) {
                ++wait_timeouts;
                if (now_ns() - last_progress > 20000 * kMs) {
                    last_rc = rc;
                    break;
                }
                continue;
            }
            if (rc != ZFD_OK) {
                last_rc = rc;
                break;
            }
            continue;
        }
        if (rc != ZFD_OK) {
            last_rc = rc;
            break;
        }
        last_progress = now_ns();
        if (have_seq && seq != last_seq + 1) ++seq_jumps;
        have_seq = true;
        last_seq = seq;
        StressHeader h{};
        if (len < sizeof h || len > cap) {
            ++bad_len;
        } else {
            std::memcpy(&h, data, sizeof h);
            const auto* body = static_cast<const unsigned char*>(data) + sizeof h;
            const size_t body_len = len - sizeof h;
            if (h.len != len || h.magic != kStressMagic || h.len != stress_len(h.index, cap)) ++bad_len;
            if (h.checksum != checksum(h.index, h.len, body, body_len)) ++bad_sum;
            fill_body(h.index, pattern.data(), body_len);
            if (std::memcmp(pattern.data(), body, body_len) != 0) ++bad_body;
            if (h.index < expected) {
                ++dups;
            } else {
                if (h.index > expected) gaps += h.index - expected;
                expected = h.index + 1;
            }
        }
        if (zfd_release(reader, slot) != ZFD_OK) ++bad_release;
        ++received;
    }
    const long long ms = static_cast<long long>((now_ns() - t0) / kMs);
    zfd_reader_close(reader);
    zfd_segment_close(seg);
    const uint64_t errors = dups + gaps + bad_sum + bad_len + bad_body + seq_jumps + bad_release;
    out("RESULT received=%" PRIu64 " expected=%" PRIu64 " last_index=%" PRIu64 " dups=%" PRIu64
        " gaps=%" PRIu64 " bad_sum=%" PRIu64 " bad_len=%" PRIu64 " bad_body=%" PRIu64
        " seq_jumps=%" PRIu64 " bad_release=%" PRIu64 " wait_timeouts=%" PRIu64
        " errors=%" PRIu64 " rc=%d ms=%lld",
        received, n, expected == 0 ? 0 : expected - 1, dups, gaps, bad_sum, bad_len, bad_body,
        seq_jumps, bad_release, wait_timeouts, errors, last_rc, ms);
    return received == n && errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: zfd_worker writer-ctl|reader-ctl|open|enospc|stress-writer|"
                     "stress-reader key=value...\n");
        return 101;
    }
    Args a;
    for (int i = 2; i < argc; ++i) {
        const char* eq = std::strchr(argv[i], '=');
        if (eq == nullptr) {
            std::fprintf(stderr, "zfd_worker: argument %s is not key=value\n", argv[i]);
            return 101;
        }
        a[std::string(argv[i], static_cast<size_t>(eq - argv[i]))] = eq + 1;
    }
    // Safety net: never outlive a forgetful driver by much.
    ::alarm(static_cast<unsigned>(arg_u64(a, "alarm", "120")));
    ::signal(SIGPIPE, SIG_DFL);
    // The SIGSEGV test kills a worker on purpose: no core files.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);

    const std::string sub = argv[1];
    if (sub == "writer-ctl") return writer_ctl(a);
    if (sub == "reader-ctl") return reader_ctl(a);
    if (sub == "open") return open_once(a);
    if (sub == "enospc") return enospc(a);
    if (sub == "stress-writer") return stress_writer(a);
    if (sub == "stress-reader") return stress_reader(a);
    std::fprintf(stderr, "zfd_worker: unknown subcommand %s\n", argv[1]);
    return 101;
}
