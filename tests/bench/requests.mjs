// Request (诉求) benchmarks (run by scripts/bench.sh). Prints Markdown.
// One community of about 10,000 households with about 20,000 requests over
// two years (`server generate-requests 10000 2`), signed in as its lead:
// 1. the ledger, the overdue filter, the quarter's figures and a year's,
//    one request at a time: p50 / p95, beside GET /healthz the same way;
// 2. a year's ledger as XLSX and CSV: time to the last byte and size;
// 3. a worker's first sync of that community with its requests, beside the
//    same community generated without requests (the first sync before
//    requests existed): time, records, bytes; the median of 3 pulls each.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ENGINE, startServer, databaseUrl, signIn } from '../e2e/helpers.mjs';

const HOUSEHOLDS = 10_000;
const PER_HOUSEHOLD = '2';
const REQUESTS = 60;
const DAY = 86_400_000;

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;

function generate(perHousehold) {
  const dir = mkdtempSync(join(tmpdir(), 'gridwalk-requests-'));
  const generated = spawnSync(join(ROOT, 'target', 'release', 'server'),
    ['generate-requests', String(HOUSEHOLDS), perHousehold, databaseUrl(dir)],
    { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
  if (generated.status !== 0) throw new Error(generated.stderr);
  return { dir, counts: generated.stdout };
}

/** A whole first sync as the phone pulls it (pages of 5,000). */
async function pullAll(base, cookie) {
  const start = performance.now();
  let cursor = 0; let records = 0; let bytes = 0; let requests = 0;
  for (;;) {
    const response = await fetch(`${base}/api/sync/pull?cursor=${cursor}&limit=5000`, {
      headers: { cookie, 'accept-encoding': 'br' },
    });
    const text = await response.text();
    const page = JSON.parse(text);
    records += page.records.length; bytes += text.length;
    requests += page.records.filter((r) => r.entity === 'request').length;
    cursor = page.next_cursor;
    if (!page.more) break;
  }
  return { ms: performance.now() - start, records, bytes, requests };
}

/** Median of 3 first syncs, each by a new session (a phone of its own). */
async function firstSync(base) {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await pullAll(base, await signIn(base, 'worker1')));
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1];
}

const withRequests = generate(PER_HOUSEHOLD);
const server = await startServer({ dir: withRequests.dir, env: { GRIDWALK_SYNC_SNAPSHOT_MB: '0' } });
let synced;
try {
  const cookie = await signIn(server.url, 'lead1');
  const timed = async (path) => {
    const start = performance.now();
    const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
    const body = Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return { ms: performance.now() - start, bytes: body.length };
  };
  const series = async (path) => {
    await timed(path);
    const times = [];
    for (let i = 0; i < REQUESTS; i++) times.push((await timed(path)).ms);
    return times;
  };
  const yearAgo = new Date(Date.now() + 8 * 3600_000 - 365 * DAY).toISOString().slice(0, 10);
  const rows = [
    ['baseline: GET /healthz', '/healthz'],
    ['GET /manage/requests (the ledger, newest 100; goal p95 ≤ 100 ms)', '/manage/requests'],
    ['GET /manage/requests?overdue=1 (overdue now)', '/manage/requests?overdue=1'],
    ['GET /manage/requests/figures (this quarter; goal p95 ≤ 100 ms)', '/manage/requests/figures'],
    [`GET /manage/requests/figures?from=${yearAgo} (a year)`, `/manage/requests/figures?from=${yearAgo}`],
  ];
  const requestCount = withRequests.counts.match(/requests: (\d+)/)[1];
  const households = withRequests.counts.match(/households: (\d+)/)[1];
  console.log(`### Requests of one community on ${ENGINE} (${households} households, ${requestCount} requests over two years; lead1)`);
  console.log();
  console.log(`| request (one at a time, ${REQUESTS} each) | p50 | p95 |`);
  console.log('|---|---:|---:|');
  for (const [label, path] of rows) {
    const times = await series(path);
    console.log(`| ${label} | ${ms(percentile(times, 50))} | ${ms(percentile(times, 95))} |`);
  }
  console.log();
  console.log('| export of a year\'s requests | time to last byte | size |');
  console.log('|---|---:|---:|');
  for (const kind of ['xlsx', 'csv']) {
    const result = await timed(`/manage/requests/ledger.${kind}?from=${yearAgo}`);
    console.log(`| 诉求台账 ${kind.toUpperCase()} (/manage/requests/ledger.${kind}?from=…) | ${(result.ms / 1000).toFixed(2)} s | ${(result.bytes / 1048576).toFixed(1)} MB |`);
  }
  console.log();
  synced = await firstSync(server.url);
} finally {
  await server.stop();
}

// The same community without requests: the first sync as it was before them.
const without = generate('0');
const bare = await startServer({ dir: without.dir, env: { GRIDWALK_SYNC_SNAPSHOT_MB: '0' } });
try {
  const before = await firstSync(bare.url);
  const extra = ((synced.ms / before.ms - 1) * 100).toFixed(0);
  console.log('| worker1\'s first sync (median of 3, pages of 5,000, shared pages off) | time | records | of them requests | bytes |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(`| baseline: the same community without requests | ${ms(before.ms)} | ${before.records} | 0 | ${(before.bytes / 1024).toFixed(0)} KiB |`);
  console.log(`| with its requests (open ones, and those ended in the last 90 days) | ${ms(synced.ms)} | ${synced.records} | ${synced.requests} | ${(synced.bytes / 1024).toFixed(0)} KiB |`);
  console.log();
  console.log(`Requests add **${extra} %** to a worker's first sync (goal ≤ 15 %).`);
} finally {
  await bare.stop();
}
