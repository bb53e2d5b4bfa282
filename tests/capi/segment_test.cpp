// segment_test.cpp — options, creation of in-memory segments, zfd_segment_get_info.
#include "capi_test_util.hpp"

#include <unistd.h>

#include <cstddef>
#include <string>
#include <vector>

namespace {

using namespace capi_test;

zfd_error fresh_error() {
    zfd_error err;
    std::memset(&err, 0x5A, sizeof err);  // garbage the library must overwrite
    err.struct_size = sizeof err;
    return err;
}

void expect_error_filled(const zfd_error& err, int32_t rc) {
    EXPECT_EQ(err.code, rc);
    const void* nul = std::memchr(err.message, '\0', sizeof err.message);
    ASSERT_NE(nul, nullptr) << "message is not NUL-terminated";
    EXPECT_GT(std::strlen(err.message), 0u) << "message should say which check failed";
}

// ---------------------------------------------------------------- options

TEST(SegmentOptions, InitFillsTheDocumentedDefaults) {
    zfd_segment_options opts;
    std::memset(&opts, 0xEE, sizeof opts);
    zfd_segment_options_init(&opts);
    EXPECT_EQ(opts.struct_size, sizeof(zfd_segment_options));
    EXPECT_EQ(opts.slot_count, 64u);
    EXPECT_EQ(opts.slot_capacity, 1024u);
    EXPECT_EQ(opts.mode, 0600u);
    EXPECT_EQ(opts.flags, 0u);
    EXPECT_EQ(opts.has_type_hash, 0u);
}

TEST(SegmentOptions, InitIgnoresNull) {
    zfd_segment_options_init(nullptr);
    SUCCEED();
}

// ---------------------------------------------------------------- create

TEST(SegmentCreate, NullOptionsMeansAllDefaults) {
    zfd_segment* raw = nullptr;
    ASSERT_EQ(zfd_segment_create(nullptr, nullptr, &raw, nullptr), ZFD_OK);
    SegmentPtr segment{raw};
    zfd_segment_info info = info_of(segment.get());
    EXPECT_EQ(info.slot_count, 64u);
    EXPECT_EQ(info.slot_capacity, 1024u);
    EXPECT_EQ(info.is_named, 0u);
    EXPECT_EQ(info.has_type_hash, 0u);
}

TEST(SegmentCreate, SuccessLeavesTheErrorDetailAtOkWithAnEmptyMessage) {
    zfd_error err = fresh_error();
    zfd_segment_options opts = options(4, 64);
    zfd_segment* raw = nullptr;
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &raw, &err), ZFD_OK);
    SegmentPtr segment{raw};
    EXPECT_EQ(err.code, ZFD_OK);
    EXPECT_EQ(err.message[0], '\0');
}

struct BadOptionsCase {
    const char* what;
    void (*spoil)(zfd_segment_options&);
};

const BadOptionsCase kBadOptions[] = {
    {"struct_size 0", [](zfd_segment_options& o) { o.struct_size = 0; }},
    {"struct_size 4", [](zfd_segment_options& o) { o.struct_size = 4; }},
    {"struct_size without the type hash",
     [](zfd_segment_options& o) {
         o.struct_size = static_cast<uint32_t>(offsetof(zfd_segment_options, type_hash));
     }},
    {"slot_count 0", [](zfd_segment_options& o) { o.slot_count = 0; }},
    {"slot_capacity 0", [](zfd_segment_options& o) { o.slot_capacity = 0; }},
    {"unknown flag bit 5", [](zfd_segment_options& o) { o.flags = 1u << 5; }},
    {"unknown flag bit 31", [](zfd_segment_options& o) { o.flags = 1u << 31; }},
    {"known plus unknown flags",
     [](zfd_segment_options& o) { o.flags = ZFD_SEGMENT_REPLACE_STALE | (1u << 7); }},
    {"has_type_hash 2", [](zfd_segment_options& o) { o.has_type_hash = 2; }},
    {"has_type_hash 0xFFFFFFFF", [](zfd_segment_options& o) { o.has_type_hash = 0xFFFFFFFFu; }},
};

