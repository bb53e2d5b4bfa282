#!/usr/bin/env python3
"""asyncio_subscriber.py NAME COUNT: read example_samples from the C
publisher inside an asyncio event loop.

The reader's descriptor (Reader.fileno(), zfd_reader_fd) is watched by the
loop like any socket: ``async for`` takes every sample as it comes and awaits
the descriptor in between, so the loop stays free for other tasks (here a
heartbeat). Same output as subscriber.py:

    examples/c/zfd-example-pub demo 10 &
    PYTHONPATH=python python3 examples/python/asyncio_subscriber.py demo 10

SPDX-License-Identifier: Apache-2.0
"""
import asyncio
import struct
import sys
import time

import zerodds_flatdata as zfd

SAMPLE = struct.Struct("<Qd32s")  # struct example_sample (examples/c/example_sample.h)
LAYOUT = b"example_sample{index:u64@0:8,value:f64@8:8,text:char[32]@16:32}size=48,align=8"


async def open_when_ready(name, type_hash, timeout=10.0):
    """The publisher may not have created the segment yet: retry for a while."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return zfd.Segment.open(name, type_hash=type_hash)
        except zfd.ZfdError as e:
            if e.code not in (zfd.E_NOT_FOUND, zfd.E_TIMEOUT) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.01)


async def heartbeat(counter):
    while True:
        await asyncio.sleep(0.01)
        counter[0] += 1


async def main(name, count):
    beats = [0]
    beat = asyncio.create_task(heartbeat(beats))
    received = 0
    with await open_when_ready(name, zfd.type_hash(LAYOUT)) as seg, seg.reader() as reader:
        # Ends by itself when the publisher closes and everything is read.
        async for data in reader:
            index, value, text = SAMPLE.unpack_from(data)
            text = text.rstrip(b"\0").decode()
            print(f'seq {reader.last_sequence}: index {index} value {value:.1f} text "{text}"')
            received += 1
            if received == count:
                break
    beat.cancel()
    print(f"heartbeats while waiting: {beats[0]}", file=sys.stderr)
    print(f"received {received} of {count}")
    return 0 if received == count else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} NAME COUNT")
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
