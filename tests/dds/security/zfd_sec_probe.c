/* zfd_sec_probe.c — a tiny Cyclone DDS program for the DDS Security proof
 * (cyclone_proof.sh). It takes its whole configuration, security included,
 * from CYCLONEDDS_URI, and prints one line per fact, for the script to grep:
 *
 *   participant ok <ms>                       participant created (ms it took)
 *   participant failed <code> <name>          dds_create_participant's return value
 *   topic|reader|writer failed <T> <code> <name>
 *   matched <T> <ms>                          first match, ms after the participant
 *   wrote <T> <n>                             all n samples written
 *   received <T> <n> bad <b>                  n samples taken, b of them with a wrong payload
 *   participants <n>                          most remote participants discovered at once
 *   endpoints <n>                             most remote readers+writers on our topics at once
 *
 * Usage:
 *   zfd_sec_probe create
 *   zfd_sec_probe pub [-m READERS] -t TOPIC [[-m READERS] -t TOPIC]... [-n COUNT] [-s SIZE]
 *                     [-p PATTERN] [-w MATCH_WAIT_MS] [-i INTERVAL_MS] [-l LINGER_MS]
 *                     [-r DURABILITY]
 *   zfd_sec_probe sub -t TOPIC [-t TOPIC]... [-d DURATION_MS] [-p PATTERN] [-e EXPECT]
 *                     [-r DURABILITY]
 * pub waits up to MATCH_WAIT_MS (default 20000) until each topic has READERS
 * matching readers (default 1; -m applies to the -t options after it), then
 * writes COUNT (default 50) samples of SIZE (default 256) bytes, PATTERN
 * repeated, every INTERVAL_MS (default 20), and stays LINGER_MS (default 2000)
 * for acknowledgements and late joiners. sub reads for DURATION_MS (default
 * 20000) or until every topic got EXPECT samples.
 * Topics are reliable, keep-all, on domain 0; DURABILITY is volatile (default)
 * or transient-local (as the bridge's zfd/segments; a late joiner then gets
 * the last sample, the default durability-service depth).
 * Exit status: 0 ran (what happened is in the output), 1 participant creation
 * failed, 2 usage error.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dds/dds.h"
#include "zfd_sec_msg.h"

#define MAX_TOPICS 8

static dds_time_t t0;

static double ms_since(dds_time_t start) { return (double)(dds_time() - start) / 1e6; }

static void print_failure(const char *what, const char *topic, dds_return_t rc) {
    printf("%s failed %s %d %s\n", what, topic, (int)rc, dds_strretcode(rc));
    fflush(stdout);
}

static int usage(void) {
    fprintf(stderr,
            "usage: zfd_sec_probe create | pub [-m READERS] -t TOPIC... [-n N] [-s SIZE] [-p "
            "PATTERN] [-w MS] "
            "[-i MS] [-l MS] [-r volatile|transient-local] | sub -t TOPIC... [-d MS] [-p PATTERN] "
            "[-e N] "
            "[-r volatile|transient-local]\n");
    return 2;
}

static void fill(uint8_t *buf, size_t size, const char *pattern) {
    size_t len = strlen(pattern);
    for (size_t i = 0; i < size; i++) buf[i] = (uint8_t)pattern[i % len];
}

static bool payload_ok(const zfd_sec_probe_Msg *m, const char *pattern) {
    size_t len = strlen(pattern);
    for (uint32_t i = 0; i < m->payload._length; i++)
        if (m->payload._buffer[i] != (uint8_t)pattern[i % len]) return false;
    return m->payload._length > 0;
}

static dds_entity_t create_participant(void) {
    t0 = dds_time();
    dds_entity_t pp = dds_create_participant(DDS_DOMAIN_DEFAULT, NULL, NULL);
    if (pp < 0) {
        printf("participant failed %d %s\n", (int)pp, dds_strretcode(pp));
    } else {
        printf("participant ok %.1f\n", ms_since(t0));
    }
    fflush(stdout);
    return pp;
}

/* What discovery let through, polled while running; the most at any poll is
   printed at exit. Remote participants come from the DCPSParticipant built-in
   topic (SPDP: not protected by DDS Security, so unauthenticated participants
   show up too); remote endpoints on our topics from DCPSPublication and
   DCPSSubscription (SEDP: secured, so only after authentication). */
