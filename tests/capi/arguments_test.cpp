// arguments_test.cpp — every function refuses NULL handles, NULL required
// out-pointers, unknown flags and invalid names with ZFD_E_INVAL (or is a
// documented no-op), and a refused call changes nothing.
#include "capi_test_util.hpp"

#include <string>

namespace {

using namespace capi_test;

const std::string kInvalidNames[] = {
    "",
    std::string(201, 'a'),
    "a/b",
    "/leading-slash",
    "a b",
    "tab\there",
    "semi;colon",
    "star*",
    "..\xC3\xA9",  // non-ASCII
};

// ---------------------------------------------------------------- no-ops

TEST(Arguments, CloseFunctionsIgnoreNull) {
    zfd_segment_close(nullptr);
    zfd_reader_close(nullptr);
    zfd_segment_options_init(nullptr);
    SUCCEED();
}

TEST(Arguments, ReaderIndexOfNullIsUint32Max) { EXPECT_EQ(zfd_reader_index(nullptr), UINT32_MAX); }

TEST(Arguments, NotifyGenerationOfNullIsZero) { EXPECT_EQ(zfd_notify_generation(nullptr), 0u); }

// ---------------------------------------------------------------- lifecycle

TEST(Arguments, SegmentCreateWithoutOutSegmentGivesInval) {
    zfd_segment_options opts = options(4, 64);
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, nullptr, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_segment_create(nullptr, nullptr, nullptr, nullptr), ZFD_E_INVAL);
    zfd_error err;
    std::memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    EXPECT_EQ(zfd_segment_create(nullptr, &opts, nullptr, &err), ZFD_E_INVAL);
    EXPECT_EQ(err.code, ZFD_E_INVAL);
}

TEST(Arguments, SegmentCreateWithAnInvalidNameGivesInval) {
    zfd_segment_options opts = options(4, 64);
    for (const std::string& name : kInvalidNames) {
        SCOPED_TRACE("name \"" + name + "\"");
        zfd_segment* raw = nullptr;
        zfd_error err;
        std::memset(&err, 0, sizeof err);
        err.struct_size = sizeof err;
        int32_t rc = zfd_segment_create(name.c_str(), &opts, &raw, &err);
        EXPECT_EQ(rc, ZFD_E_INVAL) << zfd_status_str(rc);
        EXPECT_EQ(err.code, rc);
        EXPECT_GT(std::strlen(err.message), 0u);
        if (rc == ZFD_OK) zfd_segment_close(raw);
    }
}

