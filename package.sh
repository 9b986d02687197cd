#!/usr/bin/env bash
# Builds the Webhook1C package, dist/Webhook1C-<version>.zip: MANIFEST.XML and
# one library per platform (Windows x86_64 and x86, Linux x86_64, ARM64 and x86
# built against glibc 2.17). Checks every library (exports, imports, glibc
# level, ELF machine, version resource), then proves the zip the way 1C uses
# it: the C host reads MANIFEST.XML from the zip, picks its own platform's
# library, loads it and sends one webhook to a local receiver. The ARM64 proof
# runs an aarch64 build of the C host under qemu-user. Then writes the
# configuration extension dist/Webhook1C-<version>-extension/ (and its .zip)
# around that zip with manifest/extension.py and checks it with
# tests/extension/check.py.
#
# Needs the Rust toolchain (rustup). Everything else it installs when run as
# root: rustup targets, Debian's gcc, zip, unzip, advancecomp, binutils, mingw-w64,
# python3-venv, libc6-i386, gcc-aarch64-linux-gnu with its binutils and
# libc6-dev-arm64-cross (the aarch64 glibc qemu-user runs the ARM64 host on)
# and qemu-user, zig with cargo-zigbuild from PyPI (into target/zig-venv) and
# bslfmt from PyPI (into target/py-venv). Not root: it names what is missing
# and stops.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '==> %s\n' "$*"; }
die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

LINUX64=x86_64-unknown-linux-gnu
LINUX32=i686-unknown-linux-gnu
LINUXARM64=aarch64-unknown-linux-gnu
WIN64=x86_64-pc-windows-gnu
WIN32=i686-pc-windows-gnu
GLIBC=2.17
ZIG_VENV=target/zig-venv

# ---- tools -------------------------------------------------------------------
command -v cargo >/dev/null && command -v rustup >/dev/null \
    || die "cargo and rustup not found: install Rust with rustup (https://rustup.rs)"

