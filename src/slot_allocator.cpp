// slot_allocator.cpp — the sample protocol: reserve, commit, discard and
// eviction on the writer side; find, hold and release on the reader side.
//
// One implementation over a raw region for both in-memory and named
// segments. States and the reason for every ordering are in PROTOCOL.md;
// comments here point at the race each step closes. Writer steps run inside
// the writer gate (writer_gate.hpp), so they are single-threaded and use
// plain atomic stores. Hot-path functions take no lock, allocate nothing and
// make no system call unless a peer sleeps.
#include "fault.hpp"
#include "notify.hpp"
#include "sample_path.hpp"
#include "segment_impl.hpp"

#include <algorithm>
#include <cstring>

namespace zerodds::flatdata {

using namespace layout;

namespace {
constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRel = std::memory_order_release;
constexpr auto kRlx = std::memory_order_relaxed;
constexpr auto kSeq = std::memory_order_seq_cst;

constexpr std::uint64_t kNoLimit = ~std::uint64_t{0};
}  // namespace

std::uint64_t Segment::Impl::generation() const {
    std::uint64_t g = hdr->next_pos.load(kAcq) + hdr->freed.load(kAcq);
    for (std::uint64_t m = hdr->active_readers.load(kAcq); m != 0; m &= m - 1) {
        g += readers[__builtin_ctzll(m)].progress.load(kAcq);
    }
    return g;
}

// ---------------------------------------------------------------- writer

namespace {

// q is one of the newest `history` positions: kept readable.
bool retained(const Segment::Impl& s, std::uint64_t q, std::uint64_t next_pos) {
    return q >= next_pos || next_pos - q <= s.history;
}

// Default-policy reuse check against a snapshot (PROTOCOL.md, "When a slot
// may be reused"). Held bits are read now, after the cursors were.
bool reusable_default(const Segment::Impl& s, std::uint32_t k, std::uint64_t q,
                      const Segment::Impl::Snapshot& snap) {
    if (retained(s, q, snap.next_pos)) return false;
    for (std::uint64_t m = snap.mask; m != 0; m &= m - 1) {
        const auto i = static_cast<std::uint32_t>(__builtin_ctzll(m));
        if (snap.released[i] > q) continue;
        if (snap.cursor[i] <= q) return false;  // not read yet
        if (s.held_bit(i, k)) return false;     // taken and held
    }
    return true;
}

}  // namespace

// Reads the readers' lines into *snap and recomputes cached_min. The fence
// orders our earlier next_pos stores before the load of active_readers: a
// reader whose attach we miss sees those commits (PROTOCOL.md, "Attach").
void Segment::Impl::refresh(Snapshot* snap) {
    std::atomic_thread_fence(kSeq);
    snap->next_pos = w.next_pos;
    snap->mask = hdr->active_readers.load(kAcq);
    std::uint64_t min_released = kNoLimit;
    std::uint64_t min_cursor = kNoLimit;
    std::uint64_t progress = 0;
    for (std::uint64_t m = snap->mask; m != 0; m &= m - 1) {
        const auto i = static_cast<std::uint32_t>(__builtin_ctzll(m));
        const ReaderEntry& e = readers[i];
        const std::uint64_t released = e.released.load(kAcq);
        const std::uint64_t cursor = e.cursor.load(kAcq);
        progress += e.progress.load(kRlx);
        snap->released[i] = released;
        snap->cursor[i] = cursor;
        min_released = std::min(min_released, released);
        min_cursor = std::min(min_cursor, cursor);
    }
    const std::uint64_t floor = w.next_pos > history ? w.next_pos - history : 0;
    w.cached_min = std::min(min_released, floor);
    snap->min_cursor = min_cursor;
    snap->mark = hdr->freed.load(kAcq) + hdr->membership.load(kAcq) + w.next_pos + progress;
}

// OVERWRITE_OLDEST: tries to take slot k (COMMITTED `word`, position q) from
// under the readers that have not taken it. Dekker with Reader::Impl::hold:
// BUSY, full fence, then look for a hold; a reader sets its bit, fences, then
// checks the slot. One of the two sees the other.
bool Segment::Impl::probe(std::uint32_t k, std::uint64_t word, std::uint64_t q, Snapshot* snap) {
    const std::uint64_t gen = word_gen(word);
    slots[k].state.store(slot_word(gen, kSlotBusy), kRlx);
    std::atomic_thread_fence(kSeq);
    ZFD_FAULT_POINT("writer.reserve.probed");
    const std::uint64_t mask = hdr->active_readers.load(kAcq);
    for (std::uint64_t m = mask; m != 0; m &= m - 1) {
        const auto i = static_cast<std::uint32_t>(__builtin_ctzll(m));
        if (readers[i].released.load(kAcq) > q) continue;  // past it for good
        if (held_bit(i, k)) {
            slots[k].state.store(word, kRel);  // held: give it back untouched
            return false;
        }
    }
    (void)snap;
    return true;
}

Status Segment::Impl::reserve_locked(std::uint64_t* out_token, void** out_data) {
    return sample_path::reserve_locked(*this, out_token, out_data);
}

Status Segment::Impl::slow_reserve(std::uint64_t* out_token, void** out_data) {
    auto claimed = [&](std::uint32_t k, std::uint64_t word, std::uint64_t* token, void** data) {
        claim(k, word, token, data);
        return Status::ok;
    };
    Snapshot snap;
    refresh(&snap);
    // 1. The cursor's slot again, with the fresh minimum.
    std::uint32_t k = w.cursor < slot_count ? w.cursor : 0;
    std::uint64_t word = slots[k].state.load(kRlx);
    if (sample_path::fast_reusable(*this, k, word)) return claimed(k, word, out_token, out_data);
    // Nothing changed since the last failure: a writer spinning on a full
    // ring pays O(readers) per attempt, not a walk.
    if (snap.mark == w.fail_mark) return Status::no_free_slot;

    // 2. FREE slots left anywhere by discards, evictions or readers leaving.
    const std::uint64_t free_mark = hdr->freed.load(kAcq) + hdr->membership.load(kAcq);
    if (free_mark != w.free_scan_mark) {
        w.free_scan_mark = free_mark;
        for (std::uint32_t j = 0; j < slot_count; ++j) {
            word = slots[j].state.load(kRlx);
            if (word_state(word) == kSlotFree) return claimed(j, word, out_token, out_data);
        }
    }

    // 3. Walk positions upward from the tail: the first committed sample
    // that is reusable, or (OVERWRITE_OLDEST, at or past the slowest cursor)
    // that nobody holds. Free ones all lie below min_cursor and victims never
    // do, so ascending order finds a free slot first and else the oldest
    // victim.
    const std::uint64_t np = w.next_pos;
    std::uint64_t p = std::max(w.tail, np > log_size ? np - log_size : 0);
    const std::uint64_t end = np > history ? np - history : 0;
    bool tail_follows = true;
    for (; p < end; ++p) {
        const Descriptor& d = log[p & log_mask];
        if (d.tag.load(kRlx) != p + 1) {
            if (tail_follows) w.tail = p + 1;
            continue;
        }
        const std::uint32_t kk = d.slot.load(kRlx);
        if (kk >= slot_count) continue;
        word = slots[kk].state.load(kRlx);
        if (word_state(word) != kSlotCommitted || slots[kk].pos.load(kRlx) != p) {
            if (tail_follows) w.tail = p + 1;  // that sample is gone already
            continue;
        }
        tail_follows = false;
        if (p < snap.min_cursor) {
            if (reusable_default(*this, kk, p, snap)) return claimed(kk, word, out_token, out_data);
        } else if (overwrite) {
            if (probe(kk, word, p, &snap)) return claimed(kk, slot_word(word_gen(word), kSlotCommitted), out_token, out_data);
        }
    }

    // 4. Samples whose descriptor the log has already dropped (held across a
    // whole wrap, released since): a full scan.
    for (std::uint32_t j = 0; j < slot_count; ++j) {
        word = slots[j].state.load(kRlx);
        if (word_state(word) != kSlotCommitted) continue;
        const std::uint64_t q = slots[j].pos.load(kRlx);
        if (np - q <= log_size && q < np) continue;  // the walk saw it
        if (reusable_default(*this, j, q, snap)) return claimed(j, word, out_token, out_data);
        if (overwrite && !retained(*this, q, np) && probe(j, word, q, &snap)) {
            return claimed(j, slot_word(word_gen(word), kSlotCommitted), out_token, out_data);
        }
    }
    w.fail_mark = snap.mark;
    return Status::no_free_slot;
}

Status Segment::reserve(std::uint64_t* out_token, void** out_data) {
    return sample_path::reserve(*impl_, out_token, out_data);
}

Status Segment::reserve_wait(std::int64_t timeout_ns, std::uint64_t* out_token, void** out_data) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    Status result = Status::timeout;
    const notify::Deadline deadline(timeout_ns);
    notify::wait_until(
        [&] {
            result = reserve(out_token, out_data);
            return result != Status::no_free_slot;
        },
        s.space_point(), deadline);
    return result == Status::no_free_slot ? Status::timeout : result;
}

