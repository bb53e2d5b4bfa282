/*
 * zerodds/flatdata.h — zero-copy publish/subscribe of fixed-size samples
 * between threads and processes on one host.
 *
 * Copyright 2026 The zerodds-flatdata authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * This is the one public header of libzerodds_flatdata. It is plain C
 * (C99 and later, C++ compatible) and includes only <stdint.h> and
 * <stddef.h>. Every operation is a real exported function, so the library
 * can be used through dlopen/dlsym (Python ctypes, Rust, Go, Node).
 *
 * Model
 * -----
 * A *segment* holds `slot_count` slots of `slot_capacity` bytes. The handle
 * that created it is the *owner* and the only writer. A writer reserves a
 * slot (a *loan*), writes the sample in place and commits it; the commit
 * assigns the next 64-bit sequence number. Every *reader* attached at commit
 * time takes each sample exactly once, in commit order, reads it in place
 * and releases it. A slot is reused only after every reader attached at its
 * commit released it, or after the owner evicted it.
 *
 * Since 0.2 a segment can be created with the ZFD_SEGMENT_OVERWRITE_OLDEST
 * policy (the writer never waits: with no free slot it reuses the oldest
 * committed sample no reader is holding; readers that had not taken it see a
 * gap) and with a `history` (the newest samples stay readable for readers
 * that attach later with ZFD_READER_HISTORY). zfd_take_latest gives a reader
 * the newest sample and counts everything older as read.
 *
 * Conventions
 * -----------
 * - Every fallible function returns int32_t: ZFD_OK (0) or a negative
 *   ZFD_E_* code. Numeric values are pinned forever; new codes are added
 *   at the end.
 * - Bad arguments (NULL handles, unknown flags, foreign or stale tokens,
 *   out-of-range indices) return an error code; nothing crashes and no
 *   exception crosses this boundary. The library prints nothing.
 * - Timeouts are int64_t nanoseconds; 0 means do not block and
 *   ZFD_WAIT_FOREVER (-1) means no limit.
 * - Threads: a segment handle may be used from any thread. A reader handle
 *   is used by one thread at a time.
 * - POINTERS INTO A SLOT ARE VALID ONLY IN THIS PROCESS, AND ONLY UNTIL THE
 *   LOAN IS COMMITTED/DISCARDED OR THE TAKEN SAMPLE IS RELEASED.
 */
#ifndef ZERODDS_FLATDATA_H
#define ZERODDS_FLATDATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ZFD_BUILDING_LIBRARY) && defined(__GNUC__)
#define ZFD_API __attribute__((visibility("default")))
#else
#define ZFD_API
#endif

/* ======================================================================
 * Version
 * ====================================================================== */

#define ZFD_VERSION_MAJOR 0
#define ZFD_VERSION_MINOR 2
#define ZFD_VERSION_PATCH 0
#define ZFD_VERSION_NUMBER (ZFD_VERSION_MAJOR * 10000 + ZFD_VERSION_MINOR * 100 + ZFD_VERSION_PATCH)

/**
 * Version of the loaded library as major*10000 + minor*100 + patch.
 * Compare with ZFD_VERSION_NUMBER to catch a header/library mismatch.
 * Thread-safe. Since: 0.1
 */
ZFD_API uint32_t zfd_version_number(void);

/**
 * Version of the loaded library as static text, for example "0.1.0".
 * Never NULL; owned by the library. Thread-safe. Since: 0.1
 */
ZFD_API const char *zfd_version_string(void);

/* ======================================================================
 * Status codes (values pinned forever)
 * ====================================================================== */

