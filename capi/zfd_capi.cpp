// zfd_capi.cpp — the extern "C" facade of libzerodds_flatdata.
//
// Owns: the opaque handles (zfd_segment, zfd_reader) and their mapping to
// core objects, argument checks (DESIGN §3 "Precise rules"), the exception
// firewall and the translation of core Status to ZFD_E_* (status_map.hpp).
// It holds no protocol logic: every decision about slots, tokens, readers
// and liveness is the core's.
//
// Invariants:
// - No exception leaves an entry point. Each body runs inside guarded()
//   (or setup_call() for the calls that fill a zfd_error): std::bad_alloc
//   becomes ZFD_E_NOMEM, anything else ZFD_E_INTERNAL; void functions
//   swallow.
// - The data-path entry points (reserve, commit, commit_in_place, publish,
//   take, release, take_copy) allocate nothing and make no system call of
//   their own: a couple of NULL checks, one core call, one table lookup.
// - A zfd_reader keeps its segment alive, so a reader outlives
//   zfd_segment_close of the handle it was opened from.
#define ZFD_BUILDING_LIBRARY 1
#include <zerodds/flatdata.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <utility>

#include "layout.hpp"
#include "liveness.hpp"
#include "sample_path.hpp"
#include "segment.hpp"
#include "status.hpp"
#include "status_map.hpp"

using zerodds::flatdata::ErrorDetail;
using zerodds::flatdata::fail;
namespace sample_path = zerodds::flatdata::sample_path;
using zerodds::flatdata::Reader;
using zerodds::flatdata::Segment;
using zerodds::flatdata::SegmentConfig;
using zerodds::flatdata::SegmentInfo;
using zerodds::flatdata::Status;
using zerodds::flatdata::TypeHash;
using zerodds::flatdata::capi::status_text;
using zerodds::flatdata::capi::to_code;

// ---------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------

struct zfd_segment {
    std::shared_ptr<Segment> seg;
    Segment::Impl* impl;  // seg's, for the per-sample calls (one load, not three)
};

struct zfd_reader {
    std::unique_ptr<Reader> reader;
    // Keeps the segment (and its mapping) alive after zfd_segment_close.
    std::shared_ptr<Segment> keep_alive;
    Reader::Impl* impl;  // reader's, for the per-sample calls

    // Members die in reverse order, which would drop the segment before the
    // Reader detaches from it; detach first, explicitly.
    ~zfd_reader() { reader.reset(); }
};

// ---------------------------------------------------------------------------
// ABI facts the facade relies on
// ---------------------------------------------------------------------------

static_assert(sizeof(zfd_slot) == sizeof(std::uint64_t));
static_assert(ZFD_TYPE_HASH_SIZE == zerodds::flatdata::kTypeHashSize);
static_assert(ZFD_MAX_READERS == zerodds::flatdata::kMaxReaders);
static_assert(ZFD_WAIT_FOREVER == zerodds::flatdata::kWaitForever);
static_assert(sizeof(ErrorDetail::message) == sizeof(zfd_error::message));
static_assert(ZFD_VERSION_NUMBER ==
              ZFD_VERSION_MAJOR * 10000 + ZFD_VERSION_MINOR * 100 + ZFD_VERSION_PATCH);

