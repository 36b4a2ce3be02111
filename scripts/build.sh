#!/usr/bin/env bash
# Builds the release app (dist/) and the release sync-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release
cargo build --release -p sync-server
