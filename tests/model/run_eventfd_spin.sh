#!/usr/bin/env bash
# run_eventfd_spin.sh — model-check tests/model/eventfd.pml (the arming
# protocol of the event-loop descriptors, src/event_fd.cpp) with spin: the
# protocol as built must be clean (no invalid end state: no event loop left
# waiting while a sample is untaken), each mutant must be caught. Exit 0 when
# so; 1 otherwise; 77 when spin or a C compiler is missing.
set -euo pipefail
source "$(dirname "$0")/spin_checks.sh"
spin_checks_begin eventfd.pml
run "safety 1 waker x 3" clean -DWAKERS=1 -DPER_WAKER=3
run "safety 2 wakers x 2" clean -DWAKERS=2 -DPER_WAKER=2
run "safety 3 wakers x 2" clean -DWAKERS=3 -DPER_WAKER=2
run "mutant MUT_NO_RECHECK" error -DMUT_NO_RECHECK
run "mutant MUT_DRAIN_AFTER_ARM" error -DMUT_DRAIN_AFTER_ARM
run "mutant MUT_NEVER_REARM" error -DMUT_NEVER_REARM
run "mutant MUT_FIRE_WITHOUT_CLEAR" error -DMUT_FIRE_WITHOUT_CLEAR
[[ $status -eq 0 ]] && echo "== OK: no lost wake-up; every mutant caught"
exit $status
