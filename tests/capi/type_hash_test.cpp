// type_hash_test.cpp — zfd_type_hash: XXH3-128 of the descriptor bytes, in
// canonical (big-endian) order; the bytes are hashed as given, not parsed.
#include "capi_test_util.hpp"

#include <array>
#include <set>
#include <string>

namespace {

using Hash = std::array<uint8_t, ZFD_TYPE_HASH_SIZE>;

Hash hash_of(const std::string& descriptor) {
    Hash h;
    h.fill(0xAA);
    EXPECT_EQ(zfd_type_hash(descriptor.data(), descriptor.size(), h.data()), ZFD_OK);
    return h;
}

TEST(TypeHash, IsDeterministic) {
    const std::string d = "struct Pose{x:f64@0+8,y:f64@8+8};size=16;align=8";
    EXPECT_EQ(hash_of(d), hash_of(d));
    EXPECT_EQ(hash_of(std::string(d)), hash_of(d));  // another buffer, same bytes
}

TEST(TypeHash, WritesExactlySixteenBytes) {
    uint8_t buf[ZFD_TYPE_HASH_SIZE + 16];
    std::memset(buf, 0xCD, sizeof buf);
    ASSERT_EQ(zfd_type_hash("abc", 3, buf + 8), ZFD_OK);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(buf[i], 0xCD) << "byte before the hash written";
    for (int i = 8 + ZFD_TYPE_HASH_SIZE; i < static_cast<int>(sizeof buf); ++i) {
        EXPECT_EQ(buf[i], 0xCD) << "byte after the hash written";
    }
}

TEST(TypeHash, DiffersForDifferentDescriptors) {
    const std::string descriptors[] = {
        "struct A{x:i32@0+4};size=4;align=4",
        "struct A{x:u32@0+4};size=4;align=4",
        "struct A{y:i32@0+4};size=4;align=4",
        "struct A{x:i32@0+4};size=8;align=4",
        "struct B{x:i32@0+4};size=4;align=4",
        "a",
        "b",
        "ab",
        "ba",
        std::string(1, '\0'),
        std::string(2, '\0'),
    };
    std::set<Hash> seen;
    for (const std::string& d : descriptors) EXPECT_TRUE(seen.insert(hash_of(d)).second) << d;
}

TEST(TypeHash, HashesOnlyTheGivenLength) {
    Hash prefix;
    ASSERT_EQ(zfd_type_hash("abcdef", 3, prefix.data()), ZFD_OK);
    EXPECT_EQ(prefix, hash_of("abc"));
    EXPECT_NE(prefix, hash_of("abcdef"));
}

TEST(TypeHash, EmptyDescriptorWorks) {
    Hash h;
    ASSERT_EQ(zfd_type_hash("", 0, h.data()), ZFD_OK);
    ASSERT_EQ(zfd_type_hash("ignored", 0, h.data()), ZFD_OK);
    EXPECT_EQ(h, hash_of(""));
}

TEST(TypeHash, IsXxh3Of128BitsInCanonicalByteOrder) {
    // Known answers of XXH3_128bits (seed 0), canonical = big-endian high64 then low64.
    const Hash empty = {0x99, 0xaa, 0x06, 0xd3, 0x01, 0x47, 0x98, 0xd8,
                        0x60, 0x01, 0xc3, 0x24, 0x46, 0x8d, 0x49, 0x7f};
    const Hash abc = {0x06, 0xb0, 0x5a, 0xb6, 0x73, 0x3a, 0x61, 0x85,
                      0x78, 0xaf, 0x5f, 0x94, 0x89, 0x2f, 0x39, 0x50};
    EXPECT_EQ(hash_of(""), empty);
    EXPECT_EQ(hash_of("abc"), abc);
}

TEST(TypeHash, ASegmentCreatedWithAHashReportsIt) {
    const Hash h = hash_of("struct Imu{ax:f32@0+4,ay:f32@4+4,az:f32@8+4};size=12;align=4");
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.has_type_hash = 1;
    std::memcpy(opts.type_hash, h.data(), h.size());
    zfd_segment* raw = nullptr;
    ASSERT_EQ(zfd_segment_create(nullptr, &opts, &raw, nullptr), ZFD_OK);
    capi_test::SegmentPtr segment{raw};
    zfd_segment_info info = capi_test::info_of(segment.get());
    EXPECT_EQ(info.has_type_hash, 1u);
    EXPECT_EQ(std::memcmp(info.type_hash, h.data(), h.size()), 0);
}

}  // namespace