Status Segment::slot_data(std::uint64_t t, void** out_data, std::uint64_t* out_capacity) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = sample_path::loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (out_data != nullptr) *out_data = s.slot_payload(k);
    if (out_capacity != nullptr) *out_capacity = s.slot_capacity;
    return Status::ok;
}

Status Segment::commit_in_place(std::uint64_t t, std::size_t len, std::uint64_t* out_seq) {
    return sample_path::commit_in_place(*impl_, t, len, out_seq);
}

Status Segment::commit(std::uint64_t t, const void* bytes, std::size_t len, std::uint64_t* out_seq) {
    return sample_path::commit(*impl_, t, bytes, len, out_seq);
}

Status Segment::commit_with_sequence(std::uint64_t t, std::size_t len, std::uint64_t sequence) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    GateGuard gate(s.gate);
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = sample_path::loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (len > s.slot_capacity) return Status::too_large;  // the loan stays open
    const std::uint64_t next = s.w.next_pos + s.w.label_offset;
    // kNextLabel is reserved; the numbers must keep increasing.
    if (sequence < next || sequence == sample_path::kNextLabel) return Status::invalid_argument;
    sample_path::commit_loan(s, k, w, len, sequence, nullptr);
    return Status::ok;
}

Status Segment::discard(std::uint64_t t) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    {
        GateGuard gate(s.gate);
        std::uint32_t k = 0;
        std::uint64_t w = 0;
        if (Status st = sample_path::loaned_slot(s, t, &k, &w); st != Status::ok) return st;
        s.slots[k].state.store(slot_word(word_gen(w), kSlotFree), kRel);
        ZFD_FAULT_POINT("writer.discard.freed");
    }
    s.slot_freed();
    return Status::ok;
}

