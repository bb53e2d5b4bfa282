/*
 * v01_consumer.c — a program built against the 0.1 ABI keeps working with
 * this library. It is compiled against the 0.1 header, frozen verbatim in
 * tests/abi/v0.1/, and bound to the 0.1 version of the one function whose
 * behaviour moved (zfd_segment_options_init, which fills the larger 0.2
 * struct in its default version): exactly what the linker records for a
 * program linked against libzerodds_flatdata 0.1.
 *
 * Checks: the 0.1 init writes its 48 bytes and not one more; create accepts
 * that struct; get_info with the 0.1 struct_size writes 96 bytes and not one
 * more; data flows. The default (0.2) version, found with dlsym, is a
 * different function that fills the 0.2 size.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE
#include <zerodds/flatdata.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

__asm__(".symver zfd_segment_options_init,zfd_segment_options_init@ZFD_0.1");

#define GUARD 0xC3
#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                     \
        }                                                                 \
    } while (0)

struct guarded_options {
    zfd_segment_options opts;
    unsigned char guard[256];
};

struct guarded_info {
    zfd_segment_info info;
    unsigned char guard[256];
};

static int all_guard(const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i)
        if (p[i] != GUARD) return 0;
    return 1;
}

int main(void) {
    struct guarded_options o;
    struct guarded_info i;
    zfd_segment *seg = NULL;
    zfd_reader *rd = NULL;
    zfd_slot slot;
    const void *data;
    size_t len;
    uint64_t seq = 99, value = 0x1122334455667788ull;
    void *lib;
    void (*init_default)(void *);
    void (*init_v01)(void *);
    unsigned char big[512];

    CHECK(sizeof(zfd_segment_options) == 48);
    CHECK(sizeof(zfd_segment_info) == 96);

    memset(&o, GUARD, sizeof o);
    zfd_segment_options_init(&o.opts);
    CHECK(o.opts.struct_size == 48);
    CHECK(o.opts.slot_count == 64 && o.opts.slot_capacity == 1024 && o.opts.mode == 0600);
    CHECK(all_guard(o.guard, sizeof o.guard));

    o.opts.slot_count = 4;
    o.opts.slot_capacity = 64;
    CHECK(zfd_segment_create(NULL, &o.opts, &seg, NULL) == ZFD_OK);
    CHECK(zfd_reader_open(seg, 0, &rd) == ZFD_OK);
    CHECK(zfd_publish(seg, &value, sizeof value, &seq) == ZFD_OK && seq == 0);
    CHECK(zfd_take(rd, &slot, &data, &len, &seq) == ZFD_OK);
    CHECK(len == sizeof value && memcmp(data, &value, len) == 0 && seq == 0);
    CHECK(zfd_release(rd, slot) == ZFD_OK);

    memset(&i, GUARD, sizeof i);
    i.info.struct_size = sizeof i.info;
    CHECK(zfd_segment_get_info(seg, &i.info) == ZFD_OK);
    CHECK(i.info.slot_count == 4 && i.info.next_sequence == 1);
    CHECK(all_guard(i.guard, sizeof i.guard));
    zfd_reader_close(rd);
    zfd_segment_close(seg);

    /* Through the dynamic linker: the default version is the 0.2 one. */
    lib = dlopen("libzerodds_flatdata.so.0", RTLD_NOW);
    CHECK(lib != NULL);
    *(void **)(&init_default) = dlsym(lib, "zfd_segment_options_init");
    *(void **)(&init_v01) = dlvsym(lib, "zfd_segment_options_init", "ZFD_0.1");
    CHECK(init_default != NULL && init_v01 != NULL && init_default != init_v01);
    memset(big, GUARD, sizeof big);
    init_v01(big);
    CHECK(big[0] == 48 && all_guard(big + 48, sizeof big - 48));
    memset(big, GUARD, sizeof big);
    init_default(big);
    CHECK(big[0] > 48 && big[0] < 255 && all_guard(big + big[0], sizeof big - big[0]));
    dlclose(lib);
    printf("ok: a 0.1 program's structs are written exactly to their 0.1 sizes\n");
    return 0;
}
