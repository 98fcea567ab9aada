// Photo benchmarks (run by scripts/bench.sh). Prints Markdown.
// 1. On the phone: a 12-megapixel camera JPEG chosen in the resident's photo
//    form, from the file input to the compressed photo shown, in headless
//    Chromium; beside it, in the same run, the browser decoding the same file
//    alone (createImageBitmap), the floor any in-browser compression pays.
// 2. On the server: photos/s for new photos (hash, checks, decode, resize,
//    re-encode, thumbnail, two writes) and, as the baseline in the same run,
//    for the same photos again (read, hash, one lookup); the decode / encode /
//    thumbnail times the server reports in Server-Timing.
import { createHash } from 'node:crypto';
import { startServer, launchBrowser, phone, login, waitForHydration, waitForServiceWorker, cameraJpeg, PASSWORD } from '../e2e/helpers.mjs';

const RUNS = 7;
const UPLOADS = 40;
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(0)} ms`;

const server = await startServer();
const browser = await launchBrowser();
try {
  const context = await phone(browser);
  const page = await context.newPage();
  await login(page, server.url, 'worker1');
  await page.getByRole('heading', { name: '我的网格' }).waitFor();
  const resident = await page.evaluate(async () => {
    const pulled = await (await fetch('/api/sync/pull?cursor=0&limit=5000')).json();
    return pulled.records.find((r) => r.entity === 'resident' && !r.moved_out).id;
  });
  await page.goto(`${server.url}/residents/${resident}`);
  await waitForHydration(page);
  // The photo form's code comes from the service worker's precache offline.
  await waitForServiceWorker(page);
  // Offline: the upload queue stays out of the measurement.
  await context.setOffline(true);

  const original = await cameraJpeg(page, 4000, 3000);
  const compress = [];
  const decode = [];
  let sent = 0;
  for (let run = 0; run < RUNS; run++) {
    await page.locator('.profile-photo .btn').click();
    const input = page.locator('.photo-picker input[type=file]:not([capture])');
    await input.waitFor({ state: 'attached' });
    const before = await page.locator('img.avatar-photo').getAttribute('src').catch(() => null);
    await page.evaluate(() => { window.__photoStart = undefined; });
    // The clock starts when the browser fires `change` (after Playwright has
    // handed the file over) and stops when the new photo has been painted.
    await page.evaluate(() => {
      document.querySelector('.photo-picker input[type=file]:not([capture])')
        .addEventListener('change', () => { window.__photoStart = performance.now(); }, { capture: true, once: true });
    });
    await input.setInputFiles({ name: 'IMG_4000x3000.jpg', mimeType: 'image/jpeg', buffer: original });
    const elapsed = await page.evaluate((before) => new Promise((resolve) => {
      const check = () => {
        const img = document.querySelector('img.avatar-photo');
        if (img && img.src !== before && img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0) {
          resolve(performance.now() - window.__photoStart);
        } else requestAnimationFrame(check);
      };
      check();
    }), before);
    compress.push(elapsed);
    decode.push(await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const blob = new Blob([bytes], { type: 'image/jpeg' });
      const start = performance.now();
      const bitmap = await createImageBitmap(blob);
      const took = performance.now() - start;
      bitmap.close();
      return took;
    }, original.toString('base64')));
  }
  sent = await page.evaluate(async () => {
    const db = await new Promise((resolve) => { const r = indexedDB.open(self.gridwalkStore); r.onsuccess = () => resolve(r.result); });
    const all = await new Promise((resolve) => { const r = db.transaction('photos').objectStore('photos').getAll(); r.onsuccess = () => resolve(r.result); });
    return all.map((p) => p.photo.size);
  });

  console.log('### Photos on the phone (headless Chromium, 2 cores; a 4000×3000 camera JPEG with EXIF GPS)');
  console.log();
  console.log(`| step | median | p95 (of ${RUNS}) |`);
  console.log('|---|---:|---:|');
  console.log(`| baseline: the browser decoding the file alone (createImageBitmap) | ${ms(percentile(decode, 50))} | ${ms(percentile(decode, 95))} |`);
  console.log(`| chosen → shrunk to 1600 px, JPEG 0.8 + thumbnail, hashed, stored in IndexedDB, shown (goal ≤ 1.5 s) | ${ms(percentile(compress, 50))} | ${ms(percentile(compress, 95))} |`);
  console.log();
  const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
  // Every run compresses the same file to the same bytes: one stored photo.
  console.log(`Bytes: the camera file ${kb(original.length)}; what is uploaded ${kb(Math.max(...sent))} `
    + `(goal ≤ 400 KB), ${(original.length / Math.max(...sent)).toFixed(0)}× smaller, without EXIF. `
    + 'Chromium may finish decoding a createImageBitmap lazily, so the baseline is a floor.');
  console.log();

  // Server: distinct phone-sized photos, as the phone sends them.
  await context.setOffline(false);
  const photos = [];
  for (let i = 0; i < UPLOADS; i++) {
    photos.push(await cameraJpeg(page, 1600, 1200, 1000 + i));
  }
  const login2 = await fetch(`${server.url}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'worker1', password: PASSWORD }),
  });
  const cookie = login2.headers.get('set-cookie').split(';')[0];
  const timings = { decode: [], encode: [], thumb: [] };
  const uploadAll = async (concurrency) => {
    const started = performance.now();
    let next = 0;
    const statuses = [];
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < photos.length) {
        const photo = photos[next++];
        const hash = createHash('sha256').update(photo).digest('hex');
        const response = await fetch(`${server.url}/api/photos/${hash}`, {
          method: 'PUT', headers: { cookie, 'content-type': 'image/jpeg' }, body: photo,
        });
        statuses.push(response.status);
        for (const part of (response.headers.get('server-timing') ?? '').split(',')) {
          const [name, dur] = part.trim().split(';dur=');
          if (timings[name]) timings[name].push(Number(dur));
        }
        await response.arrayBuffer();
      }
    }));
    return { seconds: (performance.now() - started) / 1000, statuses };
  };
  const fresh = await uploadAll(2);
  const again = await uploadAll(2);
  if (!fresh.statuses.every((s) => s === 201) || !again.statuses.every((s) => s === 200)) {
    throw new Error(`unexpected statuses ${fresh.statuses} / ${again.statuses}`);
  }
  const avg = photos.reduce((n, p) => n + p.length, 0) / photos.length;
  console.log(`### Photo uploads to the server (${UPLOADS} distinct 1600×1200 JPEGs of ${kb(avg)} on average, 2 at a time, loopback)`);
  console.log();
  console.log('| upload | photos/s | MB/s in |');
  console.log('|---|---:|---:|');
  const row = (name, r) => console.log(`| ${name} | ${(UPLOADS / r.seconds).toFixed(1)} | ${((UPLOADS * avg) / r.seconds / 1048576).toFixed(1)} |`);
  row('baseline: the same photos again (read, hash, lookup; nothing decoded)', again);
  row('new photos (checks, decode, re-encode, thumbnail, two writes)', fresh);
  console.log();
  console.log('| server step per new photo (Server-Timing) | median | p95 |');
  console.log('|---|---:|---:|');
  for (const [name, label] of [['decode', 'decode'], ['encode', 're-encode at 1600 px (JPEG 82, no metadata)'], ['thumb', 'thumbnail (320 px)']]) {
    console.log(`| ${label} | ${percentile(timings[name], 50).toFixed(1)} ms | ${percentile(timings[name], 95).toFixed(1)} ms |`);
  }
} finally {
  await browser.close();
  await server.stop();
}
