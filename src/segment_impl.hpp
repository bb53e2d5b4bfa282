// segment_impl.hpp — private state of Segment and Reader, shared by
// segment.cpp (lifecycle), slot_allocator.cpp (the protocol) and reader.cpp.
//
// Everything here is process-local. Values copied out of the header at
// create/open time were validated once; the hot path uses these copies and
// never re-reads geometry from shared memory.
#pragma once

#include "layout.hpp"
#include "notify.hpp"
#include "region.hpp"
#include "segment.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace zerodds::flatdata {

// Tokens: [63] kind (1 = taken sample) | [62:48] tag | [47:24] generation | [23:0] slot.
namespace token {
inline constexpr std::uint64_t kIndexMask = (1u << 24) - 1;
inline constexpr std::uint64_t kGenMask = (1u << 24) - 1;
inline constexpr std::uint32_t kTagMask = 0x7fff;
inline constexpr std::uint64_t encode(bool sample, std::uint32_t tag, std::uint64_t gen,
                                      std::uint32_t index) {
    return (std::uint64_t{sample} << 63) | (std::uint64_t{tag & kTagMask} << 48) |
           ((gen & kGenMask) << 24) | (index & kIndexMask);
}
inline constexpr bool is_sample(std::uint64_t t) { return (t >> 63) != 0; }
inline constexpr std::uint32_t tag(std::uint64_t t) {
    return static_cast<std::uint32_t>((t >> 48) & kTagMask);
}
inline constexpr std::uint64_t gen(std::uint64_t t) { return (t >> 24) & kGenMask; }
inline constexpr std::uint32_t index(std::uint64_t t) {
    return static_cast<std::uint32_t>(t & kIndexMask);
}
}  // namespace token

// A non-zero 15-bit tag, different per handle, so tokens of other handles
// are refused before their generation is even looked at.
std::uint32_t next_tag();

struct Segment::Impl {
    std::unique_ptr<Region> region;
    layout::SegmentHeader* hdr = nullptr;
    layout::ReaderEntry* readers = nullptr;
    layout::SlotControl* slots = nullptr;
    layout::LogEntry* log = nullptr;
    std::byte* payload = nullptr;

    // Validated geometry.
    std::uint32_t slot_count = 0;
    std::uint64_t log_mask = 0;
    std::uint64_t log_size = 0;
    std::uint64_t slot_capacity = 0;
    std::uint64_t payload_stride = 0;
    std::uint64_t total_size = 0;
    std::uint64_t segment_id = 0;
    std::int32_t owner_pid = 0;
    std::optional<TypeHash> type_hash;
    // Provenance (layout::kFlag*, mirror source), copied once.
    std::uint32_t flags = 0;
    InstanceId instance_id{};
    InstanceId mirror_of{};
    char origin[layout::kOriginSize] = {};

    bool owner = false;
    bool named = false;
    std::uint32_t loan_tag = 0;

    // Writer-private (owner only).
    alignas(64) std::atomic<std::uint32_t> reserve_cursor{0};
    // Reserve order: slot k is followed by (k + reserve_step) % slot_count,
    // a step coprime to slot_count near 0.618 * slot_count, so the cycle
    // visits every slot and consecutive samples sit far apart in memory.
    // A reader trailing the writer then does not have its hardware
    // prefetcher stream into the control and payload lines the writer is
    // about to claim (set by bind(); 1 when payload lines are 64 bytes).
    std::uint32_t reserve_step = 1;
    std::atomic<std::uint64_t> full_at_generation{~std::uint64_t{0}};
    std::atomic<bool> reclaim_needed{false};
    std::mutex reclaim_mutex;  // evict, detach, reap, reclaim: never the hot path
    std::atomic<bool> owner_closed{false};

    // Named segments: how many Reader objects of this process hold each
    // reader lock byte (guarded by readers_mutex). OFD locks do not nest, so
    // a detached handle and a newer reader on the same index share one lock,
    // released when the last of them closes.
    std::mutex readers_mutex;
    std::uint32_t lock_refs[layout::kReaderEntries] = {};
    std::uint64_t claims = 0;  // claim roles this handle holds (guarded by readers_mutex)

    // Consumer side: cached owner liveness.
    std::atomic<bool> owner_gone{false};
    std::atomic<std::int64_t> last_owner_probe_ns{0};

    std::byte* slot_payload(std::uint32_t k) const { return payload + std::uint64_t{k} * payload_stride; }
    std::uint64_t generation() const {
        return hdr->next_seq.load(std::memory_order_acquire) +
               hdr->freed.load(std::memory_order_acquire);
    }
    // Called after a slot became free: count it and wake sleeping writers.
    void slot_freed() {
        hdr->freed.fetch_add(1, std::memory_order_seq_cst);
        notify_space();
    }
    void notify_space();
    void notify_data();
    notify::WaitPoint data_point() const {
        return {hdr->data_waiters, hdr->data_futex, hdr->data_armed};
    }
    notify::WaitPoint space_point() const {
        return {hdr->space_waiters, hdr->space_futex, hdr->space_armed};
    }
    notify::WaitPoint change_point() const {
        return {hdr->change_waiters, hdr->change_futex, hdr->change_armed};
    }
    // True when the owner closed or died (named: probed at most every 10 ms).
    bool owner_is_gone();
    // Frees every slot waiting on reader `index` (owner detach, reader close).
    void clear_reader_bits(std::uint32_t index);
    // Writer: repairs stale pending bits; true if any slot became free.
    bool reclaim_stale_bits();
};

struct Reader::Impl {
    std::shared_ptr<Segment> segment;
    Segment::Impl* seg = nullptr;
    std::uint32_t index = 0;
    std::uint64_t bit = 0;
    std::uint64_t entry_word = 0;  // our (epoch, ACTIVE) word
    std::uint32_t tag = 0;
    std::uint64_t cursor = 0;
    // Label offset (sequence number - log position) of the last sample
    // taken, and of the one peek found: offsets never shrink (see peek).
    std::uint64_t min_offset = 0;
    std::uint64_t peek_offset = 0;
    std::unique_ptr<std::uint64_t[]> held;  // per slot: generation held, or kNotHeld
    // Per slot: the generation of an older hold whose slot was evicted,
    // reused and taken again (so `held` moved on), until that older token
    // is released (ZFD_E_EVICTED); or kNotHeld.
    std::unique_ptr<std::uint64_t[]> superseded;
    std::uint32_t held_count = 0;  // tokens handed out and not yet released
    bool locked = false;  // holds the entry's lock byte (named)

    static constexpr std::uint64_t kNotHeld = ~std::uint64_t{0};

    bool attached() const {
        return seg->readers[index].word.load(std::memory_order_acquire) == entry_word;
    }
    // Finds the next sample for this reader without consuming it. On ok,
    // fills slot/word/len/seq; the cursor points at it.
    Status peek(std::uint32_t* slot, std::uint64_t* word, std::uint64_t* len, std::uint64_t* seq);
    Status empty_status();  // no_sample or peer_gone
    Status release_slot(std::uint32_t k, std::uint64_t gen);
    // Records a take of slot k at generation gen (take, take_copy).
    void note_take(std::uint32_t k, std::uint64_t gen);
    void publish_held();
};

}  // namespace zerodds::flatdata
