#!/usr/bin/env bash
# run-tests.sh — build zerodds-flatdata and run every test suite.
#
# On a fresh Debian 12 machine (as root) it installs what is missing first.
# Usage: tools/run-tests.sh [extra meson test arguments, e.g. --suite capi]
# Environment: BUILD_DIR (default: build), relative to the repository root.
#              ZFD_SKIP_SANITIZERS=1 skips step 5 (tools/run-sanitizers.sh: ASan+UBSan,
#              TSan and fuzzing in build-asan, build-tsan, build-fuzz; ~15-25 min).
# Exit status: that of `meson test` (or of the first step that failed); if that
# passed, that of tools/run-sanitizers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/setup-common.sh
source tools/setup-common.sh

BUILD_DIR=${BUILD_DIR:-build}
packages=(meson ninja-build g++ pkg-config libfmt-dev libxxhash-dev libgtest-dev libgmock-dev
          python3 abigail-tools binutils libcli11-dev nlohmann-json3-dev spin
          iceoryx libiceoryx-binding-c-dev cmake)
# The DDS bridge (Meson feature dds) and its cross-host tests: Cyclone DDS (ddsc,
# idlc, ddsperf), iproute2 for the network namespaces the tests make.
packages+=(cyclonedds-dev cyclonedds-tools iproute2)
# DDS Security of the bridge: libssl-dev (libcrypto checks the credentials),
# openssl (zfd keys makes them), tcpdump (the tests look at the wire).
packages+=(libssl-dev openssl tcpdump)
# tools/run-sanitizers.sh: clang for the TSan and libFuzzer builds (libclang-rt-14-dev
# holds their runtimes), llvm for llvm-symbolizer (readable sanitizer stacks).
packages+=(clang libclang-rt-14-dev llvm)
# tests/rust (the Rust consumer): Debian's rustc, so the test runs instead of
# skipping on a fresh machine (plain rustc, no cargo, nothing downloaded).
packages+=(rustc)

# ---- 1. Debian packages (apt only when something is missing) ----
install_missing "${packages[@]}"

# ---- 2. configure (reconfigure an existing build dir; wipe it if that fails) ----
# The dds feature is required here: the test command must not pass by skipping it.
configure_build "$BUILD_DIR" -Ddds=enabled

# ---- 3. build ----
echo "== meson compile -C $BUILD_DIR"
meson compile -C "$BUILD_DIR"

# ---- 4. test ----
echo "== meson test -C $BUILD_DIR"
status=0
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 "$@" || status=$?

# ---- 5. sanitizer builds and fuzzing (build-asan, build-tsan, build-fuzz) ----
if [[ ${ZFD_SKIP_SANITIZERS:-0} != 1 ]]; then
    echo "== bash tools/run-sanitizers.sh (skip with ZFD_SKIP_SANITIZERS=1)"
    sanitizer_status=0
    bash tools/run-sanitizers.sh || sanitizer_status=$?
    if [[ $status -eq 0 ]]; then status=$sanitizer_status; fi
fi
exit $status
