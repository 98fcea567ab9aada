// The stairwell with no signal: visits and a new resident recorded offline
// survive closing the page and reach the server exactly once when the network
// returns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startServer, launchBrowser, launchPersistentPhone, phone, login, waitForHydration, waitForServiceWorker, queueVisits,
  someHousehold,
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

async function visitIds(page, household) {
  return page.evaluate(async (id) => {
    const response = await fetch(`/api/households/${id}`, { cache: 'no-store' });
    return (await response.json()).visits.map((v) => v.id);
  }, household);
}

const badge = (page) => page.locator('.sync-badge');

test('visits and a resident recorded offline reach the server exactly once', async () => {
  const context = await phone(browser);
  let page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  const household = await someHousehold(page);
  const url = `${server.url}/households/${household}`;
  const before = await visitIds(page, household);

  // Online once: the service worker installs, takes control and keeps a copy
  // of the shell and of this page.
  await page.goto(url);
  await waitForHydration(page);
  await waitForServiceWorker(page);

  // The stairwell: no network at all. The page opens from the service worker.
  await context.setOffline(true);
  await page.reload();
  await waitForHydration(page);
  await page.getByRole('heading', { name: '居民' }).waitFor();

  for (let i = 1; i <= 3; i++) {
    await page.getByRole('button', { name: '记录走访' }).click();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText(`已保存到本机（${i}条）`).waitFor();
  }
  // A new resident, offline: a wrong check digit is caught on the spot, in Chinese.
  await page.getByRole('button', { name: '新增居民' }).click();
  await page.locator('input[name=name]').fill('离线新增');
  await page.locator('input[name=id_number]').fill('110105194912310021');
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('身份证号校验位不正确，请核对').waitFor();
  await page.locator('input[name=id_number]').fill('11010519491231002X');
  // The ID number fills in the birth date and gender.
  assert.equal(await page.locator('input[name=birth_date]').inputValue(), '1949-12-31');
  assert.equal(await page.getByRole('button', { name: '女', exact: true }).getAttribute('aria-pressed'), 'true');
  await page.locator('input[name=phone]').fill('13812345678');
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('居民信息已保存到本机').waitFor();
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('待同步 4'));
  assert.match(await badge(page).innerText(), /离线/);
  await page.screenshot({ path: 'results/offline-saved.png' });

  // Close the page; open the app again, still offline: the outbox is still there.
  await page.close();
  page = await context.newPage();
  await page.goto(url);
  await waitForHydration(page);
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('待同步 4'));
  assert.equal(await page.locator('.local-visits li').count(), 4);

  // Signal again: the outbox drains by itself.
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('已同步'), null, {
    timeout: 45_000,
  });
  // The list of this phone's records follows the outbox (read again after it changed).
  await page.waitForFunction(() => document.querySelectorAll('.local-visits li').length === 0, null, { timeout: 10_000 });

  const after = await visitIds(page, household);
  const added = after.filter((id) => !before.includes(id));
  assert.equal(added.length, 3, `exactly three new visits, got ${added.length}`);
  assert.equal(new Set(after).size, after.length, 'no visit twice');
  const added_residents = await page.evaluate(async (id) => {
    const response = await fetch(`/api/households/${id}`, { cache: 'no-store' });
    return (await response.json()).residents.filter((r) => r.name === '离线新增');
  }, household);
  assert.equal(added_residents.length, 1, 'the new resident exactly once');
  assert.equal(added_residents[0].id_number_masked, '**************002X');

  // The sync page shows when the last sync succeeded.
  await page.goto(`${server.url}/sync`);
  await page.getByText('上次同步成功').waitFor();
  await context.close();
});

test('an operation the server refuses stays on the phone with the reason until discarded', async () => {
  // A household worker1 may not touch: grid 2, as its lead sees it.
  const leadContext = await phone(browser);
  const lead = await leadContext.newPage();
  await login(lead, server.url, 'lead1');
  await lead.getByRole('heading', { name: '我的网格' }).waitFor();
  const foreign = await lead.evaluate(async () => {
    const get = async (url) => (await fetch(url, { cache: 'no-store' })).json();
    const grids = await get('/api/grids');
    const grid = await get(`/api/grids/${grids.find((g) => g.name === '第2网格').id}`);
    return (await get(`/api/buildings/${grid.buildings[0].id}`)).households[0].id;
  });
  await leadContext.close();

  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  // A queued visit for that household, as a stale or tampered phone would hold it.
  await queueVisits(page, foreign, 1, '走访 · 别的网格');

  await page.goto(`${server.url}/sync`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '立即同步' }).click();
  const row = page.locator('.outbox-entry[data-state="rejected"]');
  await row.waitFor();
  assert.match(await row.innerText(), /被退回：该住户不在您负责的网格/);
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('退回 1'));

  // Still there after a reload and another sync: nothing is dropped silently.
  await page.reload();
  await waitForHydration(page);
  await page.getByRole('button', { name: '立即同步' }).click();
  await row.waitFor();
  await page.screenshot({ path: 'results/rejected.png' });

  await row.getByRole('button', { name: '放弃' }).click();
  await row.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('已同步'));
  await context.close();
});

test('the outbox survives the browser being killed and started again', async () => {
  const profile = mkdtempSync(join(tmpdir(), 'gridwalk-profile-'));
  try {
    let context = await launchPersistentPhone(profile);
    let page = context.pages()[0] ?? await context.newPage();
    await login(page, server.url, 'worker1');
    await page.getByRole('heading', { name: '我的网格' }).waitFor();
    const household = await someHousehold(page);
    const url = `${server.url}/households/${household}`;
    const before = await visitIds(page, household);
    await page.goto(url);
    await waitForHydration(page);
    // The form's code comes from the service worker's precache once offline:
    // wait until it is installed and controls the page (see the first test).
    await waitForServiceWorker(page);
    await context.setOffline(true);
    await page.getByRole('button', { name: '记录走访' }).click();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('已保存到本机（1条）').waitFor();

    // The phone dies: every Chromium process of this profile is killed outright.
    const killed = spawnSync('pkill', ['-9', '-f', '--', `user-data-dir=${profile}`]);
    assert.equal(killed.status, 0, 'chromium processes were killed');
    await context.close().catch(() => {});

    context = await launchPersistentPhone(profile);
    page = context.pages()[0] ?? await context.newPage();
    await page.goto(url);
    // The session cookie may not have reached the disk before the kill; the
    // outbox did, and waits for the next login.
    if (page.url().endsWith('/login')) {
      // Signed out, no store is named (phone.js): worker1's is the one there is.
      const queued = await page.evaluate(async () => {
        const [store] = (await indexedDB.databases()).filter((d) => d.name.startsWith('gridwalk'));
        return new Promise((resolve, reject) => {
          const request = indexedDB.open(store.name);
          request.onsuccess = () => {
            const count = request.result.transaction('outbox').objectStore('outbox').count();
            count.onsuccess = () => resolve(count.result);
          };
          request.onerror = () => reject(request.error);
        });
      });
      assert.equal(queued, 1, 'the saved visit is still in the outbox');
      await login(page, server.url, 'worker1');
      await page.getByRole('heading', { name: '我的网格' }).waitFor();
      await page.goto(url);
    }
    await waitForHydration(page);
    await page.waitForFunction(() => /已同步/.test(document.querySelector('.sync-badge')?.textContent ?? ''), null, {
      timeout: 45_000,
    });
    const added = (await visitIds(page, household)).filter((id) => !before.includes(id));
    assert.equal(added.length, 1, 'the visit saved before the kill reached the server once');
    await context.close();
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});
