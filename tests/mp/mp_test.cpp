// mp_test.cpp — multi-process behaviour of named segments, with real
// processes: this driver forks and execs zfd_worker ($ZFD_WORKER) and talks
// to it over pipes. Covers cross-process wake-up, reader death and reaping,
// writer death and stale-segment replacement, permissions, name squatting,
// corrupted headers, a full /dev/shm and the read-only payload mapping.
#include "mp_util.hpp"

#include <sys/mman.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace {

using namespace mp;

constexpr int32_t kGone = ZFD_E_PEER_GONE;

void publish_values(zfd_segment* seg, uint64_t first, uint64_t count) {
    for (uint64_t v = first; v < first + count; ++v) {
        const int32_t rc = zfd_publish(seg, &v, sizeof v, nullptr);
        ASSERT_EQ(rc, ZFD_OK) << "publish value " << v << ": " << rc_text(rc);
    }
}

uint64_t bit(int64_t index) { return uint64_t{1} << index; }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ===========================================================================
// 2. Cross-process wake-up
// ===========================================================================

TEST_F(MpTest, ReaderBlockedInWaitIsWokenByACommitFromAnotherProcess) {
    SegmentPtr seg = create_named(name_, 8, 64);
    ASSERT_TRUE(seg);
    Child& reader = spawn({"reader-ctl", "name=" + name_});
    ASSERT_EQ(ifield(reader.expect("ATTACHED"), "rc"), ZFD_OK) << reader.transcript();

    ASSERT_TRUE(reader.send("wait 10000"));  // a 10 s timeout
    ::usleep(100 * 1000);
    // Still asleep: nothing committed yet.
    EXPECT_FALSE(reader.read_line(0).has_value()) << reader.transcript();

    const auto published = Clock::now();
    const uint64_t value = 7;
    ASSERT_EQ(zfd_publish(seg.get(), &value, sizeof value, nullptr), ZFD_OK);
    const std::string waited = reader.expect("WAITED", 5000);
    const int64_t driver_ms = ms_since(published);
    ASSERT_FALSE(waited.empty());
    EXPECT_EQ(ifield(waited, "rc"), ZFD_OK) << waited;
    const int64_t us = ifield(waited, "us");
    EXPECT_LT(us, 2'000'000) << "not woken by the commit: " << waited;
    EXPECT_LT(driver_ms, 2000) << "wake-up took " << driver_ms << " ms after the commit";
    std::printf("[ info ] reader slept %lld us; answer %lld ms after the commit\n",
                static_cast<long long>(us), static_cast<long long>(driver_ms));

    const std::string took = reader.ask("trytake", "TRY");
    EXPECT_EQ(ifield(took, "rc"), ZFD_OK) << took;
    EXPECT_EQ(ufield(took, "value"), 7u) << took;
    EXPECT_EQ(reader.ask("quit", "BYE"), "BYE");
    EXPECT_TRUE(reader.finish());
}

// ===========================================================================
// 3. Reader death: backpressure, then reaping frees everything
// ===========================================================================

