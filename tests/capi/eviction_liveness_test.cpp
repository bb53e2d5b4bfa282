// eviction_liveness_test.cpp — zfd_evict_stale, zfd_mark_reader_disconnected,
// zfd_reap_dead_readers and the 64-entry reader table, on in-memory segments.
#include "capi_test_util.hpp"

#include <thread>
#include <vector>

namespace {

using namespace capi_test;

// ---------------------------------------------------------------- evict_stale

TEST(EvictStale, WithZeroAgeFreesEveryCommittedUnreleasedSlot) {
    constexpr uint32_t kSlots = 4;
    SegmentPtr segment = make_segment(kSlots, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr holder = make_reader(segment.get());
    ReaderPtr idle = make_reader(segment.get());
    ASSERT_TRUE(holder && idle);
    for (uint64_t i = 0; i < kSlots; ++i) publish_u64(segment.get(), i);
    Taken held = take(holder.get());  // one taken, three unread by `holder`; four unread by `idle`
    ASSERT_EQ(held.rc, ZFD_OK);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);

    uint32_t evicted = 12345;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, kSlots) << "out_evicted counts slots";

    // Every slot is free again.
    zfd_slot loans[kSlots];
    for (zfd_slot& l : loans) ASSERT_EQ(zfd_reserve(segment.get(), &l, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);
    for (zfd_slot l : loans) EXPECT_EQ(zfd_discard(segment.get(), l), ZFD_OK);

    EXPECT_EQ(zfd_release(holder.get(), held.slot), ZFD_E_EVICTED);
    EXPECT_EQ(take(holder.get()).rc, ZFD_E_NO_SAMPLE) << "evicted samples are not delivered";
    EXPECT_EQ(take(idle.get()).rc, ZFD_E_NO_SAMPLE) << "evicted samples are not delivered";
}

TEST(EvictStale, AReaderHoldingAnEvictedSlotGetsEvictedOnRelease) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    Taken held = take(reader.get());
    ASSERT_EQ(held.rc, ZFD_OK);
    uint32_t evicted = 0;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 1u);
    EXPECT_EQ(zfd_release(reader.get(), held.slot), ZFD_E_EVICTED);
    // The reader carries on with the next sample.
    const uint64_t seq = publish_u64(segment.get(), 2);
    Taken next = take(reader.get());
    ASSERT_EQ(next.rc, ZFD_OK);
    EXPECT_EQ(next.sequence, seq);
    EXPECT_EQ(next.value(), 2u);
    EXPECT_EQ(zfd_release(reader.get(), next.slot), ZFD_OK);
}

TEST(EvictStale, AnOldTokenStillSaysEvictedAfterItsSlotWasReusedAndTakenAgain) {
    // One slot: the evicted sample's slot is necessarily the one reused.
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    Taken old_sample = take(reader.get());
    ASSERT_EQ(old_sample.rc, ZFD_OK);
    uint32_t evicted = 0;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    ASSERT_EQ(evicted, 1u);
    publish_u64(segment.get(), 2);
    Taken new_sample = take(reader.get());
    ASSERT_EQ(new_sample.rc, ZFD_OK);
    ASSERT_EQ(new_sample.value(), 2u);
    ASSERT_NE(new_sample.slot, old_sample.slot) << "tokens of different generations differ";

    EXPECT_EQ(zfd_release(reader.get(), old_sample.slot), ZFD_E_EVICTED);
    EXPECT_EQ(zfd_release(reader.get(), old_sample.slot), ZFD_E_NOT_LOANED) << "released once";
    // The newer hold is untouched by the old token's release.
    EXPECT_EQ(new_sample.value(), 2u);
    EXPECT_EQ(zfd_release(reader.get(), new_sample.slot), ZFD_OK);
    EXPECT_EQ(zfd_release(reader.get(), new_sample.slot), ZFD_E_NOT_LOANED);
    // The slot is free again: the writer is not pinned by bookkeeping.
    EXPECT_NE(publish_u64(segment.get(), 3), ~0ull);
}

