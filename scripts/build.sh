#!/usr/bin/env bash
# The release build: server, WASM split into a main chunk plus chunks fetched on
# first use (cargo-leptos --split), hashed file names, precompressed assets.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tests/node_modules/.bin:$PATH"   # wasm-opt from npm binaryen
exec cargo leptos build --release --precompress --split "$@"
