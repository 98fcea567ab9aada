// Requests (诉求) tracked to the end, on a phone whose network is really cut:
// raised at the door offline, assigned by a lead with a deadline, resolved
// offline, followed up offline with 不满意 (reopened once), resolved again,
// rated 满意 by the resident's own phone through the one-time QR link, closed;
// the ledger and the figures say exactly that. And a worker's action racing a
// lead's decision: one state wins, the loser sees why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchBrowser, phone, login, waitForHydration, waitForServiceWorker, syncUntilDone, waitForStore,
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

/** The figures' 合计 counts (received, on time, resolved, resolved on time, overdue, followed up, rated, reopened). */
async function figures(lead) {
  const csv = await lead.evaluate(async () => (await fetch('/manage/requests/figures.csv', { cache: 'no-store' })).text());
  const total = csv.replace(/^\uFEFF/, '').split('\n')[1].split(',');
  return [2, 3, 5, 6, 8, 9, 10, 12].map((i) => Number(total[i]));
}

/** The lead's page of the request whose text is `text`. */
async function openAsLead(lead, text) {
  await lead.goto(`${server.url}/manage/requests`);
  await lead.getByRole('link', { name: text }).first().click();
  await lead.getByRole('heading', { name: '诉求详情' }).waitFor();
}

/** The phone's copy of the request whose text is `text`, or undefined. */
async function localRequest(page, text) {
  return page.evaluate(async (text) => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(self.gridwalkStore);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const all = await new Promise((resolve, reject) => {
      const request = db.transaction('requests').objectStore('requests').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return all.find((r) => r.text === text);
  }, text);
}

/** Syncs (立即同步 on /sync) until the phone's copy of the request is `status`. */
async function pullUntil(page, text, status, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  await page.goto(`${server.url}/sync`);
  await waitForHydration(page);
  while (Date.now() < deadline) {
    if ((await localRequest(page, text))?.status === status) return;
    const button = page.getByRole('button', { name: '立即同步' });
    if (await button.isEnabled()) await button.click();
    await page.waitForTimeout(500);
  }
  throw new Error(`${text} never became ${status} on the phone: ${JSON.stringify(await localRequest(page, text))}`);
}

/** A worker's phone that has been online once: shell, chunks and copy on it. */
async function workerPhone(username) {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, username);
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  await waitForStore(page, (s) => s.grids.length === 1 && s.counts.requests > 0, 'first sync');
  await waitForServiceWorker(page);
  await page.goto(`${server.url}/requests`);
  await waitForHydration(page);
  await page.getByRole('heading', { name: /待办理/ }).waitFor();
  return { context, page };
}

const card = (page, text) => page.locator('li.card.request', { hasText: text });

