#!/usr/bin/env bash
# cyclone_proof.sh — Cyclone DDS's own security plugins, configured by
# make_security_config (zfd-security-config) from credentials made by
# tools/zfd-keys.sh, on hosts in network namespaces joined by a Linux bridge:
#
#   a  two hosts with valid credentials exchange samples (ddsperf ping/pong,
#      and zfd_sec_probe on topic zfd/test; a late joiner of the transient-
#      local zfd/segments gets its history)
#   b  a known payload pattern never appears in a tcpdump capture taken in a
#      namespace (and, as a control, does appear when security is off)
#   c  a host whose certificate comes from another CA neither sees, receives
#      nor injects anything (own PKI, or no security at all); with our CA
#      files and a foreign certificate, Cyclone refuses to create it
#   d  a host allowed to subscribe zfd/a but not zfd/b receives only zfd/a;
#      a topic the governance does not cover cannot be created
#   e  an expired (or not yet valid) certificate, or tampered permissions,
#      make dds_create_participant fail; what Cyclone prints and returns
#
# Namespaces  zfdsec<pid>br (bridge br0), zfdsec<pid>h1..h3 (veth zfd1..3,
# 10.77.0.1..3/24); every Cyclone process gets a CYCLONEDDS_URI naming its
# namespace's interface. Processes, namespaces and keys are removed on every
# exit path. Needs root, ip, tcpdump, ddsperf, openssl; exits 77 (skip)
# without them.
# Environment: ZFD_KEYS (tools/zfd-keys.sh), ZFD_SECURITY_CONFIG
# (zfd-security-config), ZFD_SEC_PROBE (zfd_sec_probe) — meson test sets them.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped.
# shellcheck disable=SC2154  # set_uri and start assign variables by name
set -uo pipefail

