#!/usr/bin/env bash
# Runs the Webhook1C benchmarks and plots them:
#   benches/run.sh            the full run (about 12 minutes on 2 cores)
#   benches/run.sh --quick    a smoke run with few calls
#   benches/run.sh --only queue,memory
# Builds the release library (what package.sh ships for Linux x86_64, same
# profile), runs benches/compare.rs (figures and ratios printed; CSV and a
# Markdown table in target/bench/), then draws benches/results/benchmarks.png
# with matplotlib and copies the CSV and table beside it. Needs curl and
# python3-venv (installed with apt-get when run as root); requests and
# matplotlib come from PyPI into target/py-venv; the floor and profile groups
# need nginx-light and linux-perf (installed the same way), and profile a
# library built with symbols into target/profile. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v cc >/dev/null || missing+=(gcc)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
# The queue-pg group runs a local PostgreSQL cluster (tests/support/pg.rs).
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
# The floor and profile groups post to a local nginx; profile records with perf.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
command -v perf >/dev/null || missing+=(linux-perf)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        echo "benches/run.sh: missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi

venv=target/py-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import requests, matplotlib' 2>/dev/null; then
    echo "==> installing requests and matplotlib into $venv"
    "$venv/bin/pip" install -q requests matplotlib
fi

# Built as package.sh builds it (alone, so with the release profile's fat
# LTO) and copied aside: cargo bench rebuilds target/release/libwebhook1c.so
# beside the rlib, without LTO.
echo "==> cargo rustc --release --crate-type cdylib (the library the C host loads)"
cargo rustc --locked --release --lib --crate-type cdylib
mkdir -p target/bench
cp target/release/libwebhook1c.so target/bench/libwebhook1c.so
export WEBHOOK1C_LIBRARY="${WEBHOOK1C_LIBRARY:-$PWD/target/bench/libwebhook1c.so}"

only="" prev=""
for arg in "$@"; do
    [ "$prev" = --only ] && only=$arg
    prev=$arg
done
if [ -z "$only" ] || [[ ",$only," == *,profile,* ]]; then
    echo "==> cargo rustc --release --crate-type cdylib with symbols into target/profile (what the profile group records)"
    CARGO_PROFILE_RELEASE_STRIP=false cargo rustc --locked --release --lib --crate-type cdylib --target-dir target/profile
    export WEBHOOK1C_PROFILE_LIBRARY="$PWD/target/profile/release/libwebhook1c.so"
fi

echo "==> cargo bench --bench compare $*"
WEBHOOK1C_BENCH_PYTHON="$venv/bin/python" cargo bench --locked --bench compare -- "$@"

mkdir -p benches/results
if [ -n "$only" ]; then
    # Some groups only: their table beside the full run's, which stays.
    cp target/bench/summary.md "benches/results/summary-${only//,/-}.md"
    echo "==> benches/results/summary-${only//,/-}.md"
    exit 0
fi
"$venv/bin/python" benches/plot.py target/bench/results.csv benches/results/benchmarks.png
cp target/bench/results.csv target/bench/summary.md benches/results/
echo "==> benches/results/: benchmarks.png, results.csv, summary.md"