TEST(SegmentCreate, InvalidOptionsGiveInvalAndFillTheErrorDetail) {
    for (const BadOptionsCase& c : kBadOptions) {
        SCOPED_TRACE(c.what);
        zfd_segment_options opts = options(8, 64);
        c.spoil(opts);
        zfd_error err = fresh_error();
        zfd_segment* raw = nullptr;
        int32_t rc = zfd_segment_create(nullptr, &opts, &raw, &err);
        EXPECT_EQ(rc, ZFD_E_INVAL) << zfd_status_str(rc);
        expect_error_filled(err, rc);
        if (rc == ZFD_OK) zfd_segment_close(raw);
    }
}

TEST(SegmentCreate, InvalidOptionsGiveInvalWithoutAnErrorDetail) {
    for (const BadOptionsCase& c : kBadOptions) {
        SCOPED_TRACE(c.what);
        zfd_segment_options opts = options(8, 64);
        c.spoil(opts);
        zfd_segment* raw = nullptr;
        int32_t rc = zfd_segment_create(nullptr, &opts, &raw, nullptr);
        EXPECT_EQ(rc, ZFD_E_INVAL) << zfd_status_str(rc);
        if (rc == ZFD_OK) zfd_segment_close(raw);
    }
}

TEST(SegmentCreate, ReplaceStaleFlagIsAcceptedForAnInMemorySegment) {
    zfd_segment_options opts = options(4, 64);
    opts.flags = ZFD_SEGMENT_REPLACE_STALE;
    zfd_segment* raw = nullptr;
    int32_t rc = zfd_segment_create(nullptr, &opts, &raw, nullptr);
    EXPECT_EQ(rc, ZFD_OK) << zfd_status_str(rc);
    zfd_segment_close(raw);
}

// ---------------------------------------------------------------- get_info

TEST(SegmentInfo, ReportsSlotCountAndCapacityExactlyAsGiven) {
    const struct {
        uint32_t count;
        uint64_t capacity;
    } geometries[] = {{1, 1}, {3, 100}, {7, 64}, {1000, 64}, {64, 1024}, {2, 65537}};
    for (const auto& g : geometries) {
        SCOPED_TRACE(std::to_string(g.count) + " x " + std::to_string(g.capacity));
        SegmentPtr segment = make_segment(g.count, g.capacity);
        ASSERT_NE(segment, nullptr);
        zfd_segment_info info = info_of(segment.get());
        EXPECT_EQ(info.slot_count, g.count);
        EXPECT_EQ(info.slot_capacity, g.capacity);
        EXPECT_GE(info.slot_stride, g.capacity);
        EXPECT_EQ(info.slot_stride % 64u, 0u) << "slots are 64-byte aligned";
        EXPECT_GE(info.total_size, info.slot_stride * g.count);
    }
}

TEST(SegmentInfo, InMemorySegmentIsUnnamedAndOwnedByThisLiveProcess) {
    SegmentPtr segment = make_segment(3, 64);
    ASSERT_NE(segment, nullptr);
    zfd_segment_info info = info_of(segment.get());
    EXPECT_EQ(info.is_named, 0u);
    EXPECT_EQ(info.is_owner, 1u);
    EXPECT_EQ(info.owner_pid, static_cast<int32_t>(getpid()));
    EXPECT_EQ(info.owner_alive, 1u);
    EXPECT_EQ(info.active_readers, 0u);
    EXPECT_EQ(info.has_type_hash, 0u);
}

TEST(SegmentInfo, ReportsTheTypeHashGivenAtCreate) {
    zfd_segment_options opts = options(4, 64);
    opts.has_type_hash = 1;
    for (int i = 0; i < ZFD_TYPE_HASH_SIZE; ++i) opts.type_hash[i] = static_cast<uint8_t>(0xC0 + i);
    zfd_segment* raw = nullptr;
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &raw, nullptr), ZFD_OK);
    SegmentPtr segment{raw};
    zfd_segment_info info = info_of(segment.get());
    EXPECT_EQ(info.has_type_hash, 1u);
    EXPECT_EQ(std::memcmp(info.type_hash, opts.type_hash, ZFD_TYPE_HASH_SIZE), 0);
}

TEST(SegmentInfo, ReportsAHashComputedByZfdTypeHash) {
    const char descriptor[] = "struct Pose{x:f64@0+8,y:f64@8+8};size=16;align=8";
    zfd_segment_options opts = options(4, 64);
    ASSERT_EQ(zfd_type_hash(descriptor, sizeof descriptor - 1, opts.type_hash), ZFD_OK);
    opts.has_type_hash = 1;
    zfd_segment* raw = nullptr;
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &raw, nullptr), ZFD_OK);
    SegmentPtr segment{raw};
    zfd_segment_info info = info_of(segment.get());
    EXPECT_EQ(info.has_type_hash, 1u);
    EXPECT_EQ(std::memcmp(info.type_hash, opts.type_hash, ZFD_TYPE_HASH_SIZE), 0);
}

