// data_path_test.cpp — reserve/commit/take/release on in-memory segments:
// payload pointers, order and exactly-once delivery, backpressure, loan sizes,
// slot_data and take_copy.
#include "capi_test_util.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <vector>

namespace {

using namespace capi_test;

// ---------------------------------------------------------------- payload pointers

TEST(Reserve, PayloadPointersAre64ByteAlignedForAnyCapacity) {
    const uint64_t capacities[] = {1, 7, 63, 64, 65, 100, 1000, 4097};
    for (uint64_t capacity : capacities) {
        SCOPED_TRACE(capacity);
        SegmentPtr segment = make_segment(5, capacity);
        ASSERT_NE(segment, nullptr);
        std::vector<void*> seen;
        for (int i = 0; i < 5; ++i) {
            zfd_slot slot = 0;
            void* data = nullptr;
            ASSERT_EQ(zfd_reserve(segment.get(), &slot, &data), ZFD_OK);
            ASSERT_NE(data, nullptr);
            EXPECT_TRUE(aligned64(data)) << data;
            std::memset(data, 0x11 * (i + 1), capacity);  // the whole capacity is writable
            EXPECT_EQ(std::find(seen.begin(), seen.end(), data), seen.end()) << "two loans share memory";
            seen.push_back(data);
        }
    }
}

TEST(Reserve, OutDataMayBeNull) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, "x", 1, nullptr), ZFD_OK);
}

TEST(Take, PayloadPointersAre64ByteAligned) {
    SegmentPtr segment = make_segment(4, 100);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    for (int i = 0; i < 4; ++i) publish_u64(segment.get(), i);
    for (int i = 0; i < 4; ++i) {
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_TRUE(aligned64(t.data)) << t.data;
        EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    }
}

TEST(Take, TwoReadersTakingTheSameSampleGetTheSamePointer) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ASSERT_TRUE(a && b);
    zfd_slot loan = 0;
    void* written = nullptr;
    ASSERT_EQ(zfd_reserve(segment.get(), &loan, &written), ZFD_OK);
    std::memcpy(written, "zero-copy", 9);
    ASSERT_EQ(zfd_commit_in_place(segment.get(), loan, 9, nullptr), ZFD_OK);

    Taken ta = take(a.get());
    Taken tb = take(b.get());
    ASSERT_EQ(ta.rc, ZFD_OK);
    ASSERT_EQ(tb.rc, ZFD_OK);
    EXPECT_EQ(ta.data, tb.data);
    EXPECT_EQ(ta.data, written) << "readers read the slot the writer wrote, in place";
    EXPECT_EQ(ta.sequence, tb.sequence);
    EXPECT_EQ(zfd_release(a.get(), ta.slot), ZFD_OK);
    EXPECT_EQ(zfd_release(b.get(), tb.slot), ZFD_OK);
}

TEST(Take, ReturnsTheCommittedBytesAndLength) {
    SegmentPtr segment = make_segment(4, 256);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);

    std::vector<uint8_t> bytes(200);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    uint64_t committed_seq = 0;
    ASSERT_EQ(zfd_commit(segment.get(), slot, bytes.data(), bytes.size(), &committed_seq), ZFD_OK);
    ASSERT_EQ(zfd_publish(segment.get(), bytes.data(), 13, nullptr), ZFD_OK);

    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.len, bytes.size());
    EXPECT_EQ(t.sequence, committed_seq);
    EXPECT_EQ(std::memcmp(t.data, bytes.data(), bytes.size()), 0);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);

    t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.len, 13u);
    EXPECT_EQ(std::memcmp(t.data, bytes.data(), 13), 0);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Take, OptionalOutParametersMayBeNull) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_take(reader.get(), &slot, nullptr, nullptr, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_release(reader.get(), slot), ZFD_OK);
}

TEST(Take, GivesNoSampleWhenNothingIsUnread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    publish_u64(segment.get(), 1);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE) << "a taken sample is not unread";
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
}

// ---------------------------------------------------------------- order and exactly-once

