// An activity end to end (issue 18 #6), the network really cut: a lead puts
// a team's activity on the calendar and publishes it with sign-up; three
// residents sign up on the public page without an account (one anonymously);
// a worker's phone, which fetched the lists with signal, ticks two members
// present in a place with none, even after the page is opened again there;
// the outbox sends the ticks by itself, and the same push sent once more
// credits nothing: the sheet shows two people and four hours, the hours
// ledger two hours each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, phone, login, waitForHydration, waitForServiceWorker } from './helpers.mjs';

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

/// Posts a form from the lead's page (same site, as the lead's browser would)
/// and answers the path it ended on.
async function submit(page, path, fields) {
  return page.evaluate(
    async ([path, fields]) => {
      const response = await fetch(path, { method: 'POST', body: new URLSearchParams(fields) });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return new URL(response.url).pathname;
    },
    [path, fields],
  );
}

/// Tomorrow in Beijing as a datetime-local field writes it, at `time`.
function tomorrowAt(time) {
  const day = new Date(Date.now() + 8 * 3_600_000 + 86_400_000).toISOString().slice(0, 10);
  return `${day}T${time}`;
}

test('an activity: published, signed up for, attendance taken offline and credited once', async () => {
  const leadContext = await browser.newContext();
  const lead = await leadContext.newPage();
  await login(lead, server.url, 'lead1');
  await lead.waitForURL(`${server.url}/`);

  const members = [];
  for (const [name, phoneNumber] of [['王志愿', '13900001111'], ['赵志愿', '13900002222']]) {
    const to = await submit(lead, '/manage/party', {
      kind: 'in_service', name, unit: '区教育局', work_phone: phoneNumber, rank: 'member', branch: '第一党支部',
    });
    members.push(to.split('/').pop());
  }
  const team = (await submit(lead, '/manage/activities/teams', { name: '巡逻队' })).split('/').pop();
  for (const member of members) await submit(lead, `/manage/activities/teams/${team}/members`, { member });
  const starts = tomorrowAt('09:00');
  const activity = (
    await submit(lead, '/manage/activities', {
      title: '周末巡逻', place: '社区广场', starts_at: starts, ends_at: tomorrowAt('11:00'), hours: '2', team,
    })
  ).split('/').pop();

  // Published as a 活动通知 (the activity page's button posts this form).
  await submit(lead, `/manage/activities/${activity}/publish`, {});
  await lead.goto(`${server.url}/manage/activities/${activity}`);
  const signup = await lead.locator(`a[href*="/activities/${activity}"][href^="/n/"]`).first().getAttribute('href');
  assert.ok(signup, 'the activity page links its public sign-up');

  // Three residents, no account.
  const residents = await browser.newContext();
  const resident = await residents.newPage();
  for (const [name, anonymous] of [['张三', false], ['李四', false], ['', true]]) {
    await resident.goto(`${server.url}${signup}`);
    if (name) await resident.getByLabel('姓名（可不填）').fill(name);
    if (anonymous) await resident.getByLabel('匿名报名，只计人数').check();
    await resident.getByRole('button', { name: '报名' }).click();
    await resident.getByText('报名成功').waitFor();
  }
  await resident.goto(`${server.url}${signup}`);
  await resident.getByText('已报名 3 人').waitFor();
  await residents.close();

  // The worker's phone fetches the lists with signal, once.
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.waitForURL(`${server.url}/`);
  await page.getByRole('link', { name: /活动签到/ }).click();
  await waitForHydration(page);
  await waitForServiceWorker(page);
  await page.getByText('周末巡逻').waitFor();
  let pushed = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/api/sync/push')) pushed.push(request.postData());
  });

  // The activity has no signal: the page opened again shows the kept list.
  await context.setOffline(true);
  await page.reload();
  await page.getByText(/无信号，使用本机保存的名单/).waitFor();
  await page.getByRole('button', { name: /周末巡逻/ }).click();
  for (const name of ['王志愿', '赵志愿']) {
    await page.getByRole('button', { name: new RegExp(name) }).click();
    await page.locator('button.attendee', { hasText: name }).getByText(/已签到 · 待同步/).waitFor();
  }
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('待同步 2'));

  // Signal again: the outbox drains by itself.
  await context.setOffline(false);
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('已同步'), null, {
    timeout: 45_000,
  });
  const sent = pushed.filter((body) => body?.includes('check_in'));
  assert.ok(sent.length >= 1, 'the ticks went up in a push');

  // The same push once more, as a phone that never heard the answer would.
  const again = await page.evaluate(async (body) => {
    const response = await fetch('/api/sync/push', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body,
    });
    return response.json();
  }, sent[0]);
  assert.ok(again.results.length >= 1 && again.results.every((r) => r.status === 'applied'), JSON.stringify(again));

  // The lead's sheet and ledger: two people, two hours each, once.
  await lead.goto(`${server.url}/manage/activities/${activity}/attendance`);
  await lead.getByText('已签到 2 人，共计 4小时').waitFor();
  const year = starts.slice(0, 4);
  const csv = await lead.evaluate(async (year) => (await fetch(`/manage/party/hours.csv?year=${year}`)).text(), year);
  for (const name of ['王志愿', '赵志愿']) {
    const line = csv.split('\n').find((l) => l.startsWith(`${name},`));
    assert.match(line, /,0,0\.0,1,2\.0,2\.0,/, line);
  }
  // And the phone, asked again, shows both checked in by the server.
  await page.reload();
  await page.getByRole('button', { name: /周末巡逻/ }).click();
  assert.equal(await page.locator('button.attendee', { hasText: /已签到$/ }).count(), 2);
  await context.close();
  await leadContext.close();
});
