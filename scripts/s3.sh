#!/usr/bin/env bash
# A throw-away S3-compatible server for tests and benchmarks: moto_server from
# PyPI (installed by scripts/install-tools.sh --test), in memory, on a free
# loopback port. Source it, then call `s3_start`; it exports the standard
# AWS_* variables the server reads (see server/src/photos/mod.rs), creates the
# bucket $GRIDWALK_TEST_S3_BUCKET, and stops the server when the shell exits.
#   source scripts/s3.sh && s3_start && echo "$AWS_ENDPOINT"

MOTO_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/gridwalk/moto-5.2.5"

s3_start() {
  [[ -x "$MOTO_VENV/bin/moto_server" ]] \
    || { echo "moto_server is not installed (scripts/install-tools.sh --test)" >&2; return 1; }
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  S3_LOG=$(mktemp /tmp/gridwalk-s3.XXXXXX.log)
  "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$S3_LOG" 2>&1 &
  S3_PID=$!
  # Added to the shell's exit trap (scripts/postgres.sh may have set one).
  local before
  before=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  trap "s3_stop${before:+; $before}" EXIT
  export AWS_ENDPOINT="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=gridwalk-test AWS_SECRET_ACCESS_KEY=gridwalk-test \
    GRIDWALK_TEST_S3_BUCKET=gridwalk-test
  local tries=0
  until curl -sf -o /dev/null "$AWS_ENDPOINT/moto-api/"; do
    (( ++tries < 100 )) || { cat "$S3_LOG" >&2; return 1; }
    sleep 0.1
  done
  # moto does not check signatures: a plain PUT makes the bucket.
  curl -sf -X PUT -o /dev/null "$AWS_ENDPOINT/$GRIDWALK_TEST_S3_BUCKET" || { cat "$S3_LOG" >&2; return 1; }
}

s3_stop() {
  if [[ -n "${S3_PID:-}" ]]; then
    kill "$S3_PID" 2>/dev/null || true
    wait "$S3_PID" 2>/dev/null || true
    rm -f "$S3_LOG"
    S3_PID=
  fi
}
