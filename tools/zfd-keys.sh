#!/usr/bin/env bash
# zfd-keys.sh — a small test PKI for the secured DDS bridge (DDS Security,
# Cyclone DDS's built-in plugins): CAs, signed governance, and one directory
# of credentials per host.  Needs bash and Debian's openssl, nothing else.
#
# Usage:
#   zfd-keys.sh init DIR [options]          make a new PKI in DIR (DIR must not exist or be empty)
#     --days N              validity of both CA certificates (default 3650)
#     --domain ID|MIN-MAX   DDS domains the governance and permissions cover (default 0-230)
#     --extra-topic EXPR    also cover topic EXPR (a glob, no "zfd/" prefix added) in the
#                           governance, protected like zfd/* (repeatable; e.g. 'DDSPerf*' for ddsperf)
#     --rtps-protection K   NONE (default), SIGN or ENCRYPT: protection of whole RTPS messages,
#                           on top of the per-topic data and metadata encryption
#
#   zfd-keys.sh host DIR NAME [options]     make DIR/hosts/NAME: key, certificate (subject CN=NAME)
#                                           and signed permissions for one host
#     --publish GLOB        may publish topics zfd/GLOB (repeatable)
#     --subscribe GLOB      may subscribe to topics zfd/GLOB (repeatable)
#                           (publish and subscribe of the discovery topic zfd/segments are
#                           always granted; a host with neither option can only discover)
#     --extra-publish EXPR  may publish topic EXPR (no prefix added; repeatable)
#     --extra-subscribe EXPR may subscribe to topic EXPR (no prefix added; repeatable)
#     --partition EXPR      grants hold for partition EXPR (repeatable; default: only the
#                           default partition, which is all the bridge uses)
#     --days N              validity of the certificate and the permissions (default 365)
#     --expired             for tests: a certificate that expired yesterday
#     --not-yet-valid       for tests: a certificate valid from tomorrow
#                           (both touch the certificate only; the permissions stay valid)
#
#   zfd-keys.sh help                        this text
#
# Host directory (give it to `zfd bridge --security DIR`; copy it to the host, keep it private):
#   identity_ca.pem  identity_certificate.pem  identity_private_key.pem
#   permissions_ca.pem  governance.p7s  permissions.p7s  (+ permissions.xml, the unsigned text)
# A host made by another PKI (a second `init`) is a host "signed by a different CA".
#
# Exit status: 0 done; 1 openssl or file-system failure; 2 usage error;
#              3 refused to overwrite (nothing was changed); 4 DIR is not a PKI made by `init`.
set -euo pipefail
umask 077
export TZ=UTC

