// segment_impl.hpp — private state of Segment and Reader, shared by
// segment.cpp (lifecycle), slot_allocator.cpp (the protocol) and reader.cpp.
//
// Everything here is process-local. Values copied out of the header at
// create/open time were validated once; the hot path uses these copies and
// never re-reads geometry from shared memory.
#pragma once

#include "event_fd.hpp"
#include "layout.hpp"
#include "notify.hpp"
#include "region.hpp"
#include "segment.hpp"
#include "writer_gate.hpp"

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
    layout::Descriptor* log = nullptr;
    std::byte* held_base = nullptr;  // held bitmaps, held_stride bytes per reader
    std::byte* payload = nullptr;

    // Validated geometry.
    std::uint32_t slot_count = 0;
    std::uint64_t log_mask = 0;
    std::uint64_t log_size = 0;
    std::uint64_t slot_capacity = 0;
    std::uint64_t payload_stride = 0;
    std::uint64_t held_stride = 0;
    std::uint64_t total_size = 0;
    std::uint64_t segment_id = 0;
    std::int32_t owner_pid = 0;
    std::optional<TypeHash> type_hash;
    // Provenance and policy (layout::kFlag*, mirror source), copied once.
    std::uint32_t flags = 0;
    bool overwrite = false;     // kFlagOverwriteOldest
    std::uint32_t history = 0;  // < slot_count
    InstanceId instance_id{};
    InstanceId mirror_of{};
    char origin[layout::kOriginSize] = {};

    bool owner = false;
    bool named = false;
    std::uint32_t loan_tag = 0;

    // ---- Writer-private (owner only), changed only inside `gate`.
    WriterGate gate;
    struct Writer {
        std::uint32_t cursor = 0;   // the slot reserve tries first
        std::uint32_t step = 1;     // reserve order: k -> (k + step) % slot_count
        std::uint64_t next_pos = 0;  // == hdr->next_pos (the writer's own copy)
        std::uint64_t label_offset = 0;  // == hdr->label_offset (the writer's own copy)
        // Positions below are reusable by every reader (PROTOCOL.md, "When a
        // slot may be reused"): min(released of the active readers,
        // next_pos - history) at the last refresh.
        std::uint64_t cached_min = 0;
        // The oldest position that may still be a committed sample; the
        // slow path walks positions from here.
        std::uint64_t tail = 0;
        // Fingerprints (freed + membership; + the readers' progress) at the
        // last full scan and the last failed slow path.
        std::uint64_t free_scan_mark = ~std::uint64_t{0};
        std::uint64_t fail_mark = ~std::uint64_t{0};
    } w;
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
    std::atomic<std::uint64_t>* held_words(std::uint32_t reader) const {
        return reinterpret_cast<std::atomic<std::uint64_t>*>(held_base + std::uint64_t{reader} * held_stride);
    }
    bool held_bit(std::uint32_t reader, std::uint32_t k) const {
        return (held_words(reader)[k >> 6].load(std::memory_order_acquire) >> (k & 63)) & 1u;
    }
    // next_pos + freed + the active readers' progress (PROTOCOL.md, "Notify
    // generation").
    std::uint64_t generation() const;
    // A slot became free outside a reader's release (discard, eviction, a
    // reader left): count it and wake writers waiting for space.
    void slot_freed(std::uint64_t count = 1) {
        hdr->freed.fetch_add(count, std::memory_order_seq_cst);
        notify_space();
    }
    // Wake sleeping writers (space, change) or readers (data, change) if one
    // is counted; the caller's state change is already stored.
    void notify_space() {
        notify::light_barrier();
        notify::wake_if_waiting(space_point());
        notify::wake_if_waiting(change_point());
        // Event-loop descriptor (event_fd.hpp): one load of the line the
        // waiter counts are on; a system call only when it is armed.
        if (hdr->space_fd_armed.load(std::memory_order_relaxed) != 0) [[unlikely]] fire_space_fd();
    }
    void notify_data() {
        notify::light_barrier();
        notify::wake_if_waiting(data_point());
        notify::wake_if_waiting(change_point());
        if (hdr->fd_armed.load(std::memory_order_relaxed) != 0) [[unlikely]] fire_reader_fds();
    }

    // ---- Event-loop descriptors (event_fd.cpp)
    // Sends a byte to every reader whose descriptor is armed (and disarms it).
    void fire_reader_fds();
    // Disarms reader i's descriptor and wakes it if it was armed.
    void fire_reader_fd(std::uint32_t index);
    // Disarms the owner's space descriptor and wakes it if it was armed.
    void fire_space_fd();
    // zfd_segment_fd: the owner's space descriptor (made on first call).
    Status space_fd(int* out_fd);
    // After a reserve that found no slot: true when the caller should try
    // once more (the descriptor was armed just now).
    bool settle_space(Status st);
    // Made once under readers_mutex, then read by any writer thread.
    std::unique_ptr<event_fd::SpaceEvents> space_ev_owned;
    std::atomic<event_fd::SpaceEvents*> space_ev{nullptr};
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

    // What the writer read of the readers at a refresh (stack-local).
    struct Snapshot {
        std::uint64_t mask = 0;
        std::uint64_t next_pos = 0;
        std::uint64_t min_cursor = ~std::uint64_t{0};
        std::uint64_t mark = 0;  // freed + membership + next_pos + the readers' progress
        std::uint64_t released[layout::kReaderEntries];
        std::uint64_t cursor[layout::kReaderEntries];
    };
    // Writer steps (inside the gate; slot_allocator.cpp).
    Status reserve_locked(std::uint64_t* out_token, void** out_data);
    void claim(std::uint32_t k, std::uint64_t word, std::uint64_t* out_token, void** out_data);
    bool fast_reusable(std::uint32_t k, std::uint64_t word) const;
    void refresh(Snapshot* snap);
    Status slow_reserve(std::uint64_t* out_token, void** out_data);
    bool probe(std::uint32_t k, std::uint64_t word, std::uint64_t q, Snapshot* snap);
    // Slot usage as tools show it (computed, not stored).
    enum class Usage { free, loaned, wanted, held, retained, reusable, busy };
    Usage usage(std::uint32_t k) const;
};

