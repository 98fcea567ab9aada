// First pull of a worker's (and a lead's) whole scope over HTTP, on the demo
// street and on a generated 100,000-household street (run by scripts/bench.sh).
// Baseline in the same run: as many /healthz round trips as the pull had pages.
// Each pull twice: first with its pages built (the database warmed just before
// by a pull of another page size, whose pages are other pages), then again as
// a second phone of the same caller gets it, from the shared pages.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ENGINE, startServer, databaseUrl, signIn } from '../e2e/helpers.mjs';

async function pullAll(base, cookie, limit) {
  const start = performance.now();
  let cursor = 0; let records = 0; let bytes = 0; let pages = 0;
  for (;;) {
    const response = await fetch(`${base}/api/sync/pull?cursor=${cursor}&limit=${limit}`, {
      headers: { cookie, 'accept-encoding': 'br' },
    });
    const text = await response.text();
    const page = JSON.parse(text);
    pages += 1; records += page.records.length; bytes += text.length;
    cursor = page.next_cursor;
    if (!page.more) break;
  }
  return { ms: performance.now() - start, records, bytes, pages };
}

async function baseline(base, n) {
  const start = performance.now();
  for (let i = 0; i < n; i++) await (await fetch(`${base}/healthz`)).text();
  return performance.now() - start;
}

async function measure(label, server, users) {
  for (const [username, limit] of users) {
    const cookie = await signIn(server.url, username);
    await pullAll(server.url, cookie, limit - 1); // warm the database's caches
    const run = await pullAll(server.url, cookie, limit);
    const shared = await pullAll(server.url, await signIn(server.url, username), limit);
    const base = await baseline(server.url, run.pages);
    console.log(`| ${label} | ${username}, limit ${limit} | ${run.records} | ${run.pages} | ${(run.bytes / 1024).toFixed(0)} KiB`
      + ` | ${run.ms.toFixed(0)} ms | ${shared.ms.toFixed(0)} ms | ${base.toFixed(1)} ms |`);
  }
}

console.log(`### First pull over HTTP (release server, ${ENGINE}, loopback)\n`);
console.log('| street | caller | records | pages | JSON | time, pages built | time, pages shared (a second phone) | baseline: as many /healthz |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
const demo = await startServer();
try {
  await measure('demo (3,584 households)', demo, [['worker1', 1000], ['worker1', 5000], ['lead1', 5000]]);
} finally {
  await demo.stop();
}
const dir = mkdtempSync(join(tmpdir(), 'gridwalk-bench-'));
const generated = spawnSync(join(ROOT, 'target', 'release', 'server'), ['generate', '100000', databaseUrl(dir)], {
  cwd: ROOT, env: { ...process.env, RUST_LOG: 'warn' }, encoding: 'utf8',
});
if (generated.status !== 0) throw new Error(generated.stderr);
const big = await startServer({ dir });
try {
  await measure('generated (100,000+ households)', big, [['worker1', 5000], ['lead1', 5000]]);
} finally {
  await big.stop();
}