TEST(Order, ThreeReadersTakeEverySampleExactlyOnceInCommitOrder) {
    constexpr uint32_t kSlots = 8;
    constexpr uint64_t kSamples = 5000;
    SegmentPtr segment = make_segment(kSlots, 64);
    ASSERT_NE(segment, nullptr);

    struct ReaderState {
        ReaderPtr handle;
        uint64_t next_value = 0;
        uint64_t last_sequence = 0;
        bool any = false;
        std::deque<zfd_slot> held;
    };
    std::vector<ReaderState> readers(3);
    for (ReaderState& r : readers) {
        r.handle = make_reader(segment.get());
        ASSERT_NE(r.handle, nullptr);
    }

    std::mt19937 rng(20260101);
    std::map<uint64_t, uint64_t> sequence_of;  // value -> committed sequence
    uint64_t published = 0;
    uint64_t last_commit_seq = 0;

    auto take_some = [&](ReaderState& r, int n) {
        for (int k = 0; k < n; ++k) {
            Taken t = take(r.handle.get());
            if (t.rc == ZFD_E_NO_SAMPLE) break;
            ASSERT_EQ(t.rc, ZFD_OK) << zfd_status_str(t.rc);
            ASSERT_EQ(t.len, sizeof(uint64_t));
            ASSERT_EQ(t.value(), r.next_value) << "lost, duplicated or reordered sample";
            ASSERT_EQ(t.sequence, sequence_of.at(t.value()));
            if (r.any) {
                ASSERT_GT(t.sequence, r.last_sequence);
            }
            r.any = true;
            r.last_sequence = t.sequence;
            r.next_value += 1;
            r.held.push_back(t.slot);
        }
        // Hold at most two samples; release in a random order.
        while (r.held.size() > 2 || (!r.held.empty() && rng() % 3 == 0)) {
            size_t i = rng() % r.held.size();
            ASSERT_EQ(zfd_release(r.handle.get(), r.held[i]), ZFD_OK);
            r.held.erase(r.held.begin() + static_cast<std::ptrdiff_t>(i));
        }
    };

    while (published < kSamples) {
        const int burst = static_cast<int>(rng() % 6);
        for (int k = 0; k < burst && published < kSamples; ++k) {
            uint64_t seq = 0;
            int32_t rc = zfd_publish(segment.get(), &published, sizeof published, &seq);
            if (rc == ZFD_E_NO_FREE_SLOT) break;
            ASSERT_EQ(rc, ZFD_OK) << zfd_status_str(rc);
            if (published > 0) {
                ASSERT_GT(seq, last_commit_seq);
            }
            last_commit_seq = seq;
            sequence_of[published] = seq;
            published += 1;
        }
        for (ReaderState& r : readers) {
            take_some(r, static_cast<int>(rng() % 4));
            if (HasFatalFailure()) return;
        }
    }
    for (ReaderState& r : readers) {
        take_some(r, 1 << 30);
        if (HasFatalFailure()) return;
        for (zfd_slot s : r.held) EXPECT_EQ(zfd_release(r.handle.get(), s), ZFD_OK);
        r.held.clear();
        EXPECT_EQ(r.next_value, kSamples) << "reader " << zfd_reader_index(r.handle.get());
        EXPECT_EQ(take(r.handle.get()).rc, ZFD_E_NO_SAMPLE);
    }
}

TEST(Order, ReaderSeesOnlySamplesCommittedAfterItAttached) {
    SegmentPtr segment = make_segment(8, 64);
    ASSERT_NE(segment, nullptr);
    publish_u64(segment.get(), 100);  // nobody attached
    publish_u64(segment.get(), 101);

    ReaderPtr early = make_reader(segment.get());
    ASSERT_NE(early, nullptr);
    publish_u64(segment.get(), 102);
    publish_u64(segment.get(), 103);

    ReaderPtr late = make_reader(segment.get());  // 102 and 103 are pending for `early`
    ASSERT_NE(late, nullptr);
    const uint64_t seq104 = publish_u64(segment.get(), 104);

    for (uint64_t expected : {102u, 103u, 104u}) {
        Taken t = take(early.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.value(), expected);
        EXPECT_EQ(zfd_release(early.get(), t.slot), ZFD_OK);
    }
    EXPECT_EQ(take(early.get()).rc, ZFD_E_NO_SAMPLE);

    Taken t = take(late.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 104u);
    EXPECT_EQ(t.sequence, seq104);
    EXPECT_EQ(zfd_release(late.get(), t.slot), ZFD_OK);
    EXPECT_EQ(take(late.get()).rc, ZFD_E_NO_SAMPLE);
}

