// type_hash.cpp — type identity: XXH3-128 of a layout descriptor (DESIGN §6).
// The descriptor is hashed as given; its canonical form is defined by the
// C++ layer (flatdata.hpp), not parsed here.
#include "segment.hpp"

#include <xxhash.h>

namespace zerodds::flatdata {

TypeHash type_hash(const void* descriptor, std::size_t len) {
    const XXH128_hash_t h = XXH3_128bits(descriptor, len);
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, h);
    TypeHash out{};
    static_assert(sizeof(canonical.digest) == kTypeHashSize);
    for (std::size_t i = 0; i < kTypeHashSize; ++i) out[i] = canonical.digest[i];
    return out;
}

}  // namespace zerodds::flatdata
