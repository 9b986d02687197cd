#!/usr/bin/env bash
# tests/tsan/run.sh: the concurrency run of tests/concurrency.rs (8 threads,
# 30 s, each thread with its own objects) under ThreadSanitizer, with the
# add-in and Rust's standard library instrumented.  Not part of CI: it needs
# the nightly toolchain with rust-src and builds std from source.
#
#   tests/tsan/run.sh [--tls] [THREADS [SECONDS]]
#
# --tls: the receiver serves HTTPS with a certificate from a CA made here
# with openssl, and the add-in trusts it (TrustedCertificates), so rustls
# and the TLS settings' cache run under TSan too.
#
# Steps: build the add-in with -Zsanitizer=thread and -Zbuild-std into
# target/tsan; build webhook1c-load (tests/load/ and tests/common/) with gcc
# -fsanitize=thread (linked with rustc's TSan runtime, see step 2);
# start tests/tsan/receiver.py (a separate, uninstrumented process) on
# 127.0.0.1; run `webhook1c-load LIB stress URL JSON THREADS SECONDS`; report
# the calls, the receiver's count and the number of ThreadSanitizer warnings.
# Exit status 0 only when there is no warning, every call was answered 200,
# the receiver got exactly one good request per call and none bad, and the
# host's memory ledger ended clean.
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$PWD
tls=0
if [ "${1:-}" = "--tls" ]; then
    tls=1
    shift
fi
threads=${1:-8}
seconds=${2:-30}
target=x86_64-unknown-linux-gnu
out=$root/target/tsan
mkdir -p "$out"
run=$(mktemp -d "$out/run.XXXXXX")

say() { printf '%s\n' "$*"; }

# No suppressions: the run is clean without any.  The receiver is a separate
# process, and nothing uninstrumented in this one (libc, ring's assembly)
# has been the subject of a report.
cargo +nightly --version >/dev/null 2>&1 || { say "needs the nightly toolchain: rustup toolchain install nightly"; exit 1; }
[ "$(rustup +nightly component list --installed 2>/dev/null | grep -c '^rust-src')" -gt 0 ] ||
    { say "needs rust-src for -Zbuild-std: rustup +nightly component add rust-src"; exit 1; }
command -v python3 >/dev/null || { say "needs python3 for the receiver"; exit 1; }

# 1. The add-in, instrumented together with std (-Zbuild-std): without that,
# std's own synchronisation (Arc, Mutex, channels, thread spawn/join) is
# invisible to TSan and every hand-over looks like a race.  RUSTFLAGS with
# --target does not reach build scripts and proc macros, which run on the
# build machine uninstrumented, as they should.
say "== building the add-in with -Zsanitizer=thread (nightly, build-std) into $out"
build_start=$(date +%s)
env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS="-Zsanitizer=thread" \
    cargo +nightly build -Zbuild-std --target "$target" --target-dir "$out"
build_seconds=$(($(date +%s) - build_start))
lib=$out/$target/debug/libwebhook1c.so
say "   built in ${build_seconds}s: $lib"

# (grep reads everything: with pipefail, an early exit would fail nm.)
[ "$(nm -D --undefined-only "$lib" | grep -c ' __tsan_func_entry$')" -gt 0 ] ||
    { say "$lib is not instrumented (no __tsan_func_entry)"; exit 1; }

