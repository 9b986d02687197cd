#!/usr/bin/env bash
# Runs the C-host suites (tests/c_host.rs, tests/c_host_queue.rs) against
# the Windows builds of the add-in under Wine: the same tests as the native run, with the host and the
# library switched by WEBHOOK1C_HOST_CMD / WEBHOOK1C_LIBRARY (see
# tests/support/host.rs).
#
#   1. tools: wine, wine64, mingw-w64 (x86_64, i686), rustup targets
#      (installed when run as root, else named and exit 1);
#   2. the debug DLLs for x86_64-pc-windows-gnu and i686-pc-windows-gnu;
#   3. per arch in target/wine/<arch>/: the C host (tests/common/*.c and
#      tests/host/*.c) and the test-only ProcessPrng shim
#      (tests/wine/bcryptprimitives.c), never shipped; plus static checks of each DLL's exports and imports;
#   4. a Wine prefix per arch in target/wine/prefix-<arch> (made once);
#   5. cargo test --test c_host --test c_host_queue --test signatures with the x86_64 host and
#      DLL under wine64;
#   6. x86: with wine32:i386 (installed here when root and possible) the same
#      suite under 32-bit Wine, else the static checks only;
#   7. a closing line "wine: N passed, N failed".
#
# Environment: WEBHOOK1C_WINE_X86=skip does not try to install wine32:i386.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/target/wine
script_start=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
took() { printf '    (%ss)\n' "$((SECONDS - $1))"; }

is_root=0
[ "$(id -u)" = 0 ] && is_root=1
apt_updated=0
apt_update() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
}

# --------------------------------------------------------------------------
# 1. Tools
# --------------------------------------------------------------------------
step "tools"
t=$SECONDS
wine64_loader() {
    if command -v wine64 >/dev/null; then
        command -v wine64
    elif [ -x /usr/lib/wine/wine64 ]; then
        echo /usr/lib/wine/wine64 # Debian 12 keeps it off PATH
    fi
}
wine32_loader() {
    if [ -x /usr/lib/wine/wine ]; then
        echo /usr/lib/wine/wine # Debian's wine32:i386
    fi
}
missing_pkgs=()
command -v wine >/dev/null && command -v wineboot >/dev/null && command -v wineserver >/dev/null ||
    missing_pkgs+=(wine)
[ -n "$(wine64_loader)" ] || missing_pkgs+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null && command -v x86_64-w64-mingw32-objdump >/dev/null ||
    missing_pkgs+=(gcc-mingw-w64-x86-64)
command -v i686-w64-mingw32-gcc >/dev/null && command -v i686-w64-mingw32-objdump >/dev/null ||
    missing_pkgs+=(gcc-mingw-w64-i686)
missing_targets=()
installed_targets=$(rustup target list --installed 2>/dev/null || true)
for target in x86_64-pc-windows-gnu i686-pc-windows-gnu; do
    grep -qx "$target" <<<"$installed_targets" || missing_targets+=("$target")
done
# shellcheck source=../support/tools.sh
. tests/support/tools.sh
ensure_tools tests/wine/run.sh
WINE64=$(wine64_loader)
WINESERVER=$(command -v wineserver)
echo "wine64: $WINE64 ($("$WINE64" --version))"
took "$t"

# --------------------------------------------------------------------------
# 2. The debug DLLs (debug: they have DebugPanic/DebugReplaceParam)
# --------------------------------------------------------------------------
step "cargo build --locked --target x86_64-pc-windows-gnu --target i686-pc-windows-gnu"
t=$SECONDS
cargo build --locked --target x86_64-pc-windows-gnu --target i686-pc-windows-gnu
took "$t"

# --------------------------------------------------------------------------
# 3. Host, shim, static checks
# --------------------------------------------------------------------------
checks_failed=0
check() { # check WHAT OK(0/1) DETAIL
    if [ "$2" = 0 ]; then
        printf '    ok: %s\n' "$1"
    else
        printf '    FAILED: %s: %s\n' "$1" "$3"
        checks_failed=1
    fi
}

# System DLLs a Rust windows-gnu cdylib may import; anything else (above
# all libgcc_s_*.dll or libwinpthread-1.dll from mingw) would have to ship.
system_dlls='^(kernel32|ntdll|advapi32|bcrypt|bcryptprimitives|crypt32|ws2_32|userenv|msvcrt|secur32|ncrypt|ole32|oleaut32|shell32|user32|iphlpapi|api-ms-win-[a-z0-9-]+)\.dll$'

