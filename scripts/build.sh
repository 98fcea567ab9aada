#!/usr/bin/env bash
# The release build: server, WASM split into a main chunk plus chunks fetched on
# first use (cargo-leptos --split), hashed file names, precompressed assets.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tests/node_modules/.bin:$PATH"   # wasm-opt from npm binaryen
# Panic locations in the WASM name each dependency's source file by its full
# path; without the registry's prefix (…/registry/src/index.crates.io-…/)
# they cost the first page load about 500 B less. RUSTFLAGS replaces the
# config's rustflags, so `erase_components` (.cargo/config.toml) is repeated:
# server and WASM must agree on it.
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
export RUSTFLAGS="--cfg erase_components --remap-path-prefix=$registry=crates"
cargo leptos build --release --precompress --split "$@"
node scripts/pack-pkg.mjs target/site/pkg
