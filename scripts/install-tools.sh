#!/usr/bin/env bash
# Installs what building and testing Gridwalk needs, skipping what is already
# there. Everything comes from the package registries (crates.io, npm, Debian):
# nothing downloads a binary from anywhere else.
#   scripts/install-tools.sh          build tools only
#   scripts/install-tools.sh --test   plus Chromium, PostgreSQL and a local S3
#                                     server (moto) for the tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[[ "${1:-}" == "--test" ]] && want_test=true

say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1; fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos: 0.3.11 --locked needs a newer rustc; no_downloads keeps it from
# fetching tools itself. The release build is shortened (no LTO): ~15 min.
if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"0.3.10"* ]]; then
  say "cargo install cargo-leptos 0.3.10 (about 15 minutes on 2 cores)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wb_version" ]]; then
  say "cargo install wasm-bindgen-cli $wb_version (about 3 minutes)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# wasm-opt from npm binaryen (Debian's binaryen 108 silently breaks hydration)
# and playwright-core, pinned by tests/package-lock.json.
if [[ ! -x tests/node_modules/.bin/wasm-opt || ! -d tests/node_modules/playwright-core ]]; then
  say "npm ci (binaryen, playwright-core)"
  (cd tests && npm ci --no-audit --no-fund)
fi

if $want_test; then
  # Chromium for the browser tests; a CJK font so screenshots are readable;
  # PostgreSQL for the second run of the Rust tests (a throw-away cluster,
  # scripts/postgres.sh; the Debian service itself is never used).
  apt_install chromium fonts-wqy-microhei postgresql
  # A local S3-compatible server (moto_server, from PyPI) for the photo-store
  # tests, in a virtual environment of its own (scripts/s3.sh).
  source scripts/s3.sh
  if [[ ! -x "$MOTO_VENV/bin/moto_server" ]]; then
    say "pip install moto[server] 5.2.5 into $MOTO_VENV"
    python3 -m venv "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
  fi
fi
