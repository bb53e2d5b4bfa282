#!/usr/bin/env bash
# run_notify_spin.sh — model-check tests/model/notify.pml (the sleep/wake
# handshake of src/notify.hpp) with spin: the handshake as built must be
# clean (no invalid end state: no sleeper left asleep after its event), and
# each mutant must be caught. Exit 0 when so; 1 otherwise; 77 when spin or a
# C compiler is missing.
set -euo pipefail
source "$(dirname "$0")/spin_checks.sh"
spin_checks_begin notify.pml
run "notify: 2 waiters, 2 wakers" clean -DWAITERS=2 -DWAKERS=2
run "notify: 3 waiters, 3 wakers" clean -DWAITERS=3 -DWAKERS=3
for m in NO_RECHECK ARM_BEFORE_READ NO_ARM; do
    run "mutant: $m" error -DMUT_$m -DWAITERS=2 -DWAKERS=2
done
[[ $status -eq 0 ]] && echo "== OK: no lost wake-up; every mutant caught"
exit $status
