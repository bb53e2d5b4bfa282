#!/usr/bin/env bash
# demo.sh — the main job: build zerodds-flatdata and show it working.
#
# On a fresh Debian 12 machine (as root) it installs what is missing first,
# then builds zfd-demo and zfd-bench and runs
#   1. zfd-demo twice: a writer process and 3 reader processes exchange
#      samples through one shared-memory segment (checksums, order, latency),
#      first 100000 as fast as possible (latency under full load), then 40000
#      paced at 20000 samples/s (latency of an unloaded stream);
#   2. zfd-bench: the benchmark table (latency, throughput, fan-out).
# Usage: tools/demo.sh [--quick]     (--quick: the short benchmark run)
# Environment: BUILD_DIR (default: build), absolute or relative to the
#              repository root (the same build dir tools/run-tests.sh uses).
# Exit status: 0 when every step succeeded, else that of the first failure
# (2 for a bad argument).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/setup-common.sh
source tools/setup-common.sh

bench_args=()
for arg in "$@"; do
    case $arg in
        --quick) bench_args+=(--quick) ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown argument: $arg (usage: tools/demo.sh [--quick])" >&2; exit 2 ;;
    esac
done

BUILD_DIR=${BUILD_DIR:-build}
# What configuring the project needs (the test suites are configured too,
# hence gtest/gmock), as in tools/run-tests.sh.
packages=(meson ninja-build g++ pkg-config libfmt-dev libxxhash-dev libgtest-dev libgmock-dev
          python3 libcli11-dev nlohmann-json3-dev)

# ---- 1. Debian packages (apt only when something is missing) ----
install_missing "${packages[@]}"

# ---- 2. configure (reconfigure an existing build dir; wipe it if that fails) ----
configure_build "$BUILD_DIR"

# ---- 3. build (only the library and the two programs run below) ----
echo "== meson compile -C $BUILD_DIR demo/zfd-demo bench/zfd-bench"
meson compile -C "$BUILD_DIR" demo/zfd-demo bench/zfd-bench

# ---- 4. the cross-process demo, under full load and paced ----
echo
echo "== zfd-demo at full speed: 3 readers, 100000 samples of 64 B;" \
     "latency under full load (includes queueing behind the ring)"
"$BUILD_DIR/demo/zfd-demo"

echo
echo "== zfd-demo --rate 20000 --samples 40000 (2 s): latency of one sample at a time," \
     "readers asleep or spinning between samples"
"$BUILD_DIR/demo/zfd-demo" --rate 20000 --samples 40000

# ---- 5. the benchmark ----
echo
echo "== zfd-bench ${bench_args[*]:-(full run; tools/demo.sh --quick for a short one)}"
"$BUILD_DIR/bench/zfd-bench" "${bench_args[@]}"

echo
echo "== demo done"
