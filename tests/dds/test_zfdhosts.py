#!/usr/bin/env python3
"""Self-test of zfdhosts, the simulated hosts every cross-host test runs on.

It checks what the cross-host tests rely on, with real processes:
  - topology: each host namespace holds only lo and zfd0, whose peer is a port of
    the bridge in the switch namespace; no default route; the root namespace has
    no address or route in the hosts' subnet and none of their interfaces;
  - reachability: a UDP echo between a and b crosses the bridge (its port
    counters move), stops while a's link is down and works again after link_up;
  - /dev/shm: a POSIX shm object made on a is open-able by a second process on a,
    not on b and not in the machine's own /dev/shm;
  - Cyclone DDS (ddsperf): pub on a -> sub on b exchange data with each side's
    CYCLONEDDS_URI; Cyclone selects zfd0 and nothing else; no socket of those
    processes is in the root namespace's tables; two processes on one host see
    each other; data stops while the link is down and resumes after link_up
    (default lease: no loss; 1 s lease: the peer is dropped and rediscovered);
  - teardown: after close() no namespace, mount, temp dir or process is left, on
    every exit path (normal, exception, SIGTERM, SIGINT); after SIGKILL the
    leftovers are removed by `zfdhosts.py --cleanup`.

Exit status: 0 all passed, 1 a check failed, 77 simulated hosts or ddsperf are
unavailable here (not root, no namespaces): Meson reports the test as skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import zfdhosts  # noqa: E402

PY = sys.executable
DDSPERF = os.environ.get("DDSPERF", "ddsperf")
TRACE_CONFIG = "<Tracing><Verbosity>config</Verbosity><OutputFile>stderr</OutputFile></Tracing>"
SHORT_LEASE = "<Discovery><LeaseDuration>1s</LeaseDuration></Discovery>"


class Failure(Exception):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise Failure(what)


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def ip_json_links(netns: str | None) -> list[dict]:
    import json
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-d", "-j", "link", "show"]
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def port_counters(hosts: zfdhosts.Hosts, host: str) -> tuple[int, int]:
    """(rx_packets, tx_packets) of host's port on the bridge, seen from the switch."""
    port = hosts[host].port
    base = f"/sys/class/net/{port}/statistics"
    cp = subprocess.run(["ip", "netns", "exec", hosts.switch_netns, "cat",
                         f"{base}/rx_packets", f"{base}/tx_packets"],
                        capture_output=True, text=True, check=True)
    rx, tx = (int(x) for x in cp.stdout.split())
    return rx, tx


UDP_SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(float(sys.argv[3]))
print("ready", flush=True)
try:
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)
except socket.timeout:
    pass
"""

UDP_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(float(sys.argv[3]))
s.sendto(b"zfdhosts-echo", (sys.argv[1], int(sys.argv[2])))
try:
    data, _ = s.recvfrom(2048)
except OSError as e:
    print("no-reply", e); sys.exit(1)
print("reply" if data == b"zfdhosts-echo" else "garbled"); sys.exit(0 if data == b"zfdhosts-echo" else 2)
"""


def udp_echo(hosts: zfdhosts.Hosts, src: str, dst: str, port: int, wait: float) -> bool:
    """True if a datagram from src to dst's address comes back from an echo server on dst."""
    server = hosts.popen(dst, [PY, "-c", UDP_SERVER, hosts.address(dst), str(port), "5"],
                         stdout=subprocess.PIPE, text=True)
    try:
        expect(server.stdout.readline().strip() == "ready", "udp echo server did not start")
        cp = hosts.run(src, [PY, "-c", UDP_CLIENT, hosts.address(dst), str(port), str(wait)], timeout=wait + 10)
        return cp.returncode == 0 and cp.stdout.strip() == "reply"
    finally:
        hosts.stop(server, grace=0)


SHM_HOLDER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
name = sys.argv[1].encode()
fd = libc.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
if fd < 0:
    print("shm_open failed", ctypes.get_errno(), flush=True); sys.exit(1)
os.write(fd, sys.argv[2].encode())
print("made", flush=True)
sys.stdin.readline()                     # hold it until told
libc.shm_unlink(name)
print("unlinked", flush=True)
"""

SHM_READER = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.shm_open(sys.argv[1].encode(), os.O_RDONLY, 0)
if fd < 0:
    print("absent", ctypes.get_errno()); sys.exit(3)
print("content", os.read(fd, 100).decode())
"""


