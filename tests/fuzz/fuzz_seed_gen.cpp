// fuzz_seed_gen.cpp — writes valid segment images for fuzz_segment's corpus.
//
// Usage: fuzz_seed_gen <dir>
//
// For a few geometries it creates in-memory segments with the core, drives
// them into interesting states (fresh, published, readers holding samples,
// wrapped log, evicted samples, loaned slot, owner closed, typed, the
// overwrite policy, history) and writes the region bytes
// (impl().region->base(), impl().total_size) as one file per state. A reader
// that attaches to a snapshot starts at next_pos and so would find nothing to
// take; the "primed" variants therefore also free the snapshot's reader
// entries and rewind next_pos to the oldest sample still in the log, so the
// fuzzer's readers (which get entries 0 and 1) take real samples through
// every check of the read path from the first execution.
#include "layout.hpp"
#include "segment.hpp"
#include "segment_impl.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace zf = zerodds::flatdata;
namespace ly = zerodds::flatdata::layout;
using zf::Status;

namespace {

// Must match fuzz_segment.cpp.
constexpr char kDescriptor[] = "zerodds-fuzz-sample-v1";

std::string g_dir;
int g_written = 0;
bool g_failed = false;

void check(Status st, const char* what) {
    if (st != Status::ok) {
        std::fprintf(stderr, "fuzz_seed_gen: %s failed (%d)\n", what, static_cast<int>(st));
        g_failed = true;
    }
}

std::vector<std::uint8_t> snapshot(zf::Segment& seg) {
    const auto& impl = seg.impl();
    const auto* base = reinterpret_cast<const std::uint8_t*>(impl.region->base());
    return {base, base + impl.total_size};
}

void put64(std::vector<std::uint8_t>& img, std::uint64_t off, std::uint64_t v) {
    std::memcpy(img.data() + off, &v, sizeof v);
}
std::uint64_t get64(const std::vector<std::uint8_t>& img, std::uint64_t off) {
    std::uint64_t v;
    std::memcpy(&v, img.data() + off, sizeof v);
    return v;
}

void write(const std::string& name, const std::vector<std::uint8_t>& img) {
    const std::string path = g_dir + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(img.data(), 1, img.size(), f) != img.size()) {
        std::fprintf(stderr, "fuzz_seed_gen: cannot write %s\n", path.c_str());
        g_failed = true;
    } else {
        ++g_written;
    }
    if (f != nullptr) std::fclose(f);
}

// Frees every reader entry and rewinds next_seq to the oldest sequence the
// log still holds (or to `rewind_to`), so fresh readers see the samples.
std::vector<std::uint8_t> primed(const zf::Segment& seg, std::vector<std::uint8_t> img,
                                 std::uint64_t rewind_to) {
    const auto& impl = seg.impl();
    ly::Geometry g{};
    ly::compute_geometry(impl.slot_count, impl.slot_capacity, &g);
    for (std::uint32_t i = 0; i < ly::kReaderEntries; ++i) {
        const std::uint64_t off = g.readers_offset + i * sizeof(ly::ReaderEntry);
        const std::uint64_t w = get64(img, off);
        put64(img, off, ((w >> 2) + 1) << 2 | ly::kReaderFree);
    }
    put64(img, offsetof(ly::SegmentHeader, active_readers), 0);
    put64(img, offsetof(ly::SegmentHeader, next_pos), rewind_to);
    return img;
}

std::vector<std::uint8_t> sample(std::uint64_t seq, std::size_t len) {
    std::vector<std::uint8_t> v(len);
    for (std::size_t i = 0; i < len; ++i) v[i] = static_cast<std::uint8_t>(seq * 31 + i);
    if (len >= 8) std::memcpy(v.data(), &seq, 8);
    return v;
}

