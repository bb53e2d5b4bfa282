// capi_test_util.hpp — small helpers shared by the capi tests.
//
// The capi suite uses only the public header <zerodds/flatdata.h> and the
// shared library: these helpers wrap handles in RAII owners and shorten the
// common create/publish/take sequences. They never reach into the library.
#pragma once

#include <zerodds/flatdata.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace capi_test {

struct SegmentCloser {
    void operator()(zfd_segment* segment) const { zfd_segment_close(segment); }
};
struct ReaderCloser {
    void operator()(zfd_reader* reader) const { zfd_reader_close(reader); }
};
using SegmentPtr = std::unique_ptr<zfd_segment, SegmentCloser>;
using ReaderPtr = std::unique_ptr<zfd_reader, ReaderCloser>;

inline zfd_segment_options options(uint32_t slot_count, uint64_t slot_capacity) {
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = slot_count;
    opts.slot_capacity = slot_capacity;
    return opts;
}

// An in-memory segment; nullptr (and a recorded failure) when create fails.
inline SegmentPtr make_segment(uint32_t slot_count = 8, uint64_t slot_capacity = 64) {
    zfd_segment_options opts = options(slot_count, slot_capacity);
    zfd_segment* segment = nullptr;
    int32_t rc = zfd_segment_create(nullptr, &opts, &segment, nullptr);
    EXPECT_EQ(rc, ZFD_OK) << zfd_status_str(rc);
    if (rc != ZFD_OK) return SegmentPtr{};
    EXPECT_NE(segment, nullptr);
    return SegmentPtr{segment};
}

inline ReaderPtr make_reader(zfd_segment* segment) {
    zfd_reader* reader = nullptr;
    int32_t rc = zfd_reader_open(segment, 0, &reader);
    EXPECT_EQ(rc, ZFD_OK) << zfd_status_str(rc);
    if (rc != ZFD_OK) return ReaderPtr{};
    EXPECT_NE(reader, nullptr);
    return ReaderPtr{reader};
}

inline zfd_segment_info info_of(const zfd_segment* segment) {
    zfd_segment_info info;
    std::memset(&info, 0xA5, sizeof info);
    info.struct_size = sizeof info;
    int32_t rc = zfd_segment_get_info(segment, &info);
    EXPECT_EQ(rc, ZFD_OK) << zfd_status_str(rc);
    return info;
}

// Publish one uint64_t value as an 8-byte sample; returns its sequence.
inline uint64_t publish_u64(zfd_segment* segment, uint64_t value) {
    uint64_t sequence = ~0ull;
    int32_t rc = zfd_publish(segment, &value, sizeof value, &sequence);
    EXPECT_EQ(rc, ZFD_OK) << zfd_status_str(rc);
    return sequence;
}

struct Taken {
    int32_t rc = ZFD_E_INTERNAL;
    zfd_slot slot = 0;
    const void* data = nullptr;
    size_t len = 0;
    uint64_t sequence = 0;
    uint64_t value() const {
        uint64_t v = 0;
        if (data != nullptr && len >= sizeof v) std::memcpy(&v, data, sizeof v);
        return v;
    }
};

inline Taken take(zfd_reader* reader) {
    Taken t;
    t.rc = zfd_take(reader, &t.slot, &t.data, &t.len, &t.sequence);
    return t;
}

inline bool aligned64(const void* p) { return (reinterpret_cast<uintptr_t>(p) % 64u) == 0; }

using Clock = std::chrono::steady_clock;
inline double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

constexpr int64_t kMs = 1'000'000;        // nanoseconds per millisecond
constexpr int64_t kSec = 1'000'000'000;   // nanoseconds per second

}  // namespace capi_test