namespace {

// v0.1 is the first version of every public struct, so its size is the
// smallest struct_size accepted; 0.2 appended fields (a caller built against
// 0.1 passes the smaller size, and those fields then count as zero / are not
// written).
constexpr std::uint32_t kOptionsV1Size = offsetof(zfd_segment_options, history);
constexpr std::uint32_t kInfoV1Size = offsetof(zfd_segment_info, instance_id);
constexpr std::uint32_t kOptionsSize = sizeof(zfd_segment_options);
constexpr std::uint32_t kInfoSize = sizeof(zfd_segment_info);
static_assert(kOptionsV1Size == 48 && kInfoV1Size == 96);
static_assert(ZFD_INSTANCE_ID_SIZE == zerodds::flatdata::kInstanceIdSize);
static_assert(ZFD_ORIGIN_SIZE == zerodds::flatdata::kOriginCapacity);
static_assert(ZFD_CLAIM_ROLES == zerodds::flatdata::liveness::kClaimRoles);
static_assert(ZFD_CLAIM_EXPORT == zerodds::flatdata::liveness::kClaimExport);

// An options struct_size above this is taken for garbage (an options struct
// that was never initialised), not for a future version of the struct.
constexpr std::uint32_t kMaxPlausibleStructSize = 4096;

constexpr std::uint32_t kKnownSegmentFlags =
    ZFD_SEGMENT_REPLACE_STALE | ZFD_SEGMENT_MIRROR | ZFD_SEGMENT_OVERWRITE_OLDEST;
constexpr std::uint32_t kKnownReaderFlags = ZFD_READER_HISTORY;
static_assert(ZFD_SEGMENT_MIRROR == zerodds::flatdata::layout::kFlagMirror);
static_assert(ZFD_SEGMENT_OVERWRITE_OLDEST == zerodds::flatdata::layout::kFlagOverwriteOldest);
static_assert(ZFD_READER_HISTORY == zerodds::flatdata::layout::kReaderFlagHistory);
constexpr std::uint32_t kModeBits = 0777;
constexpr std::size_t kMaxNameLength = 200;

// ---------------------------------------------------------------------------
// zfd_error write rule
//
// The library writes into a caller's zfd_error only when out_err is non-NULL
// and out_err->struct_size >= offsetof(zfd_error, message) + 1 (13 bytes:
// room for code, sys_errno and at least the message's NUL). A smaller
// struct_size, 0 included, means "too small to hold anything": nothing is
// written, the call itself proceeds normally. Otherwise the library writes
// code and sys_errno, and a message truncated to fit in
// min(struct_size, sizeof(zfd_error)) - offsetof(zfd_error, message) bytes,
// always NUL-terminated. It never writes struct_size and never writes at or
// beyond byte min(struct_size, sizeof(zfd_error)).
// ---------------------------------------------------------------------------

constexpr std::size_t kErrorMessageOffset = offsetof(zfd_error, message);
constexpr std::size_t kErrorMinSize = kErrorMessageOffset + 1;
static_assert(offsetof(zfd_error, code) + sizeof(std::int32_t) <= kErrorMessageOffset);
static_assert(offsetof(zfd_error, sys_errno) + sizeof(std::int32_t) <= kErrorMessageOffset);

void write_error(zfd_error* out_err, std::int32_t code, int sys_errno,
                 const char* message) noexcept {
    if (out_err == nullptr) return;
    const std::uint32_t size = out_err->struct_size;
    if (size < kErrorMinSize) return;
    const std::size_t room = std::min<std::size_t>(size, sizeof(zfd_error)) - kErrorMessageOffset;
    out_err->code = code;
    out_err->sys_errno = sys_errno;
    const std::size_t n = ::strnlen(message, room - 1);
    std::memcpy(out_err->message, message, n);
    out_err->message[n] = '\0';
}

// Copies a NUL-terminated text into detail->message (truncating). noexcept,
// for use inside catch handlers where fmt is not wanted.
void set_detail(ErrorDetail* detail, Status status, const char* text) noexcept {
    detail->status = status;
    detail->sys_errno = 0;
    const std::size_t n = ::strnlen(text, sizeof(detail->message) - 1);
    std::memcpy(detail->message, text, n);
    detail->message[n] = '\0';
}

// Fills out_err from the outcome of a setup call and returns the public code.
// A failure without a message from the core gets the status text.
std::int32_t report(zfd_error* out_err, Status status, const ErrorDetail& detail) noexcept {
    const std::int32_t code = to_code(status);
    if (code == ZFD_OK) {
        write_error(out_err, ZFD_OK, 0, "");
    } else {
        const char* message = detail.message[0] != '\0' ? detail.message : status_text(code);
        write_error(out_err, code, detail.sys_errno, message);
    }
    return code;
}

// Exception firewall for entry points that return a code. Zero-cost on the
// path where nothing throws.
template <typename Body>
std::int32_t guarded(Body&& body) noexcept {
    try {
        return std::forward<Body>(body)();
    } catch (const std::bad_alloc&) {
        return ZFD_E_NOMEM;
    } catch (...) {
        return ZFD_E_INTERNAL;
    }
}

// A take through `take`, and then, only when it found nothing (or a terminal
// code) and the reader has an event-loop descriptor, that descriptor's step:
// drain it and arm it, or keep it readable for a terminal code. Armed just
// now, the take runs once more (a commit may have come before the arming).
template <typename Take>
[[gnu::always_inline]] inline Status settled(Reader::Impl& r, Take&& take) {
    Status st = take();
    if (st != Status::ok && r.ev) [[unlikely]] {
        if (r.settle(st)) {
            st = take();
            if (st == Status::peer_gone || st == Status::detached) r.settle(st);
        }
    }
    return st;
}

// Exception firewall for setup calls (create/open/unlink): body(detail)
// returns a core Status and may fill detail; the outcome, exceptions
// included, is reported through out_err.
template <typename Body>
std::int32_t setup_call(zfd_error* out_err, Body&& body) noexcept {
    ErrorDetail detail;
    Status status = Status::internal;
    try {
        status = std::forward<Body>(body)(detail);
    } catch (const std::bad_alloc&) {
        status = Status::out_of_memory;
        set_detail(&detail, status, "out of memory (std::bad_alloc)");
    } catch (const std::exception& e) {
        status = Status::internal;
        set_detail(&detail, status, "internal error: unexpected exception: ");
        const std::size_t used = std::strlen(detail.message);
        const std::size_t n = ::strnlen(e.what(), sizeof(detail.message) - 1 - used);
        std::memcpy(detail.message + used, e.what(), n);
        detail.message[used + n] = '\0';
    } catch (...) {
        status = Status::internal;
        set_detail(&detail, status, "internal error: unexpected non-standard exception");
    }
    return report(out_err, status, detail);
}

// Explains why Segment::valid_name refused `name` (non-NULL), with the
// values seen; never prints the name itself (it may be long or binary).
Status bad_name(ErrorDetail* detail, const char* name) {
    const std::size_t len = ::strnlen(name, kMaxNameLength + 1);
    if (len == 0) {
        return fail(detail, Status::invalid_argument, 0,
                    "segment name is empty (expected 1..200 characters of [A-Za-z0-9._-])");
    }
    if (len > kMaxNameLength) {
        return fail(detail, Status::invalid_argument, 0,
                    "segment name is longer than {} characters", kMaxNameLength);
    }
    for (std::size_t i = 0; i < len; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return fail(detail, Status::invalid_argument, 0,
                        "segment name has byte {:#04x} at offset {} (allowed: [A-Za-z0-9._-])",
                        static_cast<unsigned>(c), i);
        }
    }
    return fail(detail, Status::invalid_argument, 0,
                "segment name is invalid (expected 1..200 characters of [A-Za-z0-9._-])");
}

