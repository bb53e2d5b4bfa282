"""Python binding of libzerodds_flatdata over ctypes (no compiled parts).

Zero-copy publish/subscribe of fixed-size samples between threads and
processes on one host. The library is loaded by its SONAME
(``libzerodds_flatdata.so.0``, found like any shared library, for example
through ``LD_LIBRARY_PATH``), or from the path in ``$ZFD_LIBRARY``.

    import struct, zerodds_flatdata as zfd

    with zfd.Segment.create("demo", slot_count=16, slot_capacity=64) as seg:
        with seg.reader() as rd:
            seg.publish(struct.pack("<Id", 7, 2.5))
            with rd.take() as sample:            # zero-copy, read-only view
                print(sample.sequence, struct.unpack_from("<Id", sample.data))

Errors are raised as :class:`ZfdError` (``.code`` is the negative ZFD_E_*
value). "Nothing there" is not an error: ``Reader.take()`` returns None when
no sample is unread and the waits return False on timeout.

Timeouts are seconds (float); ``None`` waits forever, ``0`` does not block.

Lifetime rule (the same as in C): ``Sample.data`` aliases shared memory and is
valid only until the sample is released; ``Loan.data`` only until the loan is
committed or discarded. Releasing invalidates the view (using it then raises
ValueError); do not keep slices of it beyond that.

SPDX-License-Identifier: Apache-2.0
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import weakref
from ctypes import (POINTER, byref, c_char, c_char_p, c_int32, c_int64, c_size_t,
                    c_uint8, c_uint32, c_uint64, c_void_p)
from typing import Optional

__all__ = [
    "ZfdError", "Segment", "SegmentInfo", "Reader", "Sample", "Loan",
    "type_hash", "unlink", "version", "version_number", "status_str",
    "TYPE_HASH_SIZE", "MAX_READERS", "SEGMENT_REPLACE_STALE",
    "SEGMENT_OVERWRITE_OLDEST", "READER_HISTORY",
]

SONAME = "libzerodds_flatdata.so.0"

# Status codes (values pinned by flatdata.h).
OK = 0
E_INVAL = -1
E_NOMEM = -2
E_NO_FREE_SLOT = -3
E_TOO_LARGE = -4
E_NOT_LOANED = -5
E_NO_SAMPLE = -6
E_TIMEOUT = -7
E_TYPE_MISMATCH = -8
E_INCOMPATIBLE = -9
E_CORRUPT = -10
E_EXISTS = -11
E_NOT_FOUND = -12
E_PERMISSION = -13
E_NO_READER_SLOT = -14
E_EVICTED = -15
E_UNSUPPORTED = -16
E_PEER_GONE = -17
E_SYSTEM = -18
E_INTERNAL = -19
E_DETACHED = -20

TYPE_HASH_SIZE = 16
MAX_READERS = 64
WAIT_FOREVER = -1
SEGMENT_REPLACE_STALE = 1 << 0
SEGMENT_MIRROR = 1 << 1
SEGMENT_OVERWRITE_OLDEST = 1 << 2   # since 0.2: the writer never waits for readers
READER_HISTORY = 1 << 0             # since 0.2: zfd_reader_open gets the retained samples first
INSTANCE_ID_SIZE = 16
ORIGIN_SIZE = 64
CLAIM_ROLES = 64
CLAIM_EXPORT = 0


# ---------------------------------------------------------------------------
# C declarations (mirror include/zerodds/flatdata.h exactly)
# ---------------------------------------------------------------------------

class _Segment(ctypes.Structure):
    """Opaque zfd_segment."""


class _Reader(ctypes.Structure):
    """Opaque zfd_reader."""


class _Error(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("code", c_int32),
        ("sys_errno", c_int32),
        ("message", c_char * 256),
    ]


class _SegmentOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("slot_count", c_uint32),
        ("slot_capacity", c_uint64),
        ("mode", c_uint32),
        ("flags", c_uint32),
        ("has_type_hash", c_uint32),
        ("type_hash", c_uint8 * TYPE_HASH_SIZE),
        ("reserved", c_uint32),
        # 0.2
        ("history", c_uint32),
        ("reserved2", c_uint32),
        ("mirror_of", c_uint8 * INSTANCE_ID_SIZE),
        ("origin", ctypes.c_char * ORIGIN_SIZE),
    ]


class _SegmentInfo(ctypes.Structure):
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
        ("type_hash", c_uint8 * TYPE_HASH_SIZE),
        ("active_readers", c_uint64),
        ("owner_pid", c_int32),
        ("owner_alive", c_uint32),
        ("next_sequence", c_uint64),
        # 0.2
        ("instance_id", c_uint8 * INSTANCE_ID_SIZE),
        ("flags", c_uint32),
        ("history", c_uint32),
        ("mirror_of", c_uint8 * INSTANCE_ID_SIZE),
        ("origin", ctypes.c_char * ORIGIN_SIZE),
    ]


_SEG = POINTER(_Segment)
_RD = POINTER(_Reader)
_slot = c_uint64

# name: (restype, argtypes). Every exported function is declared: ctypes
# would otherwise assume an `int` return (a uint64_t would be truncated) and
# pass arguments unchecked.
_PROTOTYPES = {
    "zfd_version_number": (c_uint32, []),
    "zfd_version_string": (c_char_p, []),
    "zfd_status_str": (c_char_p, [c_int32]),
    "zfd_segment_options_init": (None, [POINTER(_SegmentOptions)]),
    "zfd_segment_create": (c_int32, [c_char_p, POINTER(_SegmentOptions), POINTER(_SEG),
                                     POINTER(_Error)]),
    "zfd_segment_open": (c_int32, [c_char_p, POINTER(c_uint8), c_uint32, POINTER(_SEG),
                                   POINTER(_Error)]),
    "zfd_segment_close": (None, [_SEG]),
    "zfd_segment_unlink": (c_int32, [c_char_p, POINTER(_Error)]),
    "zfd_segment_get_info": (c_int32, [_SEG, POINTER(_SegmentInfo)]),
    "zfd_reserve": (c_int32, [_SEG, POINTER(_slot), POINTER(c_void_p)]),
    "zfd_reserve_wait": (c_int32, [_SEG, c_int64, POINTER(_slot), POINTER(c_void_p)]),
    "zfd_slot_data": (c_int32, [_SEG, _slot, POINTER(c_void_p), POINTER(c_uint64)]),
    "zfd_commit_in_place": (c_int32, [_SEG, _slot, c_size_t, POINTER(c_uint64)]),
    "zfd_commit_with_sequence": (c_int32, [_SEG, _slot, c_size_t, c_uint64]),
    "zfd_segment_claim": (c_int32, [_SEG, c_uint32]),
    "zfd_segment_release_claim": (c_int32, [_SEG, c_uint32]),
    "zfd_commit": (c_int32, [_SEG, _slot, c_void_p, c_size_t, POINTER(c_uint64)]),
    "zfd_discard": (c_int32, [_SEG, _slot]),
    "zfd_publish": (c_int32, [_SEG, c_void_p, c_size_t, POINTER(c_uint64)]),
    "zfd_reader_open": (c_int32, [_SEG, c_uint32, POINTER(_RD)]),
    "zfd_reader_close": (None, [_RD]),
    "zfd_reader_index": (c_uint32, [_RD]),
    "zfd_take": (c_int32, [_RD, POINTER(_slot), POINTER(c_void_p), POINTER(c_size_t),
                           POINTER(c_uint64)]),
    "zfd_release": (c_int32, [_RD, _slot]),
    "zfd_take_latest": (c_int32, [_RD, POINTER(_slot), POINTER(c_void_p), POINTER(c_size_t),
                                  POINTER(c_uint64)]),
    "zfd_take_copy": (c_int32, [_RD, c_void_p, c_size_t, POINTER(c_size_t),
                                POINTER(c_uint64)]),
    "zfd_reader_wait": (c_int32, [_RD, c_int64]),
    "zfd_notify_generation": (c_uint64, [_SEG]),
    "zfd_wait_for_change": (c_int32, [_SEG, c_uint64, c_int64]),
    "zfd_evict_stale": (c_int32, [_SEG, c_int64, POINTER(c_uint32)]),
    "zfd_mark_reader_disconnected": (c_int32, [_SEG, c_uint32]),
    "zfd_reap_dead_readers": (c_int32, [_SEG, POINTER(c_uint32)]),
    "zfd_type_hash": (c_int32, [c_char_p, c_size_t, POINTER(c_uint8)]),
    # event loops (since 0.2)
    "zfd_reader_fd": (c_int32, [_RD, POINTER(ctypes.c_int)]),
    "zfd_segment_fd": (c_int32, [_SEG, POINTER(ctypes.c_int)]),
}


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL(os.environ.get("ZFD_LIBRARY") or SONAME)
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib = _load()


# ---------------------------------------------------------------------------
# Errors and helpers
# ---------------------------------------------------------------------------

def status_str(code: int) -> str:
    """The library's text for a status code."""
    return _lib.zfd_status_str(code).decode("utf-8", "replace")


