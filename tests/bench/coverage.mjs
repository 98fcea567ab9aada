// Coverage benchmarks (run by scripts/bench.sh). Prints Markdown.
// One community of about 10,000 households with about 100,000 visits
// (`server generate-community`), signed in as its lead:
// 1. GET /manage/coverage, one request at a time: p50 / p95, beside GET
//    /healthz measured the same way in the same run;
// 2. the page with its SVG map in headless Chromium on a phone screen:
//    navigation start → load, beside the login page loaded the same way;
// 3. the visit ledger of the whole year (every visit) as XLSX and as CSV:
//    time to the last byte, size, and the server's peak RSS during it, beside
//    its RSS just before.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ENGINE, startServer, launchBrowser, phone, databaseUrl, PASSWORD } from '../e2e/helpers.mjs';

const HOUSEHOLDS = 10_000;
const MULTIPLIER = '5';
const REQUESTS = 60;

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;
const rssKiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);

const dir = mkdtempSync(join(tmpdir(), 'gridwalk-coverage-'));
const generated = spawnSync(join(ROOT, 'target', 'release', 'server'),
  ['generate-community', String(HOUSEHOLDS), MULTIPLIER, databaseUrl(dir)],
  { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
if (generated.status !== 0) throw new Error(generated.stderr);
const counts = generated.stdout.match(/households: (\d+), residents: (\d+), visits: (\d+)/);

const server = await startServer({ dir });
const browser = await launchBrowser();
try {
  const login = await fetch(`${server.url}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'lead1', password: PASSWORD }),
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const timed = async (path) => {
    const start = performance.now();
    const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
    const body = Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return { ms: performance.now() - start, bytes: body.length, body };
  };
  const series = async (path) => {
    await timed(path);
    const times = [];
    for (let i = 0; i < REQUESTS; i++) times.push((await timed(path)).ms);
    return times;
  };
  const health = await series('/healthz');
  const page = await series('/manage/coverage?days=30');
  const filtered = await series('/manage/coverage?days=30&tag=elderly_alone');

  console.log(`### Coverage of one community on ${ENGINE} (${counts[1]} households, ${counts[2]} residents, ${counts[3]} visits over a year; lead1)`);
  console.log();
  console.log(`| request (one at a time, ${REQUESTS} each) | p50 | p95 |`);
  console.log('|---|---:|---:|');
  console.log(`| baseline: GET /healthz | ${ms(percentile(health, 50))} | ${ms(percentile(health, 95))} |`);
  console.log(`| GET /manage/coverage?days=30 (figures, map, overdue list; goal p95 ≤ 100 ms) | ${ms(percentile(page, 50))} | ${ms(percentile(page, 95))} |`);
  console.log(`| GET /manage/coverage?days=30&tag=elderly_alone (filtered) | ${ms(percentile(filtered, 50))} | ${ms(percentile(filtered, 95))} |`);
  console.log();

  // The page in Chromium on a phone screen: the map is inline SVG.
  const context = await phone(browser);
  const [name, value] = cookie.split('=');
  await context.addCookies([{ name, value, url: server.url }]);
  const tab = await context.newPage();
  const load = async (path) => {
    await tab.goto(`${server.url}${path}`, { waitUntil: 'load' });
    return tab.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { load: nav.loadEventEnd, buildings: document.querySelectorAll('svg.map a').length };
    });
  };
  const pages = { map: [], login: [] };
  let buildings = 0;
  for (let i = 0; i < 5; i++) {
    const map = await load('/manage/coverage?days=30');
    buildings = map.buildings;
    pages.map.push(map.load);
    // A small server page of the same site, for the baseline.
    pages.login.push((await load('/n/none')).load);
  }
  console.log('| page in headless Chromium, 360 px phone screen (5 loads) | navigation → load, median | p95 |');
  console.log('|---|---:|---:|');
  console.log(`| baseline: a small server page (the public "not found" page) | ${ms(percentile(pages.login, 50))} | ${ms(percentile(pages.login, 95))} |`);
  console.log(`| the coverage page with its SVG map of ${buildings} buildings | ${ms(percentile(pages.map, 50))} | ${ms(percentile(pages.map, 95))} |`);
  console.log();

  // Exports of every visit of the year, with the server's RSS sampled meanwhile.
  const exportRow = async (label, path) => {
    const before = rssKiB(server.pid);
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(server.pid)); }, 10);
    const result = await timed(path);
    clearInterval(sampler);
    peak = Math.max(peak, rssKiB(server.pid));
    return `| ${label} | ${(result.ms / 1000).toFixed(2)} s | ${(result.bytes / 1048576).toFixed(1)} MB | ${(before / 1024).toFixed(0)} MiB | ${(peak / 1024).toFixed(0)} MiB |`;
  };
  console.log(`| export of the year's ${counts[3]} visits | time to last byte | size | server RSS before | peak during |`);
  console.log('|---|---:|---:|---:|---:|');
  console.log(await exportRow('走访台账 XLSX (/manage/coverage/visits.xlsx?days=366)', '/manage/coverage/visits.xlsx?days=366'));
  console.log(await exportRow('走访台账 CSV (/manage/coverage/visits.csv?days=366)', '/manage/coverage/visits.csv?days=366'));
  console.log(await exportRow(`覆盖情况 XLSX (${counts[1]} households)`, '/manage/coverage/households.xlsx?days=30'));
} finally {
  await browser.close();
  await server.stop();
}
