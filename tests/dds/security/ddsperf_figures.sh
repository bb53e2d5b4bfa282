#!/usr/bin/env bash
# ddsperf_figures.sh — what DDS Security costs: ddsperf latency (ping/pong)
# and throughput (pub/sub) between two network namespaces on one bridge, with
# security off and on (Cyclone's plugins configured by zfd-security-config
# from tools/zfd-keys.sh credentials; data and metadata encrypted), for
# 64 B, 1 KiB and 64 KiB samples.
#
# Latency is ddsperf's one-way estimate (round trip / 2), throughput what the
# subscriber received. Each figure is the median over RUNS runs of the median over the steady
# seconds of one run (the first WARMUP seconds — discovery, authentication,
# ramp-up — are left out). Off and on runs alternate, so drift on a shared,
# noisy machine hits both alike; the spread of the run medians is printed
# next to each figure, and the on/off ratio last.
# Environment: ZFD_SECURITY_CONFIG, ZFD_KEYS (set by `meson test --benchmark`),
#   ZFD_FIGURES_RUNS (default 3), ZFD_FIGURES_SECONDS (default 10),
#   ZFD_FIGURES_WARMUP (default 3).
# Exit status: 0 figures printed, 1 a run produced no figure, 77 skipped
# (not root, no ddsperf).
set -uo pipefail
# shellcheck disable=SC2154  # set_uri and start assign variables by name
# shellcheck source=tests/dds/security/netns_lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/netns_lib.sh"
netns_init perf ddsperf openssl awk sort
keys=${ZFD_KEYS:?ZFD_KEYS must name tools/zfd-keys.sh}
runs=${ZFD_FIGURES_RUNS:-3}
secs=${ZFD_FIGURES_SECONDS:-10}
warmup=${ZFD_FIGURES_WARMUP:-3}

perf=(--extra-publish 'DDSPerf*' --extra-subscribe 'DDSPerf*' --partition '*')
{
    bash "$keys" init "$work/pki" --extra-topic 'DDSPerf*' &&
        bash "$keys" host "$work/pki" one "${perf[@]}" &&
        bash "$keys" host "$work/pki" two "${perf[@]}"
} > "$work/keys.out" 2>&1 || { show "$work/keys.out"; exit 1; }
net_up 2 > "$work/net.out" 2>&1 || { show "$work/net.out"; exit 1; }
set_uri off1 1
set_uri off2 2
set_uri on1 1 "$work/pki/hosts/one"
set_uri on2 2 "$work/pki/hosts/two"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else printf "%.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s..%s", lo, hi }'; }

# Steady-state per-second values from one ddsperf output.
#   latency: the "50%" of each ping line (us);  throughput: kS/s and Mb/s of each sub line.
latency_values() { awk -v w="$warmup" '$4 == "size" && $6 == "mean" && $2 + 0 > w { for (i = 1; i < NF; i++) if ($i == "50%") { v = $(i + 1); sub(/us$/, "", v); print v } }' "$1"; }
rate_values() { awk -v w="$warmup" -v f="$2" '$3 == "size" && $5 == "total" && $2 + 0 > w && $2 + 0 <= '"$secs"' { print $f }' "$1"; }

run_latency() { # mode size -> median of per-second medians (us)
    local mode=$1 size=$2 a b
    a=${mode}1 b=${mode}2
    start pong 2 $((secs + 15)) "${!b}" ddsperf -D $((secs + 2)) pong
    start ping 1 $((secs + 15)) "${!a}" ddsperf -D "$secs" ping size "$size"
    finish ping
    finish pong
    latency_values "$work/ping.out" | median
}

run_throughput() { # mode size -> "kS/s Mb/s" medians
    local mode=$1 size=$2 a b
    a=${mode}1 b=${mode}2
    start sub 2 $((secs + 15)) "${!b}" ddsperf -D $((secs + 1)) sub
    start pub 1 $((secs + 15)) "${!a}" ddsperf -D "$secs" pub size "$size"
    finish pub
    finish sub
    echo "$(rate_values "$work/sub.out" 14 | median) $(rate_values "$work/sub.out" 16 | median)"
}

declare -A lat ksps mbps
failed=0
echo "ddsperf, 2 namespaces on a bridge (veth), reliable KS topic; $runs runs of ${secs}s each, first ${warmup}s left out"
for size in 64 1k 64k; do
    for ((r = 1; r <= runs; r++)); do
        for mode in off on; do
            v=$(run_latency "$mode" "$size")
            [[ $v == nan ]] && { failed=1; echo "no latency figure: $mode $size run $r"; show "$work/ping.out"; }
            lat[$mode,$size]+="$v "
            read -r k m <<< "$(run_throughput "$mode" "$size")"
            [[ $k == nan ]] && { failed=1; echo "no throughput figure: $mode $size run $r"; show "$work/sub.out"; }
            ksps[$mode,$size]+="$k "
            mbps[$mode,$size]+="$m "
            echo "  run $r $size security $mode: latency p50 ${v}us, throughput ${k} kS/s ${m} Mb/s"
        done
    done
done

per_line() { tr ' ' '\n' | grep -v '^$'; }
echo
printf '%-15s %-5s %-26s %-26s %s\n' figure size "security off (runs)" "security on (runs)" on/off
for size in 64 1k 64k; do
    for kind in latency ksps mbps; do
        case $kind in
            latency) label="latency p50 us"; off=${lat[off,$size]}; on=${lat[on,$size]} ;;
            ksps) label="pub/sub kS/s"; off=${ksps[off,$size]}; on=${ksps[on,$size]} ;;
            mbps) label="pub/sub Mb/s"; off=${mbps[off,$size]}; on=${mbps[on,$size]} ;;
        esac
        moff=$(per_line <<< "$off" | median)
        mon=$(per_line <<< "$on" | median)
        ratio=$(awk -v a="$mon" -v b="$moff" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')
        printf '%-15s %-5s %-26s %-26s %s\n' "$label" "$size" \
            "$moff ($(per_line <<< "$off" | spread))" "$mon ($(per_line <<< "$on" | spread))" "$ratio"
    done
done
exit $failed