#define ZFD_OK                 0   /* success */
#define ZFD_E_INVAL          (-1)  /* bad argument: NULL, unknown flag, out of range */
#define ZFD_E_NOMEM          (-2)  /* out of memory */
#define ZFD_E_NO_FREE_SLOT   (-3)  /* every slot is loaned or still held by a reader */
#define ZFD_E_TOO_LARGE      (-4)  /* sample larger than the slot, or buffer too small */
#define ZFD_E_NOT_LOANED     (-5)  /* token already used, foreign, or never issued */
#define ZFD_E_NO_SAMPLE      (-6)  /* nothing unread */
#define ZFD_E_TIMEOUT        (-7)  /* the wait ran out */
#define ZFD_E_TYPE_MISMATCH  (-8)  /* segment type hash differs from the expected one */
#define ZFD_E_INCOMPATIBLE   (-9)  /* segment from another layout version or platform */
#define ZFD_E_CORRUPT        (-10) /* segment contents fail validation */
#define ZFD_E_EXISTS         (-11) /* a segment of that name exists */
#define ZFD_E_NOT_FOUND      (-12) /* no segment of that name */
#define ZFD_E_PERMISSION     (-13) /* not the owner, wrong uid/mode, or no access */
#define ZFD_E_NO_READER_SLOT (-14) /* all ZFD_MAX_READERS reader entries in use */
#define ZFD_E_EVICTED        (-15) /* the held slot was evicted or reused: data may be torn */
#define ZFD_E_UNSUPPORTED    (-16) /* operation not supported by this segment kind */
#define ZFD_E_PEER_GONE      (-17) /* the owner died or closed and nothing unread remains */
#define ZFD_E_SYSTEM         (-18) /* a system call failed; see zfd_error.sys_errno */
#define ZFD_E_INTERNAL       (-19) /* a bug in the library */
#define ZFD_E_DETACHED       (-20) /* the reader was disconnected or reaped by the owner */

/**
 * Static text for a status code. Never NULL, never allocates; an unknown code
 * gives a text containing "unknown status". Thread-safe. Since: 0.1
 */
ZFD_API const char *zfd_status_str(int32_t status);

/**
 * Optional detail for zfd_segment_create, zfd_segment_open and
 * zfd_segment_unlink. Caller-owned; set struct_size = sizeof(zfd_error)
 * before the call. On failure the library fills code, sys_errno and a
 * NUL-terminated message naming the failed check and the values seen;
 * on success code is ZFD_OK and message is empty. The library writes only
 * below min(struct_size, sizeof(zfd_error)) and never writes struct_size;
 * with struct_size below 13 (offsetof(message) + 1) nothing is written.
 */
typedef struct zfd_error {
    uint32_t struct_size; /* caller sets sizeof(zfd_error) */
    int32_t code;         /* same as the return value */
    int32_t sys_errno;    /* errno behind ZFD_E_SYSTEM/PERMISSION/..., else 0 */
    char message[256];    /* NUL-terminated */
} zfd_error;

/* ======================================================================
 * Types and constants
 * ====================================================================== */

typedef struct zfd_segment zfd_segment; /* opaque */
typedef struct zfd_reader zfd_reader;   /* opaque */

/** Token for a loan or a taken sample. It carries a generation, so a token
 *  that was already used, or that belongs to another segment or reader, is
 *  refused with ZFD_E_NOT_LOANED. */
typedef uint64_t zfd_slot;

#define ZFD_TYPE_HASH_SIZE 16
#define ZFD_MAX_READERS 64
#define ZFD_WAIT_FOREVER (-1)

/** zfd_segment_create flag: replace a same-named segment whose owner is dead.
 *  A segment whose owner lives is never replaced. */
#define ZFD_SEGMENT_REPLACE_STALE (1u << 0)

/** zfd_segment_create flag: this segment is a mirror of a segment on another
 *  host, written by a bridge (libzerodds_flatdata_dds). Readers use it like
 *  any segment; bridges never export a mirror again. With it, the options'
 *  mirror_of and origin describe the source. Reported in
 *  zfd_segment_info.flags. Since: 0.2 */
#define ZFD_SEGMENT_MIRROR (1u << 1)

/** zfd_segment_create flag: the writer never waits for readers. When no slot
 *  is free, zfd_reserve reuses the oldest committed sample that no reader is
 *  holding (taken and not yet released); readers that had not taken it lose
 *  it and see a gap in sequence numbers. A held sample is never overwritten:
 *  zfd_reserve fails (ZFD_E_NO_FREE_SLOT) only when every slot is loaned,
 *  held, or kept as history. Reported in zfd_segment_info.flags.
 *  Since: 0.2 */
#define ZFD_SEGMENT_OVERWRITE_OLDEST (1u << 2)

