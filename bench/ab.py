#!/usr/bin/env python3
"""ab.py — two builds of libzerodds_flatdata, measured interleaved in one time window.

zfd-bench uses only the v0.1 C ABI, so one zfd-bench binary runs against either
build through LD_LIBRARY_PATH. ab.py runs the selected rows alternately against
A and B (A, B, A, B, ... for --rounds rounds; each run is one `zfd-bench --json
--only ROWS`, which measures the rows' floors in the same run) and prints one
table: per row, the median over rounds of A's and B's figure (p50 and p99 for
latency, samples/s for throughput), of its ratio to the floor of its own run,
and B/A.

usage:
  bench/ab.py (--a DIR | --a-rev REV) (--b DIR | --b-rev REV) [--rounds N]
              [--rows ID,...] [--quick] [--bench PATH] [--json FILE] [--keep]
              [-- ZFD-BENCH-ARGS...]

  DIR  a directory holding libzerodds_flatdata.so.0 (e.g. build/capi)
  REV  a git revision of this repository: checked out with `git worktree add
       --detach` into a temporary directory, only the library built there
       (meson, the repository's own configure rules), the .so copied out, the
       worktree and build directory removed again. The same REV for A and B is
       built once (a self-comparison: how noisy this machine is).

Examples:
  bench/ab.py --a-rev main --b-rev main --rounds 6              # noise check
  bench/ab.py --a-rev main --b build-new/capi --rows spin64,tput64 --quick

Every run is checked to have loaded the library it was given (zfd-bench's JSON
names the file the loader opened). Rows: `zfd-bench --list-rows`. Exit status
1 if a row was measured on both sides in no round.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SONAME = "libzerodds_flatdata.so.0"
DEFAULT_ROWS = "spin64,block64,tput64,tput1k"


def log(msg):
    print("ab: " + msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------
# A library from a git revision
# ---------------------------------------------------------------------------

def meson_options(src):
    """Option names the revision's meson_options.txt declares."""
    names = set()
    try:
        with open(os.path.join(src, "meson_options.txt"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("option(") and "'" in line:
                    names.add(line.split("'")[1])
    except OSError:
        pass
    return names


def build_revision(rev, tmp, tag):
    """Build the library of `rev`; returns (directory holding SONAME, commit)."""
    sha = subprocess.run(["git", "-C", REPO, "rev-parse", "--verify", rev + "^{commit}"], check=True,
                         capture_output=True, text=True).stdout.strip()
    src, build, lib = (os.path.join(tmp, d + "-" + tag) for d in ("src", "build", "lib"))
    run(["git", "-C", REPO, "worktree", "add", "--detach", src, sha], stdout=subprocess.DEVNULL)
    try:
        setup = ["meson", "setup", build, src, "--wrap-mode=nodownload", "-Dwerror=true"]
        # only the library is needed: leave out what the revision lets us
        for opt, val in (("tests", "disabled"), ("iceoryx", "disabled"), ("abi_check", "disabled"),
                         ("fault_points", "disabled"), ("dds", "disabled")):
            if opt in meson_options(src):
                setup.append("-D%s=%s" % (opt, val))
        run(setup, stdout=subprocess.DEVNULL)
        targets = json.loads(subprocess.run(["meson", "introspect", build, "--targets"], check=True,
                                            capture_output=True, text=True).stdout)
        files = [f for t in targets if t["type"] == "shared library" for f in t["filename"]
                 if os.path.basename(f).startswith("libzerodds_flatdata.so")]
        if len(files) != 1:
            raise SystemExit("ab: %s: expected one libzerodds_flatdata.so target, found %s" % (rev, files))
        run(["ninja", "-C", build, os.path.relpath(files[0], build)], stdout=subprocess.DEVNULL)
        os.makedirs(lib)
        shutil.copy2(files[0], os.path.join(lib, SONAME))
    finally:
        subprocess.run(["git", "-C", REPO, "worktree", "remove", "--force", src], check=False)
        shutil.rmtree(build, ignore_errors=True)
    return lib, sha


# ---------------------------------------------------------------------------
# One zfd-bench run against one library
# ---------------------------------------------------------------------------

def bench_once(bench, libdir, rows, extra):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    cmd = [bench, "--json", "--no-progress", "--only", rows] + extra
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    try:
        data = json.loads(p.stdout)
    except ValueError:
        raise SystemExit("ab: %s printed no JSON (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    loaded = data.get("library_path", "")
    if not loaded or not os.path.samefile(os.path.dirname(loaded), libdir):
        raise SystemExit("ab: asked for the library in %s, zfd-bench loaded %r" % (libdir, loaded))
    return data


def figures(data):
    """id -> {figure: value} of one run; a failed row has no entry."""
    out = {}
    for r in data.get("latency", []):
        if not r.get("ok"):
            continue
        f = {"p50": r["p50_ns"], "p99": r["p99_ns"]}
        x = r.get("ratio_to_floor")
        if x:
            f["x p50"], f["x p99"] = x["p50"], x["p99"]
        out[r["id"]] = f
    for r in data.get("throughput_floor", {}).get("rows", []):
        if r.get("ok"):
            out[r["id"]] = {"samples/s": r["samples_per_s"]}
    for r in data.get("throughput", []):
        if r.get("ok"):
            f = {"samples/s": r["samples_per_s"]}
            if r.get("ratio_to_ring_floor") is not None:
                f["x samples/s"] = r["ratio_to_ring_floor"]
            out[r["id"]] = f
    for r in data.get("fanout", {}).get("rows", []):
        if r.get("ok"):
            out[r["id"]] = {"p50": r["p50_ns"], "p99": r["p99_ns"]}
    return out


def row_order(data):
    """Row ids in zfd-bench's table order (each throughput row after the ring floor of its size)."""
    ids = [r["id"] for r in data.get("latency", [])]
    tput = data.get("throughput", [])
    for ring in data.get("throughput_floor", {}).get("rows", []):
        ids.append(ring["id"])
        ids += [r["id"] for r in tput if r["payload"] == ring["payload"]]
    ids += [r["id"] for r in tput if r["id"] not in ids]
    ids += [r["id"] for r in data.get("fanout", {}).get("rows", [])]
    return ids


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def med(values):
    return statistics.median(values) if values else None


def fmt_value(v, figure):
    if v is None:
        return "-"
    if figure == "samples/s":
        return "%.2f M" % (v / 1e6)
    return "%.1f" % v if v < 1000 else "%.0f" % v


def fmt_ratio(v):
    return "-" if v is None else "%.2f" % v


def table(rounds_a, rounds_b, order, missing):
    """Lines of the result table. rounds_x: list (per round) of figures() dicts.
    Rows no round measured on both sides are added to `missing`."""
    head = "%-14s %-10s %10s %7s %10s %7s %7s %13s %3s" % (
        "row", "figure", "A median", "A x", "B median", "B x", "B/A", "B/A min..max", "n")
    lines = [head, "-" * len(head)]
    for rid in order:
        figs = ["samples/s"] if rid.startswith(("ring", "tput")) else ["p50", "p99"]
        for fig in figs:
            xfig = "x " + fig
            a_val = [r[rid][fig] for r in rounds_a if rid in r]
            b_val = [r[rid][fig] for r in rounds_b if rid in r]
            a_x = [r[rid][xfig] for r in rounds_a if rid in r and xfig in r[rid]]
            b_x = [r[rid][xfig] for r in rounds_b if rid in r and xfig in r[rid]]
            # B/A paired by round: of the floor ratios (rows without a floor: of the raw figure)
            key = xfig if a_x or b_x else fig
            pairs = [b[rid][key] / a[rid][key] for a, b in zip(rounds_a, rounds_b)
                     if rid in a and rid in b and key in a[rid] and key in b[rid] and a[rid][key] > 0]
            spread = "%.2f..%.2f" % (min(pairs), max(pairs)) if pairs else "-"
            if not pairs and rid not in missing:
                missing.append(rid)
            lines.append("%-14s %-10s %10s %7s %10s %7s %7s %13s %3d" % (
                rid, fig, fmt_value(med(a_val), fig), fmt_ratio(med(a_x)), fmt_value(med(b_val), fig),
                fmt_ratio(med(b_x)), fmt_ratio(med(pairs)), spread, len(pairs)))
    lines += [
        "",
        "A x, B x: median over rounds of the row's ratio to the floor measured in the same zfd-bench run",
        "  (latency: the same percentile of its block's floor; throughput: samples/s / the SPSC ring floor's).",
        "B/A: median over rounds of B's ratio / A's ratio of the same round (floors, fan-out: of the raw figure);",
        "  latency below 1 = B faster, throughput above 1 = B faster. min..max: spread of the per-round B/A;",
        "  n: rounds in which both sides measured the row. On A vs A, B/A and its spread show the noise.",
    ]
    return lines


# ---------------------------------------------------------------------------

def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    a = ap.add_mutually_exclusive_group(required=True)
    a.add_argument("--a", metavar="DIR", help="directory holding A's " + SONAME)
    a.add_argument("--a-rev", metavar="REV", help="git revision to build A from")
    b = ap.add_mutually_exclusive_group(required=True)
    b.add_argument("--b", metavar="DIR", help="directory holding B's " + SONAME)
    b.add_argument("--b-rev", metavar="REV", help="git revision to build B from")
    ap.add_argument("--rounds", type=int, default=6, help="A,B pairs (default 6)")
    ap.add_argument("--rows", default=DEFAULT_ROWS, help="zfd-bench row ids (default %s)" % DEFAULT_ROWS)
    ap.add_argument("--quick", action="store_true", help="pass --quick to zfd-bench (shorter, noisier runs)")
    ap.add_argument("--bench", default=os.path.join(REPO, "build", "bench", "zfd-bench"),
                    help="the zfd-bench binary (default: build/bench/zfd-bench)")
    ap.add_argument("--json", metavar="FILE", help="also write every run's zfd-bench JSON there")
    ap.add_argument("--keep", action="store_true", help="keep the libraries built from revisions")
    opt = ap.parse_args(argv)
    if opt.rounds < 1:
        ap.error("--rounds must be at least 1")
    if not os.access(opt.bench, os.X_OK):
        ap.error("%s not found; build it: meson compile -C build bench/zfd-bench" % opt.bench)
    if opt.quick:
        extra = ["--quick"] + extra

    tmp = tempfile.mkdtemp(prefix="zfd-ab-")
    try:
        sides = {}
        for tag, d, rev in (("a", opt.a, opt.a_rev), ("b", opt.b, opt.b_rev)):
            if d:
                if not os.path.exists(os.path.join(d, SONAME)):
                    raise SystemExit("ab: %s has no %s" % (d, SONAME))
                sides[tag] = (os.path.abspath(d), d)
            elif tag == "b" and rev == opt.a_rev:
                sides[tag] = sides["a"]
            else:
                lib, sha = build_revision(rev, tmp, tag)
                sides[tag] = (lib, "%s (%s)" % (rev, sha[:12]))
        runs, per_side = [], {"a": [], "b": []}
        t0 = time.time()
        for rnd in range(opt.rounds):
            for tag in ("a", "b"):
                log("round %d/%d %s (%s), %.0f s so far" % (rnd + 1, opt.rounds, tag.upper(), sides[tag][1],
                                                           time.time() - t0))
                data = bench_once(opt.bench, sides[tag][0], opt.rows, extra)
                for f in data.get("failures", []):
                    log("round %d %s: row failed: %s" % (rnd + 1, tag.upper(), f))
                per_side[tag].append(figures(data))
                runs.append({"round": rnd + 1, "side": tag.upper(), "zfd_bench": data})
        if opt.json:
            with open(opt.json, "w", encoding="utf-8") as f:
                json.dump({"a": sides["a"][1], "b": sides["b"][1], "rows": opt.rows, "zfd_bench_args": extra,
                           "runs": runs}, f, indent=1)
        first = runs[0]["zfd_bench"]
        print("A/B: %d rounds (A,B alternately), %.0f s; zfd-bench %s --only %s%s" % (
            opt.rounds, time.time() - t0, opt.bench, opt.rows, (" " + " ".join(extra)) if extra else ""))
        print("A: %s\nB: %s" % (sides["a"][1], sides["b"][1]))
        print("machine: %s, %s cpus usable, %s\n" % (first.get("cpu_model"), first.get("cpus_available"),
                                                     "pinned" if first.get("pinned") else "UNPINNED"))
        missing = []
        print("\n".join(table(per_side["a"], per_side["b"], row_order(first), missing)))
        requested = [r for r in opt.rows.split(",") if r]
        missing += [r for r in requested if r not in row_order(first) and r not in missing]
        if missing:
            print("ab: not measured on both sides in any round: " + ", ".join(missing))
            return 1
    finally:
        if opt.keep:
            log("kept: " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
