// token_test.cpp — a zfd_slot token is valid once, for one segment and one
// reader; everything else is ZFD_E_NOT_LOANED.
#include "capi_test_util.hpp"

#include <random>

namespace {

using namespace capi_test;

TEST(Token, CommittingTwiceGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit(segment.get(), slot, "a", 1, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, "a", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, 1, nullptr), ZFD_E_NOT_LOANED);

    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit_in_place(segment.get(), slot, 1, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit(segment.get(), slot, "a", 1, nullptr), ZFD_E_NOT_LOANED);
}

TEST(Token, DiscardingTwiceGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
    EXPECT_EQ(zfd_discard(segment.get(), slot), ZFD_E_NOT_LOANED);
}

TEST(Token, CommittingOrQueryingADiscardedLoanGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, "a", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), slot, 1, nullptr), ZFD_E_NOT_LOANED);
    void* data = nullptr;
    EXPECT_EQ(zfd_slot_data(segment.get(), slot, &data, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE) << "a discarded loan is never delivered";
}

TEST(Token, DiscardingACommittedLoanGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit(segment.get(), slot, "a", 1, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_discard(segment.get(), slot), ZFD_E_NOT_LOANED);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK) << "the committed sample survives the bad discard";
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Token, ReleasingTwiceGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    ASSERT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_E_NOT_LOANED);
}

TEST(Token, AStaleTokenOfAReusedSlotGivesNotLoaned) {
    SegmentPtr segment = make_segment(1, 64);  // one slot: every sample reuses it
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);

    zfd_slot first_loan = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &first_loan, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit(segment.get(), first_loan, "1", 1, nullptr), ZFD_OK);
    Taken first = take(reader.get());
    ASSERT_EQ(first.rc, ZFD_OK);
    ASSERT_EQ(zfd_release(reader.get(), first.slot), ZFD_OK);

    zfd_slot second_loan = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &second_loan, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), first_loan, "x", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_discard(segment.get(), first_loan), ZFD_E_NOT_LOANED);
    ASSERT_EQ(zfd_commit(segment.get(), second_loan, "2", 1, nullptr), ZFD_OK);

    Taken second = take(reader.get());
    ASSERT_EQ(second.rc, ZFD_OK);
    EXPECT_EQ(zfd_release(reader.get(), first.slot), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_release(reader.get(), second.slot), ZFD_OK);
}

