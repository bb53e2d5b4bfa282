// provenance_test.cpp — the 0.2 additions a bridge relies on: a segment's
// 128-bit instance id, mirror segments (flag, source id, origin text), and
// commits under a chosen sequence number. Public header and .so only.
#include "capi_test_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>

namespace {

using namespace capi_test;

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

std::string unique_name(const char* what) {
    return "provenance-" + std::to_string(::getpid()) + "-" + what;
}

TEST(InstanceId, EverySegmentGetsItsOwnRandomId) {
    SegmentPtr a = make_segment(4, 64);
    SegmentPtr b = make_segment(4, 64);
    ASSERT_TRUE(a && b);
    const zfd_segment_info ia = info_of(a.get());
    const zfd_segment_info ib = info_of(b.get());
    EXPECT_FALSE(all_zero(ia.instance_id, ZFD_INSTANCE_ID_SIZE));
    EXPECT_NE(std::memcmp(ia.instance_id, ib.instance_id, ZFD_INSTANCE_ID_SIZE), 0);
    EXPECT_EQ(ia.flags, 0u);
    EXPECT_EQ(ia.history, 0u);
    EXPECT_TRUE(all_zero(ia.mirror_of, ZFD_INSTANCE_ID_SIZE));
    EXPECT_STREQ(ia.origin, "");
}

TEST(InstanceId, AnOpenerSeesTheCreatorsIdAndAReplacementGetsANewOne) {
    const std::string name = unique_name("opener");
    zfd_segment* owner = nullptr;
    ASSERT_EQ(zfd_segment_create(name.c_str(), nullptr, &owner, nullptr), ZFD_OK);
    SegmentPtr owner_ptr{owner};
    zfd_segment* consumer = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &consumer, nullptr), ZFD_OK);
    SegmentPtr consumer_ptr{consumer};
    const zfd_segment_info io = info_of(owner);
    const zfd_segment_info ic = info_of(consumer);
    EXPECT_EQ(std::memcmp(io.instance_id, ic.instance_id, ZFD_INSTANCE_ID_SIZE), 0);

    owner_ptr.reset();  // unlinks the name
    zfd_segment* again = nullptr;
    ASSERT_EQ(zfd_segment_create(name.c_str(), nullptr, &again, nullptr), ZFD_OK);
    SegmentPtr again_ptr{again};
    EXPECT_NE(std::memcmp(info_of(again).instance_id, io.instance_id, ZFD_INSTANCE_ID_SIZE), 0);
}

zfd_segment_options mirror_options(const std::array<uint8_t, 16>& source, const char* origin) {
    zfd_segment_options opts = options(4, 64);
    opts.flags = ZFD_SEGMENT_MIRROR;
    std::memcpy(opts.mirror_of, source.data(), source.size());
    std::snprintf(opts.origin, sizeof opts.origin, "%s", origin);
    return opts;
}

TEST(Mirror, FlagSourceAndOriginAreStoredAndSeenByOpeners) {
    const std::string name = unique_name("mirror");
    std::array<uint8_t, 16> source{};
    for (size_t i = 0; i < source.size(); ++i) source[i] = static_cast<uint8_t>(0xA0 + i);
    zfd_segment_options opts = mirror_options(source, "host-a pid 4711");
    zfd_segment* owner = nullptr;
    ASSERT_EQ(zfd_segment_create(name.c_str(), &opts, &owner, nullptr), ZFD_OK);
    SegmentPtr owner_ptr{owner};
    zfd_segment* consumer = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &consumer, nullptr), ZFD_OK);
    SegmentPtr consumer_ptr{consumer};
    for (zfd_segment* s : {owner, consumer}) {
        const zfd_segment_info info = info_of(s);
        EXPECT_EQ(info.flags, ZFD_SEGMENT_MIRROR);
        EXPECT_EQ(std::memcmp(info.mirror_of, source.data(), source.size()), 0);
        EXPECT_STREQ(info.origin, "host-a pid 4711");
        // The mirror is a segment of its own: its id is not the source's.
        EXPECT_NE(std::memcmp(info.instance_id, source.data(), source.size()), 0);
    }
}

TEST(Mirror, SourceFieldsWithoutTheFlagAreRefused) {
    std::array<uint8_t, 16> source{};
    source[3] = 1;
    zfd_segment_options opts = mirror_options(source, "");
    opts.flags = 0;
    zfd_segment* s = nullptr;
    zfd_error err{};
    err.struct_size = sizeof err;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, &s, &err), ZFD_E_INVAL);
    EXPECT_NE(std::string(err.message).find("ZFD_SEGMENT_MIRROR"), std::string::npos) << err.message;

    opts = mirror_options({}, "somewhere");
    opts.flags = 0;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, &s, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(s, nullptr);
}

TEST(Mirror, AnOriginWithoutItsNulIsRefused) {
    zfd_segment_options opts = mirror_options({}, "");
    std::memset(opts.origin, 'x', sizeof opts.origin);
    zfd_segment* s = nullptr;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, &s, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(s, nullptr);
}

TEST(Options, NonZeroReserved2IsRefusedAndHistoryMustBeBelowTheSlotCount) {
    zfd_segment_options opts = options(4, 64);
    opts.reserved2 = 1;
    zfd_segment* s = nullptr;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, &s, nullptr), ZFD_E_INVAL);
    opts = options(4, 64);
    opts.history = 4;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, &s, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(s, nullptr);
    opts.history = 3;
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &s, nullptr), ZFD_OK);
    zfd_segment_close(s);
}

