// What durable acknowledgements cost on SQLite (run by scripts/bench.sh):
// pushes of new visits, batches of 50 one after the other as a phone sends
// them, against the release server with `synchronous = FULL` (the default:
// every commit synced, so an acknowledged visit survives a power cut) and with
// NORMAL (safe across a crash of the process only), alternating, in one run.
// Baseline in the same run: as many /healthz round trips as there were batches.
import { PASSWORD, startServer } from '../e2e/helpers.mjs';

const BATCHES = 40;
const BATCH = 50;
const ROUNDS = 2;

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function signIn(base) {
  const response = await fetch(`${base}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'worker1', password: PASSWORD }),
  });
  if (!response.ok) throw new Error(`login: ${response.status}`);
  return response.headers.get('set-cookie').split(';')[0];
}

async function households(base, cookie) {
  const get = async (path) => (await fetch(`${base}${path}`, { headers: { cookie } })).json();
  const grid = await get(`/api/grids/${(await get('/api/grids'))[0].id}`);
  const building = await get(`/api/buildings/${grid.buildings[0].id}`);
  return building.households.map((h) => h.id);
}

function visit(household) {
  const now = Date.now();
  return {
    op_id: crypto.randomUUID(),
    created_at: now,
    change: { record_visit: {
      id: crypto.randomUUID(), household_id: household, visited_at: now - 60_000, visit_type: 'routine',
      outcome: 'met', residents_seen: [], concerns: [], notes: '例行走访', requests: [],
    } },
  };
}

async function run(fullSync) {
  const server = await startServer({ env: { GRIDWALK_SQLITE_FULL_SYNC: String(fullSync) } });
  try {
    const cookie = await signIn(server.url);
    const doors = await households(server.url, cookie);
    const batches = Array.from({ length: BATCHES }, (_, b) =>
      Array.from({ length: BATCH }, (_, i) => visit(doors[(b * BATCH + i) % doors.length])));
    const times = [];
    const start = performance.now();
    for (const operations of batches) {
      const t = performance.now();
      const response = await fetch(`${server.url}/api/sync/push`, {
        method: 'POST', headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ device_id: 'bench', operations }),
      });
      const body = await response.json();
      if (!response.ok || body.results.some((r) => r.status !== 'applied')) throw new Error(JSON.stringify(body).slice(0, 300));
      times.push(performance.now() - t);
    }
    const total = performance.now() - start;
    const baseStart = performance.now();
    for (let i = 0; i < BATCHES; i++) await (await fetch(`${server.url}/healthz`)).text();
    return { total, times, baseline: performance.now() - baseStart };
  } finally {
    await server.stop();
  }
}

const results = { true: [], false: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const fullSync of [false, true]) results[fullSync].push(await run(fullSync));
}
console.log(`### Durable acknowledgements on SQLite (release server, loopback, ${BATCHES} pushes of ${BATCH} new visits one after the other, ${ROUNDS} rounds alternating)\n`);
console.log('| synchronous | visits/s | push of 50, p50 / p95 | baseline: as many /healthz |');
console.log('|---|---:|---|---:|');
for (const fullSync of [false, true]) {
  const runs = results[fullSync];
  const times = runs.flatMap((r) => r.times);
  const total = runs.reduce((a, r) => a + r.total, 0);
  const baseline = runs.reduce((a, r) => a + r.baseline, 0) / runs.length;
  const label = fullSync ? 'FULL (default: every commit synced)' : 'NORMAL (before: a power cut may lose the last commits)';
  console.log(`| ${label} | ${((runs.length * BATCHES * BATCH) / (total / 1000)).toFixed(0)} | ${percentile(times, 50).toFixed(1)} ms / ${percentile(times, 95).toFixed(1)} ms | ${baseline.toFixed(1)} ms |`);
}
