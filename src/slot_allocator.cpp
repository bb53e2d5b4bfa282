// slot_allocator.cpp — the slot protocol: reserve, commit, discard on the
// writer side; peek (take) and release on the reader side.
//
// One implementation over a raw region for both in-memory and named
// segments. States and the reason for every ordering are in PROTOCOL.md;
// comments here point at the race each step closes. Hot-path functions take
// no lock, allocate nothing and make no system call unless a peer sleeps.
#include "fault.hpp"
#include "notify.hpp"
#include "segment_impl.hpp"

#include <cstring>

namespace zerodds::flatdata {

using namespace layout;

namespace {
constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRel = std::memory_order_release;
constexpr auto kRlx = std::memory_order_relaxed;
constexpr auto kSeq = std::memory_order_seq_cst;
}  // namespace

void Segment::Impl::notify_space() {
    notify::wake_if_waiting(space_point());
    notify::wake_if_waiting(change_point());
}

void Segment::Impl::notify_data() {
    notify::wake_if_waiting(data_point());
    notify::wake_if_waiting(change_point());
}

// ---------------------------------------------------------------- writer

namespace {

// Claims slot k if it is free: FREE, or COMMITTED with every reader done.
bool try_claim(Segment::Impl& s, std::uint32_t k, std::uint64_t* out_token, void** out_data) {
    SlotControl& c = s.slots[k];
    std::uint64_t w = c.state.load(kAcq);
    const std::uint64_t st = word_state(w);
    if (st == kSlotCommitted) {
        // Acquire pairs with the releasing reader's fetch_and: its reads of
        // the payload happen before we overwrite it.
        if (c.pending.load(kAcq) != 0) return false;
    } else if (st != kSlotFree) {
        return false;
    }
    const std::uint64_t loaned = slot_word(word_gen(w) + 1, kSlotLoaned);
    if (!c.state.compare_exchange_strong(w, loaned, std::memory_order_acq_rel, kRlx)) {
        return false;  // another writer thread took it
    }
    ZFD_FAULT_POINT("writer.reserve.claimed");
    const std::uint32_t next = k + s.reserve_step;
    s.reserve_cursor.store(next >= s.slot_count ? next - s.slot_count : next, kRlx);
    *out_token = token::encode(false, s.loan_tag, word_gen(loaned), k);
    if (out_data != nullptr) *out_data = s.slot_payload(k);
    return true;
}

}  // namespace

Status Segment::reserve(std::uint64_t* out_token, void** out_data) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    if (s.owner_closed.load(kRlx)) return Status::peer_gone;
    const std::uint32_t n = s.slot_count;
    std::uint32_t first = s.reserve_cursor.load(kRlx);
    if (first >= n) first = 0;
    // Common case: readers release in order, so the slot after the last one
    // reserved (in reserve order, see Impl::reserve_step) is the oldest and
    // free. This touches one slot line only.
    if (try_claim(s, first, out_token, out_data)) return Status::ok;

    for (int pass = 0; pass < 2; ++pass) {
        // The generation before the scan: if nothing is freed or committed
        // after it, a repeated scan cannot succeed, so a writer spinning on a
        // full ring pays O(1) per attempt, not O(slots).
        const std::uint64_t gen_before = s.generation();
        if (pass == 0 && gen_before == s.full_at_generation.load(kRlx) &&
            !s.reclaim_needed.load(kRlx)) {
            return Status::no_free_slot;
        }
        std::uint32_t k = first;
        for (std::uint32_t i = 0; i < n; ++i, k = (k + 1 == n) ? 0 : k + 1) {
            if (try_claim(s, k, out_token, out_data)) return Status::ok;
        }
        // Full. Stale bits (PROTOCOL.md, "Membership") may pin slots that no
        // attached reader will release; repair them once, then rescan.
        if (pass == 0 && s.reclaim_stale_bits()) continue;
        s.full_at_generation.store(gen_before, kRlx);
        break;
    }
    return Status::no_free_slot;
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

namespace {

// Resolves a loan token to its slot; not_loaned unless the slot is LOANED
// with the token's generation.
Status loaned_slot(const Segment::Impl& s, std::uint64_t t, std::uint32_t* k, std::uint64_t* word) {
    if (token::is_sample(t) || token::tag(t) != s.loan_tag) return Status::not_loaned;
    const std::uint32_t idx = token::index(t);
    if (idx >= s.slot_count) return Status::not_loaned;
    const std::uint64_t w = s.slots[idx].state.load(kAcq);
    if (word_state(w) != kSlotLoaned || (word_gen(w) & token::kGenMask) != token::gen(t)) {
        return Status::not_loaned;
    }
    *k = idx;
    *word = w;
    return Status::ok;
}

}  // namespace

Status Segment::slot_data(std::uint64_t t, void** out_data, std::uint64_t* out_capacity) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (out_data != nullptr) *out_data = s.slot_payload(k);
    if (out_capacity != nullptr) *out_capacity = s.slot_capacity;
    return Status::ok;
}

