// A worker signs in on a phone, walks grid -> building -> household -> resident.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, phone, login, waitForHydration } from './helpers.mjs';

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

test('signed-out visitors are sent to the login page, which speaks Chinese', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await page.goto(`${server.url}/households/0190a000-0000-7000-8000-000000000000`);
  assert.match(page.url(), /\/login$/);
  await assert.doesNotReject(page.getByRole('button', { name: '登录' }).waitFor());
  await context.close();
});

test('a wrong password is refused with a message', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1', 'not-the-password');
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').innerText(), '用户名或密码不正确');
  await context.close();
});

test('a worker walks from grid to building to household to resident', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  await page.screenshot({ path: 'results/grids.png' });

  // Search by building-unit-door number: a plain GET form, so it works
  // before the WASM has loaded.
  const gridCards = page.locator('a.card-link');
  assert.equal(await gridCards.count(), 1, 'worker1 has exactly one grid');
  await gridCards.first().click();
  await page.locator('.building-card').first().waitFor();
  assert.ok((await page.locator('.building-card').count()) >= 8);
  await page.getByLabel('搜索楼栋或门牌号').fill('1-1-101');
  await page.getByRole('button', { name: '搜索' }).click();
  await page.getByText('匹配的住户').waitFor();
  await page.screenshot({ path: 'results/search.png' });
  await page.locator('a.row').first().waitFor();
  await page.goBack();
  await page.locator('.building-card').nth(7).waitFor();
  await waitForHydration(page);

  // Client-side navigation from here on: this marker survives only if the
  // hydrated router handles the taps (no full page loads).
  await page.evaluate(() => { window.__marker = 'still here'; });
  await page.locator('.building-card').first().click();
  await page.locator('table.matrix').waitFor();
  await page.screenshot({ path: 'results/building.png' });
  const cells = page.locator('a.cell:not(.vacant)');
  assert.ok((await cells.count()) > 10, 'the building shows its households');
  await cells.first().click();

  await page.getByRole('heading', { name: '居民' }).waitFor();
  await page.screenshot({ path: 'results/household.png' });
  const residents = page.locator('li a.resident');
  assert.ok((await residents.count()) >= 1, 'the household lists its residents');
  const idText = await page.locator('.resident .idno').first().innerText();
  assert.match(idText, /^(\*{14}[\dX]{4}|未登记身份证)$/, 'ID numbers are masked to their last four');

  await residents.first().click();
  await page.getByText('身份证号').waitFor();
  assert.equal(await page.evaluate(() => window.__marker), 'still here', 'navigation stayed client-side');
  await page.screenshot({ path: 'results/resident.png' });
  await context.close();
});

test('unknown pages get a Chinese 404', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  const response = await page.goto(`${server.url}/no/such/page`);
  assert.equal(response.status(), 404);
  await page.getByText('找不到这个页面').waitFor();
  await context.close();
});