SUB_LINE = re.compile(r"^\[\d+\]\s+(?P<ts>[\d.]+)\s+size\s+(?P<size>\d+)\s+total\s+(?P<total>\d+)\s+"
                      r"lost\s+(?P<lost>\d+)\s+delta\s+(?P<delta>\d+)\s+lost\s+(?P<dlost>\d+)\s+rate")


def sub_series(lines: list[tuple[float, str]]) -> list[tuple[float, int]]:
    """(when printed, samples received in the second before) of each ddsperf sub line.

    When a line was printed is taken from ddsperf's own timestamp (seconds since
    its start), placed on our clock by the smallest (read time - timestamp) seen:
    a line read late (a busy machine) still counts for the second it covers."""
    parsed = [(t, SUB_LINE.match(line)) for t, line in lines]
    parsed = [(t, m) for t, m in parsed if m]
    if not parsed:
        return []
    start = min(t - float(m.group("ts")) for t, m in parsed)
    return [(start + float(m.group("ts")), int(m.group("delta"))) for _, m in parsed]


def sub_deltas(lines: list[tuple[float, str]], t_from: float, t_to: float) -> list[int]:
    """The per-second 'delta' of the ddsperf sub lines printed in [t_from, t_to]."""
    return [d for t, d in sub_series(lines) if t_from <= t <= t_to]


def socket_inodes(pid: int) -> set[int]:
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(int(target[8:-1]))
    return out


def udp_table(path_prefix: str) -> dict[int, str]:
    """{inode: local address} from <path_prefix>/net/udp and udp6."""
    out = {}
    for name in ("udp", "udp6"):
        try:
            with open(f"{path_prefix}/net/{name}", encoding="ascii") as f:
                next(f)
                for line in f:
                    cols = line.split()
                    out[int(cols[9])] = cols[1]
        except OSError:
            pass
    return out


def netns_inode(path: str) -> int:
    return os.stat(path).st_ino


def leftovers(prefix: str, pids=()) -> list[str]:
    """Everything of run `prefix` still on the machine."""
    found = []
    ours = zfdhosts.list_ours()
    for kind, items in ours.items():
        found += [f"{kind} {i}" for i in items if f"/{prefix}-" in i or i.startswith(prefix + "-")
                  or i.startswith(prefix + "_")]
    with open("/proc/mounts", encoding="utf-8") as f:
        found += [f"mount {line.split()[1]}" for line in f if line.split()[0].startswith(prefix + "-")]
    found += [f"netns file /run/netns/{n}" for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])
              if n.startswith(prefix + "-") or n.startswith(prefix + "_")]
    found += [f"process {p}" for p in pids if zfdhosts._pid_exists(p)]
    return sorted(set(found))


# ---------------------------------------------------------------------------
# checks on one shared pair of hosts
# ---------------------------------------------------------------------------

def check_topology(h: zfdhosts.Hosts) -> None:
    sw_links = {l["ifname"]: l for l in ip_json_links(h.switch_netns)}
    bridge = sw_links.get(h.BRIDGE)
    expect(bridge is not None, "no bridge in the switch namespace")
    expect(bridge["linkinfo"]["info_data"].get("mcast_snooping") == 0, "multicast snooping is on")
    for name in h.names:
        links = {l["ifname"]: l for l in ip_json_links(h.netns(name))}
        expect(set(links) == {"lo", zfdhosts.IFNAME}, f"host {name} has interfaces {sorted(links)}")
        expect("UP" in links["lo"]["flags"], f"lo of {name} is not up")
        expect(links[zfdhosts.IFNAME].get("link_netnsid") is not None, f"{name}'s zfd0 peer is not in another netns")
        port = sw_links.get(h[name].port)
        expect(port is not None and port.get("master") == h.BRIDGE, f"{name}'s port is not on the bridge")
        routes = subprocess.run(["ip", "-n", h.netns(name), "-4", "route", "show"], capture_output=True,
                                text=True, check=True).stdout.strip().splitlines()
        expect(len(routes) == 1 and routes[0].startswith(h.subnet + " dev " + zfdhosts.IFNAME),
               f"host {name} routes: {routes}")
    net3 = h.subnet.rsplit(".", 1)[0] + "."
    root_addrs = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
    expect(re.search(r"inet " + re.escape(net3), root_addrs) is None,
           "the root namespace has an address in the hosts' subnet")
    root_routes = subprocess.run(["ip", "-4", "route", "show", h.subnet], capture_output=True, text=True).stdout
    expect(root_routes.strip() == "", f"the root namespace routes the hosts' subnet: {root_routes}")
    root_links = ip_json_links(None)
    expect(not any(l["ifname"] == zfdhosts.IFNAME for l in root_links), "a zfd0 interface is in the root namespace")
    log(f"  {len(h.names)} hosts on {h.subnet}, bridge {h.switch_netns}/{h.BRIDGE} (snooping off), "
        f"each host: lo + {zfdhosts.IFNAME} only, no default route")


