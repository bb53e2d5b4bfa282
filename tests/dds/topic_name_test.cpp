// topic_name_test.cpp — segment names <-> DDS topic names
// (zfd_dds_topic_name / zfd_dds_segment_name), and the names a bridge
// refuses to carry.
#include <zerodds/flatdata_dds.h>

#include "topic_name.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

namespace zdds = zerodds::flatdata::dds;

std::string topic(const std::string& name) {
    char out[ZFD_DDS_TOPIC_NAME_MAX];
    size_t len = 0;
    const int32_t rc = zfd_dds_topic_name(name.c_str(), out, sizeof out, &len);
    EXPECT_EQ(rc, ZFD_OK) << name;
    if (rc != ZFD_OK) return {};
    EXPECT_EQ(len, std::string(out).size());
    return out;
}

int32_t segment(const std::string& topic_name, std::string* name) {
    char out[256];
    size_t len = 0;
    const int32_t rc = zfd_dds_segment_name(topic_name.c_str(), out, sizeof out, &len);
    if (rc == ZFD_OK) *name = out;
    return rc;
}

TEST(TopicName, LettersDigitsAndUnderscoreMapUnchanged) {
    EXPECT_EQ(topic("robot_1_pose"), "zfd/robot_1_pose");
    EXPECT_EQ(topic("A"), "zfd/A");
    EXPECT_EQ(topic("9lives"), "zfd/9lives");
}

TEST(TopicName, DotAndDashAreEscapedReversibly) {
    EXPECT_EQ(topic("robot-1.pose"), "zfd/robot/2D1/2Epose");
    EXPECT_EQ(topic("a_2E_b"), "zfd/a_2E_b");  // a literal "_2E_" is not an escape
    EXPECT_EQ(topic("a.b"), "zfd/a/2Eb");
    std::string name;
    ASSERT_EQ(segment("zfd/robot/2D1/2Epose", &name), ZFD_OK);
    EXPECT_EQ(name, "robot-1.pose");
}

TEST(TopicName, EveryValidNameRoundTrips) {
    std::mt19937 rng(7);
    const std::string alphabet = "abcXYZ019_.-";
    for (int i = 0; i < 5000; ++i) {
        std::string n(1 + rng() % 40, 'a');
        for (char& c : n) c = alphabet[rng() % alphabet.size()];
        if (n == "segments") continue;
        std::string back;
        ASSERT_EQ(segment(topic(n), &back), ZFD_OK) << n;
        EXPECT_EQ(back, n);
    }
    const std::string longest(200, '-');
    EXPECT_EQ(topic(longest).size(), 4u + 3 * 200);
    EXPECT_LE(topic(longest).size() + 1, size_t{ZFD_DDS_TOPIC_NAME_MAX});
}

TEST(TopicName, TopicsThatNoNameProducesAreRefused) {
    std::string name;
    for (const char* bad : {"zfd/", "zfd/a/2e", "zfd/a/2", "zfd/a/", "zfd/a/41", "zfd/a/5F",
                            "zfd/a/2Fb", "zfd/a/00", "other/a", "zfdx", "zfd/segments",
                            "zfd/a/GG"}) {
        EXPECT_EQ(segment(bad, &name), ZFD_E_INVAL) << bad;
    }
}

TEST(TopicName, InvalidAndReservedNamesAreRefused) {
    char out[ZFD_DDS_TOPIC_NAME_MAX];
    for (const char* bad : {"", "a/b", "a b", "segments"}) {
        EXPECT_EQ(zfd_dds_topic_name(bad, out, sizeof out, nullptr), ZFD_E_INVAL) << bad;
    }
    EXPECT_EQ(zfd_dds_topic_name(std::string(201, 'a').c_str(), out, sizeof out, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_dds_topic_name(nullptr, out, sizeof out, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_dds_topic_name("a", nullptr, 8, nullptr), ZFD_E_INVAL);
    EXPECT_EQ(zfd_dds_segment_name(nullptr, out, sizeof out, nullptr), ZFD_E_INVAL);
}

TEST(TopicName, ASmallBufferGivesTooLargeAndTheLength) {
    char out[6];
    size_t len = 0;
    EXPECT_EQ(zfd_dds_topic_name("abc.d", out, sizeof out, &len), ZFD_E_TOO_LARGE);
    EXPECT_EQ(len, 11u);  // "zfd/abc/2Ed"
    char ok[11];
    EXPECT_EQ(zfd_dds_topic_name("abc.d", ok, sizeof ok, &len), ZFD_E_TOO_LARGE);
    char fits[12];
    EXPECT_EQ(zfd_dds_topic_name("abc.d", fits, sizeof fits, &len), ZFD_OK);
    EXPECT_STREQ(fits, "zfd/abc/2Ed");
}

TEST(BridgeableName, NamesWithDotDotOrReservedAreNotCarried) {
    EXPECT_TRUE(zdds::bridgeable_name("a.b-c_d"));
    EXPECT_FALSE(zdds::bridgeable_name(".."));
    EXPECT_FALSE(zdds::bridgeable_name("."));
    EXPECT_FALSE(zdds::bridgeable_name("a..b"));
    EXPECT_FALSE(zdds::bridgeable_name("segments"));
    EXPECT_FALSE(zdds::bridgeable_name("a/b"));
    EXPECT_FALSE(zdds::bridgeable_name(""));
}

}  // namespace
