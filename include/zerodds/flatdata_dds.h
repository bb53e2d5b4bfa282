/*
 * zerodds/flatdata_dds.h — carry zerodds-flatdata segments between hosts
 * over DDS (Eclipse Cyclone DDS).
 *
 * Copyright 2026 The zerodds-flatdata authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * This is the public header of libzerodds_flatdata_dds, a separate library
 * (libzerodds_flatdata itself never links DDS). Plain C (C99 and later, C++
 * compatible); it includes <zerodds/flatdata.h> for the status codes and
 * zfd_error, and nothing of DDS: programs using it need no DDS headers.
 *
 * Model
 * -----
 * A *bridge* is one DDS participant plus threads in the calling process.
 * It *exports* local segments: it attaches as one more reader, publishes
 * every sample on the DDS topic of the segment and releases it once DDS
 * accepted it, and announces the segment on the discovery topic
 * "zfd/segments". It *imports* remote segments: for an announced segment it
 * creates a *mirror* under the same name in this host's /dev/shm (flag
 * ZFD_SEGMENT_MIRROR, the source's geometry, type hash and sequence
 * numbers) and commits every sample received into it; local readers use the
 * ordinary API. Zero-copy ends at the host: past it samples are DDS samples.
 * The wire types are written down in <zerodds/flatdata_dds.idl>.
 *
 * - Same host is decided by trying: a bridge that hears of segment N with
 *   instance id U opens N here; if its instance id is U, the readers here
 *   read it in shared memory already and nothing is mirrored. A mirror is
 *   never exported again, so no loop forms however many bridges run.
 * - One exporter per segment and host: exporting takes the segment's claim
 *   ZFD_CLAIM_EXPORT (zfd_segment_claim); a second bridge waits and takes
 *   over when the first dies.
 * - Reliable (default): DDS reliable, keep-all within bounded resources; a
 *   slow link or remote reader pushes back on the local writer exactly like
 *   a slow local reader, and nothing is lost while the link is up.
 *   ZFD_DDS_BEST_EFFORT: keep-last, the exporter never waits for DDS; lost
 *   samples show as gaps in the mirror's sequence numbers.
 * - Lifecycle follows the source: when the source's writer is gone and
 *   every sample was sent, the mirror's readers drain it and then get
 *   ZFD_E_PEER_GONE; a replacement writer brings the mirror back under the
 *   same name. An exporting bridge that vanishes without a word is waited
 *   for source_grace_ns before its mirrors close.
 * - Without DDS Security, whatever a bridge exports is readable by anyone on
 *   its DDS domain and network: narrow it with filters.
 *
 * Conventions are those of flatdata.h: functions return ZFD_OK or a negative
 * ZFD_E_* code, handles are opaque, creators hand out through **out and
 * destructors take NULL. DDS failures are ZFD_E_SYSTEM with the DDS return
 * code's text in zfd_error.message. The library prints nothing; what a
 * bridge does is reported through the event callback.
 */
#ifndef ZERODDS_FLATDATA_DDS_H
#define ZERODDS_FLATDATA_DDS_H

#include <zerodds/flatdata.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ZFD_DDS_BUILDING_LIBRARY) && defined(__GNUC__)
#define ZFD_DDS_API __attribute__((visibility("default")))
#else
#define ZFD_DDS_API
#endif

/* ======================================================================
 * Constants and types
 * ====================================================================== */

/** Prefix of every data topic: "zfd/" + escaped segment name. */
#define ZFD_DDS_TOPIC_PREFIX "zfd/"
/** The discovery topic (type zerodds::flatdata::SegmentAnnouncement). */
#define ZFD_DDS_DISCOVERY_TOPIC "zfd/segments"
/** Longest data topic name, NUL included: prefix + 3 bytes per name byte. */
#define ZFD_DDS_TOPIC_NAME_MAX (4 + 3 * 200 + 1)

/* Bridge flags (zfd_dds_bridge_options.flags). */
/** Best-effort, keep-last: never block the local writer; losses are gaps. */
#define ZFD_DDS_BEST_EFFORT (1u << 0)
/** Export every local segment the filters allow (what `zfd bridge` does). */
#define ZFD_DDS_EXPORT_ALL (1u << 1)
/** Import every announced remote segment the filters allow. */
#define ZFD_DDS_IMPORT_ALL (1u << 2)

/* Filter kinds (zfd_dds_bridge_filter). */
#define ZFD_DDS_ALLOW 1
#define ZFD_DDS_DENY 2

typedef struct zfd_dds_bridge zfd_dds_bridge; /* opaque */

