// Segment lifecycle in the core: names, validation of a named segment's
// header (each field), type hash, owner close.
#include "segment_impl.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace zerodds::flatdata;
using namespace zerodds::flatdata::layout;

namespace {

std::string unique_name(const char* test) {
    return "core-" + std::to_string(::getpid()) + "-" + test;
}

struct NamedSegment {
    explicit NamedSegment(const char* test, std::optional<TypeHash> hash = std::nullopt)
        : name(unique_name(test)) {
        SegmentConfig c;
        c.slot_count = 8;
        c.slot_capacity = 128;
        c.type_hash = hash;
        ErrorDetail d;
        EXPECT_EQ(Segment::create(name.c_str(), c, &owner, &d), Status::ok) << d.message;
    }
    ~NamedSegment() {
        owner.reset();
        Segment::unlink(name.c_str(), nullptr);
    }
    SegmentHeader& header() { return *owner->impl().hdr; }
    Status open(ErrorDetail* d, const std::uint8_t* hash = nullptr) {
        std::shared_ptr<Segment> s;
        return Segment::open(name.c_str(), hash, &s, d);
    }
    std::string name;
    std::shared_ptr<Segment> owner;
};

}  // namespace

TEST(SegmentName, AcceptsOnlyPortableCharactersUpTo200) {
    EXPECT_TRUE(Segment::valid_name("a"));
    EXPECT_TRUE(Segment::valid_name("Abc.def_ghi-09"));
    EXPECT_TRUE(Segment::valid_name(std::string(200, 'x').c_str()));
    EXPECT_FALSE(Segment::valid_name(std::string(201, 'x').c_str()));
    EXPECT_FALSE(Segment::valid_name(""));
    EXPECT_FALSE(Segment::valid_name(nullptr));
    EXPECT_FALSE(Segment::valid_name("a/b"));
    EXPECT_FALSE(Segment::valid_name("a b"));
    EXPECT_FALSE(Segment::valid_name("..\n"));
}

TEST(TypeHash, IsXxh3With128BitsInCanonicalOrder) {
    const char text[] = "Pose{x:f64@0:8,y:f64@8:8}size=16,align=8";
    const TypeHash h = type_hash(text, sizeof text - 1);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(text, sizeof text - 1));
    EXPECT_EQ(0, std::memcmp(h.data(), c.digest, 16));
    EXPECT_NE(type_hash("a", 1), type_hash("b", 1));
}

TEST(SegmentOpen, AcceptsAnIntactSegmentAndReportsItsGeometry) {
    NamedSegment seg("intact");
    std::shared_ptr<Segment> s;
    ErrorDetail d;
    ASSERT_EQ(Segment::open(seg.name.c_str(), nullptr, &s, &d), Status::ok) << d.message;
    SegmentInfo info;
    s->info(&info);
    EXPECT_EQ(info.slot_count, 8u);
    EXPECT_EQ(info.slot_capacity, 128u);
    EXPECT_FALSE(info.is_owner);
    EXPECT_TRUE(info.is_named);
    EXPECT_TRUE(info.owner_alive);
    EXPECT_EQ(info.owner_pid, ::getpid());
}