// Checks *opts per DESIGN §3 and copies it into *config.
Status read_options(const zfd_segment_options* opts, SegmentConfig* config, ErrorDetail* detail) {
    const std::uint32_t size = opts->struct_size;
    if (size < kOptionsV1Size) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.struct_size is {} (expected at least {}; call "
                    "zfd_segment_options_init)",
                    size, kOptionsV1Size);
    }
    if (size > kOptionsSize) {
        // A newer caller's struct: accepted only if every field this version
        // does not know is zero (the Linux extensible-struct rule).
        if (size > kMaxPlausibleStructSize) {
            return fail(detail, Status::invalid_argument, 0,
                        "options.struct_size is {} (this library knows {}; call "
                        "zfd_segment_options_init)",
                        size, kOptionsSize);
        }
        const auto* bytes = reinterpret_cast<const unsigned char*>(opts);
        for (std::uint32_t i = kOptionsSize; i < size; ++i) {
            if (bytes[i] != 0) {
                return fail(detail, Status::invalid_argument, 0,
                            "options.struct_size is {} and byte {} beyond this library's {} is "
                            "non-zero (an option this version does not support)",
                            size, i, kOptionsSize);
            }
        }
    }
    // The 0.2 fields, as zeros when the caller's struct ends before them
    // (a struct_size between the two versions must cover whole fields).
    zfd_segment_options v2;
    std::memset(&v2, 0, sizeof v2);
    std::memcpy(&v2, opts, std::min(size, kOptionsSize));
    if (size > kOptionsV1Size && size < kOptionsSize) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.struct_size is {} (expected {} or {}; call zfd_segment_options_init)",
                    size, kOptionsV1Size, kOptionsSize);
    }
    if (opts->slot_count == 0 || opts->slot_capacity == 0) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.slot_count ({}) and options.slot_capacity ({}) must be non-zero",
                    opts->slot_count, opts->slot_capacity);
    }
    if ((opts->flags & ~kKnownSegmentFlags) != 0) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.flags {:#x} has unknown bits {:#x}", opts->flags,
                    opts->flags & ~kKnownSegmentFlags);
    }
    if ((opts->mode & ~kModeBits) != 0) {
        return fail(detail, Status::invalid_argument, 0, "options.mode {:#o} has bits outside 0777",
                    opts->mode);
    }
    if (opts->has_type_hash > 1) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.has_type_hash is {} (expected 0 or 1)", opts->has_type_hash);
    }
    if (v2.history >= opts->slot_count) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.history is {} (must be below options.slot_count {}: the writer needs "
                    "a free slot besides the retained samples)",
                    v2.history, opts->slot_count);
    }
    if (v2.reserved2 != 0) {
        return fail(detail, Status::invalid_argument, 0, "options.reserved2 is {} (expected 0)",
                    v2.reserved2);
    }
    const bool mirror = (opts->flags & ZFD_SEGMENT_MIRROR) != 0;
    const std::size_t origin_len = ::strnlen(v2.origin, sizeof v2.origin);
    if (origin_len == sizeof v2.origin) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.origin is not NUL-terminated within {} bytes", sizeof v2.origin);
    }
    const bool has_mirror_of =
        std::any_of(std::begin(v2.mirror_of), std::end(v2.mirror_of), [](auto b) { return b != 0; });
    if (!mirror && (has_mirror_of || origin_len != 0)) {
        return fail(detail, Status::invalid_argument, 0,
                    "options.mirror_of and options.origin describe a mirror's source; set "
                    "ZFD_SEGMENT_MIRROR or leave them zero");
    }
    config->slot_count = opts->slot_count;
    config->slot_capacity = opts->slot_capacity;
    config->mode = opts->mode;
    config->replace_stale = (opts->flags & ZFD_SEGMENT_REPLACE_STALE) != 0;
    config->overwrite_oldest = (opts->flags & ZFD_SEGMENT_OVERWRITE_OLDEST) != 0;
    config->history = v2.history;
    config->mirror = mirror;
    std::memcpy(config->mirror_of.data(), v2.mirror_of, config->mirror_of.size());
    config->origin.assign(v2.origin, origin_len);
    if (opts->has_type_hash == 1) {
        TypeHash hash{};
        std::memcpy(hash.data(), opts->type_hash, hash.size());
        config->type_hash = hash;
    } else {
        config->type_hash.reset();
    }
    return Status::ok;
}

