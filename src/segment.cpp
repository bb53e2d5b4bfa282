// segment.cpp — segment lifecycle: create, open (with full validation),
// unlink, close; info; notify generation; eviction and liveness.
//
// Invariant kept here: a Segment::Impl only ever holds geometry that was
// validated against the size of the mapping (open) or computed by us
// (create); the protocol code trusts those copies and nothing else.
#include "fault.hpp"
#include "liveness.hpp"
#include "notify.hpp"
#include "segment_impl.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>

namespace zerodds::flatdata {

using namespace layout;

static_assert(kOriginCapacity == layout::kOriginSize);
static_assert(kInstanceIdSize == layout::kInstanceIdBytes);

namespace {

constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRel = std::memory_order_release;
constexpr auto kRlx = std::memory_order_relaxed;
constexpr auto kSeq = std::memory_order_seq_cst;

constexpr std::size_t kMaxNameLength = 200;
constexpr std::int64_t kOwnerProbeIntervalNs = 10'000'000;  // 10 ms
constexpr auto kReadyWait = std::chrono::milliseconds(1000);

std::uint64_t random_u64() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                            (std::uint64_t(::getpid()) << 32) ^
                                            std::uint64_t(notify::now_ns())};
    return rng();
}

// 128 random bits from the kernel (the instance id bridges compare to tell
// "the same segment" from "another segment of the same name").
InstanceId random_instance_id() {
    InstanceId id{};
    std::size_t got = 0;
    while (got < id.size()) {
        const ssize_t n = ::getrandom(id.data() + got, id.size() - got, 0);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n < 0 && errno != EINTR) {
            break;
        }
    }
    if (got < id.size()) {  // no getrandom (seccomp, old kernel): still unique enough
        const std::uint64_t a = random_u64(), b = random_u64();
        std::memcpy(id.data(), &a, 8);
        std::memcpy(id.data() + 8, &b, 8);
    }
    return id;
}

// Points the Impl's views into the region and copies validated geometry.
void bind(Segment::Impl& s, const Geometry& g) {
    std::byte* base = s.region->base();
    s.hdr = reinterpret_cast<SegmentHeader*>(base);
    s.readers = reinterpret_cast<ReaderEntry*>(base + g.readers_offset);
    s.slots = reinterpret_cast<SlotControl*>(base + g.slots_offset);
    s.log = reinterpret_cast<Descriptor*>(base + g.log_offset);
    s.held_base = base + g.held_offset;
    s.payload = base + g.payload_offset;
    s.slot_count = g.slot_count;
    s.log_size = g.log_size;
    s.log_mask = g.log_size - 1;
    s.slot_capacity = g.slot_capacity;
    s.payload_stride = g.payload_stride;
    s.held_stride = g.held_stride;
    s.total_size = g.total_size;
    s.overwrite = (s.flags & kFlagOverwriteOldest) != 0;
    // With a 64-byte stride, two consecutive slots share a 128-byte pair that
    // the hardware fetches together, which helps the writer claim them in
    // order; from 128 bytes on, nothing is shared and sequential order only
    // feeds a trailing reader's prefetcher (see reserve_step).
    std::uint32_t step = 1;
    if (g.slot_count > 2 && g.payload_stride >= 2 * kCacheLine) {
        step = static_cast<std::uint32_t>((std::uint64_t{g.slot_count} * 618) / 1000) | 1u;
        while (std::gcd(step, g.slot_count) != 1) step += 2;
        if (step >= g.slot_count) step = 1;
    }
    s.w.step = step;
}

