#!/usr/bin/env python3
"""Cross-host tests of the secured DDS bridge (`zfd bridge --security DIR`).

Same simulated hosts as test_bridge.py (zfdhosts: network namespaces on one
Linux bridge, a private /dev/shm each), the same writer and reader processes
(bridge_peer) and plain Cyclone program (plain_dds), and real `zfd bridge`
processes given credentials made with `zfd keys` (tools/zfd-keys.sh, Debian's
openssl) in a private temp dir:

    pki    alice, bob      publish and subscribe zfd/*
           carol           subscribe zfd/a only (publishes nothing)
           dave            publish zfd/inject only
           old             an expired certificate
    rogue  mallory         another PKI: another identity CA and permissions CA

Checked: secured hosts exchange samples (counts and order as in test_bridge);
the payload pattern and the segment name never appear on the link (tcpdump
inside a host's namespace), while the same capture without security shows
both; a host of another CA sees no segment and its samples never reach a
mirror (a host of the right CA does, through the same door); a host allowed
zfd/a only mirrors a, is denied b and keeps running; an expired, missing, unreadable, tampered,
mismatched or foreign credential is refused at start with a message naming
it (exit 1), by the bridge's checks and, for a <Security> section in
CYCLONEDDS_URI, by Cyclone. At the end no key file is left, and zfdhosts has
removed its namespaces and processes. Exit 77 (skipped) where namespaces
cannot be made or tcpdump/openssl are missing.
SPDX-License-Identifier: Apache-2.0
"""

import atexit
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zfdhosts  # noqa: E402
from test_bridge import LEASE_XML, PEER, PLAIN, ZFD, Run, check_stream, count, figure  # noqa: E402

TCPDUMP = os.environ.get("TCPDUMP", "tcpdump")

# Every sample of bridge_peer (payload.h) of 16 + 256 + 48 bytes or more holds
# this run: body byte i is (index * 131 + 7 * i) mod 256, and 131 is odd, so
# some offset of every body starts at 0.
PATTERN = bytes((7 * i) % 256 for i in range(48))


class Keys:
    """The credentials of one test run, in a private temp dir removed at exit."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="zfd-security-test-")
        atexit.register(self.remove)
        self.pki = os.path.join(self.dir, "pki")
        self.rogue = os.path.join(self.dir, "rogue")
        self.keys("init", self.pki)
        for name, grants in (("alice", ("--publish", "*", "--subscribe", "*")),
                             ("bob", ("--publish", "*", "--subscribe", "*")),
                             ("carol", ("--subscribe", "a")),
                             ("dave", ("--publish", "inject")),
                             ("old", ("--publish", "*", "--subscribe", "*", "--expired"))):
            self.keys("host", self.pki, name, *grants)
        self.keys("init", self.rogue)
        self.keys("host", self.rogue, "mallory", "--publish", "*", "--subscribe", "*")

    @staticmethod
    def keys(*args):
        cp = subprocess.run([ZFD, "keys", *args], capture_output=True, text=True, timeout=120)
        if cp.returncode != 0:
            raise AssertionError(f"zfd keys {' '.join(args)}: exit {cp.returncode}: {cp.stderr}")
        return cp.stdout

    def host(self, name):
        pki = self.rogue if name == "mallory" else self.pki
        return os.path.join(pki, "hosts", name)

    def xml(self, name):
        """The Cyclone <Security> configuration of host `name` (`zfd keys check --xml`)."""
        return self.keys("check", self.host(name), "--xml").strip()

    def copy(self, name, as_name):
        """A copy of host `name`'s directory to alter (tampered, mixed credentials)."""
        dst = os.path.join(self.dir, as_name)
        shutil.copytree(self.host(name), dst)
        return dst

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


KEYS = None


def setUpModule():
    global KEYS
    KEYS = Keys()


def tearDownModule():
    KEYS.remove()
    assert not os.path.exists(KEYS.dir), f"key files left in {KEYS.dir}"
    ours = [n for n in zfdhosts.list_ours()["netns"] if n.startswith(f"zfd{os.getpid()}")]
    assert not ours, f"namespaces left behind: {ours}"


