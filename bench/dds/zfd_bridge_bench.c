/*
 * zfd_bridge_bench.c — the zerodds-flatdata side of the cross-host benchmark
 * (bench/dds/bridge_bench.py): processes that write and read segments on two
 * hosts joined by `zfd bridge` on each. Public libzerodds_flatdata API only.
 *
 *   zfd_bridge_bench ping PING PONG SIZE SECONDS
 *       creates segment PING, reads segment PONG (the mirror of the pong
 *       side's segment); sends one sample (its first 8 bytes a counter),
 *       waits for the pong with that counter, and so on for SECONDS after the
 *       first round trip; prints one JSON line with every round trip (ns).
 *   zfd_bridge_bench pong PING PONG SIZE
 *       reads segment PING (a mirror), answers every sample on segment PONG
 *       with the same first 8 bytes; ends when PING's writer is gone.
 *   zfd_bridge_bench pub NAME SIZE SECONDS
 *       writes samples of SIZE bytes (8-byte counter) as fast as the segment
 *       takes them (blocking when full: backpressure) for SECONDS.
 *   zfd_bridge_bench sub NAME SIZE SECONDS
 *       counts the samples arriving in NAME for SECONDS after the first one;
 *       prints one JSON line with the count per 100 ms.
 *
 * Waiting is zfd_reader_wait / zfd_reserve_wait (a short spin, then a futex
 * sleep), as ddsperf's readers wait on a condition: both sides block.
 * SPDX-License-Identifier: Apache-2.0
 */
#define _POSIX_C_SOURCE 200809L
#include <zerodds/flatdata.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000LL
#define SEC 1000000000LL

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void nap(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / SEC);
    ts.tv_nsec = (long)(ns % SEC);
    nanosleep(&ts, NULL);
}

static zfd_segment *create(const char *name, size_t size, uint32_t slots) {
    zfd_segment_options o;
    zfd_segment *s = NULL;
    zfd_error err;
    zfd_segment_options_init(&o);
    o.slot_count = slots;
    o.slot_capacity = size;
    o.flags = ZFD_SEGMENT_REPLACE_STALE;
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    if (zfd_segment_create(name, &o, &s, &err) != ZFD_OK) {
        fprintf(stderr, "zfd_bridge_bench: create %s: %s\n", name, err.message);
        exit(1);
    }
    return s;
}

/* Opens NAME once it exists (a mirror appears when the bridges have met). */
static zfd_segment *open_when_there(const char *name, int64_t timeout_ns, zfd_reader **rd) {
    const int64_t end = now_ns() + timeout_ns;
    for (;;) {
        zfd_segment *s = NULL;
        if (zfd_segment_open(name, NULL, 0, &s, NULL) == ZFD_OK) {
            if (zfd_reader_open(s, 0, rd) == ZFD_OK) return s;
            zfd_segment_close(s);
        }
        if (now_ns() > end) {
            fprintf(stderr, "zfd_bridge_bench: %s did not appear\n", name);
            exit(1);
        }
        nap(5 * MS);
    }
}

static void send_counter(zfd_segment *s, size_t size, uint64_t counter) {
    zfd_slot slot;
    void *data;
    while (zfd_reserve_wait(s, 100 * MS, &slot, &data) == ZFD_E_TIMEOUT) zfd_reap_dead_readers(s, NULL);
    memcpy(data, &counter, 8);
    zfd_commit_in_place(s, slot, size, NULL);
}

/* Waits for a sample whose counter is `want`; 0 on success, -1 on timeout or end. */
static int await_counter(zfd_reader *rd, uint64_t want, int64_t timeout_ns) {
    const int64_t end = now_ns() + timeout_ns;
    for (;;) {
        zfd_slot slot;
        const void *data;
        size_t len;
        uint64_t got = ~0ull;
        int32_t rc = zfd_take(rd, &slot, &data, &len, NULL);
        if (rc == ZFD_OK) {
            if (len >= 8) memcpy(&got, data, 8);
            zfd_release(rd, slot);
            if (got == want) return 0;
            continue;
        }
        if (rc != ZFD_E_NO_SAMPLE) return -1;
        if (now_ns() > end) return -1;
        rc = zfd_reader_wait(rd, 50 * MS);
        if (rc != ZFD_OK && rc != ZFD_E_TIMEOUT) return -1;
    }
}