TEST_F(MpTest, KilledReaderHoldingSamplesIsReapedAndItsSlotsAreFreedButALiveOneIsNot) {
    constexpr uint32_t kSlots = 8;
    SegmentPtr seg = create_named(name_, kSlots, 64);
    ASSERT_TRUE(seg);
    Child& live = spawn({"reader-ctl", "name=" + name_});
    Child& doomed = spawn({"reader-ctl", "name=" + name_});
    const std::string live_att = live.expect("ATTACHED");
    const std::string doomed_att = doomed.expect("ATTACHED");
    ASSERT_EQ(ifield(live_att, "rc"), ZFD_OK) << live.transcript();
    ASSERT_EQ(ifield(doomed_att, "rc"), ZFD_OK) << doomed.transcript();
    const int64_t live_idx = ifield(live_att, "idx");
    const int64_t doomed_idx = ifield(doomed_att, "idx");
    ASSERT_NE(live_idx, doomed_idx);
    ASSERT_EQ(info_of(seg.get()).active_readers, bit(live_idx) | bit(doomed_idx));

    publish_values(seg.get(), 0, kSlots);
    // The doomed reader holds 3 taken samples and has 5 unread; the live
    // one consumed everything.
    const std::string took = doomed.ask("take 3", "TOOK");
    ASSERT_EQ(ifield(took, "n"), 3) << took;
    ASSERT_EQ(ifield(took, "ok"), 1) << took;
    const std::string drained = live.ask("drain", "DRAINED");
    ASSERT_EQ(ifield(drained, "n"), kSlots) << drained;
    ASSERT_EQ(ifield(drained, "ok"), 1) << drained;

    // Backpressure: the ring is full.
    zfd_slot slot = 0;
    EXPECT_EQ(zfd_reserve(seg.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT);

    // Both readers live: nobody is reaped.
    uint32_t reaped = 99;
    ASSERT_EQ(zfd_reap_dead_readers(seg.get(), &reaped), ZFD_OK);
    EXPECT_EQ(reaped, 0u) << "a live reader was reaped";
    EXPECT_EQ(info_of(seg.get()).active_readers, bit(live_idx) | bit(doomed_idx));

    doomed.kill_and_reap();
    ASSERT_EQ(doomed.term_signal(), SIGKILL) << doomed.describe_status();
    EXPECT_EQ(zfd_reserve(seg.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT)
        << "a dead reader's slots must stay pinned until it is reaped";

    reaped = 99;
    ASSERT_EQ(zfd_reap_dead_readers(seg.get(), &reaped), ZFD_OK);
    EXPECT_EQ(reaped, 1u);
    EXPECT_EQ(info_of(seg.get()).active_readers, bit(live_idx))
        << "the dead reader's bit must be cleared and the live one's kept";
    reaped = 99;
    ASSERT_EQ(zfd_reap_dead_readers(seg.get(), &reaped), ZFD_OK);
    EXPECT_EQ(reaped, 0u) << "the live reader was reaped on the second pass";

    // Every slot is free again: slot_count non-blocking publishes succeed.
    publish_values(seg.get(), kSlots, kSlots);
    EXPECT_EQ(zfd_reserve(seg.get(), &slot, nullptr), ZFD_E_NO_FREE_SLOT)
        << "the live reader has not consumed the new samples yet";
    const std::string again = live.ask("drain", "DRAINED");
    EXPECT_EQ(ifield(again, "n"), kSlots) << again;
    EXPECT_EQ(ifield(again, "first"), kSlots) << again;
    EXPECT_EQ(ifield(again, "last"), 2 * kSlots - 1) << again;
    EXPECT_EQ(ifield(again, "ok"), 1) << again;
    publish_values(seg.get(), 2 * kSlots, kSlots);

    EXPECT_EQ(live.ask("quit", "BYE"), "BYE");
    EXPECT_TRUE(live.finish());
    EXPECT_TRUE(live.exited_with(0)) << live.describe_status();
}

// ===========================================================================
// 4. Writer death: readers drain, then PEER_GONE; stale replacement
// ===========================================================================

TEST_F(MpTest, KilledWriterLeavesReadersTheirSamplesThenPeerGoneAndTheNameIsReplaceable) {
    Child& writer = spawn({"writer-ctl", "name=" + name_, "slots=16", "cap=64"});
    ASSERT_EQ(ifield(writer.expect("CREATE"), "rc"), ZFD_OK) << writer.transcript();
    Child& reader = spawn({"reader-ctl", "name=" + name_});
    Child& sleeper = spawn({"reader-ctl", "name=" + name_});
    ASSERT_EQ(ifield(reader.expect("ATTACHED"), "rc"), ZFD_OK) << reader.transcript();
    ASSERT_EQ(ifield(sleeper.expect("ATTACHED"), "rc"), ZFD_OK) << sleeper.transcript();
    ASSERT_EQ(ifield(writer.ask("waitreaders 2 5000", "READERS"), "rc"), ZFD_OK);

    const std::string pub = writer.ask("publish 10", "PUBLISHED");
    ASSERT_EQ(ifield(pub, "n"), 10) << pub;
    ASSERT_EQ(ifield(pub, "rc"), ZFD_OK) << pub;
    // An open loan at the time of death must never reach a reader.
    ASSERT_EQ(ifield(writer.ask("loan", "LOANED"), "rc"), ZFD_OK);

    // The sleeper consumes everything and goes to sleep with a long timeout.
    const std::string sd = sleeper.ask("drain", "DRAINED");
    ASSERT_EQ(ifield(sd, "n"), 10) << sd;
    ASSERT_TRUE(sleeper.send("wait 10000"));
    ::usleep(50 * 1000);

    writer.kill_and_reap();
    const auto killed = Clock::now();
    ASSERT_EQ(writer.term_signal(), SIGKILL) << writer.describe_status();

    {
        SCOPED_TRACE("reader asleep in zfd_reader_wait when the writer died");
        const std::string w = sleeper.expect("WAITED", 5000);
        EXPECT_EQ(ifield(w, "rc"), kGone) << w;
        EXPECT_LT(ms_since(killed), 1000) << w;
    }
    {
        SCOPED_TRACE("reader with unread samples when the writer died");
        const std::string d = reader.ask("drain", "DRAINED");
        EXPECT_EQ(ifield(d, "n"), 10) << d;
        EXPECT_EQ(ifield(d, "first"), 0) << d;
        EXPECT_EQ(ifield(d, "last"), 9) << d;
        EXPECT_EQ(ifield(d, "ok"), 1) << d;
        EXPECT_EQ(ifield(d, "release_rc"), ZFD_OK) << d;
        const int64_t end_rc = ifield(d, "rc");
        EXPECT_TRUE(end_rc == kGone || end_rc == ZFD_E_NO_SAMPLE) << d;
        const std::string g = reader.ask("untilgone 1000", "GONE", 5000);
        EXPECT_EQ(ifield(g, "rc"), kGone) << g;
        EXPECT_EQ(ifield(g, "samples"), 0) << "the unfinished loan was delivered: " << g;
        EXPECT_LT(ms_since(killed), 1000) << "PEER_GONE from zfd_take came too late";
        const std::string t = reader.ask("trytake", "TRY");
        EXPECT_EQ(ifield(t, "rc"), kGone) << t;
        const auto before_wait = Clock::now();
        const std::string w = reader.ask("wait 10000", "WAITED", 5000);
        EXPECT_EQ(ifield(w, "rc"), kGone) << w;
        EXPECT_LT(ifield(w, "us"), 1'000'000) << w;
        EXPECT_LT(ms_since(before_wait), 1000) << w;
        const std::string i = reader.ask("info", "INFO");
        EXPECT_EQ(ifield(i, "rc"), ZFD_OK) << i;
        EXPECT_EQ(ifield(i, "owner_alive"), 0) << i;
    }
    ASSERT_TRUE(path_exists(shm_file(name_))) << "a SIGKILLed owner cannot have unlinked the name";

    {
        SCOPED_TRACE("create without REPLACE_STALE over a dead owner");
        Child& plain = spawn({"writer-ctl", "name=" + name_, "flags=0"});
        const std::string c = plain.expect("CREATE");
        EXPECT_EQ(ifield(c, "rc"), ZFD_E_EXISTS) << c;
        EXPECT_FALSE(field(c, "msg").value_or("").empty()) << c;
        EXPECT_TRUE(plain.finish());
    }
    Child& second = spawn({"writer-ctl", "name=" + name_, "flags=1", "slots=8", "cap=64"});
    {
        SCOPED_TRACE("create with REPLACE_STALE over a dead owner");
        const std::string c = second.expect("CREATE");
        ASSERT_EQ(ifield(c, "rc"), ZFD_OK) << c;
    }
    {
        SCOPED_TRACE("a live owner is never replaced");
        Child& thief = spawn({"writer-ctl", "name=" + name_, "flags=1"});
        const std::string c = thief.expect("CREATE");
        EXPECT_EQ(ifield(c, "rc"), ZFD_E_EXISTS) << c;
        EXPECT_TRUE(thief.finish());
        Child& plain = spawn({"writer-ctl", "name=" + name_, "flags=0"});
        EXPECT_EQ(ifield(plain.expect("CREATE"), "rc"), ZFD_E_EXISTS);
        EXPECT_TRUE(plain.finish());
        const std::string i = second.ask("info", "INFO");
        EXPECT_EQ(ifield(i, "owner_alive"), 1) << i;
    }
    {
        SCOPED_TRACE("a fresh reader receives the new writer's samples");
        Child& fresh = spawn({"reader-ctl", "name=" + name_});
        ASSERT_EQ(ifield(fresh.expect("ATTACHED"), "rc"), ZFD_OK) << fresh.transcript();
        ASSERT_EQ(ifield(second.ask("waitreaders 1 5000", "READERS"), "rc"), ZFD_OK);
        const std::string p = second.ask("publish 3", "PUBLISHED");
        ASSERT_EQ(ifield(p, "rc"), ZFD_OK) << p;
        const std::string t = fresh.ask("take 3", "TOOK");
        EXPECT_EQ(ifield(t, "n"), 3) << t;
        EXPECT_EQ(ifield(t, "first"), 0) << t;
        EXPECT_EQ(ifield(t, "last"), 2) << t;
        EXPECT_EQ(ifield(t, "ok"), 1) << t;
        EXPECT_EQ(ifield(fresh.ask("release", "RELEASED"), "rc"), ZFD_OK);
        const std::string i = fresh.ask("info", "INFO");
        EXPECT_EQ(ifield(i, "owner_alive"), 1) << i;
        // The old reader still sees its own (dead) segment.
        const std::string old = reader.ask("trytake", "TRY");
        EXPECT_EQ(ifield(old, "rc"), kGone) << old;
        EXPECT_EQ(fresh.ask("quit", "BYE"), "BYE");
        EXPECT_TRUE(fresh.finish());
    }
    EXPECT_EQ(second.ask("quit", "BYE"), "BYE");
    EXPECT_TRUE(second.finish());
    EXPECT_FALSE(path_exists(shm_file(name_))) << "closing the owner unlinks the name";
    EXPECT_EQ(reader.ask("quit", "BYE"), "BYE");
    EXPECT_EQ(sleeper.ask("quit", "BYE"), "BYE");
}

// ===========================================================================
// 5. Permissions
// ===========================================================================

TEST_F(MpTest, ModeIsExactlyTheConfiguredOneUnderAnyUmask) {
    struct Case {
        const char* mode;  // nullptr = default
        const char* umask;
        mode_t expected;
    };
    const Case cases[] = {
        {nullptr, "077", 0600}, {nullptr, "022", 0600}, {nullptr, "000", 0600},
        {"0640", "077", 0640},  {"0640", "022", 0640},  {"0660", "077", 0660},
        {"0660", "022", 0660},  {"0604", "077", 0604},
    };
    int n = 0;
    for (const Case& c : cases) {
        const std::string name = make_name("-" + std::to_string(n++));
        SCOPED_TRACE(std::string("mode ") + (c.mode ? c.mode : "default") + " umask " + c.umask);
        std::vector<std::string> args{"writer-ctl", "name=" + name, std::string("umask=") + c.umask};
        if (c.mode) args.push_back(std::string("mode=") + c.mode);
        Child& w = spawn(args);
        const std::string created = w.expect("CREATE");
        ASSERT_EQ(ifield(created, "rc"), ZFD_OK) << created;
        struct stat st {};
        ASSERT_EQ(::lstat(shm_file(name).c_str(), &st), 0) << std::strerror(errno);
        EXPECT_TRUE(S_ISREG(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, c.expected) << std::oct << (st.st_mode & 07777);
        EXPECT_EQ(st.st_uid, ::geteuid());
        EXPECT_EQ(w.ask("quit", "BYE"), "BYE");
        EXPECT_TRUE(w.finish());
        EXPECT_FALSE(path_exists(shm_file(name)));
    }
}

TEST_F(MpTest, ProcessOfAnotherUidIsRefused) {
    if (::geteuid() != 0) {
        std::printf("[ SKIPPED ] needs root to switch a worker to uid 65534\n");
        GTEST_SKIP() << "needs root to switch a worker to uid 65534";
    }
    for (uint32_t mode : {0600u, 0640u}) {
        SCOPED_TRACE("mode 0" + std::to_string((mode >> 6) & 7) + std::to_string((mode >> 3) & 7) +
                     std::to_string(mode & 7));
        const std::string name = make_name("-" + std::to_string(mode));
        SegmentPtr seg = create_named(name, 4, 64, mode);
        ASSERT_TRUE(seg);
        Child& other = spawn({"open", "name=" + name, "uid=65534", "gid=65534"});
        const std::string o = other.expect("OPEN");
        EXPECT_EQ(ifield(o, "euid"), 65534) << o;
        EXPECT_EQ(ifield(o, "rc"), ZFD_E_PERMISSION) << o;
        EXPECT_EQ(ifield(o, "code"), ZFD_E_PERMISSION) << o;
        EXPECT_FALSE(field(o, "msg").value_or("").empty()) << o;
        EXPECT_TRUE(other.finish());
        EXPECT_TRUE(other.exited_with(0)) << other.describe_status();
        // The owner's own uid still gets in.
        Child& same = spawn({"open", "name=" + name});
        EXPECT_EQ(ifield(same.expect("OPEN"), "rc"), ZFD_OK) << same.transcript();
        EXPECT_TRUE(same.finish());
    }
}

// ===========================================================================
// 6. Name squatting
// ===========================================================================

TEST_F(MpTest, SymlinkPlantedAtTheNameIsRefusedAndItsTargetUntouched) {
    const std::string target = "/tmp/zfd-" + name_ + "-target";
    const std::string precious = "precious contents\n";
    {
        std::ofstream f(target, std::ios::binary | std::ios::trunc);
        f << precious;
    }
    ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
    struct stat before {};
    ASSERT_EQ(::stat(target.c_str(), &before), 0);
    const std::string link = shm_file(name_);
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << std::strerror(errno);

    for (uint32_t flags : {0u, static_cast<uint32_t>(ZFD_SEGMENT_REPLACE_STALE)}) {
        SCOPED_TRACE("create flags " + std::to_string(flags));
        zfd_segment_options opts;
        zfd_segment_options_init(&opts);
        opts.slot_count = 4;
        opts.slot_capacity = 64;
        opts.flags = flags;
        zfd_error err = make_error();
        zfd_segment* seg = nullptr;
        const int32_t rc = zfd_segment_create(name_.c_str(), &opts, &seg, &err);
        EXPECT_TRUE(rc == ZFD_E_EXISTS || rc == ZFD_E_PERMISSION) << rc_text(rc) << " " << err.message;
        EXPECT_EQ(err.code, rc);
        EXPECT_NE(err.message[0], '\0');
        if (rc == ZFD_OK) zfd_segment_close(seg);
    }
    {
        zfd_error err = make_error();
        zfd_segment* seg = nullptr;
        const int32_t rc = zfd_segment_open(name_.c_str(), nullptr, 0, &seg, &err);
        EXPECT_EQ(rc, ZFD_E_PERMISSION) << rc_text(rc) << " " << err.message;
        EXPECT_NE(err.message[0], '\0');
        if (rc == ZFD_OK) zfd_segment_close(seg);
        // The same from another process.
        Child& opener = spawn({"open", "name=" + name_});
        const std::string o = opener.expect("OPEN");
        EXPECT_EQ(ifield(o, "rc"), ZFD_E_PERMISSION) << o;
        EXPECT_TRUE(opener.finish());
    }

    struct stat lst {};
    ASSERT_EQ(::lstat(link.c_str(), &lst), 0);
    EXPECT_TRUE(S_ISLNK(lst.st_mode)) << "the planted symlink was replaced";
    struct stat after {};
    ASSERT_EQ(::stat(target.c_str(), &after), 0);
    EXPECT_EQ(read_file(target), precious) << "the symlink target was written";
    EXPECT_EQ(after.st_size, before.st_size);
    EXPECT_EQ(after.st_mode, before.st_mode) << "the symlink target was chmod-ed";
    EXPECT_EQ(after.st_ino, before.st_ino);
    ::unlink(link.c_str());
    ::unlink(target.c_str());
}

TEST_F(MpTest, ObjectOwnedByAnotherUidIsRefusedByCreateAndOpen) {
    if (::geteuid() != 0) {
        std::printf("[ SKIPPED ] needs root to chown an object to uid 65534\n");
        GTEST_SKIP() << "needs root to chown an object to uid 65534";
    }
    const std::string path = shm_file(name_);
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ASSERT_EQ(::ftruncate(fd, 64 * 1024), 0);
    ASSERT_EQ(::fchown(fd, 65534, 65534), 0) << std::strerror(errno);
    ASSERT_EQ(::fchmod(fd, 0600), 0);
    ::close(fd);
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);

    for (uint32_t flags : {0u, static_cast<uint32_t>(ZFD_SEGMENT_REPLACE_STALE)}) {
        SCOPED_TRACE("create flags " + std::to_string(flags));
        zfd_segment_options opts;
        zfd_segment_options_init(&opts);
        opts.flags = flags;
        zfd_error err = make_error();
        zfd_segment* seg = nullptr;
        const int32_t rc = zfd_segment_create(name_.c_str(), &opts, &seg, &err);
        EXPECT_TRUE(rc == ZFD_E_EXISTS || rc == ZFD_E_PERMISSION) << rc_text(rc) << " " << err.message;
        EXPECT_NE(err.message[0], '\0');
        if (rc == ZFD_OK) zfd_segment_close(seg);
    }
    {
        zfd_error err = make_error();
        zfd_segment* seg = nullptr;
        const int32_t rc = zfd_segment_open(name_.c_str(), nullptr, 0, &seg, &err);
        EXPECT_EQ(rc, ZFD_E_PERMISSION) << rc_text(rc) << " " << err.message;
        EXPECT_NE(err.message[0], '\0');
        if (rc == ZFD_OK) zfd_segment_close(seg);
    }
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0) << "the foreign object was removed";
    EXPECT_EQ(after.st_ino, before.st_ino) << "the foreign object was replaced";
    EXPECT_EQ(after.st_uid, 65534u);
    EXPECT_EQ(after.st_mode, before.st_mode);
    EXPECT_EQ(after.st_size, before.st_size);
}

// ===========================================================================
// 7. Corrupted headers
// ===========================================================================

// Offsets of SegmentHeader fields (src/layout.hpp).
namespace off {
constexpr size_t magic = 0, layout_version = 8, endian_marker = 12, header_size = 16,
                 slot_count = 20, slot_capacity = 24, payload_stride = 32, total_size = 40,
                 log_size = 56, max_readers = 60, readers_offset = 64, slots_offset = 72,
                 log_offset = 80, held_offset = 88, payload_offset = 96, has_type_hash = 112,
                 history = 116, type_hash = 128, held_stride = 144, state = 192;
}  // namespace off

class CorruptHeaderTest : public MpTest {
protected:
    // One zfd_segment_open in a fresh worker process; its OPEN line. The
    // worker must exit normally: a crash fails the test.
    std::string open_in_child(const std::string& name, const std::string& hash_hex) {
        std::vector<std::string> args{"open", "name=" + name};
        if (!hash_hex.empty()) args.push_back("hash=" + hash_hex);
        auto child = std::make_unique<Child>();
        if (!child->start(args)) return "";
        const std::string line = child->expect("OPEN", 15000);
        EXPECT_TRUE(child->finish(10000));
        EXPECT_TRUE(child->exited_with(0)) << "opener " << child->describe_status() << "\n"
                                           << child->transcript();
        return line;
    }
};

std::string hex(const uint8_t* h) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < ZFD_TYPE_HASH_SIZE; ++i) {
        s += digits[h[i] >> 4];
        s += digits[h[i] & 15];
    }
    return s;
}