std::shared_ptr<zf::Segment> make(std::uint32_t count, std::uint64_t cap, bool typed = false,
                                  bool overwrite = false, std::uint32_t history = 0) {
    zf::SegmentConfig cfg;
    cfg.slot_count = count;
    cfg.slot_capacity = cap;
    cfg.overwrite_oldest = overwrite;
    cfg.history = history;
    if (typed) cfg.type_hash = zf::type_hash(kDescriptor, sizeof kDescriptor - 1);
    std::shared_ptr<zf::Segment> seg;
    zf::ErrorDetail d;
    check(zf::Segment::create(nullptr, cfg, &seg, &d), "create");
    return seg;
}

void publish(zf::Segment& seg, std::uint64_t n, std::size_t len) {
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t seq = seg.impl().hdr->next_pos.load();
        const auto v = sample(seq, len);
        check(seg.publish(v.data(), v.size(), nullptr), "publish");
    }
}

void geometry(std::uint32_t count, std::uint64_t cap) {
    const std::string tag = "c" + std::to_string(count) + "-s" + std::to_string(cap) + "-";
    const std::size_t len = static_cast<std::size_t>(cap < 40 ? cap : 40);

    {  // fresh, and a few samples nobody reads
        auto seg = make(count, cap);
        if (!seg) return;
        write(tag + "fresh", snapshot(*seg));
        publish(*seg, count > 1 ? count - 1 : 1, len);
        write(tag + "published", snapshot(*seg));
    }
    {  // two readers: reader 0 holds one sample and released one, reader 1 read nothing
        auto seg = make(count, cap);
        std::unique_ptr<zf::Reader> r0, r1;
        check(zf::Reader::open(seg, 0, &r0), "reader open");
        check(zf::Reader::open(seg, 0, &r1), "reader open");
        const std::uint64_t first = seg->impl().hdr->next_pos.load();
        publish(*seg, count, len);
        std::uint64_t t = 0, t2 = 0;
        std::size_t l = 0;
        std::uint64_t s = 0;
        const void* p = nullptr;
        check(r0->take(&t, &p, &l, &s), "take");  // held in the snapshot
        if (count > 1) {
            check(r0->take(&t2, &p, &l, &s), "take");
            check(r0->release(t2), "release");
        }
        const auto img = snapshot(*seg);
        write(tag + "readers", img);
        write(tag + "readers-primed", primed(*seg, img, first));
        // Both readers still attached, next_pos rewound to the first sample.
        auto rewound = img;
        put64(rewound, offsetof(ly::SegmentHeader, next_pos), first);
        write(tag + "readers-rewound", rewound);
        check(r0->release(t), "release");
    }
    {  // one reader that keeps up while the log wraps several times, then lags
        auto seg = make(count, cap);
        std::unique_ptr<zf::Reader> r;
        check(zf::Reader::open(seg, 0, &r), "reader open");
        std::vector<std::uint8_t> buf(cap);
        std::size_t l = 0;
        std::uint64_t s = 0;
        for (std::uint32_t i = 0; i < 3 * seg->impl().log_size + 1; ++i) {
            publish(*seg, 1, len);
            check(r->take_copy(buf.data(), buf.size(), &l, &s), "take_copy");
        }
        const std::uint64_t first = seg->impl().hdr->next_pos.load();
        publish(*seg, count, len);
        write(tag + "wrapped", snapshot(*seg));
        write(tag + "wrapped-primed", primed(*seg, snapshot(*seg), first));
    }
    {  // a reader that never reads: the owner evicts and the log is overwritten
        auto seg = make(count, cap);
        std::unique_ptr<zf::Reader> r;
        check(zf::Reader::open(seg, 0, &r), "reader open");
        for (int round = 0; round < 3; ++round) {
            publish(*seg, count, len);
            std::uint32_t n = 0;
            check(seg->evict_stale(0, &n), "evict_stale");
        }
        publish(*seg, count > 1 ? count / 2 : 1, len);
        write(tag + "evicted", snapshot(*seg));
        write(tag + "evicted-primed", primed(*seg, snapshot(*seg), 0));
    }
    {  // an open loan and a discarded one
        auto seg = make(count, cap);
        std::unique_ptr<zf::Reader> r;
        check(zf::Reader::open(seg, 0, &r), "reader open");
        publish(*seg, count > 1 ? count - 1 : 0, len);
        std::uint64_t t = 0;
        void* d = nullptr;
        if (seg->reserve(&t, &d) == Status::ok) {
            std::memset(d, 0xab, static_cast<std::size_t>(cap));
        }
        write(tag + "loaned", snapshot(*seg));
        write(tag + "loaned-primed", primed(*seg, snapshot(*seg), 0));
        check(seg->discard(t), "discard");
    }
    {  // a mirror whose samples carry chosen sequence numbers (with gaps)
        zf::SegmentConfig cfg;
        cfg.slot_count = count;
        cfg.slot_capacity = cap;
        cfg.mirror = true;
        cfg.mirror_of.fill(0x5c);
        cfg.origin = "fuzz-host pid 1";
        std::shared_ptr<zf::Segment> seg;
        zf::ErrorDetail d;
        check(zf::Segment::create(nullptr, cfg, &seg, &d), "create mirror");
        std::unique_ptr<zf::Reader> r;
        check(zf::Reader::open(seg, 0, &r), "reader open");
        std::uint64_t label = 1000;
        for (std::uint32_t i = 0; i < count; ++i, label += 1 + i * 7) {
            std::uint64_t t = 0;
            void* data = nullptr;
            check(seg->reserve(&t, &data), "reserve");
            const auto v = sample(label, len);
            std::memcpy(data, v.data(), v.size());
            check(seg->commit_with_sequence(t, v.size(), label), "commit_with_sequence");
        }
        write(tag + "mirror-labelled", snapshot(*seg));
        write(tag + "mirror-labelled-primed", primed(*seg, snapshot(*seg), 0));
    }
    if (count > 1) {  // OVERWRITE_OLDEST: a reader that never reads, one that holds
        auto seg = make(count, cap, false, /*overwrite=*/true);
        std::unique_ptr<zf::Reader> lazy, holder;
        check(zf::Reader::open(seg, 0, &lazy), "reader open");
        check(zf::Reader::open(seg, 0, &holder), "reader open");
        publish(*seg, 1, len);
        std::uint64_t t = 0;
        const void* p = nullptr;
        std::size_t l = 0;
        std::uint64_t s = 0;
        check(holder->take(&t, &p, &l, &s), "take");
        publish(*seg, 3 * count, len);
        write(tag + "overwrite", snapshot(*seg));
        write(tag + "overwrite-primed", primed(*seg, snapshot(*seg), 0));
        check(holder->release(t), "release");
    }
    if (count > 1) {  // history: retained samples for a late joiner
        auto seg = make(count, cap, false, false, count - 1);
        publish(*seg, 2 * count, len);
        std::unique_ptr<zf::Reader> late;
        check(zf::Reader::open(seg, ly::kReaderFlagHistory, &late), "reader open");
        write(tag + "history", snapshot(*seg));
        write(tag + "history-primed", primed(*seg, snapshot(*seg), seg->impl().hdr->next_pos.load()));
    }
    {  // owner closed after publishing: readers drain, then peer_gone
        auto seg = make(count, cap, /*typed=*/true);
        std::unique_ptr<zf::Reader> r;
        check(zf::Reader::open(seg, 0, &r), "reader open");
        publish(*seg, count, len);
        write(tag + "typed-primed", primed(*seg, snapshot(*seg), 0));
        seg->close_owner();
        write(tag + "closed", snapshot(*seg));
        write(tag + "closed-primed", primed(*seg, snapshot(*seg), 0));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <output-dir>\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    // Small geometries keep the images (and so each fuzz input) at 12-20 KiB.
    const struct {
        std::uint32_t count;
        std::uint64_t cap;
    } geometries[] = {{1, 64}, {2, 1}, {3, 100}, {4, 64}, {8, 200}, {5, 1000}, {16, 8}};
    for (const auto& g : geometries) geometry(g.count, g.cap);
    std::printf("fuzz_seed_gen: wrote %d seed segments to %s\n", g_written, g_dir.c_str());
    return g_failed ? 1 : 0;
}
