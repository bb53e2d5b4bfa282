# spin_checks.sh — sourced by the small model-check scripts (run_notify_spin.sh,
# run_eventfd_spin.sh): `spin_checks_begin MODEL` skips (exit 77) without spin
# or a C compiler and moves into a private copy of MODEL; `run LABEL
# clean|error FLAGS...` checks one configuration (clean: 0 errors; error: a
# mutant that must be caught) and sets status=1 on failure.
here=$(cd "$(dirname "$0")" && pwd)
status=0

spin_checks_begin() {  # spin_checks_begin <model.pml>
    model=$1
    command -v spin > /dev/null || { echo "SKIP: spin is not installed"; exit 77; }
    cc=${CC:-gcc}
    command -v "$cc" > /dev/null || { echo "SKIP: no C compiler ($cc)"; exit 77; }
    work=$(mktemp -d "${TMPDIR:-/tmp}/zfd-spin-${model%.pml}.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    cp "$here/$model" "$work/"
    cd "$work"
    echo "== spin $(spin -V | head -n 1 | sed 's/Spin Version //')"
}

run() {  # run <label> <clean|error> <spin -D flags...>
    local label=$1 expect=$2
    shift 2
    rm -f pan pan.* ./*.trail
    spin "$@" -a "$model" > spin.log 2>&1 || { echo "FAIL [$label]: spin -a"; cat spin.log; status=1; return; }
    "$cc" -O2 -w -DSAFETY -DNOCLAIM -o pan pan.c > cc.log 2>&1 || { echo "FAIL [$label]: cc"; cat cc.log; status=1; return; }
    ./pan -m100000 > pan.log 2>&1 || true
    local errors stored
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | tail -n 1)
    stored=$(awk '/states, stored/ {print $1; exit}' pan.log)
    printf '%-40s states stored %-8s errors %s\n' "[$label]" "${stored:-?}" "${errors:-?}"
    if [[ $expect == clean ]]; then
        if [[ ${errors:-x} != 0 ]] || grep -q 'max search depth too small' pan.log; then
            echo "FAIL [$label]"; grep -E 'invalid end state|assertion' pan.log | head -3
            spin "$@" -t -p "$model" 2>&1 | tail -n 40
            status=1
        fi
    elif [[ -z $errors || $errors == 0 ]]; then
        echo "FAIL [$label]: the mutant was not caught"; status=1
    fi
}
