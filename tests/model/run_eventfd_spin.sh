#!/usr/bin/env bash
# run_eventfd_spin.sh — model-check tests/model/eventfd.pml (the arming
# protocol of the event-loop descriptors, src/event_fd.cpp) with spin: the
# protocol as built must be clean (no invalid end state: no event loop left
# waiting while a sample is untaken), each mutant must be caught. Exit 0 when
# so; 1 otherwise; 77 when spin or a C compiler is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v spin > /dev/null || { echo "SKIP: spin is not installed"; exit 77; }
cc=${CC:-gcc}
command -v "$cc" > /dev/null || { echo "SKIP: no C compiler ($cc)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/zfd-spin-eventfd.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/eventfd.pml" "$work/"
cd "$work"
status=0

run() {  # run <label> <clean|error> <spin -D flags...>
    local label=$1 expect=$2
    shift 2
    rm -f pan pan.* ./*.trail
    spin "$@" -a eventfd.pml > spin.log 2>&1 || { echo "FAIL [$label]: spin -a"; cat spin.log; status=1; return; }
    "$cc" -O2 -w -DSAFETY -DNOCLAIM -o pan pan.c > cc.log 2>&1 || { echo "FAIL [$label]: cc"; cat cc.log; status=1; return; }
    ./pan -m100000 > pan.log 2>&1 || true
    local errors stored
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | tail -n 1)
    stored=$(awk '/states, stored/ {print $1; exit}' pan.log)
    printf '%-40s states stored %-8s errors %s\n' "[$label]" "${stored:-?}" "${errors:-?}"
    if [[ $expect == clean ]]; then
        if [[ ${errors:-x} != 0 ]] || grep -q 'max search depth too small' pan.log; then
            echo "FAIL [$label]"; grep -E 'invalid end state|assertion' pan.log | head -3
            spin "$@" -t -p eventfd.pml 2>&1 | tail -n 40
            status=1
        fi
    elif [[ -z $errors || $errors == 0 ]]; then
        echo "FAIL [$label]: the mutant was not caught"; status=1
    fi
}

echo "== spin $(spin -V | head -n 1 | sed 's/Spin Version //')"
run "safety 1 waker x 3" clean -DWAKERS=1 -DPER_WAKER=3
run "safety 2 wakers x 2" clean -DWAKERS=2 -DPER_WAKER=2
run "safety 3 wakers x 2" clean -DWAKERS=3 -DPER_WAKER=2
run "mutant MUT_NO_RECHECK" error -DMUT_NO_RECHECK
run "mutant MUT_DRAIN_AFTER_ARM" error -DMUT_DRAIN_AFTER_ARM
run "mutant MUT_NEVER_REARM" error -DMUT_NEVER_REARM
run "mutant MUT_FIRE_WITHOUT_CLEAR" error -DMUT_FIRE_WITHOUT_CLEAR
[[ $status -eq 0 ]] && echo "== OK: no lost wake-up; every mutant caught"
exit $status
