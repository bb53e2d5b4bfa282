#!/usr/bin/env python3
"""zfdhosts: simulated hosts on one Linux machine, for cross-host tests.

Each simulated host is a network namespace with one interface, ``zfd0``, plugged
into a Linux bridge that lives in a namespace of its own (the "switch"), and a
private /dev/shm. Every process started on a host runs in that host's network
namespace, and in a private mount namespace where the host's own tmpfs is bind
mounted onto /dev/shm: all processes of one host share one /dev/shm, and no two
hosts share one. This is what a zerodds-flatdata segment needs to be "on one
host" and what the DDS bridge needs to be "between hosts".

Layout of one run (``P`` is the prefix ``zfd<pid>`` or ``zfd<pid>.<n>``)::

    netns P-a                netns P_switch                  netns P-b
    lo, zfd0 10.X.Y.1/24 ==veth== p0 - br0 - p1 ==veth== zfd0 10.X.Y.2/24, lo
    /dev/shm = tmpfs "P-a-shm"                          /dev/shm = tmpfs "P-b-shm"

- The bridge has multicast snooping off, so multicast (Cyclone DDS's SPDP
  participant discovery goes to 239.255.0.1) is flooded to every port even
  though no multicast router or IGMP querier exists.
- The host namespaces have no default route and the root namespace has no route
  into them: nothing sent by a host can leave on the machine's real interfaces.
- Apart from /dev/shm, hosts share the machine's file system (programs, build
  tree, temp files; the tmpfs dirs themselves are visible under the temp dir),
  its PID space and its clock, which tests can use to compare timestamps.
- ``link_down(host)`` sets the host's switch port down (a cable pulled at the
  switch): the host keeps its address and its interface configuration, its
  packets just go nowhere. ``link_up(host)`` plugs it back in.

Use it as a context manager; every exit path (normal, exception, SIGINT,
SIGTERM, interpreter exit) removes what it made::

    import zfdhosts

    try:
        hosts = zfdhosts.Hosts(("a", "b"))
    except zfdhosts.HostsUnavailable as e:     # not root, no netns support, ...
        print("skip:", e); sys.exit(zfdhosts.SKIP_EXIT)   # 77, Meson's "skipped"
    with hosts:
        sub = hosts.popen("b", ["ddsperf", "sub"], stdout=subprocess.PIPE, text=True)
        pub = hosts.popen("a", ["ddsperf", "pub", "1kHz"])
        ...
        hosts.link_down("a"); ...; hosts.link_up("a")
        print(hosts.shm_files("a"))

Every process gets ``CYCLONEDDS_URI`` naming only its host's interface (see
:meth:`Hosts.cyclone_uri`); pass ``env={"CYCLONEDDS_URI": ...}`` to override it,
e.g. with ``hosts.cyclone_uri("a", "<Discovery><LeaseDuration>1s</LeaseDuration></Discovery>")``.

Leftovers of runs that were killed (SIGKILL leaves no chance to clean up) are
removed by :func:`cleanup_stale`, which every new :class:`Hosts` calls first,
and by ``python3 tests/dds/zfdhosts.py --cleanup``. Leftovers are recognised by
the ``zfd<pid>`` prefix of their names and the owning pid being gone.

Requires: root (CAP_SYS_ADMIN and CAP_NET_ADMIN), iproute2 (``ip``), util-linux
(``nsenter``, ``unshare``, ``mount``, ``taskset``). Standard library only.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

__all__ = [
    "Hosts",
    "Host",
    "OutputLines",
    "HostsError",
    "HostsUnavailable",
    "SKIP_EXIT",
    "IFNAME",
    "cleanup_stale",
    "list_ours",
]

#: Exit status Meson counts as "skipped" (tests: ``sys.exit(SKIP_EXIT)`` on HostsUnavailable).
SKIP_EXIT = 77

#: Name of the one interface in every host namespace. Deliberately not a name a
#: real machine has: a CYCLONEDDS_URI of ours used outside a host namespace makes
#: Cyclone fail to start instead of falling back to a real interface.
IFNAME = "zfd0"

# Names this module makes, all starting with the run prefix zfd<pid>[.<n>]:
#   host namespace   <prefix>-<host>        switch namespace  <prefix>_switch
#   tmpfs source     <prefix>-<host>-shm    temp dir          <tmp>/<prefix>-shm-XXXXXXXX/<host>
_PREFIX_RE = r"zfd(?P<pid>\d+)(?:\.(?P<n>\d+))?"
_NETNS_RE = re.compile(r"^(?P<prefix>" + _PREFIX_RE + r")(?:-[a-z][a-z0-9]*|_switch)$")
_TMPFS_SOURCE_RE = re.compile(r"^(?P<prefix>" + _PREFIX_RE + r")-[a-z][a-z0-9]*-shm$")
_TMPDIR_RE = re.compile(r"^(?P<prefix>" + _PREFIX_RE + r")-shm-[A-Za-z0-9_]+$")
_HOST_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")

# The script that runs as the first thing inside a host's mount namespace:
# $1 is the host's tmpfs, the rest is the command to exec. The bind mount must
# work; /sys is remounted (best effort) so that it shows the host's network
# devices, as `ip netns exec` does.
_ENTER_SCRIPT = (
    'set -e; d="$1"; shift; '
    'mount --bind "$d" /dev/shm; '
    "{ umount -l /sys && mount -t sysfs -o nosuid,nodev,noexec sysfs /sys; } 2>/dev/null || true; "
    'exec "$@"'
)

_instances_lock = threading.Lock()
_instance_count = 0
_live: "list[Hosts]" = []
_signals_installed = False


class HostsError(RuntimeError):
    """Setting up, using or removing simulated hosts failed."""


class HostsUnavailable(HostsError):
    """Simulated hosts cannot be made here (not root, no network namespaces,
    a required tool missing). Tests turn this into exit status 77 (skipped)."""


@dataclass
class Host:
    """One simulated host. Read-only for users of :class:`Hosts`."""

    name: str
    index: int
    netns: str  #: network namespace name (``ip -n <netns> ...``)
    address: str  #: IPv4 address of its interface
    port: str  #: its port on the bridge, in the switch namespace
    shm_dir: str  #: the tmpfs that is /dev/shm on this host (path in the root namespace)
    cpus: str | None = None  #: CPU list every process of this host is pinned to (taskset -c)
    shm_mounted: bool = field(default=False, repr=False)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _run(argv: Sequence[str], check: bool = True, timeout: float = 30,
         input: str | None = None) -> subprocess.CompletedProcess:
    """Run a setup/teardown command in the root namespace, capturing its output."""
    try:
        cp = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, input=input)
    except FileNotFoundError as e:
        raise HostsUnavailable(f"{argv[0]} not found: {e}") from e
    if check and cp.returncode != 0:
        msg = f"`{' '.join(argv)}` failed ({cp.returncode}): {cp.stderr.strip()}"
        if "Operation not permitted" in cp.stderr or "Permission denied" in cp.stderr:
            raise HostsUnavailable(msg)
        raise HostsError(msg)
    return cp


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _netns_list() -> list[str]:
    """Names of the named network namespaces (what `ip netns list` shows)."""
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def _pids_in_netns(names: Iterable[str]) -> list[int]:
    """Every process inside one of the named network namespaces (what
    `ip netns pids` finds, for several namespaces in one pass over /proc)."""
    inodes = set()
    for name in names:
        try:
            st = os.stat(f"/run/netns/{name}")
            inodes.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    pids = []
    if not inodes:
        return pids
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                st = os.stat(f"/proc/{entry}/ns/net")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in inodes:
                pids.append(int(entry))
    return pids


def _kill_and_reap_pids(pids: Iterable[int], timeout: float = 3.0) -> list[int]:
    """SIGKILL the given pids and wait (bounded) until they are gone.
    Returns those still present afterwards."""
    pids = [p for p in pids if p != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    left = pids
    while left and time.monotonic() < deadline:
        for pid in left:  # reap our own children, if they are
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        left = [p for p in left if _pid_exists(p)]
        if left:
            time.sleep(0.02)
    return left


def _pid_exists(pid: int) -> bool:
    """True while /proc/<pid> exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[-1].split()[0] != b"Z"


