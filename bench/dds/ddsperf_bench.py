#!/usr/bin/env python3
"""ddsperf_bench: the cross-host benchmark's Cyclone DDS baseline, and the frame
other systems' rows plug into.

Two simulated hosts, a and b (tests/dds/zfdhosts.py: network namespaces joined by
a bridge, each with its own /dev/shm), and Cyclone's own measuring tool,
``ddsperf``, between them:

- latency: ``ddsperf ping size S`` on a, ``ddsperf pong`` on b; one ping in flight,
  the next sent when its pong arrives. Reported one way = round trip / 2, p50 and
  p99, at each size.
- throughput: ``ddsperf pub size S`` (as fast as it can, reliable, KEEP_ALL,
  ddsperf's default) on a, ``ddsperf sub`` on b; samples/s and MB/s (10^6 bytes)
  received at each size.

Sizes are ddsperf's "size S": the whole serialised sample of its KS topic (a
12-byte header of sequence number and key, then S - 12 bytes of octet sequence).
Each measurement runs for a fixed time (5 s; --quick 2 s) after both sides have
matched.

Pinning: none by default; the scheduler places every process of both hosts on
the machine's two cores. ``--pin`` runs every process of host a on CPU 0 and every
process of host b on CPU 1 (``taskset``; Hosts(cpus=...)): one core per host,
whatever the number of processes a system runs there. Measured on this shared
2-core machine (three runs per row, medians; other engineers' builds come and go):
- in the one quiet spell seen (load falling to 2.8) pinned rows reached 808k
  samples/s at 64 B, 257k at 1 KiB, 418 MB/s at 64 KiB and a 1 KiB one-way p50
  of 8.4 us; unpinned rows at load 2.5-5 read 509k, 186k, 236 MB/s and 7.0 us;
- with other jobs running (load 5-17) pinned rows were 2-5x slower and erratic
  (64 B one-way p50 33-51 us pinned, 6.6-10 us unpinned; throughput halved): a
  pinned process cannot dodge a job that lands on its core.
Unpinned is the default because it is steady in both conditions; --pin suits an
idle machine. The table prints the load; compare the ratios of one run, not
figures across runs.

Figures from ddsperf, how they are reduced:
- ping prints one line per second: count, mean, min, 50 %, 90 %, 99 %, max of the
  round trips of that second (ddsperf keeps the first 20000 of each second for
  the percentiles). The first second with data is warm-up and dropped; p50 and
  p99 reported are the count-weighted medians of the remaining seconds' p50 and
  p99 (robust to one noisy second on a shared machine); "worst p99" and "max"
  are kept in the JSON.
- sub prints one line per second with data: received in that second ("delta"),
  running total, lost. The first and last seconds with data are partial and
  dropped; rate = samples in the seconds between / the time they cover.

Other systems plug in as more rows, printed next to ddsperf's with ratios to it
(targets: throughput >= 0.8x ddsperf's at each size; one-way latency p50 <= 1.5x
ddsperf's)::

    import ddsperf_bench as bench

    def zfd_latency(hosts, size, duration):      # hosts: zfdhosts.Hosts with "a", "b"
        ...start a zfd writer + bridge on a, bridge + reader on b (hosts.popen)...
        return bench.Latency.from_round_trips("zfd", size, round_trips_ns)

    def zfd_throughput(hosts, size, duration):
        ...
        return bench.Throughput.from_count("zfd", size, samples, seconds, lost=0)

    # setup/teardown (optional) run once around all rows, e.g. one bridge per host
    sys.exit(bench.main(extra_systems=[bench.System("zfd", zfd_latency, zfd_throughput,
                                                    setup=start_bridges, teardown=stop_bridges)]))

Run: ``python3 bench/dds/ddsperf_bench.py [--quick] [--json] [--sizes 64,1k,64k]``
as root (exit 77 where simulated hosts cannot be made).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Sequence

# zfdhosts lives with the tests; ZFDHOSTS_DIR overrides where to find it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("ZFDHOSTS_DIR", os.path.join(_HERE, "..", "..", "tests", "dds")))
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import zfdhosts  # noqa: E402

DDSPERF = os.environ.get("DDSPERF", "ddsperf")
DEFAULT_SIZES = (64, 1024, 65536)
BASELINE = "ddsperf"
#: zfd throughput must reach this fraction of ddsperf's at each size.
THROUGHPUT_TARGET = 0.8
#: zfd one-way latency p50 may be at most this multiple of ddsperf's.
LATENCY_TARGET = 1.5

# How long a ddsperf waits for its peer to match before giving up (-Qinitwait),
# and the bound on every process of one measurement.
MATCH_WAIT_S = 10.0
#: DDS domain of the ddsperf runs (ddsperf -i).
DDSPERF_DOMAIN = 0


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------

def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending sequence."""
    if not sorted_values:
        raise ValueError("no values")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


