/* zfd-example-loop COUNT NAME...: one epoll loop serving up to three
 * segments, a timer and stdin.
 *
 * Real programs wait in one event loop for everything at once. Each reader
 * hands the loop a descriptor (zfd_reader_fd) that polls readable when a
 * sample is waiting; the rule is simply: when it is readable, take until
 * ZFD_E_NO_SAMPLE. The loop also serves a timerfd (a status line every 50 ms)
 * and stdin (each line is echoed). It ends when every publisher is gone
 * (ZFD_E_PEER_GONE after its last sample) and stdin is closed.
 * Exit status 0 when COUNT samples arrived from each segment, in order.
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* epoll, timerfd */

#include <zerodds/flatdata.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "example_sample.h"

#define MAX_SEGMENTS 3
#define NS_PER_S 1000000000LL
#define TAG_TIMER 100
#define TAG_STDIN 101

struct topic {
    const char *name;
    zfd_segment *seg;
    zfd_reader *reader;
    int fd;
    unsigned long received, out_of_order;
    int gone;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* The publisher may not have created its segment yet: retry for 10 s. */
static int open_topic(struct topic *t, const uint8_t *hash)
{
    const int64_t deadline = now_ns() + 10 * NS_PER_S;
    struct timespec ms = {0, 1000000L};
    int rc;
    while ((rc = zfd_segment_open(t->name, hash, 0, &t->seg, NULL)) != ZFD_OK) {
        if ((rc != ZFD_E_NOT_FOUND && rc != ZFD_E_TIMEOUT) || now_ns() > deadline)
            return rc;
        nanosleep(&ms, NULL);
    }
    if ((rc = zfd_reader_open(t->seg, 0, &t->reader)) != ZFD_OK)
        return rc;
    return zfd_reader_fd(t->reader, &t->fd); /* owned by the reader: never close it */
}

/* The descriptor said readable: take until there is nothing (which re-arms
 * it). Returns the code that ended the run: ZFD_E_NO_SAMPLE normally,
 * ZFD_E_PEER_GONE when the publisher has closed and everything is read. */
static int serve(struct topic *t)
{
    for (;;) {
        zfd_slot slot;
        const void *data;
        size_t len;
        int rc = zfd_take(t->reader, &slot, &data, &len, NULL);
        if (rc != ZFD_OK)
            return rc;
        if (len == sizeof(example_sample)) {
            const example_sample *s = (const example_sample *)data; /* in place */
            if (s->index != t->received)
                t->out_of_order++;
        }
        t->received++;
        zfd_release(t->reader, slot);
    }
}

int main(int argc, char **argv)
{
    struct topic topics[MAX_SEGMENTS];
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    struct itimerspec every = {{0, 50000000L}, {0, 50000000L}}; /* 50 ms */
    unsigned long count, ticks = 0;
    char line[256];
    size_t line_len = 0;
    int n, i, ep, tfd, open_sources, stdin_open = 1, ok = 1;

    if (argc < 3 || argc - 2 > MAX_SEGMENTS) {
        fprintf(stderr, "usage: %s COUNT NAME [NAME [NAME]]\n", argv[0]);
        return 2;
    }
    count = strtoul(argv[1], NULL, 10);
    n = argc - 2;
    zfd_type_hash(EXAMPLE_SAMPLE_LAYOUT, strlen(EXAMPLE_SAMPLE_LAYOUT), hash);

    ep = epoll_create1(EPOLL_CLOEXEC);
    for (i = 0; i < n; ++i) {
        struct epoll_event ev;
        int rc;
        memset(&topics[i], 0, sizeof topics[i]);
        topics[i].name = argv[2 + i];
        if ((rc = open_topic(&topics[i], hash)) != ZFD_OK) {
            fprintf(stderr, "%s: %s\n", topics[i].name, zfd_status_str(rc));
            return 1;
        }
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, topics[i].fd, &ev);
    }
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    timerfd_settime(tfd, 0, &every, NULL);
    {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.u32 = TAG_TIMER;
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
        ev.data.u32 = TAG_STDIN;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0)
            stdin_open = 0; /* a regular file or /dev/null cannot be watched */
    }
    open_sources = n + stdin_open;

    while (open_sources > 0) {
        struct epoll_event evs[8];
        int k, got = epoll_wait(ep, evs, 8, 10000);
        if (got <= 0) {
            fprintf(stderr, "nothing for 10 s\n");
            ok = 0;
            break;
        }
        for (k = 0; k < got; ++k) {
            const uint32_t tag = evs[k].data.u32;
            if (tag == TAG_TIMER) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) == (ssize_t)sizeof expirations)
                    ticks += expirations;
            } else if (tag == TAG_STDIN) {
                /* Echo whole lines; a read may bring several, or part of one. */
                ssize_t len = read(STDIN_FILENO, line + line_len, sizeof line - 1 - line_len);
                char *start = line, *nl;
                if (len <= 0) {
                    if (line_len > 0)
                        printf("stdin: %.*s\n", (int)line_len, line);
                    epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
                    printf("stdin: closed\n");
                    open_sources--;
                    continue;
                }
                line_len += (size_t)len;
                while ((nl = memchr(start, '\n', line_len - (size_t)(start - line))) != NULL) {
                    printf("stdin: %.*s\n", (int)(nl - start), start);
                    start = nl + 1;
                }
                line_len -= (size_t)(start - line);
                memmove(line, start, line_len);
                if (line_len == sizeof line - 1) { /* a line too long: print it in pieces */
                    printf("stdin: %.*s\n", (int)line_len, line);
                    line_len = 0;
                }
            } else {
                struct topic *t = &topics[tag];
                int rc = serve(t);
                if (rc != ZFD_E_NO_SAMPLE && !t->gone) {
                    /* PEER_GONE: the publisher closed and all is read. */
                    t->gone = 1;
                    epoll_ctl(ep, EPOLL_CTL_DEL, t->fd, NULL);
                    open_sources--;
                    printf("%s: %s: received %lu of %lu, %lu out of order\n", t->name,
                           zfd_status_str(rc), t->received, count, t->out_of_order);
                }
            }
        }
    }
    printf("timer: %lu ticks\n", ticks);
    for (i = 0; i < n; ++i) {
        if (topics[i].received != count || topics[i].out_of_order != 0)
            ok = 0;
        zfd_reader_close(topics[i].reader); /* closes its descriptor */
        zfd_segment_close(topics[i].seg);
    }
    close(tfd);
    close(ep);
    return ok ? 0 : 1;
}