class ZfdError(Exception):
    """A negative status code from the library.

    code:    the ZFD_E_* value (negative int)
    message: the detail from zfd_error.message (create/open/unlink), else the
             zfd_status_str text
    status:  the zfd_status_str text
    """

    def __init__(self, code: int, message: str = "", *, operation: str = "",
                 sys_errno: int = 0):
        self.code = code
        self.status = status_str(code)
        self.message = message or self.status
        self.operation = operation
        self.sys_errno = sys_errno
        text = f"{operation + ': ' if operation else ''}{self.status} ({code})"
        if message and message != self.status:
            text += f": {message}"
        super().__init__(text)


def _check(rc: int, operation: str, err: Optional[_Error] = None) -> int:
    if rc < 0:
        if err is not None and err.code == rc:
            raise ZfdError(rc, err.message.decode("utf-8", "replace"),
                           operation=operation, sys_errno=err.sys_errno)
        raise ZfdError(rc, operation=operation)
    return rc


def _new_error() -> _Error:
    err = _Error()
    err.struct_size = ctypes.sizeof(_Error)
    return err


def _timeout_ns(timeout: Optional[float]) -> int:
    """Seconds (float) to nanoseconds; None means forever."""
    if timeout is None:
        return WAIT_FOREVER
    if timeout < 0:
        raise ValueError("timeout must be >= 0 seconds or None")
    return int(timeout * 1_000_000_000)


