// region.cpp — heap and POSIX shared-memory regions. See region.hpp.
#include "region.hpp"

#include "layout.hpp"
#include "liveness.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace zerodds::flatdata {
namespace {

constexpr auto kOpenWait = std::chrono::milliseconds(1000);

Status errno_status(int err) {
    switch (err) {
        case ENOENT: return Status::not_found;
        case EACCES:
        case EPERM:
        case ELOOP: return Status::permission;
        case EEXIST: return Status::exists;
        case ENOMEM: return Status::out_of_memory;
        default: return Status::system_error;
    }
}

// A second open file description of the object behind `fd`, for probing
// other processes' locks (a description never sees its own locks). It is
// reopened through /proc/self/fd, not by name: the name may have been taken
// over by a replacement segment since `fd` was opened. Without /proc, the
// name is reopened and must still refer to the same object.
int reopen_same_object(int fd, const std::string& name, dev_t dev, ino_t ino) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    int probe = ::open(self.c_str(), O_RDWR | O_CLOEXEC);
    if (probe >= 0) return probe;
    probe = ::shm_open(name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (probe < 0) return -1;
    struct stat st {};
    if (::fstat(probe, &st) != 0 || st.st_dev != dev || st.st_ino != ino) {
        ::close(probe);
        errno = ESTALE;
        return -1;
    }
    return probe;
}

}  // namespace

std::string shm_path(const char* name) { return std::string("/zfd.") + name; }

Region::~Region() {
    if (borrowed_) {
        // not ours
    } else if (heap_) {
        std::free(base_);
    } else if (base_ != nullptr) {
        ::munmap(base_, size_);
    }
    if (probe_fd_ >= 0) ::close(probe_fd_);
    if (fd_ >= 0) ::close(fd_);
}

Status Region::create_heap(std::uint64_t size, std::unique_ptr<Region>* out, ErrorDetail* detail) {
    void* p = std::aligned_alloc(layout::kPageSize, size);
    if (p == nullptr) {
        return fail(detail, Status::out_of_memory, ENOMEM, "cannot allocate {} bytes", size);
    }
    std::memset(p, 0, size);
    std::unique_ptr<Region> r(new Region());
    r->base_ = static_cast<std::byte*>(p);
    r->size_ = size;
    r->heap_ = true;
    *out = std::move(r);
    return Status::ok;
}

Status Region::create_named(const std::string& name, std::uint64_t size, std::uint32_t mode,
                            bool replace_stale, std::unique_ptr<Region>* out,
                            ErrorDetail* detail) {
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) break;
        const int err = errno;
        if (err != EEXIST) {
            return fail(detail, errno_status(err), err, "shm_open({}, O_CREAT|O_EXCL): {}", name,
                        std::strerror(err));
        }
        // Something is at the name. Look at it without following links.
        const int old = ::shm_open(name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
        if (old < 0) {
            const int e2 = errno;
            return fail(detail, Status::exists, e2,
                        "{} exists and cannot be opened to check its owner: {}", name,
                        std::strerror(e2));
        }
        struct stat st {};
        if (::fstat(old, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
            ::close(old);
            return fail(detail, Status::exists, EEXIST,
                        "{} exists and is not a segment of this user (uid {}, ours {})", name,
                        static_cast<unsigned>(st.st_uid), static_cast<unsigned>(::geteuid()));
        }
        // Holding the old owner byte serialises replacers and proves the old
        // owner is dead (the kernel dropped its lock).
        if (!liveness::try_lock(old, 0)) {
            ::close(old);
            return fail(detail, Status::exists, EEXIST, "{} exists and its owner is alive", name);
        }
        if (!replace_stale || attempt >= 3) {
            ::close(old);
            return fail(detail, Status::exists, EEXIST,
                        "{} exists; its owner is dead (pass ZFD_SEGMENT_REPLACE_STALE to replace it)",
                        name);
        }
        ::shm_unlink(name.c_str());
        fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
        const int e3 = errno;
        ::close(old);  // drops the old owner byte: old readers now see the owner gone
        if (fd < 0 && e3 != EEXIST) {
            return fail(detail, errno_status(e3), e3, "shm_open({}) after replacing: {}", name,
                        std::strerror(e3));
        }
    }

    std::unique_ptr<Region> r(new Region());
    r->fd_ = fd;
    r->name_ = name;
    auto undo = [&](Status s, int err, const char* what) {
        ::shm_unlink(name.c_str());
        return fail(detail, s, err, "{} on {} ({} bytes): {}", what, name, size, std::strerror(err));
    };
    if (!liveness::try_lock(fd, 0)) return undo(Status::system_error, errno, "owner lock");
    if (::fchmod(fd, mode) != 0) return undo(errno_status(errno), errno, "fchmod");
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        return undo(errno_status(errno), errno, "ftruncate");
    }
    // tmpfs is sparse: reserve the pages now so a full /dev/shm is ENOSPC
    // here, not SIGBUS on first touch later.
    if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size)); err != 0) {
        return undo(err == ENOSPC ? Status::system_error : errno_status(err), err,
                    "posix_fallocate");
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return undo(errno_status(errno), errno, "mmap");
    r->base_ = static_cast<std::byte*>(p);
    r->size_ = size;
    struct stat st {};
    ::fstat(fd, &st);
    r->dev_ = st.st_dev;
    r->ino_ = st.st_ino;
    r->probe_fd_ = reopen_same_object(fd, name, r->dev_, r->ino_);
    if (r->probe_fd_ < 0) return undo(errno_status(errno), errno, "probe open");
    *out = std::move(r);
    return Status::ok;
}