TEST(SegmentOpen, NamesTheFailedCheckForEachCorruptedField) {
    struct Case {
        const char* field;
        std::function<void(SegmentHeader&)> corrupt;
        Status expected;
    };
    const std::vector<Case> cases = {
        {"magic", [](SegmentHeader& h) { h.magic ^= 1; }, Status::incompatible},
        {"layout version", [](SegmentHeader& h) { h.layout_version = 99; }, Status::incompatible},
        {"endian", [](SegmentHeader& h) { h.endian_marker = 0x04030201; }, Status::incompatible},
        {"header size", [](SegmentHeader& h) { h.header_size = 7; }, Status::incompatible},
        {"max readers", [](SegmentHeader& h) { h.max_readers = 65; }, Status::incompatible},
        {"slot count zero", [](SegmentHeader& h) { h.slot_count = 0; }, Status::corrupt},
        {"slot count huge", [](SegmentHeader& h) { h.slot_count = 1u << 30; }, Status::corrupt},
        {"slot count +1", [](SegmentHeader& h) { h.slot_count += 1; }, Status::corrupt},
        {"capacity", [](SegmentHeader& h) { h.slot_capacity = 1ull << 50; }, Status::corrupt},
        {"capacity +4096", [](SegmentHeader& h) { h.slot_capacity += 4096; }, Status::corrupt},
        {"stride", [](SegmentHeader& h) { h.payload_stride += 64; }, Status::corrupt},
        {"total size", [](SegmentHeader& h) { h.total_size += 4096; }, Status::corrupt},
        {"log size", [](SegmentHeader& h) { h.log_size = 3; }, Status::corrupt},
        {"readers offset", [](SegmentHeader& h) { h.readers_offset = 1; }, Status::corrupt},
        {"slots offset", [](SegmentHeader& h) { h.slots_offset = ~0ull; }, Status::corrupt},
        {"log offset", [](SegmentHeader& h) { h.log_offset += 64; }, Status::corrupt},
        {"payload offset", [](SegmentHeader& h) { h.payload_offset = 0; }, Status::corrupt},
        {"has type hash", [](SegmentHeader& h) { h.has_type_hash = 2; }, Status::corrupt},
        {"state", [](SegmentHeader& h) { h.state.store(7); }, Status::corrupt},
    };
    for (const Case& c : cases) {
        NamedSegment seg("corrupt");
        c.corrupt(seg.header());
        ErrorDetail d;
        EXPECT_EQ(seg.open(&d), c.expected) << c.field;
        EXPECT_NE(d.message[0], '\0') << c.field;
    }
}

TEST(SegmentOpen, WaitsBoundedlyForAnOwnerStillInitialising) {
    NamedSegment seg("initialising");
    seg.header().state.store(kSegmentInitialising);
    ErrorDetail d;
    EXPECT_EQ(seg.open(&d), Status::timeout);
    EXPECT_NE(std::string(d.message).find("initialising"), std::string::npos) << d.message;
}

TEST(SegmentOpen, ChecksTheTypeHash) {
    const TypeHash mine = type_hash("mine", 4);
    const TypeHash other = type_hash("other", 5);
    NamedSegment seg("typehash", mine);
    ErrorDetail d;
    EXPECT_EQ(seg.open(&d, mine.data()), Status::ok);
    EXPECT_EQ(seg.open(&d, other.data()), Status::type_mismatch);
    NamedSegment untyped("untyped");
    EXPECT_EQ(untyped.open(&d, mine.data()), Status::type_mismatch);
    EXPECT_EQ(untyped.open(&d, nullptr), Status::ok);
}

TEST(SegmentOpen, MissingSegmentIsNotFound) {
    std::shared_ptr<Segment> s;
    ErrorDetail d;
    EXPECT_EQ(Segment::open(unique_name("missing").c_str(), nullptr, &s, &d), Status::not_found);
    EXPECT_EQ(Segment::unlink(unique_name("missing").c_str(), &d), Status::not_found);
}

TEST(SegmentCreate, RefusesANameThatExistsWithALiveOwner) {
    NamedSegment seg("exists");
    SegmentConfig c;
    c.replace_stale = true;
    std::shared_ptr<Segment> s;
    ErrorDetail d;
    EXPECT_EQ(Segment::create(seg.name.c_str(), c, &s, &d), Status::exists);
}

TEST(SegmentClose, OwnerCloseUnlinksAndReadersSeePeerGoneAfterDraining) {
    NamedSegment seg("ownerclose");
    std::shared_ptr<Segment> consumer;
    ErrorDetail d;
    ASSERT_EQ(Segment::open(seg.name.c_str(), nullptr, &consumer, &d), Status::ok);
    std::unique_ptr<Reader> r;
    ASSERT_EQ(Reader::open(consumer, 0, &r), Status::ok);
    ASSERT_EQ(seg.owner->publish("a", 1, nullptr), Status::ok);
    seg.owner->close_owner();
    std::uint64_t t = 0;
    EXPECT_EQ(r->take(&t, nullptr, nullptr, nullptr), Status::ok) << "committed before close";
    EXPECT_EQ(r->release(t), Status::ok);
    EXPECT_EQ(r->take(&t, nullptr, nullptr, nullptr), Status::peer_gone);
    EXPECT_EQ(r->wait(1'000'000'000), Status::peer_gone);
    EXPECT_EQ(Segment::open(seg.name.c_str(), nullptr, &consumer, &d), Status::not_found);
}