struct Reader::Impl {
    std::shared_ptr<Segment> segment;
    Segment::Impl* seg = nullptr;
    std::uint32_t index = 0;
    std::uint64_t bit = 0;
    std::uint64_t entry_word = 0;  // our (epoch, ACTIVE) word
    std::uint32_t tag = 0;
    layout::ReaderEntry* entry = nullptr;
    std::atomic<std::uint64_t>* bits = nullptr;  // our held bitmap
    bool locked = false;                          // holds the entry's lock byte (named)

    // Position state; the shared copies on our line follow these.
    std::uint64_t start = 0;     // first live position (below: history)
    std::uint64_t cursor = 0;
    std::uint64_t released = 0;  // as last published
    std::uint64_t progress = 0;
    std::uint64_t evictions_seen = 0;    // hdr->evictions when validate_below was set
    std::uint64_t validate_below = 0;    // positions below may have been evicted
    std::uint64_t validate_floor = 0;    // max(start, validate_below): below, check the slot
    std::uint32_t next_hint = kNoSlot;   // slot the writer announced next (prefetch)
    std::uint32_t empty_polls = 0;       // owner liveness is probed every 16 empty polls
    std::unique_ptr<event_fd::ReaderEvents> ev;  // zfd_reader_fd, once asked for
    pid_t open_pid = 0;                          // the process that opened it (fork check)
    // Label offset (sequence number - position) of the last sample taken,
    // and of the one find() returned: offsets never shrink.
    std::uint64_t min_offset = 0;

