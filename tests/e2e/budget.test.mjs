// The app shell is served compressed and stays within its brotli budget
// (250 KB for what the first page load fetches: main WASM, JS, CSS), so first
// load on a poor signal stays bearable. Code behind a tap (forms, the sync
// engine) lives in split chunks fetched on first use and precached offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer } from './helpers.mjs';

const PKG = join(ROOT, 'target', 'site', 'pkg');
const BUDGET_BYTES = 250 * 1024;
// The split manifest is read by the server (to preload chunks), never fetched.
const built = readdirSync(PKG).filter((f) => /\.(wasm|js|css)$/.test(f));
// split_*: one per #[lazy] function; chunk_*: code those share. Both load on demand.
const chunks = built.filter((f) => /^(split|chunk)_/.test(f));
const shell = built.filter((f) => !chunks.includes(f));
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('file names are content-hashed', () => {
  for (const f of built) assert.match(f, /\.[A-Za-z0-9_-]{22}\.(wasm|js|css)$/, f);
  assert.ok(shell.some((f) => f.endsWith('.wasm')) && chunks.length > 0, built.join(', '));
});

test('the shell fits the brotli budget', () => {
  const sizes = shell.map((f) => readFileSync(join(PKG, `${f}.br`)).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(total <= BUDGET_BYTES, `brotli total ${total} B > budget ${BUDGET_BYTES} B (${shell.map((f, i) => `${f} ${sizes[i]}`).join(', ')})`);
});

test('the shell is served precompressed and cached for good', async () => {
  for (const file of built) {
    const response = await fetch(`${server.url}/pkg/${file}`, { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(response.status, 200, file);
    assert.equal(response.headers.get('content-encoding'), 'br', file);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable', file);
    await response.arrayBuffer();
  }
});

test('the service worker precaches exactly this release', async () => {
  const response = await fetch(`${server.url}/sw.js`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('cache-control'), 'no-cache');
  const text = await response.text();
  const list = JSON.parse(text.match(/const PRECACHE = (\[.*\]);/)[1]);
  for (const f of built) assert.ok(list.includes(`/pkg/${f}`), `${f} not precached`);
  assert.ok(list.includes('/offline.html'));
  assert.match(text, /const VERSION = '[0-9a-f]{12}';/);
});
