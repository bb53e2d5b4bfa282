/*
 * layout_check.c — pins the memory layout of every public struct and the
 * value of every status code, at compile time. If this file stops compiling,
 * the ABI changed: that needs a new version node, not an edit here.
 * Expected values are computed by hand for LP64 (x86_64, aarch64).
 * Built with -std=c11 -pedantic -Werror (suite "abi").
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <zerodds/flatdata.h>

#include <stddef.h>
#include <stdint.h>

#define ZFD_ASSERT_EQ(expr, value) _Static_assert((expr) == (value), #expr " == " #value)

/* ---- scalar types and constants ---- */
ZFD_ASSERT_EQ(sizeof(zfd_slot), 8);
ZFD_ASSERT_EQ(ZFD_TYPE_HASH_SIZE, 16);
ZFD_ASSERT_EQ(ZFD_MAX_READERS, 64);
ZFD_ASSERT_EQ(ZFD_WAIT_FOREVER, -1);
ZFD_ASSERT_EQ(ZFD_SEGMENT_REPLACE_STALE, 1u);
ZFD_ASSERT_EQ(ZFD_SEGMENT_MIRROR, 2u);
ZFD_ASSERT_EQ(ZFD_INSTANCE_ID_SIZE, 16);
ZFD_ASSERT_EQ(ZFD_ORIGIN_SIZE, 64);
ZFD_ASSERT_EQ(ZFD_VERSION_NUMBER,
              ZFD_VERSION_MAJOR * 10000 + ZFD_VERSION_MINOR * 100 + ZFD_VERSION_PATCH);

/* ---- status codes: pinned forever ---- */
ZFD_ASSERT_EQ(ZFD_OK, 0);
ZFD_ASSERT_EQ(ZFD_E_INVAL, -1);
ZFD_ASSERT_EQ(ZFD_E_NOMEM, -2);
ZFD_ASSERT_EQ(ZFD_E_NO_FREE_SLOT, -3);
ZFD_ASSERT_EQ(ZFD_E_TOO_LARGE, -4);
ZFD_ASSERT_EQ(ZFD_E_NOT_LOANED, -5);
ZFD_ASSERT_EQ(ZFD_E_NO_SAMPLE, -6);
ZFD_ASSERT_EQ(ZFD_E_TIMEOUT, -7);
ZFD_ASSERT_EQ(ZFD_E_TYPE_MISMATCH, -8);
ZFD_ASSERT_EQ(ZFD_E_INCOMPATIBLE, -9);
ZFD_ASSERT_EQ(ZFD_E_CORRUPT, -10);
ZFD_ASSERT_EQ(ZFD_E_EXISTS, -11);
ZFD_ASSERT_EQ(ZFD_E_NOT_FOUND, -12);
ZFD_ASSERT_EQ(ZFD_E_PERMISSION, -13);
ZFD_ASSERT_EQ(ZFD_E_NO_READER_SLOT, -14);
ZFD_ASSERT_EQ(ZFD_E_EVICTED, -15);
ZFD_ASSERT_EQ(ZFD_E_UNSUPPORTED, -16);
ZFD_ASSERT_EQ(ZFD_E_PEER_GONE, -17);
ZFD_ASSERT_EQ(ZFD_E_SYSTEM, -18);
ZFD_ASSERT_EQ(ZFD_E_INTERNAL, -19);
ZFD_ASSERT_EQ(ZFD_E_DETACHED, -20);

/* ---- zfd_error: only 4-byte members, no padding ---- */
ZFD_ASSERT_EQ(offsetof(zfd_error, struct_size), 0);
ZFD_ASSERT_EQ(offsetof(zfd_error, code), 4);
ZFD_ASSERT_EQ(offsetof(zfd_error, sys_errno), 8);
ZFD_ASSERT_EQ(offsetof(zfd_error, message), 12);
ZFD_ASSERT_EQ(sizeof(((zfd_error *)0)->message), 256);
ZFD_ASSERT_EQ(sizeof(zfd_error), 268);
ZFD_ASSERT_EQ(_Alignof(zfd_error), 4);

/* The first member of every extensible struct is its uint32_t struct_size. */
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, struct_size), 0);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, struct_size), 0);

#if defined(__LP64__) || defined(_LP64) || defined(__x86_64__) || defined(__aarch64__)

/* ---- zfd_segment_options (uint64_t aligned to 8) ----
 *   0 struct_size   4 slot_count   8 slot_capacity  16 mode  20 flags
 *  24 has_type_hash 28 type_hash[16] 44 reserved -> 48 (the 0.1 size)
 *  0.2: 48 history 52 reserved2 56 mirror_of[16] 72 origin[64] -> 136 */
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, slot_count), 4);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, slot_capacity), 8);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, mode), 16);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, flags), 20);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, has_type_hash), 24);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, type_hash), 28);
ZFD_ASSERT_EQ(sizeof(((zfd_segment_options *)0)->type_hash), 16);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, reserved), 44);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, history), 48);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, reserved2), 52);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, mirror_of), 56);
ZFD_ASSERT_EQ(offsetof(zfd_segment_options, origin), 72);
ZFD_ASSERT_EQ(sizeof(zfd_segment_options), 136);
ZFD_ASSERT_EQ(_Alignof(zfd_segment_options), 8);

/* ---- zfd_segment_info ----
 *   0 struct_size  4 slot_count  8 slot_capacity 16 slot_stride 24 total_size
 *  32 segment_id  40 is_named   44 is_owner      48 has_type_hash
 *  52 type_hash[16] -> 68, pad to 72: active_readers 80 owner_pid
 *  84 owner_alive 88 next_sequence -> 96 (the 0.1 size)
 *  0.2: 96 instance_id[16] 112 flags 116 history 120 mirror_of[16]
 *  136 origin[64] -> 200 */
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, slot_count), 4);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, slot_capacity), 8);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, slot_stride), 16);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, total_size), 24);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, segment_id), 32);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, is_named), 40);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, is_owner), 44);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, has_type_hash), 48);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, type_hash), 52);
ZFD_ASSERT_EQ(sizeof(((zfd_segment_info *)0)->type_hash), 16);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, active_readers), 72);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, owner_pid), 80);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, owner_alive), 84);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, next_sequence), 88);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, instance_id), 96);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, flags), 112);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, history), 116);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, mirror_of), 120);
ZFD_ASSERT_EQ(offsetof(zfd_segment_info, origin), 136);
ZFD_ASSERT_EQ(sizeof(zfd_segment_info), 200);
ZFD_ASSERT_EQ(_Alignof(zfd_segment_info), 8);

#else
#error "layout_check.c: expected layouts are written for LP64 targets; add this platform's values"
#endif

int main(void) { return 0; }
