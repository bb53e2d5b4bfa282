#!/usr/bin/env bash
# run_spin.sh — model-check tests/model/slot_protocol.pml with spin.
#
# Runs, each as an exhaustive search of a bounded configuration:
#   safety    no crashes, 3 writer calls (eviction + reuse while held, detach)
#   safety    reader 0 and the writer may crash anywhere, 2 writer calls
#   liveness  LTL eventually_free under weak fairness (reader crash; writer
#             crash), 2 writer calls
#   mutants   known-bad orderings (-DMUT_*) that must make spin report an error,
#             so a model that cannot fail does not pass
# Prints states stored/matched and errors per run. Exit 0 when every run is
# complete and clean and every mutant fails; 1 otherwise; 77 (skip) when spin
# or a C compiler is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
model=$here/slot_protocol.pml

command -v spin > /dev/null || { echo "SKIP: spin is not installed (apt-get install spin)"; exit 77; }
cc=${CC:-gcc}
command -v "$cc" > /dev/null || { echo "SKIP: no C compiler ($cc) to build the spin verifier"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/zfd-spin.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$model" "$work/"
cd "$work"

memlim=${ZFD_SPIN_MEMLIM_MB:-3072}   # MB; a search that needs more is reported incomplete
status=0

# run <label> <expect: clean|error> <spin -D flags> -- <cc flags> -- <pan flags>
run() {
    local label=$1 expect=$2
    shift 2
    local spin_flags=() cc_flags=() pan_flags=()
    while [[ $1 != -- ]]; do spin_flags+=("$1"); shift; done
    shift
    while [[ $1 != -- ]]; do cc_flags+=("$1"); shift; done
    shift
    pan_flags=("$@")

    rm -f pan pan.* ./*.trail
    if ! spin "${spin_flags[@]}" -a slot_protocol.pml > spin.log 2>&1; then
        echo "FAIL [$label]: spin -a failed"; cat spin.log; status=1; return
    fi
    if ! "$cc" -O2 -w "${cc_flags[@]}" -DMEMLIM="$memlim" -DCOLLAPSE -o pan pan.c > cc.log 2>&1; then
        echo "FAIL [$label]: compiling pan.c failed"; cat cc.log; status=1; return
    fi
    local t0=$SECONDS
    ./pan "${pan_flags[@]}" > pan.log 2>&1 || true
    local secs=$((SECONDS - t0))

    local errors stored matched incomplete=""
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | tail -n 1)
    stored=$(awk '/states, stored/ {print $1; exit}' pan.log)
    matched=$(awk '/states, matched/ {print $1; exit}' pan.log)
    grep -q 'max search depth too small' pan.log && incomplete="depth limit reached (raise -m)"
    grep -q 'Search not completed' pan.log && [[ -z $incomplete ]] && incomplete="search not completed"
    grep -q 'reached -DMEMLIM bound' pan.log && incomplete="memory limit ($memlim MB) reached"

    printf '%-34s states stored %-10s matched %-10s errors %-3s %3ss\n' \
        "[$label]" "${stored:-?}" "${matched:-?}" "${errors:-?}" "$secs"

    if [[ $expect == clean ]]; then
        if [[ -z $errors ]]; then
            echo "FAIL [$label]: no result from pan"; cat pan.log; status=1
        elif [[ $errors != 0 ]]; then
            echo "FAIL [$label]: $errors error(s)"
            grep -E 'pan:[0-9]+:|assertion violated|acceptance cycle|invalid end state' pan.log | head -5
            echo "--- counterexample (spin -t -p) ---"
            spin "${spin_flags[@]}" -t -p slot_protocol.pml 2>&1 | tail -n 60
            status=1
        elif [[ -n $incomplete ]]; then
            echo "FAIL [$label]: incomplete search: $incomplete"; status=1
        fi
    else
        if [[ -z $errors || $errors == 0 ]]; then
            echo "FAIL [$label]: the mutant was not caught (the model cannot fail here)"; status=1
        else
            printf '%-34s caught: %s\n' "" \
                "$(grep -oE 'assertion violated.*\(at depth|acceptance cycle|invalid end state' pan.log | head -1 | sed 's/ (at depth//')"
        fi
    fi
}

safety_cc=(-DSAFETY -DNOCLAIM)
live_cc=(-DNFAIR=3)

echo "== spin $(spin -V | head -n 1 | sed 's/Spin Version //')"
echo "== safety (assertions P1-P4, invalid end states)"
run "safety: no crash, 3 calls" clean \
    -DCRASH_READER=0 -DCRASH_WRITER=0 -DWBUDGET=3 -DMAXR=2 -- "${safety_cc[@]}" -- -m20000 -w24
run "safety: crashes, 2 calls" clean \
    -DCRASH_READER=1 -DCRASH_WRITER=1 -DWBUDGET=2 -DMAXR=2 -- "${safety_cc[@]}" -- -m20000 -w24

echo "== liveness (ltl eventually_free, weak fairness)"
# Separately: with the writer unable to die, a writer waiting for its readers
# must really be released by them (a writer crash would otherwise end the wait).
run "liveness: reader crash, 2 calls" clean \
    -DCRASH_READER=1 -DCRASH_WRITER=0 -DWBUDGET=2 -DMAXR=1 -- "${live_cc[@]}" -- -a -f -m40000 -w24
run "liveness: writer crash, 2 calls" clean \
    -DCRASH_READER=0 -DCRASH_WRITER=1 -DWBUDGET=2 -DMAXR=1 -- "${live_cc[@]}" -- -a -f -m40000 -w24

echo "== mutants (each must be caught)"
for m in RELEASE_NO_STATE_CHECK COMMITTED_BEFORE_FILL SEQ_BEFORE_MASK; do
    run "mutant: $m" error \
        -DMUT_$m -DCRASH_READER=0 -DCRASH_WRITER=0 -DWBUDGET=3 -DMAXR=2 -- "${safety_cc[@]}" -- -m20000 -w24
done

if [[ $status -eq 0 ]]; then
    echo "== OK: every search complete, no errors, every mutant caught"
fi
exit $status
