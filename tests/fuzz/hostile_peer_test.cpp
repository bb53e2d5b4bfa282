// hostile_peer_test.cpp — readers against a live segment whose control area
// a hostile peer keeps scribbling on (reliability.md §4, F2).
//
// Consumers map the control area of a named segment writable (their pending
// bits and reader entry live there), so any process that may open a segment
// can write garbage into it. This test runs, in rounds of ~1.5 s on a fresh
// named segment each (unique name, unlinked at the end of the round):
//
//   * a writer thread (the owner handle) publishing checksummed samples, and
//     evicting / reaping now and then so it keeps making progress;
//   * 4 reader threads, each on its own consumer handle (zfd_segment_open),
//     looping take / release / take_copy / reader_wait(short timeout), and
//     reopening their reader or handle when told DETACHED / PEER_GONE;
//   * a mutator thread with its own read-write mmap of /dev/shm/zfd.<name>
//     writing random bytes and plausible words (0, ~0, +-1, state encodings,
//     copies of other words) at random offsets of the CONTROL area: the header
//     after its first cache line, the reader table, the slot control words,
//     the log (descriptors) and the held bitmaps. Each round picks a target
//     area and a rate.
//
// Pass: the process does not crash (run it under ASan+UBSan too), every call
// on the reader side returns a status documented for it in flatdata.h, a
// taken sample's len never exceeds slot_capacity and its pointer is 64-byte
// aligned, sequence numbers returned by one reader strictly increase, and at
// least 5000 reads per second of run time were made. Torn or forged samples
// (bad checksum) are expected once pending bits and state words are forged
// and are only counted. Writer-side failures are counted, never enforced.
//
// Environment: ZFD_HOSTILE_SECONDS (default 20), ZFD_HOSTILE_SEED.
#include <zerodds/flatdata.h>

#include "layout.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ly = zerodds::flatdata::layout;
using Clock = std::chrono::steady_clock;

namespace {

// ---------------------------------------------------------------- counters

enum Op { kTake, kRelease, kTakeCopy, kWait, kReaderOpen, kSegmentOpen, kPublish, kReserve, kCommit,
          kEvict, kReap, kOpCount };
const char* const kOpNames[kOpCount] = {"take", "release", "take_copy", "reader_wait", "reader_open",
                                        "segment_open", "publish", "reserve_wait", "commit",
                                        "evict_stale", "reap_dead_readers"};
constexpr int kCodes = 32;  // -code, 0..20 used; the last column counts anything else
const char* code_name(int c) {
    static const char* const names[] = {"OK", "INVAL", "NOMEM", "NO_FREE_SLOT", "TOO_LARGE",
                                        "NOT_LOANED", "NO_SAMPLE", "TIMEOUT", "TYPE_MISMATCH",
                                        "INCOMPATIBLE", "CORRUPT", "EXISTS", "NOT_FOUND",
                                        "PERMISSION", "NO_READER_SLOT", "EVICTED", "UNSUPPORTED",
                                        "PEER_GONE", "SYSTEM", "INTERNAL", "DETACHED"};
    return c >= 0 && c < static_cast<int>(sizeof names / sizeof *names) ? names[c] : "other";
}

std::atomic<std::uint64_t> g_count[kOpCount][kCodes];
std::atomic<std::uint64_t> g_undocumented{0};
std::atomic<std::uint64_t> g_violations{0};
std::atomic<std::uint64_t> g_samples_ok{0};
std::atomic<std::uint64_t> g_samples_bad{0};
std::atomic<std::uint64_t> g_mutations{0};
std::atomic<std::uint64_t> g_rounds{0};
std::mutex g_print_mutex;

// Documented return codes per reader-side call (flatdata.h).
const std::map<Op, std::set<int32_t>> kDocumented = {
    {kTake, {ZFD_OK, ZFD_E_INVAL, ZFD_E_NO_SAMPLE, ZFD_E_PEER_GONE, ZFD_E_DETACHED}},
    {kRelease, {ZFD_OK, ZFD_E_INVAL, ZFD_E_NOT_LOANED, ZFD_E_DETACHED, ZFD_E_EVICTED}},
    {kTakeCopy,
     {ZFD_OK, ZFD_E_INVAL, ZFD_E_NO_SAMPLE, ZFD_E_TOO_LARGE, ZFD_E_PEER_GONE, ZFD_E_DETACHED}},
    {kWait, {ZFD_OK, ZFD_E_INVAL, ZFD_E_TIMEOUT, ZFD_E_PEER_GONE, ZFD_E_DETACHED}},
    {kReaderOpen,
     {ZFD_OK, ZFD_E_INVAL, ZFD_E_NO_READER_SLOT, ZFD_E_NOMEM, ZFD_E_PEER_GONE, ZFD_E_SYSTEM}},
    {kSegmentOpen,
     {ZFD_OK, ZFD_E_INVAL, ZFD_E_NOT_FOUND, ZFD_E_PERMISSION, ZFD_E_INCOMPATIBLE, ZFD_E_CORRUPT,
      ZFD_E_TYPE_MISMATCH, ZFD_E_TIMEOUT, ZFD_E_NOMEM, ZFD_E_SYSTEM}},
};

int32_t count(Op op, int32_t code, const char* context = nullptr) {
    const int idx = code <= 0 && code > -kCodes ? -code : kCodes - 1;
    g_count[op][idx].fetch_add(1, std::memory_order_relaxed);
    auto it = kDocumented.find(op);
    if (it != kDocumented.end() && it->second.count(code) == 0) {
        g_undocumented.fetch_add(1);
        std::lock_guard lock(g_print_mutex);
        std::fprintf(stderr, "UNDOCUMENTED: %s returned %d (%s)%s%s\n", kOpNames[op], code,
                     zfd_status_str(code), context ? ": " : "", context ? context : "");
    }
    return code;
}

void violation(const char* what, std::uint64_t a = 0, std::uint64_t b = 0) {
    g_violations.fetch_add(1);
    std::lock_guard lock(g_print_mutex);
    std::fprintf(stderr, "VIOLATION: %s (%" PRIu64 ", %" PRIu64 ")\n", what, a, b);
}

// ---------------------------------------------------------------- samples

// [u64 seq][u32 len][u32 crc][bytes = f(seq)]
std::uint32_t crc(const std::uint8_t* p, std::size_t n) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
    return h;
}

