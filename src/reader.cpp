// reader.cpp — a reader: attach/detach in the reader table, and its steps of
// the sample protocol: find, hold, take, take_latest, release, take_copy,
// wait (PROTOCOL.md, "Take", "Release", "take_latest", "Attach, history").
//
// Invariant: a Reader touches shared state for its index only while its
// entry word is still the one it wrote at attach; once the owner detached it
// (or reaped it), every call but the destructor returns Status::detached and
// the destructor touches nothing shared, so a newer reader on the same index
// is never disturbed. A reader writes only its own entry line and held
// bitmap; it never writes a word the writer writes.
#include "fault.hpp"
#include "liveness.hpp"
#include "notify.hpp"
#include "sample_path.hpp"
#include "segment_impl.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace zerodds::flatdata {

using namespace layout;

namespace {
constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRel = std::memory_order_release;
constexpr auto kRlx = std::memory_order_relaxed;
constexpr auto kSeq = std::memory_order_seq_cst;

// take_latest looks back at most this many positions for a published
// descriptor (PROTOCOL.md, "Known limits").
constexpr std::uint64_t kLatestLookBack = 64;
}  // namespace

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Status Reader::open(const std::shared_ptr<Segment>& segment, std::uint32_t flags,
                    std::unique_ptr<Reader>* out) {
    Segment::Impl& s = segment->impl();
    if (s.owner_is_gone()) return Status::peer_gone;
    notify::register_process();
    auto impl = std::make_unique<Impl>();
    impl->segment = segment;
    impl->seg = &s;
    impl->tag = next_tag();
    impl->open_pid = ::getpid();
    const std::uint32_t nodes = 2 * s.slot_count;
    impl->holds.reset(new Impl::Hold[nodes]);
    impl->cur.reset(new std::uint32_t[s.slot_count]);
    impl->old.reset(new std::uint32_t[s.slot_count]);
    for (std::uint32_t k = 0; k < s.slot_count; ++k) impl->cur[k] = impl->old[k] = Impl::kNone;
    for (std::uint32_t n = 0; n < nodes; ++n) impl->holds[n].next = n + 1 < nodes ? n + 1 : Impl::kNone;
    impl->free_node = 0;
    const bool history = (flags & kReaderFlagHistory) != 0;
    const std::uint64_t h = history ? s.history : 0;

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
        ZFD_FAULT_POINT("reader.open.locked");
        // A first, conservative start; published before the active bit so a
        // writer that sees the bit sees a start no later than the real one.
        const std::uint64_t n0 = s.hdr->next_pos.load(kSeq);
        const std::uint64_t x = n0 > h ? n0 - h : 0;
        e.start.store(x, kRlx);
        e.cursor.store(x, kRlx);
        e.released.store(x, kRlx);
        e.progress.store(0, kRlx);
        e.pid.store(::getpid(), kRlx);
        e.flags.store(history ? kReaderFlagHistory : 0, kRlx);
        std::atomic<std::uint64_t>* bits = s.held_words(i);
        for (std::uint64_t j = 0; j < s.held_stride / 8; ++j) bits[j].store(0, kRlx);
        const std::uint64_t active = (((w >> 2) + 1) << 2) | kReaderActive;
        if (!e.word.compare_exchange_strong(w, active, kSeq)) {
            if (s.named && !lock_held) s.region->unlock_byte(liveness::reader_byte(i));
            continue;
        }
        ZFD_FAULT_POINT("reader.open.entry_active");
        s.hdr->active_readers.fetch_or(bit, kSeq);
        // Evictions before the position load: an eviction of a sample we
        // will see as live comes after its commit, so after this load.
        const std::uint64_t evictions = s.hdr->evictions.load(kSeq);
        const std::uint64_t evict_high = s.hdr->evict_high.load(kSeq);
        // The real start, read after our bit is visible (PROTOCOL.md,
        // "Attach, history": the writer cannot have judged anything from
        // here on free without seeing us).
        const std::uint64_t n1 = s.hdr->next_pos.load(kSeq);
        const std::uint64_t start = n1 > h ? n1 - h : 0;
        e.start.store(start, kRel);
        e.cursor.store(start, kRel);
        e.released.store(start, kRel);
        ZFD_FAULT_POINT("reader.open.visible");
        s.hdr->membership.fetch_add(1, kSeq);
        if (s.named) ++s.lock_refs[i];
        impl->index = i;
        impl->bit = bit;
        impl->entry_word = active;
        impl->entry = &e;
        impl->bits = bits;
        impl->locked = s.named;
        impl->start = n1;
        impl->cursor = start;
        impl->released = start;
        impl->evictions_seen = evictions;
        impl->validate_below = evict_high;
        // Below this, a take checks the slot: history positions, anything an
        // eviction may have reached, and under OVERWRITE_OLDEST everything.
        impl->validate_floor = s.overwrite ? ~std::uint64_t{0} : std::max(n1, evict_high);
        out->reset(new Reader(std::move(impl)));
        return Status::ok;
    }
    return Status::no_reader_slot;
}

