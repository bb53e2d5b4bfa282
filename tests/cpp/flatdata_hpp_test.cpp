// flatdata_hpp_test.cpp — the C++ layer <zerodds/flatdata.hpp> as a specification:
// layout descriptors and type hashes (DESIGN §6), RAII of Segment/Writer/Loan/
// Reader/Sample, typed round trips, type refusal across named segments, eviction
// reporting and moves. Uses only the public headers and the shared library.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <zerodds/flatdata.hpp>

// ---------------------------------------------------------------------------
// Allocation counter: the hot path must not allocate.
// ---------------------------------------------------------------------------
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counts operator new of this executable (the header is inline here; the
// library's own allocations are covered by tests/hotpath). noinline keeps g++
// from pairing an inlined free() with this new (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

// ---------------------------------------------------------------------------
// Types under test. Each namespace holds a struct A that differs from base::A
// in exactly one way, so the type name stays "A" and only that change counts.
// ---------------------------------------------------------------------------
namespace geo {
struct Vec3 {
    double x, y, z;
};
ZFD_FLAT_STRUCT(Vec3, x, y, z);

enum class Mode : std::uint8_t { idle, run };

struct Body {
    std::int32_t id;
    Mode mode;
    bool valid;
    char tag[2];
    Vec3 pos;
    std::array<float, 3> cov;
    std::uint16_t grid[2][3];
};
ZFD_FLAT_STRUCT(Body, id, mode, valid, tag, pos, cov, grid);

struct Pose {
    double x, y, z;
    std::uint64_t stamp_ns;
};
ZFD_FLAT_STRUCT(Pose, x, y, z, stamp_ns);
}  // namespace geo

namespace wide {  // the most fields ZFD_FLAT_STRUCT takes
struct W {
    std::uint8_t f0;
    std::uint8_t f1;
    std::uint8_t f2;
    std::uint8_t f3;
    std::uint8_t f4;
    std::uint8_t f5;
    std::uint8_t f6;
    std::uint8_t f7;
    std::uint8_t f8;
    std::uint8_t f9;
    std::uint8_t f10;
    std::uint8_t f11;
    std::uint8_t f12;
    std::uint8_t f13;
    std::uint8_t f14;
    std::uint8_t f15;
    std::uint8_t f16;
    std::uint8_t f17;
    std::uint8_t f18;
    std::uint8_t f19;
    std::uint8_t f20;
    std::uint8_t f21;
    std::uint8_t f22;
    std::uint8_t f23;
    std::uint8_t f24;
    std::uint8_t f25;
    std::uint8_t f26;
    std::uint8_t f27;
    std::uint8_t f28;
    std::uint8_t f29;
    std::uint8_t f30;
    std::uint8_t f31;
};
ZFD_FLAT_STRUCT(W, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17,
                f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31);
}  // namespace wide

namespace base {
struct Inner {
    std::int32_t a;
    std::int32_t b;
};
ZFD_FLAT_STRUCT(Inner, a, b);
struct A {
    std::int32_t id;
    double v;
    std::int16_t arr[3];
    Inner in;
};
ZFD_FLAT_STRUCT(A, id, v, arr, in);
}  // namespace base

namespace same {  // identical layout, declared again elsewhere
struct Inner {
    std::int32_t a;
    std::int32_t b;
};
ZFD_FLAT_STRUCT(Inner, a, b);
struct A {
    std::int32_t id;
    double v;
    std::int16_t arr[3];
    Inner in;
};
ZFD_FLAT_STRUCT(A, id, v, arr, in);
}  // namespace same

namespace field_type {  // id is unsigned
struct A {
    std::uint32_t id;
    double v;
    std::int16_t arr[3];
    base::Inner in;
};
ZFD_FLAT_STRUCT(A, id, v, arr, in);
}  // namespace field_type

namespace field_order {  // id and v swapped
struct A {
    double v;
    std::int32_t id;
    std::int16_t arr[3];
    base::Inner in;
};
ZFD_FLAT_STRUCT(A, v, id, arr, in);
}  // namespace field_order

namespace field_offset {  // padding before v moves it from 8 to 16
struct A {
    std::int32_t id;
    alignas(16) double v;
    std::int16_t arr[3];
    base::Inner in;
};
ZFD_FLAT_STRUCT(A, id, v, arr, in);
}  // namespace field_offset

namespace array_length {  // arr has 4 elements; padding absorbs it, later offsets unchanged
struct A {
    std::int32_t id;
    double v;
    std::int16_t arr[4];
    base::Inner in;
};
ZFD_FLAT_STRUCT(A, id, v, arr, in);
}  // namespace array_length

namespace nested_field {  // Inner::b is a float: same size, same offsets everywhere
struct Inner {
    std::int32_t a;
    float b;
};
ZFD_FLAT_STRUCT(Inner, a, b);
struct A {
    std::int32_t id;
    double v;
    std::int16_t arr[3];
    Inner in;
};
ZFD_FLAT_STRUCT(A, id, v, arr, in);
}  // namespace nested_field

namespace field_name {  // id is called ident
struct A {
    std::int32_t ident;
    double v;
    std::int16_t arr[3];
    base::Inner in;
};
ZFD_FLAT_STRUCT(A, ident, v, arr, in);
}  // namespace field_name

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string unique_name(const char* test) {
    return "cpp-hpp-" + std::to_string(::getpid()) + "-" + test;
}

bool shm_exists(const std::string& name) {
    struct stat st {};
    return ::stat(("/dev/shm/zfd." + name).c_str(), &st) == 0;
}

geo::Pose pose(std::uint64_t i) {
    return geo::Pose{static_cast<double>(i), 2.0 * static_cast<double>(i),
                     3.0 * static_cast<double>(i), 1000 * i};
}

// Run f and return the zfd::error code it threw; ZFD_OK when it did not throw.
template <class F>
std::int32_t code_of(F&& f) {
    try {
        f();
    } catch (const zfd::error& e) {
        return e.code();
    }
    return ZFD_OK;
}

zfd::SegmentOptions slots(std::uint32_t count) {
    zfd::SegmentOptions o;
    o.slot_count = count;
    return o;
}

// ---------------------------------------------------------------------------
// Descriptors
// ---------------------------------------------------------------------------

TEST(Descriptor, IsTheExactCanonicalTextOfAStruct) {
    EXPECT_EQ(zfd::type_descriptor<geo::Pose>(),
              "struct Pose{x:f64@0+8,y:f64@8+8,z:f64@16+8,stamp_ns:u64@24+8};size=32;align=8");
}

TEST(Descriptor, EmbedsNestedStructsAndRendersEnumsAndArrays) {
    EXPECT_EQ(zfd::type_descriptor<geo::Body>(),
              "struct Body{id:i32@0+4,mode:enum(u8)@4+1,valid:bool@5+1,tag:char[2]@6+2,"
              "pos:(struct Vec3{x:f64@0+8,y:f64@8+8,z:f64@16+8};size=24;align=8)@8+24,"
              "cov:f32[3]@32+12,grid:u16[2][3]@44+12};size=56;align=8");
}

TEST(Descriptor, NamesScalarsByWidthAndArraysOutermostExtentFirst) {
    EXPECT_EQ(zfd::type_descriptor<double>(), "f64");
    EXPECT_EQ(zfd::type_descriptor<float>(), "f32");
    EXPECT_EQ(zfd::type_descriptor<std::uint8_t>(), "u8");
    EXPECT_EQ(zfd::type_descriptor<signed char>(), "i8");
    EXPECT_EQ(zfd::type_descriptor<char>(), "char");
    EXPECT_EQ(zfd::type_descriptor<bool>(), "bool");
    EXPECT_EQ(zfd::type_descriptor<std::int64_t>(), "i64");
    EXPECT_EQ(zfd::type_descriptor<std::byte>(), "byte");
    EXPECT_EQ(zfd::type_descriptor<std::int32_t[2][3]>(), "i32[2][3]");
    EXPECT_EQ((zfd::type_descriptor<std::array<std::array<std::int32_t, 3>, 2>>()), "i32[2][3]");
    EXPECT_EQ(zfd::type_descriptor<geo::Vec3[2]>(),
              "(struct Vec3{x:f64@0+8,y:f64@8+8,z:f64@16+8};size=24;align=8)[2]");
}

TEST(Descriptor, TakesThirtyTwoFields) {
    const std::string d = zfd::type_descriptor<wide::W>();
    EXPECT_EQ(d.rfind("struct W{f0:u8@0+1,f1:u8@1+1,", 0), 0u) << d;
    EXPECT_NE(d.find(",f31:u8@31+1};size=32;align=1"), std::string::npos) << d;
}

TEST(TypeHash, IsZfdTypeHashOfTheDescriptor) {
    const std::string d = zfd::type_descriptor<geo::Pose>();
    zfd::TypeHash expected{};
    ASSERT_EQ(zfd_type_hash(d.data(), d.size(), expected.data()), ZFD_OK);
    EXPECT_EQ(zfd::type_hash<geo::Pose>(), expected);
    EXPECT_EQ(zfd::to_hex(expected).size(), 32u);
}

TEST(TypeHash, StaysEqualForAnIdenticalLayoutDeclaredElsewhere) {
    EXPECT_EQ(zfd::type_descriptor<same::A>(), zfd::type_descriptor<base::A>());
    EXPECT_EQ(zfd::type_hash<same::A>(), zfd::type_hash<base::A>());
    using Alias = base::A;
    EXPECT_EQ(zfd::type_hash<Alias>(), zfd::type_hash<base::A>());
}

TEST(TypeHash, ChangesWhenAFieldTypeChanges) {
    EXPECT_NE(zfd::type_hash<field_type::A>(), zfd::type_hash<base::A>());
}

TEST(TypeHash, ChangesWhenTheFieldOrderChanges) {
    EXPECT_NE(zfd::type_hash<field_order::A>(), zfd::type_hash<base::A>());
}

TEST(TypeHash, ChangesWhenPaddingMovesAnOffset) {
    EXPECT_NE(zfd::type_hash<field_offset::A>(), zfd::type_hash<base::A>());
    EXPECT_NE(zfd::type_descriptor<field_offset::A>().find("v:f64@16+8"), std::string::npos);
}

TEST(TypeHash, ChangesWhenAnArrayLengthChanges) {
    static_assert(sizeof(array_length::A) == sizeof(base::A));
    static_assert(offsetof(array_length::A, in) == offsetof(base::A, in));
    EXPECT_NE(zfd::type_hash<array_length::A>(), zfd::type_hash<base::A>());
}

TEST(TypeHash, ChangesWhenAFieldOfANestedStructChanges) {
    static_assert(sizeof(nested_field::A) == sizeof(base::A));
    static_assert(offsetof(nested_field::A, in) == offsetof(base::A, in));
    EXPECT_NE(zfd::type_hash<nested_field::A>(), zfd::type_hash<base::A>());
}

TEST(TypeHash, ChangesWhenAFieldIsRenamed) {
    EXPECT_NE(zfd::type_hash<field_name::A>(), zfd::type_hash<base::A>());
}

// ---------------------------------------------------------------------------
// Segment and errors
// ---------------------------------------------------------------------------

TEST(Segment, ErrorsCarryTheCodeAndTheLibraryDetail) {
    const std::string name = unique_name("missing");
    try {
        (void)zfd::Segment::open(name);
        FAIL() << "opening a missing segment succeeded";
    } catch (const zfd::error& e) {
        EXPECT_EQ(e.code(), ZFD_E_NOT_FOUND);
        const std::string what = e.what();
        EXPECT_NE(what.find("zfd_segment_open"), std::string::npos) << what;
        EXPECT_NE(what.find(zfd_status_str(ZFD_E_NOT_FOUND)), std::string::npos) << what;
    }
    EXPECT_FALSE(zfd::Segment::unlink(name));
}

TEST(Segment, OwnerCloseUnlinksTheNamedSegment) {
    const std::string name = unique_name("unlink");
    {
        zfd::Segment s = zfd::Segment::create(name);
        EXPECT_TRUE(s.is_owner());
        EXPECT_TRUE(shm_exists(name));
        EXPECT_EQ(code_of([&] { (void)zfd::Segment::create(name); }), ZFD_E_EXISTS);
    }
    EXPECT_FALSE(shm_exists(name));
}

TEST(Segment, EmptySegmentRefusesOperationsWithInval) {
    zfd::Segment s;
    EXPECT_FALSE(s);
    EXPECT_EQ(code_of([&] { (void)s.info(); }), ZFD_E_INVAL);
    EXPECT_EQ(s.notify_generation(), 0u);
}

TEST(Writer, RefusesASegmentOfAnotherTypeOrNotOwnedOrTooSmall) {
    zfd::SegmentOptions other;
    other.type_hash = zfd::type_hash<base::A>();
    EXPECT_EQ(code_of([&] { zfd::Writer<geo::Pose> w(zfd::Segment::create_in_memory(other)); }),
              ZFD_E_TYPE_MISMATCH);
    EXPECT_EQ(code_of([&] { zfd::Writer<geo::Pose> w(zfd::Segment::create_in_memory()); }),
              ZFD_E_TYPE_MISMATCH);

    zfd::SegmentOptions small;
    small.type_hash = zfd::type_hash<geo::Pose>();
    small.slot_capacity = sizeof(geo::Pose) - 1;
    EXPECT_EQ(code_of([&] { zfd::Writer<geo::Pose> w(zfd::Segment::create_in_memory(small)); }),
              ZFD_E_TOO_LARGE);
    EXPECT_EQ(code_of([&] { (void)zfd::Writer<geo::Pose>::create_in_memory(small); }),
              ZFD_E_TOO_LARGE);

    const std::string name = unique_name("consumer-writer");
    auto owner = zfd::Writer<geo::Pose>::create(name);
    EXPECT_EQ(code_of([&] { zfd::Writer<geo::Pose> w(zfd::Segment::open(name)); }),
              ZFD_E_PERMISSION);
}

TEST(Writer, SizesSlotsForTAndStoresItsTypeHash) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(4));
    const zfd_segment_info info = w.segment().info();
    EXPECT_EQ(info.slot_count, 4u);
    EXPECT_GE(info.slot_capacity, sizeof(geo::Pose));
    EXPECT_EQ(w.segment().type_hash(), zfd::type_hash<geo::Pose>());
}