def _unescape_mount_field(s: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def _mounts() -> list[tuple[str, str, str]]:
    """(source, mountpoint, fstype) of every mount in this mount namespace."""
    out = []
    with open("/proc/self/mounts", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                out.append((_unescape_mount_field(parts[0]), _unescape_mount_field(parts[1]), parts[2]))
    return out


# mount(2) and umount2(2) through libc: one system call instead of a process each.
_libc = ctypes.CDLL(None, use_errno=True)
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 0x2, 0x4, 0x2


def _mount_tmpfs(source: str, target: str, options: str) -> None:
    if _libc.mount(source.encode(), target.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode()) != 0:
        err = ctypes.get_errno()
        msg = f"mount tmpfs on {target}: {os.strerror(err)}"
        raise HostsUnavailable(msg) if err == errno.EPERM else HostsError(msg)


def _umount(path: str) -> str | None:
    """Unmount path (lazily if busy). Returns an error text or None."""
    if _libc.umount2(path.encode(), 0) == 0:
        return None
    err = ctypes.get_errno()
    if err == errno.EBUSY and _libc.umount2(path.encode(), _MNT_DETACH) == 0:
        return None
    return f"umount {path}: {os.strerror(err)}"


def _xml_escape_attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------
# Leftovers of dead runs
# ---------------------------------------------------------------------------


def list_ours() -> dict[str, list[str]]:
    """Everything on this machine that carries a zfdhosts name, live runs or dead:
    ``{"netns": [...], "mounts": [...], "tmpdirs": [...]}``."""
    netns = [n for n in _netns_list() if _NETNS_RE.match(n)]
    mounts = [mp for src, mp, fs in _mounts() if fs == "tmpfs" and _TMPFS_SOURCE_RE.match(src)]
    tmp = tempfile.gettempdir()
    try:
        tmpdirs = [os.path.join(tmp, d) for d in os.listdir(tmp) if _TMPDIR_RE.match(d)]
    except OSError:
        tmpdirs = []
    return {"netns": sorted(netns), "mounts": sorted(mounts), "tmpdirs": sorted(tmpdirs)}


def cleanup_stale(verbose: bool = False, include_live: bool = False) -> list[str]:
    """Remove namespaces, tmpfs mounts and temp dirs left by zfdhosts runs whose
    process is gone (the pid in their ``zfd<pid>`` prefix no longer exists).

    Processes still running inside a stale namespace are killed first.
    ``include_live=True`` removes the leftovers of live runs too (other than
    this process's); use it only when no other run is in progress.
    Returns a description of each thing removed."""
    removed: list[str] = []

    def stale(prefix_match: re.Match) -> bool:
        pid = int(prefix_match.group("pid"))
        if pid == os.getpid():
            return False
        return include_live or not _pid_alive(pid)

    def note(what: str) -> None:
        removed.append(what)
        if verbose:
            print(f"zfdhosts: removed {what}", file=sys.stderr)

    if os.geteuid() != 0:
        return removed
    # Namespaces: kill what still runs inside, then delete (hosts before switches,
    # although the order does not matter: deleting either end removes a veth pair).
    names = [n for n in _netns_list() if (m := _NETNS_RE.match(n)) and stale(m)]
    if names:
        _kill_and_reap_pids(_pids_in_netns(names))
        _run(["ip", "-force", "-batch", "-"], check=False, input="".join(f"netns del {n}\n" for n in names))
        left = set(_netns_list())
        for name in names:
            if name not in left:
                note(f"netns {name}")
    # tmpfs mounts (their source names the run), then the temp dirs holding them.
    for src, mp, fs in _mounts():
        m = _TMPFS_SOURCE_RE.match(src)
        if fs == "tmpfs" and m and stale(m) and _umount(mp) is None:
            note(f"mount {mp}")
    tmp = tempfile.gettempdir()
    try:
        entries = os.listdir(tmp)
    except OSError:
        entries = []
    mounted = {mp for _, mp, _ in _mounts()}
    for d in entries:
        m = _TMPDIR_RE.match(d)
        path = os.path.join(tmp, d)
        if m and stale(m) and not any(mp.startswith(path + "/") for mp in mounted):
            shutil.rmtree(path, ignore_errors=True)
            if not os.path.exists(path):
                note(f"dir {path}")
    return removed


# ---------------------------------------------------------------------------
# Signals and interpreter exit
# ---------------------------------------------------------------------------


def _on_signal(signum, frame):  # noqa: ARG001
    """SIGTERM/SIGHUP while hosts are live: unwind like SIGINT does (so `with`
    blocks and finally clauses run and close the hosts), exit status 128+signum."""
    if _live:
        raise SystemExit(128 + signum)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_signal_handlers() -> None:
    global _signals_installed
    if _signals_installed or threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:  # leave a test framework's own handler alone
            signal.signal(sig, _on_signal)
    _signals_installed = True


@atexit.register
def _close_all_at_exit() -> None:
    for h in list(_live):
        try:
            h.close()
        except Exception as e:  # noqa: BLE001 - at exit, report and go on
            print(f"zfdhosts: cleanup at exit: {e}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Hosts
# ---------------------------------------------------------------------------


class Hosts:
    """A set of simulated hosts joined by one bridge. See the module docstring.

    Parameters:
      names        host names: lower-case letters and digits, starting with a letter, ≤ 10 chars.
      tag          a number distinguishing several Hosts of one process (default: a counter;
                   the first instance of a process has none). Names are ``zfd<pid>[.<tag>]-<host>``.
      cpus         optional ``{host: "0"}`` CPU lists; every process of that host is started under
                   ``taskset -c <list>`` (a popen(..., cpus=...) overrides it per process).
      shm_size     size option of each host's tmpfs (e.g. "256m"); default: the kernel's (half of RAM).
      mtu          MTU of the links (default 1500, an Ethernet LAN).
      kill_timeout seconds between SIGTERM and SIGKILL when close() stops processes.
      cleanup      run :func:`cleanup_stale` first (default True).

    Attributes: ``hosts`` ({name: Host}), ``prefix``, ``subnet`` (e.g. "10.17.42.0/24"),
    ``switch_netns``, ``setup_seconds``, ``teardown_seconds``.
    Raises HostsUnavailable when namespaces cannot be made here, HostsError on other failures.
    """

    BRIDGE = "br0"

    def __init__(
        self,
        names: Sequence[str] = ("a", "b"),
        tag: int | str | None = None,
        *,
        cpus: Mapping[str, str | int | Sequence[int]] | None = None,
        shm_size: str | None = None,
        mtu: int = 1500,
        kill_timeout: float = 3.0,
        cleanup: bool = True,
    ) -> None:
        global _instance_count
        t0 = time.monotonic()
        names = tuple(names)
        if not names:
            raise ValueError("Hosts needs at least one host name")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate host names: {names}")
        for n in names:
            if not _HOST_NAME_RE.match(n):
                raise ValueError(f"host name {n!r}: use [a-z][a-z0-9]{{0,9}}")
        if len(names) > 250:
            raise ValueError("at most 250 hosts (one /24)")
        with _instances_lock:
            if tag is None:
                tag = _instance_count or None
            _instance_count += 1
        if tag is not None and not re.fullmatch(r"\d{1,6}", str(tag)):
            raise ValueError("tag must be a small non-negative number")

        self._check_available()
        if cleanup:
            cleanup_stale()

        pid = os.getpid()
        self.prefix = f"zfd{pid}" + (f".{tag}" if tag is not None else "")
        # A /24 per run: 10.<a>.<b>.0/24 from pid and tag. Runs never share a bridge,
        # so equal subnets would still not collide; distinct ones keep captures legible.
        idx = (pid * 8 + int(tag or 0)) % 65536
        self.subnet = f"10.{idx >> 8}.{idx & 255}.0/24"
        net3 = f"10.{idx >> 8}.{idx & 255}"
        self.switch_netns = f"{self.prefix}_switch"
        self.kill_timeout = kill_timeout
        self.mtu = mtu
        self.setup_seconds = 0.0
        self.teardown_seconds = 0.0
        self.closed = False
        self._lock = threading.RLock()
        self._procs: list[subprocess.Popen] = []
        self._made_netns: list[str] = []
        self._tmpdir: str | None = None
        cpus = dict(cpus or {})
        for h in cpus:
            if h not in names:
                raise ValueError(f"cpus names unknown host {h!r}")

        self.hosts: dict[str, Host] = {}
        for i, n in enumerate(names):
            c = cpus.get(n)
            if c is not None and not isinstance(c, str):
                c = ",".join(str(x) for x in ([c] if isinstance(c, int) else c))
            self.hosts[n] = Host(
                name=n,
                index=i,
                netns=f"{self.prefix}-{n}",
                address=f"{net3}.{i + 1}",
                port=f"p{i}",
                shm_dir="",
                cpus=c,
            )

        with _instances_lock:
            _live.append(self)
        _install_signal_handlers()
        try:
            self._setup(shm_size)
        except BaseException:
            try:
                self.close()
            except Exception as e:  # noqa: BLE001 - the setup error is the one to report
                print(f"zfdhosts: cleanup after failed setup: {e}", file=sys.stderr)
            raise
        self.setup_seconds = time.monotonic() - t0

    # -- setup ---------------------------------------------------------------

    @staticmethod
    def _check_available() -> None:
        if not sys.platform.startswith("linux"):
            raise HostsUnavailable("simulated hosts need Linux network namespaces")
        if os.geteuid() != 0:
            raise HostsUnavailable("simulated hosts need root (network and mount namespaces)")
        for tool in ("ip", "nsenter", "unshare", "mount", "taskset"):
            if shutil.which(tool) is None:
                raise HostsUnavailable(f"{tool} not found (iproute2 / util-linux)")
        if not os.path.exists("/proc/self/ns/net") or not os.path.exists("/proc/self/ns/mnt"):
            raise HostsUnavailable("this kernel has no network or mount namespaces")

    def _ip(self, *args: str) -> None:
        _run(["ip", *args])

    @staticmethod
    def _ip_batch(netns: str | None, commands: list[str]) -> None:
        """Run ip commands in one process (``ip [-n NETNS] -batch -``), which stops
        at the first that fails. (Names here never contain spaces.)"""
        argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
        _run(argv, input="\n".join(commands) + "\n")

    def _setup(self, shm_size: str | None) -> None:
        sw = self.switch_netns
        names = [sw] + [h.netns for h in self.hosts.values()]
        clash = sorted(set(names) & set(_netns_list()))
        if clash:
            raise HostsError(f"network namespaces {clash} exist already (another Hosts with this tag?)")
        self._made_netns = names  # close() deletes those of them that exist
        self._ip_batch(None, [f"netns add {n}" for n in names])
        # The bridge and every veth pair are made in the switch namespace, the host
        # end going straight into its host namespace: the root namespace never sees
        # either end.
        switch = [f"link add {self.BRIDGE} type bridge mcast_snooping 0 stp_state 0 forward_delay 0",
                  f"link set {self.BRIDGE} up"]
        for h in self.hosts.values():
            switch += [f"link add {h.port} mtu {self.mtu} type veth peer name {IFNAME} mtu {self.mtu} netns {h.netns}",
                       f"link set {h.port} master {self.BRIDGE}",
                       f"link set {h.port} up"]
        self._ip_batch(sw, switch)
        for h in self.hosts.values():
            self._ip_batch(h.netns, [f"addr add {h.address}/24 dev {IFNAME}",
                                     f"link set {IFNAME} up",
                                     "link set lo up"])

        self._tmpdir = tempfile.mkdtemp(prefix=f"{self.prefix}-shm-")
        for h in self.hosts.values():
            h.shm_dir = os.path.join(self._tmpdir, h.name)
            os.mkdir(h.shm_dir)
            _mount_tmpfs(f"{self.prefix}-{h.name}-shm", h.shm_dir,
                         "mode=1777" + (f",size={shm_size}" if shm_size else ""))
            h.shm_mounted = True

        # Wait (bounded) until every link has carrier, seen from the switch (a veth
        # end has carrier when both ends are up); with STP off a bridge port
        # forwards as soon as it is up.
        deadline = time.monotonic() + 5
        while True:
            cp = _run(["ip", "-n", sw, "-o", "link", "show", "type", "veth"], check=False)
            up = {line.split(":")[1].strip().split("@")[0] for line in cp.stdout.splitlines()
                  if "LOWER_UP" in line.split(">")[0]}
            if all(h.port in up for h in self.hosts.values()):
                break
            if time.monotonic() > deadline:
                raise HostsError(f"links did not come up: {cp.stdout.strip()}")
            time.sleep(0.01)

    # -- context manager -----------------------------------------------------

    def __enter__(self) -> "Hosts":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except HostsError as e:
            if exc_type is None:
                raise
            print(f"zfdhosts: cleanup: {e}", file=sys.stderr)

    # -- queries ---------------------------------------------------------------

    def __getitem__(self, name: str) -> Host:
        return self._host(name)

    @property
    def names(self) -> list[str]:
        return list(self.hosts)

    def _host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise KeyError(f"no host {name!r}; hosts are {list(self.hosts)}") from None

    def address(self, host: str) -> str:
        """The IPv4 address of host's interface."""
        return self._host(host).address

    def netns(self, host: str) -> str:
        """The network namespace name of host (for ``ip -n``)."""
        return self._host(host).netns

    def shm_dir(self, host: str) -> str:
        """The directory (in the root namespace) that is /dev/shm on host."""
        return self._host(host).shm_dir

    def shm_files(self, host: str) -> list[str]:
        """Sorted names of the files in host's /dev/shm."""
        return sorted(os.listdir(self._host(host).shm_dir))

    def cyclone_uri(self, host: str, extra_xml: str = "") -> str:
        """CYCLONEDDS_URI for a process on host: Cyclone uses only the host's
        interface (``zfd0``; no loopback, no real interface).

        extra_xml is merged in. It is either children of ``<Domain>`` (the
        common case: ``<Discovery>...``, ``<Security>...``, ``<Tracing>...``,
        ``<General><AllowMulticast>spdp</AllowMulticast></General>``) or a
        whole ``<CycloneDDS>``/``<Domain>`` document. Either way it goes in as a
        second configuration fragment after ours, so Cyclone applies it on top:
        settings it names override ours, and list elements (e.g. another
        NetworkInterface) are added.
        """
        self._host(host)  # every host's interface has the same name, in its own namespace
        base = (
            '<CycloneDDS><Domain id="any"><General><Interfaces>'
            f'<NetworkInterface name="{_xml_escape_attr(IFNAME)}"/>'
            "</Interfaces></General></Domain></CycloneDDS>"
        )
        extra = extra_xml.strip()
        if not extra:
            return base
        if extra.startswith("<CycloneDDS") or extra.startswith("<Domain"):
            return base + extra
        return base + f'<CycloneDDS><Domain id="any">{extra}</Domain></CycloneDDS>'

    def link_is_up(self, host: str) -> bool:
        """True when host's interface has carrier (its switch port is up)."""
        h = self._host(host)
        cp = _run(["ip", "-n", h.netns, "-o", "link", "show", IFNAME], check=False)
        return cp.returncode == 0 and "LOWER_UP" in cp.stdout.split(">")[0]

    # -- processes -----------------------------------------------------------------

    def wrap(self, host: str, argv: Sequence[str], cpus: str | None = None) -> list[str]:
        """The command line that runs argv on host: enter its network namespace, a
        new private mount namespace, bind its tmpfs onto /dev/shm, then exec argv
        (under taskset when the host or the call names CPUs)."""
        h = self._host(host)
        if self.closed:
            raise HostsError("hosts are closed")
        argv = [os.fspath(a) for a in argv]
        if not argv:
            raise ValueError("empty argv")
        cpus = cpus if cpus is not None else h.cpus
        pin = ["taskset", "-c", str(cpus)] if cpus is not None else []
        return [
            "nsenter", f"--net=/run/netns/{h.netns}", "--",
            "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", _ENTER_SCRIPT, f"zfdhost-{h.name}", h.shm_dir,
            *pin, *argv,
        ]

    def host_env(self, host: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment popen gives a process on host: this process's
        environment, plus env, plus ZFD_HOST=<host>, ZFD_HOST_ADDR=<address> and,
        unless env sets it, CYCLONEDDS_URI=cyclone_uri(host)."""
        h = self._host(host)
        out = dict(os.environ)
        out.pop("CYCLONEDDS_URI", None)  # never inherit the caller's: it may name real interfaces
        out["ZFD_HOST"] = h.name
        out["ZFD_HOST_ADDR"] = h.address
        out.update(env or {})
        out.setdefault("CYCLONEDDS_URI", self.cyclone_uri(host))
        return out

    def popen(self, host: str, argv: Sequence[str], env: Mapping[str, str] | None = None,
              *, cpus: str | None = None, **kw) -> subprocess.Popen:
        """Start argv on host (its network namespace and its /dev/shm) and track it.

        env: variables added to the inherited environment (see host_env);
        cpus: CPU list for taskset, overriding the host's; other keywords go to
        subprocess.Popen. The process gets a session (and process group) of its
        own, so close() can stop it and its children with killpg. The returned
        Popen's pid is argv's own process (the wrapper execs it), and it carries
        ``zfd_host`` and ``zfd_argv`` attributes. A second process on the same
        host is just another popen: it shares the host's /dev/shm and network.
        Raises FileNotFoundError when argv[0] is not found (as subprocess does).
        """
        kw.setdefault("start_new_session", True)
        kw.setdefault("close_fds", True)
        full_env = self.host_env(host, env)
        prog = os.fspath(argv[0]) if argv else ""
        if prog and shutil.which(prog, path=full_env.get("PATH")) is None:
            # As subprocess would: the wrapper would only exit 127 later.
            raise FileNotFoundError(2, "No such file or directory", prog)
        with self._lock:
            p = subprocess.Popen(self.wrap(host, argv, cpus), env=full_env, **kw)
            p.zfd_host = host  # type: ignore[attr-defined]
            p.zfd_argv = list(argv)  # type: ignore[attr-defined]
            self._procs.append(p)
        return p

    def run(self, host: str, argv: Sequence[str], timeout: float, *,
            env: Mapping[str, str] | None = None, check: bool = False, input: str | bytes | None = None,
            capture_output: bool = True, text: bool = True, **kw) -> subprocess.CompletedProcess:
        """Run argv on host to completion, like subprocess.run (output captured and
        text by default). On timeout the process group is killed and
        subprocess.TimeoutExpired raised; check=True raises CalledProcessError."""
        if input is not None:
            kw["stdin"] = subprocess.PIPE
        if capture_output:
            kw.setdefault("stdout", subprocess.PIPE)
            kw.setdefault("stderr", subprocess.PIPE)
        p = self.popen(host, argv, env=env, text=text, **kw)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p, grace=0)
            out, err = p.communicate()
            raise subprocess.TimeoutExpired(list(argv), timeout, out, err) from None
        finally:
            if p.poll() is None:  # interrupted (KeyboardInterrupt, SystemExit)
                self.stop(p, grace=0)
        cp = subprocess.CompletedProcess(list(argv), p.returncode, out, err)
        if check:
            cp.check_returncode()
        return cp

    def processes(self) -> list[subprocess.Popen]:
        """The processes started so far (running or not)."""
        with self._lock:
            return list(self._procs)

    def stop(self, p: subprocess.Popen, grace: float | None = None) -> int:
        """Stop one process started here: SIGTERM to its process group, SIGKILL after
        grace seconds (default kill_timeout). Returns its exit status."""
        self._stop_all([p], self.kill_timeout if grace is None else grace)
        return p.returncode

    @staticmethod
    def _signal_group(p: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(p.pid, sig)  # start_new_session: pgid == pid
        except (ProcessLookupError, PermissionError):
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass

    def _stop_all(self, procs: Sequence[subprocess.Popen], grace: float) -> None:
        running = [p for p in procs if p.poll() is None]
        for p in running:
            self._signal_group(p, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in running:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:  # the group may hold children even when the leader is gone
            self._signal_group(p, signal.SIGKILL)
        for p in running:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    # -- faults ------------------------------------------------------------------

    def link_down(self, host: str) -> None:
        """Unplug host from the switch (its switch port goes down; the host keeps
        its address, its interface loses carrier, its packets go nowhere)."""
        self._ip("-n", self.switch_netns, "link", "set", self._host(host).port, "down")

    def link_up(self, host: str) -> None:
        """Plug host back in; returns once its interface has carrier again."""
        self._ip("-n", self.switch_netns, "link", "set", self._host(host).port, "up")
        deadline = time.monotonic() + 5
        while not self.link_is_up(host):
            if time.monotonic() > deadline:
                raise HostsError(f"link of host {host} did not come back up")
            time.sleep(0.01)

    # -- teardown ----------------------------------------------------------------

    def close(self) -> None:
        """Stop every process (tracked ones: SIGTERM, SIGKILL after kill_timeout;
        then anything else still inside a host namespace: SIGKILL), delete the
        namespaces (which removes the veth pairs and the bridge), unmount the
        tmpfs mounts and remove the temp dir. Idempotent. Raises HostsError
        listing what could not be removed, after trying everything."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        t0 = time.monotonic()
        in_main = threading.current_thread() is threading.main_thread()
        blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, blocked) if in_main else None
        problems: list[str] = []
        try:
            self._stop_all(self.processes(), self.kill_timeout)
            existing = set(_netns_list())
            made = [n for n in self._made_netns if n in existing]
            if made:
                # Anything still inside (started behind our back, or children that
                # left their process group) goes too: a namespace lives on while a
                # process is in it.
                left = _kill_and_reap_pids(_pids_in_netns(made))
                if left:
                    problems.append(f"processes {left} survived SIGKILL")
                # Deleting a namespace deletes its interfaces; a veth pair goes
                # with either end, the bridge with the switch namespace.
                cp = _run(["ip", "-force", "-batch", "-"], check=False,
                          input="".join(f"netns del {n}\n" for n in made))
                still = sorted(set(made) & set(_netns_list()))
                if still:
                    problems.append(f"ip netns del {still}: {cp.stderr.strip()}")
            self._made_netns = []
            for h in self.hosts.values():
                if h.shm_mounted:
                    err = _umount(h.shm_dir)
                    if err:
                        problems.append(err)
                    else:
                        h.shm_mounted = False
            if self._tmpdir and all(not h.shm_mounted for h in self.hosts.values()):
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                if os.path.exists(self._tmpdir):
                    problems.append(f"could not remove {self._tmpdir}")
        finally:
            with _instances_lock:
                if self in _live:
                    _live.remove(self)
            if old_mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            self.teardown_seconds = time.monotonic() - t0
        if problems:
            raise HostsError("; ".join(problems))

    def __repr__(self) -> str:
        state = "closed" if self.closed else "live"
        return f"<Hosts {self.prefix} {list(self.hosts)} {self.subnet} {state}>"


# ---------------------------------------------------------------------------
# Reading what a process prints
# ---------------------------------------------------------------------------


class OutputLines:
    """Collects the lines a process writes to a pipe, in a thread (so a full pipe
    never stalls the process), each stamped with time.monotonic() when read::

        p = hosts.popen("b", ["zfd", "bridge"], stdout=subprocess.PIPE, text=True)
        out = zfdhosts.OutputLines(p.stdout)
        m = out.wait_for(r"imported (\S+)", timeout=10)   # re.Match or None
    """

    def __init__(self, stream) -> None:
        self._lines: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream) -> None:
        try:
            for line in stream:
                if isinstance(line, bytes):
                    line = line.decode(errors="replace")
                with self._cond:
                    self._lines.append((time.monotonic(), line.rstrip("\n")))
                    self._cond.notify_all()
        except (OSError, ValueError):  # the stream was closed under us
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def snapshot(self) -> list[tuple[float, str]]:
        """(read time, line) of every line so far."""
        with self._cond:
            return list(self._lines)

    def lines(self) -> list[str]:
        return [line for _, line in self.snapshot()]

    def text(self, timeout: float = 5.0) -> str:
        """Everything, once the stream has ended (waits at most timeout)."""
        self.join(timeout)
        return "".join(line + "\n" for line in self.lines())

    def wait_for(self, pattern: str | re.Pattern, timeout: float, start: int = 0) -> re.Match | None:
        """The first match of pattern (re.search) in lines from index start on,
        waiting up to timeout seconds for it; None on timeout or end of output."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self._lines):
                    m = rx.search(self._lines[i][1])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self._cond.wait(left)

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        description="Simulated hosts for zerodds-flatdata's cross-host tests (library module); "
        "this command lists or removes leftovers of killed runs.")
    ap.add_argument("--cleanup", action="store_true",
                    help="remove namespaces, tmpfs mounts and temp dirs of runs whose process is gone")
    ap.add_argument("--all", action="store_true",
                    help="with --cleanup: also those of live runs (only when no run is in progress)")
    ap.add_argument("--list", action="store_true", help="list everything named by a zfdhosts run")
    args = ap.parse_args(argv)
    if not (args.cleanup or args.list):
        ap.print_help()
        return 2
    if os.geteuid() != 0:
        print("zfdhosts: needs root", file=sys.stderr)
        return 1
    if args.cleanup:
        removed = cleanup_stale(verbose=False, include_live=args.all)
        for r in removed:
            print(f"removed {r}")
        print(f"{len(removed)} leftover(s) removed")
    if args.list:
        for kind, items in list_ours().items():
            for it in items:
                print(f"{kind}\t{it}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