#define CAPI_STR2(x) #x
#define CAPI_STR(x) CAPI_STR2(x)
constexpr char kVersionString[] =
    CAPI_STR(ZFD_VERSION_MAJOR) "." CAPI_STR(ZFD_VERSION_MINOR) "." CAPI_STR(ZFD_VERSION_PATCH);
#undef CAPI_STR
#undef CAPI_STR2

}  // namespace

extern "C" {

// ===========================================================================
// Version and status
// ===========================================================================

uint32_t zfd_version_number(void) { return static_cast<uint32_t>(ZFD_VERSION_NUMBER); }

const char* zfd_version_string(void) { return kVersionString; }

const char* zfd_status_str(int32_t status) { return status_text(status); }

// ===========================================================================
// Segment lifecycle
// ===========================================================================

// zfd_segment_options_init has two versions. A program built against 0.1
// has a 48-byte zfd_segment_options and is bound (at its link time) to
// zfd_segment_options_init@ZFD_0.1, which writes exactly those 48 bytes and
// struct_size 48. Programs built against 0.2 get the default version,
// @@ZFD_0.2, which fills the whole current struct. (dlsym finds the default
// version; dlvsym(..., "ZFD_0.1") the old one.)
namespace {
void init_options(zfd_segment_options* opts, std::uint32_t size) {
    const SegmentConfig defaults;
    std::memset(opts, 0, size);
    opts->struct_size = size;
    opts->slot_count = defaults.slot_count;        // 64
    opts->slot_capacity = defaults.slot_capacity;  // 1024
    opts->mode = defaults.mode;                    // 0600
    opts->flags = 0;
    opts->has_type_hash = 0;
}
}  // namespace

__asm__(".symver zfd_segment_options_init_v0_1, zfd_segment_options_init@ZFD_0.1");
__asm__(".symver zfd_segment_options_init_v0_2, zfd_segment_options_init@@ZFD_0.2");

ZFD_API void zfd_segment_options_init_v0_1(zfd_segment_options* opts);
ZFD_API void zfd_segment_options_init_v0_2(zfd_segment_options* opts);

void zfd_segment_options_init_v0_1(zfd_segment_options* opts) {
    if (opts != nullptr) init_options(opts, kOptionsV1Size);
}

void zfd_segment_options_init_v0_2(zfd_segment_options* opts) {
    if (opts != nullptr) init_options(opts, kOptionsSize);
}

int32_t zfd_segment_create(const char* name, const zfd_segment_options* opts,
                           zfd_segment** out_segment, zfd_error* out_err) {
    return setup_call(out_err, [&](ErrorDetail& detail) -> Status {
        if (out_segment == nullptr) {
            return fail(&detail, Status::invalid_argument, 0, "out_segment is NULL");
        }
        *out_segment = nullptr;
        if (name != nullptr && !Segment::valid_name(name)) return bad_name(&detail, name);
        SegmentConfig config;  // opts == NULL: all defaults
        if (opts != nullptr) {
            if (Status st = read_options(opts, &config, &detail); st != Status::ok) return st;
        }
        std::shared_ptr<Segment> seg;
        if (Status st = Segment::create(name, config, &seg, &detail); st != Status::ok) return st;
        if (!seg) return fail(&detail, Status::internal, 0, "core create returned no segment");
        // If this allocation throws, `seg` dies here and the owner cleans up.
        Segment::Impl* impl = &seg->impl();
        *out_segment = new zfd_segment{std::move(seg), impl};
        return Status::ok;
    });
}

int32_t zfd_segment_open(const char* name, const uint8_t* expected_type_hash, uint32_t flags,
                         zfd_segment** out_segment, zfd_error* out_err) {
    return setup_call(out_err, [&](ErrorDetail& detail) -> Status {
        if (out_segment == nullptr) {
            return fail(&detail, Status::invalid_argument, 0, "out_segment is NULL");
        }
        *out_segment = nullptr;
        if (name == nullptr) {
            return fail(&detail, Status::invalid_argument, 0,
                        "name is NULL (only named segments can be opened)");
        }
        if (!Segment::valid_name(name)) return bad_name(&detail, name);
        if (flags != 0) {
            return fail(&detail, Status::invalid_argument, 0,
                        "flags is {:#x} (no flags are defined; expected 0)", flags);
        }
        std::shared_ptr<Segment> seg;
        if (Status st = Segment::open(name, expected_type_hash, &seg, &detail); st != Status::ok) {
            return st;
        }
        if (!seg) return fail(&detail, Status::internal, 0, "core open returned no segment");
        Segment::Impl* impl = &seg->impl();
        *out_segment = new zfd_segment{std::move(seg), impl};
        return Status::ok;
    });
}

void zfd_segment_close(zfd_segment* segment) {
    if (segment == nullptr) return;
    try {
        // The owner's close is the writer's end even while readers keep the
        // Segment object alive: discard loans, tell readers, unlink.
        if (segment->seg) segment->seg->release_all_claims();
        if (segment->seg && segment->seg->is_owner()) segment->seg->close_owner();
    } catch (...) {
        // Swallowed: a destructor never fails. The handle is freed anyway.
    }
    delete segment;  // drops this handle's reference; readers keep theirs
}

int32_t zfd_segment_unlink(const char* name, zfd_error* out_err) {
    return setup_call(out_err, [&](ErrorDetail& detail) -> Status {
        if (name == nullptr) return fail(&detail, Status::invalid_argument, 0, "name is NULL");
        if (!Segment::valid_name(name)) return bad_name(&detail, name);
        return Segment::unlink(name, &detail);
    });
}

int32_t zfd_segment_get_info(const zfd_segment* segment, zfd_segment_info* out_info) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || out_info == nullptr) return ZFD_E_INVAL;
        const std::uint32_t size = out_info->struct_size;
        if (size < kInfoV1Size) return ZFD_E_INVAL;
        SegmentInfo core;
        segment->seg->info(&core);
        zfd_segment_info info;
        std::memset(&info, 0, sizeof info);
        info.struct_size = size;
        info.slot_count = core.slot_count;
        info.slot_capacity = core.slot_capacity;
        info.slot_stride = core.slot_stride;
        info.total_size = core.total_size;
        info.segment_id = core.segment_id;
        info.is_named = core.is_named ? 1u : 0u;
        info.is_owner = core.is_owner ? 1u : 0u;
        info.has_type_hash = core.type_hash.has_value() ? 1u : 0u;
        if (core.type_hash) std::memcpy(info.type_hash, core.type_hash->data(), ZFD_TYPE_HASH_SIZE);
        info.active_readers = core.active_readers;
        info.owner_pid = core.owner_pid;
        info.owner_alive = core.owner_alive ? 1u : 0u;
        info.next_sequence = core.next_sequence;
        std::memcpy(info.instance_id, core.instance_id.data(), ZFD_INSTANCE_ID_SIZE);
        info.flags = (core.mirror ? ZFD_SEGMENT_MIRROR : 0u) |
                     (core.overwrite_oldest ? ZFD_SEGMENT_OVERWRITE_OLDEST : 0u);
        info.history = core.history;
        std::memcpy(info.mirror_of, core.mirror_of.data(), ZFD_INSTANCE_ID_SIZE);
        const std::size_t n = std::min(core.origin.size(), sizeof info.origin - 1);
        std::memcpy(info.origin, core.origin.data(), n);
        // A 0.1 caller's struct ends at next_sequence; a newer caller's
        // bytes beyond this version's struct are left untouched.
        std::memcpy(out_info, &info, size >= kInfoSize ? kInfoSize : kInfoV1Size);
        return ZFD_OK;
    });
}

