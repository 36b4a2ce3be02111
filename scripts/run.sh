#!/usr/bin/env bash
# Sets up a fresh machine if needed, builds, and runs the whole product: one sync-server
# process serving the app, with its data in ./data. Open the printed address in a browser.
# It starts with the demo organisation (`--demo`) and prints each demo account's login with a
# fresh password or activation code; DEMO=0 starts without it (an empty data directory then
# prints a one-time link that creates the first administrator). LAN=1 serves HTTPS for phones on
# this network, with a certificate from a local authority (README: "Trying it on phones on a LAN").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
demo=(--demo)
if [ "${DEMO:-1}" = 0 ]; then demo=(); fi
if [ "${LAN:-0}" = 1 ]; then
  exec target/release/sync-server --lan --listen "${LISTEN:-0.0.0.0:8443}" --http-listen "${HTTP_LISTEN:-0.0.0.0:8080}" --data-dir "${DATA_DIR:-./data}" --dist dist "${demo[@]}"
fi
exec target/release/sync-server --listen "${LISTEN:-127.0.0.1:8080}" --data-dir "${DATA_DIR:-./data}" --dist dist "${demo[@]}"
