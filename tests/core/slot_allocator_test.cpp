// The sample protocol, driven through the core with direct access to the
// shared words, so the corner cases of PROTOCOL.md can be staged exactly.
#include "segment_impl.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

using namespace zerodds::flatdata;
using namespace zerodds::flatdata::layout;

namespace {

std::shared_ptr<Segment> make_segment(std::uint32_t slots, std::uint64_t capacity = 64,
                                      bool overwrite = false, std::uint32_t history = 0) {
    SegmentConfig c;
    c.slot_count = slots;
    c.slot_capacity = capacity;
    c.overwrite_oldest = overwrite;
    c.history = history;
    std::shared_ptr<Segment> seg;
    ErrorDetail d;
    EXPECT_EQ(Segment::create(nullptr, c, &seg, &d), Status::ok) << d.message;
    return seg;
}

std::unique_ptr<Reader> make_reader(const std::shared_ptr<Segment>& seg, std::uint32_t flags = 0) {
    std::unique_ptr<Reader> r;
    EXPECT_EQ(Reader::open(seg, flags, &r), Status::ok);
    return r;
}

std::uint64_t publish_u64(Segment& seg, std::uint64_t value) {
    std::uint64_t seq = 0;
    EXPECT_EQ(seg.publish(&value, sizeof value, &seq), Status::ok);
    return seq;
}

struct Taken {
    Status st = Status::internal;
    std::uint64_t token = 0;
    std::uint64_t seq = 0;
    std::uint64_t value = 0;
};

Taken take(Reader& r, bool latest = false) {
    Taken t;
    const void* data = nullptr;
    std::size_t len = 0;
    t.st = latest ? r.take_latest(&t.token, &data, &len, &t.seq) : r.take(&t.token, &data, &len, &t.seq);
    if (t.st == Status::ok && len >= 8) std::memcpy(&t.value, data, 8);
    return t;
}

}  // namespace

// ---------------------------------------------------------------- basics

TEST(SlotAllocator, CommitWithNoReaderLeavesEverySlotReusable) {
    auto seg = make_segment(2);
    for (std::uint64_t i = 0; i < 100; ++i) EXPECT_EQ(publish_u64(*seg, i), i);
    EXPECT_EQ(seg->impl().hdr->next_pos.load(), 100u);
}

TEST(SlotAllocator, TheDescriptorCarriesSlotGenerationLabelLengthAndTheNextSlot) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    publish_u64(*seg, 7);
    auto& s = seg->impl();
    const Descriptor& d = s.log[0];
    EXPECT_EQ(d.tag.load(), 1u) << "tag = position + 1";
    const std::uint32_t k = d.slot.load();
    ASSERT_LT(k, 4u);
    EXPECT_EQ(d.gen.load(), gen32(word_gen(s.slots[k].state.load())));
    EXPECT_EQ(word_state(s.slots[k].state.load()), kSlotCommitted);
    EXPECT_EQ(d.len.load(), 8u);
    EXPECT_EQ(d.label.load(), 0u);
    EXPECT_EQ(d.next.load(), s.w.cursor) << "the slot the writer tries next";
    EXPECT_EQ(s.slots[k].pos.load(), 0u);
}

TEST(SlotAllocator, ReadersNeverWriteTheWritersLines) {
    // A take and a release touch only the reader's own entry and bitmap.
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    auto& s = seg->impl();
    publish_u64(*seg, 1);
    std::vector<unsigned char> before(reinterpret_cast<unsigned char*>(s.slots),
                                      reinterpret_cast<unsigned char*>(s.held_base));
    Taken t = take(*r);
    ASSERT_EQ(t.st, Status::ok);
    EXPECT_TRUE(s.held_bit(r->index(), s.log[0].slot.load()));
    ASSERT_EQ(r->release(t.token), Status::ok);
    std::vector<unsigned char> after(reinterpret_cast<unsigned char*>(s.slots),
                                     reinterpret_cast<unsigned char*>(s.held_base));
    EXPECT_EQ(before, after) << "slot controls and descriptors are the writer's alone";
    EXPECT_EQ(s.readers[r->index()].released.load(), 1u);
    EXPECT_EQ(s.readers[r->index()].cursor.load(), 1u);
}