    // Holds: nodes in take order (a doubly linked list, so any release is
    // O(1) and the oldest hold is the head). Per slot, the current hold and
    // one older hold of a sample that was evicted and then taken again.
    static constexpr std::uint32_t kNone = ~std::uint32_t{0};
    static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
    struct Hold {
        std::uint64_t pos;
        std::uint64_t evictions;  // hdr->evictions at the take
        std::uint32_t slot;
        std::uint32_t gen;  // gen32 of the slot
        std::uint32_t prev;
        std::uint32_t next;
    };
    std::unique_ptr<Hold[]> holds;           // 2 * slot_count nodes
    std::unique_ptr<std::uint32_t[]> cur;    // per slot: node of the current hold, or kNone
    std::unique_ptr<std::uint32_t[]> old;    // per slot: node of an older (evicted) hold, or kNone
    std::uint32_t free_node = kNone;         // free list through Hold::next
    std::uint32_t head = kNone, tail = kNone;
    std::uint32_t held_count = 0;            // tokens handed out and not yet released

    // What find() saw at the cursor.
    struct Candidate {
        std::uint64_t pos;
        std::uint64_t len;
        std::uint64_t label;
        std::uint32_t slot;
        std::uint32_t gen;
        std::uint32_t next;
    };

    bool attached() const {
        return entry->word.load(std::memory_order_acquire) == entry_word;
    }
    // Finds the sample at the cursor, skipping what cannot be delivered
    // (rewritten, forged). Side effects: only skips.
    Status find(Candidate* out);
    // find() at position n without skipping: true if a valid published
    // descriptor is there.
    bool look_at(std::uint64_t n, Candidate* out);
    // Holds the candidate (bit, validation); false: it is gone (skipped).
    bool hold(const Candidate& c, std::uint64_t* evictions);
    // Takes: find + hold, retried past samples that turn out to be gone.
    Status take_next(Candidate* out, std::uint64_t* evictions);
    // Every case sample_path::take does not handle inline.
    Status take_slow(std::uint64_t* token, const void** data, std::size_t* len, std::uint64_t* seq);
    // Records a hold and moves the cursor past it (sample_path.hpp).
    std::uint32_t note_take(const Candidate& c, std::uint64_t evictions);
    // Releases node n (its token was matched); result ok or evicted
    // (sample_path.hpp).
    Status release_node(std::uint32_t n, bool current);
    // A token that is not the current hold of its slot: an older, evicted
    // hold (evicted) or not ours (not_loaned).
    Status release_other(std::uint32_t k, std::uint64_t gen24);
    // True when the sample of hold n may have been evicted and is gone.
    bool hold_lost(const Hold& h) const;
    bool slot_holds(std::uint32_t k, std::uint32_t gen, std::uint64_t pos) const;
    void skip_to(std::uint64_t pos);      // positions before pos count as read
    void publish_progress(bool freed);    // our line; wakes writers if freed
    Status empty_status(bool polling);    // no_sample or peer_gone
    // ---- Event-loop descriptor (event_fd.cpp)
    Status reader_fd(int* out_fd);        // zfd_reader_fd: made on first call
    // After a take that returned `st` (not ok): drain, arm, or keep the
    // descriptor readable for a terminal code. True when the caller should
    // take once more (armed just now: the sample may have come meanwhile).
    bool settle(Status st);
    void disarm_on_close();               // our bit and nonce, while the entry is ours
    // Loads one byte of the payload line of the slot the writer announced
    // next. A demand load, not a prefetch instruction: on the AMD hosts this
    // was measured on, PREFETCHT0 of a line another core is about to write
    // did not hide its transfer, a load did. Written in assembly so that
    // sanitizers do not see a read of bytes the writer is writing (the
    // value is never used).
    void touch_next() const {
        if (next_hint >= seg->slot_count) return;
        const std::byte* p = seg->slot_payload(next_hint);
#if defined(__x86_64__)
        asm volatile("movzbl (%0), %%eax" : : "r"(p) : "eax", "memory");
#else
        __builtin_prefetch(p, 0, 3);
#endif
    }
};

}  // namespace zerodds::flatdata