TEST_F(CorruptHeaderTest, EveryCorruptedHeaderFieldIsRefusedCleanly) {
    const char descriptor[] = "mp.CorruptType{u64 a@0:8}size=8,align=8";
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    ASSERT_EQ(zfd_type_hash(descriptor, sizeof descriptor - 1, hash), ZFD_OK);
    uint8_t other_hash[ZFD_TYPE_HASH_SIZE];
    ASSERT_EQ(zfd_type_hash("mp.Other", 8, other_hash), ZFD_OK);
    const std::string hash_hex = hex(hash);

    Child& owner = spawn({"writer-ctl", "name=" + name_, "slots=8", "cap=64", "hash=" + hash_hex});
    ASSERT_EQ(ifield(owner.expect("CREATE"), "rc"), ZFD_OK) << owner.transcript();

    // Baseline: the intact segment opens, with and without the type check.
    EXPECT_EQ(ifield(open_in_child(name_, ""), "rc"), ZFD_OK);
    EXPECT_EQ(ifield(open_in_child(name_, hash_hex), "rc"), ZFD_OK);
    {
        const std::string o = open_in_child(name_, hex(other_hash));
        EXPECT_EQ(ifield(o, "rc"), ZFD_E_TYPE_MISMATCH) << o;
    }

    const int fd = ::open(shm_file(name_).c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    void* map = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    ASSERT_NE(map, MAP_FAILED);
    auto* base = static_cast<unsigned char*>(map);
    auto get = [&](size_t at, int width) {
        uint64_t v = 0;
        std::memcpy(&v, base + at, static_cast<size_t>(width));
        return v;
    };
    auto put = [&](size_t at, int width, uint64_t v) {
        std::memcpy(base + at, &v, static_cast<size_t>(width));
    };

    const std::set<int64_t> structural{ZFD_E_INCOMPATIBLE, ZFD_E_CORRUPT};
    const std::set<int64_t> mismatch{ZFD_E_TYPE_MISMATCH};
    const std::set<int64_t> corrupt{ZFD_E_CORRUPT, ZFD_E_INCOMPATIBLE};
    const std::set<int64_t> timeout{ZFD_E_TIMEOUT};
    const std::set<int64_t> initialising{ZFD_E_TIMEOUT, ZFD_E_CORRUPT};
    struct Case {
        std::string what;
        size_t at;
        int width;
        uint64_t value;
        std::set<int64_t> accepted;
        bool with_hash;
    };
    std::vector<Case> cases;
    auto field_cases = [&](const char* what, size_t at, int width, bool minus_one = true) {
        const uint64_t orig = get(at, width);
        const uint64_t huge = width == 4 ? 0xFFFFFFFFull : ~0ull;
        cases.push_back({std::string(what) + "=0", at, width, 0, structural, false});
        cases.push_back({std::string(what) + "=huge", at, width, huge, structural, false});
        cases.push_back({std::string(what) + "+1", at, width, orig + 1, structural, false});
        if (minus_one) cases.push_back({std::string(what) + "-1", at, width, orig - 1, structural, false});
    };
    field_cases("magic", off::magic, 8);
    cases.push_back({"magic byte-swapped", off::magic, 8, __builtin_bswap64(get(off::magic, 8)), structural, false});
    field_cases("layout_version", off::layout_version, 4);
    field_cases("endian_marker", off::endian_marker, 4);
    cases.push_back({"endian_marker byte-swapped", off::endian_marker, 4,
                     __builtin_bswap32(static_cast<uint32_t>(get(off::endian_marker, 4))), structural, false});
    field_cases("header_size", off::header_size, 4);
    field_cases("slot_count", off::slot_count, 4);
    // slot_capacity 64 -> 63 keeps a consistent geometry (same 64-byte
    // stride), so only +1 (stride 128) is a contradiction.
    field_cases("slot_capacity", off::slot_capacity, 8, /*minus_one=*/false);
    cases.push_back({"slot_capacity=2^40", off::slot_capacity, 8, uint64_t{1} << 40, structural, false});
    field_cases("payload_stride", off::payload_stride, 8);
    field_cases("total_size", off::total_size, 8);
    cases.push_back({"total_size+4096", off::total_size, 8, get(off::total_size, 8) + 4096, structural, false});
    field_cases("log_size", off::log_size, 4);
    cases.push_back({"log_size*2", off::log_size, 4, get(off::log_size, 4) * 2, structural, false});
    field_cases("max_readers", off::max_readers, 4);
    field_cases("readers_offset", off::readers_offset, 8);
    field_cases("slots_offset", off::slots_offset, 8);
    field_cases("log_offset", off::log_offset, 8);
    field_cases("held_offset", off::held_offset, 8);
    field_cases("payload_offset", off::payload_offset, 8);
    field_cases("held_stride", off::held_stride, 8);
    cases.push_back({"history=slot_count", off::history, 4, get(off::slot_count, 4), corrupt, false});
    cases.push_back({"history=huge", off::history, 4, 0xFFFFFFFFull, corrupt, false});
    cases.push_back({"has_type_hash=2", off::has_type_hash, 4, 2, corrupt, false});
    cases.push_back({"has_type_hash=huge", off::has_type_hash, 4, 0xFFFFFFFFull, corrupt, false});
    cases.push_back({"has_type_hash=0 with an expected hash", off::has_type_hash, 4, 0, mismatch, true});
    cases.push_back({"type_hash[0] flipped", off::type_hash, 1, get(off::type_hash, 1) ^ 0xFF, mismatch, true});
    cases.push_back({"type_hash[15] flipped", off::type_hash + 15, 1, get(off::type_hash + 15, 1) ^ 1, mismatch, true});
    cases.push_back({"type_hash[0..7] zero", off::type_hash, 8, 0, mismatch, true});
    cases.push_back({"state=7", off::state, 4, 7, corrupt, false});
    cases.push_back({"state=3", off::state, 4, 3, corrupt, false});
    cases.push_back({"state=huge", off::state, 4, 0xFFFFFFFFull, corrupt, false});
    cases.push_back({"state=1 (initialising forever)", off::state, 4, 1, timeout, false});
    cases.push_back({"state=0", off::state, 4, 0, initialising, false});

    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        const uint64_t saved = get(c.at, c.width);
        put(c.at, c.width, c.value);
        const std::string o = open_in_child(name_, c.with_hash ? hash_hex : "");
        put(c.at, c.width, saved);
        ASSERT_FALSE(o.empty());
        const int64_t rc = ifield(o, "rc");
        EXPECT_TRUE(c.accepted.count(rc)) << "got " << rc_text(rc) << ": " << o;
        EXPECT_EQ(ifield(o, "code"), rc) << o;
        EXPECT_FALSE(field(o, "msg").value_or("").empty()) << "no message: " << o;
        EXPECT_LT(ifield(o, "ms"), 5000) << "open waited too long: " << o;
        std::printf("[ info ] %-40s -> %s | %s\n", c.what.c_str(), rc_text(rc).c_str(),
                    field(o, "msg").value_or("").c_str());
    }
    ::munmap(map, 4096);

    // Restored: it opens again, and the owner still works.
    EXPECT_EQ(ifield(open_in_child(name_, hash_hex), "rc"), ZFD_OK);
    EXPECT_EQ(ifield(owner.ask("trypublish", "TRYPUBLISH"), "rc"), ZFD_OK);
    EXPECT_EQ(owner.ask("quit", "BYE"), "BYE");
    EXPECT_TRUE(owner.finish());
}