TEST(Arguments, SegmentOpenRefusesNullNameInvalidNamesNullOutAndUnknownFlags) {
    zfd_segment* raw = nullptr;
    EXPECT_EQ(zfd_segment_open(nullptr, nullptr, 0, &raw, nullptr), ZFD_E_INVAL);
    for (const std::string& name : kInvalidNames) {
        SCOPED_TRACE("name \"" + name + "\"");
        EXPECT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &raw, nullptr), ZFD_E_INVAL);
    }
    const char* valid_but_absent = "zfd-capi-arguments-no-such-segment";
    EXPECT_EQ(zfd_segment_open(valid_but_absent, nullptr, 0, nullptr, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_segment_open(valid_but_absent, nullptr, 1, &raw, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_segment_open(valid_but_absent, nullptr, 0x80000000u, &raw, nullptr), ZFD_E_INVAL);
    zfd_error err;
    std::memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    EXPECT_EQ(zfd_segment_open(valid_but_absent, nullptr, 2, &raw, &err), ZFD_E_INVAL);
    EXPECT_EQ(err.code, ZFD_E_INVAL);
}

TEST(Arguments, SegmentUnlinkRefusesNullAndInvalidNames) {
    EXPECT_EQ(zfd_segment_unlink(nullptr, nullptr), ZFD_E_INVAL);
    for (const std::string& name : kInvalidNames) {
        SCOPED_TRACE("name \"" + name + "\"");
        zfd_error err;
        std::memset(&err, 0, sizeof err);
        err.struct_size = sizeof err;
        EXPECT_EQ(zfd_segment_unlink(name.c_str(), &err), ZFD_E_INVAL);
        EXPECT_EQ(err.code, ZFD_E_INVAL);
    }
}

TEST(Arguments, GetInfoRefusesNullSegmentAndNullOutInfo) {
    zfd_segment_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    EXPECT_EQ(zfd_segment_get_info(nullptr, &info), ZFD_E_INVAL);
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(zfd_segment_get_info(segment.get(), nullptr), ZFD_E_INVAL);
}

// ---------------------------------------------------------------- writer side

TEST(Arguments, WriterFunctionsRefuseANullSegment) {
    zfd_slot slot = 0;
    void* data = nullptr;
    uint64_t capacity = 0;
    uint64_t seq = 0;
    uint32_t count = 0;
    const char byte = 'x';
    EXPECT_EQ(zfd_reserve(nullptr, &slot, &data), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reserve_wait(nullptr, 0, &slot, &data), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reserve_wait(nullptr, 10 * kMs, &slot, &data), ZFD_E_INVAL);
    EXPECT_EQ(zfd_slot_data(nullptr, 1, &data, &capacity), ZFD_E_INVAL);
    EXPECT_EQ(zfd_commit_in_place(nullptr, 1, 1, &seq), ZFD_E_INVAL);
    EXPECT_EQ(zfd_commit(nullptr, 1, &byte, 1, &seq), ZFD_E_INVAL);
    EXPECT_EQ(zfd_discard(nullptr, 1), ZFD_E_INVAL);
    EXPECT_EQ(zfd_publish(nullptr, &byte, 1, &seq), ZFD_E_INVAL);
    EXPECT_EQ(zfd_publish(nullptr, nullptr, 0, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_wait_for_change(nullptr, 0, 0), ZFD_E_INVAL);
    EXPECT_EQ(zfd_wait_for_change(nullptr, 0, 10 * kMs), ZFD_E_INVAL);
    EXPECT_EQ(zfd_evict_stale(nullptr, 0, &count), ZFD_E_INVAL);
    EXPECT_EQ(zfd_mark_reader_disconnected(nullptr, 0), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reap_dead_readers(nullptr, &count), ZFD_E_INVAL);
}

TEST(Arguments, ReserveAndReserveWaitRefuseANullOutSlotAndLoanNothing) {
    SegmentPtr segment = make_segment(1, 64);
    ASSERT_NE(segment, nullptr);
    void* data = nullptr;
    EXPECT_EQ(zfd_reserve(segment.get(), nullptr, &data), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reserve(segment.get(), nullptr, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reserve_wait(segment.get(), 0, nullptr, &data), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reserve_wait(segment.get(), 10 * kMs, nullptr, nullptr), ZFD_E_INVAL);
    zfd_slot slot = 0;
    EXPECT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK) << "the single slot was not leaked";
}

TEST(Arguments, CommitWithNullBytesAndNonZeroLengthGivesInvalAndKeepsTheLoan) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_commit(segment.get(), slot, nullptr, 8, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    const uint64_t v = 3;
    EXPECT_EQ(zfd_commit(segment.get(), slot, &v, sizeof v, nullptr), ZFD_OK);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 3u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Arguments, PublishWithNullBytesAndNonZeroLengthGivesInvalAndPublishesNothing) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    const uint64_t next = info_of(segment.get()).next_sequence;
    EXPECT_EQ(zfd_publish(segment.get(), nullptr, 8, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_publish(segment.get(), nullptr, 1000, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next);
    EXPECT_EQ(take(reader.get()).rc, ZFD_E_NO_SAMPLE);
    EXPECT_EQ(zfd_publish(segment.get(), nullptr, 0, nullptr), ZFD_OK);
}

TEST(Arguments, EvictAndReapAcceptNullCounters) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(zfd_evict_stale(segment.get(), 0, nullptr), ZFD_OK);
    EXPECT_EQ(zfd_reap_dead_readers(segment.get(), nullptr), ZFD_OK);
}

// ---------------------------------------------------------------- reader side

TEST(Arguments, ReaderOpenRefusesNullSegmentNullOutAndUnknownFlags) {
    zfd_reader* reader = nullptr;
    EXPECT_EQ(zfd_reader_open(nullptr, 0, &reader), ZFD_E_INVAL);
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(zfd_reader_open(segment.get(), 0, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reader_open(segment.get(), 2, &reader), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reader_open(segment.get(), ZFD_READER_HISTORY | 2u, &reader), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reader_open(segment.get(), 0x80000000u, &reader), ZFD_E_INVAL);
    EXPECT_EQ(info_of(segment.get()).active_readers, 0u) << "a refused open attaches nothing";
}

TEST(Arguments, ReaderFunctionsRefuseANullReader) {
    zfd_slot slot = 0;
    const void* data = nullptr;
    size_t len = 0;
    uint64_t seq = 0;
    char buf[16];
    EXPECT_EQ(zfd_take(nullptr, &slot, &data, &len, &seq), ZFD_E_INVAL);
    EXPECT_EQ(zfd_release(nullptr, 1), ZFD_E_INVAL);
    EXPECT_EQ(zfd_take_copy(nullptr, buf, sizeof buf, &len, &seq), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reader_wait(nullptr, 0), ZFD_E_INVAL);
    EXPECT_EQ(zfd_reader_wait(nullptr, 10 * kMs), ZFD_E_INVAL);
}

TEST(Arguments, TakeWithoutOutSlotGivesInvalAndConsumesNothing) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    publish_u64(segment.get(), 11);
    const void* data = nullptr;
    size_t len = 0;
    uint64_t seq = 0;
    EXPECT_EQ(zfd_take(reader.get(), nullptr, &data, &len, &seq), ZFD_E_INVAL);
    EXPECT_EQ(zfd_take(reader.get(), nullptr, nullptr, nullptr, nullptr), ZFD_E_INVAL);
    Taken t = take(reader.get());
    ASSERT_EQ(t.rc, ZFD_OK);
    EXPECT_EQ(t.value(), 11u);
    EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
}

TEST(Arguments, TakeCopyWithNullBufferAndNonZeroCapacityGivesInvalAndConsumesNothing) {
    SegmentPtr segment = make_segment(2, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(zfd_take_copy(reader.get(), nullptr, 16, nullptr, nullptr), ZFD_E_INVAL);
    publish_u64(segment.get(), 12);
    size_t len = 0;
    EXPECT_EQ(zfd_take_copy(reader.get(), nullptr, 16, &len, nullptr), ZFD_E_INVAL);
    uint64_t v = 0;
    ASSERT_EQ(zfd_take_copy(reader.get(), &v, sizeof v, &len, nullptr), ZFD_OK);
    EXPECT_EQ(v, 12u);
}

// ---------------------------------------------------------------- type hash

TEST(Arguments, TypeHashRefusesANullDescriptorAndANullOutHash) {
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    EXPECT_EQ(zfd_type_hash(nullptr, 0, hash), ZFD_E_INVAL);
    EXPECT_EQ(zfd_type_hash(nullptr, 5, hash), ZFD_E_INVAL);
    EXPECT_EQ(zfd_type_hash("abc", 3, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_type_hash("", 0, nullptr), ZFD_E_INVAL);
}

}  // namespace
