// The slot protocol, driven through the core with direct access to the
// shared words, so the corner cases of PROTOCOL.md can be staged exactly.
#include "segment_impl.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace zerodds::flatdata;
using namespace zerodds::flatdata::layout;

namespace {

std::shared_ptr<Segment> make_segment(std::uint32_t slots, std::uint64_t capacity = 64) {
    SegmentConfig c;
    c.slot_count = slots;
    c.slot_capacity = capacity;
    std::shared_ptr<Segment> seg;
    ErrorDetail d;
    EXPECT_EQ(Segment::create(nullptr, c, &seg, &d), Status::ok) << d.message;
    return seg;
}

std::unique_ptr<Reader> make_reader(const std::shared_ptr<Segment>& seg) {
    std::unique_ptr<Reader> r;
    EXPECT_EQ(Reader::open(seg, &r), Status::ok);
    return r;
}

std::uint64_t publish_u64(Segment& seg, std::uint64_t value) {
    std::uint64_t seq = 0;
    EXPECT_EQ(seg.publish(&value, sizeof value, &seq), Status::ok);
    return seq;
}

}  // namespace

TEST(SlotAllocator, CommitWithNoReaderLeavesTheSlotFreeForReuse) {
    auto seg = make_segment(2);
    for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(publish_u64(*seg, i), i);
    auto& s = seg->impl();
    for (std::uint32_t k = 0; k < 2; ++k) EXPECT_EQ(s.slots[k].pending.load(), 0u);
}

TEST(SlotAllocator, CommitChargesExactlyTheReadersAttachedAtCommit) {
    auto seg = make_segment(4);
    auto r0 = make_reader(seg);
    auto r1 = make_reader(seg);
    publish_u64(*seg, 1);
    auto& s = seg->impl();
    const std::uint32_t k = static_cast<std::uint32_t>(s.log[0].slot.load());
    EXPECT_EQ(s.slots[k].pending.load(), (1ull << r0->index()) | (1ull << r1->index()));
    EXPECT_EQ(s.log[0].tag.load(), 1u) << "tag = seq + 1";
}

TEST(SlotAllocator, ReserveFailsWhenEveryReaderStillHoldsTheSlot) {
    auto seg = make_segment(3);
    auto r = make_reader(seg);
    for (int i = 0; i < 3; ++i) publish_u64(*seg, i);
    std::uint64_t t = 0;
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot);
    // Nothing changed: the second failure takes the O(1) path.
    EXPECT_EQ(seg->impl().full_at_generation.load(), seg->notify_generation());
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot);
    std::uint64_t taken = 0;
    ASSERT_EQ(r->take(&taken, nullptr, nullptr, nullptr), Status::ok);
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot) << "taken but not released";
    ASSERT_EQ(r->release(taken), Status::ok);
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
}

TEST(SlotAllocator, ReserveReclaimsTheStaleBitOfAReaderThatIsGone) {
    auto seg = make_segment(2);
    auto& s = seg->impl();
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    // A commit that loaded the mask just before reader 9 detached stores
    // its bit afterwards (PROTOCOL.md, "Membership"). Stage exactly that.
    for (std::uint32_t k = 0; k < 2; ++k) s.slots[k].pending.store(1ull << 9);
    std::uint64_t t = 0;
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
    EXPECT_EQ(s.slots[token::index(t) ^ 1].pending.load(), 0u) << "both stale bits cleared";
}

TEST(SlotAllocator, ReserveReclaimsABitOnASampleOlderThanTheReadersStart) {
    auto seg = make_segment(2);
    auto& s = seg->impl();
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    auto r = make_reader(seg);  // start_seq = 2
    for (std::uint32_t k = 0; k < 2; ++k) s.slots[k].pending.store(1ull << r->index());
    std::uint64_t t = 0;
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
    EXPECT_EQ(r->take(&t, nullptr, nullptr, nullptr), Status::no_sample)
        << "samples below start_seq are never delivered";
}

TEST(SlotAllocator, ReclaimKeepsTheBitsOfAttachedReaders) {
    auto seg = make_segment(2);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    EXPECT_FALSE(seg->impl().reclaim_stale_bits());
    std::uint64_t t = 0;
    const void* data = nullptr;
    std::uint64_t seq = 9;
    ASSERT_EQ(r->take(&t, &data, nullptr, &seq), Status::ok);
    EXPECT_EQ(seq, 0u);
    EXPECT_EQ(*static_cast<const std::uint64_t*>(data), 1u);
}