TEST_F(CorruptHeaderTest, TruncatedObjectIsRefusedAndCanStillBeUnlinked) {
    Child& owner = spawn({"writer-ctl", "name=" + name_, "slots=8", "cap=64"});
    ASSERT_EQ(ifield(owner.expect("CREATE"), "rc"), ZFD_OK) << owner.transcript();
    owner.kill_and_reap();  // nobody maps it any more; the name stays
    ASSERT_TRUE(path_exists(shm_file(name_)));
    ASSERT_EQ(::truncate(shm_file(name_).c_str(), 100), 0) << std::strerror(errno);

    // Nobody holds the owner lock: the creator is known dead, so open says
    // so at once instead of waiting for it to finish.
    const std::string o = open_in_child(name_, "");
    const int64_t rc = ifield(o, "rc");
    EXPECT_EQ(rc, ZFD_E_PEER_GONE) << rc_text(rc) << ": " << o;
    EXPECT_FALSE(field(o, "msg").value_or("").empty()) << o;
    EXPECT_LT(ifield(o, "ms"), 500) << o;

    zfd_error err = make_error();
    EXPECT_EQ(zfd_segment_unlink(name_.c_str(), &err), ZFD_OK) << err.message;
    EXPECT_FALSE(path_exists(shm_file(name_)));
}

