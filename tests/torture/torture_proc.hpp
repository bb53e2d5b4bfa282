// torture_proc.hpp — child-process plumbing for the crash-torture driver.
//
// A Proc is a real process (fork + exec of $ZFD_TORTURE_WORKER) with stdin
// and stdout on pipes and a pidfd, so the driver can poll its output and
// its death together and time a death to the poll wake-up. Every Proc that
// is still running when it goes out of scope is SIGKILLed and reaped; the
// pids are also kept in a table that a SIGTERM/SIGINT handler kills, and
// each child has PR_SET_PDEATHSIG(SIGKILL), so no worker outlives the driver.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace torture {

inline int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// ---------------------------------------------------------------------------
// Emergency cleanup (signal handler): kill every child, unlink the segment.
// ---------------------------------------------------------------------------
inline constexpr int kMaxChildren = 256;
inline volatile pid_t g_children[kMaxChildren];
inline char g_shm_path[512];  // "/dev/shm/zfd.<name>" of the running test

inline void register_child(pid_t pid) {
    for (int i = 0; i < kMaxChildren; ++i) {
        if (g_children[i] == 0) {
            g_children[i] = pid;
            return;
        }
    }
}

inline void unregister_child(pid_t pid) {
    for (int i = 0; i < kMaxChildren; ++i) {
        if (g_children[i] == pid) g_children[i] = 0;
    }
}

extern "C" inline void emergency_cleanup(int sig) {
    for (int i = 0; i < kMaxChildren; ++i) {
        const pid_t p = g_children[i];
        if (p > 0) ::kill(p, SIGKILL);
    }
    if (g_shm_path[0] != '\0') ::unlink(g_shm_path);
    ::_exit(128 + sig);
}

// Lines a worker prints that always mean a failed test.
inline bool is_alarm_line(const std::string& l) {
    return l.rfind("VIOLATION", 0) == 0 || l.rfind("ERROR", 0) == 0 || l.rfind("FATAL", 0) == 0 ||
           l.rfind("DETACHED", 0) == 0;
}

// Value of key=value in a worker line.
inline std::optional<std::string> field(const std::string& line, const std::string& key) {
    const std::string needle = " " + key + "=";
    const size_t at = line.find(needle);
    if (at == std::string::npos) return std::nullopt;
    const size_t from = at + needle.size();
    const size_t end = line.find(' ', from);
    return line.substr(from, end == std::string::npos ? std::string::npos : end - from);
}
inline int64_t ifield(const std::string& line, const std::string& key, int64_t fallback = -1) {
    auto v = field(line, key);
    return v ? std::strtoll(v->c_str(), nullptr, 10) : fallback;
}
inline uint64_t ufield(const std::string& line, const std::string& key, uint64_t fallback = 0) {
    auto v = field(line, key);
    return v ? std::strtoull(v->c_str(), nullptr, 10) : fallback;
}
inline bool starts(const std::string& line, const char* word) {
    const size_t n = std::strlen(word);
    return line.compare(0, n, word) == 0 && (line.size() == n || line[n] == ' ');
}

class Proc {
public:
    explicit Proc(std::string label) : label_(std::move(label)) {}
    Proc(const Proc&) = delete;
    Proc& operator=(const Proc&) = delete;
    ~Proc() {
        kill_reap();
        if (in_ >= 0) ::close(in_);
        if (out_ >= 0) ::close(out_);
        if (pidfd_ >= 0) ::close(pidfd_);
    }

    bool start(const std::vector<std::string>& args) {
        const char* path = std::getenv("ZFD_TORTURE_WORKER");
        if (path == nullptr) {
            std::fprintf(stderr, "ZFD_TORTURE_WORKER is not set\n");
            return false;
        }
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
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) {
            std::fprintf(stderr, "fork: %s\n", std::strerror(errno));
            ::close(to_child[0]);
            ::close(to_child[1]);
            ::close(from_child[0]);
            ::close(from_child[1]);
            return false;
        }
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::signal(SIGPIPE, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::signal(SIGINT, SIG_DFL);
            ::dup2(to_child[0], 0);
            ::dup2(from_child[1], 1);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        register_child(pid);
        ::close(to_child[0]);
        ::close(from_child[1]);
        pid_ = pid;
        in_ = to_child[1];
        out_ = from_child[0];
        ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        start_ns_ = now_ns();
        return true;
    }

    const std::string& label() const { return label_; }
    pid_t pid() const { return pid_; }
    int out_fd() const { return out_; }
    int pidfd() const { return reaped_ ? -1 : pidfd_; }
    int64_t start_ns() const { return start_ns_; }

    bool send(const std::string& line) {
        const std::string l = line + "\n";
        return in_ >= 0 && ::write(in_, l.data(), l.size()) == static_cast<ssize_t>(l.size());
    }

    // Reads whatever is available; complete lines go to `lines`. Alarm
    // lines (VIOLATION, ERROR, ...) are also echoed and counted.
    void read_available() {
        if (out_ < 0) return;
        for (;;) {
            char chunk[8192];
            const ssize_t n = ::read(out_, chunk, sizeof chunk);
            if (n > 0) {
                buf_.append(chunk, static_cast<size_t>(n));
                continue;
            }
            if (n == 0) {
                ::close(out_);
                out_ = -1;
            } else if (errno == EINTR) {
                continue;
            }
            break;
        }
        size_t nl;
        while ((nl = buf_.find('\n')) != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            if (is_alarm_line(line)) {
                ++alarms_;
                std::fprintf(stderr, "!! %s (pid %d): %s\n", label_.c_str(), static_cast<int>(pid_),
                             line.c_str());
            }
            tail_.push_back(line);
            if (tail_.size() > 40) tail_.pop_front();
            lines.push_back(std::move(line));
        }
    }