test('a request raised offline goes the whole road and the ledger and figures say so', async () => {
  const text = '楼道灯不亮，老人晚上下楼怕摔（测试）';
  const leadContext = await browser.newContext();
  const lead = await leadContext.newPage();
  await login(lead, server.url, 'lead1');
  await lead.getByRole('heading', { name: '我的网格' }).waitFor();
  const before = await figures(lead);

  const { context, page } = await workerPhone('worker1');
  const household = await someHousehold(page);
  await page.goto(`${server.url}/households/${household}`);
  await waitForHydration(page);

  // At the door, no signal: the request is raised with the visit.
  await context.setOffline(true);
  await page.reload();
  await waitForHydration(page);
  await page.getByRole('button', { name: '记录走访' }).click();
  await page.getByLabel('诉求类别').selectOption('livelihood');
  await page.getByLabel('诉求内容').fill(text);
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('已保存到本机（1条）').waitFor();
  await context.setOffline(false);
  await syncUntilDone(page, server.url);
  await pullUntil(page, text, 'received');

  // The lead assigns it to the worker, a week to resolve.
  await openAsLead(lead, text);
  const due = new Date(Date.now() + 8 * 3600_000 + 7 * 86400_000).toISOString().slice(0, 10);
  const assign = lead.locator('form', { has: lead.locator('input[value=assign]') });
  await assign.locator('select[name=worker]').selectOption({ label: '王芳' });
  await assign.locator('input[name=due]').fill(due);
  await assign.getByRole('button', { name: '派单' }).click();
  await lead.getByText('已派单').first().waitFor();

  // The phone pulls the assignment; then, offline again, marks it resolved.
  await pullUntil(page, text, 'assigned');
  await page.goto(`${server.url}/requests`);
  await waitForHydration(page);
  await card(page, text).getByText('已派单').waitFor();
  await context.setOffline(true);
  await page.reload();
  await waitForHydration(page);
  await card(page, text).getByRole('button', { name: '办结' }).click();
  await card(page, text).locator('textarea').fill('已联系物业更换灯泡');
  await card(page, text).locator('button.grow-btn').click();
  await card(page, text).getByText('已办结').waitFor();

  // The follow-up at the door, still offline: not solved, not satisfied.
  await page.goto(`${server.url}/households/${household}`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '记录走访' }).click();
  const followUp = page.locator('fieldset.follow-ups');
  await followUp.getByRole('button', { name: '未解决' }).click();
  await followUp.getByRole('button', { name: '不满意' }).click();
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('已保存到本机（1条）').waitFor();
  await context.setOffline(false);
  await syncUntilDone(page, server.url);
  await pullUntil(page, text, 'in_progress');
  await openAsLead(lead, text);
  await lead.getByText('重新办理 1 次').waitFor();
  await lead.getByText('处理中').first().waitFor();

  // Resolved again; the resident rates it on their own phone by the QR link.
  await page.goto(`${server.url}/requests`);
  await waitForHydration(page);
  await card(page, text).getByRole('button', { name: '办结' }).click();
  await card(page, text).locator('textarea').fill('更换了整段线路');
  await card(page, text).locator('button.grow-btn').click();
  await card(page, text).getByRole('button', { name: '评价二维码' }).click();
  await card(page, text).locator('.qr svg').waitFor();
  await page.screenshot({ path: 'results/requests-phone.png', fullPage: true });
  const link = (await card(page, text).locator('.rating-link').innerText()).trim();
  assert.match(link, /\/rate\/[0-9a-f]{32}$/);
  await syncUntilDone(page, server.url);
  await pullUntil(page, text, 'resolved');

  const residentContext = await phone(browser);
  const resident = await residentContext.newPage();
  await resident.goto(link);
  await resident.getByText('「民生」类诉求').waitFor();
  assert.ok(!(await resident.content()).includes('楼道灯'), 'the rating page names no request text');
  await resident.getByRole('button', { name: '满意', exact: true }).click();
  await resident.getByText('感谢评价').waitFor();
  await resident.goto(link);
  await resident.getByText('这个评价码已经用过了').waitFor();
  await residentContext.close();

  // The ledger and the figures tell exactly that history.
  await openAsLead(lead, text);
  await lead.getByText('已关闭').first().waitFor();
  const steps = await lead.locator('ol.timeline li b').allInnerTexts();
  assert.deepEqual(steps, ['登记', '派单', '办结', '回访', '办结', '居民评价']);
  const moved = (await figures(lead)).map((n, i) => n - before[i]);
  assert.deepEqual(moved, [1, 1, 1, 1, 0, 1, 1, 1]);
  await lead.screenshot({ path: 'results/requests-ledger.png', fullPage: true });
  await context.close();
  await leadContext.close();
});

test('a worker resolving offline while the lead declines: the decline stands, the phone shows why', async () => {
  const text = '邻居装修噪音（测试）';
  const { context, page } = await workerPhone('worker1');
  const household = await someHousehold(page, 1);
  await page.goto(`${server.url}/households/${household}`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '记录走访' }).click();
  await page.getByLabel('诉求内容').fill(text);
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('已保存到本机（1条）').waitFor();
  await syncUntilDone(page, server.url);
  await pullUntil(page, text, 'received');
  await page.goto(`${server.url}/requests`);
  await waitForHydration(page);
  await card(page, text).waitFor();

  // The worker resolves it with no signal...
  await context.setOffline(true);
  await page.reload();
  await waitForHydration(page);
  await card(page, text).getByRole('button', { name: '办结' }).click();
  await card(page, text).locator('textarea').fill('已上门协调');
  await card(page, text).locator('button.grow-btn').click();
  await card(page, text).getByText('已办结').waitFor();

  // ...while the lead, in another browser, declines it.
  const leadContext = await browser.newContext();
  const lead = await leadContext.newPage();
  await login(lead, server.url, 'lead1');
  await lead.getByRole('heading', { name: '我的网格' }).waitFor();
  await openAsLead(lead, text);
  const decline = lead.locator('form', { has: lead.locator('input[value=decline]') });
  await decline.locator('textarea').fill('属于邻里纠纷，转人民调解');
  await decline.getByRole('button', { name: '不予受理' }).click();
  await lead.getByText('不予受理理由').waitFor();

  // Signal again: the worker's resolution is refused, with the state named,
  // and kept on the phone; the request reads as the lead left it.
  await context.setOffline(false);
  await page.goto(`${server.url}/sync`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '立即同步' }).click();
  const refused = page.locator('.outbox-entry[data-state="rejected"]', { hasText: '诉求' });
  await refused.waitFor();
  assert.match(await refused.innerText(), /不予受理/);
  await pullUntil(page, text, 'declined');
  await page.goto(`${server.url}/requests`);
  await waitForHydration(page);
  await card(page, text).getByText('不予受理').waitFor();
  await openAsLead(lead, text);
  await lead.getByText('不予受理理由').waitFor();
  assert.equal(await lead.locator('ol.timeline li b').count(), 2, 'raise and decline only');
  await context.close();
  await leadContext.close();
});
