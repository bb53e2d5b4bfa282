// version_status_test.cpp — the version functions and zfd_status_str.
#include "capi_test_util.hpp"

#include <climits>
#include <set>
#include <string>

namespace {

const int32_t kKnownCodes[] = {
    ZFD_OK,           ZFD_E_INVAL,         ZFD_E_NOMEM,          ZFD_E_NO_FREE_SLOT,
    ZFD_E_TOO_LARGE,  ZFD_E_NOT_LOANED,    ZFD_E_NO_SAMPLE,      ZFD_E_TIMEOUT,
    ZFD_E_TYPE_MISMATCH, ZFD_E_INCOMPATIBLE, ZFD_E_CORRUPT,      ZFD_E_EXISTS,
    ZFD_E_NOT_FOUND,  ZFD_E_PERMISSION,    ZFD_E_NO_READER_SLOT, ZFD_E_EVICTED,
    ZFD_E_UNSUPPORTED, ZFD_E_PEER_GONE,    ZFD_E_SYSTEM,         ZFD_E_INTERNAL,
    ZFD_E_DETACHED,
};

TEST(Version, NumberOfTheLibraryEqualsTheHeaderMacro) {
    EXPECT_EQ(zfd_version_number(), static_cast<uint32_t>(ZFD_VERSION_NUMBER));
    EXPECT_EQ(ZFD_VERSION_NUMBER,
              ZFD_VERSION_MAJOR * 10000 + ZFD_VERSION_MINOR * 100 + ZFD_VERSION_PATCH);
}

TEST(Version, StringSpellsTheHeaderMajorMinorPatch) {
    const char* text = zfd_version_string();
    ASSERT_NE(text, nullptr);
    const std::string expected = std::to_string(ZFD_VERSION_MAJOR) + "." +
                                 std::to_string(ZFD_VERSION_MINOR) + "." +
                                 std::to_string(ZFD_VERSION_PATCH);
    const std::string got = text;
    ASSERT_GE(got.size(), expected.size()) << got;
    EXPECT_EQ(got.substr(0, expected.size()), expected) << got;
    if (got.size() > expected.size()) {
        EXPECT_FALSE(got[expected.size()] >= '0' && got[expected.size()] <= '9') << got;
    }
    EXPECT_EQ(zfd_version_string(), text) << "static text, same pointer every call";
}

TEST(StatusCodes, ValuesArePinned) {
    static_assert(ZFD_OK == 0 && ZFD_E_INVAL == -1 && ZFD_E_NOMEM == -2 &&
                  ZFD_E_NO_FREE_SLOT == -3 && ZFD_E_TOO_LARGE == -4 && ZFD_E_NOT_LOANED == -5 &&
                  ZFD_E_NO_SAMPLE == -6 && ZFD_E_TIMEOUT == -7 && ZFD_E_TYPE_MISMATCH == -8 &&
                  ZFD_E_INCOMPATIBLE == -9 && ZFD_E_CORRUPT == -10 && ZFD_E_EXISTS == -11 &&
                  ZFD_E_NOT_FOUND == -12 && ZFD_E_PERMISSION == -13 &&
                  ZFD_E_NO_READER_SLOT == -14 && ZFD_E_EVICTED == -15 &&
                  ZFD_E_UNSUPPORTED == -16 && ZFD_E_PEER_GONE == -17 && ZFD_E_SYSTEM == -18 &&
                  ZFD_E_INTERNAL == -19 && ZFD_E_DETACHED == -20);
    static_assert(ZFD_TYPE_HASH_SIZE == 16 && ZFD_MAX_READERS == 64 && ZFD_WAIT_FOREVER == -1);
    static_assert(ZFD_SEGMENT_REPLACE_STALE == 1u);
    SUCCEED();
}

TEST(StatusStr, EveryKnownCodeHasADistinctNonEmptyText) {
    std::set<std::string> texts;
    for (int32_t code : kKnownCodes) {
        const char* text = zfd_status_str(code);
        ASSERT_NE(text, nullptr) << code;
        EXPECT_GT(std::strlen(text), 0u) << code;
        EXPECT_TRUE(texts.insert(text).second) << "duplicate text for " << code << ": " << text;
    }
    EXPECT_EQ(texts.size(), std::size(kKnownCodes));
}

TEST(StatusStr, KnownCodesAreNotReportedAsUnknown) {
    for (int32_t code : kKnownCodes) {
        const std::string text = zfd_status_str(code);
        EXPECT_EQ(text.find("unknown status"), std::string::npos) << code << ": " << text;
    }
}

TEST(StatusStr, UnknownCodesGiveATextContainingUnknown) {
    const int32_t unknown[] = {5, 1, -21, -999, 1000, INT32_MIN, INT32_MAX};
    for (int32_t code : unknown) {
        const char* text = zfd_status_str(code);
        ASSERT_NE(text, nullptr) << code;
        EXPECT_NE(std::string(text).find("unknown"), std::string::npos) << code << ": " << text;
    }
}

}  // namespace
