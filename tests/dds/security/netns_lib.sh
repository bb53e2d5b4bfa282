# shellcheck shell=bash
# netns_lib.sh — sourced by cyclone_proof.sh and ddsperf_figures.sh: hosts in
# network namespaces joined by a Linux bridge, Cyclone DDS processes started
# in them (bounded by timeout, each with a CYCLONEDDS_URI naming its host's
# interface), and a cleanup that removes processes, namespaces and the work
# directory on every exit path.
#
#   netns_init TAG TOOL...   skip (exit 77) unless root and TOOLs exist; make $work; set traps
#   net_up N                 namespaces ${ns}br (bridge br0) and ${ns}h1..hN (veth zfdI, 10.77.0.I/24)
#   set_uri VAR I [DIR]      VAR = CYCLONEDDS_URI for host I (+ security of DIR, via
#                            $ZFD_SECURITY_CONFIG); exits the script if DIR is refused
#   start NAME I SECS URI CMD...   run CMD in host I, output in $work/NAME.out
#   finish NAME              wait for it; returns its exit status
#   show FILE...             print indented

netns_init() {
    local tag=$1 tool
    shift
    if [[ $(id -u) -ne 0 ]]; then echo "SKIP: needs root (network namespaces)"; exit 77; fi
    for tool in ip timeout "$@"; do
        command -v "$tool" > /dev/null || { echo "SKIP: $tool not found"; exit 77; }
    done
    seccfg=${ZFD_SECURITY_CONFIG:?ZFD_SECURITY_CONFIG must name zfd-security-config}
    ns=zfd$tag$$
    work=$(mktemp -d "${TMPDIR:-/tmp}/zfd-$tag.XXXXXX") || exit 1
    pids=()
    namespaces=()
    trap netns_cleanup EXIT
    trap 'exit 130' INT TERM HUP
}

netns_cleanup() {
    local pid n
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2> /dev/null; done
    for pid in "${pids[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2> /dev/null
        wait "$pid" 2> /dev/null
    done
    for n in "${namespaces[@]}"; do ip netns del "$n" 2> /dev/null; done
    rm -rf -- "$work"
}

net_up() {
    local hosts=$1 i
    ip netns add "${ns}br" || return 1
    namespaces+=("${ns}br")
    ip -n "${ns}br" link add br0 type bridge || return 1
    ip -n "${ns}br" link set br0 up || return 1
    for ((i = 1; i <= hosts; i++)); do
        ip netns add "${ns}h$i" || return 1
        namespaces+=("${ns}h$i")
        ip link add "zfd$i" netns "${ns}h$i" type veth peer name "p$i" netns "${ns}br" || return 1
        ip -n "${ns}br" link set "p$i" master br0 up || return 1
        ip -n "${ns}h$i" link set lo up || return 1
        ip -n "${ns}h$i" addr add "10.77.0.$i/24" dev "zfd$i" || return 1
        ip -n "${ns}h$i" link set "zfd$i" up || return 1
    done
}

net_xml() { echo "<General><Interfaces><NetworkInterface name=\"zfd$1\"/></Interfaces></General>"; }

set_uri() {
    local var=$1 host=$2 xml sec
    xml=$(net_xml "$host")
    if [[ $# -ge 3 ]]; then
        if ! sec=$("$seccfg" "$3" 2> "$work/set_uri.err"); then
            echo "FAIL  zfd-security-config refused $3:"
            show "$work/set_uri.err"
            exit 1
        fi
        xml+=$sec
    fi
    printf -v "$var" '%s' "$xml"
}

start() {
    local name=$1 host=$2 secs=$3 u=$4
    shift 4
    CYCLONEDDS_URI=$u ip netns exec "${ns}h$host" timeout -k 2 "$secs" "$@" > "$work/$name.out" 2>&1 &
    pids+=($!)
    printf -v "pid_$name" '%s' "$!"
}

finish() {
    local var=pid_$1
    wait "${!var}"
}

show() { sed 's/^/      | /' "$@"; }
