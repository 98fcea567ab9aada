// CouchDB-replication baseline (the protocol CHT uses): pouchdb-server (in memory, loopback)
// -> pouchdb-browser (IndexedDB) in headless Debian Chromium, driven by playwright-core.
//
// usage: node replicate.mjs <records.jsonl> [--runs 3] [--pouch 7|9] [--mode replicate|cht]
//                           [--batch-size N]
//   records.jsonl: one JSON object per line with a string field `id` (becomes `_id`).
//   --pouch 7     pouchdb-browser 7.3.1, the line CHT's webapp ships (default); 9 = 9.0.0.
//   --mode replicate  time PouchDB.replicate(remote, local) (default).
//   --mode cht        time CHT 4.x's initial replication instead: fetch all ids + last_seq,
//                     bulkGet 100 ids at a time -> local.bulkDocs(new_edits:false), then a
//                     checkpointing replicate.from(remote, {since: last_seq}).
//   --batch-size N    PouchDB replication batch_size (PouchDB's default is 100).
// Each run: fresh on-disk Chromium profile, fresh local database. The timed span is inside
// the page: from `new PouchDB(local)` until `local.get(<last id>)` and `local.allDocs({limit:1})`
// have answered after replication completed. Prints one JSON line at the end.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const log = (...a) => console.error('[pouch-bench]', ...a);

// ---------- arguments ----------
const argv = process.argv.slice(2);
const opt = { runs: 3, pouch: '7', mode: 'replicate', batchSize: 0 };
let recordsPath;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
  if (a === '--runs') opt.runs = Number(val());
  else if (a === '--pouch') opt.pouch = val();
  else if (a === '--mode') opt.mode = val();
  else if (a === '--batch-size') opt.batchSize = Number(val());
  else if (a === '-h' || a === '--help') usage();
  else if (!recordsPath && !a.startsWith('--')) recordsPath = a;
  else usage(`unknown argument ${a}`);
}
function usage(msg) {
  if (msg) console.error(msg);
  console.error('usage: node replicate.mjs <records.jsonl> [--runs 3] [--pouch 7|9] [--mode replicate|cht] [--batch-size N]');
  process.exit(2);
}
if (!recordsPath) usage();
if (!['7', '9'].includes(opt.pouch)) usage('--pouch must be 7 or 9');
if (!['replicate', 'cht'].includes(opt.mode)) usage('--mode must be replicate or cht');
if (!(opt.runs >= 1)) usage('--runs must be >= 1');
const pouchPkg = opt.pouch === '9' ? 'pouchdb-browser-9' : 'pouchdb-browser';
const pouchVersion = require(`${pouchPkg}/package.json`).version;

// ---------- records ----------
const docs = [];
for (const line of readFileSync(recordsPath, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const { id, ...rest } = JSON.parse(line);
  if (typeof id !== 'string' || !id) throw new Error(`record without string id: ${line.slice(0, 80)}`);
  docs.push({ _id: id, ...rest });
}
if (!docs.length) throw new Error('no records');
const knownId = docs[docs.length - 1]._id;
const jsonBytes = docs.reduce((s, d) => s + Buffer.byteLength(JSON.stringify(d)), 0);

// ---------- cleanup bookkeeping ----------
const tmpRoot = mkdtempSync(join(tmpdir(), 'pouch-bench-'));
let server, context;
async function cleanup() {
  try { if (context) await context.close(); } catch {}
  context = undefined;
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { server.kill('SIGKILL'); r(); }, 3000); server.once('exit', () => { clearTimeout(t); r(); }); });
  }
  rmSync(tmpRoot, { recursive: true, force: true });
}
process.on('SIGINT', () => cleanup().finally(() => process.exit(130)));
process.on('SIGTERM', () => cleanup().finally(() => process.exit(143)));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// pouchdb-server's CPU time (user+sys) from /proc, to see how much of a run the server costs.
function serverCpuMs() {
  try {
    const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime in clock ticks (USER_HZ = 100)
  } catch { return NaN; }
}

