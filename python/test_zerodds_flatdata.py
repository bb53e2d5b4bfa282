#!/usr/bin/env python3
"""unittest tests of python/zerodds_flatdata.py (the ctypes binding).

Run with the library and the module findable, e.g.
  LD_LIBRARY_PATH=build/capi PYTHONPATH=python python3 python/test_zerodds_flatdata.py
SPDX-License-Identifier: Apache-2.0
"""

import ctypes
import glob
import os
import re
import struct
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import zerodds_flatdata as zfd  # noqa: E402

HEADER = os.environ.get("ZFD_HEADER",
                        os.path.join(HERE, "..", "include", "zerodds", "flatdata.h"))
PREFIX = f"pyzfd-{os.getpid()}-"
_counter = 0


def unique_name(tag: str) -> str:
    global _counter
    _counter += 1
    return f"{PREFIX}{tag}-{_counter}"


def leftovers():
    return glob.glob(f"/dev/shm/zfd.{PREFIX}*")


class DeclarationsTest(unittest.TestCase):
    def test_every_header_function_is_declared(self):
        """Each ZFD_API function has argtypes and a restype matching the header."""
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        ret_types = {"int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32,
                     "uint64_t": ctypes.c_uint64, "const char *": ctypes.c_char_p, "void": None}
        decls = re.findall(r"ZFD_API\s+([^;(]*?)\s*\b(zfd_\w+)\s*\(([^)]*)\)", text)
        self.assertGreater(len(decls), 20)
        self.assertEqual({d[1] for d in decls}, set(zfd._PROTOTYPES))
        for ret, name, params in decls:
            fn = getattr(zfd._lib, name)
            self.assertIs(fn.restype, ret_types[ret.strip()], name)
            nparams = 0 if params.strip() == "void" else params.count(",") + 1
            self.assertEqual(len(fn.argtypes), nparams, name)

    def test_version(self):
        expected = os.environ["ZFD_PROJECT_VERSION"]  # meson.project_version()
        major, minor, patch = (int(x) for x in expected.split("."))
        self.assertEqual(zfd.version_number(), major * 10000 + minor * 100 + patch)
        self.assertEqual(zfd.version(), expected)

    def test_status_str(self):
        self.assertNotEqual(zfd.status_str(zfd.E_NOT_LOANED), zfd.status_str(zfd.E_INVAL))
        self.assertIn("unknown", zfd.status_str(-1000))


