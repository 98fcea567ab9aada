#!/usr/bin/env bash
# Gridwalk benchmarks, one command. Prints Markdown for BENCHMARKS.md.
#   scripts/bench.sh           sizes, idle memory, page latency under load, sync, photos, coverage and
#                              requests in Chromium; party members' pages and files; sync, pull, coverage,
#                              requests and party again on PostgreSQL;
#                              spreadsheet import on both; first sync; Lighthouse on the worker pages
#   scripts/bench.sh --build   also cold / warm build times (scripts/bench-build.sh)
# Load comes from wrk on loopback; every figure is taken beside a baseline in
# the same run (GET /healthz), because these machines are shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/tests/node_modules/.bin:$PATH"
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null
[[ -x target/release/server && -f target/release/hash.txt ]] || scripts/build.sh

echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, commit $(git rev-parse --short HEAD)"
echo

echo "### App shell sizes (bytes; names are content-hashed, shown without the hash)"
echo
node --input-type=module -e '
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
let total = { raw: 0, gz: 0, br: 0 };
const files = readdirSync("target/site/pkg").filter((f) => /\.(wasm|js|css)$/.test(f));
const lazy = (f) => /^(split|chunk)_/.test(f);
const shell = files.filter((f) => !lazy(f));
const row = (f) => { const b = readFileSync(`target/site/pkg/${f}`);
  return { name: f.replace(/\.[A-Za-z0-9_-]{22}\./, "."), raw: b.length, gz: gzipSync(b, { level: 9 }).length,
    br: brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length }; };
console.log("| file | raw | gzip -9 | brotli 11 |\n|---|---:|---:|---:|");
for (const f of shell) {
  const r = row(f);
  for (const k in total) total[k] += r[k];
  console.log(`| ${r.name} | ${r.raw} | ${r.gz} | ${r.br} |`);
}
console.log(`| **shell total** | ${total.raw} | ${total.gz} | **${total.br}** (budget 256000) |`);
const shared = { raw: 0, gz: 0, br: 0, n: 0 };
for (const f of files.filter(lazy)) {
  const r = row(f);
  if (f.startsWith("chunk_")) { for (const k of ["raw", "gz", "br"]) shared[k] += r[k]; shared.n += 1; continue; }
  console.log(`| ${r.name.replace(/_\d+\./, ".")} (on first use) | ${r.raw} | ${r.gz} | ${r.br} |`);
}
console.log(`| code shared by those, ${shared.n} chunks (on first use) | ${shared.raw} | ${shared.gz} | ${shared.br} |`);
'
echo

# A server on the demo data, on a free port, in a temp folder.
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
# The public-page limit per address is lifted: wrk is one address.
GRIDWALK_DATABASE_URL="sqlite://$work/gw.db" GRIDWALK_PHOTO_STORE="$work/photos" GRIDWALK_DEMO_DATA=true GRIDWALK_ADDR=127.0.0.1:0 \
  GRIDWALK_PUBLIC_REQUESTS_PER_MINUTE=1000000000 \
  GRIDWALK_SITE_ROOT="$ROOT/target/site" RUST_LOG=warn target/release/server >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 120); do grep -q 'http://' "$work/out" && break; sleep 0.5; done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out" | head -1)
sleep 3
rss_idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

cookie=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"username":"worker1","password":"gridwalk2026"}' "$base/api/login" | grep -io 'gw_session=[0-9a-f]*')
grid=$(curl -s -H "cookie: $cookie" "$base/api/grids" | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d)[0].id))')
building=$(curl -s -H "cookie: $cookie" "$base/api/grids/$grid" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).buildings[3].id))')
household=$(curl -s -H "cookie: $cookie" "$base/api/buildings/$building" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).households.find(h=>h.residents>=3).id))')

load() { # name url -> markdown row
  local out
  out=$(wrk -t2 -c16 -d10s --latency -H "cookie: $cookie" -H 'accept-encoding: br' "$2")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "| $1 | $rps | $p50 | $p99 |"
}

echo "### Latency under load (wrk -t2 -c16 -d10s, loopback, demo data, signed in as worker1)"
echo
echo "| request | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
load 'GET /healthz (baseline: one SELECT 1)' "$base/healthz"
load 'GET /api/households/{id} (JSON, + audit write)' "$base/api/households/$household"
load 'GET /households/{id} (server-rendered page)' "$base/households/$household"
echo

