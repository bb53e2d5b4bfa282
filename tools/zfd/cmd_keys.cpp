// cmd_keys.cpp — zfd keys: credentials for the secured DDS bridge.
//
//   zfd keys init|host|help ...   tools/zfd-keys.sh, installed as zfd-keys
//                                 (one implementation, with Debian's openssl)
//   zfd keys check DIR [--xml]    the checks `zfd bridge --security DIR` makes
//                                 (dds/security/security_config.hpp); --xml
//                                 prints the Cyclone DDS configuration the
//                                 bridge adds, for CYCLONEDDS_URI of other
//                                 DDS programs on the secured domain
#include <fmt/format.h>

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "common.hpp"

#if defined(ZFD_TOOL_HAVE_DDS)
#include "security_config.hpp"
#endif

namespace zfd_tool {

namespace {

#if defined(ZFD_TOOL_HAVE_DDS)
std::string utc(std::chrono::system_clock::time_point t) {
    const std::time_t s = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

int check(const std::vector<std::string>& args) {
    std::string dir;
    bool xml = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "-h" || args[i] == "--help") {
            std::printf("usage: zfd keys check DIR [--xml]\n"
                        "  checks DIR as `zfd bridge --security DIR` does (exit 0: usable, 1: refused,\n"
                        "  and why); --xml prints the Cyclone DDS <Security> configuration for\n"
                        "  CYCLONEDDS_URI of other DDS programs on the secured domain\n");
            return kExitOk;
        }
        if (args[i] == "--xml") {
            xml = true;
        } else if (dir.empty() && !args[i].empty() && args[i][0] != '-') {
            dir = args[i];
        } else {
            error("keys", fmt::format("check: unexpected argument '{}'\nusage: zfd keys check DIR [--xml]",
                                      args[i]));
            return kExitUsage;
        }
    }
    if (dir.empty()) {
        error("keys", "usage: zfd keys check DIR [--xml]");
        return kExitUsage;
    }
    namespace sec = zerodds::flatdata::dds;
    sec::SecurityConfig config;
    sec::SecurityError err;
    if (!sec::make_security_config(dir, &config, &err)) {
        error("keys", fmt::format("{} refused ({}): {}", dir, sec::security_problem_name(err.problem),
                                  err.message));
        return kExitError;
    }
    if (xml) {
        std::printf("<CycloneDDS>%s</CycloneDDS>\n", config.xml.c_str());
    } else {
        std::printf("%s: usable by `zfd bridge --security`\n"
                    "  identity  %s, certificate valid %s .. %s\n"
                    "  plugins   %s\n",
                    dir.c_str(), config.subject.c_str(), utc(config.not_before).c_str(),
                    utc(config.not_after).c_str(), sec::default_security_plugin_dir().c_str());
    }
    return kExitOk;
}
#endif

}  // namespace

int cmd_keys(const std::vector<std::string>& args) {
    if (!args.empty() && args[0] == "check") {
#if defined(ZFD_TOOL_HAVE_DDS)
        return check(args);
#else
        error("keys", "check: this zfd was built without DDS support (meson -Ddds=enabled)");
        return kExitError;
#endif
    }
    ::setenv("ZFD_KEYS_NAME", "zfd keys", 1);  // how its messages name it
    return run_sibling("zfd-keys", "keys", args,
                       "it is tools/zfd-keys.sh of zerodds-flatdata, installed as zfd-keys");
}

}  // namespace zfd_tool