static int do_ping(const char *ping, const char *pong, size_t size, double seconds) {
    zfd_segment *out = create(ping, size, 16);
    zfd_reader *rd = NULL;
    zfd_segment *in = open_when_there(pong, 60 * SEC, &rd);
    uint64_t counter = 1;
    size_t n = 0, cap = 1 << 20;
    int64_t *rtt = malloc(cap * sizeof *rtt);
    int64_t end;
    size_t i;
    /* Until the first pong returns the path is not complete (the pong side
       may not have attached yet): resend every 50 ms. */
    for (;;) {
        send_counter(out, size, counter);
        if (await_counter(rd, counter, 50 * MS) == 0) break;
        if (++counter > 1200) {
            fprintf(stderr, "zfd_bridge_bench ping: no pong within 60 s\n");
            return 1;
        }
    }
    end = now_ns() + (int64_t)(seconds * SEC);
    while (now_ns() < end && n < cap) {
        const int64_t t0 = now_ns();
        ++counter;
        send_counter(out, size, counter);
        if (await_counter(rd, counter, 5 * SEC) != 0) {
            fprintf(stderr, "zfd_bridge_bench ping: pong %" PRIu64 " lost\n", counter);
            return 1;
        }
        rtt[n++] = now_ns() - t0;
    }
    printf("{\"round_trips_ns\": [");
    for (i = 0; i < n; ++i) printf(i ? ",%" PRId64 : "%" PRId64, rtt[i]);
    printf("]}\n");
    fflush(stdout);
    zfd_reader_close(rd);
    zfd_segment_close(in);
    zfd_segment_close(out);  /* the pong side sees PEER_GONE and ends */
    free(rtt);
    return 0;
}

static int do_pong(const char *ping, const char *pong, size_t size) {
    zfd_segment *out = create(pong, size, 16);
    zfd_reader *rd = NULL;
    zfd_segment *in = open_when_there(ping, 60 * SEC, &rd);
    for (;;) {
        zfd_slot slot;
        const void *data;
        size_t len;
        uint64_t counter = 0;
        int32_t rc = zfd_take(rd, &slot, &data, &len, NULL);
        if (rc == ZFD_E_NO_SAMPLE) {
            rc = zfd_reader_wait(rd, 100 * MS);
            if (rc == ZFD_OK || rc == ZFD_E_TIMEOUT) continue;
        }
        if (rc != ZFD_OK) break; /* PEER_GONE: the ping side is done */
        if (len >= 8) memcpy(&counter, data, 8);
        zfd_release(rd, slot);
        send_counter(out, size, counter);
    }
    zfd_reader_close(rd);
    zfd_segment_close(in);
    zfd_segment_close(out);
    return 0;
}

static int do_pub(const char *name, size_t size, double seconds) {
    zfd_segment *s = create(name, size, 256);
    uint64_t counter = 0;
    int64_t end = 0;
    zfd_segment_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    /* Start once the exporting bridge is attached. */
    while (zfd_segment_get_info(s, &info) == ZFD_OK && info.active_readers == 0) nap(MS);
    end = now_ns() + (int64_t)(seconds * SEC);
    while (now_ns() < end) {
        int k;
        for (k = 0; k < 64; ++k) send_counter(s, size, counter++);
    }
    printf("{\"written\": %" PRIu64 "}\n", counter);
    fflush(stdout);
    zfd_segment_close(s);
    return 0;
}

static int do_sub(const char *name, double seconds) {
    zfd_reader *rd = NULL;
    zfd_segment *s = open_when_there(name, 60 * SEC, &rd);
    const int buckets = (int)(seconds * 10) + 1;
    uint64_t *count = calloc((size_t)buckets, sizeof *count);
    int64_t start = 0;
    int i;
    for (;;) {
        zfd_slot slot;
        const void *data;
        size_t len;
        int32_t rc = zfd_take(rd, &slot, &data, &len, NULL);
        if (rc == ZFD_OK) {
            volatile uint64_t first8;
            int64_t t;
            memcpy((void *)&first8, data, 8);
            zfd_release(rd, slot);
            t = now_ns();
            if (start == 0) start = t;
            if (t - start >= (int64_t)(seconds * SEC)) break;
            count[(t - start) / (100 * MS)]++;
            continue;
        }
        if (rc != ZFD_E_NO_SAMPLE) break;
        if (start != 0 && now_ns() - start >= (int64_t)(seconds * SEC)) break;
        rc = zfd_reader_wait(rd, 100 * MS);
        if (rc != ZFD_OK && rc != ZFD_E_TIMEOUT) break;
    }
    printf("{\"per_100ms\": [");
    for (i = 0; i < buckets; ++i) printf(i ? ",%" PRIu64 : "%" PRIu64, count[i]);
    printf("]}\n");
    fflush(stdout);
    zfd_reader_close(rd);
    zfd_segment_close(s);
    free(count);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "ping") == 0)
        return do_ping(argv[2], argv[3], (size_t)atol(argv[4]), atof(argv[5]));
    if (argc == 5 && strcmp(argv[1], "pong") == 0)
        return do_pong(argv[2], argv[3], (size_t)atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "pub") == 0)
        return do_pub(argv[2], (size_t)atol(argv[3]), atof(argv[4]));
    if (argc == 5 && strcmp(argv[1], "sub") == 0) return do_sub(argv[2], atof(argv[4]));
    fprintf(stderr,
            "usage: %s ping PING PONG SIZE SECONDS | pong PING PONG SIZE | pub NAME SIZE SECONDS | "
            "sub NAME SIZE SECONDS\n",
            argv[0]);
    return 2;
}