def _name(name: Optional[str]) -> Optional[bytes]:
    return None if name is None else name.encode("utf-8")


def _hash_arg(h: Optional[bytes]):
    if h is None:
        return None
    if len(h) != TYPE_HASH_SIZE:
        raise ValueError(f"type hash must be {TYPE_HASH_SIZE} bytes, got {len(h)}")
    return (c_uint8 * TYPE_HASH_SIZE).from_buffer_copy(h)


def _view(address: int, length: int, readonly: bool) -> memoryview:
    """A memoryview of `length` bytes at `address` (no copy)."""
    if length == 0 or not address:
        view = memoryview(bytearray(0))
    else:
        view = memoryview((c_char * length).from_address(address)).cast("B")
    return view.toreadonly() if readonly else view


def _bytes_arg(data) -> bytes:
    return data if isinstance(data, bytes) else bytes(data)


def version() -> str:
    """Version of the loaded library, e.g. "0.2.0"."""
    return _lib.zfd_version_string().decode()


def version_number() -> int:
    """major*10000 + minor*100 + patch of the loaded library."""
    return _lib.zfd_version_number()


def type_hash(descriptor: bytes) -> bytes:
    """16-byte XXH3-128 hash of a layout descriptor (bytes as given)."""
    descriptor = _bytes_arg(descriptor)
    out = (c_uint8 * TYPE_HASH_SIZE)()
    _check(_lib.zfd_type_hash(descriptor, len(descriptor), out), "zfd_type_hash")
    return bytes(out)