// ---------------------------------------------------------------- backpressure

TEST(Reserve, FailsWithNoFreeSlotWhenEveryReaderStillHoldsTheSlot) {
    constexpr uint32_t kSlots = 4;
    SegmentPtr segment = make_segment(kSlots, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    for (uint32_t i = 0; i < kSlots; ++i) {
        zfd_slot slot = 0;
        ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK) << i;
        ASSERT_EQ(zfd_commit(segment.get(), slot, &i, sizeof i, nullptr), ZFD_OK);
    }
    zfd_slot slot = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);
    uint64_t v = 9;
    EXPECT_EQ(zfd_publish(segment.get(), &v, sizeof v, nullptr), ZFD_E_NO_FREE_SLOT);

    Taken t = take(reader.get());  // taken but not released: still held
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);

    ASSERT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);  // frees exactly one
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    zfd_slot second = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &second, nullptr), ZFD_E_NO_FREE_SLOT);
    EXPECT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
}

TEST(Reserve, FailsWithNoFreeSlotWhenEverySlotIsLoaned) {
    SegmentPtr segment = make_segment(3, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot loans[3];
    for (zfd_slot& l : loans) ASSERT_EQ(zfd_reserve(segment.get(), &l, nullptr), ZFD_OK);
    zfd_slot extra = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &extra, nullptr), ZFD_E_NO_FREE_SLOT);
    EXPECT_EQ(zfd_discard(segment.get(), loans[1]), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &extra, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_discard(segment.get(), loans[0]), ZFD_OK);
    EXPECT_EQ(zfd_discard(segment.get(), loans[2]), ZFD_OK);
    EXPECT_EQ(zfd_discard(segment.get(), extra), ZFD_OK);
}

TEST(Reserve, SlotsRecycleFreelyWithNoReaderAttached) {
    constexpr uint32_t kSlots = 4;
    SegmentPtr segment = make_segment(kSlots, 64);
    ASSERT_NE(segment, nullptr);
    for (uint64_t i = 0; i < 10 * kSlots; ++i) {
        uint64_t seq = 0;
        ASSERT_EQ(zfd_publish(segment.get(), &i, sizeof i, &seq), ZFD_OK) << i;
        zfd_slot slot = 0;
        ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK) << i;
        ASSERT_EQ(zfd_commit(segment.get(), slot, &i, sizeof i, nullptr), ZFD_OK) << i;
    }
}

TEST(Reserve, SlotIsFreeOnlyWhenEveryReaderAttachedAtCommitReleasedIt) {
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ASSERT_TRUE(a && b);
    publish_u64(segment.get(), 1);
    zfd_slot slot = 0;

    Taken ta = take(a.get());
    ASSERT_EQ(ta.rc, ZFD_OK);
    ASSERT_EQ(zfd_release(a.get(), ta.slot), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT) << "b has not released";

    Taken tb = take(b.get());
    ASSERT_EQ(tb.rc, ZFD_OK);
    ASSERT_EQ(zfd_release(b.get(), tb.slot), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
}

TEST(Reserve, AReaderAttachedAfterTheCommitDoesNotHoldTheSlot) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ASSERT_NE(a, nullptr);
    publish_u64(segment.get(), 1);
    publish_u64(segment.get(), 2);
    ReaderPtr b = make_reader(segment.get());
    ASSERT_NE(b, nullptr);
    for (int i = 0; i < 2; ++i) {
        Taken t = take(a.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        ASSERT_EQ(zfd_release(a.get(), t.slot), ZFD_OK);
    }
    zfd_slot s1 = 0, s2 = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &s1, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_reserve(segment.get(), &s2, nullptr), ZFD_OK);
    EXPECT_EQ(take(b.get()).rc, ZFD_E_NO_SAMPLE);
}

TEST(ReaderClose, ReleasesEverythingTheReaderHeldOrHadNotRead) {
    SegmentPtr segment = make_segment(3, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    for (uint64_t i = 0; i < 3; ++i) publish_u64(segment.get(), i);
    Taken t = take(reader.get());  // one held, two unread
    ASSERT_EQ(t.rc, ZFD_OK);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);
    reader.reset();
    zfd_slot loans[3];
    for (zfd_slot& l : loans) EXPECT_EQ(zfd_reserve(segment.get(), &l, nullptr), ZFD_OK);
}

