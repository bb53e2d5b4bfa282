/* zfd-example-pub NAME COUNT: publish COUNT example_samples on segment NAME.
 *
 * Creates the segment, waits for a subscriber to attach, writes each sample
 * in place in a loaned slot and commits it, waits until the subscriber has
 * released everything, and closes (which removes the segment).
 * SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <zerodds/flatdata.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "example_sample.h"

#define SLOT_COUNT 8
#define NS_PER_S 1000000000LL

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Poll the segment info until a reader is attached. A reader only sees
 * samples committed after it attached, so publishing earlier would lose them. */
static int wait_for_reader(zfd_segment *seg, int64_t timeout_ns)
{
    const int64_t deadline = now_ns() + timeout_ns;
    zfd_segment_info info;
    info.struct_size = sizeof info;
    while (zfd_segment_get_info(seg, &info) == ZFD_OK && info.active_readers == 0) {
        if (now_ns() > deadline)
            return ZFD_E_TIMEOUT;
        sleep_ms(1);
    }
    return ZFD_OK;
}

/* A slot is free again only after every reader attached at its commit has
 * released it, so once all SLOT_COUNT slots can be loaned, nothing is pending. */
static int wait_until_consumed(zfd_segment *seg, int64_t timeout_ns)
{
    const int64_t deadline = now_ns() + timeout_ns;
    zfd_slot loans[SLOT_COUNT];
    int n, rc = ZFD_OK;
    for (n = 0; n < SLOT_COUNT; ++n) {
        int64_t left = deadline - now_ns();
        rc = zfd_reserve_wait(seg, left > 0 ? left : 0, &loans[n], NULL);
        if (rc != ZFD_OK)
            break;
    }
    while (n > 0)
        zfd_discard(seg, loans[--n]); /* give the loans back unpublished */
    return rc;
}

int main(int argc, char **argv)
{
    zfd_segment_options opts;
    zfd_error err;
    zfd_segment *seg = NULL;
    unsigned long count, i;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s NAME COUNT\n", argv[0]);
        return 2;
    }
    count = strtoul(argv[2], NULL, 10);

    zfd_segment_options_init(&opts);
    opts.slot_count = SLOT_COUNT;
    opts.slot_capacity = sizeof(example_sample);
    opts.flags = ZFD_SEGMENT_REPLACE_STALE; /* take over the name after a crashed run */
    opts.has_type_hash = 1;
    zfd_type_hash(EXAMPLE_SAMPLE_LAYOUT, strlen(EXAMPLE_SAMPLE_LAYOUT), opts.type_hash);

    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    rc = zfd_segment_create(argv[1], &opts, &seg, &err);
    if (rc != ZFD_OK) {
        fprintf(stderr, "zfd_segment_create(%s): %s: %s\n", argv[1], zfd_status_str(rc), err.message);
        return 1;
    }

    rc = wait_for_reader(seg, 10 * NS_PER_S);
    for (i = 0; rc == ZFD_OK && i < count; ++i) {
        zfd_slot slot;
        void *data;
        example_sample *s;

        /* Loan a slot; blocks while the subscriber still holds every slot. */
        rc = zfd_reserve_wait(seg, 5 * NS_PER_S, &slot, &data);
        if (rc != ZFD_OK)
            break;
        s = (example_sample *)data; /* 64-byte aligned, slot_capacity bytes */
        memset(s, 0, sizeof *s);
        s->index = i;
        s->value = (double)i * 0.5;
        snprintf(s->text, sizeof s->text, "sample %lu", i);
        rc = zfd_commit_in_place(seg, slot, sizeof *s, NULL); /* now visible to readers */
    }
    if (rc == ZFD_OK)
        rc = wait_until_consumed(seg, 10 * NS_PER_S);
    if (rc != ZFD_OK)
        fprintf(stderr, "publisher: %s after %lu of %lu samples\n", zfd_status_str(rc), i, count);

    zfd_segment_close(seg); /* unlinks; subscribers then get ZFD_E_PEER_GONE */
    return rc == ZFD_OK ? 0 : 1;
}