@dataclass
class Latency:
    """One-way latency of one system at one size (microseconds)."""

    system: str
    size: int
    p50_us: float  #: one-way p50 (round trip / 2)
    p99_us: float  #: one-way p99
    round_trips: int  #: round trips the figures come from
    seconds: float = 0.0  #: measuring time they come from
    extra: dict = field(default_factory=dict)  #: anything else worth keeping in the JSON

    @classmethod
    def from_round_trips(cls, system: str, size: int, round_trips_ns: Iterable[float],
                         seconds: float = 0.0, **extra) -> "Latency":
        """From raw round-trip times in nanoseconds (one-way = round trip / 2)."""
        rt = sorted(float(x) for x in round_trips_ns)
        if not rt:
            raise ValueError(f"{system} {size} B: no round trips")
        return cls(system, size, _percentile(rt, 50) / 2e3, _percentile(rt, 99) / 2e3, len(rt), seconds,
                   {"mean_us": statistics.fmean(rt) / 2e3, "min_us": rt[0] / 2e3, "max_us": rt[-1] / 2e3, **extra})

    @classmethod
    def from_one_way(cls, system: str, size: int, one_way_ns: Iterable[float],
                     seconds: float = 0.0, **extra) -> "Latency":
        """From raw one-way times in nanoseconds (when both ends share a clock)."""
        return cls.from_round_trips(system, size, (2 * x for x in one_way_ns), seconds, **extra)


@dataclass
class Throughput:
    """Received rate of one system at one size."""

    system: str
    size: int
    samples_per_s: float
    mb_per_s: float  #: 10^6 bytes of payload per second
    samples: int  #: samples the rate comes from
    seconds: float  #: time they were received in
    lost: int = 0  #: samples the receiver saw missing (must be 0 when reliable)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_count(cls, system: str, size: int, samples: int, seconds: float, lost: int = 0,
                   **extra) -> "Throughput":
        if seconds <= 0:
            raise ValueError(f"{system} {size} B: no measuring time")
        rate = samples / seconds
        return cls(system, size, rate, rate * size / 1e6, samples, seconds, lost, dict(extra))


LatencyFn = Callable[["zfdhosts.Hosts", int, float], Latency]
ThroughputFn = Callable[["zfdhosts.Hosts", int, float], Throughput]


@dataclass
class System:
    """A system measured between hosts a and b. Each function gets the Hosts,
    the size in bytes and the measuring time in seconds, and returns its row
    (or raises; the error is reported in the table and the JSON).

    setup(hosts) runs once before any row is measured and teardown(hosts) once
    after all (also after a failure): for processes that stay up across rows,
    such as one bridge per host. They stay up while the other systems' rows
    run, so keep them quiet then, or on another DDS domain than ddsperf's
    (DDSPERF_DOMAIN, 0)."""

    name: str
    latency: LatencyFn | None = None
    throughput: ThroughputFn | None = None
    setup: Callable[["zfdhosts.Hosts"], None] | None = None
    teardown: Callable[["zfdhosts.Hosts"], None] | None = None