TEST(SlotAllocator, ReaderSkipsASampleCommittedWithoutItsBit) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    auto& s = seg->impl();
    publish_u64(*seg, 10);
    publish_u64(*seg, 11);
    // Sample 0 was committed while the reader attached (mask without it).
    const auto k0 = static_cast<std::uint32_t>(s.log[0].slot.load());
    s.slots[k0].pending.store(0);
    std::uint64_t t = 0, seq = 0;
    ASSERT_EQ(r->take(&t, nullptr, nullptr, &seq), Status::ok);
    EXPECT_EQ(seq, 1u);
}

TEST(SlotAllocator, LaggingReaderResumesAfterEvictionWithIncreasingSequences) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    std::uint64_t last = 0;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 4; ++i) last = publish_u64(*seg, 100 + last);
        std::uint32_t evicted = 0;
        ASSERT_EQ(seg->evict_stale(0, &evicted), Status::ok);
        EXPECT_EQ(evicted, 4u);
    }
    for (int i = 0; i < 3; ++i) last = publish_u64(*seg, i);
    std::uint64_t prev = 0, seq = 0, t = 0;
    int got = 0;
    while (r->take(&t, nullptr, nullptr, &seq) == Status::ok) {
        if (got > 0) {
            EXPECT_GT(seq, prev);
        }
        prev = seq;
        ++got;
        EXPECT_EQ(r->release(t), Status::ok);
    }
    EXPECT_EQ(got, 3) << "only the samples after the last eviction are still there";
    EXPECT_EQ(prev, last);
}

TEST(SlotAllocator, TakeSkipsALogEntryPointingOutsideTheSlotArray) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    seg->impl().log[0].slot.store(1u << 30);  // hostile peer
    std::uint64_t t = 0, seq = 0;
    ASSERT_EQ(r->take(&t, nullptr, nullptr, &seq), Status::ok);
    EXPECT_EQ(seq, 1u);
}

TEST(SlotAllocator, TakeSkipsALengthBeyondTheSlotCapacity) {
    auto seg = make_segment(4, 64);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    auto& s = seg->impl();
    s.slots[s.log[0].slot.load()].len.store(1ull << 40);
    std::uint64_t t = 0, seq = 0;
    std::size_t len = 0;
    ASSERT_EQ(r->take(&t, nullptr, &len, &seq), Status::ok);
    EXPECT_EQ(seq, 1u);
    EXPECT_EQ(len, 8u);
}

TEST(SlotAllocator, ReleaseAfterEvictionReportsEvictedAndTouchesNothing) {
    auto seg = make_segment(2);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    std::uint64_t t = 0;
    ASSERT_EQ(r->take(&t, nullptr, nullptr, nullptr), Status::ok);
    std::uint32_t n = 0;
    ASSERT_EQ(seg->evict_stale(0, &n), Status::ok);
    EXPECT_EQ(n, 1u);
    // The slot is reused and the new sample charges the reader again.
    publish_u64(*seg, 2);
    publish_u64(*seg, 3);
    EXPECT_EQ(r->release(t), Status::evicted);
    std::uint64_t seq = 0;
    ASSERT_EQ(r->take(&t, nullptr, nullptr, &seq), Status::ok);
    EXPECT_EQ(seq, 1u) << "the newer sample's bit survived the stale release";
    EXPECT_EQ(r->release(t), Status::ok);
}

TEST(SlotAllocator, DiscardMovesTheGenerationAndFreesTheSlot) {
    auto seg = make_segment(1);
    auto r = make_reader(seg);
    std::uint64_t t = 0;
    ASSERT_EQ(seg->reserve(&t, nullptr), Status::ok);
    const std::uint64_t g = seg->notify_generation();
    ASSERT_EQ(seg->discard(t), Status::ok);
    EXPECT_EQ(seg->notify_generation(), g + 1);
    EXPECT_EQ(seg->discard(t), Status::not_loaned);
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
}

TEST(SlotAllocator, LoanTokenOfAnotherSegmentIsNotLoaned) {
    auto a = make_segment(2);
    auto b = make_segment(2);
    std::uint64_t ta = 0, tb = 0;
    ASSERT_EQ(a->reserve(&ta, nullptr), Status::ok);
    ASSERT_EQ(b->reserve(&tb, nullptr), Status::ok);
    EXPECT_EQ(b->commit(ta, "x", 1, nullptr), Status::not_loaned);
    EXPECT_EQ(a->commit(ta, "x", 1, nullptr), Status::ok);
}
