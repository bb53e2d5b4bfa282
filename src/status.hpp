// status.hpp — the core's result codes and the detail record for setup calls.
//
// The core never throws on the data path: every operation returns a Status.
// Setup calls (create/open/unlink) can also fill an ErrorDetail naming the
// check that failed. The C facade maps Status to ZFD_E_* with one explicit
// table (capi/status_map.hpp); the numbering here is free to change.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <utility>

namespace zerodds::flatdata {

enum class Status : int {
    ok,
    invalid_argument,
    out_of_memory,
    no_free_slot,
    too_large,
    not_loaned,
    no_sample,
    timeout,
    type_mismatch,
    incompatible,
    corrupt,
    exists,
    not_found,
    permission,
    no_reader_slot,
    evicted,
    unsupported,
    peer_gone,
    system_error,
    internal,
    detached,
};

// Filled by setup calls on failure. message is NUL-terminated.
struct ErrorDetail {
    Status status = Status::ok;
    int sys_errno = 0;
    char message[256] = {};
};

// Formats into detail (if non-null) and returns status; keeps call sites short.
template <typename... Args>
Status fail(ErrorDetail* detail, Status status, int sys_errno, fmt::format_string<Args...> text,
            Args&&... args) {
    if (detail != nullptr) {
        detail->status = status;
        detail->sys_errno = sys_errno;
        auto end = fmt::format_to_n(detail->message, sizeof(detail->message) - 1, text,
                                    std::forward<Args>(args)...);
        *end.out = '\0';
    }
    return status;
}

}  // namespace zerodds::flatdata
