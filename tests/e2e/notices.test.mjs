// A lead publishes a notice from a phone; a resident with no account reads it,
// even with JavaScript off; withdrawn, it is gone.
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

test('a lead publishes, an anonymous phone reads it with JavaScript off and offline once read, withdrawn it is gone', async () => {
  const leadContext = await phone(browser);
  const lead = await leadContext.newPage();
  await login(lead, server.url, 'lead1');
  await lead.getByRole('link', { name: /公告管理/ }).click();
  await lead.getByRole('link', { name: '＋ 新建公告' }).click();
  await lead.getByLabel('公开类别').selectOption('finance');
  await lead.getByLabel('标题').fill('2026年第三季度财务公开');
  await lead.getByLabel('正文').fill('## 收入\n\n| 项目 | 金额 |\n|---|---|\n| 物业费 | 12,000 元 |\n\n<script>alert(1)</script>');
  await lead.getByRole('button', { name: '保存' }).click();
  await lead.getByText('已保存').waitFor();
  await lead.getByRole('button', { name: '立即发布', exact: true }).click();
  await lead.getByText('已发布').first().waitFor();
  const publicUrl = await lead.getByRole('link', { name: '公开页面' }).first().getAttribute('href');
  await lead.screenshot({ path: 'results/notices-manage.png' });

  // A resident's old phone: no account, no JavaScript.
  const residentContext = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 360, height: 640 } });
  const resident = await residentContext.newPage();
  let dialogs = 0;
  resident.on('dialog', () => { dialogs += 1; });
  const response = await resident.goto(`${server.url}${publicUrl}`);
  assert.equal(response.status(), 200);
  await resident.getByRole('heading', { name: '2026年第三季度财务公开' }).waitFor();
  await resident.getByRole('cell', { name: '12,000 元' }).waitFor();
  await resident.getByText('<script>alert(1)</script>').waitFor();
  await resident.getByRole('link', { name: '大字阅读' }).click();
  assert.ok(await resident.locator('body.large').count() === 1);
  await resident.screenshot({ path: 'results/notice-public.png', fullPage: true });
  // The community page lists it under its category.
  await resident.goto(`${server.url}${publicUrl.split('/').slice(0, 3).join('/')}?c=finance`);
  await resident.getByRole('link', { name: '2026年第三季度财务公开' }).waitFor();
  assert.equal(dialogs, 0);

  // A phone with JavaScript keeps a notice it has read: the next time, in a
  // lift or a basement, it opens with no network.
  const readerContext = await phone(browser);
  const reader = await readerContext.newPage();
  await reader.goto(`${server.url}${publicUrl}`);
  await reader.evaluate(() => navigator.serviceWorker.ready);
  await reader.reload();
  await reader.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
  await reader.reload();
  await readerContext.setOffline(true);
  await reader.reload();
  await reader.getByRole('heading', { name: '2026年第三季度财务公开' }).waitFor();
  await reader.getByRole('cell', { name: '12,000 元' }).waitFor();
  await readerContext.close();

  // Withdrawn: the same URL is a 404.
  await lead.goto(`${server.url}/manage/notices`);
  // The demo's own notices are published too: this one, changed last, is first.
  await lead.getByRole('button', { name: '撤回' }).first().click();
  await lead.getByText('已撤回').first().waitFor();
  assert.equal((await resident.goto(`${server.url}${publicUrl}`)).status(), 404);
  await residentContext.close();
  await leadContext.close();
});
