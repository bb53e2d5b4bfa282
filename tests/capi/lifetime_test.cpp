// lifetime_test.cpp — handle lifetimes: a reader keeps an in-memory segment's
// memory alive after the segment handle is closed; closing things in any
// order is clean (these tests are meant to run valgrind-clean).
#include "capi_test_util.hpp"

#include <vector>

namespace {

using namespace capi_test;

TEST(SegmentClose, AReaderKeepsTakingSamplesCommittedBeforeTheClose) {
    zfd_segment* segment = nullptr;
    zfd_segment_options opts = options(4, 64);
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &segment, nullptr), ZFD_OK);
    zfd_reader* reader = nullptr;
    ASSERT_EQ(zfd_reader_open(segment, 0, &reader), ZFD_OK);
    std::vector<uint64_t> sequences;
    for (uint64_t i = 0; i < 3; ++i) {
        uint64_t seq = 0;
        const uint64_t value = 1000 + i;
        ASSERT_EQ(zfd_publish(segment, &value, sizeof value, &seq), ZFD_OK);
        sequences.push_back(seq);
    }
    zfd_segment_close(segment);  // the reader keeps the memory alive

    Taken t = take(reader);
    ASSERT_EQ(t.rc, ZFD_OK) << zfd_status_str(t.rc);
    EXPECT_EQ(t.value(), 1000u);
    EXPECT_EQ(t.sequence, sequences[0]);
    EXPECT_EQ(zfd_release(reader, t.slot), ZFD_OK);

    uint64_t v = 0;
    uint64_t seq = 0;
    size_t len = 0;
    ASSERT_EQ(zfd_take_copy(reader, &v, sizeof v, &len, &seq), ZFD_OK);
    EXPECT_EQ(v, 1001u);
    EXPECT_EQ(seq, sequences[1]);

    EXPECT_EQ(zfd_reader_wait(reader, 0), ZFD_OK);
    t = take(reader);
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 1002u);
    EXPECT_EQ(t.sequence, sequences[2]);
    EXPECT_EQ(zfd_release(reader, t.slot), ZFD_OK);

    // Nothing remains: the owner is gone, so either answer is right.
    int32_t rc = take(reader).rc;
    EXPECT_TRUE(rc == ZFD_E_NO_SAMPLE || rc == ZFD_E_PEER_GONE) << zfd_status_str(rc);
    rc = zfd_reader_wait(reader, 10 * kMs);
    EXPECT_TRUE(rc == ZFD_E_TIMEOUT || rc == ZFD_E_PEER_GONE) << zfd_status_str(rc);
    zfd_reader_close(reader);  // frees everything
}

TEST(SegmentClose, AReaderHoldingATakenSampleCanStillReadAndReleaseIt) {
    zfd_segment* segment = nullptr;
    zfd_segment_options opts = options(2, 64);
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &segment, nullptr), ZFD_OK);
    zfd_reader* reader = nullptr;
    ASSERT_EQ(zfd_reader_open(segment, 0, &reader), ZFD_OK);
    const char text[] = "still mapped";
    ASSERT_EQ(zfd_publish(segment, text, sizeof text, nullptr), ZFD_OK);
    Taken t = take(reader);
    ASSERT_EQ(t.rc, ZFD_OK);
    zfd_segment_close(segment);
    ASSERT_EQ(t.len, sizeof text);
    EXPECT_EQ(std::memcmp(t.data, text, sizeof text), 0);
    EXPECT_EQ(zfd_release(reader, t.slot), ZFD_OK);
    zfd_reader_close(reader);
}

TEST(SegmentClose, SeveralReadersOutliveTheSegmentHandleAndCloseInAnyOrder) {
    zfd_segment* segment = nullptr;
    zfd_segment_options opts = options(4, 64);
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &segment, nullptr), ZFD_OK);
    zfd_reader* a = nullptr;
    zfd_reader* b = nullptr;
    zfd_reader* c = nullptr;
    ASSERT_EQ(zfd_reader_open(segment, 0, &a), ZFD_OK);
    ASSERT_EQ(zfd_reader_open(segment, 0, &b), ZFD_OK);
    ASSERT_EQ(zfd_reader_open(segment, 0, &c), ZFD_OK);
    const uint64_t value = 5;
    ASSERT_EQ(zfd_publish(segment, &value, sizeof value, nullptr), ZFD_OK);
    zfd_segment_close(segment);
    zfd_reader_close(b);  // closes with an unread sample
    Taken ta = take(a);
    ASSERT_EQ(ta.rc, ZFD_OK);
    EXPECT_EQ(ta.value(), 5u);
    zfd_reader_close(c);
    zfd_reader_close(a);  // closes while holding a taken sample
}

TEST(SegmentClose, WithOpenLoansAndPendingSamplesIsClean) {
    zfd_segment* segment = nullptr;
    zfd_segment_options opts = options(4, 64);
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &segment, nullptr), ZFD_OK);
    zfd_reader* reader = nullptr;
    ASSERT_EQ(zfd_reader_open(segment, 0, &reader), ZFD_OK);
    zfd_slot loan = 0;
    ASSERT_EQ(zfd_reserve(segment, &loan, nullptr), ZFD_OK);
    const uint64_t value = 9;
    ASSERT_EQ(zfd_publish(segment, &value, sizeof value, nullptr), ZFD_OK);
    zfd_reader_close(reader);
    zfd_segment_close(segment);
}

TEST(SegmentClose, AnOpenLoanIsDiscardedAndNeverDelivered) {
    zfd_segment* segment = nullptr;
    zfd_segment_options opts = options(4, 64);
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &segment, nullptr), ZFD_OK);
    zfd_reader* reader = nullptr;
    ASSERT_EQ(zfd_reader_open(segment, 0, &reader), ZFD_OK);
    zfd_slot loan = 0;
    ASSERT_EQ(zfd_reserve(segment, &loan, nullptr), ZFD_OK);
    zfd_segment_close(segment);
    int32_t rc = take(reader).rc;
    EXPECT_TRUE(rc == ZFD_E_NO_SAMPLE || rc == ZFD_E_PEER_GONE) << zfd_status_str(rc);
    zfd_reader_close(reader);
}

TEST(SegmentLifecycle, ManyCreateOpenCloseCyclesRunClean) {
    for (int i = 0; i < 200; ++i) {
        zfd_segment* segment = nullptr;
        zfd_segment_options opts = options(static_cast<uint32_t>(1 + i % 7), 64 + i);
        ASSERT_EQ(zfd_segment_create(nullptr, &opts, &segment, nullptr), ZFD_OK) << i;
        zfd_reader* reader = nullptr;
        ASSERT_EQ(zfd_reader_open(segment, 0, &reader), ZFD_OK) << i;
        const uint64_t value = static_cast<uint64_t>(i);
        ASSERT_EQ(zfd_publish(segment, &value, sizeof value, nullptr), ZFD_OK) << i;
        if (i % 2 == 0) {
            zfd_reader_close(reader);
            zfd_segment_close(segment);
        } else {
            zfd_segment_close(segment);
            zfd_reader_close(reader);
        }
    }
}

}  // namespace
