#!/usr/bin/env bash
# Runs every test: set-up if needed, formatting, the wasm bundles users get, the native tests
# (ledger, ledger-sync, http-api, sync-server) in the ci profile (release without LTO, with
# debug assertions and overflow checks), a short fuzzing run, interop with automerge-repo peers,
# then the browser end-to-end tests against the server binary the native build produced.
# Prints how long each step took at the end, whether it passed or not.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

TIMES=()
ALL_STARTED=$(date +%s)
step() { STEP=$1; STEP_STARTED=$(date +%s); echo "== $STEP"; }
done_step() { TIMES+=("$(printf '%6d s  %s' $(($(date +%s) - STEP_STARTED)) "$STEP")"); }
report() {
  local rc=$?
  echo "== time per step"
  printf '%s\n' "${TIMES[@]}"
  printf '%6d s  total (exit %d)\n' $(($(date +%s) - ALL_STARTED)) "$rc"
  if [ -n "${RUSTC_WRAPPER:-}" ]; then
    sccache --stop-server 2>/dev/null | grep -E '^(Compile requests|Cache hits|Cache misses) ' || true
  fi
}
trap report EXIT

step "set-up (installs only what is missing)"
bash scripts/setup.sh
done_step

# The compiler cache, where setup installed it: every cargo below (native, wasm, fuzz) goes
# through it (scripts/rustc-cached.sh says why not straight to sccache). A clone in another
# folder hits on every dependency; the workspace's crates, build scripts and proc macros are
# compiled each time.
if [ -z "${PIONEER_NO_SCCACHE:-}" ] && sccache --version >/dev/null 2>&1; then
  # No idle timeout: the server lives through the browser tests (its default 10 minutes would
  # take the run's figures with it) and is stopped by the report below.
  export RUSTC_WRAPPER="$PWD/scripts/rustc-cached.sh" SCCACHE_IDLE_TIMEOUT=0
  sccache --stop-server >/dev/null 2>&1 || true
  sccache --start-server >/dev/null 2>&1 || true
fi

step "cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
done_step

# The wasm bundles build beside the native build (their own target directory): the bundles'
# LTO and wasm-opt run on one core for minutes, the native build fills the other.
BUNDLES_LOG=$(mktemp)
BUNDLES_STARTED=$(date +%s)
bash scripts/bundles.sh >"$BUNDLES_LOG" 2>&1 &
BUNDLES=$!

step "native build: cargo test --profile ci --no-run (tests, examples, the server binary)"
cargo test --profile ci --no-run
done_step

step "fuzz targets build (coverage-instrumented)"
bash scripts/fuzz.sh --build-only
done_step

step "wasm bundles (trunk, wasm-release), waited for"
if ! wait "$BUNDLES"; then
  cat "$BUNDLES_LOG"
  echo "the wasm bundles did not build" >&2
  exit 1
fi
tail -n 4 "$BUNDLES_LOG"
TIMES+=("$(printf '%6d s  %s' $(($(date +%s) - BUNDLES_STARTED)) "  (the bundles' build itself, beside the two above)")")
done_step

step "native tests (ledger, ledger-sync, http-api, sync-server)"
cargo test --profile ci
done_step

# The server's storage and everything above it again on PostgreSQL (a throwaway instance the
# tests start). Skipped here: what ran the same in the pass above — the tests of SQLite's own
# file (backups, older layouts, storage faults), those that start PostgreSQL themselves
# (several processes), and those of the binary's sockets, TLS and files (no storage in them).
step "the server's tests on PostgreSQL"
PIONEER_TEST_DATABASE=postgres cargo test --profile ci -p sync-server --lib --test it -- \
  --skip processes:: --skip backups:: --skip schema_fixtures:: --skip storage_failure:: \
  --skip kill_durability:: --skip deploy:: --skip https:: --skip proxy:: --skip static_files:: \
  --skip the_board_and_the_publics_limits_are_one_across_processes
done_step

step "coverage-guided fuzzing, a short run, and the accepted forged documents loaded in automerge-js"
accepted=$(mktemp -d)
PIONEER_FUZZ_KEEP="$accepted" bash scripts/fuzz.sh 12
node scripts/fuzz_js_check.mjs "$accepted" --at-least 20
rm -rf "$accepted"
done_step

# The browser and interop tests run the server the native build produced (target/ci).
export SYNC_SERVER_BIN="$PWD/target/ci/sync-server"

step "interop with automerge-repo (JS) peers"
node --test --test-concurrency=1 --test-timeout=120000 tests/interop/
done_step

# One file at a time: two at a time saved about 3.5 minutes, but on these 2 cores one run in
# five timed out waiting 30 s for a page (BENCHMARKS, session 13).
step "browser end-to-end tests (Chromium)"
node --test --test-concurrency=1 --test-timeout=180000 tests/e2e/
done_step
