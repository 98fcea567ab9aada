// Sync benchmarks in headless Chromium against the release server (run by
// scripts/bench.sh). Prints Markdown. Each figure has a baseline taken in the
// same run, because the machine is shared and noisy.
import { ENGINE, startServer, launchBrowser, phone, login, waitForHydration, waitForServiceWorker, queueVisits } from '../e2e/helpers.mjs';

const SAVES = 40;
const PUSH = 1000;

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;

const server = await startServer();
const browser = await launchBrowser();
try {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  const household = await page.evaluate(async () => {
    const get = async (url) => (await fetch(url, { cache: 'no-store' })).json();
    const grid = await get(`/api/grids/${(await get('/api/grids'))[0].id}`);
    return (await get(`/api/buildings/${grid.buildings[2].id}`)).households[0].id;
  });
  await page.goto(`${server.url}/households/${household}`);
  await waitForHydration(page);
  // The forms' code comes from the service worker's precache once offline.
  await waitForServiceWorker(page);
  await context.setOffline(true);

  // Offline save: from the tap on 保存 to the "saved" note, which appears only
  // after IndexedDB has committed. Baseline: a tap that only re-renders (a
  // concern chip toggling), measured the same way.
  const timeTap = (selector, done) => page.evaluate(({ selector, done }) => new Promise((resolve) => {
    const target = [...document.querySelectorAll(selector.css)].find((b) => b.textContent === selector.text);
    const start = performance.now();
    const observer = new MutationObserver(() => {
      if (eval(done)) { observer.disconnect(); resolve(performance.now() - start); }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    target.click();
  }), { selector, done });

  const saves = [];
  const toggles = [];
  for (let i = 1; i <= SAVES; i++) {
    await page.getByRole('button', { name: '记录走访' }).click();
    await page.locator('.visit-form').waitFor();
    toggles.push(await timeTap({ css: '.chips-toggle button', text: '健康' },
      `[...document.querySelectorAll('.chips-toggle button')].find((b) => b.textContent === '健康')?.classList.contains('on')`));
    saves.push(await timeTap({ css: '.form-actions button', text: '保存' },
      `document.querySelector('.saved-note')?.textContent.includes('（${i}条）')`));
  }

  // Push: the queued visits from empty outbox to all confirmed. Baseline: the
  // same operations pushed again, which the server answers from its record of
  // applied op ids without applying anything.
  await context.setOffline(false);
  await page.goto(`${server.url}/sync`);
  await waitForHydration(page);
  const drain = async () => {
    const start = Date.now();
    await page.getByRole('button', { name: '立即同步' }).click();
    await page.waitForFunction(() => document.querySelector('.sync-badge')?.textContent.includes('已同步'),
      null, { polling: 'raf', timeout: 120_000 });
    return Date.now() - start;
  };
  await drain(); // the visits saved above
  await queueVisits(page, household, PUSH);
  const operations = await page.evaluate(async () => {
    const db = await new Promise((resolve) => { const r = indexedDB.open(self.gridwalkStore); r.onsuccess = () => resolve(r.result); });
    const values = await new Promise((resolve) => {
      const request = db.transaction('outbox').objectStore('outbox').getAll();
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    return values.map((v) => JSON.parse(v).operation);
  });
  const pushMs = await drain();
  const replayMs = await page.evaluate(async (ops) => {
    const start = performance.now();
    for (let i = 0; i < ops.length; i += 100) {
      const body = `{"device_id":"bench","operations":[${ops.slice(i, i + 100).join(',')}]}`;
      const response = await fetch('/api/sync/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (!response.ok) throw new Error(`replay ${response.status}`);
    }
    return performance.now() - start;
  }, operations);

  console.log(`### Sync in headless Chromium (release server, ${ENGINE}, demo data, ${new Date().toISOString().slice(0, 16)}Z)\n`);
  console.log('| measure | result | baseline in the same run |');
  console.log('|---|---:|---:|');
  console.log(`| offline save, tap to committed in IndexedDB (${SAVES} saves) | p50 ${ms(percentile(saves, 50))}, p95 ${ms(percentile(saves, 95))} | re-render only: p50 ${ms(percentile(toggles, 50))}, p95 ${ms(percentile(toggles, 95))} |`);
  console.log(`| push ${PUSH} queued visits through the app until all confirmed | ${pushMs} ms (${Math.round(PUSH / (pushMs / 1000))} visits/s) | the same ${operations.length} ops again, already applied: ${Math.round(replayMs)} ms |`);
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
