// The app shell is served compressed and stays within its brotli budget
// (250 KB for WASM + JS + CSS), so first load on a poor signal stays bearable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer } from './helpers.mjs';

const SHELL = ['gridwalk.wasm', 'gridwalk.js', 'gridwalk.css'];
const BUDGET_BYTES = 250 * 1024;
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('the shell fits the brotli budget', () => {
  const sizes = SHELL.map((f) => readFileSync(join(ROOT, 'target', 'site', 'pkg', `${f}.br`)).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(total <= BUDGET_BYTES, `brotli total ${total} B > budget ${BUDGET_BYTES} B (${SHELL.map((f, i) => `${f} ${sizes[i]}`).join(', ')})`);
});

test('the shell is served precompressed', async () => {
  for (const file of SHELL) {
    const response = await fetch(`${server.url}/pkg/${file}`, { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(response.status, 200, file);
    assert.equal(response.headers.get('content-encoding'), 'br', file);
    assert.equal(response.headers.get('cache-control'), 'no-cache', file);
    await response.arrayBuffer();
  }
});