async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} -> ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function main() {
  // ---------- server: pouchdb-server --in-memory on loopback ----------
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const serverDir = join(tmpRoot, 'server'); // config.json + log.txt land here, not in the repo
  const bin = join(dirname(require.resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');
  mkdirSync(serverDir, { recursive: true });
  let serverErr = '';
  server = spawn(process.execPath, [bin, '--in-memory', '--host', '127.0.0.1', '--port', String(port),
    '--dir', serverDir, '--config', join(serverDir, 'config.json'), '--no-stdout-logs', '--no-color'],
  { cwd: tmpRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: String(port) } });
  server.stderr.on('data', (d) => { serverErr += d; });
  const t0 = Date.now();
  for (;;) {
    if (server.exitCode !== null) throw new Error(`pouchdb-server exited (${server.exitCode}): ${serverErr}`);
    try { const r = await fetch(`${origin}/`); if (r.ok) { await r.text(); break; } } catch {}
    if (Date.now() - t0 > 30000) throw new Error(`pouchdb-server did not answer on ${origin}: ${serverErr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const root = await http('GET', `${origin}/`);
  log(`pouchdb-server ${root.version ?? ''} (${root.vendor?.name ?? 'pouchdb-server'}) up on ${origin} in ${Date.now() - t0} ms`);

  // ---------- bulk load (not timed) ----------
  const dbName = 'bench';
  const remoteUrl = `${origin}/${dbName}`;
  await http('PUT', remoteUrl);
  const tLoad = performance.now();
  const CHUNK = 500;
  for (let i = 0; i < docs.length; i += CHUNK) {
    const res = await http('POST', `${remoteUrl}/_bulk_docs`, { docs: docs.slice(i, i + CHUNK) });
    const bad = res.filter((r) => r.error);
    if (bad.length) throw new Error(`bulk load errors: ${JSON.stringify(bad.slice(0, 3))}`);
  }
  const info = await http('GET', remoteUrl);
  const loadMs = performance.now() - tLoad;
  if (info.doc_count !== docs.length) throw new Error(`server has ${info.doc_count} docs, expected ${docs.length}`);
  log(`bulk-loaded ${docs.length} docs (${(jsonBytes / 1e6).toFixed(2)} MB JSON) into ${remoteUrl} in ${loadMs.toFixed(0)} ms (not timed)`);

  // ---------- page assets: pouchdb-browser bundled for the browser ----------
  const bundle = await build({
    stdin: { contents: `import PouchDB from '${pouchPkg}'; window.PouchDB = PouchDB;`, resolveDir: HERE, loader: 'js' },
    bundle: true, format: 'iife', platform: 'browser', minify: true, write: false, logLevel: 'silent',
    target: 'es2019', define: { global: 'window' },
  });
  const pouchJs = bundle.outputFiles[0].text;
  const html = '<!doctype html><meta charset="utf-8"><title>pouch bench</title><script src="pouchdb.js"></script><body>pouch bench</body>';
  log(`bundled ${pouchPkg}@${pouchVersion}: ${(pouchJs.length / 1024).toFixed(0)} KiB`);

  // ---------- runs ----------
  const runs = [];
  const serverCpu = [];
  for (let run = 1; run <= opt.runs; run++) {
    const profile = mkdtempSync(join(tmpRoot, `profile-${run}-`));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
      headless: true,
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => log('page error:', e.message));
    // The page and the bundle are served on the server's own origin (as CHT serves its app and
    // /medic from one origin), so there is no CORS preflight. Playwright answers these two URLs;
    // interception is switched off again before the timed part.
    await page.route(`${origin}/__bench/**`, (route) => {
      const u = new URL(route.request().url());
      if (u.pathname.endsWith('/pouchdb.js')) return route.fulfill({ status: 200, contentType: 'application/javascript', body: pouchJs });
      return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
    });
    await page.goto(`${origin}/__bench/index.html`);
    await page.waitForFunction(() => typeof window.PouchDB === 'function');
    await page.unrouteAll();

    const cpu0 = serverCpuMs();
    const r = await page.evaluate(async ({ remoteUrl, localName, knownId, batchSize, mode }) => {
      const PouchDB = window.PouchDB;
      const t0 = performance.now();
      const local = new PouchDB(localName); // IndexedDB adapter (pouchdb-browser's default)
      const remote = new PouchDB(remoteUrl);
      let docsWritten;
      if (mode === 'replicate') {
        const o = batchSize ? { batch_size: batchSize } : {};
        const res = await PouchDB.replicate(remote, local, o);
        docsWritten = res.docs_written;
      } else {
        // CHT 4.x bootstrapper/initial-replication.js, minus its /initial-replication/get-ids API
        // (CHT's API filters ids per user; here every doc is the user's, so _changes gives them).
        const ch = await (await fetch(`${remoteUrl}/_changes?style=main_only`)).json();
        const ids = ch.results.map((c) => c.id);
        docsWritten = 0;
        for (let i = 0; i < ids.length; i += 100) {
          const res = await remote.bulkGet({ docs: ids.slice(i, i + 100).map((id) => ({ id })), attachments: true });
          const got = res.results.map((x) => x.docs && x.docs[0] && x.docs[0].ok).filter(Boolean);
          await local.bulkDocs(got, { new_edits: false });
          docsWritten += got.length;
        }
        await local.replicate.from(remote, { live: false, retry: false, since: ch.last_seq });
      }
      const tRep = performance.now();
      const doc = await local.get(knownId);
      const first = await local.allDocs({ limit: 1 });
      const t1 = performance.now();
      const info = await local.info();
      window.__local = local;
      return {
        ms: t1 - t0, replicate_ms: tRep - t0, query_ms: t1 - tRep, docs_written: docsWritten,
        doc_count: info.doc_count, adapter: local.adapter, got: doc._id, first: first.rows[0] && first.rows[0].id,
      };
    }, { remoteUrl, localName: `local-run-${run}`, knownId, batchSize: opt.batchSize, mode: opt.mode });

    const cpuMs = serverCpuMs() - cpu0;
    // Sanity (not timed): the copy answers with the network switched off.
    await context.setOffline(true);
    const offline = await page.evaluate(async (id) => (await window.__local.get(id))._id, knownId);
    if (offline !== knownId || r.doc_count !== docs.length) {
      throw new Error(`run ${run}: local copy incomplete: ${JSON.stringify(r)}, offline get -> ${offline}`);
    }
    log(`run ${run}: ${r.ms.toFixed(0)} ms (replicate ${r.replicate_ms.toFixed(0)} + first query ${r.query_ms.toFixed(1)}), ` +
      `${r.docs_written} docs written, local doc_count ${r.doc_count}, adapter ${r.adapter}, offline get ok; ` +
      `server CPU ${cpuMs} ms`);
    serverCpu.push(cpuMs);
    runs.push(Math.round(r.ms));
    await context.close();
    context = undefined;
    rmSync(profile, { recursive: true, force: true });
  }

  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
  console.log(JSON.stringify({
    records: docs.length, runs_ms: runs, median_ms: median,
    mode: opt.mode, pouchdb_browser: pouchVersion, server: `pouchdb-server ${require('pouchdb-server/package.json').version} --in-memory`,
    json_bytes: jsonBytes, load_ms: Math.round(loadMs), server_cpu_ms: serverCpu,
  }));
}

let code = 0;
try { await main(); } catch (e) { console.error(e); code = 1; }
await cleanup();
process.exit(code);