/** zfd_reader_open flag: first deliver the samples the segment retains as
 *  history (zfd_segment_options.history), oldest first with their original
 *  sequence numbers, then the live ones: exactly once, in order, with no gap
 *  between them. Without it a reader sees only what is committed after it
 *  attached. Since: 0.2 */
#define ZFD_READER_HISTORY (1u << 0)

/** Bytes of a segment instance id (zfd_segment_info.instance_id). */
#define ZFD_INSTANCE_ID_SIZE 16
/** Bytes of the origin text of a mirror, NUL included. */
#define ZFD_ORIGIN_SIZE 64

/** Options for zfd_segment_create. Fill with zfd_segment_options_init. */
typedef struct zfd_segment_options {
    uint32_t struct_size;   /* set by zfd_segment_options_init */
    uint32_t slot_count;    /* default 64; 0 is invalid */
    uint64_t slot_capacity; /* payload bytes per slot, default 1024; 0 is invalid */
    uint32_t mode;          /* permission bits of a named segment, default 0600 */
    uint32_t flags;         /* ZFD_SEGMENT_*; unknown bits -> ZFD_E_INVAL */
    uint32_t has_type_hash; /* 0 or 1 */
    uint8_t type_hash[ZFD_TYPE_HASH_SIZE];
    uint32_t reserved;      /* 0; makes the tail padding explicit so a later
                               version's new fields grow struct_size */
    /* Since 0.2 (a 0.1 caller's smaller struct_size means all zero): */
    uint32_t history;       /* newest committed samples kept readable after
                               every reader released them, for readers that
                               attach with ZFD_READER_HISTORY; default 0,
                               must be below slot_count */
    uint32_t reserved2;     /* 0 */
    uint8_t mirror_of[ZFD_INSTANCE_ID_SIZE]; /* ZFD_SEGMENT_MIRROR: the source's
                               instance id; must be all zero without it */
    char origin[ZFD_ORIGIN_SIZE]; /* ZFD_SEGMENT_MIRROR: where the source lives,
                               NUL-terminated text for tools (for example
                               "host-a pid 4711"); empty without it */
} zfd_segment_options;

/**
 * Fill *opts with defaults: 64 slots of 1024 bytes, mode 0600, no flags,
 * no type hash, struct_size = sizeof(zfd_segment_options). NULL is ignored.
 * Since: 0.1
 */
ZFD_API void zfd_segment_options_init(zfd_segment_options *opts);

/* ======================================================================
 * Segment lifecycle
 * ====================================================================== */

/**
 * Create a segment; the new handle is its owner and only writer.
 *
 * name:        NULL for an in-memory segment private to this process, or
 *              1..200 characters of [A-Za-z0-9._-] for a POSIX shared-memory
 *              segment, the object "zfd.<name>" (/dev/shm/zfd.<name>).
 * opts:        may be NULL (all defaults). Borrowed for the call.
 * out_segment: receives the handle; free it with zfd_segment_close.
 * out_err:     may be NULL; detail on failure.
 *
 * Returns ZFD_OK, ZFD_E_INVAL (bad name, struct_size, slot_count 0 or above
 * 2^24, slot_capacity 0, mode bits outside 0777, unknown flags,
 * has_type_hash not 0/1, history not below slot_count, reserved2 not 0,
 * mirror_of or origin set without ZFD_SEGMENT_MIRROR, origin not
 * NUL-terminated within ZFD_ORIGIN_SIZE bytes),
 * ZFD_E_NOMEM (the geometry does not fit in
 * memory or in 64-bit offsets, or the allocation failed),
 * ZFD_E_EXISTS (the name is taken; also when its owner is dead unless
 * ZFD_SEGMENT_REPLACE_STALE is given), ZFD_E_PERMISSION, ZFD_E_SYSTEM
 * (for example ENOSPC when /dev/shm is full).
 * Options of a 0.1 caller (struct_size 48) are accepted: the 0.2 fields
 * then count as zero.
 * Segments of this library (layout 3) and of 0.1 (layout 1) are different
 * on-memory formats: either library refuses the other's segment with
 * ZFD_E_INCOMPATIBLE, naming both layout versions in out_err.
 * Thread-safe. Since: 0.1 (ZFD_SEGMENT_MIRROR, ZFD_SEGMENT_OVERWRITE_OLDEST,
 * history, mirror_of, origin: 0.2)
 */