# 2. The host: its C is compiled by gcc with -fsanitize=thread, but it is
# linked with the nightly toolchain's ThreadSanitizer runtime (LLVM's, the
# one rustc's instrumentation targets) instead of gcc's libtsan.  gcc 12's
# libtsan lacks __tsan_memcpy, __tsan_memmove and __tsan_memset, which
# current LLVM emits, so dlopen of the add-in fails against it with
# "undefined symbol: __tsan_memcpy".  One process must have exactly one
# TSan runtime, and -rdynamic exports it to the dlopen'ed add-in.
say "== building webhook1c-load with -fsanitize=thread (linked with rustc's TSan runtime)"
runtime=$(rustc +nightly --print sysroot)/lib/rustlib/$target/lib/librustc-nightly_rt.tsan.a
[ -f "$runtime" ] || { say "no TSan runtime at $runtime"; exit 1; }
load=$out/webhook1c-load-tsan
objects=()
for source in tests/common/*.c tests/load/*.c; do
    object=$run/$(basename "$(dirname "$source")")-$(basename "$source" .c).o
    cc -std=c11 -Wall -Wextra -Werror -pthread -g -fsanitize=thread -c "$source" -o "$object"
    objects+=("$object")
done
cc -pthread -o "$load" "${objects[@]}" \
    -Wl,--whole-archive "$runtime" -Wl,--no-whole-archive -rdynamic -ldl -lm -lrt

# 3. The receiver and the JSON it expects.
json=$run/body.json
printf '%s' '{"event":"document_created","number":"00-000123","text":"Привет, мир","lines":[1,2,3],"ok":true}' >"$json"
receiver_tls=()
scheme=http
sets=()
if [ "$tls" = 1 ]; then
    say "== making a CA and a certificate for 127.0.0.1 with openssl"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$run/ca.key" -out "$run/ca.pem" -days 2 -subj "/CN=Webhook1C TSan CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$run/server.key" -out "$run/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$run/ext.cnf"
    openssl x509 -req -in "$run/server.csr" -CA "$run/ca.pem" -CAkey "$run/ca.key" -CAcreateserial \
        -out "$run/server.pem" -days 2 -extfile "$run/ext.cnf" 2>/dev/null
    receiver_tls=("$run/server.pem" "$run/server.key")
    scheme=https
    sets=(--set "TrustedCertificates=$run/ca.pem")
fi
python3 tests/tsan/receiver.py "$json" "$run/port" "$run/count" "${receiver_tls[@]}" &
receiver=$!
cleanup() { kill "$receiver" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do
    [ -s "$run/port" ] && break
    sleep 0.1
done
[ -s "$run/port" ] || { say "the receiver did not start"; exit 1; }
url="$scheme://127.0.0.1:$(cat "$run/port")/hook"

# 4. The run.  halt_on_error=0: count every warning, not just the first.
say "== webhook1c-load stress $url $threads threads ${seconds}s"
set +e
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=4" \
    "$load" "$lib" stress "$url" "$json" "$threads" "$seconds" "${sets[@]}" >"$run/stdout" 2>"$run/stderr"
status=$?
set -e
kill -TERM "$receiver"
wait "$receiver" 2>/dev/null || true
trap - EXIT

# 5. The figures.
result=$(grep '^result mode=stress' "$run/stdout" || true)
memory=$(grep '^memory ' "$run/stdout" || true)
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
calls=$(field "$result" calls)
ok=$(field "$result" ok)
failed=$(field "$result" failed)
good=$(field "$(cat "$run/count" 2>/dev/null)" good)
bad=$(field "$(cat "$run/count" 2>/dev/null)" bad)
warnings=$(grep -c 'WARNING: ThreadSanitizer' "$run/stderr" || true)

say "   ${result:-no result line}"
say "   ${memory:-no memory line}"
say "   receiver: good=${good:-?} bad=${bad:-?} connections=$(field "$(cat "$run/count" 2>/dev/null)" connections)"
say "   ThreadSanitizer warnings: $warnings"
say "   exit status of webhook1c-load: $status"
say "   build: ${build_seconds}s; output kept in $run"

problems=()
[ "$status" -eq 0 ] || problems+=("webhook1c-load exited $status")
[ "$warnings" -eq 0 ] || problems+=("$warnings ThreadSanitizer warnings (see $run/stderr)")
[ -n "$calls" ] && [ "$calls" -gt 0 ] || problems+=("no calls")
[ "${failed:-1}" = 0 ] && [ "${ok:-}" = "${calls:-x}" ] || problems+=("calls=$calls ok=$ok failed=$failed")
[ "${good:-x}" = "${calls:-y}" ] && [ "${bad:-1}" = 0 ] ||
    problems+=("receiver good=$good bad=$bad, client calls=$calls")
case "$memory" in
*" live=0 foreign_frees=0 abi_errors=0"*) ;;
*) problems+=("host memory ledger: $memory") ;;
esac
if [ "${#problems[@]}" -gt 0 ]; then
    printf 'FAILED: %s\n' "${problems[@]}"
    grep -m1 -A30 'WARNING: ThreadSanitizer' "$run/stderr" || true
    exit 1
fi
say "OK: $calls calls from $threads threads, all answered 200 and received once, no ThreadSanitizer warning"
