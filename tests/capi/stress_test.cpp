// stress_test.cpp — one writer thread and four reader threads move a million
// samples through one in-memory segment. Every reader checks every sample:
// commit order, no duplicate, no loss, payload checksum. The writer blocks in
// zfd_reserve_wait when the segment is full; readers block in zfd_reader_wait.
#include "capi_test_util.hpp"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

using namespace capi_test;

constexpr uint32_t kSlots = 256;
constexpr uint64_t kSlotBytes = 64;
constexpr int kReaders = 4;
constexpr int64_t kStallNs = 10 * kSec;  // a wait this long means something is stuck

// Sample layout (64 bytes): [0..8) index, [8..56) pattern derived from the
// index, [56..64) FNV-1a-64 of bytes [0..56).
constexpr size_t kBodyBytes = 56;

uint64_t fnv1a(const uint8_t* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void fill_sample(uint8_t* out, uint64_t index) {
    std::memcpy(out, &index, 8);
    uint64_t x = index * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 8; i < kBodyBytes; ++i) {
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9ull;
        out[i] = static_cast<uint8_t>(x >> 56);
    }
    const uint64_t sum = fnv1a(out, kBodyBytes);
    std::memcpy(out + kBodyBytes, &sum, 8);
}

struct ReaderStats {
    uint64_t received = 0;
    uint64_t order_errors = 0;     // wrong index (loss, duplicate or reorder)
    uint64_t sequence_errors = 0;  // sequence not previous + 1
    uint64_t checksum_errors = 0;
    uint64_t length_errors = 0;
    uint64_t release_errors = 0;
    uint64_t waits = 0;
    int32_t fatal = ZFD_OK;  // an unexpected status that stopped the reader
};

uint64_t errors_of(const ReaderStats& s) {
    return s.order_errors + s.sequence_errors + s.checksum_errors + s.length_errors + s.release_errors;
}

enum class ReadMode { in_place, by_copy };

