// segment.hpp — a segment (one region of slots) and the readers attached to it.
//
// Owns: the mapping of one region (heap for in-memory segments, shm_open+mmap
// for named ones), the writer's loans, the reader table, notify and liveness.
// The slot protocol itself is one piece of code for both kinds of region; see
// src/PROTOCOL.md for its states and transitions.
//
// Thread-safety: Segment methods may be called from any thread. A Reader is
// used by one thread at a time. Nothing here throws except std::bad_alloc
// from create/open/Reader::open, which the C facade catches.
#pragma once

#include "status.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace zerodds::flatdata {

inline constexpr std::size_t kTypeHashSize = 16;
inline constexpr std::uint32_t kMaxReaders = 64;
inline constexpr std::uint32_t kMaxSlotCount = 1u << 24;  // token index field width
inline constexpr std::int64_t kWaitForever = -1;

using TypeHash = std::array<std::uint8_t, kTypeHashSize>;
inline constexpr std::size_t kInstanceIdSize = 16;
using InstanceId = std::array<std::uint8_t, kInstanceIdSize>;
inline constexpr std::size_t kOriginCapacity = 64;  // origin text bytes, NUL included

struct SegmentConfig {
    std::uint32_t slot_count = 64;
    std::uint64_t slot_capacity = 1024;
    std::uint32_t mode = 0600;
    bool replace_stale = false;
    // The writer never waits for readers: with no free slot, reserve reuses
    // the oldest committed sample no reader holds (PROTOCOL.md).
    bool overwrite_oldest = false;
    // The newest `history` samples stay readable after every reader released
    // them (< slot_count).
    std::uint32_t history = 0;
    std::optional<TypeHash> type_hash;
    // A bridge's mirror of a segment on another host: the source's instance
    // id and a text saying where it lives (shown by tools; truncated to
    // kOriginCapacity - 1 bytes).
    bool mirror = false;
    InstanceId mirror_of{};
    std::string origin;
};

struct SegmentInfo {
    std::uint32_t slot_count = 0;
    std::uint64_t slot_capacity = 0;
    std::uint64_t slot_stride = 0;
    std::uint64_t total_size = 0;
    std::uint64_t segment_id = 0;
    bool is_named = false;
    bool is_owner = false;
    std::optional<TypeHash> type_hash;
    std::uint64_t active_readers = 0;
    std::int32_t owner_pid = 0;
    bool owner_alive = false;
    std::uint64_t next_sequence = 0;
    bool overwrite_oldest = false;
    std::uint32_t history = 0;
    InstanceId instance_id{};
    bool mirror = false;
    InstanceId mirror_of{};
    std::string origin;
};

class Region;  // region.hpp
class Reader;

class Segment : public std::enable_shared_from_this<Segment> {
public:
    // name == nullptr: in-memory. Otherwise a POSIX segment "zfd.<name>".
    static Status create(const char* name, const SegmentConfig& config,
                         std::shared_ptr<Segment>* out, ErrorDetail* detail);
    static Status open(const char* name, const std::uint8_t* expected_type_hash,
                       std::shared_ptr<Segment>* out, ErrorDetail* detail);
    static Status unlink(const char* name, ErrorDetail* detail);
    // Validates `size` bytes of segment contents in caller memory exactly as
    // open() validates a mapped object, and attaches to them as a consumer
    // (is_named reports false). For tools and fuzzing; the memory must
    // outlive the segment and its readers.
    static Status attach_memory(void* base, std::size_t size, const std::uint8_t* expected_type_hash,
                                std::shared_ptr<Segment>* out, ErrorDetail* detail);
    // Whether the owner of named segment `name` lives (its lock byte is
    // held), without validating the contents: for tools that clean up.
    static Status owner_alive(const char* name, bool* alive);
    // True when name is 1..200 chars of [A-Za-z0-9._-].
    static bool valid_name(const char* name);

    ~Segment();
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

    // Called by the owner handle's close: discards loans, marks the segment
    // closed for readers, unlinks the name. Idempotent.
    void close_owner();

    bool is_owner() const;
    void info(SegmentInfo* out) const;

    // Writer side (owner only: Status::permission otherwise).
    Status reserve(std::uint64_t* token, void** data);
    Status reserve_wait(std::int64_t timeout_ns, std::uint64_t* token, void** data);
    Status slot_data(std::uint64_t token, void** data, std::uint64_t* capacity);
    Status commit_in_place(std::uint64_t token, std::size_t len, std::uint64_t* sequence);
    Status commit(std::uint64_t token, const void* bytes, std::size_t len, std::uint64_t* sequence);
    // commit_in_place under a chosen sequence number, at least next_sequence:
    // the numbers skipped show to readers as a gap. Not concurrent with other
    // commits of the same segment (invalid_argument if `sequence` is already
    // behind; the loan stays open).
    Status commit_with_sequence(std::uint64_t token, std::size_t len, std::uint64_t sequence);
    Status discard(std::uint64_t token);
    Status publish(const void* bytes, std::size_t len, std::uint64_t* sequence);

    // Notify generation: commits, releases, skips, discards, evictions, detaches.
    std::uint64_t notify_generation() const;
    Status wait_for_change(std::uint64_t last_generation, std::int64_t timeout_ns);

    // Exclusive claims on a named segment (any handle): role < kClaimRoles.
    // claim: ok (also when this handle holds it already), exists (another
    // handle or process holds it), unsupported (in-memory segment).
    // release_claim: ok, not_found (this handle does not hold it).
    Status claim(std::uint32_t role);
    Status release_claim(std::uint32_t role);
    void release_all_claims();
    // Whether anyone (this handle included) holds claim `role`.
    bool claim_held(std::uint32_t role) const;

    // Eviction and liveness (owner only).
    Status evict_stale(std::int64_t max_age_ns, std::uint32_t* evicted);
    Status mark_reader_disconnected(std::uint32_t reader_index);
    Status reap_dead_readers(std::uint32_t* reaped);

    struct Impl;
    Impl& impl() { return *impl_; }
    const Impl& impl() const { return *impl_; }

private:
    explicit Segment(std::unique_ptr<Impl> impl);
    // Validates the header of impl's region and binds the views (open and
    // attach_memory share it).
    static Status attach(std::unique_ptr<Impl> impl, const char* name,
                         const std::uint8_t* expected_type_hash, std::shared_ptr<Segment>* out,
                         ErrorDetail* detail);
    std::unique_ptr<Impl> impl_;
};

class Reader {
public:
    // Attaches a reader; it sees samples committed after this call, and with
    // layout::kReaderFlagHistory first the segment's retained ones.
    static Status open(const std::shared_ptr<Segment>& segment, std::uint32_t flags,
                       std::unique_ptr<Reader>* out);
    ~Reader();  // detaches and releases whatever it holds
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    std::uint32_t index() const;
    Status take(std::uint64_t* token, const void** data, std::size_t* len, std::uint64_t* sequence);
    // The newest sample available; everything older not yet taken counts as read.
    Status take_latest(std::uint64_t* token, const void** data, std::size_t* len,
                       std::uint64_t* sequence);
    Status release(std::uint64_t token);
    Status take_copy(void* buf, std::size_t capacity, std::size_t* len, std::uint64_t* sequence);
    Status wait(std::int64_t timeout_ns);

    struct Impl;
    Impl& impl() { return *impl_; }

private:
    explicit Reader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// XXH3-128 of the descriptor bytes, canonical (big-endian) order.
TypeHash type_hash(const void* descriptor, std::size_t len);

}  // namespace zerodds::flatdata
