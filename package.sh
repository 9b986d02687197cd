#!/usr/bin/env bash
# Builds the Webhook1C package, dist/Webhook1C-<version>.zip (MANIFEST.XML plus
# the libraries), then proves it the way 1C uses it: reads MANIFEST.XML from the
# zip, picks this machine's library, loads it through the C host in tests/host
# and sends one webhook to a local receiver.
#
# Needs: the Rust toolchain (rustup), a C compiler, zip and unzip. Run as root
# it installs missing Debian packages with apt-get; otherwise it names them.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '==> %s\n' "$*"; }
die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------------
missing=()
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
command -v cc >/dev/null || missing+=(gcc)
command -v zip >/dev/null || missing+=(zip)
command -v unzip >/dev/null || missing+=(unzip)
command -v nm >/dev/null || missing+=(binutils)
if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
        die "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
    fi
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
dist=dist
stage="$dist/stage"
zipfile="$dist/Webhook1C-$version.zip"
check_dir=target/package-check

# ---- build -------------------------------------------------------------------
linux_target=x86_64-unknown-linux-gnu
say "building the release library for $linux_target"
cargo build --release --locked --target "$linux_target"
linux_lib="target/$linux_target/release/libwebhook1c.so"

say "checking exports"
exports=$(nm -D --defined-only "$linux_lib" | awk '{print $NF}' | sort | tr '\n' ' ')
expected="DestroyObject GetAttachType GetClassNames GetClassObject SetPlatformCapabilities "
[ "$exports" = "$expected" ] || die "unexpected exports in $linux_lib: $exports"
echo "    $linux_lib: $exports"

# ---- pack --------------------------------------------------------------------
rm -rf "$stage" && mkdir -p "$stage"
cp manifest/MANIFEST.XML "$stage/"
cp "$linux_lib" "$stage/libwebhook1c_x64.so"
rm -f "$zipfile"
(cd "$stage" && zip -q -X -j "../$(basename "$zipfile")" MANIFEST.XML libwebhook1c_x64.so)
say "packed $zipfile"
unzip -l "$zipfile" | sed 's/^/    /'

# ---- prove it the way 1C loads it ---------------------------------------------
say "loading the package like 1C and sending a webhook to a local receiver"
mkdir -p "$check_dir"
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$check_dir/webhook1c-host" tests/host/*.c -ldl -lpthread
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$check_dir/webhook1c-receiver" tests/receiver/receiver.c
unpacked="$check_dir/unpacked"
rm -rf "$unpacked" && mkdir -p "$unpacked"
unzip -q "$zipfile" -d "$unpacked"
# The entry 1C would pick on this machine: os="Linux" arch="x86_64".
entry=$(grep -o '<component [^>]*os="Linux"[^>]*arch="x86_64"[^>]*/>' "$unpacked/MANIFEST.XML" | head -n 1)
lib_path=$(printf '%s' "$entry" | sed -n 's/.*path="\([^"]*\)".*/\1/p')
[ -n "$lib_path" ] || die "MANIFEST.XML has no Linux x86_64 component"
echo "    MANIFEST.XML picks $lib_path"

received="$check_dir/received.txt"
"$check_dir/webhook1c-receiver" --timeout 30 >"$received" &
receiver_pid=$!
trap 'kill "$receiver_pid" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$received")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || die "the receiver did not start"

payload='{"event":"document_created","document_number":"00-000001","source":"package.sh"}'
host_out="$check_dir/host.txt"
"$check_dir/webhook1c-host" "$unpacked/$lib_path" \
    get Version ';' \
    call PostJson "\"http://127.0.0.1:$port/webhook\"" "$payload" ';' \
    get StatusCode | tee "$host_out" | sed 's/^/    host: /'
wait "$receiver_pid" || die "the receiver got no complete request"
trap - EXIT
sed 's/^/    receiver: /' "$received" | tr -d '\r'

grep -q '^= number 200$' "$host_out" || die "the webhook was not answered with 200"
grep -q "$payload" "$received" || die "the receiver did not get the payload"

say "sizes"
ls -l "$zipfile" "$linux_lib" | awk '{printf "    %10d  %s\n", $5, $NF}'
say "OK: $zipfile"
