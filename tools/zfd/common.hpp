// common.hpp — shared helpers of the zfd command-line tool.
//
// zfd links the C++ core statically (it is a diagnostic tool: `ls` and
// `inspect` read the segment's control area directly). Everything it reads
// from shared memory is loaded once with an atomic load and never written;
// only `pub` (the owner) and `sub` (a reader) go through the protocol.
//
// Exit codes: 0 success, 1 runtime error, 2 usage error (or zfd-bench not
// found), 3 `sub --timeout` ran out.
#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "segment.hpp"
#include "status.hpp"

namespace zfd_tool {

namespace core = zerodds::flatdata;
using json = nlohmann::ordered_json;

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitTimeout = 3;

// The directory POSIX shared-memory objects live in on Linux.
inline constexpr const char* kShmDir = "/dev/shm";
inline constexpr std::string_view kShmPrefix = "zfd.";

// "ZFD_E_NOT_FOUND" style name of a core status, and its public code.
const char* status_name(core::Status st);
int status_code(core::Status st);
// "NOT_FOUND: <detail message>" (or just the status name without detail).
std::string status_text(core::Status st, const core::ErrorDetail* detail = nullptr);
json status_json(core::Status st, const core::ErrorDetail* detail = nullptr);

// Prints "zfd <cmd>: <text>" to stderr.
void error(std::string_view cmd, std::string_view text);

// Names of every object /dev/shm/zfd.* (the part after "zfd."), sorted.
std::vector<std::string> list_segment_names();

struct ObjectStat {
    bool exists = false;
    std::uint64_t size = 0;
    std::uint32_t uid = 0;
    std::uint32_t mode = 0;
    std::int64_t ctime_age_ns = 0;  // how long ago the object last changed
};
ObjectStat stat_object(const std::string& name);

// Hex of a type hash, or "-".
std::string hash_hex(const std::optional<core::TypeHash>& h);
std::string hex_bytes(const void* data, std::size_t len);
// Printable ASCII kept; \\ \n \r \t and \xNN for everything else.
std::string escape_text(const void* data, std::size_t len);
// "1.25s", "340ms", "12us", "800ns".
std::string human_duration(std::int64_t ns);
// Parses a 32-hex-digit type hash.
bool parse_type_hash(const std::string& text, core::TypeHash* out);

// CLOCK_MONOTONIC / CLOCK_MONOTONIC_COARSE in ns (the clocks the core stamps with).
std::int64_t mono_ns();
std::int64_t coarse_ns();

// Set by SIGINT/SIGTERM once install_stop_handlers() ran (no SA_RESTART, so
// blocking reads return EINTR).
extern std::atomic<bool> g_stop;
void install_stop_handlers();
// Sleeps up to ms milliseconds; returns early (false) when g_stop is set.
bool sleep_ms_interruptible(std::int64_t ms);

// A plain-text table: columns left-aligned, two spaces apart.
class Table {
public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    std::string render() const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

// Subcommands (return the process exit code).
struct LsOptions {
    bool json = false;
};
int cmd_ls(const LsOptions& o);

struct InspectOptions {
    std::string name;
    bool json = false;
    bool all_readers = false;
};
int cmd_inspect(const InspectOptions& o);

struct GcOptions {
    std::string prefix;  // only names starting with it
    bool dry_run = false;
    bool json = false;
};
int cmd_gc(const GcOptions& o);

struct RmOptions {
    std::vector<std::string> names;
    bool quiet = false;
};
int cmd_rm(const RmOptions& o);

struct PubOptions {
    std::string name;
    std::uint32_t slots = 64;
    std::uint64_t capacity = 1024;
    std::string mode = "0600";
    double rate = 0;         // samples per second; 0 = as fast as possible
    std::uint64_t size = 0;  // generated sample size; 0 = read lines from stdin
    bool generated = false;  // --rate or --size given
    std::optional<std::uint64_t> count;
    std::int64_t linger_ms = 1000;
    std::uint32_t wait_readers = 0;
    std::int64_t wait_readers_timeout_ms = -1;
    std::string type_hash;
    bool overwrite_oldest = false;  // ZFD_SEGMENT_OVERWRITE_OLDEST
    std::uint32_t history = 0;      // samples kept for late joiners
    bool quiet = false;
};
int cmd_pub(const PubOptions& o);

struct SubOptions {
    std::string name;
    std::optional<std::uint64_t> count;
    bool follow = false;
    bool hex = false;
    bool json = false;
    std::int64_t timeout_ms = -1;
    std::string type_hash;
    bool history = false;  // ZFD_READER_HISTORY: the retained samples first
    bool quiet = false;
};
int cmd_sub(const SubOptions& o);

// Runs `program` with args (next to this binary, else from PATH) in place of
// this process; returns only when it could not be started (after saying so).
int run_sibling(const char* program, const char* cmd, const std::vector<std::string>& args,
                const char* install_hint);
int cmd_bench(const std::vector<std::string>& args);
// zfd keys: `check DIR [--xml]` here (DDS builds), anything else by zfd-keys.
int cmd_keys(const std::vector<std::string>& args);

struct BridgeOptions {
    std::uint32_t domain = 0;
    std::vector<std::string> allow;
    std::vector<std::string> deny;
    std::vector<std::string> imports;
    std::uint32_t import_slots = 64;
    std::uint64_t import_capacity = 65536;
    bool best_effort = false;
    bool no_export = false;
    bool no_import = false;
    std::uint64_t grace_ms = 5000;
    std::string origin;
    std::string security_dir;  // empty: no --security
    bool json = false;
    bool quiet = false;
};
// Only in a build with the `dds` feature (ZFD_TOOL_HAVE_DDS).
int cmd_bridge(const BridgeOptions& o);

}  // namespace zfd_tool