TEST(SlotAllocator, ReserveFailsWhenEveryReaderStillWantsOrHoldsTheSlot) {
    auto seg = make_segment(3);
    auto r = make_reader(seg);
    for (int i = 0; i < 3; ++i) publish_u64(*seg, i);
    std::uint64_t t = 0;
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot) << "unread";
    // Nothing changed: the second failure stops after the refresh.
    EXPECT_NE(seg->impl().w.fail_mark, ~std::uint64_t{0});
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot);
    Taken taken = take(*r);
    ASSERT_EQ(taken.st, Status::ok);
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot) << "taken but not released";
    ASSERT_EQ(r->release(taken.token), Status::ok);
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
}

TEST(SlotAllocator, AHeldSampleDoesNotStopTheWriterCyclingTheOtherSlots) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    publish_u64(*seg, 0);
    Taken kept = take(*r);
    ASSERT_EQ(kept.st, Status::ok);
    for (std::uint64_t i = 1; i < 200; ++i) {
        ASSERT_EQ(publish_u64(*seg, i), i);
        Taken t = take(*r);
        ASSERT_EQ(t.st, Status::ok);
        ASSERT_EQ(t.value, i);
        ASSERT_EQ(r->release(t.token), Status::ok);
    }
    EXPECT_EQ(seg->impl().readers[r->index()].released.load(), 0u) << "still holds position 0";
    EXPECT_EQ(kept.value, 0u);
    ASSERT_EQ(r->release(kept.token), Status::ok) << "never overwritten";
    EXPECT_EQ(seg->impl().readers[r->index()].released.load(), 200u);
}

TEST(SlotAllocator, AReaderIsNotChargedForSamplesCommittedBeforeItAttached) {
    auto seg = make_segment(2);
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    auto r = make_reader(seg);
    EXPECT_EQ(seg->impl().readers[r->index()].start.load(), 2u);
    std::uint64_t t = 0;
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
    EXPECT_EQ(take(*r).st, Status::no_sample) << "samples below its start are never delivered";
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
    std::uint64_t prev = 0;
    int got = 0;
    for (;;) {
        Taken t = take(*r);
        if (t.st != Status::ok) break;
        if (got > 0) {
            EXPECT_GT(t.seq, prev);
        }
        prev = t.seq;
        ++got;
        EXPECT_EQ(r->release(t.token), Status::ok);
    }
    EXPECT_EQ(got, 3) << "only the samples after the last eviction are still there";
    EXPECT_EQ(prev, last);
}

TEST(SlotAllocator, TakeSkipsADescriptorPointingOutsideTheSlotArray) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    seg->impl().log[0].slot.store(1u << 30);  // hostile peer
    Taken t = take(*r);
    ASSERT_EQ(t.st, Status::ok);
    EXPECT_EQ(t.seq, 1u);
}

TEST(SlotAllocator, TakeSkipsALengthBeyondTheSlotCapacity) {
    auto seg = make_segment(4, 64);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    publish_u64(*seg, 2);
    seg->impl().log[0].len.store(1ull << 40);
    std::uint64_t t = 0, seq = 0;
    std::size_t len = 0;
    ASSERT_EQ(r->take(&t, nullptr, &len, &seq), Status::ok);
    EXPECT_EQ(seq, 1u);
    EXPECT_EQ(len, 8u);
}

TEST(SlotAllocator, TakeSkipsADescriptorWhoseLabelWouldGoBackwards) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    std::uint64_t t = 0;
    ASSERT_EQ(seg->reserve(&t, nullptr), Status::ok);
    ASSERT_EQ(seg->commit_with_sequence(t, 0, 1000), Status::ok);
    publish_u64(*seg, 2);  // label 1001
    publish_u64(*seg, 3);  // label 1002
    Taken a = take(*r);
    ASSERT_EQ(a.st, Status::ok);
    EXPECT_EQ(a.seq, 1000u);
    seg->impl().log[1].label.store(5);  // forged: offset 4 < 999
    Taken b = take(*r);
    ASSERT_EQ(b.st, Status::ok);
    EXPECT_EQ(b.seq, 1002u) << "the forged number is skipped, numbers keep increasing";
}

TEST(SlotAllocator, ReleaseAfterEvictionReportsEvictedAndTheNewerSampleStaysIntact) {
    auto seg = make_segment(2);
    auto r = make_reader(seg);
    publish_u64(*seg, 1);
    Taken held = take(*r);
    ASSERT_EQ(held.st, Status::ok);
    std::uint32_t n = 0;
    ASSERT_EQ(seg->evict_stale(0, &n), Status::ok);
    EXPECT_EQ(n, 1u);
    publish_u64(*seg, 2);
    EXPECT_EQ(r->release(held.token), Status::evicted);
    Taken t = take(*r);
    ASSERT_EQ(t.st, Status::ok);
    EXPECT_EQ(t.seq, 1u);
    EXPECT_EQ(t.value, 2u);
    EXPECT_EQ(r->release(t.token), Status::ok);
}