static dds_entity_t builtin_readers[3];
static dds_guid_t self_guid;
static const char **our_topics;
static int our_ntopics;
static int max_participants = 0, max_endpoints = 0;

static bool is_ours(const char *topic) {
    for (int k = 0; k < our_ntopics; k++)
        if (strcmp(our_topics[k], topic) == 0) return true;
    return false;
}

static void poll_discovery(void) {
    int count[3] = {0, 0, 0};
    for (int r = 0; r < 3; r++) {
        void *samples[64] = {NULL};
        dds_sample_info_t infos[64];
        int n = dds_read(builtin_readers[r], samples, infos, 64, 64);
        for (int j = 0; j < n; j++) {
            if (!infos[j].valid_data || infos[j].instance_state != DDS_IST_ALIVE) continue;
            if (r == 0) {
                const dds_builtintopic_participant_t *p = samples[j];
                if (memcmp(&p->key, &self_guid, sizeof(self_guid)) != 0) count[r]++;
            } else {
                const dds_builtintopic_endpoint_t *e = samples[j];
                if (memcmp(&e->participant_key, &self_guid, sizeof(self_guid)) != 0 &&
                    is_ours(e->topic_name))
                    count[r]++;
            }
        }
        if (n > 0) (void)dds_return_loan(builtin_readers[r], samples, n);
    }
    if (count[0] > max_participants) max_participants = count[0];
    if (count[1] + count[2] > max_endpoints) max_endpoints = count[1] + count[2];
}

