// event_fd.cpp — descriptors for event loops: making them, arming them,
// firing them. See event_fd.hpp for the mechanism and PROTOCOL.md
// ("Event-loop descriptors") for the arming protocol.
#include "event_fd.hpp"

#include "liveness.hpp"
#include "notify.hpp"
#include "segment_impl.hpp"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace zerodds::flatdata {

namespace {
constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRel = std::memory_order_release;
constexpr auto kRlx = std::memory_order_relaxed;
constexpr auto kSeq = std::memory_order_seq_cst;

// Bytes drained per empty take at most (a byte per arming, plus whatever
// strangers sent).
constexpr int kMaxDrain = 64;
constexpr int kBindAttempts = 8;

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

std::uint64_t random_nonce() {
    std::uint64_t v = 0;
    for (;;) {
        if (::getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v) && v != 0) return v;
        if (errno != EINTR) break;
    }
    // No getrandom: the clock and our pid still make the name hard to guess
    // and unique enough (a clash only makes bind retry).
    v = static_cast<std::uint64_t>(notify::now_ns()) * 0x9e3779b97f4a7c15ull ^
        (static_cast<std::uint64_t>(::getpid()) << 32);
    return v != 0 ? v : 1;
}

// A non-blocking datagram socket bound to a fresh abstract name; its nonce in
// *nonce. -1 (errno set) if no name could be bound.
int bound_socket(const InstanceId& id, char role, std::uint32_t index, std::uint64_t* nonce) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
        const std::uint64_t n = random_nonce();
        sockaddr_un addr{};
        const socklen_t len = event_fd::make_address(&addr, id, role, index, n);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0) {
            *nonce = n;
            return fd;
        }
        if (errno != EADDRINUSE) break;  // someone squats the name: try another
    }
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
}

void drain(int sock) {
    char buf[16];
    for (int i = 0; i < kMaxDrain; ++i) {
        if (::recv(sock, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno != EINTR) return;
    }
}

bool fd_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

Status errno_status(int e) {
    switch (e) {
        case ENOMEM:
        case ENOBUFS:
            return Status::out_of_memory;
        case EMFILE:
        case ENFILE:
        default:
            return Status::system_error;
    }
}

}  // namespace

namespace event_fd {

ReaderEvents::~ReaderEvents() {
    close_fd(pidfd);
    close_fd(sock);
    close_fd(epfd);
}

SpaceEvents::~SpaceEvents() { close_fd(sock); }

socklen_t make_address(sockaddr_un* addr, const InstanceId& id, char role, std::uint32_t index,
                       std::uint64_t nonce) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    char* p = addr->sun_path;
    *p++ = '\0';  // abstract namespace: no file, gone with the last socket
    for (char c : {'z', 'f', 'd', '/'}) *p++ = c;
    for (std::uint8_t b : id) {
        *p++ = kHex[b >> 4];
        *p++ = kHex[b & 15];
    }
    *p++ = '/';
    *p++ = role;
    if (role == kReaderRole) {
        index &= 63;  // a bounded index, whatever the caller computed
        *p++ = static_cast<char>('0' + index / 10);
        *p++ = static_cast<char>('0' + index % 10);
    }
    *p++ = '/';
    for (int shift = 60; shift >= 0; shift -= 4) *p++ = kHex[(nonce >> shift) & 15];
    static_assert(1 + 4 + 32 + 1 + 3 + 1 + 16 <= sizeof(sockaddr_un::sun_path));
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + (p - addr->sun_path));
}

namespace {
std::atomic<int> g_sender{-1};

int sender() {
    int fd = g_sender.load(kAcq);
    if (fd >= 0) return fd;
    const int made = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (made < 0) return -1;
    if (g_sender.compare_exchange_strong(fd, made, std::memory_order_acq_rel)) return made;
    ::close(made);  // another thread was first
    return fd;
}
}  // namespace

void send_wake(const sockaddr_un& addr, socklen_t len) {
    const int fd = sender();
    if (fd < 0) return;
    const char byte = 1;
    // EAGAIN: the reader's queue is full, so a byte is waiting already.
    // ECONNREFUSED/ENOENT: nobody has the name (a reader that died armed).
    ::sendto(fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
}

}  // namespace event_fd

