#!/usr/bin/env python3
"""check_readme.py — the README's quick starts compile as written and work.

Each code block in README.md preceded by a line "<!-- quickstart: FILE -->"
is extracted to FILE in a temporary directory. C and C++ files are compiled
against the built library with warnings as errors; then each pair runs as
two real processes (subscriber first, publisher second) and the subscriber
must print every sample the publisher sent, and exit 0:

    hello.c   sub + pub                  (C quick start)
    pose.cpp  sub + pub                  (C++ quick start)
    sub.py    Python subscriber of hello.c's publisher

The segment names of the snippets ("hello", "poses") are replaced by names
unique to this run, so the test can run next to others; /dev/shm must hold
no object of this run afterwards.

In a sanitizer build (SANITIZE is Meson's b_sanitize, e.g. "address,undefined")
the snippets are compiled with the same -fsanitize, and the Python one is
skipped: an uninstrumented interpreter cannot load an ASan library.

usage: check_readme.py README.md INCLUDE_DIR LIB_DIR PYTHON_DIR CC CXX [SANITIZE]
"""
import os
import re
import subprocess
import sys
import tempfile

readme, include_dir, lib_dir, python_dir, cc, cxx = sys.argv[1:7]
sanitize = sys.argv[7] if len(sys.argv) > 7 else "none"
sanitize_flags = [] if sanitize in ("", "none") else ["-fsanitize=" + sanitize]
prefix = "readme-%d" % os.getpid()
names = {"hello": prefix + "-hello", "poses": prefix + "-poses"}

text = open(readme, encoding="utf-8").read()
blocks = dict(re.findall(r"<!-- quickstart: (\S+) -->\s*```\w*\n(.*?)```", text, re.S))
failures = []


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


for want in ("hello.c", "pose.cpp", "sub.py"):
    if want not in blocks:
        fail("README.md has no quick start block marked <!-- quickstart: %s -->" % want)
if failures:
    sys.exit(1)

env = dict(os.environ)
env["LD_LIBRARY_PATH"] = lib_dir + os.pathsep + env.get("LD_LIBRARY_PATH", "")
env["PYTHONPATH"] = python_dir + os.pathsep + env.get("PYTHONPATH", "")
env["PYTHONDONTWRITEBYTECODE"] = "1"

with tempfile.TemporaryDirectory() as tmp:
    for fname, code in blocks.items():
        for plain, unique in names.items():
            code = code.replace('"%s"' % plain, '"%s"' % unique)
        with open(os.path.join(tmp, fname), "w", encoding="utf-8") as f:
            f.write(code)

    def build(src, compiler, std):
        exe = os.path.join(tmp, os.path.splitext(src)[0])
        cmd = [compiler, std] + sanitize_flags + ["-Wall", "-Wextra", "-Werror", "-I" + include_dir,
               os.path.join(tmp, src), "-L" + lib_dir, "-lzerodds_flatdata", "-o", exe]
        r = subprocess.run(cmd, capture_output=True, text=True)
        print("$ " + " ".join(cmd[:1] + [std, "...", src]) + " -> exit %d" % r.returncode)
        if r.returncode != 0:
            fail("%s does not compile:\n%s" % (src, r.stderr))
            return None
        return exe

    hello = build("hello.c", cc, "-std=gnu11")
    pose = build("pose.cpp", cxx, "-std=c++20")

    def run_pair(label, sub_cmd, pub_cmd, expect):
        sub = subprocess.Popen(sub_cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        try:
            pub = subprocess.run(pub_cmd, env=env, capture_output=True, text=True, timeout=60)
            out, err = sub.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            sub.kill()
            fail("%s: timed out" % label)
            return
        print("--- %s: subscriber printed\n%s--- (exit %d; publisher exit %d)"
              % (label, out, sub.returncode, pub.returncode))
        if pub.returncode != 0:
            fail("%s: publisher exited %d: %s" % (label, pub.returncode, pub.stderr))
        if sub.returncode != 0:
            fail("%s: subscriber exited %d: %s" % (label, sub.returncode, err))
        got = out.splitlines()
        if got != expect:
            fail("%s: subscriber printed %r, expected %r" % (label, got, expect))

    hello_lines = ["seq %d: hello #%d (%d bytes)" % (i, i, len("hello #%d" % i) + 1) for i in range(5)]
    if hello:
        run_pair("C quick start", [hello, "sub"], [hello, "pub"], hello_lines)
        if sanitize_flags:
            print("--- Python quick start: skipped in a %s build (python3 is not instrumented)"
                  % sanitize)
        else:
            run_pair("Python quick start", [sys.executable, os.path.join(tmp, "sub.py")],
                     [hello, "pub"], ["seq %d: hello #%d" % (i, i) for i in range(5)])
    if pose:
        run_pair("C++ quick start", [pose, "sub"], [pose, "pub"],
                 ["seq %d: x=%.1f y=%.1f z=%.1f" % (i, i, 2 * i, 3 * i) for i in range(5)])

left = [n for n in os.listdir("/dev/shm") if n.startswith("zfd." + prefix)]
if left:
    fail("left in /dev/shm: %s" % left)
print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
