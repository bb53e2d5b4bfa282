// tsan_stress_test.cpp — in-process multithread stress for ThreadSanitizer
// (reliability.md §4, T1). Plain C API on an in-memory segment.
//
// Six configurations: a writer thread with 1, 4 and 31 reader threads, each
// readers either spinning (zfd_take / zfd_take_copy polled, sched_yield on
// NO_SAMPLE) or blocking (zfd_reader_wait). A monitor thread reads the notify
// generation and segment info and sleeps in zfd_wait_for_change meanwhile.
// The writer alternates zfd_publish, reserve + commit_in_place, reserve +
// commit and reserve + discard (spin: zfd_reserve + yield; blocking:
// zfd_reserve_wait). Samples carry their sequence number and a checksum.
//
// Every reader is attached before the first commit and nothing is evicted, so
// each must take every sample exactly once, in order, intact, with every
// release returning ZFD_OK; after the owner closes it drains and gets
// ZFD_E_PEER_GONE. In build-tsan (clang -fsanitize=thread) any data race
// aborts the run (TSAN_OPTIONS=halt_on_error=1:exitcode=66).
//
// Environment: ZFD_TSAN_STRESS_MS per configuration (default 2500).
#include <zerodds/flatdata.h>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr std::uint32_t kSlots = 16;
constexpr std::uint64_t kCapacity = 256;

std::uint32_t fnv(const std::uint8_t* p, std::size_t n) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
    return h;
}

// [u64 seq][u32 len][u32 checksum of the rest ^ seq][bytes = f(seq)]
std::size_t fill(std::uint8_t* buf, std::uint64_t seq) {
    const std::size_t len = 16 + static_cast<std::size_t>((seq * 7) % (kCapacity - 15));
    for (std::size_t i = 16; i < len; ++i) buf[i] = static_cast<std::uint8_t>(seq * 131 + i * 7);
    const auto l32 = static_cast<std::uint32_t>(len);
    std::memcpy(buf, &seq, 8);
    std::memcpy(buf + 8, &l32, 4);
    const std::uint32_t c = fnv(buf + 16, len - 16) ^ static_cast<std::uint32_t>(seq);
    std::memcpy(buf + 12, &c, 4);
    return len;
}

bool verify(const void* data, std::size_t len, std::uint64_t seq) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    if (len < 16 || len > kCapacity) return false;
    std::uint64_t s;
    std::uint32_t l32, c;
    std::memcpy(&s, p, 8);
    std::memcpy(&l32, p + 8, 4);
    std::memcpy(&c, p + 12, 4);
    return s == seq && l32 == len && c == (fnv(p + 16, len - 16) ^ static_cast<std::uint32_t>(seq));
}

std::atomic<std::uint64_t> g_errors{0};

void error(const char* what, long long a, long long b) {
    if (g_errors.fetch_add(1) < 20) std::fprintf(stderr, "ERROR: %s (%lld, %lld)\n", what, a, b);
}

struct ReaderResult {
    std::uint64_t taken = 0;
    std::uint64_t waits = 0;
    std::uint64_t empty = 0;
};

void reader_loop(zfd_reader* r, bool blocking, ReaderResult* out) {
    std::uint64_t expected = 0;
    std::uint8_t buf[kCapacity];
    zfd_slot held[2];
    std::uint64_t held_seq[2];
    int n_held = 0;
    for (std::uint64_t i = 0;; ++i) {
        int32_t rc;
        std::uint64_t seq = 0;
        if (i % 3 == 2) {
            size_t len = 0;
            rc = zfd_take_copy(r, buf, sizeof buf, &len, &seq);
            if (rc == ZFD_OK && !verify(buf, len, seq)) error("take_copy: bad sample", seq, len);
        } else {
            zfd_slot t = 0;
            const void* data = nullptr;
            size_t len = 0;
            rc = zfd_take(r, &t, &data, &len, &seq);
            if (rc == ZFD_OK) {
                if (!verify(data, len, seq)) error("take: bad sample", seq, len);
                held[n_held] = t;
                held_seq[n_held] = seq;
                ++n_held;
                // Hold two, release them in reverse order now and then.
                if (n_held == 2 || (i & 1) == 0) {
                    for (int h = n_held - 1; h >= 0; --h) {
                        const int32_t rel = zfd_release(r, held[h]);
                        if (rel != ZFD_OK) error("release", rel, static_cast<long long>(held_seq[h]));
                    }
                    n_held = 0;
                }
            }
        }
        if (rc == ZFD_OK) {
            if (seq != expected) error("sequence", static_cast<long long>(seq), static_cast<long long>(expected));
            expected = seq + 1;
            ++out->taken;
        } else if (rc == ZFD_E_NO_SAMPLE) {
            ++out->empty;
            if (blocking) {
                const int32_t w = zfd_reader_wait(r, 50'000'000);
                ++out->waits;
                if (w != ZFD_OK && w != ZFD_E_TIMEOUT && w != ZFD_E_PEER_GONE) error("reader_wait", w, 0);
            } else {
                sched_yield();
            }
        } else if (rc == ZFD_E_PEER_GONE) {
            break;
        } else {
            error("take/take_copy", rc, 0);
            break;
        }
    }
    for (int h = n_held - 1; h >= 0; --h) {
        const int32_t rel = zfd_release(r, held[h]);
        if (rel != ZFD_OK) error("final release", rel, 0);
    }
}

