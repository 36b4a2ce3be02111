#!/usr/bin/env bash
# Sets up a fresh machine if needed, builds, and runs the whole product: one sync-server
# process serving the app, with its data in ./data. Open the printed address in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec target/release/sync-server --listen "${LISTEN:-127.0.0.1:8080}" --data-dir "${DATA_DIR:-./data}" --dist dist
