// badinput_test.cpp — every exported function, fed bad input, returns its
// documented code and nothing crashes.
//
// One table: each row names the exported function it exercises, what is bad
// about the call, the call itself (building whatever state it needs from
// scratch), and the codes flatdata.h and DESIGN §3 "Precise rules" allow.
// Inputs: NULL handles, NULL required out-parameters, unknown flags,
// out-of-range indices (64, UINT32_MAX), absurd sizes and struct sizes, and
// tokens that are stale (used before), foreign (other segment, other reader,
// loan for sample and back), random (fixed-seed PRNG: NOT_LOANED or INVAL
// only) and 0. A second test reads capi/libzerodds_flatdata.map (path in
// $ZFD_MAP_FILE) and checks that the table exercises exactly the exported
// names, so a new function cannot be added without a bad-input row.
//
// Only the public header and the shared library are used.
#include <zerodds/flatdata.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------- handles

struct SegmentCloser {
    void operator()(zfd_segment* s) const { zfd_segment_close(s); }
};
struct ReaderCloser {
    void operator()(zfd_reader* r) const { zfd_reader_close(r); }
};
using SegmentPtr = std::unique_ptr<zfd_segment, SegmentCloser>;
using ReaderPtr = std::unique_ptr<zfd_reader, ReaderCloser>;

constexpr uint32_t kSlots = 4;
constexpr uint64_t kCapacity = 64;

zfd_segment_options options(uint32_t slot_count = kSlots, uint64_t slot_capacity = kCapacity) {
    zfd_segment_options opts;
    zfd_segment_options_init(&opts);
    opts.slot_count = slot_count;
    opts.slot_capacity = slot_capacity;
    return opts;
}

// Setup steps must succeed; a failure aborts the test with the code.
SegmentPtr make_segment(const char* name = nullptr) {
    zfd_segment_options opts = options();
    zfd_segment* raw = nullptr;
    const int32_t rc = zfd_segment_create(name, &opts, &raw, nullptr);
    if (rc != ZFD_OK || raw == nullptr) {
        ADD_FAILURE() << "setup: zfd_segment_create: " << zfd_status_str(rc);
        std::abort();
    }
    return SegmentPtr{raw};
}

ReaderPtr make_reader(zfd_segment* segment) {
    zfd_reader* raw = nullptr;
    const int32_t rc = zfd_reader_open(segment, 0, &raw);
    if (rc != ZFD_OK || raw == nullptr) {
        ADD_FAILURE() << "setup: zfd_reader_open: " << zfd_status_str(rc);
        std::abort();
    }
    return ReaderPtr{raw};
}

void check(int32_t rc, const char* what) {
    if (rc != ZFD_OK) {
        ADD_FAILURE() << "setup: " << what << ": " << zfd_status_str(rc);
        std::abort();
    }
}

// A fresh loan on `segment`.
zfd_slot loan(zfd_segment* segment) {
    zfd_slot slot = 0;
    check(zfd_reserve(segment, &slot, nullptr), "zfd_reserve");
    return slot;
}

// Publish 8 bytes on `segment`, take them with `reader`: a fresh sample token.
zfd_slot sample(zfd_segment* segment, zfd_reader* reader) {
    const uint64_t value = 0x5a5a5a5a5a5a5a5aull;
    check(zfd_publish(segment, &value, sizeof value, nullptr), "zfd_publish");
    zfd_slot slot = 0;
    check(zfd_take(reader, &slot, nullptr, nullptr, nullptr), "zfd_take");
    return slot;
}

// Two owner segments; readers r1, r2 on a, rb on b.
struct Env {
    SegmentPtr a = make_segment();
    SegmentPtr b = make_segment();
    ReaderPtr r1 = make_reader(a.get());
    ReaderPtr r2 = make_reader(a.get());
    ReaderPtr rb = make_reader(b.get());
};

// A named segment and a consumer handle on it (for the owner-only calls).
struct Named {
    std::string name = "zfd-badinput-" + std::to_string(::getpid());
    SegmentPtr owner;
    SegmentPtr consumer;
    Named() {
        zfd_segment_unlink(name.c_str(), nullptr);  // a leftover of an earlier crash
        owner = make_segment(name.c_str());
        zfd_segment* raw = nullptr;
        check(zfd_segment_open(name.c_str(), nullptr, 0, &raw, nullptr), "zfd_segment_open");
        consumer.reset(raw);
    }
    ~Named() {
        consumer.reset();
        owner.reset();
        zfd_segment_unlink(name.c_str(), nullptr);
    }
};

// ---------------------------------------------------------------- tokens

constexpr int kRandomTokens = 4000;

std::vector<uint64_t> random_tokens() {
    std::mt19937_64 rng(0x2a2a2a2a2a2a2a2aull);  // fixed seed: the same values every run
    std::vector<uint64_t> out(kRandomTokens);
    for (uint64_t& t : out) t = rng();
    // and a few with structure: each single bit, all ones
    for (int bit = 0; bit < 64; ++bit) out.push_back(uint64_t{1} << bit);
    out.push_back(~uint64_t{0});
    return out;
}

// Runs `call` over every random token; returns NOT_LOANED when each gave
// NOT_LOANED or INVAL, else the first other code.
int64_t over_random_tokens(const std::function<int32_t(uint64_t)>& call) {
    for (uint64_t t : random_tokens()) {
        const int32_t rc = call(t);
        if (rc != ZFD_E_NOT_LOANED && rc != ZFD_E_INVAL) {
            ADD_FAILURE() << "random token 0x" << std::hex << t << " gave " << std::dec << rc << " ("
                          << zfd_status_str(rc) << ")";
            return rc;
        }
    }
    return ZFD_E_NOT_LOANED;
}

// The loan/sample tokens encode (sample bit, tag, generation, index); these
// variants of a live token must all be refused. Only the token's bit layout
// is assumed to be opaque: the variants flip single bits across the word.
std::vector<uint64_t> near_misses(uint64_t t) {
    std::vector<uint64_t> out;
    for (int bit = 0; bit < 64; ++bit) out.push_back(t ^ (uint64_t{1} << bit));
    return out;
}

// Tokens carry a random, non-zero 15-bit tag per handle (per segment for
// loans, per reader for samples), so two handles share a tag with probability
// 1/32767, and then a foreign token naming the same slot and generation is
// taken for their own. A foreign-token case therefore runs in up to three
// fresh environments and fails only if the token is accepted in all three:
// a missing check still fails every time, a tag collision does not flake.
int64_t foreign(const std::function<int64_t()>& attempt) {
    int64_t rc = ZFD_OK;
    for (int i = 0; i < 3 && rc == ZFD_OK; ++i) rc = attempt();
    return rc;
}

// ---------------------------------------------------------------- the table

// Results of functions that return no status are mapped onto these.
constexpr int64_t kBehaved = 1;     // the documented no-op / value
constexpr int64_t kMisbehaved = 2;  // anything else

