// layout.hpp — the on-memory format of a segment (layout 3), in one place.
//
// A region is laid out as
//
//   [SegmentHeader][ReaderEntry x 64][SlotControl x slot_count]
//   [Descriptor x log_size][held bitmap x 64]
//   (page boundary)[payload x slot_count, each payload_stride bytes]
//
// Everything before the payload area is *control*. Who writes which word is
// in PROTOCOL.md ("Words"): the writer writes slot controls, descriptors and
// the writer-hot header line; reader i writes only its own ReaderEntry and
// held bitmap i. The payload area starts on a page boundary so consumer
// processes can map it read-only. Offsets are computed from (slot_count,
// slot_capacity) by compute_geometry(); an opener recomputes them and refuses
// a header that disagrees, so no offset stored in shared memory is followed.
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
// 1: library 0.1. 2: the 0.2 groundwork (provenance lines, sample labels).
// 3: library 0.2 (one descriptor per sample, per-reader cursors, policies,
// history). magic, layout_version and state keep their offsets across all
// three, so any of these libraries refuses the others' segments cleanly.
inline constexpr std::uint32_t kLayoutVersion = 3;
inline constexpr std::uint32_t kEndianMarker = 0x01020304u;
inline constexpr std::uint32_t kReaderEntries = 64;

// SegmentHeader::state
inline constexpr std::uint32_t kSegmentInitialising = 1;
inline constexpr std::uint32_t kSegmentReady = 2;

// SegmentHeader::flags: how the segment was created (reported by info). The
// values are those of the public ZFD_SEGMENT_* flags.
inline constexpr std::uint32_t kFlagMirror = 1u << 1;           // a bridge's copy of another host's segment
inline constexpr std::uint32_t kFlagOverwriteOldest = 1u << 2;  // the writer never waits for readers
inline constexpr std::uint32_t kKnownFlags = kFlagMirror | kFlagOverwriteOldest;

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

    // Line 1: offsets (checked against compute_geometry), owner identity,
    // retention.
    std::uint64_t readers_offset;
    std::uint64_t slots_offset;
    std::uint64_t log_offset;
    std::uint64_t held_offset;
    std::uint64_t payload_offset;
    std::int32_t owner_pid;
    std::uint32_t owner_uid;
    std::uint32_t has_type_hash;
    std::uint32_t history;  // newest samples kept readable (< slot_count)
    std::uint64_t created_ns;

    // Line 2: type identity; bytes per reader's held bitmap.
    std::uint8_t type_hash[16];
    std::uint64_t held_stride;
    std::uint8_t reserved1[40];

    // Line 3: lifecycle words (state at offset 192 in every layout).
    alignas(kCacheLine) std::atomic<std::uint32_t> state;  // initialising -> ready (release)
    std::atomic<std::uint32_t> owner_closed;              // set when the owner closes

    // Line 4: writer-hot. Number of commits so far = the next position. The
    // sequence number a reader sees is the sample's label: its position plus
    // `label_offset`, which only a commit with an explicit sequence number
    // moves (a bridge's mirror carries its source's numbers, gaps included,
    // without leaving holes in the log).
    alignas(kCacheLine) std::atomic<std::uint64_t> next_pos;
    std::atomic<std::uint64_t> label_offset;

    // Line 5: bumped by discard, eviction and readers leaving (their
    // progress moves here). notify generation = next_pos + freed + the
    // active readers' progress.
    alignas(kCacheLine) std::atomic<std::uint64_t> freed;

    // Line 6: read-mostly. Commits load the waiter counts, takes load
    // `evictions`; written only on attach/detach, sleeps and evictions.
    alignas(kCacheLine) std::atomic<std::uint64_t> active_readers;  // bit i = reader i attached
    std::atomic<std::uint32_t> data_waiters;    // readers asleep in reader_wait
    std::atomic<std::uint32_t> space_waiters;   // writers asleep in reserve_wait
    std::atomic<std::uint32_t> change_waiters;  // threads asleep in wait_for_change
    std::atomic<std::uint32_t> reserved2;
    std::atomic<std::uint64_t> membership;  // bumped by every attach and detach
    std::atomic<std::uint64_t> evictions;   // bumped before an evicted slot changes state
    std::atomic<std::uint64_t> evict_high;  // 1 + the highest position ever evicted (set before evictions moves)
    // Event-loop descriptors (event_fd.hpp): bit i = reader i's descriptor is
    // armed (it found nothing and waits for a datagram); the owner's space
    // descriptor is armed. Loaded by every commit / release next to the
    // waiter counts (same line); written only when a descriptor arms or fires.
    std::atomic<std::uint64_t> fd_armed;
    std::atomic<std::uint32_t> space_fd_armed;
    std::atomic<std::uint32_t> reserved3;

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
    // The owner's space descriptor: the random part of its socket's name
    // (event_fd.hpp); 0 while it has none.
    std::atomic<std::uint64_t> space_fd_nonce;

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
inline constexpr std::uint64_t kReaderClosing = 2;  // its own close is leaving