apt_missing=()
need_cmd() { command -v "$1" >/dev/null || apt_missing+=("$2"); }
need_cmd cc gcc
need_cmd zip zip
need_cmd unzip unzip
# advzip recompresses the zip with 7-Zip's deflate (about 3 % smaller than
# zip -9; still plain deflate, which every unzip reads).
need_cmd advzip advancecomp
need_cmd nm binutils
need_cmd x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
need_cmd i686-w64-mingw32-gcc gcc-mingw-w64-i686
need_cmd python3 python3
need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
need_cmd aarch64-linux-gnu-nm binutils-aarch64-linux-gnu
need_cmd qemu-aarch64 qemu-user
[ -e /lib/ld-linux.so.2 ] || apt_missing+=(libc6-i386)
# The aarch64 loader and libc that qemu-aarch64 -L runs the ARM64 host on,
# and their headers for building it (the cross gcc only recommends them).
ARM64_SYSROOT=/usr/aarch64-linux-gnu
[ -e "$ARM64_SYSROOT/lib/ld-linux-aarch64.so.1" ] || apt_missing+=(libc6-arm64-cross)
[ -e "$ARM64_SYSROOT/include/stdio.h" ] || apt_missing+=(libc6-dev-arm64-cross)
if command -v python3 >/dev/null && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_missing+=(python3-venv)
fi
if ((${#apt_missing[@]})); then
    is_root && command -v apt-get >/dev/null \
        || die "missing Debian packages: ${apt_missing[*]} (run: sudo apt-get install ${apt_missing[*]})"
    say "installing ${apt_missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

installed_targets=$(rustup target list --installed)
targets_missing=()
for t in $LINUX64 $LINUX32 $LINUXARM64 $WIN64 $WIN32; do
    grep -qx "$t" <<<"$installed_targets" || targets_missing+=("$t")
done
if ((${#targets_missing[@]})); then
    say "adding rustup targets ${targets_missing[*]}"
    rustup target add "${targets_missing[@]}" >/dev/null || die "run: rustup target add ${targets_missing[*]}"
fi

if [ ! -x "$ZIG_VENV/bin/cargo-zigbuild" ]; then
    say "installing zig and cargo-zigbuild from PyPI into $ZIG_VENV"
    python3 -m venv "$ZIG_VENV"
    "$ZIG_VENV/bin/pip" install -q ziglang cargo-zigbuild \
        || die "pip could not install ziglang and cargo-zigbuild"
fi
export PATH="$PWD/$ZIG_VENV/bin:$PATH"
zigcc() { "$ZIG_VENV/bin/python" -m ziglang cc "$@"; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
dist=dist
stage="$dist/stage"
zipfile="$dist/Webhook1C-$version.zip"
check=target/package-check
mkdir -p "$check"

# ---- build -------------------------------------------------------------------
# `cargo rustc --crate-type cdylib` builds the shared library alone, one
# target per call: with the rlib beside it (Cargo.toml's crate-type), cargo
# skips the release profile's fat LTO, and the Windows x64 DLL came out at
# 11.2 MB instead of 6.7 MB.
say "building Linux libraries against glibc $GLIBC (cargo zigbuild)"
for t in "$LINUX64" "$LINUX32" "$LINUXARM64"; do
    cargo-zigbuild rustc --release --locked --lib --crate-type cdylib --target "$t.$GLIBC"
done
say "building Windows libraries (mingw-w64)"
for t in "$WIN64" "$WIN32"; do
    cargo rustc --release --locked --lib --crate-type cdylib --target "$t"
done

lib_linux64=target/$LINUX64/release/libwebhook1c.so
lib_linux32=target/$LINUX32/release/libwebhook1c.so
lib_linuxarm64=target/$LINUXARM64/release/libwebhook1c.so
lib_win64=target/$WIN64/release/webhook1c.dll
lib_win32=target/$WIN32/release/webhook1c.dll

# ---- checks ------------------------------------------------------------------
EXPORTS="DestroyObject GetAttachType GetClassNames GetClassObject SetPlatformCapabilities"

# readelf reads the ELF header of any machine; nm and objdump come from the
# binutils of the library's own machine when a prefix is given (e.g.
# aarch64-linux-gnu-), since this machine's BFD build may not read other
# machines' symbol tables.
check_linux() { # library machine [binutils prefix]
    local lib=$1 want_machine=$2 prefix=${3:-} exports glibc machine
    machine=$(readelf -h "$lib" | sed -n 's/^ *Machine: *//p')
    [ "$machine" = "$want_machine" ] || { echo "    $lib: ELF machine '$machine', not '$want_machine'"; return 1; }
    exports=$("${prefix}nm" -D --defined-only "$lib" | awk '{print $NF}' | sort | xargs)
    [ "$exports" = "$EXPORTS" ] || { echo "    $lib exports: $exports"; return 1; }
    glibc=$("${prefix}objdump" -T "$lib" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
    echo "    $lib: ELF machine $machine, exports OK ($exports), highest symbol version $glibc"
    [ "$(printf '%s\n%s\n' "${glibc#GLIBC_}" "$GLIBC" | sort -V | tail -n 1)" = "$GLIBC" ] \
        || { echo "    $lib needs $glibc, newer than $GLIBC"; return 1; }
}

# System DLLs a Windows 10 / Server 2016 machine always has.
SYSTEM_DLLS='^(kernel32|ntdll|msvcrt|ws2_32|bcrypt|bcryptprimitives|crypt32|advapi32|userenv|secur32|ncrypt|ole32|oleaut32|shell32|user32|iphlpapi|api-ms-win-[a-z0-9-]+)\.dll$'

check_windows() { # objdump library
    local objdump=$1 lib=$2 exports imports bad
    exports=$($objdump -p "$lib" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | awk 'NR>1 && NF {print $NF}' | sort | xargs)
    [ "$exports" = "$EXPORTS" ] || { echo "    $lib exports: $exports"; return 1; }
    imports=$($objdump -p "$lib" | sed -n 's/^\tDLL Name: //p' | tr 'A-Z' 'a-z' | sort -u | xargs)
    bad=$(tr ' ' '\n' <<<"$imports" | grep -Ev "$SYSTEM_DLLS" || true)
    [ -z "$bad" ] || { echo "    $lib imports non-system DLLs: $bad"; return 1; }
    # grep reads everything: with -q it would exit at the first match and,
    # under pipefail, strings' SIGPIPE would fail the check.
    strings -el "$lib" | grep -x "Webhook1C" >/dev/null || { echo "    $lib has no version resource"; return 1; }
    echo "    $lib: exports OK (undecorated), version resource OK, imports: $imports"
}

say "checking the libraries"
check_linux "$lib_linux64" "Advanced Micro Devices X86-64" || die "Linux x86_64 library failed its checks"
check_linux "$lib_linuxarm64" AArch64 aarch64-linux-gnu- || die "Linux ARM64 library failed its checks"
check_windows x86_64-w64-mingw32-objdump "$lib_win64" || die "Windows x86_64 library failed its checks"
check_windows i686-w64-mingw32-objdump "$lib_win32" || die "Windows x86 library failed its checks"

# The C hosts and the receiver used to prove the package.
host_sources=(tests/common/*.c tests/host/*.c)
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$check/webhook1c-host" "${host_sources[@]}" -ldl -lpthread
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$check/webhook1c-receiver" tests/receiver/receiver.c
# The aarch64 host, run by qemu-user on Debian's aarch64 glibc. It talks to
# the same x86_64 receiver over 127.0.0.1 and runs this machine's unzip.
aarch64-linux-gnu-gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$check/webhook1c-host-arm64" \
    "${host_sources[@]}" -ldl -lpthread
arm64_host=(qemu-aarch64 -L "$ARM64_SYSROOT" "$check/webhook1c-host-arm64")

# Sends one webhook through the host command loading LIBRARY_OR_ZIP; prints
# both sides.
prove() { # label library_or_zip host_command...
    local label=$1 lib=$2 received="$check/received-$1.txt" out="$check/host-$1.txt" port="" pid
    shift 2
    "$check/webhook1c-receiver" --timeout 30 >"$received" &
    pid=$!
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$received")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { kill "$pid" 2>/dev/null; echo "    the receiver did not start"; return 1; }
    local payload="{\"event\":\"document_created\",\"document_number\":\"00-000001\",\"platform\":\"$label\"}"
    "$@" "$lib" get Version ';' call PostJson "\"http://127.0.0.1:$port/webhook\"" "$payload" ';' get StatusCode \
        >"$out" 2>&1 || true
    sed "s/^/    $label host: /" "$out"
    if ! wait "$pid"; then
        echo "    $label: the receiver got no complete request"
        return 1
    fi
    tr -d '\r' <"$received" | sed "s/^/    $label receiver: /"
    grep -q '^= number 200$' "$out" && grep -q "$payload" "$received" && grep -q 'live=0 foreign_frees=0' "$out" \
        || return 1
    echo "    proof $label: $(sed -n 's/^# package: .*(\(os=.*\))$/\1: /p' "$out")webhook delivered to 127.0.0.1:$port, StatusCode 200, host memory clean"
}

# Linux i386 ships only if it passes the same checks, including a webhook
# sent through a 32-bit host.
linux32_ok=no
if check_linux "$lib_linux32" "Intel 80386"; then
    if zigcc -target x86-linux-gnu.$GLIBC -std=c11 -O2 -Wall -Wextra -Werror \
        -o "$check/webhook1c-host-i386" "${host_sources[@]}" -ldl -lpthread \
        && prove linux-i386 "$lib_linux32" "$check/webhook1c-host-i386"; then
        linux32_ok=yes
    fi
fi
[ "$linux32_ok" = yes ] || say "Linux i386 left out of the package: it did not pass the checks above"

# ---- pack --------------------------------------------------------------------
say "packing $zipfile"
rm -rf "$stage" && mkdir -p "$stage"
cp "$lib_win64" "$stage/webhook1c_x64.dll"
cp "$lib_win32" "$stage/webhook1c_x86.dll"
cp "$lib_linux64" "$stage/libwebhook1c_x64.so"
cp "$lib_linuxarm64" "$stage/libwebhook1c_arm64.so"
files=(MANIFEST.XML webhook1c_x64.dll webhook1c_x86.dll libwebhook1c_x64.so libwebhook1c_arm64.so)
if [ "$linux32_ok" = yes ]; then
    cp "$lib_linux32" "$stage/libwebhook1c_x86.so"
    files+=(libwebhook1c_x86.so)
    cp manifest/MANIFEST.XML "$stage/MANIFEST.XML"
else
    grep -v 'libwebhook1c_x86.so' manifest/MANIFEST.XML >"$stage/MANIFEST.XML"
fi
rm -f "$zipfile"
(cd "$stage" && zip -q -X -9 "../$(basename "$zipfile")" "${files[@]}")
advzip -q -z -3 "$zipfile" || die "advzip could not recompress $zipfile"
unzip -tq "$zipfile" >/dev/null || die "$zipfile does not test clean after advzip"
unzip -l "$zipfile" | sed 's/^/    /'

# ---- prove the zip the way 1C loads it -----------------------------------------
say "loading $zipfile like 1C (MANIFEST.XML picks this machine's library) and sending a webhook"
prove linux-x86_64 "$zipfile" "$check/webhook1c-host" || die "the package did not deliver a webhook"
say "the same on Linux ARM64: the aarch64 host under qemu-aarch64 picks the ARM64 entry"
prove linux-arm64 "$zipfile" "${arm64_host[@]}" || die "the package did not deliver a webhook on ARM64"

# ---- the configuration extension -----------------------------------------------
extension="$dist/Webhook1C-$version-extension"
say "writing the configuration extension $extension (its common template is $zipfile)"
bslfmt=$(tests/support/bslfmt.sh)
python3 manifest/extension.py "$version" "$zipfile" "$extension" "$bslfmt"
python3 tests/extension/check.py "$extension" "$zipfile" "$bslfmt" || die "the extension dump failed its check"

say "sizes (bytes)"
for f in "$zipfile" "$extension.zip" "$stage"/*.dll "$stage"/*.so; do
    printf '    %10d  %s\n' "$(stat -c %s "$f")" "$f"
done
say "OK: $zipfile"
