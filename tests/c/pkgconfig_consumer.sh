#!/usr/bin/env bash
# pkgconfig_consumer.sh — build consumer.c the way a user would: against an
# *installed* copy, found only through pkg-config.
#
#  1. meson install the build tree into a temporary DESTDIR
#  2. pkg-config --validate the installed zerodds-flatdata.pc
#  3. cc -std=c99 -pedantic -Werror consumer.c $(pkg-config --cflags --libs zerodds-flatdata)
#  4. run it with LD_LIBRARY_PATH = the installed libdir, and check that the
#     installed library (not the build tree's) is the one loaded
#
# Environment (set by tests/meson.build):
#   ZFD_BUILD_ROOT  meson.project_build_root()
#   ZFD_SOURCE_ROOT meson.project_source_root()
#   MESON           the meson command (optional; default: meson in PATH)
#   CC              C compiler (optional; default: cc)
set -euo pipefail

: "${ZFD_BUILD_ROOT:?ZFD_BUILD_ROOT must point at the meson build directory}"
: "${ZFD_SOURCE_ROOT:?ZFD_SOURCE_ROOT must point at the source tree}"
MESON=${MESON:-meson}
CC=${CC:-cc}
SKIP=77   # meson test: skipped

for tool in pkg-config "$CC"; do
    if ! command -v "$tool" > /dev/null 2>&1; then
        echo "SKIP: $tool not found" >&2
        exit $SKIP
    fi
done
if ! command -v "${MESON%% *}" > /dev/null 2>&1; then
    echo "SKIP: meson not found" >&2
    exit $SKIP
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zfd-pkgconfig.$$.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
destdir=$tmp/destdir

echo "== meson install --destdir $destdir"
# --no-rebuild: meson test already built everything; never run ninja from inside a test.
# shellcheck disable=SC2086  # MESON may be "python3 /path/meson.py"
if ! $MESON install -C "$ZFD_BUILD_ROOT" --no-rebuild --destdir "$destdir" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "FAIL: meson install failed" >&2
    exit 1
fi

pcfile=$(find "$destdir" -name zerodds-flatdata.pc -path '*/pkgconfig/*' | head -n 1)
if [[ -z $pcfile ]]; then
    echo "FAIL: zerodds-flatdata.pc was not installed" >&2
    cat "$tmp/install.log" >&2
    exit 1
fi
header=$(find "$destdir" -path '*/zerodds/flatdata.h' | head -n 1)
[[ -n $header ]] || { echo "FAIL: zerodds/flatdata.h was not installed" >&2; exit 1; }
echo "installed: $pcfile"

# The .pc holds the real prefix (e.g. /usr/local); PKG_CONFIG_SYSROOT_DIR maps its
# -I/-L paths into the DESTDIR. Allow "system" dirs so /usr/include is not dropped.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pcfile")
export PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH        # only ours: no system .pc shadows it
export PKG_CONFIG_SYSROOT_DIR=$destdir
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_ALLOW_SYSTEM_LIBS=1

echo "== pkg-config --validate"
pkg-config --validate zerodds-flatdata
version=$(pkg-config --modversion zerodds-flatdata)
cflags=$(pkg-config --cflags zerodds-flatdata)
libs=$(pkg-config --libs zerodds-flatdata)
echo "version: $version"
echo "cflags:  $cflags"
echo "libs:    $libs"
if ! pkg-config --static --libs zerodds-flatdata | grep -q -- '-lrt'; then
    echo "FAIL: Libs.private should carry -pthread -lrt" >&2
    exit 1
fi

# The installed library directory, from the .pc itself.
# (pkgconf may or may not apply the sysroot to --variable; accept both.)
libdir=$(pkg-config --variable=libdir zerodds-flatdata)
case $libdir in
    "$destdir"/*) ;;
    *) libdir=$destdir$libdir ;;
esac
if [[ ! -e $libdir/libzerodds_flatdata.so.0 ]]; then
    echo "FAIL: $libdir/libzerodds_flatdata.so.0 (SONAME link) not installed" >&2
    ls -la "$libdir" >&2 || true
    exit 1
fi
if [[ ! -e $libdir/libzerodds_flatdata.so ]]; then
    echo "FAIL: $libdir/libzerodds_flatdata.so (link-time name) not installed" >&2
    exit 1
fi

echo "== compile consumer.c as C99 against the installed copy"
# shellcheck disable=SC2086  # word splitting of pkg-config output is intended
"$CC" -std=c99 -pedantic -Wall -Wextra -Werror \
    -o "$tmp/consumer" "$ZFD_SOURCE_ROOT/tests/c/consumer.c" $cflags $libs

echo "== run"
export LD_LIBRARY_PATH=$libdir
if command -v ldd > /dev/null 2>&1; then
    resolved=$(ldd "$tmp/consumer" | awk '/libzerodds_flatdata/ { print $3 }')
    case $resolved in
        "$libdir"/*) echo "loads: $resolved" ;;
        *) echo "FAIL: consumer resolves libzerodds_flatdata to '$resolved', not $libdir" >&2
           exit 1 ;;
    esac
fi
"$tmp/consumer"
echo "ok: installed package $version builds and runs a C99 consumer"
