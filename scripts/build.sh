#!/usr/bin/env bash
# Builds the release app (dist/), the desk bundle (dist/desk/) and the release sync-server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bundles.sh
cargo build --release -p sync-server
