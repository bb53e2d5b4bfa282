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
// Three more configurations cover the 0.2 protocol paths: two writer threads
// on one segment (the writer gate turns into a lock; 4 readers get every
// sample once, in order), ZFD_SEGMENT_OVERWRITE_OLDEST (a writer that never
// waits; a reader holding samples for a while re-reads them intact at
// release, a zfd_take_latest reader, a reader that never reads), and
// history (readers re-attaching with ZFD_READER_HISTORY get the retained
// samples and then the live ones with no gap).
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

// ---------------------------------------------------------------- 0.2 paths

bool run_two_writers(int ms) {
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = kSlots;
    opts.slot_capacity = kCapacity;
    zfd_segment* seg = nullptr;
    if (zfd_segment_create(nullptr, &opts, &seg, nullptr) != ZFD_OK) return false;
    constexpr int kR = 4;
    zfd_reader* readers[kR] = {};
    for (auto& r : readers) {
        if (zfd_reader_open(seg, 0, &r) != ZFD_OK) return false;
    }
    std::atomic<std::uint64_t> committed{0};
    std::vector<std::uint64_t> taken(kR, 0);
    std::vector<std::thread> rt;
    for (int i = 0; i < kR; ++i) {
        rt.emplace_back([&, i] {
            std::uint64_t expect = 0;
            for (;;) {
                zfd_slot t = 0;
                const void* data = nullptr;
                size_t len = 0;
                std::uint64_t seq = 0;
                const int32_t rc = zfd_take(readers[i], &t, &data, &len, &seq);
                if (rc == ZFD_E_NO_SAMPLE) {
                    sched_yield();
                    continue;
                }
                if (rc != ZFD_OK) break;  // PEER_GONE
                // The payload carries the writer's own count, not the
                // sequence: check the bytes, and the sequence separately.
                std::uint64_t tag = 0;
                std::memcpy(&tag, data, 8);
                if (!verify(data, len, tag)) error("two writers: bad sample", static_cast<long long>(seq), len);
                if (seq != expect) error("two writers: sequence", static_cast<long long>(seq), static_cast<long long>(expect));
                expect = seq + 1;
                ++taken[static_cast<std::size_t>(i)];
                if (zfd_release(readers[i], t) != ZFD_OK) error("two writers: release", 0, 0);
            }
        });
    }
    auto writer = [&](std::uint64_t base) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        std::uint8_t buf[kCapacity];
        for (std::uint64_t n = 0; std::chrono::steady_clock::now() < deadline;) {
            const std::size_t len = fill(buf, base + n);
            const int32_t rc = zfd_publish(seg, buf, len, nullptr);
            if (rc == ZFD_OK) {
                ++n;
                committed.fetch_add(1);
            } else if (rc == ZFD_E_NO_FREE_SLOT) {
                sched_yield();
            } else {
                error("two writers: publish", rc, 0);
                break;
            }
        }
    };
    std::thread w1(writer, 0), w2(writer, std::uint64_t{1} << 40);
    w1.join();
    w2.join();
    zfd_segment_close(seg);
    for (auto& t : rt) t.join();
    bool ok = committed.load() > 0;
    for (int i = 0; i < kR; ++i) {
        if (taken[static_cast<std::size_t>(i)] != committed.load()) {
            error("two writers: reader missed samples", static_cast<long long>(taken[static_cast<std::size_t>(i)]),
                  static_cast<long long>(committed.load()));
            ok = false;
        }
        zfd_reader_close(readers[i]);
    }
    std::printf("tsan-stress: 2 writer threads, 4 readers: %9" PRIu64 " samples\n", committed.load());
    std::fflush(stdout);
    return ok;
}