prog=${ZFD_KEYS_NAME:-${0##*/}}   # "zfd keys" when run by zfd
readonly E_FAIL=1 E_USAGE=2 E_EXISTS=3 E_NOPKI=4
# The OMG schema locations Cyclone's own examples use.
readonly GOV_XSD=https://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_governance.xsd
readonly PERM_XSD=https://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_permissions.xsd

# The header comment; run by zfd, the commands are named as zfd's ("zfd keys init").
usage() {
    awk -v prog="$prog" 'NR > 1 && !/^#/ { exit }
        NR > 1 { sub(/^# ?/, ""); if (prog != "zfd-keys.sh") gsub(/zfd-keys\.sh/, prog); print }' "$0"
}
die() { local code=$1; shift; echo "$prog: $*" >&2; exit "$code"; }
usage_error() { echo "$prog: $*" >&2; echo "Run '$prog help' for usage." >&2; exit $E_USAGE; }

# Run openssl quietly; on failure show what it said and stop.
ossl() {
    local out
    if ! out=$(openssl "$@" 2>&1); then
        echo "$prog: openssl $1 failed:" >&2
        printf '%s\n' "$out" | sed 's/^/  /' >&2
        exit $E_FAIL
    fi
}

# Timestamps from bash's own clock (no date(1) needed). $1 = offset in seconds.
asn1_time() { printf '%(%Y%m%d%H%M%S)TZ' $((EPOCHSECONDS + $1)); }
xml_time() { printf '%(%Y-%m-%dT%H:%M:%S)TZ' $((EPOCHSECONDS + $1)); }

need_value() { [[ $# -ge 2 && -n $2 ]] || usage_error "option $1 needs a value"; }
check_days() { [[ $1 =~ ^[1-9][0-9]{0,5}$ ]] || usage_error "--days wants a positive whole number of days, not '$1'"; }
# Topic globs: Cyclone topic names hold letters, digits, '_' and '/'; globs add * ? [ ] ! -.
# Anything else (XML specials, ',', spaces) is refused rather than escaped.
readonly GLOB_RE='^[]A-Za-z0-9_/*?![-]+$'   # ']' first and '-' last: literal in a bracket
check_glob() {
    [[ $2 =~ $GLOB_RE ]] ||
        usage_error "$1 '$2': use letters, digits, _ / and the glob characters * ? [ ] ! - only"
}

# Domains: "ID" or "MIN-MAX" -> the <domains> element.
domains_xml() {
    local indent=$1 spec=$2
    if [[ $spec == *-* ]]; then
        printf '%s<domains><id_range><min>%s</min><max>%s</max></id_range></domains>\n' "$indent" "${spec%-*}" "${spec#*-}"
    else
        printf '%s<domains><id>%s</id></domains>\n' "$indent" "$spec"
    fi
}

# The OpenSSL configuration of one PKI: no dependence on /etc/ssl/openssl.cnf.
# Paths come from the environment (ZFD_CA_DIR) so that no path is written into it.
write_openssl_cnf() {
    cat > "$1" <<'EOF'
# OpenSSL configuration of this zerodds-flatdata test PKI (written by zfd-keys.sh).
[ ca ]
default_ca = identity_ca

[ identity_ca ]
dir            = $ENV::ZFD_CA_DIR
database       = $dir/index.txt
serial         = $dir/serial
new_certs_dir  = $dir/issued
certificate    = $dir/identity_ca.pem
private_key    = $dir/identity_ca_key.pem
default_md     = sha256
policy         = policy_cn
unique_subject = no
email_in_dn    = no
copy_extensions = none
x509_extensions = host_ext

[ policy_cn ]
commonName = supplied

[ host_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

[ identity_ca_ext ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

# The permissions CA signs S/MIME documents itself, so it needs digitalSignature
# (OpenSSL's S/MIME signer check rejects a key usage without it).
[ permissions_ca_ext ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
}

# Cyclone's authentication plugin accepts only RSA-2048 and EC prime256v1 keys.
new_ec_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# Sign an XML document as S/MIME (multipart/signed, signer certificate included,
# text/plain content: Cyclone verifies with PKCS7_TEXT, so -text is required).
smime_sign() { # in out cadir
    ossl smime -sign -text -in "$1" -out "$2" \
        -signer "$3/permissions_ca.pem" -inkey "$3/permissions_ca_key.pem"
}

topic_rule_xml() { # expression comment
    cat <<EOF
        <!-- $2 -->
        <topic_rule>
          <topic_expression>$1</topic_expression>
          <enable_discovery_protection>true</enable_discovery_protection>
          <enable_liveliness_protection>true</enable_liveliness_protection>
          <enable_read_access_control>true</enable_read_access_control>
          <enable_write_access_control>true</enable_write_access_control>
          <metadata_protection_kind>ENCRYPT</metadata_protection_kind>
          <data_protection_kind>ENCRYPT</data_protection_kind>
        </topic_rule>
EOF
}

governance_xml() { # domains rtps extra-topics...
    local domains=$1 rtps=$2 t
    shift 2
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- zerodds-flatdata governance: every participant must authenticate; data and
     metadata of zfd/* topics are encrypted; first matching topic_rule wins. -->
<dds xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="$GOV_XSD">
  <domain_access_rules>
    <domain_rule>
$(domains_xml '      ' "$domains")
      <allow_unauthenticated_participants>false</allow_unauthenticated_participants>
      <enable_join_access_control>true</enable_join_access_control>
      <discovery_protection_kind>ENCRYPT</discovery_protection_kind>
      <liveliness_protection_kind>ENCRYPT</liveliness_protection_kind>
      <rtps_protection_kind>$rtps</rtps_protection_kind>
      <topic_access_rules>
$(topic_rule_xml zfd/segments 'segment discovery (reliable, transient-local): names, geometry, type hashes')
$(topic_rule_xml 'zfd/*' 'one topic per shared-memory segment (Cyclone matches * across /)')
EOF
    for t in "$@"; do
        topic_rule_xml "$t" 'extra topic (zfd-keys.sh init --extra-topic)'
    done
    cat <<EOF
      </topic_access_rules>
    </domain_rule>
  </domain_access_rules>
</dds>
EOF
}

# <publish> or <subscribe> criteria: $1 = element, $2 = newline-separated topics, $3 = partitions.
criteria_xml() {
    local t p
    echo "        <$1>"
    echo "          <topics>"
    while IFS= read -r t; do [[ -n $t ]] && echo "            <topic>$t</topic>"; done <<< "$2"
    echo "          </topics>"
    if [[ -n $3 ]]; then
        echo "          <partitions>"
        while IFS= read -r p; do [[ -n $p ]] && echo "            <partition>$p</partition>"; done <<< "$3"
        echo "          </partitions>"
    fi
    echo "        </$1>"
}

permissions_xml() { # name subject domains not_before not_after publish subscribe partitions
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- zerodds-flatdata permissions of host $1 -->
<dds xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="$PERM_XSD">
  <permissions>
    <grant name="zfd_host_$1">
      <subject_name>$2</subject_name>
      <validity>
        <not_before>$4</not_before>
        <not_after>$5</not_after>
      </validity>
      <allow_rule>
$(domains_xml '        ' "$3")
$(criteria_xml publish "$6" "$8")
$(criteria_xml subscribe "$7" "$8")
      </allow_rule>
      <default>DENY</default>
    </grant>
  </permissions>
</dds>
EOF
}

# A fresh sibling directory that becomes $1 by one rename at the end, so a
# failure never leaves a half-made PKI or host behind.
staging_dir() {
    local parent
    parent=$(dirname -- "$1")
    mkdir -p -- "$parent" || die $E_FAIL "cannot create $parent"
    mktemp -d "$parent/.zfd-keys.XXXXXX" || die $E_FAIL "cannot create a directory in $parent"
}
# -h or --help anywhere among a command's arguments.
wants_help() {
    local a
    for a in "$@"; do [[ $a == -h || $a == --help ]] && return 0; done
    return 1
}

staging=
cleanup() { [[ -n $staging && -d $staging ]] && rm -rf -- "$staging"; return 0; }
trap cleanup EXIT

cmd_init() {
    wants_help "$@" && { usage; exit 0; }
    [[ $# -ge 1 && $1 != -* ]] || usage_error "init: missing DIR"
    local dir=$1 days=3650 domains=0-230 rtps=NONE extra=()
    shift
    while [[ $# -gt 0 ]]; do
        case $1 in
            --days) need_value "$@"; check_days "$2"; days=$2; shift 2 ;;
            --domain)
                need_value "$@"
                [[ $2 =~ ^[0-9]{1,3}(-[0-9]{1,3})?$ ]] || usage_error "--domain wants ID or MIN-MAX, not '$2'"
                domains=$2; shift 2 ;;
            --extra-topic) need_value "$@"; check_glob "$1" "$2"; extra+=("$2"); shift 2 ;;
            --rtps-protection)
                need_value "$@"
                [[ $2 == NONE || $2 == SIGN || $2 == ENCRYPT ]] || usage_error "--rtps-protection wants NONE, SIGN or ENCRYPT"
                rtps=$2; shift 2 ;;
            *) usage_error "init: unknown option '$1'" ;;
        esac
    done
    if [[ -e $dir && ! -d $dir ]] || [[ -d $dir && -n $(ls -A -- "$dir") ]]; then
        die $E_EXISTS "$dir already exists and is not an empty directory; refusing to overwrite it"
    fi

    staging=$(staging_dir "$dir")
    local ca=$staging/ca
    mkdir -p "$ca/issued" "$staging/hosts"
    : > "$ca/index.txt"
    echo 1000 > "$ca/serial"
    write_openssl_cnf "$ca/openssl.cnf"
    export ZFD_CA_DIR=$ca
    # The CA subjects carry the PKI's directory name, so two PKIs (e.g. one made
    # for tests as "another CA") are told apart in messages; -subj specials go.
    local label
    label=$(basename -- "$dir")
    label=${label//[^A-Za-z0-9._-]/_}
    new_ec_key "$ca/identity_ca_key.pem"
    ossl req -config "$ca/openssl.cnf" -new -x509 -sha256 -days "$days" -extensions identity_ca_ext \
        -key "$ca/identity_ca_key.pem" -subj "/O=zerodds-flatdata/OU=$label/CN=zfd identity CA" \
        -out "$ca/identity_ca.pem"
    new_ec_key "$ca/permissions_ca_key.pem"
    ossl req -config "$ca/openssl.cnf" -new -x509 -sha256 -days "$days" -extensions permissions_ca_ext \
        -key "$ca/permissions_ca_key.pem" -subj "/O=zerodds-flatdata/OU=$label/CN=zfd permissions CA" \
        -out "$ca/permissions_ca.pem"
    governance_xml "$domains" "$rtps" ${extra[@]+"${extra[@]}"} > "$ca/governance.xml"
    smime_sign "$ca/governance.xml" "$ca/governance.p7s" "$ca"
    printf 'domains=%s\n' "$domains" > "$ca/settings"
    chmod 644 "$ca/identity_ca.pem" "$ca/permissions_ca.pem" "$ca/governance.xml" "$ca/governance.p7s"

    [[ -d $dir ]] && rmdir -- "$dir"
    mv -- "$staging" "$dir" || die $E_FAIL "cannot move the new PKI to $dir"
    staging=
    chmod 700 "$dir"
    echo "PKI made in $dir (keys of both CAs in $dir/ca; keep them private)."
    echo "Next: $prog host $dir NAME --publish GLOB --subscribe GLOB"
}

cmd_host() {
    wants_help "$@" && { usage; exit 0; }
    [[ $# -ge 2 && $1 != -* && $2 != -* ]] || usage_error "host: missing DIR or NAME"
    local dir=$1 name=$2 days=365 when=valid
    local pub=$'zfd/segments\n' sub=$'zfd/segments\n' parts=''
    shift 2
    # NAME becomes CN=NAME; Cyclone compares subjects by splitting at ',', '/', '|' and '=',
    # so those (and XML specials) cannot appear in it.
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] ||
        usage_error "host NAME '$name': use letters, digits, '.', '_', '-' (at most 64, first a letter or digit)"
    while [[ $# -gt 0 ]]; do
        case $1 in
            --publish) need_value "$@"; check_glob "$1" "$2"; pub+="zfd/$2"$'\n'; shift 2 ;;
            --subscribe) need_value "$@"; check_glob "$1" "$2"; sub+="zfd/$2"$'\n'; shift 2 ;;
            --extra-publish) need_value "$@"; check_glob "$1" "$2"; pub+="$2"$'\n'; shift 2 ;;
            --extra-subscribe) need_value "$@"; check_glob "$1" "$2"; sub+="$2"$'\n'; shift 2 ;;
            --partition) need_value "$@"; check_glob "$1" "$2"; parts+="$2"$'\n'; shift 2 ;;
            --days) need_value "$@"; check_days "$2"; days=$2; shift 2 ;;
            --expired) [[ $when == valid ]] || usage_error "--expired and --not-yet-valid exclude each other"; when=expired; shift ;;
            --not-yet-valid) [[ $when == valid ]] || usage_error "--expired and --not-yet-valid exclude each other"; when=future; shift ;;
            *) usage_error "host: unknown option '$1'" ;;
        esac
    done
    local ca=$dir/ca
    local f
    for f in identity_ca.pem identity_ca_key.pem permissions_ca.pem permissions_ca_key.pem governance.p7s settings openssl.cnf index.txt serial; do
        [[ -f $ca/$f ]] || die $E_NOPKI "$dir is not a PKI made by '$prog init' ($ca/$f is missing)"
    done
    local out=$dir/hosts/$name
    [[ -e $out ]] && die $E_EXISTS "$out already exists; refusing to overwrite it (remove it to make host $name again)"
    local domains
    domains=$(sed -n 's/^domains=//p' "$ca/settings")
    [[ $domains =~ ^[0-9]{1,3}(-[0-9]{1,3})?$ ]] || die $E_NOPKI "$ca/settings holds no valid domains= line"

    # Validity. Normal certificates start an hour back (clock skew between hosts).
    local start end
    case $when in
        valid) start=$(asn1_time -3600); end=$(asn1_time $((days * 86400))) ;;
        expired) start=$(asn1_time -172800); end=$(asn1_time -86400) ;;
        future) start=$(asn1_time 86400); end=$(asn1_time $(((days + 1) * 86400))) ;;
    esac

    staging=$(staging_dir "$out")
    ZFD_CA_DIR=$(cd -- "$ca" && pwd) || die $E_FAIL "cannot enter $ca"
    export ZFD_CA_DIR
    new_ec_key "$staging/identity_private_key.pem"
    ossl req -config "$ca/openssl.cnf" -new -sha256 -key "$staging/identity_private_key.pem" \
        -subj "/CN=$name" -out "$staging/request.csr"
    ossl ca -config "$ca/openssl.cnf" -batch -notext -startdate "$start" -enddate "$end" \
        -in "$staging/request.csr" -out "$staging/identity_certificate.pem"
    rm -f "$staging/request.csr"

    # The grant's subject is the certificate's subject as Cyclone prints it (RFC 2253).
    local subject
    subject=$(openssl x509 -in "$staging/identity_certificate.pem" -noout -subject -nameopt RFC2253) ||
        die $E_FAIL "cannot read back the new certificate"
    subject=${subject#subject=}
    permissions_xml "$name" "$subject" "$domains" "$(xml_time -3600)" "$(xml_time $((days * 86400)))" \
        "$pub" "$sub" "$parts" > "$staging/permissions.xml"
    smime_sign "$staging/permissions.xml" "$staging/permissions.p7s" "$ca"
    cp -- "$ca/identity_ca.pem" "$ca/permissions_ca.pem" "$ca/governance.p7s" "$staging/"
    chmod 644 "$staging"/*.pem "$staging"/*.p7s "$staging/permissions.xml"
    chmod 600 "$staging/identity_private_key.pem"

    mkdir -p -- "$dir/hosts"
    mv -- "$staging" "$out" || die $E_FAIL "cannot move the new host to $out"
    staging=
    chmod 700 "$out"
    case $when in
        valid) echo "host $name made in $out (certificate valid for $days days)" ;;
        expired) echo "host $name made in $out (certificate EXPIRED, for tests)" ;;
        future) echo "host $name made in $out (certificate NOT YET VALID, for tests)" ;;
    esac
}

command -v openssl > /dev/null || die $E_FAIL "openssl not found (apt-get install openssl)"
[[ $# -ge 1 ]] || { usage >&2; exit $E_USAGE; }
command_name=$1
shift
case $command_name in
    init) cmd_init "$@" ;;
    host) cmd_host "$@" ;;
    help | -h | --help) usage ;;
    *) usage_error "unknown command '$command_name'" ;;
esac
