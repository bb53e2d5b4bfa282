// bridge.hpp — the DDS bridge: exporters (segment -> DDS), importers (DDS ->
// mirror segment) and the discovery that decides which segments cross.
//
// Owns: one DDS participant (and its domain when a configuration is given),
// the discovery topic's writer and reader, one thread per exported segment,
// one per imported segment, and one reconcile thread for the automatic mode.
// Uses libzerodds_flatdata only through its public C API, like any program.
//
// Invariants: a segment is exported by at most one exporter on a host (the
// export claim); a mirror (ZFD_SEGMENT_MIRROR) is never exported; a mirror
// is only ever written by the importer that created it, in sequence order.
#pragma once

#include <zerodds/flatdata.h>
#include <zerodds/flatdata_dds.h>

#include <dds/dds.h>

#include <sys/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace zerodds::flatdata::dds {

using InstanceId = std::array<std::uint8_t, ZFD_INSTANCE_ID_SIZE>;
using TypeHash = std::array<std::uint8_t, ZFD_TYPE_HASH_SIZE>;

std::string hex(const std::uint8_t* bytes, std::size_t n);
inline std::string hex(const InstanceId& id) { return hex(id.data(), id.size()); }
std::int64_t mono_ns();
// Text from the network, fit for a log line: at most max bytes, every byte
// that is not printable ASCII shown as '?'.
std::string printable(std::string_view text, std::size_t max);

struct Event {
    std::uint32_t kind = 0;
    std::string segment;
    std::string message;
    InstanceId instance_id{};
    std::uint64_t samples = 0, bytes = 0, gaps = 0, refused = 0;
    bool is_export = false;
};

struct BridgeConfig {
    std::uint32_t domain_id = 0;
    bool best_effort = false;
    bool export_all = false;
    bool import_all = false;
    std::optional<std::string> config;  // Cyclone XML; none: CYCLONEDDS_URI
    std::string origin;                 // empty: "<hostname> pid <pid>"
    std::int64_t source_grace_ns = 5'000'000'000;
    zfd_dds_event_fn on_event = nullptr;
    void* event_arg = nullptr;
};

// A segment some bridge announces (one SegmentAnnouncement instance).
struct Announced {
    std::string name;
    InstanceId id{};
    std::uint32_t slot_count = 0;
    std::uint64_t slot_capacity = 0;
    std::optional<TypeHash> type_hash;
    bool alive = false;
    bool reliable = true;
    std::string origin;
};

// Geometry and type of a mirror made for `zfd_dds_import` (no announcement).
struct ImportSpec {
    std::uint32_t slot_count = 64;
    std::uint64_t slot_capacity = 65536;
    std::optional<TypeHash> type_hash;
};

// Counters of one exported or imported segment (atomics: read by the
// reconcile thread for STATS events while the worker updates them).
struct Counters {
    std::atomic<std::uint64_t> samples{0}, bytes{0}, gaps{0}, refused{0}, duplicates{0};
};

class Bridge;

// Exports one segment name: attach, publish every sample, release it when
// DDS accepted it; end the DDS instance when the source's writer is gone.
class Exporter {
public:
    // follow: keep exporting whatever segment the name holds, waiting for it
    // when there is none (explicit export); else end when the name is gone.
    Exporter(Bridge& bridge, std::string name, bool follow);
    ~Exporter();
    Exporter(const Exporter&) = delete;
    Exporter& operator=(const Exporter&) = delete;

    void stop();
    bool finished() const { return finished_.load(); }
    const std::string& name() const { return name_; }
    Counters& counters() { return counters_; }
    InstanceId current() const;

private:
    enum class End { source_gone, stopped, lost_reader };
    void run();
    static constexpr std::uint32_t kMaxBatch = 64;
    End pump(zfd_reader* rd, const zfd_segment_info& info);
    bool write(const void* sample);
    bool pause(std::int64_t ns);  // false when stopping

    Bridge& bridge_;
    const std::string name_;
    const bool follow_;
    dds_entity_t topic_ = 0;
    dds_entity_t writer_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> finished_{false};
    Counters counters_;
    mutable std::mutex mu_;
    InstanceId current_{};
    std::mutex wake_mu_;
    std::condition_variable wake_;
    std::thread thread_;
};

// Imports one segment name into a local mirror: from the instances some
// bridge announces (announced mode, the source's sequence numbers), or from
// any DDS writer of the topic (explicit mode, numbered in arrival order).
class Importer {
public:
    Importer(Bridge& bridge, const Announced& first);                      // announced
    Importer(Bridge& bridge, std::string name, const ImportSpec& spec,    // explicit
             zfd_segment* mirror);
    ~Importer();
    Importer(const Importer&) = delete;
    Importer& operator=(const Importer&) = delete;

