#!/usr/bin/env bash
# check_symbols.sh — the exported ABI is exactly the list we promise.
#
# Usage: check_symbols.sh <libzerodds_flatdata.so> <libzerodds_flatdata.map> <flatdata.h>
#        [<first version node> <SONAME> <export macro>]   (defaults: ZFD_0.1,
#        libzerodds_flatdata.so.0, ZFD_API; libzerodds_flatdata_dds passes its own)
#
# Compares three lists of names and fails on any difference in either direction:
#   1. dynamic symbols the built library defines      (nm -D --defined-only)
#   2. names in the version script's global: section  (capi/libzerodds_flatdata.map)
#   3. functions declared ZFD_API in the public header (include/zerodds/flatdata.h)
# It also checks that every exported function carries, as its default version,
# the node the version script lists it under (ZFD_0.1, ZFD_0.2, ...; a later
# node inherits the earlier one), and that the SONAME is libzerodds_flatdata.so.0.
set -euo pipefail

if [[ $# -ne 3 && $# -ne 6 ]]; then
    echo "usage: $0 <library.so> <version-script.map> <header.h> [<first node> <soname> <macro>]" >&2
    exit 2
fi
lib=$1 map=$2 header=$3
first_node=${4:-ZFD_0.1}
soname_expected=${5:-libzerodds_flatdata.so.0}
api_macro=${6:-ZFD_API}

for f in "$lib" "$map" "$header"; do
    [[ -r $f ]] || { echo "cannot read $f" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# 1. Exported by the library. Lines look like "zfd_take@@ZFD_0.1 T 000... 000...".
#    Each version node itself appears as an absolute symbol "ZFD_0.1 A ..."; skip those.
nm -D --defined-only --format=posix "$lib" > "$tmp/nm.raw"
awk '$2 != "A" { print $1 }' "$tmp/nm.raw" > "$tmp/exported.versioned"
sed -E 's/@+.*$//' "$tmp/exported.versioned" | sort -u > "$tmp/exported"

# 2. Listed in the version script: names between "global:" and "local:",
#    comments removed, one "name;" per entry.
sed -E ':a; s#/\*([^*]|\*+[^*/])*\*+/##g; /\/\*/ { N; ba }' "$map" |
    sed -E 's/#.*$//' |
    awk '/global:/ { g = 1; sub(/.*global:/, "") }
         /local:/  { g = 0 }
         /\}/      { g = 0 }
         g { print }' |
    tr ';' '\n' | sed -E 's/^[[:space:]]+|[[:space:]]+$//g' | grep -v '^$' | sort -u > "$tmp/map"
grep -q . "$tmp/map" || { echo "no global names found in $map" >&2; exit 1; }
if ! grep -Eq "^[[:space:]]*${first_node//./\\.}[[:space:]]*\{" "$map"; then
    echo "FAIL: $map does not define version node $first_node" >&2
    status=1
fi
# "name node" for every global name: the node is the block the name sits in.
sed -E ':a; s#/\*([^*]|\*+[^*/])*\*+/##g; /\/\*/ { N; ba }' "$map" |
    awk '/^[[:space:]]*ZFD_[A-Z_]*[0-9.]+[[:space:]]*\{/ { node = $1; sub(/\{.*/, "", node) }
         /global:/ { g = 1; sub(/.*global:/, "") }
         /local:/  { g = 0 }
         /\}/      { g = 0 }
         g { n = split($0, a, ";"); for (i = 1; i <= n; i++) { x = a[i]; gsub(/[[:space:]]/, "", x); if (x != "") print x, node } }' |
    sort -u > "$tmp/map.nodes"
# Every node after the first inherits its predecessor ("} ZFD_0.1;").
prev=""
while read -r n; do
    if [[ -n $prev ]] && ! grep -Eq "^\}[[:space:]]*${prev//./\\.}[[:space:]]*;" <(sed -n "/^${n//./\\.}[[:space:]]*{/,/^}/p" "$map"); then
        echo "FAIL: version node $n does not inherit $prev" >&2
        status=1
    fi
    prev=$n
done < <(grep -oE '^[[:space:]]*ZFD_[A-Z_]*[0-9.]+[[:space:]]*\{' "$map" | tr -d ' {' )
if grep -q '\*' "$tmp/map"; then
    echo "FAIL: $map uses a wildcard in global:; list every name explicitly" >&2
    status=1
fi

# 3. Declared in the header: join lines, then every "ZFD_API <type> zfd_name(".
tr '\n' ' ' < "$header" |
    grep -oE "${api_macro}"'[^;{}()]*\bzfd_[A-Za-z0-9_]+[[:space:]]*\(' |
    grep -oE 'zfd_[A-Za-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u > "$tmp/header"
grep -q . "$tmp/header" || { echo "no ZFD_API functions found in $header" >&2; exit 1; }

compare() {   # compare <label-a> <file-a> <label-b> <file-b>
    local -a only_a only_b
    mapfile -t only_a < <(comm -23 "$2" "$4")
    mapfile -t only_b < <(comm -13 "$2" "$4")
    if [[ ${#only_a[@]} -gt 0 ]]; then
        echo "FAIL: in $1 but not in $3:" >&2
        printf '    %s\n' "${only_a[@]}" >&2
        status=1
    fi
    if [[ ${#only_b[@]} -gt 0 ]]; then
        echo "FAIL: in $3 but not in $1:" >&2
        printf '    %s\n' "${only_b[@]}" >&2
        status=1
    fi
}
compare "the library (nm -D)" "$tmp/exported" "the version script" "$tmp/map"
compare "the version script" "$tmp/map" "the header" "$tmp/header"

# Every export is a function (T). Its default version (@@) is the newest node
# the map lists it under; a name listed under several nodes (a function whose
# behaviour changed, kept for older programs through .symver) also exports
# each older node as a non-default version (@), and nothing else.
sort -V -k2 "$tmp/map.nodes" > "$tmp/map.nodes.sorted"
while read -r name type _; do
    [[ $type == A ]] && continue
    base=${name%%@*}
    nodes=$(awk -v n="$base" '$1 == n { print $2 }' "$tmp/map.nodes.sorted")
    newest=$(tail -n 1 <<< "$nodes")
    if [[ $name == *"@@"* ]]; then
        if [[ $name != *"@@$newest" ]]; then
            echo "FAIL: $name is not versioned @@${newest:-?} (its newest node in $map)" >&2
            status=1
        fi
    elif ! grep -qx "${name#*@}" <<< "$(head -n -1 <<< "$nodes")"; then
        echo "FAIL: $name is an old version that $map does not list for $base" >&2
        status=1
    fi
    if [[ $type != T ]]; then
        echo "FAIL: $name has nm type $type, expected T (function in .text)" >&2
        status=1
    fi
done < "$tmp/nm.raw"

# SONAME.
soname=$(readelf -d "$lib" | sed -nE 's/.*\(SONAME\).*\[(.*)\].*/\1/p')
if [[ $soname != "$soname_expected" ]]; then
    echo "FAIL: SONAME is '${soname}', expected '$soname_expected'" >&2
    status=1
fi

# The shared-memory library never needs DDS (the bridge is its own library).
if [[ $soname_expected == libzerodds_flatdata.so.0 ]] && readelf -d "$lib" | grep -q 'NEEDED.*libddsc'; then
    echo "FAIL: $lib needs libddsc; DDS belongs to libzerodds_flatdata_dds only" >&2
    status=1
fi

# No runtime dependency on libfmt (it is used header-only).
if readelf -d "$lib" | grep -q 'NEEDED.*libfmt'; then
    echo "FAIL: $lib needs libfmt at run time; fmt must be header-only" >&2
    status=1
fi

if [[ $status -eq 0 ]]; then
    echo "ok: $(wc -l < "$tmp/exported") symbols, each @@ its node ($(awk '{print $2}' "$tmp/map.nodes" | sort | uniq -c | xargs)), SONAME $soname;" \
         "library == version script == header"
fi
exit $status