TEST_F(CorruptHeaderTest, EmptyObjectIsRefusedWithinABoundedTime) {
    const int fd = ::open(shm_file(name_).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ::close(fd);
    const auto t0 = Clock::now();
    const std::string o = open_in_child(name_, "");
    const int64_t rc = ifield(o, "rc");
    EXPECT_EQ(rc, ZFD_E_PEER_GONE) << rc_text(rc) << ": " << o;
    EXPECT_FALSE(field(o, "msg").value_or("").empty()) << o;
    EXPECT_LE(ifield(o, "ms"), 500) << "open of an empty object took too long: " << o;
    EXPECT_LT(ms_since(t0), 5000);
    zfd_error err = make_error();
    EXPECT_EQ(zfd_segment_unlink(name_.c_str(), &err), ZFD_OK) << err.message;
    EXPECT_FALSE(path_exists(shm_file(name_)));
}

TEST_F(CorruptHeaderTest, CreatorKilledWhileInitialisingIsReportedAtOnce) {
    // A full-size object whose creator died before storing the ready state:
    // open must not wait out its 1 s bound for a creator that is gone.
    Child& owner = spawn({"writer-ctl", "name=" + name_, "slots=8", "cap=64"});
    ASSERT_EQ(ifield(owner.expect("CREATE"), "rc"), ZFD_OK) << owner.transcript();
    owner.kill_and_reap();
    const int fd = ::open(shm_file(name_).c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    void* map = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    ASSERT_NE(map, MAP_FAILED);
    const uint32_t initialising = 1;
    std::memcpy(static_cast<unsigned char*>(map) + off::state, &initialising, sizeof initialising);
    ::munmap(map, 4096);

    const std::string o = open_in_child(name_, "");
    EXPECT_EQ(ifield(o, "rc"), ZFD_E_PEER_GONE) << o;
    EXPECT_NE(field(o, "msg").value_or("").find("died"), std::string::npos) << o;
    EXPECT_LT(ifield(o, "ms"), 500) << o;
    zfd_error err = make_error();
    EXPECT_EQ(zfd_segment_unlink(name_.c_str(), &err), ZFD_OK) << err.message;
}

// ===========================================================================
// 8. A full /dev/shm
// ===========================================================================

TEST_F(MpTest, FullDevShmGivesEnospcNotSigbus) {
    if (::geteuid() != 0) {
        std::printf("[ SKIPPED ] needs root for a private mount namespace\n");
        GTEST_SKIP() << "needs root for a private mount namespace";
    }
    Child& w = spawn({"enospc", "name=" + name_});
    ASSERT_TRUE(w.finish(30000)) << w.transcript();
    // Read what it said before judging the exit.
    std::string all;
    while (auto line = w.read_line(100)) all += *line + "\n";
    ASSERT_FALSE(w.signaled()) << "worker died: " << w.describe_status() << "\n" << all;
    if (w.exited_with(77)) {
        std::printf("[ SKIPPED ] %s", all.c_str());
        GTEST_SKIP() << all;
    }
    ASSERT_TRUE(w.exited_with(0)) << w.describe_status() << "\n" << all;
    std::istringstream lines(all);
    std::string line, big, left, small;
    while (std::getline(lines, line)) {
        if (line.rfind("BIG ", 0) == 0) big = line;
        if (line.rfind("BIGLEFT ", 0) == 0) left = line;
        if (line.rfind("SMALL ", 0) == 0) small = line;
    }
    EXPECT_EQ(ifield(big, "rc"), ZFD_E_SYSTEM) << all;
    EXPECT_EQ(ifield(big, "errno"), ENOSPC) << all;
    EXPECT_FALSE(field(big, "msg").value_or("").empty()) << all;
    EXPECT_EQ(ifield(left, "exists"), 0) << "a failed create left its object behind\n" << all;
    EXPECT_EQ(ifield(small, "rc"), ZFD_OK) << all;
    EXPECT_EQ(ifield(small, "io"), ZFD_OK) << all;
}

// ===========================================================================
// 9. Read-only payload mapping for consumers
// ===========================================================================

TEST_F(MpTest, ReaderWritingIntoATakenSampleDiesOfSigsegvAndNobodyElseNotices) {
    constexpr uint32_t kSlots = 8;
    SegmentPtr seg = create_named(name_, kSlots, 64);
    ASSERT_TRUE(seg);
    Child& vandal = spawn({"reader-ctl", "name=" + name_});
    Child& good = spawn({"reader-ctl", "name=" + name_});
    ASSERT_EQ(ifield(vandal.expect("ATTACHED"), "rc"), ZFD_OK) << vandal.transcript();
    ASSERT_EQ(ifield(good.expect("ATTACHED"), "rc"), ZFD_OK) << good.transcript();

    publish_values(seg.get(), 0, 4);
    const std::string took = vandal.ask("take 1", "TOOK");
    ASSERT_EQ(ifield(took, "n"), 1) << took;
    vandal.send("poke");
    vandal.expect("POKING");
    ASSERT_TRUE(vandal.wait(5000)) << vandal.transcript();
    EXPECT_EQ(vandal.term_signal(), SIGSEGV) << vandal.describe_status() << "\n" << vandal.transcript();

    // The other reader and the writer carry on.
    const std::string d = good.ask("drain", "DRAINED");
    EXPECT_EQ(ifield(d, "n"), 4) << d;
    EXPECT_EQ(ifield(d, "first"), 0) << d;
    EXPECT_EQ(ifield(d, "ok"), 1) << d;
    uint32_t reaped = 99;
    ASSERT_EQ(zfd_reap_dead_readers(seg.get(), &reaped), ZFD_OK);
    EXPECT_EQ(reaped, 1u);
    publish_values(seg.get(), 4, kSlots);
    const std::string d2 = good.ask("drain", "DRAINED");
    EXPECT_EQ(ifield(d2, "n"), kSlots) << d2;
    EXPECT_EQ(ifield(d2, "first"), 4) << d2;
    EXPECT_EQ(ifield(d2, "ok"), 1) << d2;
    // Sample 0, the one the vandal wrote to, reached the good reader intact
    // (first=0 and ok=1 above check the values).
    EXPECT_EQ(good.ask("quit", "BYE"), "BYE");
    EXPECT_TRUE(good.finish());
}

// ===========================================================================
// Last: this driver process left nothing in /dev/shm.
// ===========================================================================

TEST(MpZzFinal, NoSharedMemoryObjectsOfThisRunRemain) {
    const auto left = leftover_objects();
    EXPECT_TRUE(left.empty()) << left.size() << " object(s) like /dev/shm/" << (left.empty() ? "" : left.front());
}

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NoLeftoversEnvironment);

}  // namespace
