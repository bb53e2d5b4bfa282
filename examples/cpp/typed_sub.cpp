// typed_sub.cpp — print the example::Pose samples published on the segment NAME.
//
//   zfd-example-typed-sub NAME [COUNT]
//
// Opens NAME (waiting up to 10 s for it to appear) as a typed reader, so a
// publisher of another Pose layout is refused. Prints one line per sample,
//   seq S: x=X y=Y z=Z age_us=A
// until the publisher has closed and nothing unread remains, then
//   received N samples
// Exits 0 when every sample arrived intact and in order (and N == COUNT when
// COUNT is given), 1 otherwise.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "pose.hpp"

namespace {

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

// Open NAME, retrying while it does not exist yet.
zfd::Reader<example::Pose> open_when_ready(const std::string& name, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        try {
            return zfd::Reader<example::Pose>::open(name);
        } catch (const zfd::error& e) {
            if (e.code() != ZFD_E_NOT_FOUND || std::chrono::steady_clock::now() > deadline) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: %s NAME [COUNT]\n", argv[0]);
        return 2;
    }
    const std::string name = argv[1];
    const bool check_count = argc == 3;
    const unsigned long expected = check_count ? std::strtoul(argv[2], nullptr, 10) : 0;

    unsigned long received = 0;
    bool good = true;
    try {
        auto reader = open_when_ready(name, std::chrono::seconds(10));
        for (;;) {
            // Throws zfd::error(ZFD_E_PEER_GONE) once the publisher closed and
            // everything it published was taken: the normal end of the stream.
            std::optional<zfd::Sample<example::Pose>> sample =
                reader.try_take_for(std::chrono::seconds(10));
            if (!sample) {
                std::fprintf(stderr, "subscriber: nothing for 10 s\n");
                good = false;
                break;
            }
            const example::Pose& p = **sample;  // read in place, no copy
            const double want = static_cast<double>(received);
            const bool in_order =
                p.x == want && p.y == 2 * want && p.z == 3 * want && sample->sequence() == received;
            const std::uint64_t age_ns = now_ns() - p.stamp_ns;
            std::printf("seq %llu: x=%.1f y=%.1f z=%.1f age_us=%llu\n",
                        static_cast<unsigned long long>(sample->sequence()), p.x, p.y, p.z,
                        static_cast<unsigned long long>(age_ns / 1000));
            if (!sample->release()) {  // evicted while we read it: the values may be torn
                std::fprintf(stderr, "subscriber: sample %llu was evicted while held\n",
                             static_cast<unsigned long long>(received));
                good = false;
            }
            if (!in_order) {
                std::fprintf(stderr, "subscriber: sample %lu out of order or wrong\n", received);
                good = false;
            }
            ++received;
        }
    } catch (const zfd::error& e) {
        if (e.code() != ZFD_E_PEER_GONE) {
            std::fprintf(stderr, "subscriber: %s\n", e.what());
            good = false;
        }
    }
    std::printf("received %lu samples\n", received);
    if (check_count && received != expected) {
        std::fprintf(stderr, "subscriber: expected %lu samples\n", expected);
        good = false;
    }
    return good ? 0 : 1;
}