TEST(Options, AStructSizeBetweenTheTwoVersionsIsRefused) {
    zfd_segment_options opts = options(4, 64);
    opts.struct_size = offsetof(zfd_segment_options, mirror_of);
    zfd_segment* s = nullptr;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, &s, nullptr), ZFD_E_INVAL);
}

TEST(SegmentInfo, AVersion01StructIsWrittenOnlyUpToItsSize) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    zfd_segment_info info;
    std::memset(&info, 0x5A, sizeof info);
    info.struct_size = offsetof(zfd_segment_info, instance_id);  // 96: the 0.1 struct
    ASSERT_EQ(zfd_segment_get_info(segment.get(), &info), ZFD_OK);
    EXPECT_EQ(info.slot_count, 4u);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&info);
    for (size_t i = offsetof(zfd_segment_info, instance_id); i < sizeof info; ++i) {
        ASSERT_EQ(bytes[i], 0x5A) << "byte " << i << " beyond the 0.1 struct was written";
    }
}

// ---------------------------------------------------------------- sequences

uint64_t commit_with(zfd_segment* s, uint64_t value, uint64_t sequence, int32_t* rc_out) {
    zfd_slot slot = 0;
    void* data = nullptr;
    EXPECT_EQ(zfd_reserve(s, &slot, &data), ZFD_OK);
    std::memcpy(data, &value, sizeof value);
    *rc_out = zfd_commit_with_sequence(s, slot, sizeof value, sequence);
    if (*rc_out != ZFD_OK) {
        EXPECT_EQ(zfd_discard(s, slot), ZFD_OK);
    }
    return sequence;
}

TEST(CommitWithSequence, ReadersSeeTheChosenNumbersAndTheGapBetween) {
    SegmentPtr segment = make_segment(8, 64);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_TRUE(segment && reader);
    int32_t rc = 0;
    EXPECT_EQ(publish_u64(segment.get(), 1), 0u);
    commit_with(segment.get(), 2, 1000, &rc);
    ASSERT_EQ(rc, ZFD_OK);
    EXPECT_EQ(info_of(segment.get()).next_sequence, 1001u);
    EXPECT_EQ(publish_u64(segment.get(), 3), 1001u);  // ordinary commits continue
    commit_with(segment.get(), 4, 1002, &rc);          // no gap is fine too
    ASSERT_EQ(rc, ZFD_OK);

    const uint64_t expected_seq[] = {0, 1000, 1001, 1002};
    for (uint64_t i = 0; i < 4; ++i) {
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.sequence, expected_seq[i]);
        EXPECT_EQ(t.value(), i + 1);
        EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    }
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
}

TEST(CommitWithSequence, AGapLongerThanTheRingLosesNothingAfterIt) {
    // A mirror may jump by far more than the slot count (a long outage of
    // the source): later samples must still be delivered, in order.
    SegmentPtr segment = make_segment(4, 64);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_TRUE(segment && reader);
    uint64_t seq = 5;
    for (int round = 0; round < 20; ++round) {
        int32_t rc = 0;
        commit_with(segment.get(), seq, seq, &rc);
        ASSERT_EQ(rc, ZFD_OK);
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.sequence, seq);
        EXPECT_EQ(t.value(), seq);
        ASSERT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
        seq += 1 + 37u * static_cast<uint64_t>(round);  // gaps up to ~700 >> 4 slots
    }
}

TEST(CommitWithSequence, ANumberBehindTheNextIsRefusedAndTheLoanStaysOpen) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    int32_t rc = 0;
    commit_with(segment.get(), 1, 10, &rc);
    ASSERT_EQ(rc, ZFD_OK);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit_with_sequence(segment.get(), slot, 8, 10), ZFD_E_INVAL);
    EXPECT_EQ(zfd_commit_with_sequence(segment.get(), slot, 8, 3), ZFD_E_INVAL);
    EXPECT_EQ(zfd_commit_with_sequence(segment.get(), slot, 8, UINT64_MAX), ZFD_E_INVAL);
    EXPECT_EQ(zfd_commit_with_sequence(segment.get(), slot, 65, 11), ZFD_E_TOO_LARGE);
    EXPECT_EQ(zfd_commit_with_sequence(segment.get(), slot, 8, 11), ZFD_OK);  // still loaned
    EXPECT_EQ(zfd_commit_with_sequence(segment.get(), slot, 8, 12), ZFD_E_NOT_LOANED);
}

TEST(CommitWithSequence, OnlyTheOwnerMayCommit) {
    const std::string name = unique_name("seq-owner");
    zfd_segment* owner = nullptr;
    ASSERT_EQ(zfd_segment_create(name.c_str(), nullptr, &owner, nullptr), ZFD_OK);
    SegmentPtr owner_ptr{owner};
    zfd_segment* consumer = nullptr;
    ASSERT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &consumer, nullptr), ZFD_OK);
    SegmentPtr consumer_ptr{consumer};
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(owner, &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit_with_sequence(consumer, slot, 8, 100), ZFD_E_PERMISSION);
    EXPECT_EQ(zfd_commit_with_sequence(nullptr, slot, 8, 100), ZFD_E_INVAL);
    EXPECT_EQ(zfd_commit_with_sequence(owner, slot, 8, 100), ZFD_OK);
}

}  // namespace
