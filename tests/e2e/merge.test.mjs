// Two phones edit the same resident while offline. Different fields merge;
// the same field ends with the later edit (by the phones' save time, whichever
// reaches the server first) and the lead can see the value that was lost.
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

async function signedInPhone(username) {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, username);
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  return { context, page };
}

/** A resident living in worker1's first building. */
async function someResident(page) {
  return page.evaluate(async () => {
    const get = async (url) => (await fetch(url, { cache: 'no-store' })).json();
    const grids = await get('/api/grids');
    const grid = await get(`/api/grids/${grids[0].id}`);
    const building = await get(`/api/buildings/${grid.buildings[0].id}`);
    const household = await get(`/api/households/${building.households.find((h) => h.residents > 0).id}`);
    return household.residents.find((r) => !r.moved_out && r.registration_type !== 'floating').id;
  });
}

/** Opens the resident's edit form online (its code is fetched), then cuts the network. */
async function editOffline(page, resident, edit) {
  await page.goto(`${server.url}/residents/${resident}`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '修改信息' }).click();
  await page.locator('.resident-form').waitFor();
  await page.context().setOffline(true);
  await edit(page);
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('修改已保存到本机').waitFor();
}

async function syncOnline(page) {
  await page.context().setOffline(false);
  await page.goto(`${server.url}/sync`);
  await waitForHydration(page);
  await page.getByRole('button', { name: '立即同步' }).click();
  await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('已同步'), null, {
    timeout: 30_000,
  });
}

test('two phones: different fields merge, the same field follows the rule, the loser is in history', async () => {
  const a = await signedInPhone('worker1');
  const b = await signedInPhone('worker1');
  const resident = await someResident(a.page);

  // Phone A changes the registration type and the phone number…
  await editOffline(a.page, resident, async (page) => {
    await page.getByRole('button', { name: '流动', exact: true }).click();
    await page.locator('input[name=phone]').fill('13900000001');
  });
  // …phone B, a moment later, the name and the phone number.
  await editOffline(b.page, resident, async (page) => {
    await page.locator('input[name=name]').fill('改名测试');
    await page.locator('input[name=phone]').fill('13900000002');
  });

  // B reaches the server first, A second: A's phone number is older and loses.
  await syncOnline(b.page);
  await syncOnline(a.page);

  const record = await a.page.evaluate(async (id) => (await (await fetch(`/api/residents/${id}`)).json()), resident);
  assert.equal(record.resident.name, '改名测试');
  assert.equal(record.resident.registration_type, 'floating');
  assert.equal(record.phone_masked, '139****0002');

  // The lead sees what was overwritten on the resident's page.
  const lead = await signedInPhone('lead1');
  await lead.page.goto(`${server.url}/residents/${resident}`);
  const conflict = lead.page.locator('.conflicts li');
  await conflict.first().waitFor();
  assert.match(await conflict.first().innerText(), /手机号\s*保留「139\*{4}0002」，被覆盖「139\*{4}0001」/);
  await lead.page.screenshot({ path: 'results/conflict-for-lead.png' });

  for (const p of [a, b, lead]) await p.context.close();
});
