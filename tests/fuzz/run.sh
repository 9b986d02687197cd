#!/usr/bin/env bash
# The fuzz campaign of the add-in's binary interface.
#
#   tests/fuzz/run.sh [SECONDS]     fuzz for SECONDS (default 600)
#   tests/fuzz/run.sh --cmin        minimise the committed corpus together
#                                   with what earlier campaigns found (60
#                                   inputs at most)
#
# Runs the `vtable` target (tests/fuzz/fuzz_targets/vtable.rs, the host
# harness tests/fuzz/harness.rs) under libFuzzer with AddressSanitizer and
# LeakSanitizer, debug assertions and overflow checks, starting from the
# committed corpus (tests/fuzz/corpus/vtable, read only) and keeping new
# inputs in tests/fuzz/target/corpus/vtable. Prints executions, exec/s,
# coverage and the number of crashes, and exits non-zero on a crash, a leak
# or a timeout (the input is saved under tests/fuzz/artifacts/vtable/).
#
# Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly
#   cargo install cargo-fuzz --locked
# No network: every request the harness lets the add-in make goes to the
# closed port 127.0.0.1:1.

set -euo pipefail

cd "$(dirname "$0")/../.."
FUZZ_DIR=tests/fuzz
TARGET=vtable
SEEDS=$FUZZ_DIR/corpus/$TARGET
WORK=$FUZZ_DIR/target/corpus/$TARGET
ARTIFACTS=$FUZZ_DIR/artifacts/$TARGET
LOG=$FUZZ_DIR/target/campaign.log
# The same build flags for build, run and cmin, so nothing is rebuilt.
BUILD_FLAGS=(--fuzz-dir "$FUZZ_DIR" --debug-assertions --sanitizer address)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "run.sh: a nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "run.sh: cargo-fuzz is needed: cargo install cargo-fuzz --locked" >&2
    exit 2
fi

echo "== building the fuzz target (nightly, ASan)"
cargo +nightly fuzz build "${BUILD_FLAGS[@]}" "$TARGET"

# QueueDirectory and LogFile of the sessions live under TMPDIR; a folder of
# this campaign keeps them apart and is removed at the end.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/webhook1c-fuzz-campaign.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

if [ "${1:-}" = "--cmin" ]; then
    # The committed corpus and the campaigns' finds, minimised by edge
    # coverage (cargo fuzz cmin), then capped at $MAX_SEEDS inputs: a greedy
    # pick of the input that adds the most edges not yet covered, as long
    # as one adds any. The pick replaces the committed corpus.
    MAX_SEEDS=${MAX_SEEDS:-60}
    ALL=$SCRATCH/all
    mkdir -p "$ALL" "$SCRATCH/none"
    cp "$SEEDS"/* "$ALL"/ 2>/dev/null || true
    cp "$WORK"/* "$ALL"/ 2>/dev/null || true
    echo "== minimising $(ls "$ALL" | wc -l) inputs"
    LIMITS=(-timeout=10 -rss_limit_mb=4096 -use_counters=0)
    TMPDIR=$SCRATCH cargo +nightly fuzz cmin "${BUILD_FLAGS[@]}" "$TARGET" "$ALL" -- "${LIMITS[@]}"
    # A merge into an empty folder records every input's edges.
    TMPDIR=$SCRATCH cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$TARGET" "$SCRATCH/none" "$ALL" -- \
        "${LIMITS[@]}" -merge=1 -merge_control_file="$SCRATCH/control"
    python3 - "$SCRATCH/control" "$MAX_SEEDS" >"$SCRATCH/picked" <<'PY'
import os, sys
lines = open(sys.argv[1]).read().split("\n")
count = int(lines[0])
files = lines[2 : 2 + count]
edges = {}
for line in lines[2 + count :]:
    parts = line.split()
    if len(parts) >= 2 and parts[0] == "COV":
        edges[int(parts[1])] = set(map(int, parts[2:]))
covered, picked = set(), []
while edges and len(picked) < int(sys.argv[2]):
    best = max(edges, key=lambda i: (len(edges[i] - covered), -os.path.getsize(files[i])))
    if not edges[best] - covered:
        break
    covered |= edges.pop(best)
    picked.append(files[best])
total = len(set().union(covered, *edges.values()))
print(f"{len(picked)} inputs cover {len(covered)} of {total} edges", file=sys.stderr)
print("\n".join(picked))
PY
    rm -f "$SEEDS"/*
    xargs -a "$SCRATCH/picked" cp -t "$SEEDS"/
    echo "== $SEEDS: $(ls "$SEEDS" | wc -l) inputs, $(du -sk "$SEEDS" | cut -f1) KB"
    exit 0
fi

SECONDS_TO_RUN=${1:-600}
case $SECONDS_TO_RUN in
    '' | *[!0-9]*)
        echo "usage: $0 [SECONDS | --cmin]" >&2
        exit 2
        ;;
esac

mkdir -p "$WORK" "$ARTIFACTS"
echo "== fuzzing for $SECONDS_TO_RUN s (log: $LOG)"
set +e
TMPDIR=$SCRATCH cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$TARGET" "$WORK" "$SEEDS" -- \
    -max_total_time="$SECONDS_TO_RUN" \
    -timeout=10 \
    -rss_limit_mb=4096 \
    -max_len=4096 \
    -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/" \
    2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e

# libFuzzer's final statistics and its last status line.
stat() { sed -n "s/^stat::$1: *//p" "$LOG" | tail -1; }
last=$(grep -E '^#[0-9]+' "$LOG" | tail -1 || true)
field() { echo "$last" | sed -n "s/.* $1: \([^ ]*\).*/\1/p"; }
crashes=$(grep -cE '^(artifact_prefix=.*; )?Test unit written to' "$LOG" || true)
findings=$(grep -E '^==[0-9]+==ERROR|ERROR: libFuzzer|panicked at' "$LOG" | head -5 || true)

echo
echo "== campaign summary"
echo "executions:   $(stat number_of_executed_units)"
echo "exec/s:       $(stat average_exec_per_sec)"
echo "coverage:     cov $(field cov), features $(field ft), corpus $(field corp)"
echo "new inputs:   $(stat new_units_added) (in $WORK)"
echo "slowest:      $(stat slowest_unit_time_sec) s, peak RSS $(stat peak_rss_mb) MB"
echo "crashes:      $crashes"
if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    echo "$findings"
    grep -E 'Test unit written to' "$LOG" | sed 's/.*Test unit written to /artifact:     /'
    echo "reproduce:    cargo +nightly fuzz run ${BUILD_FLAGS[*]} $TARGET <artifact>"
    echo "stable:       copy the artifact into $SEEDS and run cargo test --test fuzz_corpus"
    exit 1
fi
echo "result:       no crash, leak, panic or timeout"