    // First queued line starting with `word` that satisfies pred; removed.
    std::optional<std::string> take(const char* word,
                                    const std::function<bool(const std::string&)>& pred = {}) {
        for (auto it = lines.begin(); it != lines.end(); ++it) {
            if (starts(*it, word) && (!pred || pred(*it))) {
                std::string l = std::move(*it);
                lines.erase(it);
                return l;
            }
        }
        return std::nullopt;
    }
    bool has(const char* word, const std::function<bool(const std::string&)>& pred = {}) const {
        for (const auto& l : lines) {
            if (starts(l, word) && (!pred || pred(l))) return true;
        }
        return false;
    }
    void drop_if(const std::function<bool(const std::string&)>& pred) {
        for (auto it = lines.begin(); it != lines.end();) {
            it = pred(*it) ? lines.erase(it) : it + 1;
        }
    }

    // waitpid without blocking; records the time the death was seen.
    bool poll_exit() {
        if (reaped_) return true;
        if (pid_ <= 0) return false;
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            status_ = status;
            reaped_ = true;
            exit_ns_ = now_ns();
            unregister_child(pid_);
            read_available();
            return true;
        }
        return false;
    }
    bool exited() { return poll_exit(); }

    // Blocks up to timeout_ms for the process to end.
    bool wait_exit(int timeout_ms) {
        const int64_t deadline = now_ns() + int64_t{timeout_ms} * 1'000'000;
        while (!poll_exit()) {
            const int64_t left = (deadline - now_ns()) / 1'000'000;
            if (left <= 0) return false;
            if (pidfd_ >= 0) {
                pollfd p{pidfd_, POLLIN, 0};
                ::poll(&p, 1, static_cast<int>(left > 50 ? 50 : left));
            } else {
                ::usleep(1000);
            }
        }
        return true;
    }

    void signal(int sig) {
        if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
    }

    // SIGKILL and reap (bounded); the exit is recorded as killed by us.
    void kill_reap() {
        if (pid_ <= 0 || reaped_) return;
        killed_by_us_ = true;
        ::kill(pid_, SIGKILL);
        if (!wait_exit(10000)) {
            std::fprintf(stderr, "!! %s (pid %d) did not die within 10 s of SIGKILL\n", label_.c_str(),
                         static_cast<int>(pid_));
        }
    }

    bool reaped() const { return reaped_; }
    bool killed_by_us() const { return killed_by_us_; }
    int64_t exit_ns() const { return exit_ns_; }
    int alarms() const { return alarms_; }
    bool died_of_sigkill() const { return reaped_ && WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL; }
    bool exited_zero() const { return reaped_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }
    std::string describe() const {
        if (!reaped_) return "running";
        if (WIFEXITED(status_)) return "exit " + std::to_string(WEXITSTATUS(status_));
        if (WIFSIGNALED(status_)) return std::string("signal ") + strsignal(WTERMSIG(status_));
        return "status " + std::to_string(status_);
    }
    std::string tail() const {
        std::string s;
        for (const auto& l : tail_) s += "    | " + l + "\n";
        return s;
    }

    std::deque<std::string> lines;

private:
    std::string label_;
    pid_t pid_ = -1;
    int in_ = -1;
    int out_ = -1;
    int pidfd_ = -1;
    bool reaped_ = false;
    bool killed_by_us_ = false;
    int status_ = 0;
    int64_t start_ns_ = 0;
    int64_t exit_ns_ = 0;
    int alarms_ = 0;
    std::string buf_;
    std::deque<std::string> tail_;
};

// Polls the output and the death of every process once (at most timeout_ms).
inline void pump(const std::vector<Proc*>& ps, int timeout_ms) {
    std::vector<pollfd> fds;
    std::vector<Proc*> owner;
    for (Proc* p : ps) {
        if (p == nullptr) continue;
        if (p->out_fd() >= 0) {
            fds.push_back(pollfd{p->out_fd(), POLLIN, 0});
            owner.push_back(p);
        }
        if (p->pidfd() >= 0) {
            fds.push_back(pollfd{p->pidfd(), POLLIN, 0});
            owner.push_back(p);
        }
    }
    if (fds.empty()) {
        if (timeout_ms > 0) ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
        return;
    }
    const int r = ::poll(fds.data(), fds.size(), timeout_ms);
    if (r <= 0) return;
    for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == owner[i]->pidfd()) {
            owner[i]->poll_exit();
        } else {
            owner[i]->read_available();
        }
    }
}

// Pumps until done() or timeout_ms; returns done().
inline bool wait_until(const std::vector<Proc*>& ps, const std::function<bool()>& done, int timeout_ms) {
    const int64_t deadline = now_ns() + int64_t{timeout_ms} * 1'000'000;
    while (!done()) {
        const int64_t left = (deadline - now_ns()) / 1'000'000;
        if (left <= 0) return done();
        pump(ps, static_cast<int>(left > 5 ? 5 : (left < 1 ? 1 : left)));
    }
    return true;
}

// Pumps for `ns` nanoseconds (sub-millisecond waits spin on poll(0)).
inline void pump_for(const std::vector<Proc*>& ps, int64_t ns) {
    const int64_t end = now_ns() + ns;
    for (;;) {
        const int64_t left = end - now_ns();
        if (left <= 0) return;
        pump(ps, left >= 1'000'000 ? static_cast<int>(left / 1'000'000) : 0);
    }
}

}  // namespace torture
