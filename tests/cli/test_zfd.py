#!/usr/bin/env python3
"""End-to-end tests of the `zfd` command-line tool.

Runs the real binary (path in $ZFD_BIN) against real shared-memory segments.
Every segment name is cli-<pid>-<test>, so parallel runs never collide; every
object created is removed again, and the run fails if one is left in /dev/shm.

Plain python3 + unittest; exits non-zero on any failure.
SPDX-License-Identifier: Apache-2.0
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

ZFD = os.environ.get("ZFD_BIN", "")
SHM = "/dev/shm"
PREFIX = f"cli-{os.getpid()}-"
TIMEOUT = 30  # seconds for any single zfd invocation


def seg_name(tag):
    return PREFIX + tag


def shm_path(name):
    return os.path.join(SHM, "zfd." + name)


def run(*args, stdin=None, timeout=TIMEOUT, env=None):
    """Runs zfd with args; returns CompletedProcess (text mode)."""
    return subprocess.run([ZFD, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def ls_json():
    r = run("ls", "--json")
    assert r.returncode == 0, r.stderr
    return {s["name"]: s for s in json.loads(r.stdout)["segments"]}


def inspect_json(name):
    r = run("inspect", name, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


class ZfdTestCase(unittest.TestCase):
    def setUp(self):
        self.procs = []
        self.names = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            if p.stdin is not None and p.stdin.closed:
                p.stdin = None
            try:
                p.communicate(timeout=10)
            except Exception:  # pragma: no cover - cleanup best effort
                pass
        for n in self.names:
            try:
                os.unlink(shm_path(n))
            except FileNotFoundError:
                pass

    def name(self, tag):
        n = seg_name(tag)
        self.names.append(n)
        return n

    def spawn(self, *args, stdin=subprocess.PIPE):
        p = subprocess.Popen([ZFD, *args], stdin=stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def finish(self, p, timeout=TIMEOUT):
        if p.stdin is not None and p.stdin.closed:
            p.stdin = None  # communicate() would flush the closed pipe
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err

    def wait_listed(self, name, alive=True):
        wait_for(lambda: name in ls_json() and ls_json()[name].get("owner_alive") is alive,
                 what=f"segment {name} listed with owner_alive={alive}")

    def wait_readers(self, name, count):
        wait_for(lambda: os.path.exists(shm_path(name))
                 and ls_json().get(name, {}).get("readers") == count,
                 what=f"{count} reader(s) on {name}")


class HelpAndErrors(ZfdTestCase):
    SUBCOMMANDS = ["ls", "inspect", "gc", "rm", "pub", "sub", "bench"]

    def test_top_level_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for sub in self.SUBCOMMANDS:
            self.assertIn(sub, r.stdout)

    def test_every_subcommand_has_help(self):
        for sub in self.SUBCOMMANDS:
            with self.subTest(sub=sub):
                r = run(sub, "--help")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("Usage", r.stdout)
                self.assertIn(sub, r.stdout)
                r = run(sub, "-h")
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertIn("zfd", r.stdout)

    def test_bad_subcommand_and_arguments(self):
        cases = [
            [],                                   # no subcommand
            ["frobnicate"],                       # unknown subcommand
            ["ls", "--bogus"],                    # unknown option
            ["inspect"],                          # missing NAME
            ["rm"],                               # missing NAME
            ["pub"],                              # missing NAME
            ["pub", seg_name("bad"), "--slots", "0"],
            ["pub", seg_name("bad"), "--slots", "many"],
            ["pub", seg_name("bad"), "--mode", "0999"],
            ["pub", seg_name("bad"), "--capacity", "8", "--size", "64"],
            ["sub", seg_name("bad"), "--count", "-3"],
        ]
        for args in cases:
            with self.subTest(args=args):
                r = run(*args, stdin="")
                self.assertNotEqual(r.returncode, 0)
                self.assertTrue(r.stderr.strip(), "an error must be explained on stderr")
        self.assertFalse(os.path.exists(shm_path(seg_name("bad"))))

    def test_invalid_name(self):
        r = run("inspect", "bad/name")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("INVAL", r.stderr)


class PubSub(ZfdTestCase):
    LINES = ["hello", "second line", "tab\there", "", "caf\u00e9", "back\\slash", "last"]

    @staticmethod
    def expected(lines, first_seq=0):
        def esc(s):
            out = []
            for b in s.encode():
                c = chr(b)
                if c == "\\":
                    out.append("\\\\")
                elif c == "\t":
                    out.append("\\t")
                elif 0x20 <= b < 0x7f:
                    out.append(c)
                else:
                    out.append(f"\\x{b:02x}")
            return "".join(out)
        return [f"{first_seq + i} {esc(l)}" for i, l in enumerate(lines)]

    def test_lines_arrive_in_order(self):
        """pub fed by a pipe in the background; sub --count N attaches first."""
        name = self.name("lines")
        pub = self.spawn("pub", name, "--slots", "4", "--capacity", "64", "--linger", "200")
        self.wait_listed(name)
        sub = self.spawn("sub", name, "--count", str(len(self.LINES)), "--timeout", "20000")
        self.wait_readers(name, 1)
        # More lines than slots: exercises backpressure (reserve_wait).
        pub.stdin.write("".join(l + "\n" for l in self.LINES))
        pub.stdin.close()
        rc, out, err = self.finish(sub)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), self.expected(self.LINES))
        rc, _, err = self.finish(pub)
        self.assertEqual(rc, 0, err)
        self.assertIn(f"published {len(self.LINES)} sample(s)", err)
        self.assertFalse(os.path.exists(shm_path(name)), "owner close unlinks the segment")

    def test_heredoc_with_wait_readers_and_follow(self):
        """The whole input is there at once; pub waits for the subscriber."""
        name = self.name("heredoc")
        lines = [f"line {i}" for i in range(200)]
        sub = self.spawn("sub", name, "--follow", "--count", str(len(lines)), "--timeout", "20000")
        time.sleep(0.1)
        pub = self.spawn("pub", name, "--slots", "8", "--wait-readers", "1", "--wait-timeout",
                         "20000", "--linger", "100", "-q")
        pub.stdin.write("".join(l + "\n" for l in lines))
        pub.stdin.close()
        rc, out, err = self.finish(sub)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), self.expected(lines))
        rc, _, err = self.finish(pub)
        self.assertEqual(rc, 0, err)

    def test_last_line_without_newline_and_count(self):
        name = self.name("nonl")
        sub = self.spawn("sub", name, "--follow", "--count", "3", "--timeout", "20000", "--json")
        pub = self.spawn("pub", name, "--wait-readers", "1", "--wait-timeout", "20000",
                         "--linger", "0", "-q", "--count", "3")
        pub.stdin.write("a\nb\nc\nd\ne")
        pub.stdin.close()
        rc, out, err = self.finish(sub)
        self.assertEqual(rc, 0, err)
        got = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([(g["seq"], g["text"], g["len"]) for g in got],
                         [(0, "a", 1), (1, "b", 1), (2, "c", 1)])
        self.assertEqual(self.finish(pub)[0], 0)

    def test_generated_samples(self):
        name = self.name("gen")
        n = 50
        sub = self.spawn("sub", name, "--follow", "--hex", "--count", str(n), "--timeout", "20000")
        pub = self.spawn("pub", name, "--rate", "2000", "--size", "24", "--count", str(n),
                         "--slots", "8", "--capacity", "32", "--wait-readers", "1",
                         "--wait-timeout", "20000", "--linger", "0", "-q", stdin=subprocess.DEVNULL)
        rc, out, err = self.finish(sub)
        self.assertEqual(rc, 0, err)
        rows = [l.split(" ") for l in out.splitlines()]
        self.assertEqual(len(rows), n)
        for i, (seq, payload) in enumerate(rows):
            self.assertEqual(int(seq), i)
            data = bytes.fromhex(payload)
            self.assertEqual(len(data), 24)
            self.assertEqual(struct.unpack("=Q", data[:8])[0], i)
        self.assertEqual(self.finish(pub)[0], 0)

    def test_sub_ends_when_owner_is_gone(self):
        name = self.name("gone")
        pub = self.spawn("pub", name, "--linger", "0", "-q")
        self.wait_listed(name)
        sub = self.spawn("sub", name, "--timeout", "20000")
        self.wait_readers(name, 1)
        pub.stdin.write("only\n")
        pub.stdin.close()
        rc, out, err = self.finish(sub)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), ["0 only"])
        self.assertIn("owner gone", err)
        self.assertEqual(self.finish(pub)[0], 0)

    def test_sub_missing_segment(self):
        name = self.name("missing")
        r = run("sub", name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_FOUND", r.stderr)
        r = run("sub", name, "--follow", "--timeout", "200")
        self.assertEqual(r.returncode, 3)
        self.assertIn("timed out", r.stderr)


class Listing(ZfdTestCase):
    def test_ls_inspect_rm(self):
        name = self.name("ls")
        pub = self.spawn("pub", name, "--slots", "7", "--capacity", "100", "-q")
        self.wait_listed(name)
        seg = ls_json()[name]
        self.assertTrue(seg["valid"])
        self.assertTrue(seg["owner_alive"])
        self.assertEqual(seg["owner_pid"], pub.pid)
        self.assertEqual(seg["slot_count"], 7)
        self.assertEqual(seg["slot_capacity"], 100)
        self.assertEqual(seg["readers"], 0)
        self.assertEqual(seg["slots_in_use"], 0)
        self.assertIsNone(seg["type_hash"])
        self.assertEqual(seg["size"], os.stat(shm_path(name)).st_size)

        # A reader attached and a sample it has not taken: one slot in use.
        sub = self.spawn("sub", name, "--count", "2", "--timeout", "20000")
        self.wait_readers(name, 1)
        info = inspect_json(name)
        self.assertEqual(len(info["slots"]), 7)
        self.assertEqual(info["header"]["slot_count"], 7)
        self.assertEqual(info["header"]["owner_pid"], pub.pid)
        self.assertTrue(info["header"]["owner_alive"])
        self.assertEqual(len(info["readers"]), 1)
        r0 = info["readers"][0]
        self.assertEqual(r0["state"], "active")
        self.assertEqual(r0["pid"], sub.pid)
        self.assertTrue(r0["alive"])
        self.assertEqual(r0["lag"], 0)
        for s in info["slots"]:
            self.assertIn(s["state"], ("free", "loaned", "committed", "busy"))

        pub.stdin.write("x\n")
        pub.stdin.flush()
        wait_for(lambda: inspect_json(name)["header"]["next_sequence"] == 1, what="commit")

        human = run("ls")
        self.assertEqual(human.returncode, 0, human.stderr)
        self.assertIn(name, human.stdout)
        self.assertIn("NAME", human.stdout)
        human = run("inspect", name)
        self.assertEqual(human.returncode, 0, human.stderr)
        self.assertIn("slot_count", human.stdout)
        self.assertIn("STATE", human.stdout)

        pub.stdin.write("y\n")
        pub.stdin.flush()
        rc, out, err = self.finish(sub)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), ["0 x", "1 y"])

        r = run("rm", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(shm_path(name)))
        self.assertNotIn(name, ls_json())
        r = run("rm", name)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("NOT_FOUND", r.stderr)
        pub.stdin.close()
        self.assertEqual(self.finish(pub)[0], 0)

    def test_inspect_missing(self):
        r = run("inspect", self.name("nothere"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_FOUND", r.stderr)

    def test_ls_lists_invalid_objects(self):
        name = self.name("junk")
        with open(shm_path(name), "wb") as f:
            f.write(b"\xff" * 8192)
        seg = ls_json()[name]
        self.assertFalse(seg["valid"])
        self.assertEqual(seg["error"]["status"], "ZFD_E_CORRUPT")  # state word 0xffffffff
        self.assertTrue(seg["error"]["message"])
        self.assertEqual(seg["size"], 8192)
        r = run("ls")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(name, r.stdout)
        r = run("inspect", name)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip())


class Gc(ZfdTestCase):
    def test_gc_removes_dead_owner_only(self):
        dead = self.name("dead")
        live = self.name("live")
        pdead = self.spawn("pub", dead, "--linger", "60000", "-q")
        plive = self.spawn("pub", live, "-q")
        pdead.stdin.write("one\n")
        pdead.stdin.close()  # EOF: it now lingers with the segment open
        self.wait_listed(dead)
        self.wait_listed(live)
        pdead.send_signal(signal.SIGKILL)
        pdead.wait(timeout=10)
        self.wait_listed(dead, alive=False)

        # Dry run (unfiltered is harmless): would remove the dead one only.
        r = run("gc", "--dry-run", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertTrue(report["dry_run"])
        self.assertIn(dead, [e["name"] for e in report["removed"]])
        self.assertNotIn(live, [e["name"] for e in report["removed"]])
        self.assertIn(live, [e["name"] for e in report["kept"]])
        self.assertTrue(os.path.exists(shm_path(dead)), "--dry-run removes nothing")
        r = run("gc", "--dry-run")
        self.assertIn(f"would remove {dead}", r.stdout)

        # The real run, limited to our names (other tests on this host may
        # keep dead-owner segments on purpose).
        r = run("gc", "--prefix", PREFIX)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"removed {dead}", r.stdout)
        self.assertNotIn(live, r.stdout)
        self.assertFalse(os.path.exists(shm_path(dead)))
        self.assertTrue(os.path.exists(shm_path(live)))
        self.assertTrue(ls_json()[live]["owner_alive"])

        # Nothing of ours is left to collect.
        r = run("gc", "--prefix", PREFIX, "--json")
        self.assertEqual(json.loads(r.stdout)["removed"], [])

        plive.stdin.close()
        self.assertEqual(self.finish(plive)[0], 0)

    def test_pub_replaces_stale_segment(self):
        name = self.name("stale")
        p1 = self.spawn("pub", name, "--linger", "60000", "-q")
        p1.stdin.close()
        self.wait_listed(name)
        p1.kill()
        p1.wait(timeout=10)
        self.wait_listed(name, alive=False)
        p2 = self.spawn("pub", name, "--slots", "3", "-q")
        wait_for(lambda: ls_json().get(name, {}).get("slot_count") == 3, what="replacement")
        self.assertTrue(ls_json()[name]["owner_alive"])
        p2.stdin.close()
        self.assertEqual(self.finish(p2)[0], 0)

    def test_gc_invalid_object_without_owner(self):
        name = self.name("garbage")
        with open(shm_path(name), "wb") as f:
            f.write(b"\0" * 8192)
        r = run("gc", "--prefix", PREFIX, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(name, [e["name"] for e in json.loads(r.stdout)["removed"]])
        self.assertFalse(os.path.exists(shm_path(name)))


class Bench(ZfdTestCase):
    def test_bench_not_found(self):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, PATH=d)
            r = run("bench", "--quick", env=env)
            if os.path.exists(os.path.join(os.path.dirname(os.path.realpath(ZFD)), "zfd-bench")):
                self.skipTest("a zfd-bench sits next to zfd")
            self.assertEqual(r.returncode, 2)
            self.assertIn("zfd-bench", r.stderr)
            self.assertIn("not found", r.stderr)

    def test_bench_found_next_to_zfd_and_in_path(self):
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "zfd-bench")
            with open(fake, "w") as f:
                f.write("#!/bin/sh\necho \"fake-bench $*\"\nexit 7\n")
            os.chmod(fake, 0o755)
            # In PATH.
            env = dict(os.environ, PATH=d + os.pathsep + os.environ.get("PATH", ""))
            r = run("bench", "--quick", "x y", env=env)
            self.assertEqual(r.returncode, 7, r.stderr)
            self.assertEqual(r.stdout.strip(), "fake-bench --quick x y")
            # Next to the zfd binary (wins over PATH); "--" passes --help through.
            copy = os.path.join(d, "zfd")
            shutil.copy2(ZFD, copy)
            r = subprocess.run([copy, "bench", "--", "--help"], capture_output=True, text=True,
                               timeout=TIMEOUT, env=dict(os.environ, PATH="/nonexistent"))
            self.assertEqual(r.returncode, 7, r.stderr)
            self.assertEqual(r.stdout.strip(), "fake-bench --help")


def leftovers():
    return sorted(n for n in os.listdir(SHM) if n.startswith("zfd." + PREFIX))


def main():
    if not ZFD or not os.access(ZFD, os.X_OK):
        print(f"ZFD_BIN must name the zfd binary (got {ZFD!r})", file=sys.stderr)
        return 1
    prog = unittest.main(exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    left = leftovers()
    if left:
        print(f"FAIL: objects left in {SHM}: {left}", file=sys.stderr)
        for n in left:
            os.unlink(os.path.join(SHM, n))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
