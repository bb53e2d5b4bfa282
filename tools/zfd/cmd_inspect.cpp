// cmd_inspect.cpp — zfd ls, inspect, gc, rm: looking at segments and
// cleaning up after dead owners.
//
// Read-only by construction: a segment is opened as a consumer
// (Segment::open validates everything first) and its control words are only
// ever loaded (acquire for the words that publish state, relaxed for
// diagnostics). Nothing here attaches a reader or writes a byte of a segment.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common.hpp"
#include "layout.hpp"
#include "liveness.hpp"
#include "segment_impl.hpp"

namespace zfd_tool {

using core::Segment;
using core::Status;
namespace layout = core::layout;

namespace {

constexpr auto kAcq = std::memory_order_acquire;
constexpr auto kRlx = std::memory_order_relaxed;

const char* slot_state_name(std::uint64_t word) {
    switch (layout::word_state(word)) {
        case layout::kSlotFree:
            return "free";
        case layout::kSlotLoaned:
            return "loaned";
        case layout::kSlotCommitted:
            return "committed";
        default:
            return "busy";
    }
}

const char* reader_state_name(std::uint64_t word) {
    switch (word & 3u) {
        case layout::kReaderFree:
            return "free";
        case layout::kReaderActive:
            return "active";
        case layout::kReaderClosing:
            return "closing";
        default:
            return "invalid";
    }
}

using Usage = Segment::Impl::Usage;

const char* usage_name(Usage u) {
    switch (u) {
        case Usage::free:
            return "free";
        case Usage::loaned:
            return "loaned";
        case Usage::wanted:
            return "unread";
        case Usage::held:
            return "held";
        case Usage::retained:
            return "history";
        case Usage::reusable:
            return "reusable";
        case Usage::busy:
            return "busy";
    }
    return "?";
}

// A slot the writer cannot take right now (as the protocol decides reuse;
// PROTOCOL.md, "When a slot may be reused").
bool slot_in_use(Usage u) { return u != Usage::free && u != Usage::reusable; }

std::vector<int> bits_of(std::uint64_t mask) {
    std::vector<int> v;
    for (int i = 0; i < 64; ++i) {
        if ((mask >> i) & 1u) v.push_back(i);
    }
    return v;
}

std::string mask_hex(std::uint64_t mask) { return mask == 0 ? "0" : fmt::format("{:#x}", mask); }

// One line of `zfd ls`.
struct Listing {
    std::string name;
    bool ok = false;
    Status status = Status::ok;
    core::ErrorDetail detail;
    ObjectStat object;
    std::optional<bool> owner_alive;  // also probed for objects that fail validation
    core::SegmentInfo info;
    std::uint32_t readers = 0;
    std::uint32_t in_use = 0;
    bool exported = false;  // a bridge holds the export claim
};

Listing list_one(const std::string& name) {
    Listing l;
    l.name = name;
    l.object = stat_object(name);
    if (!Segment::valid_name(name.c_str())) {
        l.status = Status::invalid_argument;
        fmt::format_to_n(l.detail.message, sizeof(l.detail.message) - 1,
                         "not a valid segment name (1..200 of [A-Za-z0-9._-])");
        return l;
    }
    std::shared_ptr<Segment> seg;
    l.status = Segment::open(name.c_str(), nullptr, &seg, &l.detail);
    if (l.status != Status::ok) {
        bool alive = false;
        if (Segment::owner_alive(name.c_str(), &alive) == Status::ok) l.owner_alive = alive;
        return l;
    }
    l.ok = true;
    seg->info(&l.info);
    l.exported = seg->claim_held(core::liveness::kClaimExport);
    l.owner_alive = l.info.owner_alive;
    l.readers = static_cast<std::uint32_t>(std::popcount(l.info.active_readers));
    const Segment::Impl& s = seg->impl();
    for (std::uint32_t k = 0; k < s.slot_count; ++k) {
        if (slot_in_use(s.usage(k))) ++l.in_use;
    }
    return l;
}

// Removes "zfd.<name>" only while its owner is provably dead: we take the
// owner lock byte of the object ourselves (as a replacing creator does), so
// neither a restarting owner nor a replacer can slip in between the check
// and the unlink, and we only unlink when the name still refers to the
// object we locked.
Status remove_if_owner_dead(const std::string& name, std::string* why) {
    const std::string shm = core::shm_path(name.c_str());
    const int fd = ::shm_open(shm.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        const int err = errno;
        *why = fmt::format("cannot open: {}", std::strerror(err));
        return err == ENOENT
                   ? Status::not_found
                   : (err == EACCES || err == EPERM ? Status::permission : Status::system_error);
    }
    if (!core::liveness::try_lock(fd, core::liveness::kOwnerByte)) {
        ::close(fd);
        *why = "owner is alive";
        return Status::exists;
    }
    struct stat locked {};
    struct stat now {};
    const int fd2 = ::shm_open(shm.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    const bool same = fd2 >= 0 && ::fstat(fd, &locked) == 0 && ::fstat(fd2, &now) == 0 &&
                      locked.st_dev == now.st_dev && locked.st_ino == now.st_ino;
    if (fd2 >= 0) ::close(fd2);
    if (!same) {
        ::close(fd);
        *why = "replaced by a new segment meanwhile";
        return Status::exists;
    }
    core::ErrorDetail d;
    const Status st = Segment::unlink(name.c_str(), &d);
    ::close(fd);  // drops our hold on the old owner byte
    if (st != Status::ok) *why = status_text(st, &d);
    return st;
}

}  // namespace

// ---------------------------------------------------------------------------
// zfd ls
// ---------------------------------------------------------------------------
int cmd_ls(const LsOptions& o) {
    std::vector<Listing> all;
    for (const auto& name : list_segment_names()) all.push_back(list_one(name));

    if (o.json) {
        json arr = json::array();
        for (const auto& l : all) {
            json j;
            j["name"] = l.name;
            j["valid"] = l.ok;
            if (l.owner_alive) {
                j["owner_alive"] = *l.owner_alive;
            } else {
                j["owner_alive"] = nullptr;
            }
            if (l.ok) {
                j["owner_pid"] = l.info.owner_pid;
                j["readers"] = l.readers;
                j["active_readers"] = l.info.active_readers;
                j["slots_in_use"] = l.in_use;
                j["slot_count"] = l.info.slot_count;
                j["slot_capacity"] = l.info.slot_capacity;
                j["type_hash"] =
                    l.info.type_hash ? json(hash_hex(l.info.type_hash)) : json(nullptr);
                j["size"] = l.info.total_size;
                j["next_sequence"] = l.info.next_sequence;
                j["policy"] = l.info.overwrite_oldest ? "overwrite_oldest" : "default";
                j["history"] = l.info.history;
                j["segment_id"] = l.info.segment_id;
                j["instance_id"] = hex_bytes(l.info.instance_id.data(), l.info.instance_id.size());
                j["mirror"] = l.info.mirror;
                j["mirror_of"] = l.info.mirror ? json(hex_bytes(l.info.mirror_of.data(),
                                                                 l.info.mirror_of.size()))
                                               : json(nullptr);
                j["origin"] = l.info.mirror ? json(l.info.origin) : json(nullptr);
                j["exported"] = l.exported;
            } else {
                j["size"] = l.object.size;
                j["error"] = status_json(l.status, &l.detail);
            }
            arr.push_back(std::move(j));
        }
        json out;
        out["shm_dir"] = kShmDir;
        out["segments"] = std::move(arr);
        fmt::print("{}\n", out.dump(2));
        return kExitOk;
    }

    if (all.empty()) {
        fmt::print("no segments in {}/{}*\n", kShmDir, kShmPrefix);
        return kExitOk;
    }
    Table t({"NAME", "OWNER", "ALIVE", "READERS", "SLOTS", "CAPACITY", "POLICY", "TYPE-HASH",
             "SIZE", "SOURCE"});
    std::vector<std::string> errors;
    for (const auto& l : all) {
        const std::string alive = l.owner_alive ? (*l.owner_alive ? "yes" : "no") : "?";
        if (l.ok) {
            t.add({l.name, fmt::format("{}", l.info.owner_pid), alive, fmt::format("{}", l.readers),
                   fmt::format("{}/{}", l.in_use, l.info.slot_count),
                   fmt::format("{}", l.info.slot_capacity),
                   fmt::format("{}{}", l.info.overwrite_oldest ? "overwrite" : "default",
                               l.info.history != 0 ? fmt::format("+history {}", l.info.history)
                                                   : std::string()),
                   hash_hex(l.info.type_hash),
                   fmt::format("{}", l.info.total_size),
                   l.info.mirror ? fmt::format("mirror of {}", l.info.origin.empty()
                                                                   ? std::string("another host")
                                                                   : l.info.origin)
                                 : (l.exported ? "local, exported" : "local")});
        } else {
            t.add({l.name, "-", alive, "-", "-", "-", "-", "-", fmt::format("{}", l.object.size),
                   "?"});
            errors.push_back(fmt::format("{}: {}", l.name, status_text(l.status, &l.detail)));
        }
    }
    fmt::print("{}", t.render());
    if (!errors.empty()) {
        fmt::print("\ninvalid:\n");
        for (const auto& e : errors) fmt::print("  {}\n", e);
    }
    return kExitOk;
}

// ---------------------------------------------------------------------------
// zfd inspect NAME
// ---------------------------------------------------------------------------
int cmd_inspect(const InspectOptions& o) {
    std::shared_ptr<Segment> seg;
    core::ErrorDetail d;
    const Status st = Segment::open(o.name.c_str(), nullptr, &seg, &d);
    if (st != Status::ok) {
        error("inspect", fmt::format("cannot open segment '{}': {}", o.name, status_text(st, &d)));
        return kExitError;
    }
    core::SegmentInfo info;
    seg->info(&info);
    const Segment::Impl& s = seg->impl();
    const layout::SegmentHeader& h = *s.hdr;
    const std::int64_t now_coarse = coarse_ns();
    const std::int64_t now_mono = mono_ns();

    const std::uint64_t next_pos = h.next_pos.load(kAcq);
    const std::uint64_t freed = h.freed.load(kAcq);
    const std::uint32_t state = h.state.load(kAcq);
    const std::uint32_t owner_closed = h.owner_closed.load(kAcq);
    const std::uint64_t active = h.active_readers.load(kAcq);
    const std::uint64_t created_ns = h.created_ns;
    const std::int64_t created_age = created_ns <= static_cast<std::uint64_t>(now_mono)
                                         ? now_mono - static_cast<std::int64_t>(created_ns)
                                         : -1;

    json hdr;
    hdr["name"] = o.name;
    hdr["magic"] = fmt::format("{:#018x}", h.magic);
    hdr["layout_version"] = h.layout_version;
    hdr["endian_marker"] = fmt::format("{:#x}", h.endian_marker);
    hdr["header_size"] = h.header_size;
    hdr["state"] = state == layout::kSegmentReady          ? "ready"
                   : state == layout::kSegmentInitialising ? "initialising"
                                                           : "invalid";
    hdr["slot_count"] = s.slot_count;
    hdr["slot_capacity"] = s.slot_capacity;
    hdr["payload_stride"] = s.payload_stride;
    hdr["slot_stride"] = info.slot_stride;
    hdr["total_size"] = s.total_size;
    hdr["segment_id"] = fmt::format("{:#018x}", s.segment_id);
    hdr["instance_id"] = hex_bytes(info.instance_id.data(), info.instance_id.size());
    hdr["mirror"] = info.mirror;
    hdr["mirror_of"] =
        info.mirror ? json(hex_bytes(info.mirror_of.data(), info.mirror_of.size())) : json(nullptr);
    hdr["origin"] = info.mirror ? json(info.origin) : json(nullptr);
    hdr["log_size"] = s.log_size;
    hdr["max_readers"] = h.max_readers;
    hdr["readers_offset"] = h.readers_offset;
    hdr["slots_offset"] = h.slots_offset;
    hdr["log_offset"] = h.log_offset;
    hdr["held_offset"] = h.held_offset;
    hdr["payload_offset"] = h.payload_offset;
    hdr["policy"] = info.overwrite_oldest ? "overwrite_oldest" : "default";
    hdr["history"] = info.history;
    hdr["owner_pid"] = s.owner_pid;
    hdr["owner_uid"] = h.owner_uid;
    hdr["owner_alive"] = info.owner_alive;
    hdr["owner_closed"] = owner_closed != layout::kOwnerOpen;
    hdr["type_hash"] = s.type_hash ? json(hash_hex(s.type_hash)) : json(nullptr);
    hdr["created_age_ns"] = created_age;
    hdr["next_sequence"] = info.next_sequence;
    hdr["next_position"] = next_pos;
    hdr["label_offset"] = h.label_offset.load(kRlx);
    hdr["freed"] = freed;
    hdr["evictions"] = h.evictions.load(kRlx);
    hdr["notify_generation"] = seg->notify_generation();
    hdr["active_readers"] = active;
    hdr["membership"] = h.membership.load(kRlx);
    hdr["data_waiters"] = h.data_waiters.load(kRlx);
    hdr["space_waiters"] = h.space_waiters.load(kRlx);
    hdr["change_waiters"] = h.change_waiters.load(kRlx);

    json slots = json::array();
    std::uint32_t in_use = 0;
    for (std::uint32_t k = 0; k < s.slot_count; ++k) {
        const layout::SlotControl& c = s.slots[k];
        const std::uint64_t w = c.state.load(kAcq);
        const std::uint64_t pos = c.pos.load(kRlx);
        const std::uint64_t label = c.label.load(kRlx);
        const std::uint64_t len = c.len.load(kRlx);
        const std::uint64_t commit_ns = c.commit_ns.load(kRlx);
        const bool committed = layout::word_state(w) == layout::kSlotCommitted;
        const Usage u = s.usage(k);
        if (slot_in_use(u)) ++in_use;
        // Readers holding it (bit set, taken: cursor past it, not released).
        std::uint64_t holders = 0;
        if (committed) {
            for (std::uint32_t i = 0; i < layout::kReaderEntries; ++i) {
                if (((active >> i) & 1u) == 0) continue;
                const layout::ReaderEntry& e = s.readers[i];
                if (s.held_bit(i, k) && e.released.load(kRlx) <= pos && e.cursor.load(kRlx) > pos) {
                    holders |= std::uint64_t{1} << i;
                }
            }
        }
        json j;
        j["index"] = k;
        j["state"] = slot_state_name(w);
        j["generation"] = layout::word_gen(w);
        j["usage"] = usage_name(u);
        j["in_use"] = slot_in_use(u);
        j["position"] = committed ? json(pos) : json(nullptr);
        j["sequence"] = committed ? json(label) : json(nullptr);
        j["length"] = committed ? json(len) : json(nullptr);
        j["held_by"] = bits_of(holders);
        j["age_ns"] = committed && commit_ns <= static_cast<std::uint64_t>(now_coarse)
                          ? json(now_coarse - static_cast<std::int64_t>(commit_ns))
                          : json(nullptr);
        slots.push_back(std::move(j));
    }
    hdr["slots_in_use"] = in_use;

    json readers = json::array();
    for (std::uint32_t i = 0; i < layout::kReaderEntries; ++i) {
        const layout::ReaderEntry& e = s.readers[i];
        const std::uint64_t w = e.word.load(kAcq);
        if ((w & 3u) == layout::kReaderFree && !o.all_readers) continue;
        const std::uint64_t cursor = e.cursor.load(kRlx);
        json j;
        j["index"] = i;
        j["state"] = reader_state_name(w);
        j["epoch"] = w >> 2;
        j["active_bit"] = ((active >> i) & 1u) != 0;
        j["pid"] = e.pid.load(kRlx);
        j["alive"] = s.region->byte_locked(core::liveness::reader_byte(i));
        j["history"] = (e.flags.load(kRlx) & layout::kReaderFlagHistory) != 0;
        j["start"] = e.start.load(kRlx);
        j["cursor"] = cursor;
        j["released"] = e.released.load(kRlx);
        j["progress"] = e.progress.load(kRlx);
        j["lag"] = next_pos >= cursor ? next_pos - cursor : 0;
        // Slots this reader holds a sample of (its held bitmap).
        std::uint32_t held = 0;
        for (std::uint32_t k = 0; k < s.slot_count; ++k) held += s.held_bit(i, k) ? 1u : 0u;
        j["held"] = held;
        readers.push_back(std::move(j));
    }

    if (o.json) {
        json out;
        out["header"] = std::move(hdr);
        out["slots"] = std::move(slots);
        out["readers"] = std::move(readers);
        fmt::print("{}\n", out.dump(2));
        return kExitOk;
    }

    // Human-readable: header as key/value lines, then two tables.
    fmt::print("segment {}\n", o.name);
    for (const auto& [key, value] : hdr.items()) {
        if (key == "name") continue;
        std::string v;
        if (value.is_string()) {
            v = value.get<std::string>();
        } else if (value.is_null()) {
            v = "-";
        } else if (key == "active_readers") {
            v = mask_hex(value.get<std::uint64_t>());
        } else if (key == "created_age_ns") {
            v = human_duration(value.get<std::int64_t>()) + " ago";
        } else {
            v = value.dump();
        }
        fmt::print("  {:<18} {}\n", key, v);
    }

    fmt::print("\nslots ({} in use of {})\n", in_use, s.slot_count);
    Table st_table({"SLOT", "STATE", "USAGE", "GEN", "POS", "SEQ", "LEN", "HELD_BY", "AGE"});
    for (const auto& j : slots) {
        auto opt = [](const json& v) { return v.is_null() ? std::string("-") : v.dump(); };
        std::string held_by;
        for (const auto& i : j["held_by"]) held_by += (held_by.empty() ? "" : ",") + i.dump();
        st_table.add(
            {j["index"].dump(), j["state"].get<std::string>(), j["usage"].get<std::string>(),
             j["generation"].dump(), opt(j["position"]), opt(j["sequence"]), opt(j["length"]),
             held_by.empty() ? "-" : held_by,
             j["age_ns"].is_null() ? "-" : human_duration(j["age_ns"].get<std::int64_t>())});
    }
    fmt::print("{}", st_table.render());

    fmt::print("\nreaders ({} attached)\n", std::popcount(active));
    if (readers.empty()) {
        fmt::print("  (none)\n");
    } else {
        Table rt({"INDEX", "STATE", "PID", "ALIVE", "HISTORY", "START", "CURSOR", "RELEASED",
                  "LAG", "HELD"});
        for (const auto& j : readers) {
            rt.add({j["index"].dump(), j["state"].get<std::string>(), j["pid"].dump(),
                    j["alive"].get<bool>() ? "yes" : "no", j["history"].get<bool>() ? "yes" : "no",
                    j["start"].dump(), j["cursor"].dump(), j["released"].dump(), j["lag"].dump(),
                    j["held"].dump()});
        }
        fmt::print("{}", rt.render());
    }
    return kExitOk;
}

// ---------------------------------------------------------------------------
// zfd gc [--dry-run]
// ---------------------------------------------------------------------------
int cmd_gc(const GcOptions& o) {
    // An object that is not a segment yet (smaller than a page) and changed
    // in the last seconds may be a creator between shm_open and taking its
    // owner lock: leave it alone for now.
    constexpr std::int64_t kYoungNs = 2'000'000'000;
    json removed = json::array();
    json kept = json::array();
    json failed = json::array();
    int rc = kExitOk;
    for (const auto& name : list_segment_names()) {
        if (name.compare(0, o.prefix.size(), o.prefix) != 0) continue;
        json entry;
        entry["name"] = name;
        if (!Segment::valid_name(name.c_str())) {
            entry["reason"] = "not a valid segment name";
            kept.push_back(std::move(entry));
            continue;
        }
        bool alive = true;
        const Status probe = Segment::owner_alive(name.c_str(), &alive);
        if (probe == Status::not_found) continue;  // went away meanwhile
        if (probe != Status::ok) {
            entry["reason"] = fmt::format("cannot probe the owner: {}", status_name(probe));
            kept.push_back(std::move(entry));
            continue;
        }
        if (alive) {
            entry["reason"] = "owner alive";
            kept.push_back(std::move(entry));
            continue;
        }
        // Owner dead: describe it (pid for a valid segment, the error otherwise).
        const ObjectStat obj = stat_object(name);
        std::shared_ptr<Segment> seg;
        core::ErrorDetail d;
        const Status ost = Segment::open(name.c_str(), nullptr, &seg, &d);
        if (ost == Status::ok) {
            core::SegmentInfo info;
            seg->info(&info);
            entry["owner_pid"] = info.owner_pid;
            entry["reason"] = fmt::format("owner pid {} is dead", info.owner_pid);
            seg.reset();
        } else {
            if (obj.size < layout::kPageSize && obj.ctime_age_ns < kYoungNs) {
                entry["reason"] = "being created (too new to judge)";
                kept.push_back(std::move(entry));
                continue;
            }
            entry["reason"] =
                fmt::format("not a valid segment ({}), owner lock free", status_text(ost, &d));
        }
        if (o.dry_run) {
            removed.push_back(std::move(entry));
            continue;
        }
        std::string why;
        const Status rst = remove_if_owner_dead(name, &why);
        if (rst == Status::ok) {
            removed.push_back(std::move(entry));
        } else if (rst == Status::not_found) {
            continue;
        } else if (rst == Status::exists) {
            entry["reason"] = why;
            kept.push_back(std::move(entry));
        } else {
            entry["error"] = why;
            failed.push_back(std::move(entry));
            rc = kExitError;
        }
    }

    if (o.json) {
        json out;
        out["dry_run"] = o.dry_run;
        out["removed"] = std::move(removed);
        out["kept"] = std::move(kept);
        out["failed"] = std::move(failed);
        fmt::print("{}\n", out.dump(2));
        return rc;
    }
    const char* verb = o.dry_run ? "would remove" : "removed";
    for (const auto& e : removed) {
        fmt::print("{} {} ({})\n", verb, e["name"].get<std::string>(),
                   e["reason"].get<std::string>());
    }
    for (const auto& e : failed) {
        error("gc", fmt::format("cannot remove {}: {}", e["name"].get<std::string>(),
                                e["error"].get<std::string>()));
    }
    if (removed.empty() && failed.empty()) {
        fmt::print("nothing to {} ({} segment(s) kept)\n", o.dry_run ? "remove" : "collect",
                   kept.size());
    }
    return rc;
}

// ---------------------------------------------------------------------------
// zfd rm NAME...
// ---------------------------------------------------------------------------
int cmd_rm(const RmOptions& o) {
    int rc = kExitOk;
    for (const auto& name : o.names) {
        core::ErrorDetail d;
        const Status st = Segment::unlink(name.c_str(), &d);
        if (st != Status::ok) {
            error("rm", fmt::format("cannot remove '{}': {}", name, status_text(st, &d)));
            rc = kExitError;
            continue;
        }
        if (!o.quiet) fmt::print("removed {}\n", name);
    }
    return rc;
}

}  // namespace zfd_tool