std::size_t make_sample(std::uint8_t* buf, std::size_t cap, std::uint64_t seq) {
    const std::size_t len = 16 + static_cast<std::size_t>(seq % (cap - 15));
    for (std::size_t i = 16; i < len; ++i) buf[i] = static_cast<std::uint8_t>(seq * 131 + i);
    const auto l32 = static_cast<std::uint32_t>(len);
    std::memcpy(buf, &seq, 8);
    std::memcpy(buf + 8, &l32, 4);
    const std::uint32_t c = crc(buf + 16, len - 16) ^ static_cast<std::uint32_t>(seq);
    std::memcpy(buf + 12, &c, 4);
    return len;
}

bool check_sample(const std::uint8_t* p, std::size_t len) {
    if (len < 16) return false;
    std::uint64_t seq;
    std::uint32_t l32, c;
    std::memcpy(&seq, p, 8);
    std::memcpy(&l32, p + 8, 4);
    std::memcpy(&c, p + 12, 4);
    return l32 == len && c == (crc(p + 16, len - 16) ^ static_cast<std::uint32_t>(seq));
}

// ---------------------------------------------------------------- a round

struct Round {
    std::string name;
    std::uint32_t slot_count = 0;
    std::uint64_t slot_capacity = 0;
    ly::Geometry g{};
    std::atomic<bool> stop{false};
    std::atomic<bool> stop_mutator{false};
    int target = 0;         // 0 all, 1 header, 2 readers, 3 slots, 4 log, 5 held bitmaps
    int rate = 0;           // 0 sparse, 1 steady, 2 bursts
};

int64_t env_int(const char* name, int64_t dflt) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtoll(v, nullptr, 10) : dflt;
}

