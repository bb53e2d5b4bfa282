// sample_path.hpp — the per-sample steps of the protocol (reserve, commit,
// take, release), inline so that the C entry points compile them in place.
//
// These are the steps PROTOCOL.md describes under "Reserve", "Commit",
// "Take" and "Release", in the form they run for every sample: the common
// case inline, every uncommon case (a slot not known free, a descriptor
// that is not the next one, an eviction seen, a second hold of one slot) in
// an out-of-line function of slot_allocator.cpp or reader.cpp. Segment and
// Reader methods wrap these same functions, so there is one implementation.
//
// Nothing here allocates, locks (beyond the writer gate's owner path, which
// is a compiler barrier), or makes a system call unless a peer sleeps.
#pragma once

#include "fault.hpp"
#include "notify.hpp"
#include "segment_impl.hpp"

#include <cstring>

namespace zerodds::flatdata {

// Claims slot k (state word `word`, FREE or COMMITTED and reusable): LOANED
// with the next generation. Inside the gate nobody else writes `state`.
inline void Segment::Impl::claim(std::uint32_t k, std::uint64_t word, std::uint64_t* out_token,
                                 void** out_data) {
    const std::uint64_t gen = layout::word_gen(word) + 1;
    slots[k].state.store(layout::slot_word(gen, layout::kSlotLoaned), std::memory_order_release);
    ZFD_FAULT_POINT("writer.reserve.claimed");
    const std::uint32_t next = k + w.step;
    w.cursor = next >= slot_count ? next - slot_count : next;
    *out_token = token::encode(false, loan_tag, gen, k);
    if (out_data != nullptr) *out_data = slot_payload(k);
}

inline bool Reader::Impl::slot_holds(std::uint32_t k, std::uint32_t gen, std::uint64_t pos) const {
    const layout::SlotControl& c = seg->slots[k];
    const std::uint64_t w = c.state.load(std::memory_order_acquire);
    const std::uint64_t p = c.pos.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    return c.state.load(std::memory_order_relaxed) == w &&
           layout::word_state(w) == layout::kSlotCommitted && layout::gen32(layout::word_gen(w)) == gen &&
           p == pos;
}

inline bool Reader::Impl::hold_lost(const Hold& h) const {
    // Our reads of the payload come before this load (seqlock reader).
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seg->hdr->evictions.load(std::memory_order_relaxed) == h.evictions) return false;  // nothing evicted
    return !slot_holds(h.slot, h.gen, h.pos);
}

[[gnu::always_inline]] inline std::uint32_t Reader::Impl::note_take(const Candidate& c, std::uint64_t evictions) {
    const std::uint32_t k = c.slot;
    if (cur[k] != kNone) {
        // Slot k was evicted from us, reused and is taken again: keep the
        // older token releasable (as ZFD_E_EVICTED). Only one such older
        // token is kept per slot; an even older one is forgotten and its
        // release reports NOT_LOANED.
        if (old[k] != kNone) {
            const std::uint32_t f = old[k];
            Hold& o = holds[f];
            (o.prev != kNone ? holds[o.prev].next : head) = o.next;
            (o.next != kNone ? holds[o.next].prev : tail) = o.prev;
            o.next = free_node;
            free_node = f;
            --held_count;
        }
        old[k] = cur[k];
    }
    const std::uint32_t n = free_node;
    Hold& h = holds[n];
    free_node = h.next;
    h.pos = c.pos;
    h.evictions = evictions;
    h.slot = k;
    h.gen = c.gen;
    h.prev = tail;
    h.next = kNone;
    (tail != kNone ? holds[tail].next : head) = n;
    tail = n;
    cur[k] = n;
    ++held_count;
    // The cursor moves past the position only now that our bit is set: a
    // writer that sees the new cursor sees the bit (PROTOCOL.md, "Take").
    // `released` does not move: it was the cursor (now our hold) or an
    // older hold.
    cursor = c.pos + 1;
    next_hint = c.next;
    min_offset = c.label - c.pos;
    entry->cursor.store(cursor, std::memory_order_release);
    ZFD_FAULT_POINT("reader.take.found");
    return n;
}

[[gnu::always_inline]] inline Status Reader::Impl::release_node(std::uint32_t n, bool current) {
    Hold& h = holds[n];
    const std::uint32_t k = h.slot;
    // Checked while our hold still pins the slot.
    const Status result = (!current || hold_lost(h)) ? Status::evicted : Status::ok;
    if (current) {
        cur[k] = kNone;
        std::atomic<std::uint64_t>& word = bits[k >> 6];
        word.store(word.load(std::memory_order_relaxed) & ~(std::uint64_t{1} << (k & 63)),
                   std::memory_order_release);
        ZFD_FAULT_POINT("reader.release.bit_cleared");
    } else {
        old[k] = kNone;
    }
    (h.prev != kNone ? holds[h.prev].next : head) = h.next;
    (h.next != kNone ? holds[h.next].prev : tail) = h.prev;
    h.next = free_node;
    free_node = n;
    --held_count;
    const std::uint64_t now_released = head != kNone ? holds[head].pos : cursor;
    if (now_released != released) {
        released = now_released;
        entry->released.store(released, std::memory_order_release);
    }
    entry->progress.store(++progress, std::memory_order_release);
    ZFD_FAULT_POINT("reader.release.released");
    seg->notify_space();
    return result;
}