def unlink(name: str) -> None:
    """Remove the named segment's shared-memory objects."""
    err = _new_error()
    _check(_lib.zfd_segment_unlink(_name(name), byref(err)), "zfd_segment_unlink", err)


# ---------------------------------------------------------------------------
# Segment
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SegmentInfo:
    slot_count: int
    slot_capacity: int
    slot_stride: int
    total_size: int
    segment_id: int
    is_named: bool
    is_owner: bool
    type_hash: Optional[bytes]
    active_readers: int       # bit i set = reader index i attached
    owner_pid: int
    owner_alive: bool
    next_sequence: int
    instance_id: bytes        # 16 random bytes: equal ids = the same segment
    flags: int                # SEGMENT_MIRROR, SEGMENT_OVERWRITE_OLDEST as created
    mirror_of: Optional[bytes]  # a mirror's source instance id
    origin: str               # a mirror's source, as text
    history: int              # newest samples kept for late joiners (READER_HISTORY)

    @property
    def overwrite_oldest(self) -> bool:
        return bool(self.flags & SEGMENT_OVERWRITE_OLDEST)

    @property
    def reader_count(self) -> int:
        return bin(self.active_readers).count("1")


class Segment:
    """A segment handle: the owner (writer) from create(), a consumer from open()."""

    def __init__(self, handle, name: Optional[str]):
        # Use Segment.create() / Segment.open().
        self._h = handle
        self.name = name
        self._loans = weakref.WeakSet()
        self._capacity = self.info.slot_capacity

    @classmethod
    def create(cls, name: Optional[str] = None, *, slot_count: int = 64,
               slot_capacity: int = 1024, mode: int = 0o600,
               replace_stale: bool = False, type_hash: Optional[bytes] = None,
               flags: int = 0, overwrite_oldest: bool = False,
               history: int = 0) -> "Segment":
        """Create a segment (name None: in-memory, this process only).
        overwrite_oldest: the writer never waits for readers (with no free slot
        it reuses the oldest sample no reader holds). history: the newest
        `history` samples stay readable for readers opened with history=True
        (below slot_count)."""
        opts = _SegmentOptions()
        _lib.zfd_segment_options_init(byref(opts))
        opts.slot_count = slot_count
        opts.slot_capacity = slot_capacity
        opts.mode = mode
        opts.flags = (flags | (SEGMENT_REPLACE_STALE if replace_stale else 0)
                      | (SEGMENT_OVERWRITE_OLDEST if overwrite_oldest else 0))
        opts.history = history
        if type_hash is not None:
            opts.has_type_hash = 1
            opts.type_hash = _hash_arg(type_hash)
        handle = _SEG()
        err = _new_error()
        _check(_lib.zfd_segment_create(_name(name), byref(opts), byref(handle), byref(err)),
               "zfd_segment_create", err)
        return cls(handle, name)

    @classmethod
    def open(cls, name: str, *, type_hash: Optional[bytes] = None) -> "Segment":
        """Attach to an existing named segment as a consumer (readers only)."""
        handle = _SEG()
        err = _new_error()
        _check(_lib.zfd_segment_open(_name(name), _hash_arg(type_hash), 0, byref(handle),
                                     byref(err)), "zfd_segment_open", err)
        return cls(handle, name)

    def close(self) -> None:
        """Close the handle (idempotent). The owner's close unlinks the name."""
        if self._h is not None:
            for loan in list(self._loans):
                loan._invalidate()
            _lib.zfd_segment_close(self._h)
            self._h = None

    def __enter__(self) -> "Segment":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._h is None

    @property
    def info(self) -> SegmentInfo:
        raw = _SegmentInfo()
        raw.struct_size = ctypes.sizeof(_SegmentInfo)
        _check(_lib.zfd_segment_get_info(self._h, byref(raw)), "zfd_segment_get_info")
        return SegmentInfo(
            slot_count=raw.slot_count, slot_capacity=raw.slot_capacity,
            slot_stride=raw.slot_stride, total_size=raw.total_size,
            segment_id=raw.segment_id, is_named=bool(raw.is_named),
            is_owner=bool(raw.is_owner),
            type_hash=bytes(raw.type_hash) if raw.has_type_hash else None,
            active_readers=raw.active_readers, owner_pid=raw.owner_pid,
            owner_alive=bool(raw.owner_alive), next_sequence=raw.next_sequence,
            instance_id=bytes(raw.instance_id), flags=raw.flags,
            mirror_of=bytes(raw.mirror_of) if raw.flags & SEGMENT_MIRROR else None,
            origin=raw.origin.decode(errors="replace"), history=raw.history)

    def claim(self, role: int) -> bool:
        """Take exclusive claim `role` on this named segment; False if another
        handle or process holds it. Given back by release_claim() or close()."""
        rc = _lib.zfd_segment_claim(self._h, role)
        if rc == E_EXISTS:
            return False
        _check(rc, "zfd_segment_claim")
        return True

    def release_claim(self, role: int) -> None:
        _check(_lib.zfd_segment_release_claim(self._h, role), "zfd_segment_release_claim")

    # -- writer side (owner only) -------------------------------------------

    def fileno(self) -> int:
        """Owner only: a descriptor that polls readable when a slot may be
        free (zfd_segment_fd). Owned by the segment: never close it. After
        ``publish``/``reserve`` failed for want of a slot it becomes readable
        once one frees; watch it with select/selectors/asyncio."""
        fd = ctypes.c_int(-1)
        _check(_lib.zfd_segment_fd(self._h, byref(fd)), "zfd_segment_fd")
        return fd.value

    def publish(self, data) -> int:
        """Copy `data` (bytes-like) into a free slot and commit it; returns the
        sequence number. Raises ZfdError(E_NO_FREE_SLOT) under backpressure."""
        data = _bytes_arg(data)
        seq = c_uint64()
        _check(_lib.zfd_publish(self._h, data, len(data), byref(seq)), "zfd_publish")
        return seq.value

    def reserve(self, timeout: Optional[float] = 0) -> "Loan":
        """Loan a free slot to write in place. timeout 0 (default) does not
        block (E_NO_FREE_SLOT); otherwise waits (E_TIMEOUT)."""
        slot = _slot()
        ptr = c_void_p()
        if timeout == 0:
            _check(_lib.zfd_reserve(self._h, byref(slot), byref(ptr)), "zfd_reserve")
        else:
            _check(_lib.zfd_reserve_wait(self._h, _timeout_ns(timeout), byref(slot),
                                         byref(ptr)), "zfd_reserve_wait")
        loan = Loan(self, slot.value, ptr.value or 0, self._capacity)
        self._loans.add(loan)
        return loan

    def reader(self, *, history: bool = False) -> "Reader":
        """Attach a reader; it sees samples committed from now on (with
        history=True first the samples the segment retains, oldest first)."""
        return Reader(self, history=history)

    # -- notify ----------------------------------------------------------------

    def notify_generation(self) -> int:
        return _lib.zfd_notify_generation(self._h)

    def wait_for_change(self, last_generation: int, timeout: Optional[float] = None) -> bool:
        """Wait until the notify generation differs from last_generation.
        Returns False on timeout."""
        rc = _lib.zfd_wait_for_change(self._h, last_generation, _timeout_ns(timeout))
        if rc == E_TIMEOUT:
            return False
        _check(rc, "zfd_wait_for_change")
        return True

    # -- eviction and liveness (owner only) ------------------------------------

    def evict_stale(self, max_age: float) -> int:
        """Force-free slots committed at least max_age seconds ago that a reader
        still holds; returns the number of slots."""
        n = c_uint32()
        _check(_lib.zfd_evict_stale(self._h, _timeout_ns(max_age), byref(n)),
               "zfd_evict_stale")
        return n.value

    def mark_reader_disconnected(self, reader_index: int) -> None:
        _check(_lib.zfd_mark_reader_disconnected(self._h, reader_index),
               "zfd_mark_reader_disconnected")

    def reap_dead_readers(self) -> int:
        """Detach readers whose process died; returns how many."""
        n = c_uint32()
        _check(_lib.zfd_reap_dead_readers(self._h, byref(n)), "zfd_reap_dead_readers")
        return n.value


