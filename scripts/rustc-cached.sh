#!/usr/bin/env bash
# The tests' RUSTC_WRAPPER: sccache, with CARGO_TARGET_DIR taken out of rustc's environment.
# sccache hashes every CARGO_* variable a compilation sees, and the wasm bundles' target
# directory is a path inside the clone (scripts/bundles.sh), so a clone in another folder, as
# CI's is, missed every crate of the bundles. rustc never reads it: cargo passes --out-dir.
unset CARGO_TARGET_DIR
exec sccache "$@"