namespace {

constexpr std::uint64_t kNextLabel = ~std::uint64_t{0};

// Publishes loaned slot k (state word w). Shared by every commit. `label` is
// the sequence number readers are given: kNextLabel for the next one, or an
// explicit number at least that (commit_with_sequence).
Status commit_loan(Segment::Impl& s, std::uint32_t k, std::uint64_t w, std::size_t len,
                   std::uint64_t label, std::uint64_t* out_seq) {
    SlotControl& c = s.slots[k];
    const std::uint64_t gen = word_gen(w);
    // LOANED -> BUSY: only one commit/discard of a token can win.
    if (!c.state.compare_exchange_strong(w, slot_word(gen, kSlotBusy), kAcq, kRlx)) {
        return Status::not_loaned;
    }
    ZFD_FAULT_POINT("writer.commit.busy");
    // Mask first, then the sequence: a reader attaching concurrently takes
    // start_seq before setting its bit, so no sample below its start_seq can
    // carry its bit (PROTOCOL.md, "Commit").
    const std::uint64_t mask = s.hdr->active_readers.load(kSeq);
    ZFD_FAULT_POINT("writer.commit.mask_loaded");
    const std::uint64_t seq = s.hdr->next_seq.fetch_add(1, kSeq);
    ZFD_FAULT_POINT("writer.commit.seq_taken");
    // The offset is writer-private in effect (only commits move it, and a
    // commit with an explicit label is not concurrent with other commits).
    std::uint64_t offset = s.hdr->label_offset.load(kRlx);
    if (label == kNextLabel) {
        label = seq + offset;
    } else {
        offset = label - seq;
        s.hdr->label_offset.store(offset, kRlx);
    }
    c.seq.store(seq, kRlx);
    c.label.store(label, kRlx);
    c.len.store(len, kRlx);
    c.commit_ns.store(static_cast<std::uint64_t>(notify::coarse_now_ns()), kRlx);
    c.pending.store(mask, kRlx);
    ZFD_FAULT_POINT("writer.commit.filled");
    c.state.store(slot_word(gen, kSlotCommitted), kRel);
    ZFD_FAULT_POINT("writer.commit.committed");

    // If a reader detached between our mask load and now, its bit may be
    // stale; the slow path of reserve repairs it.
    if ((s.hdr->active_readers.load(kRlx) & mask) != mask) s.reclaim_needed.store(true, kRlx);

    // Publish in the log (seqlock: tag 0 while the entry changes).
    LogEntry& e = s.log[seq & s.log_mask];
    e.tag.store(0, kRlx);
    ZFD_FAULT_POINT("writer.commit.log_invalidated");
    std::atomic_thread_fence(kRel);
    e.slot.store(k, kRlx);
    ZFD_FAULT_POINT("writer.commit.log_slot_written");
    // seq_cst RMW: pairs with a sleeping reader's waiter count (Dekker).
    e.tag.exchange(seq + 1, kSeq);
    ZFD_FAULT_POINT("writer.commit.published");
    s.notify_data();
    if (out_seq != nullptr) *out_seq = label;
    return Status::ok;
}

}  // namespace

Status Segment::commit_in_place(std::uint64_t t, std::size_t len, std::uint64_t* out_seq) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (len > s.slot_capacity) return Status::too_large;  // the loan stays open
    return commit_loan(s, k, w, len, kNextLabel, out_seq);
}

