#!/usr/bin/env bash
# Runs every test: set-up if needed, the release build, native tests of ledger and
# sync-server, interop with automerge-repo peers, then the browser end-to-end tests against
# the real server and build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
echo "== native tests (ledger, sync-server)"
cargo test --release
echo "== coverage-guided fuzzing, a short run (scripts/fuzz.sh), and the accepted forged documents loaded in automerge-js"
accepted=$(mktemp -d)
PIONEER_FUZZ_KEEP="$accepted" bash scripts/fuzz.sh 20
node scripts/fuzz_js_check.mjs "$accepted" --at-least 20
rm -rf "$accepted"
echo "== interop with automerge-repo (JS) peers"
node --test --test-concurrency=1 --test-timeout=120000 tests/interop/
echo "== browser end-to-end tests (Chromium)"
node --test --test-concurrency=1 --test-timeout=180000 tests/e2e/
