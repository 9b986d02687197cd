#!/usr/bin/env bash
# Runs every Webhook1C test:
#   1. cargo fmt --check, bslfmt --check over the 1C samples (bslfmt from
#      PyPI, into target/py-venv) and cargo clippy -D warnings;
#   2. cargo test: unit tests, the HTTP core against local servers, the
#      export table, and the C host that plays 1C (built with -Wall -Wextra
#      -Werror, run under AddressSanitizer) against local HTTP, HTTPS, mTLS,
#      proxy and misbehaving servers; signatures checked by the reference
#      verifiers (standardwebhooks and svix from PyPI, into target/py-venv);
#   3. tests/wine/run.sh: the same C host suite against the Windows DLLs
#      under Wine (x86_64; x86 too where 32-bit Wine installs);
#   4. tests/qemu/run.sh: the same C host suite against the Linux ARM64
#      library, an aarch64 build of the host run by qemu-user;
#   5. package.sh: the release build of every platform, its checks (exports,
#      imports, glibc 2.17, ELF machine), a webhook sent through the packed
#      zip on x86_64 and on ARM64 under qemu-user, and the configuration
#      extension dump with its structural check;
#   6. tests/extension/check.py --self-test: that check catches each of a
#      list of breaks made in a copy of the dump.
# Everything talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

missing=()
command -v cc >/dev/null || missing+=(gcc)
command -v nm >/dev/null || missing+=(binutils)
command -v python3 >/dev/null || missing+=(python3)
if command -v python3 >/dev/null && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi
# PostgreSQL: the QueueDatabase tests run a throwaway cluster of it
# (tests/support/pg.rs: initdb and pg_ctl on a free port).
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || command -v pg_ctl >/dev/null ||
    missing+=(postgresql)
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

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The reference Standard Webhooks verifiers (PyPI) for tests/signatures.rs,
# pinned so that a new release cannot change what counts as verified.
verifiers="standardwebhooks==1.3.0 svix==2.9.1"
if [ ! -x target/py-venv/bin/python ] ||
    ! target/py-venv/bin/python -c 'import importlib.metadata as m, sys; sys.exit(0 if (m.version("standardwebhooks"), m.version("svix")) == ("1.3.0", "2.9.1") else 1)' 2>/dev/null; then
    step "installing the verifiers ($verifiers) into target/py-venv"
    [ -x target/py-venv/bin/python ] || python3 -m venv target/py-venv
    # shellcheck disable=SC2086 # two requirement words
    target/py-venv/bin/pip install -q $verifiers
fi

# The 1C code formatter (PyPI, pinned there) for the .bsl files of 1c-samples/
# and of the extension.
bslfmt=$(tests/support/bslfmt.sh)

step "cargo fmt --check"
cargo fmt --all -- --check

step "bslfmt --check: the 1C samples are formatted as bslfmt formats them"
mapfile -d '' bsl_files < <(find 1c-samples -name '*.bsl' -print0 | sort -z)
"$bslfmt" --check --diff -- "${bsl_files[@]}"

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test (unit, HTTP core, exports, C host under AddressSanitizer)"
cargo test --locked 2>&1 | tee -a "$log"

step "the C host suite against the Windows DLLs under Wine"
tests/wine/run.sh 2>&1 | tee -a "$log"

step "the C host suite against the Linux ARM64 library under qemu-user"
tests/qemu/run.sh 2>&1 | tee -a "$log"

step "package.sh: release builds, their checks, a webhook through the zip, the extension dump"
./package.sh

step "the extension dump: its structural check breaks a copy in 15 ways and catches each"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
python3 tests/extension/check.py "dist/Webhook1C-$version-extension" "dist/Webhook1C-$version.zip" "$bslfmt" --self-test

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "\ntests: %d passed, %d failed\n", p, f }' "$log"
