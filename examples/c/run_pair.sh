#!/usr/bin/env bash
# Test driver: run a publisher and a subscriber as two processes on a fresh
# segment name, then check the subscriber's output and both exit statuses.
#
#   run_pair.sh PUB_CMD... -- SUB_CMD...     (each command gets NAME COUNT appended)
#
# The subscriber must print, for i = 0..COUNT-1 in order,
#   seq S: index i value <i*0.5 as %.1f> text "sample i"
# with S consecutive, then "received COUNT of COUNT". Afterwards no
# /dev/shm/zfd.NAME* object may remain. COUNT: $ZFD_EXAMPLE_COUNT (default 500).
set -u

count=${ZFD_EXAMPLE_COUNT:-500}
name="example-$$-${RANDOM}"
pub=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do pub+=("$1"); shift; done
[ $# -gt 1 ] || { echo "usage: $0 PUB_CMD... -- SUB_CMD..." >&2; exit 2; }
shift
sub=("$@")

out=$(mktemp)
pub_pid=
cleanup() {
    [ -n "$pub_pid" ] && kill "$pub_pid" 2>/dev/null
    rm -f "$out" /dev/shm/zfd."$name" /dev/shm/zfd."$name".*
}
trap cleanup EXIT

echo "segment $name, $count samples"
echo "publisher:  ${pub[*]}"
echo "subscriber: ${sub[*]}"
"${pub[@]}" "$name" "$count" &
pub_pid=$!
timeout 120 "${sub[@]}" "$name" "$count" >"$out"
sub_rc=$?
wait "$pub_pid"
pub_rc=$?
pub_pid=

fail=0
[ "$sub_rc" -eq 0 ] || { echo "FAIL: subscriber exit status $sub_rc"; fail=1; }
[ "$pub_rc" -eq 0 ] || { echo "FAIL: publisher exit status $pub_rc"; fail=1; }

if ! awk -v n="$count" '
    BEGIN { i = 0 }
    /^seq / {
        seq = $2 + 0
        want = "seq " seq ": index " i " value " sprintf("%.1f", i * 0.5) " text \"sample " i "\""
        if ($0 != want) { printf "line %d: got  %s\n         want %s\n", NR, $0, want; bad = 1; exit 1 }
        if (i > 0 && seq != prev + 1) { printf "line %d: sequence %d after %d\n", NR, seq, prev; bad = 1; exit 1 }
        prev = seq; i++; next
    }
    /^received / { done = ($0 == "received " n " of " n); next }
    END {
        if (bad) exit 1
        if (i != n) { printf "%d samples, expected %d\n", i, n; exit 1 }
        if (!done) { print "no \"received " n " of " n "\" line"; exit 1 }
    }' "$out"; then
    echo "FAIL: subscriber output wrong (last lines below)"
    tail -n 5 "$out"
    fail=1
fi

left=$(ls /dev/shm 2>/dev/null | grep -F "zfd.$name" || true)
[ -z "$left" ] || { echo "FAIL: left in /dev/shm: $left"; fail=1; }

[ "$fail" -eq 0 ] && echo "OK: $count samples in order"
exit "$fail"