# ---------------------------------------------------------------------------
# ddsperf output
# ---------------------------------------------------------------------------

_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
_NUM_UNIT = r"([0-9.]+(?:e[-+]?\d+)?)(ns|us|ms|s)"
_PING_RE = re.compile(
    r"^\[(?P<pid>\d+)\]\s+(?P<ts>[0-9.]+)\s+(?P<peer>\S+)\s+size\s+(?P<size>\d+)\s+mean\s.*\bcnt\s+(?P<cnt>\d+)")
_FIELD_RE = {k: re.compile(r"(?:^|\s)" + re.escape(k) + r"\s+" + _NUM_UNIT)
             for k in ("mean", "min", "50%", "90%", "99%", "max")}
_SUB_RE = re.compile(
    r"^\[(?P<pid>\d+)\]\s+(?P<ts>[0-9.]+)\s+size\s+(?P<size>\d+)\s+total\s+(?P<total>\d+)\s+"
    r"lost\s+(?P<lost>\d+)\s+delta\s+(?P<delta>\d+)\s+lost\s+(?P<dlost>\d+)\s+rate\s")


@dataclass
class PingLine:
    ts: float
    size: int
    count: int
    ns: dict  #: {"mean", "min", "50%", "90%", "99%", "max"} -> nanoseconds (round trip)


@dataclass
class SubLine:
    ts: float
    size: int
    total: int
    lost_total: int
    delta: int
    lost: int


def parse_ping_lines(text: str) -> list[PingLine]:
    """The per-second round-trip lines of ``ddsperf ping`` (other lines ignored)."""
    out = []
    for line in text.splitlines():
        m = _PING_RE.match(line.strip())
        if not m:
            continue
        ns = {}
        for k, rx in _FIELD_RE.items():
            f = rx.search(line)
            if f:
                ns[k] = float(f.group(1)) * _UNIT_NS[f.group(2)]
        if "50%" in ns and "99%" in ns:
            out.append(PingLine(float(m.group("ts")), int(m.group("size")), int(m.group("cnt")), ns))
    return out


def parse_sub_lines(text: str) -> list[SubLine]:
    """The per-second receive lines of ``ddsperf sub`` (other lines ignored)."""
    out = []
    for line in text.splitlines():
        m = _SUB_RE.match(line.strip())
        if m:
            out.append(SubLine(float(m.group("ts")), int(m.group("size")), int(m.group("total")),
                               int(m.group("lost")), int(m.group("delta")), int(m.group("dlost"))))
    return out


def _weighted_median(pairs: Sequence[tuple[float, int]]) -> float:
    """Median of values weighted by counts: pairs of (value, count)."""
    pairs = sorted(pairs)
    total = sum(c for _, c in pairs)
    acc = 0
    for v, c in pairs:
        acc += c
        if 2 * acc >= total:
            return v
    return pairs[-1][0]


def latency_from_ping(system: str, size: int, lines: Sequence[PingLine]) -> Latency:
    """Reduce ddsperf ping's per-second lines (see the module docstring)."""
    lines = [pl for pl in lines if pl.count > 0]
    if not lines:
        raise RuntimeError("ddsperf ping printed no round-trip line")
    steady = lines[1:] if len(lines) > 1 else lines
    count = sum(pl.count for pl in steady)
    p50 = _weighted_median([(pl.ns["50%"], pl.count) for pl in steady])
    p99 = _weighted_median([(pl.ns["99%"], pl.count) for pl in steady])
    seconds = steady[-1].ts - (lines[0].ts if len(lines) > 1 else steady[0].ts - 1.0)
    return Latency(system, size, p50 / 2e3, p99 / 2e3, count, round(seconds, 3), {
        "mean_us": sum(pl.ns.get("mean", 0) * pl.count for pl in steady) / count / 2e3,
        "worst_second_p99_us": max(pl.ns["99%"] for pl in steady) / 2e3,
        "max_us": max(pl.ns.get("max", 0) for pl in steady) / 2e3,
        "seconds_used": len(steady), "seconds_dropped": len(lines) - len(steady),
        "per_second_p50_us": [round(pl.ns["50%"] / 2e3, 3) for pl in steady],
        "reported_size": steady[-1].size,
    })


