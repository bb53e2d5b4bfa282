// measure.hpp — the measurement families of zfd-bench, one source file each.
// Every function runs its processes through a PinnedRun (harness.hpp) and
// returns what they measured, or why it failed; none prints.
#pragma once

#include "common.hpp"

#include <cstdint>
#include <string>

namespace zfd_bench {

constexpr uint32_t kTputSlots = 256;  // slots of the throughput rows, records of the ring floor

// ---- floor.cpp: what this machine allows at best --------------------------

// Two processes ping-ponging one shared cache line (spinning).
Sampled floor_spin(uint64_t warm, uint64_t iters);
// The same ping-pong through a raw shared futex word (FUTEX_WAIT / FUTEX_WAKE).
Sampled floor_futex(uint64_t warm, uint64_t iters);
// A single-producer/single-consumer ring of kTputSlots fixed-size records
// between one writer and one reader process, pinned as the throughput rows.
Throughput floor_ring(size_t record, double seconds);

// ---- latency.cpp: library ping-pong over two named segments ---------------

constexpr uint32_t kLatSlots = 16;  // slots of the latency rows' segments

struct PingSpec {
    size_t payload;
    uint32_t slots;
    bool block;
    bool touch_all;
    uint64_t warm, iters;
};
Sampled lib_pingpong(const PingSpec& s);

// ---- throughput.cpp --------------------------------------------------------

// One writer process -> `readers` reader processes, for duration_s.
Throughput tput_processes(int readers, size_t payload, bool touch_all, double duration_s);
// Writer thread -> reader thread in one process, in-memory segment.
Throughput tput_in_process(size_t payload, double duration_s);

// ---- fanout.cpp: publish cost with N readers attached ----------------------

constexpr uint32_t kFanSlots = 256;
constexpr uint32_t kFanBurst = 64;
constexpr size_t kFanPayload = 64;

struct FanoutSpec {
    int readers = 1;             // attached, drained concurrently
    int stalled = 0;             // attached too, never take (a reader that stopped reading)
    uint32_t segment_flags = 0;  // zfd_segment_options.flags of the segment (a delivery policy)
};
Stats fanout(const FanoutSpec& spec, uint64_t warm, uint64_t bursts);

// ---- iceoryx.cpp: the spin 64 B ping-pong over iceoryx's C binding ---------

constexpr size_t kIoxPayload = 64;
constexpr uint64_t kIoxQueueCapacity = 16;  // = the library rows' slot count; at most 1 sample is in flight

// Built with iceoryx's C binding (-Diceoryx)?
bool iceoryx_built();
// Begin the iceoryx block: wait (up to 60 s) until no other zfd-bench on this
// machine is in its iceoryx block, then start a private iox-roudi unless one
// is running already. Returns "" when a RouDi is ready (ours or an existing
// one), else why not. *own: ours.
std::string begin_iceoryx(bool* own);
// End it: stop our RouDi; whatever it left (shared memory, /tmp files) is
// reported as a warning and removed; let the next zfd-bench in.
void end_iceoryx();
// Stop our RouDi (if we started one; only ever in the orchestrator). Also
// registered with atexit and at_interrupt.
void stop_roudi();
// How our last RouDi ended, and everything it printed (for warnings).
std::string roudi_exit();
std::string roudi_output();
Sampled iox_pingpong(uint64_t warm, uint64_t iters);

}  // namespace zfd_bench