int32_t zfd_segment_claim(zfd_segment* segment, uint32_t role) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->claim(role));
    });
}

int32_t zfd_segment_release_claim(zfd_segment* segment, uint32_t role) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->release_claim(role));
    });
}

// ===========================================================================
// Writer side (the core answers Status::permission on a consumer handle)
// ===========================================================================

int32_t zfd_reserve(zfd_segment* segment, zfd_slot* out_slot, void** out_data) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || out_slot == nullptr) return ZFD_E_INVAL;
        Status st = sample_path::reserve(*segment->impl, out_slot, out_data);
        if (st == Status::no_free_slot && segment->impl->settle_space(st)) [[unlikely]] {
            st = sample_path::reserve(*segment->impl, out_slot, out_data);  // armed: look again
        }
        return to_code(st);
    });
}

int32_t zfd_reserve_wait(zfd_segment* segment, int64_t timeout_ns, zfd_slot* out_slot,
                         void** out_data) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || out_slot == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->reserve_wait(timeout_ns, out_slot, out_data));
    });
}

int32_t zfd_slot_data(zfd_segment* segment, zfd_slot slot, void** out_data,
                      uint64_t* out_capacity) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->slot_data(slot, out_data, out_capacity));
    });
}

int32_t zfd_commit_in_place(zfd_segment* segment, zfd_slot slot, size_t len,
                            uint64_t* out_sequence) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(sample_path::commit_in_place(*segment->impl, slot, len, out_sequence));
    });
}