void run_stress(uint64_t samples, ReadMode mode) {
    SegmentPtr segment = make_segment(kSlots, kSlotBytes);
    ASSERT_NE(segment, nullptr);
    std::vector<ReaderPtr> readers;
    for (int i = 0; i < kReaders; ++i) {
        readers.push_back(make_reader(segment.get()));
        ASSERT_NE(readers.back(), nullptr);
    }

    std::atomic<bool> stop{false};
    std::vector<ReaderStats> stats(kReaders);
    uint64_t writer_waits = 0;
    int32_t writer_fatal = ZFD_OK;
    uint64_t written = 0;

    auto reader_main = [&](zfd_reader* reader, ReaderStats& s) {
        uint64_t expected_index = 0;
        uint64_t last_sequence = 0;
        uint8_t copy[kSlotBytes];
        while (s.received < samples && !stop.load(std::memory_order_relaxed)) {
            zfd_slot slot = 0;
            const uint8_t* data = nullptr;
            size_t len = 0;
            uint64_t sequence = 0;
            int32_t rc;
            if (mode == ReadMode::in_place) {
                const void* p = nullptr;
                rc = zfd_take(reader, &slot, &p, &len, &sequence);
                data = static_cast<const uint8_t*>(p);
            } else {
                rc = zfd_take_copy(reader, copy, sizeof copy, &len, &sequence);
                data = copy;
            }
            if (rc == ZFD_E_NO_SAMPLE) {
                ++s.waits;
                rc = zfd_reader_wait(reader, kStallNs);
                if (rc == ZFD_OK) continue;
                s.fatal = rc;
                stop = true;
                return;
            }
            if (rc != ZFD_OK) {
                s.fatal = rc;
                stop = true;
                return;
            }
            if (len != kSlotBytes) {
                ++s.length_errors;
            } else {
                uint64_t index = 0;
                uint64_t sum = 0;
                std::memcpy(&index, data, 8);
                std::memcpy(&sum, data + kBodyBytes, 8);
                if (fnv1a(data, kBodyBytes) != sum) ++s.checksum_errors;
                if (index != expected_index) ++s.order_errors;
                expected_index = index + 1;
            }
            if (s.received > 0 && sequence != last_sequence + 1) ++s.sequence_errors;
            last_sequence = sequence;
            ++s.received;
            if (mode == ReadMode::in_place && zfd_release(reader, slot) != ZFD_OK) ++s.release_errors;
        }
    };

    std::vector<std::thread> threads;
    for (int i = 0; i < kReaders; ++i) {
        threads.emplace_back(reader_main, readers[i].get(), std::ref(stats[i]));
    }
    std::thread writer([&] {
        for (uint64_t i = 0; i < samples && !stop.load(std::memory_order_relaxed); ++i) {
            zfd_slot slot = 0;
            void* data = nullptr;
            int32_t rc = zfd_reserve(segment.get(), &slot, &data);
            if (rc == ZFD_E_NO_FREE_SLOT) {
                ++writer_waits;
                rc = zfd_reserve_wait(segment.get(), kStallNs, &slot, &data);
            }
            if (rc == ZFD_OK) {
                fill_sample(static_cast<uint8_t*>(data), i);
                rc = zfd_commit_in_place(segment.get(), slot, kSlotBytes, nullptr);
            }
            if (rc != ZFD_OK) {
                writer_fatal = rc;
                stop = true;
                return;
            }
            written = i + 1;
        }
    });

    const auto start = Clock::now();
    writer.join();
    for (std::thread& t : threads) t.join();
    const double seconds = ms_since(start) / 1000.0;

    std::printf("stress (%s): %" PRIu64 " samples written in %.2f s (%.2f M/s), writer waited %" PRIu64
                " times\n",
                mode == ReadMode::in_place ? "take/release" : "take_copy", written, seconds,
                seconds > 0 ? written / seconds / 1e6 : 0.0, writer_waits);
    for (int i = 0; i < kReaders; ++i) {
        const ReaderStats& s = stats[i];
        std::printf("  reader %d: received %" PRIu64 ", order %" PRIu64 ", sequence %" PRIu64
                    ", checksum %" PRIu64 ", length %" PRIu64 ", release %" PRIu64 " errors, waited %" PRIu64
                    " times%s%s\n",
                    i, s.received, s.order_errors, s.sequence_errors, s.checksum_errors, s.length_errors,
                    s.release_errors, s.waits, s.fatal == ZFD_OK ? "" : ", stopped by ",
                    s.fatal == ZFD_OK ? "" : zfd_status_str(s.fatal));
    }

    EXPECT_EQ(writer_fatal, ZFD_OK) << "writer stopped by " << zfd_status_str(writer_fatal);
    EXPECT_EQ(written, samples);
    for (int i = 0; i < kReaders; ++i) {
        SCOPED_TRACE("reader " + std::to_string(i));
        EXPECT_EQ(stats[i].fatal, ZFD_OK) << zfd_status_str(stats[i].fatal);
        EXPECT_EQ(stats[i].received, samples);
        EXPECT_EQ(errors_of(stats[i]), 0u);
        EXPECT_EQ(stats[i].order_errors, 0u);
        EXPECT_EQ(stats[i].sequence_errors, 0u);
        EXPECT_EQ(stats[i].checksum_errors, 0u);
        EXPECT_EQ(stats[i].release_errors, 0u);
        EXPECT_EQ(zfd_take(readers[i].get(), nullptr, nullptr, nullptr, nullptr), ZFD_E_INVAL);
        zfd_slot extra = 0;
        EXPECT_EQ(zfd_take(readers[i].get(), &extra, nullptr, nullptr, nullptr), ZFD_E_NO_SAMPLE)
            << "nothing beyond what was written";
    }
    // Everything was released: every slot is free again.
    std::vector<zfd_slot> loans(kSlots);
    for (zfd_slot& l : loans) EXPECT_EQ(zfd_reserve(segment.get(), &l, nullptr), ZFD_OK);
}

TEST(Stress, OneWriterFourReadersMoveAMillionSamplesInOrderWithoutLossOrCorruption) {
    run_stress(1'000'000, ReadMode::in_place);
}

TEST(Stress, OneWriterFourCopyingReadersMoveSamplesInOrderWithoutLossOrCorruption) {
    run_stress(250'000, ReadMode::by_copy);
}

}  // namespace