static dds_qos_t *endpoint_qos(bool transient_local) {
    dds_qos_t *qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_history(qos, DDS_HISTORY_KEEP_ALL, 0);
    dds_qset_durability(qos,
                        transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
    return qos;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *mode = argv[1];
    const char *topics[MAX_TOPICS];
    int min_readers[MAX_TOPICS];
    int ntopics = 0, next_min_readers = 1;
    long count = 50, size = 256, match_wait = 20000, interval = 20, linger = 2000;
    long duration = 20000, expect = -1;
    const char *pattern = "ZFD-SECRET-PAYLOAD-";
    bool transient_local = false;
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] != '-' || argv[i][1] == '\0' || argv[i][2] != '\0' || i + 1 >= argc)
            return usage();
        const char *v = argv[++i];
        switch (argv[i - 1][1]) {
            case 't':
                if (ntopics == MAX_TOPICS) return usage();
                min_readers[ntopics] = next_min_readers;
                topics[ntopics++] = v;
                break;
            case 'm':
                next_min_readers = atoi(v);
                if (next_min_readers < 1) return usage();
                break;
            case 'n':
                count = atol(v);
                break;
            case 's':
                size = atol(v);
                break;
            case 'p':
                pattern = v;
                break;
            case 'w':
                match_wait = atol(v);
                break;
            case 'i':
                interval = atol(v);
                break;
            case 'l':
                linger = atol(v);
                break;
            case 'd':
                duration = atol(v);
                break;
            case 'e':
                expect = atol(v);
                break;
            case 'r':
                if (strcmp(v, "transient-local") == 0)
                    transient_local = true;
                else if (strcmp(v, "volatile") != 0)
                    return usage();
                break;
            default:
                return usage();
        }
    }
    if (pattern[0] == '\0' || size <= 0 || count < 0) return usage();

    if (strcmp(mode, "create") == 0) {
        dds_entity_t pp = create_participant();
        if (pp < 0) return 1;
        dds_delete(pp);
        return 0;
    }
    bool is_pub = strcmp(mode, "pub") == 0;
    if ((!is_pub && strcmp(mode, "sub") != 0) || ntopics == 0) return usage();

    dds_entity_t pp = create_participant();
    if (pp < 0) return 1;
    our_topics = topics;
    our_ntopics = ntopics;
    if (dds_get_guid(pp, &self_guid) < 0 ||
        (builtin_readers[0] =
             dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSPARTICIPANT, NULL, NULL)) < 0 ||
        (builtin_readers[1] =
             dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSPUBLICATION, NULL, NULL)) < 0 ||
        (builtin_readers[2] =
             dds_create_reader(pp, DDS_BUILTIN_TOPIC_DCPSSUBSCRIPTION, NULL, NULL)) < 0)
        return 1;
    dds_qos_t *qos = endpoint_qos(transient_local);
    dds_entity_t ents[MAX_TOPICS];
    bool matched[MAX_TOPICS] = {false};
    long got[MAX_TOPICS] = {0}, bad[MAX_TOPICS] = {0};
    for (int k = 0; k < ntopics; k++) {
        ents[k] = 0;
        dds_entity_t tp = dds_create_topic(pp, &zfd_sec_probe_Msg_desc, topics[k], qos, NULL);
        if (tp < 0) {
            print_failure("topic", topics[k], tp);
            continue;
        }
        ents[k] =
            is_pub ? dds_create_writer(pp, tp, qos, NULL) : dds_create_reader(pp, tp, qos, NULL);
        if (ents[k] < 0) {
            print_failure(is_pub ? "writer" : "reader", topics[k], ents[k]);
            ents[k] = 0;
        }
    }
    dds_delete_qos(qos);

    if (is_pub) {
        /* Wait for a matching reader on every topic (authentication and key exchange come first).
         */
        dds_time_t deadline = t0 + DDS_MSECS(match_wait);
        for (;;) {
            bool all = true;
            for (int k = 0; k < ntopics; k++) {
                dds_publication_matched_status_t st;
                if (ents[k] == 0 || matched[k]) continue;
                if (dds_get_publication_matched_status(ents[k], &st) == 0 &&
                    st.current_count >= (uint32_t)min_readers[k]) {
                    matched[k] = true;
                    printf("matched %s %.1f\n", topics[k], ms_since(t0));
                    fflush(stdout);
                } else {
                    all = false;
                }
            }
            poll_discovery();
            if (all || dds_time() >= deadline) break;
            dds_sleepfor(DDS_MSECS(5));
        }
        uint8_t *buf = malloc((size_t)size);
        if (buf == NULL) return 1;
        fill(buf, (size_t)size, pattern);
        for (int k = 0; k < ntopics; k++) {
            if (ents[k] == 0) continue;
            long n = 0;
            for (long s = 0; s < count; s++) {
                zfd_sec_probe_Msg m = {.seq = (uint64_t)s,
                                       .payload = {._maximum = (uint32_t)size,
                                                   ._length = (uint32_t)size,
                                                   ._buffer = buf,
                                                   ._release = false}};
                if (dds_write(ents[k], &m) == 0) n++;
                if (interval > 0) dds_sleepfor(DDS_MSECS(interval));
                poll_discovery();
            }
            printf("wrote %s %ld\n", topics[k], n);
            fflush(stdout);
        }
        /* Stay LINGER_MS: readers get what they still miss, and late joiners of a
           transient-local topic get the history. */
        dds_time_t stay = dds_time() + DDS_MSECS(linger);
        for (int k = 0; k < ntopics; k++)
            if (ents[k] != 0) (void)dds_wait_for_acks(ents[k], DDS_MSECS(linger));
        while (dds_time() < stay) {
            poll_discovery();
            dds_sleepfor(DDS_MSECS(10));
        }
        free(buf);
    } else {
        dds_time_t deadline = t0 + DDS_MSECS(duration);
        void *samples[16] = {NULL};
        dds_sample_info_t infos[16];
        bool done = false;
        while (!done && dds_time() < deadline) {
            done = expect >= 0;
            for (int k = 0; k < ntopics; k++) {
                if (ents[k] == 0) continue;
                if (!matched[k]) {
                    dds_subscription_matched_status_t st;
                    if (dds_get_subscription_matched_status(ents[k], &st) == 0 &&
                        st.current_count > 0) {
                        matched[k] = true;
                        printf("matched %s %.1f\n", topics[k], ms_since(t0));
                        fflush(stdout);
                    }
                }
                int n;
                while ((n = dds_take(ents[k], samples, infos, 16, 16)) > 0) {
                    for (int j = 0; j < n; j++) {
                        if (!infos[j].valid_data) continue;
                        got[k]++;
                        if (!payload_ok(samples[j], pattern)) bad[k]++;
                    }
                    (void)dds_return_loan(ents[k], samples, n);
                }
                if (got[k] < expect) done = false;
            }
            poll_discovery();
            dds_sleepfor(DDS_MSECS(10));
        }
        for (int k = 0; k < ntopics; k++)
            if (ents[k] != 0) printf("received %s %ld bad %ld\n", topics[k], got[k], bad[k]);
    }
    poll_discovery();
    printf("participants %d\nendpoints %d\n", max_participants, max_endpoints);
    fflush(stdout);
    dds_delete(pp);
    return 0;
}