int32_t zfd_commit(zfd_segment* segment, zfd_slot slot, const void* bytes, size_t len,
                   uint64_t* out_sequence) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || (bytes == nullptr && len != 0)) return ZFD_E_INVAL;
        return to_code(sample_path::commit(*segment->impl, slot, bytes, len, out_sequence));
    });
}

int32_t zfd_commit_with_sequence(zfd_segment* segment, zfd_slot slot, size_t len,
                                 uint64_t sequence) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->commit_with_sequence(slot, len, sequence));
    });
}

int32_t zfd_discard(zfd_segment* segment, zfd_slot slot) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->discard(slot));
    });
}

int32_t zfd_publish(zfd_segment* segment, const void* bytes, size_t len, uint64_t* out_sequence) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || (bytes == nullptr && len != 0)) return ZFD_E_INVAL;
        Status st = sample_path::publish(*segment->impl, bytes, len, out_sequence);
        if (st == Status::no_free_slot && segment->impl->settle_space(st)) [[unlikely]] {
            st = sample_path::publish(*segment->impl, bytes, len, out_sequence);
        }
        return to_code(st);
    });
}

// ===========================================================================
// Reader side
// ===========================================================================

int32_t zfd_reader_open(zfd_segment* segment, uint32_t flags, zfd_reader** out_reader) {
    return guarded([&]() -> std::int32_t {
        if (out_reader == nullptr) return ZFD_E_INVAL;
        *out_reader = nullptr;
        if (segment == nullptr || (flags & ~kKnownReaderFlags) != 0) return ZFD_E_INVAL;
        std::unique_ptr<Reader> reader;
        if (Status st = Reader::open(segment->seg, flags, &reader); st != Status::ok) {
            return to_code(st);
        }
        if (!reader) return ZFD_E_INTERNAL;
        // If this allocation throws, `reader` dies here and detaches.
        Reader::Impl* impl = &reader->impl();
        auto* handle = new zfd_reader{std::move(reader), segment->seg, impl};
        *out_reader = handle;
        return ZFD_OK;
    });
}