Reader::~Reader() {
    Impl& r = *impl_;
    Segment::Impl& s = *r.seg;
    if (r.entry != nullptr) {
        ReaderEntry& e = *r.entry;
        // ACTIVE -> CLOSING first: from here on neither the owner (detach only
        // takes ACTIVE entries) nor a new reader (attach only takes FREE ones)
        // can act on this index. Leaving is all it takes to release what we
        // hold or have not read: the writer only looks at active readers.
        std::uint64_t w = r.entry_word;
        const std::uint64_t closing = (w & ~std::uint64_t{3}) | kReaderClosing;
        if (e.word.compare_exchange_strong(w, closing, kSeq)) {
            ZFD_FAULT_POINT("reader.close.closing");
            if (r.ev) r.disarm_on_close();  // the index is still ours
            // Our progress leaves the notify generation's sum: keep it (and
            // one step for the slots we free) in `freed` first.
            s.hdr->freed.fetch_add(r.progress + 1, kSeq);
            s.hdr->active_readers.fetch_and(~r.bit, kSeq);
            ZFD_FAULT_POINT("reader.close.left");
            e.word.store((((closing >> 2) + 1) << 2) | kReaderFree, kSeq);
            s.hdr->membership.fetch_add(1, kSeq);
            s.notify_space();
        }
    }
    std::lock_guard local(s.readers_mutex);
    if (r.locked && --s.lock_refs[r.index] == 0) s.region->unlock_byte(liveness::reader_byte(r.index));
}

std::uint32_t Reader::index() const { return impl_->index; }

// ---------------------------------------------------------------- steps

void Reader::Impl::publish_progress(bool freed) {
    entry->cursor.store(cursor, kRel);
    entry->released.store(released, kRel);
    entry->progress.store(progress, kRel);
    if (freed) seg->notify_space();
}

void Reader::Impl::skip_to(std::uint64_t pos) {
    if (pos <= cursor) return;
    progress += pos - cursor;
    cursor = pos;
    if (head == kNone) released = cursor;
    publish_progress(true);
}

Status Reader::Impl::find(Candidate* out) {
    Segment::Impl& s = *seg;
    // Bounded: a reader far behind skips at most a log's worth of entries
    // per call and continues on the next one.
    for (std::uint64_t steps = 0; steps <= s.log_size + 1; ++steps) {
        const std::uint64_t c = cursor;
        const Descriptor& d = s.log[c & s.log_mask];
        const std::uint64_t t = d.tag.load(kAcq);
        // Tag 0 is a descriptor being rewritten, never a match: a cursor
        // that forged tags pushed to 2^64 - 1 must not take a sample there
        // and wrap to 0 (the numbers it returns would go backwards).
        if (t == c + 1 && t != 0) {
            const std::uint32_t k = d.slot.load(kRlx);
            const std::uint32_t gen = d.gen.load(kRlx);
            const std::uint64_t len = d.len.load(kRlx);
            const std::uint64_t label = d.label.load(kRlx);
            const std::uint32_t next = d.next.load(kRlx);
            std::atomic_thread_fence(kAcq);
            if (d.tag.load(kRlx) != t) continue;  // rewritten while we read it
            // label - c is the offset at this commit; offsets only grow, so a
            // smaller one than the last sample's is forged (and would make
            // the numbers this reader returns go backwards).
            if (k >= s.slot_count || len > s.slot_capacity || label < c || label - c < min_offset) {
                skip_to(c + 1);  // hostile or corrupt entry
                continue;
            }
            *out = Candidate{c, len, label, k, gen, next};
            return Status::ok;
        }
        if (t > c + 1) {
            // Rewritten: the writer went a whole log ahead (eviction, or the
            // overwrite policy). Resume at the oldest entry that can be live.
            const std::uint64_t oldest = t - 1 >= s.log_size ? t - s.log_size : 0;
            skip_to(std::max(oldest, c + 1));
            continue;
        }
        touch_next();
        return Status::no_sample;
    }
    return Status::no_sample;
}