Status Segment::publish(const void* bytes, std::size_t len, std::uint64_t* out_seq) {
    return sample_path::publish(*impl_, bytes, len, out_seq);
}

Segment::Impl::Usage Segment::Impl::usage(std::uint32_t k) const {
    const std::uint64_t word = slots[k].state.load(kAcq);
    switch (word_state(word)) {
        case kSlotFree:
            return Usage::free;
        case kSlotLoaned:
            return Usage::loaned;
        case kSlotBusy:
            return Usage::busy;
        default:
            break;
    }
    const std::uint64_t q = slots[k].pos.load(kAcq);
    const std::uint64_t np = hdr->next_pos.load(kAcq);
    bool wanted = false;
    for (std::uint64_t m = hdr->active_readers.load(kAcq); m != 0; m &= m - 1) {
        const auto i = static_cast<std::uint32_t>(__builtin_ctzll(m));
        if (readers[i].released.load(kAcq) > q) continue;
        const std::uint64_t cursor = readers[i].cursor.load(kAcq);
        if (held_bit(i, k) && cursor > q) return Usage::held;
        if (cursor <= q) wanted = true;
    }
    if (wanted) return Usage::wanted;
    if (retained(*this, q, np)) return Usage::retained;
    return Usage::reusable;
}

}  // namespace zerodds::flatdata