// ReaderEntry::flags
inline constexpr std::uint32_t kReaderFlagHistory = 1u << 0;  // attached with ZFD_READER_HISTORY

struct alignas(kCacheLine) ReaderEntry {
    // Line 0: membership, written at attach and detach.
    std::atomic<std::uint64_t> word;
    std::atomic<std::uint64_t> start;  // first position this reader may receive
    std::atomic<std::int32_t> pid;
    std::atomic<std::uint32_t> flags;
    // The reader's event-loop descriptor: the random part of its socket's
    // name (event_fd.hpp); 0 while it has none.
    std::atomic<std::uint64_t> fd_nonce;
    std::uint8_t reserved0[32];

    // Line 1: this reader's progress, written only by the reader; the writer
    // reads it when its cached minimum is not enough (PROTOCOL.md).
    alignas(kCacheLine) std::atomic<std::uint64_t> cursor;  // next position it looks at
    std::atomic<std::uint64_t> released;  // every position below is released or skipped
    std::atomic<std::uint64_t> progress;  // releases + skipped positions (notify generation)
    std::uint8_t reserved1[40];
};

// Slot state word: (generation << 2) | state. The generation moves on every
// reuse and eviction, so tokens and readers detect a recycled slot.
inline constexpr std::uint64_t kSlotFree = 0;       // never used, discarded or evicted
inline constexpr std::uint64_t kSlotLoaned = 1;     // a writer is filling it
inline constexpr std::uint64_t kSlotCommitted = 2;  // readable; reusable per the policy
inline constexpr std::uint64_t kSlotBusy = 3;       // writer-private step (commit, probe, evict)

constexpr std::uint64_t slot_word(std::uint64_t gen, std::uint64_t state) {
    return (gen << 2) | state;
}
constexpr std::uint64_t word_state(std::uint64_t word) { return word & 3u; }
constexpr std::uint64_t word_gen(std::uint64_t word) { return word >> 2; }
// The generation as a descriptor carries it.
constexpr std::uint32_t gen32(std::uint64_t gen) { return static_cast<std::uint32_t>(gen); }

// Written by the writer only. Readers load it to validate a sample that
// could have been reused (PROTOCOL.md, "Take", step 5).
struct alignas(kCacheLine) SlotControl {
    std::atomic<std::uint64_t> state;      // slot_word(gen, state)
    std::atomic<std::uint64_t> pos;        // position of the committed sample
    std::atomic<std::uint64_t> label;      // its sequence number (pos + offset)
    std::atomic<std::uint64_t> len;        // bytes of the committed sample
    std::atomic<std::uint64_t> commit_ns;  // CLOCK_MONOTONIC_COARSE at commit
    std::uint8_t reserved[24];
};

// Descriptor of position p, at log[p % log_size]: one cache line, the line a
// reader spins on. tag = p + 1 once published, 0 while being rewritten.
struct alignas(kCacheLine) Descriptor {
    std::atomic<std::uint64_t> tag;
    std::atomic<std::uint64_t> label;  // the sequence number readers are given
    std::atomic<std::uint64_t> len;
    std::atomic<std::uint32_t> slot;
    std::atomic<std::uint32_t> gen;   // gen32 of the slot at commit
    std::atomic<std::uint32_t> next;  // the slot the writer will try next (a prefetch hint)
    std::uint8_t reserved[28];
};