# A published quarterly finance notice, as a lead writes it, read anonymously.
lead=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"username":"lead1","password":"gridwalk2026"}' "$base/api/login" | grep -io 'gw_session=[0-9a-f]*')
community=$(curl -s "$base/manage/notices/new" -H "cookie: $lead" | grep -o 'option value="[0-9a-f-]*"' | head -1 | grep -o '[0-9a-f-]\{36\}')
notice=$(curl -s -D - -o /dev/null -H "cookie: $lead" --data-urlencode "community_id=$community" --data-urlencode category=finance \
  --data-urlencode 'title=2026年第三季度居务财务公开' \
  --data-urlencode "body=$(printf '## 收入\n\n| 项目 | 金额（元） |\n|---|---|\n| 物业费 | 128,400 |\n| 停车费 | 36,200 |\n\n## 支出\n\n- 绿化养护 12,000 元\n- 电梯维保 24,600 元\n- 楼道照明 3,100 元\n\n如有疑问，请于工作日到社区服务站咨询。')" \
  "$base/manage/notices" | grep -i '^location' | grep -o '[0-9a-f-]\{36\}')
curl -s -o /dev/null -H "cookie: $lead" -X POST "$base/manage/notices/$notice/publish"
page="$base/n/$community/$notice"
echo "### Public notice page (anonymous, wrk -t2 -c16 -d10s, loopback)"
echo
echo "| request | req/s | p50 | p99 |"
echo "|---|---:|---:|---:|"
load 'GET /healthz (baseline)' "$base/healthz"
load 'GET /n/{community}/{notice} (quarterly finance notice)' "$page"
load 'GET /n/{community} (the community notice list)' "$base/n/$community"
echo
br=$(curl -s -H 'accept-encoding: br' -o /dev/null -w '%{size_download}' "$page")
raw=$(curl -s -o /dev/null -w '%{size_download}' "$page")
echo "Bytes for the notice page, everything it loads (one HTML document: inline CSS, no scripts but the"
echo "service-worker registration, no images): **$br B** brotli on the wire, $raw B uncompressed (goal ≤ 30 KB)."
echo
rss_loaded=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo "### Server memory (demo data: 3,584 households, 9,684 residents)"
echo
echo "| state | RSS |"
echo "|---|---:|"
echo "| idle after start | $((rss_idle / 1024)) MiB |"
echo "| after the load runs | $((rss_loaded / 1024)) MiB |"
echo

(cd tests && node bench/sync.mjs)
echo
(cd tests && node bench/durability.mjs)
echo
(cd tests && node bench/pull.mjs)
echo
(cd tests && node bench/photos.mjs)
echo
(cd tests && node bench/coverage.mjs)
echo
(cd tests && node bench/requests.mjs)
echo
(cd tests && node bench/party.mjs)
echo
# The database-bound benchmarks again on PostgreSQL (a throw-away cluster on a
# Unix socket, scripts/postgres.sh), beside the SQLite figures above.
source scripts/postgres.sh
pg_start
trap 'pg_stop; kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
export PATH="$PATH:$(pg_bin)"
for bench in sync pull coverage requests party; do
  (cd tests && GRIDWALK_E2E_POSTGRES="$PG_URL" node "bench/$bench.mjs")
  echo
done
# Spreadsheet import, in-process server over HTTP, both engines (an empty database of its own).
echo "### Spreadsheet import (cargo bench -p server --bench import)"
echo
psql "$PG_URL" -qc 'CREATE DATABASE import_bench' >/dev/null
GRIDWALK_BENCH_POSTGRES="${PG_URL/\/postgres?/\/import_bench?}" cargo bench -q -p server --bench import 2>/dev/null
echo
pg_stop
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
# The CouchDB-replication comparison needs its own packages (registry only).
[[ -d tests/bench/pouch/node_modules ]] || npm ci --prefix tests/bench/pouch --no-audit --no-fund >/dev/null
(cd tests && node bench/firstsync.mjs)
echo
# Lighthouse's mobile profile on the worker pages, fresh and warm phone (its own packages, registry only).
[[ -d tests/bench/lighthouse/node_modules ]] || npm ci --prefix tests/bench/lighthouse --no-audit --no-fund >/dev/null
(cd tests && node bench/lighthouse/run.mjs)
echo

if [[ "${1:-}" == "--build" ]]; then
  scripts/bench-build.sh
fi
