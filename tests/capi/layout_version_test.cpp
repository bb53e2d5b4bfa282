// layout_version_test.cpp — the layout version a segment carries and what a
// library does when it meets a different one. This library writes layout 3
// (sample protocol 2); segments of layout 1 (0.1) and 2 (the 0.2 groundwork)
// are refused with ZFD_E_INCOMPATIBLE and a message naming both versions.
// The other direction (an older library opening a layout-3 segment) rests on
// the words checked first: an older library waits for `state` (offset 192)
// to read ready, checks `magic` (offset 0) and then `layout_version`
// (offset 8), and refuses anything but its own version with
// ZFD_E_INCOMPATIBLE; the first test pins those words where every layout
// since 1 keeps them (src/PROTOCOL.md, "Provenance and version"). Public
// header and .so only.
#include "capi_test_util.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace {

using namespace capi_test;

constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 8;
constexpr size_t kStateOffset = 192;
constexpr uint64_t kMagic = 0x3130474553444658ull;  // "XFDSEG01" little-endian

std::string unique_name(const char* what) {
    return "layout-version-" + std::to_string(::getpid()) + "-" + what;
}

// Maps the first page of a named segment read-write, as a peer would.
class RawHeader {
public:
    explicit RawHeader(const std::string& name) {
        fd_ = ::shm_open(("/zfd." + name).c_str(), O_RDWR, 0);
        if (fd_ >= 0) {
            void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
            if (p != MAP_FAILED) base_ = static_cast<unsigned char*>(p);
        }
    }
    ~RawHeader() {
        if (base_ != nullptr) ::munmap(base_, 4096);
        if (fd_ >= 0) ::close(fd_);
    }
    RawHeader(const RawHeader&) = delete;
    RawHeader& operator=(const RawHeader&) = delete;

    bool ok() const { return base_ != nullptr; }
    uint32_t u32(size_t off) const {
        uint32_t v;
        std::memcpy(&v, base_ + off, sizeof v);
        return v;
    }
    uint64_t u64(size_t off) const {
        uint64_t v;
        std::memcpy(&v, base_ + off, sizeof v);
        return v;
    }
    void set_u32(size_t off, uint32_t v) { std::memcpy(base_ + off, &v, sizeof v); }

private:
    int fd_ = -1;
    unsigned char* base_ = nullptr;
};

TEST(LayoutVersion, ANewSegmentCarriesLayout3AtTheOffsetsEveryLayoutKeeps) {
    const std::string name = unique_name("fresh");
    zfd_segment* owner = nullptr;
    ASSERT_EQ(zfd_segment_create(name.c_str(), nullptr, &owner, nullptr), ZFD_OK);
    SegmentPtr owner_ptr{owner};
    RawHeader raw(name);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw.u64(kMagicOffset), kMagic);
    EXPECT_EQ(raw.u32(kVersionOffset), 3u);
    EXPECT_EQ(raw.u32(kStateOffset), 2u);  // ready
}

class OlderLayout : public ::testing::TestWithParam<uint32_t> {};

TEST_P(OlderLayout, IsRefusedWithBothVersionsNamed) {
    const uint32_t older = GetParam();
    const std::string name = unique_name(("v" + std::to_string(older)).c_str());
    zfd_segment* owner = nullptr;
    ASSERT_EQ(zfd_segment_create(name.c_str(), nullptr, &owner, nullptr), ZFD_OK);
    SegmentPtr owner_ptr{owner};
    {
        RawHeader raw(name);
        ASSERT_TRUE(raw.ok());
        raw.set_u32(kVersionOffset, older);
    }
    zfd_error err{};
    err.struct_size = sizeof err;
    zfd_segment* opened = nullptr;
    EXPECT_EQ(zfd_segment_open(name.c_str(), nullptr, 0, &opened, &err), ZFD_E_INCOMPATIBLE);
    EXPECT_EQ(opened, nullptr);
    EXPECT_EQ(err.code, ZFD_E_INCOMPATIBLE);
    const std::string want =
        "layout version " + std::to_string(older) + " (this library reads 3)";
    EXPECT_NE(std::string(err.message).find(want), std::string::npos) << err.message;
}

INSTANTIATE_TEST_SUITE_P(Layouts1And2, OlderLayout, ::testing::Values(1u, 2u));

}  // namespace
