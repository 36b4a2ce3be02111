#!/usr/bin/env bash
# Builds the release app (dist/), the desk bundle (dist/desk/) and the release sync-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release
# The desk bundle after the app: the app's build empties dist/, the desk writes dist/desk.
trunk --config desk/Trunk.toml build --release
cargo build --release -p sync-server
