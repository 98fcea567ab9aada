// City-scale sync load (scripts/bench-city.sh runs it): PHONES simulated
// phones at once against one or more server instances (GW_URLS, comma
// separated; phone i talks to instance i mod n, as a proxy would spread them).
// Each phone signs in as its own worker, makes its first sync of its grid
// (paged pull), pushes a day's visits (BATCHES batches of BATCH visits, the
// phone's batch size being 50) with one resident photo (upload, then the edit
// naming it) in the middle, then pulls again from its cursor. A 503 with
// Retry-After is honoured as the phone does (wait, plus up to half again, then
// the same batch again: idempotent) and counted, not failed; any other non-2xx
// answer or network error is an error. Lost operations: pushed ops not
// answered `applied`. Beside it, in the same run, the baseline: GET /healthz
// round trips, one at a time, for as long as the load lasts.
// Prints one Markdown row (see the header printed by bench-city.sh); with
// BATCHES=0 the phones only make their first sync, and the row is the
// shared-pages table's.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { PASSWORD, ROOT } from '../e2e/helpers.mjs';

const URLS = (process.env.GW_URLS ?? '').split(',').filter(Boolean);
const PHONES = Number(process.env.PHONES ?? 50);
const BATCHES = Number(process.env.BATCHES ?? 10);
const BATCH = Number(process.env.BATCH ?? 10);
const PIDS = (process.env.GW_PIDS ?? '').split(',').filter(Boolean);
const LABEL = process.env.LABEL ?? '';
const WORKERS = Number(process.env.WORKERS ?? 1e9);
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 600_000);
if (URLS.length === 0) throw new Error('GW_URLS names no server');

const percentile = (xs, p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => (Number.isNaN(x) ? '—' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const rssMiB = () => PIDS.map((pid) => {
  try {
    const kib = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
    return kib / 1024;
  } catch { return 0; }
});

const stats = { push: [], pull: [], photo: [], edits: 0, firstSync: [], errors: 0, busy: 0, lost: 0, ops: 0, errorSamples: [] };
const started = performance.now();
const late = () => performance.now() - started > DEADLINE_MS;

/** One request, honouring 503/429 Retry-After like the phone; `null` on error. */
async function call(url, init, latencies) {
  for (;;) {
    if (late()) { stats.errors += 1; return null; }
    const t = performance.now();
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      stats.errors += 1;
      if (stats.errorSamples.length < 3) stats.errorSamples.push(String(e.cause ?? e));
      return null;
    }
    const retry = Number(response.headers.get('retry-after'));
    if ((response.status === 503 || response.status === 429) && retry > 0) {
      await response.arrayBuffer();
      stats.busy += 1;
      await sleep(retry * 1000 * (1 + Math.random() / 2));
      continue;
    }
    const text = await response.text();
    latencies?.push(performance.now() - t);
    if (!response.ok) {
      stats.errors += 1;
      if (stats.errorSamples.length < 3) stats.errorSamples.push(`${response.status} ${text.slice(0, 120)}`);
      return null;
    }
    return { response, text };
  }
}

// A distinct photo per upload: the app icon with a random tEXt chunk after
// its header (the server decodes and re-encodes it, as it does a camera's).
const ICON = readFileSync(join(ROOT, 'public', 'icons', 'icon-192.png'));
function uniquePhoto() {
  const data = Buffer.concat([Buffer.from('tEXt'), Buffer.from(`Comment\0${randomUUID()}`)]);
  const chunk = Buffer.alloc(data.length + 8);
  chunk.writeUInt32BE(data.length - 4, 0);
  data.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(data), data.length + 4);
  return Buffer.concat([ICON.subarray(0, 33), chunk, ICON.subarray(33)]);
}

async function pullAll(base, cookie, cursor, households, residents = []) {
  for (;;) {
    const answer = await call(`${base}/api/sync/pull?cursor=${cursor}&limit=1000`,
      { headers: { cookie, 'accept-encoding': 'br' } }, stats.pull);
    if (!answer) return null;
    const page = JSON.parse(answer.text);
    for (const r of page.records) {
      if (r.entity === 'household') households.push(r.id);
      if (r.entity === 'resident' && !r.moved_out) residents.push(r);
    }
    cursor = page.next_cursor;
    if (!page.more) return cursor;
  }
}

