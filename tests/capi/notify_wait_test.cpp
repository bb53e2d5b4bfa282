// notify_wait_test.cpp — the notify generation, zfd_wait_for_change,
// zfd_reader_wait and zfd_reserve_wait, including wake-ups from other threads.
//
// Timing bounds are generous: a wait that should time out after T must take
// at least ~T (minus a little clock slack) and return within seconds; a wait
// that should be woken must return long before its timeout.
#include "capi_test_util.hpp"

#include <future>
#include <thread>

namespace {

using namespace capi_test;

constexpr double kSlackMs = 2.0;          // clock granularity allowance
constexpr double kLateMs = 5000.0;        // "returned at all in reasonable time"

// ---------------------------------------------------------------- notify generation

TEST(NotifyGeneration, MovesOnEveryCommit) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    uint64_t g0 = zfd_notify_generation(segment.get());
    publish_u64(segment.get(), 1);
    uint64_t g1 = zfd_notify_generation(segment.get());
    EXPECT_GT(g1, g0);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_notify_generation(segment.get()), g1) << "a reserve is neither a commit nor a free";
    ASSERT_EQ(zfd_commit_in_place(segment.get(), slot, 0, nullptr), ZFD_OK);
    uint64_t g2 = zfd_notify_generation(segment.get());
    EXPECT_GT(g2, g1);
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit(segment.get(), slot, "a", 1, nullptr), ZFD_OK);
    EXPECT_GT(zfd_notify_generation(segment.get()), g2);
}

TEST(NotifyGeneration, MovesOnDiscard) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    uint64_t before = zfd_notify_generation(segment.get());
    ASSERT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
    EXPECT_GT(zfd_notify_generation(segment.get()), before);
}

TEST(NotifyGeneration, MovesWhenTheLastReaderReleases) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ASSERT_TRUE(a && b);
    publish_u64(segment.get(), 1);
    Taken ta = take(a.get());
    Taken tb = take(b.get());
    ASSERT_EQ(ta.rc, ZFD_OK);
    ASSERT_EQ(tb.rc, ZFD_OK);
    ASSERT_EQ(zfd_release(a.get(), ta.slot), ZFD_OK);
    uint64_t before = zfd_notify_generation(segment.get());
    ASSERT_EQ(zfd_release(b.get(), tb.slot), ZFD_OK);
    EXPECT_GT(zfd_notify_generation(segment.get()), before);
}

TEST(NotifyGeneration, MovesOnEviction) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    uint64_t before = zfd_notify_generation(segment.get());
    uint32_t evicted = 0;
    ASSERT_EQ(zfd_evict_stale(segment.get(), 0, &evicted), ZFD_OK);
    ASSERT_EQ(evicted, 1u);
    EXPECT_GT(zfd_notify_generation(segment.get()), before);
}

TEST(NotifyGeneration, IsZeroForNull) { EXPECT_EQ(zfd_notify_generation(nullptr), 0u); }

// ---------------------------------------------------------------- wait_for_change

TEST(WaitForChange, ReturnsOkAtOnceWhenTheGenerationAlreadyDiffers) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    uint64_t g = zfd_notify_generation(segment.get());
    publish_u64(segment.get(), 1);
    auto start = Clock::now();
    EXPECT_EQ(zfd_wait_for_change(segment.get(), g, 10 * kSec), ZFD_OK);
    EXPECT_EQ(zfd_wait_for_change(segment.get(), g, 0), ZFD_OK);
    EXPECT_EQ(zfd_wait_for_change(segment.get(), g + 12345, 10 * kSec), ZFD_OK);
    EXPECT_EQ(zfd_wait_for_change(segment.get(), g, ZFD_WAIT_FOREVER), ZFD_OK);
    EXPECT_LT(ms_since(start), 1000.0);
}

