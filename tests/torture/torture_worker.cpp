// torture_worker.cpp — the processes of the crash-torture suite.
//
// The driver (torture_driver.cpp) forks and execs this program as a writer or
// a reader and kills it at random moments or lets a fault point of the
// test-only library (libzerodds_flatdata_faults.so) kill it. Only the public
// header is used. Output is one line per event, "WORD key=value ...", with
// CLOCK_MONOTONIC timestamps in ns (t=) so the driver can time recovery.
//
//   writer name= epoch= slots= cap= [fault=<point>:<n>] [wait_readers=R]
//          [discard_every=D] [evict_every=E] [evict_age_ms=A] [gens=G]
//          [gen_samples=P] [scribble_every=N] [alarm=s]
//     Creates the segment with ZFD_SEGMENT_REPLACE_STALE and publishes
//     self-checking samples (torture_payload.hpp) as fast as backpressure
//     allows. On ZFD_E_NO_FREE_SLOT it reaps dead readers, evicts slots older
//     than A ms (A >= 0) and waits for a change. gens=0: create, publish P
//     samples, close, repeat forever. scribble_every=N (harness self-test
//     only) damages every N-th sample after publishing it. stdin commands: check, stall, stats,
//     stop (EOF = stop).
//     Lines: READY, REAPED, CHECK, STALL, STATS, ERROR.
//
//   reader name= cap= role=bg|victim|hung [fault=] [hold=h] [reopen_every=M]
//          [copy_pct=C] [wait_ms=W] [seed=] [alarm=s]
//     Opens the name, attaches, takes and verifies every sample; on
//     ZFD_E_PEER_GONE it closes and re-opens the name (a replacement writer
//     makes a new segment). victim: holds h samples (never released),
//     prints ATTACHED / HOLDING. hung: on "hold h" holds h samples and stops
//     reading until "release". stdin commands: stats, stop, hold h, release.
//     Lines: ATTACHED, HOLDING, FIRST, GONE, RELEASED, RESUMED, VIOLATION,
//     STATS, ERROR.
//
//   fill name=
//     Attaches readers until the reader table is full; prints FILL n=.
#include <zerodds/flatdata.h>

#include "torture_payload.hpp"

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using Args = std::map<std::string, std::string>;
using torture::SampleHeader;
using torture::Verdict;

