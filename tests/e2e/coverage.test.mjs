// A lead finds the overdue key-group households from the home page and reaches
// one in two taps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, phone, login } from './helpers.mjs';

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

test('a lead reaches an overdue key-group household in two taps', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'lead1');
  await page.getByRole('link', { name: '走访覆盖 · 逾期重点户 · 台账' }).click();
  await page.getByRole('heading', { name: /逾期的重点人群户/ }).waitFor();
  const first = page.locator('li.overdue a').first();
  const label = await first.innerText();
  assert.match(await page.locator('li.overdue').first().innerText(), /逾期 \d+ 天|从未走访/);
  await page.screenshot({ path: 'results/coverage-lead.png', fullPage: false });
  await first.click();
  await page.getByRole('heading', { name: '居民' }).waitFor();
  assert.ok(label.includes(await page.locator('.appbar-title').innerText()));
  await context.close();
});

test('a lead taps a building on the coverage map and reaches a household', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'lead1');
  await page.goto(`${server.url}/manage/coverage`);
  const buildings = page.locator('svg.map a');
  assert.equal(await buildings.count(), 32, 'every building of the community is drawn');
  assert.ok(await page.locator('svg.map polygon.good, svg.map polygon.fair, svg.map polygon.poor').count() === 32);
  await buildings.nth(5).click();
  await page.locator('.matrix a.cell:not(.vacant)').first().click();
  await page.getByRole('heading', { name: '居民' }).waitFor();
  await context.close();
});
