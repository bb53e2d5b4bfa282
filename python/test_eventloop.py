"""Tests of the event-loop parts of the Python binding: Reader.fileno(),
Reader.wait_async(), ``async for`` over a reader, Segment.fileno().

Run with libzerodds_flatdata.so.0 on the library path and python/ on
PYTHONPATH (meson test does both).
SPDX-License-Identifier: Apache-2.0
"""
import asyncio
import os
import select
import struct
import sys
import time
import unittest

import zerodds_flatdata as zfd

U64 = struct.Struct("<Q")


def readable(fd, timeout=0.0):
    r, _, _ = select.select([fd], [], [], timeout)
    return bool(r)


class ReaderFileno(unittest.TestCase):
    def test_readable_on_commit_quiet_after_draining(self):
        with zfd.Segment.create(None, slot_count=8, slot_capacity=64) as seg, seg.reader() as rd:
            fd = rd.fileno()
            self.assertEqual(fd, rd.fileno())
            self.assertFalse(readable(fd))
            seg.publish(U64.pack(7))
            self.assertTrue(readable(fd))
            self.assertEqual(rd.take_copy(), U64.pack(7))
            self.assertIsNone(rd.take_copy())
            self.assertFalse(readable(fd))

    def test_segment_fileno_readable_when_a_slot_frees(self):
        with zfd.Segment.create(None, slot_count=2, slot_capacity=64) as seg, seg.reader() as rd:
            sfd = seg.fileno()
            with self.assertRaises(zfd.ZfdError) as cm:
                for i in range(3):
                    seg.publish(U64.pack(i))
            self.assertEqual(cm.exception.code, zfd.E_NO_FREE_SLOT)
            self.assertFalse(readable(sfd))
            rd.take_copy()
            self.assertTrue(readable(sfd))


class Asyncio(unittest.TestCase):
    def test_wait_async_times_out_then_wakes(self):
        async def main():
            with zfd.Segment.create(None, slot_count=8, slot_capacity=64) as seg, \
                    seg.reader() as rd:
                self.assertFalse(await rd.wait_async(timeout=0.05))
                loop = asyncio.get_running_loop()
                loop.call_later(0.05, seg.publish, U64.pack(1))
                t0 = time.monotonic()
                self.assertTrue(await rd.wait_async(timeout=5))
                self.assertLess(time.monotonic() - t0, 4)
                self.assertEqual(rd.take_copy(), U64.pack(1))
        asyncio.run(main())

    def test_async_for_gets_every_sample_from_another_process(self):
        name = f"pyev-{os.getpid()}"
        n = 2000
        created_r, created_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer process: owner, waits for space on its descriptor
            code = 1
            try:
                seg = zfd.Segment.create(name, slot_count=16, slot_capacity=64,
                                         replace_stale=True)
                sfd = seg.fileno()
                os.write(created_w, b"c")
                os.read(go_r, 1)
                i = 0
                while i < n:
                    try:
                        seg.publish(U64.pack(i))
                        i += 1
                    except zfd.ZfdError as e:
                        if e.code != zfd.E_NO_FREE_SLOT or not readable(sfd, 5.0):
                            raise
                seg.close()  # readers: PEER_GONE after the last sample
                code = 0
            finally:
                os._exit(code)
        self.assertEqual(os.read(created_r, 1), b"c")
        consumer = zfd.Segment.open(name)
        rd = consumer.reader()

        async def main():
            got = []
            ticks = 0

            async def ticker():  # the loop stays free for other work
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.001)
                    ticks += 1

            t = asyncio.create_task(ticker())
            os.write(go_w, b"g")
            async for data in rd:
                got.append(U64.unpack(data)[0])
            t.cancel()
            return got, ticks

        try:
            got, ticks = asyncio.run(asyncio.wait_for(main(), 60))
        finally:
            _, status = os.waitpid(pid, 0)
            rd.close()
            consumer.close()
            for fd in (created_r, created_w, go_r, go_w):
                os.close(fd)
            try:  # a writer that failed may have left it
                zfd.unlink(name)
            except zfd.ZfdError:
                pass
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(got, list(range(n)))  # none missed, none twice
        self.assertGreater(ticks, 0)
        self.assertFalse(os.path.exists(f"/dev/shm/zfd.{name}"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
