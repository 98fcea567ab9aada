#!/usr/bin/env bash
# Release build times in fresh clones (crates already downloaded, tools
# installed): cold, warm with nothing changed, after touching a page, after
# touching the server. This commit, and the one named by BUILD_BEFORE beside
# it in the same run:
#   BUILD_BEFORE=f1ae460 scripts/bench-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/tests/node_modules/.bin:$PATH"   # wasm-opt, for the clones too
echo "### Release build (scripts/build.sh, fresh clone, crates already downloaded)"
echo
echo "| commit | cold (empty target/) | warm, nothing changed | warm, touch a page (app/src/households.rs) | warm, touch server/src/lib.rs |"
echo "|---|---:|---:|---:|---:|"
for rev in ${BUILD_BEFORE:-} HEAD; do
  clone=$(mktemp -d)
  git clone -q "$ROOT" "$clone"
  (
    cd "$clone"
    git checkout -q "$(git -C "$ROOT" rev-parse "$rev")"
    export CARGO_TARGET_DIR="$clone/target"
    t0=$(date +%s); scripts/build.sh >/dev/null 2>&1; t1=$(date +%s)
    scripts/build.sh >/dev/null 2>&1; t2=$(date +%s)
    touch app/src/households.rs; scripts/build.sh >/dev/null 2>&1; t3=$(date +%s)
    touch server/src/lib.rs; scripts/build.sh >/dev/null 2>&1; t4=$(date +%s)
    echo "| $(git rev-parse --short HEAD) | $((t1 - t0)) s | $((t2 - t1)) s | $((t3 - t2)) s | $((t4 - t3)) s |"
  )
  rm -rf "$clone"
done