class Loan:
    """A reserved slot. Write into `.data`, then commit(length) or discard().
    Used as a context manager, a loan not committed by the end is discarded."""

    def __init__(self, segment: Segment, slot: int, address: int, capacity: int):
        self._segment = segment
        self.slot = slot
        self.address = address
        self.capacity = capacity
        self.sequence: Optional[int] = None
        self._data = _view(address, capacity, readonly=False)
        self._open = True

    @property
    def data(self) -> memoryview:
        """Writable view of the slot's `capacity` bytes (valid until commit/discard)."""
        return self._data

    def _invalidate(self) -> None:
        self._open = False
        try:
            self._data.release()
        except BufferError:  # someone still exports it; nothing more we can do
            pass

    def commit(self, length: int) -> int:
        """Publish the first `length` bytes written in place; returns the sequence.
        On E_TOO_LARGE the loan stays open."""
        seq = c_uint64()
        _check(_lib.zfd_commit_in_place(self._segment._h, self.slot, length, byref(seq)),
               "zfd_commit_in_place")
        self._invalidate()
        self.sequence = seq.value
        return seq.value

    def commit_as(self, length: int, sequence: int) -> int:
        """As commit(), under a chosen sequence number (at least the segment's
        next_sequence; the numbers skipped show to readers as a gap)."""
        _check(_lib.zfd_commit_with_sequence(self._segment._h, self.slot, length, sequence),
               "zfd_commit_with_sequence")
        self._invalidate()
        self.sequence = sequence
        return sequence

    def commit_bytes(self, data) -> int:
        """Copy `data` into the slot and publish it; returns the sequence."""
        data = _bytes_arg(data)
        seq = c_uint64()
        _check(_lib.zfd_commit(self._segment._h, self.slot, data, len(data), byref(seq)),
               "zfd_commit")
        self._invalidate()
        self.sequence = seq.value
        return seq.value

    def discard(self) -> None:
        """Give the slot back unpublished."""
        _check(_lib.zfd_discard(self._segment._h, self.slot), "zfd_discard")
        self._invalidate()

    def __enter__(self) -> "Loan":
        return self

    def __exit__(self, *exc) -> None:
        if self._open and not self._segment.closed:
            self.discard()


