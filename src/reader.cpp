// reader.cpp — a reader: attach/detach in the reader table, take, release,
// take_copy and wait. The slot steps themselves are in slot_allocator.cpp.
//
// Invariant: a Reader touches shared state for its index only while its
// entry word is still the one it wrote at attach; once the owner detached it
// (or reaped it), every call but the destructor returns Status::detached and
// the destructor touches nothing shared, so a newer reader on the same index
// is never disturbed.
#include "fault.hpp"
#include "liveness.hpp"
#include "notify.hpp"
#include "segment_impl.hpp"

#include <unistd.h>

#include <cstring>

namespace zerodds::flatdata {

using namespace layout;

namespace {
constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRlx = std::memory_order_relaxed;
constexpr auto kSeq = std::memory_order_seq_cst;
}  // namespace

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Status Reader::open(const std::shared_ptr<Segment>& segment, std::unique_ptr<Reader>* out) {
    Segment::Impl& s = segment->impl();
    if (s.owner_is_gone()) return Status::peer_gone;
    auto impl = std::make_unique<Impl>();
    impl->segment = segment;
    impl->seg = &s;
    impl->tag = next_tag();
    impl->held.reset(new std::uint64_t[s.slot_count]);
    impl->superseded.reset(new std::uint64_t[s.slot_count]);
    for (std::uint32_t k = 0; k < s.slot_count; ++k) {
        impl->held[k] = Impl::kNotHeld;
        impl->superseded[k] = Impl::kNotHeld;
    }

    std::lock_guard local(s.readers_mutex);
    for (std::uint32_t i = 0; i < kMaxReaders; ++i) {
        const std::uint64_t bit = std::uint64_t{1} << i;
        ReaderEntry& e = s.readers[i];
        std::uint64_t w = e.word.load(kAcq);
        if ((w & 3u) != kReaderFree) continue;
        // Lock before activating (reaping relies on it). A lock this process
        // already holds for a detached handle on the same index is shared.
        const bool lock_held = s.named && s.lock_refs[i] > 0;
        if (s.named && !lock_held && !s.region->try_lock_byte(liveness::reader_byte(i))) continue;
        // start_seq before the active bit: see PROTOCOL.md, "Commit".
        ZFD_FAULT_POINT("reader.open.locked");
        const std::uint64_t start = s.hdr->next_seq.load(kSeq);
        e.start_seq.store(start, kSeq);
        e.cursor.store(start, kRlx);
        e.pid.store(::getpid(), kRlx);
        e.held.store(0, kRlx);
        const std::uint64_t active = (((w >> 2) + 1) << 2) | kReaderActive;
        if (!e.word.compare_exchange_strong(w, active, kSeq)) {
            if (s.named && !lock_held) s.region->unlock_byte(liveness::reader_byte(i));
            continue;
        }
        ZFD_FAULT_POINT("reader.open.entry_active");
        s.hdr->active_readers.fetch_or(bit, kSeq);
        s.hdr->membership.fetch_add(1, kSeq);
        if (s.named) ++s.lock_refs[i];
        impl->index = i;
        impl->bit = bit;
        impl->entry_word = active;
        impl->cursor = start;
        impl->locked = s.named;
        out->reset(new Reader(std::move(impl)));
        return Status::ok;
    }
    return Status::no_reader_slot;
}

Reader::~Reader() {
    Impl& r = *impl_;
    Segment::Impl& s = *r.seg;
    ReaderEntry& e = s.readers[r.index];
    // ACTIVE -> CLOSING first: from here on neither the owner (detach only
    // takes ACTIVE entries) nor a new reader (attach only takes FREE ones)
    // can act on this index, so clearing its bits cannot hit a newer reader.
    std::uint64_t w = r.entry_word;
    const std::uint64_t closing = (w & ~std::uint64_t{3}) | kReaderClosing;
    if (e.word.compare_exchange_strong(w, closing, kSeq)) {
        // Leave the commit mask, give back every bit we own (held and
        // unread samples), then free the entry.
        ZFD_FAULT_POINT("reader.close.closing");
        s.hdr->active_readers.fetch_and(~r.bit, kSeq);
        s.clear_reader_bits(r.index);
        ZFD_FAULT_POINT("reader.close.bits_cleared");
        e.word.store((((closing >> 2) + 1) << 2) | kReaderFree, kSeq);
        s.hdr->membership.fetch_add(1, kSeq);
    }
    std::lock_guard local(s.readers_mutex);
    if (r.locked && --s.lock_refs[r.index] == 0) s.region->unlock_byte(liveness::reader_byte(r.index));
}

std::uint32_t Reader::index() const { return impl_->index; }

Status Reader::take(std::uint64_t* out_token, const void** out_data, std::size_t* out_len,
                    std::uint64_t* out_seq) {
    Impl& r = *impl_;
    if (!r.attached()) return Status::detached;
    std::uint32_t k;
    std::uint64_t w, len, seq;
    Status st = r.peek(&k, &w, &len, &seq);
    if (st == Status::no_sample) {
        st = r.empty_status();
        if (st == Status::ok) st = r.peek(&k, &w, &len, &seq);
        if (st != Status::ok) return st;
    }
    Segment::Impl& s = *r.seg;
    ZFD_FAULT_POINT("reader.take.found");
    r.note_take(k, word_gen(w));
    r.min_offset = r.peek_offset;
    ++r.cursor;
    s.readers[r.index].cursor.store(r.cursor, kRlx);
    *out_token = token::encode(true, r.tag, word_gen(w), k);
    if (out_data != nullptr) *out_data = s.slot_payload(k);
    if (out_len != nullptr) *out_len = static_cast<std::size_t>(len);
    if (out_seq != nullptr) *out_seq = seq;
    return Status::ok;
}

Status Reader::release(std::uint64_t t) {
    Impl& r = *impl_;
    if (!r.attached()) return Status::detached;
    if (!token::is_sample(t) || token::tag(t) != r.tag) return Status::not_loaned;
    const std::uint32_t k = token::index(t);
    if (k >= r.seg->slot_count) return Status::not_loaned;
    const std::uint64_t gen = r.held[k];
    if (gen != Impl::kNotHeld && (gen & token::kGenMask) == token::gen(t)) {
        return r.release_slot(k, gen);
    }
    // An older token of a slot that was evicted, reused and taken again.
    const std::uint64_t old = r.superseded[k];
    if (old != Impl::kNotHeld && (old & token::kGenMask) == token::gen(t)) {
        r.superseded[k] = Impl::kNotHeld;
        --r.held_count;
        r.publish_held();
        return Status::evicted;
    }
    return Status::not_loaned;
}

void Reader::Impl::note_take(std::uint32_t k, std::uint64_t gen) {
    if (held[k] != kNotHeld) {
        // Slot k was evicted from us, reused and committed again, or we
        // could not be taking it now: keep the old token releasable (as
        // ZFD_E_EVICTED). Only one such older token is kept per slot; an
        // even older one is forgotten and its release reports NOT_LOANED.
        if (superseded[k] != kNotHeld) --held_count;
        superseded[k] = held[k];
    }
    held[k] = gen;
    ++held_count;
    publish_held();
}

void Reader::Impl::publish_held() { seg->readers[index].held.store(held_count, kRlx); }

Status Reader::take_copy(void* buf, std::size_t capacity, std::size_t* out_len,
                         std::uint64_t* out_seq) {
    Impl& r = *impl_;
    if (!r.attached()) return Status::detached;
    Segment::Impl& s = *r.seg;
    for (;;) {
        std::uint32_t k;
        std::uint64_t w, len, seq;
        Status st = r.peek(&k, &w, &len, &seq);
        if (st == Status::no_sample) {
            st = r.empty_status();
            if (st == Status::ok) st = r.peek(&k, &w, &len, &seq);
        }
        if (st != Status::ok) return st;
        if (len > capacity) {
            if (out_len != nullptr) *out_len = static_cast<std::size_t>(len);
            return Status::too_large;  // not consumed: the cursor stays on it
        }
        if (len != 0) std::memcpy(buf, s.slot_payload(k), static_cast<std::size_t>(len));
        // Seqlock check: if the slot moved while we copied, the copy may be
        // torn; drop it and move on to the next sample.
        std::atomic_thread_fence(kAcq);
        const bool intact = s.slots[k].state.load(kRlx) == w;
        ++r.cursor;
        s.readers[r.index].cursor.store(r.cursor, kRlx);
        r.note_take(k, word_gen(w));
        const Status rel = r.release_slot(k, word_gen(w));
        if (!intact || rel == Status::evicted) continue;
        r.min_offset = r.peek_offset;
        if (out_len != nullptr) *out_len = static_cast<std::size_t>(len);
        if (out_seq != nullptr) *out_seq = seq;
        return Status::ok;
    }
}

Status Reader::wait(std::int64_t timeout_ns) {
    Impl& r = *impl_;
    if (!r.attached()) return Status::detached;
    Segment::Impl& s = *r.seg;
    Status result = Status::timeout;
    const notify::Deadline deadline(timeout_ns);
    notify::wait_until(
        [&] {
            if (!r.attached()) {
                result = Status::detached;
                return true;
            }
            std::uint32_t k;
            std::uint64_t w, len, seq;
            Status st = r.peek(&k, &w, &len, &seq);
            if (st == Status::no_sample) st = r.empty_status();
            if (st == Status::no_sample) return false;
            result = st;
            return true;
        },
        s.data_point(), deadline);
    return result;
}

}  // namespace zerodds::flatdata
