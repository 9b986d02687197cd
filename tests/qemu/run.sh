#!/usr/bin/env bash
# Runs the C-host suites (tests/c_host.rs, tests/c_host_queue.rs,
# tests/signatures.rs) against the Linux ARM64 build of the add-in: an
# aarch64 build of the C host runs under qemu-user (qemu-aarch64) on Debian's
# aarch64 glibc and loads the aarch64 library, with the host and the library
# switched by WEBHOOK1C_HOST_CMD / WEBHOOK1C_LIBRARY (see
# tests/support/host.rs), as tests/wine/run.sh does for the Windows DLLs.
#
#   1. tools: qemu-user, gcc-aarch64-linux-gnu with its binutils,
#      libc6-dev-arm64-cross, the rustup target aarch64-unknown-linux-gnu
#      (installed when run as root, else named and exit 1);
#   2. the debug library for aarch64-unknown-linux-gnu (Debian's cross gcc
#      links it, .cargo/config.toml);
#   3. the aarch64 host in target/qemu/aarch64/ (tests/common/*.c and
#      tests/host/*.c, -Wall -Wextra -Werror, AddressSanitizer and UBSan as
#      natively: qemu-user runs ASan's shadow memory, and the run's first
#      check proves it by making ASan report an overflow under qemu), plus
#      static checks of the library (ELF machine, the five exports);
#   4. cargo test --test c_host --test c_host_queue --test signatures with
#      that host under qemu-aarch64 -L /usr/aarch64-linux-gnu;
#   5. a closing line "qemu-arm64: N passed, N failed".
#
# Everything talks to 127.0.0.1 only: the test servers run natively, the
# emulated host reaches them through the same loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/target/qemu/aarch64
target=aarch64-unknown-linux-gnu
sysroot=/usr/aarch64-linux-gnu
script_start=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
took() { printf '    (%ss)\n' "$((SECONDS - $1))"; }

# --------------------------------------------------------------------------
# 1. Tools
# --------------------------------------------------------------------------
step "tools"
t=$SECONDS
missing_pkgs=()
command -v qemu-aarch64 >/dev/null || missing_pkgs+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || missing_pkgs+=(gcc-aarch64-linux-gnu)
command -v aarch64-linux-gnu-nm >/dev/null && command -v aarch64-linux-gnu-readelf >/dev/null ||
    missing_pkgs+=(binutils-aarch64-linux-gnu)
# The aarch64 glibc: headers and libraries for building, the loader qemu
# runs the host on (-L). The cross gcc only recommends it.
[ -e "$sysroot/include/stdio.h" ] && [ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] ||
    missing_pkgs+=(libc6-dev-arm64-cross)
missing_targets=()
rustup target list --installed 2>/dev/null | grep -qx "$target" || missing_targets+=("$target")
# shellcheck source=../support/tools.sh
. tests/support/tools.sh
ensure_tools tests/qemu/run.sh
qemu=(qemu-aarch64 -L "$sysroot")
echo "$(qemu-aarch64 --version | head -n 1); $(aarch64-linux-gnu-gcc --version | head -n 1)"
took "$t"

# --------------------------------------------------------------------------
# 2. The debug library (debug: it has DebugPanic/DebugReplaceParam)
# --------------------------------------------------------------------------
step "cargo build --locked --target $target"
t=$SECONDS
cargo build --locked --target "$target"
library=target/$target/debug/libwebhook1c.so
took "$t"

