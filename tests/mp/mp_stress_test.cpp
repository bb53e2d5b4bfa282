// mp_stress_test.cpp — one writer process, four reader processes, 200,000
// self-checking samples: every reader must receive every sample exactly
// once, in order, with a valid checksum and pattern.
//
// The writer (zfd_worker stress-writer) waits until all four readers are
// attached before its first commit, blocks in zfd_reserve_wait when the ring
// is full, and keeps the segment until every reader has closed. Readers
// (zfd_worker stress-reader) sleep in zfd_reader_wait when there is nothing
// to take, verify each sample and report one RESULT line plus their exit
// status.
#include "mp_util.hpp"

#include <inttypes.h>

namespace {

using namespace mp;

constexpr int kReaders = 4;
constexpr uint64_t kSamples = 200'000;

TEST_F(MpTest, OneWriterFourReaderProcessesMove200000ChecksummedSamplesExactlyOnceInOrder) {
    const std::string n = "n=" + std::to_string(kSamples);
    const auto t0 = Clock::now();
    Child& writer = spawn({"stress-writer", "name=" + name_, n, "readers=" + std::to_string(kReaders),
                           "slots=64", "cap=256", "alarm=300"});
    const std::string created = writer.expect("CREATE");
    ASSERT_EQ(ifield(created, "rc"), ZFD_OK) << created;

    std::vector<Child*> readers;
    for (int i = 0; i < kReaders; ++i) readers.push_back(&spawn({"stress-reader", "name=" + name_, n, "alarm=300"}));
    for (Child* r : readers) {
        const std::string att = r->expect("ATTACHED");
        ASSERT_EQ(ifield(att, "rc"), ZFD_OK) << att << r->transcript();
    }
    ASSERT_EQ(ifield(writer.expect("READERS", 20000), "rc"), ZFD_OK) << writer.transcript();

    // Everything must be done well inside the test timeout.
    constexpr int kBudgetMs = 240'000;
    const std::string sent = writer.expect("SENT", kBudgetMs);
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(ufield(sent, "n"), kSamples) << sent;
    EXPECT_EQ(ifield(sent, "rc"), ZFD_OK) << sent;

    for (int i = 0; i < kReaders; ++i) {
        Child& r = *readers[static_cast<size_t>(i)];
        SCOPED_TRACE("reader " + std::to_string(i) + " pid " + std::to_string(r.pid()));
        const std::string result = r.expect("RESULT", 60000);
        ASSERT_FALSE(result.empty());
        EXPECT_EQ(ufield(result, "received"), kSamples) << result;
        EXPECT_EQ(ufield(result, "last_index"), kSamples - 1) << result;
        EXPECT_EQ(ufield(result, "dups"), 0u) << result;
        EXPECT_EQ(ufield(result, "gaps"), 0u) << result;
        EXPECT_EQ(ufield(result, "bad_sum"), 0u) << result;
        EXPECT_EQ(ufield(result, "bad_len"), 0u) << result;
        EXPECT_EQ(ufield(result, "bad_body"), 0u) << result;
        EXPECT_EQ(ufield(result, "seq_jumps"), 0u) << result;
        EXPECT_EQ(ufield(result, "bad_release"), 0u) << result;
        EXPECT_EQ(ufield(result, "errors"), 0u) << result;
        EXPECT_TRUE(r.wait(10000)) << "reader did not exit";
        EXPECT_TRUE(r.exited_with(0)) << r.describe_status() << "\n" << r.transcript();
        std::printf("[ info ] %s\n", result.c_str());
    }
    const std::string bye = writer.expect("BYE", 30000);
    EXPECT_EQ(ufield(bye, "left"), 0u) << bye;
    EXPECT_TRUE(writer.wait(10000));
    EXPECT_TRUE(writer.exited_with(0)) << writer.describe_status() << "\n" << writer.transcript();
    std::printf("[ info ] %s; whole run %lld ms\n", sent.c_str(), static_cast<long long>(ms_since(t0)));
    EXPECT_FALSE(path_exists(shm_file(name_))) << "closing the owner unlinks the name";
}

TEST(MpZzFinal, NoSharedMemoryObjectsOfThisRunRemain) {
    const auto left = leftover_objects();
    EXPECT_TRUE(left.empty()) << left.size() << " object(s) like /dev/shm/" << (left.empty() ? "" : left.front());
}

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NoLeftoversEnvironment);

}  // namespace