/* Event kinds (zfd_dds_event.kind). */
#define ZFD_DDS_EVENT_EXPORTED 1     /* exporting segment (instance_id): announced */
#define ZFD_DDS_EVENT_EXPORT_ENDED 2 /* the source's writer is gone, every sample sent */
#define ZFD_DDS_EVENT_IMPORTED 3     /* a mirror was created for a remote segment */
#define ZFD_DDS_EVENT_MIRROR_CLOSED 4 /* a mirror was closed (source gone, or vanished) */
#define ZFD_DDS_EVENT_SKIPPED 5      /* a segment not bridged, and why (same host, filtered, mirrored by another bridge, exported by another bridge) */
#define ZFD_DDS_EVENT_REFUSED 6      /* bad input refused: a hostile or malformed sample or announcement */
#define ZFD_DDS_EVENT_STATS 7        /* periodic counters of one exported or imported segment */
#define ZFD_DDS_EVENT_ERROR 8        /* something failed; message says what */

/** What a bridge reports. Valid only during the callback. */
typedef struct zfd_dds_event {
    uint32_t struct_size;    /* sizeof(zfd_dds_event) of the library */
    uint32_t kind;           /* ZFD_DDS_EVENT_* */
    const char *segment;     /* segment name; "" when none */
    const char *message;     /* human-readable text, never NULL */
    uint8_t instance_id[ZFD_INSTANCE_ID_SIZE]; /* the source instance, or zero */
    uint64_t samples;        /* STATS, MIRROR_CLOSED: samples sent (export) or committed (import) */
    uint64_t bytes;          /* STATS, MIRROR_CLOSED: payload bytes */
    uint64_t gaps;           /* STATS, MIRROR_CLOSED: sequence numbers missing (import) */
    uint64_t refused;        /* STATS, MIRROR_CLOSED: samples refused (import) */
    int32_t is_export;       /* 1 for an exported segment, 0 for an imported one */
    int32_t reserved;
} zfd_dds_event;

/** Event callback: called from the bridge's threads, one call at a time.
 *  It must not call zfd_dds_bridge_close. */
typedef void (*zfd_dds_event_fn)(void *arg, const zfd_dds_event *event);

/** Options for zfd_dds_bridge_create. Fill with zfd_dds_bridge_options_init. */
typedef struct zfd_dds_bridge_options {
    uint32_t struct_size;      /* set by zfd_dds_bridge_options_init */
    uint32_t domain_id;        /* DDS domain, default 0 */
    uint32_t flags;            /* ZFD_DDS_*; unknown bits -> ZFD_E_INVAL */
    uint32_t reserved;         /* 0 */
    const char *config;        /* Cyclone DDS configuration (XML text, or
                                  file://path) for this bridge's domain; NULL:
                                  the environment's CYCLONEDDS_URI */
    const char *origin;        /* how announcements describe this host (at
                                  most 63 bytes); NULL: "<hostname> pid <pid>" */
    int64_t source_grace_ns;   /* how long a mirror outlives an exporter that
                                  vanished without ending it; default 5 s */
    zfd_dds_event_fn on_event; /* may be NULL */
    void *event_arg;           /* passed to on_event */
} zfd_dds_bridge_options;

/** Options for zfd_dds_import of a named topic. */
typedef struct zfd_dds_import_options {
    uint32_t struct_size;   /* set by zfd_dds_import_options_init */
    uint32_t slot_count;    /* mirror geometry when no announcement gives it; default 64 */
    uint64_t slot_capacity; /* default 65536 */
    uint32_t has_type_hash; /* 0 or 1: the mirror's type hash */
    uint8_t type_hash[ZFD_TYPE_HASH_SIZE];
    uint32_t reserved;      /* 0 */
} zfd_dds_import_options;

/* ======================================================================
 * Bridge lifecycle
 * ====================================================================== */

/** Fill *opts with defaults (domain 0, no flags, CYCLONEDDS_URI, grace 5 s).
 *  NULL is ignored. Since: 0.2 */
ZFD_DDS_API void zfd_dds_bridge_options_init(zfd_dds_bridge_options *opts);