    // A (newer) announcement for this name: the next instance to mirror once
    // the current one ends.
    void offer(const Announced& a);
    void stop();
    bool finished() const { return finished_.load(); }
    bool explicit_mode() const { return explicit_; }
    const std::string& name() const { return name_; }
    Counters& counters() { return counters_; }
    InstanceId current() const;

private:
    void run();
    bool open_reader(bool reliable);
    bool make_mirror(const Announced& a);
    void close_mirror(const char* why);
    void discard_loans();
    // Takes samples and commits them while mirror slots are free. listener:
    // on Cyclone's receive thread (never waits, leaves what needs waiting or
    // a new mirror to the thread).
    void process(bool listener);
    void on_data();
    // One sample (or instance-state notice) taken from DDS; `slot` is a loan
    // of the mirror this call may use (it is consumed when committed).
    void handle(const dds_sample_info_t& info, const void* sample);
    enum class Refusal { instance, type_hash, size, commit, kinds };
    void refuse(Refusal kind, const std::string& why);

    Bridge& bridge_;
    const std::string name_;
    const bool explicit_;
    ImportSpec spec_;
    dds_entity_t topic_ = 0;
    dds_entity_t reader_ = 0;
    dds_entity_t waitset_ = 0;
    dds_entity_t guard_ = 0;
    dds_entity_t readcond_ = 0;
    std::mutex work_mu_;  // the mirror and the loans: this thread or the listener
    bool reliable_ = true;
    zfd_segment* mirror_ = nullptr;
    std::optional<TypeHash> mirror_hash_;
    std::uint64_t mirror_capacity_ = 0;
    // Loans of the mirror's slots taken ahead for a batch of samples.
    struct Loan {
        zfd_slot slot = 0;
        void* data = nullptr;
    };
    static constexpr std::uint32_t kMaxBatch = 64;
    std::vector<Loan> loans_;
    std::uint32_t batch_ = 1;
    bool any_committed_ = false;
    std::uint64_t next_sequence_ = 0;  // of the mirror (announced mode)
    dds_instance_handle_t current_handle_ = 0;
    bool current_disposed_ = false;  // the source ended: close once drained
    std::int64_t no_writers_since_ = 0;
    std::set<InstanceId> ended_;  // instances whose mirror was closed
    std::uint64_t refusals_[static_cast<std::size_t>(Refusal::kinds)] = {};

    mutable std::mutex mu_;  // guards current_, next_
    InstanceId current_{};
    bool have_current_ = false;
    std::optional<Announced> next_;

    std::atomic<bool> stop_{false};
    std::atomic<bool> finished_{false};
    Counters counters_;
    std::thread thread_;
};

class Bridge {
public:
    static int32_t create(const BridgeConfig& config, std::unique_ptr<Bridge>* out,
                          std::string* error);
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    int32_t add_filter(bool allow, const std::string& glob);
    int32_t start();
    int32_t export_segment(const std::string& name, std::string* error);
    int32_t import_segment(const std::string& name, const ImportSpec& spec, std::string* error);

    // For exporters and importers.
    const BridgeConfig& config() const { return config_; }
    dds_entity_t participant() const { return participant_; }
    bool allowed(const std::string& name) const;
    void emit(const Event& e);
    void announce(const Announced& a);
    void withdraw(const Announced& a, bool ended);  // ended: dispose, else unregister
    dds_qos_t* writer_qos() const;                  // caller frees (dds_delete_qos)
    dds_qos_t* reader_qos(bool reliable, std::uint32_t depth) const;
    std::string dds_error(const char* what, dds_return_t rc) const;

private:
    explicit Bridge(const BridgeConfig& config);
    void reconcile_loop();
    static std::vector<std::pair<std::string, ino_t>> local_names();  // zfd.* in /dev/shm
    void scan_local();
    void sweep_stale_mirrors();
    void scan_announcements();
    void consider_import(const Announced& a);
    void emit_stats();
    void reap_finished();
    bool once(const std::string& key);  // true the first time a key is seen
    void forget_expired_rechecks(std::int64_t now);

    BridgeConfig config_;
    dds_entity_t domain_ = 0;
    dds_entity_t participant_ = 0;
    dds_entity_t ann_topic_ = 0;
    dds_entity_t ann_writer_ = 0;
    dds_entity_t ann_reader_ = 0;
    dds_instance_handle_t ann_writer_handle_ = 0;

    mutable std::mutex filters_mu_;
    std::vector<std::string> allow_, deny_;

    std::mutex event_mu_;
    std::mutex ann_mu_;  // the announcement writer

    std::mutex workers_mu_;  // exporters_, importers_
    std::map<std::string, std::unique_ptr<Exporter>> exporters_;
    std::map<std::string, std::unique_ptr<Importer>> importers_;

    // Reconcile-thread state.
    std::map<std::pair<std::string, InstanceId>, Announced> announced_;
    // Names left alone: when to look again (exports: unless the object changed).
    std::map<std::string, std::pair<ino_t, std::int64_t>> export_recheck_;
    std::map<std::string, std::int64_t> import_recheck_;  // "name/instance id"
    std::atomic<bool> filters_changed_{false};
    std::set<std::string> said_;                      // messages said once
    std::int64_t next_stats_ns_ = 0;
    std::int64_t next_sweep_ns_ = 0;

    std::atomic<bool> stop_{false};
    bool started_ = false;
    std::mutex wake_mu_;
    std::condition_variable wake_;
    std::thread reconcile_;
};

}  // namespace zerodds::flatdata::dds
