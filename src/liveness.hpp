// liveness.hpp — kernel-released liveness tokens.
//
// Each participant of a named segment holds an OFD write lock on one byte of
// the segment object (byte 0: owner, byte 1+i: reader i, byte 128+r: claim r). The kernel drops
// the lock when the last descriptor of that open file description closes,
// which includes every way a process can die, so "lock free" means "gone".
// PIDs are recorded for people, never used to decide liveness.
#pragma once

#include <chrono>
#include <cstdint>

namespace zerodds::flatdata::liveness {

inline constexpr std::uint64_t kOwnerByte = 0;
// A creator takes the owner lock right after its O_EXCL create: an object
// still unfinished whose owner lock stays free this long has a dead creator.
inline constexpr std::chrono::milliseconds kCreatorGrace{50};
inline constexpr std::uint64_t reader_byte(std::uint32_t index) { return 1 + std::uint64_t{index}; }
// Claims: byte 128+r is an exclusive role r that cooperating processes take
// through any handle of the segment (a bridge exporting it takes role 0).
inline constexpr std::uint32_t kClaimRoles = 64;
inline constexpr std::uint32_t kClaimExport = 0;  // ZFD_CLAIM_EXPORT
inline constexpr std::uint64_t claim_byte(std::uint32_t role) { return 128 + std::uint64_t{role}; }

// Non-blocking exclusive lock of one byte through fd's open file description.
bool try_lock(int fd, std::uint64_t offset);
void unlock(int fd, std::uint64_t offset);
// True when a lock held through another open file description covers the byte.
bool locked_by_other(int fd, std::uint64_t offset);

}  // namespace zerodds::flatdata::liveness