# shellcheck source=tests/dds/security/netns_lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/netns_lib.sh"
netns_init sec tcpdump ddsperf openssl
keys=${ZFD_KEYS:?ZFD_KEYS must name tools/zfd-keys.sh}
probe=${ZFD_SEC_PROBE:?ZFD_SEC_PROBE must name zfd_sec_probe}

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS  $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL  $*"; }
expect() { # description, command...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
# value KEYWORD TOPIC FILE: the number after "KEYWORD TOPIC" in a probe's output (or -1)
value() { awk -v k="$1" -v t="$2" '$1 == k && $2 == t { print $3; found = 1 } END { if (!found) print -1 }' "$3"; }
participants() { awk '$1 == "participants" { print $2 }' "$1"; }
endpoints() { awk '$1 == "endpoints" { print $2 }' "$1"; }

# ---------------------------------------------------------------------------
echo "== credentials (tools/zfd-keys.sh)"
pki=$work/pki
rogue=$work/rogue
perf=(--extra-publish 'DDSPerf*' --extra-subscribe 'DDSPerf*' --partition '*')
{
    bash "$keys" init "$pki" --extra-topic 'DDSPerf*' &&
        bash "$keys" host "$pki" alice --publish '*' --subscribe '*' "${perf[@]}" &&
        bash "$keys" host "$pki" bob --publish '*' --subscribe '*' "${perf[@]}" &&
        bash "$keys" host "$pki" carol --subscribe a &&
        bash "$keys" host "$pki" old --expired --publish '*' --subscribe '*' &&
        bash "$keys" host "$pki" future --not-yet-valid --publish '*' --subscribe '*' &&
        bash "$keys" init "$rogue" --extra-topic 'DDSPerf*' &&
        bash "$keys" host "$rogue" mallory --publish '*' --subscribe '*' "${perf[@]}"
} > "$work/keys.out" 2>&1 || { show "$work/keys.out"; echo "FAIL  cannot make credentials"; exit 1; }
echo "made: alice, bob (all zfd/*), carol (subscribe zfd/a only), old (expired), future (not yet valid); mallory (another PKI)"
H=$pki/hosts

net_up 3 > "$work/net.out" 2>&1 || { show "$work/net.out"; echo "FAIL  cannot make the namespaces"; exit 1; }
echo "namespaces: ${namespaces[*]}"
# Every process's CYCLONEDDS_URI: its host's interface (+ the credentials' security fragment).
set_uri alice1 1 "$H/alice"
set_uri bob2 2 "$H/bob"
set_uri carol3 3 "$H/carol"
set_uri mallory3 3 "$rogue/hosts/mallory"
set_uri plain1 1
set_uri plain2 2
set_uri plain3 3

echo "== the Cyclone XML (zfd-security-config $H/alice), used for every secured host"
"$seccfg" "$H/alice" | sed 's/></>\n</g' | sed 's/^/      /'

pattern=ZFD-SECRET-PAYLOAD-
# ---------------------------------------------------------------------------
echo "== a: two hosts with valid credentials exchange samples"
start bob_pong 2 25 "$bob2" ddsperf -D 15 pong
start alice_ping 1 25 "$alice1" ddsperf -D 12 ping
finish alice_ping
ping_rc=$?
finish bob_pong
expect "ddsperf ping (alice, h1) got round trips from pong (bob, h2)" \
    grep -q -E 'size 12 mean [0-9.]+us .* cnt [1-9]' "$work/alice_ping.out"
if [[ $ping_rc -ne 0 ]] || ! grep -q 'cnt' "$work/alice_ping.out"; then show "$work/alice_ping.out"; fi
grep -E 'size 12 mean' "$work/alice_ping.out" | tail -1 | sed 's/^/      /'

# Same exchange with zfd_sec_probe on zfd/test, captured by tcpdump in bob's namespace.
capture() { # NAME HOST
    ip netns exec "${ns}h$2" timeout -k 2 60 tcpdump -i "zfd$2" -U -w "$work/$1.pcap" udp > "$work/$1.tcpdump" 2>&1 &
    pids+=($!)
    printf -v "pid_$1" '%s' "$!"
    for _ in $(seq 50); do grep -q 'listening on' "$work/$1.tcpdump" && return 0; sleep 0.1; done
    return 1
}
stop_capture() { local var=pid_$1; kill -INT "${!var}" 2> /dev/null; wait "${!var}" 2> /dev/null; }
packets() { tcpdump -r "$1" 2> /dev/null | wc -l; }
# has_bytes FILE STRING: the bytes of STRING occur in FILE
has_bytes() { grep -q -a -F -- "$2" "$1"; }

capture secure 2 || fail "tcpdump did not start"
start bob_sub 2 40 "$bob2" "$probe" sub -t zfd/test -d 30000 -e 50 -p "$pattern"
start alice_pub 1 40 "$alice1" "$probe" pub -t zfd/test -n 50 -s 1024 -p "$pattern"
finish alice_pub
finish bob_sub
stop_capture secure
expect "bob received all 50 samples on zfd/test, none damaged" grep -q -x 'received zfd/test 50 bad 0' "$work/bob_sub.out"
secure_match_pub=$(value matched zfd/test "$work/alice_pub.out")
secure_match_sub=$(value matched zfd/test "$work/bob_sub.out")
echo "      matched after: writer ${secure_match_pub} ms, reader ${secure_match_sub} ms from participant creation"
show "$work/bob_sub.out"

# The bridge's discovery topic is reliable and transient-local: a secured late joiner gets its history.
wait_line() { # FILE REGEX SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do grep -q -E "$2" "$1" 2> /dev/null && return 0; sleep 0.1; done
    return 1
}
start alice_seg 1 40 "$alice1" "$probe" pub -t zfd/segments -n 5 -w 0 -i 0 -l 15000 -r transient-local -p "$pattern"
wait_line "$work/alice_seg.out" '^wrote zfd/segments 5$' 20 || fail "alice did not write zfd/segments"
start bob_seg 2 40 "$bob2" "$probe" sub -t zfd/segments -d 10000 -e 1 -r transient-local -p "$pattern"
finish bob_seg
expect "zfd/segments (transient-local): bob, joining after alice wrote, got the retained sample" \
    grep -q -x 'received zfd/segments 1 bad 0' "$work/bob_seg.out"
show "$work/bob_seg.out"
finish alice_seg

echo "== b: the payload never appears in clear on the wire"
secure_packets=$(packets "$work/secure.pcap")
expect "capture in bob's namespace holds traffic ($secure_packets UDP packets)" test "$secure_packets" -gt 20
expect "payload pattern '$pattern' is not in the secured capture" bash -c "! grep -q -a -F -- '$pattern' '$work/secure.pcap'"
expect "topic name zfd/test is not in the secured capture (discovery protected)" bash -c "! grep -q -a -F -- 'zfd/test' '$work/secure.pcap'"
if has_bytes "$work/secure.pcap" "CN=alice"; then
    echo "      note: the subject \"CN=alice\" is in clear (SPDP carries identity and permissions tokens, per the spec)"
fi
# Control: without security the same capture shows both, so the check can fail.
capture plain 2 || fail "tcpdump did not start"
start bob_plain 2 40 "$plain2" "$probe" sub -t zfd/test -d 30000 -e 50 -p "$pattern"
start alice_plain 1 40 "$plain1" "$probe" pub -t zfd/test -n 50 -s 1024 -p "$pattern"
finish alice_plain
finish bob_plain
stop_capture plain
expect "control: without security bob receives the 50 samples" test "$(value received zfd/test "$work/bob_plain.out")" = 50
expect "control: without security the pattern is in the capture" has_bytes "$work/plain.pcap" "$pattern"
expect "control: without security the topic name is in the capture" has_bytes "$work/plain.pcap" "zfd/test"
plain_match_pub=$(value matched zfd/test "$work/alice_plain.out")
echo "      matched after (no security): writer ${plain_match_pub} ms; with security: ${secure_match_pub} ms"

echo "== c: a host with a certificate from another CA"
# received_only_own FILE: a reader got samples, none with alice's pattern (all "bad").
received_only_own() { awk '$1 == "received" { ok = ($3 > 0 && $3 == $5) } END { exit !ok }' "$1"; }
# mallory (own PKI, h3) listens and injects while alice publishes to bob. Mallory's
# two processes trust each other, so her reader gets her own writer's samples: the
# injection is real, it just reaches no one else.
start bob_c 2 45 "$bob2" "$probe" sub -t zfd/test -d 25000 -e 100 -p "$pattern"
start mallory_sub 3 45 "$mallory3" "$probe" sub -t zfd/test -d 20000 -p "$pattern"
start mallory_pub 3 45 "$mallory3" "$probe" pub -t zfd/test -n 100 -p ROGUE-INJECTION- -w 8000 -i 50
start alice_c 1 45 "$alice1" "$probe" pub -t zfd/test -n 100 -p "$pattern" -w 15000 -i 50
for p in alice_c mallory_pub mallory_sub bob_c; do finish "$p"; done
expect "bob received alice's 100 samples and no injected one" grep -q -x 'received zfd/test 100 bad 0' "$work/bob_c.out"
expect "bob discovered 1 remote endpoint on zfd/test at most (alice's writer; none of mallory's)" \
    test "$(endpoints "$work/bob_c.out")" -le 1
expect "mallory's reader got only mallory's own samples, none of alice's" received_only_own "$work/mallory_sub.out"
expect "mallory discovered 1 remote endpoint on zfd/test at most (her own writer; not alice's, not bob's)" \
    test "$(endpoints "$work/mallory_sub.out")" -le 1
echo "      note: participants in DCPSParticipant: bob $(participants "$work/bob_c.out"), mallory $(participants "$work/mallory_sub.out")" \
    "(SPDP is not protected: unauthenticated participants are listed, their endpoints are not)"
echo "      note: bob logged $(grep -c 'handshake reply failed' "$work/bob_c.out") 'Begin handshake reply failed' lines about mallory in 20 s"
for f in bob_c mallory_sub mallory_pub; do echo "      $f:"; show "$work/$f.out"; done

# The same with no security at all on h3.
start bob_c2 2 45 "$bob2" "$probe" sub -t zfd/test -d 25000 -e 100 -p "$pattern"
start plain_sub 3 45 "$plain3" "$probe" sub -t zfd/test -d 20000 -p "$pattern"
start plain_pub 3 45 "$plain3" "$probe" pub -t zfd/test -n 100 -p ROGUE-INJECTION- -w 6000 -i 50
start alice_c2 1 45 "$alice1" "$probe" pub -t zfd/test -n 100 -p "$pattern" -w 15000 -i 50
for p in alice_c2 plain_pub plain_sub bob_c2; do finish "$p"; done
expect "unsecured host: bob received alice's 100 samples and no injected one" \
    grep -q -x 'received zfd/test 100 bad 0' "$work/bob_c2.out"
expect "unsecured host: bob discovered 1 remote endpoint at most (alice's writer)" test "$(endpoints "$work/bob_c2.out")" -le 1
expect "unsecured host: its reader got only its own samples, none of alice's" received_only_own "$work/plain_sub.out"
expect "unsecured host: it discovered 1 remote endpoint at most (its own writer)" test "$(endpoints "$work/plain_sub.out")" -le 1
for f in plain_sub plain_pub; do echo "      $f:"; show "$work/$f.out"; done
# ddsperf too: mallory's pong answers alice's ping? It must not.
start mallory_pong 3 25 "$mallory3" ddsperf -D 12 pong
start alice_ping_c 1 25 "$alice1" ddsperf -D 10 ping
finish alice_ping_c
finish mallory_pong
expect "ddsperf: alice's ping gets no round trip from mallory's pong" bash -c "! grep -q 'cnt' '$work/alice_ping_c.out'"
if grep -q 'participant .*: new$' "$work/mallory_pong.out"; then
    echo "      note: mallory's ddsperf still lists alice's participant (user data travels in clear SPDP)"
fi

# Our CA files with mallory's certificate and key: refused before Cyclone, and by Cyclone.
forged=$work/forged
cp -r "$H/alice" "$forged"
cp "$rogue/hosts/mallory/identity_certificate.pem" "$rogue/hosts/mallory/identity_private_key.pem" "$forged/"
"$seccfg" "$forged" > "$work/forged.cfg" 2>&1
forged_rc=$?
expect "zfd-security-config refuses the foreign certificate (untrusted_certificate)" \
    bash -c "[[ $forged_rc -eq 1 ]] && grep -q '^untrusted_certificate: ' '$work/forged.cfg'"
show "$work/forged.cfg"
alice_xml=$("$seccfg" "$H/alice")
forged_uri="$(net_xml 1)${alice_xml//"$H/alice"/$forged}"
start forged_create 1 20 "$forged_uri" "$probe" create
finish forged_create
forged_create_rc=$?
expect "Cyclone refuses to create a participant with it (exit $forged_create_rc)" grep -q '^participant failed -1 ' "$work/forged_create.out"
show "$work/forged_create.out"

echo "== d: carol may subscribe zfd/a, not zfd/b"
start bob_d 2 45 "$bob2" "$probe" sub -t zfd/a -t zfd/b -d 25000 -e 30 -p "$pattern"
start carol_d 3 45 "$carol3" "$probe" sub -t zfd/a -t zfd/b -d 25000 -e 30 -p "$pattern"
start alice_d 1 45 "$alice1" "$probe" pub -m 2 -t zfd/a -m 1 -t zfd/b -n 30 -p "$pattern" -w 15000 -i 20
for p in alice_d carol_d bob_d; do finish "$p"; done
expect "carol received the 30 samples of zfd/a" grep -q -x 'received zfd/a 30 bad 0' "$work/carol_d.out"
expect "carol cannot subscribe zfd/b: topic creation fails with DDS_RETCODE_NOT_ALLOWED_BY_SECURITY (-13)" \
    grep -q -x 'topic failed zfd/b -13 Not Allowed By Security' "$work/carol_d.out"
expect "carol received nothing of zfd/b" bash -c "! grep -q '^received zfd/b' '$work/carol_d.out'"
expect "control: bob (subscribe zfd/*) received zfd/a and zfd/b" \
    bash -c "grep -q -x 'received zfd/a 30 bad 0' '$work/bob_d.out' && grep -q -x 'received zfd/b 30 bad 0' '$work/bob_d.out'"
for f in carol_d bob_d; do echo "      $f:"; show "$work/$f.out"; done
# carol has no publish grant at all: a writer on zfd/a is refused too.
start carol_pub 3 20 "$carol3" "$probe" pub -t zfd/a -n 1 -w 100 -l 100
finish carol_pub
expect "carol cannot publish zfd/a: writer creation fails with -13" \
    grep -q -x 'writer failed zfd/a -13 Not Allowed By Security' "$work/carol_pub.out"

# A topic the governance does not cover cannot be created at all.
start alice_other 1 20 "$alice1" "$probe" pub -t other_x -n 1 -w 10 -l 10
finish alice_other
expect "a topic outside the governance (other_x) is refused: -13, Cyclone logs code 142" \
    bash -c "grep -q -x 'topic failed other_x -13 Not Allowed By Security' '$work/alice_other.out' && grep -q 'in governance(code: 142)' '$work/alice_other.out'"
show "$work/alice_other.out"

echo "== e: expired, not yet valid, tampered"
for who in old future; do
    "$seccfg" "$H/$who" > "$work/$who.cfg" 2>&1
    show "$work/$who.cfg"
    who_xml=${alice_xml//"$H/alice"/$H/$who}
    start "${who}_create" 1 20 "$(net_xml 1)$who_xml" "$probe" create
    finish "${who}_create"
    create_rc=$?
    expect "$who: dds_create_participant returns -1 (DDS_RETCODE_ERROR), program exit $create_rc" \
        grep -q -x 'participant failed -1 Error' "$work/${who}_create.out"
    show "$work/${who}_create.out"
    start "${who}_perf" 1 20 "$(net_xml 1)$who_xml" ddsperf -D 2 ping
    finish "${who}_perf"
    perf_rc=$?
    expect "$who: ddsperf exits $perf_rc with 'dds_create_participant(domain -1) failed: -1'" \
        grep -q 'dds_create_participant(domain -1) failed: -1' "$work/${who}_perf.out"
done
expect "old: zfd-security-config says expired" grep -q '^expired: .*certificate expired on ' "$work/old.cfg"
expect "old: Cyclone logs 'certificate has expired'" grep -q 'certificate has expired' "$work/old_create.out"
expect "future: zfd-security-config says not yet valid" grep -q '^not_yet_valid: ' "$work/future.cfg"
expect "future: Cyclone logs 'certificate is not yet valid'" grep -q 'certificate is not yet valid' "$work/future_create.out"

tampered=$work/tampered
cp -r "$H/carol" "$tampered"
sed -i 's#<topic>zfd/a</topic>#<topic>zfd/*</topic>#' "$tampered/permissions.p7s"
"$seccfg" "$tampered" > "$work/tampered.cfg" 2>&1
expect "tampered permissions: zfd-security-config says bad_signature" grep -q '^bad_signature: ' "$work/tampered.cfg"
carol_xml=$("$seccfg" "$H/carol")
start tampered_create 3 20 "$(net_xml 3)${carol_xml//"$H/carol"/$tampered}" "$probe" create
finish tampered_create
expect "tampered permissions: Cyclone refuses the participant (-1)" grep -q -x 'participant failed -1 Error' "$work/tampered_create.out"
show "$work/tampered_create.out"

echo "$checks checks, $failures failed"
[[ $failures -eq 0 ]]
