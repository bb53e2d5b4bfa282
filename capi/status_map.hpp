// status_map.hpp — the one explicit table between core Status and ZFD_E_* codes,
// and the static texts of zfd_status_str.
//
// The ZFD_E_* values are pinned forever by the public header; the core's
// enum is free to be renumbered or extended. Everything that crosses the
// boundary goes through to_code(), so a core refactor cannot renumber the
// ABI. to_code() switches over every enumerator with no default: with -Wall
// (-Wswitch) the compiler names any enumerator added to Status and not
// mapped here. The reverse helper to_status() exists for tests and for the
// compile-time round-trip check at the bottom of this file.
//
// Header-only and allocation-free: the data path uses to_code() on every call.
#pragma once

#include <zerodds/flatdata.h>

#include <array>
#include <cstdint>
#include <optional>

#include "status.hpp"

namespace zerodds::flatdata::capi {

// Core status -> public code. Many-to-one is allowed (a finer core status may
// map onto an existing public code); every public code except those the
// facade produces itself has exactly one core source today.
constexpr std::int32_t to_code(Status status) noexcept {
    switch (status) {
        case Status::ok:
            return ZFD_OK;
        case Status::invalid_argument:
            return ZFD_E_INVAL;
        case Status::out_of_memory:
            return ZFD_E_NOMEM;
        case Status::no_free_slot:
            return ZFD_E_NO_FREE_SLOT;
        case Status::too_large:
            return ZFD_E_TOO_LARGE;
        case Status::not_loaned:
            return ZFD_E_NOT_LOANED;
        case Status::no_sample:
            return ZFD_E_NO_SAMPLE;
        case Status::timeout:
            return ZFD_E_TIMEOUT;
        case Status::type_mismatch:
            return ZFD_E_TYPE_MISMATCH;
        case Status::incompatible:
            return ZFD_E_INCOMPATIBLE;
        case Status::corrupt:
            return ZFD_E_CORRUPT;
        case Status::exists:
            return ZFD_E_EXISTS;
        case Status::not_found:
            return ZFD_E_NOT_FOUND;
        case Status::permission:
            return ZFD_E_PERMISSION;
        case Status::no_reader_slot:
            return ZFD_E_NO_READER_SLOT;
        case Status::evicted:
            return ZFD_E_EVICTED;
        case Status::unsupported:
            return ZFD_E_UNSUPPORTED;
        case Status::peer_gone:
            return ZFD_E_PEER_GONE;
        case Status::system_error:
            return ZFD_E_SYSTEM;
        case Status::internal:
            return ZFD_E_INTERNAL;
        case Status::detached:
            return ZFD_E_DETACHED;
    }
    // Only reachable with a value outside the enumeration (a core bug).
    return ZFD_E_INTERNAL;
}

// Public code -> core status; nullopt for a code this version does not know.
constexpr std::optional<Status> to_status(std::int32_t code) noexcept {
    switch (code) {
        case ZFD_OK:
            return Status::ok;
        case ZFD_E_INVAL:
            return Status::invalid_argument;
        case ZFD_E_NOMEM:
            return Status::out_of_memory;
        case ZFD_E_NO_FREE_SLOT:
            return Status::no_free_slot;
        case ZFD_E_TOO_LARGE:
            return Status::too_large;
        case ZFD_E_NOT_LOANED:
            return Status::not_loaned;
        case ZFD_E_NO_SAMPLE:
            return Status::no_sample;
        case ZFD_E_TIMEOUT:
            return Status::timeout;
        case ZFD_E_TYPE_MISMATCH:
            return Status::type_mismatch;
        case ZFD_E_INCOMPATIBLE:
            return Status::incompatible;
        case ZFD_E_CORRUPT:
            return Status::corrupt;
        case ZFD_E_EXISTS:
            return Status::exists;
        case ZFD_E_NOT_FOUND:
            return Status::not_found;
        case ZFD_E_PERMISSION:
            return Status::permission;
        case ZFD_E_NO_READER_SLOT:
            return Status::no_reader_slot;
        case ZFD_E_EVICTED:
            return Status::evicted;
        case ZFD_E_UNSUPPORTED:
            return Status::unsupported;
        case ZFD_E_PEER_GONE:
            return Status::peer_gone;
        case ZFD_E_SYSTEM:
            return Status::system_error;
        case ZFD_E_INTERNAL:
            return Status::internal;
        case ZFD_E_DETACHED:
            return Status::detached;
        default:
            return std::nullopt;
    }
}

// The lowest (most negative) code this version knows. Update when a code is
// added at the end of the list in flatdata.h.
inline constexpr std::int32_t kLastCode = ZFD_E_DETACHED;

// Static texts, indexed by -code. Each is distinct; none contains
// "unknown status", which is reserved for codes outside this table.
inline constexpr std::array<const char*, 1 - kLastCode> kStatusText = {
    "success",                                                            //   0 ZFD_OK
    "invalid argument",                                                   //  -1 ZFD_E_INVAL
    "out of memory",                                                      //  -2 ZFD_E_NOMEM
    "no free slot: every slot is loaned or still held by a reader",       //  -3
    "too large: sample exceeds the slot capacity or the buffer",          //  -4
    "not loaned: token already used, foreign, or never issued",           //  -5
    "no sample: nothing unread",                                          //  -6
    "timed out",                                                          //  -7
    "type mismatch: segment type hash differs from the expected one",     //  -8
    "incompatible segment: other layout version or platform",             //  -9
    "corrupt segment: contents fail validation",                          // -10
    "segment exists",                                                     // -11
    "not found: no such segment or reader",                               // -12
    "permission denied: not the owner, wrong uid or mode, or no access",  // -13
    "no reader slot: all reader entries are in use",                      // -14
    "evicted: the held slot was evicted or reused, data may be torn",     // -15
    "operation not supported by this segment kind",                       // -16
    "peer gone: the owner died or closed and nothing unread remains",     // -17
    "system call failed (see zfd_error.sys_errno)",                       // -18
    "internal error (a bug in zerodds-flatdata)",                         // -19
    "reader detached by the owner",                                       // -20
};

inline constexpr const char* kUnknownStatusText = "unknown status";

// Text for any int32_t; never null, never allocates.
constexpr const char* status_text(std::int32_t code) noexcept {
    // Compare before negating: -INT32_MIN would overflow.
    if (code > 0 || code < kLastCode) return kUnknownStatusText;
    return kStatusText[static_cast<std::size_t>(-code)];
}

// ---- compile-time proof that the table is complete and consistent --------

namespace detail {

// Every known public code maps to a core status that maps straight back.
// Together with the exhaustive switch in to_code() this pins both directions.
constexpr bool every_code_round_trips() {
    for (std::int32_t code = ZFD_OK; code >= kLastCode; --code) {
        const std::optional<Status> status = to_status(code);
        if (!status || to_code(*status) != code) return false;
    }
    return !to_status(kLastCode - 1) && !to_status(1);
}

constexpr bool texts_are_distinct() {
    for (std::size_t i = 0; i < kStatusText.size(); ++i) {
        if (kStatusText[i] == nullptr || kStatusText[i][0] == '\0') return false;
        for (std::size_t j = i + 1; j < kStatusText.size(); ++j) {
            const char* a = kStatusText[i];
            const char* b = kStatusText[j];
            while (*a != '\0' && *a == *b) ++a, ++b;
            if (*a == *b) return false;
        }
    }
    return true;
}

}  // namespace detail

static_assert(detail::every_code_round_trips(),
              "status_map.hpp: to_code/to_status disagree, or a ZFD_E_* code is unmapped");
static_assert(detail::texts_are_distinct(), "status_map.hpp: status texts must be distinct");
static_assert(kStatusText.size() == static_cast<std::size_t>(1 - ZFD_E_DETACHED),
              "status_map.hpp: one text per known code");

}  // namespace zerodds::flatdata::capi