struct Case {
    std::string function;  // the exported name exercised
    std::string what;      // what is bad about the call
    std::function<int64_t()> call;
    std::vector<int64_t> allowed;
};

std::vector<Case> cases(Named& named) {
    std::vector<Case> t;
    auto add = [&](const char* function, const char* what, std::function<int64_t()> call,
                   std::vector<int64_t> allowed) {
        t.push_back(Case{function, what, std::move(call), std::move(allowed)});
    };
    const int64_t OK = ZFD_OK, INVAL = ZFD_E_INVAL, NOMEM = ZFD_E_NOMEM,
                  NOT_LOANED = ZFD_E_NOT_LOANED, TOO_LARGE = ZFD_E_TOO_LARGE,
                  PERMISSION = ZFD_E_PERMISSION, NOT_FOUND = ZFD_E_NOT_FOUND,
                  NO_SAMPLE = ZFD_E_NO_SAMPLE, TIMEOUT = ZFD_E_TIMEOUT,
                  DETACHED = ZFD_E_DETACHED, EVICTED = ZFD_E_EVICTED,
                  NO_FREE_SLOT = ZFD_E_NO_FREE_SLOT, NO_READER_SLOT = ZFD_E_NO_READER_SLOT,
                  PEER_GONE = ZFD_E_PEER_GONE, UNSUPPORTED = ZFD_E_UNSUPPORTED, EXISTS = ZFD_E_EXISTS;
    zfd_segment* consumer = named.consumer.get();

    // ------------------------------------------------ version and status
    add("zfd_version_number", "takes no input: equals the header's number", [] {
        return zfd_version_number() == ZFD_VERSION_NUMBER ? kBehaved : kMisbehaved;
    }, {kBehaved});
    add("zfd_version_string", "takes no input: static, non-NULL, matches the number", [] {
        const char* s = zfd_version_string();
        if (s == nullptr) return kMisbehaved;
        char want[32];
        std::snprintf(want, sizeof want, "%d.%d.%d", ZFD_VERSION_MAJOR, ZFD_VERSION_MINOR,
                      ZFD_VERSION_PATCH);
        return std::strcmp(s, want) == 0 ? kBehaved : kMisbehaved;
    }, {kBehaved});
    for (int32_t code : {INT32_MIN, INT32_MIN + 1, -21, -1000, 1, 77, INT32_MAX}) {
        add("zfd_status_str", "unknown code: a text containing \"unknown\"", [code] {
            const char* s = zfd_status_str(code);
            return s != nullptr && std::strstr(s, "unknown") != nullptr ? kBehaved : kMisbehaved;
        }, {kBehaved});
    }

    // ------------------------------------------------ segment lifecycle
    add("zfd_segment_options_init", "NULL is ignored", [] {
        zfd_segment_options_init(nullptr);
        return kBehaved;
    }, {kBehaved});

    add("zfd_segment_create", "NULL out_segment", [] {
        zfd_segment_options opts = options();
        return int64_t{zfd_segment_create(nullptr, &opts, nullptr, nullptr)};
    }, {INVAL});
    add("zfd_segment_create", "NULL out_segment, NULL opts, zfd_error filled", [] {
        zfd_error err;
        std::memset(&err, 0, sizeof err);
        err.struct_size = sizeof err;
        const int32_t rc = zfd_segment_create(nullptr, nullptr, nullptr, &err);
        return rc == ZFD_E_INVAL && err.code == rc && err.message[0] != '\0' ? int64_t{rc} : kMisbehaved;
    }, {INVAL});
    struct OptsCase {
        const char* what;
        std::function<void(zfd_segment_options&)> spoil;
        std::vector<int64_t> allowed;
    };
    const std::vector<OptsCase> bad_opts = {
        {"options.struct_size 0", [](zfd_segment_options& o) { o.struct_size = 0; }, {INVAL}},
        {"options.struct_size 1", [](zfd_segment_options& o) { o.struct_size = 1; }, {INVAL}},
        {"options.struct_size one short", [](zfd_segment_options& o) { o.struct_size -= 1; }, {INVAL}},
        {"options.struct_size UINT32_MAX", [](zfd_segment_options& o) { o.struct_size = UINT32_MAX; }, {INVAL}},
        {"slot_count 0", [](zfd_segment_options& o) { o.slot_count = 0; }, {INVAL}},
        {"slot_capacity 0", [](zfd_segment_options& o) { o.slot_capacity = 0; }, {INVAL}},
        {"unknown flag bit 31", [](zfd_segment_options& o) { o.flags = 1u << 31; }, {INVAL}},
        {"unknown flag bit 5", [](zfd_segment_options& o) { o.flags = 1u << 5; }, {INVAL}},
        {"reserved2 non-zero", [](zfd_segment_options& o) { o.reserved2 = 1; }, {INVAL}},
        {"history equal to slot_count", [](zfd_segment_options& o) { o.history = o.slot_count; }, {INVAL}},
        {"history UINT32_MAX", [](zfd_segment_options& o) { o.history = UINT32_MAX; }, {INVAL}},
        {"mirror_of without ZFD_SEGMENT_MIRROR", [](zfd_segment_options& o) { o.mirror_of[15] = 1; }, {INVAL}},
        {"origin without ZFD_SEGMENT_MIRROR", [](zfd_segment_options& o) { o.origin[0] = 'h'; }, {INVAL}},
        {"origin without its NUL", [](zfd_segment_options& o) {
             o.flags = ZFD_SEGMENT_MIRROR;
             std::memset(o.origin, 'h', sizeof o.origin);
         }, {INVAL}},
        {"struct_size between 0.1 and 0.2",
         [](zfd_segment_options& o) { o.struct_size = offsetof(zfd_segment_options, mirror_of); }, {INVAL}},
        {"all flag bits", [](zfd_segment_options& o) { o.flags = UINT32_MAX; }, {INVAL}},
        {"has_type_hash 2", [](zfd_segment_options& o) { o.has_type_hash = 2; }, {INVAL}},
        {"has_type_hash UINT32_MAX", [](zfd_segment_options& o) { o.has_type_hash = UINT32_MAX; }, {INVAL}},
        {"mode bits outside 0777", [](zfd_segment_options& o) { o.mode = 07777; }, {INVAL}},
        // Absurd geometry: out of range (INVAL) or cannot be allocated (NOMEM).
        {"slot_count UINT32_MAX", [](zfd_segment_options& o) { o.slot_count = UINT32_MAX; }, {INVAL, NOMEM}},
        {"slot_capacity UINT64_MAX", [](zfd_segment_options& o) { o.slot_capacity = UINT64_MAX; }, {INVAL, NOMEM}},
        {"slot_count and slot_capacity maximal",
         [](zfd_segment_options& o) { o.slot_count = UINT32_MAX; o.slot_capacity = UINT64_MAX; }, {INVAL, NOMEM}},
        {"slot_capacity 2^63", [](zfd_segment_options& o) { o.slot_capacity = uint64_t{1} << 63; }, {INVAL, NOMEM}},
    };
    for (const OptsCase& c : bad_opts) {
        add("zfd_segment_create", c.what, [spoil = c.spoil] {
            zfd_segment_options opts = options();
            spoil(opts);
            zfd_segment* raw = reinterpret_cast<zfd_segment*>(uintptr_t{0x1});
            const int32_t rc = zfd_segment_create(nullptr, &opts, &raw, nullptr);
            if (rc == ZFD_OK) zfd_segment_close(raw);
            else if (raw != nullptr) return kMisbehaved;  // *out_segment is NULL on failure
            return int64_t{rc};
        }, c.allowed);
    }
    add("zfd_segment_create", "a larger struct_size with a non-zero unknown tail", [] {
        struct {
            zfd_segment_options opts;
            uint64_t tail[4];
        } big;
        std::memset(&big, 0, sizeof big);
        zfd_segment_options_init(&big.opts);
        big.opts.struct_size = sizeof big;
        big.tail[3] = 1;
        zfd_segment* raw = nullptr;
        const int32_t rc = zfd_segment_create(nullptr, &big.opts, &raw, nullptr);
        if (rc == ZFD_OK) zfd_segment_close(raw);
        return int64_t{rc};
    }, {INVAL});
    for (const char* name : {"", "a/b", "../x", "a b", "\x01", "\xff\xfe"}) {
        add("zfd_segment_create", "invalid name", [name] {
            zfd_segment_options opts = options();
            zfd_segment* raw = nullptr;
            return int64_t{zfd_segment_create(name, &opts, &raw, nullptr)};
        }, {INVAL});
    }
    add("zfd_segment_create", "name of 201 characters", [] {
        const std::string name(201, 'n');
        zfd_segment_options opts = options();
        zfd_segment* raw = nullptr;
        return int64_t{zfd_segment_create(name.c_str(), &opts, &raw, nullptr)};
    }, {INVAL});
    add("zfd_segment_create", "zfd_error with struct_size 0 is left untouched", [] {
        zfd_error err;
        std::memset(&err, 0x5c, sizeof err);
        err.struct_size = 0;
        zfd_segment* raw = nullptr;
        zfd_segment_options opts = options(0, kCapacity);
        const int32_t rc = zfd_segment_create(nullptr, &opts, &raw, &err);
        const auto* bytes = reinterpret_cast<const unsigned char*>(&err);
        for (size_t i = sizeof err.struct_size; i < sizeof err; ++i) {
            if (bytes[i] != 0x5c) return kMisbehaved;
        }
        return int64_t{rc};
    }, {INVAL});
    add("zfd_segment_create", "zfd_error with struct_size 14: nothing written at or past byte 14", [] {
        zfd_error err;
        std::memset(&err, 0x5c, sizeof err);
        err.struct_size = 14;
        zfd_segment* raw = nullptr;
        zfd_segment_options opts = options(0, kCapacity);
        const int32_t rc = zfd_segment_create(nullptr, &opts, &raw, &err);
        const auto* bytes = reinterpret_cast<const unsigned char*>(&err);
        for (size_t i = 14; i < sizeof err; ++i) {
            if (bytes[i] != 0x5c) return kMisbehaved;
        }
        if (err.code != rc || bytes[13] != '\0') return kMisbehaved;
        return int64_t{rc};
    }, {INVAL});

    add("zfd_segment_open", "NULL out_segment", [&named] {
        return int64_t{zfd_segment_open(named.name.c_str(), nullptr, 0, nullptr, nullptr)};
    }, {INVAL});
    add("zfd_segment_open", "NULL name", [] {
        zfd_segment* raw = nullptr;
        return int64_t{zfd_segment_open(nullptr, nullptr, 0, &raw, nullptr)};
    }, {INVAL});
    for (const char* name : {"", "a/b", "../x", "a b", "\xff"}) {
        add("zfd_segment_open", "invalid name", [name] {
            zfd_segment* raw = nullptr;
            return int64_t{zfd_segment_open(name, nullptr, 0, &raw, nullptr)};
        }, {INVAL});
    }
    for (uint32_t flags : {1u, 2u, 1u << 31, UINT32_MAX}) {
        add("zfd_segment_open", "unknown flags", [&named, flags] {
            zfd_segment* raw = nullptr;
            const int32_t rc = zfd_segment_open(named.name.c_str(), nullptr, flags, &raw, nullptr);
            if (rc == ZFD_OK) zfd_segment_close(raw);
            return int64_t{rc};
        }, {INVAL});
    }
    add("zfd_segment_open", "a name nobody created", [] {
        zfd_segment* raw = nullptr;
        const std::string name = "zfd-badinput-absent-" + std::to_string(::getpid());
        return int64_t{zfd_segment_open(name.c_str(), nullptr, 0, &raw, nullptr)};
    }, {NOT_FOUND});

    add("zfd_segment_close", "NULL is ignored", [] {
        zfd_segment_close(nullptr);
        return kBehaved;
    }, {kBehaved});

    add("zfd_segment_claim", "NULL segment", [] { return int64_t{zfd_segment_claim(nullptr, 0)}; },
        {INVAL});
    for (uint32_t role : {uint32_t{ZFD_CLAIM_ROLES}, UINT32_MAX}) {
        add("zfd_segment_claim", "role out of range", [consumer, role] {
            return int64_t{zfd_segment_claim(consumer, role)};
        }, {INVAL});
        add("zfd_segment_release_claim", "role out of range", [consumer, role] {
            return int64_t{zfd_segment_release_claim(consumer, role)};
        }, {INVAL});
    }
    add("zfd_segment_claim", "in-memory segment", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_segment_claim(s.get(), 0)};
    }, {UNSUPPORTED});
    add("zfd_segment_claim", "held through another handle", [&named] {
        if (zfd_segment_claim(named.owner.get(), 7) != ZFD_OK) return kMisbehaved;
        const int32_t rc = zfd_segment_claim(named.consumer.get(), 7);
        if (zfd_segment_release_claim(named.owner.get(), 7) != ZFD_OK) return kMisbehaved;
        return int64_t{rc};
    }, {EXISTS});
    add("zfd_segment_release_claim", "NULL segment", [] {
        return int64_t{zfd_segment_release_claim(nullptr, 0)};
    }, {INVAL});
    add("zfd_segment_release_claim", "not held by this handle", [consumer] {
        return int64_t{zfd_segment_release_claim(consumer, 3)};
    }, {NOT_FOUND});
    add("zfd_segment_unlink", "NULL name", [] { return int64_t{zfd_segment_unlink(nullptr, nullptr)}; },
        {INVAL});
    for (const char* name : {"", "a/b", "../x", "a b", "\xff"}) {
        add("zfd_segment_unlink", "invalid name", [name] {
            return int64_t{zfd_segment_unlink(name, nullptr)};
        }, {INVAL});
    }
    add("zfd_segment_unlink", "a name nobody created", [] {
        const std::string name = "zfd-badinput-absent-" + std::to_string(::getpid());
        return int64_t{zfd_segment_unlink(name.c_str(), nullptr)};
    }, {NOT_FOUND});

    add("zfd_segment_get_info", "NULL segment", [] {
        zfd_segment_info info;
        info.struct_size = sizeof info;
        return int64_t{zfd_segment_get_info(nullptr, &info)};
    }, {INVAL});
    add("zfd_segment_get_info", "NULL out_info", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_segment_get_info(s.get(), nullptr)};
    }, {INVAL});
    for (uint32_t size : {0u, 1u, uint32_t{offsetof(zfd_segment_info, instance_id)} - 1}) {
        add("zfd_segment_get_info", "struct_size below the first version", [size] {
            SegmentPtr s = make_segment();
            zfd_segment_info info;
            info.struct_size = size;
            return int64_t{zfd_segment_get_info(s.get(), &info)};
        }, {INVAL});
    }

    // ------------------------------------------------ writer side
    add("zfd_reserve", "NULL segment", [] {
        zfd_slot slot;
        return int64_t{zfd_reserve(nullptr, &slot, nullptr)};
    }, {INVAL});
    add("zfd_reserve", "NULL out_slot", [] {
        SegmentPtr s = make_segment();
        void* data = nullptr;
        return int64_t{zfd_reserve(s.get(), nullptr, &data)};
    }, {INVAL});
    add("zfd_reserve", "consumer handle", [consumer] {
        zfd_slot slot;
        return int64_t{zfd_reserve(consumer, &slot, nullptr)};
    }, {PERMISSION});
    add("zfd_reserve", "every slot loaned", [] {
        SegmentPtr s = make_segment();
        for (uint32_t i = 0; i < kSlots; ++i) loan(s.get());
        zfd_slot slot;
        return int64_t{zfd_reserve(s.get(), &slot, nullptr)};
    }, {NO_FREE_SLOT});

    add("zfd_reserve_wait", "NULL segment", [] {
        zfd_slot slot;
        return int64_t{zfd_reserve_wait(nullptr, 0, &slot, nullptr)};
    }, {INVAL});
    add("zfd_reserve_wait", "NULL out_slot", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_reserve_wait(s.get(), 0, nullptr, nullptr)};
    }, {INVAL});
    add("zfd_reserve_wait", "consumer handle", [consumer] {
        zfd_slot slot;
        return int64_t{zfd_reserve_wait(consumer, 0, &slot, nullptr)};
    }, {PERMISSION});
    add("zfd_reserve_wait", "every slot loaned, timeout 0", [] {
        SegmentPtr s = make_segment();
        for (uint32_t i = 0; i < kSlots; ++i) loan(s.get());
        zfd_slot slot;
        return int64_t{zfd_reserve_wait(s.get(), 0, &slot, nullptr)};
    }, {TIMEOUT});

    // The token-taking writer calls: one adapter each, so every bad token is
    // tried on all four. Each returns the call's code.
    struct LoanCall {
        const char* function;
        std::function<int32_t(zfd_segment*, zfd_slot)> call;
    };
    const std::vector<LoanCall> loan_calls = {
        {"zfd_slot_data",
         [](zfd_segment* s, zfd_slot t) {
             void* data = nullptr;
             uint64_t cap = 0;
             return zfd_slot_data(s, t, &data, &cap);
         }},
        {"zfd_commit_in_place", [](zfd_segment* s, zfd_slot t) { return zfd_commit_in_place(s, t, 0, nullptr); }},
        {"zfd_commit",
         [](zfd_segment* s, zfd_slot t) {
             const uint64_t v = 1;
             return zfd_commit(s, t, &v, sizeof v, nullptr);
         }},
        {"zfd_discard", [](zfd_segment* s, zfd_slot t) { return zfd_discard(s, t); }},
        {"zfd_commit_with_sequence",
         [](zfd_segment* s, zfd_slot t) { return zfd_commit_with_sequence(s, t, 0, 1u << 20); }},
    };
    for (const LoanCall& lc : loan_calls) {
        auto call = lc.call;
        add(lc.function, "NULL segment, live token", [call] {
            SegmentPtr s = make_segment();
            return int64_t{call(nullptr, loan(s.get()))};
        }, {INVAL});
        add(lc.function, "consumer handle", [call, consumer] {
            return int64_t{call(consumer, 0)};
        }, {PERMISSION});
        add(lc.function, "token 0", [call] {
            SegmentPtr s = make_segment();
            loan(s.get());  // a live loan exists; 0 still is not it
            return int64_t{call(s.get(), 0)};
        }, {NOT_LOANED});
        add(lc.function, "stale: the loan was committed", [call] {
            SegmentPtr s = make_segment();
            const zfd_slot t = loan(s.get());
            check(zfd_commit_in_place(s.get(), t, 0, nullptr), "zfd_commit_in_place");
            return int64_t{call(s.get(), t)};
        }, {NOT_LOANED});
        add(lc.function, "stale: the loan was discarded", [call] {
            SegmentPtr s = make_segment();
            const zfd_slot t = loan(s.get());
            check(zfd_discard(s.get(), t), "zfd_discard");
            return int64_t{call(s.get(), t)};
        }, {NOT_LOANED});
        add(lc.function, "stale: discarded, and the slot loaned again", [call] {
            SegmentPtr s = make_segment();
            zfd_slot t = loan(s.get());
            check(zfd_discard(s.get(), t), "zfd_discard");
            for (uint32_t i = 0; i < kSlots; ++i) loan(s.get());  // every slot, t's included
            return int64_t{call(s.get(), t)};
        }, {NOT_LOANED});
        add(lc.function, "foreign: a loan of another segment", [call] {
            return foreign([&] {
                Env e;
                loan(e.a.get());
                return int64_t{call(e.a.get(), loan(e.b.get()))};
            });
        }, {NOT_LOANED});
        add(lc.function, "foreign: a sample token for a loan", [call] {
            Env e;
            const zfd_slot taken = sample(e.a.get(), e.r1.get());
            loan(e.a.get());
            return int64_t{call(e.a.get(), taken)};
        }, {NOT_LOANED});
        add(lc.function, "near misses: a live loan with any one bit flipped", [call] {
            SegmentPtr s = make_segment();
            const zfd_slot live = loan(s.get());
            for (uint64_t t : near_misses(live)) {
                const int32_t rc = call(s.get(), t);
                if (rc != ZFD_E_NOT_LOANED && rc != ZFD_E_INVAL) return int64_t{rc};
            }
            // the live loan is untouched
            void* data = nullptr;
            return zfd_slot_data(s.get(), live, &data, nullptr) == ZFD_OK ? int64_t{ZFD_E_NOT_LOANED}
                                                                         : kMisbehaved;
        }, {NOT_LOANED});
        add(lc.function, "random tokens (fixed seed), with a live loan and a held sample", [call] {
            Env e;
            const zfd_slot held = sample(e.a.get(), e.r1.get());
            const zfd_slot live = loan(e.a.get());
            const int64_t worst = over_random_tokens([&](uint64_t t) { return call(e.a.get(), t); });
            // nothing real was disturbed
            if (zfd_commit_in_place(e.a.get(), live, 0, nullptr) != ZFD_OK) return kMisbehaved;
            if (zfd_release(e.r1.get(), held) != ZFD_OK) return kMisbehaved;
            return worst;
        }, {NOT_LOANED});
    }
    add("zfd_slot_data", "both out-parameters NULL (allowed)", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_slot_data(s.get(), loan(s.get()), nullptr, nullptr)};
    }, {OK});
    for (uint64_t sequence : {uint64_t{0}, uint64_t{6}, UINT64_MAX}) {
        add("zfd_commit_with_sequence", "sequence not above the last: INVAL, loan stays open",
            [sequence] {
                SegmentPtr s = make_segment();
                for (int i = 0; i < 7; ++i) {  // next_sequence is 7
                    check(zfd_publish(s.get(), nullptr, 0, nullptr), "zfd_publish");
                }
                const zfd_slot t = loan(s.get());
                const int32_t rc = zfd_commit_with_sequence(s.get(), t, 0, sequence);
                if (zfd_commit_with_sequence(s.get(), t, 0, 7) != ZFD_OK) return kMisbehaved;
                return int64_t{rc};
            }, {INVAL});
    }
    for (size_t len : {size_t{kCapacity + 1}, size_t{1} << 40, SIZE_MAX}) {
        add("zfd_commit_with_sequence", "len beyond the slot: TOO_LARGE, loan stays open", [len] {
            SegmentPtr s = make_segment();
            const zfd_slot t = loan(s.get());
            const int32_t rc = zfd_commit_with_sequence(s.get(), t, len, 1);
            if (zfd_discard(s.get(), t) != ZFD_OK) return kMisbehaved;
            return int64_t{rc};
        }, {TOO_LARGE});
    }
    for (size_t len : {size_t{kCapacity + 1}, size_t{1} << 40, SIZE_MAX}) {
        add("zfd_commit_in_place", "len beyond the slot: TOO_LARGE, loan stays open", [len] {
            SegmentPtr s = make_segment();
            const zfd_slot t = loan(s.get());
            const int32_t rc = zfd_commit_in_place(s.get(), t, len, nullptr);
            if (zfd_discard(s.get(), t) != ZFD_OK) return kMisbehaved;
            return int64_t{rc};
        }, {TOO_LARGE});
        add("zfd_commit", "len beyond the slot: TOO_LARGE, nothing copied, loan stays open", [len] {
            SegmentPtr s = make_segment();
            const zfd_slot t = loan(s.get());
            const char small[8] = {};
            const int32_t rc = zfd_commit(s.get(), t, small, len, nullptr);
            if (zfd_discard(s.get(), t) != ZFD_OK) return kMisbehaved;
            return int64_t{rc};
        }, {TOO_LARGE});
        add("zfd_publish", "len beyond the slot", [len] {
            SegmentPtr s = make_segment();
            const char small[8] = {};
            return int64_t{zfd_publish(s.get(), small, len, nullptr)};
        }, {TOO_LARGE});
    }
    add("zfd_commit", "NULL bytes with len 8", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_commit(s.get(), loan(s.get()), nullptr, 8, nullptr)};
    }, {INVAL});
    add("zfd_commit", "NULL bytes with len SIZE_MAX", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_commit(s.get(), loan(s.get()), nullptr, SIZE_MAX, nullptr)};
    }, {INVAL});

    add("zfd_publish", "NULL segment", [] {
        const uint64_t v = 1;
        return int64_t{zfd_publish(nullptr, &v, sizeof v, nullptr)};
    }, {INVAL});
    add("zfd_publish", "NULL bytes with len 8", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_publish(s.get(), nullptr, 8, nullptr)};
    }, {INVAL});
    add("zfd_publish", "consumer handle", [consumer] {
        const uint64_t v = 1;
        return int64_t{zfd_publish(consumer, &v, sizeof v, nullptr)};
    }, {PERMISSION});
    add("zfd_publish", "every slot held by a reader", [] {
        Env e;
        for (uint32_t i = 0; i < kSlots; ++i) sample(e.a.get(), e.r1.get());
        const uint64_t v = 1;
        return int64_t{zfd_publish(e.a.get(), &v, sizeof v, nullptr)};
    }, {NO_FREE_SLOT});

    // ------------------------------------------------ reader side
    for (uint32_t flags : {2u, 1u << 31, UINT32_MAX}) {
        add("zfd_reader_open", "unknown flags", [flags] {
            SegmentPtr s = make_segment();
            zfd_reader* raw = reinterpret_cast<zfd_reader*>(uintptr_t{0x1});
            const int32_t rc = zfd_reader_open(s.get(), flags, &raw);
            if (rc == ZFD_OK) zfd_reader_close(raw);
            else if (raw != nullptr) return kMisbehaved;  // *out_reader is NULL on failure
            return int64_t{rc};
        }, {INVAL});
    }
    add("zfd_reader_open", "NULL segment", [] {
        zfd_reader* raw = nullptr;
        return int64_t{zfd_reader_open(nullptr, 0, &raw)};
    }, {INVAL});
    add("zfd_reader_open", "NULL out_reader", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_reader_open(s.get(), 0, nullptr)};
    }, {INVAL});
    add("zfd_reader_open", "a 65th reader", [] {
        SegmentPtr s = make_segment();
        std::vector<ReaderPtr> readers;
        for (int i = 0; i < ZFD_MAX_READERS; ++i) readers.push_back(make_reader(s.get()));
        zfd_reader* raw = nullptr;
        const int32_t rc = zfd_reader_open(s.get(), 0, &raw);
        if (rc == ZFD_OK) zfd_reader_close(raw);
        return int64_t{rc};
    }, {NO_READER_SLOT});

    add("zfd_reader_close", "NULL is ignored", [] {
        zfd_reader_close(nullptr);
        return kBehaved;
    }, {kBehaved});
    add("zfd_reader_close", "a detached reader: touches nothing of the newer reader on its index", [] {
        SegmentPtr s = make_segment();
        zfd_reader* old = nullptr;
        check(zfd_reader_open(s.get(), 0, &old), "zfd_reader_open");
        const uint32_t index = zfd_reader_index(old);
        check(zfd_mark_reader_disconnected(s.get(), index), "zfd_mark_reader_disconnected");
        ReaderPtr newer = make_reader(s.get());
        const zfd_slot held = sample(s.get(), newer.get());
        zfd_reader_close(old);
        return zfd_release(newer.get(), held) == ZFD_OK ? kBehaved : kMisbehaved;
    }, {kBehaved});

    add("zfd_reader_index", "NULL gives UINT32_MAX", [] {
        return zfd_reader_index(nullptr) == UINT32_MAX ? kBehaved : kMisbehaved;
    }, {kBehaved});

    add("zfd_take", "NULL reader", [] {
        zfd_slot slot;
        return int64_t{zfd_take(nullptr, &slot, nullptr, nullptr, nullptr)};
    }, {INVAL});
    add("zfd_take", "NULL out_slot, a sample waiting (it stays unread)", [] {
        Env e;
        const uint64_t v = 7;
        check(zfd_publish(e.a.get(), &v, sizeof v, nullptr), "zfd_publish");
        const int32_t rc = zfd_take(e.r1.get(), nullptr, nullptr, nullptr, nullptr);
        zfd_slot slot;
        if (zfd_take(e.r1.get(), &slot, nullptr, nullptr, nullptr) != ZFD_OK) return kMisbehaved;
        return int64_t{rc};
    }, {INVAL});
    add("zfd_take", "nothing published", [] {
        Env e;
        zfd_slot slot;
        return int64_t{zfd_take(e.r1.get(), &slot, nullptr, nullptr, nullptr)};
    }, {NO_SAMPLE});
    add("zfd_take", "detached reader", [] {
        Env e;
        check(zfd_mark_reader_disconnected(e.a.get(), zfd_reader_index(e.r1.get())), "detach");
        zfd_slot slot;
        return int64_t{zfd_take(e.r1.get(), &slot, nullptr, nullptr, nullptr)};
    }, {DETACHED});

    add("zfd_take_latest", "NULL reader", [] {
        zfd_slot slot;
        return int64_t{zfd_take_latest(nullptr, &slot, nullptr, nullptr, nullptr)};
    }, {INVAL});
    add("zfd_take_latest", "NULL out_slot, samples waiting (they stay unread)", [] {
        Env e;
        for (uint64_t v = 0; v < 2; ++v) check(zfd_publish(e.a.get(), &v, sizeof v, nullptr), "zfd_publish");
        const int32_t rc = zfd_take_latest(e.r1.get(), nullptr, nullptr, nullptr, nullptr);
        zfd_slot slot;
        uint64_t seq = 9;
        if (zfd_take(e.r1.get(), &slot, nullptr, nullptr, &seq) != ZFD_OK || seq != 0) return kMisbehaved;
        return int64_t{rc};
    }, {INVAL});
    add("zfd_take_latest", "nothing published", [] {
        Env e;
        zfd_slot slot;
        return int64_t{zfd_take_latest(e.r1.get(), &slot, nullptr, nullptr, nullptr)};
    }, {NO_SAMPLE});
    add("zfd_take_latest", "detached reader", [] {
        Env e;
        check(zfd_mark_reader_disconnected(e.a.get(), zfd_reader_index(e.r1.get())), "detach");
        zfd_slot slot;
        return int64_t{zfd_take_latest(e.r1.get(), &slot, nullptr, nullptr, nullptr)};
    }, {DETACHED});
    add("zfd_take_latest", "owner closed, everything read", [] {
        Env e;
        const uint64_t v = 1;
        check(zfd_publish(e.a.get(), &v, sizeof v, nullptr), "zfd_publish");
        zfd_slot slot;
        check(zfd_take_latest(e.r1.get(), &slot, nullptr, nullptr, nullptr), "zfd_take_latest");
        check(zfd_release(e.r1.get(), slot), "zfd_release");
        e.a.reset();
        return int64_t{zfd_take_latest(e.r1.get(), &slot, nullptr, nullptr, nullptr)};
    }, {PEER_GONE});

    // Token-taking reader call.
    auto release = [](zfd_reader* r, zfd_slot t) { return zfd_release(r, t); };
    add("zfd_release", "NULL reader, live token", [] {
        Env e;
        return int64_t{zfd_release(nullptr, sample(e.a.get(), e.r1.get()))};
    }, {INVAL});
    add("zfd_release", "token 0", [] {
        Env e;
        sample(e.a.get(), e.r1.get());
        return int64_t{zfd_release(e.r1.get(), 0)};
    }, {NOT_LOANED});
    add("zfd_release", "stale: released before", [] {
        Env e;
        const zfd_slot t = sample(e.a.get(), e.r1.get());
        check(zfd_release(e.r1.get(), t), "zfd_release");
        return int64_t{zfd_release(e.r1.get(), t)};
    }, {NOT_LOANED});
    add("zfd_release", "stale: released, and the slot reused and taken again", [] {
        SegmentPtr s = make_segment();
        ReaderPtr r = make_reader(s.get());
        const zfd_slot t = sample(s.get(), r.get());
        check(zfd_release(r.get(), t), "zfd_release");
        for (uint32_t i = 0; i < kSlots; ++i) sample(s.get(), r.get());  // reuses t's slot
        return int64_t{zfd_release(r.get(), t)};
    }, {NOT_LOANED});
    add("zfd_release", "stale: the held slot was evicted", [] {
        Env e;
        const zfd_slot t = sample(e.a.get(), e.r1.get());
        check(zfd_evict_stale(e.a.get(), 0, nullptr), "zfd_evict_stale");
        return int64_t{zfd_release(e.r1.get(), t)};
    }, {EVICTED});
    add("zfd_release", "foreign: another reader's token for the same sample", [] {
        return foreign([] {
            Env e;
            sample(e.a.get(), e.r1.get());  // r1 holds the sample ...
            zfd_slot theirs = 0;            // ... and r2 holds the same one
            check(zfd_take(e.r2.get(), &theirs, nullptr, nullptr, nullptr), "zfd_take");
            return int64_t{zfd_release(e.r1.get(), theirs)};
        });
    }, {NOT_LOANED});
    add("zfd_release", "foreign: a token of a reader of another segment", [] {
        return foreign([] {
            Env e;
            sample(e.a.get(), e.r1.get());
            return int64_t{zfd_release(e.r1.get(), sample(e.b.get(), e.rb.get()))};
        });
    }, {NOT_LOANED});
    add("zfd_release", "foreign: a loan token for a sample", [] {
        Env e;
        sample(e.a.get(), e.r1.get());
        return int64_t{zfd_release(e.r1.get(), loan(e.a.get()))};
    }, {NOT_LOANED});
    add("zfd_release", "near misses: a held token with any one bit flipped", [] {
        Env e;
        const zfd_slot held = sample(e.a.get(), e.r1.get());
        for (uint64_t t : near_misses(held)) {
            const int32_t rc = zfd_release(e.r1.get(), t);
            if (rc != ZFD_E_NOT_LOANED && rc != ZFD_E_INVAL) return int64_t{rc};
        }
        return zfd_release(e.r1.get(), held) == ZFD_OK ? int64_t{ZFD_E_NOT_LOANED} : kMisbehaved;
    }, {NOT_LOANED});
    add("zfd_release", "random tokens (fixed seed), with a held sample and a live loan", [release] {
        Env e;
        const zfd_slot held = sample(e.a.get(), e.r1.get());
        const zfd_slot live = loan(e.a.get());
        const int64_t worst = over_random_tokens([&](uint64_t t) { return release(e.r1.get(), t); });
        if (zfd_release(e.r1.get(), held) != ZFD_OK) return kMisbehaved;
        if (zfd_discard(e.a.get(), live) != ZFD_OK) return kMisbehaved;
        return worst;
    }, {NOT_LOANED});
    add("zfd_release", "detached reader, its own live token", [] {
        Env e;
        const zfd_slot t = sample(e.a.get(), e.r1.get());
        check(zfd_mark_reader_disconnected(e.a.get(), zfd_reader_index(e.r1.get())), "detach");
        return int64_t{zfd_release(e.r1.get(), t)};
    }, {DETACHED});

    add("zfd_take_copy", "NULL reader", [] {
        char buf[kCapacity];
        return int64_t{zfd_take_copy(nullptr, buf, sizeof buf, nullptr, nullptr)};
    }, {INVAL});
    for (size_t capacity : {size_t{1}, size_t{kCapacity}, SIZE_MAX}) {
        add("zfd_take_copy", "NULL buf with a non-zero capacity", [capacity] {
            Env e;
            const uint64_t v = 7;
            check(zfd_publish(e.a.get(), &v, sizeof v, nullptr), "zfd_publish");
            return int64_t{zfd_take_copy(e.r1.get(), nullptr, capacity, nullptr, nullptr)};
        }, {INVAL});
    }
    add("zfd_take_copy", "NULL buf, capacity 0, an 8-byte sample: TOO_LARGE with its size", [] {
        Env e;
        const uint64_t v = 7;
        check(zfd_publish(e.a.get(), &v, sizeof v, nullptr), "zfd_publish");
        size_t len = 0;
        const int32_t rc = zfd_take_copy(e.r1.get(), nullptr, 0, &len, nullptr);
        return rc == ZFD_E_TOO_LARGE && len == sizeof v ? int64_t{rc} : kMisbehaved;
    }, {TOO_LARGE});
    add("zfd_take_copy", "capacity 1 for an 8-byte sample: not consumed", [] {
        Env e;
        const uint64_t v = 7;
        check(zfd_publish(e.a.get(), &v, sizeof v, nullptr), "zfd_publish");
        char one = 0;
        const int32_t rc = zfd_take_copy(e.r1.get(), &one, 1, nullptr, nullptr);
        uint64_t got = 0;
        if (zfd_take_copy(e.r1.get(), &got, sizeof got, nullptr, nullptr) != ZFD_OK || got != v)
            return kMisbehaved;
        return int64_t{rc};
    }, {TOO_LARGE});
    add("zfd_take_copy", "capacity SIZE_MAX (the buffer holds a whole slot), nothing published", [] {
        Env e;
        char buf[kCapacity];
        return int64_t{zfd_take_copy(e.r1.get(), buf, SIZE_MAX, nullptr, nullptr)};
    }, {NO_SAMPLE});
    add("zfd_take_copy", "detached reader", [] {
        Env e;
        check(zfd_mark_reader_disconnected(e.a.get(), zfd_reader_index(e.r1.get())), "detach");
        char buf[kCapacity];
        return int64_t{zfd_take_copy(e.r1.get(), buf, sizeof buf, nullptr, nullptr)};
    }, {DETACHED});

    add("zfd_reader_wait", "NULL reader", [] { return int64_t{zfd_reader_wait(nullptr, 0)}; }, {INVAL});
    add("zfd_reader_wait", "nothing published, timeout 0", [] {
        Env e;
        return int64_t{zfd_reader_wait(e.r1.get(), 0)};
    }, {TIMEOUT});
    add("zfd_reader_wait", "detached reader", [] {
        Env e;
        check(zfd_mark_reader_disconnected(e.a.get(), zfd_reader_index(e.r1.get())), "detach");
        return int64_t{zfd_reader_wait(e.r1.get(), 0)};
    }, {DETACHED});

    // ------------------------------------------------ notify generation
    add("zfd_notify_generation", "NULL gives 0", [] {
        return zfd_notify_generation(nullptr) == 0 ? kBehaved : kMisbehaved;
    }, {kBehaved});
    add("zfd_wait_for_change", "NULL segment", [] {
        return int64_t{zfd_wait_for_change(nullptr, 0, 0)};
    }, {INVAL});
    add("zfd_wait_for_change", "current generation, timeout 0", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_wait_for_change(s.get(), zfd_notify_generation(s.get()), 0)};
    }, {TIMEOUT});
    add("zfd_wait_for_change", "a generation from nowhere (UINT64_MAX): differs, returns at once", [] {
        SegmentPtr s = make_segment();
        return int64_t{zfd_wait_for_change(s.get(), UINT64_MAX, 0)};
    }, {OK});

    // ------------------------------------------------ eviction and liveness
    add("zfd_evict_stale", "NULL segment", [] {
        uint32_t n = 0;
        return int64_t{zfd_evict_stale(nullptr, 0, &n)};
    }, {INVAL});
    for (int64_t age : {int64_t{-1}, int64_t{-2}, INT64_MIN}) {
        add("zfd_evict_stale", "negative age", [age] {
            SegmentPtr s = make_segment();
            return int64_t{zfd_evict_stale(s.get(), age, nullptr)};
        }, {INVAL});
    }
    add("zfd_evict_stale", "consumer handle", [consumer] {
        return int64_t{zfd_evict_stale(consumer, 0, nullptr)};
    }, {PERMISSION});
    add("zfd_evict_stale", "age INT64_MAX: nothing that old", [] {
        Env e;
        sample(e.a.get(), e.r1.get());
        uint32_t n = 99;
        const int32_t rc = zfd_evict_stale(e.a.get(), INT64_MAX, &n);
        return rc == ZFD_OK && n == 0 ? int64_t{rc} : kMisbehaved;
    }, {OK});

    for (uint32_t index : {uint32_t{ZFD_MAX_READERS}, uint32_t{ZFD_MAX_READERS} + 1, UINT32_MAX}) {
        add("zfd_mark_reader_disconnected", "index out of range", [index] {
            Env e;
            return int64_t{zfd_mark_reader_disconnected(e.a.get(), index)};
        }, {INVAL});
    }
    add("zfd_mark_reader_disconnected", "NULL segment", [] {
        return int64_t{zfd_mark_reader_disconnected(nullptr, 0)};
    }, {INVAL});
    add("zfd_mark_reader_disconnected", "NULL segment and index UINT32_MAX", [] {
        return int64_t{zfd_mark_reader_disconnected(nullptr, UINT32_MAX)};
    }, {INVAL});
    add("zfd_mark_reader_disconnected", "no reader at that index", [] {
        Env e;
        return int64_t{zfd_mark_reader_disconnected(e.a.get(), ZFD_MAX_READERS - 1)};
    }, {NOT_FOUND});
    add("zfd_mark_reader_disconnected", "already detached", [] {
        Env e;
        const uint32_t index = zfd_reader_index(e.r1.get());
        check(zfd_mark_reader_disconnected(e.a.get(), index), "detach");
        return int64_t{zfd_mark_reader_disconnected(e.a.get(), index)};
    }, {NOT_FOUND});
    add("zfd_mark_reader_disconnected", "consumer handle", [consumer] {
        return int64_t{zfd_mark_reader_disconnected(consumer, 0)};
    }, {PERMISSION});

    add("zfd_reap_dead_readers", "NULL segment", [] {
        uint32_t n = 0;
        return int64_t{zfd_reap_dead_readers(nullptr, &n)};
    }, {INVAL});
    add("zfd_reap_dead_readers", "consumer handle", [consumer] {
        return int64_t{zfd_reap_dead_readers(consumer, nullptr)};
    }, {PERMISSION});
    add("zfd_reap_dead_readers", "NULL out_reaped (allowed), live readers only", [] {
        Env e;
        return int64_t{zfd_reap_dead_readers(e.a.get(), nullptr)};
    }, {OK});

    // ------------------------------------------------ event loops
    add("zfd_reader_fd", "NULL reader", [] {
        int fd = 5;
        const int32_t rc = zfd_reader_fd(nullptr, &fd);
        return fd == 5 ? int64_t{rc} : kMisbehaved;  // nothing written without a handle
    }, {INVAL});
    add("zfd_reader_fd", "NULL out_fd", [] {
        Env e;
        return int64_t{zfd_reader_fd(e.r1.get(), nullptr)};
    }, {INVAL});
    add("zfd_reader_fd", "detached reader (made, readable: a take says DETACHED)", [] {
        Env e;
        check(zfd_mark_reader_disconnected(e.a.get(), zfd_reader_index(e.r1.get())), "detach");
        int fd = -1;
        const int32_t rc = zfd_reader_fd(e.r1.get(), &fd);
        return rc == ZFD_OK && fd < 0 ? kMisbehaved : int64_t{rc};
    }, {OK});
    add("zfd_reader_fd", "twice (the same descriptor)", [] {
        Env e;
        int a = -1, b = -2;
        check(zfd_reader_fd(e.r1.get(), &a), "zfd_reader_fd");
        const int32_t rc = zfd_reader_fd(e.r1.get(), &b);
        return a == b ? int64_t{rc} : kMisbehaved;
    }, {OK});
    add("zfd_segment_fd", "NULL segment", [] {
        int fd = 5;
        return int64_t{zfd_segment_fd(nullptr, &fd)};
    }, {INVAL});
    add("zfd_segment_fd", "NULL out_fd", [] {
        Env e;
        return int64_t{zfd_segment_fd(e.a.get(), nullptr)};
    }, {INVAL});
    add("zfd_segment_fd", "consumer handle", [consumer] {
        int fd = 5;
        const int32_t rc = zfd_segment_fd(consumer, &fd);
        return fd == -1 ? int64_t{rc} : kMisbehaved;  // -1 on failure
    }, {PERMISSION});
    add("zfd_segment_fd", "twice (the same descriptor)", [] {
        Env e;
        int a = -1, b = -2;
        check(zfd_segment_fd(e.a.get(), &a), "zfd_segment_fd");
        const int32_t rc = zfd_segment_fd(e.a.get(), &b);
        return a == b ? int64_t{rc} : kMisbehaved;
    }, {OK});

    // ------------------------------------------------ type identity
    add("zfd_type_hash", "NULL layout_descriptor", [] {
        uint8_t out[ZFD_TYPE_HASH_SIZE];
        return int64_t{zfd_type_hash(nullptr, 0, out)};
    }, {INVAL});
    add("zfd_type_hash", "NULL layout_descriptor with len SIZE_MAX", [] {
        uint8_t out[ZFD_TYPE_HASH_SIZE];
        return int64_t{zfd_type_hash(nullptr, SIZE_MAX, out)};
    }, {INVAL});
    add("zfd_type_hash", "NULL out_hash", [] {
        return int64_t{zfd_type_hash("x", 1, nullptr)};
    }, {INVAL});
    add("zfd_type_hash", "NULL out_hash with len SIZE_MAX", [] {
        return int64_t{zfd_type_hash("x", SIZE_MAX, nullptr)};
    }, {INVAL});
    add("zfd_type_hash", "len 0 (allowed; the descriptor is still required)", [] {
        uint8_t out[ZFD_TYPE_HASH_SIZE];
        return int64_t{zfd_type_hash("", 0, out)};
    }, {OK});

    return t;
}