class InMemoryTest(unittest.TestCase):
    def setUp(self):
        self.seg = zfd.Segment.create(slot_count=8, slot_capacity=64)
        self.addCleanup(self.seg.close)

    def test_round_trip(self):
        with self.seg.reader() as rd:
            self.assertIsNone(rd.take())
            self.assertFalse(rd.wait(0))
            seq = self.seg.publish(b"hello")
            self.assertTrue(rd.wait(1.0))
            with rd.take() as s:
                self.assertIsInstance(s.data, memoryview)
                self.assertTrue(s.data.readonly)
                self.assertEqual(bytes(s.data), b"hello")
                self.assertEqual(len(s), 5)
                self.assertEqual(s.sequence, seq)
                self.assertEqual(s.address % 64, 0)
            self.assertEqual(s.data.__class__, memoryview)
            with self.assertRaises(ValueError):  # released view
                bytes(s.data)
            self.seg.publish(bytearray(b"copy"))
            self.assertEqual(rd.take_copy(), b"copy")
            self.assertEqual(rd.last_sequence, seq + 1)
            self.assertIsNone(rd.take_copy())

    def test_info(self):
        info = self.seg.info
        self.assertIsInstance(info, zfd.SegmentInfo)
        self.assertEqual((info.slot_count, info.slot_capacity), (8, 64))
        self.assertFalse(info.is_named)
        self.assertTrue(info.is_owner)
        self.assertTrue(info.owner_alive)
        self.assertEqual(info.owner_pid, os.getpid())
        self.assertIsNone(info.type_hash)
        self.assertEqual(info.reader_count, 0)
        with self.seg.reader() as rd:
            self.assertEqual(self.seg.info.active_readers, 1 << rd.index)
        self.assertEqual(self.seg.info.active_readers, 0)

    def test_overwrite_oldest_never_waits_and_spares_held_samples(self):
        seg = zfd.Segment.create(slot_count=4, slot_capacity=16, overwrite_oldest=True)
        self.addCleanup(seg.close)
        self.assertTrue(seg.info.overwrite_oldest)
        with seg.reader() as held_by, seg.reader() as lazy:
            seg.publish(b"first")
            kept = held_by.take()
            for i in range(50):
                seg.publish(b"n%d" % i)      # never E_NO_FREE_SLOT
            self.assertEqual(bytes(kept.data), b"first")
            kept.release()
            got = []
            while (s := lazy.take()) is not None:
                with s:
                    got.append(bytes(s.data))
            self.assertEqual(got[-1], b"n49")
            self.assertLess(len(got), 50)   # it lost the oldest ones

    def test_history_for_a_late_joiner(self):
        seg = zfd.Segment.create(slot_count=8, slot_capacity=16, history=3)
        self.addCleanup(seg.close)
        self.assertEqual(seg.info.history, 3)
        for i in range(6):
            seg.publish(b"h%d" % i)
        with seg.reader(history=True) as late, seg.reader() as plain:
            seg.publish(b"live")
            seqs = []
            while (s := late.take()) is not None:
                with s:
                    seqs.append(s.sequence)
            self.assertEqual(seqs, [3, 4, 5, 6])
            self.assertEqual(plain.take().sequence, 6)
        with self.assertRaises(zfd.ZfdError) as e:
            zfd.Segment.create(slot_count=4, slot_capacity=8, history=4)
        self.assertEqual(e.exception.code, zfd.E_INVAL)

    def test_take_latest(self):
        with self.seg.reader() as rd:
            self.assertIsNone(rd.take_latest())
            for i in range(5):
                self.seg.publish(b"v%d" % i)
            with rd.take_latest() as s:
                self.assertEqual((bytes(s.data), s.sequence), (b"v4", 4))
            self.assertIsNone(rd.take())  # the older ones count as read

    def test_info_provenance(self):
        info = self.seg.info
        self.assertEqual(len(info.instance_id), zfd.INSTANCE_ID_SIZE)
        self.assertNotEqual(info.instance_id, bytes(zfd.INSTANCE_ID_SIZE))
        other = zfd.Segment.create(slot_count=2, slot_capacity=8)
        self.addCleanup(other.close)
        self.assertNotEqual(other.info.instance_id, info.instance_id)
        self.assertEqual((info.flags, info.mirror_of, info.origin), (0, None, ""))

    def test_commit_as_carries_a_chosen_sequence(self):
        with self.seg.reader() as rd:
            self.assertEqual(self.seg.publish(b"a"), 0)
            loan = self.seg.reserve()
            loan.data[:1] = b"b"
            with self.assertRaises(zfd.ZfdError) as cm:
                loan.commit_as(1, 0)  # behind next_sequence: the loan stays open
            self.assertEqual(cm.exception.code, zfd.E_INVAL)
            self.assertEqual(loan.commit_as(1, 500), 500)
            self.assertEqual(self.seg.info.next_sequence, 501)
            seqs = []
            for _ in range(2):
                with rd.take() as sample:
                    seqs.append((sample.sequence, bytes(sample.data)))
            self.assertEqual(seqs, [(0, b"a"), (500, b"b")])

    def test_reserve_commit_in_place(self):
        with self.seg.reader() as rd:
            loan = self.seg.reserve()
            self.assertEqual(loan.address % 64, 0)
            self.assertEqual(len(loan.data), 64)
            struct.pack_into("<Id", loan.data, 0, 42, 1.5)
            with self.assertRaises(zfd.ZfdError) as cm:
                loan.commit(65)
            self.assertEqual(cm.exception.code, zfd.E_TOO_LARGE)
            seq = loan.commit(struct.calcsize("<Id"))  # the loan stayed open
            self.assertEqual(loan.sequence, seq)
            with rd.take() as s:
                self.assertEqual(struct.unpack_from("<Id", s.data), (42, 1.5))
            with self.seg.reserve(timeout=1.0) as loan2:
                loan2.commit_bytes(b"xyz")
            self.assertEqual(rd.take_copy(), b"xyz")
            gen = self.seg.notify_generation()
            with self.seg.reserve():  # not committed: discarded on exit
                pass
            self.assertNotEqual(self.seg.notify_generation(), gen)
            self.assertIsNone(rd.take())

    def test_zero_copy_two_readers(self):
        with self.seg.reader() as r1, self.seg.reader() as r2:
            self.assertNotEqual(r1.index, r2.index)
            self.seg.publish(b"\x01\x02\x03\x04")
            s1, s2 = r1.take(), r2.take()
            self.assertEqual(s1.address, s2.address)
            self.assertEqual(s1.sequence, s2.sequence)
            # Both views alias the slot itself: a byte written at the address
            # (in-memory segment, so the heap region is writable) shows in both.
            ctypes.memset(s1.address, 0x55, 1)
            self.assertEqual(s1.data[0], 0x55)
            self.assertEqual(s2.data[0], 0x55)
            self.assertEqual(ctypes.string_at(s2.address, 4), bytes(s1.data))
            with self.assertRaises(TypeError):
                s1.data[0] = 1  # read-only
            s1.release()
            s2.release()

    def test_ordering_and_backpressure(self):
        with self.seg.reader() as rd:
            expected = 0
            first = None
            for batch in range(25):
                for i in range(8):
                    self.seg.publish(struct.pack("<Q", batch * 8 + i))
                with self.assertRaises(zfd.ZfdError) as cm:
                    self.seg.publish(b"full")
                self.assertEqual(cm.exception.code, zfd.E_NO_FREE_SLOT)
                while (s := rd.take()) is not None:
                    with s:
                        if first is None:
                            first = s.sequence
                        self.assertEqual(s.sequence, first + expected)
                        self.assertEqual(struct.unpack_from("<Q", s.data)[0], expected)
                        expected += 1
            self.assertEqual(expected, 200)

    def test_errors(self):
        rd = self.seg.reader()
        self.seg.publish(b"a")
        s = rd.take()
        s.release()
        with self.assertRaises(zfd.ZfdError) as cm:
            s.release()  # the token was used: the library refuses it
        self.assertEqual(cm.exception.code, zfd.E_NOT_LOANED)
        self.assertEqual(cm.exception.status, zfd.status_str(zfd.E_NOT_LOANED))
        self.assertIn(zfd.status_str(zfd.E_NOT_LOANED), str(cm.exception))
        rd.close()
        with self.assertRaises(zfd.ZfdError) as cm:
            rd.take()  # closed handle is passed as NULL
        self.assertEqual(cm.exception.code, zfd.E_INVAL)
        with self.assertRaises(zfd.ZfdError) as cm:
            zfd.Segment.create(slot_count=0)
        self.assertEqual(cm.exception.code, zfd.E_INVAL)
        self.assertTrue(cm.exception.message)
        with self.assertRaises(zfd.ZfdError) as cm:
            zfd.Segment.create("bad/name")
        self.assertEqual(cm.exception.code, zfd.E_INVAL)
        with self.assertRaises(ValueError):
            rd.wait(-1)

    def test_close_invalidates_held_views(self):
        rd = self.seg.reader()
        self.seg.publish(b"held")
        s = rd.take()
        rd.close()
        with self.assertRaises(ValueError):
            s.data[0]

    def test_notify_generation(self):
        gen = self.seg.notify_generation()
        self.assertFalse(self.seg.wait_for_change(gen, 0.01))
        self.seg.publish(b"x")
        self.assertNotEqual(self.seg.notify_generation(), gen)
        self.assertTrue(self.seg.wait_for_change(gen, 0))

    def test_wait_releases_the_gil(self):
        with self.seg.reader() as rd:
            result = []
            t = threading.Thread(target=lambda: result.append(rd.wait(10.0)))
            t.start()
            time.sleep(0.05)
            self.seg.publish(b"wake")
            t.join(5.0)
            self.assertEqual(result, [True])
            self.assertEqual(rd.take_copy(), b"wake")

    def test_evict_and_reap(self):
        with self.seg.reader() as rd:
            self.seg.publish(b"stale")
            s = rd.take()
            self.assertEqual(self.seg.evict_stale(0), 1)
            with self.assertRaises(zfd.ZfdError) as cm:
                s.release()
            self.assertEqual(cm.exception.code, zfd.E_EVICTED)
            self.assertEqual(self.seg.reap_dead_readers(), 0)
            self.seg.mark_reader_disconnected(rd.index)
            with self.assertRaises(zfd.ZfdError) as cm:
                rd.take()
            self.assertEqual(cm.exception.code, zfd.E_DETACHED)

    def test_type_hash(self):
        h = zfd.type_hash(b"struct A { u32 x @0 size 4 } size 4 align 4")
        self.assertEqual(len(h), zfd.TYPE_HASH_SIZE)
        self.assertEqual(h, zfd.type_hash(b"struct A { u32 x @0 size 4 } size 4 align 4"))
        self.assertNotEqual(h, zfd.type_hash(b"struct A { u64 x @0 size 8 } size 8 align 8"))
        self.assertEqual(len(zfd.type_hash(b"")), zfd.TYPE_HASH_SIZE)


