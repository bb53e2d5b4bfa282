// layout.hpp — the on-memory format of a segment, in one place.
//
// A region is laid out as
//
//   [SegmentHeader][ReaderEntry x 64][SlotControl x slot_count][LogEntry x log_size]
//   (page boundary)[payload x slot_count, each payload_stride bytes]
//
// Everything before the payload area is *control*: atomics that readers write
// (their pending bits, their reader entry). The payload area starts on a page
// boundary so consumer processes can map it read-only. Offsets are computed
// from (slot_count, slot_capacity) by compute_geometry(); an opener recomputes
// them and refuses a header that disagrees, so no offset stored in shared
// memory is ever followed.
//
// Every byte of a mapping is untrusted once other processes share it: code
// reading these structs loads a field once into a local, validates it, and
// uses the local.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zerodds::flatdata::layout {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::uint64_t kMagic = 0x3130474553444658ull;  // "XFDSEG01" little-endian
// 1: library 0.1. 2: library 0.2 (provenance lines, sample labels).
inline constexpr std::uint32_t kLayoutVersion = 2;
inline constexpr std::uint32_t kEndianMarker = 0x01020304u;
inline constexpr std::uint32_t kReaderEntries = 64;

// SegmentHeader::state
inline constexpr std::uint32_t kSegmentInitialising = 1;
inline constexpr std::uint32_t kSegmentReady = 2;

// SegmentHeader::flags: how the segment was created (reported by info).
inline constexpr std::uint32_t kFlagMirror = 1u << 1;  // a bridge's copy of another host's segment
inline constexpr std::uint32_t kKnownFlags = kFlagMirror;

inline constexpr std::size_t kInstanceIdBytes = 16;
inline constexpr std::size_t kOriginSize = 64;

// SegmentHeader::owner_closed
inline constexpr std::uint32_t kOwnerOpen = 0;
inline constexpr std::uint32_t kOwnerClosed = 1;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint64_t>) == 8);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4);

struct alignas(kCacheLine) SegmentHeader {
    // Line 0: identity and geometry, written once before `state` goes ready.
    std::uint64_t magic;
    std::uint32_t layout_version;
    std::uint32_t endian_marker;
    std::uint32_t header_size;  // sizeof(SegmentHeader)
    std::uint32_t slot_count;
    std::uint64_t slot_capacity;
    std::uint64_t payload_stride;
    std::uint64_t total_size;
    std::uint64_t segment_id;
    std::uint32_t log_size;  // power of two >= slot_count
    std::uint32_t max_readers;

    // Line 1: offsets (checked against compute_geometry) and owner identity.
    std::uint64_t readers_offset;
    std::uint64_t slots_offset;
    std::uint64_t log_offset;
    std::uint64_t payload_offset;
    std::int32_t owner_pid;
    std::uint32_t owner_uid;
    std::uint32_t has_type_hash;
    std::uint32_t reserved0;
    std::uint64_t created_ns;
    std::uint64_t reserved3;

    // Line 2: type identity.
    std::uint8_t type_hash[16];
    std::uint8_t reserved1[48];

    // Line 3: lifecycle words.
    alignas(kCacheLine) std::atomic<std::uint32_t> state;  // initialising -> ready (release)
    std::atomic<std::uint32_t> owner_closed;              // set when the owner closes

    // Line 4: writer-hot. Number of commits so far = the next log position.
    // The sequence number a reader sees is the slot's `label`: the position
    // plus `label_offset`, which only a commit with an explicit sequence
    // number moves (a bridge's mirror carries its source's numbers, gaps
    // included, without leaving holes in the log).
    alignas(kCacheLine) std::atomic<std::uint64_t> next_seq;
    std::atomic<std::uint64_t> label_offset;

    // Line 5: bumped by whoever frees a slot (last releasing reader, discard,
    // eviction). notify generation = next_seq + freed.
    alignas(kCacheLine) std::atomic<std::uint64_t> freed;

    // Line 6: read-mostly. The writer loads these on every commit.
    alignas(kCacheLine) std::atomic<std::uint64_t> active_readers;  // bit i = reader i attached
    std::atomic<std::uint32_t> data_waiters;    // readers asleep in reader_wait
    std::atomic<std::uint32_t> space_waiters;   // writers asleep in reserve_wait
    std::atomic<std::uint32_t> change_waiters;  // threads asleep in wait_for_change
    std::atomic<std::uint32_t> reserved2;
    std::atomic<std::uint64_t> membership;  // bumped by every attach and detach

    // Line 7: futex words; only touched when a waiter is counted above.
    // The armed flags say "someone is (about to be) asleep on the current
    // futex value": a waker bumps and wakes only if it clears one, so a burst
    // of commits or releases wakes a sleeper once, not once per event.
    alignas(kCacheLine) std::atomic<std::uint32_t> data_futex;
    std::atomic<std::uint32_t> space_futex;
    std::atomic<std::uint32_t> change_futex;
    std::atomic<std::uint32_t> data_armed;
    std::atomic<std::uint32_t> space_armed;
    std::atomic<std::uint32_t> change_armed;

    // Lines 8-9: provenance, written once before `state` goes ready.
    alignas(kCacheLine) std::uint8_t instance_id[kInstanceIdBytes];  // random; unique to this lifetime
    std::uint8_t mirror_of[kInstanceIdBytes];  // kFlagMirror: the source segment's instance id
    std::uint32_t flags;                      // kFlag*
    std::uint32_t reserved4;
    std::uint8_t reserved5[24];
    char origin[kOriginSize];  // kFlagMirror: where the source lives (text, NUL-terminated)
};

