// region.hpp — where a segment's bytes come from.
//
// Owns one mapping: a zeroed heap block for in-memory segments, or a POSIX
// shared-memory object ("/zfd.<name>") mapped shared for named ones, plus the
// descriptors used for liveness locks (see liveness.hpp). Creation follows
// DESIGN §4.4: O_CREAT|O_EXCL, fchmod, ftruncate, posix_fallocate. Opening
// checks the object with fstat (regular file, owner, mode, size) before it is
// mapped. The region knows nothing about slots; segment.cpp validates the
// header it maps.
#pragma once

#include "status.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace zerodds::flatdata {

class Region {
public:
    ~Region();
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;

    // A zeroed, page-aligned heap block of `size` bytes.
    static Status create_heap(std::uint64_t size, std::unique_ptr<Region>* out, ErrorDetail* detail);

    // Creates "/zfd.<name>" exclusively with `mode`, sized and backed by
    // `size` bytes, and takes the owner lock (byte 0). With replace_stale, a
    // same-named object whose owner lock is free is unlinked first.
    static Status create_named(const std::string& name, std::uint64_t size, std::uint32_t mode,
                               bool replace_stale, std::unique_ptr<Region>* out,
                               ErrorDetail* detail);

    // Opens and maps an existing object after the fstat checks. Waits a
    // bounded time for a creator that has not sized it yet.
    static Status open_named(const std::string& name, std::unique_ptr<Region>* out,
                             ErrorDetail* detail);

    static Status unlink_named(const std::string& name, ErrorDetail* detail);

    // Borrows caller memory as a region (validation and fuzzing of segment
    // contents without a file). The memory must outlive the region.
    static std::unique_ptr<Region> borrow(std::byte* base, std::uint64_t size);

    // Owner liveness of "/zfd.<name>" without validating its contents:
    // ok + *alive, or not_found / permission / system_error.
    static Status probe_owner(const std::string& name, bool* alive);

    std::byte* base() const { return base_; }
    std::uint64_t size() const { return size_; }
    bool named() const { return fd_ >= 0; }
    const std::string& name() const { return name_; }

    // Maps [offset, offset+len) read-only in this process (consumers map
    // payloads read-only so a stray write faults here, not in every peer).
    bool protect_read_only(std::uint64_t offset, std::uint64_t len);

    // Liveness locks on single bytes of the object (named regions only).
    bool try_lock_byte(std::uint64_t offset);
    void unlock_byte(std::uint64_t offset);
    // True when another open file description holds a lock on the byte.
    // Named regions only; in-memory regions report false.
    bool byte_locked(std::uint64_t offset) const;

    // Unlinks the name if it still refers to this object (owner close).
    void unlink_if_same_object();

private:
    Region() = default;
    std::byte* base_ = nullptr;
    std::uint64_t size_ = 0;
    int fd_ = -1;        // the object, holds our locks
    int probe_fd_ = -1;  // a second description, used to see others' locks
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::string name_;  // "/zfd.<name>"
    bool heap_ = false;
    bool borrowed_ = false;
};

// "zfd.<name>" as an shm_open name ("/zfd.<name>").
std::string shm_path(const char* name);

}  // namespace zerodds::flatdata
