// liveness.cpp — OFD byte locks. See liveness.hpp.
#include "liveness.hpp"

#include <fcntl.h>

#include <cerrno>

namespace zerodds::flatdata::liveness {
namespace {

struct flock byte_lock(short type, std::uint64_t offset) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(offset);
    fl.l_len = 1;
    fl.l_pid = 0;  // required by F_OFD_*
    return fl;
}

}  // namespace

bool try_lock(int fd, std::uint64_t offset) {
    struct flock fl = byte_lock(F_WRLCK, offset);
    int rc;
    do {
        rc = ::fcntl(fd, F_OFD_SETLK, &fl);
    } while (rc != 0 && errno == EINTR);
    return rc == 0;
}

void unlock(int fd, std::uint64_t offset) {
    struct flock fl = byte_lock(F_UNLCK, offset);
    ::fcntl(fd, F_OFD_SETLK, &fl);
}

bool locked_by_other(int fd, std::uint64_t offset) {
    struct flock fl = byte_lock(F_WRLCK, offset);
    if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return true;  // cannot tell: assume alive
    return fl.l_type != F_UNLCK;
}

}  // namespace zerodds::flatdata::liveness