bool Reader::Impl::look_at(std::uint64_t n, Candidate* out) {
    Segment::Impl& s = *seg;
    const Descriptor& d = s.log[n & s.log_mask];
    const std::uint64_t t = d.tag.load(kAcq);
    if (t != n + 1 || t == 0) return false;
    const std::uint32_t k = d.slot.load(kRlx);
    const std::uint32_t gen = d.gen.load(kRlx);
    const std::uint64_t len = d.len.load(kRlx);
    const std::uint64_t label = d.label.load(kRlx);
    const std::uint32_t next = d.next.load(kRlx);
    std::atomic_thread_fence(kAcq);
    if (d.tag.load(kRlx) != t) return false;
    if (k >= s.slot_count || len > s.slot_capacity || label < n || label - n < min_offset) return false;
    *out = Candidate{n, len, label, k, gen, next};
    return true;
}

bool Reader::Impl::hold(const Candidate& c, std::uint64_t* evictions) {
    Segment::Impl& s = *seg;
    const std::uint32_t k = c.slot;
    const std::uint64_t m = std::uint64_t{1} << (k & 63);
    std::atomic<std::uint64_t>& word = bits[k >> 6];
    const bool had_bit = cur[k] != kNone;  // we still hold an evicted sample of this slot
    // Our bit first (PROTOCOL.md, "Take", steps 4-6).
    if (!had_bit) word.store(word.load(kRlx) | m, kRlx);
    bool intact = true;
    if (s.overwrite) {
        // Dekker with the writer's overwrite probe.
        std::atomic_thread_fence(kSeq);
        *evictions = s.hdr->evictions.load(kAcq);
        intact = slot_holds(k, c.gen, c.pos);
    } else {
        *evictions = s.hdr->evictions.load(kAcq);
        if (*evictions != evictions_seen) {
            // Something was evicted since we last looked: positions up to
            // the highest one evicted are checked against their slot.
            evictions_seen = *evictions;
            validate_below = std::max(validate_below, s.hdr->evict_high.load(kAcq));
            if (!s.overwrite) validate_floor = std::max(start, validate_below);
        }
        // History samples were committed before we attached: check them.
        if (c.pos < start || c.pos < validate_below) intact = slot_holds(k, c.gen, c.pos);
    }
    ZFD_FAULT_POINT("reader.take.held");
    if (!intact) {
        if (!had_bit) word.store(word.load(kRlx) & ~m, kRel);
        skip_to(c.pos + 1);
        return false;
    }
    return true;
}

Status Reader::Impl::take_next(Candidate* out, std::uint64_t* evictions) {
    for (std::uint64_t tries = 0; tries <= seg->log_size + 1; ++tries) {
        if (Status st = find(out); st != Status::ok) return st;
        if (hold(*out, evictions)) return Status::ok;
    }
    return Status::no_sample;
}

Status Reader::Impl::empty_status(bool polling) {
    Segment::Impl& s = *seg;
    // The full owner check reads a clock; a reader polling take pays it
    // every 16th empty poll (the close flag itself is one load of a shared
    // line), a waiting reader every time it wakes.
    if (polling && !s.owner_gone.load(kRlx) && s.hdr->owner_closed.load(kAcq) == kOwnerOpen &&
        (++empty_polls & 15) != 0) {
        return Status::no_sample;
    }
    if (!s.owner_is_gone()) return Status::no_sample;
    // The owner's last commit happened before it closed/died; look once more
    // so nothing unread is reported as gone.
    Candidate c;
    return find(&c) == Status::ok ? Status::ok : Status::peer_gone;
}

// ---------------------------------------------------------------- calls