async function phone(i) {
  const base = URLS[i % URLS.length];
  const login = await call(`${base}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `worker${(i % WORKERS) + 1}`, password: PASSWORD }),
  });
  if (!login) return;
  const cookie = login.response.headers.get('set-cookie').split(';')[0];
  const households = [];
  const residents = [];
  const t = performance.now();
  const cursor = await pullAll(base, cookie, 0, households, residents);
  if (cursor === null) return;
  stats.firstSync.push(performance.now() - t);
  if (households.length === 0) { stats.errors += 1; return; }
  const device = randomUUID();
  for (let b = 0; b < BATCHES; b += 1) {
    const operations = Array.from({ length: BATCH }, () => ({
      op_id: randomUUID(),
      created_at: Date.now(),
      change: { record_visit: {
        id: randomUUID(),
        household_id: households[Math.floor(Math.random() * households.length)],
        visited_at: Date.now() - 60_000,
        visit_type: 'routine', outcome: 'met', residents_seen: [], concerns: [],
        notes: '入户走访，家中情况正常', requests: [],
      } },
    }));
    // Now and then (once a day per phone) a new photo of a resident: the
    // upload, then the edit that names it.
    if (b === Math.floor(BATCHES / 2) && residents.length > 0) {
      const photo = uniquePhoto();
      const hash = createHash('sha256').update(photo).digest('hex');
      const uploaded = await call(`${base}/api/photos/${hash}`, { method: 'PUT', headers: { cookie }, body: photo }, stats.photo);
      if (uploaded) {
        const resident = residents[Math.floor(Math.random() * residents.length)];
        operations.push({
          op_id: randomUUID(), created_at: Date.now(),
          change: { edit_resident: { id: resident.id, changes: [{ field: 'photo', base: resident.photo ?? null, value: hash }] } },
        });
        stats.edits += 1;
      }
    }
    stats.ops += operations.length;
    const answer = await call(`${base}/api/sync/push`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: device, operations }),
    }, stats.push);
    if (!answer) { stats.lost += operations.length; continue; }
    const results = JSON.parse(answer.text).results;
    // A conflict is applied too (the field rule decided); only a missing or
    // rejected answer loses an operation.
    stats.lost += operations.length - results.filter((r) => r.status === 'applied' || r.status === 'conflict').length;
  }
  await pullAll(base, cookie, cursor, []);
}

// The baseline beside the load: /healthz, one at a time, until the load ends.
let loadDone = false;
const healthz = [];
const baseline = (async () => {
  while (!loadDone) {
    const t = performance.now();
    await fetch(`${URLS[0]}/healthz`).then((r) => r.arrayBuffer()).catch(() => {});
    healthz.push(performance.now() - t);
    await sleep(50);
  }
})();
let peakRss = rssMiB().reduce((a, b) => a + b, 0);
const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssMiB().reduce((a, b) => a + b, 0)); }, 250);

const pushStart = performance.now();
await Promise.all(Array.from({ length: PHONES }, (_, i) => phone(i)));
const wall = (performance.now() - pushStart) / 1000;
loadDone = true;
await baseline;
clearInterval(sampler);

const opsPerSec = stats.ops / wall;
if (BATCHES === 0) {
  // First syncs only (the shared-pages comparison): pages served per second instead of operations.
  console.log(`| ${LABEL} | ${PHONES} | ${(stats.pull.length / wall).toFixed(0)}`
    + ` | ${ms(percentile(stats.pull, 50))} / ${ms(percentile(stats.pull, 99))}`
    + ` | ${ms(percentile(stats.firstSync, 50))} / ${ms(percentile(stats.firstSync, 99))}`
    + ` | ${ms(percentile(healthz, 50))} / ${ms(percentile(healthz, 99))}`
    + ` | ${stats.busy} | ${stats.errors} | ${peakRss.toFixed(0)} MiB |`);
} else {
  console.log(`| ${LABEL} | ${PHONES} | ${opsPerSec.toFixed(0)} | ${ms(percentile(stats.push, 50))} / ${ms(percentile(stats.push, 95))} / ${ms(percentile(stats.push, 99))}`
    + ` | ${ms(percentile(stats.firstSync, 50))} / ${ms(percentile(stats.firstSync, 99))}`
    + ` | ${ms(percentile(healthz, 50))} / ${ms(percentile(healthz, 99))}`
    + ` | ${stats.busy} | ${stats.errors} | ${stats.lost} | ${peakRss.toFixed(0)} MiB |`);
}
console.error(`${LABEL}, ${PHONES} phones: ${stats.ops} operations (${stats.edits} photo edits, photo upload p50 ${ms(percentile(stats.photo, 50))}), `
  + `${stats.pull.length} pull pages (p50 ${ms(percentile(stats.pull, 50))}), ${wall.toFixed(1)} s`);
if (stats.errorSamples.length) console.error(`errors, e.g.: ${stats.errorSamples.join(' · ')}`);