Status Segment::commit(std::uint64_t t, const void* bytes, std::size_t len, std::uint64_t* out_seq) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (len > s.slot_capacity) return Status::too_large;  // the loan stays open
    if (len != 0) std::memcpy(s.slot_payload(k), bytes, len);
    return commit_loan(s, k, w, len, kNextLabel, out_seq);
}

Status Segment::commit_with_sequence(std::uint64_t t, std::size_t len, std::uint64_t sequence) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (len > s.slot_capacity) return Status::too_large;  // the loan stays open
    const std::uint64_t next =
        s.hdr->next_seq.load(kAcq) + s.hdr->label_offset.load(kRlx);
    // kNextLabel is reserved; the numbers must keep increasing.
    if (sequence < next || sequence == kNextLabel) return Status::invalid_argument;
    return commit_loan(s, k, w, len, sequence, nullptr);
}

Status Segment::discard(std::uint64_t t) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t k = 0;
    std::uint64_t w = 0;
    if (Status st = loaned_slot(s, t, &k, &w); st != Status::ok) return st;
    if (!s.slots[k].state.compare_exchange_strong(w, slot_word(word_gen(w), kSlotFree), kSeq,
                                                  kRlx)) {
        return Status::not_loaned;
    }
    ZFD_FAULT_POINT("writer.discard.freed");
    s.slot_freed();
    return Status::ok;
}

Status Segment::publish(const void* bytes, std::size_t len, std::uint64_t* out_seq) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    if (len > s.slot_capacity) return Status::too_large;
    std::uint64_t t = 0;
    void* data = nullptr;
    if (Status st = reserve(&t, &data); st != Status::ok) return st;
    if (len != 0) std::memcpy(data, bytes, len);
    const std::uint32_t k = token::index(t);
    return commit_loan(s, k, s.slots[k].state.load(kAcq), len, kNextLabel, out_seq);
}

// Clears bits that no attached reader will ever release: bits of readers
// that are not ACTIVE, and bits on samples older than the reader's start.
// Under reclaim_mutex, so no other reclaim or eviction runs. A closing or
// detached reader may still clear its own (stale) bits concurrently, which
// could free and recycle the slot under us; so bits are cleared by CAS on
// the exact `pending` value read while the slot still held this sample,
// and if the state word moved anyway (a recycled slot whose new mask is
// equal to the old one), the bits are given back.
bool Segment::Impl::reclaim_stale_bits() {
    std::lock_guard lock(reclaim_mutex);
    reclaim_needed.store(false, kRlx);
    std::uint64_t inactive = 0;
    std::uint64_t start[kMaxReaders];
    for (std::uint32_t i = 0; i < kMaxReaders; ++i) {
        const std::uint64_t w = readers[i].word.load(kAcq);
        if ((w & 3u) != kReaderActive) inactive |= std::uint64_t{1} << i;
        start[i] = readers[i].start_seq.load(kAcq);
    }
    bool freed_any = false;
    for (std::uint32_t k = 0; k < slot_count; ++k) {
        SlotControl& c = slots[k];
        const std::uint64_t w = c.state.load(kAcq);
        if (word_state(w) != kSlotCommitted) continue;
        std::uint64_t pending = c.pending.load(kAcq);
        const std::uint64_t seq = c.seq.load(kRlx);
        std::uint64_t stale = 0;
        bool cleared = false;
        while (pending != 0) {
            stale = pending & inactive;
            for (std::uint64_t live = pending & ~inactive; live != 0; live &= live - 1) {
                const int i = __builtin_ctzll(live);
                if (start[i] > seq) stale |= std::uint64_t{1} << i;
            }
            if (stale == 0) break;
            if (c.state.load(kAcq) != w) break;  // recycled: not this sample any more
            if (c.pending.compare_exchange_weak(pending, pending & ~stale, kSeq, kAcq)) {
                cleared = true;
                break;
            }
        }
        if (!cleared) continue;
        if (c.state.load(kAcq) != w) {
            // Recycled under us after all: give the new sample its bits back.
            c.pending.fetch_or(stale, kSeq);
            continue;
        }
        if ((pending & ~stale) == 0) {
            freed_any = true;
            slot_freed();
        }
    }
    return freed_any;
}