namespace {

Status finish_take(Reader::Impl& r, const Reader::Impl::Candidate& c, std::uint64_t evictions,
                   std::uint64_t* out_token, const void** out_data, std::size_t* out_len,
                   std::uint64_t* out_seq) {
    r.note_take(c, evictions);
    *out_token = token::encode(true, r.tag, c.gen, c.slot);
    if (out_data != nullptr) *out_data = r.seg->slot_payload(c.slot);
    if (out_len != nullptr) *out_len = static_cast<std::size_t>(c.len);
    if (out_seq != nullptr) *out_seq = c.label;
    return Status::ok;
}

}  // namespace

Status Reader::Impl::take_slow(std::uint64_t* out_token, const void** out_data,
                               std::size_t* out_len, std::uint64_t* out_seq) {
    Candidate c;
    std::uint64_t evictions = 0;
    Status st = take_next(&c, &evictions);
    if (st == Status::no_sample) {
        st = empty_status(true);
        if (st == Status::ok) st = take_next(&c, &evictions);
        if (st != Status::ok) return st;
    }
    return finish_take(*this, c, evictions, out_token, out_data, out_len, out_seq);
}

Status Reader::take(std::uint64_t* out_token, const void** out_data, std::size_t* out_len,
                    std::uint64_t* out_seq) {
    return sample_path::take(*impl_, out_token, out_data, out_len, out_seq);
}

Status Reader::take_latest(std::uint64_t* out_token, const void** out_data, std::size_t* out_len,
                           std::uint64_t* out_seq) {
    Impl& r = *impl_;
    if (!r.attached()) return Status::detached;
    const std::uint64_t np = r.seg->hdr->next_pos.load(kAcq);
    Impl::Candidate c;
    std::uint64_t evictions = 0;
    for (std::uint64_t i = 0; i < kLatestLookBack && np > r.cursor + i; ++i) {
        const std::uint64_t n = np - 1 - i;
        if (!r.look_at(n, &c)) continue;
        // Everything older that we had not taken counts as read; n itself
        // stays ours until our bit is set (the cursor stops at it).
        r.skip_to(n);
        if (r.hold(c, &evictions)) {
            return finish_take(r, c, evictions, out_token, out_data, out_len, out_seq);
        }
        break;  // gone under us: whatever is next, oldest first
    }
    return take(out_token, out_data, out_len, out_seq);
}

Status Reader::Impl::release_other(std::uint32_t k, std::uint64_t gen24) {
    // An older token of a slot that was evicted, reused and taken again.
    if (old[k] != kNone && (holds[old[k]].gen & token::kGenMask) == gen24) {
        return release_node(old[k], false);
    }
    return Status::not_loaned;
}

Status Reader::release(std::uint64_t t) { return sample_path::release(*impl_, t); }

Status Reader::take_copy(void* buf, std::size_t capacity, std::size_t* out_len,
                         std::uint64_t* out_seq) {
    Impl& r = *impl_;
    if (!r.attached()) return Status::detached;
    Segment::Impl& s = *r.seg;
    for (;;) {
        Impl::Candidate c;
        Status st = r.find(&c);
        if (st == Status::no_sample) {
            st = r.empty_status(true);
            if (st == Status::ok) st = r.find(&c);
        }
        if (st != Status::ok) return st;
        if (c.len > capacity) {
            if (out_len != nullptr) *out_len = static_cast<std::size_t>(c.len);
            return Status::too_large;  // not consumed: the cursor stays on it
        }
        std::uint64_t evictions = 0;
        if (!r.hold(c, &evictions)) continue;
        const std::uint32_t n = r.note_take(c, evictions);
        if (c.len != 0) std::memcpy(buf, s.slot_payload(c.slot), static_cast<std::size_t>(c.len));
        // Seqlock check: a sample evicted (and maybe reused) while we copied
        // may be torn; drop it and move on to the next one.
        if (r.release_node(n, true) != Status::ok) continue;
        if (out_len != nullptr) *out_len = static_cast<std::size_t>(c.len);
        if (out_seq != nullptr) *out_seq = c.label;
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
            Impl::Candidate c;
            Status st = r.find(&c);
            if (st == Status::no_sample) st = r.empty_status(false);
            if (st == Status::no_sample) return false;
            result = st;
            return true;
        },
        s.data_point(), deadline);
    return result;
}

}  // namespace zerodds::flatdata