TEST(Reader, RefusesAnUntypedSegment) {
    zfd::Segment s = zfd::Segment::create_in_memory();
    EXPECT_EQ(code_of([&] { zfd::Reader<geo::Pose> r(s); }), ZFD_E_TYPE_MISMATCH);
}

// ---------------------------------------------------------------------------
// RAII of loans and samples
// ---------------------------------------------------------------------------

TEST(Loan, DestroyedWithoutCommitIsDiscardedAndTheSlotIsFreeAgain) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(1));
    zfd::Reader<geo::Pose> r(w.segment());
    const std::uint64_t generation = w.segment().notify_generation();
    {
        auto loan = w.try_loan();
        ASSERT_TRUE(loan);
        (*loan)->x = 42.0;
        EXPECT_FALSE(w.try_loan()) << "the only slot is loaned";
    }
    EXPECT_NE(w.segment().notify_generation(), generation) << "a discard frees a slot";
    EXPECT_FALSE(r.try_take()) << "a discarded loan is never published";
    auto again = w.try_loan();
    EXPECT_TRUE(again);
}

TEST(Loan, ExplicitDiscardAndCommitEmptyTheLoan) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(1));
    zfd::Reader<geo::Pose> r(w.segment());
    auto loan = w.loan(0ns);
    loan.discard();
    EXPECT_FALSE(loan);
    EXPECT_EQ(code_of([&] { (void)loan.commit(); }), ZFD_E_NOT_LOANED);

    auto second = w.loan(0ns);
    *second = pose(1);
    (void)second.commit();
    EXPECT_FALSE(second);
    EXPECT_FALSE(w.try_loan_for(1ms)) << "the reader has not taken the only slot";
    EXPECT_EQ(code_of([&] { (void)w.loan(1ms); }), ZFD_E_TIMEOUT);
    auto s = r.try_take();
    ASSERT_TRUE(s);
    EXPECT_EQ((*s)->stamp_ns, 1000u);
}