# --------------------------------------------------------------------------
# 3. Host and static checks
# --------------------------------------------------------------------------
step "aarch64 host and static checks in target/qemu/aarch64"
t=$SECONDS
checks_failed=0
check() { # check WHAT OK(0/1) DETAIL
    if [ "$2" = 0 ]; then
        printf '    ok: %s\n' "$1"
    else
        printf '    FAILED: %s: %s\n' "$1" "$3"
        checks_failed=1
    fi
}
mkdir -p "$out"
asan=(-g -fsanitize=address,undefined -fno-omit-frame-pointer)
# The same options the native suite gives its ASan host (tests/support/host.rs):
# LeakSanitizer off (the pool's threads and buffers live until exit; the host
# counts every block handed across the boundary itself), stop at the first
# error. The emulated host inherits them from the test binary.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Does ASan work under this qemu? A one-byte heap overflow must be reported.
printf '#include <stdlib.h>\nint main(int c, char **v) { char *p = malloc(8); p[7 + c] = 1; free(p); (void)v; return 0; }\n' \
    >"$out/asan-probe.c"
aarch64-linux-gnu-gcc "${asan[@]}" -o "$out/asan-probe" "$out/asan-probe.c"
probe_out=$("${qemu[@]}" "$out/asan-probe" 2>&1 || true)
probe_ok=0
grep -q 'AddressSanitizer: heap-buffer-overflow' <<<"$probe_out" || probe_ok=1
check "AddressSanitizer reports a heap overflow under qemu-aarch64" "$probe_ok" "$(head -n 3 <<<"$probe_out")"

host_ok=0
rm -f "$out/webhook1c-host" # never run a stale host
aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror "${asan[@]}" -o "$out/webhook1c-host" \
    tests/common/*.c tests/host/*.c -ldl -lpthread || host_ok=1
check "aarch64 host builds with -Wall -Wextra -Werror, ASan and UBSan (target/qemu/aarch64/webhook1c-host)" \
    "$host_ok" "aarch64-linux-gnu-gcc failed"

machine=$(aarch64-linux-gnu-readelf -h "$library" | sed -n 's/^ *Machine: *//p')
check "library ELF machine [$machine]" "$([ "$machine" = AArch64 ] && echo 0 || echo 1)" "want AArch64"
exports=$(aarch64-linux-gnu-nm -D --defined-only "$library" | awk '{print $NF}' | sort | xargs)
check "library exports exactly the five functions [$exports]" \
    "$([ "$exports" = "DestroyObject GetAttachType GetClassNames GetClassObject SetPlatformCapabilities" ] && echo 0 || echo 1)" \
    "want DestroyObject GetAttachType GetClassNames GetClassObject SetPlatformCapabilities"
took "$t"

# --------------------------------------------------------------------------
# 4. The suite
# --------------------------------------------------------------------------
log=$(mktemp)
trap 'rm -f "$log"' EXIT
suite_failed=0
step "cargo test --locked --test c_host --test c_host_queue --test signatures under qemu-aarch64"
t=$SECONDS
if [ "$host_ok" = 0 ]; then
    echo "WEBHOOK1C_HOST_CMD=${qemu[*]} target/qemu/aarch64/webhook1c-host"
    echo "WEBHOOK1C_LIBRARY=$library"
    if ! WEBHOOK1C_HOST_CMD="${qemu[*]} $out/webhook1c-host" WEBHOOK1C_LIBRARY="$library" \
        cargo test --locked --test c_host --test c_host_queue --test signatures 2>&1 | tee -a "$log"; then
        suite_failed=1
        echo "the suite FAILED under qemu-aarch64"
    fi
else
    echo "no host (it did not build), so the suite cannot run"
    suite_failed=1
fi
took "$t"

# --------------------------------------------------------------------------
# 5. Summary
# --------------------------------------------------------------------------
step "summary"
[ "$checks_failed" = 0 ] || echo "static checks FAILED (see above)"
[ "$suite_failed" = 0 ] || echo "the suite FAILED (see above)"
echo "total time: $((SECONDS - script_start))s"
awk '/^test result:/ { p += $4; f += $6 } END { printf "qemu-arm64: %d passed, %d failed\n", p, f }' "$log"
if [ "$checks_failed" != 0 ] || [ "$suite_failed" != 0 ]; then
    exit 1
fi