class SecRun(Run):
    """A Run whose bridges get --security (or a <Security> section in
    CYCLONEDDS_URI) per host."""

    def __init__(self, names=("a", "b"), security=None, uri_security=None):
        super().__init__(names)
        self.security = dict(security or {})  # host -> credentials name for --security
        self.uri_xml = {h: KEYS.xml(n) for h, n in (uri_security or {}).items()}

    def env(self, host):
        return {"CYCLONEDDS_URI": self.hosts.cyclone_uri(host, LEASE_XML) + self.uri_xml.get(host, "")}

    def bridge(self, host, *args, origin=None):
        sec = ("--security", KEYS.host(self.security[host])) if host in self.security else ()
        return super().bridge(host, *sec, *args, origin=origin)

    def popen_env(self, host, argv, env):
        """A process with its own environment additions, output (and stderr) collected."""
        p = self.hosts.popen(host, argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        p.out = zfdhosts.OutputLines(p.stdout)
        self.procs.append(p)
        return p

    def refused(self, host, *args, env=None):
        """`zfd bridge` expected to refuse to start: its CompletedProcess."""
        return self.hosts.run(host, [ZFD, "bridge", *args], timeout=60, env=env or self.env(host))


def pcap_packets(path):
    """(packets, bytes) in a pcap file (classic format, as tcpdump -w writes)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return 0, 0
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    packets = size = 0
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        off += 16 + incl
        packets += 1
        size += incl
    return packets, size


class Capture:
    """tcpdump on a host's interface, inside its namespace, into a file."""

    def __init__(self, run, host, path):
        self.run, self.path = run, path
        self.proc = run.hosts.popen(host, [TCPDUMP, "-i", zfdhosts.IFNAME, "--immediate-mode", "-B", "65536", "-U", "-n", "-Z", "root",
                                           "-w", path], stderr=subprocess.PIPE, text=True)
        self.err = zfdhosts.OutputLines(self.proc.stderr)
        if not self.err.wait_for("listening on", 20):
            raise AssertionError(f"tcpdump did not start: {self.err.lines()}")

    def stop(self):
        """Stops the capture; its bytes."""
        time.sleep(0.5)  # the last packets through the kernel's capture buffer
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=20)
        self.err.join(5)
        self.proc.stderr.close()
        self.summary = " ".join(line for line in self.err.lines() if "packets" in line)
        if "packets dropped by kernel" not in self.summary:
            raise AssertionError(f"tcpdump said: {self.err.lines()}")
        with open(self.path, "rb") as f:
            return f.read()


class SecuredPair(unittest.TestCase):
    def test_two_hosts_with_valid_credentials_exchange_every_sample_in_order(self):
        with SecRun(security={"a": "alice", "b": "bob"}) as r:
            # b's bridge joins after a exported: the discovery topic is
            # reliable and transient-local under security too.
            ba = r.bridge("a")
            w0 = r.writer("a", "early", 128, 1000)
            r.wait_event(ba, "exported", "early")
            bb = r.bridge("b")
            r.wait_event(bb, "imported", "early")
            rd0 = r.reader("b", "early", 1000)
            r.attached(rd0)
            r.go(w0)
            check_stream(self, r.summary(rd0, timeout=60), 1000)
            r.summary(w0, timeout=30)
            for size, n in ((64, count(20_000)), (1024, count(20_000)), (65536, count(2_000))):
                name = f"sec{size}"
                w = r.writer("a", name, size, n)
                r.wait_event(bb, "imported", name)
                rd = r.reader("b", name, n, "--timeout", "60000")
                self.assertEqual(r.attached(rd), 2, "the segment on b is a mirror")
                t0 = time.monotonic()
                r.go(w)
                s = r.summary(rd, timeout=600)
                secs = time.monotonic() - t0
                check_stream(self, s, n)
                self.assertEqual(r.summary(w, timeout=60)["written"], n)
                figure(f"secured bridge a->b {size} B: {n} samples in order, 0 lost, 0 corrupt, 0 dup "
                       f"({n / secs:,.0f} samples/s end to end, authenticated and encrypted)")
                r.wait_event(bb, "mirror-closed", name)
            self.assertEqual(r.events(ba, "denied") + r.events(bb, "denied"), [])
            r.assert_clean(self, ba, bb)

    def test_a_security_section_in_cyclonedds_uri_secures_the_bridge_as_well(self):
        # b has no --security: its CYCLONEDDS_URI carries the <Security>
        # section `zfd keys check --xml` prints (as for any Cyclone program).
        with SecRun(security={"a": "alice"}, uri_security={"b": "bob"}) as r:
            ba, bb = r.bridge("a"), r.bridge("b")
            w = r.writer("a", "viauri", 256, 3000)
            r.wait_event(bb, "imported", "viauri")
            rd = r.reader("b", "viauri", 3000)
            r.attached(rd)
            r.go(w)
            check_stream(self, r.summary(rd, timeout=60), 3000)
            r.summary(w, timeout=30)
            r.assert_clean(self, ba, bb)


