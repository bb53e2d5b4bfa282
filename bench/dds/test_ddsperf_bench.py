#!/usr/bin/env python3
"""Tests of ddsperf_bench that need neither root nor ddsperf: parsing ddsperf
0.10.2's output (lines as it prints them), reducing it to rows, and the
interface other systems' rows plug into (ratios, targets, table, JSON).
The measurement itself is exercised by the `dds-bench-quick` smoke run."""

from __future__ import annotations

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import ddsperf_bench as bench  # noqa: E402

# ddsperf ping (host a) with pong on host b: participant lines, one round-trip
# line per second (format of latencystat_print), CPU lines (record_cputime).
PING_OUTPUT = """\
[8973] participant vm:8973: new (self)
[8973] participant vm:8972: new
[8973] 2.000  vm:8972 size 64 mean 18.952us min 12.008us 50% 16.861us 90% 27.247us 99% 49.028us max 939.537us cnt 26219
[8973] 2.000  rss:16.1MB vcsw:23529 ivcsw:2764 ddsperf:1%+0% recvUC:13%+38%
[8973] 3.000  vm:8972 size 64 mean 18.699us min 12.008us 50% 16.947us 90% 21.085us 99% 45.130us max 1633.851us cnt 26616
[8973] 3.000  rss:16.1MB vcsw:26607 ivcsw:97 ddsperf:0%+1% recvUC:15%+39%
[8973] 4.000  vm:8972 size 64 mean 18.218us min 12.349us 50% 16.837us 90% 17.268us 99% 40.171us max 1620.080us cnt 27348
[8973] 4.000  rss:16.1MB vcsw:27304 ivcsw:70 recvUC:13%+39%
[8973] 5.000  vm:8972 size 64 mean 30.000us min 12.349us 50% 29.000us 90% 31.000us 99% 90.000us max 2000.000us cnt 10000
"""

# ddsperf sub (host b) with unpaced pub on host a (format of print_stats).
SUB_OUTPUT = """\
[9715] participant vm:9715: new (self)
[9715] participant vm:9716: new
[9715] 1.000  size 1024 total 37855 lost 0 delta 37855 lost 0 rate 37.86 kS/s 310.11 Mb/s (3.79 kS/s 31.01 Mb/s)
[9715] 1.000  rss:16.0MB vcsw:848 ivcsw:33 recvUC:1%+0%
[9715] 2.000  size 1024 total 84752 lost 0 delta 46897 lost 0 rate 46.90 kS/s 384.18 Mb/s (8.48 kS/s 69.43 Mb/s)
[9715] 3.000  size 1024 total 155097 lost 0 delta 70345 lost 0 rate 70.34 kS/s 576.27 Mb/s (15.51 kS/s 127.06 Mb/s)
[9715] 4.001  size 1024 total 227996 lost 0 delta 72899 lost 0 rate 72.88 kS/s 597.07 Mb/s (22.80 kS/s 186.77 Mb/s)
[9715] 5.000  size 1024 total 227997 lost 0 delta 1 lost 0 rate 0.00 kS/s 0.01 Mb/s (22.80 kS/s 186.77 Mb/s)
[9715] 6.000  size 1024 total 227997 lost 0 delta 0 lost 0 rate 0.00 kS/s 0.00 Mb/s (22.80 kS/s 186.77 Mb/s)
[9715] participant vm:9716: gone
"""


