#!/usr/bin/env bash
# Runs every Webhook1C test: formatting and lints, the Rust unit tests, the
# HTTP core against local servers, and the C host that plays 1C (built with
# -Wall -Wextra -Werror and run under AddressSanitizer) against local HTTP,
# HTTPS, mTLS, proxy and misbehaving servers. Everything talks to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

missing=()
command -v cc >/dev/null || missing+=(gcc)
command -v nm >/dev/null || missing+=(binutils)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "tests/run.sh: missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        echo "tests/run.sh: the $component component is missing (rustup component add $component)" >&2
        exit 1
    fi
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test (unit, HTTP core, exports, C host under AddressSanitizer)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "\ntests: %d passed, %d failed\n", p, f }' "$log"
