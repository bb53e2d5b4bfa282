/*
 * consumer.c — a plain C99 program using libzerodds_flatdata only through
 * <zerodds/flatdata.h>. Built twice: by Meson against the build tree
 * (suite "consumers"), and by tests/c/pkgconfig_consumer.sh against an
 * installed copy found with pkg-config. Must compile with
 * -std=c99 -pedantic -Wall -Wextra -Werror.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <zerodds/flatdata.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                           \
        }                                                                         \
    } while (0)

#define CHECK_STATUS(expr, expected)                                                  \
    do {                                                                              \
        int32_t got_ = (expr);                                                        \
        if (got_ != (expected)) {                                                     \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, \
                    __LINE__, #expr, (int)got_, zfd_status_str(got_), (int)(expected),   \
                    zfd_status_str(expected));                                        \
            ++failures;                                                               \
        }                                                                             \
    } while (0)

/* The sample a publisher would send: a fixed-size, flat C struct. */
typedef struct sample {
    uint32_t index;
    uint32_t magic;
    char text[24];
} sample;

int main(void) {
    zfd_segment_options opts;
    zfd_segment *segment = NULL;
    zfd_reader *reader = NULL;
    zfd_error err;
    uint64_t published_seq[3];
    uint64_t last_seq = 0;
    uint32_t i;

    /* Version: header and loaded library agree. */
    CHECK(zfd_version_number() == ZFD_VERSION_NUMBER);
    CHECK(zfd_version_string() != NULL);

    /* Status texts: static, never NULL, unknown codes say so. */
    CHECK(zfd_status_str(ZFD_OK) != NULL);
    CHECK(zfd_status_str(ZFD_E_NO_SAMPLE) != NULL);
    CHECK(strcmp(zfd_status_str(ZFD_E_INVAL), zfd_status_str(ZFD_E_NO_SAMPLE)) != 0);
    CHECK(strstr(zfd_status_str(-12345), "unknown") != NULL);

    /* An in-memory segment and one reader. */
    zfd_segment_options_init(&opts);
    CHECK(opts.struct_size == sizeof opts);
    opts.slot_count = 8;
    opts.slot_capacity = sizeof(sample);
    memset(&err, 0, sizeof err);
    err.struct_size = sizeof err;
    CHECK_STATUS(zfd_segment_create(NULL, &opts, &segment, &err), ZFD_OK);
    if (segment == NULL) {
        fprintf(stderr, "zfd_segment_create failed: %s\n", err.message);
        return 1;
    }
    CHECK_STATUS(zfd_reader_open(segment, 0, &reader), ZFD_OK);
    if (reader == NULL) {
        zfd_segment_close(segment);
        return 1;
    }
    CHECK(zfd_reader_index(reader) < ZFD_MAX_READERS);

    /* Nothing yet. */
    {
        zfd_slot slot = 0;
        CHECK_STATUS(zfd_take(reader, &slot, NULL, NULL, NULL), ZFD_E_NO_SAMPLE);
    }

    /* Publish three samples: one copied in by zfd_publish, two written in place. */
    for (i = 0; i < 3; ++i) {
        sample s;
        memset(&s, 0, sizeof s);
        s.index = i;
        s.magic = 0xC0FFEEu;
        sprintf(s.text, "sample-%u", (unsigned)i);
        if (i == 0) {
            CHECK_STATUS(zfd_publish(segment, &s, sizeof s, &published_seq[i]), ZFD_OK);
        } else {
            zfd_slot slot = 0;
            void *data = NULL;
            CHECK_STATUS(zfd_reserve(segment, &slot, &data), ZFD_OK);
            CHECK(data != NULL);
            if (data == NULL) break;
            memcpy(data, &s, sizeof s);
            CHECK_STATUS(zfd_commit_in_place(segment, slot, sizeof s, &published_seq[i]), ZFD_OK);
        }
    }

    /* Take them in place: commit order, exact contents, increasing sequences. */
    for (i = 0; i < 3; ++i) {
        zfd_slot slot = 0;
        const void *data = NULL;
        size_t len = 0;
        uint64_t seq = 0;
        sample s;
        char expected[24];

        CHECK_STATUS(zfd_take(reader, &slot, &data, &len, &seq), ZFD_OK);
        CHECK(data != NULL);
        CHECK(len == sizeof(sample));
        if (data == NULL || len != sizeof(sample)) continue;
        memcpy(&s, data, sizeof s);
        sprintf(expected, "sample-%u", (unsigned)i);
        CHECK(s.index == i);
        CHECK(s.magic == 0xC0FFEEu);
        CHECK(strcmp(s.text, expected) == 0);
        CHECK(seq == published_seq[i]);
        if (i > 0) CHECK(seq > last_seq);
        last_seq = seq;
        CHECK_STATUS(zfd_release(reader, slot), ZFD_OK);
        CHECK_STATUS(zfd_release(reader, slot), ZFD_E_NOT_LOANED);
    }

    {
        zfd_slot slot = 0;
        CHECK_STATUS(zfd_take(reader, &slot, NULL, NULL, NULL), ZFD_E_NO_SAMPLE);
    }

    /* Bad arguments give codes, not crashes. */
    CHECK_STATUS(zfd_publish(NULL, "x", 1, NULL), ZFD_E_INVAL);
    CHECK_STATUS(zfd_take(NULL, NULL, NULL, NULL, NULL), ZFD_E_INVAL);

    zfd_reader_close(reader);
    zfd_segment_close(segment);
    zfd_reader_close(NULL);
    zfd_segment_close(NULL);

    if (failures != 0) {
        fprintf(stderr, "consumer: %d check(s) failed\n", failures);
        return 1;
    }
    printf("consumer: ok (library %s)\n", zfd_version_string());
    return 0;
}
