/* zfd-demo: one writer process and N reader processes exchanging samples
 * through one named shared-memory segment, zero-copy.
 *
 *   zfd-demo [--readers N] [--samples M] [--size B] [--rate R] [--blocking]
 *
 * The writer creates segment "demo-<pid>", starts N readers by running this
 * program again (fork + exec of /proc/self/exe with --reader), waits until all
 * of them are attached, then publishes M samples. Each sample is written in
 * place in a loaned slot (zfd_reserve_wait, backpressure when every slot is
 * still held) and committed; it carries a sequence number, its CLOCK_MONOTONIC
 * send time, B payload bytes and a checksum. A last "end" sample says how many
 * were sent. Every reader takes every sample in place (zfd_reader_wait +
 * zfd_take), checks checksum and order, measures the one-way latency and
 * releases the slot; it prints one summary line once the writer has closed
 * (ZFD_E_PEER_GONE).
 *
 * Exit status 0 only when every reader got every sample intact and in order
 * and the segment name is gone from /dev/shm; 1 on any failure, 2 on bad usage.
 * The segment is removed on every path (closing the owner handle unlinks it);
 * on failure the readers are killed first.
 *
 * Two modes, named in the writer's header and summary lines and in the
 * readers' latency label:
 *   --rate 0 (the default): the writer publishes as fast as the slots free
 *     up, so the ring is mostly full and the latency shown includes the time
 *     a sample queues behind up to slot_count others: latency under full load.
 *   --rate R: the writer publishes R samples per second on an absolute
 *     schedule (sample i is due at start + i/R; it sleeps with
 *     clock_nanosleep(TIMER_ABSTIME) until about 50 us before that and spins
 *     the rest, so the pacing adds no drift; a late sample is sent at once
 *     and the schedule is not shifted). With R well below what the readers
 *     can take, each sample travels alone and the latency shown is that of
 *     an unloaded stream, including waking a reader that parked between
 *     samples (or not, while it still spins). zfd-bench measures the unloaded
 *     one-way latency too (ping-pong).
 *
 * --blocking: readers park on the futex at once (ZFD_SPIN_NS=0 in their
 * environment) instead of spinning briefly (2 us by default) first.
 *
 * Internal: zfd-demo --reader NAME INDEX SAMPLES SIZE RATE runs one reader
 * (RATE only labels its latency line).
 * SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, clock_nanosleep, nanosleep, sigaction */

#include <zerodds/flatdata.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ; /* POSIX declares it, <unistd.h> only with _GNU_SOURCE */

#define NS_PER_S 1000000000LL
#define DEFAULT_READERS 3
#define DEFAULT_SAMPLES 100000
#define DEFAULT_SIZE 64
#define MAX_SAMPLES 100000000ULL /* each reader keeps 8 bytes of latency per sample */
#define MAX_SIZE (16ULL << 20)
#define MAX_RATE 1000000000ULL       /* samples per second; 0 = as fast as possible */
#define PACE_SPIN_NS (50 * 1000LL)   /* paced: sleep until this close to a send time, spin after */
#define MAX_SLOTS 256
#define SHOWN 3                      /* samples each side prints */
#define SHOWN_BYTES 12               /* payload bytes printed as hex */
#define POLL_NS (100 * 1000000LL)    /* writer waits in slices this long ... */
#define STALL_NS (10 * NS_PER_S)     /* ... and gives up after this long without progress */
#define READER_STALL_NS (30 * NS_PER_S)

/* ----------------------------------------------------------------------
 * The sample: a fixed header followed by payload_len payload bytes, written
 * straight into the slot. The slot is 64-byte aligned, so the header is too.
 * ---------------------------------------------------------------------- */

typedef struct demo_header {
    uint64_t sequence;    /* 0, 1, 2, ...; on the end sample: how many were sent */
    int64_t send_ns;      /* CLOCK_MONOTONIC just before the commit */
    uint64_t checksum;    /* demo_checksum() of everything else */
    uint32_t payload_len; /* bytes after the header */
    uint32_t flags;       /* DEMO_FLAG_END on the last sample */
} demo_header;

_Static_assert(sizeof(demo_header) == 32, "demo_header has no padding");

