// fanout.cpp — publish cost with N readers attached.
//
// Samples: ns per zfd_publish = wall time of kFanBurst back-to-back
// zfd_publish calls (64 B copied in, each returning ZFD_OK) / kFanBurst.
// Before each burst the writer (role 0, cpu A) waits until every live reader
// drained everything, so the ring never fills for them; one drain process
// (role 1, cpu B) holds all the readers and drains the live ones
// concurrently. Stalled readers (FanoutSpec::stalled) are attached in the
// same process and never take: under the default policy they keep every
// slot, so only a segment policy that lets the writer pass them
// (FanoutSpec::segment_flags) gets such a row past slot_count samples.
#include "harness.hpp"
#include "measure.hpp"
#include "zfd_ops.hpp"

namespace zfd_bench {

Stats fanout(const FanoutSpec& spec, uint64_t warm, uint64_t bursts) {
    const int readers = spec.readers;
    PinnedRun run;
    Ctl* ctl = run.ctl();
    const uint64_t total = warm + bursts;
    int64_t* dur = run.shared<int64_t>(total);
    const std::string name = run.segment_name();
    auto writer = [=](Peer& p) -> int {
        SegPtr seg;
        if (create_segment(p, name, seg_options(kFanSlots, kFanPayload, spec.segment_flags), &seg)) return 1;
        ctl->created.store(1, std::memory_order_release);
        if (!p.await(ctl->attached, 1)) return p.fail("drain process never attached");
        alignas(64) unsigned char buf[kFanPayload] = {};
        uint64_t seq = 0;
        for (uint64_t b = 0; b < total; ++b) {
            uint32_t spins = 0;
            while (ctl->drained.load(std::memory_order_acquire) != seq) {
                cpu_relax();
                if ((++spins & 0xfff) == 0 && p.dl.expired())
                    return p.fail("readers did not drain (drained %lu of %lu)", (unsigned long)ctl->drained.load(),
                                  (unsigned long)seq);
                spin_hint();
            }
            const int64_t t0 = now_ns();
            for (uint32_t j = 0; j < kFanBurst; ++j) {
                uint64_t v = seq + j;
                std::memcpy(buf, &v, 8);
                int32_t rc = zfd_publish(seg.get(), buf, kFanPayload, nullptr);
                if (rc == ZFD_E_NO_FREE_SLOT && spec.stalled > 0)
                    return p.fail("zfd_publish: %s (sample %lu): the stalled reader keeps every slot under this "
                                  "segment's policy (flags 0x%x)",
                                  zfd_status_str(rc), (unsigned long)v, spec.segment_flags);
                if (rc != ZFD_OK) return p.fail("zfd_publish: %s (sample %lu)", zfd_status_str(rc), (unsigned long)v);
            }
            dur[b] = now_ns() - t0;
            seq += kFanBurst;
            ctl->published.store(seq, std::memory_order_release);
        }
        ctl->produced.store(seq);
        ctl->writer_done.store(1, std::memory_order_release);
        if (!p.await(ctl->finished, 1)) return p.fail("drain never finished");
        return 0;
    };
    auto drain = [=](Peer& p) -> int {
        if (!p.await(ctl->created, 1)) return p.fail("writer never created the segment");
        SegPtr seg;
        if (open_segment(p, name, &seg)) return 1;
        std::vector<RdPtr> rds(static_cast<size_t>(readers)), stalled(static_cast<size_t>(spec.stalled));
        for (auto& rd : rds)
            if (open_reader(p, seg.get(), &rd)) return 1;
        for (auto& rd : stalled)
            if (open_reader(p, seg.get(), &rd)) return 1;
        std::vector<uint64_t> cnt(rds.size(), 0);
        ctl->attached.store(1, std::memory_order_release);
        uint32_t idle = 0;
        for (;;) {
            bool any = false;
            for (size_t i = 0; i < rds.size(); ++i) {
                for (;;) {
                    zfd_slot slot = 0;
                    const void* data = nullptr;
                    size_t len = 0;
                    int32_t rc = zfd_take(rds[i].get(), &slot, &data, &len, nullptr);
                    if (rc == ZFD_E_NO_SAMPLE) break;
                    if (rc != ZFD_OK) return p.fail("reader %zu: take: %s", i, zfd_status_str(rc));
                    if (len != kFanPayload || !check_sample(data, len, cnt[i], false))
                        return p.fail("reader %zu: wrong sample (expected %lu)", i, (unsigned long)cnt[i]);
                    rc = zfd_release(rds[i].get(), slot);
                    if (rc != ZFD_OK) return p.fail("reader %zu: release: %s", i, zfd_status_str(rc));
                    ++cnt[i];
                    any = true;
                }
            }
            const uint64_t m = *std::min_element(cnt.begin(), cnt.end());
            ctl->drained.store(m, std::memory_order_release);
            if (ctl->writer_done.load(std::memory_order_acquire) && m >= ctl->produced.load()) break;
            if (!any && (++idle & 0xfff) == 0 && p.dl.expired())
                return p.fail("deadline (drained %lu)", (unsigned long)m);
            if (!any) spin_hint();
        }
        ctl->finished.store(1, std::memory_order_release);
        return 0;
    };
    RunResult res = run.run({writer, drain});
    if (!res.ok) return Stats{false, res.error};
    std::vector<double> v;
    for (uint64_t b = warm; b < total; ++b) v.push_back(static_cast<double>(dur[b]) / kFanBurst);
    return make_stats(std::move(v));
}

}  // namespace zfd_bench
