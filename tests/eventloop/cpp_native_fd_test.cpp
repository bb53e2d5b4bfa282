// cpp_native_fd_test.cpp — the C++ layer's event-loop descriptors:
// Reader<T>::native_fd() and Segment::native_fd() in a poll loop.
#include <zerodds/flatdata.hpp>

#include <gtest/gtest.h>

#include <poll.h>

#include <cstdint>

namespace ev {
struct Tick {
    std::uint64_t n;
    double t;
};
ZFD_FLAT_STRUCT(Tick, n, t);
}  // namespace ev

namespace {

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

int code_of(auto&& f) {
    try {
        f();
    } catch (const zfd::error& e) {
        return e.code();
    }
    return ZFD_OK;
}

TEST(NativeFd, ReaderDescriptorFollowsTheTakeContract) {
    zfd::SegmentOptions o;
    o.slot_count = 4;
    auto w = zfd::Writer<ev::Tick>::create_in_memory(o);
    zfd::Reader<ev::Tick> r(w.segment());
    const int fd = r.native_fd();
    EXPECT_EQ(fd, r.native_fd());
    EXPECT_FALSE(readable(fd));
    for (std::uint64_t i = 0; i < 10; ++i) {
        ASSERT_TRUE(w.try_publish(ev::Tick{i, 0.5}));
        ASSERT_TRUE(readable(fd));
        auto s = r.try_take();
        ASSERT_TRUE(s);
        EXPECT_EQ((*s)->n, i);
        s.reset();
        EXPECT_FALSE(r.try_take());  // re-arms
        EXPECT_FALSE(readable(fd));
    }
}

TEST(NativeFd, SegmentDescriptorIsTheOwnersSpaceDescriptor) {
    zfd::SegmentOptions o;
    o.slot_count = 2;
    auto w = zfd::Writer<ev::Tick>::create_in_memory(o);
    zfd::Reader<ev::Tick> r(w.segment());
    const int sfd = w.segment().native_fd();
    ASSERT_TRUE(w.try_publish(ev::Tick{0, 0}));
    ASSERT_TRUE(w.try_publish(ev::Tick{1, 0}));
    EXPECT_FALSE(w.try_publish(ev::Tick{2, 0}));
    EXPECT_FALSE(readable(sfd));
    { auto s = r.try_take(); }  // taken and released
    EXPECT_TRUE(readable(sfd));
}

TEST(NativeFd, AConsumerSegmentHasNoSpaceDescriptor) {
    const std::string name = "ev-cpp-" + std::to_string(::getpid());
    auto w = zfd::Writer<ev::Tick>::create(name);
    zfd::Segment consumer = zfd::Segment::open(name);
    EXPECT_EQ(code_of([&] { (void)consumer.native_fd(); }), ZFD_E_PERMISSION);
}

}  // namespace
