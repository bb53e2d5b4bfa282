// cmd_pubsub.cpp — zfd pub and zfd sub: a writer fed from stdin (or a
// generator) and a reader printing what arrives.
#include <fmt/format.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common.hpp"
#include "layout.hpp"

namespace zfd_tool {

using core::Reader;
using core::Segment;
using core::Status;

namespace {

constexpr std::int64_t kSliceNs = 100'000'000;  // blocking calls are cut in 100 ms slices

// Reserves a slot, waiting through backpressure. While it waits it reaps
// readers whose process died (their unreleased samples would pin slots
// forever). Returns ok, or timeout when g_stop was set.
Status reserve_blocking(Segment& seg, std::uint64_t* token, void** data) {
    for (;;) {
        const Status st = seg.reserve_wait(kSliceNs, token, data);
        if (st != Status::timeout) return st;
        if (g_stop.load()) return Status::timeout;
        std::uint32_t reaped = 0;
        seg.reap_dead_readers(&reaped);
    }
}

// Sleeps until the absolute CLOCK_MONOTONIC time `at_ns` (or g_stop).
void sleep_until_ns(std::int64_t at_ns) {
    while (!g_stop.load()) {
        const std::int64_t now = mono_ns();
        if (now >= at_ns) return;
        const std::int64_t d = std::min<std::int64_t>(at_ns - now, kSliceNs);
        struct timespec ts {};
        ts.tv_sec = static_cast<time_t>(d / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(d % 1'000'000'000);
        ::nanosleep(&ts, nullptr);
    }
}

bool parse_mode(const std::string& text, std::uint32_t* out) {
    if (text.empty() || text.size() > 5) return false;
    std::uint32_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '7') return false;
        v = v * 8 + static_cast<std::uint32_t>(c - '0');
    }
    if (v > 0777) return false;
    *out = v;
    return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// zfd pub NAME
// ---------------------------------------------------------------------------
int cmd_pub(const PubOptions& o) {
    core::SegmentConfig cfg;
    cfg.slot_count = o.slots;
    cfg.slot_capacity = o.capacity;
    cfg.replace_stale = true;
    cfg.overwrite_oldest = o.overwrite_oldest;
    cfg.history = o.history;
    if (!parse_mode(o.mode, &cfg.mode)) {
        error("pub", fmt::format("--mode '{}' is not an octal permission like 0600", o.mode));
        return kExitUsage;
    }
    if (!o.type_hash.empty()) {
        core::TypeHash h{};
        if (!parse_type_hash(o.type_hash, &h)) {
            error("pub", "--type-hash needs 32 hex digits");
            return kExitUsage;
        }
        cfg.type_hash = h;
    }
    if (o.generated && o.size > o.capacity) {
        error("pub", fmt::format("--size {} exceeds the slot capacity {}", o.size, o.capacity));
        return kExitUsage;
    }

    install_stop_handlers();
    ::signal(SIGPIPE, SIG_IGN);

    std::shared_ptr<Segment> seg;
    core::ErrorDetail d;
    const Status cst = Segment::create(o.name.c_str(), cfg, &seg, &d);
    if (cst != Status::ok) {
        error("pub", fmt::format("cannot create segment '{}': {}", o.name, status_text(cst, &d)));
        return kExitError;
    }
    if (!o.quiet) {
        fmt::print(stderr, "zfd pub: segment {} ready ({} slots x {} bytes, pid {})\n", o.name,
                   o.slots, o.capacity, ::getpid());
    }

    // Optionally wait until subscribers are attached (they only see samples
    // committed after they attach).
    if (o.wait_readers > 0) {
        const std::int64_t deadline =
            o.wait_readers_timeout_ms < 0 ? -1 : mono_ns() + o.wait_readers_timeout_ms * 1'000'000;
        for (;;) {
            core::SegmentInfo info;
            seg->info(&info);
            if (static_cast<std::uint32_t>(std::popcount(info.active_readers)) >= o.wait_readers)
                break;
            if (g_stop.load()) break;
            if (deadline >= 0 && mono_ns() >= deadline) {
                error("pub", fmt::format("timed out waiting for {} reader(s)", o.wait_readers));
                return kExitError;
            }
            sleep_ms_interruptible(5);
        }
    }

    std::uint64_t published = 0;
    std::uint64_t last_seq = 0;
    int rc = kExitOk;
    const auto limit_reached = [&] { return o.count && published >= *o.count; };

    // Commits `len` bytes already written in the loaned slot.
    auto commit = [&](std::uint64_t token, std::size_t len) -> bool {
        std::uint64_t seq = 0;
        const Status st = seg->commit_in_place(token, len, &seq);
        if (st != Status::ok) {
            error("pub", fmt::format("commit failed: {}", status_name(st)));
            rc = kExitError;
            return false;
        }
        ++published;
        last_seq = seq;
        return true;
    };

    if (o.generated) {
        // An 8-byte counter (native byte order) then filler, at --rate per second.
        const std::int64_t start = mono_ns();
        const double period_ns = o.rate > 0 ? 1e9 / o.rate : 0.0;
        std::uint64_t counter = 0;
        while (!g_stop.load() && !limit_reached()) {
            if (period_ns > 0) {
                sleep_until_ns(start + static_cast<std::int64_t>(
                                           std::llround(period_ns * static_cast<double>(counter))));
                if (g_stop.load()) break;
            }
            std::uint64_t token = 0;
            void* data = nullptr;
            const Status st = reserve_blocking(*seg, &token, &data);
            if (st == Status::timeout) break;  // stopped
            if (st != Status::ok) {
                error("pub", fmt::format("reserve failed: {}", status_name(st)));
                rc = kExitError;
                break;
            }
            auto* bytes = static_cast<unsigned char*>(data);
            const std::size_t n = static_cast<std::size_t>(o.size);
            std::memcpy(bytes, &counter, std::min<std::size_t>(n, sizeof counter));
            if (n > sizeof counter) std::memset(bytes + sizeof counter, '.', n - sizeof counter);
            if (!commit(token, n)) break;
            ++counter;
        }
    } else {
        // One sample per line of stdin, without the newline. A last line
        // without a newline is a sample too.
        std::string pending;
        std::vector<char> buf(64 * 1024);
        bool eof = false;
        std::uint64_t line_no = 0;
        auto publish_line = [&](std::string_view line) -> bool {
            ++line_no;
            if (line.size() > o.capacity) {
                error("pub",
                      fmt::format("line {} is {} bytes; the slot capacity is {} (see --capacity)",
                                  line_no, line.size(), o.capacity));
                rc = kExitError;
                return false;
            }
            std::uint64_t token = 0;
            void* data = nullptr;
            const Status st = reserve_blocking(*seg, &token, &data);
            if (st == Status::timeout) return false;  // stopped
            if (st != Status::ok) {
                error("pub", fmt::format("reserve failed: {}", status_name(st)));
                rc = kExitError;
                return false;
            }
            if (!line.empty()) std::memcpy(data, line.data(), line.size());
            return commit(token, line.size());
        };
        bool go = true;
        while (go && !eof && !g_stop.load() && !limit_reached()) {
            const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                error("pub", fmt::format("reading stdin: {}", std::strerror(errno)));
                rc = kExitError;
                break;
            }
            if (n == 0) {
                eof = true;
                break;
            }
            std::size_t from = 0;
            for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
                if (buf[i] != '\n') continue;
                pending.append(buf.data() + from, i - from);
                from = i + 1;
                if (!publish_line(pending) || limit_reached()) {
                    go = false;
                    break;
                }
                pending.clear();
            }
            if (go) pending.append(buf.data() + from, static_cast<std::size_t>(n) - from);
        }
        if (eof && !pending.empty() && rc == kExitOk && !g_stop.load() && !limit_reached()) {
            publish_line(pending);
        }
    }