bool run(int n_readers, bool blocking, int ms) {
    const auto t0 = std::chrono::steady_clock::now();
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = kSlots;
    opts.slot_capacity = kCapacity;
    zfd_segment* seg = nullptr;
    if (zfd_segment_create(nullptr, &opts, &seg, nullptr) != ZFD_OK) {
        error("create", 0, 0);
        return false;
    }
    std::vector<zfd_reader*> readers(static_cast<std::size_t>(n_readers), nullptr);
    for (auto& r : readers) {
        if (zfd_reader_open(seg, 0, &r) != ZFD_OK) {
            error("reader_open", 0, 0);
            return false;
        }
    }
    std::vector<ReaderResult> results(readers.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < readers.size(); ++i) {
        threads.emplace_back(reader_loop, readers[i], blocking, &results[i]);
    }

    std::atomic<bool> writer_done{false};
    std::uint64_t published = 0, discarded = 0, full = 0;
    std::thread writer([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        std::uint8_t buf[kCapacity];
        for (std::uint64_t i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
            const std::size_t len = fill(buf, published);
            std::uint64_t seq = ~std::uint64_t{0};
            int32_t rc;
            if (i % 4 == 0) {
                rc = zfd_publish(seg, buf, len, &seq);
            } else {
                zfd_slot slot = 0;
                void* data = nullptr;
                rc = blocking ? zfd_reserve_wait(seg, 10'000'000, &slot, &data)
                              : zfd_reserve(seg, &slot, &data);
                if (rc == ZFD_OK) {
                    if (i % 4 == 1) {
                        std::memcpy(data, buf, len);
                        rc = zfd_commit_in_place(seg, slot, len, &seq);
                    } else if (i % 4 == 2) {
                        rc = zfd_commit(seg, slot, buf, len, &seq);
                    } else {
                        std::memset(data, 0xee, kCapacity);  // never published
                        rc = zfd_discard(seg, slot);
                        if (rc != ZFD_OK) error("discard", rc, 0);
                        ++discarded;
                        continue;
                    }
                }
            }
            if (rc == ZFD_OK) {
                if (seq != published) error("writer sequence", static_cast<long long>(seq), static_cast<long long>(published));
                ++published;
            } else if (rc == ZFD_E_NO_FREE_SLOT || rc == ZFD_E_TIMEOUT) {
                ++full;
                if (!blocking) sched_yield();
            } else {
                error("writer", rc, 0);
            }
        }
        writer_done = true;
    });

    std::uint64_t monitor_changes = 0;
    std::thread monitor([&] {
        while (!writer_done.load()) {
            const std::uint64_t g = zfd_notify_generation(seg);
            zfd_segment_info info{};
            info.struct_size = sizeof info;
            if (zfd_segment_get_info(seg, &info) != ZFD_OK) error("get_info", 0, 0);
            if (zfd_wait_for_change(seg, g, 5'000'000) == ZFD_OK) ++monitor_changes;
        }
    });

    writer.join();
    monitor.join();
    zfd_segment_close(seg);  // owner close: readers drain, then PEER_GONE
    for (auto& t : threads) t.join();
    bool ok = true;
    std::uint64_t waits = 0;
    for (std::size_t i = 0; i < readers.size(); ++i) {
        if (results[i].taken != published) {
            error("reader missed samples", static_cast<long long>(results[i].taken), static_cast<long long>(published));
            ok = false;
        }
        waits += results[i].waits;
        zfd_reader_close(readers[i]);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tsan-stress: %2d readers %-8s %9" PRIu64 " samples, %6" PRIu64 " discarded, %7" PRIu64
                " writer-full, %7" PRIu64 " waits, %6" PRIu64 " changes seen, %.1f s\n",
                n_readers, blocking ? "blocking" : "spin", published, discarded, full, waits,
                monitor_changes, secs);
    std::fflush(stdout);
    return ok && published > 0;
}

}  // namespace

int main() {
    const char* env = std::getenv("ZFD_TSAN_STRESS_MS");
    const int ms = env && *env ? std::atoi(env) : 2500;
    bool ok = true;
    std::uint64_t configs = 0;
    for (int n : {1, 4, 31}) {
        for (bool blocking : {false, true}) {
            ok = run(n, blocking, ms) && ok;
            ++configs;
        }
    }
    std::printf("tsan-stress: %" PRIu64 " configurations, %" PRIu64 " errors: %s\n", configs,
                g_errors.load(), ok && g_errors.load() == 0 ? "PASS" : "FAIL");
    return ok && g_errors.load() == 0 ? 0 : 1;
}
