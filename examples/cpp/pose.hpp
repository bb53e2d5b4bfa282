// pose.hpp — the sample type shared by typed_pub.cpp and typed_sub.cpp.
//
// Both programs include this one definition, so they agree on the layout and
// therefore on zfd::type_hash<Pose>(). A subscriber built from a different
// Pose (another field, type, order or padding) is refused when it opens the
// segment (zfd::error with ZFD_E_TYPE_MISMATCH).
#pragma once

#include <cstdint>
#include <zerodds/flatdata.hpp>

namespace example {

struct Pose {
    double x, y, z;
    std::uint64_t stamp_ns;  // CLOCK_MONOTONIC when published: comparable across processes
};
ZFD_FLAT_STRUCT(Pose, x, y, z, stamp_ns);

}  // namespace example