#define DEMO_FLAG_END 1u

/* Both sides hash this text with zfd_type_hash(): a reader built against
 * another layout is refused with ZFD_E_TYPE_MISMATCH. */
#define DEMO_LAYOUT                                                                    \
    "demo_header{sequence:u64@0:8,send_ns:i64@8:8,checksum:u64@16:8,"                 \
    "payload_len:u32@24:4,flags:u32@28:4}size=32,align=8;payload:u8[payload_len]@32"

/* FNV-1a, 64 bit: simple, and any flipped or torn byte changes it. */
static uint64_t fnv1a(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *p = (const unsigned char *)bytes;
    size_t i;
    for (i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The payload first, then the header fields (so the writer can hash the
 * payload before it takes the send timestamp). */
static uint64_t demo_checksum(const demo_header *h, const unsigned char *payload)
{
    uint64_t c = fnv1a(0xcbf29ce484222325ULL, payload, h->payload_len);
    c = fnv1a(c, &h->sequence, sizeof h->sequence);
    c = fnv1a(c, &h->send_ns, sizeof h->send_ns);
    c = fnv1a(c, &h->payload_len, sizeof h->payload_len);
    return fnv1a(c, &h->flags, sizeof h->flags);
}

/* Payload of sample seq: the text "sample <seq>", then bytes counting up. */
static void fill_payload(unsigned char *p, size_t n, uint64_t seq)
{
    char text[32];
    const int len = snprintf(text, sizeof text, "sample %" PRIu64, seq);
    const size_t t = (size_t)len < n ? (size_t)len : n;
    size_t i;
    memcpy(p, text, t);
    for (i = t; i < n; ++i)
        p[i] = (unsigned char)(seq + i);
}

/* What a side remembers of one of the first SHOWN samples, to print later
 * (printing in the hot loop would disturb the timing). */
typedef struct shown_sample {
    uint64_t sequence;
    size_t len;
    unsigned char bytes[SHOWN_BYTES];
} shown_sample;

static void remember(shown_sample *s, uint64_t seq, const unsigned char *payload, size_t len)
{
    s->sequence = seq;
    s->len = len < SHOWN_BYTES ? len : SHOWN_BYTES;
    memcpy(s->bytes, payload, s->len);
}

/* Append `seq N  "text"  hex...` for one remembered sample to buf. */
static size_t format_shown(char *buf, size_t cap, const shown_sample *s)
{
    size_t n = 0, i, text = 0;
    while (text < s->len && s->bytes[text] >= 0x20 && s->bytes[text] < 0x7f)
        ++text;
    n += (size_t)snprintf(buf + n, cap - n, "seq %-6" PRIu64 " \"%.*s\"%*s", s->sequence, (int)text,
                          (const char *)s->bytes, s->len > 0 ? (int)(SHOWN_BYTES - text) : 0, "");
    for (i = 0; i < s->len && n < cap; ++i)
        n += (size_t)snprintf(buf + n, cap - n, " %02x", s->bytes[i]);
    return n < cap ? n : cap - 1;
}

/* ----------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

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

/* Parse a decimal number in [lo, hi]; 0 on success. */
static int parse_u64(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;
    if (text == NULL || *text < '0' || *text > '9')
        return -1;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array; per10k = 5000 for p50. */
static int64_t percentile(const int64_t *sorted, size_t n, unsigned per10k)
{
    size_t rank = (size_t)(((uint64_t)n * per10k + 9999) / 10000);
    return sorted[rank > 0 ? rank - 1 : 0];
}

/* Write the whole buffer with one write(2), so the reports of several
 * processes sharing stdout do not interleave within a report. */
static void emit(const char *buf, size_t len)
{
    while (len > 0) {
        const ssize_t w = write(STDOUT_FILENO, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

/* ----------------------------------------------------------------------
 * Reader process
 * ---------------------------------------------------------------------- */

typedef struct reader_stats {
    uint64_t received;     /* data samples taken (intact or not) */
    uint64_t bytes;        /* their sizes, header included */
    uint64_t corrupt;      /* bad size or checksum, or evicted while held */
    uint64_t out_of_order; /* sequence not above the previous one */
    uint64_t gaps;         /* sequence numbers skipped */
    uint64_t next;         /* sequence expected next */
    int end_seen;          /* the end sample arrived */
    uint64_t sent;         /* what the end sample said */
    size_t n_latency;
    unsigned n_shown;
    shown_sample shown[SHOWN];
} reader_stats;

/* Check one taken sample (still in the slot) and account for it. */
static void check_sample(reader_stats *st, int64_t *latency, uint64_t capacity, uint64_t size,
                         const void *data, size_t len, int64_t recv_ns)
{
    const unsigned char *payload = (const unsigned char *)data + sizeof(demo_header);
    demo_header h;

    if (len < sizeof h) {
        ++st->received;
        ++st->corrupt;
        return;
    }
    memcpy(&h, data, sizeof h);
    if ((h.flags & DEMO_FLAG_END) && h.payload_len == 0 && len == sizeof h &&
        demo_checksum(&h, payload) == h.checksum) {
        st->end_seen = 1;
        st->sent = h.sequence;
        return;
    }
    ++st->received;
    st->bytes += len;
    if (h.flags != 0 || h.payload_len != size || len != sizeof h + size ||
        demo_checksum(&h, payload) != h.checksum) {
        ++st->corrupt;
        return;
    }
    if (h.sequence < st->next) { /* repeated or older than the last one */
        ++st->out_of_order;
        return;
    }
    st->gaps += h.sequence - st->next;
    st->next = h.sequence + 1;
    if (st->n_latency < capacity)
        latency[st->n_latency++] = recv_ns - h.send_ns;
    if (st->n_shown < SHOWN)
        remember(&st->shown[st->n_shown++], h.sequence, payload, h.payload_len);
}

static int run_reader(const char *name, const char *index_text, const char *samples_text,
                      const char *size_text, const char *rate_text)
{
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    uint64_t index, samples, size, rate;
    reader_stats st;
    int64_t *latency;
    zfd_error err;
    zfd_segment *seg = NULL;
    zfd_reader *reader = NULL;
    int64_t deadline;
    int32_t rc;
    char out[2048];
    size_t n = 0;
    unsigned i;
    int ok;

    if (parse_u64(index_text, 0, ZFD_MAX_READERS - 1, &index) != 0 ||
        parse_u64(samples_text, 1, MAX_SAMPLES, &samples) != 0 ||
        parse_u64(size_text, 0, MAX_SIZE, &size) != 0 ||
        parse_u64(rate_text, 0, MAX_RATE, &rate) != 0) {
        fprintf(stderr, "zfd-demo --reader: bad arguments\n");
        return 2;
    }
    /* The only allocation: one latency value per expected sample. */
    latency = (int64_t *)malloc((size_t)samples * sizeof *latency);
    if (latency == NULL) {
        fprintf(stderr, "reader %" PRIu64 ": out of memory\n", index);
        return 1;
    }
    memset(&st, 0, sizeof st);
    zfd_type_hash(DEMO_LAYOUT, strlen(DEMO_LAYOUT), hash);

    /* The writer created the segment before starting us; retry briefly anyway
     * (ZFD_E_TIMEOUT means it is still initialising). */
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    deadline = now_ns() + STALL_NS;
    while ((rc = zfd_segment_open(name, hash, 0, &seg, &err)) != ZFD_OK) {
        if ((rc != ZFD_E_NOT_FOUND && rc != ZFD_E_TIMEOUT) || now_ns() > deadline) {
            fprintf(stderr, "reader %" PRIu64 ": zfd_segment_open(%s): %s: %s\n", index, name,
                    zfd_status_str(rc), err.message);
            free(latency);
            return 1;
        }
        sleep_ms(10);
    }
    rc = zfd_reader_open(seg, 0, &reader); /* the writer now sees us in active_readers */

    /* Take until the writer has closed (ZFD_E_PEER_GONE once nothing unread
     * remains). Waiting for that rather than stopping at the end sample lets
     * the writer print its summary first. */
    while (rc == ZFD_OK) {
        zfd_slot slot;
        const void *data;
        size_t len;
        int64_t recv_ns;

        rc = zfd_take(reader, &slot, &data, &len, NULL);
        if (rc == ZFD_E_NO_SAMPLE) {
            /* Nothing unread: spin ZFD_SPIN_NS, then sleep on the futex. */
            rc = zfd_reader_wait(reader, READER_STALL_NS);
            continue;
        }
        if (rc != ZFD_OK)
            break;
        recv_ns = now_ns();
        check_sample(&st, latency, samples, size, data, len, recv_ns); /* read in place */
        if (zfd_release(reader, slot) == ZFD_E_EVICTED)
            ++st.corrupt; /* the writer took it back while we read: may be torn */
    }
    if (rc == ZFD_E_PEER_GONE) {
        zfd_segment_info info;
        info.struct_size = sizeof info;
        /* A writer that closed has unlinked the name already; one that was
         * killed could not, so the first reader to notice removes it. */
        if (zfd_segment_get_info(seg, &info) == ZFD_OK && !info.owner_alive)
            zfd_segment_unlink(name, NULL);
        rc = ZFD_OK; /* the normal end; st.end_seen tells whether it was clean */
    }

    /* Report: the first samples, then one summary line, in a single write. */
    for (i = 0; i < st.n_shown; ++i) {
        n += (size_t)snprintf(out + n, sizeof out - n, "reader %" PRIu64 ": took ", index);
        n += format_shown(out + n, sizeof out - n, &st.shown[i]);
        n += (size_t)snprintf(out + n, sizeof out - n, "\n");
    }
    ok = rc == ZFD_OK && st.end_seen && st.sent == samples && st.received == samples &&
         st.corrupt == 0 && st.out_of_order == 0 && st.gaps == 0;
    n += (size_t)snprintf(out + n, sizeof out - n,
                          "reader %" PRIu64 ": received %" PRIu64 "/%" PRIu64 " samples, %" PRIu64
                          " bytes, corrupt %" PRIu64 ", out of order %" PRIu64 ", gaps %" PRIu64,
                          index, st.received, samples, st.bytes, st.corrupt, st.out_of_order,
                          st.gaps);
    if (st.n_latency > 0) {
        qsort(latency, st.n_latency, sizeof *latency, cmp_i64);
        if (rate == 0)
            n += (size_t)snprintf(out + n, sizeof out - n, "; latency under full load");
        else
            n += (size_t)snprintf(out + n, sizeof out - n,
                                  "; latency paced at %" PRIu64 " samples/s", rate);
        n += (size_t)snprintf(
            out + n, sizeof out - n,
            " p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us",
            (double)percentile(latency, st.n_latency, 5000) / 1e3,
            (double)percentile(latency, st.n_latency, 9900) / 1e3,
            (double)percentile(latency, st.n_latency, 9990) / 1e3,
            (double)latency[st.n_latency - 1] / 1e3);
    }
    if (rc != ZFD_OK)
        n += (size_t)snprintf(out + n, sizeof out - n, "; stopped: %s", zfd_status_str(rc));
    else if (!st.end_seen)
        n += (size_t)snprintf(out + n, sizeof out - n, "; no end sample");
    n += (size_t)snprintf(out + n, sizeof out - n, "%s\n", ok ? "" : " -> FAILED");
    emit(out, n < sizeof out ? n : sizeof out - 1);

    free(latency);
    zfd_reader_close(reader);
    zfd_segment_close(seg);
    return ok ? 0 : 1;
}

/* ----------------------------------------------------------------------
 * Writer process
 * ---------------------------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int status; /* waitpid status once exited */
    int exited;
} child;

static child g_children[ZFD_MAX_READERS];
static unsigned g_n_children;
static volatile sig_atomic_t g_stop; /* SIGINT/SIGTERM/SIGHUP arrived */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Collect the status of every reader that has exited (block: wait for all).
 * Returns how many have exited so far. */
static unsigned reap_children(int block)
{
    unsigned i, exited = 0;
    for (i = 0; i < g_n_children; ++i) {
        child *c = &g_children[i];
        while (!c->exited) {
            const pid_t r = waitpid(c->pid, &c->status, block ? 0 : WNOHANG);
            if (r == c->pid)
                c->exited = 1;
            else if (r < 0 && errno == EINTR)
                continue;
            else if (r < 0) { /* not our child any more: count it as failed */
                c->exited = 1;
                c->status = 0xff00; /* reads as exit status 255 */
            }
            break;
        }
        exited += (unsigned)c->exited;
    }
    return exited;
}

/* On failure: stop the readers that still run, then reap them all. */
static void kill_children(void)
{
    unsigned i;
    reap_children(0);
    for (i = 0; i < g_n_children; ++i)
        if (!g_children[i].exited)
            kill(g_children[i].pid, SIGTERM);
    reap_children(1);
}

/* Start reader `index` as a new process running this program. */
static int spawn_reader(char *const envp[], char *self, char *name, unsigned index,
                        uint64_t samples, uint64_t size, uint64_t rate)
{
    char role[] = "--reader", index_text[16], samples_text[24], size_text[24], rate_text[24];
    char *args[8];
    pid_t pid;

    snprintf(index_text, sizeof index_text, "%u", index);
    snprintf(samples_text, sizeof samples_text, "%" PRIu64, samples);
    snprintf(size_text, sizeof size_text, "%" PRIu64, size);
    snprintf(rate_text, sizeof rate_text, "%" PRIu64, rate);
    args[0] = self;
    args[1] = role;
    args[2] = name;
    args[3] = index_text;
    args[4] = samples_text;
    args[5] = size_text;
    args[6] = rate_text;
    args[7] = NULL;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("zfd-demo: fork");
        return -1;
    }
    if (pid == 0) {
        /* /proc/self/exe works however we were started; argv[0] is the fallback. */
        execve("/proc/self/exe", args, envp);
        execve(self, args, envp);
        perror("zfd-demo: exec of reader");
        _exit(127);
    }
    g_children[g_n_children].pid = pid;
    g_children[g_n_children].exited = 0;
    ++g_n_children;
    return 0;
}

/* The readers' environment: ours, plus ZFD_SPIN_NS=0 with --blocking. Built
 * before forking so the child only has to exec. */
static char **reader_environment(int blocking)
{
    static char spin_off[] = "ZFD_SPIN_NS=0";
    size_t n = 0, k = 0, i;
    char **envp;

    while (environ[n] != NULL)
        ++n;
    envp = (char **)malloc((n + 2) * sizeof *envp);
    if (envp == NULL)
        return NULL;
    for (i = 0; i < n; ++i)
        if (!blocking || strncmp(environ[i], "ZFD_SPIN_NS=", 12) != 0)
            envp[k++] = environ[i];
    if (blocking)
        envp[k++] = spin_off;
    envp[k] = NULL;
    return envp;
}

static unsigned count_bits(uint64_t v)
{
    unsigned n = 0;
    for (; v != 0; v &= v - 1)
        ++n;
    return n;
}

/* Poll the segment info until `want` readers are attached. A reader sees only
 * samples committed after it attached, so publishing earlier would lose some. */
static int wait_for_readers(zfd_segment *seg, unsigned want)
{
    const int64_t deadline = now_ns() + STALL_NS;
    zfd_segment_info info;
    info.struct_size = sizeof info;
    for (;;) {
        if (zfd_segment_get_info(seg, &info) != ZFD_OK) {
            fprintf(stderr, "zfd-demo: zfd_segment_get_info failed\n");
            return -1;
        }
        if (count_bits(info.active_readers) >= want)
            return 0;
        if (g_stop || reap_children(0) > 0 || now_ns() > deadline) {
            fprintf(stderr, "zfd-demo: only %u of %u readers attached (%s)\n",
                    count_bits(info.active_readers), want,
                    g_stop ? "interrupted" : now_ns() > deadline ? "timed out" : "a reader exited");
            return -1;
        }
        sleep_ms(1);
    }
}

/* Paced mode: wait until CLOCK_MONOTONIC reaches due_ns. Sleeps on the
 * absolute time PACE_SPIN_NS before it (a relative sleep would add its
 * overshoot to every later sample), then spins the rest for precision.
 * Returns at once when already late; a signal ends the wait early (the
 * caller checks g_stop). */
static void wait_until(int64_t due_ns)
{
    for (;;) {
        const int64_t now = now_ns();
        if (now >= due_ns || g_stop)
            return;
        if (due_ns - now > PACE_SPIN_NS) {
            const int64_t wake = due_ns - PACE_SPIN_NS;
            struct timespec ts;
            ts.tv_sec = (time_t)(wake / NS_PER_S);
            ts.tv_nsec = (long)(wake % NS_PER_S);
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop */
        }
    }
}

/* The mode, as the header and summary lines name it. */
static void describe_rate(char *buf, size_t cap, uint64_t rate)
{
    if (rate == 0)
        snprintf(buf, cap, "as fast as the readers release");
    else
        snprintf(buf, cap, "paced at %" PRIu64 " samples/s", rate);
}

/* Loan a slot, waiting (backpressure) while the readers still hold every
 * slot. The wait is cut into POLL_NS slices so a dead reader or a signal is
 * noticed; *full counts the times the ring was full. */
static int reserve_slot(zfd_segment *seg, zfd_slot *slot, void **data, uint64_t *full)
{
    int64_t waited = 0;
    int32_t rc = zfd_reserve(seg, slot, data);
    if (rc == ZFD_OK)
        return 0;
    if (rc == ZFD_E_NO_FREE_SLOT && full != NULL)
        ++*full;
    while (rc == ZFD_E_NO_FREE_SLOT || rc == ZFD_E_TIMEOUT) {
        if (g_stop) {
            fprintf(stderr, "zfd-demo: interrupted\n");
            return -1;
        }
        if (reap_children(0) > 0) {
            fprintf(stderr, "zfd-demo: a reader exited early\n");
            return -1;
        }
        if (waited >= STALL_NS) {
            fprintf(stderr, "zfd-demo: no slot freed for %lld s\n", STALL_NS / NS_PER_S);
            return -1;
        }
        rc = zfd_reserve_wait(seg, POLL_NS, slot, data);
        waited += POLL_NS;
    }
    if (rc != ZFD_OK) {
        fprintf(stderr, "zfd-demo: zfd_reserve_wait: %s\n", zfd_status_str(rc));
        return -1;
    }
    return 0;
}

/* Fill a loaned slot with sample seq (or the end sample) and commit it.
 * shown (may be NULL) receives a copy of the start of the sample: after the
 * commit the slot pointer must not be used any more. */
static int publish_sample(zfd_segment *seg, zfd_slot slot, void *data, uint64_t seq, uint64_t size,
                          uint32_t flags, shown_sample *shown)
{
    demo_header *h = (demo_header *)data; /* written in place: no copy */
    unsigned char *payload = (unsigned char *)data + sizeof *h;
    int32_t rc;

    fill_payload(payload, (size_t)size, seq);
    h->sequence = seq;
    h->payload_len = (uint32_t)size;
    h->flags = flags;
    h->send_ns = now_ns();
    h->checksum = demo_checksum(h, payload);
    if (shown != NULL)
        remember(shown, seq, payload, (size_t)size);
    rc = zfd_commit_in_place(seg, slot, sizeof *h + (size_t)size, NULL);
    if (rc != ZFD_OK) {
        fprintf(stderr, "zfd-demo: zfd_commit_in_place: %s\n", zfd_status_str(rc));
        return -1;
    }
    return 0;
}

/* Every slot is free again only once every reader released everything, so
 * being able to loan all of them means all samples were consumed. */
static int wait_until_consumed(zfd_segment *seg, uint32_t slot_count)
{
    zfd_slot loans[MAX_SLOTS];
    uint32_t n;
    int rc = 0;
    for (n = 0; n < slot_count; ++n) {
        if ((rc = reserve_slot(seg, &loans[n], NULL, NULL)) != 0)
            break;
    }
    while (n > 0)
        zfd_discard(seg, loans[--n]); /* give the loans back unpublished */
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: zfd-demo [--readers N] [--samples M] [--size B] [--rate R] [--blocking]\n"
            "  --readers N   reader processes, 1..%d (default %d)\n"
            "  --samples M   samples to publish, 1..%llu (default %d)\n"
            "  --size B      payload bytes per sample, 0..%llu (default %d)\n"
            "  --rate R      publish R samples/s on a fixed schedule, 0..%llu; 0 (default):\n"
            "                as fast as the readers release (latency under full load)\n"
            "  --blocking    readers park on the futex without spinning (ZFD_SPIN_NS=0)\n",
            ZFD_MAX_READERS, DEFAULT_READERS, MAX_SAMPLES, DEFAULT_SAMPLES, MAX_SIZE,
            DEFAULT_SIZE, MAX_RATE);
}

static int run_writer(char *self, uint64_t readers, uint64_t samples, uint64_t size, uint64_t rate,
                      int blocking)
{
    const uint64_t stride = sizeof(demo_header) + size;
    uint8_t hash[ZFD_TYPE_HASH_SIZE];
    char name[64], shm_path[96], mode[64];
    zfd_segment_options opts;
    zfd_segment *seg = NULL;
    shown_sample shown[SHOWN];
    struct sigaction sa;
    zfd_error err;
    int32_t rc;
    char **envp = NULL;
    uint64_t seq = 0, full = 0, sent_bytes;
    int64_t t0, elapsed;
    unsigned i, failed = 0;
    int ok = 0;

    snprintf(name, sizeof name, "demo-%ld", (long)getpid());
    snprintf(shm_path, sizeof shm_path, "/dev/shm/zfd.%s", name);
    zfd_type_hash(DEMO_LAYOUT, strlen(DEMO_LAYOUT), hash);
    describe_rate(mode, sizeof mode, rate);

    /* Ctrl-C or kill: stop at the next check, then clean up normally. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    /* Up to MAX_SLOTS slots, fewer for big samples (about 64 MiB at most). */
    zfd_segment_options_init(&opts);
    opts.slot_count = (uint32_t)((64ULL << 20) / stride);
    if (opts.slot_count > MAX_SLOTS)
        opts.slot_count = MAX_SLOTS;
    if (opts.slot_count < 4)
        opts.slot_count = 4;
    opts.slot_capacity = stride;
    opts.flags = ZFD_SEGMENT_REPLACE_STALE; /* a crashed run with a recycled pid */
    opts.has_type_hash = 1;
    memcpy(opts.type_hash, hash, sizeof hash);

    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    rc = zfd_segment_create(name, &opts, &seg, &err);
    if (rc != ZFD_OK) {
        fprintf(stderr, "zfd-demo: zfd_segment_create(%s): %s: %s\n", name, zfd_status_str(rc),
                err.message);
        return 1;
    }
    printf("zfd-demo (libzerodds_flatdata %s): writer pid %ld, segment \"%s\" (%s)\n",
           zfd_version_string(), (long)getpid(), name, shm_path);
    printf("  %u slots x %" PRIu64 " B (%zu B header + %" PRIu64 " B payload), %" PRIu64
           " reader processes, %" PRIu64 " samples, readers %s\n",
           opts.slot_count, stride, sizeof(demo_header), size, readers, samples,
           blocking ? "park on the futex at once (ZFD_SPIN_NS=0)"
                    : "spin briefly, then park (ZFD_SPIN_NS default)");
    printf("  publishing %s: %s\n", mode,
           rate == 0 ? "latency under full load (includes queueing behind the ring)"
                     : "one sample at a time, latency of an unloaded stream");

    /* From here on every exit goes through `done`: readers killed if needed,
     * segment closed (which unlinks the name). */
    envp = reader_environment(blocking);
    if (envp == NULL) {
        fprintf(stderr, "zfd-demo: out of memory\n");
        goto done;
    }
    t0 = now_ns();
    for (i = 0; i < readers; ++i)
        if (spawn_reader(envp, self, name, i, samples, size, rate) != 0)
            goto done;
    if (wait_for_readers(seg, (unsigned)readers) != 0)
        goto done;
    printf("writer: %" PRIu64 " readers attached after %.1f ms (pids", readers,
           (double)(now_ns() - t0) / 1e6);
    for (i = 0; i < g_n_children; ++i)
        printf(" %ld", (long)g_children[i].pid);
    printf(")\n");

    /* Publish: (paced: wait for the send time), loan, write in place, commit.
     * Sample seq is due at t0 + seq/rate, computed from t0 every time so
     * neither sleeping nor a late sample shifts the later ones. */
    t0 = now_ns();
    for (seq = 0; seq < samples; ++seq) {
        zfd_slot slot;
        void *data;
        if (rate != 0)
            wait_until(t0 + (int64_t)(seq * (uint64_t)NS_PER_S / rate));
        if (g_stop) {
            fprintf(stderr, "zfd-demo: interrupted\n");
            goto done;
        }
        if (reserve_slot(seg, &slot, &data, &full) != 0 ||
            publish_sample(seg, slot, data, seq, size, 0, seq < SHOWN ? &shown[seq] : NULL) != 0)
            goto done;
    }
    /* The end sample tells the readers how many samples there were. */
    {
        zfd_slot slot;
        void *data;
        if (reserve_slot(seg, &slot, &data, NULL) != 0 ||
            publish_sample(seg, slot, data, samples, 0, DEMO_FLAG_END, NULL) != 0)
            goto done;
    }
    if (wait_until_consumed(seg, opts.slot_count) != 0)
        goto done;
    elapsed = now_ns() - t0;

    for (i = 0; i < SHOWN && i < samples; ++i) {
        char line[128];
        format_shown(line, sizeof line, &shown[i]);
        printf("writer: sent %s\n", line);
    }
    sent_bytes = samples * stride;
    printf("writer: sent %" PRIu64 " samples %s, %" PRIu64 " bytes in %.3f s (until every "
           "reader released all): %.0f samples/s, %.1f MB/s; ring full %" PRIu64 " times\n",
           samples, mode, sent_bytes, (double)elapsed / 1e9,
           (double)samples * 1e9 / (double)elapsed, (double)sent_bytes * 1e3 / (double)elapsed,
           full);
    ok = 1;

done:
    if (!ok)
        kill_children();
    fflush(stdout);
    /* Closing the owner unlinks the name; readers drain what is left and then
     * get ZFD_E_PEER_GONE, print their report and exit. */
    zfd_segment_close(seg);
    reap_children(1);
    free(envp);

    for (i = 0; i < g_n_children; ++i) {
        const child *c = &g_children[i];
        const int good = WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
        if (!good)
            ++failed;
        if (WIFSIGNALED(c->status))
            printf("writer: reader %u (pid %ld) killed by signal %d\n", i, (long)c->pid,
                   WTERMSIG(c->status));
        else
            printf("writer: reader %u (pid %ld) exit status %d\n", i, (long)c->pid,
                   WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1);
    }
    if (access(shm_path, F_OK) == 0) {
        fprintf(stderr, "zfd-demo: %s still exists after close; removing it\n", shm_path);
        zfd_segment_unlink(name, NULL);
        ok = 0;
    }
    if (ok && failed == 0) {
        printf("zfd-demo: PASS: %" PRIu64 " reader%s got all %" PRIu64
               " samples intact and in order; %s removed\n",
               readers, readers == 1 ? "" : "s", samples, shm_path);
        return 0;
    }
    printf("zfd-demo: FAIL (%u of %u readers failed%s)\n", failed, g_n_children,
           ok ? "" : ", writer failed");
    return 1;
}

int main(int argc, char **argv)
{
    uint64_t readers = DEFAULT_READERS, samples = DEFAULT_SAMPLES, size = DEFAULT_SIZE, rate = 0;
    int blocking = 0, i;

    if (argc == 7 && strcmp(argv[1], "--reader") == 0)
        return run_reader(argv[2], argv[3], argv[4], argv[5], argv[6]);

    for (i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(arg, "--blocking") == 0) {
            blocking = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(arg, "--readers") == 0)
            bad = parse_u64(value, 1, ZFD_MAX_READERS, &readers);
        else if (strcmp(arg, "--samples") == 0)
            bad = parse_u64(value, 1, MAX_SAMPLES, &samples);
        else if (strcmp(arg, "--size") == 0)
            bad = parse_u64(value, 0, MAX_SIZE, &size);
        else if (strcmp(arg, "--rate") == 0)
            bad = parse_u64(value, 0, MAX_RATE, &rate);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "zfd-demo: bad argument: %s%s%s\n", arg, value ? " " : "",
                    value ? value : "");
            usage(stderr);
            return 2;
        }
        ++i; /* consumed the value */
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* whole lines, in order with the readers' */
    return run_writer(argv[0], readers, samples, size, rate, blocking);
}
