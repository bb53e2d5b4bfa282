// latency.cpp — one-way latency of the library: two processes, two named
// segments (ping a->b, pong b->a). Reserve, write the first 8 bytes (a
// sequence number; every byte with touch_all) in place, zfd_commit_in_place;
// the peer takes in place, reads, releases and answers on the other segment.
// Spin mode: the receiver polls zfd_take. Blocking mode: it sleeps in
// zfd_reader_wait (ZFD_SPIN_NS=0 in both processes before their first library
// call, so it really parks).
#include "harness.hpp"
#include "measure.hpp"
#include "zfd_ops.hpp"

#include <cstdlib>

namespace zfd_bench {

namespace {

struct LibSession {
    const Peer& p;
    PingSpec s;
    std::string own, peer;  // segment this side writes / reads
    SegPtr mine, theirs;
    RdPtr rd;

    int open() {
        // Blocking mode: make zfd_reader_wait park at once (no spin phase).
        // Must happen before the first library call of this process.
        if (s.block) setenv("ZFD_SPIN_NS", "0", 1);
        if (create_segment(p, own, seg_options(s.slots, s.payload), &mine)) return 1;
        if (!p.meet(p.ctl->created, 2)) return p.fail("peer never created its segment");
        if (open_segment(p, peer, &theirs)) return 1;
        return open_reader(p, theirs.get(), &rd);
    }
    int send(uint64_t i) { return send_sample(p, mine.get(), i, s.payload, s.touch_all); }
    int recv(uint64_t i) { return recv_sample(p, rd.get(), i, s.payload, s.touch_all, s.block); }
    int close() {
        rd.reset();
        theirs.reset();
        mine.reset();
        return 0;
    }
};

}  // namespace

Sampled lib_pingpong(const PingSpec& s) {
    PinnedRun run;
    const std::string na = run.segment_name("a"), nb = run.segment_name("b");
    return ping_pong(run, s.warm, s.iters, [=](const Peer& p) {
        return LibSession{p, s, p.role == 0 ? na : nb, p.role == 0 ? nb : na, {}, {}, {}};
    });
}

}  // namespace zfd_bench
