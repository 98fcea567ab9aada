#!/usr/bin/env bash
# The full fault-injection run: the harness of server/tests/faults.rs (the
# suite runs it with 100 faults) with 1,000 faults. Simulated phones push
# their outboxes and photos to the real server binary through a proxy that
# cuts connections, push twice, out of order and late, while the server is
# killed with SIGKILL and restarted, the database is held locked and the
# photo disk fills up; then every op a phone saved is checked against the
# database. Loopback only; stops by itself (GRIDWALK_FAULTS_MINUTES, 20).
# Prints the figures for BENCHMARKS.md.
#   scripts/faults.sh              # SQLite
#   scripts/faults.sh --postgres   # a throw-away PostgreSQL cluster
# Replay a run with GRIDWALK_FAULTS_SEED=<the seed it printed>; the disk-full
# fault mounts a small tmpfs, so it runs only as root.
set -euo pipefail
cd "$(dirname "$0")/.."
export GRIDWALK_FAULTS="${GRIDWALK_FAULTS:-1000}"
export GRIDWALK_FAULTS_MINUTES="${GRIDWALK_FAULTS_MINUTES:-20}"
if [[ "${1:-}" == "--postgres" ]]; then
  source scripts/postgres.sh
  pg_start
  export GRIDWALK_TEST_POSTGRES="$PG_URL"
fi
cargo test -p server --test faults -- --nocapture
