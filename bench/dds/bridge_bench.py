#!/usr/bin/env python3
"""bridge_bench: zerodds-flatdata across hosts, side by side with Cyclone DDS's
own ddsperf, between the same two simulated hosts in one run.

Rows (ddsperf_bench.py runs ddsperf's; this adds zfd's next to them):

- latency: a zfd writer on host a -> `zfd bridge` on a -> DDS -> `zfd bridge`
  on b -> a mirror segment read on b, and the answer back the same way
  (zfd_bridge_bench ping/pong); one-way = round trip / 2, p50 and p99. Every
  process blocks when it waits (a short spin, then a futex sleep; the bridges
  in zfd_reader_wait and on DDS waitsets), as ddsperf's do.
- throughput: a zfd writer on a as fast as the segment takes samples (256
  slots, reliable bridges: backpressure end to end), counted by a reader of
  the mirror on b; first and last second dropped.

Targets: zfd throughput >= 0.8x ddsperf's at each size; zfd one-way latency
p50 <= 1.5x ddsperf's one-way p50. ddsperf answers a ping on Cyclone's receive
thread; zfd's path adds two sleeping hand-offs between processes (writer ->
exporting bridge, importing bridge -> reader), so each latency row also gets a
floor line: ddsperf's p50 plus two raw futex hand-offs (zfd-bench's
floor-futex row, measured right after the zfd row).

``--security``: the same rows again with DDS Security on (Cyclone's plugins;
every participant authenticated, data and discovery of every topic signed and
encrypted, credentials made by ``zfd keys`` for this run and removed after):
"zfd+sec" (both bridges ``zfd bridge --security``) and "ddsperf+sec" (ddsperf
with the same kind of credentials in its CYCLONEDDS_URI), in the same run and
interleaved with the open rows. zfd+sec is held against ddsperf+sec; a last
table gives each system's secured figure over its open one.

Run as root: ``python3 bench/dds/bridge_bench.py [--quick] [--json] [--pin]
[--security]`` (needs a build: $ZFD_BUILD_DIR, default build/; exit 77 where
namespaces cannot be made). The bridges run on DDS domain 1 (secured: 2), away
from ddsperf's domain 0; each pair carries only its own segments (--allow).
SPDX-License-Identifier: Apache-2.0
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ddsperf_bench as bench  # noqa: E402
import zfdhosts  # noqa: E402  (ddsperf_bench put tests/dds on the path)

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("ZFD_BUILD_DIR", os.path.join(ROOT, "build"))
ZFD = os.environ.get("ZFD_BIN", os.path.join(BUILD, "tools", "zfd", "zfd"))
BENCH = os.environ.get("ZFD_BRIDGE_BENCH", os.path.join(BUILD, "bench", "dds", "zfd_bridge_bench"))
LIBS = os.environ.get("ZFD_LIBRARY_PATH",
                      os.path.join(BUILD, "capi") + ":" + os.path.join(BUILD, "dds"))
ZFD_BENCH = os.environ.get("ZFD_BENCH", os.path.join(BUILD, "bench", "zfd-bench"))
DOMAIN = "1"
# Sleeping hand-offs zfd adds to DDS's one-way path: the writer wakes the
# exporting bridge, the importing bridge wakes the reader.
HANDOFFS = 2
SECURE_DOMAIN = "2"


class Keys:
    """DDS Security credentials for one run (`zfd keys`), in a private temp dir
    removed at teardown (and at exit): per host, one for the bridge (zfd/*) and
    one for ddsperf (its DDSPerf* topics, in any partition)."""

    def __init__(self):
        self.dir = None
        self._xml = {}

    def make(self):
        if self.dir is not None:
            return
        self.dir = tempfile.mkdtemp(prefix="zfd-bench-keys-")
        atexit.register(self.remove)
        pki = os.path.join(self.dir, "pki")
        self._keys("init", pki, "--extra-topic", "DDSPerf*")
        for h in ("a", "b"):
            self._keys("host", pki, f"zfd_{h}", "--publish", "*", "--subscribe", "*")
            self._keys("host", pki, f"perf_{h}", "--extra-publish", "DDSPerf*", "--extra-subscribe", "DDSPerf*",
                       "--partition", "*")

    def _keys(self, *args):
        cp = subprocess.run([ZFD, "keys", *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "LD_LIBRARY_PATH": LIBS})
        if cp.returncode != 0:
            raise RuntimeError(f"zfd keys {' '.join(args)}: {cp.stderr.strip()}")
        return cp.stdout

    def host(self, name):
        return os.path.join(self.dir, "pki", "hosts", name)

    def xml(self, name):
        """The Cyclone <Security> configuration of credentials `name` (`zfd keys check --xml`)."""
        if name not in self._xml:
            self._xml[name] = self._keys("check", self.host(name), "--xml").strip()
        return self._xml[name]

    def remove(self):
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            self._xml.clear()


class Zfd:
    """One `zfd bridge` per host for the whole run (with --security: secured by
    the run's credentials, on their own domain); fresh segment names per row."""

    def __init__(self, keys=None):
        self.keys = keys
        self.bridges = []
        self.row = 0
        self.prefix = "bench_sec_" if keys else "bench_zfd_"

    def env(self):
        return {"LD_LIBRARY_PATH": LIBS}

    def setup(self, hosts):
        if self.keys:
            self.keys.make()
        for h in ("a", "b"):
            argv = [ZFD, "bridge", "-q", "--grace", "1000", "--allow", self.prefix + "*"]
            if self.keys:
                argv += ["--domain", SECURE_DOMAIN, "--security", self.keys.host(f"zfd_{h}")]
            else:
                argv += ["--domain", DOMAIN]
            p = hosts.popen(h, argv, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self.bridges.append(p)
        for p in self.bridges:  # credentials refused, say: fail at once, with the reason
            try:
                p.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"{p.zfd_argv} exited {p.returncode}: {p.stderr.read().strip()[-400:]}")

    def teardown(self, hosts):
        for p in self.bridges:
            hosts.stop(p)
            p.stderr.close()
        self.bridges.clear()
        if self.keys:
            self.keys.remove()

    def _names(self, what):
        self.row += 1
        return f"{self.prefix}{what}{self.row}"

    @staticmethod
    def _json_line(p, timeout):
        out, err = p.communicate(timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{p.zfd_argv}: exit {p.returncode}: {err.strip()[-400:]}")
        for line in reversed(out.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"{p.zfd_argv}: no result")

    def latency(self, hosts, size, duration):
        ping, pong = self._names("ping"), self._names("pong")
        ponger = hosts.popen("b", [BENCH, "pong", ping, pong, str(size)], env=self.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pinger = hosts.popen("a", [BENCH, "ping", ping, pong, str(size), str(duration)],
                             env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        result = self._json_line(pinger, timeout=duration + 90)
        ponger.wait(timeout=30)
        row = bench.Latency.from_round_trips("zfd", size, result["round_trips_ns"], seconds=duration)
        handoff = self._handoff_p50_us()
        if handoff is not None:
            row.extra["handoffs"] = HANDOFFS
            row.extra["handoff_p50_us"] = handoff
        return row

    @staticmethod
    def _handoff_p50_us():
        """One sleeping hand-off between two processes here and now: zfd-bench's
        raw futex ping-pong floor (one-way p50), measured right after the row;
        the median of three quick runs."""
        if not os.path.exists(ZFD_BENCH):
            return None
        got = []
        for _ in range(3):
            cp = subprocess.run([ZFD_BENCH, "--only", "floor-futex", "--quick", "--json", "--no-progress"],
                                capture_output=True, text=True, timeout=120)
            if cp.returncode != 0:
                continue
            got += [r["p50_ns"] / 1000.0 for r in json.loads(cp.stdout)["latency"]
                    if r["id"] == "floor-futex" and r["ok"]]
        return sorted(got)[len(got) // 2] if got else None

    def throughput(self, hosts, size, duration):
        name = self._names("tput")
        sub = hosts.popen("b", [BENCH, "sub", name, str(size), str(duration + 2)], env=self.env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pub = hosts.popen("a", [BENCH, "pub", name, str(size), str(duration + 3)], env=self.env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        counts = self._json_line(sub, timeout=duration + 90)["per_100ms"]
        self._json_line(pub, timeout=30)
        steady = counts[10:-10] if len(counts) > 25 else counts[2:-2]
        return bench.Throughput.from_count("zfd", size, sum(steady), len(steady) / 10.0)


def main(argv=None):
    for path in (ZFD, BENCH):
        if not os.path.exists(path):
            print(f"bridge_bench: {path} not found; build first (meson compile -C {BUILD})",
                  file=sys.stderr)
            return 2
    def add_arguments(ap):
        ap.add_argument("--security", action="store_true",
                        help="also measure zfd+sec and ddsperf+sec: the same rows with DDS Security on")

    def systems(args):
        z = Zfd()
        out = [bench.System("zfd", z.latency, z.throughput, setup=z.setup, teardown=z.teardown)]
        if args.security:
            keys = Keys()
            zs = Zfd(keys)

            def perf_env(hosts):
                keys.make()
                return {h: {"CYCLONEDDS_URI": hosts.cyclone_uri(h) + keys.xml(f"perf_{h}")} for h in ("a", "b")}

            out += [bench.ddsperf_system("ddsperf" + bench.SECURE_SUFFIX, perf_env),
                    bench.System("zfd" + bench.SECURE_SUFFIX, zs.latency, zs.throughput,
                                 setup=zs.setup, teardown=zs.teardown)]
        return out

    return bench.main(argv, extra_systems=systems, add_arguments=add_arguments)


if __name__ == "__main__":
    sys.exit(main())
