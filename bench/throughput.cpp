// throughput.cpp — samples per second through the library: one writer
// process to 1 or 4 reader processes (a named segment of kTputSlots slots),
// and writer thread to reader thread in one process. The writer reserves,
// writes the first 8 bytes (every byte with touch_all), commits in place; each
// reader takes, checks, releases. Idle sides spin 20 us, then park.
#include "harness.hpp"
#include "measure.hpp"
#include "zfd_ops.hpp"

#include <thread>

namespace zfd_bench {

namespace {

constexpr int64_t kSpinBeforeParkNs = 20'000;

// Writer loop: reserve (spin up to 20 us on NO_FREE_SLOT, then zfd_reserve_wait),
// write, commit_in_place, for duration_s.
int tput_writer(const Peer& p, zfd_segment* seg, size_t payload, bool touch_all, double duration_s) {
    Ctl* ctl = p.ctl;
    const int64_t t0 = now_ns();
    ctl->t_start.store(t0);
    const int64_t end = t0 + static_cast<int64_t>(duration_s * 1e9);
    uint64_t n = 0;
    for (;; ++n) {
        if ((n & 1023) == 0 && now_ns() >= end) break;
        zfd_slot slot = 0;
        void* data = nullptr;
        int32_t rc = zfd_reserve(seg, &slot, &data);
        if (rc == ZFD_E_NO_FREE_SLOT) {
            const int64_t s0 = now_ns();
            while ((rc = zfd_reserve(seg, &slot, &data)) == ZFD_E_NO_FREE_SLOT && now_ns() - s0 < kSpinBeforeParkNs)
                cpu_relax();
            while (rc == ZFD_E_NO_FREE_SLOT || rc == ZFD_E_TIMEOUT) {
                if (p.dl.expired()) return p.fail("writer: no free slot until the deadline (sample %lu)", (unsigned long)n);
                rc = zfd_reserve_wait(seg, 50'000'000, &slot, &data);
                ++ctl->parks[p.role];
            }
        }
        if (rc != ZFD_OK) return p.fail("writer: reserve: %s", zfd_status_str(rc));
        fill_sample(data, payload, n, touch_all);
        rc = zfd_commit_in_place(seg, slot, payload, nullptr);
        if (rc != ZFD_OK) return p.fail("writer: commit: %s", zfd_status_str(rc));
    }
    ctl->produced.store(n);
    ctl->writer_done.store(1, std::memory_order_release);
    return 0;
}

// Reader loop: take/check/release until the writer's total; spin up to 20 us
// when empty, then park in zfd_reader_wait. Counts as p.role.
int tput_reader(const Peer& p, zfd_reader* rd, size_t payload, bool touch_all) {
    Ctl* ctl = p.ctl;
    const int role = p.role;
    uint64_t cnt = 0;
    for (;;) {
        zfd_slot slot = 0;
        const void* data = nullptr;
        size_t len = 0;
        int32_t rc = zfd_take(rd, &slot, &data, &len, nullptr);
        if (rc == ZFD_OK) {
            if (len != payload || !check_sample(data, payload, cnt, touch_all)) {
                uint64_t x = 0;
                if (data) std::memcpy(&x, data, 8);
                return p.fail("reader: wrong sample: expected %lu, got first word %lu, len %zu", (unsigned long)cnt,
                              (unsigned long)x, len);
            }
            rc = zfd_release(rd, slot);
            if (rc != ZFD_OK) return p.fail("reader: release: %s", zfd_status_str(rc));
            ++cnt;
            continue;
        }
        if (rc != ZFD_E_NO_SAMPLE)
            return p.fail("reader: take: %s (after %lu samples)", zfd_status_str(rc), (unsigned long)cnt);
        if (ctl->writer_done.load(std::memory_order_acquire) && cnt >= ctl->produced.load()) break;
        const int64_t s0 = now_ns();
        bool got = false;
        while (now_ns() - s0 < kSpinBeforeParkNs) {
            rc = zfd_take(rd, &slot, &data, &len, nullptr);
            if (rc == ZFD_E_NO_SAMPLE) continue;
            if (rc != ZFD_OK)
                return p.fail("reader: take: %s (after %lu samples)", zfd_status_str(rc), (unsigned long)cnt);
            got = true;
            break;
        }
        if (got) {
            // taken inside the spin: handle it through the normal path
            if (len != payload || !check_sample(data, payload, cnt, touch_all))
                return p.fail("reader: wrong sample at %lu", (unsigned long)cnt);
            rc = zfd_release(rd, slot);
            if (rc != ZFD_OK) return p.fail("reader: release: %s", zfd_status_str(rc));
            ++cnt;
            continue;
        }
        if (ctl->writer_done.load(std::memory_order_acquire) && cnt >= ctl->produced.load()) break;
        int32_t w = zfd_reader_wait(rd, 50'000'000);
        ++ctl->parks[role];
        if (w != ZFD_OK && w != ZFD_E_TIMEOUT) return p.fail("reader: wait: %s", zfd_status_str(w));
        if (p.dl.expired()) return p.fail("reader: deadline after %lu samples", (unsigned long)cnt);
    }
    ctl->count[role] = cnt;
    ctl->t_end[role] = now_ns();
    return 0;
}

struct SegWriter {
    const Peer& p;
    std::string name;
    size_t payload;
    bool touch_all;
    SegPtr seg;