void Segment::Impl::clear_reader_bits(std::uint32_t index) {
    const std::uint64_t bit = std::uint64_t{1} << index;
    for (std::uint32_t k = 0; k < slot_count; ++k) {
        SlotControl& c = slots[k];
        if ((c.pending.load(kRlx) & bit) == 0) continue;
        const std::uint64_t before = c.pending.fetch_and(~bit, kSeq);
        ZFD_FAULT_POINT("detach.bit_cleared");
        if (before == bit && word_state(c.state.load(kAcq)) == kSlotCommitted) slot_freed();
    }
}

// ---------------------------------------------------------------- reader

Status Reader::Impl::peek(std::uint32_t* out_slot, std::uint64_t* out_word, std::uint64_t* out_len,
                          std::uint64_t* out_seq) {
    Segment::Impl& s = *seg;
    // Bounded: a reader far behind an eviction skips at most a log's worth
    // of entries per call and continues on the next one.
    for (std::uint64_t steps = 0; steps <= s.log_size + 1; ++steps) {
        const std::uint64_t c = cursor;
        const LogEntry& e = s.log[c & s.log_mask];
        const std::uint64_t t = e.tag.load(kAcq);
        if (t == 0 || t < c + 1) return Status::no_sample;
        if (t > c + 1) {
            // Overwritten: the writer went a whole log ahead, which only
            // eviction allows. Resume at the oldest entry that can be live.
            const std::uint64_t oldest = t - 1 >= s.log_size ? t - s.log_size : 0;
            cursor = oldest > c + 1 ? oldest : c + 1;
            continue;
        }
        const std::uint64_t k64 = e.slot.load(kRlx);
        std::atomic_thread_fence(kAcq);
        if (e.tag.load(kRlx) != t) continue;  // rewritten while we read it
        if (k64 >= s.slot_count) {  // hostile or corrupt entry
            ++cursor;
            continue;
        }
        const auto k = static_cast<std::uint32_t>(k64);
        const SlotControl& sc = s.slots[k];
        const std::uint64_t w = sc.state.load(kAcq);
        const std::uint64_t seq = sc.seq.load(kRlx);
        const std::uint64_t pending = sc.pending.load(kRlx);
        const std::uint64_t len = sc.len.load(kRlx);
        const std::uint64_t label = sc.label.load(kRlx);
        std::atomic_thread_fence(kAcq);
        const bool stable = sc.state.load(kRlx) == w;
        // label - seq is the offset at this commit; offsets only grow, so a
        // smaller one than the last sample's is forged (and would make the
        // numbers this reader returns go backwards).
        if (!stable || word_state(w) != kSlotCommitted || seq != c || (pending & bit) == 0 ||
            len > s.slot_capacity || label < seq || label - seq < min_offset) {
            // Not ours (committed while we attached), evicted, or recycled.
            ++cursor;
            continue;
        }
        *out_slot = k;
        *out_word = w;
        *out_len = len;
        *out_seq = label;
        peek_offset = label - seq;
        return Status::ok;
    }
    return Status::no_sample;
}

Status Reader::Impl::empty_status() {
    if (!seg->owner_is_gone()) return Status::no_sample;
    // The owner's last commit happened before it closed/died; look once more
    // so nothing unread is reported as gone.
    std::uint32_t k;
    std::uint64_t w, len, seq;
    return peek(&k, &w, &len, &seq) == Status::ok ? Status::ok : Status::peer_gone;
}

Status Reader::Impl::release_slot(std::uint32_t k, std::uint64_t gen) {
    Segment::Impl& s = *seg;
    SlotControl& c = s.slots[k];
    held[k] = kNotHeld;
    --held_count;
    publish_held();
    if (c.state.load(kAcq) != slot_word(gen, kSlotCommitted)) return Status::evicted;
    ZFD_FAULT_POINT("reader.release.checked");
    // Release order: our reads of the payload happen before the writer,
    // which acquires `pending`, reuses the slot.
    const std::uint64_t before = c.pending.fetch_and(~bit, kSeq);
    ZFD_FAULT_POINT("reader.release.bit_cleared");
    if ((before & bit) == 0) return Status::evicted;  // cleared by eviction
    if (before == bit) s.slot_freed();
    return Status::ok;
}

}  // namespace zerodds::flatdata
