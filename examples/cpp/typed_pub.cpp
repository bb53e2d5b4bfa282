// typed_pub.cpp — publish COUNT example::Pose samples on the named segment NAME.
//
//   zfd-example-typed-pub NAME COUNT
//
// Creates the segment (it is removed again when the writer closes), waits up
// to 10 s for a subscriber to attach, then publishes sample i with
// x = i, y = 2i, z = 3i and stamp_ns = the monotonic clock, each written in
// place in a loaned slot. Exits 0 after the last commit; the subscriber still
// takes what it has not read and then sees the end of the stream.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "pose.hpp"

namespace {

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
}

// True once a reader is attached, false when none came within the timeout.
bool wait_for_reader(const zfd::Segment& segment, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (segment.info().active_readers == 0) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s NAME COUNT\n", argv[0]);
        return 2;
    }
    const std::string name = argv[1];
    const unsigned long count = std::strtoul(argv[2], nullptr, 10);

    try {
        zfd::SegmentOptions options;
        options.slot_count = 16;  // slot_capacity defaults to sizeof(Pose)
        auto writer = zfd::Writer<example::Pose>::create(name, options);
        std::fprintf(stderr, "publisher: segment %s, type %s\n", name.c_str(),
                     zfd::to_hex(zfd::type_hash<example::Pose>()).c_str());

        if (!wait_for_reader(writer.segment(), std::chrono::seconds(10))) {
            std::fprintf(stderr, "publisher: no subscriber attached within 10 s\n");
            return 1;
        }
        for (unsigned long i = 0; i < count; ++i) {
            // Waits while every slot is still held by the subscriber; a reader
            // stuck for 5 s is an error here (zfd::error with ZFD_E_TIMEOUT).
            zfd::Loan<example::Pose> loan = writer.loan(std::chrono::seconds(5));
            const double v = static_cast<double>(i);
            loan->x = v;
            loan->y = 2 * v;
            loan->z = 3 * v;
            loan->stamp_ns = now_ns();
            loan.commit();
        }
        std::fprintf(stderr, "publisher: published %lu samples\n", count);
    } catch (const zfd::error& e) {
        std::fprintf(stderr, "publisher: %s\n", e.what());
        return 1;
    }
    return 0;  // ~Writer closed the segment: the name is gone, the subscriber is told
}