ZFD_API int32_t zfd_segment_create(const char *name, const zfd_segment_options *opts,
                                   zfd_segment **out_segment, zfd_error *out_err);

/**
 * Attach to an existing named segment as a consumer (readers only).
 *
 * expected_type_hash: 16 bytes, or NULL for no type check. flags: 0.
 * Everything in the segment is validated before any slot is touched:
 * object type, owner uid, mode, size, magic, layout version, geometry and
 * type hash. A segment of another layout version (one created by
 * zerodds-flatdata 0.1, for example) gives ZFD_E_INCOMPATIBLE. An owner still initialising is waited for a bounded time
 * (1 s): ZFD_E_TIMEOUT if it is alive but not done by then, ZFD_E_PEER_GONE
 * at once (after a 50 ms grace) if it died before finishing, or if the name
 * was replaced by a new segment while this call was opening it.
 *
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NOT_FOUND, ZFD_E_PERMISSION,
 * ZFD_E_INCOMPATIBLE, ZFD_E_CORRUPT, ZFD_E_TYPE_MISMATCH, ZFD_E_TIMEOUT,
 * ZFD_E_PEER_GONE, ZFD_E_NOMEM, ZFD_E_SYSTEM. Thread-safe. Since: 0.1
 */
ZFD_API int32_t zfd_segment_open(const char *name, const uint8_t *expected_type_hash, uint32_t flags,
                                 zfd_segment **out_segment, zfd_error *out_err);

/**
 * Close a segment handle. NULL is ignored. Claims taken through it are given
 * back. Readers opened from it keep the
 * mapping alive until they are closed too. Closing the owner handle unlinks
 * the name and tells readers in other processes the owner is gone (they get
 * ZFD_E_PEER_GONE once they have taken what remains); open loans are
 * discarded. Since: 0.1
 */
ZFD_API void zfd_segment_close(zfd_segment *segment);

/**
 * Remove the named segment's objects, even when they are corrupt or
 * truncated. Processes that have it mapped keep their mapping.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NOT_FOUND, ZFD_E_PERMISSION, ZFD_E_SYSTEM.
 * Since: 0.1
 */
ZFD_API int32_t zfd_segment_unlink(const char *name, zfd_error *out_err);

/** Description of a segment; see zfd_segment_get_info. */
typedef struct zfd_segment_info {
    uint32_t struct_size;   /* caller sets sizeof(zfd_segment_info) */
    uint32_t slot_count;
    uint64_t slot_capacity;
    uint64_t slot_stride;   /* bytes per slot incl. its header and padding */
    uint64_t total_size;    /* bytes of the whole region */
    uint64_t segment_id;
    uint32_t is_named;      /* 1 = POSIX shared memory, 0 = in-memory */
    uint32_t is_owner;      /* 1 = this handle may write */
    uint32_t has_type_hash;
    uint8_t type_hash[ZFD_TYPE_HASH_SIZE];
    uint64_t active_readers; /* bit i set = reader index i attached */
    int32_t owner_pid;
    uint32_t owner_alive;    /* 1 while the owning process lives */
    uint64_t next_sequence;  /* sequence number the next commit gets */
    /* Since 0.2 (written only when struct_size covers them): */
    uint8_t instance_id[ZFD_INSTANCE_ID_SIZE]; /* 128 random bits chosen at
                                creation: equal ids mean the same segment,
                                whoever opened it and under which name */
    uint32_t flags;          /* ZFD_SEGMENT_MIRROR, ZFD_SEGMENT_OVERWRITE_OLDEST
                                as created */
    uint32_t history;        /* the history option it was created with */
    uint8_t mirror_of[ZFD_INSTANCE_ID_SIZE]; /* mirror: the source's instance id */
    char origin[ZFD_ORIGIN_SIZE]; /* mirror: where the source lives; else "" */
} zfd_segment_info;

