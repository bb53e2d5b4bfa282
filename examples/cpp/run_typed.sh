#!/usr/bin/env bash
# Test driver: run zfd-example-typed-pub and zfd-example-typed-sub as two
# processes on a fresh segment name and check that the subscriber got every
# sample, in order, and that no /dev/shm/zfd.NAME* object is left behind.
#
#   run_typed.sh PUB SUB      COUNT: $ZFD_EXAMPLE_COUNT (default 1000)
set -u

[ $# -eq 2 ] || { echo "usage: $0 PUB SUB" >&2; exit 2; }
pub=$1
sub=$2
count=${ZFD_EXAMPLE_COUNT:-1000}
name="example-cpp-$$-${RANDOM}"

out=$(mktemp)
sub_pid=
cleanup() {
    [ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
    rm -f "$out" /dev/shm/zfd."$name" /dev/shm/zfd."$name".*
}
trap cleanup EXIT

echo "segment $name, $count samples"
# The subscriber first: it waits for the segment to appear, and the publisher
# waits for it to attach, so no sample is published before anyone listens.
timeout 120 "$sub" "$name" "$count" >"$out" &
sub_pid=$!
timeout 120 "$pub" "$name" "$count"
pub_rc=$?
wait "$sub_pid"
sub_rc=$?
sub_pid=

fail=0
[ "$pub_rc" -eq 0 ] || { echo "FAIL: publisher exit status $pub_rc"; fail=1; }
[ "$sub_rc" -eq 0 ] || { echo "FAIL: subscriber exit status $sub_rc"; fail=1; }

lines=$(grep -c '^seq ' "$out")
[ "$lines" -eq "$count" ] || { echo "FAIL: $lines sample lines, expected $count"; fail=1; }
grep -qx "received $count samples" "$out" || { echo "FAIL: no 'received $count samples'"; fail=1; }
last=$(grep '^seq ' "$out" | tail -n 1)
want="seq $((count - 1)): x=$((count - 1)).0 y=$((2 * (count - 1))).0 z=$((3 * (count - 1))).0"
case "$last" in
    "$want "*) ;;
    *) echo "FAIL: last sample line '$last', expected it to start with '$want'"; fail=1 ;;
esac
[ "$fail" -eq 0 ] || tail -n 5 "$out"

left=$(ls /dev/shm 2>/dev/null | grep -F "zfd.$name" || true)
[ -z "$left" ] || { echo "FAIL: left in /dev/shm: $left"; fail=1; }

[ "$fail" -eq 0 ] && echo "OK: $count typed samples in order, segment removed"
exit "$fail"