std::string codes(const std::vector<int64_t>& allowed) {
    std::string s;
    for (int64_t c : allowed) {
        if (!s.empty()) s += " or ";
        if (c == kBehaved) s += "the documented behaviour";
        else s += std::to_string(c) + " (" + zfd_status_str(static_cast<int32_t>(c)) + ")";
    }
    return s;
}

// ---------------------------------------------------------------- tests

TEST(BadInput, EveryExportedFunctionAnswersBadInputWithItsDocumentedCode) {
    Named named;
    const std::vector<Case> table = cases(named);
    std::set<std::string> functions;
    for (const Case& c : table) functions.insert(c.function);
    std::printf("%zu bad-input cases over %zu functions\n", table.size(), functions.size());
    for (const Case& c : table) {
        SCOPED_TRACE(c.function + ": " + c.what);
        const int64_t got = c.call();
        bool ok = false;
        for (int64_t a : c.allowed) ok = ok || got == a;
        EXPECT_TRUE(ok) << c.function << " (" << c.what << ") returned "
                        << (got == kMisbehaved ? std::string("a wrong result or side effect")
                                               : std::to_string(got) + " (" +
                                                     zfd_status_str(static_cast<int32_t>(got)) + ")")
                        << "; documented: " << codes(c.allowed);
    }
}

