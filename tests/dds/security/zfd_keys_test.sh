#!/usr/bin/env bash
# zfd_keys_test.sh — tools/zfd-keys.sh as a specification: what `init` and
# `host` make (checked with openssl itself), its exit codes, and that it never
# overwrites. Runs in a private temp dir that is removed on every exit path.
# Usage: zfd_keys_test.sh [path/to/zfd-keys.sh]   (default: $ZFD_KEYS)
set -uo pipefail
keys=${1:-${ZFD_KEYS:?ZFD_KEYS must name tools/zfd-keys.sh}}
work=$(mktemp -d "${TMPDIR:-/tmp}/zfd-keys-test.XXXXXX") || exit 1
trap 'rm -rf -- "$work"' EXIT
failures=0
checks=0

check() { # description, command...
    local what=$1
    shift
    checks=$((checks + 1))
    if "$@" > "$work/last.out" 2>&1; then
        echo "ok    $what"
    else
        failures=$((failures + 1))
        echo "FAIL  $what"
        sed 's/^/      /' "$work/last.out"
    fi
}
# exits STATUS command...: the command exits with STATUS.
exits() {
    local want=$1 got=0
    shift
    "$@" > "$work/exits.out" 2>&1 || got=$?
    [[ $got -eq $want ]] || { echo "exit $got, wanted $want:"; cat "$work/exits.out"; return 1; }
}
contains() { grep -q -F -- "$2" "$1" || { echo "$1 does not contain: $2"; return 1; }; }
lacks() { ! grep -q -F -- "$2" "$1" || { echo "$1 contains: $2"; return 1; }; }
mode_is() { [[ $(stat -c %a "$1") == "$2" ]] || { echo "$1 has mode $(stat -c %a "$1"), wanted $2"; return 1; }; }
smime_ok() { # document, permissions CA
    openssl smime -verify -in "$1" -CAfile "$2" -text -out /dev/null
}
# seconds from now until the certificate's notBefore/notAfter
cert_offset() {
    local when
    when=$(openssl x509 -in "$1" -noout -"$2" | cut -d= -f2)
    echo $(($(date -d "$when" +%s) - $(date +%s)))
}
between() { [[ $1 -ge $2 && $1 -le $3 ]] || { echo "$1 not in [$2, $3]"; return 1; }; }
# cert_time FILE startdate|enddate LO HI: that date lies LO..HI seconds from now.
cert_time() { between "$(cert_offset "$1" "$2")" "$3" "$4"; }

pki=$work/pki
h=$pki/hosts/alpha

echo "== usage and refusals"
check "no arguments is a usage error (2)" exits 2 bash "$keys"
check "unknown command is a usage error (2)" exits 2 bash "$keys" frobnicate
check "help succeeds and names both commands" bash -c "bash '$keys' help | grep -q 'init DIR' && bash '$keys' help | grep -q 'host DIR NAME'"
check "help is the header text only (ends with the exit codes, no code)" bash -c "bash '$keys' help | tail -1 | grep -q 'not a PKI made by' && ! bash '$keys' help | grep -q 'set -e'"
check "init --help and host ... --help print the usage, make nothing (0)" bash -c "bash '$keys' init '$work/nothing' --help | grep -q 'init DIR' && bash '$keys' host '$work/nothing' x -h | grep -q 'host DIR NAME' && test ! -e '$work/nothing'"
check "run as zfd keys, the usage names zfd keys" bash -c "ZFD_KEYS_NAME='zfd keys' bash '$keys' help | grep -q '^  zfd keys init DIR' && ! ZFD_KEYS_NAME='zfd keys' bash '$keys' help | grep -q 'zfd-keys.sh'"
check "init without DIR is a usage error (2)" exits 2 bash "$keys" init
check "host on a directory that is no PKI exits 4" exits 4 bash "$keys" host "$work" alpha
check "init makes a PKI" bash "$keys" init "$pki" --extra-topic 'DDSPerf*'
check "init over an existing PKI is refused (3)" exits 3 bash "$keys" init "$pki"
check "init into an existing empty directory is fine" bash -c "mkdir '$work/empty' && bash '$keys' init '$work/empty'"
check "bad host NAME (comma) is a usage error (2)" exits 2 bash "$keys" host "$pki" 'a,b'
check "bad host NAME (slash) is a usage error (2)" exits 2 bash "$keys" host "$pki" 'a/b'
check "XML characters in a glob are a usage error (2)" exits 2 bash "$keys" host "$pki" x --publish 'a<b'
check "unknown host option is a usage error (2)" exits 2 bash "$keys" host "$pki" x --frob
check "--days 0 is a usage error (2)" exits 2 bash "$keys" host "$pki" x --days 0
check "--expired with --not-yet-valid is a usage error (2)" exits 2 bash "$keys" host "$pki" x --expired --not-yet-valid
check "a refused command leaves no host behind" test ! -e "$pki/hosts/x"
check "host makes alpha" bash "$keys" host "$pki" alpha --publish a --publish 'b/*' --subscribe '*' --days 30
check "host alpha again is refused (3)" exits 3 bash "$keys" host "$pki" alpha
check "no staging directories are left" bash -c "! ls -A '$pki' '$pki/hosts' | grep -q '^\.zfd-keys'"

