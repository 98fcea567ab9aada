// Running one's own staff from the browser: an admin creates a worker and
// gives them a grid; the worker signs in on a phone with the one-time
// password, must choose their own, and sees the grid; a visit recorded
// offline waits in the outbox; the admin disables the worker, and the phone's
// next sync is refused with the reason, the visit still on the phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, phone, login, firstSignIn, waitForHydration, waitForServiceWorker, queueVisits, localStore,
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

test('an admin makes a worker who starts walking, then disables them', async () => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await login(admin, server.url, 'admin');
  await admin.waitForURL(`${server.url}/`);
  await admin.goto(`${server.url}/manage/users`);
  await admin.getByLabel('用户名（登录用）').fill('sun.li');
  await admin.getByLabel('姓名').fill('孙丽');
  await admin.getByRole('button', { name: '创建并生成初始密码' }).click();
  const once = (await admin.locator('[data-password]').innerText()).trim();
  assert.match(once, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
  await admin.getByRole('link', { name: '完成' }).click();
  await admin.getByLabel(/第3网格/).first().check();
  await admin.getByRole('button', { name: '保存网格' }).click();
  await admin.getByText('第3网格').first().waitFor();

  const context = await phone(browser);
  const page = await context.newPage();
  await firstSignIn(page, server.url, 'sun.li', once, 'sunli-楼道走访');
  await waitForHydration(page);
  await page.getByText('第3网格').first().waitFor();
  await waitForServiceWorker(page);

  // A visit waits in the outbox while the admin disables the account.
  const household = await page.evaluate(async () => {
    const get = async (url) => (await fetch(url, { cache: 'no-store' })).json();
    const grids = await get('/api/grids');
    const grid = await get(`/api/grids/${grids[0].id}`);
    const building = await get(`/api/buildings/${grid.buildings[0].id}`);
    return building.households[0].id;
  });
  await page.goto(`${server.url}/sync`);
  await waitForHydration(page);
  await context.setOffline(true);
  await queueVisits(page, household, 1, '走访 · 停用前未同步');
  await admin.goto(`${server.url}/manage/users/sun.li`);
  await admin.getByRole('button', { name: '停用账号' }).click();
  await admin.getByText(/已于 .* 停用/).waitFor();

  // Back online on the page it had open, the phone syncs and is told why.
  await context.setOffline(false);
  await page.getByRole('button', { name: '立即同步' }).click();
  const reason = page.getByRole('alert').filter({ hasText: '此账号已于' });
  await reason.waitFor({ timeout: 20_000 });
  assert.match(await reason.innerText(), /停用/);
  const store = await localStore(page);
  assert.equal(store.counts.outbox, 1, 'the unsent visit stays on the phone');
  await context.close();
  await adminContext.close();
});