void writer_thread(Round& r, zfd_segment* owner, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint8_t> buf(r.slot_capacity);
    std::uint64_t n = 0;
    while (!r.stop.load(std::memory_order_relaxed)) {
        const std::size_t len = make_sample(buf.data(), buf.size(), n);
        int32_t rc;
        if (rng() % 4 == 0) {
            zfd_slot slot = 0;
            void* data = nullptr;
            rc = count(kReserve, zfd_reserve_wait(owner, 200'000, &slot, &data));
            if (rc == ZFD_OK) {
                if (rng() % 16 == 0) {
                    count(kCommit, zfd_discard(owner, slot));
                } else {
                    std::memcpy(data, buf.data(), len);
                    rc = count(kCommit, zfd_commit_in_place(owner, slot, len, nullptr));
                }
            }
        } else {
            rc = count(kPublish, zfd_publish(owner, buf.data(), len, nullptr));
        }
        if (rc == ZFD_OK) {
            ++n;
        } else {
            // Forged pending bits pin slots: evict what is older than 1 ms.
            uint32_t k = 0;
            count(kEvict, zfd_evict_stale(owner, 1'000'000, &k));
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        if (rng() % 512 == 0) {
            uint32_t k = 0;
            count(kReap, zfd_reap_dead_readers(owner, &k));
        }
    }
}

void reader_thread(Round& r, int id, std::uint64_t seed, std::atomic<std::uint64_t>& reads) {
    std::mt19937_64 rng(seed);
    std::vector<std::uint8_t> buf(r.slot_capacity);
    zfd_segment* seg = nullptr;
    zfd_reader* rd = nullptr;
    std::vector<zfd_slot> held;
    bool have_seq = false;
    std::uint64_t last_seq = 0;
    std::uint64_t local_reads = 0;

    auto close_reader = [&] {
        for (zfd_slot t : held) count(kRelease, zfd_release(rd, t));
        held.clear();
        zfd_reader_close(rd);
        rd = nullptr;
        have_seq = false;
    };
    auto close_segment = [&] {
        if (rd) close_reader();
        zfd_segment_close(seg);
        seg = nullptr;
    };
    auto saw = [&](std::uint64_t seq) {
        if (have_seq && seq <= last_seq) violation("sequence numbers must strictly increase", last_seq, seq);
        have_seq = true;
        last_seq = seq;
    };
    auto check_data = [&](const void* data, std::size_t len) {
        if (len > r.slot_capacity) violation("len > slot_capacity", len, r.slot_capacity);
        if (data == nullptr || (reinterpret_cast<std::uintptr_t>(data) & 63) != 0) {
            violation("sample pointer not 64-byte aligned", reinterpret_cast<std::uintptr_t>(data));
            return;
        }
        // Touch every byte: a bad pointer faults (or trips ASan) here.
        if (len <= r.slot_capacity && check_sample(static_cast<const std::uint8_t*>(data), len)) {
            g_samples_ok.fetch_add(1, std::memory_order_relaxed);
        } else {
            g_samples_bad.fetch_add(1, std::memory_order_relaxed);
        }
    };

    while (!r.stop.load(std::memory_order_relaxed)) {
        if (seg == nullptr) {
            zfd_error err{};
            err.struct_size = sizeof err;
            const int32_t rc = count(kSegmentOpen, zfd_segment_open(r.name.c_str(), nullptr, 0, &seg, &err));
            if (rc != ZFD_OK) {
                seg = nullptr;
                if (std::memchr(err.message, '\0', sizeof err.message) == nullptr) {
                    violation("zfd_error.message not terminated");
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                continue;
            }
        }
        if (rd == nullptr) {
            const int32_t rc = count(kReaderOpen, zfd_reader_open(seg, 0, &rd));
            if (rc != ZFD_OK) {
                rd = nullptr;
                if (rc == ZFD_E_PEER_GONE) close_segment();  // owner_closed forged: reopen
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
        }
        int32_t rc = ZFD_OK;
        const unsigned pick = static_cast<unsigned>(rng() % 16);
        if (pick < 7) {
            zfd_slot t = 0;
            const void* data = nullptr;
            size_t len = 0;
            uint64_t seq = 0;
            rc = count(kTake, zfd_take(rd, &t, &data, &len, &seq));
            ++local_reads;
            if (rc == ZFD_OK) {
                saw(seq);
                check_data(data, len);
                held.push_back(t);
                if (held.size() > 3 || rng() % 2 == 0) {
                    const std::size_t i = rng() % held.size();
                    const int32_t rel = count(kRelease, zfd_release(rd, held[i]));
                    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
                    if (rel == ZFD_E_DETACHED) rc = rel;
                }
            }
        } else if (pick < 12) {
            const std::size_t cap = rng() % 8 == 0 ? 8 : buf.size();
            size_t len = 0;
            uint64_t seq = 0;
            rc = count(kTakeCopy, zfd_take_copy(rd, buf.data(), cap, &len, &seq));
            ++local_reads;
            if (rc == ZFD_OK) {
                saw(seq);
                if (len > cap) violation("take_copy: len > capacity", len, cap);
                else if (check_sample(buf.data(), len)) g_samples_ok.fetch_add(1, std::memory_order_relaxed);
                else g_samples_bad.fetch_add(1, std::memory_order_relaxed);
            } else if (rc == ZFD_E_TOO_LARGE && len <= cap) {
                violation("take_copy: TOO_LARGE with a fitting len", len, cap);
            }
        } else if (pick < 15) {
            rc = count(kWait, zfd_reader_wait(rd, static_cast<int64_t>(rng() % 500'000)));
            ++local_reads;
        } else {
            // Release everything held, sometimes close and reopen the reader.
            for (zfd_slot t : held) {
                const int32_t rel = count(kRelease, zfd_release(rd, t));
                if (rel == ZFD_E_DETACHED) rc = rel;
            }
            held.clear();
            if (rng() % 64 == 0) close_reader();
        }
        if (rc == ZFD_E_DETACHED) {
            close_reader();
        } else if (rc == ZFD_E_PEER_GONE) {
            close_segment();  // the handle caches owner death; a fresh open re-checks
        }
    }
    if (seg) close_segment();
    reads.fetch_add(local_reads);
    (void)id;
}

void mutator_thread(Round& r, std::uint64_t seed, std::uint8_t* map) {
    std::mt19937_64 rng(seed);
    const std::uint64_t control_end = r.g.held_offset + ly::kReaderEntries * r.g.held_stride;
    struct Area {
        std::uint64_t begin, end;
    };
    const Area areas[] = {
        {ly::kCacheLine, control_end},                                    // all control
        {ly::kCacheLine, sizeof(ly::SegmentHeader)},                      // header lines 1..7
        {r.g.readers_offset, r.g.slots_offset},                           // reader table
        {r.g.slots_offset, r.g.log_offset},                               // slot control words
        {r.g.log_offset, r.g.held_offset},                                // log (descriptors)
        {r.g.held_offset, control_end},                                   // held bitmaps
    };
    const Area a = areas[r.target];
    auto word_at = [&](std::uint64_t off) { return reinterpret_cast<std::uint64_t*>(map + (off & ~std::uint64_t{7})); };
    std::uint64_t n = 0;
    while (!r.stop_mutator.load(std::memory_order_relaxed)) {
        const int burst = r.rate == 2 ? 64 : 1;
        for (int b = 0; b < burst; ++b) {
            const std::uint64_t off = a.begin + rng() % (a.end - a.begin);
            std::uint64_t* w = word_at(off);
            const std::uint64_t old = __atomic_load_n(w, __ATOMIC_RELAXED);
            std::uint64_t v;
            switch (rng() % 10) {
                case 0: {  // one random byte
                    const auto byte = static_cast<std::uint8_t>(rng());
                    __atomic_store_n(map + off, byte, __ATOMIC_RELAXED);
                    ++n;
                    continue;
                }
                case 1: v = 0; break;
                case 2: v = ~std::uint64_t{0}; break;
                case 3: v = old + 1; break;
                case 4: v = old - 1; break;
                case 5: v = old ^ (std::uint64_t{1} << (rng() % 64)); break;
                case 6: v = (old & ~std::uint64_t{3}) | (rng() & 3); break;         // state/entry kind
                case 7: v = ((old >> 2) + 1 + rng() % 3) << 2 | (rng() & 3); break;  // next gen/epoch
                case 8: v = __atomic_load_n(word_at(a.begin + rng() % (a.end - a.begin)), __ATOMIC_RELAXED); break;
                default: v = rng(); break;
            }
            __atomic_store_n(w, v, __ATOMIC_RELAXED);
            ++n;
        }
        switch (r.rate) {
            case 0: std::this_thread::sleep_for(std::chrono::microseconds(500)); break;
            case 1: std::this_thread::sleep_for(std::chrono::microseconds(20)); break;
            default: std::this_thread::sleep_for(std::chrono::milliseconds(2)); break;
        }
    }
    g_mutations.fetch_add(n);
}

bool run_round(int index, std::uint64_t seed, double seconds, std::atomic<std::uint64_t>& reads) {
    std::mt19937_64 rng(seed);
    Round r;
    r.name = "hostile-" + std::to_string(::getpid()) + "-" + std::to_string(index);
    const std::uint32_t counts[] = {1, 4, 8, 16, 64};
    const std::uint64_t caps[] = {64, 200, 1024};
    r.slot_count = counts[rng() % 5];
    r.slot_capacity = caps[rng() % 3];
    r.target = static_cast<int>(rng() % 6);
    r.rate = static_cast<int>(rng() % 3);
    if (!ly::compute_geometry(r.slot_count, r.slot_capacity, &r.g)) return false;

    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = r.slot_count;
    opts.slot_capacity = r.slot_capacity;
    zfd_segment* owner = nullptr;
    zfd_error err{};
    err.struct_size = sizeof err;
    if (zfd_segment_create(r.name.c_str(), &opts, &owner, &err) != ZFD_OK) {
        std::fprintf(stderr, "create %s failed: %s\n", r.name.c_str(), err.message);
        return false;
    }
    const std::string path = "/dev/shm/zfd." + r.name;
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    void* map = fd >= 0 ? ::mmap(nullptr, r.g.total_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                        : MAP_FAILED;
    if (map == MAP_FAILED) {
        std::perror(path.c_str());
        if (fd >= 0) ::close(fd);
        zfd_segment_close(owner);
        return false;
    }

    std::thread writer(writer_thread, std::ref(r), owner, rng());
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) readers.emplace_back(reader_thread, std::ref(r), i, rng(), std::ref(reads));
    // Let the readers attach and read a little before the scribbling starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::thread mutator(mutator_thread, std::ref(r), rng(), static_cast<std::uint8_t*>(map));
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    // Stop scribbling first, then everyone else; readers close their handles
    // while the owner still lives.
    r.stop_mutator = true;
    mutator.join();
    r.stop = true;
    for (auto& t : readers) t.join();
    writer.join();
    zfd_segment_close(owner);  // unlinks the name
    ::munmap(map, r.g.total_size);
    ::close(fd);
    if (::access(path.c_str(), F_OK) == 0) {
        violation("segment still linked after the owner closed");
        zfd_segment_unlink(r.name.c_str(), nullptr);
    }
    g_rounds.fetch_add(1);
    return true;
}

}  // namespace

int main() {
    const double seconds = static_cast<double>(env_int("ZFD_HOSTILE_SECONDS", 20));
    const auto seed = static_cast<std::uint64_t>(
        env_int("ZFD_HOSTILE_SEED", static_cast<int64_t>(Clock::now().time_since_epoch().count() & 0xffffffff)));
    std::printf("hostile-peer: %.0f s, seed %" PRIu64 " (ZFD_HOSTILE_SEED to repeat)\n", seconds, seed);
    std::fflush(stdout);

    std::mt19937_64 rng(seed);
    std::atomic<std::uint64_t> reads{0};
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    int index = 0;
    bool setup_ok = true;
    while (Clock::now() < end) {
        const double left = std::chrono::duration<double>(end - Clock::now()).count();
        if (!run_round(index++, rng(), left < 1.5 ? left : 1.5, reads)) {
            setup_ok = false;
            break;
        }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    std::printf("%-18s", "call \\ status");
    for (int c = 0; c < kCodes; ++c) {
        bool used = false;
        for (int op = 0; op < kOpCount; ++op) used |= g_count[op][c].load() != 0;
        if (used) std::printf(" %14s", code_name(c));
    }
    std::printf("\n");
    for (int op = 0; op < kOpCount; ++op) {
        std::printf("%-18s", kOpNames[op]);
        for (int c = 0; c < kCodes; ++c) {
            bool used = false;
            for (int o = 0; o < kOpCount; ++o) used |= g_count[o][c].load() != 0;
            if (used) std::printf(" %14" PRIu64, g_count[op][c].load());
        }
        std::printf("\n");
    }
    const std::uint64_t min_reads = static_cast<std::uint64_t>(5000 * seconds);
    std::printf("hostile-peer: %" PRIu64 " rounds in %.1f s, %" PRIu64 " reads (%.0f/s), %" PRIu64
                " mutations; samples: %" PRIu64 " intact, %" PRIu64 " torn/forged (expected under "
                "forgery); undocumented codes %" PRIu64 ", violations %" PRIu64 ", crashes 0\n",
                g_rounds.load(), elapsed, reads.load(), static_cast<double>(reads.load()) / elapsed,
                g_mutations.load(), g_samples_ok.load(), g_samples_bad.load(), g_undocumented.load(),
                g_violations.load());
    bool ok = setup_ok && g_undocumented.load() == 0 && g_violations.load() == 0;
    if (reads.load() < min_reads) {
        std::printf("hostile-peer: too few reads (%" PRIu64 " < %" PRIu64 ")\n", reads.load(), min_reads);
        ok = false;
    }
    std::printf("hostile-peer: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