/**
 * Describe a segment. out_info->struct_size must be set by the caller: at
 * least the 0.1 size (96 bytes); fields beyond struct_size are not written,
 * so a 0.1 caller's struct stays intact. Returns ZFD_OK or ZFD_E_INVAL.
 * Thread-safe. Since: 0.1 (instance_id, flags, history, mirror_of, origin: 0.2)
 */
ZFD_API int32_t zfd_segment_get_info(const zfd_segment *segment, zfd_segment_info *out_info);

/** Number of claim roles (zfd_segment_claim). */
#define ZFD_CLAIM_ROLES 64
/** Claim role a DDS bridge takes while it exports a segment: one exporter
 *  per segment and host (libzerodds_flatdata_dds). */
#define ZFD_CLAIM_EXPORT 0

/**
 * Take exclusive claim `role` (0..ZFD_CLAIM_ROLES-1) on a named segment, for
 * processes that cooperate around it (for example so that only one bridge
 * on a host exports it). The claim is a kernel-released lock on the segment
 * object: it is held until zfd_segment_release_claim, zfd_segment_close of
 * this handle, or the death of the process. Any handle (owner or consumer)
 * may claim. Claiming a role this handle already holds succeeds.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL segment, role out of range),
 * ZFD_E_EXISTS (another handle or process holds it), ZFD_E_UNSUPPORTED
 * (in-memory segment). Thread-safe. Since: 0.2
 */
ZFD_API int32_t zfd_segment_claim(zfd_segment *segment, uint32_t role);

/**
 * Give back claim `role` taken through this handle.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NOT_FOUND (this handle does not hold
 * it). Thread-safe. Since: 0.2
 */
ZFD_API int32_t zfd_segment_release_claim(zfd_segment *segment, uint32_t role);

/* ======================================================================
 * Writer side: owner handle only (else ZFD_E_PERMISSION); any thread
 *
 * Calls from several threads are serialised by the segment. The first thread
 * that writes runs them without any locked instruction; once a second thread
 * calls a writer-side function (the eviction and liveness calls included),
 * every thread takes a lock private to the owner's process, for the rest of
 * the segment's life. Readers never wait on it.
 * ====================================================================== */

/**
 * Loan a free slot without blocking.
 * out_slot receives the token; out_data (may be NULL) receives a pointer to
 * slot_capacity writable bytes, 64-byte aligned, valid until the loan is
 * committed or discarded. Under ZFD_SEGMENT_OVERWRITE_OLDEST a slot no
 * reader holds is always found unless every slot is loaned, held or kept as
 * history.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_NO_FREE_SLOT.
 * Since: 0.1
 */
ZFD_API int32_t zfd_reserve(zfd_segment *segment, zfd_slot *out_slot, void **out_data);

/**
 * As zfd_reserve, but wait up to timeout_ns for a slot to free.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_TIMEOUT. Since: 0.1
 */
ZFD_API int32_t zfd_reserve_wait(zfd_segment *segment, int64_t timeout_ns, zfd_slot *out_slot,
                                 void **out_data);

/**
 * Pointer (and capacity) of a loaned slot. Both out-parameters may be NULL.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_NOT_LOANED. Since: 0.1
 */
ZFD_API int32_t zfd_slot_data(zfd_segment *segment, zfd_slot slot, void **out_data,
                              uint64_t *out_capacity);

/**
 * Publish a loan written in place: its first len bytes become the sample.
 * out_sequence (may be NULL) receives the sample's sequence number.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_NOT_LOANED,
 * ZFD_E_TOO_LARGE (len > slot_capacity; the loan stays open). Since: 0.1
 */
ZFD_API int32_t zfd_commit_in_place(zfd_segment *segment, zfd_slot slot, size_t len,
                                    uint64_t *out_sequence);

/**
 * Copy len bytes into the loaned slot and publish it. bytes may be NULL only
 * when len is 0. Codes as zfd_commit_in_place. Since: 0.1
 */
ZFD_API int32_t zfd_commit(zfd_segment *segment, zfd_slot slot, const void *bytes, size_t len,
                           uint64_t *out_sequence);