// Writes a fresh header and control area; `state` goes ready last.
void initialise(Segment::Impl& s, const Geometry& g, const SegmentConfig& config) {
    SegmentHeader* h = new (s.region->base()) SegmentHeader{};
    h->magic = kMagic;
    h->layout_version = kLayoutVersion;
    h->endian_marker = kEndianMarker;
    h->header_size = sizeof(SegmentHeader);
    h->slot_count = g.slot_count;
    h->slot_capacity = g.slot_capacity;
    h->payload_stride = g.payload_stride;
    h->total_size = g.total_size;
    h->segment_id = s.segment_id;
    h->log_size = g.log_size;
    h->max_readers = kReaderEntries;
    h->readers_offset = g.readers_offset;
    h->slots_offset = g.slots_offset;
    h->log_offset = g.log_offset;
    h->held_offset = g.held_offset;
    h->payload_offset = g.payload_offset;
    h->held_stride = g.held_stride;
    h->history = s.history;
    h->owner_pid = ::getpid();
    h->owner_uid = ::geteuid();
    h->has_type_hash = config.type_hash ? 1 : 0;
    if (config.type_hash) std::memcpy(h->type_hash, config.type_hash->data(), kTypeHashSize);
    h->created_ns = static_cast<std::uint64_t>(notify::now_ns());
    std::memcpy(h->instance_id, s.instance_id.data(), kInstanceIdSize);
    h->flags = s.flags;
    std::memcpy(h->mirror_of, s.mirror_of.data(), kInstanceIdSize);
    std::memcpy(h->origin, s.origin, sizeof h->origin);
    bind(s, g);
    for (std::uint32_t i = 0; i < kMaxReaders; ++i) new (&s.readers[i]) ReaderEntry{};
    for (std::uint32_t k = 0; k < g.slot_count; ++k) new (&s.slots[k]) SlotControl{};
    for (std::uint64_t i = 0; i < g.log_size; ++i) new (&s.log[i]) Descriptor{};
    // Held bitmaps: the region is zeroed (heap: zero-filled; object:
    // ftruncate), and zero is every word's initial value.
    ZFD_FAULT_POINT("owner.create.initialised");
    h->state.store(kSegmentReady, kRel);
}

}  // namespace

std::uint32_t next_tag() {
    // Consecutive from a random start: tags of handles living at the same
    // time in one process differ unless 2^15 - 1 newer handles were opened
    // while the older one lived, and another process's tokens (or an earlier
    // run's) are unlikely to match.
    static std::atomic<std::uint32_t> next{static_cast<std::uint32_t>(random_u64())};
    for (;;) {
        const std::uint32_t t = next.fetch_add(1, std::memory_order_relaxed) & token::kTagMask;
        if (t != 0) return t;
    }
}