// ---------------------------------------------------------------- wakers

void Segment::Impl::fire_reader_fd(std::uint32_t index) {
    if (index >= layout::kReaderEntries) return;
    const std::uint64_t bit = std::uint64_t{1} << index;
    if ((hdr->fd_armed.fetch_and(~bit, kSeq) & bit) == 0) return;
    sockaddr_un addr;
    const std::uint64_t nonce = readers[index].fd_nonce.load(kAcq);
    const socklen_t len = event_fd::make_address(&addr, instance_id, event_fd::kReaderRole, index, nonce);
    event_fd::send_wake(addr, len);
}

void Segment::Impl::fire_reader_fds() {
    // One exchange takes every armed bit: each of those readers gets exactly
    // one byte; a reader arming after it keeps its bit for the next commit.
    std::uint64_t armed = hdr->fd_armed.exchange(0, kSeq);
    for (; armed != 0; armed &= armed - 1) {
        const auto i = static_cast<std::uint32_t>(__builtin_ctzll(armed));
        sockaddr_un addr;
        const std::uint64_t nonce = readers[i].fd_nonce.load(kAcq);
        const socklen_t len = event_fd::make_address(&addr, instance_id, event_fd::kReaderRole, i, nonce);
        event_fd::send_wake(addr, len);
    }
}

void Segment::Impl::fire_space_fd() {
    if (hdr->space_fd_armed.exchange(0, kSeq) == 0) return;
    sockaddr_un addr;
    const std::uint64_t nonce = hdr->space_fd_nonce.load(kAcq);
    const socklen_t len = event_fd::make_address(&addr, instance_id, event_fd::kSpaceRole, 0, nonce);
    event_fd::send_wake(addr, len);
}

// ---------------------------------------------------------------- owner

Status Segment::Impl::space_fd(int* out_fd) {
    if (!owner) return Status::permission;
    // A forked child does not get a wake-up for its parent's segment.
    if (owner_pid != ::getpid()) return Status::unsupported;
    std::lock_guard lock(readers_mutex);
    if (event_fd::SpaceEvents* have = space_ev.load(kAcq); have != nullptr) {
        *out_fd = have->sock;
        return Status::ok;
    }
    auto ev = std::make_unique<event_fd::SpaceEvents>();
    ev->pid = ::getpid();
    ev->sock = bound_socket(instance_id, event_fd::kSpaceRole, 0, &ev->nonce);
    if (ev->sock < 0) return errno_status(errno);
    hdr->space_fd_nonce.store(ev->nonce, kRel);
    // Readable from the start: whether a slot is free is known only by
    // trying; the first reserve that finds none arms it (settle_space).
    sockaddr_un addr;
    const socklen_t len = event_fd::make_address(&addr, instance_id, event_fd::kSpaceRole, 0, ev->nonce);
    event_fd::send_wake(addr, len);
    *out_fd = ev->sock;
    space_ev.store(ev.get(), kRel);
    space_ev_owned = std::move(ev);
    return Status::ok;
}

bool Segment::Impl::settle_space(Status st) {
    event_fd::SpaceEvents* ev = space_ev.load(kAcq);
    if (ev == nullptr || st != Status::no_free_slot || ev->pid != ::getpid()) return false;
    drain(ev->sock);
    if (hdr->space_fd_armed.load(kAcq) != 0) return false;  // still armed since the last look
    // Arm, then look again (the releaser stores, then loads the flag).
    hdr->space_fd_armed.store(1, kSeq);
    notify::heavy_barrier();
    return true;
}

// ---------------------------------------------------------------- reader

namespace {

// Makes the descriptor readable for good (a terminal code is waiting).
void poke_terminal(Segment::Impl& s, std::uint32_t index, event_fd::ReaderEvents& ev) {
    if (ev.terminal) return;
    ev.terminal = true;
    sockaddr_un addr;
    const socklen_t len = event_fd::make_address(&addr, s.instance_id, event_fd::kReaderRole, index, ev.nonce);
    event_fd::send_wake(addr, len);
}

void poke(Segment::Impl& s, std::uint32_t index, const event_fd::ReaderEvents& ev) {
    sockaddr_un addr;
    const socklen_t len = event_fd::make_address(&addr, s.instance_id, event_fd::kReaderRole, index, ev.nonce);
    event_fd::send_wake(addr, len);
}

}  // namespace

