#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (fuzz/): each target for SECONDS (or N executions), on
# the stable toolchain (coverage instrumentation through -C flags; no sanitizer, which needs
# nightly). A short run is part of scripts/test.sh. A long run, from the corpus the short runs
# grew: `bash scripts/fuzz.sh --fast --runs 10000000`; --fast builds without compare tracing and
# turns libFuzzer's entropic schedule off, 3x the executions a second on these targets (compare
# tracing is what finds magic numbers and checksums; keep it for runs from an empty corpus).
# A target's committed seeds (fuzz/seeds/TARGET: inputs whose forged changes pass every check)
# are read with its corpus, so even a short run from a fresh clone checks accepted documents.
# With PIONEER_FUZZ_KEEP=DIR, forged_changes writes the documents it accepted to DIR for
# `node scripts/fuzz_js_check.mjs DIR` (load each in automerge-js).
# Usage: scripts/fuzz.sh [--fast] [--build-only] [--runs N] [SECONDS] [TARGET...]
#        (targets: frame changes forged_changes forged_ledger_changes server_connection)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
FAST=0
RUNS=""
BUILD_ONLY=0
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --fast) FAST=1; shift ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
SECONDS_EACH=20
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then SECONDS_EACH=$1; shift; fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(frame changes forged_changes forged_ledger_changes server_connection)
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table --cfg fuzzing"
TARGET_DIR=target
OPTIONS=()
if [ "$FAST" = 1 ]; then
  TARGET_DIR=target/fast
  OPTIONS+=(-entropic=0)
else
  RUSTFLAGS="$RUSTFLAGS -Cllvm-args=-sanitizer-coverage-trace-compares"
fi
export RUSTFLAGS
if [ -n "$RUNS" ]; then OPTIONS+=(-runs="$RUNS"); else OPTIONS+=(-max_total_time="$SECONDS_EACH"); fi
# An explicit target keeps the instrumentation off build scripts and proc macros.
TARGET_TRIPLE=$(rustc -vV | awk '/^host:/ { print $2 }')
cargo build --release --bins --target "$TARGET_TRIPLE" --target-dir "$TARGET_DIR"
[ "$BUILD_ONLY" = 0 ] || exit 0
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "== fuzzing $target (${RUNS:-${SECONDS_EACH}s})"
  started=$(date +%s)
  # A crash or a failed assertion exits non-zero and leaves the input in artifacts/.
  "$TARGET_DIR/$TARGET_TRIPLE/release/$target" "${OPTIONS[@]}" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" "corpus/$target" $( [ -d "seeds/$target" ] && echo "seeds/$target" ) 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|Done)|panicked|ERROR" || true
  echo "   $(( $(date +%s) - started )) s"
  # Any one kind of failing input fails the run (`ls` of the three globs succeeded only when
  # all three kinds were there, so a crash alone went unnoticed).
  if compgen -G "artifacts/$target/crash-*" >/dev/null || compgen -G "artifacts/$target/oom-*" >/dev/null || compgen -G "artifacts/$target/timeout-*" >/dev/null; then
    echo "fuzzing $target found a failing input: fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