    if (!o.quiet) {
        fmt::print(stderr, "zfd pub: published {} sample(s){}; lingering {} ms\n", published,
                   published > 0 ? fmt::format(" (last sequence {})", last_seq) : std::string(),
                   g_stop.load() ? 0 : o.linger_ms);
    }
    if (!g_stop.load() && o.linger_ms > 0) sleep_ms_interruptible(o.linger_ms);
    seg.reset();  // owner close: unlinks the name, readers drain then see PEER_GONE
    return rc;
}

// ---------------------------------------------------------------------------
// zfd sub NAME
// ---------------------------------------------------------------------------
int cmd_sub(const SubOptions& o) {
    std::optional<core::TypeHash> expected;
    if (!o.type_hash.empty()) {
        core::TypeHash h{};
        if (!parse_type_hash(o.type_hash, &h)) {
            error("sub", "--type-hash needs 32 hex digits");
            return kExitUsage;
        }
        expected = h;
    }
    install_stop_handlers();
    ::signal(SIGPIPE, SIG_IGN);

    // --timeout bounds every wait: for the segment (with --follow) and for
    // each next sample. It restarts whenever something arrives.
    const auto deadline_from_now = [&] {
        return o.timeout_ms < 0 ? std::int64_t{-1} : mono_ns() + o.timeout_ms * 1'000'000;
    };
    std::int64_t deadline = deadline_from_now();
    const auto timed_out = [&] { return deadline >= 0 && mono_ns() >= deadline; };
    const auto remaining_slice = [&] {
        if (deadline < 0) return kSliceNs;
        return std::clamp<std::int64_t>(deadline - mono_ns(), 0, kSliceNs);
    };

    std::uint64_t received = 0;
    std::vector<unsigned char> buf;
    bool announced_wait = false;
    std::uint64_t last_segment_id = 0;
    bool have_last = false;

    while (!g_stop.load()) {
        // ---- attach ----
        std::shared_ptr<Segment> seg;
        core::ErrorDetail d;
        Status st = Segment::open(o.name.c_str(), expected ? expected->data() : nullptr, &seg, &d);
        std::unique_ptr<Reader> reader;
        if (st == Status::ok) {
            st = Reader::open(seg, o.history ? core::layout::kReaderFlagHistory : 0, &reader);
        }
        if (st != Status::ok) {
            const bool retry = o.follow && (st == Status::not_found || st == Status::peer_gone ||
                                            st == Status::timeout);
            if (!retry) {
                error("sub",
                      fmt::format("cannot subscribe to '{}': {}", o.name, status_text(st, &d)));
                return kExitError;
            }
            if (!announced_wait && !o.quiet) {
                fmt::print(stderr, "zfd sub: waiting for segment {}\n", o.name);
                announced_wait = true;
            }
            if (timed_out()) {
                error("sub", fmt::format("timed out waiting for segment '{}'", o.name));
                return kExitTimeout;
            }
            sleep_ms_interruptible(std::min<std::int64_t>(
                50, std::max<std::int64_t>(1, remaining_slice() / 1'000'000)));
            continue;
        }
        announced_wait = false;
        core::SegmentInfo info;
        seg->info(&info);
        if (!o.quiet) {
            fmt::print(stderr, "zfd sub: attached to {} as reader {} ({} slots x {} bytes{})\n",
                       o.name, reader->index(), info.slot_count, info.slot_capacity,
                       have_last && info.segment_id != last_segment_id ? ", new segment" : "");
        }
        last_segment_id = info.segment_id;
        have_last = true;
        buf.resize(static_cast<std::size_t>(info.slot_capacity));

        // ---- read ----
        std::optional<std::uint64_t> prev_seq;
        bool gone = false;
        while (!g_stop.load()) {
            if (o.count && received >= *o.count) return kExitOk;
            std::size_t len = 0;
            std::uint64_t seq = 0;
            st = reader->take_copy(buf.data(), buf.size(), &len, &seq);
            if (st == Status::ok) {
                if (prev_seq && seq != *prev_seq + 1 && !o.quiet) {
                    fmt::print(stderr, "zfd sub: gap: {} sample(s) evicted before sequence {}\n",
                               seq - *prev_seq - 1, seq);
                }
                prev_seq = seq;
                ++received;
                deadline = deadline_from_now();
                std::string line;
                if (o.json) {
                    json j;
                    j["seq"] = seq;
                    j["len"] = len;
                    if (o.hex) {
                        j["hex"] = hex_bytes(buf.data(), len);
                    } else {
                        j["text"] = escape_text(buf.data(), len);
                    }
                    line = j.dump();
                } else {
                    line = fmt::format(
                        "{} {}", seq,
                        o.hex ? hex_bytes(buf.data(), len) : escape_text(buf.data(), len));
                }
                line.push_back('\n');
                if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size())
                    return kExitError;
                continue;
            }
            if (std::fflush(stdout) != 0) return kExitError;  // e.g. EPIPE: the reader closes
            if (st == Status::no_sample) {
                if (timed_out()) {
                    error("sub", fmt::format("no sample within {} ms ({} received)", o.timeout_ms,
                                             received));
                    return kExitTimeout;
                }
                const Status w = reader->wait(remaining_slice());
                if (w == Status::ok || w == Status::timeout) continue;
                st = w;
                if (st == Status::no_sample) continue;
            }
            if (st == Status::peer_gone || st == Status::detached) {
                gone = true;
                break;
            }
            error("sub", fmt::format("take failed: {}", status_name(st)));
            return kExitError;
        }
        if (!gone) break;  // stopped by a signal
        if (!o.quiet) {
            fmt::print(stderr, "zfd sub: segment {}: {} ({} received)\n", o.name,
                       st == Status::detached ? "detached by the owner" : "owner gone", received);
        }
        if (!o.follow) return kExitOk;
        reader.reset();
        seg.reset();
        sleep_ms_interruptible(50);
    }
    std::fflush(stdout);
    return kExitOk;
}

}  // namespace zfd_tool