std::set<std::string> exported_names() {
    const char* path = std::getenv("ZFD_MAP_FILE");
    if (path == nullptr) {
        ADD_FAILURE() << "ZFD_MAP_FILE is not set (tests/badinput/meson.build passes it)";
        return {};
    }
    std::ifstream in(path);
    if (!in) {
        ADD_FAILURE() << "cannot read the version script " << path;
        return {};
    }
    std::set<std::string> names;
    const std::regex symbol(R"(^\s*(zfd_[A-Za-z0-9_]+)\s*;)");
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, symbol)) names.insert(m[1]);
    }
    return names;
}

TEST(BadInput, TheTableCoversExactlyTheExportedFunctions) {
    const std::set<std::string> exported = exported_names();
    ASSERT_FALSE(exported.empty()) << "no zfd_* names found in the version script";
    Named named;
    std::set<std::string> exercised;
    for (const Case& c : cases(named)) exercised.insert(c.function);

    for (const std::string& name : exported) {
        EXPECT_TRUE(exercised.count(name)) << name << " is exported but has no bad-input case";
    }
    for (const std::string& name : exercised) {
        EXPECT_TRUE(exported.count(name)) << name << " has cases but is not in the version script";
    }
    EXPECT_EQ(exercised.size(), exported.size());
    std::printf("%zu exported names, %zu exercised\n", exported.size(), exercised.size());
}

}  // namespace
