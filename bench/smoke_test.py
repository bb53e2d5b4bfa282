#!/usr/bin/env python3
"""bench-quick: one `zfd-bench --quick` run as a smoke test, and what it left behind.

usage: smoke_test.py ZFD_BENCH [--iceoryx]

--iceoryx: zfd-bench was built with iceoryx's C binding. It then runs with
--require-iceoryx (so it exits non-zero unless the iceoryx row ran and
succeeded) and its table must carry the iceoryx ratio line.

Passes if zfd-bench exits 0 and afterwards
  - no shared-memory object of its segments (/dev/shm/zfd.bench-<pid>-*) is left;
  - no iceoryx runtime file of its children (/tmp/zfd-bench-<pid>-*) is left;
  - no iox-roudi started during the run is still alive on its own (a RouDi
    whose parent is another running zfd-bench belongs to that run);
  - when no iox-roudi runs any more: none of RouDi's files is left
    (/dev/shm/iceoryx_mgmt, /dev/shm/<user>, /tmp/roudi, /tmp/roudi.lock,
    /tmp/iox-unique-roudi.lock).
No timing is asserted. zfd-bench's output is passed through, so the CI log
(tools/print-figures.py) picks up its TARGETS lines.
"""
import os
import pwd
import subprocess
import sys


def processes():
    """pid -> (comm, ppid) of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        out[int(d)] = (comm, ppid)
    return out


def roudi_pids():
    return {pid for pid, (comm, _) in processes().items() if comm == "iox-roudi"}


def entries(directory, prefix):
    try:
        return sorted(n for n in os.listdir(directory) if n.startswith(prefix))
    except OSError:
        return []


def roudi_files():
    files = ["/dev/shm/iceoryx_mgmt", "/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"]
    files.append("/dev/shm/" + pwd.getpwuid(os.geteuid()).pw_name)
    return files


def main():
    if len(sys.argv) < 2 or sys.argv[2:] not in ([], ["--iceoryx"]):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    bench, iceoryx = sys.argv[1], sys.argv[2:] == ["--iceoryx"]
    args = [bench, "--quick", "--no-progress"] + (["--require-iceoryx"] if iceoryx else [])

    roudis_before = roudi_pids()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate()
    sys.stdout.write(out)
    pid = proc.pid

    problems = []
    if proc.returncode != 0:
        problems.append("zfd-bench %s exited %d" % (" ".join(args[1:]), proc.returncode))
    if iceoryx and "iceoryx ratio:" not in out:
        problems.append("built with iceoryx, but the table has no iceoryx ratio line")
    left = entries("/dev/shm", "zfd.bench-%d-" % pid)
    if left:
        problems.append("left in /dev/shm: " + ", ".join(left))
    left = entries("/tmp", "zfd-bench-%d-" % pid)
    if left:
        problems.append("iceoryx runtime files left in /tmp: " + ", ".join(left))
    procs = processes()
    for rp in sorted(roudi_pids() - roudis_before):
        parent = procs.get(procs.get(rp, ("", 0))[1], ("", 0))[0]
        if parent != "zfd-bench":
            problems.append("iox-roudi pid %d (parent: %s) outlived the run" % (rp, parent or "none"))
    if roudi_pids():
        print("bench-quick: an iox-roudi is running (%s); RouDi's files not checked"
              % ", ".join(str(p) for p in sorted(roudi_pids())))
    else:
        left = [f for f in roudi_files() if os.path.exists(f)]
        if left:
            problems.append("RouDi's files left: " + ", ".join(left))

    for p in problems:
        print("bench-quick: FAILED: " + p)
    if not problems:
        print("bench-quick: ok (exit 0%s; nothing left in /dev/shm, /tmp or the process table)"
              % (", iceoryx row measured" if iceoryx else ", iceoryx row not required"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