constexpr int64_t kMs = 1'000'000;

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void out(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void out(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vprintf(fmt, ap);
    va_end(ap);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

std::string arg(const Args& a, const char* key, const char* fallback = nullptr) {
    auto it = a.find(key);
    if (it != a.end()) return it->second;
    if (fallback == nullptr) {
        std::fprintf(stderr, "torture_worker: missing argument %s=\n", key);
        std::_Exit(101);
    }
    return fallback;
}

int64_t arg_i64(const Args& a, const char* key, const char* fallback = nullptr) {
    return std::strtoll(arg(a, key, fallback).c_str(), nullptr, 10);
}

zfd_error make_error() {
    zfd_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

zfd_segment_info info_of(const zfd_segment* s) {
    zfd_segment_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (zfd_segment_get_info(s, &info) != ZFD_OK) out("ERROR what=get_info");
    return info;
}

// Non-blocking line reader on stdin.
class Commands {
public:
    // A complete line, waiting at most timeout_ms for input.
    std::optional<std::string> next(int timeout_ms) {
        for (;;) {
            const size_t nl = buf_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            if (eof_) return std::nullopt;
            pollfd p{0, POLLIN, 0};
            const int r = ::poll(&p, 1, timeout_ms);
            if (r <= 0) return std::nullopt;
            char chunk[512];
            const ssize_t n = ::read(0, chunk, sizeof chunk);
            if (n <= 0) {
                eof_ = true;
                return std::nullopt;
            }
            buf_.append(chunk, static_cast<size_t>(n));
            timeout_ms = 0;
        }
    }
    bool eof() const { return eof_ && buf_.find('\n') == std::string::npos; }

private:
    std::string buf_;
    bool eof_ = false;
};

// ===========================================================================
// writer
// ===========================================================================

class Writer {
public:
    explicit Writer(const Args& a)
        : name_(arg(a, "name")),
          epoch_base_(static_cast<uint32_t>(arg_i64(a, "epoch"))),
          slots_(static_cast<uint32_t>(arg_i64(a, "slots", "16"))),
          cap_(static_cast<uint64_t>(arg_i64(a, "cap", "512"))),
          wait_readers_(static_cast<int>(arg_i64(a, "wait_readers", "0"))),
          discard_every_(static_cast<uint64_t>(arg_i64(a, "discard_every", "0"))),
          evict_every_(static_cast<uint64_t>(arg_i64(a, "evict_every", "0"))),
          evict_age_ns_(arg_i64(a, "evict_age_ms", "-1") * kMs),
          gens_(arg_i64(a, "gens", "1")),
          gen_samples_(static_cast<uint64_t>(arg_i64(a, "gen_samples", "0"))),
          scribble_every_(static_cast<uint64_t>(arg_i64(a, "scribble_every", "0"))),
          reap_every_(static_cast<uint64_t>(arg_i64(a, "reap_every", "0"))),
          overwrite_(arg_i64(a, "overwrite", "0") != 0),
          history_(static_cast<uint32_t>(arg_i64(a, "history", "0"))),
          stall_reader_(arg_i64(a, "stall_reader", "0") != 0) {}

    int run() {
        for (int64_t g = 0; !stop_ && (gens_ == 0 || g < gens_); ++g) {
            epoch_ = epoch_base_ + static_cast<uint32_t>(g);
            if (!create()) return 3;
            wait_for_readers();
            counter_ = 0;
            loans_ = 0;
            uint64_t iter = 0;
            while (!stop_) {
                if (gen_samples_ != 0 && counter_ >= gen_samples_) break;
                const bool progressed = publish_one();
                if (!progressed || (++iter & 15) == 0) poll_commands(0);
            }
            if (stall_rd_ != nullptr) zfd_reader_close(stall_rd_);
            stall_rd_ = nullptr;
            zfd_segment_close(seg_);  // graceful: unlinks, readers see PEER_GONE
            seg_ = nullptr;
        }
        out("STATS commits=%" PRIu64 " discards=%" PRIu64 " evicted=%" PRIu64 " reaped=%" PRIu64
            " max_stall_us=%" PRId64 " full=%" PRIu64,
            commits_, discards_, evicted_, reaped_, max_stall_all_ns_ / 1000, full_);
        return 0;
    }

private:
    bool create() {
        zfd_segment_options o;
        zfd_segment_options_init(&o);
        o.slot_count = slots_;
        o.slot_capacity = cap_;
        o.flags = ZFD_SEGMENT_REPLACE_STALE | (overwrite_ ? ZFD_SEGMENT_OVERWRITE_OLDEST : 0u);
        o.history = history_;
        const int64_t deadline = now_ns() + 3000 * kMs;
        for (;;) {
            zfd_error err = make_error();
            const int32_t rc = zfd_segment_create(name_.c_str(), &o, &seg_, &err);
            if (rc == ZFD_OK) break;
            // EXISTS: the previous owner may still be exiting; its lock drops
            // when the kernel has torn the process down.
            if (rc != ZFD_E_EXISTS || now_ns() > deadline) {
                out("ERROR what=create rc=%d msg=%s", rc, err.message);
                return false;
            }
            ::usleep(500);
        }
        if (stall_reader_ && zfd_reader_open(seg_, 0, &stall_rd_) != ZFD_OK) {
            out("ERROR what=stall_reader_open");
        }
        const zfd_segment_info info = info_of(seg_);
        out("READY epoch=%u t=%" PRId64 " id=%" PRIu64, epoch_, now_ns(), info.segment_id);
        return true;
    }

    void wait_for_readers() {
        if (wait_readers_ <= 0) return;
        const int64_t deadline = now_ns() + 3000 * kMs;
        while (!stop_ && now_ns() < deadline) {
            if (__builtin_popcountll(info_of(seg_).active_readers) >= wait_readers_) return;
            poll_commands(0);
            ::usleep(200);
        }
    }

    // One reserve attempt and, on success, one commit or discard. false when
    // the ring was full (the caller checks its commands more often then).
    bool publish_one() {
        zfd_slot slot = 0;
        void* data = nullptr;
        const uint64_t gen = zfd_notify_generation(seg_);
        int32_t rc = zfd_reserve(seg_, &slot, &data);
        if (rc == ZFD_E_NO_FREE_SLOT) {
            ++full_;
            if (!stalled_) {
                stalled_ = true;
                stall_t0_ = now_ns();
            }
            uint32_t n = 0;
            if (zfd_reap_dead_readers(seg_, &n) != ZFD_OK) out("ERROR what=reap");
            if (n != 0) {
                reaped_ += n;
                reap_report_ += n;
            }
            if (evict_age_ns_ >= 0) {
                uint32_t ev = 0;
                if (zfd_evict_stale(seg_, evict_age_ns_, &ev) != ZFD_OK) out("ERROR what=evict");
                evicted_ += ev;
            }
            rc = zfd_reserve(seg_, &slot, &data);
            if (rc == ZFD_E_NO_FREE_SLOT) {
                zfd_wait_for_change(seg_, gen, 1 * kMs);
                return false;
            }
        }
        if (rc != ZFD_OK) {
            out("ERROR what=reserve rc=%d", rc);
            ::usleep(1000);
            return false;
        }
        if (stalled_) {
            const int64_t t = now_ns();
            const int64_t stall = t - stall_t0_;
            if (stall > max_stall_ns_) max_stall_ns_ = stall;
            if (stall > max_stall_all_ns_) max_stall_all_ns_ = stall;
            ++stalls_;
            stalled_ = false;
            if (reap_report_ != 0) {
                out("REAPED n=%" PRIu64 " t=%" PRId64, reap_report_, t);
                reap_report_ = 0;
            }
        }
        ++loans_;
        if (discard_every_ != 0 && loans_ % discard_every_ == 0) {
            rc = zfd_discard(seg_, slot);
            if (rc != ZFD_OK) out("ERROR what=discard rc=%d", rc);
            ++discards_;
            return true;
        }
        const size_t len = torture::make_sample(data, cap_, epoch_, counter_);
        uint64_t seq = 0;
        rc = zfd_commit_in_place(seg_, slot, len, &seq);
        if (rc != ZFD_OK) {
            out("ERROR what=commit rc=%d", rc);
            return true;
        }
        if (seq != counter_) out("ERROR what=seq seq=%" PRIu64 " counter=%" PRIu64, seq, counter_);
        if (scribble_every_ != 0 && counter_ % scribble_every_ == 0) {
            // Harness self-test only: damage a published sample, as a library
            // that reused a slot under a reader would. Readers must flag it.
            auto* last = static_cast<volatile unsigned char*>(data) + (len - 1);
            *last = static_cast<unsigned char>(*last ^ 0x5a);
        }
        ++counter_;
        ++commits_;
        if (reap_every_ != 0 && counter_ % reap_every_ == 0) {
            uint32_t n = 0;
            if (zfd_reap_dead_readers(seg_, &n) != ZFD_OK) out("ERROR what=reap");
            reaped_ += n;
        }
        if (evict_every_ != 0 && counter_ % evict_every_ == 0) {
            uint32_t ev = 0;
            zfd_evict_stale(seg_, 0, &ev);
            evicted_ += ev;
        }
        return true;
    }

    // Leak check: stop publishing, reap, and try to loan every slot while
    // the (live) readers drain. leaked = slots that cannot be loaned in 3 s.
    void check() {
        const int64_t t0 = now_ns();
        std::vector<zfd_slot> loans;
        uint64_t reaped = 0;
        const int64_t deadline = t0 + 3000 * kMs;
        while (loans.size() + std::min<size_t>(history_, counter_) < slots_) {
            uint32_t n = 0;
            zfd_reap_dead_readers(seg_, &n);
            reaped += n;
            const uint64_t gen = zfd_notify_generation(seg_);
            zfd_slot s = 0;
            const int32_t rc = zfd_reserve(seg_, &s, nullptr);
            if (rc == ZFD_OK) {
                loans.push_back(s);
                continue;
            }
            if (rc != ZFD_E_NO_FREE_SLOT) out("ERROR what=check_reserve rc=%d", rc);
            if (now_ns() > deadline) break;
            zfd_wait_for_change(seg_, gen, 1 * kMs);
        }
        const int64_t t_full = now_ns();
        const int readers = __builtin_popcountll(info_of(seg_).active_readers) - (stall_rd_ != nullptr ? 1 : 0);
        // The newest `history` samples stay retained (and the stalled
        // reader's own loanable set is every other slot under the overwrite
        // policy): those are kept, not leaked.
        const size_t kept = std::min<size_t>(history_, counter_);
        const size_t leaked = slots_ - kept > loans.size() ? slots_ - kept - loans.size() : 0;
        out("CHECK reserved=%zu slots=%u leaked=%zu kept=%zu reaped=%" PRIu64 " readers=%d t=%" PRId64
            " us=%" PRId64,
            loans.size(), slots_, leaked, kept, reaped, readers, t_full, (t_full - t0) / 1000);
        for (zfd_slot s : loans) {
            if (zfd_discard(seg_, s) != ZFD_OK) out("ERROR what=check_discard");
        }
        stalled_ = false;
        reaped_ += reaped;
    }

    void poll_commands(int timeout_ms) {
        while (auto line = in_.next(timeout_ms)) {
            timeout_ms = 0;
            if (*line == "check") {
                check();
            } else if (*line == "stall") {
                out("STALL max_us=%" PRId64 " stalls=%" PRIu64 " evicted=%" PRIu64,
                    max_stall_ns_ / 1000, stalls_, evicted_ - evicted_reported_);
                evicted_reported_ = evicted_;
                max_stall_ns_ = 0;
                stalls_ = 0;
            } else if (*line == "stop") {
                stop_ = true;
            } else if (*line == "stats") {
                out("WSTATS commits=%" PRIu64, commits_);
            }
        }
        if (in_.eof()) stop_ = true;
    }

    const std::string name_;
    const uint32_t epoch_base_;
    const uint32_t slots_;
    const uint64_t cap_;
    const int wait_readers_;
    const uint64_t discard_every_;
    const uint64_t evict_every_;
    const int64_t evict_age_ns_;
    const int64_t gens_;
    const uint64_t gen_samples_;
    const uint64_t scribble_every_;
    const uint64_t reap_every_;  // reap dead readers every N commits (they may hold slots)
    const bool overwrite_;
    const uint32_t history_;
    const bool stall_reader_;  // an in-process reader that never reads (overwrite probes)

    Commands in_;
    bool stop_ = false;
    zfd_segment* seg_ = nullptr;
    zfd_reader* stall_rd_ = nullptr;
    uint64_t full_ = 0;  // reserves that found no slot
    uint32_t epoch_ = 0;
    uint64_t counter_ = 0;
    uint64_t loans_ = 0;
    bool stalled_ = false;
    int64_t stall_t0_ = 0;
    int64_t max_stall_ns_ = 0;
    int64_t max_stall_all_ns_ = 0;
    uint64_t stalls_ = 0;
    uint64_t reap_report_ = 0;
    uint64_t evicted_reported_ = 0;
    uint64_t commits_ = 0, discards_ = 0, evicted_ = 0, reaped_ = 0;
};

// ===========================================================================
// reader
// ===========================================================================

class Reader {
public:
    explicit Reader(const Args& a)
        : name_(arg(a, "name")),
          cap_(static_cast<uint64_t>(arg_i64(a, "cap", "512"))),
          role_(arg(a, "role", "bg")),
          hold_(static_cast<size_t>(arg_i64(a, "hold", "0"))),
          reopen_every_(static_cast<uint64_t>(arg_i64(a, "reopen_every", "0"))),
          copy_pct_(static_cast<int>(arg_i64(a, "copy_pct", "0"))),
          latest_pct_(static_cast<int>(arg_i64(a, "latest_pct", "0"))),
          history_(arg_i64(a, "history", "0") != 0),
          hold_ms_(arg_i64(a, "hold_ms", "0")),
          pace_us_(arg_i64(a, "pace_us", "0")),
          wait_ns_(arg_i64(a, "wait_ms", "10") * kMs),
          rng_(static_cast<uint64_t>(arg_i64(a, "seed", "1"))),
          buf_(cap_) {}

    int run() {
        while (!stop_) {
            if (seg_ == nullptr && !open_segment()) {
                poll_commands(1);
                continue;
            }
            if (rd_ == nullptr && !attach()) {
                poll_commands(1);
                continue;
            }
            step();
            if ((++ops_ & 63) == 0) poll_commands(0);
        }
        if (rd_ != nullptr) release_all_held();
        detach_all();
        out("STATS accepted=%" PRIu64 " corrupt_accepted=%" PRIu64 " torn_detected=%" PRIu64
            " evicted_release=%" PRIu64 " dup_or_reorder=%" PRIu64 " gaps=%" PRIu64
            " gap_samples=%" PRIu64 " peer_gone=%" PRIu64 " detached=%" PRIu64 " attaches=%" PRIu64
            " segments=%" PRIu64 " copies=%" PRIu64 " held_checked=%" PRIu64 " held_changed=%" PRIu64
            " history_attaches=%" PRIu64 " history_samples=%" PRIu64 " history_bad=%" PRIu64
            " latest=%" PRIu64,
            accepted_, corrupt_accepted_, torn_detected_, evicted_release_, dup_or_reorder_, gaps_,
            gap_samples_, peer_gone_, detached_, attaches_, segments_, copies_, held_checked_,
            held_changed_, history_attaches_, history_samples_, history_bad_, latest_);
        return 0;
    }

private:
    struct Held {
        zfd_slot token;
        uint64_t seq;
        Verdict verdict;
        SampleHeader hdr;
        const void* data = nullptr;  // re-read at release: a held sample never changes
        size_t len = 0;
        int64_t t = 0;
    };

    bool open_segment() {
        zfd_error err = make_error();
        const int32_t rc = zfd_segment_open(name_.c_str(), nullptr, 0, &seg_, &err);
        if (rc != ZFD_OK) {
            // NOT_FOUND (between writers), PEER_GONE (a creator died while
            // initialising, or the name was replaced during the open),
            // TIMEOUT (a live creator slow to finish); CORRUPT/INCOMPATIBLE
            // must not happen.
            if (rc != ZFD_E_NOT_FOUND && rc != ZFD_E_PEER_GONE && rc != ZFD_E_TIMEOUT) {
                out("ERROR what=open rc=%d msg=%s", rc, err.message);
            }
            seg_ = nullptr;
            return false;
        }
        const uint64_t id = info_of(seg_).segment_id;
        if (id != seg_id_ || segments_ == 0) {
            seg_id_ = id;
            ++segments_;
            seg_epoch_known_ = false;
            have_last_seq_ = false;
            have_last_idx_ = false;
            printed_gone_ = false;
        }
        return true;
    }

    bool attach() {
        const uint64_t before = info_of(seg_).next_sequence;
        const int32_t rc = zfd_reader_open(seg_, history_ ? ZFD_READER_HISTORY : 0u, &rd_);
        if (rc != ZFD_OK) {
            rd_ = nullptr;
            if (rc != ZFD_E_PEER_GONE) out("ERROR what=reader_open rc=%d", rc);
            zfd_segment_close(seg_);
            seg_ = nullptr;
            return false;
        }
        ++attaches_;
        fresh_attach_ = true;
        since_attach_ = 0;
        holding_printed_ = false;
        if (history_) {
            // The history reader gets the retained samples first: the first
            // sequence after this attach lies in [before - h, after - h]
            // (h = the segment's history; the writer commits plain numbers).
            const zfd_segment_info info = info_of(seg_);
            const uint64_t h = info.history;
            hist_lo_ = before > h ? before - h : 0;
            hist_hi_ = info.next_sequence > h ? info.next_sequence - h : 0;
            hist_live_ = info.next_sequence;
            hist_first_pending_ = true;
            have_last_seq_ = false;  // it sees retained samples again: checked per attach
            have_last_idx_ = false;
            ++history_attaches_;
        }
        if (role_ == "victim") {
            out("ATTACHED idx=%u t=%" PRId64, zfd_reader_index(rd_), now_ns());
        }
        return true;
    }

    void detach_all() {
        if (rd_ != nullptr) zfd_reader_close(rd_);
        rd_ = nullptr;
        if (seg_ != nullptr) zfd_segment_close(seg_);
        seg_ = nullptr;
        held_.clear();
    }

    size_t hold_target() const {
        if (role_ == "victim") return hold_;
        if (role_ == "hung") return hung_hold_;
        return 0;
    }

    void step() {
        if (frozen_) {
            poll_commands(10);
            return;
        }
        if (role_ == "holder" && !held_.empty() && now_ns() - held_.front().t >= hold_ms_ * kMs) {
            release_all_held();  // also when nothing new comes (the writer checks slots)
        }
        const bool wants_hold = role_ == "victim" || (role_ == "hung" && hold_pending_);
        if (wants_hold && !holding_printed_ && held_.size() >= hold_target()) {
            on_holding();
            if (frozen_) return;
        }
        const bool holding = wants_hold && held_.size() < hold_target();
        const bool copy = !holding && copy_pct_ > 0 && static_cast<int>(rng_() % 100) < copy_pct_;
        int32_t rc;
        if (copy) {
            size_t len = 0;
            uint64_t seq = 0;
            rc = zfd_take_copy(rd_, buf_.data(), buf_.size(), &len, &seq);
            if (rc == ZFD_OK) {
                ++copies_;
                SampleHeader h{};
                const Verdict v = torture::verify_sample(buf_.data(), len, seq, cap_, &h);
                on_take(seq, v, h);
                // take_copy never returns torn data: a bad sample is accepted corrupt.
                accept(v, h, seq);
                after_sample();
                return;
            }
        } else {
            zfd_slot tok = 0;
            const void* data = nullptr;
            size_t len = 0;
            uint64_t seq = 0;
            const bool latest = latest_pct_ > 0 && static_cast<int>(rng_() % 100) < latest_pct_;
            rc = latest ? zfd_take_latest(rd_, &tok, &data, &len, &seq) : zfd_take(rd_, &tok, &data, &len, &seq);
            if (rc == ZFD_OK) {
                if (latest) ++latest_;
                SampleHeader h{};
                Verdict v = Verdict::bad_len;
                if (len <= buf_.size()) {
                    std::memcpy(buf_.data(), data, len);  // while held
                    v = torture::verify_sample(buf_.data(), len, seq, cap_, &h);
                }
                on_take(seq, v, h);
                Held held{tok, seq, v, h, data, len, now_ns()};
                if (holding || (role_ == "holder" && held_.size() < hold_)) {
                    held_.push_back(held);
                } else {
                    release_one(held);
                }
                if (role_ == "holder" && !held_.empty() && now_ns() - held_.front().t >= hold_ms_ * kMs) {
                    release_all_held();
                }
                if (pace_us_ > 0) ::usleep(static_cast<useconds_t>(pace_us_));
                after_sample();
                return;
            }
        }
        if (rc == ZFD_E_NO_SAMPLE) {
            rc = zfd_reader_wait(rd_, wait_ns_);
            if (rc == ZFD_OK || rc == ZFD_E_TIMEOUT) {
                if (rc == ZFD_E_TIMEOUT) poll_commands(0);
                return;
            }
        }
        if (rc == ZFD_E_PEER_GONE) {
            ++peer_gone_;
            if (seg_epoch_known_ && !printed_gone_) {
                out("GONE epoch=%u t=%" PRId64, seg_epoch_, now_ns());
                printed_gone_ = true;
            }
            release_all_held();
            detach_all();
            return;
        }
        if (rc == ZFD_E_DETACHED) {
            ++detached_;
            out("DETACHED t=%" PRId64, now_ns());
            held_.clear();
            detach_all();
            return;
        }
        out("ERROR what=take rc=%d", rc);
        ::usleep(1000);
    }

    void on_holding() {
        holding_printed_ = true;
        hold_pending_ = false;
        const uint64_t last = held_.empty() ? 0 : held_.back().seq;
        out("HOLDING n=%zu seq=%" PRIu64 " t=%" PRId64, held_.size(), last, now_ns());
        if (role_ == "hung") {
            frozen_ = true;
            gap_ref_ = last;
        }
    }

    void after_sample() {
        ++since_attach_;
        if (reopen_every_ != 0 && since_attach_ >= reopen_every_) {
            // Close with whatever is held or unread: close gives it back.
            zfd_reader_close(rd_);
            rd_ = nullptr;
            held_.clear();
        }
    }

    // Ordering and gap checks at take time (library sequence and payload).
    void on_take(uint64_t seq, Verdict v, const SampleHeader& h) {
        if (history_) {
            if (hist_first_pending_) {
                hist_first_pending_ = false;
                if (seq < hist_lo_ || seq > hist_hi_) {
                    ++history_bad_;
                    out("VIOLATION kind=history_first seq=%" PRIu64 " expected=[%" PRIu64 ",%" PRIu64 "]", seq,
                        hist_lo_, hist_hi_);
                }
            } else if (have_last_seq_ && seq != last_seq_ + 1) {
                // Default policy, no eviction: a history reader misses nothing.
                ++history_bad_;
                out("VIOLATION kind=history_gap seq=%" PRIu64 " last=%" PRIu64, seq, last_seq_);
            }
            if (seq < hist_live_) ++history_samples_;  // committed before the attach
        }
        if (have_last_seq_ && seq <= last_seq_) {
            ++dup_or_reorder_;
            out("VIOLATION kind=seq_not_increasing seq=%" PRIu64 " last=%" PRIu64, seq, last_seq_);
        } else if (have_last_seq_ && !fresh_attach_ && seq > last_seq_ + 1) {
            ++gaps_;
            gap_samples_ += seq - last_seq_ - 1;
        }
        if (awaiting_gap_) {
            awaiting_gap_ = false;
            out("RESUMED gap=%d seq=%" PRIu64 " ref=%" PRIu64, seq > gap_ref_ + 1 ? 1 : 0, seq,
                gap_ref_);
        }
        last_seq_ = seq;
        have_last_seq_ = true;
        fresh_attach_ = false;
        if (v == Verdict::ok) {
            if (have_last_idx_ && h.index <= last_idx_) {
                ++dup_or_reorder_;
                out("VIOLATION kind=index_not_increasing index=%" PRIu64 " last=%" PRIu64, h.index,
                    last_idx_);
            }
            last_idx_ = h.index;
            have_last_idx_ = true;
        }
    }

    void release_one(const Held& s) {
        // A held sample is never overwritten (any policy) while it is not
        // evicted: read it again before giving it back.
        bool intact = true;
        if (s.data != nullptr && s.verdict == Verdict::ok && s.len <= buf_.size()) {
            std::memcpy(buf_.data(), s.data, s.len);
            SampleHeader h2{};
            intact = torture::verify_sample(buf_.data(), s.len, s.seq, cap_, &h2) == Verdict::ok &&
                     h2.index == s.hdr.index && h2.epoch == s.hdr.epoch;
        }
        const int32_t rc = zfd_release(rd_, s.token);
        if (s.data != nullptr && rc == ZFD_OK) {
            ++held_checked_;
            if (!intact) {
                ++held_changed_;
                out("VIOLATION kind=held_changed seq=%" PRIu64, s.seq);
            }
        }
        if (rc == ZFD_OK) {
            accept(s.verdict, s.hdr, s.seq);
        } else if (rc == ZFD_E_EVICTED) {
            ++evicted_release_;
            if (s.verdict != Verdict::ok) ++torn_detected_;
        } else if (rc == ZFD_E_DETACHED) {
            ++detached_;
        } else {
            out("ERROR what=release rc=%d", rc);
        }
    }

    // Returns {ok, evicted}.
    std::pair<size_t, size_t> release_all_held() {
        size_t ok = 0, evicted = 0;
        for (const Held& s : held_) {
            const uint64_t before = evicted_release_;
            release_one(s);
            if (evicted_release_ != before) ++evicted; else ++ok;
        }
        held_.clear();
        return {ok, evicted};
    }

    void accept(Verdict v, const SampleHeader& h, uint64_t seq) {
        ++accepted_;
        if (v != Verdict::ok) {
            ++corrupt_accepted_;
            out("VIOLATION kind=corrupt_accepted verdict=%s seq=%" PRIu64 " index=%" PRIu64
                " epoch=%u len=%u",
                torture::verdict_str(v), seq, h.index, h.epoch, h.len);
            return;
        }
        if (!seg_epoch_known_) {
            seg_epoch_known_ = true;
            seg_epoch_ = h.epoch;
            if (have_max_epoch_ && h.epoch < max_epoch_) {
                ++dup_or_reorder_;
                out("VIOLATION kind=epoch_regression epoch=%u max=%u", h.epoch, max_epoch_);
            }
            if (!have_max_epoch_ || h.epoch > max_epoch_) max_epoch_ = h.epoch;
            have_max_epoch_ = true;
            out("FIRST epoch=%u t=%" PRId64, h.epoch, now_ns());
        } else if (h.epoch != seg_epoch_) {
            ++corrupt_accepted_;
            out("VIOLATION kind=foreign_epoch epoch=%u segment_epoch=%u", h.epoch, seg_epoch_);
        }
    }

    void poll_commands(int timeout_ms) {
        while (auto line = in_.next(timeout_ms)) {
            timeout_ms = 0;
            if (*line == "stop") {
                stop_ = true;
            } else if (*line == "stats") {
                out("RSTATS accepted=%" PRIu64, accepted_);
            } else if (line->rfind("hold ", 0) == 0) {
                hung_hold_ = static_cast<size_t>(std::strtoul(line->c_str() + 5, nullptr, 10));
                holding_printed_ = false;
                hold_pending_ = true;
            } else if (*line == "release") {
                const size_t n = held_.size();
                const auto [ok, evicted] = rd_ != nullptr ? release_all_held() : std::pair<size_t, size_t>{0, 0};
                out("RELEASED held=%zu evicted=%zu ok=%zu", n, evicted, ok);
                frozen_ = false;
                hung_hold_ = 0;
                awaiting_gap_ = true;
            }
        }
        if (in_.eof()) stop_ = true;
    }

    const std::string name_;
    const uint64_t cap_;
    const std::string role_;
    const size_t hold_;
    const uint64_t reopen_every_;
    const int copy_pct_;
    const int latest_pct_;  // takes that are zfd_take_latest
    const bool history_;    // attach with ZFD_READER_HISTORY
    const int64_t hold_ms_;  // role "holder": hold up to `hold` samples this long
    const int64_t pace_us_;  // sleep after each take (a slow reader)
    const int64_t wait_ns_;
    std::mt19937_64 rng_;
    std::vector<unsigned char> buf_;

    Commands in_;
    bool stop_ = false;
    zfd_segment* seg_ = nullptr;
    zfd_reader* rd_ = nullptr;
    uint64_t ops_ = 0;
    uint64_t seg_id_ = 0;
    bool seg_epoch_known_ = false;
    uint32_t seg_epoch_ = 0;
    bool have_max_epoch_ = false;
    uint32_t max_epoch_ = 0;
    bool have_last_seq_ = false;
    uint64_t last_seq_ = 0;
    bool have_last_idx_ = false;
    uint64_t last_idx_ = 0;
    bool fresh_attach_ = false;
    bool printed_gone_ = false;
    bool holding_printed_ = false;
    uint64_t since_attach_ = 0;
    std::vector<Held> held_;
    size_t hung_hold_ = 0;
    bool hold_pending_ = false;
    bool frozen_ = false;
    bool awaiting_gap_ = false;
    uint64_t gap_ref_ = 0;

    uint64_t accepted_ = 0, corrupt_accepted_ = 0, torn_detected_ = 0, evicted_release_ = 0;
    uint64_t dup_or_reorder_ = 0, gaps_ = 0, gap_samples_ = 0, peer_gone_ = 0, detached_ = 0;
    uint64_t attaches_ = 0, segments_ = 0, copies_ = 0;
    uint64_t held_checked_ = 0, held_changed_ = 0, latest_ = 0;
    uint64_t history_attaches_ = 0, history_samples_ = 0, history_bad_ = 0;
    uint64_t hist_lo_ = 0, hist_hi_ = 0, hist_live_ = 0;
    bool hist_first_pending_ = false;
};

// ===========================================================================
// fill: attach as many readers as the table allows (leaked-entry check)
// ===========================================================================

int fill(const Args& a) {
    const std::string name = arg(a, "name");
    zfd_error err = make_error();
    zfd_segment* seg = nullptr;
    int32_t rc = zfd_segment_open(name.c_str(), nullptr, 0, &seg, &err);
    if (rc != ZFD_OK) {
        out("FILL n=-1 rc=%d msg=%s", rc, err.message);
        return 0;
    }
    std::vector<zfd_reader*> rs;
    for (;;) {
        zfd_reader* r = nullptr;
        rc = zfd_reader_open(seg, 0, &r);
        if (rc != ZFD_OK) break;
        rs.push_back(r);
    }
    out("FILL n=%zu rc=%d", rs.size(), rc);
    for (zfd_reader* r : rs) zfd_reader_close(r);
    zfd_segment_close(seg);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s writer|reader key=value...\n", argv[0]);
        return 2;
    }
    Args a;
    for (int i = 2; i < argc; ++i) {
        const char* eq = std::strchr(argv[i], '=');
        if (eq == nullptr) continue;
        a[std::string(argv[i], static_cast<size_t>(eq - argv[i]))] = eq + 1;
    }
    // Arm the fault point before the first library call (the library reads
    // ZFD_FAULT_POINT once, at the first pass through any point).
    const std::string fault = arg(a, "fault", "");
    if (!fault.empty()) {
        ::setenv("ZFD_FAULT_POINT", fault.c_str(), 1);
    } else {
        ::unsetenv("ZFD_FAULT_POINT");
    }
    ::signal(SIGPIPE, SIG_DFL);  // the driver gone: die
    ::alarm(static_cast<unsigned>(arg_i64(a, "alarm", "900")));  // never outlive a forgotten driver
    const std::string mode = argv[1];
    if (mode == "writer") return Writer(a).run();
    if (mode == "reader") return Reader(a).run();
    if (mode == "fill") return fill(a);
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
}