static_assert(sizeof(SegmentHeader) == 10 * kCacheLine);
static_assert(offsetof(SegmentHeader, layout_version) == 8, "every layout keeps it here");
static_assert(offsetof(SegmentHeader, readers_offset) == 64);
static_assert(offsetof(SegmentHeader, history) == 116);
static_assert(offsetof(SegmentHeader, type_hash) == 128);
static_assert(offsetof(SegmentHeader, held_stride) == 144);
static_assert(offsetof(SegmentHeader, state) == 192, "every layout keeps it here");
static_assert(offsetof(SegmentHeader, next_pos) == 256);
static_assert(offsetof(SegmentHeader, label_offset) == 264);
static_assert(offsetof(SegmentHeader, freed) == 320);
static_assert(offsetof(SegmentHeader, active_readers) == 384);
static_assert(offsetof(SegmentHeader, membership) == 408);
static_assert(offsetof(SegmentHeader, evictions) == 416);
static_assert(offsetof(SegmentHeader, evict_high) == 424);
static_assert(offsetof(SegmentHeader, data_futex) == 448);
static_assert(offsetof(SegmentHeader, data_armed) == 460);
static_assert(offsetof(SegmentHeader, fd_armed) == 432, "same line as the waiter counts");
static_assert(offsetof(SegmentHeader, space_fd_armed) == 440);
static_assert(offsetof(SegmentHeader, space_fd_nonce) == 472);
static_assert(offsetof(SegmentHeader, instance_id) == 512);
static_assert(offsetof(SegmentHeader, mirror_of) == 528);
static_assert(offsetof(SegmentHeader, flags) == 544);
static_assert(offsetof(SegmentHeader, origin) == 576);
static_assert(sizeof(ReaderEntry) == 2 * kCacheLine);
static_assert(offsetof(ReaderEntry, cursor) == kCacheLine);
static_assert(offsetof(ReaderEntry, fd_nonce) == 24);
static_assert(sizeof(SlotControl) == kCacheLine);
static_assert(sizeof(Descriptor) == kCacheLine);
static_assert(offsetof(Descriptor, slot) == 24);
static_assert(offsetof(Descriptor, next) == 32);

struct Geometry {
    std::uint32_t slot_count;
    std::uint32_t log_size;
    std::uint64_t slot_capacity;
    std::uint64_t payload_stride;
    std::uint64_t held_stride;  // bytes per reader bitmap (whole cache lines)
    std::uint64_t readers_offset;
    std::uint64_t slots_offset;
    std::uint64_t log_offset;
    std::uint64_t held_offset;
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
    const std::uint64_t held_words = (std::uint64_t{slot_count} + 63) / 64;
    g->slot_count = slot_count;
    g->log_size = static_cast<std::uint32_t>(log_size);
    g->slot_capacity = slot_capacity;
    g->payload_stride = stride;
    g->held_stride = (held_words * 8 + kCacheLine - 1) & ~std::uint64_t{kCacheLine - 1};
    g->readers_offset = sizeof(SegmentHeader);
    g->slots_offset = g->readers_offset + kReaderEntries * sizeof(ReaderEntry);
    g->log_offset = g->slots_offset + std::uint64_t{slot_count} * sizeof(SlotControl);
    g->held_offset = g->log_offset + log_size * sizeof(Descriptor);
    const std::uint64_t control_end = g->held_offset + kReaderEntries * g->held_stride;
    g->payload_offset = (control_end + kPageSize - 1) & ~std::uint64_t{kPageSize - 1};
    if (stride > (kMaxTotalSize - g->payload_offset) / slot_count) return false;
    const std::uint64_t end = g->payload_offset + stride * slot_count;
    g->total_size = (end + kPageSize - 1) & ~std::uint64_t{kPageSize - 1};
    return g->total_size <= kMaxTotalSize;
}

}  // namespace zerodds::flatdata::layout
