// mp_util.hpp — process plumbing for the multi-process tests.
//
// A Child is a real process: fork + exec of the worker program named by
// $ZFD_WORKER, with its stdin and stdout on pipes. Every read and every wait
// has a deadline; a Child that is still running when it goes out of scope is
// SIGKILLed and reaped, so a broken library fails a test instead of hanging
// the suite. The fixture MpTest gives each test a unique segment name
// ("mp-<pid>-<test>") and removes every name it handed out in TearDown.
#pragma once

#include <zerodds/flatdata.h>

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mp {

using Clock = std::chrono::steady_clock;

inline int64_t ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

inline const char* worker_path() { return std::getenv("ZFD_WORKER"); }

inline std::string shm_file(const std::string& name) { return "/dev/shm/zfd." + name; }

inline bool path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// Prefix of every segment name this driver process hands out.
inline std::string name_prefix() { return "mp-" + std::to_string(::getpid()) + "-"; }

// Entries of /dev/shm that belong to this driver process.
inline std::vector<std::string> leftover_objects() {
    std::vector<std::string> found;
    const std::string prefix = "zfd." + name_prefix();
    if (DIR* d = ::opendir("/dev/shm")) {
        while (dirent* e = ::readdir(d)) {
            if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) found.push_back(e->d_name);
        }
        ::closedir(d);
    }
    return found;
}

// Value of key=value in a worker line; "msg" runs to the end of the line.
inline std::optional<std::string> field(const std::string& line, const std::string& key) {
    const std::string needle = " " + key + "=";
    const size_t at = line.find(needle);
    if (at == std::string::npos) return std::nullopt;
    const size_t from = at + needle.size();
    if (key == "msg") return line.substr(from);
    const size_t end = line.find(' ', from);
    return line.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

// Integer field; a sentinel far from any status code when missing.
inline int64_t ifield(const std::string& line, const std::string& key) {
    auto v = field(line, key);
    if (!v) return INT64_MIN;
    return static_cast<int64_t>(std::strtoll(v->c_str(), nullptr, 0));
}
inline uint64_t ufield(const std::string& line, const std::string& key) {
    auto v = field(line, key);
    if (!v) return UINT64_MAX;
    return std::strtoull(v->c_str(), nullptr, 0);
}

inline std::string rc_text(int64_t rc) {
    return std::to_string(rc) + " (" + zfd_status_str(static_cast<int32_t>(rc)) + ")";
}

class Child {
public:
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        kill_and_reap();
        if (in_ >= 0) ::close(in_);
        if (out_ >= 0) ::close(out_);
    }

    // fork + exec of $ZFD_WORKER with args; false (and a recorded failure)
    // when that is impossible.
    bool start(const std::vector<std::string>& args) {
        const char* path = worker_path();
        if (path == nullptr) {
            ADD_FAILURE() << "ZFD_WORKER is not set";
            return false;
        }
        label_ = args.empty() ? "worker" : args.front();
        std::vector<std::string> all{path};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& s : all) argv.push_back(s.data());
        argv.push_back(nullptr);

        int to_child[2];
        int from_child[2];
        if (::pipe2(to_child, O_CLOEXEC) != 0) return false;
        if (::pipe2(from_child, O_CLOEXEC) != 0) {
            ::close(to_child[0]);
            ::close(to_child[1]);
            return false;
        }
        ::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) {
            ADD_FAILURE() << "fork: " << std::strerror(errno);
            return false;
        }
        if (pid == 0) {
            // Child: async-signal-safe calls only until exec.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::signal(SIGPIPE, SIG_DFL);
            ::dup2(to_child[0], 0);
            ::dup2(from_child[1], 1);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(to_child[0]);
        ::close(from_child[1]);
        pid_ = pid;
        in_ = to_child[1];
        out_ = from_child[0];
        return true;
    }

    pid_t pid() const { return pid_; }
    const std::string& transcript() const { return transcript_; }

    bool send(const std::string& line) {
        const std::string l = line + "\n";
        transcript_ += "> " + line + "\n";
        return in_ >= 0 && ::write(in_, l.data(), l.size()) == static_cast<ssize_t>(l.size());
    }

    // Next stdout line, or nullopt after timeout_ms / EOF.
    std::optional<std::string> read_line(int timeout_ms) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            const size_t nl = buf_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                transcript_ += "< " + line + "\n";
                return line;
            }
            if (out_ < 0) return std::nullopt;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) return std::nullopt;
            pollfd p{out_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(left));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return std::nullopt;
            char chunk[4096];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n <= 0) {
                ::close(out_);
                out_ = -1;
                continue;
            }
            buf_.append(chunk, static_cast<size_t>(n));
        }
    }

    // The next line starting with `word` (other lines are skipped); a
    // recorded failure and "" when none comes within timeout_ms.
    std::string expect(const std::string& word, int timeout_ms = 10000) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            auto line = read_line(static_cast<int>(left > 0 ? left : 0));
            if (!line) {
                ADD_FAILURE() << label_ << " (pid " << pid_ << "): no '" << word << "' line within "
                              << timeout_ms << " ms; transcript:\n"
                              << transcript_;
                return "";
            }
            if (line->compare(0, word.size() + 1, word + " ") == 0 || *line == word) return *line;
        }
    }

    // Send a command and return the answer line starting with `word`.
    std::string ask(const std::string& command, const std::string& word, int timeout_ms = 10000) {
        if (!send(command)) {
            ADD_FAILURE() << label_ << ": cannot send '" << command << "'; transcript:\n" << transcript_;
            return "";
        }
        return expect(word, timeout_ms);
    }

    // waitpid in a poll loop; true when the child ended within timeout_ms.
    bool wait(int timeout_ms) {
        if (reaped_) return true;
        if (pid_ <= 0) return false;
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                status_ = status;
                reaped_ = true;
                return true;
            }
            if (r < 0 && errno != EINTR) return false;
            if (Clock::now() >= deadline) return false;
            ::usleep(2000);
        }
    }

    // Close its stdin (ends interactive loops) and wait for it.
    bool finish(int timeout_ms = 10000) {
        if (in_ >= 0) {
            ::close(in_);
            in_ = -1;
        }
        return wait(timeout_ms);
    }

    // SIGKILL and reap; bounded.
    void kill_and_reap() {
        if (pid_ <= 0 || reaped_) return;
        ::kill(pid_, SIGKILL);
        if (!wait(10000)) ADD_FAILURE() << "pid " << pid_ << " did not die within 10 s of SIGKILL";
    }

    bool reaped() const { return reaped_; }
    int status() const { return status_; }
    bool exited_with(int code) const { return reaped_ && WIFEXITED(status_) && WEXITSTATUS(status_) == code; }
    bool signaled() const { return reaped_ && WIFSIGNALED(status_); }
    int term_signal() const { return signaled() ? WTERMSIG(status_) : 0; }

    std::string describe_status() const {
        if (!reaped_) return "still running";
        if (WIFEXITED(status_)) return "exit " + std::to_string(WEXITSTATUS(status_));
        if (WIFSIGNALED(status_)) return std::string("signal ") + strsignal(WTERMSIG(status_));
        return "status " + std::to_string(status_);
    }

