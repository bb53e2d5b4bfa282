/*
 * dds_c99_consumer.c — <zerodds/flatdata_dds.h> from plain C99 (-pedantic
 * -Werror): it compiles, its structs have the layout pinned below (LP64), and
 * the calls that need no network behave as documented.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <zerodds/flatdata_dds.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define PIN(expr, value) _Static_assert((expr) == (value), #expr " == " #value)

#if defined(__LP64__) || defined(_LP64)
PIN(sizeof(zfd_dds_bridge_options), 56);
PIN(offsetof(zfd_dds_bridge_options, config), 16);
PIN(offsetof(zfd_dds_bridge_options, origin), 24);
PIN(offsetof(zfd_dds_bridge_options, source_grace_ns), 32);
PIN(offsetof(zfd_dds_bridge_options, on_event), 40);
PIN(offsetof(zfd_dds_bridge_options, event_arg), 48);
PIN(sizeof(zfd_dds_import_options), 40);
PIN(offsetof(zfd_dds_import_options, slot_capacity), 8);
PIN(offsetof(zfd_dds_import_options, type_hash), 20);
PIN(sizeof(zfd_dds_event), 80);
PIN(offsetof(zfd_dds_event, segment), 8);
PIN(offsetof(zfd_dds_event, message), 16);
PIN(offsetof(zfd_dds_event, instance_id), 24);
PIN(offsetof(zfd_dds_event, samples), 40);
PIN(offsetof(zfd_dds_event, is_export), 72);
#endif
PIN(ZFD_DDS_BEST_EFFORT, 1u);
PIN(ZFD_DDS_EXPORT_ALL, 2u);
PIN(ZFD_DDS_IMPORT_ALL, 4u);

#define CHECK(c)                                                            \
    do {                                                                    \
        if (!(c)) {                                                         \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);         \
            return 1;                                                       \
        }                                                                   \
    } while (0)

int main(void) {
    char topic[ZFD_DDS_TOPIC_NAME_MAX];
    char name[256];
    size_t len = 0;
    zfd_dds_bridge_options o;
    zfd_dds_import_options io;
    zfd_dds_bridge *b = (zfd_dds_bridge *)&o; /* never dereferenced: NULL checks only */

    CHECK(zfd_dds_topic_name("robot-1.pose", topic, sizeof topic, &len) == ZFD_OK);
    CHECK(strcmp(topic, "zfd/robot/2D1/2Epose") == 0 && len == strlen(topic));
    CHECK(zfd_dds_segment_name(topic, name, sizeof name, NULL) == ZFD_OK);
    CHECK(strcmp(name, "robot-1.pose") == 0);
    zfd_dds_bridge_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.domain_id == 0 && o.flags == 0);
    CHECK(o.config == NULL && o.origin == NULL && o.source_grace_ns == 5000000000LL);
    zfd_dds_import_options_init(&io);
    CHECK(io.slot_count == 64 && io.slot_capacity == 65536 && io.has_type_hash == 0);
    /* Bad input: codes, no crash, nothing created. */
    CHECK(zfd_dds_bridge_create(&o, NULL, NULL) == ZFD_E_INVAL);
    o.flags = 1u << 20;
    {
        zfd_dds_bridge *out = b;
        zfd_error err;
        memset(&err, 0, sizeof err);
        err.struct_size = sizeof err;
        CHECK(zfd_dds_bridge_create(&o, &out, &err) == ZFD_E_INVAL && out == NULL);
        CHECK(err.code == ZFD_E_INVAL && strstr(err.message, "flags") != NULL);
    }
    CHECK(zfd_dds_bridge_filter(NULL, ZFD_DDS_ALLOW, "*") == ZFD_E_INVAL);
    CHECK(zfd_dds_bridge_start(NULL) == ZFD_E_INVAL);
    CHECK(zfd_dds_export(NULL, "a", NULL) == ZFD_E_INVAL);
    CHECK(zfd_dds_import(NULL, "a", NULL, NULL) == ZFD_E_INVAL);
    zfd_dds_bridge_close(NULL);
    printf("ok\n");
    return 0;
}
