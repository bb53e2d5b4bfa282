// capi_dds.cpp — the extern "C" facade of libzerodds_flatdata_dds: argument
// checks, exception firewall, zfd_error detail. The bridge itself is
// bridge.cpp, exporter.cpp and importer.cpp.
#include <zerodds/flatdata_dds.h>

#include "bridge.hpp"
#include "topic_name.hpp"

#include <fmt/format.h>

#include <cstring>
#include <new>
#include <string>

namespace zdds = zerodds::flatdata::dds;

struct zfd_dds_bridge {
    std::unique_ptr<zdds::Bridge> bridge;
};

namespace {

constexpr std::uint32_t kKnownFlags = ZFD_DDS_BEST_EFFORT | ZFD_DDS_EXPORT_ALL | ZFD_DDS_IMPORT_ALL;

void write_error(zfd_error* err, int32_t code, const std::string& message) noexcept {
    if (err == nullptr || err->struct_size < offsetof(zfd_error, message) + 1) return;
    const std::size_t room =
        std::min<std::size_t>(err->struct_size, sizeof(zfd_error)) - offsetof(zfd_error, message);
    err->code = code;
    err->sys_errno = 0;
    const std::size_t n = std::min(message.size(), room - 1);
    std::memcpy(err->message, message.data(), n);
    err->message[n] = '\0';
}

// Runs body(message) and reports its code (and message) through err; no
// exception escapes.
template <typename Body>
int32_t reported(zfd_error* err, Body&& body) noexcept {
    std::string message;
    int32_t code = ZFD_E_INTERNAL;
    try {
        code = body(message);
    } catch (const std::bad_alloc&) {
        code = ZFD_E_NOMEM;
        message = "out of memory";
    } catch (const std::exception& e) {
        code = ZFD_E_INTERNAL;
        try {
            message = std::string("internal error: ") + e.what();
        } catch (...) {
        }
    } catch (...) {
        code = ZFD_E_INTERNAL;
    }
    if (code != ZFD_OK && message.empty()) message = zfd_status_str(code);
    write_error(err, code, code == ZFD_OK ? std::string() : message);
    return code;
}

bool valid_import_options(const zfd_dds_import_options* o, std::string* why) {
    if (o->struct_size < sizeof(zfd_dds_import_options)) {
        *why = fmt::format("import options struct_size is {} (expected {}; call "
                           "zfd_dds_import_options_init)",
                           o->struct_size, sizeof(zfd_dds_import_options));
        return false;
    }
    if (o->slot_count == 0 || o->slot_capacity == 0 || o->has_type_hash > 1 || o->reserved != 0) {
        *why = "import options: slot_count and slot_capacity must be non-zero, has_type_hash 0 or "
               "1, reserved 0";
        return false;
    }
    return true;
}

int32_t copy_out(const std::string& s, char* out, std::size_t capacity, std::size_t* out_len) {
    if (out_len != nullptr) *out_len = s.size();
    if (capacity < s.size() + 1) return ZFD_E_TOO_LARGE;
    std::memcpy(out, s.c_str(), s.size() + 1);
    return ZFD_OK;
}

}  // namespace

