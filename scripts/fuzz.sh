#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (fuzz/): each target for SECONDS, on the stable
# toolchain (coverage instrumentation through -C flags; no sanitizer, which needs nightly).
# A short run is part of scripts/test.sh; a long one: `bash scripts/fuzz.sh 3600`.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: frame changes server_connection)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(frame changes server_connection)
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
# An explicit target keeps the instrumentation off build scripts and proc macros.
TARGET_TRIPLE=$(rustc -vV | awk '/^host:/ { print $2 }')
cargo build --release --bins --target "$TARGET_TRIPLE"
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "== fuzzing $target for ${SECONDS_EACH}s"
  # A crash or a failed assertion exits non-zero and leaves the input in artifacts/.
  ./target/"$TARGET_TRIPLE"/release/"$target" -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" "corpus/$target" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|Done)|panicked|ERROR" || true
  if ls "artifacts/$target"/crash-* "artifacts/$target"/oom-* "artifacts/$target"/timeout-* >/dev/null 2>&1; then
    echo "fuzzing $target found a failing input: fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