def throughput_from_sub(system: str, size: int, lines: Sequence[SubLine]) -> Throughput:
    """Reduce ddsperf sub's per-second lines (see the module docstring)."""
    data = [sl for sl in lines if sl.delta > 0]
    if not data:
        raise RuntimeError("ddsperf sub received nothing")
    if len(data) >= 3:
        used, t_from, t_to = data[1:-1], data[0].ts, data[-2].ts
    else:  # too short a run to drop the partial seconds: use what there is
        used, t_from, t_to = data, data[0].ts - 1.0, data[-1].ts
    samples = sum(sl.delta for sl in used)
    lost = lines[-1].lost_total if lines else 0
    return Throughput.from_count(system, size, samples, t_to - t_from, lost,
                                 seconds_used=len(used), seconds_dropped=len(data) - len(used),
                                 per_second_samples=[sl.delta for sl in data],
                                 reported_size=data[-1].size)


# ---------------------------------------------------------------------------
# Running ddsperf on the hosts
# ---------------------------------------------------------------------------

def _ddsperf(hosts: "zfdhosts.Hosts", host: str, args: Sequence[str]) -> tuple[subprocess.Popen, "zfdhosts.OutputLines"]:
    p = hosts.popen(host, [DDSPERF, "-i", str(DDSPERF_DOMAIN), *args],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p, zfdhosts.OutputLines(p.stdout)


def _wait(p: subprocess.Popen, timeout: float, what: str) -> int:
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{what} did not finish within {timeout:.0f} s") from None


def _run_pair(hosts: "zfdhosts.Hosts", src: str, dst: str, src_mode: Sequence[str],
              dst_mode: Sequence[str], run_for: float, linger: float = 0.0) -> tuple[int, str, str]:
    """ddsperf `dst_mode` on dst, then ddsperf `src_mode` on src for run_for seconds,
    both waiting (at most MATCH_WAIT_S) for the other to match before they start.
    linger: seconds dst may go on printing after src ended. Both are stopped
    before returning (src's exit status, src's output, dst's output)."""
    match = ["-Qminmatch:1", f"-Qinitwait:{MATCH_WAIT_S:g}"]
    far, far_out = _ddsperf(hosts, dst, ["-D", f"{run_for + MATCH_WAIT_S + 5:g}", *match, *dst_mode])
    near, near_out = _ddsperf(hosts, src, ["-D", f"{run_for:g}", *match, *src_mode])
    try:
        rc = _wait(near, run_for + MATCH_WAIT_S + 15, f"ddsperf {src_mode[0]}")
        if linger:
            time.sleep(linger)
    finally:
        hosts.stop(near, grace=1)
        hosts.stop(far, grace=2)
    return rc, near_out.text(), far_out.text()


def ddsperf_latency(hosts: "zfdhosts.Hosts", size: int, duration: float,
                    src: str = "a", dst: str = "b") -> Latency:
    """ddsperf ping on src, pong on dst; one-way = round trip / 2."""
    # ping's first ping goes out 1 s after start and its first second is dropped
    # as warm-up: run duration + 2 s to keep `duration` seconds of figures.
    rc, text, _ = _run_pair(hosts, src, dst, ["ping", "size", str(size)], ["pong"], duration + 2)
    try:
        lat = latency_from_ping(BASELINE, size, parse_ping_lines(text))
    except RuntimeError as e:
        raise RuntimeError(f"{e} (exit {rc}): {text.strip()[-400:]}") from None
    lat.extra["exit_status"] = rc
    return lat


def ddsperf_throughput(hosts: "zfdhosts.Hosts", size: int, duration: float,
                       src: str = "a", dst: str = "b") -> Throughput:
    """ddsperf pub (unpaced, reliable, keep-all) on src, sub on dst."""
    # sub's per-second lines are not in phase with pub's start and stop: the
    # first and last seconds with data are partial and dropped, so run duration
    # + 1 s; sub may print its last second's line for 1.2 s after pub ended.
    rc, _, text = _run_pair(hosts, src, dst, ["pub", "size", str(size)], ["sub"], duration + 1, linger=1.2)
    try:
        thr = throughput_from_sub(BASELINE, size, parse_sub_lines(text))
    except RuntimeError as e:
        raise RuntimeError(f"{e} (pub exit {rc}): {text.strip()[-400:]}") from None
    thr.extra["pub_exit_status"] = rc
    return thr


DDSPERF_SYSTEM = System(BASELINE, ddsperf_latency, ddsperf_throughput)


# ---------------------------------------------------------------------------
# Running everything, tables, JSON
# ---------------------------------------------------------------------------

@dataclass
class Results:
    config: dict
    latency: list = field(default_factory=list)  #: Latency rows
    throughput: list = field(default_factory=list)  #: Throughput rows
    errors: list = field(default_factory=list)  #: {"system", "kind", "size", "error"}

    def row(self, kind: str, system: str, size: int):
        for r in (self.latency if kind == "latency" else self.throughput):
            if r.system == system and r.size == size:
                return r
        return None

    def ratios(self) -> list[dict]:
        """Each non-baseline row against ddsperf's at the same size, with its target."""
        out = []
        for r in self.throughput:
            base = self.row("throughput", BASELINE, r.size)
            if r.system != BASELINE and base and base.samples_per_s > 0:
                x = r.samples_per_s / base.samples_per_s
                out.append({"kind": "throughput", "system": r.system, "size": r.size, "ratio": x,
                            "target": f">= {THROUGHPUT_TARGET}", "met": x >= THROUGHPUT_TARGET})
        for r in self.latency:
            base = self.row("latency", BASELINE, r.size)
            if r.system != BASELINE and base and base.p50_us > 0:
                x = r.p50_us / base.p50_us
                out.append({"kind": "latency_p50", "system": r.system, "size": r.size, "ratio": x,
                            "target": f"<= {LATENCY_TARGET}", "met": x <= LATENCY_TARGET})
        return out

    def to_json(self) -> dict:
        return {"config": self.config,
                "latency": [asdict(r) for r in self.latency],
                "throughput": [asdict(r) for r in self.throughput],
                "ratios": self.ratios(),
                "errors": self.errors}


def _median_row(rows: list, key: Callable):
    rows = sorted(rows, key=key)
    return rows[(len(rows) - 1) // 2]


def run_benchmark(hosts: "zfdhosts.Hosts", systems: Sequence[System], sizes: Sequence[int],
                  duration: float, kinds: Sequence[str] = ("latency", "throughput"),
                  repeat: int = 1, progress: Callable[[str], None] | None = None,
                  config: dict | None = None) -> Results:
    """Measure every system at every size. Systems are interleaved at each size
    (ddsperf, then the others, then the next size), so slow drift of a shared
    machine hits all of them alike. With repeat > 1 each row is the median run
    (by p50, or by samples/s)."""
    res = Results(config=dict(config or {}))
    say = progress or (lambda s: None)
    started = []
    try:
        for system in systems:
            if system.setup is not None:
                system.setup(hosts)
            started.append(system)
        _measure_all(res, hosts, systems, sizes, duration, kinds, repeat, say)
    finally:
        for system in reversed(started):
            if system.teardown is not None:
                try:
                    system.teardown(hosts)
                except Exception as e:  # noqa: BLE001 - report, tear the others down too
                    res.errors.append({"system": system.name, "kind": "teardown", "size": 0, "error": str(e)})
    return res


def _measure_all(res: Results, hosts, systems, sizes, duration, kinds, repeat, say) -> None:
    for kind in kinds:
        for size in sizes:
            for system in systems:
                fn = system.latency if kind == "latency" else system.throughput
                if fn is None:
                    continue
                runs = []
                for i in range(repeat):
                    t0 = time.monotonic()
                    try:
                        r = fn(hosts, size, duration)
                    except Exception as e:  # noqa: BLE001 - one failed row must not lose the others
                        res.errors.append({"system": system.name, "kind": kind, "size": size, "error": str(e)})
                        say(f"  {kind:10} {system.name:8} {_fmt_size(size):>6}: ERROR {e}")
                        continue
                    r.system = system.name
                    runs.append(r)
                    took = time.monotonic() - t0
                    if kind == "latency":
                        say(f"  {kind:10} {system.name:8} {_fmt_size(size):>6}: p50 {r.p50_us:8.2f} us  "
                            f"p99 {r.p99_us:8.2f} us  ({took:.1f} s)")
                    else:
                        say(f"  {kind:10} {system.name:8} {_fmt_size(size):>6}: {r.samples_per_s:12.0f} /s "
                            f"{r.mb_per_s:9.1f} MB/s  ({took:.1f} s)")
                if runs:
                    if kind == "latency":
                        row = _median_row(runs, key=lambda r: r.p50_us)
                        if repeat > 1:
                            row.extra["p50_us_runs"] = [round(r.p50_us, 3) for r in runs]
                        res.latency.append(row)
                    else:
                        row = _median_row(runs, key=lambda r: r.samples_per_s)
                        if repeat > 1:
                            row.extra["samples_per_s_runs"] = [round(r.samples_per_s) for r in runs]
                        res.throughput.append(row)


def _fmt_size(n: int) -> str:
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


def format_table(res: Results) -> str:
    """The human-readable table: each size's ddsperf row first, other systems
    under it with their ratio to it and whether the target is met."""
    ratios = {(r["kind"], r["system"], r["size"]): r for r in res.ratios()}
    cfg = res.config
    out = [f"Cross-host benchmark: {cfg.get('route', 'a -> b')}; {cfg.get('pinning', '')}; "
           f"{cfg.get('duration_s', '?')} s per row"]
    if "load_average_before" in cfg:
        out.append(f"Machine load (1 min average, {cfg.get('cpus', '?')} CPUs): "
                   f"{cfg['load_average_before']} before, {cfg.get('load_average_after', '?')} after; "
                   "compare ratios within one run, not figures across runs")
    if res.latency:
        out += ["", "One-way latency (round trip / 2), microseconds",
                f"{'size':>8}  {'system':<10} {'p50':>9} {'p99':>9} {'round trips':>12}   "
                f"vs {BASELINE} p50 (target <= {LATENCY_TARGET}x)"]
        for size in sorted({r.size for r in res.latency}):
            rows = sorted((r for r in res.latency if r.size == size), key=lambda r: r.system != BASELINE)
            for r in rows:
                rt = ratios.get(("latency_p50", r.system, size))
                note = f"{rt['ratio']:6.2f}x  {'met' if rt['met'] else 'MISSED'}" if rt else ""
                out.append(f"{_fmt_size(size):>8}  {r.system:<10} {r.p50_us:9.2f} {r.p99_us:9.2f} "
                           f"{r.round_trips:12d}   {note}")
    if res.throughput:
        out += ["", "Throughput (reliable), received per second",
                f"{'size':>8}  {'system':<10} {'samples/s':>12} {'MB/s':>9} {'lost':>6}   "
                f"vs {BASELINE} (target >= {THROUGHPUT_TARGET}x)"]
        for size in sorted({r.size for r in res.throughput}):
            rows = sorted((r for r in res.throughput if r.size == size), key=lambda r: r.system != BASELINE)
            for r in rows:
                rt = ratios.get(("throughput", r.system, size))
                note = f"{rt['ratio']:6.2f}x  {'met' if rt['met'] else 'MISSED'}" if rt else ""
                out.append(f"{_fmt_size(size):>8}  {r.system:<10} {r.samples_per_s:12.0f} "
                           f"{r.mb_per_s:9.1f} {r.lost:6d}   {note}")
    for e in res.errors:
        where = f" {_fmt_size(e['size'])}" if e["size"] else ""
        out.append(f"ERROR {e['kind']} {e['system']}{where}: {e['error']}")
    return "\n".join(out)


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*(|b|k|kb|kib|m|mb|mib)\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (e.g. 64, 1k, 64KiB)")
    mult = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20}
    n = int(m.group(1)) * mult[m.group(2)]
    if n < 12:
        raise argparse.ArgumentTypeError("sizes start at 12 bytes (ddsperf's KS header)")
    return n


def _cyclone_version() -> str:
    try:
        cp = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "cyclonedds-tools"],
                            capture_output=True, text=True, timeout=10)
        return cp.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: Sequence[str] | None = None, extra_systems: Sequence[System] = ()) -> int:
    """Command line: measure ddsperf (and extra_systems) between two simulated hosts."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 s per row instead of 5")
    ap.add_argument("--duration", type=float, help="seconds per row (overrides --quick)")
    ap.add_argument("--sizes", type=lambda s: [parse_size(x) for x in s.split(",")],
                    default=list(DEFAULT_SIZES), help="comma-separated sizes (default 64,1k,64k)")
    ap.add_argument("--only", choices=("latency", "throughput"), help="measure one kind only")
    ap.add_argument("--repeat", type=int, default=1, help="runs per row; the median run is reported")
    ap.add_argument("--pin", action="store_true",
                    help="pin every process of host a to CPU 0 and of host b to CPU 1 (default: not pinned)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = ap.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 5.0)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    if shutil.which(DDSPERF) is None:
        print(f"skip: {DDSPERF} not found (Debian package cyclonedds-tools)", file=sys.stderr)
        return zfdhosts.SKIP_EXIT
    ncpu = os.cpu_count() or 1
    pin = args.pin and ncpu >= 2
    cpus = {"a": "0", "b": "1"} if pin else None
    try:
        hosts = zfdhosts.Hosts(("a", "b"), cpus=cpus)
    except zfdhosts.HostsUnavailable as e:
        print(f"skip: {e}", file=sys.stderr)
        return zfdhosts.SKIP_EXIT
    systems = [DDSPERF_SYSTEM, *extra_systems]
    config = {
        "route": "host a -> host b (network namespaces, veth pairs on one Linux bridge, MTU %d)" % hosts.mtu,
        "pinning": "host a on CPU 0, host b on CPU 1 (taskset)" if pin else "not pinned",
        "duration_s": duration, "sizes": list(args.sizes), "repeat": args.repeat,
        "cyclonedds": _cyclone_version(), "cpus": ncpu,
        "systems": [s.name for s in systems],
        "latency_method": "ddsperf ping/pong, one ping in flight; one-way = round trip / 2; "
                          "count-weighted median of per-second p50 / p99, first second dropped",
        "throughput_method": "ddsperf pub (unpaced, reliable, keep-all) -> sub; "
                             "first and last seconds dropped",
    }
    config["load_average_before"] = round(os.getloadavg()[0], 2)
    kinds = [args.only] if args.only else ["latency", "throughput"]
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if args.json else \
          (lambda s: print(s, flush=True))
    with hosts:
        say(f"hosts {hosts.prefix} ({hosts.subnet}) up in {hosts.setup_seconds * 1000:.0f} ms; "
            f"{config['pinning']}")
        res = run_benchmark(hosts, systems, args.sizes, duration, kinds, args.repeat, say, config)
    res.config["load_average_after"] = round(os.getloadavg()[0], 2)
    res.config["teardown_s"] = round(hosts.teardown_seconds, 3)
    res.config["setup_s"] = round(hosts.setup_seconds, 3)
    if args.json:
        print(json.dumps(res.to_json(), indent=2))
    else:
        print()
        print(format_table(res))
    return 1 if res.errors else 0


if __name__ == "__main__":
    sys.exit(main())