TEST(SlotAllocator, AnEvictedHoldPinsOnlyItsSlotUntilReleased) {
    // PROTOCOL.md, "Known limits": the bit of an evicted hold stays until the
    // token is released; the writer still cycles every other slot.
    auto seg = make_segment(3);
    auto r = make_reader(seg);
    auto& s = seg->impl();
    publish_u64(*seg, 0);
    Taken held = take(*r);
    ASSERT_EQ(held.st, Status::ok);
    const std::uint32_t k = token::index(held.token);
    std::uint32_t n = 0;
    ASSERT_EQ(seg->evict_stale(0, &n), Status::ok);
    ASSERT_EQ(n, 1u);
    EXPECT_TRUE(s.held_bit(r->index(), k)) << "still set: the reader has not released";
    for (std::uint64_t i = 1; i < 50; ++i) {
        ASSERT_EQ(publish_u64(*seg, i), i);
        Taken t = take(*r);
        ASSERT_EQ(t.st, Status::ok);
        ASSERT_EQ(t.value, i);
        if (held.token != 0 && token::index(t.token) == k) {
            // Taken again: the current hold keeps the bit; the old token is
            // remembered and reports EVICTED.
            EXPECT_EQ(r->release(held.token), Status::evicted);
            held.token = 0;
        }
        ASSERT_EQ(r->release(t.token), Status::ok);
    }
    if (held.token != 0) {
        EXPECT_EQ(r->release(held.token), Status::evicted);
    }
    EXPECT_FALSE(s.held_bit(r->index(), k));
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

TEST(SlotAllocator, TheFastPathDecidesFromTheCachedMinimumAlone) {
    // After one refresh with the reader caught up, the next slot_count - 1
    // reserves need no reader line: cached_min already covers them.
    auto seg = make_segment(8);
    auto r = make_reader(seg);
    auto& s = seg->impl();
    for (std::uint64_t i = 0; i < 8; ++i) {
        publish_u64(*seg, i);
        Taken t = take(*r);
        ASSERT_EQ(t.st, Status::ok);
        ASSERT_EQ(r->release(t.token), Status::ok);
    }
    publish_u64(*seg, 8);  // slow path: refresh sees released = 8
    EXPECT_EQ(s.w.cached_min, 8u);
    // Break the reader's line: the fast path must not look at it.
    s.readers[r->index()].released.store(0);
    s.readers[r->index()].cursor.store(0);
    for (std::uint64_t i = 9; i < 16; ++i) EXPECT_EQ(publish_u64(*seg, i), i);
}

// ---------------------------------------------------------------- overwrite

TEST(SlotAllocator, OverwriteOldestNeverWaitsForAReaderThatDoesNotRead) {
    auto seg = make_segment(4, 64, /*overwrite=*/true);
    auto r = make_reader(seg);
    for (std::uint64_t i = 0; i < 100; ++i) ASSERT_EQ(publish_u64(*seg, i), i);
    // The reader lost the oldest ones and sees the newest in order.
    std::vector<std::uint64_t> got;
    for (;;) {
        Taken t = take(*r);
        if (t.st != Status::ok) break;
        EXPECT_EQ(t.value, t.seq);
        got.push_back(t.seq);
        ASSERT_EQ(r->release(t.token), Status::ok);
    }
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), 99u);
    for (std::size_t i = 1; i < got.size(); ++i) EXPECT_EQ(got[i], got[i - 1] + 1);
    EXPECT_GE(got.size(), 3u);
}

TEST(SlotAllocator, OverwriteOldestNeverTouchesAHeldSample) {
    auto seg = make_segment(4, 64, true);
    auto r = make_reader(seg);
    publish_u64(*seg, 0);
    publish_u64(*seg, 1);
    Taken a = take(*r);
    Taken b = take(*r);
    ASSERT_EQ(a.st, Status::ok);
    ASSERT_EQ(b.st, Status::ok);
    const std::uint32_t ka = token::index(a.token), kb = token::index(b.token);
    auto& s = seg->impl();
    for (std::uint64_t i = 2; i < 300; ++i) {
        std::uint64_t t = 0;
        void* data = nullptr;
        ASSERT_EQ(seg->reserve(&t, &data), Status::ok);
        ASSERT_NE(token::index(t), ka);
        ASSERT_NE(token::index(t), kb);
        std::memcpy(data, &i, 8);
        ASSERT_EQ(seg->commit_in_place(t, 8, nullptr), Status::ok);
    }
    std::uint64_t va = 0, vb = 0;
    std::memcpy(&va, s.slot_payload(ka), 8);
    std::memcpy(&vb, s.slot_payload(kb), 8);
    EXPECT_EQ(va, 0u);
    EXPECT_EQ(vb, 1u);
    EXPECT_EQ(r->release(a.token), Status::ok);
    EXPECT_EQ(r->release(b.token), Status::ok);
}