TEST(Sample, DestroyedReleasesTheSlot) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(1));
    zfd::Reader<geo::Pose> r(w.segment());
    ASSERT_TRUE(w.try_publish(pose(1)));
    {
        auto s = r.try_take();
        ASSERT_TRUE(s);
        EXPECT_EQ((*s)->x, 1.0);
        EXPECT_FALSE(w.try_publish(pose(2))) << "the reader still holds the only slot";
    }
    EXPECT_TRUE(w.try_publish(pose(2)));
}

TEST(Sample, ReleaseReportsEviction) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(2));
    zfd::Reader<geo::Pose> r(w.segment());
    ASSERT_TRUE(w.try_publish(pose(1)));
    ASSERT_TRUE(w.try_publish(pose(2)));

    auto held = r.try_take();
    ASSERT_TRUE(held);
    EXPECT_EQ(w.segment().evict_stale(0ns), 2u);
    EXPECT_FALSE(held->release()) << "the slot was evicted while held";
    EXPECT_FALSE(*held);
    EXPECT_EQ(code_of([&] { (void)held->release(); }), ZFD_E_NOT_LOANED);

    ASSERT_TRUE(w.try_publish(pose(3)));
    auto fresh = r.try_take();
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->sequence(), 2u) << "sample 1 was evicted before it was taken";
    EXPECT_TRUE(fresh->release());
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

