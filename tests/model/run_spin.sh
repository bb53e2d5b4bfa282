#!/usr/bin/env bash
# run_spin.sh — model-check tests/model/sample_protocol.pml with spin.
#
# Runs, each as an exhaustive search of a bounded configuration (properties
# P1-P5 and invalid end states; see the model's header). What each proves:
#   2 threads, default, writer crash   the writer gate: two writer threads, one
#       call each, 3 slots, with and without the process dying at any step;
#       exactly once in order (P2), no held sample reused (P1), no leak (P4)
#   2 threads, overwrite               the overwrite probe from either thread
#   2 threads, history 1 (both policies)  a late joiner with ZFD_READER_HISTORY
#       while two threads commit: the retained sample, then every live one (P3)
#   3 calls, reader crash              one thread, 3 calls on 2 slots (log wraps,
#       slots reused while a reader holds one): reader 0 dying at any step, the
#       writer reaping it; the no-crash interleavings as well
#   3 calls, reader re-attaches        a reader that closes and attaches again
#       is never given a sample twice
#   3 calls, overwrite                 OVERWRITE_OLDEST reuse against holds (P1)
#   3 calls, history 1 (both policies) late joiner across slot reuse (P3)
#   3 calls, eviction                  evict_stale racing takes and releases
#       (a release of an evicted sample says EVICTED)
#   2 calls, reader and writer crash   both may die at any step
#   mutants   known-bad orderings (-DMUT_*) that must make spin report an error,
#             so a model that cannot fail does not pass
# Bounds: 2 or 3 slots, 2 readers, at most 3 writer calls (2 with two
# threads). About 50 million states in all; ~150 s on a 2-core machine.
# Prints states stored/matched and errors per run. Exit 0 when every run is
# complete and clean and every mutant fails; 1 otherwise; 77 (skip) when spin
# or a C compiler is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
model=$here/sample_protocol.pml

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
    if ! spin "${spin_flags[@]}" -a sample_protocol.pml > spin.log 2>&1; then
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

    printf '%-46s states stored %-10s matched %-10s errors %-3s %3ss\n' \
        "[$label]" "${stored:-?}" "${matched:-?}" "${errors:-?}" "$secs"

    if [[ $expect == clean ]]; then
        if [[ -z $errors ]]; then
            echo "FAIL [$label]: no result from pan"; cat pan.log; status=1
        elif [[ $errors != 0 ]]; then
            echo "FAIL [$label]: $errors error(s)"
            grep -E 'pan:[0-9]+:|assertion violated|acceptance cycle|invalid end state' pan.log | head -5
            echo "--- counterexample (spin -t -p) ---"
            spin "${spin_flags[@]}" -t -p sample_protocol.pml 2>&1 | tail -n 60
            status=1
        elif [[ -n $incomplete ]]; then
            echo "FAIL [$label]: incomplete search: $incomplete"; status=1
        fi
    else
        if [[ -z $errors || $errors == 0 ]]; then
            echo "FAIL [$label]: the mutant was not caught (the model cannot fail here)"; status=1
        else
            printf '%-46s caught: %s\n' "" \
                "$(grep -oE 'assertion violated.*\(at depth|acceptance cycle|invalid end state' pan.log | head -1 | sed 's/ (at depth//')"
        fi
    fi
}

safety_cc=(-DSAFETY -DNOCLAIM)
mutant_cc=(-DSAFETY -DNOCLAIM -O1)   # a mutant stops at its first error: compile faster
pan=(-m200000 -w24)

# Every crash is a nondeterministic choice beside carrying on, so a run with
# crashes also covers every interleaving of the same run without them: the
# crash runs below are the no-crash runs of their configuration as well.
echo "== spin $(spin -V | head -n 1 | sed 's/Spin Version //')"
echo "== safety (assertions P1-P5, invalid end states)"
run "safety: 2 threads, default, writer crash" clean -DWT=2 -DBUDGET=1 -DNS=3 -DCRASH_WRITER=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 2 threads, overwrite" clean -DWT=2 -DBUDGET=1 -DNS=3 -DOVERWRITE=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 2 threads, history 1" clean -DWT=2 -DBUDGET=1 -DNS=3 -DHISTORY=1 -DHIST_READER=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 2 threads, history 1, overwrite" clean -DWT=2 -DBUDGET=1 -DNS=3 -DHISTORY=1 -DHIST_READER=1 -DOVERWRITE=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 3 calls, reader crash" clean -DWT=1 -DBUDGET=3 -DNS=2 -DCRASH_READER=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 3 calls, reader re-attaches" clean -DWT=1 -DBUDGET=3 -DNS=2 -DREATTACH=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 3 calls, overwrite" clean -DWT=1 -DBUDGET=3 -DNS=2 -DOVERWRITE=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 3 calls, history 1" clean -DWT=1 -DBUDGET=3 -DNS=2 -DHISTORY=1 -DHIST_READER=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 3 calls, history 1, overwrite" clean -DWT=1 -DBUDGET=3 -DNS=2 -DHISTORY=1 -DHIST_READER=1 -DOVERWRITE=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 3 calls, eviction" clean -DWT=1 -DBUDGET=3 -DNS=2 -DEVICT=1 -- "${safety_cc[@]}" -- "${pan[@]}"
run "safety: 2 calls, reader and writer crash" clean -DWT=1 -DBUDGET=2 -DNS=2 -DCRASH_READER=1 -DCRASH_WRITER=1 -- "${safety_cc[@]}" -- "${pan[@]}"

echo "== mutants (each must be caught)"
run "mutant: CURSOR_BEFORE_BIT" error -DMUT_CURSOR_BEFORE_BIT -DWT=1 -DBUDGET=3 -DNS=2 -- "${mutant_cc[@]}" -- "${pan[@]}"
run "mutant: CHECK_BEFORE_BIT" error -DMUT_CHECK_BEFORE_BIT -DOVERWRITE=1 -DWT=1 -DBUDGET=3 -DNS=2 -- "${mutant_cc[@]}" -- "${pan[@]}"
run "mutant: ATTACH_ONE_LOAD" error -DMUT_ATTACH_ONE_LOAD -DWT=1 -DBUDGET=3 -DNS=2 -- "${mutant_cc[@]}" -- "${pan[@]}"
run "mutant: NEXTPOS_AFTER_TAG" error -DMUT_NEXTPOS_AFTER_TAG -DREATTACH=1 -DWT=1 -DBUDGET=3 -DNS=2 -- "${mutant_cc[@]}" -- "${pan[@]}"
run "mutant: CACHE_NO_HISTORY" error -DMUT_CACHE_NO_HISTORY -DHISTORY=1 -DHIST_READER=1 -DWT=1 -DBUDGET=3 -DNS=2 -- "${mutant_cc[@]}" -- "${pan[@]}"
run "mutant: GATE_NO_RECHECK" error -DMUT_GATE_NO_RECHECK -DWT=2 -DBUDGET=1 -DNS=3 -- "${mutant_cc[@]}" -- "${pan[@]}"

if [[ $status -eq 0 ]]; then
    echo "== OK: every search complete, no errors, every mutant caught"
fi
exit $status
