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

Targets (issue "Beyond one host"): zfd throughput >= 0.8x ddsperf's at each
size; zfd one-way latency p50 <= 1.5x ddsperf's one-way p50.

Run as root: ``python3 bench/dds/bridge_bench.py [--quick] [--json] [--pin]``
(needs a build: $ZFD_BUILD_DIR, default build/; exit 77 where namespaces cannot
be made). The bridges run on DDS domain 1, away from ddsperf's domain 0.
SPDX-License-Identifier: Apache-2.0
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
DOMAIN = "1"


class Zfd:
    """One `zfd bridge` per host for the whole run; fresh segment names per row."""

    def __init__(self):
        self.bridges = []
        self.row = 0

    def env(self):
        return {"LD_LIBRARY_PATH": LIBS}

    def setup(self, hosts):
        for h in ("a", "b"):
            self.bridges.append(hosts.popen(h, [ZFD, "bridge", "--domain", DOMAIN, "-q", "--grace", "1000"],
                                            env=self.env(), stdout=subprocess.DEVNULL))

    def teardown(self, hosts):
        for p in self.bridges:
            hosts.stop(p)
        self.bridges.clear()

    def _names(self, what):
        self.row += 1
        return f"bench_{what}{self.row}"

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
        return bench.Latency.from_round_trips("zfd", size, result["round_trips_ns"], seconds=duration)

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
    z = Zfd()
    system = bench.System("zfd", z.latency, z.throughput, setup=z.setup, teardown=z.teardown)
    return bench.main(argv, extra_systems=[system])


if __name__ == "__main__":
    sys.exit(main())
