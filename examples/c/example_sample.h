/* The sample type the example publisher and subscribers exchange.
 * SPDX-License-Identifier: Apache-2.0
 *
 * A sample is copied into shared memory as-is and read in place by another
 * process, so it is a fixed-size struct with no pointers. */
#ifndef ZFD_EXAMPLE_SAMPLE_H
#define ZFD_EXAMPLE_SAMPLE_H

#include <stdint.h>

typedef struct example_sample {
    uint64_t index;    /* 0, 1, 2, ... */
    double value;      /* index * 0.5 */
    char text[32];     /* "sample <index>", NUL-padded */
} example_sample;

/* Both sides hash this layout description with zfd_type_hash(): a subscriber
 * built against a different layout is refused with ZFD_E_TYPE_MISMATCH
 * instead of misreading the bytes. Change it whenever the struct changes.
 * (The Python and Rust readers of this sample use the same text.) */
#define EXAMPLE_SAMPLE_LAYOUT \
    "example_sample{index:u64@0:8,value:f64@8:8,text:char[32]@16:32}size=48,align=8"

/* C99 has no _Static_assert: a negative array size fails the build instead. */
typedef char example_sample_is_48_bytes[sizeof(example_sample) == 48 ? 1 : -1];

#endif
