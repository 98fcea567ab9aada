#!/usr/bin/env bash
# The whole test suite: formatting, lints (server and WASM), Rust unit and
# integration tests against a real server on an SQLite file with a photo folder,
# the same tests again on a throw-away PostgreSQL cluster with photos in a local
# S3 server (moto) and every test server two instances taking requests in turn,
# then the browser tests in headless
# Debian Chromium against the release build (SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh --test
export PATH="$PWD/tests/node_modules/.bin:$PATH"
# A CI clone is built once: incremental state would only take disk.
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n\033[1;34m--- %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (server + app ssr)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy (app hydrate, wasm32)"
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "cargo test (SQLite)"
cargo test --workspace

step "cargo test (PostgreSQL, photos in a local S3 server, two instances)"
source scripts/postgres.sh
source scripts/s3.sh
pg_start
s3_start
GRIDWALK_TEST_POSTGRES="$PG_URL" GRIDWALK_TEST_INSTANCES=2 cargo test --workspace
pg_stop
s3_stop

step "release build (scripts/build.sh)"
scripts/build.sh

step "browser tests (headless chromium)"
mkdir -p tests/results
(cd tests && node --test --test-concurrency=1 e2e/)
