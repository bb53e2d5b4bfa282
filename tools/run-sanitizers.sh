#!/usr/bin/env bash
# run-sanitizers.sh — sanitizer builds and fuzzing (reliability.md §4: T1, T2, F1, F2).
#
# Stages, each in its own build directory with its own meson-logs/testlog.json:
#   asan  build-asan: g++, -Db_sanitize=address,undefined. The whole meson test
#         suite except the bench suite and the tests whose host process is not
#         instrumented (Python ctypes / Python module, Rust, pkg-config consumer
#         and anything else that loads the .so from an uninstrumented host:
#         ASan aborts there with "ASan runtime does not come first").
#         Includes the hostile-peer test (suite stress) and tsan-stress.
#   tsan  build-tsan: clang, -Db_sanitize=thread. Suite 'tsan' (tsan_stress_test:
#         writer + 1/4/31 readers, spin and blocking).
#   fuzz  build-fuzz: clang, libFuzzer + ASan + UBSan (the core is built with
#         -fsanitize=fuzzer-no-link for coverage). Suite 'fuzz': the seed
#         corpus once (regression), then ZFD_FUZZ_SECONDS (default 120) of fuzzing.
#
# Usage: tools/run-sanitizers.sh [asan] [tsan] [fuzz]     (default: all three)
# Environment:
#   ASAN_BUILD_DIR, TSAN_BUILD_DIR, FUZZ_BUILD_DIR   build directories (default
#       build-asan, build-tsan, build-fuzz, relative to the repository root;
#       .ci/run reads the same variables)
#   ZFD_FUZZ_SECONDS (120), ZFD_HOSTILE_SECONDS (20), ZFD_TSAN_STRESS_MS (2500)
#   ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS   override the defaults below
# Exit status: 0 when every stage passed; otherwise 1. A sanitizer report fails
# its test (abort_on_error / halt_on_error / exitcode=66); nothing is suppressed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 exitcode=66}
export ZFD_FUZZ_SECONDS=${ZFD_FUZZ_SECONDS:-120}
export ZFD_HOSTILE_SECONDS=${ZFD_HOSTILE_SECONDS:-20}
export ZFD_TSAN_STRESS_MS=${ZFD_TSAN_STRESS_MS:-2500}