// ---------------------------------------------------------------- loan sizes

TEST(Commit, TooLargeGivesTooLargeAndTheLoanStaysOpen) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    const uint64_t next = info_of(segment.get()).next_sequence;
    std::vector<uint8_t> bytes(65, 0x3C);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, bytes.data(), 65, nullptr), ZFD_E_TOO_LARGE);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    uint64_t seq = 0;
    ASSERT_EQ(zfd_commit(segment.get(), slot, bytes.data(), 64, &seq), ZFD_OK) << "loan must stay open";
    EXPECT_EQ(seq, next);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.len, 64u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(CommitInPlace, TooLargeGivesTooLargeAndTheLoanStaysOpen) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    zfd_slot slot = 0;
    void* data = nullptr;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, &data), ZFD_OK);
    std::memset(data, 0x42, 64);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, 65, nullptr), ZFD_E_TOO_LARGE);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, SIZE_MAX, nullptr), ZFD_E_TOO_LARGE);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    ASSERT_EQ(zfd_commit_in_place(segment.get(), slot, 10, nullptr), ZFD_OK) << "loan must stay open";
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.len, 10u);
    EXPECT_EQ(static_cast<const uint8_t*>(t.data)[9], 0x42);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Commit, LengthEqualToCapacityAndZeroLengthAreAccepted) {
    SegmentPtr segment = make_segment(4, 100);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    std::vector<uint8_t> bytes(100);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(255 - i);

    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, bytes.data(), 100, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, bytes.data(), 0, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, 100, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, 0, nullptr), ZFD_OK);

    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.len, 100u);
    EXPECT_EQ(std::memcmp(t.data, bytes.data(), 100), 0);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    for (size_t expected_len : {size_t{0}, size_t{100}, size_t{0}}) {
        t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.len, expected_len);
        EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    }
}

TEST(Publish, TooLargeUsesNoSlotAndNoSequence) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    const uint64_t next = info_of(segment.get()).next_sequence;
    std::vector<uint8_t> bytes(65, 1);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(zfd_publish(segment.get(), bytes.data(), 65, nullptr), ZFD_E_TOO_LARGE);
    }
    EXPECT_EQ(info_of(segment.get()).next_sequence, next);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    EXPECT_EQ(zfd_publish(segment.get(), bytes.data(), 64, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_publish(segment.get(), bytes.data(), 64, nullptr), ZFD_OK);
}

TEST(Publish, ZeroLengthSampleMayHaveNullBytes) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(zfd_publish(segment.get(), nullptr, 0, nullptr), ZFD_OK);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, nullptr, 0, nullptr), ZFD_OK);
    for (int i = 0; i < 2; ++i) {
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.len, 0u);
        EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    }
}

// ---------------------------------------------------------------- slot_data

TEST(SlotData, ReturnsTheReservedPointerAndTheSlotCapacity) {
    SegmentPtr segment = make_segment(3, 200);
    ASSERT_NE(segment, nullptr);
    for (int i = 0; i < 3; ++i) {
        zfd_slot slot = 0;
        void* reserved = nullptr;
        ASSERT_EQ(zfd_reserve(segment.get(), &slot, &reserved), ZFD_OK);
        void* data = nullptr;
        uint64_t capacity = 0;
        ASSERT_EQ(zfd_slot_data(segment.get(), slot, &data, &capacity), ZFD_OK);
        EXPECT_EQ(data, reserved);
        EXPECT_EQ(capacity, 200u);
        EXPECT_EQ(zfd_slot_data(segment.get(), slot, nullptr, nullptr), ZFD_OK);
        EXPECT_EQ(zfd_slot_data(segment.get(), slot, &data, nullptr), ZFD_OK);
        EXPECT_EQ(zfd_slot_data(segment.get(), slot, nullptr, &capacity), ZFD_OK);
    }
}

TEST(SlotData, RefusesACommittedToken) {
    SegmentPtr segment = make_segment(3, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit_in_place(segment.get(), slot, 0, nullptr), ZFD_OK);
    void* data = nullptr;
    EXPECT_EQ(zfd_slot_data(segment.get(), slot, &data, nullptr), ZFD_E_NOT_LOANED);
}

// ---------------------------------------------------------------- take_copy

