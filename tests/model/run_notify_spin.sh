#!/usr/bin/env bash
# run_notify_spin.sh — model-check tests/model/notify.pml (the sleep/wake
# handshake of src/notify.hpp) with spin: the handshake as built must be
# clean (no invalid end state: no sleeper left asleep after its event), and
# each mutant must be caught. Exit 0 when so; 1 otherwise; 77 when spin or a
# C compiler is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v spin > /dev/null || { echo "SKIP: spin is not installed"; exit 77; }
cc=${CC:-gcc}
command -v "$cc" > /dev/null || { echo "SKIP: no C compiler ($cc)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/zfd-spin-notify.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/notify.pml" "$work/"
cd "$work"
status=0

run() {  # run <label> <clean|error> <spin -D flags...>
    local label=$1 expect=$2
    shift 2
    rm -f pan pan.* ./*.trail
    spin "$@" -a notify.pml > spin.log 2>&1 || { echo "FAIL [$label]: spin -a"; cat spin.log; status=1; return; }
    "$cc" -O2 -w -DSAFETY -DNOCLAIM -o pan pan.c > cc.log 2>&1 || { echo "FAIL [$label]: cc"; cat cc.log; status=1; return; }
    ./pan -m100000 > pan.log 2>&1 || true
    local errors stored
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | tail -n 1)
    stored=$(awk '/states, stored/ {print $1; exit}' pan.log)
    printf '%-40s states stored %-8s errors %s\n' "[$label]" "${stored:-?}" "${errors:-?}"
    if [[ $expect == clean ]]; then
        if [[ ${errors:-x} != 0 ]] || grep -q 'max search depth too small' pan.log; then
            echo "FAIL [$label]"; grep -E 'invalid end state|assertion' pan.log | head -3
            spin "$@" -t -p notify.pml 2>&1 | tail -n 40
            status=1
        fi
    elif [[ -z $errors || $errors == 0 ]]; then
        echo "FAIL [$label]: the mutant was not caught"; status=1
    fi
}

echo "== spin $(spin -V | head -n 1 | sed 's/Spin Version //')"
run "notify: 2 waiters, 2 wakers" clean -DWAITERS=2 -DWAKERS=2
run "notify: 3 waiters, 3 wakers" clean -DWAITERS=3 -DWAKERS=3
for m in NO_RECHECK ARM_BEFORE_READ NO_ARM; do
    run "mutant: $m" error -DMUT_$m -DWAITERS=2 -DWAKERS=2
done
[[ $status -eq 0 ]] && echo "== OK: no lost wake-up; every mutant caught"
exit $status
