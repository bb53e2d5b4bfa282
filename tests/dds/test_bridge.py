#!/usr/bin/env python3
"""Cross-host tests of the DDS bridge (`zfd bridge`, libzerodds_flatdata_dds).

Hosts are simulated with zfdhosts: network namespaces joined by a Linux
bridge, each with its own /dev/shm; Cyclone DDS in every process is bound to
its namespace's interface (CYCLONEDDS_URI), so no DDS traffic leaves them.
Writers and readers are real processes (bridge_peer: self-checking samples,
index == sequence number); plain_dds is a Cyclone program built from the IDL
alone. Every test ends with both hosts' /dev/shm empty after a clean stop and
removes its namespaces. Exit 77 (skipped) where namespaces cannot be made.

Figures (what print-figures.py collects) are printed as "figure: ..." lines.
SPDX-License-Identifier: Apache-2.0
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zfdhosts  # noqa: E402

ZFD = os.environ.get("ZFD_BIN", "zfd")
PEER = os.environ.get("ZFD_BRIDGE_PEER", "bridge_peer")
PLAIN = os.environ.get("ZFD_PLAIN_DDS", "plain_dds")
SCALE = float(os.environ.get("ZFD_BRIDGE_SCALE", "1"))  # >1 for soak runs

# A lease long enough for a 2 s outage, short enough that a vanished peer is
# given up on within a test's patience.
LEASE_XML = "<Discovery><LeaseDuration>4s</LeaseDuration></Discovery>"


def count(n):
    return max(1, int(n * SCALE))


def figure(text):
    print("figure: " + text, flush=True)


class Run:
    """One test's hosts and the helpers to start bridges, writers, readers."""

    def __init__(self, names=("a", "b"), lease_xml=LEASE_XML):
        self.hosts = zfdhosts.Hosts(names)
        self.lease_xml = lease_xml
        self.procs = []

    def __enter__(self):
        self.hosts.__enter__()
        return self

    def __exit__(self, *exc):
        self.hosts.__exit__(*exc)
        for p in self.procs:
            for f in (p.stdin, p.stdout):
                if f is not None:
                    f.close()

    def popen(self, host, argv, **kw):
        p = self.hosts.popen(host, argv, env=self.env(host), **kw)
        self.procs.append(p)
        if kw.get("stdout") == subprocess.PIPE:
            p.out = zfdhosts.OutputLines(p.stdout)
        return p

    def env(self, host):
        return {"CYCLONEDDS_URI": self.hosts.cyclone_uri(host, self.lease_xml)}

    def bridge(self, host, *args, origin=None):
        return self.popen(host, [ZFD, "bridge", "--json", "--origin", origin or f"host-{host}", *args],
                          stdout=subprocess.PIPE, text=True)

    def writer(self, host, name, size, n, *opts):
        p = self.popen(host, [PEER, "write", name, str(size), str(n), "--go", *opts],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if not p.out.wait_for(r"^ready ", 20):
            raise AssertionError(f"writer {name} on {host} did not start")
        return p

    def go(self, writer):
        writer.stdin.write("go\n")
        writer.stdin.flush()

    def reader(self, host, name, n, *opts):
        return self.popen(host, [PEER, "read", name, str(n), *opts], stdout=subprocess.PIPE, text=True)

    def attached(self, reader, timeout=30, nth=1):
        """Waits for the reader's nth "attached" line; returns its flags."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [line for line in reader.out.lines() if line.startswith("attached ")]
            if len(got) >= nth:
                return int(got[nth - 1].split()[2])
            time.sleep(0.02)
        raise AssertionError(f"reader did not attach ({nth}): {reader.out.lines()}")

    @staticmethod
    def summary(proc, timeout):
        proc.wait(timeout=timeout)
        proc.out.join(10)  # the last lines may still be in the pipe
        for line in reversed(proc.out.lines()):
            if line.startswith("{"):
                return json.loads(line)
        raise AssertionError(f"no summary from {proc.zfd_argv}: {proc.out.lines()}")

    @staticmethod
    def events(bridge, kind=None, segment=None):
        out = []
        for line in bridge.out.lines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if (kind is None or e.get("event") == kind) and (segment is None or e.get("segment") == segment):
                out.append(e)
        return out

    def wait_event(self, bridge, kind, segment=None, timeout=20, n=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.events(bridge, kind, segment)
            if len(got) >= n:
                return got[n - 1]
            if bridge.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {kind} event for {segment} (have: {bridge.out.lines()[-20:]})")

    def stop(self, proc):
        """SIGTERM and wait: a clean stop (bridges close their mirrors)."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"{proc.zfd_argv} did not stop on SIGTERM")

    def ls(self, host):
        r = self.hosts.run(host, [ZFD, "ls", "--json"], timeout=20, env=self.env(host))
        assert r.returncode == 0, r.stderr
        return {s["name"]: s for s in json.loads(r.stdout)["segments"]}

    def assert_clean(self, tc, *procs):
        """Stops everything cleanly; then every /dev/shm must be empty."""
        for p in procs:
            self.stop(p)
        for host in self.hosts.names:
            deadline = time.monotonic() + 5
            while self.hosts.shm_files(host) and time.monotonic() < deadline:
                time.sleep(0.05)
            tc.assertEqual(self.hosts.shm_files(host), [], f"/dev/shm of {host} after a clean stop")


def check_stream(tc, s, n, first=0):
    tc.assertEqual(s["corrupt"], 0, s)
    tc.assertEqual(s["dup"], 0, s)
    tc.assertEqual(s["index_mismatch"], 0, s)
    tc.assertEqual(s["received"], n, s)
    tc.assertEqual(s["gaps"], 0, s)
    tc.assertEqual(s["first_seq"], first, s)
    tc.assertEqual(s["last_seq"], first + n - 1, s)


class ReliableStream(unittest.TestCase):
    def test_every_sample_arrives_in_order_at_each_size(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            for size, n in ((64, count(100_000)), (1024, count(100_000)), (65536, count(10_000))):
                name = f"stream{size}"
                w = r.writer("a", name, size, n)
                r.wait_event(bb, "imported", name)
                rd = r.reader("b", name, n, "--timeout", "60000")
                flags = r.attached(rd)
                self.assertEqual(flags, 2, "the segment on b is a mirror (ZFD_SEGMENT_MIRROR)")
                t0 = time.monotonic()
                r.go(w)
                s = r.summary(rd, timeout=600)
                secs = time.monotonic() - t0
                check_stream(self, s, n)
                ws = r.summary(w, timeout=60)
                self.assertEqual(ws["written"], n)
                figure(f"bridge reliable a->b {size} B: {n} samples in order, 0 lost, 0 corrupt, "
                       f"0 dup ({n / secs:,.0f} samples/s end to end)")
                # The mirror closes once the source's writer is gone and all arrived.
                r.wait_event(bb, "mirror-closed", name)
                r.wait_event(ba, "export-ended", name)
            listing = r.ls("b")
            self.assertEqual(listing, {}, "closed mirrors are unlinked")
            r.assert_clean(self, ba, bb)

    def test_zfd_ls_shows_the_mirrors_source(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            w = r.writer("a", "listed", 64, 10)
            r.wait_event(bb, "imported", "listed")
            seg = r.ls("b")["listed"]
            self.assertTrue(seg["mirror"])
            self.assertEqual(seg["origin"], "host-a")
            self.assertEqual(seg["mirror_of"], r.ls("a")["listed"]["instance_id"])
            self.assertTrue(r.ls("a")["listed"]["exported"])
            human = r.hosts.run("b", [ZFD, "ls"], timeout=20, env=r.env("b")).stdout
            self.assertRegex(human, r"listed .* mirror of host-a")
            r.go(w)
            r.summary(w, timeout=60)
            r.assert_clean(self, ba, bb)


class TypeIdentity(unittest.TestCase):
    def test_the_type_hash_crosses_and_a_reader_of_another_layout_is_refused(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            w = r.writer("a", "typed", 64, 500, "--type", "struct Pose { f64 x @0 size 8 } size 8")
            r.wait_event(bb, "imported", "typed")
            wrong = r.reader("b", "typed", 1, "--type", "struct Pose { f32 x @0 size 4 } size 4")
            wrong.wait(timeout=30)
            self.assertEqual(wrong.returncode, 4, wrong.out.lines())
            self.assertIn("TYPE_MISMATCH", wrong.out.text())
            right = r.reader("b", "typed", 500, "--type", "struct Pose { f64 x @0 size 8 } size 8")
            r.attached(right)
            r.go(w)
            check_stream(self, r.summary(right, timeout=60), 500)
            r.assert_clean(self, ba, bb)


class Lifecycle(unittest.TestCase):
    def test_writer_killed_gives_peer_gone_and_a_replacement_resumes(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            w = r.writer("a", "life", 256, 10**9, "--rate", "2000")
            r.wait_event(bb, "imported", "life")
            rd = r.reader("b", "life", 10**9, "--follow", "--timeout", "8000")
            r.attached(rd)
            # The command-line reader follows the mirror too.
            zsub = r.popen("b", [ZFD, "sub", "life", "--follow", "--hex", "-q"], stdout=subprocess.PIPE,
                           text=True)
            time.sleep(0.5)
            r.go(w)
            time.sleep(1.5)
            kill_t = time.monotonic()
            w.send_signal(signal.SIGKILL)
            w.wait()
            closed = r.wait_event(bb, "mirror-closed", "life", timeout=20)
            gone_s = time.monotonic() - kill_t
            self.assertIn("writer is gone", closed["message"])
            figure(f"bridge: writer SIGKILLed on a -> mirror on b closed (PEER_GONE after drain) "
                   f"in {gone_s * 1000:.0f} ms")
            # A replacement writer (REPLACE_STALE) brings the mirror back; the
            # --follow reader attaches to it and reads it from its first sample.
            w2 = r.writer("a", "life", 256, 3000)
            r.wait_event(bb, "imported", "life", n=2)
            r.attached(rd, nth=2)
            r.go(w2)
            s = r.summary(rd, timeout=60)
            self.assertGreaterEqual(s["peer_gone"], 1, s)
            self.assertEqual(s["attachments"], 2, s)
            for k in ("corrupt", "dup", "index_mismatch"):
                self.assertEqual(s[k], 0, s)
            self.assertEqual(s["last_seq"], 2999, s)
            self.assertGreater(s["received"], 3000, s)
            r.summary(w2, timeout=30)
            self.assertTrue(zsub.out.wait_for(r"^2999 ", 30), "zfd sub --follow resumed on the new mirror")
            seqs = [int(line.split()[0]) for line in zsub.out.lines() if line[:1].isdigit()]
            restarts = sum(1 for x, y in zip(seqs, seqs[1:]) if y <= x)
            self.assertEqual(restarts, 1, "numbering restarted once: the replacement writer")
            r.assert_clean(self, ba, bb, zsub)


class Outage(unittest.TestCase):
    def test_link_down_for_two_seconds_loses_nothing(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            n = count(40_000)
            w = r.writer("a", "outage", 512, n, "--rate", "5000")
            r.wait_event(bb, "imported", "outage")
            rd = r.reader("b", "outage", n, "--timeout", "30000")
            r.attached(rd)
            r.go(w)
            time.sleep(2.0)
            r.hosts.link_down("b")
            time.sleep(0.5)
            before = r.ls("a")["outage"]
            time.sleep(1.0)
            after = r.ls("a")["outage"]
            time.sleep(0.5)
            r.hosts.link_up("b")
            # Backpressure: the writer's ring filled and it committed far
            # fewer than the 5000/s it is paced at while the link was down.
            self.assertEqual(after["slots_in_use"], after["slot_count"], after)
            during = after["next_sequence"] - before["next_sequence"]
            self.assertLess(during, 2500, (before, after))
            s = r.summary(rd, timeout=120)
            check_stream(self, s, n)
            r.summary(w, timeout=60)
            figure(f"bridge: link down 2 s mid-stream: {n} samples, 0 lost, 0 dup; backpressure held "
                   f"the writer on a at {during} commits/s (paced at 5000/s) during the outage")
            r.assert_clean(self, ba, bb)


class BestEffort(unittest.TestCase):
    def test_a_slow_remote_reader_never_holds_the_writer_back_and_losses_are_gaps(self):
        with Run() as r:
            ba, bb = r.bridge("a", "--best-effort"), r.bridge("b", "--best-effort")
            n = count(20_000)
            w = r.writer("a", "lossy", 256, n, "--rate", "5000")
            r.wait_event(bb, "imported", "lossy")
            rd = r.reader("b", "lossy", n, "--timeout", "3000", "--delay-us", "1000")
            r.attached(rd)
            r.go(w)
            ws = r.summary(w, timeout=60)
            s = r.summary(rd, timeout=60)
            # The writer ran at its pace: only local scheduling ever made it wait.
            self.assertEqual(ws["written"], n)
            self.assertLess(ws["max_block_ms"], 100, ws)
            self.assertLess(ws["seconds"], n / 5000 * 1.5, ws)
            # The reader on b read at 1000/s: most samples were dropped on the
            # way, shown as gaps; what arrived is intact and in order.
            for k in ("corrupt", "dup", "index_mismatch"):
                self.assertEqual(s[k], 0, s)
            self.assertGreater(s["gaps"], n // 4, s)
            self.assertEqual(s["received"] + s["gaps"], s["last_seq"] - s["first_seq"] + 1, s)
            closed = r.wait_event(bb, "mirror-closed", "lossy")
            self.assertGreater(closed["gaps"], 0, closed)  # the bridge counted the drops
            figure(f"bridge --best-effort: writer paced at 5000/s never waited more than "
                   f"{ws['max_block_ms']:.1f} ms; a 1000/s reader on b got {s['received']} of {n}, "
                   f"{s['gaps']} dropped and shown as gaps; 0 corrupt, 0 dup")
            r.assert_clean(self, ba, bb)


class BridgeDeath(unittest.TestCase):
    def test_exporting_bridge_killed_and_restarted(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b", "--grace", "20000")
            w = r.writer("a", "kexp", 256, count(20_000), "--rate", "2000")
            r.wait_event(bb, "imported", "kexp")
            rd = r.reader("b", "kexp", 10**9, "--timeout", "6000")
            r.attached(rd)
            r.go(w)
            time.sleep(2)
            ba.send_signal(signal.SIGKILL)
            ba.wait()
            time.sleep(1)
            ba2 = r.bridge("a")
            r.wait_event(ba2, "exported", "kexp")
            ws = r.summary(w, timeout=60)
            s = r.summary(rd, timeout=60)
            for k in ("corrupt", "dup", "index_mismatch"):
                self.assertEqual(s[k], 0, s)
            self.assertEqual(s["attachments"], 1, "the mirror outlived the exporter (grace)")
            self.assertEqual(s["last_seq"], count(20_000) - 1, s)
            self.assertGreater(s["gaps"], 0, "samples committed while no bridge ran are a gap")
            figure(f"bridge: exporting bridge SIGKILLed and restarted: 0 corrupt, 0 dup, "
                   f"{s['gaps']} samples skipped as a gap; source writer blocked at most "
                   f"{ws['max_block_ms']:.1f} ms (it reaps the dead bridge's reader)")
            self.assertLess(ws["max_block_ms"], 1000, ws)
            r.assert_clean(self, ba2, bb)

    def test_importing_bridge_killed_and_restarted(self):
        with Run() as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            n = count(20_000)
            w = r.writer("a", "kimp", 256, n, "--rate", "2000")
            r.wait_event(bb, "imported", "kimp")
            rd = r.reader("b", "kimp", 10**9, "--follow", "--timeout", "6000")
            r.attached(rd)
            r.go(w)
            time.sleep(2)
            bb.send_signal(signal.SIGKILL)
            bb.wait()
            time.sleep(1)
            bb2 = r.bridge("b")
            r.wait_event(bb2, "imported", "kimp")
            r.attached(rd, nth=2)
            ws = r.summary(w, timeout=60)
            s = r.summary(rd, timeout=60)
            for k in ("corrupt", "dup", "index_mismatch"):
                self.assertEqual(s[k], 0, s)
            self.assertEqual(s["last_seq"], n - 1, s)
            figure(f"bridge: importing bridge SIGKILLed and restarted: 0 corrupt, 0 dup, readers "
                   f"re-attached to the new mirror; source writer blocked at most "
                   f"{ws['max_block_ms']:.0f} ms (the DDS lease, 4 s, gives up on the dead reader)")
            self.assertLess(ws["max_block_ms"], 4000 + 2000, ws)
            r.assert_clean(self, ba, bb2)


class Topology(unittest.TestCase):
    def test_both_hosts_export_and_each_segment_appears_once_without_loops(self):
        with Run(("a", "b", "c")) as r:
            bridges = [r.bridge(h) for h in ("a", "b", "c")]
            wa = r.writer("a", "from_a", 128, 1000)
            wb = r.writer("b", "from_b", 128, 1000)
            for br, seg in ((bridges[1], "from_a"), (bridges[2], "from_a"),
                            (bridges[0], "from_b"), (bridges[2], "from_b")):
                r.wait_event(br, "imported", seg)
            readers = {(h, seg): r.reader(h, seg, 1000) for h in ("a", "b", "c")
                       for seg in ("from_a", "from_b")}
            for rd in readers.values():
                r.attached(rd)
            time.sleep(1.0)  # room for a loop to show, if there were one
            la, lb, lc = r.ls("a"), r.ls("b"), r.ls("c")
            self.assertEqual(sorted(la), ["from_a", "from_b"])
            self.assertEqual(sorted(lb), ["from_a", "from_b"])
            self.assertEqual(sorted(lc), ["from_a", "from_b"])
            self.assertFalse(la["from_a"]["mirror"])
            self.assertFalse(lb["from_b"]["mirror"])
            self.assertEqual(lb["from_a"]["mirror_of"], la["from_a"]["instance_id"])
            self.assertEqual(lc["from_a"]["mirror_of"], la["from_a"]["instance_id"])
            self.assertEqual(la["from_b"]["mirror_of"], lb["from_b"]["instance_id"])
            for br in bridges:  # a mirror is imported once and never exported
                for seg in ("from_a", "from_b"):
                    self.assertLessEqual(len(r.events(br, "imported", seg)), 1)
                    self.assertLessEqual(len(r.events(br, "exported", seg)), 1)
            self.assertEqual(len(r.events(bridges[1], "exported", "from_a")), 0)
            self.assertEqual(len(r.events(bridges[2], "exported")), 0)
            r.go(wa)
            r.go(wb)
            for rd in readers.values():
                check_stream(self, r.summary(rd, timeout=60), 1000)
            r.summary(wa, timeout=30)
            r.summary(wb, timeout=30)
            r.assert_clean(self, *bridges)

    def test_two_bridges_on_one_host_mirror_nothing_and_one_takes_over(self):
        with Run() as r:
            a1, a2 = r.bridge("a", origin="host-a-1"), r.bridge("a", origin="host-a-2")
            bb = r.bridge("b")
            wa = r.writer("a", "seg_a", 128, 10**9, "--rate", "1000")
            wb = r.writer("b", "seg_b", 128, 2000)
            r.wait_event(bb, "imported", "seg_a")
            exporters = [br for br in (a1, a2) if r.events(br, "exported", "seg_a")]
            time.sleep(1.0)
            exporters = [br for br in (a1, a2) if r.events(br, "exported", "seg_a")]
            self.assertEqual(len(exporters), 1, "one exporter per segment and host")
            standby = a2 if exporters[0] is a1 else a1
            # seg_b: mirrored once on a, by one of the two bridges
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (r.events(a1, "imported", "seg_b") or
                                                       r.events(a2, "imported", "seg_b")):
                time.sleep(0.05)
            time.sleep(1.0)
            imports = len(r.events(a1, "imported", "seg_b")) + len(r.events(a2, "imported", "seg_b"))
            self.assertEqual(imports, 1, "one mirror per host")
            self.assertEqual(sorted(r.ls("a")), ["seg_a", "seg_b"])
            self.assertFalse(r.ls("a")["seg_a"]["mirror"], "a's own segment was never mirrored onto a")
            rd = r.reader("a", "seg_b", 2000)
            r.attached(rd)
            r.go(wb)
            check_stream(self, r.summary(rd, timeout=60), 2000)
            # The exporting bridge dies: the other one takes the export over.
            r.go(wa)
            exporters[0].send_signal(signal.SIGKILL)
            exporters[0].wait()
            r.wait_event(standby, "exported", "seg_a", timeout=20)
            figure("bridge: two bridges on one host: 1 exporter and 1 mirror per segment; the "
                   "standby took over the export when the first was killed")
            r.stop(wa)
            r.summary(wb, timeout=30)
            r.assert_clean(self, standby, bb)


class Unicast(unittest.TestCase):
    def test_bridges_find_each_other_through_peers_without_multicast(self):
        # The README's configuration for networks without multicast.
        with Run() as r:
            peers = "".join(f'<Peer address="{r.hosts.address(h)}"/>' for h in ("a", "b"))
            r.lease_xml = ("<General><AllowMulticast>false</AllowMulticast></General>"
                           f"<Discovery><Peers>{peers}</Peers><ParticipantIndex>auto</ParticipantIndex>"
                           "<LeaseDuration>4s</LeaseDuration></Discovery>")
            ba, bb = r.bridge("a"), r.bridge("b")
            w = r.writer("a", "unicast", 128, 2000)
            r.wait_event(bb, "imported", "unicast")
            rd = r.reader("b", "unicast", 2000)
            r.attached(rd)
            r.go(w)
            check_stream(self, r.summary(rd, timeout=60), 2000)
            r.summary(w, timeout=30)
            r.assert_clean(self, ba, bb)


class Hostile(unittest.TestCase):
    def test_malformed_samples_and_announcements_are_refused(self):
        with Run(("a", "b", "c")) as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            n = 3000
            w = r.writer("a", "victim", 256, n, "--rate", "1000", "--type", "victim-type")
            r.wait_event(bb, "imported", "victim")
            rd = r.reader("b", "victim", n, "--timeout", "20000", "--type", "victim-type")
            r.attached(rd)
            r.go(w)
            hostile = r.hosts.run("c", [PLAIN, "hostile", "victim"], timeout=90, env=r.env("c"))
            self.assertEqual(hostile.returncode, 0, hostile.stderr)
            check_stream(self, r.summary(rd, timeout=60), n)
            self.assertIsNone(bb.poll(), "the importing bridge survived")
            self.assertIsNone(ba.poll(), "the exporting bridge survived")
            refused = " | ".join(e["message"] for e in r.events(bb, "refused"))
            for what in ("type hash", "slots hold", "no bridge announced", "impossible geometry",
                         "not one a bridge carries"):
                self.assertIn(what, refused)
            names = set(r.hosts.shm_files("b"))
            for bad in ("hostile_zero_slots", "hostile_huge", "..", "segments"):
                self.assertNotIn("zfd." + bad, names)
            figure(f"bridge: hostile DDS samples and announcements: {len(r.events(bb, 'refused'))} "
                   f"refusal lines, 0 crashes, the victim stream intact ({n} samples)")
            r.summary(w, timeout=30)
            r.assert_clean(self, ba, bb)


class Interop(unittest.TestCase):
    def test_a_plain_cyclone_program_reads_what_a_zfd_writer_publishes(self):
        ldd = subprocess.run(["ldd", PLAIN], capture_output=True, text=True).stdout
        self.assertIn("libddsc", ldd)
        self.assertNotIn("zerodds", ldd, "plain_dds links Cyclone DDS only")
        with Run() as r:
            ba = r.bridge("a")
            w = r.writer("a", "to.plain-1", 200, 5000)
            r.wait_event(ba, "exported", "to.plain-1")
            sub = r.popen("b", [PLAIN, "sub", "to.plain-1", "5000"], stdout=subprocess.PIPE, text=True)
            self.assertTrue(sub.out.wait_for(r"^matched zfd/to/2Eplain/2D1$", 20), sub.out.lines())
            r.go(w)
            s = r.summary(sub, timeout=60)
            self.assertEqual((s["received"], s["corrupt"], s["dup"], s["index_mismatch"]),
                             (5000, 0, 0, 0), s)
            r.summary(w, timeout=30)
            r.assert_clean(self, ba)

    def test_a_plain_cyclone_publisher_appears_in_a_segment_via_import(self):
        with Run() as r:
            bb = r.bridge("b", "--import", "from_plain", "--import-capacity", "4096", "--no-export")
            r.wait_event(bb, "imported", "from_plain")
            rd = r.reader("b", "from_plain", 5000, "--timeout", "30000")
            r.attached(rd)
            pub = r.hosts.run("a", [PLAIN, "pub", "from_plain", "5000", "300"], timeout=90, env=r.env("a"))
            self.assertEqual(pub.returncode, 0, pub.stderr)
            check_stream(self, r.summary(rd, timeout=60), 5000)
            r.assert_clean(self, bb)


if __name__ == "__main__":
    try:
        zfdhosts.Hosts._check_available()
    except zfdhosts.HostsUnavailable as e:
        print(f"skip: {e}")
        sys.exit(zfdhosts.SKIP_EXIT)
    unittest.main(verbosity=2)