void zfd_reader_close(zfd_reader* reader) {
    if (reader == nullptr) return;
    try {
        reader->reader.reset();  // detach and release first, while the segment is alive
    } catch (...) {
        // Swallowed: a destructor never fails.
    }
    delete reader;  // then drop the segment reference
}

uint32_t zfd_reader_index(const zfd_reader* reader) {
    if (reader == nullptr || !reader->reader) return UINT32_MAX;
    try {
        return reader->reader->index();
    } catch (...) {
        return UINT32_MAX;
    }
}

int32_t zfd_take(zfd_reader* reader, zfd_slot* out_slot, const void** out_data, size_t* out_len,
                 uint64_t* out_sequence) {
    return guarded([&]() -> std::int32_t {
        if (reader == nullptr || out_slot == nullptr) return ZFD_E_INVAL;
        return to_code(settled(*reader->impl, [&] {
            return sample_path::take(*reader->impl, out_slot, out_data, out_len, out_sequence);
        }));
    });
}

int32_t zfd_take_latest(zfd_reader* reader, zfd_slot* out_slot, const void** out_data,
                        size_t* out_len, uint64_t* out_sequence) {
    return guarded([&]() -> std::int32_t {
        if (reader == nullptr || out_slot == nullptr) return ZFD_E_INVAL;
        return to_code(settled(*reader->impl, [&] {
            return reader->reader->take_latest(out_slot, out_data, out_len, out_sequence);
        }));
    });
}