class Wire(unittest.TestCase):
    def test_the_payload_never_appears_in_clear_on_the_link(self):
        n = 500
        with SecRun(security={"a": "alice", "b": "bob"}) as r:
            captures = {}
            for secured in (True, False):
                name = "wire_secret" if secured else "wire_open"
                if not secured:
                    r.security = {}
                ba, bb = r.bridge("a"), r.bridge("b")
                cap = Capture(r, "b", os.path.join(KEYS.dir, f"{name}.pcap"))
                w = r.writer("a", name, 1024, n, "--rate", "1000")
                r.wait_event(bb, "imported", name)
                rd = r.reader("b", name, n)
                r.attached(rd)
                r.go(w)
                check_stream(self, r.summary(rd, timeout=60), n)
                r.summary(w, timeout=30)
                r.wait_event(bb, "mirror-closed", name)
                captures[secured] = (name, cap.stop(), pcap_packets(cap.path))
                # Every packet the link carried is in the file.
                self.assertRegex(cap.summary, r"(^|\s)0 packets dropped by kernel")
                r.assert_clean(self, ba, bb)
            name, data, (packets, size) = captures[True]
            # The samples crossed this link: the capture holds at least their bytes.
            self.assertGreater(size, n * 1024, f"secured capture: {packets} packets, {size} bytes")
            self.assertNotIn(PATTERN, data, "payload bytes in clear on the secured link")
            self.assertNotIn(name.encode(), data, "segment name in clear on the secured link")
            self.assertNotIn(b"zfd/" + name.encode(), data)
            open_name, open_data, (open_packets, open_size) = captures[False]
            # Control: the same check finds both on the open link.
            self.assertIn(PATTERN, open_data, "the check must see the pattern when security is off")
            self.assertIn(open_name.encode(), open_data)
            figure(f"secured bridge on the wire (tcpdump in host b): {n} samples of 1 KiB in "
                   f"{packets} packets / {size} bytes, payload pattern and segment name absent; "
                   f"open bridge: {open_packets} packets / {open_size} bytes, "
                   f"pattern found {open_data.count(PATTERN)} times")


class ForeignCa(unittest.TestCase):
    def test_a_host_of_another_ca_sees_no_segment_and_cannot_inject(self):
        with SecRun(("a", "b", "c"), security={"a": "alice", "b": "bob", "c": "mallory"}) as r:
            ba = r.bridge("a")
            bb = r.bridge("b", "--import", "inject", "--import-capacity", "4096")
            bc = r.bridge("c")
            n = count(3000)
            w = r.writer("a", "secret", 64, n, "--rate", "1000")
            r.wait_event(bb, "imported", "secret")
            rd = r.reader("b", "secret", n, "--timeout", "30000")
            r.attached(rd)
            r.go(w)
            # Cyclone programs with mallory's credentials and with none, while
            # a writes: a's writer of zfd/secret never matches their readers.
            uri = r.env("c")["CYCLONEDDS_URI"]
            snoops = [r.popen_env("c", [PLAIN, "sub", "secret", "1", "--timeout", "2500"],
                                  {"CYCLONEDDS_URI": uri + xml}) for xml in (KEYS.xml("mallory"), "")]
            for p in snoops:
                p.wait(timeout=60)
                text = p.out.text()
                self.assertIn("subscribed zfd/secret", text)
                self.assertNotIn("matched", text)
                self.assertIn('"received": 0', text)
            # Mallory's own segment of the same name: her bridge exports it
            # (it works), and its announcement reaches no one.
            wm = r.writer("c", "secret", 64, 10**9, "--rate", "1000")
            r.wait_event(bc, "exported", "secret")
            r.go(wm)
            check_stream(self, r.summary(rd, timeout=60), n)
            time.sleep(1.0)  # room for mallory's announcement to show, if it got through
            r.summary(w, timeout=30)
            self.assertEqual(r.events(bc, "imported"), [], "mallory's bridge mirrored nothing")
            self.assertEqual(r.hosts.shm_files("c"), ["zfd.secret"], "c holds only its own segment")
            self.assertFalse(r.ls("c")["secret"]["mirror"])
            conflicts = [e for e in r.events(bb, "skipped", "secret") if "announced" in e["message"]]
            self.assertEqual(conflicts, [], "b never heard of mallory's segment")
            self.assertEqual([e for e in r.events(ba, "skipped", "secret")], [],
                             "a never heard of mallory's segment")

            # Injection through the door a plain DDS publisher uses (b imports
            # zfd/inject from any writer). dave, of the right CA and allowed
            # to publish it, gets in: the door is open to the right peers.
            dave = r.hosts.run("c", [PLAIN, "pub", "inject", "200", "300"], timeout=90,
                               env={"CYCLONEDDS_URI": uri + KEYS.xml("dave")})
            self.assertEqual(dave.returncode, 0, dave.stderr)
            deadline = time.monotonic() + 20
            while r.ls("b")["inject"]["next_sequence"] < 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(r.ls("b")["inject"]["next_sequence"], 200, "dave's samples are in the mirror")
            # mallory (another CA) and a host without security: never matched,
            # nothing committed.
            rogues = [r.popen_env("c", [PLAIN, "pub", "inject", "200", "300"], {"CYCLONEDDS_URI": uri + xml})
                      for xml in (KEYS.xml("mallory"), "")]
            for p in rogues:
                p.wait(timeout=90)
                p.out.join(5)
                self.assertEqual(p.returncode, 1, p.out.lines())
                self.assertIn("no reader of zfd/inject matched", p.out.text())
            self.assertEqual(r.ls("b")["inject"]["next_sequence"], 200, "nothing injected by c")
            self.assertIsNone(bb.poll())
            figure("secured bridge: a host of another CA mirrored 0 segments; its snooping reader "
                   "(and an unsecured one) matched nothing; 0 of its samples (and 0 of an unsecured "
                   "host's) reached b's mirror, 200 of a same-CA publisher's did")
            r.stop(wm)
            r.assert_clean(self, ba, bb, bc)