/**
 * As zfd_commit_in_place, under a sequence number the caller chooses: at
 * least the segment's next_sequence (zfd_segment_info). Numbers skipped
 * show to readers as a gap, exactly like evicted samples; later commits
 * continue from sequence + 1. For relays and mirrors that carry another
 * writer's numbering. Must not run concurrently with another commit of the
 * same segment (the check against next_sequence would race).
 * Returns ZFD_OK, ZFD_E_INVAL (NULL segment, or sequence below
 * next_sequence or UINT64_MAX: the loan stays open), ZFD_E_PERMISSION,
 * ZFD_E_NOT_LOANED, ZFD_E_TOO_LARGE (the loan stays open). Since: 0.2
 */
ZFD_API int32_t zfd_commit_with_sequence(zfd_segment *segment, zfd_slot slot, size_t len,
                                         uint64_t sequence);

/**
 * Give a loan back unpublished. Counts as freeing a slot (the notify
 * generation moves). Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION,
 * ZFD_E_NOT_LOANED. Since: 0.1
 */
ZFD_API int32_t zfd_discard(zfd_segment *segment, zfd_slot slot);

/**
 * Reserve, copy and commit in one call (never blocks).
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_NO_FREE_SLOT,
 * ZFD_E_TOO_LARGE. Since: 0.1
 */
ZFD_API int32_t zfd_publish(zfd_segment *segment, const void *bytes, size_t len,
                            uint64_t *out_sequence);

/* ======================================================================
 * Reader side: a reader handle is used by one thread at a time
 * ====================================================================== */

/**
 * Attach a reader to a segment (owner or consumer handle). The reader sees
 * samples committed after this call. flags: 0 or ZFD_READER_HISTORY (since
 * 0.2): first the samples the segment retains as history, then the live
 * ones; on a segment created without history it changes nothing. The reader
 * keeps the segment's mapping alive until zfd_reader_close.
 * Returns ZFD_OK, ZFD_E_INVAL (NULL, unknown flags), ZFD_E_NO_READER_SLOT,
 * ZFD_E_NOMEM, ZFD_E_PEER_GONE (the owner has closed), ZFD_E_SYSTEM.
 * Since: 0.1 (ZFD_READER_HISTORY: 0.2)
 */
ZFD_API int32_t zfd_reader_open(zfd_segment *segment, uint32_t flags, zfd_reader **out_reader);

/**
 * Detach and free a reader. NULL is ignored. Everything it still holds or
 * has not read is released. Closing a reader that the owner detached never
 * touches a newer reader on the same index. Since: 0.1
 */
ZFD_API void zfd_reader_close(zfd_reader *reader);

/** Index (0..ZFD_MAX_READERS-1) of a reader in its segment; UINT32_MAX for NULL. Since: 0.1 */
ZFD_API uint32_t zfd_reader_index(const zfd_reader *reader);

/**
 * Take the oldest unread sample, in place. out_slot receives a token to
 * release; out_data, out_len and out_sequence may be NULL. The data is
 * read-only and valid until zfd_release. Sequence numbers strictly increase;
 * a jump means samples were evicted before this reader took them.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NO_SAMPLE, ZFD_E_PEER_GONE,
 * ZFD_E_DETACHED. Since: 0.1
 */
ZFD_API int32_t zfd_take(zfd_reader *reader, zfd_slot *out_slot, const void **out_data,
                         size_t *out_len, uint64_t *out_sequence);

/**
 * Take the newest sample available to this reader, in place; every older
 * sample it had not taken yet counts as read (it is skipped, and its slot is
 * free as far as this reader is concerned). The keep-last-1 read: a reader
 * that only wants the current value calls this instead of zfd_take.
 * Parameters, ownership and codes as zfd_take: out_slot receives a token to
 * release; out_data, out_len and out_sequence may be NULL. Sequence numbers
 * still strictly increase across zfd_take and zfd_take_latest. O(1): it
 * does not walk the samples it skips.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NO_SAMPLE, ZFD_E_PEER_GONE,
 * ZFD_E_DETACHED. Since: 0.2
 */
ZFD_API int32_t zfd_take_latest(zfd_reader *reader, zfd_slot *out_slot, const void **out_data,
                                size_t *out_len, uint64_t *out_sequence);

/**
 * Release a taken sample. Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NOT_LOANED,
 * ZFD_E_DETACHED, or ZFD_E_EVICTED when the slot was evicted or reused while
 * held: the data read from it may be torn and must be discarded. Since: 0.1
 */