int32_t zfd_release(zfd_reader* reader, zfd_slot slot) {
    return guarded([&]() -> std::int32_t {
        if (reader == nullptr) return ZFD_E_INVAL;
        return to_code(sample_path::release(*reader->impl, slot));
    });
}

int32_t zfd_take_copy(zfd_reader* reader, void* buf, size_t capacity, size_t* out_len,
                      uint64_t* out_sequence) {
    return guarded([&]() -> std::int32_t {
        if (reader == nullptr || (buf == nullptr && capacity != 0)) return ZFD_E_INVAL;
        return to_code(settled(*reader->impl, [&] {
            return reader->reader->take_copy(buf, capacity, out_len, out_sequence);
        }));
    });
}

int32_t zfd_reader_wait(zfd_reader* reader, int64_t timeout_ns) {
    return guarded([&]() -> std::int32_t {
        if (reader == nullptr) return ZFD_E_INVAL;
        return to_code(reader->reader->wait(timeout_ns));
    });
}

// ===========================================================================
// Notify generation
// ===========================================================================

uint64_t zfd_notify_generation(const zfd_segment* segment) {
    if (segment == nullptr) return 0;
    try {
        return segment->seg->notify_generation();
    } catch (...) {
        return 0;
    }
}

int32_t zfd_wait_for_change(zfd_segment* segment, uint64_t last_generation, int64_t timeout_ns) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->wait_for_change(last_generation, timeout_ns));
    });
}

// ===========================================================================
// Eviction and liveness (the core answers Status::permission on a consumer)
// ===========================================================================

int32_t zfd_evict_stale(zfd_segment* segment, int64_t max_age_ns, uint32_t* out_evicted) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->evict_stale(max_age_ns, out_evicted));
    });
}

int32_t zfd_mark_reader_disconnected(zfd_segment* segment, uint32_t reader_index) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || reader_index >= ZFD_MAX_READERS) return ZFD_E_INVAL;
        return to_code(segment->seg->mark_reader_disconnected(reader_index));
    });
}

int32_t zfd_reap_dead_readers(zfd_segment* segment, uint32_t* out_reaped) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr) return ZFD_E_INVAL;
        return to_code(segment->seg->reap_dead_readers(out_reaped));
    });
}

// ===========================================================================
// Event loops (DESIGN §9; src/event_fd.hpp)
// ===========================================================================

int32_t zfd_reader_fd(zfd_reader* reader, int* out_fd) {
    return guarded([&]() -> std::int32_t {
        if (reader == nullptr || out_fd == nullptr) return ZFD_E_INVAL;
        *out_fd = -1;
        return to_code(reader->impl->reader_fd(out_fd));
    });
}

int32_t zfd_segment_fd(zfd_segment* segment, int* out_fd) {
    return guarded([&]() -> std::int32_t {
        if (segment == nullptr || out_fd == nullptr) return ZFD_E_INVAL;
        *out_fd = -1;
        return to_code(segment->impl->space_fd(out_fd));
    });
}

// ===========================================================================
// Type identity
// ===========================================================================

int32_t zfd_type_hash(const char* layout_descriptor, size_t len,
                      uint8_t out_hash[ZFD_TYPE_HASH_SIZE]) {
    return guarded([&]() -> std::int32_t {
        if (layout_descriptor == nullptr || out_hash == nullptr) return ZFD_E_INVAL;
        const TypeHash hash = zerodds::flatdata::type_hash(layout_descriptor, len);
        std::memcpy(out_hash, hash.data(), hash.size());
        return ZFD_OK;
    });
}

}  // extern "C"