TEST(WaitForChange, TimesOutWhenNothingChanges) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    uint64_t g = zfd_notify_generation(segment.get());
    auto start = Clock::now();
    EXPECT_EQ(zfd_wait_for_change(segment.get(), g, 0), ZFD_E_TIMEOUT);
    EXPECT_LT(ms_since(start), 1000.0);

    for (int64_t timeout_ms : {20, 100}) {
        SCOPED_TRACE(timeout_ms);
        start = Clock::now();
        EXPECT_EQ(zfd_wait_for_change(segment.get(), g, timeout_ms * kMs), ZFD_E_TIMEOUT);
        double waited = ms_since(start);
        EXPECT_GE(waited, timeout_ms - kSlackMs);
        EXPECT_LT(waited, kLateMs);
    }
}

TEST(WaitForChange, IsWokenByAPublishFromAnotherThread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    uint64_t g = zfd_notify_generation(segment.get());
    auto waiter = std::async(std::launch::async, [&] {
        auto start = Clock::now();
        int32_t rc = zfd_wait_for_change(segment.get(), g, 30 * kSec);
        return std::make_pair(rc, ms_since(start));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    publish_u64(segment.get(), 1);
    auto [rc, waited] = waiter.get();
    EXPECT_EQ(rc, ZFD_OK);
    EXPECT_LT(waited, kLateMs);
}

TEST(WaitForChange, WaitingForeverIsWokenByAPublishFromAnotherThread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    uint64_t g = zfd_notify_generation(segment.get());
    auto waiter = std::async(std::launch::async, [&] {
        auto start = Clock::now();
        int32_t rc = zfd_wait_for_change(segment.get(), g, ZFD_WAIT_FOREVER);
        return std::make_pair(rc, ms_since(start));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    publish_u64(segment.get(), 1);
    auto [rc, waited] = waiter.get();
    EXPECT_EQ(rc, ZFD_OK);
    EXPECT_LT(waited, kLateMs);
}

TEST(WaitForChange, IsWokenByAReleaseFromAnotherThread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    uint64_t g = zfd_notify_generation(segment.get());
    auto waiter = std::async(std::launch::async, [&] {
        auto start = Clock::now();
        int32_t rc = zfd_wait_for_change(segment.get(), g, 30 * kSec);
        return std::make_pair(rc, ms_since(start));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    auto [rc, waited] = waiter.get();
    EXPECT_EQ(rc, ZFD_OK);
    EXPECT_LT(waited, kLateMs);
}

// ---------------------------------------------------------------- reader_wait

TEST(ReaderWait, TimesOutWhenNothingIsUnread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    auto start = Clock::now();
    EXPECT_EQ(zfd_reader_wait(reader.get(), 0), ZFD_E_TIMEOUT);
    EXPECT_LT(ms_since(start), 1000.0);
    for (int64_t timeout_ms : {20, 100}) {
        SCOPED_TRACE(timeout_ms);
        start = Clock::now();
        EXPECT_EQ(zfd_reader_wait(reader.get(), timeout_ms * kMs), ZFD_E_TIMEOUT);
        double waited = ms_since(start);
        EXPECT_GE(waited, timeout_ms - kSlackMs);
        EXPECT_LT(waited, kLateMs);
    }
}

TEST(ReaderWait, ReturnsAtOnceWhenASampleIsUnread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    auto start = Clock::now();
    EXPECT_EQ(zfd_reader_wait(reader.get(), 0), ZFD_OK);
    EXPECT_EQ(zfd_reader_wait(reader.get(), 10 * kSec), ZFD_OK);
    EXPECT_EQ(zfd_reader_wait(reader.get(), ZFD_WAIT_FOREVER), ZFD_OK);
    EXPECT_LT(ms_since(start), 1000.0);
    EXPECT_EQ(take(reader.get()).rc, ZFD_OK) << "waiting does not consume the sample";
}

TEST(ReaderWait, ATakenButUnreleasedSampleIsNotUnread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(zfd_reader_wait(reader.get(), 0), ZFD_E_TIMEOUT);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(ReaderWait, IgnoresSamplesCommittedBeforeTheReaderAttached) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr early = make_reader(segment.get());
    ASSERT_NE(early, nullptr);
    publish_u64(segment.get(), 1);
    ReaderPtr late = make_reader(segment.get());
    ASSERT_NE(late, nullptr);
    EXPECT_EQ(zfd_reader_wait(late.get(), 10 * kMs), ZFD_E_TIMEOUT);
    EXPECT_EQ(zfd_reader_wait(early.get(), 0), ZFD_OK);
}

TEST(ReaderWait, IsWokenByAPublishFromAnotherThread) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    // INT64_MAX: a deadline past the clock's range is "no deadline", not
    // an overflow into the past that would time out at once.
    for (int64_t timeout : {int64_t{30} * kSec, int64_t{ZFD_WAIT_FOREVER}, INT64_MAX}) {
        SCOPED_TRACE(timeout);
        // Timed from here, not from inside the thread: a thread that starts
        // late under load would otherwise measure less than the 50 ms sleep.
        const auto start = Clock::now();
        auto waiter = std::async(std::launch::async, [&] {
            int32_t rc = zfd_reader_wait(reader.get(), timeout);
            return std::make_pair(rc, ms_since(start));
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        publish_u64(segment.get(), 1);
        auto [rc, waited] = waiter.get();
        EXPECT_EQ(rc, ZFD_OK);
        EXPECT_GE(waited, 50.0 - kSlackMs) << "returned before the publish";
        EXPECT_LT(waited, kLateMs);
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    }
}

// ---------------------------------------------------------------- reserve_wait

TEST(ReserveWait, ReturnsAtOnceWhenASlotIsFree) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    auto start = Clock::now();
    zfd_slot slot = 0;
    void* data = nullptr;
    ASSERT_EQ(zfd_reserve_wait(segment.get(), 0, &slot, &data), ZFD_OK);
    EXPECT_NE(data, nullptr);
    EXPECT_TRUE(aligned64(data));
    ASSERT_EQ(zfd_reserve_wait(segment.get(), ZFD_WAIT_FOREVER, &slot, nullptr), ZFD_OK);
    EXPECT_LT(ms_since(start), 1000.0);
}

TEST(ReserveWait, TimesOutWhenEverySlotIsHeld) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 1);
    publish_u64(segment.get(), 2);
    zfd_slot slot = 0;
    auto start = Clock::now();
    EXPECT_EQ(zfd_reserve_wait(segment.get(), 0, &slot, nullptr), ZFD_E_TIMEOUT);
    EXPECT_LT(ms_since(start), 1000.0);
    for (int64_t timeout_ms : {20, 100}) {
        SCOPED_TRACE(timeout_ms);
        start = Clock::now();
        EXPECT_EQ(zfd_reserve_wait(segment.get(), timeout_ms * kMs, &slot, nullptr), ZFD_E_TIMEOUT);
        double waited = ms_since(start);
        EXPECT_GE(waited, timeout_ms - kSlackMs);
        EXPECT_LT(waited, kLateMs);
    }
}

TEST(ReserveWait, IsWokenByAReleaseFromAnotherThread) {
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    for (int64_t timeout : {int64_t{30} * kSec, int64_t{ZFD_WAIT_FOREVER}}) {
        SCOPED_TRACE(timeout);
        publish_u64(segment.get(), 1);
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        auto waiter = std::async(std::launch::async, [&] {
            auto start = Clock::now();
            zfd_slot slot = 0;
            int32_t rc = zfd_reserve_wait(segment.get(), timeout, &slot, nullptr);
            if (rc == ZFD_OK) {
                EXPECT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
            }
            return std::make_pair(rc, ms_since(start));
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ASSERT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
        auto [rc, waited] = waiter.get();
        EXPECT_EQ(rc, ZFD_OK);
        EXPECT_LT(waited, kLateMs);
    }
}

TEST(ReserveWait, IsWokenByADiscardFromAnotherThread) {
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    zfd_slot loan = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &loan, nullptr), ZFD_OK);
    auto waiter = std::async(std::launch::async, [&] {
        zfd_slot slot = 0;
        int32_t rc = zfd_reserve_wait(segment.get(), 30 * kSec, &slot, nullptr);
        if (rc == ZFD_OK) {
            EXPECT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
        }
        return rc;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(zfd_discard(segment.get(), loan), ZFD_OK);
    EXPECT_EQ(waiter.get(), ZFD_OK);
}

}  // namespace
