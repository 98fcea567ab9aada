// Nothing lost, nothing duplicated: pushes whose answers are cut off, and a
// server killed with SIGKILL in the middle of a batch. The phone retries; every
// queued visit reaches the server exactly once (visit ids are the primary key,
// and the server remembers every op id it applied).
import { connect } from 'node:net';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, phone, login, waitForHydration, queueVisits, serverVisitIds, syncUntilDone,
} from './helpers.mjs';

let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function workerPage(baseUrl) {
  // Service workers off: these tests intercept the page's own requests.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  await login(page, baseUrl, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  const household = await page.evaluate(async () => {
    const get = async (url) => (await fetch(url, { cache: 'no-store' })).json();
    const grid = await get(`/api/grids/${(await get('/api/grids'))[0].id}`);
    return (await get(`/api/buildings/${grid.buildings[1].id}`)).households[0].id;
  });
  return { context, page, household };
}

function exactlyOnce(serverIds, queued) {
  const counts = new Map();
  for (const id of serverIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = queued.filter((id) => !counts.has(id));
  const doubled = queued.filter((id) => counts.get(id) > 1);
  assert.deepEqual({ missing, doubled }, { missing: [], doubled: [] });
}

test('pushes whose answers are cut off are retried and applied exactly once', async () => {
  const server = await startServer();
  try {
    const { context, page, household } = await workerPage(server.url);
    // The server receives and applies the first pushes, but the phone never
    // hears back: the connection drops after the request went through.
    let cut = 0;
    await page.route('**/api/sync/push', async (route) => {
      if (cut < 2) {
        cut += 1;
        await route.fetch();
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    const queued = await queueVisits(page, household, 120);
    await syncUntilDone(page, server.url);
    assert.equal(cut, 2, 'two answers were cut off');
    exactlyOnce(await serverVisitIds(page), queued);
    await context.close();
  } finally {
    await server.stop();
  }
});

test('a server killed mid-batch and restarted ends with every visit exactly once', async (t) => {
  let server = await startServer();
  const { dir, addr } = server;
  try {
    const { context, page, household } = await workerPage(server.url);
    const queued = await queueVisits(page, household, 300);
    // Kill the server a few milliseconds into the first push.
    let killed = false;
    await page.route('**/api/sync/push', async (route) => {
      if (!killed) {
        killed = true;
        setTimeout(() => server.kill(), 15);
      }
      await route.continue().catch(() => {});
    });
    await page.goto(`${server.url}/sync`);
    await waitForHydration(page);
    await page.getByRole('button', { name: '立即同步' }).click();
    await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('离线'), null, {
      timeout: 30_000,
    });

    // Back up on the same database and port, as after a crash and restart.
    server = await startServer({ dir, addr });
    const landed = (await serverVisitIds(page)).filter((id) => queued.includes(id)).length;
    t.diagnostic(`${landed} of ${queued.length} visits had landed when the server was killed`);
    await syncUntilDone(page, server.url);
    exactlyOnce(await serverVisitIds(page), queued);
    await context.close();
  } finally {
    await server.stop();
  }
});

test('a busy server says when to come back, and the phone waits that long however often it is tapped', async () => {
  // One sync slot, a short queue: a push held open by another client turns
  // the phone's push away with 503 and Retry-After: 3.
  const server = await startServer({
    env: { GRIDWALK_SYNC_MAX_CONCURRENT: '1', GRIDWALK_SYNC_QUEUE_MS: '200', GRIDWALK_SYNC_RETRY_AFTER_SECS: '3' },
  });
  try {
    const { context, page, household } = await workerPage(server.url);
    const queued = await queueVisits(page, household, 5);
    const pushes = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/api/sync/push')) pushes.push({ at: Date.now(), status: r.status() });
    });
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const body = JSON.stringify({ device_id: 'other-phone', operations: [] });
    const slow = connect({ host: '127.0.0.1', port: Number(server.addr.split(':')[1]) });
    await new Promise((r) => slow.once('connect', r));
    let reply = '';
    slow.on('data', (chunk) => { reply += chunk; });
    slow.write(`POST /api/sync/push HTTP/1.1\r\nhost: gridwalk\r\ncookie: ${cookie}\r\n`
      + `content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 5)}`);
    await page.waitForTimeout(300); // the held push has the slot

    await page.goto(`${server.url}/sync`);
    await waitForHydration(page);
    const button = page.getByRole('button', { name: '立即同步' });
    while (!pushes.some((p) => p.status === 503)) {
      if (await button.isEnabled()) await button.click();
      await page.waitForTimeout(100);
    }
    const busyAt = pushes.find((p) => p.status === 503).at;
    slow.write(body.slice(5)); // the slot comes free at once
    // An impatient worker taps on for two seconds: no push goes out.
    const tapUntil = Date.now() + 2_000;
    while (Date.now() < tapUntil) {
      if (await button.isEnabled()) await button.click();
      await page.waitForTimeout(200);
    }
    assert.equal(pushes.filter((p) => p.at > busyAt).length, 0, 'no push before the time the server named');

    await syncUntilDone(page, server.url);
    const next = pushes.find((p) => p.at > busyAt);
    const waited = next.at - busyAt;
    assert.ok(waited >= 2_900 && waited <= 3_000 * 1.5 + 1_500, `came back after ${waited} ms (told 3 s)`);
    assert.ok(reply.startsWith('HTTP/1.1 200'), reply);
    exactlyOnce(await serverVisitIds(page), queued);
    slow.destroy();
    await context.close();
  } finally {
    await server.stop();
  }
});
