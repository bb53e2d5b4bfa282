// zfd — command-line tool of zerodds-flatdata: list, inspect, clean up,
// publish to and subscribe from shared-memory segments on this host.
//
//   zfd ls                       every segment (/dev/shm/zfd.*) with owner, readers, slots
//   zfd inspect NAME             header, every slot, every reader
//   zfd gc [--dry-run]           remove segments whose owner died
//   zfd rm NAME...               unlink segments
//   zfd pub NAME [...]           publish stdin lines (or generated samples)
//   zfd sub NAME [...]           print samples as they arrive
//   zfd bench [ARGS...]          run zfd-bench
//   zfd bridge [...]             carry segments to and from other hosts over DDS
//   zfd keys ARGS...             credentials for `zfd bridge --security` (zfd-keys; check)
//
// SPDX-License-Identifier: Apache-2.0
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <string_view>

#include "common.hpp"

using namespace zfd_tool;

namespace {

constexpr const char* kFooter =
    "Segments are the POSIX shared-memory objects /dev/shm/zfd.<name>.\n"
    "Exit status: 0 ok, 1 error, 2 usage error (or zfd-bench missing), 3 sub --timeout ran out.";

bool known_subcommand(const CLI::App& app, std::string_view word) {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (sub->get_name() == word) return true;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    // `zfd bench ARGS...` passes ARGS to zfd-bench untouched (a leading "--"
    // is dropped); only a lone --help is answered here.
    if (argc >= 2 && std::string_view(argv[1]) == "bench") {
        std::vector<std::string> rest(argv + 2, argv + argc);
        const bool help_only = rest.size() == 1 && (rest[0] == "-h" || rest[0] == "--help");
        if (!help_only) {
            if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
            return cmd_bench(rest);
        }
    }

    // `zfd keys ARGS...` likewise: zfd-keys (or `check` here) gets ARGS as they are.
    if (argc >= 2 && std::string_view(argv[1]) == "keys") {
        std::vector<std::string> rest(argv + 2, argv + argc);
        if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
        if (rest.empty()) rest.emplace_back("help");
        return cmd_keys(rest);
    }

    CLI::App app{"zfd — inspect and use zerodds-flatdata shared-memory segments", "zfd"};
    app.footer(kFooter);
    app.require_subcommand(1);
    app.set_version_flag("--version", "zfd (zerodds-flatdata) " ZFD_TOOL_VERSION);

    // ls
    LsOptions ls_o;
    auto* ls = app.add_subcommand("ls", "list every segment on this host");
    ls->add_flag("--json", ls_o.json, "print JSON instead of a table");
    ls->footer("A segment that fails validation is listed with its error text.");

    // inspect
    InspectOptions in_o;
    auto* inspect = app.add_subcommand("inspect", "show a segment's header, slots and readers");
    inspect->add_option("name", in_o.name, "segment name (the part after zfd.)")->required();
    inspect->add_flag("--json", in_o.json, "print JSON instead of tables");
    inspect->add_flag("--all-readers", in_o.all_readers, "also list free reader entries");

    // gc
    GcOptions gc_o;
    auto* gc = app.add_subcommand("gc", "remove segments whose owner process is dead");
    gc->add_flag("-n,--dry-run", gc_o.dry_run, "only print what would be removed");
    gc->add_flag("--json", gc_o.json, "print JSON");
    gc->add_option("--prefix", gc_o.prefix, "only segments whose name starts with PREFIX");
    gc->footer(
        "A segment is removed only while its owner lock is free (the owner died without\n"
        "closing); a live owner's segment is never touched. Objects that are not valid\n"
        "segments are removed under the same rule.");

    // rm
    RmOptions rm_o;
    auto* rm = app.add_subcommand("rm", "unlink segments (processes keep their mappings)");
    rm->add_option("names", rm_o.names, "segment names")->required();
    rm->add_flag("-q,--quiet", rm_o.quiet, "print nothing on success");

    // pub
    PubOptions pub_o;
    auto* pub =
        app.add_subcommand("pub", "create a segment and publish stdin lines or generated samples");
    pub->add_option("name", pub_o.name, "segment name")->required();
    pub->add_option("--slots", pub_o.slots, "slot count")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1u << 24));
    pub->add_option("--capacity", pub_o.capacity, "payload bytes per slot")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    pub->add_option("--mode", pub_o.mode, "permission bits (octal)")->capture_default_str();
    auto* rate_opt = pub->add_option("--rate", pub_o.rate,
                                     "generate samples at N per second (0 = as fast as possible)")
                         ->check(CLI::NonNegativeNumber);
    auto* size_opt =
        pub->add_option("--size", pub_o.size,
                        "generated sample size in bytes (an 8-byte counter, then filler; "
                        "default 64)")
            ->check(CLI::PositiveNumber);
    std::uint64_t pub_count = 0;
    auto* pub_count_opt = pub->add_option("--count", pub_count, "stop after N samples");
    pub->add_option(
           "--linger", pub_o.linger_ms,
           "after the last sample keep the segment for MS milliseconds so subscribers can drain")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    pub->add_option("--wait-readers", pub_o.wait_readers,
                    "publish only once N readers are attached");
    pub->add_option("--wait-timeout", pub_o.wait_readers_timeout_ms,
                    "give up waiting for readers after MS milliseconds (default: no limit)");
    pub->add_option("--type-hash", pub_o.type_hash, "type hash of the samples (32 hex digits)");
    pub->add_flag("--overwrite-oldest", pub_o.overwrite_oldest,
                  "never wait for readers: reuse the oldest sample no reader holds");
    pub->add_option("--history", pub_o.history,
                    "keep the newest N samples for readers that attach later (sub --history)")
        ->capture_default_str();
    pub->add_flag("-q,--quiet", pub_o.quiet, "no progress messages on stderr");
    pub->footer(
        "Without --rate/--size every line of stdin is one sample (without its newline).\n"
        "The segment is created with ZFD_SEGMENT_REPLACE_STALE; a writer blocked by\n"
        "backpressure waits (and reaps readers whose process died). On EOF, --count or\n"
        "SIGINT/SIGTERM the segment is closed (after --linger unless interrupted).");

    // sub
    SubOptions sub_o;
    auto* sub = app.add_subcommand("sub", "attach a reader and print samples as they arrive");
    sub->add_option("name", sub_o.name, "segment name")->required();
    std::uint64_t sub_count = 0;
    auto* sub_count_opt = sub->add_option("--count", sub_count, "stop after N samples");
    sub->add_flag(
        "-f,--follow", sub_o.follow,
        "wait for the segment to appear, and re-attach when a new one replaces a gone owner");
    sub->add_flag("--hex", sub_o.hex, "print payloads as hex instead of escaped text");
    sub->add_flag("--json", sub_o.json, "one JSON object per sample: seq, len, text|hex");
    sub->add_option("--timeout", sub_o.timeout_ms,
                    "give up (exit 3) when nothing arrives for MS milliseconds")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--type-hash", sub_o.type_hash, "expected type hash (32 hex digits)");
    sub->add_flag("--history", sub_o.history,
                  "first print the samples the segment keeps as history (pub --history)");
    sub->add_flag("-q,--quiet", sub_o.quiet, "no progress messages on stderr");
    sub->footer(
        "Each sample is printed as '<sequence> <payload>'; non-printable bytes are\n"
        "escaped (\\n, \\t, \\xNN). Stops after --count, or when the owner is gone\n"
        "(unless --follow).");

    // bench (handled above; registered for --help)
    auto* bench = app.add_subcommand("bench", "run zfd-bench with the given arguments");
    bench->allow_extras();
    bench->footer(
        "zfd-bench is looked up next to zfd, then in PATH. Everything after 'bench' is\n"
        "passed to it; use 'zfd bench -- --help' for zfd-bench's own options.");

    // bridge
    BridgeOptions br_o;
    auto* bridge = app.add_subcommand("bridge", "carry segments to and from other hosts over DDS");
    bridge->add_option("--domain", br_o.domain, "DDS domain id")->capture_default_str();
    bridge->add_option("--allow", br_o.allow, "bridge only segment names matching GLOB (repeatable)")
        ->type_name("GLOB");
    bridge->add_option("--deny", br_o.deny, "never bridge names matching GLOB (repeatable)")
        ->type_name("GLOB");
    bridge->add_flag("--best-effort", br_o.best_effort,
                     "never block local writers; losses show as gaps (default: reliable)");
    bridge->add_option("--import", br_o.imports,
                       "also import DDS topic zfd/NAME from any writer, announced or not "
                       "(repeatable; for plain DDS publishers)")
        ->type_name("NAME");
    bridge->add_option("--import-slots", br_o.import_slots, "slot count of --import mirrors")
        ->capture_default_str()
        ->check(CLI::Range(1u, 1u << 24));
    bridge->add_option("--import-capacity", br_o.import_capacity,
                       "payload bytes per slot of --import mirrors")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    bridge->add_flag("--no-export", br_o.no_export, "export nothing");
    bridge->add_flag("--no-import", br_o.no_import, "import only --import names");
    bridge->add_option("--grace", br_o.grace_ms,
                       "keep a mirror this many ms after its exporter vanished")
        ->capture_default_str();
    bridge->add_option("--origin", br_o.origin,
                       "how announcements describe this host (default: hostname and pid)");
    bridge->add_option("--security", br_o.security_dir,
                       "DDS Security: this host's credentials (made by `zfd keys host`); checked "
                       "at start, the bridge refuses to run without them")
        ->type_name("DIR");
    bridge->add_flag("--json", br_o.json, "one JSON object per line for every event");
    bridge->add_flag("-q,--quiet", br_o.quiet, "no periodic statistics, no start/stop lines");
    bridge->footer(
        "Interfaces, peers and everything else DDS: CYCLONEDDS_URI, as for any Cyclone DDS\n"
        "program. Without DDS Security (--security DIR, or a <Security> section in\n"
        "CYCLONEDDS_URI), what a bridge exports is readable by anyone on its domain and\n"
        "network: narrow it with --allow. With it, segments whose topics the permissions\n"
        "refuse this host are reported as 'denied' and left alone.");

    // keys (handled above; registered for --help)
    auto* keys = app.add_subcommand("keys", "make and check credentials for `zfd bridge --security`");
    keys->allow_extras();
    keys->footer(
        "zfd keys init DIR                      a test PKI: both CAs, signed governance\n"
        "zfd keys host DIR NAME --publish GLOB --subscribe GLOB\n"
        "                                       DIR/hosts/NAME: one host's credentials\n"
        "zfd keys check HOSTDIR [--xml]         check them as the bridge does; --xml prints\n"
        "                                       the Cyclone configuration for CYCLONEDDS_URI\n"
        "'zfd keys help' for every option (init and host run zfd-keys, next to zfd or in PATH).");

    // CLI11 reports an unknown first word only as "A subcommand is required".
    if (argc >= 2 && argv[1][0] != '-' && !known_subcommand(app, argv[1])) {
        fmt::print(stderr, "zfd: unknown subcommand '{}'\nRun with --help for more information.\n",
                   argv[1]);
        return kExitUsage;
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }

    try {
        if (*ls) return cmd_ls(ls_o);
        if (*inspect) return cmd_inspect(in_o);
        if (*gc) return cmd_gc(gc_o);
        if (*rm) return cmd_rm(rm_o);
        if (*pub) {
            if (pub_count_opt->count() > 0) pub_o.count = pub_count;
            pub_o.generated = rate_opt->count() > 0 || size_opt->count() > 0;
            if (pub_o.generated && size_opt->count() == 0) {
                pub_o.size = std::min<std::uint64_t>(64, pub_o.capacity);
            }
            return cmd_pub(pub_o);
        }
        if (*sub) {
            if (sub_count_opt->count() > 0) sub_o.count = sub_count;
            return cmd_sub(sub_o);
        }
        if (*bench) return cmd_bench(bench->remaining());
        if (*keys) return cmd_keys(keys->remaining());
        if (*bridge) {
#if defined(ZFD_TOOL_HAVE_DDS)
            return cmd_bridge(br_o);
#else
            fmt::print(stderr, "zfd bridge: this zfd was built without DDS support (meson -Ddds=enabled, "
                               "Debian cyclonedds-dev)\n");
            return kExitError;
#endif
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "zfd: {}\n", e.what());
        return kExitError;
    }
    return kExitUsage;
}