class Permissions(unittest.TestCase):
    def test_a_host_allowed_zfd_a_only_mirrors_a_and_is_denied_b(self):
        with SecRun(("a", "b", "c"), security={"a": "alice", "b": "bob", "c": "carol"}) as r:
            ba, bb, bc = r.bridge("a"), r.bridge("b"), r.bridge("c")
            n = 2000
            wa = r.writer("a", "a", 128, n)
            wb = r.writer("a", "b", 128, n)
            # carol's own segment: she may not publish anything.
            wc = r.writer("c", "c_local", 128, 10)
            for seg in ("a", "b"):
                r.wait_event(bb, "imported", seg)
            r.wait_event(bc, "imported", "a")
            denied_b = r.wait_event(bc, "denied", "b")
            self.assertEqual(denied_b["direction"], "import")
            self.assertIn("zfd/b", denied_b["message"])
            denied_c = r.wait_event(bc, "denied", "c_local")
            self.assertEqual(denied_c["direction"], "export")
            readers = {(h, seg): r.reader(h, seg, n) for h, seg in (("b", "a"), ("b", "b"), ("c", "a"))}
            for rd in readers.values():
                r.attached(rd)
            r.go(wa)
            r.go(wb)
            for rd in readers.values():
                check_stream(self, r.summary(rd, timeout=60), n)
            r.summary(wa, timeout=30)
            r.summary(wb, timeout=30)
            time.sleep(1.0)  # room for a retry to show, if there were one
            self.assertIsNone(bc.poll(), "carol's bridge keeps running")
            self.assertEqual(len(r.events(bc, "denied", "b")), 1, "said once, not retried")
            self.assertEqual(len(r.events(bc, "denied", "c_local")), 1)
            self.assertEqual(r.events(bc, "imported", "b"), [])
            self.assertNotIn("zfd.b", r.hosts.shm_files("c"), "no mirror of b on c")
            self.assertEqual(r.events(bb, "imported", "c_local"), [], "carol exported nothing")
            figure("secured bridge: a host allowed zfd/a only mirrored a (2000 samples in order), "
                   "was denied b and its own export once each, and kept running")
            r.go(wc)
            r.summary(wc, timeout=30)
            r.assert_clean(self, ba, bb, bc)