extern "C" {

void zfd_dds_bridge_options_init(zfd_dds_bridge_options* opts) {
    if (opts == nullptr) return;
    std::memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->source_grace_ns = zdds::BridgeConfig{}.source_grace_ns;
}

void zfd_dds_import_options_init(zfd_dds_import_options* opts) {
    if (opts == nullptr) return;
    std::memset(opts, 0, sizeof *opts);
    const zdds::ImportSpec defaults;
    opts->struct_size = sizeof *opts;
    opts->slot_count = defaults.slot_count;
    opts->slot_capacity = defaults.slot_capacity;
}

int32_t zfd_dds_bridge_create(const zfd_dds_bridge_options* opts, zfd_dds_bridge** out_bridge,
                              zfd_error* out_err) {
    return reported(out_err, [&](std::string& why) -> int32_t {
        if (out_bridge == nullptr) {
            why = "out_bridge is NULL";
            return ZFD_E_INVAL;
        }
        *out_bridge = nullptr;
        zfd_dds_bridge_options defaults;
        zfd_dds_bridge_options_init(&defaults);
        const zfd_dds_bridge_options& o = opts != nullptr ? *opts : defaults;
        if (o.struct_size < sizeof(zfd_dds_bridge_options)) {
            why = fmt::format("options struct_size is {} (expected {}; call "
                              "zfd_dds_bridge_options_init)",
                              o.struct_size, sizeof(zfd_dds_bridge_options));
            return ZFD_E_INVAL;
        }
        if ((o.flags & ~kKnownFlags) != 0 || o.reserved != 0) {
            why = fmt::format("options.flags {:#x} has unknown bits, or reserved is not 0", o.flags);
            return ZFD_E_INVAL;
        }
        if (o.origin != nullptr && std::strlen(o.origin) > 63) {
            why = "options.origin is longer than 63 bytes";
            return ZFD_E_INVAL;
        }
        if (o.source_grace_ns < 0) {
            why = "options.source_grace_ns is negative";
            return ZFD_E_INVAL;
        }
        zdds::BridgeConfig config;
        config.domain_id = o.domain_id;
        config.best_effort = (o.flags & ZFD_DDS_BEST_EFFORT) != 0;
        config.export_all = (o.flags & ZFD_DDS_EXPORT_ALL) != 0;
        config.import_all = (o.flags & ZFD_DDS_IMPORT_ALL) != 0;
        if (o.config != nullptr) config.config = o.config;
        if (o.origin != nullptr) config.origin = o.origin;
        config.source_grace_ns = o.source_grace_ns;
        config.on_event = o.on_event;
        config.event_arg = o.event_arg;
        std::unique_ptr<zdds::Bridge> bridge;
        const int32_t rc = zdds::Bridge::create(config, &bridge, &why);
        if (rc != ZFD_OK) return rc;
        *out_bridge = new zfd_dds_bridge{std::move(bridge)};
        return ZFD_OK;
    });
}

int32_t zfd_dds_bridge_filter(zfd_dds_bridge* bridge, uint32_t kind, const char* glob) {
    return reported(nullptr, [&](std::string&) -> int32_t {
        if (bridge == nullptr || glob == nullptr || glob[0] == '\0') return ZFD_E_INVAL;
        if (kind != ZFD_DDS_ALLOW && kind != ZFD_DDS_DENY) return ZFD_E_INVAL;
        return bridge->bridge->add_filter(kind == ZFD_DDS_ALLOW, glob);
    });
}

int32_t zfd_dds_bridge_start(zfd_dds_bridge* bridge) {
    return reported(nullptr, [&](std::string&) -> int32_t {
        if (bridge == nullptr) return ZFD_E_INVAL;
        return bridge->bridge->start();
    });
}

void zfd_dds_bridge_close(zfd_dds_bridge* bridge) {
    if (bridge == nullptr) return;
    try {
        bridge->bridge.reset();
    } catch (...) {
        // a destructor never fails; the handle is freed anyway
    }
    delete bridge;
}

int32_t zfd_dds_export(zfd_dds_bridge* bridge, const char* name, zfd_error* out_err) {
    return reported(out_err, [&](std::string& why) -> int32_t {
        if (bridge == nullptr || name == nullptr) {
            why = "bridge or name is NULL";
            return ZFD_E_INVAL;
        }
        return bridge->bridge->export_segment(name, &why);
    });
}

int32_t zfd_dds_import(zfd_dds_bridge* bridge, const char* name, const zfd_dds_import_options* opts,
                       zfd_error* out_err) {
    return reported(out_err, [&](std::string& why) -> int32_t {
        if (bridge == nullptr || name == nullptr) {
            why = "bridge or name is NULL";
            return ZFD_E_INVAL;
        }
        zfd_dds_import_options defaults;
        zfd_dds_import_options_init(&defaults);
        const zfd_dds_import_options& o = opts != nullptr ? *opts : defaults;
        if (!valid_import_options(&o, &why)) return ZFD_E_INVAL;
        zdds::ImportSpec spec;
        spec.slot_count = o.slot_count;
        spec.slot_capacity = o.slot_capacity;
        if (o.has_type_hash != 0) {
            zdds::TypeHash h{};
            std::memcpy(h.data(), o.type_hash, h.size());
            spec.type_hash = h;
        }
        return bridge->bridge->import_segment(name, spec, &why);
    });
}

int32_t zfd_dds_topic_name(const char* name, char* out, size_t capacity, size_t* out_len) {
    return reported(nullptr, [&](std::string&) -> int32_t {
        if (name == nullptr || out == nullptr) return ZFD_E_INVAL;
        if (!zdds::valid_segment_name(name) || zdds::reserved_name(name)) return ZFD_E_INVAL;
        return copy_out(zdds::topic_of(name), out, capacity, out_len);
    });
}

int32_t zfd_dds_segment_name(const char* topic, char* out, size_t capacity, size_t* out_len) {
    return reported(nullptr, [&](std::string&) -> int32_t {
        if (topic == nullptr || out == nullptr) return ZFD_E_INVAL;
        const auto name = zdds::segment_of(topic);
        if (!name) return ZFD_E_INVAL;
        return copy_out(*name, out, capacity, out_len);
    });
}

}  // extern "C"
