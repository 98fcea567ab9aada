// Photos: taken offline on a phone, shown at once, uploaded after reconnecting
// in a queue of their own (a cut upload is retried), stored once on the server,
// small and without the camera's GPS position, and shown only to those who
// may see the resident.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, launchBrowser, phone, login, waitForHydration, localStore, syncUntilDone, cameraJpeg, jpegSize,
  PASSWORD,
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

function filesUnder(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The phone's photo queue, as stored. */
async function photoQueue(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(self.gridwalkStore);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const records = await new Promise((resolve, reject) => {
      const request = db.transaction('photos').objectStore('photos').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return records.map((r) => ({ hash: r.hash, state: r.state, photoBytes: r.photo?.size ?? 0, thumbBytes: r.thumb.size }));
  });
}

async function signedIn(username) {
  const response = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(response.status, 200);
  const cookie = response.headers.get('set-cookie').split(';')[0];
  return (path) => fetch(`${server.url}${path}`, { headers: { cookie } });
}

test('a photo taken offline shows at once, then reaches the server once, small and without GPS', async () => {
  // The demo's notice attachments are in the store already.
  const storedBefore = filesUnder(join(server.dir, 'photos')).length;
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  await waitForHydration(page);
  const resident = await page.evaluate(async () => {
    const pulled = await (await fetch('/api/sync/pull?cursor=0&limit=5000')).json();
    return pulled.records.find((r) => r.entity === 'resident' && !r.moved_out);
  });
  // The shell and the form chunks are precached; the page is controlled.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.goto(`${server.url}/residents/${resident.id}`);
  await waitForHydration(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
  await page.waitForFunction(async () => (await fetch('/api/sync/pull?cursor=0&limit=1')).ok);

  const original = await cameraJpeg(page, 4000, 3000);
  assert.ok(original.includes(Buffer.from('Exif\0\0')), 'the fixture carries EXIF with GPS');

  // In the stairwell: no network.
  await context.setOffline(true);
  await page.getByRole('button', { name: '拍照建档' }).click();
  await page.locator('.photo-picker input[type=file]:not([capture])').setInputFiles({
    name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: original,
  });
  const shown = page.locator('img.avatar-photo');
  await shown.waitFor();
  await page.waitForFunction(() => document.querySelector('img.avatar-photo')?.naturalWidth > 0);
  assert.match(await shown.getAttribute('src'), /^blob:/);
  await page.locator('.sync-badge', { hasText: '待同步 1' }).waitFor();
  const [queued] = await photoQueue(page);
  assert.equal(queued.state, 'pending');
  assert.ok(queued.photoBytes < 400 * 1024, `${queued.photoBytes} B sent instead of ${original.length} B`);

  // Back in signal, the first upload is cut off: the record still syncs (a
  // photo never holds records up) and the photo waits for the next round.
  let cut = 0;
  await page.route('**/api/photos/*', (route) => {
    if (route.request().method() === 'PUT' && cut++ === 0) return route.abort('connectionreset');
    return route.continue();
  });
  await context.setOffline(false);
  await syncUntilDone(page, server.url);
  await page.waitForFunction(() => document.querySelector('.photo-entry')?.dataset.state === 'done', null,
    { timeout: 60_000 }).catch(async () => {
    // The cut attempt left it waiting: the next sync round sends it again.
    await page.getByRole('button', { name: '立即同步' }).click();
    await page.waitForFunction(() => document.querySelector('.photo-entry')?.dataset.state === 'done', null,
      { timeout: 60_000 });
  });
  assert.ok(cut >= 2, `the photo was sent ${cut} times`);
  const [uploaded] = await photoQueue(page);
  assert.deepEqual([uploaded.state, uploaded.photoBytes], ['done', 0], 'only the thumbnail stays on the phone');

  // On the server: one object (and its thumbnail), the resident names it,
  // neither copy carries EXIF, and it is no longer than 1600 px.
  const asWorker = await signedIn('worker1');
  const detail = await (await asWorker(`/api/residents/${resident.id}`)).json();
  assert.equal(detail.photo, queued.hash);
  assert.equal(filesUnder(join(server.dir, 'photos')).length - storedBefore, 2);
  for (const [suffix, longSide] of [['', 1600], ['/thumb', 320]]) {
    const response = await asWorker(`/api/photos/${queued.hash}${suffix}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('cache-control'), /private/);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.ok(!bytes.includes(Buffer.from('Exif')), `EXIF on the server copy${suffix}`);
    const { width, height } = jpegSize(bytes);
    assert.equal(Math.max(width, height), longSide);
  }
  const asOtherWorker = await signedIn('worker2');
  assert.equal((await asOtherWorker(`/api/photos/${queued.hash}`)).status, 404);
  assert.equal((await fetch(`${server.url}/api/photos/${queued.hash}`)).status, 401);

  // Online, the resident page shows the server's copy.
  await page.unroute('**/api/photos/*');
  await page.goto(`${server.url}/residents/${resident.id}`);
  await page.waitForFunction(() => document.querySelector('img.avatar-photo')?.naturalWidth > 0);
  assert.equal(await page.locator('img.avatar-photo').getAttribute('src'), `/api/photos/${queued.hash}/thumb`);
  await context.close();
});
