// First sync of a worker's grid into an empty phone, in headless Chromium,
// beside the same records replicated with the CouchDB protocol that CHT uses
// (pouchdb-server in memory -> pouchdb-browser), measured in the same run.
// Run by scripts/bench.sh; prints Markdown.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, PASSWORD, startServer, launchBrowser, phone, login, localStore } from '../e2e/helpers.mjs';

const TARGET_VISITS = 5000;
const RUNS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function signIn(base, username) {
  const response = await fetch(`${base}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (!response.ok) throw new Error(`login ${username}: ${response.status}`);
  return response.headers.get('set-cookie').split(';')[0];
}

async function pullAll(base, cookie) {
  const records = [];
  let cursor = 0;
  for (;;) {
    const page = await (await fetch(`${base}/api/sync/pull?cursor=${cursor}&limit=5000`, { headers: { cookie } })).json();
    records.push(...page.records);
    cursor = page.next_cursor;
    if (!page.more) return records;
  }
}

/** Tops the grid up to TARGET_VISITS visits through the push API (as phones would). */
async function topUpVisits(base, cookie, records) {
  const households = records.filter((r) => r.entity === 'household').map((r) => r.id);
  let missing = TARGET_VISITS - records.filter((r) => r.entity === 'visit').length;
  let n = 0;
  while (missing > 0) {
    const operations = [];
    for (; operations.length < Math.min(200, missing); n++) {
      const visit = { id: crypto.randomUUID(), household_id: households[n % households.length],
        visited_at: Date.now() - (n % 80) * 86_400_000, visit_type: 'routine', outcome: 'met', notes: '常规走访，一切正常' };
      operations.push({ op_id: crypto.randomUUID(), created_at: Date.now(), change: { record_visit: visit } });
    }
    const response = await fetch(`${base}/api/sync/push`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: 'bench', operations }),
    });
    if (!response.ok) throw new Error(`push: ${response.status}`);
    missing -= operations.length;
  }
}

/** From navigation start of the first signed-in page until the phone holds every record. */
async function gridwalkFirstSync(browser, server, expected) {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  const timing = await page.evaluate(async () => {
    const open = () => new Promise((resolve) => { const r = indexedDB.open(self.gridwalkStore); r.onsuccess = () => resolve(r.result); });
    let hydrated;
    for (;;) {
      if (hydrated === undefined && window.__gridwalk_hydrated) hydrated = performance.now();
      const db = await open();
      if (db.objectStoreNames.contains('meta')) {
        const state = await new Promise((resolve) => {
          const r = db.transaction('meta').objectStore('meta').get('state');
          r.onsuccess = () => resolve(r.result);
        });
        // The pull writes the grids it holds last, after every record.
        if (state && JSON.parse(state).grids.length > 0) {
          db.close();
          return { hydrated, done: performance.now() };
        }
      }
      db.close();
      await new Promise((r) => setTimeout(r, 25));
    }
  });
  // Queryable offline: the copy is complete with the network cut.
  await context.setOffline(true);
  const store = await localStore(page);
  await context.close();
  if (store.counts.households !== expected.households || store.counts.residents !== expected.residents
    || store.visitCount !== expected.visits) {
    throw new Error(`incomplete copy: ${JSON.stringify(store.counts)} vs ${JSON.stringify(expected)}`);
  }
  return timing;
}

const server = await startServer();
const browser = await launchBrowser();
try {
  const cookie = await signIn(server.url, 'worker1');
  await topUpVisits(server.url, cookie, await pullAll(server.url, cookie));
  const records = await pullAll(server.url, cookie);
  const count = (entity) => records.filter((r) => r.entity === entity).length;
  const expected = { households: count('household'), residents: count('resident'), visits: count('visit') };
  const bytes = JSON.stringify(records).length;

  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await gridwalkFirstSync(browser, server, expected));
  const total = median(runs.map((r) => r.done));
  const afterHydration = median(runs.map((r) => r.done - r.hydrated));

  console.log(`### First sync of a worker's grid into an empty phone (headless Chromium, loopback)`);
  console.log();
  console.log(`${count('building')} buildings, ${expected.households} households, ${expected.residents} residents, ` +
    `${expected.visits} visits: ${records.length} records, ${(bytes / 1e6).toFixed(2)} MB of JSON. ` +
    `Median of ${RUNS} runs, each in a fresh browser context.`);
  console.log();
  console.log('| system | measured span | runs (ms) | median |');
  console.log('|---|---|---|---:|');
  console.log(`| Gridwalk | first signed-in page: navigation start → every record in IndexedDB (checked after, offline) | ${runs.map((r) => r.done.toFixed(0)).join(', ')} | **${total.toFixed(0)} ms** |`);
  console.log(`| Gridwalk | of which after hydration (the sync itself) | ${runs.map((r) => (r.done - r.hydrated).toFixed(0)).join(', ')} | ${afterHydration.toFixed(0)} ms |`);

  // The same records over the CouchDB replication protocol, if its packages are installed.
  const pouchDir = join(ROOT, 'tests', 'bench', 'pouch');
  if (existsSync(join(pouchDir, 'node_modules'))) {
    const file = join(mkdtempSync(join(tmpdir(), 'gridwalk-pouch-')), 'records.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
    for (const mode of ['replicate', 'cht']) {
      const out = spawnSync('node', [join(pouchDir, 'replicate.mjs'), file, '--runs', String(RUNS), '--mode', mode],
        { encoding: 'utf8' });
      const line = out.stdout.trim().split('\n').pop();
      if (out.status !== 0 || !line) {
        console.log(`| PouchDB (${mode}) | failed: ${out.stderr.trim().split('\n').pop()} | | |`);
        continue;
      }
      const result = JSON.parse(line);
      const what = mode === 'cht' ? 'CHT 4.x initial replication (bulkGet 100 + bulkDocs)' : 'PouchDB.replicate(remote, local)';
      console.log(`| pouchdb-browser ${result.pouchdb_browser} ← ${result.server} | ${what}: new PouchDB → last doc readable | ` +
        `${result.runs_ms.join(', ')} | ${result.median_ms} ms (**${(result.median_ms / afterHydration).toFixed(1)}×** Gridwalk's sync) |`);
    }
  } else {
    console.log('| PouchDB | not measured: run `npm ci --prefix tests/bench/pouch` | | |');
  }
  console.log();
  console.log('The ratio compares like with like: PouchDB\'s span starts with the page loaded, as Gridwalk\'s sync does after hydration.');
} finally {
  await browser.close();
  await server.stop();
}
