// cmd_bridge.cpp — `zfd bridge`: one process per host that carries segments
// to and from other hosts over DDS (libzerodds_flatdata_dds).
//
// Exports every local segment the filters allow, imports every segment other
// hosts announce under the same name, prints what happens (one line per
// event, or one JSON object per line), stops cleanly on SIGINT/SIGTERM.
#include "common.hpp"

#include <zerodds/flatdata_dds.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstring>

namespace zfd_tool {

namespace {

const char* kind_name(std::uint32_t kind) {
    switch (kind) {
        case ZFD_DDS_EVENT_EXPORTED: return "exported";
        case ZFD_DDS_EVENT_EXPORT_ENDED: return "export-ended";
        case ZFD_DDS_EVENT_IMPORTED: return "imported";
        case ZFD_DDS_EVENT_MIRROR_CLOSED: return "mirror-closed";
        case ZFD_DDS_EVENT_SKIPPED: return "skipped";
        case ZFD_DDS_EVENT_REFUSED: return "refused";
        case ZFD_DDS_EVENT_STATS: return "stats";
        case ZFD_DDS_EVENT_ERROR: return "error";
        default: return "event";
    }
}

std::string realtime_iso() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    ::gmtime_r(&ts.tv_sec, &t);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", t.tm_year + 1900, t.tm_mon + 1,
                       t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1'000'000);
}

struct Printer {
    bool json = false;
    bool quiet_stats = false;
};

void print_event(void* arg, const zfd_dds_event* e) {
    const auto* p = static_cast<const Printer*>(arg);
    const bool stats = e->kind == ZFD_DDS_EVENT_STATS;
    const bool any_id = std::any_of(e->instance_id, e->instance_id + ZFD_INSTANCE_ID_SIZE,
                                    [](std::uint8_t b) { return b != 0; });
    if (p->json) {
        nlohmann::json j;
        j["time"] = realtime_iso();
        j["event"] = kind_name(e->kind);
        j["segment"] = e->segment;
        j["message"] = e->message;
        if (any_id) j["instance_id"] = hex_bytes(e->instance_id, ZFD_INSTANCE_ID_SIZE);
        if (stats || e->kind == ZFD_DDS_EVENT_MIRROR_CLOSED) {
            j["direction"] = e->is_export ? "export" : "import";
            j["samples"] = e->samples;
            j["bytes"] = e->bytes;
            if (!e->is_export) {
                j["gaps"] = e->gaps;
                j["refused"] = e->refused;
            }
        }
        std::printf("%s\n", j.dump().c_str());
    } else {
        if (stats && p->quiet_stats) return;
        std::string line = fmt::format("{} {:<13} {}", realtime_iso(), kind_name(e->kind),
                                       e->segment[0] != '\0' ? e->segment : "-");
        if (stats) {
            line += fmt::format(" {} {} samples, {} bytes", e->is_export ? "out" : "in", e->samples,
                                e->bytes);
            if (!e->is_export) line += fmt::format(", {} gaps, {} refused", e->gaps, e->refused);
        } else {
            line += ": ";
            line += e->message;
        }
        std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
}

}  // namespace

int cmd_bridge(const BridgeOptions& o) {
    // Block SIGINT/SIGTERM before DDS starts its threads, so they all
    // inherit the mask and this thread alone takes the signal (sigwait).
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    Printer printer;
    printer.json = o.json;
    printer.quiet_stats = o.quiet;

    zfd_dds_bridge_options opts;
    zfd_dds_bridge_options_init(&opts);
    opts.domain_id = o.domain;
    opts.flags = (o.best_effort ? ZFD_DDS_BEST_EFFORT : 0u) | (o.no_export ? 0u : ZFD_DDS_EXPORT_ALL) |
                 (o.no_import ? 0u : ZFD_DDS_IMPORT_ALL);
    opts.source_grace_ns = static_cast<std::int64_t>(o.grace_ms) * 1'000'000;
    if (!o.origin.empty()) opts.origin = o.origin.c_str();
    opts.on_event = print_event;
    opts.event_arg = &printer;
    zfd_error err{};
    err.struct_size = sizeof err;
    zfd_dds_bridge* bridge = nullptr;
    if (zfd_dds_bridge_create(&opts, &bridge, &err) != ZFD_OK) {
        error("bridge", err.message);
        return kExitError;
    }
    for (const auto& g : o.allow) zfd_dds_bridge_filter(bridge, ZFD_DDS_ALLOW, g.c_str());
    for (const auto& g : o.deny) zfd_dds_bridge_filter(bridge, ZFD_DDS_DENY, g.c_str());
    for (const auto& name : o.imports) {
        zfd_dds_import_options io;
        zfd_dds_import_options_init(&io);
        io.slot_count = o.import_slots;
        io.slot_capacity = o.import_capacity;
        if (zfd_dds_import(bridge, name.c_str(), &io, &err) != ZFD_OK) {
            error("bridge", fmt::format("--import {}: {}", name, err.message));
            zfd_dds_bridge_close(bridge);
            return kExitError;
        }
    }
    if (zfd_dds_bridge_start(bridge) != ZFD_OK) {
        error("bridge", "cannot start");
        zfd_dds_bridge_close(bridge);
        return kExitError;
    }
    if (!o.quiet && !o.json) {
        std::fprintf(stderr,
                     "zfd bridge: domain %u, %s, exporting %s, importing %s; SIGINT/SIGTERM stops\n",
                     o.domain, o.best_effort ? "best-effort" : "reliable",
                     o.no_export ? "nothing" : "local segments",
                     o.no_import ? "only --import names" : "announced segments");
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    zfd_dds_bridge_close(bridge);
    if (!o.quiet && !o.json) std::fprintf(stderr, "zfd bridge: stopped (%s)\n", strsignal(sig));
    return kExitOk;
}

}  // namespace zfd_tool
