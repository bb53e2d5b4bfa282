#!/usr/bin/env python3
"""Python ctypes consumer of libzerodds_flatdata.

Proves the C ABI from another runtime: the library is loaded by its SONAME
(libzerodds_flatdata.so.0, found through LD_LIBRARY_PATH), every function used
gets explicit argtypes/restype (a uint64_t return without restype would be
truncated to int), and only the public contract of flatdata.h is assumed.

Plain python3 + unittest; exits non-zero on any failure.
SPDX-License-Identifier: Apache-2.0
"""

import ctypes
import os
import struct
import sys
import unittest
from ctypes import (POINTER, byref, c_char, c_char_p, c_int32, c_int64, c_size_t,
                    c_uint8, c_uint32, c_uint64, c_void_p)

SONAME = "libzerodds_flatdata.so.0"

# Status codes, pinned by the header.
ZFD_OK = 0
ZFD_E_INVAL = -1
ZFD_E_NO_FREE_SLOT = -3
ZFD_E_TOO_LARGE = -4
ZFD_E_NOT_LOANED = -5
ZFD_E_NO_SAMPLE = -6
ZFD_TYPE_HASH_SIZE = 16
ZFD_MAX_READERS = 64
UINT32_MAX = 0xFFFFFFFF


class ZfdSegment(ctypes.Structure):
    """Opaque zfd_segment."""


class ZfdReader(ctypes.Structure):
    """Opaque zfd_reader."""


class ZfdError(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("code", c_int32),
        ("sys_errno", c_int32),
        ("message", c_char * 256),
    ]


class ZfdSegmentOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("slot_count", c_uint32),
        ("slot_capacity", c_uint64),
        ("mode", c_uint32),
        ("flags", c_uint32),
        ("has_type_hash", c_uint32),
        ("type_hash", c_uint8 * ZFD_TYPE_HASH_SIZE),
        ("reserved", c_uint32),
        # 0.2: zfd_segment_options_init (found by dlsym: its 0.2 version)
        # fills these too, so a ctypes caller declares them.
        ("history", c_uint32),
        ("reserved2", c_uint32),
        ("mirror_of", c_uint8 * 16),
        ("origin", ctypes.c_char * 64),
    ]


class ZfdSegmentInfo(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("slot_count", c_uint32),
        ("slot_capacity", c_uint64),
        ("slot_stride", c_uint64),
        ("total_size", c_uint64),
        ("segment_id", c_uint64),
        ("is_named", c_uint32),
        ("is_owner", c_uint32),
        ("has_type_hash", c_uint32),
        ("type_hash", c_uint8 * ZFD_TYPE_HASH_SIZE),
        ("active_readers", c_uint64),
        ("owner_pid", c_int32),
        ("owner_alive", c_uint32),
        ("next_sequence", c_uint64),
    ]


SegP = POINTER(ZfdSegment)
ReaderP = POINTER(ZfdReader)
zfd_slot = c_uint64


def load_library():
    lib = ctypes.CDLL(SONAME)
    sig = {
        # name: (restype, argtypes)
        "zfd_version_number": (c_uint32, []),
        "zfd_version_string": (c_char_p, []),
        "zfd_status_str": (c_char_p, [c_int32]),
        "zfd_segment_options_init": (None, [POINTER(ZfdSegmentOptions)]),
        "zfd_segment_create": (c_int32, [c_char_p, POINTER(ZfdSegmentOptions),
                                         POINTER(SegP), POINTER(ZfdError)]),
        "zfd_segment_close": (None, [SegP]),
        "zfd_segment_get_info": (c_int32, [SegP, POINTER(ZfdSegmentInfo)]),
        "zfd_reserve": (c_int32, [SegP, POINTER(zfd_slot), POINTER(c_void_p)]),
        "zfd_commit": (c_int32, [SegP, zfd_slot, c_void_p, c_size_t, POINTER(c_uint64)]),
        "zfd_publish": (c_int32, [SegP, c_void_p, c_size_t, POINTER(c_uint64)]),
        "zfd_reader_open": (c_int32, [SegP, c_uint32, POINTER(ReaderP)]),
        "zfd_reader_close": (None, [ReaderP]),
        "zfd_reader_index": (c_uint32, [ReaderP]),
        "zfd_take": (c_int32, [ReaderP, POINTER(zfd_slot), POINTER(c_void_p),
                               POINTER(c_size_t), POINTER(c_uint64)]),
        "zfd_release": (c_int32, [ReaderP, zfd_slot]),
        "zfd_take_copy": (c_int32, [ReaderP, c_void_p, c_size_t, POINTER(c_size_t),
                                    POINTER(c_uint64)]),
        "zfd_reader_wait": (c_int32, [ReaderP, c_int64]),
        "zfd_notify_generation": (c_uint64, [SegP]),
        "zfd_type_hash": (c_int32, [c_char_p, c_size_t, POINTER(c_uint8)]),
    }
    for name, (restype, argtypes) in sig.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


