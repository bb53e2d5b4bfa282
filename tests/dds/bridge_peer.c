/*
 * bridge_peer.c — the writer and reader processes of the cross-host tests.
 * Public API of libzerodds_flatdata only; samples are those of payload.h.
 *
 *   bridge_peer write NAME SIZE COUNT [--rate HZ] [--slots N] [--type LABEL]
 *                     [--go] [--linger MS]
 *       creates segment NAME (ZFD_SEGMENT_REPLACE_STALE), prints
 *       "ready <instance id>", with --go waits for a line on stdin, then
 *       commits COUNT samples of SIZE bytes (index = sequence number), paced
 *       at HZ if given; a reserve that waits reaps dead readers every 10 ms.
 *       Ends with a JSON line: written, the longest wait for a slot.
 *   bridge_peer read NAME COUNT [--follow] [--timeout MS] [--type LABEL] [--delay-us N]
 *       opens NAME when it appears, prints "attached <instance id> <flags>",
 *       takes samples and checks each (payload intact, index == sequence,
 *       sequence increasing); --follow re-attaches after ZFD_E_PEER_GONE to
 *       the next segment of that name. Ends after COUNT samples, or when
 *       nothing arrives for MS (default 30000), with a JSON line of counts.
 *       --delay-us sleeps that long after each sample (a slow reader).
 *       Exit 0 when COUNT samples arrived and none was bad; 4 when opening
 *       was refused for the type (ZFD_E_TYPE_MISMATCH).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <zerodds/flatdata.h>

#include "payload.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000LL

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap_ms(int64_t ms) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms % 1000) * MS);
    nanosleep(&ts, NULL);
}

static void print_id(const char *what, const zfd_segment_info *info) {
    int i;
    printf("%s ", what);
    for (i = 0; i < ZFD_INSTANCE_ID_SIZE; ++i) printf("%02x", info->instance_id[i]);
    printf(" %u\n", (unsigned)info->flags);
    fflush(stdout);
}

static const char *opt_value(int argc, char **argv, const char *name) {
    int i;
    for (i = 1; i + 1 < argc; ++i)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

static int opt_flag(int argc, char **argv, const char *name) {
    int i;
    for (i = 1; i < argc; ++i)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

static int type_hash_of(const char *label, uint8_t out[ZFD_TYPE_HASH_SIZE]) {
    return zfd_type_hash(label, strlen(label), out) == ZFD_OK;
}

static int do_write(const char *name, size_t size, uint64_t count, int argc, char **argv) {
    const char *rate_s = opt_value(argc, argv, "--rate");
    const char *slots_s = opt_value(argc, argv, "--slots");
    const char *type_s = opt_value(argc, argv, "--type");
    const char *linger_s = opt_value(argc, argv, "--linger");
    const double rate = rate_s ? atof(rate_s) : 0.0;
    zfd_segment_options opts;
    zfd_segment_info info;
    zfd_segment *seg = NULL;
    zfd_error err;
    uint64_t i, reaped_total = 0;
    int64_t max_block = 0, start, next;
    int32_t rc;

    zfd_segment_options_init(&opts);
    opts.slot_count = slots_s ? (uint32_t)atoi(slots_s) : 64;
    opts.slot_capacity = size;
    opts.flags = ZFD_SEGMENT_REPLACE_STALE;
    if (type_s != NULL) {
        opts.has_type_hash = 1;
        if (!type_hash_of(type_s, opts.type_hash)) return 2;
    }
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    rc = zfd_segment_create(name, &opts, &seg, &err);
    if (rc != ZFD_OK) {
        fprintf(stderr, "bridge_peer write: create %s: %s\n", name, err.message);
        return 1;
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    zfd_segment_get_info(seg, &info);
    print_id("ready", &info);
    if (opt_flag(argc, argv, "--go")) {
        char line[64];
        if (fgets(line, sizeof line, stdin) == NULL) {
            zfd_segment_close(seg);
            return 1;
        }
    }
    start = next = now_ns();
    for (i = 0; i < count && !g_stop; ++i) {
        zfd_slot slot;
        void *data;
        uint64_t seq = 0;
        const int64_t t0 = now_ns();
        for (;;) {
            rc = zfd_reserve_wait(seg, 10 * MS, &slot, &data);
            if (rc != ZFD_E_TIMEOUT || g_stop) break;
            {
                uint32_t reaped = 0;
                zfd_reap_dead_readers(seg, &reaped);
                reaped_total += reaped;
            }
        }
        if (rc != ZFD_OK) break;
        if (now_ns() - t0 > max_block) max_block = now_ns() - t0;
        payload_make(data, size, i);
        rc = zfd_commit_in_place(seg, slot, size, &seq);
        if (rc != ZFD_OK || seq != i) {
            fprintf(stderr, "bridge_peer write: commit %" PRIu64 " gave %d, sequence %" PRIu64 "\n",
                    i, (int)rc, seq);
            break;
        }
        if (rate > 0) {
            struct timespec ts;
            next += (int64_t)(1e9 / rate);
            ts.tv_sec = (time_t)(next / 1000000000LL);
            ts.tv_nsec = (long)(next % 1000000000LL);
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
    }
    printf("{\"written\": %" PRIu64 ", \"max_block_ms\": %.3f, \"reaped\": %" PRIu64
           ", \"seconds\": %.3f}\n",
           i, (double)max_block / 1e6, reaped_total, (double)(now_ns() - start) / 1e9);
    fflush(stdout);
    if (linger_s != NULL && !g_stop) nap_ms(atoi(linger_s));
    zfd_segment_close(seg);
    return i == count ? 0 : 1;
}

struct counts {
    uint64_t received, gaps, gap_events, corrupt, dup, mismatch, peer_gone, attachments;
    uint64_t first_seq, last_seq;
    int have_last, timed_out;
};

static int do_read(const char *name, uint64_t count, int argc, char **argv) {
    const char *timeout_s = opt_value(argc, argv, "--timeout");
    const char *type_s = opt_value(argc, argv, "--type");
    const int follow = opt_flag(argc, argv, "--follow");
    const char *delay_s = opt_value(argc, argv, "--delay-us");
    const int64_t delay = delay_s ? atoll(delay_s) * 1000 : 0; /* a slow reader */
    const int64_t timeout = (timeout_s ? atoll(timeout_s) : 30000) * MS;
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    struct counts c;
    uint8_t last_instance[ZFD_INSTANCE_ID_SIZE];
    int have_instance = 0, result;
    int64_t idle_since = now_ns();

    memset(&c, 0, sizeof c);
    if (type_s != NULL && !type_hash_of(type_s, hash)) return 2;
    while (!g_stop && c.received < count && !c.timed_out) {
        zfd_segment *seg = NULL;
        zfd_reader *rd = NULL;
        zfd_segment_info info;
        int32_t rc = zfd_segment_open(name, type_s ? hash : NULL, 0, &seg, NULL);
        if (rc == ZFD_E_TYPE_MISMATCH) {
            printf("{\"error\": \"TYPE_MISMATCH\"}\n");
            return 4;
        }
        if (rc == ZFD_OK) {
            memset(&info, 0, sizeof info);
            info.struct_size = sizeof info;
            zfd_segment_get_info(seg, &info);
            /* A gone owner's segment, or the one we read already: wait. */
            if (!info.owner_alive ||
                (have_instance && memcmp(info.instance_id, last_instance, sizeof last_instance) == 0)) {
                zfd_segment_close(seg);
                rc = ZFD_E_NOT_FOUND;
            }
        }
        if (rc != ZFD_OK) {
            if (now_ns() - idle_since > timeout) c.timed_out = 1;
            nap_ms(5);
            continue;
        }
        if (zfd_reader_open(seg, 0, &rd) != ZFD_OK) {
            zfd_segment_close(seg);
            nap_ms(5);
            continue;
        }
        memcpy(last_instance, info.instance_id, sizeof last_instance);
        have_instance = 1;
        c.attachments++;
        c.have_last = 0; /* a new segment numbers from wherever its writer is */
        print_id("attached", &info);
        idle_since = now_ns();
        while (!g_stop && c.received < count) {
            zfd_slot slot;
            const void *data;
            size_t len;
            uint64_t seq = 0, index = 0;
            rc = zfd_take(rd, &slot, &data, &len, &seq);
            if (rc == ZFD_E_NO_SAMPLE) {
                rc = zfd_reader_wait(rd, 100 * MS);
                if (rc == ZFD_E_TIMEOUT) {
                    if (now_ns() - idle_since > timeout) {
                        c.timed_out = 1;
                        break;
                    }
                    continue;
                }
                if (rc == ZFD_OK) continue;
            }
            if (rc == ZFD_E_PEER_GONE) {
                c.peer_gone++;
                break;
            }
            if (rc != ZFD_OK) {
                fprintf(stderr, "bridge_peer read: take: %s\n", zfd_status_str(rc));
                c.corrupt++;
                break;
            }
            idle_since = now_ns();
            if (!payload_check(data, len, &index)) {
                c.corrupt++;
            } else if (index != seq) {
                c.mismatch++;
            } else if (c.have_last && seq <= c.last_seq) {
                c.dup++;
            } else {
                if (c.have_last && seq > c.last_seq + 1) {
                    c.gaps += seq - c.last_seq - 1;
                    c.gap_events++;
                }
                if (c.received == 0) c.first_seq = seq;
                c.last_seq = seq;
                c.have_last = 1;
                c.received++;
            }
            if (zfd_release(rd, slot) != ZFD_OK) c.corrupt++;
            if (delay > 0) {
                struct timespec ts;
                ts.tv_sec = (time_t)(delay / 1000000000LL);
                ts.tv_nsec = (long)(delay % 1000000000LL);
                nanosleep(&ts, NULL);
            }
        }
        zfd_reader_close(rd);
        zfd_segment_close(seg);
        if (!follow) break;
    }
    result = c.received == count && c.corrupt == 0 && c.dup == 0 && c.mismatch == 0;
    printf("{\"received\": %" PRIu64 ", \"gaps\": %" PRIu64 ", \"gap_events\": %" PRIu64
           ", \"corrupt\": %" PRIu64 ", \"dup\": %" PRIu64 ", \"index_mismatch\": %" PRIu64
           ", \"peer_gone\": %" PRIu64 ", \"attachments\": %" PRIu64 ", \"first_seq\": %" PRIu64
           ", \"last_seq\": %" PRIu64 ", \"timed_out\": %s, \"ok\": %s}\n",
           c.received, c.gaps, c.gap_events, c.corrupt, c.dup, c.mismatch, c.peer_gone,
           c.attachments, c.first_seq, c.last_seq, c.timed_out ? "true" : "false",
           result ? "true" : "false");
    fflush(stdout);
    return result ? 0 : 1;
}

int main(int argc, char **argv) {
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (argc >= 5 && strcmp(argv[1], "write") == 0) {
        const size_t size = (size_t)strtoull(argv[3], NULL, 10);
        if (size < PAYLOAD_MIN) return 2;
        return do_write(argv[2], size, strtoull(argv[4], NULL, 10), argc, argv);
    }
    if (argc >= 4 && strcmp(argv[1], "read") == 0) {
        return do_read(argv[2], strtoull(argv[3], NULL, 10), argc, argv);
    }
    fprintf(stderr,
            "usage: %s write NAME SIZE COUNT [--rate HZ] [--slots N] [--type LABEL] [--go] [--linger MS]\n"
            "       %s read NAME COUNT [--follow] [--timeout MS] [--type LABEL] [--delay-us N]\n",
            argv[0], argv[0]);
    return 2;
}