class ParsePing(unittest.TestCase):
    def test_round_trip_lines_only(self):
        lines = bench.parse_ping_lines(PING_OUTPUT)
        self.assertEqual([pl.ts for pl in lines], [2.0, 3.0, 4.0, 5.0])
        self.assertEqual(lines[0].size, 64)
        self.assertEqual(lines[0].count, 26219)
        self.assertAlmostEqual(lines[0].ns["50%"], 16861.0)
        self.assertAlmostEqual(lines[0].ns["99%"], 49028.0)
        self.assertAlmostEqual(lines[2].ns["max"], 1620080.0)

    def test_other_units(self):
        lines = bench.parse_ping_lines(
            "[1] 2.000  h:2 size 12 mean 1.5ms min 800ns 50% 1ms 90% 2ms 99% 3ms max 1s cnt 10\n")
        self.assertEqual(lines[0].ns["50%"], 1e6)
        self.assertEqual(lines[0].ns["min"], 800.0)
        self.assertEqual(lines[0].ns["max"], 1e9)

    def test_reduction_drops_warmup_and_takes_weighted_medians(self):
        lat = bench.latency_from_ping("ddsperf", 64, bench.parse_ping_lines(PING_OUTPUT))
        # seconds 3, 4, 5 remain (counts 26616, 27348, 10000): median p50 is second 3's... by weight
        # sorted p50s: 16.837 (27348), 16.947 (26616), 29.0 (10000); half of 63964 is reached at 16.947
        self.assertAlmostEqual(lat.p50_us, 16.947 / 2)
        # sorted p99s: 40.171 (27348), 45.130 (26616), 90.0 (10000) -> 45.130
        self.assertAlmostEqual(lat.p99_us, 45.130 / 2)
        self.assertEqual(lat.round_trips, 26616 + 27348 + 10000)
        self.assertEqual(lat.extra["seconds_dropped"], 1)
        self.assertAlmostEqual(lat.extra["worst_second_p99_us"], 45.0)
        self.assertAlmostEqual(lat.seconds, 3.0)

    def test_nothing_to_reduce(self):
        with self.assertRaises(RuntimeError):
            bench.latency_from_ping("ddsperf", 64, bench.parse_ping_lines("[1] participant x:1: new\n"))


class ParseSub(unittest.TestCase):
    def test_lines(self):
        lines = bench.parse_sub_lines(SUB_OUTPUT)
        self.assertEqual(len(lines), 6)
        self.assertEqual(lines[1].delta, 46897)
        self.assertEqual(lines[3].ts, 4.001)
        self.assertEqual(lines[-1].total, 227997)

    def test_reduction_drops_partial_seconds(self):
        thr = bench.throughput_from_sub("ddsperf", 1024, bench.parse_sub_lines(SUB_OUTPUT))
        # data seconds: 1..5; first (1.000) and last (5.000, delta 1) dropped
        self.assertEqual(thr.samples, 46897 + 70345 + 72899)
        self.assertAlmostEqual(thr.seconds, 4.001 - 1.000)
        self.assertAlmostEqual(thr.samples_per_s, thr.samples / 3.001)
        self.assertAlmostEqual(thr.mb_per_s, thr.samples_per_s * 1024 / 1e6)
        self.assertEqual(thr.lost, 0)

    def test_loss_is_reported(self):
        text = SUB_OUTPUT.replace("total 227997 lost 0 delta 0", "total 227997 lost 5 delta 0")
        self.assertEqual(bench.throughput_from_sub("ddsperf", 1024, bench.parse_sub_lines(text)).lost, 5)

    def test_nothing_received(self):
        with self.assertRaises(RuntimeError):
            bench.throughput_from_sub("ddsperf", 64, bench.parse_sub_lines(
                "[1] 1.000  size 64 total 0 lost 0 delta 0 lost 0 rate 0.00 kS/s 0.00 Mb/s (0.00 kS/s 0.00 Mb/s)\n"))


class Rows(unittest.TestCase):
    def test_from_round_trips(self):
        lat = bench.Latency.from_round_trips("zfd", 64, [1000 * i for i in range(1, 101)])
        self.assertEqual(lat.p50_us, 25.0)   # 50th of 100 round trips = 50 us -> 25 one way
        self.assertEqual(lat.p99_us, 49.5)
        self.assertEqual(lat.round_trips, 100)
        self.assertEqual(lat.extra["min_us"], 0.5)

    def test_from_one_way(self):
        self.assertEqual(bench.Latency.from_one_way("zfd", 64, [10_000] * 5).p50_us, 10.0)

    def test_from_count(self):
        thr = bench.Throughput.from_count("zfd", 1024, 2_000_000, 4.0)
        self.assertEqual(thr.samples_per_s, 500_000)
        self.assertAlmostEqual(thr.mb_per_s, 512.0)

    def test_sizes(self):
        self.assertEqual(bench.parse_size("64"), 64)
        self.assertEqual(bench.parse_size("1k"), 1024)
        self.assertEqual(bench.parse_size("64KiB"), 65536)
        with self.assertRaises(Exception):
            bench.parse_size("8")