TEST(Token, ALoanTokenUsedAsAReleaseTokenGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    zfd_slot loan = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &loan, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_release(reader.get(), loan), ZFD_E_NOT_LOANED);
    ASSERT_EQ(zfd_commit(segment.get(), loan, "a", 1, nullptr), ZFD_OK) << "the loan is untouched";
    // After the commit the writer's token is still not the reader's to release.
    EXPECT_EQ(zfd_release(reader.get(), loan), ZFD_E_NOT_LOANED);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Token, ATakenSampleTokenUsedAsALoanTokenGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 5);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), t.slot, "a", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), t.slot, 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_discard(segment.get(), t.slot), ZFD_E_NOT_LOANED);
    void* data = nullptr;
    EXPECT_EQ(zfd_slot_data(segment.get(), t.slot, &data, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(t.value(), 5u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Token, ATokenOfAnotherSegmentGivesNotLoaned) {
    SegmentPtr mine = make_segment(4, 64);
    SegmentPtr other = make_segment(4, 64);
    ASSERT_TRUE(mine && other);
    ReaderPtr other_reader = make_reader(other.get());
    ASSERT_NE(other_reader, nullptr);

    zfd_slot foreign = 0;
    ASSERT_EQ(zfd_reserve(other.get(), &foreign, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(mine.get(), foreign, "a", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit_in_place(mine.get(), foreign, 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_discard(mine.get(), foreign), ZFD_E_NOT_LOANED);
    void* data = nullptr;
    EXPECT_EQ(zfd_slot_data(mine.get(), foreign, &data, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit(other.get(), foreign, "b", 1, nullptr), ZFD_OK);

    // A taken-sample token of the other segment, released through a reader of mine.
    ReaderPtr my_reader = make_reader(mine.get());
    ASSERT_NE(my_reader, nullptr);
    Taken t = take(other_reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(zfd_release(my_reader.get(), t.slot), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_release(other_reader.get(), t.slot), ZFD_OK);
}

TEST(Token, ATokenOfAnotherSegmentGivesNotLoanedEvenWhenBothHaveTheSameLoanOpen) {
    // Two fresh segments driven identically: the same slot of each is loaned.
    // A token must still name its segment.
    SegmentPtr a = make_segment(4, 64);
    SegmentPtr b = make_segment(4, 64);
    ASSERT_TRUE(a && b);
    zfd_slot loan_a = 0, loan_b = 0;
    ASSERT_EQ(zfd_reserve(a.get(), &loan_a, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_reserve(b.get(), &loan_b, nullptr), ZFD_OK);
    EXPECT_NE(loan_a, loan_b) << "tokens of two segments are indistinguishable";
    EXPECT_EQ(zfd_commit(b.get(), loan_a, "a", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_discard(a.get(), loan_b), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit(a.get(), loan_a, "a", 1, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(b.get(), loan_b, "b", 1, nullptr), ZFD_OK);
}

TEST(Token, ATokenOfAnotherReaderOfTheSameSegmentGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ASSERT_TRUE(a && b);
    publish_u64(segment.get(), 1);

    Taken ta = take(a.get());  // b has not taken this sample
    ASSERT_EQ(ta.rc, ZFD_OK);
    EXPECT_EQ(zfd_release(b.get(), ta.slot), ZFD_E_NOT_LOANED);

    // b's misuse did not consume b's copy nor a's hold.
    Taken tb = take(b.get());
    ASSERT_EQ(tb.rc, ZFD_OK);
    EXPECT_EQ(tb.sequence, ta.sequence);
    if (tb.slot != ta.slot) {
        EXPECT_EQ(zfd_release(a.get(), tb.slot), ZFD_E_NOT_LOANED);
    }
    EXPECT_EQ(zfd_release(a.get(), ta.slot), ZFD_OK);
    EXPECT_EQ(zfd_release(b.get(), tb.slot), ZFD_OK);
}

TEST(Token, ATokenOfAReaderAttachedAfterTheCommitIsRefusedForThatSample) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ASSERT_NE(a, nullptr);
    publish_u64(segment.get(), 1);
    ReaderPtr late = make_reader(segment.get());
    ASSERT_NE(late, nullptr);
    Taken ta = take(a.get());
    ASSERT_EQ(ta.rc, ZFD_OK);
    EXPECT_EQ(zfd_release(late.get(), ta.slot), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_release(a.get(), ta.slot), ZFD_OK);
}

TEST(Token, ZeroWasNeverIssuedAndGivesNotLoaned) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    void* data = nullptr;
    uint64_t capacity = 0;
    EXPECT_EQ(zfd_commit(segment.get(), 0, "a", 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_commit_in_place(segment.get(), 0, 1, nullptr), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_discard(segment.get(), 0), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_slot_data(segment.get(), 0, &data, &capacity), ZFD_E_NOT_LOANED);
    EXPECT_EQ(zfd_release(reader.get(), 0), ZFD_E_NOT_LOANED);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE) << "nothing was published by the bad calls";
}

TEST(Token, RandomNeverIssuedValuesGiveNotLoanedOrInval) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    // Real state the random tokens must not disturb: one open loan, one held sample.
    zfd_slot loan = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &loan, nullptr), ZFD_OK);
    publish_u64(segment.get(), 7);
    Taken held = take(reader.get());
    ASSERT_EQ(held.rc, ZFD_OK);

    auto ok = [](int32_t rc) { return rc == ZFD_E_NOT_LOANED || rc == ZFD_E_INVAL; };
    std::mt19937_64 rng(0x5eedf00dULL);
    for (int i = 0; i < 2000; ++i) {
        zfd_slot bogus = rng();
        if (i == 0) bogus = ~0ull;
        if (i == 1) bogus = 1;
        if (bogus == loan || bogus == held.slot) continue;
        void* data = nullptr;
        int32_t rc = zfd_commit(segment.get(), bogus, "z", 1, nullptr);
        ASSERT_TRUE(ok(rc)) << std::hex << bogus << ": " << zfd_status_str(rc);
        rc = zfd_commit_in_place(segment.get(), bogus, 1, nullptr);
        ASSERT_TRUE(ok(rc)) << std::hex << bogus << ": " << zfd_status_str(rc);
        rc = zfd_discard(segment.get(), bogus);
        ASSERT_TRUE(ok(rc)) << std::hex << bogus << ": " << zfd_status_str(rc);
        rc = zfd_slot_data(segment.get(), bogus, &data, nullptr);
        ASSERT_TRUE(ok(rc)) << std::hex << bogus << ": " << zfd_status_str(rc);
        rc = zfd_release(reader.get(), bogus);
        ASSERT_TRUE(ok(rc)) << std::hex << bogus << ": " << zfd_status_str(rc);
    }
    EXPECT_EQ(zfd_release(reader.get(), held.slot), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), loan, "k", 1, nullptr), ZFD_OK);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.len, 1u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
}

}  // namespace