PUBLISHER = r"""
import struct, sys, time
import zerodds_flatdata as zfd
name, count = sys.argv[1], int(sys.argv[2])
with zfd.Segment.create(name, slot_count=4, slot_capacity=64) as seg:
    deadline = time.monotonic() + 20
    while seg.info.active_readers == 0:          # wait for the subscriber
        if time.monotonic() > deadline:
            sys.exit("no reader attached")
        time.sleep(0.005)
    for i in range(count):                       # 4 slots: exercises backpressure
        seg.reserve(timeout=20.0).commit_bytes(struct.pack("<QQ", i, i * i))
"""


class NamedSegmentTest(unittest.TestCase):
    def tearDown(self):
        for path in leftovers():
            try:
                zfd.unlink(os.path.basename(path)[len("zfd."):])
            except zfd.ZfdError:
                pass

    def test_across_processes(self):
        name, count = unique_name("xproc"), 100
        env = dict(os.environ)
        env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
        pub = subprocess.Popen([sys.executable, "-c", PUBLISHER, name, str(count)], env=env)
        self.addCleanup(pub.kill)
        deadline = time.monotonic() + 20
        while True:
            try:
                seg = zfd.Segment.open(name)
                break
            except zfd.ZfdError as e:
                if e.code not in (zfd.E_NOT_FOUND, zfd.E_TIMEOUT) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        got = []
        with seg, seg.reader() as rd:
            info = seg.info
            self.assertTrue(info.is_named)
            self.assertFalse(info.is_owner)
            self.assertEqual(info.owner_pid, pub.pid)
            while len(got) < count:
                self.assertTrue(rd.wait(20.0), "publisher stalled")
                with rd.take() as s:
                    got.append((s.sequence, struct.unpack_from("<QQ", s.data)))
            try:  # the owner closes after the last sample: then PEER_GONE
                rd.wait(20.0)
                self.fail("expected PEER_GONE")
            except zfd.ZfdError as e:
                self.assertEqual(e.code, zfd.E_PEER_GONE)
        self.assertEqual(pub.wait(20), 0)
        self.assertEqual([v for _, v in got], [(i, i * i) for i in range(count)])
        seqs = [q for q, _ in got]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + count)))
        self.assertEqual(leftovers(), [])

    def test_claims(self):
        name = unique_name("claims")
        with zfd.Segment.create(name, slot_count=2, slot_capacity=8) as owner, \
                zfd.Segment.open(name) as other:
            self.assertTrue(owner.claim(zfd.CLAIM_EXPORT))
            self.assertFalse(other.claim(zfd.CLAIM_EXPORT))
            owner.release_claim(zfd.CLAIM_EXPORT)
            self.assertTrue(other.claim(zfd.CLAIM_EXPORT))

    def test_type_hash_mismatch_on_open(self):
        name = unique_name("hash")
        good, bad = zfd.type_hash(b"Point{x:f64@0,y:f64@8}/16/8"), zfd.type_hash(b"Point{x:f32@0}/4/4")
        with zfd.Segment.create(name, slot_count=2, slot_capacity=16, type_hash=good):
            with self.assertRaises(zfd.ZfdError) as cm:
                zfd.Segment.open(name, type_hash=bad)
            self.assertEqual(cm.exception.code, zfd.E_TYPE_MISMATCH)
            self.assertTrue(cm.exception.message)  # zfd_error.message detail
            with zfd.Segment.open(name, type_hash=good) as seg:
                self.assertEqual(seg.info.type_hash, good)
            with zfd.Segment.open(name) as seg:   # no check requested
                self.assertEqual(seg.info.type_hash, good)
            with self.assertRaises(ValueError):
                zfd.Segment.open(name, type_hash=b"short")
        self.assertEqual(leftovers(), [])

    def test_open_missing(self):
        with self.assertRaises(zfd.ZfdError) as cm:
            zfd.Segment.open(unique_name("missing"))
        self.assertEqual(cm.exception.code, zfd.E_NOT_FOUND)
        with self.assertRaises(zfd.ZfdError) as cm:
            zfd.unlink(unique_name("missing"))
        self.assertEqual(cm.exception.code, zfd.E_NOT_FOUND)


if __name__ == "__main__":
    unittest.main(verbosity=2)
