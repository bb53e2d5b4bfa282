#!/usr/bin/env bash
# Test driver for zfd-example-loop: three zfd-example-pub processes, one loop
# serving their segments, its timer and stdin (two lines, 0.3 s apart, then
# EOF). Checks each segment's count, the echoed lines, at least one timer
# tick, and that no /dev/shm/zfd.NAME object remains.
#   run_loop.sh PUB LOOP
set -u
pub=$1
loop=$2
count=${ZFD_EXAMPLE_COUNT:-2000}
names=()
for k in 0 1 2; do names+=("example-loop-$$-$k"); done
out=$(mktemp)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -f "$out"
    for n in "${names[@]}"; do rm -f /dev/shm/zfd."$n"; done
}
trap cleanup EXIT

for n in "${names[@]}"; do
    "$pub" "$n" "$count" &
    pids+=($!)
done
{ echo hello; sleep 0.3; echo world; } | timeout 120 "$loop" "$count" "${names[@]}" >"$out"
loop_rc=$?
fail=0
for p in "${pids[@]}"; do wait "$p" || { echo "a publisher failed"; fail=1; }; done
pids=()
cat "$out"
[ $loop_rc -eq 0 ] || { echo "loop exited $loop_rc"; fail=1; }
for n in "${names[@]}"; do
    grep -q "^$n: .*received $count of $count, 0 out of order" "$out" || { echo "missing result for $n"; fail=1; }
    [ -e /dev/shm/zfd."$n" ] && { echo "left behind: /dev/shm/zfd.$n"; fail=1; }
done
grep -qx "stdin: hello" "$out" && grep -qx "stdin: world" "$out" && grep -qx "stdin: closed" "$out" \
    || { echo "stdin lines not served"; fail=1; }
ticks=$(sed -n 's/^timer: \([0-9]*\) ticks$/\1/p' "$out")
[ "${ticks:-0}" -ge 1 ] || { echo "the timer never fired"; fail=1; }
exit $fail