bool Segment::valid_name(const char* name) {
    if (name == nullptr) return false;
    std::size_t n = 0;
    for (const char* p = name; *p != '\0'; ++p, ++n) {
        if (n >= kMaxNameLength) return false;
        const char c = *p;
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return n >= 1;
}

Segment::Segment(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Segment::~Segment() {
    if (impl_ && impl_->owner) close_owner();
}

Status Segment::create(const char* name, const SegmentConfig& config, std::shared_ptr<Segment>* out,
                       ErrorDetail* detail) {
    if (name != nullptr && !valid_name(name)) {
        return fail(detail, Status::invalid_argument, 0,
                    "segment name must be 1..200 characters of [A-Za-z0-9._-]");
    }
    if (config.slot_count == 0 || config.slot_capacity == 0) {
        return fail(detail, Status::invalid_argument, 0,
                    "slot_count ({}) and slot_capacity ({}) must be non-zero", config.slot_count,
                    config.slot_capacity);
    }
    if (config.slot_count > kMaxSlotCount) {
        return fail(detail, Status::invalid_argument, 0, "slot_count {} exceeds the maximum {}",
                    config.slot_count, kMaxSlotCount);
    }
    if (config.history >= config.slot_count) {
        return fail(detail, Status::invalid_argument, 0,
                    "history {} must be below slot_count {} (the writer needs a slot to write "
                    "the next sample in)",
                    config.history, config.slot_count);
    }
    Geometry g{};
    if (!compute_geometry(config.slot_count, config.slot_capacity, &g)) {
        return fail(detail, Status::out_of_memory, 0,
                    "{} slots of {} bytes do not fit in one segment", config.slot_count,
                    config.slot_capacity);
    }
    notify::register_process();
    auto impl = std::make_unique<Impl>();
    Status st = name == nullptr
                    ? Region::create_heap(g.total_size, &impl->region, detail)
                    : Region::create_named(shm_path(name), g.total_size, config.mode,
                                           config.replace_stale, &impl->region, detail);
    if (st != Status::ok) return st;
    impl->owner = true;
    impl->named = name != nullptr;
    impl->segment_id = random_u64();
    impl->owner_pid = ::getpid();
    impl->type_hash = config.type_hash;
    impl->loan_tag = next_tag();
    impl->instance_id = random_instance_id();
    impl->history = config.history;
    if (config.overwrite_oldest) impl->flags |= kFlagOverwriteOldest;
    if (config.mirror) {
        impl->flags |= kFlagMirror;
        impl->mirror_of = config.mirror_of;
        const std::size_t n = std::min(config.origin.size(), sizeof impl->origin - 1);
        std::memcpy(impl->origin, config.origin.data(), n);
    }
    initialise(*impl, g, config);
    out->reset(new Segment(std::move(impl)));
    return Status::ok;
}

Status Segment::open(const char* name, const std::uint8_t* expected_type_hash,
                     std::shared_ptr<Segment>* out, ErrorDetail* detail) {
    if (!valid_name(name)) {
        return fail(detail, Status::invalid_argument, 0,
                    "segment name must be 1..200 characters of [A-Za-z0-9._-]");
    }
    auto impl = std::make_unique<Impl>();
    if (Status st = Region::open_named(shm_path(name), &impl->region, detail); st != Status::ok) {
        return st;
    }
    impl->named = true;
    notify::register_process();
    return attach(std::move(impl), name, expected_type_hash, out, detail);
}

Status Segment::attach_memory(void* base, std::size_t size, const std::uint8_t* expected_type_hash,
                              std::shared_ptr<Segment>* out, ErrorDetail* detail) {
    if (base == nullptr || size < sizeof(SegmentHeader)) {
        return fail(detail, Status::corrupt, 0, "{} bytes cannot hold a segment header ({} bytes)",
                    size, sizeof(SegmentHeader));
    }
    auto impl = std::make_unique<Impl>();
    impl->region = Region::borrow(static_cast<std::byte*>(base), size);
    impl->named = false;
    return attach(std::move(impl), "(memory)", expected_type_hash, out, detail);
}

Status Segment::owner_alive(const char* name, bool* alive) {
    if (!valid_name(name) || alive == nullptr) return Status::invalid_argument;
    return Region::probe_owner(shm_path(name), alive);
}

Status Segment::attach(std::unique_ptr<Impl> impl, const char* name,
                       const std::uint8_t* expected_type_hash, std::shared_ptr<Segment>* out,
                       ErrorDetail* detail) {
    Region& r = *impl->region;
    const std::uint64_t object_size = r.size();
    auto* h = reinterpret_cast<SegmentHeader*>(r.base());

    // The creator stores `state` last; wait a bounded time for it.
    // (Caller memory is not being initialised by anyone: no wait.)
    // A creator that died (owner lock free past a short grace, which covers
    // the instant between its O_EXCL create and its lock) ends the wait early.
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + (impl->named ? kReadyWait : std::chrono::milliseconds(0));
    std::uint32_t state = h->state.load(kAcq);
    while (state != kSegmentReady) {
        if (state != kSegmentInitialising && state != 0) {
            return fail(detail, Status::corrupt, 0, "segment state word is {} (expected {} or {})",
                        state, kSegmentInitialising, kSegmentReady);
        }
        const auto now = std::chrono::steady_clock::now();
        if (impl->named && now - start >= liveness::kCreatorGrace &&
            !r.byte_locked(liveness::kOwnerByte)) {
            return fail(detail, Status::peer_gone, 0,
                        "segment {} was never finished: its creator died while initialising it "
                        "(state {})",
                        name, state);
        }
        if (now >= deadline) {
            return fail(detail, Status::timeout, 0,
                        "segment {} is still initialising (state {}) after {} ms", name, state,
                        kReadyWait.count());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        state = h->state.load(kAcq);
    }

    // Read every identity field once, then validate the locals.
    const std::uint64_t magic = h->magic;
    const std::uint32_t version = h->layout_version;
    const std::uint32_t endian = h->endian_marker;
    const std::uint32_t header_size = h->header_size;
    const std::uint32_t max_readers = h->max_readers;
    const std::uint32_t slot_count = h->slot_count;
    const std::uint64_t slot_capacity = h->slot_capacity;
    const std::uint64_t payload_stride = h->payload_stride;
    const std::uint64_t total_size = h->total_size;
    const std::uint32_t log_size = h->log_size;
    const std::uint64_t readers_offset = h->readers_offset;
    const std::uint64_t slots_offset = h->slots_offset;
    const std::uint64_t log_offset = h->log_offset;
    const std::uint64_t held_offset = h->held_offset;
    const std::uint64_t payload_offset = h->payload_offset;
    const std::uint64_t held_stride = h->held_stride;
    const std::uint32_t history = h->history;
    const std::uint32_t has_hash = h->has_type_hash;
    TypeHash hash{};
    std::memcpy(hash.data(), h->type_hash, kTypeHashSize);
    const std::uint32_t flags = h->flags;

    if (magic != kMagic) {
        return fail(detail, Status::incompatible, 0, "bad magic {:#018x} (expected {:#018x})", magic,
                    kMagic);
    }
    if (version != kLayoutVersion) {
        return fail(detail, Status::incompatible, 0, "layout version {} (this library reads {})",
                    version, kLayoutVersion);
    }
    if (endian != kEndianMarker) {
        return fail(detail, Status::incompatible, 0, "endian marker {:#x} (expected {:#x})", endian,
                    kEndianMarker);
    }
    if (header_size != sizeof(SegmentHeader) || max_readers != kReaderEntries) {
        return fail(detail, Status::incompatible, 0,
                    "header size {} / max readers {} (expected {} / {})", header_size, max_readers,
                    sizeof(SegmentHeader), kReaderEntries);
    }
    if (slot_count == 0 || slot_count > kMaxSlotCount) {
        return fail(detail, Status::corrupt, 0, "slot_count {} out of range 1..{}", slot_count,
                    kMaxSlotCount);
    }
    Geometry g{};
    if (!compute_geometry(slot_count, slot_capacity, &g)) {
        return fail(detail, Status::corrupt, 0, "slot_count {} x slot_capacity {} overflows",
                    slot_count, slot_capacity);
    }
    if (payload_stride != g.payload_stride || log_size != g.log_size ||
        held_stride != g.held_stride || readers_offset != g.readers_offset ||
        slots_offset != g.slots_offset || log_offset != g.log_offset ||
        held_offset != g.held_offset || payload_offset != g.payload_offset) {
        return fail(detail, Status::corrupt, 0,
                    "geometry fields disagree with slot_count {} and slot_capacity {}: stride {} "
                    "(expected {}), log {} ({}), held stride {} ({}), offsets {}/{}/{}/{}/{} "
                    "({}/{}/{}/{}/{})",
                    slot_count, slot_capacity, payload_stride, g.payload_stride, log_size,
                    g.log_size, held_stride, g.held_stride, readers_offset, slots_offset,
                    log_offset, held_offset, payload_offset, g.readers_offset, g.slots_offset,
                    g.log_offset, g.held_offset, g.payload_offset);
    }
    if (history >= slot_count) {
        return fail(detail, Status::corrupt, 0, "history {} is not below slot_count {}", history,
                    slot_count);
    }
    if (total_size != g.total_size) {
        return fail(detail, Status::corrupt, 0, "total_size {} (expected {})", total_size,
                    g.total_size);
    }
    if (total_size > object_size) {
        return fail(detail, Status::corrupt, 0,
                    "segment needs {} bytes but the object has only {}", total_size, object_size);
    }
    if (has_hash > 1) {
        return fail(detail, Status::corrupt, 0, "has_type_hash is {} (expected 0 or 1)", has_hash);
    }
    if ((flags & ~kKnownFlags) != 0) {
        return fail(detail, Status::corrupt, 0, "segment flags {:#x} have unknown bits {:#x}", flags,
                    flags & ~kKnownFlags);
    }
    if (expected_type_hash != nullptr) {
        if (has_hash == 0) {
            return fail(detail, Status::type_mismatch, 0,
                        "segment {} carries no type hash but one was expected", name);
        }
        if (std::memcmp(hash.data(), expected_type_hash, kTypeHashSize) != 0) {
            return fail(detail, Status::type_mismatch, 0, "type hash {:02x} differs from expected {:02x}",
                        fmt::join(hash, ""),
                        fmt::join(expected_type_hash, expected_type_hash + kTypeHashSize, ""));
        }
    }

    impl->owner = false;
    impl->segment_id = h->segment_id;
    impl->owner_pid = h->owner_pid;
    if (has_hash == 1) impl->type_hash = hash;
    impl->flags = flags;
    impl->history = history;
    std::memcpy(impl->instance_id.data(), h->instance_id, kInstanceIdSize);
    std::memcpy(impl->mirror_of.data(), h->mirror_of, kInstanceIdSize);
    std::memcpy(impl->origin, h->origin, sizeof impl->origin);
    impl->origin[sizeof impl->origin - 1] = '\0';  // whatever the creator wrote
    impl->loan_tag = next_tag();
    bind(*impl, g);
    if (!r.protect_read_only(g.payload_offset, g.total_size - g.payload_offset)) {
        return fail(detail, Status::system_error, errno, "mprotect of the payload area failed");
    }
    out->reset(new Segment(std::move(impl)));
    return Status::ok;
}

Status Segment::unlink(const char* name, ErrorDetail* detail) {
    if (!valid_name(name)) {
        return fail(detail, Status::invalid_argument, 0,
                    "segment name must be 1..200 characters of [A-Za-z0-9._-]");
    }
    return Region::unlink_named(shm_path(name), detail);
}

void Segment::close_owner() {
    Impl& s = *impl_;
    if (!s.owner || s.owner_closed.exchange(true)) return;
    {
        // Loans in flight are discarded: nobody will commit them now.
        GateGuard gate(s.gate);
        for (std::uint32_t k = 0; k < s.slot_count; ++k) {
            const std::uint64_t w = s.slots[k].state.load(kAcq);
            if (word_state(w) == kSlotLoaned) {
                s.slots[k].state.store(slot_word(word_gen(w), kSlotFree), kRel);
            }
        }
    }
    // After every commit (release order): readers that see the flag and then
    // find nothing in the log know nothing more will come.
    s.hdr->owner_closed.store(kOwnerClosed, kSeq);
    for (auto* word : {&s.hdr->data_futex, &s.hdr->space_futex, &s.hdr->change_futex}) {
        word->fetch_add(1, kSeq);
        notify::futex_wake_all(word);
    }
    // Armed event-loop descriptors: they read ZFD_E_PEER_GONE now.
    s.fire_reader_fds();
    if (s.named) s.region->unlink_if_same_object();
}

bool Segment::is_owner() const { return impl_->owner; }

bool Segment::Impl::owner_is_gone() {
    if (owner_gone.load(kRlx)) return true;
    if (hdr->owner_closed.load(kAcq) != kOwnerOpen || owner_closed.load(kRlx)) {
        owner_gone.store(true, kRlx);
        return true;
    }
    if (!named || owner) return false;
    const std::int64_t now = notify::coarse_now_ns();
    if (now - last_owner_probe_ns.load(kRlx) < kOwnerProbeIntervalNs) return false;
    last_owner_probe_ns.store(now, kRlx);
    if (region->byte_locked(liveness::kOwnerByte)) return false;
    owner_gone.store(true, kRlx);
    return true;
}

void Segment::info(SegmentInfo* out) const {
    const Impl& s = *impl_;
    out->slot_count = s.slot_count;
    out->slot_capacity = s.slot_capacity;
    out->slot_stride = s.payload_stride + sizeof(SlotControl);
    out->total_size = s.total_size;
    out->segment_id = s.segment_id;
    out->is_named = s.named;
    out->is_owner = s.owner;
    out->type_hash = s.type_hash;
    out->active_readers = s.hdr->active_readers.load(kAcq);
    out->owner_pid = s.owner_pid;
    if (s.owner || !s.named) {
        out->owner_alive = !s.owner_closed.load(kRlx);
    } else {
        out->owner_alive = s.hdr->owner_closed.load(kAcq) == kOwnerOpen &&
                           s.region->byte_locked(liveness::kOwnerByte);
    }
    out->next_sequence = s.hdr->next_pos.load(kAcq) + s.hdr->label_offset.load(kAcq);
    out->overwrite_oldest = s.overwrite;
    out->history = s.history;
    out->instance_id = s.instance_id;
    out->mirror = (s.flags & kFlagMirror) != 0;
    out->mirror_of = s.mirror_of;
    out->origin.assign(s.origin, ::strnlen(s.origin, sizeof s.origin));
}

std::uint64_t Segment::notify_generation() const { return impl_->generation(); }

Status Segment::wait_for_change(std::uint64_t last_generation, std::int64_t timeout_ns) {
    Impl& s = *impl_;
    const notify::Deadline deadline(timeout_ns);
    const bool changed = notify::wait_until([&] { return s.generation() != last_generation; },
                                            s.change_point(), deadline);
    return changed ? Status::ok : Status::timeout;
}

Status Segment::evict_stale(std::int64_t max_age_ns, std::uint32_t* out_evicted) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    if (max_age_ns < 0) return Status::invalid_argument;
    std::uint32_t evicted = 0;
    {
        GateGuard gate(s.gate);
        Impl::Snapshot snap;
        s.refresh(&snap);
        const auto now = static_cast<std::uint64_t>(notify::coarse_now_ns());
        for (std::uint32_t k = 0; k < s.slot_count; ++k) {
            SlotControl& c = s.slots[k];
            const std::uint64_t w = c.state.load(kRlx);
            if (word_state(w) != kSlotCommitted) continue;
            const std::uint64_t committed = c.commit_ns.load(kRlx);
            if (now < committed || now - committed < static_cast<std::uint64_t>(max_age_ns)) continue;
            // Only samples some attached reader still wants or holds; a
            // sample kept only as history is not stale.
            const std::uint64_t q = c.pos.load(kRlx);
            bool pinned = false;
            for (std::uint64_t m = snap.mask; m != 0 && !pinned; m &= m - 1) {
                const auto i = static_cast<std::uint32_t>(__builtin_ctzll(m));
                if (snap.released[i] > q) continue;
                pinned = snap.cursor[i] <= q || s.held_bit(i, k);
            }
            if (!pinned) continue;
            // BUSY first: no reader validates a BUSY slot as good. Then the
            // counters readers compare (evict_high before evictions, which
            // they load first), then FREE with the next generation.
            c.state.store(slot_word(word_gen(w), kSlotBusy), kRlx);
            ZFD_FAULT_POINT("writer.evict.busy");
            if (s.hdr->evict_high.load(kRlx) < q + 1) s.hdr->evict_high.store(q + 1, kRel);
            s.hdr->evictions.fetch_add(1, kSeq);
            ZFD_FAULT_POINT("writer.evict.counted");
            c.state.store(slot_word(word_gen(w) + 1, kSlotFree), kRel);
            ++evicted;
        }
    }
    if (evicted != 0) s.slot_freed(evicted);
    if (out_evicted != nullptr) *out_evicted = evicted;
    return Status::ok;
}

Status Segment::claim(std::uint32_t role) {
    Impl& s = *impl_;
    if (role >= liveness::kClaimRoles) return Status::invalid_argument;
    if (!s.named) return Status::unsupported;
    const std::uint64_t bit = std::uint64_t{1} << role;
    std::lock_guard lock(s.readers_mutex);
    if ((s.claims & bit) != 0) return Status::ok;
    if (!s.region->try_lock_byte(liveness::claim_byte(role))) return Status::exists;
    s.claims |= bit;
    return Status::ok;
}

Status Segment::release_claim(std::uint32_t role) {
    Impl& s = *impl_;
    if (role >= liveness::kClaimRoles) return Status::invalid_argument;
    const std::uint64_t bit = std::uint64_t{1} << role;
    std::lock_guard lock(s.readers_mutex);
    if ((s.claims & bit) == 0) return Status::not_found;
    s.region->unlock_byte(liveness::claim_byte(role));
    s.claims &= ~bit;
    return Status::ok;
}

void Segment::release_all_claims() {
    Impl& s = *impl_;
    std::lock_guard lock(s.readers_mutex);
    for (std::uint64_t c = s.claims; c != 0; c &= c - 1) {
        s.region->unlock_byte(liveness::claim_byte(static_cast<std::uint32_t>(__builtin_ctzll(c))));
    }
    s.claims = 0;
}

bool Segment::claim_held(std::uint32_t role) const {
    const Impl& s = *impl_;
    if (role >= liveness::kClaimRoles || !s.named) return false;
    {
        std::lock_guard lock(const_cast<Impl&>(s).readers_mutex);
        if ((s.claims & (std::uint64_t{1} << role)) != 0) return true;
    }
    return s.region->byte_locked(liveness::claim_byte(role));
}

namespace {

// Detaches reader `index` if its entry word is still `word` (inside the gate).
bool detach(Segment::Impl& s, std::uint32_t index, std::uint64_t word) {
    ReaderEntry& e = s.readers[index];
    if (!e.word.compare_exchange_strong(word, ((word >> 2) + 1) << 2 | kReaderFree, kSeq)) {
        return false;
    }
    ZFD_FAULT_POINT("detach.entry_freed");
    // Its progress leaves the generation's sum: keep it in `freed`, plus one
    // step for the slots it pinned (they are free as soon as its bit goes).
    s.hdr->freed.fetch_add(e.progress.load(kAcq) + 1, kSeq);
    s.hdr->active_readers.fetch_and(~(std::uint64_t{1} << index), kSeq);
    s.hdr->membership.fetch_add(1, kSeq);
    // A sleeping detached reader should notice now, not after its slice.
    s.hdr->data_futex.fetch_add(1, kSeq);
    notify::futex_wake_all(&s.hdr->data_futex);
    // Its event-loop descriptor, if armed, reads ZFD_E_DETACHED now; a dead
    // reader's costs one refused datagram, and its bit is gone.
    s.fire_reader_fd(index);
    s.notify_space();
    return true;
}

}  // namespace

Status Segment::mark_reader_disconnected(std::uint32_t reader_index) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    if (reader_index >= kMaxReaders) return Status::invalid_argument;
    GateGuard gate(s.gate);
    const std::uint64_t w = s.readers[reader_index].word.load(kAcq);
    if ((w & 3u) != kReaderActive) return Status::not_found;
    return detach(s, reader_index, w) ? Status::ok : Status::not_found;
}

Status Segment::reap_dead_readers(std::uint32_t* out_reaped) {
    Impl& s = *impl_;
    if (!s.owner) return Status::permission;
    std::uint32_t reaped = 0;
    if (s.named) {
        GateGuard gate(s.gate);
        for (std::uint32_t i = 0; i < kMaxReaders; ++i) {
            const std::uint64_t w = s.readers[i].word.load(kAcq);
            if ((w & 3u) != kReaderActive && (w & 3u) != kReaderClosing) continue;
            // Attach locks before activating and close frees before
            // unlocking, so an ACTIVE (or CLOSING) entry without its lock
            // belongs to a process that died.
            if (s.region->byte_locked(liveness::reader_byte(i))) continue;
            if (detach(s, i, w)) ++reaped;
        }
    }
    if (out_reaped != nullptr) *out_reaped = reaped;
    return Status::ok;
}

}  // namespace zerodds::flatdata