TEST(SegmentInfo, ActiveReaderBitsFollowReaderOpenAndClose) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    EXPECT_EQ(info_of(segment.get()).active_readers, 0u);

    ReaderPtr a = make_reader(segment.get());
    ReaderPtr b = make_reader(segment.get());
    ReaderPtr c = make_reader(segment.get());
    ASSERT_TRUE(a && b && c);
    const uint32_t ia = zfd_reader_index(a.get());
    const uint32_t ib = zfd_reader_index(b.get());
    const uint32_t ic = zfd_reader_index(c.get());
    ASSERT_LT(ia, 64u);
    ASSERT_LT(ib, 64u);
    ASSERT_LT(ic, 64u);
    EXPECT_NE(ia, ib);
    EXPECT_NE(ib, ic);
    EXPECT_NE(ia, ic);
    const uint64_t all = (1ull << ia) | (1ull << ib) | (1ull << ic);
    EXPECT_EQ(info_of(segment.get()).active_readers, all);

    b.reset();
    EXPECT_EQ(info_of(segment.get()).active_readers, all & ~(1ull << ib));
    a.reset();
    EXPECT_EQ(info_of(segment.get()).active_readers, 1ull << ic);
    c.reset();
    EXPECT_EQ(info_of(segment.get()).active_readers, 0u);
}

TEST(SegmentInfo, NextSequenceAdvancesByOnePerCommitAndIsTheSequenceTheCommitGets) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    ReaderPtr reader = make_reader(segment.get());
    ASSERT_NE(reader, nullptr);
    uint64_t next = info_of(segment.get()).next_sequence;

    // zfd_publish
    uint64_t seq = ~0ull;
    const uint64_t value = 42;
    ASSERT_EQ(zfd_publish(segment.get(), &value, sizeof value, &seq), ZFD_OK);
    EXPECT_EQ(seq, next);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next + 1);
    next += 1;

    // zfd_commit
    zfd_slot slot = 0;
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next) << "reserve does not use a sequence";
    ASSERT_EQ(zfd_commit(segment.get(), slot, &value, sizeof value, &seq), ZFD_OK);
    EXPECT_EQ(seq, next);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next + 1);
    next += 1;

    // zfd_commit_in_place
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_commit_in_place(segment.get(), slot, 8, &seq), ZFD_OK);
    EXPECT_EQ(seq, next);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next + 1);
    next += 1;

    // discard uses no sequence
    ASSERT_EQ(zfd_reserve(segment.get(), &slot, nullptr), ZFD_OK);
    ASSERT_EQ(zfd_discard(segment.get(), slot), ZFD_OK);
    EXPECT_EQ(info_of(segment.get()).next_sequence, next);

    // the reader sees exactly these sequences
    for (uint64_t expected = next - 3; expected < next; ++expected) {
        Taken t = take(reader.get());
        ASSERT_EQ(t.rc, ZFD_OK);
        EXPECT_EQ(t.sequence, expected);
        EXPECT_EQ(zfd_release(reader.get(), t.slot), ZFD_OK);
    }
}

TEST(SegmentInfo, StructSizeZeroOrTooSmallGivesInval) {
    SegmentPtr segment = make_segment(4, 64);
    ASSERT_NE(segment, nullptr);
    const uint32_t sizes[] = {0, 1, 4, static_cast<uint32_t>(offsetof(zfd_segment_info, next_sequence))};
    for (uint32_t size : sizes) {
        SCOPED_TRACE(size);
        zfd_segment_info info;
        std::memset(&info, 0, sizeof info);
        info.struct_size = size;
        EXPECT_EQ(zfd_segment_get_info(segment.get(), &info), ZFD_E_INVAL);
    }
}

TEST(SegmentInfo, TwoSegmentsHaveDistinctIds) {
    SegmentPtr a = make_segment(4, 64);
    SegmentPtr b = make_segment(4, 64);
    ASSERT_TRUE(a && b);
    EXPECT_NE(info_of(a.get()).segment_id, info_of(b.get()).segment_id);
}

}  // namespace