class Refused(unittest.TestCase):
    def test_bad_credentials_are_refused_at_start_with_a_message_saying_why(self):
        tampered = KEYS.copy("carol", "tampered")
        with open(os.path.join(tampered, "permissions.p7s"), "r+", encoding="utf-8") as f:
            text = f.read().replace("<topic>zfd/a</topic>", "<topic>zfd/*</topic>")
            f.seek(0)
            f.write(text)
            f.truncate()
        mixed = KEYS.copy("alice", "mixed")
        shutil.copy(os.path.join(KEYS.host("bob"), "identity_private_key.pem"), mixed)
        forged = KEYS.copy("alice", "forged")
        for f in ("identity_certificate.pem", "identity_private_key.pem"):
            shutil.copy(os.path.join(KEYS.host("mallory"), f), forged)
        unreadable = KEYS.copy("alice", "unreadable")
        os.remove(os.path.join(unreadable, "governance.p7s"))
        os.mkdir(os.path.join(unreadable, "governance.p7s"))
        keyless = KEYS.copy("alice", "keyless")
        os.remove(os.path.join(keyless, "identity_private_key.pem"))
        cases = (
            (KEYS.host("old"), "expired", "certificate expired on"),
            (os.path.join(KEYS.dir, "nowhere"), "missing_file", "No such file"),
            (keyless, "missing_file", "identity_private_key.pem"),
            (unreadable, "unreadable_file", "governance.p7s: not a regular file"),
            (tampered, "bad_signature", "permissions.p7s"),
            (mixed, "key_mismatch", "does not belong"),
            (forged, "untrusted_certificate", "not signed by the identity CA"),
        )
        with SecRun(("a",)) as r:
            for directory, problem, detail in cases:
                t0 = time.monotonic()
                cp = r.refused("a", "--security", directory)
                took = time.monotonic() - t0
                self.assertEqual(cp.returncode, 1, (directory, cp.stdout, cp.stderr))
                self.assertIn("DDS Security credentials refused", cp.stderr)
                self.assertIn(f"({problem})", cp.stderr)
                self.assertIn(detail, cp.stderr)
                self.assertEqual(cp.stdout, "", "no event: nothing started")
                self.assertEqual(r.hosts.shm_files("a"), [])
                print(f"refused in {took * 1000:.0f} ms: {cp.stderr.strip()}", flush=True)
            # The expired credentials in CYCLONEDDS_URI instead: Cyclone
            # refuses them (and says why on stderr); the bridge exits 1.
            old_xml = KEYS.xml("alice").replace(KEYS.host("alice"), KEYS.host("old"))
            cp = r.refused("a", env={"CYCLONEDDS_URI": r.env("a")["CYCLONEDDS_URI"] + old_xml})
            self.assertEqual(cp.returncode, 1, (cp.stdout, cp.stderr))
            self.assertIn("cannot create the DDS participant", cp.stderr)
            self.assertIn("certificate has expired", cp.stderr)
            # --security next to a <Security> section of the user's (in the
            # text, or in a file it names): refused, never mixed.
            bob_file = os.path.join(KEYS.dir, "bob-security.xml")
            with open(bob_file, "w", encoding="utf-8") as f:
                f.write(KEYS.xml("bob"))
            host_uri = r.env("a")["CYCLONEDDS_URI"]
            for uri in (host_uri + KEYS.xml("bob"), f"{host_uri},file://{bob_file}"):
                cp = r.refused("a", "--security", KEYS.host("alice"), env={"CYCLONEDDS_URI": uri})
                self.assertEqual(cp.returncode, 1, (cp.stdout, cp.stderr))
                self.assertIn("has a <Security> section of its own", cp.stderr)
            figure("secured bridge: expired, missing, unreadable, tampered, mismatched and foreign credentials "
                   "refused at start (exit 1, the file and the problem named); expired credentials "
                   "in CYCLONEDDS_URI refused by Cyclone (exit 1)")


if __name__ == "__main__":
    try:
        zfdhosts.Hosts._check_available()
    except zfdhosts.HostsUnavailable as e:
        print(f"skip: {e}")
        sys.exit(zfdhosts.SKIP_EXIT)
    for tool in (TCPDUMP, "openssl"):
        if shutil.which(tool) is None:
            print(f"skip: {tool} not found (Debian packages tcpdump, openssl)")
            sys.exit(zfdhosts.SKIP_EXIT)
    # SIGTERM (Meson's timeout) stops the run like SIGINT at any moment, also
    # while no hosts are up (making the credentials): `with` blocks close the
    # hosts, and the key files go at exit. (A SystemExit inside a test would
    # only fail that test and let the next one start.)
    def on_sigterm(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        unittest.main(verbosity=2)
    except KeyboardInterrupt as e:
        print(f"stopped: {e}", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
