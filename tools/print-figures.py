#!/usr/bin/env python3
"""print-figures.py — the figures the test suites measured, from Meson test logs.

The reliability and speed tests print their figures on stdout, which Meson
keeps in meson-logs/testlog.json but does not show for passing tests. This
prints those lines (torture summaries and must-be-zero counters, the spin
model's states and errors, fuzzing executions and crashes, the hostile peer,
TSan stress, the hot-path counts, the benchmark's target table, the
cross-host tests' "figure:" lines), so a CI log
carries them. usage: print-figures.py TESTLOG.json...
"""
import json
import os
import re
import sys

PATTERN = re.compile(
    r"^(SUMMARY|  must-be-zero|\[(safety|liveness|mutant)[^\]]*\]\s+states|== OK|"
    r"hot path:|hostile-peer:|tsan-stress:|fuzz(-regression)?:|probe race:|"
    r"TARGETS|.*\s(NOT MET|met)$|\[ info \] (RESULT|SENT)|.*figure: |"
    r"\[notify:|\[mutant: )")

for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    stage = path.split(os.sep)[-3]
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            out = (entry.get("stdout") or "") + (entry.get("stderr") or "")
            picked = [l for l in out.splitlines() if PATTERN.match(l)]
            if picked:
                print("-- [%s] %s (%s)" % (stage, entry.get("name", "?"), entry.get("result", "?")))
                for l in picked:
                    print("   " + l.rstrip())
