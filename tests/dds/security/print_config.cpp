// print_config.cpp — zfd-security-config DIR: runs make_security_config on a
// security directory and prints the Cyclone XML fragment (exit 0) or the
// problem (exit 1: "<problem name>: <message>" on stderr). The Cyclone proof
// (cyclone_proof.sh) and the ddsperf figures use it, so they run Cyclone with
// exactly the configuration the bridge will use.
//
// Usage: zfd-security-config DIR [--now UNIX_SECONDS] [--plugin-dir DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "security_config.hpp"

namespace sec = zerodds::flatdata::dds;

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
        std::fprintf(stderr, "usage: %s DIR [--now UNIX_SECONDS] [--plugin-dir DIR]\n", argv[0]);
        return 2;
    }
    sec::SecurityOptions options;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
            return 2;
        }
        if (std::strcmp(argv[i], "--now") == 0) {
            options.now =
                std::chrono::system_clock::from_time_t(std::strtoll(argv[i + 1], nullptr, 10));
        } else if (std::strcmp(argv[i], "--plugin-dir") == 0) {
            options.plugin_dir = argv[i + 1];
        } else {
            std::fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    sec::SecurityConfig config;
    sec::SecurityError error;
    if (!sec::make_security_config(argv[1], &config, &error, options)) {
        std::fprintf(stderr, "%s: %s\n", sec::security_problem_name(error.problem),
                     error.message.c_str());
        return 1;
    }
    std::printf("%s\n", config.xml.c_str());
    return 0;
}
