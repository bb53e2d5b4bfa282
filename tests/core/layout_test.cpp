// The on-memory format: geometry arithmetic and token encoding.
#include "layout.hpp"
#include "segment_impl.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace zerodds::flatdata;
using namespace zerodds::flatdata::layout;

TEST(Geometry, PayloadAreaStartsOnAPageAndSlotsOnCacheLines) {
    for (std::uint32_t count : {1u, 3u, 64u, 1000u, 4096u}) {
        for (std::uint64_t cap : {1ull, 63ull, 64ull, 65ull, 1024ull, 1ull << 20}) {
            Geometry g{};
            ASSERT_TRUE(compute_geometry(count, cap, &g)) << count << "x" << cap;
            EXPECT_EQ(g.payload_offset % kPageSize, 0u);
            EXPECT_EQ(g.payload_stride % kCacheLine, 0u);
            EXPECT_GE(g.payload_stride, cap);
            EXPECT_LT(g.payload_stride, cap + kCacheLine);
            EXPECT_EQ(g.slots_offset % kCacheLine, 0u);
            EXPECT_EQ(g.readers_offset % kCacheLine, 0u);
            EXPECT_GE(g.log_size, count);
            EXPECT_EQ(g.log_size & (g.log_size - 1), 0u) << "log size is a power of two";
            EXPECT_GE(g.held_offset, g.log_offset + g.log_size * sizeof(Descriptor));
            EXPECT_EQ(g.held_offset % kCacheLine, 0u);
            EXPECT_GE(g.held_stride * 8, std::uint64_t{count});
            EXPECT_EQ(g.held_stride % kCacheLine, 0u);
            EXPECT_GE(g.payload_offset, g.held_offset + kReaderEntries * g.held_stride);
            EXPECT_GE(g.total_size, g.payload_offset + g.payload_stride * count);
            EXPECT_EQ(g.total_size % kPageSize, 0u);
        }
    }
}

TEST(Geometry, RefusesZeroAndOverflowingSizes) {
    Geometry g{};
    EXPECT_FALSE(compute_geometry(0, 64, &g));
    EXPECT_FALSE(compute_geometry(1, 0, &g));
    EXPECT_FALSE(compute_geometry(UINT32_MAX, UINT64_MAX / 2, &g));
    EXPECT_FALSE(compute_geometry(1u << 20, 1ull << 40, &g));
    EXPECT_FALSE(compute_geometry(1, UINT64_MAX, &g));
}

TEST(Token, RoundTripsEveryField) {
    const std::uint64_t t = token::encode(true, 0x1234, 0xabcdef12345ull, 0x00fedcba);
    EXPECT_TRUE(token::is_sample(t));
    EXPECT_EQ(token::tag(t), 0x1234u);
    EXPECT_EQ(token::gen(t), 0xabcdef12345ull & token::kGenMask);
    EXPECT_EQ(token::index(t), 0x00fedcbau);
    const std::uint64_t loan = token::encode(false, 7, 1, 0);
    EXPECT_FALSE(token::is_sample(loan));
    EXPECT_NE(loan, 0u) << "token 0 is never issued";
}

TEST(Token, TagsAreNonZeroFitTheFieldAndDoNotRepeatWithinAWrap) {
    // Consecutive handles get distinct tags: 2^15 - 1 of them in a row (one
    // full wrap minus the skipped 0) never repeat.
    std::vector<bool> seen(token::kTagMask + 1, false);
    for (std::uint32_t i = 0; i < token::kTagMask; ++i) {
        const std::uint32_t t = next_tag();
        ASSERT_NE(t, 0u);
        ASSERT_EQ(t & ~token::kTagMask, 0u);
        ASSERT_FALSE(seen[t]) << "tag " << t << " repeated after " << i << " tags";
        seen[t] = true;
    }
}

TEST(SlotWord, KeepsGenerationAndStateApart) {
    const std::uint64_t w = slot_word(41, kSlotCommitted);
    EXPECT_EQ(word_gen(w), 41u);
    EXPECT_EQ(word_state(w), kSlotCommitted);
    EXPECT_EQ(word_state(slot_word(word_gen(w) + 1, kSlotLoaned)), kSlotLoaned);
}