class PlugIn(unittest.TestCase):
    """Another system's rows beside ddsperf's, as the zfd bridge benchmark adds them."""

    def run_fake(self, zfd_rate, zfd_p50):
        def ddsperf_lat(hosts, size, duration):
            return bench.Latency("ignored", size, 10.0, 20.0, 1000, duration)

        def ddsperf_thr(hosts, size, duration):
            return bench.Throughput.from_count("ignored", size, 100_000 * duration, duration)

        def zfd_lat(hosts, size, duration):
            return bench.Latency.from_one_way("zfd", size, [zfd_p50 * 1e3] * 10, duration)

        def zfd_thr(hosts, size, duration):
            if size == 65536:
                raise RuntimeError("bridge crashed")
            return bench.Throughput.from_count("zfd", size, zfd_rate * duration, duration)

        systems = [bench.System("ddsperf", ddsperf_lat, ddsperf_thr), bench.System("zfd", zfd_lat, zfd_thr)]
        return bench.run_benchmark(None, systems, [64, 1024, 65536], 2.0, config={"duration_s": 2.0})

    def test_ratios_and_targets(self):
        res = self.run_fake(zfd_rate=90_000, zfd_p50=16.0)
        r = {(x["kind"], x["size"]): x for x in res.ratios()}
        self.assertAlmostEqual(r[("throughput", 64)]["ratio"], 0.9)
        self.assertTrue(r[("throughput", 64)]["met"])
        self.assertAlmostEqual(r[("latency_p50", 64)]["ratio"], 1.6)
        self.assertFalse(r[("latency_p50", 64)]["met"])
        self.assertNotIn(("throughput", 65536), r)   # the failed row has no ratio...
        self.assertEqual(res.errors[0]["system"], "zfd")  # ...but is reported
        self.assertEqual(res.row("latency", "ddsperf", 64).system, "ddsperf")  # rows renamed to their system

    def test_missed_throughput(self):
        res = self.run_fake(zfd_rate=70_000, zfd_p50=12.0)
        r = {(x["kind"], x["size"]): x for x in res.ratios()}
        self.assertFalse(r[("throughput", 1024)]["met"])
        self.assertTrue(r[("latency_p50", 1024)]["met"])

    def test_table_and_json(self):
        res = self.run_fake(zfd_rate=90_000, zfd_p50=16.0)
        table = bench.format_table(res)
        lines = table.splitlines()
        i = next(k for k, line in enumerate(lines) if line.strip().startswith("64 B  ddsperf") and "MB/s" not in line)
        self.assertIn("zfd", lines[i + 1])          # zfd's row right under ddsperf's
        self.assertIn("1.60x  MISSED", lines[i + 1])
        self.assertIn("0.90x  met", table)
        self.assertIn("ERROR throughput zfd 64 KiB: bridge crashed", table)
        doc = json.loads(json.dumps(res.to_json()))
        self.assertEqual({r["system"] for r in doc["latency"]}, {"ddsperf", "zfd"})
        self.assertEqual(len(doc["ratios"]), 5)

    def test_setup_and_teardown_around_all_rows(self):
        calls = []

        def lat(hosts, size, duration):
            calls.append(("row", size))
            if size == 1024:
                raise RuntimeError("row failed")
            return bench.Latency("x", size, 1.0, 1.0, 1, duration)

        system = bench.System("zfd", lat, setup=lambda h: calls.append(("setup", h)),
                              teardown=lambda h: calls.append(("teardown", h)))
        res = bench.run_benchmark("HOSTS", [system], [64, 1024], 1.0, kinds=["latency"])
        self.assertEqual(calls, [("setup", "HOSTS"), ("row", 64), ("row", 1024), ("teardown", "HOSTS")])
        self.assertEqual(len(res.latency), 1)
        self.assertEqual(res.errors[0]["error"], "row failed")

    def test_teardown_after_a_failed_setup_of_another(self):
        calls = []

        def bad_setup(hosts):
            raise RuntimeError("no bridge")

        a = bench.System("a", teardown=lambda h: calls.append("a down"))
        b = bench.System("b", setup=bad_setup, teardown=lambda h: calls.append("b down"))
        with self.assertRaises(RuntimeError):
            bench.run_benchmark(None, [a, b], [64], 1.0)
        self.assertEqual(calls, ["a down"])   # started ones only

    def test_repeat_takes_median_run(self):
        values = iter([30.0, 10.0, 20.0])

        def lat(hosts, size, duration):
            return bench.Latency("x", size, next(values), 1.0, 1, duration)

        res = bench.run_benchmark(None, [bench.System("ddsperf", lat)], [64], 1.0, kinds=["latency"], repeat=3)
        self.assertEqual(res.latency[0].p50_us, 20.0)
        self.assertEqual(res.latency[0].extra["p50_us_runs"], [30.0, 10.0, 20.0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