TEST(SlotAllocator, OverwriteOldestFailsOnlyWhenEverySlotIsLoanedOrHeld) {
    auto seg = make_segment(3, 64, true);
    auto r = make_reader(seg);
    publish_u64(*seg, 0);
    publish_u64(*seg, 1);
    Taken a = take(*r);
    Taken b = take(*r);
    std::uint64_t loan = 0;
    ASSERT_EQ(seg->reserve(&loan, nullptr), Status::ok);
    std::uint64_t t = 0;
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::no_free_slot) << "2 held + 1 loaned";
    ASSERT_EQ(r->release(a.token), Status::ok);
    EXPECT_EQ(seg->reserve(&t, nullptr), Status::ok);
    (void)b;
}

TEST(SlotAllocator, OverwriteOldestTakesTheOldestUnheldSampleFirst) {
    auto seg = make_segment(4, 64, true);
    auto r = make_reader(seg);      // takes and holds position 1 only
    auto lazy = make_reader(seg);   // never reads
    for (std::uint64_t i = 0; i < 4; ++i) publish_u64(*seg, i);
    Taken first = take(*r);
    ASSERT_EQ(r->release(first.token), Status::ok);
    Taken held = take(*r);  // position 1
    ASSERT_EQ(held.seq, 1u);
    publish_u64(*seg, 4);   // reuses position 0's slot (the oldest, unheld)
    publish_u64(*seg, 5);   // 1 is held: reuses 2's slot
    std::set<std::uint64_t> present;
    auto& s = seg->impl();
    for (std::uint32_t k = 0; k < 4; ++k) present.insert(s.slots[k].pos.load());
    EXPECT_EQ(present, (std::set<std::uint64_t>{1, 3, 4, 5}));
    // The lazy reader lost 0 and 2 (overwritten) and 1, whose descriptor the
    // log (4 entries) dropped when position 5 was published although r still
    // holds the sample (PROTOCOL.md, "Known limits"); then 3, 4, 5 in order.
    std::vector<std::uint64_t> got;
    for (Taken t = take(*lazy); t.st == Status::ok; t = take(*lazy)) {
        EXPECT_EQ(t.value, t.seq);
        got.push_back(t.seq);
        ASSERT_EQ(lazy->release(t.token), Status::ok);
    }
    EXPECT_EQ(got, (std::vector<std::uint64_t>{3, 4, 5}));
    EXPECT_EQ(r->release(held.token), Status::ok);
}

TEST(SlotAllocator, OverwriteProbeGivesAHeldSlotBackUntouched) {
    auto seg = make_segment(2, 64, true);
    auto r = make_reader(seg);
    publish_u64(*seg, 0);
    publish_u64(*seg, 1);
    auto& s = seg->impl();
    // Stage a reader whose bit is set but whose release position is behind
    // (it is between setting its bit and moving its cursor).
    Taken t = take(*r);
    const std::uint32_t k = token::index(t.token);
    const std::uint64_t word = s.slots[k].state.load();
    Segment::Impl::Snapshot snap;
    GateGuard gate(s.gate);
    EXPECT_FALSE(s.probe(k, word, 0, &snap));
    EXPECT_EQ(s.slots[k].state.load(), word) << "COMMITTED with the same generation again";
}

// ---------------------------------------------------------------- history

TEST(SlotAllocator, HistoryReaderGetsTheRetainedSamplesThenLiveOnesWithoutAGap) {
    auto seg = make_segment(8, 64, false, 3);
    for (std::uint64_t i = 0; i < 10; ++i) publish_u64(*seg, i);  // no reader: recycled
    auto late = make_reader(seg, kReaderFlagHistory);
    auto plain = make_reader(seg);
    publish_u64(*seg, 10);
    publish_u64(*seg, 11);
    std::vector<std::uint64_t> seqs;
    for (;;) {
        Taken t = take(*late);
        if (t.st != Status::ok) break;
        EXPECT_EQ(t.value, t.seq);
        seqs.push_back(t.seq);
        ASSERT_EQ(late->release(t.token), Status::ok);
    }
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{7, 8, 9, 10, 11}));
    Taken p = take(*plain);
    EXPECT_EQ(p.seq, 10u) << "without the flag: only what came after the attach";
}

