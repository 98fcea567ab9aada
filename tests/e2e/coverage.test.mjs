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

test('the coverage page reads at 360 px: one line per grid, a map to scroll, a grid to zoom into', async () => {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'lead1');
  await page.goto(`${server.url}/manage/coverage`);
  // The page itself never scrolls sideways; wide parts scroll in their own box.
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth) <= 360);
  const names = page.locator('table.figures:not(.workers) tbody th[scope=row]');
  const lineHeight = await names.first().evaluate((th) => parseFloat(getComputedStyle(th).lineHeight));
  for (const box of await names.evaluateAll((cells) => cells.map((c) => c.getBoundingClientRect().toJSON()))) {
    assert.ok(box.height < 2 * lineHeight + 16, `a grid name wraps: ${JSON.stringify(box)}`);
  }
  // The first column stays in view while the figures scroll.
  const scroller = page.locator('.scroll').first();
  await scroller.evaluate((s) => { s.scrollLeft = s.scrollWidth; });
  const stuck = await names.first().evaluate((th) => th.getBoundingClientRect().left);
  assert.ok(stuck >= 0 && stuck < 20, `the grid column scrolled away: ${stuck}`);
  await page.screenshot({ path: 'results/coverage-360.png', fullPage: true });
  // The whole community's map is wider than the phone: buildings big enough to tap.
  const widths = await page.locator('svg.map polygon').evaluateAll((ps) => ps.map((p) => p.getBoundingClientRect().width));
  const median = widths.sort((a, b) => a - b)[Math.floor(widths.length / 2)];
  assert.ok(median >= 24, `buildings drawn ${median} px wide`);
  // A grid's name zooms to it: only its buildings, filling the screen's width.
  const grid = await names.first().innerText();
  await names.first().locator('a').click();
  await page.getByRole('link', { name: '‹ 全部网格的地图' }).waitFor();
  assert.equal(await names.count(), 1);
  assert.equal(await names.first().innerText(), grid);
  const zoomed = await page.locator('svg.map').evaluate((svg) => svg.getBoundingClientRect().width);
  assert.ok(zoomed <= 360 && zoomed > 300, `the grid's map is ${zoomed} px wide`);
  const inGrid = await page.locator('svg.map polygon').evaluateAll((ps) => ps.map((p) => p.getBoundingClientRect().width));
  assert.ok(inGrid.length > 0 && inGrid.length < widths.length);
  assert.ok(Math.min(...inGrid) >= 20, `a building of the grid is ${Math.min(...inGrid)} px wide`);
  await page.screenshot({ path: 'results/coverage-360-grid.png', fullPage: true });
  await context.close();
});
