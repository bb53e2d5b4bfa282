# shellcheck shell=bash
# setup-common.sh — shared by tools/run-tests.sh and tools/demo.sh (sourced,
# not run): the Debian packages step and the Meson configure step.

# install_missing PKG...: apt-get install the packages not installed yet
# (nothing, and no apt-get update, when all are there). Needs root or sudo.
install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "== installing missing packages: ${missing[*]}"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo > /dev/null || { echo "not root and no sudo; install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}

# configure_build DIR [OPTION...]: meson setup DIR (warnings as errors, no wrap
# downloads, and the given -D options); an existing DIR is reconfigured, and
# wiped if that fails.
configure_build() {
    local dir=$1
    shift
    local setup_args=(--wrap-mode=nodownload -Dwerror=true "$@")
    if [[ -f $dir/meson-private/coredata.dat ]]; then
        echo "== meson setup --reconfigure $dir"
        if ! meson setup --reconfigure "$dir" "${setup_args[@]}"; then
            echo "== reconfigure failed; wiping $dir"
            meson setup --wipe "$dir" "${setup_args[@]}"
        fi
    else
        echo "== meson setup $dir"
        meson setup "$dir" "${setup_args[@]}"
    fi
}
