// cmd_bench.cpp — zfd bench: runs zfd-bench, looked up next to this binary
// first (/proc/self/exe), then in PATH.
#include <fmt/format.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"

namespace zfd_tool {

int cmd_bench(const std::vector<std::string>& args) {
    constexpr const char* kBench = "zfd-bench";
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(kBench));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    std::string dir;
    char self[PATH_MAX + 1] = {};
    const ssize_t n = ::readlink("/proc/self/exe", self, PATH_MAX);
    if (n > 0) {
        const std::string exe(self, static_cast<std::size_t>(n));
        const auto slash = exe.rfind('/');
        if (slash != std::string::npos) dir = exe.substr(0, slash);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    if (!dir.empty()) {
        const std::string sibling = dir + "/" + kBench;
        if (::access(sibling.c_str(), X_OK) == 0) {
            argv[0] = const_cast<char*>(sibling.c_str());
            ::execv(sibling.c_str(), argv.data());
            error("bench", fmt::format("cannot run {}: {}", sibling, std::strerror(errno)));
            return kExitError;
        }
    }
    ::execvp(kBench, argv.data());
    const int err = errno;
    if (err == ENOENT) {
        error("bench", fmt::format("{} not found (looked in {} and PATH); it is installed with "
                                   "zerodds-flatdata's bench/ target",
                                   kBench, dir.empty() ? "?" : dir));
        return kExitUsage;
    }
    error("bench", fmt::format("cannot run {}: {}", kBench, std::strerror(err)));
    return kExitError;
}

}  // namespace zfd_tool
