#!/usr/bin/env bash
# Builds the two wasm bundles as users get them (Trunk, the wasm-release profile): the phone's
# app into dist/ and the desk into dist/desk/. They build in a target directory of their own
# (target/wasm): nothing of it is shared with the native build (another target, another
# profile), and without the shared directory's lock the two builds can run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="$PWD/target/wasm"
trunk build --release
# The desk bundle after the app: the app's build empties dist/, the desk writes dist/desk.
trunk --config desk/Trunk.toml build --release