LIB = load_library()

# Payload layout: sequence index, a derived value, a double and a tag.
SAMPLE = struct.Struct("<QIId16s")


def make_payload(i):
    return SAMPLE.pack(i, (i * 2654435761) & 0xFFFFFFFF, 0, i * 0.5,
                       ("py-%d" % i).encode().ljust(16, b"\0"))


class CtypesConsumer(unittest.TestCase):
    def setUp(self):
        opts = ZfdSegmentOptions()
        LIB.zfd_segment_options_init(byref(opts))
        self.assertEqual(opts.struct_size, ctypes.sizeof(ZfdSegmentOptions))
        self.assertEqual(opts.slot_count, 64)
        self.assertEqual(opts.slot_capacity, 1024)
        opts.slot_count = 128          # room for 100 samples with a reader attached
        opts.slot_capacity = 256
        err = ZfdError()
        err.struct_size = ctypes.sizeof(ZfdError)
        self.seg = SegP()
        rc = LIB.zfd_segment_create(None, byref(opts), byref(self.seg), byref(err))
        self.assertEqual(rc, ZFD_OK, err.message.decode(errors="replace"))
        self.assertTrue(bool(self.seg))
        self.reader = ReaderP()
        self.assertEqual(LIB.zfd_reader_open(self.seg, 0, byref(self.reader)), ZFD_OK)
        self.assertTrue(bool(self.reader))

    def tearDown(self):
        LIB.zfd_reader_close(self.reader)
        LIB.zfd_segment_close(self.seg)

    def publish(self, payload):
        seq = c_uint64(0)
        buf = ctypes.create_string_buffer(payload, len(payload))
        rc = LIB.zfd_publish(self.seg, buf, len(payload), byref(seq))
        self.assertEqual(rc, ZFD_OK, LIB.zfd_status_str(rc))
        return seq.value

    def test_version(self):
        expected = os.environ.get("ZFD_PROJECT_VERSION")
        text = LIB.zfd_version_string().decode()
        if expected:
            self.assertEqual(text, expected)
        major, minor, patch = (int(x) for x in text.split("."))
        self.assertEqual(LIB.zfd_version_number(), major * 10000 + minor * 100 + patch)

    def test_info_of_in_memory_segment(self):
        info = ZfdSegmentInfo()
        info.struct_size = ctypes.sizeof(ZfdSegmentInfo)
        self.assertEqual(LIB.zfd_segment_get_info(self.seg, byref(info)), ZFD_OK)
        self.assertEqual(info.slot_count, 128)
        self.assertEqual(info.slot_capacity, 256)
        self.assertEqual(info.is_named, 0)
        self.assertEqual(info.is_owner, 1)
        self.assertEqual(info.owner_pid, os.getpid())
        self.assertEqual(info.owner_alive, 1)
        idx = LIB.zfd_reader_index(self.reader)
        self.assertLess(idx, ZFD_MAX_READERS)
        self.assertTrue(info.active_readers & (1 << idx))

    def test_publish_100_and_take_in_place(self):
        gen_before = LIB.zfd_notify_generation(self.seg)
        sequences = [self.publish(make_payload(i)) for i in range(100)]
        self.assertEqual(sequences, sorted(sequences))
        self.assertEqual(len(set(sequences)), 100)
        self.assertGreater(LIB.zfd_notify_generation(self.seg), gen_before)
        self.assertEqual(LIB.zfd_reader_wait(self.reader, 0), ZFD_OK)

        last = None
        for i in range(100):
            slot, data, length, seq = zfd_slot(), c_void_p(), c_size_t(), c_uint64()
            rc = LIB.zfd_take(self.reader, byref(slot), byref(data), byref(length), byref(seq))
            self.assertEqual(rc, ZFD_OK, "take #%d: %s" % (i, LIB.zfd_status_str(rc)))
            self.assertIsNotNone(data.value)
            self.assertEqual(data.value % 64, 0, "payload pointer not 64-byte aligned")
            self.assertEqual(length.value, SAMPLE.size)
            raw = ctypes.string_at(data.value, length.value)   # read in place
            self.assertEqual(raw, make_payload(i))
            self.assertEqual(SAMPLE.unpack(raw)[0], i)
            self.assertEqual(seq.value, sequences[i])
            if last is not None:
                self.assertGreater(seq.value, last)
            last = seq.value
            self.assertEqual(LIB.zfd_release(self.reader, slot), ZFD_OK)
            # A token is valid once.
            self.assertEqual(LIB.zfd_release(self.reader, slot), ZFD_E_NOT_LOANED)

        slot = zfd_slot()
        self.assertEqual(LIB.zfd_take(self.reader, byref(slot), None, None, None),
                         ZFD_E_NO_SAMPLE)

    def test_reserve_commit_and_take_copy(self):
        for i in range(5):
            slot, data = zfd_slot(), c_void_p()
            self.assertEqual(LIB.zfd_reserve(self.seg, byref(slot), byref(data)), ZFD_OK)
            payload = make_payload(1000 + i)
            ctypes.memmove(data, payload, len(payload))
            seq = c_uint64()
            self.assertEqual(LIB.zfd_commit(self.seg, slot, data, len(payload), byref(seq)),
                             ZFD_OK)
            # Committing the same token again is refused.
            self.assertEqual(LIB.zfd_commit(self.seg, slot, data, len(payload), None),
                             ZFD_E_NOT_LOANED)

        # Too small a buffer: TOO_LARGE, out_len reports the size, sample stays.
        small = ctypes.create_string_buffer(4)
        out_len = c_size_t(0)
        self.assertEqual(LIB.zfd_take_copy(self.reader, small, 4, byref(out_len), None),
                         ZFD_E_TOO_LARGE)
        self.assertEqual(out_len.value, SAMPLE.size)

        buf = ctypes.create_string_buffer(256)
        last = None
        for i in range(5):
            out_len, seq = c_size_t(0), c_uint64(0)
            rc = LIB.zfd_take_copy(self.reader, buf, 256, byref(out_len), byref(seq))
            self.assertEqual(rc, ZFD_OK, LIB.zfd_status_str(rc))
            self.assertEqual(buf.raw[:out_len.value], make_payload(1000 + i))
            if last is not None:
                self.assertGreater(seq.value, last)
            last = seq.value
        self.assertEqual(LIB.zfd_take_copy(self.reader, buf, 256, None, None), ZFD_E_NO_SAMPLE)

    def test_too_large_commit(self):
        too_big = b"x" * 257
        self.assertEqual(LIB.zfd_publish(self.seg, too_big, len(too_big), None), ZFD_E_TOO_LARGE)

    def test_null_handles_give_inval(self):
        slot = zfd_slot()
        self.assertEqual(LIB.zfd_reserve(None, byref(slot), None), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_publish(None, b"abc", 3, None), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_take(None, byref(slot), None, None, None), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_release(None, 1), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_reader_open(None, 0, byref(ReaderP())), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_reader_open(self.seg, 0, None), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_notify_generation(None), 0)
        self.assertEqual(LIB.zfd_reader_index(None), UINT32_MAX)
        LIB.zfd_reader_close(None)
        LIB.zfd_segment_close(None)

    def test_double_release(self):
        self.publish(make_payload(7))
        slot = zfd_slot()
        self.assertEqual(LIB.zfd_take(self.reader, byref(slot), None, None, None), ZFD_OK)
        self.assertEqual(LIB.zfd_release(self.reader, slot), ZFD_OK)
        self.assertEqual(LIB.zfd_release(self.reader, slot), ZFD_E_NOT_LOANED)

    def test_status_str(self):
        texts = {code: LIB.zfd_status_str(code) for code in range(-20, 1)}
        for code, text in texts.items():
            self.assertIsNotNone(text, code)
        self.assertEqual(len(set(texts.values())), len(texts), "status texts not distinct")
        self.assertIn(b"unknown", LIB.zfd_status_str(-9999))
        self.assertIn(b"unknown", LIB.zfd_status_str(12345))

    def test_type_hash(self):
        def type_hash(descriptor):
            out = (c_uint8 * ZFD_TYPE_HASH_SIZE)()
            rc = LIB.zfd_type_hash(descriptor, len(descriptor), out)
            self.assertEqual(rc, ZFD_OK)
            return bytes(out)

        a = type_hash(b"struct Point{x:f64@0:8;y:f64@8:8}size=16;align=8")
        b = type_hash(b"struct Point{x:f32@0:4;y:f32@4:4}size=8;align=4")
        self.assertEqual(len(a), 16)
        self.assertEqual(len(b), 16)
        self.assertNotEqual(a, b)
        self.assertEqual(a, type_hash(b"struct Point{x:f64@0:8;y:f64@8:8}size=16;align=8"))
        out = (c_uint8 * ZFD_TYPE_HASH_SIZE)()
        self.assertEqual(LIB.zfd_type_hash(None, 0, out), ZFD_E_INVAL)
        self.assertEqual(LIB.zfd_type_hash(b"x", 1, None), ZFD_E_INVAL)


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