static_checks() { # static_checks ARCH DLL
    local arch=$1 dll=$2 objdump=$1-w64-mingw32-objdump dump exports imports foreign
    dump=$("$objdump" -p "$dll")
    exports=$(awk '/^\[Ordinal\/Name Pointer\] Table/ { on = 1; next } on && /^\t\[/ { print $3; next } on { exit }' <<<"$dump" | sort | tr '\n' ' ')
    check "$arch DLL exports exactly the five undecorated names [$exports]" \
        "$([ "$exports" = "DestroyObject GetAttachType GetClassNames GetClassObject SetPlatformCapabilities " ] && echo 0 || echo 1)" \
        "want DestroyObject GetAttachType GetClassNames GetClassObject SetPlatformCapabilities"
    imports=$(awk '/DLL Name:/ { print tolower($3) }' <<<"$dump" | sort -u | tr '\n' ' ')
    foreign=$(tr ' ' '\n' <<<"$imports" | grep -v '^$' | grep -Ev "$system_dlls" || true)
    check "$arch DLL imports only system DLLs [$imports]" \
        "$([ -z "$foreign" ] && echo 0 || echo 1)" "not system DLLs: $(echo $foreign)"
}

for arch in x86_64 i686; do
    step "$arch: host, ProcessPrng shim and static checks in target/wine/$arch"
    t=$SECONDS
    cc=$arch-w64-mingw32-gcc
    dir=$out/$arch
    mkdir -p "$dir"
    def=tests/wine/bcryptprimitives.def
    [ "$arch" = i686 ] && def=tests/wine/bcryptprimitives-x86.def
    # Test-only: Wine 8 has no bcryptprimitives.dll!ProcessPrng, which Rust's
    # std imports. It sits next to the host exe, never in a package.
    "$cc" -std=c11 -Wall -Wextra -Werror -O2 -shared -o "$dir/bcryptprimitives.dll" \
        tests/wine/bcryptprimitives.c "$def" -ladvapi32
    host_ok=0
    rm -f "$dir/webhook1c-host.exe" # never run a stale host
    "$cc" -std=c11 -Wall -Wextra -Werror -g -o "$dir/webhook1c-host.exe" \
        tests/common/*.c tests/host/*.c || host_ok=1
    check "$arch host exe builds (target/wine/$arch/webhook1c-host.exe)" "$host_ok" "mingw gcc failed"
    target_triple=$arch-pc-windows-gnu
    static_checks "$arch" "target/$target_triple/debug/webhook1c.dll"
    took "$t"
done

# --------------------------------------------------------------------------
# 4./5. Prefixes and the suite
# --------------------------------------------------------------------------
unset DISPLAY
export WINEDEBUG=-all
prefixes=()
cleanup() {
    local p
    for p in "${prefixes[@]}"; do
        WINEPREFIX=$p "$WINESERVER" -k 2>/dev/null || true
    done
}
log=$(mktemp)
trap 'cleanup; rm -f "$log"' EXIT

prepare_prefix() { # prepare_prefix ARCH LOADER WINEARCH
    local prefix=$out/prefix-$1 t=$SECONDS
    export WINEPREFIX=$prefix WINEARCH=$3 WINELOADER=$2
    prefixes+=("$prefix")
    if [ ! -f "$prefix/system.reg" ]; then
        echo "creating the Wine prefix $prefix (once; about 30 s)"
        "$2" wineboot -u
        "$WINESERVER" -w
    else
        echo "reusing the Wine prefix $prefix"
    fi
    # One server for the whole run, and Wine's background processes
    # (services.exe, winedevice.exe, rpcss.exe...) started now with no
    # terminal: started by the first host run instead, they would inherit
    # its stdout/stderr pipes and keep the test waiting for EOF.
    "$WINESERVER" -p
    "$2" cmd /c exit 0 </dev/null >/dev/null 2>&1
    took "$t"
}

suite_failed=0
run_suite() { # run_suite ARCH LOADER
    local arch=$1 t=$SECONDS
    step "$arch: cargo test --locked --test c_host --test c_host_queue --test signatures under Wine"
    if [ ! -f "$out/$arch/webhook1c-host.exe" ]; then
        echo "$arch: no host exe (it did not build), so the suite cannot run"
        suite_failed=1
        return
    fi
    echo "WEBHOOK1C_HOST_CMD=$2 target/wine/$arch/webhook1c-host.exe"
    echo "WEBHOOK1C_LIBRARY=target/$arch-pc-windows-gnu/debug/webhook1c.dll"
    if ! WEBHOOK1C_HOST_CMD="$2 $out/$arch/webhook1c-host.exe" \
        WEBHOOK1C_LIBRARY="target/$arch-pc-windows-gnu/debug/webhook1c.dll" \
        cargo test --locked --test c_host --test c_host_queue --test signatures 2>&1 | tee -a "$log"; then
        suite_failed=1
        echo "$arch: the suite FAILED under Wine"
    fi
    took "$t"
}

step "x86_64: Wine prefix"
prepare_prefix x86_64 "$WINE64" win64
run_suite x86_64 "$WINE64"
WINEPREFIX=$out/prefix-x86_64 "$WINESERVER" -k 2>/dev/null || true

# --------------------------------------------------------------------------
# 6. x86 (32-bit Wine)
# --------------------------------------------------------------------------
step "x86: 32-bit Wine"
t=$SECONDS
x86_result=""
if [ -z "$(wine32_loader)" ] && [ "$is_root" = 1 ] && [ "${WEBHOOK1C_WINE_X86:-try}" != skip ] &&
    command -v apt-get >/dev/null; then
    had_i386=0
    dpkg --print-foreign-architectures | grep -qx i386 && had_i386=1
    apt_out=$(mktemp)
    echo "trying: dpkg --add-architecture i386 && apt-get update && apt-get install -y --no-install-recommends wine32:i386"
    installed32=0
    if dpkg --add-architecture i386; then
        if ! apt-get update -qq >"$apt_out" 2>&1; then
            # Often one index fails (a mirror mid-sync) while the rest
            # downloaded: the install may still resolve, so try it anyway.
            echo "apt-get update failed; trying the install with the lists it got"
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wine32:i386 \
            >>"$apt_out" 2>&1 && installed32=1
    fi
    if [ "$installed32" = 1 ]; then
        echo "wine32:i386 installed"
    else
        echo "wine32:i386 could NOT be installed; apt said (first relevant lines):"
        {
            grep -E '^(E|Err):' "$apt_out" | head -n 5 || true
            grep -E 'unmet dependencies|Depends:' "$apt_out" | head -n 7 || true
        } | sed 's/^/    /'
        [ -s "$apt_out" ] || echo "    (no output from apt)"
        if [ "$had_i386" = 0 ]; then
            echo "reverting: removing any i386 package, dpkg --remove-architecture i386, apt-get update"
            i386_pkgs=$(dpkg-query -W -f='${binary:Package}\n' '*:i386' 2>/dev/null || true)
            if [ -n "$i386_pkgs" ]; then
                # shellcheck disable=SC2086
                DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $i386_pkgs >/dev/null 2>&1 ||
                    dpkg --purge --force-depends $i386_pkgs >/dev/null 2>&1 || true
            fi
            dpkg --remove-architecture i386 || echo "    WARNING: dpkg --remove-architecture i386 failed"
            apt-get update -qq || echo "    WARNING: apt-get update after the revert failed"
            apt_updated=1
        fi
    fi
    rm -f "$apt_out"
fi
if [ -n "$(wine32_loader)" ]; then
    x86_result="x86: wine32 present; ran the suite with the i686 host and DLL under 32-bit Wine"
    prepare_prefix i686 "$(wine32_loader)" win32
    run_suite i686 "$(wine32_loader)"
else
    if [ "$is_root" = 0 ]; then
        why="not root, so wine32:i386 was not installed"
    elif [ "${WEBHOOK1C_WINE_X86:-try}" = skip ]; then
        why="WEBHOOK1C_WINE_X86=skip"
    else
        why="wine32:i386 could not be installed (apt error above)"
    fi
    x86_result="x86: NOT run under Wine ($why); checked statically instead: i686 DLL exports, imports, host exe build (see above)"
fi
took "$t"

# --------------------------------------------------------------------------
# 7. Summary
# --------------------------------------------------------------------------
step "summary"
echo "$x86_result"
[ "$checks_failed" = 0 ] || echo "static checks FAILED (see above)"
[ "$suite_failed" = 0 ] || echo "a suite run FAILED (see above)"
echo "total time: $((SECONDS - script_start))s"
echo "32-bit Wine exit crashes tolerated (tests/support/host.rs, tests/wine/exit_race.c): $(grep -c 'died with SIGSEGV after the host returned 0' "$log" || true)"
awk '/^test result:/ { p += $4; f += $6 } END { printf "wine: %d passed, %d failed\n", p, f }' "$log"
if [ "$checks_failed" != 0 ] || [ "$suite_failed" != 0 ]; then
    exit 1
fi