TEST(EvictStale, ReadersOfOneSegmentNeverAcceptEachOthersTokens) {
    // Every reader takes the same sample (same slot and generation): only
    // the tag tells their tokens apart, and it must, for all 64 readers.
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    std::vector<ReaderPtr> readers;
    for (int i = 0; i < 64; ++i) {
        readers.push_back(make_reader(segment.get()));
        ASSERT_NE(readers.back(), nullptr);
    }
    publish_u64(segment.get(), 7);
    std::vector<zfd_slot> tokens;
    for (ReaderPtr& r : readers) {
        Taken t = take(r.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        tokens.push_back(t.slot);
    }
    for (size_t i = 0; i < readers.size(); ++i) {
        const size_t other = (i + 1) % readers.size();
        EXPECT_EQ(zfd_release(readers[i].get(), tokens[other]), ZFD_E_NOT_LOANED)
            << "reader " << i << " accepted reader " << other << "'s token";
    }
    for (size_t i = 0; i < readers.size(); ++i) {
        EXPECT_EQ(zfd_release(readers[i].get(), tokens[i]), ZFD_OK);
    }
}

TEST(EvictStale, AReaderThatHadNotTakenTheEvictedSamplesSeesAGap) {
    SegmentPtr segment = make_segment(8, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    const uint64_t first = publish_u64(segment.get(), 1);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    ASSERT_EQ(t.sequence, first);
    ASSERT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);

    publish_u64(segment.get(), 2);
    publish_u64(segment.get(), 3);
    const uint64_t last_evicted = publish_u64(segment.get(), 4);
    uint32_t evicted = 0;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 3u);

    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    const uint64_t after = publish_u64(segment.get(), 5);
    t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.sequence, after);
    EXPECT_GT(t.sequence, last_evicted);
    EXPECT_GT(t.sequence, first + 1) << "the jump tells the reader samples were lost";
    EXPECT_EQ(t.value(), 5u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(EvictStale, WithALargeMaxAgeEvictsNothing) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    publish_u64(segment.get(), 2);
    Taken held = take(reader.get());
    ASSERT_EQ(held.rc, ZFD_OK);
    uint32_t evicted = 12345;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 3600 * kSec, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 0u);
    EXPECT_EQ(zfd_release(reader.get(), held.slot), ZFD_OK);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 2u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(EvictStale, AgeCountsFromTheCommit) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const uint64_t young = publish_u64(segment.get(), 2);
    uint32_t evicted = 0;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 200 * kMs, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 1u) << "only the sample older than max_age";
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.sequence, young);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(EvictStale, CountsNothingWhenEverySampleWasReleasedOrNobodyReads) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    publish_u64(segment.get(), 1);  // no reader: free at once
    uint32_t evicted = 12345;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 0u);

    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 2);
    ASSERT_EQ(zfd_take_copy(reader.get(), nullptr, 0, nullptr, nullptr), ZFD_E_TOO_LARGE);
    uint64_t v = 0;
    ASSERT_EQ(zfd_take_copy(reader.get(), &v, sizeof v, nullptr, nullptr), ZFD_OK);
    evicted = 12345;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 0u);
}

TEST(EvictStale, NeverTouchesAnOpenLoan) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    zfd_slot loan = 0;
    void* data = nullptr;
    ASSERT_EQ(zfd_reserve(segment.get(), &loan, &data), ZFD_OK);
    std::memcpy(data, "loaned", 6);
    publish_u64(segment.get(), 1);
    uint32_t evicted = 0;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    EXPECT_EQ(evicted, 1u);
    ASSERT_EQ(zfd_commit_in_place(segment.get(), loan, 6, nullptr), ZFD_OK);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    ASSERT_EQ(t.len, 6u);
    EXPECT_EQ(std::memcmp(t.data, "loaned", 6), 0);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(EvictStale, OutEvictedMayBeNull) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    EXPECT_EQ(zfd_evict_stale(segment.get(), 0, nullptr), ZFD_OK);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
}

// ---------------------------------------------------------------- mark_reader_disconnected

TEST(MarkReaderDisconnected, FreesTheSlotsThatWaitedOnlyOnThatReader) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr stuck = make_reader(segment.get());
    ReaderPtr healthy = make_reader(segment.get());
    ASSERT_TRUE(stuck && healthy);
    publish_u64(segment.get(), 1);
    publish_u64(segment.get(), 2);
    for (int i = 0; i < 2; ++i) {
        Taken t = take(healthy.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        ASSERT_EQ(zfd_release(healthy.get(), t.slot), ZFD_OK);
    }
    Taken held = take(stuck.get());  // one held, one unread by `stuck`
    ASSERT_EQ(held.rc, ZFD_OK);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);

    const uint32_t index = zfd_reader_index(stuck.get());
    ASSERT_EQ(zfd_mark_reader_disconnected(segment.get(), index), ZFD_OK);
    zfd_slot a = 0, b = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &a, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &b, nullptr), ZFD_OK);
}

