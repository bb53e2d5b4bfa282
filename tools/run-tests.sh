#!/usr/bin/env bash
# run-tests.sh — build zerodds-flatdata and run every test suite.
#
# On a fresh Debian 12 machine (as root) it installs what is missing first.
# Usage: tools/run-tests.sh [extra meson test arguments, e.g. --suite capi]
# Environment: BUILD_DIR (default: build), relative to the repository root.
# Exit status: that of `meson test` (or of the first step that failed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
packages=(meson ninja-build g++ pkg-config libfmt-dev libxxhash-dev libgtest-dev libgmock-dev
          python3 abigail-tools binutils libcli11-dev nlohmann-json3-dev spin)

# ---- 1. Debian packages (apt only when something is missing) ----
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "== installing missing packages: ${missing[*]}"
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo > /dev/null || { echo "not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- 2. configure (reconfigure an existing build dir; wipe it if that fails) ----
setup_args=(--wrap-mode=nodownload -Dwerror=true)
if [[ -f $BUILD_DIR/meson-private/coredata.dat ]]; then
    echo "== meson setup --reconfigure $BUILD_DIR"
    if ! meson setup --reconfigure "$BUILD_DIR" "${setup_args[@]}"; then
        echo "== reconfigure failed; wiping $BUILD_DIR"
        meson setup --wipe "$BUILD_DIR" "${setup_args[@]}"
    fi
else
    echo "== meson setup $BUILD_DIR"
    meson setup "$BUILD_DIR" "${setup_args[@]}"
fi

# ---- 3. build ----
echo "== meson compile -C $BUILD_DIR"
meson compile -C "$BUILD_DIR"

# ---- 4. test ----
echo "== meson test -C $BUILD_DIR"
status=0
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 "$@" || status=$?
exit $status
