// One phone, two people (issue 17, point 1): each user's records live in a
// store of their own. Signing out pushes first and warns about what could not
// go; the copy of the grids leaves the phone with the user; what stayed unsent
// waits for its author, is never sent under someone else's session and is
// never shown to them, online or offline. And the service worker keeps no page
// and no API answer, and drops its photos when a grid leaves the phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, phone, login, waitForHydration, waitForServiceWorker, queueVisits, someHousehold,
  signIn, syncUntilDone, waitForStore, localStore,
} from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Visit ids the server holds for `username`'s grids, asked outside the browser. */
async function serverVisits(username) {
  const cookie = await signIn(server.url, username);
  const ids = [];
  for (let cursor = 0; ;) {
    const page = await (await fetch(`${server.url}/api/sync/pull?cursor=${cursor}&limit=5000`, { headers: { cookie } })).json();
    for (const r of page.records) if (r.entity === 'visit') ids.push(r);
    cursor = page.next_cursor;
    if (!page.more) return ids;
  }
}

/** Records per store, and unsent entries, of every Gridwalk store on the phone. */
async function stores(page) {
  return page.evaluate(async () => {
    const result = {};
    for (const { name } of await indexedDB.databases()) {
      if (!name.startsWith('gridwalk')) continue;
      const db = await new Promise((resolve, reject) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const counts = {};
      for (const store of db.objectStoreNames) {
        counts[store] = await new Promise((resolve) => {
          const r = db.transaction(store).objectStore(store).count();
          r.onsuccess = () => resolve(r.result);
        });
      }
      db.close();
      result[name] = counts;
    }
    return result;
  });
}

async function signOut(page) {
  await page.goto(`${server.url}/sync#logout`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '退出登录' }).click();
}

test('two users on one phone never send, see or receive each other\'s records', async () => {
  const context = await phone(browser);
  const page = await context.newPage();

  // Worker 1 signs in, the phone copies their grid.
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  await waitForServiceWorker(page);
  const mine = await page.evaluate(() => self.gridwalkStore);
  await waitForStore(page, (s) => s.counts.households > 0 && s.grids.length > 0, 'worker1 copy');
  const household = await someHousehold(page);
  const resident = await page.evaluate(async (id) => (await (await fetch(`/api/households/${id}`)).json()).residents[0], household);

  // A visit recorded with no signal, and the server still out of reach when
  // worker 1 signs out: the sign-out tries, then says what stays.
  await context.setOffline(true);
  const [visit] = await queueVisits(page, household, 1, '走访 · 共用手机');
  await context.setOffline(false);
  await page.route('**/api/sync/push', (route) => route.abort());
  await signOut(page);
  await page.getByRole('alert').filter({ hasText: '还有 1 条记录或照片没有上传' }).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: '仍然退出' }).click();
  await page.waitForURL(/\/login$/);
  await page.unroute('**/api/sync/push');

  // Signed out: the sign-in page names whose records the phone keeps; the
  // copy of worker 1's grid is gone, the unsent visit is not.
  await page.locator('.held').filter({ hasText: '的 1 条记录尚未上传' }).waitFor();
  const held = await stores(page);
  assert.equal(held[mine].outbox, 1, JSON.stringify(held));
  for (const store of ['buildings', 'households', 'residents', 'visits', 'requests', 'meta']) {
    assert.equal(held[mine][store], 0, `${store} of worker 1 left on the phone: ${JSON.stringify(held)}`);
  }
  assert.equal(await page.evaluate(() => self.gridwalkStore), undefined, 'no store is open when signed out');

  // Worker 2 signs in on the same phone: their own store, their own grid,
  // nothing of worker 1's pushed under their session.
  await login(page, server.url, 'worker2');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  const theirs = await page.evaluate(() => self.gridwalkStore);
  assert.notEqual(theirs, mine);
  await syncUntilDone(page, server.url);
  const copy = await waitForStore(page, (s) => s.counts.households > 0, 'worker2 copy');
  assert.equal(copy.counts.outbox, 0, 'worker 1\'s visit is not in worker 2\'s outbox');
  assert.ok(!(await serverVisits('worker1')).some((v) => v.id === visit), 'sent under worker 2\'s session');
  assert.equal((await stores(page))[mine].outbox, 1, 'still held for worker 1');

  // Offline, worker 1's household and resident are not on this phone for worker 2.
  await context.setOffline(true);
  for (const path of [`/households/${household}`, `/residents/${resident.id}`]) {
    await page.goto(`${server.url}${path}`);
    await waitForHydration(page);
    await page.locator('.error-card').waitFor();
    assert.ok(!(await page.content()).includes(resident.name), `${path} shows worker 1's resident`);
  }
  await context.setOffline(false);

  // Worker 2 signs out with nothing unsent: straight to the sign-in page.
  await signOut(page);
  await page.waitForURL(/\/login$/);

  // Worker 1 again: the held visit goes up under their own name, once.
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  assert.equal(await page.evaluate(() => self.gridwalkStore), mine);
  await syncUntilDone(page, server.url);
  const sent = (await serverVisits('worker1')).filter((v) => v.id === visit);
  assert.equal(sent.length, 1, 'the held visit reached the server once');
  await page.goto(server.url);
  const name = await page.locator('.account strong').innerText();
  assert.equal(sent[0].worker_name, name, 'recorded under worker 1');
  assert.equal((await localStore(page)).counts.outbox, 0);
  await context.close();
});