private:
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::string buf_;
    std::string transcript_;
    std::string label_;
};

// Each test gets names derived from "mp-<pid>-<TestName>"; every name handed
// out is unlinked in TearDown and must be gone afterwards.
class MpTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::signal(SIGPIPE, SIG_IGN);  // a dead child's stdin must not kill the driver
        ASSERT_NE(worker_path(), nullptr) << "set ZFD_WORKER to the zfd_worker program";
        ASSERT_EQ(::access(worker_path(), X_OK), 0) << worker_path() << ": " << std::strerror(errno);
        name_ = make_name("");
    }

    void TearDown() override {
        children_.clear();  // SIGKILL and reap whatever is still running
        for (const std::string& n : names_) {
            zfd_error err;
            std::memset(&err, 0, sizeof err);
            err.struct_size = sizeof err;
            const int32_t rc = zfd_segment_unlink(n.c_str(), &err);
            EXPECT_TRUE(rc == ZFD_OK || rc == ZFD_E_NOT_FOUND)
                << "unlink " << n << ": " << rc_text(rc) << " " << err.message;
            if (path_exists(shm_file(n))) ::unlink(shm_file(n).c_str());  // e.g. a planted symlink
            EXPECT_FALSE(path_exists(shm_file(n))) << shm_file(n) << " left behind";
        }
    }

    // A unique segment name for this test; suffix distinguishes several.
    std::string make_name(const std::string& suffix) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string n = name_prefix() + info->name() + suffix;
        names_.push_back(n);
        return n;
    }

    // Start a worker; the returned reference lives until TearDown.
    Child& spawn(const std::vector<std::string>& args) {
        children_.push_back(std::make_unique<Child>());
        Child& c = *children_.back();
        EXPECT_TRUE(c.start(args)) << "cannot start worker";
        return c;
    }

    std::string name_;
    std::vector<std::string> names_;
    std::vector<std::unique_ptr<Child>> children_;
};

struct SegmentCloser {
    void operator()(zfd_segment* s) const { zfd_segment_close(s); }
};
using SegmentPtr = std::unique_ptr<zfd_segment, SegmentCloser>;

inline zfd_error make_error() {
    zfd_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

inline zfd_segment_info info_of(const zfd_segment* s) {
    zfd_segment_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    EXPECT_EQ(zfd_segment_get_info(s, &info), ZFD_OK);
    return info;
}

// A named segment owned by this (driver) process.
inline SegmentPtr create_named(const std::string& name, uint32_t slots, uint64_t cap,
                               uint32_t mode = 0) {
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = slots;
    opts.slot_capacity = cap;
    if (mode != 0) opts.mode = mode;
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    const int32_t rc = zfd_segment_create(name.c_str(), &opts, &seg, &err);
    EXPECT_EQ(rc, ZFD_OK) << "create " << name << ": " << rc_text(rc) << " " << err.message;
    return SegmentPtr(rc == ZFD_OK ? seg : nullptr);
}

// Global check: nothing of this driver process left in /dev/shm.
class NoLeftoversEnvironment : public ::testing::Environment {
public:
    void TearDown() override {
        const auto left = leftover_objects();
        EXPECT_TRUE(left.empty()) << left.size() << " /dev/shm object(s) left, first: "
                                  << (left.empty() ? "" : left.front());
    }
};

}  // namespace mp
