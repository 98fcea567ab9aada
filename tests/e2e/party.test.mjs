// Party members in the grid (issue 18), end to end with the network really
// cut: a lead registers an in-service member and links two households, and
// opens the member's phone account; the member signs in, must change the
// one-time password, sees their due list, visits both households in a
// stairwell with no signal (one with 1.5 hours, one with the default hour),
// and the phone syncs by itself. The lead then finds the member off the
// overdue list, 2.5 hours on the ledger, and both visits on the unit's
// quarterly report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, phone, login, firstSignIn, waitForHydration, waitForServiceWorker, waitForStore,
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

const NAME = '钱党员';
const UNIT = '区住建局';

test('a member visits their households offline and the lead sees it on the ledgers', async () => {
  const leadContext = await browser.newContext();
  const lead = await leadContext.newPage();
  await login(lead, server.url, 'lead1');
  await lead.waitForURL(`${server.url}/`);

  // Registered as an in-service member (双报到).
  await lead.goto(`${server.url}/manage/party/new`);
  await lead.getByLabel('姓名', { exact: true }).fill(NAME);
  await lead.getByLabel('工作单位', { exact: true }).fill(UNIT);
  await lead.getByLabel('单位党组织', { exact: true }).fill('区住建局机关党委');
  await lead.getByLabel('工作电话', { exact: true }).fill('0571-86001234');
  await lead.getByLabel('党支部', { exact: true }).fill('第一党支部');
  await lead.getByRole('button', { name: '登记', exact: true }).click();
  await lead.waitForURL(/\/manage\/party\/members\//);
  const memberPage = lead.url();

  // Two 联系户, found by building.
  for (let i = 0; i < 2; i++) {
    await lead.locator('form[method=get] select[name=building]').selectOption({ index: 0 });
    await lead.getByRole('button', { name: '查找住户' }).click();
    await lead.getByRole('button', { name: '联系', exact: true }).nth(i).click();
    await lead.waitForURL(memberPage);
  }
  const linked = await lead.locator('a[href^="/manage/party/households/"]').count();
  assert.equal(linked, 2);

  // The phone account, with a one-time password shown once.
  await lead.getByLabel('用户名').fill('qian.dy');
  await lead.getByRole('button', { name: '开通账号' }).click();
  const once = (await lead.locator('[data-password]').innerText()).trim();

  const context = await phone(browser);
  const page = await context.newPage();
  await firstSignIn(page, server.url, 'qian.dy', once, '钱党员-楼道走访');
  await waitForHydration(page);
  // The home page offers the member's list, not the desk's.
  await page.getByRole('link', { name: /我的联系户/ }).waitFor();
  assert.equal(await page.getByRole('link', { name: /诉求/ }).count(), 0);
  await waitForStore(page, (s) => s.counts.households === 2, 'the two households on the phone');

  // The due list, online once so the service worker keeps the app.
  await page.goto(`${server.url}/overdue`);
  await waitForHydration(page);
  await waitForServiceWorker(page);
  await page.getByText('本期尚未走访联系户。').waitFor();
  const doors = page.locator('a.overdue-item');
  assert.equal(await doors.count(), 2);

  // The stairwell: no signal. Both visits recorded on the phone.
  await context.setOffline(true);
  for (const hours of ['1.5', null]) {
    await page.locator('a.overdue-item', { hasText: '从未走访' }).first().click();
    await page.getByRole('heading', { name: '居民' }).waitFor();
    await page.getByRole('button', { name: '记录走访' }).click();
    const time = page.getByLabel('服务时长（小时）');
    assert.equal(await time.inputValue(), '1');
    if (hours) await time.fill(hours);
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('已保存到本机（1条）').waitFor();
    await page.goBack();
    await page.getByText('本期已走访联系户。').waitFor();
  }
  assert.equal(await page.locator('a.overdue-item', { hasText: '本期已走访' }).count(), 2);
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('待同步 2'));

  // Signal again: the outbox drains by itself.
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('已同步'), null, {
    timeout: 45_000,
  });

  // The 社区书记's answers, from the visits made on the phone.
  await lead.goto(`${server.url}/manage/party/overdue`);
  assert.ok(!(await lead.content()).includes(NAME), 'off the overdue list');
  const csv = await lead.evaluate(async () => (await fetch('/manage/party/hours.csv')).text());
  const line = csv.split('\n').find((l) => l.startsWith(NAME));
  assert.match(line, new RegExp(`^${NAME},在职党员,${UNIT},第一党支部,2,2\\.5,`), line);
  await lead.goto(`${server.url}/manage/party/units`);
  const report = lead.locator('table', { has: lead.getByText(NAME) });
  const visits = report.locator('tr', { hasText: '走访联系户' });
  assert.equal(await visits.count(), 2);
  assert.deepEqual((await visits.locator('td:last-child').allInnerTexts()).sort(), ['1.0', '1.5']);
  await context.close();
  await leadContext.close();
});
