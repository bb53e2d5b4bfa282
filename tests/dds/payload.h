/*
 * payload.h — the self-checking sample of the cross-host tests, shared by the
 * zfd test peer and the plain Cyclone DDS programs (C99, no library).
 *
 * A sample of n >= 16 bytes is [u64 index][u64 check][body of n - 16 bytes],
 * body byte i = (index * 131 + i * 7) mod 256, check = FNV-1a 64 over the
 * index bytes and the body. index is the writer's sequence number, which a
 * mirror keeps, so a reader on another host checks index == sequence too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef ZFD_TEST_PAYLOAD_H
#define ZFD_TEST_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAYLOAD_MIN 16

static uint64_t payload_fnv(uint64_t h, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Writes sample `index` of n bytes (n >= PAYLOAD_MIN) into dst. */
static void payload_make(void *dst, size_t n, uint64_t index) {
    unsigned char *p = (unsigned char *)dst;
    uint64_t check;
    size_t i;
    memcpy(p, &index, 8);
    for (i = 0; i < n - 16; ++i) p[16 + i] = (unsigned char)(index * 131u + i * 7u);
    check = payload_fnv(0xcbf29ce484222325ull, p, 8);
    check = payload_fnv(check, p + 16, n - 16);
    memcpy(p + 8, &check, 8);
}

/* 1 when src (n bytes) is an intact sample; its index into *index. */
static int payload_check(const void *src, size_t n, uint64_t *index) {
    const unsigned char *p = (const unsigned char *)src;
    uint64_t idx, check, want;
    size_t i;
    if (n < PAYLOAD_MIN) return 0;
    memcpy(&idx, p, 8);
    memcpy(&check, p + 8, 8);
    want = payload_fnv(0xcbf29ce484222325ull, p, 8);
    want = payload_fnv(want, p + 16, n - 16);
    if (check != want) return 0;
    for (i = 0; i < n - 16; ++i)
        if (p[16 + i] != (unsigned char)(idx * 131u + i * 7u)) return 0;
    *index = idx;
    return 1;
}

#endif
