// The phone keeps a copy of the worker's grids: pages never opened still work
// with the network cut, a grid taken away leaves the phone at the next sync,
// and an app update upgrades the store without losing the outbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, phone, login, waitForHydration, waitForServiceWorker, localStore, queueVisits, serverVisitIds, syncUntilDone,
  waitForStore, PASSWORD,
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

/** Polls the phone's store until `done(store)` holds. */
/** An HTTP client signed in as `username`, outside the browser. */
async function apiAs(username) {
  const response = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(response.status, 200);
  const cookie = response.headers.get('set-cookie').split(';')[0];
  return (method, path, body) => fetch(`${server.url}${path}`, {
    method,
    headers: { cookie, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
}

test('pages never opened work offline, and a grid taken away leaves the phone', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);

  // The first sync brings the worker's grid onto the phone, all of it.
  const grid1 = await page.evaluate(async () => (await (await fetch('/api/grids')).json())[0]);
  const store = await waitForStore(page, (s) => s.grids.length === 1 && s.visitCount > 0, 'first sync');
  assert.equal(store.version, 4);
  assert.deepEqual(store.recordGrids, [grid1.id]);
  assert.equal(store.visitCount, (await serverVisitIds(page)).length);
  assert.equal(store.counts.households, grid1.households);

  // The service worker has the shell (and the empty offline page) cached.
  await waitForServiceWorker(page);

  // No network: grid, building and household pages never opened before come
  // from the phone's copy (the links route inside the app).
  await context.setOffline(true);
  await page.locator(`a[href="/grids/${grid1.id}"]`).click();
  await page.getByRole('heading', { name: grid1.name }).waitFor();
  await page.locator('a.building-card').first().click();
  await page.locator('.matrix a.cell:not(.vacant)').first().click();
  await page.getByRole('heading', { name: '居民' }).waitFor();
  assert.ok(await page.locator('.list.residents li').count() > 0);
  // …and a visit can be recorded there as anywhere else.
  await page.getByRole('button', { name: '记录走访' }).click();
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('已保存到本机（1条）').waitFor();
  await page.screenshot({ path: 'results/offline-from-local-store.png' });

  // A page never opened, loaded by its address offline (typed, or reopened
  // from history): the service worker answers with the empty shell and the
  // app renders the household from the phone's copy.
  const unseen = await page.evaluate(async () => {
    const db = await new Promise((resolve) => { const r = indexedDB.open(self.gridwalkStore); r.onsuccess = () => resolve(r.result); });
    const residents = await new Promise((resolve) => {
      const r = db.transaction('residents').objectStore('residents').getAll();
      r.onsuccess = () => resolve(r.result);
    });
    db.close();
    return residents.filter((x) => !x.moved_out).at(-1);
  });
  await page.goto(`${server.url}/households/${unseen.household_id}`);
  await page.getByRole('heading', { name: '居民' }).waitFor();
  await page.getByText(unseen.name).first().waitFor();

  // The worker's own overdue list, worked out on the phone with no network,
  // and the matrix coloured by the same visit policy.
  await page.goto(`${server.url}/overdue`);
  await page.locator('.overdue-item').first().waitFor();
  assert.match(await page.locator('.overdue-item .late').first().innerText(), /逾期\d+天|从未走访/);
  await page.goBack();
  await page.goto(`${server.url}/grids/${grid1.id}`);
  await page.locator('a.building-card').first().click();
  await page.locator('.matrix a.cell').first().waitFor();
  assert.ok(await page.locator('.matrix a.cell.covered, .matrix a.cell.overdue, .matrix a.cell.due-soon').count() > 0);
  await context.setOffline(false);

  // The admin moves worker1 from grid 1 to grid 2.
  const admin = await apiAs('admin');
  const grids = await (await admin('GET', '/api/grids')).json();
  const grid2 = grids.find((g) => g.name === '第2网格');
  const moved = await admin('PUT', '/api/users/worker1/grids', { grids: [grid2.id] });
  assert.equal(moved.status, 200);

  // The next sync: grid 1's data is gone from the phone, grid 2's is there.
  // (The visit recorded in grid 1 is refused and stays, with its reason.)
  await syncUntilDone(page, server.url).catch(() => {});
  const after = await waitForStore(
    page,
    (s) => s.grids.length === 1 && s.grids[0].id === grid2.id && s.counts.households === grid2.households,
    'reassigned',
  );
  assert.deepEqual(after.recordGrids, [grid2.id]);
  await context.close();
});

test('an app update upgrades the phone\'s store and keeps the outbox', async () => {
  // A household of worker1's, found by the lead.
  const lead = await apiAs('worker1');
  const grid = await (await lead('GET', '/api/grids')).json();
  const detail = await (await lead('GET', `/api/grids/${grid[0].id}`)).json();
  const building = await (await lead('GET', `/api/buildings/${detail.buildings[0].id}`)).json();
  const household = building.households[0].id;

  // A phone that ran the first release: store v1 with one visit queued.
  const context = await phone(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}/offline.html`);
  const [visit] = await queueVisits(page, household, 1, '走访 · 旧版本');
  assert.equal((await localStore(page)).version, 1);

  // The new release opens the store: upgraded in place, the visit still there
  // and then synced.
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  await syncUntilDone(page, server.url);
  const store = await localStore(page);
  assert.equal(store.version, 4);
  assert.equal(store.counts.outbox, 0);
  assert.ok((await serverVisitIds(page)).includes(visit));
  await context.close();
});
