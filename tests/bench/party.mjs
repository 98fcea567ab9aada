// Party-member benchmarks (run by scripts/bench.sh). Prints Markdown.
// One community of about 10,000 households with 2,000 in-service members
// from 50 units, ~8,000 联系户 links, a year of their visits and weekly
// activities with check-ins (`server generate-party 10000 2000`), signed in
// as its lead:
// 1. the roster, the overdue list and the hours ledger, one request at a
//    time: p50 / p95, beside GET /healthz the same way (goal p95 ≤ 100 ms);
// 2. the hours ledger as XLSX and CSV, and every unit's quarterly report (one
//    XLSX, a sheet per unit): time to the last byte and size.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ENGINE, startServer, databaseUrl, signIn } from '../e2e/helpers.mjs';

const HOUSEHOLDS = 10_000;
const MEMBERS = 2_000;
const REQUESTS = 60;

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'gridwalk-party-'));
const generated = spawnSync(process.env.GRIDWALK_SERVER_BIN ?? join(ROOT, 'target', 'release', 'server'),
  ['generate-party', String(HOUSEHOLDS), String(MEMBERS), databaseUrl(dir)],
  { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
if (generated.status !== 0) throw new Error(generated.stderr);
const count = (name) => generated.stdout.match(new RegExp(`${name}: (\\d+)`))[1];

const server = await startServer({ dir });
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
  const year = new Date(Date.now() + 8 * 3600_000).getUTCFullYear();
  const rows = [
    ['baseline: GET /healthz', '/healthz'],
    ['GET /manage/party (the roster, every member)', '/manage/party'],
    ['GET /manage/party/overdue (members overdue by rank)', '/manage/party/overdue'],
    [`GET /manage/party/hours?year=${year} (the hours ledger)`, `/manage/party/hours?year=${year}`],
    ['GET /manage/party/units (this quarter, per unit)', '/manage/party/units'],
  ];
  console.log(`### Party members of one community on ${ENGINE} (${count('households')} households, `
    + `${count('party_members')} members from 50 units, ${count('member_visits')} member visits and `
    + `${count('check_ins')} check-ins over a year; lead1)`);
  console.log();
  console.log(`| request (one at a time, ${REQUESTS} each) | p50 | p95 |`);
  console.log('|---|---:|---:|');
  for (const [label, path] of rows) {
    const times = await series(path);
    console.log(`| ${label} | ${ms(percentile(times, 50))} | ${ms(percentile(times, 95))} |`);
  }
  console.log();
  console.log('| file | time to last byte | size |');
  console.log('|---|---:|---:|');
  for (const [label, path] of [
    ['服务时间台账 XLSX', `/manage/party/hours.xlsx?year=${year}`],
    ['服务时间台账 CSV', `/manage/party/hours.csv?year=${year}`],
    ['单位季度报告 XLSX, every unit (a sheet each)', '/manage/party/units.xlsx'],
  ]) {
    const result = await timed(path);
    console.log(`| ${label} (${path.split('?')[0]}) | ${(result.ms / 1000).toFixed(2)} s | ${(result.bytes / 1024).toFixed(0)} KiB |`);
  }
  console.log();
} finally {
  await server.stop();
}
