#!/usr/bin/env bash
# Installs what is missing, builds the release, and starts Gridwalk on the
# embedded defaults: SQLite in data/gridwalk.db, photos in data/photos, the demo
# street seeded on first start. The URL and demo accounts are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
scripts/build.sh
GRIDWALK_DEMO_DATA=${GRIDWALK_DEMO_DATA:-true} LEPTOS_SITE_ROOT=target/site exec target/release/server "$@"