// Reader entry word: (epoch << 2) | state. The epoch moves on every attach and
// detach, so a handle whose entry was detached (or reused) notices.
inline constexpr std::uint64_t kReaderFree = 0;
inline constexpr std::uint64_t kReaderActive = 1;
inline constexpr std::uint64_t kReaderClosing = 2;  // its own close is clearing its bits

struct alignas(kCacheLine) ReaderEntry {
    std::atomic<std::uint64_t> word;
    std::atomic<std::uint64_t> start_seq;  // first sequence this reader may receive
    std::atomic<std::uint64_t> cursor;     // next sequence it will look at (diagnostics)
    std::atomic<std::int32_t> pid;
    std::atomic<std::uint32_t> held;  // samples taken and not released (diagnostics)
};

// Slot state word: (generation << 2) | state. The generation moves on every
// reuse and eviction, so tokens and readers detect a recycled slot.
inline constexpr std::uint64_t kSlotFree = 0;       // never used, discarded or evicted
inline constexpr std::uint64_t kSlotLoaned = 1;     // a writer is filling it
inline constexpr std::uint64_t kSlotCommitted = 2;  // readable; free once pending == 0
inline constexpr std::uint64_t kSlotBusy = 3;       // writer-private step inside commit

constexpr std::uint64_t slot_word(std::uint64_t gen, std::uint64_t state) {
    return (gen << 2) | state;
}
constexpr std::uint64_t word_state(std::uint64_t word) { return word & 3u; }
constexpr std::uint64_t word_gen(std::uint64_t word) { return word >> 2; }

struct alignas(kCacheLine) SlotControl {
    std::atomic<std::uint64_t> state;    // slot_word(gen, state)
    std::atomic<std::uint64_t> pending;  // readers that still have to release it
    std::atomic<std::uint64_t> seq;      // sequence number of the committed sample
    std::atomic<std::uint64_t> len;      // bytes of the committed sample
    std::atomic<std::uint64_t> commit_ns;  // CLOCK_MONOTONIC_COARSE at commit
    std::atomic<std::uint64_t> label;      // the sequence number readers are given (seq + offset)
};

// Commit log: entry (seq % log_size) says which slot holds sample seq.
// tag = seq + 1 once published, 0 while being (re)written.
struct LogEntry {
    std::atomic<std::uint64_t> tag;
    std::atomic<std::uint64_t> slot;
};

static_assert(sizeof(SegmentHeader) == 10 * kCacheLine);
static_assert(offsetof(SegmentHeader, readers_offset) == 64);
static_assert(offsetof(SegmentHeader, type_hash) == 128);
static_assert(offsetof(SegmentHeader, state) == 192);
static_assert(offsetof(SegmentHeader, next_seq) == 256);
static_assert(offsetof(SegmentHeader, freed) == 320);
static_assert(offsetof(SegmentHeader, active_readers) == 384);
static_assert(offsetof(SegmentHeader, membership) == 408);
static_assert(offsetof(SegmentHeader, data_futex) == 448);
static_assert(offsetof(SegmentHeader, data_armed) == 460);
static_assert(offsetof(SegmentHeader, label_offset) == 264);
static_assert(offsetof(SegmentHeader, instance_id) == 512);
static_assert(offsetof(SegmentHeader, mirror_of) == 528);
static_assert(offsetof(SegmentHeader, flags) == 544);
static_assert(offsetof(SegmentHeader, origin) == 576);
static_assert(sizeof(ReaderEntry) == kCacheLine);
static_assert(sizeof(SlotControl) == kCacheLine);
static_assert(offsetof(SlotControl, pending) == 8);
static_assert(offsetof(SlotControl, label) == 40);
static_assert(sizeof(LogEntry) == 16);

struct Geometry {
    std::uint32_t slot_count;
    std::uint32_t log_size;
    std::uint64_t slot_capacity;
    std::uint64_t payload_stride;
    std::uint64_t readers_offset;
    std::uint64_t slots_offset;
    std::uint64_t log_offset;
    std::uint64_t payload_offset;
    std::uint64_t total_size;
};

inline constexpr std::uint64_t kMaxTotalSize = 1ull << 46;  // 64 TiB: far beyond any tmpfs

// Computes the layout for (slot_count, slot_capacity); false when it would
// overflow or exceed kMaxTotalSize.
inline bool compute_geometry(std::uint32_t slot_count, std::uint64_t slot_capacity, Geometry* g) {
    if (slot_count == 0 || slot_capacity == 0) return false;
    if (slot_capacity > kMaxTotalSize) return false;
    std::uint64_t log_size = 1;
    while (log_size < slot_count) log_size <<= 1;
    if (log_size > (1ull << 31)) return false;
    const std::uint64_t stride = (slot_capacity + kCacheLine - 1) & ~std::uint64_t{kCacheLine - 1};
    g->slot_count = slot_count;
    g->log_size = static_cast<std::uint32_t>(log_size);
    g->slot_capacity = slot_capacity;
    g->payload_stride = stride;
    g->readers_offset = sizeof(SegmentHeader);
    g->slots_offset = g->readers_offset + kReaderEntries * sizeof(ReaderEntry);
    g->log_offset = g->slots_offset + std::uint64_t{slot_count} * sizeof(SlotControl);
    const std::uint64_t control_end = g->log_offset + log_size * sizeof(LogEntry);
    g->payload_offset = (control_end + kPageSize - 1) & ~std::uint64_t{kPageSize - 1};
    if (stride > (kMaxTotalSize - g->payload_offset) / slot_count) return false;
    const std::uint64_t end = g->payload_offset + stride * slot_count;
    g->total_size = (end + kPageSize - 1) & ~std::uint64_t{kPageSize - 1};
    return g->total_size <= kMaxTotalSize;
}

}  // namespace zerodds::flatdata::layout
