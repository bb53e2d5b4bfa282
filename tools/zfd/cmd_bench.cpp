// cmd_bench.cpp — zfd bench: runs zfd-bench; and run_sibling, which runs a
// companion program looked up next to this binary first (/proc/self/exe),
// then in PATH (zfd-bench, zfd-keys).
#include <fmt/format.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"

namespace zfd_tool {

int run_sibling(const char* program, const char* cmd, const std::vector<std::string>& args,
                const char* install_hint) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program));
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
        const std::string sibling = dir + "/" + program;
        if (::access(sibling.c_str(), X_OK) == 0) {
            argv[0] = const_cast<char*>(sibling.c_str());
            ::execv(sibling.c_str(), argv.data());
            error(cmd, fmt::format("cannot run {}: {}", sibling, std::strerror(errno)));
            return kExitError;
        }
    }
    ::execvp(program, argv.data());
    const int err = errno;
    if (err == ENOENT) {
        error(cmd, fmt::format("{} not found (looked in {} and PATH); {}", program,
                               dir.empty() ? "?" : dir, install_hint));
        return kExitUsage;
    }
    error(cmd, fmt::format("cannot run {}: {}", program, std::strerror(err)));
    return kExitError;
}

int cmd_bench(const std::vector<std::string>& args) {
    return run_sibling("zfd-bench", "bench", args,
                       "it is installed with zerodds-flatdata's bench/ target");
}

}  // namespace zfd_tool