# ---------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------

class Sample:
    """A taken sample, read in place.

    data:     read-only memoryview ('B') aliasing the slot: zero-copy
    sequence: the sample's 64-bit sequence number
    address:  the slot payload's address in this process
    Release it with release() or by leaving a `with` block.
    """

    __slots__ = ("_reader", "slot", "address", "sequence", "_data", "_held", "__weakref__")

    def __init__(self, reader: "Reader", slot: int, address: int, length: int, sequence: int):
        self._reader = reader
        self.slot = slot
        self.address = address
        self.sequence = sequence
        self._data = _view(address, length, readonly=True)
        self._held = True

    @property
    def data(self) -> memoryview:
        return self._data

    def __len__(self) -> int:
        return self._data.nbytes

    def _invalidate(self) -> None:
        self._held = False
        try:
            self._data.release()
        except BufferError:
            pass

    def release(self) -> None:
        """Release the slot; the view is invalid afterwards. Raises
        ZfdError(E_EVICTED) if the slot was evicted while held (the data read
        may be torn), E_NOT_LOANED if already released."""
        self._invalidate()
        _check(_lib.zfd_release(self._reader._h, self.slot), "zfd_release")

    def __enter__(self) -> "Sample":
        return self

    def __exit__(self, *exc) -> None:
        if self._held:
            self.release()


