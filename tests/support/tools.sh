# Sourced by tests/wine/run.sh and tests/qemu/run.sh. ensure_tools SCRIPT
# installs what the caller listed in its arrays missing_pkgs (Debian packages)
# and missing_targets (rustup targets) when it runs as root with apt-get and
# rustup; otherwise it names them, with the commands that add them, and
# exits 1. An apt_update function of the caller's, if defined, runs instead
# of a plain `apt-get update`.
ensure_tools() {
    local script=$1
    ((${#missing_pkgs[@]} + ${#missing_targets[@]})) || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && command -v rustup >/dev/null; then
        if ((${#missing_pkgs[@]})); then
            echo "installing: ${missing_pkgs[*]}"
            if declare -F apt_update >/dev/null; then apt_update; else apt-get update -qq; fi
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
        fi
        if ((${#missing_targets[@]})); then
            echo "adding rustup targets: ${missing_targets[*]}"
            rustup target add "${missing_targets[@]}"
        fi
    else
        echo "$script: missing tools:" >&2
        if ((${#missing_pkgs[@]})); then
            echo "  Debian packages: ${missing_pkgs[*]} (sudo apt-get install --no-install-recommends ${missing_pkgs[*]})" >&2
        fi
        if ((${#missing_targets[@]})); then
            echo "  rustup targets: ${missing_targets[*]} (rustup target add ${missing_targets[*]})" >&2
        fi
        exit 1
    fi
}
