// claim_test.cpp — exclusive claims on a named segment (zfd_segment_claim):
// one holder at a time across handles and processes, given back on release,
// on close and when the holding process dies.
#include "capi_test_util.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace {

using namespace capi_test;

struct Named {
    std::string name;
    SegmentPtr owner;
    explicit Named(const char* what) : name("claim-" + std::to_string(::getpid()) + "-" + what) {
        zfd_segment* s = nullptr;
        EXPECT_EQ(zfd_segment_create(name.c_str(), nullptr, &s, nullptr), ZFD_OK);
        owner.reset(s);
    }
    SegmentPtr open() const {
        zfd_segment* s = nullptr;
        EXPECT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &s, nullptr), ZFD_OK);
        return SegmentPtr{s};
    }
};

TEST(Claim, OneHolderAtATimeAcrossHandles) {
    Named n("handles");
    SegmentPtr a = n.open();
    SegmentPtr b = n.open();
    ASSERT_TRUE(n.owner && a && b);
    EXPECT_EQ(zfd_segment_claim(a.get(), ZFD_CLAIM_EXPORT), ZFD_OK);
    EXPECT_EQ(zfd_segment_claim(a.get(), ZFD_CLAIM_EXPORT), ZFD_OK);  // again: still ours
    EXPECT_EQ(zfd_segment_claim(b.get(), ZFD_CLAIM_EXPORT), ZFD_E_EXISTS);
    EXPECT_EQ(zfd_segment_claim(n.owner.get(), ZFD_CLAIM_EXPORT), ZFD_E_EXISTS);
    EXPECT_EQ(zfd_segment_claim(b.get(), 1), ZFD_OK);  // roles are independent
    EXPECT_EQ(zfd_segment_release_claim(b.get(), ZFD_CLAIM_EXPORT), ZFD_E_NOT_FOUND);
    EXPECT_EQ(zfd_segment_release_claim(a.get(), ZFD_CLAIM_EXPORT), ZFD_OK);
    EXPECT_EQ(zfd_segment_claim(b.get(), ZFD_CLAIM_EXPORT), ZFD_OK);
}

TEST(Claim, ClosingTheHandleGivesItBackEvenWhileItsReadersLive) {
    Named n("close");
    SegmentPtr a = n.open();
    SegmentPtr b = n.open();
    ASSERT_TRUE(a && b);
    ReaderPtr reader = make_reader(a.get());  // keeps a's mapping alive
    ASSERT_EQ(zfd_segment_claim(a.get(), ZFD_CLAIM_EXPORT), ZFD_OK);
    a.reset();
    EXPECT_EQ(zfd_segment_claim(b.get(), ZFD_CLAIM_EXPORT), ZFD_OK);
}

TEST(Claim, TheDeathOfTheHoldingProcessGivesItBack) {
    Named n("death");
    ASSERT_TRUE(n.owner);
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        zfd_segment* s = nullptr;
        if (zfd_segment_open(n.name.c_str(), nullptr, 0, &s, nullptr) != ZFD_OK) _exit(2);
        const char c = zfd_segment_claim(s, 5) == ZFD_OK ? 'y' : 'n';
        if (::write(ready[1], &c, 1) != 1) _exit(3);
        ::pause();  // killed while holding the claim
        _exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(c, 'y');
    SegmentPtr mine = n.open();
    EXPECT_EQ(zfd_segment_claim(mine.get(), 5), ZFD_E_EXISTS);
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_EQ(zfd_segment_claim(mine.get(), 5), ZFD_OK);
}

TEST(Claim, BadArgumentsAndInMemorySegments) {
    SegmentPtr mem = make_segment(2, 8);
    ASSERT_TRUE(mem);
    EXPECT_EQ(zfd_segment_claim(mem.get(), 0), ZFD_E_UNSUPPORTED);
    EXPECT_EQ(zfd_segment_release_claim(mem.get(), 0), ZFD_E_NOT_FOUND);
    EXPECT_EQ(zfd_segment_claim(nullptr, 0), ZFD_E_INVAL);
    EXPECT_EQ(zfd_segment_release_claim(nullptr, 0), ZFD_E_INVAL);
    Named n("args");
    EXPECT_EQ(zfd_segment_claim(n.owner.get(), ZFD_CLAIM_ROLES), ZFD_E_INVAL);
    EXPECT_EQ(zfd_segment_release_claim(n.owner.get(), UINT32_MAX), ZFD_E_INVAL);
}

}  // namespace