echo "== CA directory"
check "identity CA is a self-signed CA" openssl verify -CAfile "$pki/ca/identity_ca.pem" "$pki/ca/identity_ca.pem"
check "CA keys are private (600)" bash -c "[[ \$(stat -c %a '$pki/ca/identity_ca_key.pem') == 600 && \$(stat -c %a '$pki/ca/permissions_ca_key.pem') == 600 ]]"
check "CA keys are EC P-256 (Cyclone accepts RSA-2048 or P-256 only)" bash -c "openssl pkey -in '$pki/ca/identity_ca_key.pem' -noout -text | grep -q 'NIST CURVE: P-256'"
check "governance is signed by the permissions CA" smime_ok "$pki/ca/governance.p7s" "$pki/ca/permissions_ca.pem"
check "governance forbids unauthenticated participants" contains "$pki/ca/governance.xml" "<allow_unauthenticated_participants>false</allow_unauthenticated_participants>"
check "governance covers zfd/segments first" bash -c "grep -o '<topic_expression>[^<]*' '$pki/ca/governance.xml' | head -1 | grep -q -x '<topic_expression>zfd/segments'"
check "governance covers zfd/*" contains "$pki/ca/governance.xml" "<topic_expression>zfd/*</topic_expression>"
check "governance covers the extra topic" contains "$pki/ca/governance.xml" "<topic_expression>DDSPerf*</topic_expression>"
check "governance encrypts data and metadata of every rule" bash -c "[[ \$(grep -c '<data_protection_kind>ENCRYPT<' '$pki/ca/governance.xml') == 3 && \$(grep -c '<metadata_protection_kind>ENCRYPT<' '$pki/ca/governance.xml') == 3 ]]"
check "governance is signed as text/plain (Cyclone verifies with PKCS7_TEXT)" contains "$pki/ca/governance.p7s" "Content-Type: text/plain"

echo "== host directory"
for f in identity_ca.pem identity_certificate.pem identity_private_key.pem permissions_ca.pem governance.p7s permissions.p7s; do
    check "host has $f" test -s "$h/$f"
done
check "host directory is private (700)" mode_is "$h" 700
check "host key is private (600)" mode_is "$h/identity_private_key.pem" 600
check "certificate chains to the identity CA" openssl verify -CAfile "$h/identity_ca.pem" "$h/identity_certificate.pem"
check "certificate subject is CN=alpha" bash -c "openssl x509 -in '$h/identity_certificate.pem' -noout -subject -nameopt RFC2253 | grep -q -x 'subject=CN=alpha'"
check "key belongs to the certificate" bash -c "[[ \$(openssl x509 -in '$h/identity_certificate.pem' -noout -pubkey) == \$(openssl pkey -in '$h/identity_private_key.pem' -pubout) ]]"
check "certificate is backdated an hour" cert_time "$h/identity_certificate.pem" startdate -3700 -3500
check "certificate is valid --days 30" cert_time "$h/identity_certificate.pem" enddate $((30 * 86400 - 100)) $((30 * 86400 + 100))
check "permissions are signed by the permissions CA" smime_ok "$h/permissions.p7s" "$h/permissions_ca.pem"
check "host's governance is the PKI's" cmp "$h/governance.p7s" "$pki/ca/governance.p7s"
check "grant names the certificate subject" contains "$h/permissions.xml" "<subject_name>CN=alpha</subject_name>"
check "publish grants zfd/a and zfd/b/*" bash -c "sed -n '/<publish>/,/<\/publish>/p' '$h/permissions.xml' | grep -q '<topic>zfd/a</topic>' && sed -n '/<publish>/,/<\/publish>/p' '$h/permissions.xml' | grep -q '<topic>zfd/b/\*</topic>'"
check "subscribe grants zfd/*" bash -c "sed -n '/<subscribe>/,/<\/subscribe>/p' '$h/permissions.xml' | grep -q '<topic>zfd/\*</topic>'"
check "discovery topic is granted both ways" bash -c "[[ \$(grep -c '<topic>zfd/segments</topic>' '$h/permissions.xml') == 2 ]]"
check "no partitions unless asked (default partition only)" lacks "$h/permissions.xml" "<partitions>"
check "default is DENY" contains "$h/permissions.xml" "<default>DENY</default>"

echo "== test credentials"
check "host old --expired" bash "$keys" host "$pki" old --expired --extra-publish 'DDSPerf*' --partition '*'
check "expired certificate ended yesterday" cert_time "$pki/hosts/old/identity_certificate.pem" enddate -86500 -86300
check "openssl calls it expired" bash -c "openssl verify -CAfile '$pki/ca/identity_ca.pem' '$pki/hosts/old/identity_certificate.pem' 2>&1 | grep -q 'certificate has expired'"
check "expired host's grant is still valid (only the certificate is expired)" bash -c "grep -q '<not_after>$(date -u -d '+365 days' +%Y-%m-%d)' '$pki/hosts/old/permissions.xml'"
check "extra topics are granted without prefix" contains "$pki/hosts/old/permissions.xml" "<topic>DDSPerf*</topic>"
check "partitions are granted when asked" contains "$pki/hosts/old/permissions.xml" "<partition>*</partition>"
check "host future --not-yet-valid" bash "$keys" host "$pki" future --not-yet-valid
check "not-yet-valid certificate starts tomorrow" cert_time "$pki/hosts/future/identity_certificate.pem" startdate 86300 86500
check "a second PKI is a different CA" bash -c "bash '$keys' init '$work/other' && bash '$keys' host '$work/other' mallory && ! openssl verify -CAfile '$pki/ca/identity_ca.pem' '$work/other/hosts/mallory/identity_certificate.pem'"

echo "$checks checks, $failures failed"
[[ $failures -eq 0 ]]