TEST(TakeCopy, CopiesTheSampleAndReleasesIt) {
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    const char text[] = "take me by copy";
    uint64_t committed = 0;
    ASSERT_EQ(zfd_publish(segment.get(), text, sizeof text, &committed), ZFD_OK);

    char buf[64] = {};
    size_t len = 0;
    uint64_t seq = ~0ull;
    ASSERT_EQ(zfd_take_copy(reader.get(), buf, sizeof buf, &len, &seq), ZFD_OK);
    EXPECT_EQ(len, sizeof text);
    EXPECT_EQ(seq, committed);
    EXPECT_STREQ(buf, text);
    // The only slot was released by take_copy: the writer can publish again.
    EXPECT_EQ(zfd_publish(segment.get(), text, sizeof text, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_take_copy(reader.get(), buf, sizeof buf, nullptr, nullptr), ZFD_OK);
}

TEST(TakeCopy, BufferTooSmallGivesTooLargeWithTheSizeAndLeavesTheSampleUnconsumed) {
    SegmentPtr segment = make_segment(4, 256);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    std::vector<uint8_t> bytes(100);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i);
    uint64_t committed = 0;
    ASSERT_EQ(zfd_publish(segment.get(), bytes.data(), bytes.size(), &committed), ZFD_OK);

    std::vector<uint8_t> small(10, 0xEE);
    size_t len = 0;
    EXPECT_EQ(zfd_take_copy(reader.get(), small.data(), small.size(), &len, nullptr), ZFD_E_TOO_LARGE);
    EXPECT_EQ(len, 100u);
    len = 0;
    EXPECT_EQ(zfd_take_copy(reader.get(), small.data(), 99, &len, nullptr), ZFD_E_TOO_LARGE);
    EXPECT_EQ(len, 100u);

    std::vector<uint8_t> big(200, 0);
    uint64_t seq = 0;
    ASSERT_EQ(zfd_take_copy(reader.get(), big.data(), big.size(), &len, &seq), ZFD_OK);
    EXPECT_EQ(len, 100u);
    EXPECT_EQ(seq, committed);
    EXPECT_EQ(std::memcmp(big.data(), bytes.data(), 100), 0);
    EXPECT_EQ(zfd_take_copy(reader.get(), big.data(), big.size(), &len, nullptr), ZFD_E_NO_SAMPLE);
}

TEST(TakeCopy, NullBufferWithZeroCapacityReportsTheSampleSize) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 77);
    size_t len = 0;
    EXPECT_EQ(zfd_take_copy(reader.get(), nullptr, 0, &len, nullptr), ZFD_E_TOO_LARGE);
    EXPECT_EQ(len, 8u);
    uint64_t v = 0;
    EXPECT_EQ(zfd_take_copy(reader.get(), &v, sizeof v, &len, nullptr), ZFD_OK);
    EXPECT_EQ(v, 77u);
}

TEST(TakeCopy, AZeroLengthSampleFitsANullBufferOfCapacityZero) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    ASSERT_EQ(zfd_publish(segment.get(), nullptr, 0, nullptr), ZFD_OK);
    size_t len = 99;
    EXPECT_EQ(zfd_take_copy(reader.get(), nullptr, 0, &len, nullptr), ZFD_OK);
    EXPECT_EQ(len, 0u);
    EXPECT_EQ(zfd_take_copy(reader.get(), nullptr, 0, &len, nullptr), ZFD_E_NO_SAMPLE);
}

TEST(TakeCopy, GivesNoSampleWhenNothingIsUnread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    char buf[64];
    size_t len = 0;
    EXPECT_EQ(zfd_take_copy(reader.get(), buf, sizeof buf, &len, nullptr), ZFD_E_NO_SAMPLE);
}

TEST(TakeCopy, InterleavesWithTakeInCommitOrder) {
    SegmentPtr segment = make_segment(8, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    for (uint64_t i = 0; i < 4; ++i) publish_u64(segment.get(), i);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 0u);
    uint64_t v = 0;
    ASSERT_EQ(zfd_take_copy(reader.get(), &v, sizeof v, nullptr, nullptr), ZFD_OK);
    EXPECT_EQ(v, 1u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 2u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    ASSERT_EQ(zfd_take_copy(reader.get(), &v, sizeof v, nullptr, nullptr), ZFD_OK);
    EXPECT_EQ(v, 3u);
}

}  // namespace