TEST(MarkReaderDisconnected, KeepsSlotsThatOtherReadersStillHold) {
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr gone = make_reader(segment.get());
    ReaderPtr other = make_reader(segment.get());
    ASSERT_TRUE(gone && other);
    publish_u64(segment.get(), 1);
    ASSERT_EQ(zfd_mark_reader_disconnected(segment.get(), zfd_reader_index(gone.get())), ZFD_OK);
    zfd_slot slot = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);
    Taken t = take(other.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 1u);
    ASSERT_EQ(zfd_release(other.get(), t.slot), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
}

TEST(MarkReaderDisconnected, ClearsTheReaderBitInActiveReaders) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ASSERT_TRUE(a && b);
    const uint32_t ia = zfd_reader_index(a.get());
    const uint32_t ib = zfd_reader_index(b.get());
    ASSERT_EQ(zfd_mark_reader_disconnected(segment.get(), ia), ZFD_OK);
    EXPECT_EQ(info_of(segment.get()).active_readers, 1ull << ib);
    a.reset();  // closing the detached handle changes nothing
    EXPECT_EQ(info_of(segment.get()).active_readers, 1ull << ib);
}

TEST(MarkReaderDisconnected, TheDetachedReaderGetsDetachedFromEveryCallButClose) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    publish_u64(segment.get(), 2);
    Taken held = take(reader.get());
    ASSERT_EQ(held.rc, ZFD_OK);
    ASSERT_EQ(zfd_mark_reader_disconnected(segment.get(), zfd_reader_index(reader.get())), ZFD_OK);

    zfd_slot slot = 0;
    const void* data = nullptr;
    size_t len = 0;
    uint64_t seq = 0;
    EXPECT_EQ(zfd_take(reader.get(), &slot, &data, &len, &seq), ZFD_E_DETACHED);
    EXPECT_EQ(zfd_release(reader.get(), held.slot), ZFD_E_DETACHED);
    char buf[64];
    EXPECT_EQ(zfd_take_copy(reader.get(), buf, sizeof buf, &len, &seq), ZFD_E_DETACHED);
    auto start = Clock::now();
    EXPECT_EQ(zfd_reader_wait(reader.get(), 0), ZFD_E_DETACHED);
    EXPECT_EQ(zfd_reader_wait(reader.get(), 10 * kSec), ZFD_E_DETACHED);
    EXPECT_LT(ms_since(start), 1000.0) << "a detached reader does not wait";

    publish_u64(segment.get(), 3);  // new samples do not revive it
    EXPECT_EQ(zfd_take(reader.get(), &slot, &data, &len, &seq), ZFD_E_DETACHED);
    EXPECT_EQ(zfd_reader_wait(reader.get(), 0), ZFD_E_DETACHED);
    reader.reset();  // close is fine
}

TEST(MarkReaderDisconnected, ClosingTheDetachedHandleNeverTouchesANewReaderOnTheSameIndex) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    // Fill the reader table so the detached index is the only one free.
    std::vector<ReaderPtr> fillers;
    ReaderPtr old_reader = make_reader(segment.get());
    ASSERT_NE(old_reader, nullptr);
    for (int i = 0; i < ZFD_MAX_READERS - 1; ++i) {
        fillers.push_back(make_reader(segment.get()));
        ASSERT_NE(fillers.back(), nullptr) << i;
    }
    publish_u64(segment.get(), 1);
    Taken old_held = take(old_reader.get());
    ASSERT_EQ(old_held.rc, ZFD_OK);

    const uint32_t index = zfd_reader_index(old_reader.get());
    ASSERT_EQ(zfd_mark_reader_disconnected(segment.get(), index), ZFD_OK);
    EXPECT_EQ(info_of(segment.get()).active_readers & (1ull << index), 0u);

    ReaderPtr new_reader = make_reader(segment.get());
    ASSERT_NE(new_reader, nullptr) << "the detached index is free for a new reader";
    ASSERT_EQ(zfd_reader_index(new_reader.get()), index);
    fillers.clear();  // keep the picture small: just the old and the new handle

    const uint64_t seq = publish_u64(segment.get(), 2);
    old_reader.reset();  // must not detach, release for or otherwise touch the new reader

    EXPECT_NE(info_of(segment.get()).active_readers & (1ull << index), 0u);
    Taken t = take(new_reader.get());
    ASSERT_EQ(t.rc, ZFD_OK) << zfd_status_str(t.rc);
    EXPECT_EQ(t.sequence, seq);
    EXPECT_EQ(t.value(), 2u);
    EXPECT_EQ(zfd_release(new_reader.get(), t.slot), ZFD_OK);
    // And the new reader still holds back the writer as an attached reader should.
    publish_u64(segment.get(), 3);
    publish_u64(segment.get(), 4);
    publish_u64(segment.get(), 5);
    publish_u64(segment.get(), 6);
    zfd_slot slot = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);
    EXPECT_EQ(zfd_reader_wait(new_reader.get(), 0), ZFD_OK);
}

