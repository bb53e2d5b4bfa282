// zfd_ops.hpp — the library calls the measurements make, child side: handles
// that close themselves, how a sample is written and checked, one send and
// one receive of the latency loops, segment options. Inline: they run in the
// timed loops.
#pragma once

#include "harness.hpp"

#include <zerodds/flatdata.h>

#include <cstring>
#include <memory>
#include <string>

namespace zfd_bench {

struct SegCloser {
    void operator()(zfd_segment* s) const { zfd_segment_close(s); }
};
struct RdCloser {
    void operator()(zfd_reader* r) const { zfd_reader_close(r); }
};
using SegPtr = std::unique_ptr<zfd_segment, SegCloser>;
using RdPtr = std::unique_ptr<zfd_reader, RdCloser>;

inline uint64_t pattern_of(uint64_t v) { return 0x0101010101010101ull * (v & 0xff); }

// Write a sample: first 8 bytes = v; with touch_all every other word = pattern.
inline void fill_sample(void* data, size_t len, uint64_t v, bool touch_all) {
    auto* w = static_cast<uint64_t*>(data);
    w[0] = v;
    if (touch_all) {
        const uint64_t p = pattern_of(v);
        for (size_t k = 1; k < len / 8; ++k) w[k] = p;
    }
}

// Check a sample: first 8 bytes == v; with touch_all, the sum of every word.
inline bool check_sample(const void* data, size_t len, uint64_t v, bool touch_all) {
    const auto* w = static_cast<const uint64_t*>(data);
    if (!touch_all) {
        uint64_t x;
        std::memcpy(&x, w, 8);
        return x == v;
    }
    uint64_t sum = 0;
    for (size_t k = 0; k < len / 8; ++k) sum += w[k];
    return sum == v + static_cast<uint64_t>(len / 8 - 1) * pattern_of(v);
}

inline zfd_segment_options seg_options(uint32_t slots, uint64_t capacity, uint32_t flags = 0) {
    zfd_segment_options o;
    zfd_segment_options_init(&o);
    o.slot_count = slots;
    o.slot_capacity = capacity;
    o.flags = flags;
    return o;
}

// Create the named segment into *out; 0 or p.fail(...).
inline int create_segment(const Peer& p, const std::string& name, const zfd_segment_options& o, SegPtr* out) {
    zfd_error e{};
    e.struct_size = sizeof e;
    zfd_segment* raw = nullptr;
    int32_t rc = zfd_segment_create(name.c_str(), &o, &raw, &e);
    if (rc != ZFD_OK) return p.fail("zfd_segment_create(%s): %s: %s", name.c_str(), zfd_status_str(rc), e.message);
    out->reset(raw);
    return 0;
}

// Open the named segment into *out; 0 or p.fail(...).
inline int open_segment(const Peer& p, const std::string& name, SegPtr* out) {
    zfd_error e{};
    e.struct_size = sizeof e;
    zfd_segment* raw = nullptr;
    int32_t rc = zfd_segment_open(name.c_str(), nullptr, 0, &raw, &e);
    if (rc != ZFD_OK) return p.fail("zfd_segment_open(%s): %s: %s", name.c_str(), zfd_status_str(rc), e.message);
    out->reset(raw);
    return 0;
}

// Attach a reader to seg into *out; 0 or p.fail(...).
inline int open_reader(const Peer& p, zfd_segment* seg, RdPtr* out) {
    zfd_reader* raw = nullptr;
    int32_t rc = zfd_reader_open(seg, 0, &raw);
    if (rc != ZFD_OK) return p.fail("zfd_reader_open: %s", zfd_status_str(rc));
    out->reset(raw);
    return 0;
}

// reserve (spin on NO_FREE_SLOT), write, commit_in_place
inline int send_sample(const Peer& p, zfd_segment* seg, uint64_t v, size_t payload, bool touch_all) {
    zfd_slot slot = 0;
    void* data = nullptr;
    int32_t rc;
    uint32_t spins = 0;
    while ((rc = zfd_reserve(seg, &slot, &data)) == ZFD_E_NO_FREE_SLOT) {
        if ((++spins & 0xfff) == 0 && p.dl.expired())
            return p.fail("zfd_reserve: no free slot until the deadline (sample %lu)", (unsigned long)v);
        spin_hint();
    }
    if (rc != ZFD_OK) return p.fail("zfd_reserve: %s", zfd_status_str(rc));
    if (data == nullptr) return p.fail("zfd_reserve gave a NULL data pointer");
    fill_sample(data, payload, v, touch_all);
    rc = zfd_commit_in_place(seg, slot, payload, nullptr);
    if (rc != ZFD_OK) return p.fail("zfd_commit_in_place: %s", zfd_status_str(rc));
    return 0;
}

// take (spin, or park in zfd_reader_wait), check, release
inline int recv_sample(const Peer& p, zfd_reader* rd, uint64_t expect, size_t payload, bool touch_all, bool block) {
    zfd_slot slot = 0;
    const void* data = nullptr;
    size_t len = 0;
    int32_t rc;
    uint32_t spins = 0;
    while ((rc = zfd_take(rd, &slot, &data, &len, nullptr)) == ZFD_E_NO_SAMPLE) {
        if (block) {
            int32_t w = zfd_reader_wait(rd, 100'000'000);
            if (w != ZFD_OK && w != ZFD_E_TIMEOUT) return p.fail("zfd_reader_wait: %s", zfd_status_str(w));
            if (w == ZFD_E_TIMEOUT && p.dl.expired())
                return p.fail("no sample %lu before the deadline (reader_wait)", (unsigned long)expect);
        } else {
            if ((++spins & 0xfff) == 0 && p.dl.expired())
                return p.fail("no sample %lu before the deadline (spinning on zfd_take)", (unsigned long)expect);
            spin_hint();
        }
    }
    if (rc != ZFD_OK) return p.fail("zfd_take: %s", zfd_status_str(rc));
    if (len != payload) return p.fail("zfd_take: len %zu, expected %zu", len, payload);
    if (data == nullptr) return p.fail("zfd_take gave a NULL data pointer");
    if (!check_sample(data, payload, expect, touch_all)) {
        uint64_t x;
        std::memcpy(&x, data, 8);
        return p.fail("wrong data: expected sample %lu, first word %lu%s", (unsigned long)expect, (unsigned long)x,
                      touch_all ? " (or bad byte sum)" : "");
    }
    rc = zfd_release(rd, slot);
    if (rc != ZFD_OK) return p.fail("zfd_release: %s", zfd_status_str(rc));
    return 0;
}

}  // namespace zfd_bench