TEST(RoundTrip, TypedSamplesInMemoryInPlaceAndByCopy) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(8));
    zfd::Reader<geo::Pose> r(w.segment());
    EXPECT_FALSE(r.try_take());
    EXPECT_FALSE(r.try_take_for(1ms));
    EXPECT_FALSE(r.wait(0ns));

    const geo::Pose* written = nullptr;
    {
        auto loan = w.try_loan();
        ASSERT_TRUE(loan);
        written = loan->get();
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(written) % 64, 0u);
        **loan = pose(0);
        EXPECT_EQ(loan->commit(), 0u);
    }
    EXPECT_EQ(w.try_publish(pose(1)), 1u);
    EXPECT_EQ(w.publish(pose(2)), 2u);
    EXPECT_TRUE(r.wait(0ns));

    auto s0 = r.try_take_for(1s);
    ASSERT_TRUE(s0);
    EXPECT_EQ(s0->get(), written) << "zero-copy: the reader sees the writer's slot";
    EXPECT_EQ(s0->sequence(), 0u);
    EXPECT_EQ((*s0)->stamp_ns, 0u);
    EXPECT_TRUE(s0->release());

    auto s1 = r.try_take();
    ASSERT_TRUE(s1);
    EXPECT_EQ(s1->sequence(), 1u);
    EXPECT_EQ((*s1)->y, 2.0);
    EXPECT_EQ((**s1).stamp_ns, 1000u);

    std::uint64_t sequence = 0;
    auto copy = r.try_take_copy(&sequence);
    ASSERT_TRUE(copy);
    EXPECT_EQ(sequence, 2u);
    EXPECT_EQ(copy->z, 6.0);
    EXPECT_FALSE(r.try_take_copy());
}