/**
 * Create a bridge: a DDS participant on opts->domain_id and the discovery
 * topic. Nothing is exported or imported until zfd_dds_export,
 * zfd_dds_import or zfd_dds_bridge_start.
 * opts may be NULL (defaults). out_bridge receives the handle; free it with
 * zfd_dds_bridge_close. out_err may be NULL.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL out_bridge, struct_size, unknown flags,
 * reserved not 0, origin longer than 63 bytes, negative grace),
 * ZFD_E_NOMEM, ZFD_E_SYSTEM (DDS refused: a bad configuration, no usable
 * interface; the message says which). Thread-safe. Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_bridge_create(const zfd_dds_bridge_options *opts,
                                          zfd_dds_bridge **out_bridge, zfd_error *out_err);

/**
 * Add a filter on segment names for everything this bridge exports and
 * imports (automatic or explicit). glob is an fnmatch(3) pattern. A name is
 * bridged when it matches no ZFD_DDS_DENY pattern and, if any ZFD_DDS_ALLOW
 * pattern was added, at least one of those. Filters added after start apply
 * to segments found from then on.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL, empty glob, unknown kind). Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_bridge_filter(zfd_dds_bridge *bridge, uint32_t kind, const char *glob);

/**
 * Start the automatic part chosen by the flags (ZFD_DDS_EXPORT_ALL,
 * ZFD_DDS_IMPORT_ALL): a thread that watches this host's segments and the
 * announcements of other hosts. Explicit exports and imports work without
 * it. Returns ZFD_OK, ZFD_E_INVAL (NULL, started already). Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_bridge_start(zfd_dds_bridge *bridge);

/**
 * Stop everything and free the bridge. NULL is ignored. Exported segments
 * are released (their writers are not blocked by this bridge any more) and
 * their DDS instances unregistered, so remote mirrors close after their
 * grace unless another bridge takes over; mirrors this bridge wrote are
 * closed (their readers drain them, then get ZFD_E_PEER_GONE). Not from an
 * event callback. Since: 0.2
 */
ZFD_DDS_API void zfd_dds_bridge_close(zfd_dds_bridge *bridge);

/* ======================================================================
 * Explicit export and import
 * ====================================================================== */

/**
 * Export the local segment `name` from a thread of this process (a writer
 * can serve remote readers itself, without a `zfd bridge`). The export
 * follows the name: when the segment's writer is gone and its samples are
 * sent, a segment created again under the name is exported next.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL, or a name a bridge does not carry:
 * not a valid segment name, "segments", ".", or containing ".."),
 * ZFD_E_EXISTS (this bridge exports it already), ZFD_E_PERMISSION (the
 * filters exclude it).
 * Problems met later (a mirror under that name, another bridge exporting it)
 * are reported as events. Thread-safe. Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_export(zfd_dds_bridge *bridge, const char *name, zfd_error *out_err);

/** Fill *opts with import defaults (64 slots of 65536 bytes, no type hash).
 *  Since: 0.2 */
ZFD_DDS_API void zfd_dds_import_options_init(zfd_dds_import_options *opts);

/**
 * Import the DDS topic of segment `name` into a local mirror of that name,
 * whether or not anyone announces it: every valid sample any DDS writer
 * publishes on the topic is committed, numbered in arrival order (a plain
 * DDS program announces nothing; this is how its samples reach shared
 * memory). The mirror is created at once, with opts' geometry and type hash
 * (opts NULL: defaults); samples larger than its slots or of another type
 * hash (when both have one) are refused. Reliable unless the bridge is
 * best-effort.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL, a name a bridge does not carry as for
 * zfd_dds_export, bad options), ZFD_E_EXISTS (imported already, or a live
 * segment of that name exists here), ZFD_E_PERMISSION (filters), the other
 * codes of zfd_segment_create. Thread-safe. Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_import(zfd_dds_bridge *bridge, const char *name,
                                   const zfd_dds_import_options *opts, zfd_error *out_err);

/* ======================================================================
 * Topic names
 * ====================================================================== */

/**
 * The DDS topic name of segment `name` ("zfd/" + escape, see the IDL file)
 * into out (capacity bytes, NUL-terminated; ZFD_DDS_TOPIC_NAME_MAX always
 * suffices). out_len (may be NULL) receives the length without the NUL.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL, not a valid segment name, or
 * "segments", whose topic would be the discovery topic), ZFD_E_TOO_LARGE
 * (capacity too small; *out_len set). Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_topic_name(const char *name, char *out, size_t capacity,
                                       size_t *out_len);

/**
 * The segment name of a data topic: the inverse of zfd_dds_topic_name.
 * Returns ZFD_OK, ZFD_E_INVAL (not "zfd/" + a valid escape of a valid
 * segment name; the discovery topic), ZFD_E_TOO_LARGE (*out_len set).
 * Since: 0.2
 */
ZFD_DDS_API int32_t zfd_dds_segment_name(const char *topic, char *out, size_t capacity,
                                         size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* ZERODDS_FLATDATA_DDS_H */