    int open() { return create_segment(p, name, seg_options(kTputSlots, payload), &seg); }
    int produce(double seconds) { return tput_writer(p, seg.get(), payload, touch_all, seconds); }
};

struct SegReader {
    const Peer& p;
    std::string name;
    size_t payload;
    bool touch_all;
    SegPtr seg;
    RdPtr rd;

    int open() { return open_segment(p, name, &seg) || open_reader(p, seg.get(), &rd); }
    int consume() { return tput_reader(p, rd.get(), payload, touch_all); }
};

}  // namespace

Throughput tput_processes(int readers, size_t payload, bool touch_all, double duration_s) {
    PinnedRun run;
    const std::string name = run.segment_name();
    return stream(
        run, readers, payload, duration_s,
        [=](const Peer& p) { return SegWriter{p, name, payload, touch_all, {}}; },
        [=](const Peer& p) { return SegReader{p, name, payload, touch_all, {}, {}}; });
}

Throughput tput_in_process(size_t payload, double duration_s) {
    PinnedRun run;
    Ctl* ctl = run.ctl();
    // One child (pinned to cpu A); its reader thread moves to cpu B.
    auto body = [=](Peer& p) -> int {
        zfd_segment_options o = seg_options(kTputSlots, payload);
        zfd_segment* raw = nullptr;
        int32_t rc = zfd_segment_create(nullptr, &o, &raw, nullptr);
        if (rc != ZFD_OK) return p.fail("create (in-memory): %s", zfd_status_str(rc));
        SegPtr seg(raw);
        RdPtr rd;
        if (open_reader(p, seg.get(), &rd)) return 1;
        int reader_rc = 0;
        const Peer reader{p.ctl, 1, p.dl};  // counts (and records a failure) as role 1
        std::thread t([&] {
            pin_to(g.cpu_b);
            reader_rc = tput_reader(reader, rd.get(), payload, false);
        });
        int wrc = tput_writer(p, seg.get(), payload, false, duration_s);
        // a failed writer: let the reader stop at what was produced rather than at its deadline
        if (wrc) ctl->writer_done.store(1);
        t.join();
        return wrc || reader_rc ? 1 : 0;
    };
    RunResult res = run.run({body});
    if (!res.ok) {
        Throughput t;
        t.error = res.error;
        return t;
    }
    return collect_throughput(ctl, 1, 1, payload);
}

}  // namespace zfd_bench