def check_reachability(h: zfdhosts.Hosts) -> None:
    rx0, _ = port_counters(h, "a")
    _, tx0 = port_counters(h, "b")
    expect(udp_echo(h, "a", "b", 40001, wait=3), "a cannot reach b")
    rx1, _ = port_counters(h, "a")
    _, tx1 = port_counters(h, "b")
    expect(rx1 > rx0 and tx1 > tx0, "the echo did not cross the bridge ports")
    expect(udp_echo(h, "b", "a", 40002, wait=3), "b cannot reach a")
    h.link_down("a")
    expect(not h.link_is_up("a"), "link_down(a) left a's interface with carrier")
    expect(not udp_echo(h, "b", "a", 40003, wait=1), "b reached a while a's link was down")
    h.link_up("a")
    expect(udp_echo(h, "b", "a", 40004, wait=3), "b cannot reach a after link_up")
    log(f"  a<->b echo over the bridge (port a rx +{rx1 - rx0}), none while a is unplugged, again after link_up")


def check_private_shm(h: zfdhosts.Hosts) -> None:
    name = f"/zfdhosts-test-{os.getpid()}"
    content = f"made-on-a-{os.getpid()}"
    holder = h.popen("a", [PY, "-c", SHM_HOLDER, name, content],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        expect(holder.stdout.readline().strip() == "made", "holder could not create the shm object")
        expect(h.shm_files("a") == [name[1:]], f"shm_files(a) = {h.shm_files('a')}")
        expect(h.shm_files("b") == [], f"shm_files(b) = {h.shm_files('b')}")
        expect(not os.path.exists("/dev/shm" + name), "the object appeared in the machine's own /dev/shm")
        second = h.run("a", [PY, "-c", SHM_READER, name], timeout=20)
        expect(second.returncode == 0 and second.stdout.strip() == f"content {content}",
               f"a second process on a does not see it: {second.stdout!r} {second.stderr!r}")
        other = h.run("b", [PY, "-c", SHM_READER, name], timeout=20)
        expect(other.returncode == 3 and other.stdout.startswith("absent"), f"b sees a's object: {other.stdout!r}")
        holder.stdin.write("\n")
        holder.stdin.flush()
        expect(holder.stdout.readline().strip() == "unlinked", "holder did not unlink")
        expect(holder.wait(10) == 0, "holder failed")
        expect(h.shm_files("a") == [], "the object is still in a's /dev/shm after unlink")
    finally:
        h.stop(holder, grace=1)
        if os.path.exists("/dev/shm" + name):  # only if /dev/shm was not private after all
            os.unlink("/dev/shm" + name)
    log("  shm_open on a: seen by a second process on a, absent on b and in the machine's /dev/shm")


def start_sub_pub(h, sub_host, pub_host, sub_extra="", pub_extra="", rate="2kHz", dur=30):
    """ddsperf sub (printing every second) on sub_host, pub at a bounded rate on pub_host."""
    sub = h.popen(sub_host, [DDSPERF, "-1", "-D", str(dur), "sub"],
                  env={"CYCLONEDDS_URI": h.cyclone_uri(sub_host, sub_extra)},
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    pub = h.popen(pub_host, [DDSPERF, "-D", str(dur), "pub", rate, "size", "256"],
                  env={"CYCLONEDDS_URI": h.cyclone_uri(pub_host, pub_extra)},
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return sub, pub


def wait_for(pred, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def received_since(lines: zfdhosts.OutputLines, t: float) -> int:
    return sum(sub_deltas(lines.snapshot(), t, float("inf")))


def check_dds_across_hosts(h: zfdhosts.Hosts) -> None:
    t0 = time.monotonic()
    sub, pub = start_sub_pub(h, "b", "a", sub_extra=TRACE_CONFIG, pub_extra=TRACE_CONFIG, dur=20)
    out = zfdhosts.OutputLines(sub.stdout)
    try:
        expect(out.wait_for(r"participant \S+: new$", 10) is not None, "sub on b did not discover pub on a")
        t_disc = min(t for t, line in out.snapshot() if re.search(r"participant \S+: new$", line)) - t0
        expect(wait_for(lambda: received_since(out, 0) > 0, 15), "sub on b received nothing from pub on a")
        t_data = time.monotonic() - t0
        # The pids are ddsperf itself (the wrapper execs), in the host's namespaces.
        for p, host in ((sub, "b"), (pub, "a")):
            with open(f"/proc/{p.pid}/comm", encoding="ascii") as f:
                expect(f.read().strip() == "ddsperf", f"pid {p.pid} is not ddsperf")
            expect(netns_inode(f"/proc/{p.pid}/ns/net") == netns_inode(f"/run/netns/{h.netns(host)}"),
                   f"ddsperf on {host} is not in {h.netns(host)}")
            expect(netns_inode(f"/proc/{p.pid}/ns/net") != netns_inode("/proc/self/ns/net"),
                   f"ddsperf on {host} is in the root network namespace")
            socks = socket_inodes(p.pid)
            host_udp = udp_table(f"/proc/{p.pid}")
            root_udp = udp_table("/proc/self")
            expect(socks, f"ddsperf on {host} has no sockets")
            expect(not (socks & set(root_udp)), f"ddsperf on {host} has a socket in the root namespace")
            spdp = [i for i in socks if host_udp.get(i, "").endswith(":1CE8")]  # port 7400
            expect(spdp, f"ddsperf on {host} has no SPDP (7400) socket in its host's table")
        # 7400 is not bound in the root namespace by anything of ours (the tables are per namespace).
    finally:
        h.stop(pub, grace=2)
        h.stop(sub, grace=2)
        out.join()
    for p, host in ((sub, "b"), (pub, "a")):
        err = p.stderr.read()
        sel = [line.split("selected interfaces:", 1)[1].strip() for line in err.splitlines()
               if "selected interfaces:" in line]
        expect(len(sel) == 1, f"Cyclone on {host} logged no interface selection")
        chosen = [part.split()[0] for part in sel[0].split(", ")]
        expect(chosen == [zfdhosts.IFNAME], f"Cyclone on {host} selected {chosen}")
    log(f"  ddsperf pub a -> sub b: peer discovered {t_disc:.2f} s after start, data seen by {t_data:.2f} s "
        f"(sub prints once a second); Cyclone selected only {zfdhosts.IFNAME}; no socket in the root namespace")


def check_dds_same_host(h: zfdhosts.Hosts) -> None:
    sub, pub = start_sub_pub(h, "a", "a", dur=20)
    out = zfdhosts.OutputLines(sub.stdout)
    try:
        expect(wait_for(lambda: received_since(out, 0) > 0, 15), "two processes on a do not see each other")
    finally:
        h.stop(pub, grace=2)
        h.stop(sub, grace=2)
        out.join()
    log("  ddsperf pub a -> sub a (second process on one host) exchange data")


def check_dds_link_fault(h: zfdhosts.Hosts, lease_extra: str, outage: float) -> None:
    sub, pub = start_sub_pub(h, "b", "a", sub_extra=lease_extra, pub_extra=lease_extra, dur=30)
    out = zfdhosts.OutputLines(sub.stdout)
    try:
        expect(wait_for(lambda: received_since(out, 0) > 0, 15), "no data before the fault")
        time.sleep(1.5)
        h.link_down("a")
        t_down = time.monotonic()
        time.sleep(outage)
        t_up = time.monotonic()
        h.link_up("a")
        # Lines printed from 1.2 s after unplugging until the plug-in cover whole
        # seconds of the outage: nothing may arrive in them.
        during = sub_deltas(out.snapshot(), t_down + 1.2, t_up)
        expect(len(during) >= 1, "sub printed no line during the outage (-1 should print every second)")
        expect(all(d == 0 for d in during), f"data arrived while a was unplugged: {during}")
        expect(wait_for(lambda: received_since(out, t_up) > 0, 15), "data did not resume after link_up")
        t_resume = min(t for t, d in sub_series(out.snapshot()) if t >= t_up and d > 0) - t_up
    finally:
        h.stop(pub, grace=2)
        h.stop(sub, grace=2)
        out.join()
    lines = out.snapshot()
    text = "\n".join(line for _, line in lines)
    # (stopping pub at the end makes sub print "gone" too: look only at the outage)
    gone = any(re.search(r"participant \S+: gone", line) for t, line in lines if t_down <= t <= t_up + 0.5)
    if lease_extra:
        expect(gone, "with a 1 s lease, sub did not drop the unplugged peer")
        expect(len(re.findall(r"participant \S+: new$", text, re.M)) >= 2, "the peer was not rediscovered")
        log(f"  1 s lease: peer dropped during a {outage:.0f} s outage, rediscovered, data again "
            f"by {t_resume:.1f} s after link_up (sub reports once a second)")
    else:
        expect(not gone, "with the default 10 s lease the peer was dropped during a short outage")
        totals = [int(m.group("lost")) for m in map(SUB_LINE.match, text.splitlines()) if m]
        expect(totals and totals[-1] == 0, f"reliable data was lost over a short outage: {totals[-1:]}")
        log(f"  default lease: {outage:.0f} s outage, no data meanwhile, resumed without loss "
            f"by {t_resume:.1f} s after link_up (sub reports once a second)")


def check_second_set_and_pinning(h: zfdhosts.Hosts) -> None:
    cpu = str(max(0, (os.cpu_count() or 1) - 1))
    with zfdhosts.Hosts(("x",), cpus={"x": cpu}) as other:
        expect(other.prefix != h.prefix and other.subnet != h.subnet, "two Hosts share names or subnet")
        expect(other.netns("x") in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                  text=True).stdout, "second set's namespace missing")
        cp = other.run("x", ["grep", "Cpus_allowed_list", "/proc/self/status"], timeout=10)
        expect(cp.stdout.split()[-1:] == [cpu], f"process on x not pinned to CPU {cpu}: {cp.stdout!r}")
        cp = other.run("x", ["grep", "Cpus_allowed_list", "/proc/self/status"], timeout=10, cpus="0")
        expect(cp.stdout.split()[-1:] == ["0"], f"per-call cpus ignored: {cp.stdout!r}")
        prefix = other.prefix
    expect(not leftovers(prefix), f"second set left {leftovers(prefix)}")
    expect(h.link_is_up("a"), "closing the second set disturbed the first")
    log(f"  {prefix} beside {h.prefix}; taskset pinning (host and per call); closed without touching the first")


# ---------------------------------------------------------------------------
# teardown and exit paths
# ---------------------------------------------------------------------------

def check_close(h: zfdhosts.Hosts) -> None:
    prefix = h.prefix
    sleeper = h.popen("a", ["sleep", "60"])
    # A process started behind zfdhosts' back must go too (close kills everything in the namespaces).
    stray = subprocess.Popen(["ip", "netns", "exec", h.netns("b"), "sleep", "60"], start_new_session=True)
    time.sleep(0.2)
    inodes = {n: netns_inode(f"/run/netns/{h.netns(n)}") for n in h.names}
    tmpdir = os.path.dirname(h.shm_dir("a"))
    pids = [p.pid for p in h.processes()] + [stray.pid]
    h.close()
    stray.wait(5)
    left = leftovers(prefix, pids)
    expect(not left, f"left after close(): {left}")
    expect(not os.path.exists(tmpdir), f"{tmpdir} still exists")
    ns_list = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    expect(prefix not in ns_list, "ip netns list still names the run")
    with open("/proc/mounts", encoding="utf-8") as f:
        mounts = f.read()
    expect(prefix not in mounts and tmpdir not in mounts, "/proc/mounts still names the run")
    # No process anywhere is inside one of the deleted namespaces.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            ino = netns_inode(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        expect(ino not in inodes.values(), f"process {pid} is still in a deleted host namespace")
    expect(sleeper.returncode is not None, "the tracked sleeper was not reaped")
    log(f"  close() in {h.teardown_seconds * 1000:.0f} ms: no namespace, mount, temp dir or process left")


CHILD = r"""
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
import zfdhosts
signal.signal(signal.SIGINT, signal.default_int_handler)
mode = sys.argv[2]
with zfdhosts.Hosts(("a", "b")) as h:
    p = h.popen("a", ["sleep", "60"])
    print(h.prefix, p.pid, flush=True)
    if mode == "raise":
        raise RuntimeError("test exception inside the with block")
    time.sleep(60)
"""


def check_exit_paths() -> None:
    results = []
    for mode, sig in (("raise", None), ("signal", signal.SIGTERM), ("signal", signal.SIGINT),
                      ("signal", signal.SIGKILL)):
        child = subprocess.Popen([PY, "-c", CHILD, HERE, mode], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        first = child.stdout.readline().split()
        if len(first) != 2:  # (the message reads stderr to its end: only once the child is gone)
            child.kill()
            raise Failure(f"child ({mode}) did not start: {child.stderr.read()}")
        prefix, sleeper = first[0], int(first[1])
        if sig is not None:
            child.send_signal(sig)
        try:
            child.wait(20)
        except subprocess.TimeoutExpired:
            child.kill()
            raise Failure(f"child ({mode} {sig}) did not exit")
        name = "exception" if sig is None else signal.Signals(sig).name
        if sig == signal.SIGKILL:
            # (A concurrent run's Hosts() may have cleaned up already: it removes
            # what dead runs left, so `left` may be empty; what counts is after.)
            left = leftovers(prefix, [sleeper])
            cp = subprocess.run([PY, os.path.join(HERE, "zfdhosts.py"), "--cleanup"],
                                capture_output=True, text=True, timeout=60)
            expect(cp.returncode == 0, f"--cleanup failed: {cp.stderr}")
            # The sleeper was in its own session: only the cleanup's netns kill can end it.
            wait_for(lambda: not zfdhosts._pid_exists(sleeper), 5)
            still = leftovers(prefix, [sleeper])
            expect(not still, f"--cleanup left {still}")
            results.append(f"SIGKILL: {len(left)} leftovers, removed by --cleanup")
        else:
            left = leftovers(prefix, [sleeper])
            expect(not left, f"{name} left {left}")
            expect(child.returncode != 0, f"{name}: child exited 0")
            results.append(f"{name}: clean (exit {child.returncode})")
        child.stdout.close()
        child.stderr.close()
    log("  " + "; ".join(results))


# ---------------------------------------------------------------------------

def main() -> int:
    if shutil.which(DDSPERF) is None:
        print(f"skip: {DDSPERF} not found (Debian package cyclonedds-tools)")
        return zfdhosts.SKIP_EXIT
    try:
        t0 = time.monotonic()
        hosts = zfdhosts.Hosts(("a", "b"))
    except zfdhosts.HostsUnavailable as e:
        print(f"skip: {e}")
        return zfdhosts.SKIP_EXIT
    log(f"hosts {hosts.prefix}: setup {hosts.setup_seconds * 1000:.0f} ms")
    checks = [
        ("topology", lambda: check_topology(hosts)),
        ("reachable only through the bridge", lambda: check_reachability(hosts)),
        ("private /dev/shm per host", lambda: check_private_shm(hosts)),
        ("ddsperf across hosts, only on zfd0", lambda: check_dds_across_hosts(hosts)),
        ("ddsperf, two processes on one host", lambda: check_dds_same_host(hosts)),
        ("ddsperf over a link fault, default lease", lambda: check_dds_link_fault(hosts, "", 3)),
        ("ddsperf over a link fault, 1 s lease", lambda: check_dds_link_fault(hosts, SHORT_LEASE, 3)),
        ("a second set of hosts, CPU pinning", lambda: check_second_set_and_pinning(hosts)),
        ("close() leaves nothing", lambda: check_close(hosts)),
        ("every exit path cleans up", check_exit_paths),
    ]
    passed = failed = 0
    try:
        for name, fn in checks:
            t = time.monotonic()
            try:
                fn()
            except Failure as e:
                failed += 1
                log(f"FAIL {name}: {e}")
            except Exception as e:  # noqa: BLE001 - report and go on with the other checks
                failed += 1
                log(f"FAIL {name}: {type(e).__name__}: {e}")
            else:
                passed += 1
                log(f"ok   {name} ({time.monotonic() - t:.1f} s)")
    finally:
        hosts.close()
    log(f"zfdhosts self-test: {passed} of {passed + failed} checks passed ({time.monotonic() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