ZFD_API int32_t zfd_release(zfd_reader *reader, zfd_slot slot);

/**
 * Copy the oldest unread sample into buf and release it. Never returns torn
 * data: a sample overwritten during the copy is dropped and the next one is
 * tried. buf may be NULL only when capacity is 0. When buf is too small:
 * ZFD_E_TOO_LARGE, *out_len set to the sample size, sample not consumed.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_NO_SAMPLE, ZFD_E_TOO_LARGE,
 * ZFD_E_PEER_GONE, ZFD_E_DETACHED. Since: 0.1
 */
ZFD_API int32_t zfd_take_copy(zfd_reader *reader, void *buf, size_t capacity, size_t *out_len,
                              uint64_t *out_sequence);

/**
 * Wait until an unread sample exists: spin briefly (ZFD_SPIN_NS in the
 * environment, default 2000 ns), then sleep on a futex.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_TIMEOUT, ZFD_E_PEER_GONE,
 * ZFD_E_DETACHED. Since: 0.1
 */
ZFD_API int32_t zfd_reader_wait(zfd_reader *reader, int64_t timeout_ns);

/* ======================================================================
 * Notify generation
 * ====================================================================== */

/**
 * Counter that moves on every commit and every event that can free a slot:
 * a release (by any reader), a reader skipping samples, a discard, an
 * eviction, a reader leaving. It never moves on a reserve or a take.
 * 0 for a NULL segment. Thread-safe. Since: 0.1
 */
ZFD_API uint64_t zfd_notify_generation(const zfd_segment *segment);

/**
 * Wait until the notify generation differs from last_generation (returns at
 * once if it already does). Works across processes.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_TIMEOUT. Thread-safe. Since: 0.1
 */
ZFD_API int32_t zfd_wait_for_change(zfd_segment *segment, uint64_t last_generation,
                                    int64_t timeout_ns);

/* ======================================================================
 * Eviction and liveness: owner handle only
 * ====================================================================== */

/**
 * Force-free every committed slot committed at least max_age_ns ago that
 * some reader has not released, taken or not. A reader holding one gets
 * ZFD_E_EVICTED on release; a reader that had not taken it sees a gap in
 * sequence numbers. out_evicted (may be NULL) counts slots.
 * Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION. Since: 0.1
 */
ZFD_API int32_t zfd_evict_stale(zfd_segment *segment, int64_t max_age_ns, uint32_t *out_evicted);

/**
 * Detach reader reader_index and free every slot that waited on it. The
 * reader's handle then gets ZFD_E_DETACHED from every call but close.
 * Returns ZFD_OK, ZFD_E_INVAL (index >= ZFD_MAX_READERS), ZFD_E_PERMISSION,
 * ZFD_E_NOT_FOUND (no reader attached at that index). Since: 0.1
 */
ZFD_API int32_t zfd_mark_reader_disconnected(zfd_segment *segment, uint32_t reader_index);

/**
 * Detach every reader whose process died (judged by a kernel-released lock,
 * never by PID) and free what it held. out_reaped (may be NULL) counts
 * readers. Returns ZFD_OK, ZFD_E_INVAL, ZFD_E_PERMISSION. Since: 0.1
 */
ZFD_API int32_t zfd_reap_dead_readers(zfd_segment *segment, uint32_t *out_reaped);

/* ======================================================================
 * Event loops (since 0.2)
 *
 * A reader (and an owner waiting for space) can hand an event loop (epoll,
 * poll, select, libuv, asio, Python asyncio, tokio) a file descriptor to
 * watch instead of parking a thread in zfd_reader_wait. The descriptor is
 * only ever *watched* for readability: never read from, written to, or
 * closed by the caller, and never passed to another process.
 *
 * Cost: until a descriptor exists the data path is unchanged (no system
 * call on commit, take or release). A commit or release makes a system call
 * only while some descriptor is armed, i.e. waits for it; a take that finds
 * nothing on a reader that has a descriptor makes a few (it drains and arms
 * the descriptor).
 *
 * Mechanism, for those who look: the reader's descriptor is an epoll set
 * holding a datagram socket bound in the Linux abstract namespace (no file;
 * the name "@zfd/<instance id>/r<index>/<random>" disappears with the
 * process) and, for a segment owned by another process, a pidfd of the
 * owner. Writer and reader must share a network namespace.
 * ====================================================================== */

