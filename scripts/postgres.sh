#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests and benchmarks: Debian's
# postgresql binaries, a temp folder, a Unix socket only (nothing listens on
# the network), fsync off. Source it, then call `pg_start`; it exports
# PG_URL (the `postgres` database, for CREATE DATABASE) and stops the cluster
# when the calling shell exits.
#   source scripts/postgres.sh && pg_start && echo "$PG_URL"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n "$dir" ]] || { echo "PostgreSQL is not installed (scripts/install-tools.sh --test)" >&2; return 1; }
  echo "$dir"
}

pg_start() {
  local bin
  bin=$(pg_bin) || return 1
  PG_DIR=$(mktemp -d /tmp/gridwalk-pg.XXXXXX)
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  local run=()
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/db" -A trust -U gw --locale=C.UTF-8 -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/db" -l "$PG_DIR/server.log" -w \
    -o "-k $PG_DIR -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_STOP=("${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/db" -m fast stop)
  trap 'pg_stop' EXIT
  export PG_URL="postgres://gw@localhost/postgres?host=$PG_DIR"
}

pg_stop() {
  if [[ -n "${PG_DIR:-}" ]]; then
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=
  fi
}