Status Region::open_named(const std::string& name, std::unique_ptr<Region>* out,
                          ErrorDetail* detail) {
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        const int err = errno;
        return fail(detail, errno_status(err), err, "shm_open({}): {}", name, std::strerror(err));
    }
    std::unique_ptr<Region> r(new Region());
    r->fd_ = fd;
    r->name_ = name;

    struct stat st {};
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + kOpenWait;
    for (;;) {
        if (::fstat(fd, &st) != 0) {
            return fail(detail, Status::system_error, errno, "fstat({}): {}", name,
                        std::strerror(errno));
        }
        if (!S_ISREG(st.st_mode)) {
            return fail(detail, Status::permission, 0, "{} is not a regular file", name);
        }
        const bool ours = st.st_uid == ::geteuid();
        const bool shared_on_purpose = (st.st_mode & 0066) != 0;
        if (!ours && !shared_on_purpose) {
            return fail(detail, Status::permission, EPERM,
                        "{} is owned by uid {} (we are {}) and mode {:o} does not share it", name,
                        static_cast<unsigned>(st.st_uid), static_cast<unsigned>(::geteuid()),
                        static_cast<unsigned>(st.st_mode & 07777));
        }
        if ((st.st_mode & 07000) != 0) {
            return fail(detail, Status::permission, EPERM, "{} has special mode bits {:o}", name,
                        static_cast<unsigned>(st.st_mode & 07777));
        }
        if (static_cast<std::uint64_t>(st.st_size) >= layout::kPageSize) break;
        const auto now = std::chrono::steady_clock::now();
        if (now - start >= liveness::kCreatorGrace &&
            !liveness::locked_by_other(fd, liveness::kOwnerByte)) {
            return fail(detail, Status::peer_gone, 0,
                        "{} is {} bytes and its creator is gone: it died before sizing it", name,
                        static_cast<long long>(st.st_size));
        }
        if (now >= deadline) {
            return fail(detail, Status::timeout, 0,
                        "{} stayed at {} bytes: its creator did not finish sizing it", name,
                        static_cast<long long>(st.st_size));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        const int err = errno;
        return fail(detail, errno_status(err), err, "mmap({}, {} bytes): {}", name, size,
                    std::strerror(err));
    }
    r->base_ = static_cast<std::byte*>(p);
    r->size_ = size;
    r->dev_ = st.st_dev;
    r->ino_ = st.st_ino;
    r->probe_fd_ = reopen_same_object(fd, name, r->dev_, r->ino_);
    if (r->probe_fd_ < 0) {
        const int err = errno;
        if (err == ESTALE) {
            return fail(detail, Status::peer_gone, err,
                        "{} was replaced by a new segment while it was being opened", name);
        }
        return fail(detail, errno_status(err), err, "second open of {}: {}", name,
                    std::strerror(err));
    }
    *out = std::move(r);
    return Status::ok;
}

Status Region::unlink_named(const std::string& name, ErrorDetail* detail) {
    if (::shm_unlink(name.c_str()) != 0) {
        const int err = errno;
        return fail(detail, errno_status(err), err, "shm_unlink({}): {}", name, std::strerror(err));
    }
    return Status::ok;
}

std::unique_ptr<Region> Region::borrow(std::byte* base, std::uint64_t size) {
    std::unique_ptr<Region> r(new Region());
    r->base_ = base;
    r->size_ = size;
    r->borrowed_ = true;
    return r;
}

Status Region::probe_owner(const std::string& name, bool* alive) {
    const int fd = ::shm_open(name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) return errno_status(errno);
    *alive = liveness::locked_by_other(fd, liveness::kOwnerByte);
    ::close(fd);
    return Status::ok;
}

bool Region::protect_read_only(std::uint64_t offset, std::uint64_t len) {
    if (heap_ || borrowed_ || len == 0) return true;
    return ::mprotect(base_ + offset, len, PROT_READ) == 0;
}

bool Region::try_lock_byte(std::uint64_t offset) {
    return fd_ >= 0 && liveness::try_lock(fd_, offset);
}

void Region::unlock_byte(std::uint64_t offset) {
    if (fd_ >= 0) liveness::unlock(fd_, offset);
}

bool Region::byte_locked(std::uint64_t offset) const {
    return probe_fd_ >= 0 && liveness::locked_by_other(probe_fd_, offset);
}

void Region::unlink_if_same_object() {
    if (fd_ < 0) return;
    const int fd = ::shm_open(name_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) return;
    struct stat st {};
    const bool same = ::fstat(fd, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
    ::close(fd);
    if (same) ::shm_unlink(name_.c_str());
}

}  // namespace zerodds::flatdata