/**
 * A descriptor that polls readable when this reader has something to take:
 * a sample, or a terminal code (ZFD_E_PEER_GONE, ZFD_E_DETACHED).
 *
 * out_fd: receives the descriptor (-1 on failure). It is owned by the
 * reader handle: zfd_reader_close closes it; do not close it yourself. It is
 * O_CLOEXEC. Calling again returns the same descriptor.
 *
 * The contract: when the descriptor polls readable, call zfd_take (or
 * zfd_take_copy, zfd_take_latest) until it returns ZFD_E_NO_SAMPLE; from
 * then on the descriptor polls readable again as soon as a new sample is
 * committed. Nothing else needs to be called and no wake-up is lost: a take
 * that returns ZFD_E_NO_SAMPLE re-arms the descriptor and looks once more
 * before it returns. Readiness is level-triggered and may be spurious (a
 * take then returns ZFD_E_NO_SAMPLE, which re-arms it). After a terminal
 * code the descriptor stays readable until the reader is closed. If a
 * sample is already waiting when the descriptor is made, it is readable at
 * once. The owner's death makes it readable (the next takes return what
 * remains, then ZFD_E_PEER_GONE) when the owner is in this process's PID
 * namespace; otherwise the death is noticed by the next take.
 * Works for the owner's own readers and for in-memory segments too.
 *
 * Fork: a process forked from the one that opened the reader gets no
 * working wake-up for it: this call returns ZFD_E_UNSUPPORTED there, its
 * takes never arm or drain the parent's descriptor, and the inherited
 * descriptor number must not be watched by the child.
 *
 * Returns ZFD_OK, ZFD_E_INVAL (NULL reader or out_fd), ZFD_E_UNSUPPORTED
 * (called in a forked child), ZFD_E_NOMEM, ZFD_E_SYSTEM (no socket, epoll
 * set or abstract name could be made, e.g. the descriptor limit).
 * The reader's thread (a reader handle is used by one thread at a time).
 * Since: 0.2
 */
ZFD_API int32_t zfd_reader_fd(zfd_reader *reader, int *out_fd);

/**
 * For the owner: a descriptor that polls readable when a slot may be free,
 * for a writer under backpressure.
 *
 * out_fd: receives the descriptor (-1 on failure), owned by the segment
 * handle (zfd_segment_close closes it; do not close it yourself), O_CLOEXEC.
 * Calling again returns the same descriptor.
 *
 * The contract: it is readable when made. When zfd_reserve or zfd_publish
 * returns ZFD_E_NO_FREE_SLOT, that call has armed it (and looked once more):
 * it polls readable as soon as a slot is freed (a release, a reader
 * skipping or leaving, a discard, an eviction, a reap). Then reserve again;
 * readiness may be spurious. zfd_reserve_wait does not use it.
 *
 * Returns ZFD_OK, ZFD_E_INVAL (NULL segment or out_fd), ZFD_E_PERMISSION
 * (not the owner handle), ZFD_E_UNSUPPORTED (called in a process forked
 * from the owner's), ZFD_E_NOMEM, ZFD_E_SYSTEM. Thread-safe. Since: 0.2
 */
ZFD_API int32_t zfd_segment_fd(zfd_segment *segment, int *out_fd);

/* ======================================================================
 * Type identity
 * ====================================================================== */

/**
 * Hash a layout descriptor (bytes as given, not parsed) to 16 bytes with
 * XXH3-128, in canonical (big-endian) byte order. layout_descriptor is
 * required (even when len is 0); out_hash receives the 16 bytes.
 * Returns ZFD_OK or ZFD_E_INVAL. Thread-safe. Since: 0.1
 */
ZFD_API int32_t zfd_type_hash(const char *layout_descriptor, size_t len,
                              uint8_t out_hash[ZFD_TYPE_HASH_SIZE]);

#ifdef __cplusplus
}
#endif

#endif /* ZERODDS_FLATDATA_H */
