// Lighthouse 12's mobile profile (simulated slow 4G, a 4x slower CPU) on the
// worker's grid, building and household pages of the release server on demo
// data, signed in as worker1 by a session cookie (run by scripts/bench.sh).
//
// A fresh phone: IndexedDB, the service worker and its caches are cleared
// before each run, so the page is measured while its first sync runs. A warm
// phone: the same browser profile after a finished sync, nothing cleared. The
// baseline in the same run is the public notice page (no WASM at all) and
// the login page. Each figure is the median of RUNS runs.
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, signIn } from '../../e2e/helpers.mjs';

const RUNS = Number(process.env.LIGHTHOUSE_RUNS ?? 3);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// What a fresh phone lacks: Lighthouse's default keeps IndexedDB and local storage.
const FRESH = ['file_systems', 'shader_cache', 'service_workers', 'cache_storage', 'indexeddb', 'local_storage'];

const server = await startServer();
const profile = mkdtempSync(join(tmpdir(), 'gridwalk-lighthouse-'));
const chrome = await chromeLauncher.launch({
  chromePath: CHROMIUM,
  userDataDir: profile,
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});

// The session lives in the browser's cookie jar, as on a phone. (A `Cookie`
// header through Lighthouse's extraHeaders lost to the jar once the server had
// set a cookie there: every page after the first measured the login page.)
const devtools = await chromium.connectOverCDP(`http://127.0.0.1:${chrome.port}`);
const jar = devtools.contexts()[0];

async function audit(url, { fresh }) {
  const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance'] }, {
    extends: 'lighthouse:default',
    settings: {
      formFactor: 'mobile',
      throttlingMethod: 'simulate',
      disableStorageReset: !fresh,
      clearStorageTypes: fresh ? FRESH : undefined,
    },
  });
  const lhr = result.lhr;
  if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.message}`);
  if (lhr.finalDisplayedUrl !== url) throw new Error(`${url} measured ${lhr.finalDisplayedUrl} instead`);
  const long = lhr.audits['long-tasks']?.details?.items ?? [];
  return {
    score: Math.round(lhr.categories.performance.score * 100),
    tbt: lhr.audits['total-blocking-time'].numericValue,
    tti: lhr.audits.interactive.numericValue,
    lcp: lhr.audits['largest-contentful-paint'].numericValue,
    longest: Math.max(0, ...long.map((task) => task.duration)),
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function row(label, url, options) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await audit(url, options));
  const m = (key) => median(runs.map((run) => run[key]));
  const scores = runs.map((run) => run.score).join(' / ');
  console.log(`| ${label} | **${m('score')}** (${scores}) | ${m('tbt').toFixed(0)} ms | ${(m('tti') / 1000).toFixed(1)} s`
    + ` | ${(m('lcp') / 1000).toFixed(1)} s | ${m('longest').toFixed(0)} ms |`);
}

try {
  const base = server.url;
  const cookie = await signIn(base, 'worker1');
  const [name, value] = cookie.split('=');
  const get = async (path) => (await fetch(`${base}${path}`, { headers: { cookie } })).json();
  const grid = (await get('/api/grids'))[0].id;
  const building = (await get(`/api/grids/${grid}`)).buildings[3].id;
  const household = (await get(`/api/buildings/${building}`)).households.find((h) => h.residents >= 3).id;
  // The demo's first community and its first published notice, as a resident finds them.
  const lead = await signIn(base, 'lead1');
  const form = await (await fetch(`${base}/manage/notices/new`, { headers: { cookie: lead } })).text();
  const community = form.match(/option value="([0-9a-f-]{36})"/)[1];
  const index = await (await fetch(`${base}/n/${community}`)).text();
  const notice = index.match(new RegExp(`/n/${community}/([0-9a-f-]{36})`))[1];
  const pages = [['grid', `/grids/${grid}`], ['building', `/buildings/${building}`], ['household', `/households/${household}`]];

  console.log(`### Lighthouse 12, mobile profile (simulated slow 4G, 4x CPU slowdown), median of ${RUNS} runs\n`);
  console.log('| page | performance (each run) | total blocking time | time to interactive | largest paint | longest task |');
  console.log('|---|---:|---:|---:|---:|---:|');
  await row('baseline: public notice page (anonymous, no WASM)', `${base}/n/${community}/${notice}`, {});
  await row('baseline: login page (anonymous)', `${base}/login`, { fresh: true });
  // Signed in from here on; a fresh run clears the phone's storage, not its cookies.
  await jar.addCookies([{ name, value, url: base }]);
  for (const [page, path] of pages) {
    await row(`${page} page, fresh phone (first sync runs)`, `${base}${path}`, { fresh: true });
  }
  // One full visit leaves the profile as a phone that has synced.
  await audit(`${base}/`, { fresh: true });
  await new Promise((r) => setTimeout(r, 5000));
  for (const [page, path] of pages) {
    await row(`${page} page, warm phone`, `${base}${path}`, { fresh: false });
  }
} finally {
  await devtools.close();
  await chrome.kill();
  rmSync(profile, { recursive: true, force: true });
  await server.stop();
}
