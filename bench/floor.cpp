// floor.cpp — the machine's floor: what any shared-memory transport between
// two pinned processes pays at least. Latency: one shared cache line
// ping-ponged with spinning; the same through a raw shared futex word.
// Throughput: a minimal single-producer/single-consumer ring of fixed-size
// records, the best any one-writer channel can do.
#include "harness.hpp"
#include "measure.hpp"
#include "zfd_ops.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <new>

namespace zfd_bench {

namespace {

long futex(std::atomic<uint32_t>* w, int op, uint32_t val, const timespec* t) {
    // shared futex: no FUTEX_PRIVATE_FLAG, the word lives in a MAP_SHARED page
    return syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), op, val, t, nullptr, 0);
}

// Round trip i: role 0 stores 2i+1 (ping), role 1 answers 2i+2 (pong).
struct SpinLine {
    const Peer& p;
    std::atomic<uint64_t>& w;
    const uint64_t mine;    // added to 2i in what this side stores
    const uint64_t theirs;  // ... and in what it waits for

    SpinLine(const Peer& peer, std::atomic<uint64_t>& word)
        : p(peer), w(word), mine(peer.role == 0 ? 1 : 2), theirs(peer.role == 0 ? 2 : 1) {}
    int open() { return 0; }
    int close() { return 0; }
    int send(uint64_t i) {
        w.store(2 * i + mine, std::memory_order_release);
        return 0;
    }
    int recv(uint64_t i) {
        const uint64_t want = 2 * i + theirs;
        uint32_t spins = 0;
        while (w.load(std::memory_order_acquire) != want) {
            if ((++spins & 0xfff) == 0 && p.dl.expired()) return p.fail("timeout at %lu", (unsigned long)i);
            spin_hint();
        }
        return 0;
    }
};

// The same protocol on a futex word (32-bit wrap is fine): post, FUTEX_WAKE;
// wait in FUTEX_WAIT (100 ms slices, to see the deadline).
struct FutexWord {
    const Peer& p;
    std::atomic<uint32_t>* w;
    const uint32_t mine, theirs;

    FutexWord(const Peer& peer, std::atomic<uint32_t>* word)
        : p(peer), w(word), mine(peer.role == 0 ? 1 : 2), theirs(peer.role == 0 ? 2 : 1) {}
    int open() { return 0; }
    int close() { return 0; }
    int send(uint64_t i) {
        w->store(static_cast<uint32_t>(2 * i) + mine, std::memory_order_release);
        futex(w, FUTEX_WAKE, 1, nullptr);
        return 0;
    }
    int recv(uint64_t i) {
        const uint32_t want = static_cast<uint32_t>(2 * i) + theirs;
        const timespec slice{0, 100'000'000};
        for (;;) {
            uint32_t v = w->load(std::memory_order_acquire);
            if (v == want) return 0;
            futex(w, FUTEX_WAIT, v, &slice);
            if (p.dl.expired() && w->load(std::memory_order_acquire) != want)
                return p.fail("timeout at %lu", (unsigned long)i);
        }
    }
};

// ---------------------------------------------------------------------------
// SPSC ring: kTputSlots records of `size` bytes in a mapping shared by the
// same two pinned processes the throughput rows use. The writer owns head,
// the reader owns tail, each on its own cache line; each side re-reads the
// other's index only when its cached copy says full (writer) or empty
// (reader). Records are written and checked as the library rows touch
// payload (fill_sample / check_sample: the first 8 bytes, a sequence
// number). Both sides spin with a pause instruction (which lets the other
// side run ahead and so batches index transfers), never park.
// ---------------------------------------------------------------------------

struct RingIndices {
    alignas(64) std::atomic<uint64_t> head{0};  // records written
    alignas(64) std::atomic<uint64_t> tail{0};  // records read
};

struct RingWriter {
    const Peer& p;
    RingIndices* ix;
    unsigned char* rec;
    size_t size;

    int open() { return 0; }
    int produce(double seconds) {
        Ctl* ctl = p.ctl;
        const int64_t t0 = now_ns();
        ctl->t_start.store(t0);
        const int64_t end = t0 + static_cast<int64_t>(seconds * 1e9);
        uint64_t n = 0, tail = 0;
        for (;; ++n) {
            if ((n & 1023) == 0 && now_ns() >= end) break;
            if (n - tail == kTputSlots) {
                uint32_t spins = 0;
                while (n - (tail = ix->tail.load(std::memory_order_acquire)) == kTputSlots) {
                    if ((++spins & 0xfff) == 0 && p.dl.expired())
                        return p.fail("ring writer: full until the deadline (record %lu)", (unsigned long)n);
                    cpu_relax();
                    spin_hint();
                }
            }
            fill_sample(rec + (n % kTputSlots) * size, size, n, false);
            ix->head.store(n + 1, std::memory_order_release);
        }
        ctl->produced.store(n);
        ctl->writer_done.store(1, std::memory_order_release);
        return 0;
    }
};

struct RingReader {
    const Peer& p;
    RingIndices* ix;
    const unsigned char* rec;
    size_t size;

    int open() { return 0; }
    int consume() {
        Ctl* ctl = p.ctl;
        uint64_t cnt = 0, head = 0;
        uint32_t spins = 0;
        for (;;) {
            if (cnt == head && cnt == (head = ix->head.load(std::memory_order_acquire))) {
                if (ctl->writer_done.load(std::memory_order_acquire) && cnt >= ctl->produced.load()) break;
                if ((++spins & 0xfff) == 0 && p.dl.expired())
                    return p.fail("ring reader: deadline after %lu records", (unsigned long)cnt);
                cpu_relax();
                spin_hint();
                continue;
            }
            const unsigned char* r = rec + (cnt % kTputSlots) * size;
            if (!check_sample(r, size, cnt, false)) {
                uint64_t x;
                std::memcpy(&x, r, 8);
                return p.fail("ring reader: wrong record: expected %lu, got first word %lu", (unsigned long)cnt,
                              (unsigned long)x);
            }
            ix->tail.store(cnt + 1, std::memory_order_release);
            ++cnt;
        }
        ctl->count[p.role] = cnt;
        ctl->t_end[p.role] = now_ns();
        return 0;
    }
};

}  // namespace

Throughput floor_ring(size_t record, double seconds) {
    PinnedRun run;
    RingIndices* ix = new (run.shared<RingIndices>(1)) RingIndices();
    unsigned char* rec = run.shared<unsigned char>(kTputSlots * record);
    return stream(
        run, 1, record, seconds, [=](const Peer& p) { return RingWriter{p, ix, rec, record}; },
        [=](const Peer& p) { return RingReader{p, ix, rec, record}; });
}

Sampled floor_spin(uint64_t warm, uint64_t iters) {
    PinnedRun run;
    Ctl* ctl = run.ctl();
    return ping_pong(run, warm, iters, [=](const Peer& p) { return SpinLine(p, ctl->spin_word); });
}

Sampled floor_futex(uint64_t warm, uint64_t iters) {
    PinnedRun run;
    Ctl* ctl = run.ctl();
    return ping_pong(run, warm, iters, [=](const Peer& p) { return FutexWord(p, &ctl->futex_word); });
}

}  // namespace zfd_bench
