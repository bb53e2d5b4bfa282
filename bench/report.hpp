// report.hpp — what one run measured, and how it is printed: the table (with
// the targets of DESIGN §5 and the iceoryx comparison) or, with --json, the
// same figures as JSON.
#pragma once

#include "common.hpp"
#include "measure.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zfd_bench {

struct LatRow {
    std::string group;  // floor | spin | blocking | slots | iceoryx
    std::string label;
    std::string floor;  // which floor the ratios refer to: "cache-line" | "futex" | ""
    size_t payload = 0;
    uint32_t slots = 0;
    bool touch_all = false;
    Stats st;
    Stats pair;  // the floor measured in the same block (ratios refer to it)
    std::string id;  // row id (--only, --list-rows, JSON)
};

struct TputRow {
    std::string label;
    int readers;
    size_t payload;
    bool in_process;
    bool touch_all;
    Throughput t;
    bool ring_floor = false;  // the SPSC ring floor of its payload size, not the library
    std::string id;
};

struct FanRow {
    std::string id;
    std::string label;
    FanoutSpec spec;  // readers attached (live, stalled), segment flags
    Stats st;         // ns per zfd_publish
};

struct Results {
    int rounds = 0;           // rounds of each latency block
    double seconds = 0;       // the whole run
    double timer_cost_ns = 0;
    std::vector<LatRow> lat;
    std::vector<TputRow> tput;
    std::vector<FanRow> fan;
    std::vector<std::string> failures;
    // iceoryx
    bool iox_built = false;
    std::string iox_status;          // "" = measured (or not built); else why there is no iceoryx row
    bool iox_private_roudi = false;  // the iceoryx row ran against a RouDi this run started
    std::optional<LatRow> iox_row;   // the iceoryx spin 64 B row, when it ran
};

// Print the table (or JSON with g.json) on stdout; returns the exit status
// (0 unless something failed).
int report(const Results& r);

}  // namespace zfd_bench
