/* zfd-example-sub NAME COUNT: print COUNT example_samples from segment NAME.
 *
 * Waits for the publisher to create the segment, attaches a reader, and reads
 * each sample in place until COUNT arrived or the publisher is gone.
 * Exit status 0 when all COUNT samples arrived.
 * SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <zerodds/flatdata.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "example_sample.h"

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

int main(int argc, char **argv)
{
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    zfd_error err;
    zfd_segment *seg = NULL;
    zfd_reader *reader = NULL;
    unsigned long count, received = 0;
    int64_t deadline;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s NAME COUNT\n", argv[0]);
        return 2;
    }
    count = strtoul(argv[2], NULL, 10);
    zfd_type_hash(EXAMPLE_SAMPLE_LAYOUT, strlen(EXAMPLE_SAMPLE_LAYOUT), hash);

    /* The publisher may not have created the segment yet (NOT_FOUND) or may
     * still be initialising it (TIMEOUT): retry for up to 10 s. */
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    deadline = now_ns() + 10 * NS_PER_S;
    while ((rc = zfd_segment_open(argv[1], hash, 0, &seg, &err)) != ZFD_OK) {
        if ((rc != ZFD_E_NOT_FOUND && rc != ZFD_E_TIMEOUT) || now_ns() > deadline) {
            fprintf(stderr, "zfd_segment_open(%s): %s: %s\n", argv[1], zfd_status_str(rc), err.message);
            return 1;
        }
        sleep_ms(10);
    }

    rc = zfd_reader_open(seg, 0, &reader); /* sees samples committed from now on */
    while (rc == ZFD_OK && received < count) {
        zfd_slot slot;
        const void *data;
        size_t len;
        uint64_t seq;
        const example_sample *s;

        /* Sleep until a sample is there (the publisher's commit wakes us). */
        rc = zfd_reader_wait(reader, 5 * NS_PER_S);
        if (rc == ZFD_OK)
            rc = zfd_take(reader, &slot, &data, &len, &seq);
        if (rc != ZFD_OK)
            break; /* ZFD_E_PEER_GONE: publisher closed and nothing is left */

        s = (const example_sample *)data; /* read in place: no copy */
        if (len == sizeof *s)
            printf("seq %" PRIu64 ": index %" PRIu64 " value %.1f text \"%.*s\"\n", seq, s->index,
                   s->value, (int)sizeof s->text, s->text);
        else
            printf("seq %" PRIu64 ": unexpected size %lu\n", seq, (unsigned long)len);

        /* Give the slot back. ZFD_E_EVICTED would mean the publisher took it
         * back while we read: what we printed may be torn. */
        rc = zfd_release(reader, slot);
        ++received;
    }
    if (rc != ZFD_OK)
        fprintf(stderr, "subscriber: %s\n", zfd_status_str(rc));
    printf("received %lu of %lu\n", received, count);

    zfd_reader_close(reader);
    zfd_segment_close(seg);
    return received == count && rc == ZFD_OK ? 0 : 1;
}