TEST(RoundTrip, ThroughANamedSegmentAndEndsWithPeerGone) {
    const std::string name = unique_name("named");
    auto w = zfd::Writer<geo::Pose>::create(name, slots(4));
    auto r = zfd::Reader<geo::Pose>::open(name);
    EXPECT_TRUE(r);
    EXPECT_LT(r.index(), static_cast<std::uint32_t>(ZFD_MAX_READERS));
    ASSERT_TRUE(w.try_publish(pose(7)));
    ASSERT_TRUE(w.try_publish(pose(8)));
    w = zfd::Writer<geo::Pose>();  // the owner closes: name unlinked, readers told
    EXPECT_FALSE(shm_exists(name));

    auto s = r.try_take();
    ASSERT_TRUE(s);
    EXPECT_EQ((*s)->x, 7.0);
    EXPECT_TRUE(s->release());
    auto c = r.try_take_copy();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->x, 8.0);
    EXPECT_EQ(code_of([&] { (void)r.try_take(); }), ZFD_E_PEER_GONE);
    EXPECT_EQ(code_of([&] { (void)r.wait(1ms); }), ZFD_E_PEER_GONE);
}

TEST(Policies, OverwriteOldestNeverWaitsAndTakeLatestGivesTheNewest) {
    zfd::SegmentOptions o = slots(4);
    o.overwrite_oldest = true;
    auto w = zfd::Writer<geo::Pose>::create_in_memory(o);
    EXPECT_TRUE(w.segment().overwrite_oldest());
    zfd::Reader<geo::Pose> r(w.segment());
    zfd::Reader<geo::Pose> latest(w.segment());
    for (std::uint64_t i = 0; i < 40; ++i) ASSERT_TRUE(w.try_publish(pose(i))) << "never waits";
    auto newest = latest.try_take_latest();
    ASSERT_TRUE(newest);
    EXPECT_EQ(newest->sequence(), 39u);
    EXPECT_EQ((*newest)->stamp_ns, 39000u);
    EXPECT_FALSE(latest.try_take()) << "the older ones counted as read";
    auto oldest = r.try_take();
    ASSERT_TRUE(oldest);
    EXPECT_GT(oldest->sequence(), 0u) << "the slow reader lost the oldest";
}

TEST(Policies, AHistoryReaderGetsTheRetainedSamplesFirst) {
    zfd::SegmentOptions o = slots(8);
    o.history = 2;
    auto w = zfd::Writer<geo::Pose>::create_in_memory(o);
    EXPECT_EQ(w.segment().history(), 2u);
    for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(w.try_publish(pose(i)));
    zfd::Reader<geo::Pose> late(w.segment(), zfd::ReaderOptions{true});
    zfd::Reader<geo::Pose> plain(w.segment());
    ASSERT_TRUE(w.try_publish(pose(5)));
    std::vector<std::uint64_t> seqs;
    while (auto s = late.try_take()) seqs.push_back(s->sequence());
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{3, 4, 5}));
    auto p = plain.try_take();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->sequence(), 5u);
}

