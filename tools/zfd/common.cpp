// common.cpp — helpers shared by the zfd subcommands. See common.hpp.
#include "common.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

namespace zfd_tool {

using core::Status;

const char* status_name(Status st) {
    switch (st) {
        case Status::ok:
            return "OK";
        case Status::invalid_argument:
            return "ZFD_E_INVAL";
        case Status::out_of_memory:
            return "ZFD_E_NOMEM";
        case Status::no_free_slot:
            return "ZFD_E_NO_FREE_SLOT";
        case Status::too_large:
            return "ZFD_E_TOO_LARGE";
        case Status::not_loaned:
            return "ZFD_E_NOT_LOANED";
        case Status::no_sample:
            return "ZFD_E_NO_SAMPLE";
        case Status::timeout:
            return "ZFD_E_TIMEOUT";
        case Status::type_mismatch:
            return "ZFD_E_TYPE_MISMATCH";
        case Status::incompatible:
            return "ZFD_E_INCOMPATIBLE";
        case Status::corrupt:
            return "ZFD_E_CORRUPT";
        case Status::exists:
            return "ZFD_E_EXISTS";
        case Status::not_found:
            return "ZFD_E_NOT_FOUND";
        case Status::permission:
            return "ZFD_E_PERMISSION";
        case Status::no_reader_slot:
            return "ZFD_E_NO_READER_SLOT";
        case Status::evicted:
            return "ZFD_E_EVICTED";
        case Status::unsupported:
            return "ZFD_E_UNSUPPORTED";
        case Status::peer_gone:
            return "ZFD_E_PEER_GONE";
        case Status::system_error:
            return "ZFD_E_SYSTEM";
        case Status::internal:
            return "ZFD_E_INTERNAL";
        case Status::detached:
            return "ZFD_E_DETACHED";
        default:
            return "unknown status";
    }
}

int status_code(Status st) {
    // The public values (pinned by flatdata.h).
    switch (st) {
        case Status::ok:
            return 0;
        case Status::invalid_argument:
            return -1;
        case Status::out_of_memory:
            return -2;
        case Status::no_free_slot:
            return -3;
        case Status::too_large:
            return -4;
        case Status::not_loaned:
            return -5;
        case Status::no_sample:
            return -6;
        case Status::timeout:
            return -7;
        case Status::type_mismatch:
            return -8;
        case Status::incompatible:
            return -9;
        case Status::corrupt:
            return -10;
        case Status::exists:
            return -11;
        case Status::not_found:
            return -12;
        case Status::permission:
            return -13;
        case Status::no_reader_slot:
            return -14;
        case Status::evicted:
            return -15;
        case Status::unsupported:
            return -16;
        case Status::peer_gone:
            return -17;
        case Status::system_error:
            return -18;
        case Status::internal:
            return -19;
        case Status::detached:
            return -20;
        default:
            return -19;
    }
}

std::string status_text(Status st, const core::ErrorDetail* detail) {
    if (detail != nullptr && detail->message[0] != '\0') {
        return fmt::format("{}: {}", status_name(st), detail->message);
    }
    return status_name(st);
}

json status_json(Status st, const core::ErrorDetail* detail) {
    json j;
    j["status"] = status_name(st);
    j["code"] = status_code(st);
    j["message"] = (detail != nullptr) ? std::string(detail->message) : std::string();
    if (detail != nullptr && detail->sys_errno != 0) j["errno"] = detail->sys_errno;
    return j;
}

void error(std::string_view cmd, std::string_view text) {
    std::fflush(stdout);
    fmt::print(stderr, "zfd {}: {}\n", cmd, text);
}

std::vector<std::string> list_segment_names() {
    std::vector<std::string> names;
    DIR* dir = ::opendir(kShmDir);
    if (dir == nullptr) return names;
    while (const dirent* e = ::readdir(dir)) {
        const std::string_view n = e->d_name;
        if (n.size() > kShmPrefix.size() && n.substr(0, kShmPrefix.size()) == kShmPrefix) {
            names.emplace_back(n.substr(kShmPrefix.size()));
        }
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

ObjectStat stat_object(const std::string& name) {
    ObjectStat o;
    const std::string path = fmt::format("{}/{}{}", kShmDir, kShmPrefix, name);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return o;
    o.exists = true;
    o.size = static_cast<std::uint64_t>(st.st_size);
    o.uid = st.st_uid;
    o.mode = st.st_mode & 07777;
    struct timespec now {};
    ::clock_gettime(CLOCK_REALTIME, &now);
    o.ctime_age_ns = (std::int64_t{now.tv_sec} - std::int64_t{st.st_ctim.tv_sec}) * 1'000'000'000 +
                     (std::int64_t{now.tv_nsec} - std::int64_t{st.st_ctim.tv_nsec});
    return o;
}

std::string hash_hex(const std::optional<core::TypeHash>& h) {
    if (!h) return "-";
    return hex_bytes(h->data(), h->size());
}

std::string hex_bytes(const void* data, std::size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    out.reserve(len * 2);
    for (std::size_t i = 0; i < len; ++i) {
        out.push_back(kDigits[p[i] >> 4]);
        out.push_back(kDigits[p[i] & 15]);
    }
    return out;
}

std::string escape_text(const void* data, std::size_t len) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    out.reserve(len);
    for (std::size_t i = 0; i < len; ++i) {
        const unsigned char c = p[i];
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c >= 0x20 && c < 0x7f) {
                    out.push_back(static_cast<char>(c));
                } else {
                    out += "\\x";
                    out.push_back(kDigits[c >> 4]);
                    out.push_back(kDigits[c & 15]);
                }
        }
    }
    return out;
}

std::string human_duration(std::int64_t ns) {
    if (ns < 0) return "-";
    if (ns < 1'000) return fmt::format("{}ns", ns);
    if (ns < 1'000'000) return fmt::format("{:.3g}us", static_cast<double>(ns) / 1e3);
    if (ns < 1'000'000'000) return fmt::format("{:.3g}ms", static_cast<double>(ns) / 1e6);
    if (ns < 3600LL * 1'000'000'000) return fmt::format("{:.3g}s", static_cast<double>(ns) / 1e9);
    return fmt::format("{:.3g}h", static_cast<double>(ns) / 3.6e12);
}

bool parse_type_hash(const std::string& text, core::TypeHash* out) {
    if (text.size() != 2 * core::kTypeHashSize) return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < core::kTypeHashSize; ++i) {
        const int hi = nibble(text[2 * i]);
        const int lo = nibble(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        (*out)[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
}

std::int64_t mono_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t coarse_ns() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::atomic<bool> g_stop{false};

namespace {
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking reads return EINTR
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
}

bool sleep_ms_interruptible(std::int64_t ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!g_stop.load()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= end) return true;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            end - now, std::chrono::milliseconds(20)));
    }
    return false;
}

std::string Table::render() const {
    std::vector<std::size_t> width(headers_.size(), 0);
    for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = headers_[c].size();
    for (const auto& row : rows_) {
        for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
        }
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            if (c + 1 == cells.size() || c + 1 > width.size()) {
                l += cells[c];  // last column: no padding
            } else {
                l += fmt::format("{:<{}}  ", cells[c], width[c]);
            }
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l;
        out += '\n';
    };
    line(headers_);
    for (const auto& row : rows_) line(row);
    return out;
}

}  // namespace zfd_tool
