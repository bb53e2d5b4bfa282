#!/usr/bin/env python3
"""subscriber.py NAME COUNT: read example_samples from the C publisher.

The Python twin of examples/c/subscriber.c, using python/zerodds_flatdata.py
(put python/ on PYTHONPATH and libzerodds_flatdata.so.0 on the library path):

    examples/c/zfd-example-pub demo 10 &
    PYTHONPATH=python python3 examples/python/subscriber.py demo 10

SPDX-License-Identifier: Apache-2.0
"""
import struct
import sys
import time

import zerodds_flatdata as zfd

# struct example_sample from examples/c/example_sample.h:
#   uint64_t index; double value; char text[32];  -> 48 bytes, little-endian here
SAMPLE = struct.Struct("<Qd32s")
# The same layout text the C side hashes: a mismatch is refused at open.
LAYOUT = b"example_sample{index:u64@0:8,value:f64@8:8,text:char[32]@16:32}size=48,align=8"


def open_when_ready(name, type_hash, timeout=10.0):
    """The publisher may not have created the segment yet: retry for a while."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return zfd.Segment.open(name, type_hash=type_hash)
        except zfd.ZfdError as e:
            # NOT_FOUND: not created yet; TIMEOUT: the owner is still initialising it
            if e.code not in (zfd.E_NOT_FOUND, zfd.E_TIMEOUT) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} NAME COUNT")
    name, count = sys.argv[1], int(sys.argv[2])
    received = 0
    with open_when_ready(name, zfd.type_hash(LAYOUT)) as seg, seg.reader() as reader:
        try:
            while received < count:
                if not reader.wait(timeout=5.0):       # sleeps until the next commit
                    print("subscriber: timed out", file=sys.stderr)
                    break
                with reader.take() as sample:          # released at the end of the block
                    # sample.data is a read-only memoryview on the shared slot: no copy
                    index, value, text = SAMPLE.unpack_from(sample.data)
                    text = text.rstrip(b"\0").decode()
                    print(f'seq {sample.sequence}: index {index} value {value:.1f} text "{text}"')
                received += 1
        except zfd.ZfdError as e:
            if e.code != zfd.E_PEER_GONE:              # PEER_GONE: publisher closed, all read
                raise
            print("subscriber: publisher gone", file=sys.stderr)
    print(f"received {received} of {count}")
    return 0 if received == count else 1


if __name__ == "__main__":
    sys.exit(main())
