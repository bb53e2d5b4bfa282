// fuzz_segment.cpp — libFuzzer target: the input bytes are a segment's
// contents, as a hostile creator could leave them in /dev/shm.
//
// The bytes are copied into a page-aligned buffer of exactly the input size
// (so ASan sees a read past the end), validated by Segment::attach_memory as
// open() validates a mapped object, and, when accepted, read by two Readers
// (the second one with the history flag) for 16 rounds of take / take_latest
// / release / take_copy / wait (every path of Reader::Impl::find, hold and
// the inline take). Nothing may crash, read out of bounds, hang, leak,
// return an undocumented status, or break a documented invariant (returned
// sequence numbers strictly increase per reader, len <= slot_capacity). A
// broken invariant is reported with __builtin_trap(), which libFuzzer treats
// as a crash and saves.
//
// Byte 191 (the last reserved byte of header line 2) chooses whether an
// expected type hash is passed, so the type-check paths are reached too.
#include "layout.hpp"
#include "segment.hpp"
#include "status.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace zf = zerodds::flatdata;
using zf::Status;

namespace {

// Must match fuzz_seed_gen.cpp.
constexpr char kDescriptor[] = "zerodds-fuzz-sample-v1";
constexpr std::size_t kHashSelectorOffset = 191;

[[noreturn]] void violated(const char* what, int value) {
    std::fprintf(stderr, "fuzz_segment: invariant violated: %s (%d)\n", what, value);
    std::fflush(stderr);
    __builtin_trap();
}

void expect(bool ok, const char* what, Status st) {
    if (!ok) violated(what, static_cast<int>(st));
}

bool one_of(Status st, std::initializer_list<Status> allowed) {
    for (Status a : allowed) {
        if (st == a) return true;
    }
    return false;
}

// Reads every byte of a taken sample: an out-of-bounds pointer or length
// faults here under ASan.
std::uint32_t checksum(const void* data, std::size_t len) {
    const auto* p = static_cast<const volatile std::uint8_t*>(data);
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < len; ++i) h = (h ^ p[i]) * 16777619u;
    return h;
}

struct ReaderState {
    std::unique_ptr<zf::Reader> reader;
    std::vector<std::uint64_t> held;
    bool have_seq = false;
    std::uint64_t last_seq = 0;

    void saw(std::uint64_t seq) {
        if (have_seq && seq <= last_seq) violated("sequence numbers must strictly increase", 0);
        have_seq = true;
        last_seq = seq;
    }
};

volatile std::uint32_t g_sink;

void release_all(ReaderState& r) {
    for (std::size_t i = 0; i < r.held.size(); ++i) {
        const std::uint64_t t = r.held[i];
        const Status st = r.reader->release(t);
        expect(one_of(st, {Status::ok, Status::evicted, Status::detached}), "release of a held token", st);
        // A token names a slot and its generation. A forged segment can hand
        // the reader the same slot and generation twice (an honest writer
        // never does), so one token then names two holds, and each release
        // frees one of them. Once the last hold a token names is released, a
        // further release of it is always refused.
        bool named_again = false;
        for (std::size_t j = i + 1; j < r.held.size(); ++j) named_again = named_again || r.held[j] == t;
        if (named_again) continue;
        const Status again = r.reader->release(t);
        expect(one_of(again, {Status::not_loaned, Status::detached}), "double release", again);
    }
    r.held.clear();
}