stages=("$@")
if [[ ${#stages[@]} -eq 0 ]]; then stages=(asan tsan fuzz); fi

common_setup=(--wrap-mode=nodownload -Db_lundef=false)
jobs=(--num-processes 2)

# configure DIR CC CXX [meson options...]: set up, or reconfigure an existing
# directory (wiped and set up again if that fails or the compiler differs).
configure() {
    local dir=$1 cc=$2 cxx=$3
    shift 3
    if [[ -f $dir/meson-private/coredata.dat ]]; then
        local have
        have=$(meson introspect "$dir" --compilers 2> /dev/null |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["host"]["cpp"]["id"])' 2> /dev/null)
        local want=gcc
        [[ $cxx == clang* ]] && want=clang
        if [[ $have == "$want" ]] && meson setup --reconfigure "$dir" "${common_setup[@]}" "$@"; then
            return 0
        fi
        echo "== wiping $dir (compiler '$have', want '$want', or reconfigure failed)"
        rm -rf "$dir"
    fi
    CC=$cc CXX=$cxx meson setup "$dir" "${common_setup[@]}" "$@"
}

# asan_plan build|run DIR: the ASan stage's plan from `meson introspect`.
#   build: the outputs (relative to DIR) the selected tests need, one per line;
#          only these are compiled, not benchmarks, examples or language bindings.
#   run:   the names of the selected tests, one per line.
# Excluded tests and the reason go to stderr (in run mode):
#   - suites bench (timing, not correctness) and fuzz (clang only);
#   - tests whose host process is not instrumented: Python loading the
#     library (ctypes, the module), Rust, the pkg-config consumer (builds its
#     own uninstrumented binary). A Python script that only spawns our
#     executables (no ctypes/cffi/dlopen/import zerodds) stays in;
#   - executables that define malloc themselves (the hotpath test counts
#     allocations by interposing malloc -> __libc_malloc): that replaces the
#     ASan allocator and crashes in ASan's own start-up, before any test code.
asan_plan() {
    meson introspect "$2" --tests --targets | python3 -c '
import json, os, re, subprocess, sys

mode, build_dir = sys.argv[1], os.path.realpath(sys.argv[2])
data = json.load(sys.stdin)
EXCLUDED_SUITES = {"bench", "fuzz"}
UNINSTRUMENTED_NAME = re.compile(r"python|ctypes|rust|cargo|pkg-?config|node|golang|java|dlopen|zfdhosts", re.I)
UNINSTRUMENTED_HOST = {"python", "cargo", "rustc", "node", "go", "java", "pytest"}
outputs = {t["id"]: t["filename"] for t in data["targets"]}
by_file = {f: tid for tid, files in outputs.items() for f in files}

def excluded(t):
    suites = {s.split(":", 1)[-1] for s in t.get("suite", [])}
    cmd = t.get("cmd") or [""]
    host = re.sub(r"[0-9.]+$", "", os.path.basename(cmd[0]))
    if suites & EXCLUDED_SUITES:
        return "suite " + ",".join(sorted(suites & EXCLUDED_SUITES))
    if UNINSTRUMENTED_NAME.search(t["name"]):
        return "uninstrumented host process (%s)" % t["name"]
    scripts = [a for a in cmd[1:] if str(a).endswith(".py")]
    if any(str(a).endswith(".rs") for a in cmd[1:]):
        return "uninstrumented host process (rust)"
    if host in UNINSTRUMENTED_HOST or scripts:
        # A Python script that only spawns our (instrumented) executables is
        # fine; one that loads the library into the interpreter is not.
        if host != "python" or not scripts or any(loads_library(p) for p in scripts):
            return "uninstrumented host process (%s)" % host
    return None

def loads_library(script):
    try:
        with open(script, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return True
    return re.search(r"\bctypes\b|\bcffi\b|CDLL|dlopen|^\s*(import|from)\s+zerodds", text, re.M) is not None

def interposes_malloc(path):
    try:
        out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True).stdout
    except OSError:
        return False
    return any(line.split()[-1:] == ["malloc"] for line in out.splitlines())

selected = []
for t in data["tests"]:
    why = excluded(t)
    if why:
        if mode == "run":
            print("   excluded: %s (%s)" % (t["name"], why), file=sys.stderr)
        continue
    selected.append(t)

if mode == "build":
    want = set()
    for t in selected:
        ids = list(t.get("depends", []))
        ids += [by_file[a] for a in t.get("cmd", []) if a in by_file]
        for tid in ids:
            for f in outputs.get(tid, []):
                want.add(os.path.relpath(f, build_dir))
    print("\n".join(sorted(want)))
else:
    for t in selected:
        exe = (t.get("cmd") or [""])[0]
        if exe.startswith(build_dir + os.sep) and interposes_malloc(exe):
            print("   excluded: %s (defines malloc: replaces the ASan allocator)" % t["name"], file=sys.stderr)
            continue
        print(t["name"])
' "$1" "$2"
}

# A gtest case excluded from the ASan run (GTEST_FILTER), and why:
#   MpTest.ReaderWritingIntoATakenSampleDiesOfSigsegvAndNobodyElseNotices: its
#   worker writes into the read-only payload mapping on purpose and the test
#   expects death by SIGSEGV; ASan catches the SEGV, reports it and aborts
#   (SIGABRT), so the test would fail on the signal number alone.
ASAN_GTEST_EXCLUDE=${ASAN_GTEST_EXCLUDE:-MpTest.ReaderWritingIntoATakenSampleDiesOfSigsegvAndNobodyElseNotices}

declare -A stage_status stage_seconds

stage_asan() {
    local dir=$ASAN_BUILD_DIR
    rm -f "$dir/meson-logs/testlog.json"
    configure "$dir" gcc g++ -Db_sanitize=address,undefined || return 1
    local outputs names
    outputs=$(asan_plan build "$dir") || return 1
    mapfile -t outputs <<< "$outputs"
    echo "== asan: building ${#outputs[@]} test outputs (and what they link)"
    ninja -C "$dir" "${outputs[@]}" || return 1
    names=$(asan_plan run "$dir") || return 1
    mapfile -t names <<< "$names"
    echo "== asan: running ${#names[@]} tests; gtest filter -$ASAN_GTEST_EXCLUDE"
    GTEST_FILTER="-$ASAN_GTEST_EXCLUDE" meson test -C "$dir" --no-rebuild --print-errorlogs \
        "${jobs[@]}" --timeout-multiplier 3 "${names[@]}"
}

stage_tsan() {
    local dir=$TSAN_BUILD_DIR
    rm -f "$dir/meson-logs/testlog.json"
    configure "$dir" clang clang++ -Db_sanitize=thread || return 1
    meson compile -C "$dir" tests/fuzz/tsan_stress_test || return 1
    meson test -C "$dir" --no-rebuild --print-errorlogs --timeout-multiplier 3 --suite tsan
}

stage_fuzz() {
    local dir=$FUZZ_BUILD_DIR
    rm -f "$dir/meson-logs/testlog.json"
    configure "$dir" clang clang++ -Db_sanitize=address,undefined \
        -Dcpp_args=-fsanitize=fuzzer-no-link || return 1
    meson compile -C "$dir" tests/fuzz/fuzz_segment tests/fuzz/fuzz_seed_gen || return 1
    meson test -C "$dir" --no-rebuild --print-errorlogs --suite fuzz
}

missing=()
for tool in meson ninja python3 g++; do command -v "$tool" > /dev/null || missing+=("$tool"); done
for s in "${stages[@]}"; do
    if [[ $s == tsan || $s == fuzz ]]; then
        command -v clang++ > /dev/null || missing+=(clang++)
        break
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "run-sanitizers: missing ${missing[*]} (tools/run-tests.sh installs them)" >&2
    exit 1
fi

overall=0
total_start=$(date +%s)
for s in "${stages[@]}"; do
    case $s in
    asan | tsan | fuzz) ;;
    *)
        echo "unknown stage '$s' (asan, tsan, fuzz)" >&2
        exit 2
        ;;
    esac
    echo
    echo "======== sanitizer stage: $s"
    start=$(date +%s)
    rc=0
    "stage_$s" || rc=$?
    stage_seconds[$s]=$(($(date +%s) - start))
    stage_status[$s]=$rc
    [[ $rc -ne 0 ]] && overall=1
done
total=$(($(date +%s) - total_start))

echo
echo "======== sanitizer stages"
for s in "${stages[@]}"; do
    result=passed
    [[ ${stage_status[$s]} -ne 0 ]] && result="FAILED (exit ${stage_status[$s]})"
    printf '  %-5s %4d s  %s\n' "$s" "${stage_seconds[$s]}" "$result"
done
printf '  total %4d s (%dm%02ds)\n' "$total" $((total / 60)) $((total % 60))
exit $overall