Status Reader::Impl::reader_fd(int* out_fd) {
    // A forked child does not get a wake-up for its parent's reader.
    if (open_pid != ::getpid()) return Status::unsupported;
    if (ev) {
        if (ev->pid != ::getpid()) return Status::unsupported;  // forked child
        *out_fd = ev->epfd;
        return Status::ok;
    }
    Segment::Impl& s = *seg;
    auto e = std::make_unique<event_fd::ReaderEvents>();
    e->pid = ::getpid();
    e->sock = bound_socket(s.instance_id, event_fd::kReaderRole, index, &e->nonce);
    if (e->sock < 0) return errno_status(errno);
    e->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0) return errno_status(errno);
    epoll_event in{};
    in.events = EPOLLIN;
    in.data.u32 = 0;
    if (::epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->sock, &in) != 0) return errno_status(errno);
    // The owner's death makes its pidfd readable. Only for an owner in
    // another process, and only trusted after the owner's lock confirms it
    // (the pid comes from shared memory; settle() checks the lock).
    if (s.named && !s.owner && s.owner_pid > 0 && s.owner_pid != e->pid) {
        const long pfd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(s.owner_pid), 0u);
        if (pfd >= 0) {
            e->pidfd = static_cast<int>(pfd);
            in.data.u32 = 1;
            if (::epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->pidfd, &in) != 0) close_fd(e->pidfd);
        }
        // ESRCH (gone, or in another PID namespace), ENOSYS, EPERM: no pidfd;
        // the owner's death is then found by the next take's lock probe.
    }
    entry->fd_nonce.store(e->nonce, kRel);
    ev = std::move(e);
    // Arm and look, as after an empty take: if something is waiting already
    // (or the reader is detached, or the owner gone), readable at once.
    if (!attached()) {
        poke_terminal(s, index, *ev);
    } else {
        s.hdr->fd_armed.fetch_or(bit, kSeq);
        notify::heavy_barrier();
        Candidate c;
        Status st = find(&c);
        if (st == Status::no_sample) {
            s.last_owner_probe_ns.store(0, kRlx);  // probe now, not in 10 ms
            st = empty_status(false);
        }
        if (st == Status::peer_gone) {
            poke_terminal(s, index, *ev);
        } else if (st != Status::no_sample || !attached()) {
            poke(s, index, *ev);
        }
    }
    *out_fd = ev->epfd;
    return Status::ok;
}

bool Reader::Impl::settle(Status st) {
    event_fd::ReaderEvents* e = ev.get();
    if (e == nullptr || e->pid != ::getpid()) return false;  // none, or a forked child's copy
    Segment::Impl& s = *seg;
    if (st == Status::peer_gone || st == Status::detached) {
        poke_terminal(s, index, *e);  // readable until closed
        return false;
    }
    if (st != Status::no_sample || e->terminal) return false;
    drain(e->sock);
    if (e->pidfd >= 0 && fd_readable(e->pidfd)) {
        // The process we took for the owner died. The owner's lock decides:
        // free, the owner is gone (the next take reports it); held, the pid
        // was not the owner's (reused, or forged): stop watching it.
        if (!s.region->byte_locked(liveness::kOwnerByte)) {
            s.owner_gone.store(true, kRlx);
            return true;
        }
        ::epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->pidfd, nullptr);
        close_fd(e->pidfd);
    }
    if (!attached()) return true;  // the take once more reports it
    // Still armed since our last look (no waker took the bit): nothing can
    // have been committed since without a byte on its way. Otherwise arm and
    // look again: the commit stores, then loads fd_armed; we store, then look.
    if ((s.hdr->fd_armed.load(kAcq) & bit) != 0) return false;
    s.hdr->fd_armed.fetch_or(bit, kSeq);
    notify::heavy_barrier();
    return true;
}

void Reader::Impl::disarm_on_close() {
    seg->hdr->fd_armed.fetch_and(~bit, kSeq);
    entry->fd_nonce.store(0, kRel);
}

}  // namespace zerodds::flatdata