bool run_overwrite(int ms) {
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = kSlots;
    opts.slot_capacity = kCapacity;
    opts.flags = ZFD_SEGMENT_OVERWRITE_OLDEST;
    zfd_segment* seg = nullptr;
    if (zfd_segment_create(nullptr, &opts, &seg, nullptr) != ZFD_OK) return false;
    zfd_reader *holder = nullptr, *latest = nullptr, *lazy = nullptr;
    if (zfd_reader_open(seg, 0, &holder) != ZFD_OK || zfd_reader_open(seg, 0, &latest) != ZFD_OK ||
        zfd_reader_open(seg, 0, &lazy) != ZFD_OK) {
        return false;
    }
    std::uint64_t held_checked = 0, got_latest = 0, published = 0, full = 0;
    std::thread th([&] {  // holds up to 4 samples, re-reads them before releasing
        zfd_slot t[4];
        const void* d[4];
        size_t l[4];
        std::uint64_t s[4];
        std::uint64_t last = 0;
        bool have = false;
        int n = 0;
        for (std::uint64_t i = 0;; ++i) {
            const int32_t rc = zfd_take(holder, &t[n], &d[n], &l[n], &s[n]);
            if (rc == ZFD_E_NO_SAMPLE) {
                sched_yield();
            } else if (rc != ZFD_OK) {
                break;
            } else {
                if (!verify(d[n], l[n], s[n])) error("overwrite: bad sample", static_cast<long long>(s[n]), l[n]);
                if (have && s[n] <= last) error("overwrite: sequence", static_cast<long long>(s[n]), static_cast<long long>(last));
                last = s[n];
                have = true;
                ++n;
            }
            if (n == 4 || (n > 0 && (i % 64) == 0)) {
                for (int h = 0; h < n; ++h) {
                    if (!verify(d[h], l[h], s[h])) error("overwrite: held sample changed", static_cast<long long>(s[h]), 0);
                    if (zfd_release(holder, t[h]) != ZFD_OK) error("overwrite: release", 0, 0);
                    ++held_checked;
                }
                n = 0;
            }
        }
        for (int h = 0; h < n; ++h) (void)zfd_release(holder, t[h]);
    });
    std::thread tl([&] {
        std::uint64_t last = 0;
        bool have = false;
        for (;;) {
            zfd_slot t = 0;
            const void* d = nullptr;
            size_t l = 0;
            std::uint64_t s = 0;
            const int32_t rc = zfd_take_latest(latest, &t, &d, &l, &s);
            if (rc == ZFD_E_NO_SAMPLE) {
                sched_yield();
                continue;
            }
            if (rc != ZFD_OK) break;
            if (!verify(d, l, s)) error("take_latest: bad sample", static_cast<long long>(s), l);
            if (have && s <= last) error("take_latest: sequence", static_cast<long long>(s), static_cast<long long>(last));
            last = s;
            have = true;
            ++got_latest;
            if (zfd_release(latest, t) != ZFD_OK) error("take_latest: release", 0, 0);
        }
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::uint8_t buf[kCapacity];
    while (std::chrono::steady_clock::now() < deadline) {
        const std::size_t len = fill(buf, published);
        const int32_t rc = zfd_publish(seg, buf, len, nullptr);
        if (rc == ZFD_OK) {
            ++published;
        } else if (rc == ZFD_E_NO_FREE_SLOT) {
            ++full;  // possible only while 4 + 1 samples are held of 16: never
            sched_yield();
        } else {
            error("overwrite: publish", rc, 0);
            break;
        }
    }
    zfd_segment_close(seg);
    th.join();
    tl.join();
    zfd_reader_close(holder);
    zfd_reader_close(latest);
    zfd_reader_close(lazy);
    if (full != 0) error("overwrite: the writer found no slot", static_cast<long long>(full), 0);
    std::printf("tsan-stress: overwrite, holder + take_latest + stalled: %9" PRIu64
                " samples, %" PRIu64 " held samples intact, %" PRIu64 " latest\n",
                published, held_checked, got_latest);
    std::fflush(stdout);
    return published > 0 && held_checked > 0 && full == 0;
}

bool run_history(int ms) {
    constexpr std::uint32_t kHistory = 4;
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = kSlots;
    opts.slot_capacity = kCapacity;
    opts.history = kHistory;
    zfd_segment* seg = nullptr;
    if (zfd_segment_create(nullptr, &opts, &seg, nullptr) != ZFD_OK) return false;
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> attaches{0}, retained{0};
    auto joiner = [&] {
        while (!done.load()) {
            zfd_segment_info info{};
            info.struct_size = sizeof info;
            (void)zfd_segment_get_info(seg, &info);
            const std::uint64_t before = info.next_sequence;
            zfd_reader* r = nullptr;
            if (zfd_reader_open(seg, ZFD_READER_HISTORY, &r) != ZFD_OK) {
                error("history: reader_open", 0, 0);
                return;
            }
            attaches.fetch_add(1);
            std::uint64_t last = 0;
            bool have = false;
            for (int n = 0; n < 40 && !done.load();) {
                zfd_slot t = 0;
                const void* d = nullptr;
                size_t l = 0;
                std::uint64_t s = 0;
                const int32_t rc = zfd_take(r, &t, &d, &l, &s);
                if (rc == ZFD_E_NO_SAMPLE) {
                    sched_yield();
                    continue;
                }
                if (rc != ZFD_OK) break;
                if (!verify(d, l, s)) error("history: bad sample", static_cast<long long>(s), l);
                if (!have) {
                    const std::uint64_t lo = before > kHistory ? before - kHistory : 0;
                    if (s < lo) error("history: first sample too old", static_cast<long long>(s), static_cast<long long>(lo));
                    if (s < before) retained.fetch_add(before - s);
                } else if (s != last + 1) {
                    error("history: gap", static_cast<long long>(s), static_cast<long long>(last));
                }
                last = s;
                have = true;
                ++n;
                if (zfd_release(r, t) != ZFD_OK) error("history: release", 0, 0);
            }
            zfd_reader_close(r);
        }
    };
    std::thread j1(joiner), j2(joiner);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    std::uint8_t buf[kCapacity];
    std::uint64_t published = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::size_t len = fill(buf, published);
        const int32_t rc = zfd_publish(seg, buf, len, nullptr);
        if (rc == ZFD_OK) {
            ++published;
        } else if (rc == ZFD_E_NO_FREE_SLOT) {
            sched_yield();
        } else {
            error("history: publish", rc, 0);
            break;
        }
    }
    done = true;
    j1.join();
    j2.join();
    zfd_segment_close(seg);
    std::printf("tsan-stress: history %u, 2 re-attaching readers: %9" PRIu64 " samples, %" PRIu64
                " attaches, %" PRIu64 " retained samples delivered\n",
                kHistory, published, attaches.load(), retained.load());
    std::fflush(stdout);
    return published > 0 && attaches.load() > 0;
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
    ok = run_two_writers(ms) && ok;
    ok = run_overwrite(ms) && ok;
    ok = run_history(ms) && ok;
    configs += 3;
    std::printf("tsan-stress: %" PRIu64 " configurations, %" PRIu64 " errors: %s\n", configs,
                g_errors.load(), ok && g_errors.load() == 0 ? "PASS" : "FAIL");
    return ok && g_errors.load() == 0 ? 0 : 1;
}