namespace sample_path {

// ---------------------------------------------------------------- writer

// Slot k (state word `word`) is FREE, or COMMITTED below cached_min.
inline bool fast_reusable(const Segment::Impl& s, std::uint32_t k, std::uint64_t word) {
    const std::uint64_t st = layout::word_state(word);
    if (st == layout::kSlotFree) return true;
    return st == layout::kSlotCommitted && s.slots[k].pos.load(std::memory_order_relaxed) < s.w.cached_min;
}

// Inside the gate.
inline Status reserve_locked(Segment::Impl& s, std::uint64_t* out_token, void** out_data) {
    // Common case: the slot after the last one reserved is the oldest and is
    // below cached_min. This touches that slot's line only, which no reader
    // writes.
    const std::uint32_t k = s.w.cursor;
    const std::uint64_t word = s.slots[k].state.load(std::memory_order_relaxed);
    if (!fast_reusable(s, k, word)) return s.slow_reserve(out_token, out_data);
    s.claim(k, word, out_token, out_data);
    return Status::ok;
}

inline Status reserve(Segment::Impl& s, std::uint64_t* out_token, void** out_data) {
    if (!s.owner) return Status::permission;
    if (s.owner_closed.load(std::memory_order_relaxed)) return Status::peer_gone;
    GateGuard gate(s.gate);
    return reserve_locked(s, out_token, out_data);
}

// Resolves a loan token to its slot; not_loaned unless the slot is LOANED
// with the token's generation.
inline Status loaned_slot(const Segment::Impl& s, std::uint64_t t, std::uint32_t* k,
                          std::uint64_t* word) {
    if (token::is_sample(t) || token::tag(t) != s.loan_tag) return Status::not_loaned;
    const std::uint32_t idx = token::index(t);
    if (idx >= s.slot_count) return Status::not_loaned;
    const std::uint64_t w = s.slots[idx].state.load(std::memory_order_acquire);
    if (layout::word_state(w) != layout::kSlotLoaned ||
        (layout::word_gen(w) & token::kGenMask) != token::gen(t)) {
        return Status::not_loaned;
    }
    *k = idx;
    *word = w;
    return Status::ok;
}

inline constexpr std::uint64_t kNextLabel = ~std::uint64_t{0};

// Publishes loaned slot k (state word w); inside the gate. `label` is the
// sequence number readers are given: kNextLabel for the next one, or an
// explicit number at least that (commit_with_sequence). PROTOCOL.md,
// "Commit", steps 2-7.
[[gnu::always_inline]] inline void commit_loan(Segment::Impl& s, std::uint32_t k, std::uint64_t w, std::size_t len,
                        std::uint64_t label, std::uint64_t* out_seq) {
    constexpr auto kRlx = std::memory_order_relaxed;
    constexpr auto kRel = std::memory_order_release;
    layout::SlotControl& c = s.slots[k];
    const std::uint64_t gen = layout::word_gen(w);
    const std::uint64_t p = s.w.next_pos;
    if (label == kNextLabel) {
        label = p + s.w.label_offset;
    } else {
        s.w.label_offset = label - p;
        s.hdr->label_offset.store(label - p, kRlx);
    }
    c.pos.store(p, kRlx);
    c.label.store(label, kRlx);
    c.len.store(len, kRlx);
    c.commit_ns.store(static_cast<std::uint64_t>(notify::coarse_now_ns()), kRlx);
    ZFD_FAULT_POINT("writer.commit.filled");
    c.state.store(layout::slot_word(gen, layout::kSlotCommitted), kRel);
    ZFD_FAULT_POINT("writer.commit.committed");
    // Counted before it is published: a reader that took p and attaches
    // again reads a next_pos past it (PROTOCOL.md, "Commit").
    s.w.next_pos = p + 1;
    s.hdr->next_pos.store(p + 1, kRel);
    ZFD_FAULT_POINT("writer.commit.counted");

    // The descriptor (seqlock: tag 0 while its fields change).
    layout::Descriptor& d = s.log[p & s.log_mask];
    d.tag.store(0, kRlx);
    ZFD_FAULT_POINT("writer.commit.log_invalidated");
    std::atomic_thread_fence(kRel);
    d.slot.store(k, kRlx);
    d.gen.store(layout::gen32(gen), kRlx);
    d.len.store(len, kRlx);
    d.label.store(label, kRlx);
    d.next.store(s.w.cursor, kRlx);
    ZFD_FAULT_POINT("writer.commit.log_written");
    d.tag.store(p + 1, kRel);
    ZFD_FAULT_POINT("writer.commit.published");
    s.notify_data();
    // The next commit writes these lines: own them before it does, so its
    // stores do not wait for the readers' copies to be invalidated. Never the
    // descriptor a reader spins on next (p + 1).
    __builtin_prefetch(s.slot_payload(s.w.cursor), 1, 3);
    __builtin_prefetch(&s.log[(p + 2) & s.log_mask], 1, 3);
    if (out_seq != nullptr) *out_seq = label;
}

inline Status commit_in_place(Segment::Impl& s, std::uint64_t t, std::size_t len,
                              std::uint64_t* out_seq) {
    if (!s.owner) return Status::permission;
    GateGuard gate(s.gate);
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (len > s.slot_capacity) return Status::too_large;  // the loan stays open
    commit_loan(s, k, w, len, kNextLabel, out_seq);
    return Status::ok;
}

inline Status commit(Segment::Impl& s, std::uint64_t t, const void* bytes, std::size_t len,
                     std::uint64_t* out_seq) {
    if (!s.owner) return Status::permission;
    GateGuard gate(s.gate);
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (len > s.slot_capacity) return Status::too_large;  // the loan stays open
    if (len != 0) std::memcpy(s.slot_payload(k), bytes, len);
    commit_loan(s, k, w, len, kNextLabel, out_seq);
    return Status::ok;
}

inline Status publish(Segment::Impl& s, const void* bytes, std::size_t len, std::uint64_t* out_seq) {
    if (!s.owner) return Status::permission;
    if (len > s.slot_capacity) return Status::too_large;
    if (s.owner_closed.load(std::memory_order_relaxed)) return Status::peer_gone;
    GateGuard gate(s.gate);
    std::uint64_t t = 0;
    void* data = nullptr;
    if (Status st = reserve_locked(s, &t, &data); st != Status::ok) return st;
    if (len != 0) std::memcpy(data, bytes, len);
    const std::uint32_t k = token::index(t);
    commit_loan(s, k, s.slots[k].state.load(std::memory_order_relaxed), len, kNextLabel, out_seq);
    return Status::ok;
}

// ---------------------------------------------------------------- reader

// Take at the cursor: the common case inline (the next descriptor is
// published and valid, no eviction seen, not a history position, default
// policy, the slot not already held), everything else in take_slow. Under
// OVERWRITE_OLDEST validate_floor is the largest position, so every take
// goes the slow way (it needs its fence there).
inline Status take(Reader::Impl& r, std::uint64_t* out_token, const void** out_data,
                   std::size_t* out_len, std::uint64_t* out_seq) {
    constexpr auto kAcq = std::memory_order_acquire;
    constexpr auto kRlx = std::memory_order_relaxed;
    Segment::Impl& s = *r.seg;
    if (!r.attached()) return Status::detached;
    const std::uint64_t c = r.cursor;
    const layout::Descriptor& d = s.log[c & s.log_mask];
    if (d.tag.load(kAcq) != c + 1) {
        // Nothing new (most likely): pull the payload line of the slot the
        // writer announced next while we poll, so it does not travel after
        // the descriptor (PROTOCOL.md, "Why this shape").
        r.touch_next();
        return r.take_slow(out_token, out_data, out_len, out_seq);
    }
    const std::uint32_t k = d.slot.load(kRlx);
    const std::uint32_t gen = d.gen.load(kRlx);
    const std::uint64_t len = d.len.load(kRlx);
    const std::uint64_t label = d.label.load(kRlx);
    const std::uint32_t next = d.next.load(kRlx);
    std::atomic_thread_fence(kAcq);
    // Anything unusual: the slow path looks again from scratch.
    if (d.tag.load(kRlx) != c + 1 || c + 1 == 0 || k >= s.slot_count || len > s.slot_capacity || label < c ||
        label - c < r.min_offset || r.cur[k] != Reader::Impl::kNone || c < r.validate_floor ||
        s.hdr->evictions.load(kAcq) != r.evictions_seen) {
        return r.take_slow(out_token, out_data, out_len, out_seq);
    }
    // Hold: our bit, then the cursor past the position (PROTOCOL.md, "Take").
    std::atomic<std::uint64_t>& word = r.bits[k >> 6];
    word.store(word.load(kRlx) | (std::uint64_t{1} << (k & 63)), kRlx);
    ZFD_FAULT_POINT("reader.take.held");
    r.note_take(Reader::Impl::Candidate{c, len, label, k, gen, next}, r.evictions_seen);
    *out_token = token::encode(true, r.tag, gen, k);
    if (out_data != nullptr) *out_data = s.slot_payload(k);
    if (out_len != nullptr) *out_len = static_cast<std::size_t>(len);
    if (out_seq != nullptr) *out_seq = label;
    return Status::ok;
}

inline Status release(Reader::Impl& r, std::uint64_t t) {
    if (!r.attached()) return Status::detached;
    if (!token::is_sample(t) || token::tag(t) != r.tag) return Status::not_loaned;
    const std::uint32_t k = token::index(t);
    if (k >= r.seg->slot_count) return Status::not_loaned;
    const std::uint32_t n = r.cur[k];
    if (n == Reader::Impl::kNone || (r.holds[n].gen & token::kGenMask) != token::gen(t)) {
        return r.release_other(k, token::gen(t));
    }
    return r.release_node(n, true);
}

}  // namespace sample_path
}  // namespace zerodds::flatdata
