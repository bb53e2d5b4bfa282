#!/usr/bin/env bash
# Rust consumer test: compile zfd_rust.rs with plain rustc (std only, no cargo,
# no crates), link it to the built libzerodds_flatdata, and exchange samples
# with the C example programs in both directions:
#   C publisher -> Rust subscriber, Rust publisher -> C subscriber.
#
#   run.sh ZFD_RUST_RS LIBDIR ZFD_EXAMPLE_PUB ZFD_EXAMPLE_SUB RUN_PAIR_SH
#
# Exit 77 (meson: SKIP) when no rustc is found; $RUSTC overrides the lookup.
set -u
[ $# -eq 5 ] || { echo "usage: $0 ZFD_RUST_RS LIBDIR PUB SUB RUN_PAIR_SH" >&2; exit 2; }
src=$1 libdir=$2 c_pub=$3 c_sub=$4 run_pair=$5

rustc=${RUSTC:-$(command -v rustc || true)}
if [ -z "$rustc" ] && [ -x "$HOME/.cargo/bin/rustc" ]; then rustc=$HOME/.cargo/bin/rustc; fi
if [ -z "$rustc" ]; then
    echo "SKIP: rustc not found (install rustc or set RUSTC to run the Rust consumer test)"
    exit 77
fi
"$rustc" --version

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/zfd_rust
# -l matches the #[link] attribute; -L points at the build tree's .so
"$rustc" --edition 2021 -O -L "$libdir" -l zerodds_flatdata "$src" -o "$bin" || {
    echo "FAIL: rustc could not build $src"; exit 1; }

export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
rc=0
bash "$run_pair" "$c_pub" -- "$bin" sub || rc=1
bash "$run_pair" "$bin" pub -- "$c_sub" || rc=1
exit "$rc"