TEST(SlotAllocator, RetainedSamplesAreNotReusedEvenWithNoReader) {
    auto seg = make_segment(4, 64, false, 3);
    for (std::uint64_t i = 0; i < 4; ++i) publish_u64(*seg, i);
    auto& s = seg->impl();
    std::set<std::uint64_t> present;
    for (std::uint32_t k = 0; k < 4; ++k) present.insert(s.slots[k].pos.load());
    EXPECT_EQ(present, (std::set<std::uint64_t>{0, 1, 2, 3}));
    std::uint64_t t = 0;
    ASSERT_EQ(seg->reserve(&t, nullptr), Status::ok);
    EXPECT_EQ(s.slots[token::index(t)].pos.load(), 0u) << "the one that fell out of the newest 3";
    std::uint64_t t2 = 0;
    EXPECT_EQ(seg->reserve(&t2, nullptr), Status::no_free_slot) << "1, 2, 3 are history";
}

TEST(SlotAllocator, HistoryMustBeBelowTheSlotCount) {
    SegmentConfig c;
    c.slot_count = 4;
    c.slot_capacity = 64;
    c.history = 4;
    std::shared_ptr<Segment> seg;
    ErrorDetail d;
    EXPECT_EQ(Segment::create(nullptr, c, &seg, &d), Status::invalid_argument);
}

// ---------------------------------------------------------------- take_latest

TEST(SlotAllocator, TakeLatestSkipsOlderSamplesAndFreesThem) {
    auto seg = make_segment(4);
    auto r = make_reader(seg);
    for (std::uint64_t i = 0; i < 4; ++i) publish_u64(*seg, i);
    const std::uint64_t g = seg->notify_generation();
    Taken t = take(*r, /*latest=*/true);
    ASSERT_EQ(t.st, Status::ok);
    EXPECT_EQ(t.seq, 3u);
    EXPECT_EQ(t.value, 3u);
    EXPECT_GT(seg->notify_generation(), g) << "skipping frees slots";
    std::uint64_t loan = 0;
    for (int i = 0; i < 3; ++i) ASSERT_EQ(seg->reserve(&loan, nullptr), Status::ok) << i;
    EXPECT_EQ(seg->reserve(&loan, nullptr), Status::no_free_slot) << "the newest is held";
    EXPECT_EQ(r->release(t.token), Status::ok);
    EXPECT_EQ(take(*r, true).st, Status::no_sample);
}

TEST(SlotAllocator, TakeLatestThenTakeKeepsNumbersIncreasing) {
    auto seg = make_segment(8);
    auto r = make_reader(seg);
    for (std::uint64_t i = 0; i < 5; ++i) publish_u64(*seg, i);
    Taken a = take(*r, true);
    publish_u64(*seg, 5);
    publish_u64(*seg, 6);
    Taken b = take(*r);
    Taken c = take(*r, true);
    EXPECT_EQ(a.seq, 4u);
    EXPECT_EQ(b.seq, 5u);
    EXPECT_EQ(c.seq, 6u);
    EXPECT_EQ(take(*r).st, Status::no_sample);
}

// ---------------------------------------------------------------- writer gate

TEST(SlotAllocator, ASecondWriterThreadTurnsTheGateIntoALockAndNothingIsLost) {
    auto seg = make_segment(16);
    auto r = make_reader(seg);
    EXPECT_FALSE(seg->impl().gate.is_shared());
    publish_u64(*seg, 0);  // this thread owns the gate
    EXPECT_FALSE(seg->impl().gate.is_shared());
    constexpr std::uint64_t kPerThread = 5000;
    std::atomic<bool> stop{false};
    std::vector<std::uint64_t> seen;
    std::thread reader([&] {
        while (seen.size() < 2 * kPerThread + 1 && !stop) {
            Taken t = take(*r);
            if (t.st != Status::ok) continue;
            seen.push_back(t.seq);
            ASSERT_EQ(r->release(t.token), Status::ok);
        }
    });
    auto writer = [&] {
        for (std::uint64_t i = 0; i < kPerThread; ++i) {
            std::uint64_t v = i;
            while (seg->publish(&v, 8, nullptr) == Status::no_free_slot) std::this_thread::yield();
        }
    };
    std::thread w1(writer), w2(writer);
    w1.join();
    w2.join();
    reader.join();
    EXPECT_TRUE(seg->impl().gate.is_shared());
    ASSERT_EQ(seen.size(), 2 * kPerThread + 1);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
}
