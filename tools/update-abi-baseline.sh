#!/usr/bin/env bash
# update-abi-baseline.sh — regenerate capi/libzerodds_flatdata.abi.xml from the built library.
#
# Run only for an intentional ABI change (together with a new version node in
# capi/libzerodds_flatdata.map) or to create the first baseline. Regenerate on the
# CI machine type (Debian 12, g++ 12): abidw output depends on the toolchain.
# The build must carry DWARF (buildtype debug or debugoptimized, the default).
#
# Usage: tools/update-abi-baseline.sh [build-dir]     (default: $BUILD_DIR or build)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-${BUILD_DIR:-build}}
out=capi/libzerodds_flatdata.abi.xml

command -v abidw > /dev/null || { echo "abidw not found (apt-get install abigail-tools)" >&2; exit 1; }
[[ -d $build_dir ]] || { echo "no build directory '$build_dir'; run tools/run-tests.sh first" >&2; exit 1; }

meson compile -C "$build_dir"

lib=$(find "$build_dir" -name 'libzerodds_flatdata.so.*.*.*' -type f -not -path '*/meson-private/*' | head -n 1)
[[ -n $lib ]] || { echo "libzerodds_flatdata.so.X.Y.Z not found under $build_dir" >&2; exit 1; }
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
    echo "$lib has no DWARF; configure with buildtype=debug or debugoptimized" >&2
    exit 1
fi

# --headers-dir include: the public header is the ABI. The other flags keep the
# baseline small and free of build paths: only exported functions and the types
# they reach, no fmt/libstdc++ internals, no absolute directories.
abidw --headers-dir "$PWD/include" \
      --drop-private-types \
      --exported-interfaces-only \
      --no-corpus-path \
      --no-comp-dir-path \
      --short-locs \
      --out-file "$out" "$lib"
echo "wrote $out from $lib"
echo "reconfigure (meson setup --reconfigure $build_dir) so the abi-compat test picks it up"