class Reader:
    """A reader attached to a segment. Use from one thread at a time."""

    def __init__(self, segment: Segment, *, history: bool = False):
        handle = _RD()
        _check(_lib.zfd_reader_open(segment._h, READER_HISTORY if history else 0, byref(handle)),
               "zfd_reader_open")
        self._h = handle
        self._capacity = segment._capacity
        self._samples = weakref.WeakSet()
        self._buf = ctypes.create_string_buffer(self._capacity or 1)  # for take_copy
        self.last_sequence: Optional[int] = None

    def close(self) -> None:
        """Detach (idempotent); releases whatever is still held."""
        if self._h is not None:
            for sample in list(self._samples):
                sample._invalidate()
            _lib.zfd_reader_close(self._h)
            self._h = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def index(self) -> int:
        return _lib.zfd_reader_index(self._h)

    def take(self) -> Optional[Sample]:
        """The oldest unread sample in place, or None if there is none.
        Raises ZfdError(E_PEER_GONE) once the owner is gone and all is read."""
        return self._take(_lib.zfd_take, "zfd_take")

    def take_latest(self) -> Optional[Sample]:
        """The newest sample in place (everything older not yet taken counts
        as read), or None if there is nothing new. The keep-last-1 read."""
        return self._take(_lib.zfd_take_latest, "zfd_take_latest")

    def _take(self, fn, what: str) -> Optional[Sample]:
        slot = _slot()
        ptr = c_void_p()
        length = c_size_t()
        seq = c_uint64()
        rc = fn(self._h, byref(slot), byref(ptr), byref(length), byref(seq))
        if rc == E_NO_SAMPLE:
            return None
        _check(rc, what)
        sample = Sample(self, slot.value, ptr.value or 0, length.value, seq.value)
        self._samples.add(sample)
        self.last_sequence = seq.value
        return sample

    def take_copy(self) -> Optional[bytes]:
        """Copy of the oldest unread sample (released at once), or None.
        Never torn; the sequence is in `last_sequence`."""
        buf = self._buf
        length = c_size_t()
        seq = c_uint64()
        rc = _lib.zfd_take_copy(self._h, buf, len(buf), byref(length), byref(seq))
        if rc == E_NO_SAMPLE:
            return None
        _check(rc, "zfd_take_copy")
        self.last_sequence = seq.value
        return buf.raw[:length.value]

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until an unread sample exists; False on timeout."""
        rc = _lib.zfd_reader_wait(self._h, _timeout_ns(timeout))
        if rc == E_TIMEOUT:
            return False
        _check(rc, "zfd_reader_wait")
        return True

    # ---- event loops (zfd_reader_fd, since 0.2)

    def fileno(self) -> int:
        """A descriptor that polls readable when a sample (or a terminal
        error) is waiting, for select/selectors/asyncio. Owned by the reader:
        never read or close it. Contract: when it is readable, take until
        ``take``/``take_copy`` return None; from then on it becomes readable
        again with the next commit (no wake-up is lost)."""
        fd = ctypes.c_int(-1)
        _check(_lib.zfd_reader_fd(self._h, byref(fd)), "zfd_reader_fd")
        return fd.value

    async def wait_async(self, timeout: Optional[float] = None) -> bool:
        """Wait in the running asyncio loop until ``fileno()`` is readable;
        False on timeout. Then take until None (which re-arms it); readiness
        may be spurious. Does not block the loop."""
        import asyncio
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        ready = loop.create_future()

        def on_readable() -> None:
            if not ready.done():
                ready.set_result(True)

        loop.add_reader(fd, on_readable)
        try:
            if timeout is None:
                await ready
            else:
                await asyncio.wait_for(ready, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)

    def __aiter__(self) -> "Reader":
        self.fileno()  # made (and armed) before the first wait
        return self

    async def __anext__(self) -> bytes:
        """``async for data in reader``: copies of the samples in order
        (``last_sequence`` holds each one's number); ends when the owner is
        gone and everything is read, or the reader was detached."""
        while True:
            try:
                data = self.take_copy()
            except ZfdError as e:
                if e.code in (E_PEER_GONE, E_DETACHED):
                    raise StopAsyncIteration from None
                raise
            if data is not None:
                return data
            await self.wait_async()
