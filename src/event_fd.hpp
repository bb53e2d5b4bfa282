// event_fd.hpp — descriptors an event loop can watch (DESIGN §9): a reader's
// "a sample (or a terminal code) is waiting" and the owner's "a slot is free".
//
// Owns: the process-local half of each descriptor (sockets, epoll set,
// pidfd), the names of the sockets and the sending of wake-ups. The shared
// half is three words of the segment (layout.hpp): `fd_armed` (bit i =
// reader i's descriptor is armed), `space_fd_armed`, and the random part of
// each socket's name (`ReaderEntry::fd_nonce`, `space_fd_nonce`).
//
// Mechanism. Each descriptor has a datagram socket bound in the Linux
// abstract namespace, so no file exists and the kernel removes the name when
// the last process holding the socket dies. Its name is
//   "\0zfd/<instance id, 32 hex>/r<reader index, 2 digits>/<nonce, 16 hex>"
//   "\0zfd/<instance id, 32 hex>/w/<nonce, 16 hex>"          (the owner's)
// built from the segment's instance id (copied once at create/open), an index
// below 64 and a 64-bit value: whatever a hostile peer writes into shared
// memory, a waker can at most send one byte to another abstract socket of
// that form; it never takes a descriptor number from shared memory and only
// ever writes to its own unbound sending socket. A reader's descriptor is an
// epoll set holding its socket and, for a segment owned by another process,
// a pidfd of the owner, which the kernel makes readable when the owner dies.
//
// Arming (PROTOCOL.md, "Event-loop descriptors"): when a take finds nothing,
// the reader drains its socket, sets its bit in `fd_armed` (seq_cst RMW),
// passes notify::heavy_barrier() and looks once more. A commit stores its
// descriptor, passes notify::light_barrier() and loads `fd_armed` (the line
// it already loads for the waiter counts); only if a bit is set does it
// exchange the word with 0 and send one byte to each reader whose bit it
// took. Either the reader's last look sees the sample or the writer's load
// sees the bit: no wake-up is lost, and nothing is sent while nobody is
// armed. The owner's space descriptor works the same way with
// `space_fd_armed`, armed by a reserve that found no slot and fired by
// whatever frees one (release, skip, discard, eviction, a reader leaving).
//
// Limits: the writer and the reader must share a network namespace (abstract
// names are per namespace); the owner pidfd needs the owner in our PID
// namespace (else owner death is noticed at the next take, not by the
// descriptor); any local process in the namespace can send a byte to a
// socket it knows the name of, which costs a spurious wake-up, nothing more.
#pragma once

#include "segment.hpp"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstdint>

namespace zerodds::flatdata::event_fd {

// A reader's descriptor (process-local).
struct ReaderEvents {
    int epfd = -1;          // what zfd_reader_fd hands out
    int sock = -1;          // bound, non-blocking datagram socket
    int pidfd = -1;         // the owner's process, or -1
    pid_t pid = 0;          // the process that made it (fork check)
    std::uint64_t nonce = 0;
    bool terminal = false;  // a terminal code was seen: stays readable
    ReaderEvents() = default;
    ReaderEvents(const ReaderEvents&) = delete;
    ReaderEvents& operator=(const ReaderEvents&) = delete;
    ~ReaderEvents();
};

// The owner's space descriptor (process-local).
struct SpaceEvents {
    int sock = -1;
    pid_t pid = 0;
    std::uint64_t nonce = 0;
    SpaceEvents() = default;
    SpaceEvents(const SpaceEvents&) = delete;
    SpaceEvents& operator=(const SpaceEvents&) = delete;
    ~SpaceEvents();
};

inline constexpr char kReaderRole = 'r';
inline constexpr char kSpaceRole = 'w';

// The abstract address of a descriptor's socket; returns its length.
socklen_t make_address(sockaddr_un* addr, const InstanceId& id, char role, std::uint32_t index,
                       std::uint64_t nonce);

// Sends one byte to `addr` from this process's sending socket (an unbound
// datagram socket made on first use). Never blocks; a full queue (a byte is
// already waiting) and a missing peer (a reader that died) are ignored.
void send_wake(const sockaddr_un& addr, socklen_t len);

}  // namespace zerodds::flatdata::event_fd