TEST(MarkReaderDisconnected, IndexOutOfRangeGivesInval) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), ZFD_MAX_READERS), ZFD_E_INVAL);
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), 1000), ZFD_E_INVAL);
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), UINT32_MAX), ZFD_E_INVAL);
}

TEST(MarkReaderDisconnected, AnIndexWithNoReaderGivesNotFound) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), 0), ZFD_E_NOT_FOUND);
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), ZFD_MAX_READERS - 1), ZFD_E_NOT_FOUND);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    const uint32_t index = zfd_reader_index(reader.get());
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), (index + 1) % ZFD_MAX_READERS), ZFD_E_NOT_FOUND);
    ASSERT_EQ(zfd_mark_reader_disconnected(segment.get(), index), ZFD_OK);
    EXPECT_EQ(zfd_mark_reader_disconnected(segment.get(), index), ZFD_E_NOT_FOUND) << "already detached";
}

// ---------------------------------------------------------------- reap_dead_readers

TEST(ReapDeadReaders, ReapsNothingOnAnInMemorySegmentOfThisLiveProcess) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ASSERT_TRUE(a && b);
    publish_u64(segment.get(), 1);
    uint32_t reaped = 12345;
    ASSERT_EQ(zfd_reap_dead_readers(segment.get(), &reaped), ZFD_OK);
    EXPECT_EQ(reaped, 0u);
    EXPECT_EQ(zfd_reap_dead_readers(segment.get(), nullptr), ZFD_OK);
    const uint64_t bits = (1ull << zfd_reader_index(a.get())) | (1ull << zfd_reader_index(b.get()));
    EXPECT_EQ(info_of(segment.get()).active_readers, bits);
    Taken t = take(a.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(zfd_release(a.get(), t.slot), ZFD_OK);
}

// ---------------------------------------------------------------- reader table

TEST(ReaderOpen, SixtyFourReadersAttachAndTheSixtyFifthGetsNoReaderSlot) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    std::vector<ReaderPtr> readers;
    uint64_t seen = 0;
    for (int i = 0; i < ZFD_MAX_READERS; ++i) {
        readers.push_back(make_reader(segment.get()));
        ASSERT_NE(readers.back(), nullptr) << i;
        const uint32_t index = zfd_reader_index(readers.back().get());
        ASSERT_LT(index, static_cast<uint32_t>(ZFD_MAX_READERS));
        EXPECT_EQ(seen & (1ull << index), 0u) << "index " << index << " given twice";
        seen |= 1ull << index;
    }
    EXPECT_EQ(seen, ~0ull);
    EXPECT_EQ(info_of(segment.get()).active_readers, ~0ull);

    zfd_reader* extra = nullptr;
    EXPECT_EQ(zfd_reader_open(segment.get(), 0, &extra), ZFD_E_NO_READER_SLOT);

    // Every one of the 64 gets every sample.
    const uint64_t seq = publish_u64(segment.get(), 64);
    for (ReaderPtr& r : readers) {
        Taken t = take(r.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.sequence, seq);
        EXPECT_EQ(zfd_release(r.get(), t.slot), ZFD_OK);
    }

    const uint32_t freed = zfd_reader_index(readers[17].get());
    readers[17].reset();
    EXPECT_EQ(info_of(segment.get()).active_readers, ~0ull & ~(1ull << freed));
    ASSERT_EQ(zfd_reader_open(segment.get(), 0, &extra), ZFD_OK);
    ReaderPtr again{extra};
    EXPECT_EQ(zfd_reader_index(again.get()), freed);
    zfd_reader* another = nullptr;
    EXPECT_EQ(zfd_reader_open(segment.get(), 0, &another), ZFD_E_NO_READER_SLOT);
}

}  // namespace