void exercise(const std::shared_ptr<zf::Segment>& seg, std::size_t size) {
    zf::SegmentInfo info;
    seg->info(&info);
    if (info.total_size > size) violated("attached segment larger than its memory", 0);
    if (info.is_owner) violated("attach_memory gave an owner handle", 0);
    (void)seg->notify_generation();

    // Consumer handle: every writer-side call is refused.
    std::uint64_t tok = 0;
    void* data = nullptr;
    Status st = seg->reserve(&tok, &data);
    expect(st == Status::permission, "reserve on a consumer", st);
    st = seg->publish("x", 1, nullptr);
    expect(st == Status::permission, "publish on a consumer", st);
    std::uint32_t n = 0;
    st = seg->evict_stale(0, &n);
    expect(st == Status::permission, "evict_stale on a consumer", st);
    st = seg->reap_dead_readers(&n);
    expect(st == Status::permission, "reap_dead_readers on a consumer", st);
    st = seg->wait_for_change(seg->notify_generation() + 1, 0);
    expect(one_of(st, {Status::ok, Status::timeout}), "wait_for_change", st);

    ReaderState readers[2];
    for (int ri = 0; ri < 2; ++ri) {
        st = zf::Reader::open(seg, ri == 1 ? zf::layout::kReaderFlagHistory : 0u, &readers[ri].reader);
        expect(one_of(st, {Status::ok, Status::no_reader_slot, Status::peer_gone}), "Reader::open", st);
    }

    std::vector<std::uint8_t> buf(static_cast<std::size_t>(info.slot_capacity));
    std::uint8_t small[8];
    for (int it = 0; it < 16; ++it) {
        for (int ri = 0; ri < 2; ++ri) {
            ReaderState& r = readers[ri];
            if (!r.reader) continue;
            std::size_t len = 0;
            std::uint64_t seq = 0;
            switch ((it + ri) % 6) {
                case 0:
                case 3:
                case 5: {  // take (5: take_latest) in place; hold up to 3 samples
                    const void* p = nullptr;
                    std::uint64_t t = 0;
                    st = (it + ri) % 6 == 5 ? r.reader->take_latest(&t, &p, &len, &seq)
                                            : r.reader->take(&t, &p, &len, &seq);
                    expect(one_of(st, {Status::ok, Status::no_sample, Status::peer_gone, Status::detached}),
                           "take", st);
                    if (st == Status::ok) {
                        if (len > info.slot_capacity) violated("take: len > slot_capacity", 0);
                        if (p == nullptr) violated("take: null data", 0);
                        r.saw(seq);
                        g_sink = checksum(p, len);
                        r.held.push_back(t);
                        // A forged token (other generation) is refused.
                        st = r.reader->release(t ^ (std::uint64_t{1} << 30));
                        expect(one_of(st, {Status::not_loaned}), "release of a forged token", st);
                        if (r.held.size() > 2) release_all(r);
                    }
                    break;
                }
                case 1:
                    release_all(r);
                    st = r.reader->take_copy(small, sizeof small, &len, &seq);
                    expect(one_of(st, {Status::ok, Status::no_sample, Status::too_large,
                                       Status::peer_gone, Status::detached}),
                           "take_copy (small)", st);
                    if (st == Status::ok) {
                        if (len > sizeof small) violated("take_copy: len > capacity", 0);
                        r.saw(seq);
                    } else if (st == Status::too_large && len <= sizeof small) {
                        violated("take_copy: too_large with a fitting len", 0);
                    }
                    break;
                case 2:
                    st = r.reader->take_copy(buf.data(), buf.size(), &len, &seq);
                    expect(one_of(st, {Status::ok, Status::no_sample, Status::peer_gone, Status::detached}),
                           "take_copy", st);
                    if (st == Status::ok) {
                        if (len > buf.size()) violated("take_copy: len > slot_capacity", 0);
                        r.saw(seq);
                    }
                    break;
                default:
                    st = r.reader->wait(0);
                    expect(one_of(st, {Status::ok, Status::timeout, Status::peer_gone, Status::detached}),
                           "wait", st);
                    st = r.reader->take_copy(nullptr, 0, &len, &seq);
                    expect(one_of(st, {Status::ok, Status::no_sample, Status::too_large,
                                       Status::peer_gone, Status::detached}),
                           "take_copy (capacity 0)", st);
                    if (st == Status::ok) {
                        if (len != 0) violated("take_copy: len > 0 into capacity 0", 0);
                        r.saw(seq);
                    }
                    break;
            }
        }
    }
    // Half the time close with samples still held: the destructor gives
    // them back.
    for (auto& r : readers) {
        if (r.reader && (r.last_seq & 1) == 0) release_all(r);
        r.reader.reset();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const zf::TypeHash kHash = zf::type_hash(kDescriptor, sizeof kDescriptor - 1);

    void* mem = nullptr;
    if (posix_memalign(&mem, zf::layout::kPageSize, size == 0 ? 1 : size) != 0) return 0;
    if (size != 0) std::memcpy(mem, data, size);
    const bool with_hash = size > kHashSelectorOffset && (data[kHashSelectorOffset] & 1) != 0;

    zf::ErrorDetail detail;
    std::shared_ptr<zf::Segment> seg;
    const Status st =
        zf::Segment::attach_memory(mem, size, with_hash ? kHash.data() : nullptr, &seg, &detail);
    if (st == Status::ok) {
        if (!seg) violated("attach_memory ok without a segment", 0);
        exercise(seg, size);
    } else {
        expect(one_of(st, {Status::incompatible, Status::corrupt, Status::type_mismatch, Status::timeout,
                           Status::out_of_memory, Status::system_error}),
               "attach_memory", st);
        if (seg) violated("attach_memory failed but returned a segment", 0);
        if (detail.status != st) violated("ErrorDetail.status differs from the result", 0);
        if (std::memchr(detail.message, '\0', sizeof detail.message) == nullptr) {
            violated("ErrorDetail.message not terminated", 0);
        }
    }
    seg.reset();
    std::free(mem);
    return 0;
}
