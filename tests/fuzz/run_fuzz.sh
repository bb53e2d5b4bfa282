#!/usr/bin/env bash
# run_fuzz.sh — drives the fuzz_segment libFuzzer target (meson suite 'fuzz').
#
# Usage: run_fuzz.sh MODE FUZZER SEED_GEN DICT WORKDIR [REGRESSION_DIR]
#   MODE regress  run every generated seed (and REGRESSION_DIR/*, if present) once
#   MODE fuzz     fuzz for ZFD_FUZZ_SECONDS (default 120) with -timeout=5, starting
#                 from WORKDIR/corpus (kept between runs) plus the fresh seeds
# Environment: ZFD_FUZZ_SECONDS, ZFD_FUZZ_MAX_LEN (default 65536),
#              ZFD_FUZZ_JOBS (default 1: parallel fuzzing processes, -fork=N),
#              ASAN_OPTIONS / UBSAN_OPTIONS (defaults below).
# Exit status: 0 only when libFuzzer finished without a crash, leak, timeout,
# OOM or sanitizer report. Crashing inputs are kept in WORKDIR/artifacts/;
# copy one to tests/fuzz/regressions/ to make it a permanent regression input.
set -euo pipefail

if [[ $# -lt 5 ]]; then
    echo "usage: $0 regress|fuzz FUZZER SEED_GEN DICT WORKDIR [REGRESSION_DIR]" >&2
    exit 2
fi
mode=$1 fuzzer=$2 seed_gen=$3 dict=$4 work=$5 regressions=${6:-}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
max_len=${ZFD_FUZZ_MAX_LEN:-65536}

mkdir -p "$work"
seeds=$work/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
"$seed_gen" "$seeds"

log=$work/$mode.log
common=(-timeout=5 -max_len="$max_len" -rss_limit_mb=2048 -print_final_stats=1)

case $mode in
regress)
    inputs=("$seeds")
    if [[ -n $regressions && -d $regressions ]] && compgen -G "$regressions/*" > /dev/null; then
        inputs+=("$regressions")
    fi
    # -runs=0: load (= execute) every input once, then stop.
    status=0
    "$fuzzer" "${common[@]}" -runs=0 "${inputs[@]}" > "$log" 2>&1 || status=$?
    tail -n 20 "$log"
    n=$(find "${inputs[@]}" -type f | wc -l)
    if [[ $status -ne 0 ]]; then
        echo "fuzz-regression: FAILED (exit $status) on $n inputs; see $log"
        exit 1
    fi
    echo "fuzz-regression: $n inputs executed once each, 0 crashes"
    ;;
fuzz)
    seconds=${ZFD_FUZZ_SECONDS:-120}
    jobs=${ZFD_FUZZ_JOBS:-1}
    corpus=$work/corpus
    artifacts=$work/artifacts
    mkdir -p "$corpus" "$artifacts"
    extra=()
    if [[ $jobs -gt 1 ]]; then extra+=(-fork="$jobs" -ignore_crashes=0); fi
    status=0
    start=$(date +%s)
    # The outer timeout is a backstop only: libFuzzer stops itself after
    # -max_total_time and kills a single input after -timeout.
    timeout --signal=KILL $((seconds + 300)) \
        "$fuzzer" "${common[@]}" -max_total_time="$seconds" -dict="$dict" \
        -artifact_prefix="$artifacts/" "${extra[@]}" "$corpus" "$seeds" > "$log" 2>&1 || status=$?
    end=$(date +%s)
    tail -n 25 "$log"
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    if [[ $execs -eq 0 ]]; then  # -fork mode prints no final stats: take the last status line
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
        execs=${execs:-0}
    fi
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    corpus_n=$(find "$corpus" -type f | wc -l)
    crashes=$(find "$artifacts" -type f -newermt "@$start" | wc -l)
    elapsed=$((end - start))
    echo "fuzz: $execs executions in ${elapsed} s ($((execs / (elapsed > 0 ? elapsed : 1))) exec/s)," \
         "coverage ${cov:-?} edges / ${ft:-?} features, corpus $corpus_n inputs," \
         "crashes/timeouts/ooms $crashes, libFuzzer exit status $status"
    if [[ $status -ne 0 || $crashes -ne 0 ]]; then
        echo "fuzz: FAILED; reproduce with: $fuzzer $artifacts/<file>" >&2
        find "$artifacts" -type f -newermt "@$start" >&2
        exit 1
    fi
    ;;
*)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