test('the service worker keeps photos only, never pages or API answers, and drops them with the grid', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  await waitForServiceWorker(page);
  await waitForStore(page, (s) => s.counts.households > 0, 'worker1 copy');

  // Online browsing: pages, API answers, a management page, a photo.
  const household = await someHousehold(page);
  await page.goto(`${server.url}/households/${household}`);
  await waitForHydration(page);
  await page.goto(`${server.url}/manage/coverage`);
  const cached = () => page.evaluate(async () => {
    const out = {};
    for (const name of await caches.keys()) {
      // The shell, and the worker's note of whose store is open.
      if (name.startsWith('gridwalk-shell') || name === 'gridwalk-user') continue;
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
    }
    return out;
  });
  await page.goto(`${server.url}/households/${household}`);
  const photo = await page.evaluate(async () => {
    // A photo of the worker's grid, the way the resident page shows it.
    const bytes = await new Promise((resolve) => {
      const canvas = document.createElement('canvas');
      canvas.width = 32;
      canvas.height = 32;
      canvas.getContext('2d').fillRect(0, 0, 16, 16);
      canvas.toBlob(resolve, 'image/jpeg', 0.9);
    });
    const buffer = await bytes.arrayBuffer();
    const hash = [...new Uint8Array(await crypto.subtle.digest('SHA-256', buffer))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    const put = await fetch(`/api/photos/${hash}`, { method: 'PUT', body: buffer, headers: { 'content-type': 'image/jpeg' } });
    return { hash, status: put.status };
  });
  assert.ok([200, 201].includes(photo.status), `photo upload ${photo.status}`);
  await page.evaluate((hash) => fetch(`/api/photos/${hash}/thumb`), photo.hash);
  const kept = await cached();
  const paths = Object.values(kept).flat();
  assert.ok(paths.every((p) => /^\/api\/photos\/[0-9a-f]{64}(\/thumb)?$/.test(p)), `kept more than photos: ${JSON.stringify(kept)}`);

  // The grid leaves the phone: the next sync drops its copy and the kept photos.
  const admin = await signIn(server.url, 'admin');
  const grids = await (await fetch(`${server.url}/api/grids`, { headers: { cookie: admin } })).json();
  const other = grids.find((g) => g.name === '第2网格');
  const moved = await fetch(`${server.url}/api/users/worker1/grids`, {
    method: 'PUT', headers: { cookie: admin, 'content-type': 'application/json' }, body: JSON.stringify({ grids: [other.id] }),
  });
  assert.equal(moved.status, 200);
  await syncUntilDone(page, server.url);
  await waitForStore(page, (s) => s.grids.length === 1 && s.grids[0].id === other.id, 'grid taken away');
  const after = await cached();
  assert.deepEqual(Object.values(after).flat(), [], `photos kept after the grid left: ${JSON.stringify(after)}`);

  // Offline, the old grid's household does not open from any cache.
  await context.setOffline(true);
  await page.goto(`${server.url}/households/${household}`);
  await waitForHydration(page);
  await page.locator('.error-card').waitFor();
  await context.setOffline(false);
  await context.close();
});