TEST(RoundTrip, NamedWriterAndReaderOfAnotherLayoutRefuseEachOther) {
    const std::string name = unique_name("mismatch");
    auto w = zfd::Writer<base::A>::create(name);
    try {
        auto r = zfd::Reader<nested_field::A>::open(name);
        FAIL() << "a reader of another layout attached";
    } catch (const zfd::error& e) {
        EXPECT_EQ(e.code(), ZFD_E_TYPE_MISMATCH) << e.what();
    }
    // The same layout under another declaration is accepted.
    auto r = zfd::Reader<same::A>::open(name);
    EXPECT_TRUE(r);
}

TEST(RoundTrip, HotPathDoesNotAllocate) {
    auto w = zfd::Writer<geo::Pose>::create_in_memory(slots(4));
    zfd::Reader<geo::Pose> r(w.segment());
    (void)zfd::type_hash<geo::Pose>();  // setup work done
    bool ok = true;
    const long before = g_allocations.load();
    for (std::uint64_t i = 0; i < 1000; ++i) {
        if (auto loan = w.try_loan()) {
            **loan = pose(i);
            (void)loan->commit();
        } else {
            ok = false;
        }
        auto s = r.try_take();
        ok = ok && s && (*s)->stamp_ns == 1000 * i && s->release();
        ok = ok && w.try_publish(pose(i)).has_value();
        auto c = r.try_take_copy();
        ok = ok && c && c->stamp_ns == 1000 * i;
        auto t = r.try_take_for(0ns);
        ok = ok && !t;
    }
    const long allocations = g_allocations.load() - before;
    EXPECT_TRUE(ok);
    EXPECT_EQ(allocations, 0);
}

// ---------------------------------------------------------------------------
// Moves
// ---------------------------------------------------------------------------

TEST(Move, SegmentHandlesMove) {
    zfd::Segment a = zfd::Segment::create_in_memory();
    zfd_segment* handle = a.native_handle();
    zfd::Segment b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.native_handle(), handle);
    zfd::Segment c;
    c = std::move(b);
    EXPECT_EQ(c.native_handle(), handle);
    EXPECT_TRUE(c.is_owner());
    zfd_segment* raw = c.release();
    EXPECT_FALSE(c);
    zfd_segment_close(raw);
}

TEST(Move, WriterReaderLoanAndSampleMoveWithTheirSlots) {
    auto w0 = zfd::Writer<geo::Pose>::create_in_memory(slots(1));
    zfd::Writer<geo::Pose> w(std::move(w0));
    EXPECT_FALSE(w0.segment());
    EXPECT_EQ(code_of([&] { (void)w0.try_loan(); }), ZFD_E_INVAL);

    zfd::Reader<geo::Pose> r0(w.segment());
    zfd::Reader<geo::Pose> r;
    r = std::move(r0);
    EXPECT_FALSE(r0);
    EXPECT_TRUE(r);

    auto opt = w.try_loan();
    ASSERT_TRUE(opt);
    zfd::Loan<geo::Pose> loan(std::move(*opt));
    EXPECT_FALSE(*opt);
    *loan = pose(5);
    zfd::Loan<geo::Pose> loan2;
    loan2 = std::move(loan);
    EXPECT_FALSE(loan);
    EXPECT_EQ(loan2.commit(), 0u);

    auto taken = r.try_take();
    ASSERT_TRUE(taken);
    zfd::Sample<geo::Pose> sample(std::move(*taken));
    EXPECT_FALSE(*taken);
    EXPECT_EQ(sample->x, 5.0);
    EXPECT_EQ(sample.sequence(), 0u);
    EXPECT_FALSE(w.try_publish(pose(6))) << "the moved sample still holds the only slot";

    zfd::Sample<geo::Pose> other;
    other = std::move(sample);
    EXPECT_FALSE(sample);
    EXPECT_EQ(other->stamp_ns, 5000u);
    other = zfd::Sample<geo::Pose>();  // assigning over a held sample releases it
    EXPECT_FALSE(other);
    EXPECT_TRUE(w.try_publish(pose(6)));
}

}  // namespace
