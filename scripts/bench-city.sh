#!/usr/bin/env bash
# City-scale sync load, one command; prints Markdown for BENCHMARKS.md.
#   scripts/bench-city.sh                 400,000 households (about 1,000,000 residents), 50 / 200 / 500 phones
#   HOUSEHOLDS=40000 PHONES_LIST="50 200" scripts/bench-city.sh    smaller
#   CONFIGS="pg pg2" PHONES_LIST=500 scripts/bench-city.sh            some configurations only
#   PHONES_LIST= SHARED_PHONES=200 scripts/bench-city.sh             the shared first-sync pages only
# A generated city is written once per engine; then, for each phone count,
# tests/bench/crowd.mjs runs the phones against: SQLite (one instance, photo
# folder), PostgreSQL (one instance), PostgreSQL (two instances, photos in a
# local S3 server). Everything on loopback, on this machine: the load client
# shares the cores with the servers and the database. Each configuration's
# row carries its own baseline (/healthz round trips during the load).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HOUSEHOLDS=${HOUSEHOLDS:-400000}
CONFIGS=${CONFIGS:-"sqlite pg pg2"}
PHONES_LIST=${PHONES_LIST-"50 200 500"}
[[ -x target/release/server && -f target/release/hash.txt ]] || scripts/build.sh
work=$(mktemp -d /tmp/gridwalk-city.XXXXXX)
pids=()
stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
}
source scripts/postgres.sh
source scripts/s3.sh
trap 'stop_servers; rm -rf "$work"' EXIT
pg_start
s3_start

# start_server <database url> <photo store>: appends to pids, sets SERVER_URL
# (not called in $(…): the server must be this shell's child).
start_server() {
  local out="$work/server.$RANDOM.out"
  GRIDWALK_DATABASE_URL="$1" GRIDWALK_PHOTO_STORE="$2" GRIDWALK_ADDR=127.0.0.1:0 \
    GRIDWALK_DATABASE_MAX_CONNECTIONS="${CONNECTIONS:-8}" GRIDWALK_SITE_ROOT="$ROOT/target/site" \
    GRIDWALK_SYNC_SNAPSHOT_MB="${SNAPSHOT_MB:-32}" \
    RUST_LOG=warn target/release/server >"$out" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do
    SERVER_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" | head -1 || true)
    [[ -n "$SERVER_URL" ]] && return 0
    sleep 0.1
  done
  cat "$out" >&2; return 1
}

generate() { # <database url> -> seconds
  local t0=$SECONDS
  RUST_LOG=error target/release/server generate "$HOUSEHOLDS" "$1" >"$work/generate.out"
  echo $((SECONDS - t0))
}

sqlite_url="sqlite://$work/city.db"
pg_db="gw_city_$$"
"$(pg_bin)/createdb" -h "$PG_DIR" -U gw "$pg_db"
pg_url="postgres://gw@localhost/$pg_db?host=$PG_DIR"

echo "## City-scale sync load, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git rev-parse --short HEAD)"
echo
wants() { [[ " $CONFIGS " == *" $1 "* ]]; }
generated=()
wants sqlite && generated+=("$(generate "$sqlite_url") s into SQLite")
{ wants pg || wants pg2; } && generated+=("$(generate "$pg_url") s into PostgreSQL")
echo "Generated city: $(IFS=,; echo "${generated[*]}"); $(cat "$work/generate.out")"
echo
echo "Each phone: sign in, first sync of its grid (pages of 1,000), $((${BATCHES:-10})) pushes of $((${BATCH:-10})) visits, a pull from its cursor."
echo "Latency percentiles are per request; the first sync is the whole paged pull. Asked to wait: 503 answers with"
echo "Retry-After, honoured and retried (not errors). Lost: pushed operations not answered applied. RSS: peak, all instances."
echo
echo "| configuration | phones | operations/s (whole run) | push p50 / p95 / p99 | first sync p50 / p99 | baseline /healthz p50 / p99 | asked to wait | errors | lost | server RSS peak |"
echo "|---|---:|---:|---|---|---|---:|---:|---:|---:|"
# run <label> <instances> <database url> <photo store>
run() {
  local urls=()
  for _ in $(seq "$2"); do start_server "$3" "$4"; urls+=("$SERVER_URL"); done
  (cd tests && GW_URLS="$(IFS=,; echo "${urls[*]}")" GW_PIDS="$(IFS=,; echo "${pids[*]}")" \
    PHONES=$phones WORKERS=$workers LABEL="$1" BATCHES="${BATCHES:-10}" node bench/crowd.mjs)
  stop_servers
}
s3="s3://$GRIDWALK_TEST_S3_BUCKET/city"
# One worker per grid (worker1, worker2, …): more phones than grids share workers.
workers=$(( ( (HOUSEHOLDS + 55) / 56 + 7 ) / 8 ))
for phones in $PHONES_LIST; do
  if wants sqlite; then run "SQLite, 1 instance" 1 "$sqlite_url" "$work/photos"; fi
  if wants pg; then run "PostgreSQL, 1 instance, S3" 1 "$pg_url" "$s3"; fi
  if wants pg2; then run "PostgreSQL, 2 instances, S3" 2 "$pg_url" "$s3"; fi
done

# Shared first-sync pages: SHARED_PHONES phones of SHARED_GRIDS workers (one
# grid each, so several phones per grid: new phones handed out, or a team
# sharing a grid) make only their first sync, with the page sharing off
# (sync_snapshot_mb = 0, every page built per phone) and on, in the same run.
phones=${SHARED_PHONES:-200}
if [[ "$phones" != 0 ]]; then
  workers=${SHARED_GRIDS:-20}
  echo
  echo "First syncs only: $phones phones of $workers workers ($((phones / workers)) phones per grid) at once, pages of 1,000."
  echo
  echo "| configuration | phones | pages/s | page p50 / p99 | first sync p50 / p99 | baseline /healthz p50 / p99 | asked to wait | errors | server RSS peak |"
  echo "|---|---:|---:|---|---|---|---:|---:|---:|"
  for mb in 0 32; do
    sharing=$([[ $mb == 0 ]] && echo "pages built per phone" || echo "pages shared")
    if wants sqlite; then SNAPSHOT_MB=$mb BATCHES=0 run "SQLite, 1 instance, $sharing" 1 "$sqlite_url" "$work/photos"; fi
    if wants pg; then SNAPSHOT_MB=$mb BATCHES=0 run "PostgreSQL, 1 instance, $sharing" 1 "$pg_url" "$s3"; fi
  done
fi
echo
if wants sqlite; then
  echo "SQLite file after the runs: $(( $(cat "$work"/city.db* | wc -c) / 1048576 )) MiB."
fi
if wants pg || wants pg2; then
  pg_bytes=$("$(pg_bin)/psql" -h "$PG_DIR" -U gw -d "$pg_db" -Atc 'SELECT pg_database_size(current_database())')
  echo "PostgreSQL database after the runs: $((pg_bytes / 1048576)) MiB."
fi
