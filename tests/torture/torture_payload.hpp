// torture_payload.hpp — the self-checking sample of the crash-torture suite.
//
// Every sample is {u64 index, u32 epoch, u32 len, u64 check, body}. index is
// the writer's own commit counter (it must equal the library's sequence
// number), epoch names the writer incarnation, len is the sample length
// (24..capacity, derived from index and epoch), the body bytes are a PRNG
// stream of (epoch, index) and check is FNV-1a 64 over the first 16 bytes and
// the body. A reader verifies every field, so a torn, stale, misplaced or
// foreign sample is always caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace torture {

struct SampleHeader {
    uint64_t index;
    uint32_t epoch;
    uint32_t len;
    uint64_t check;
};
static_assert(sizeof(SampleHeader) == 24);

inline constexpr size_t kHeaderSize = sizeof(SampleHeader);

inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

inline uint64_t stream_seed(uint32_t epoch, uint64_t index) {
    return (uint64_t{epoch} << 40) ^ index ^ 0x5bd1e995c0ffee11ull;
}

// Sample length for (epoch, index): between the header size and capacity.
inline uint32_t sample_len(uint32_t epoch, uint64_t index, uint64_t capacity) {
    uint64_t s = stream_seed(epoch, index) ^ 0xa5a5a5a5ull;
    const uint64_t span = capacity - kHeaderSize + 1;
    return static_cast<uint32_t>(kHeaderSize + splitmix64(s) % span);
}

inline uint64_t fnv1a(uint64_t h, const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

inline uint64_t checksum(const unsigned char* sample, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv1a(h, sample, 16);
    if (len > kHeaderSize) h = fnv1a(h, sample + kHeaderSize, len - kHeaderSize);
    return h;
}

inline void fill_body(unsigned char* body, size_t n, uint32_t epoch, uint64_t index) {
    uint64_t s = stream_seed(epoch, index);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t v = splitmix64(s);
        std::memcpy(body + i, &v, 8);
    }
    if (i < n) {
        const uint64_t v = splitmix64(s);
        std::memcpy(body + i, &v, n - i);
    }
}

// Writes sample (epoch, index) into dst (capacity bytes); returns its length.
inline size_t make_sample(void* dst, uint64_t capacity, uint32_t epoch, uint64_t index) {
    auto* p = static_cast<unsigned char*>(dst);
    const uint32_t len = sample_len(epoch, index, capacity);
    SampleHeader h{index, epoch, len, 0};
    std::memcpy(p, &h, kHeaderSize);
    fill_body(p + kHeaderSize, len - kHeaderSize, epoch, index);
    h.check = checksum(p, len);
    std::memcpy(p, &h, kHeaderSize);
    return len;
}

enum class Verdict { ok, bad_len, bad_check, bad_body, bad_index };

inline const char* verdict_str(Verdict v) {
    switch (v) {
        case Verdict::ok: return "ok";
        case Verdict::bad_len: return "bad_len";
        case Verdict::bad_check: return "bad_check";
        case Verdict::bad_body: return "bad_body";
        case Verdict::bad_index: return "bad_index";
    }
    return "?";
}

// Checks a sample of len bytes that the library reported with sequence seq.
inline Verdict verify_sample(const void* data, size_t len, uint64_t seq, uint64_t capacity,
                             SampleHeader* out) {
    if (len < kHeaderSize || len > capacity) return Verdict::bad_len;
    const auto* p = static_cast<const unsigned char*>(data);
    SampleHeader h;
    std::memcpy(&h, p, kHeaderSize);
    *out = h;
    if (h.len != len || h.len != sample_len(h.epoch, h.index, capacity)) return Verdict::bad_len;
    if (checksum(p, len) != h.check) return Verdict::bad_check;
    unsigned char expect[64];
    uint64_t s = stream_seed(h.epoch, h.index);
    for (size_t off = kHeaderSize; off < len; off += 8) {
        const uint64_t v = splitmix64(s);
        std::memcpy(expect, &v, 8);
        const size_t n = len - off < 8 ? len - off : 8;
        if (std::memcmp(expect, p + off, n) != 0) return Verdict::bad_body;
    }
    if (h.index != seq) return Verdict::bad_index;
    return Verdict::ok;
}

}  // namespace torture
