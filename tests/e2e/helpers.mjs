// Shared fixtures for the browser tests: a real server on a free port with a
// fresh database (an SQLite file; a PostgreSQL database when
// GRIDWALK_E2E_POSTGRES names a cluster), and a headless Debian Chromium on a
// phone-sized screen.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const PASSWORD = 'gridwalk2026';
/** The engine the servers started here run on, for benchmark headings. */
export const ENGINE = process.env.GRIDWALK_E2E_POSTGRES ? 'PostgreSQL' : 'SQLite';
const SERVER = process.env.GRIDWALK_SERVER_BIN ?? join(ROOT, 'target', 'release', 'server');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The built site; overridable to test a copy that a rebuild will not change. */
const SITE_ROOT = process.env.GRIDWALK_SITE_ROOT ?? join(ROOT, 'target', 'site');

/**
 * The database of the server kept in `dir`: an SQLite file in it, or a new
 * PostgreSQL database on the cluster named by GRIDWALK_E2E_POSTGRES
 * (`postgres://user@localhost/postgres?host=/socket/dir`), remembered in the
 * folder so a restarted server finds the same one.
 */
export function databaseUrl(dir) {
  const admin = process.env.GRIDWALK_E2E_POSTGRES;
  if (!admin) return `sqlite://${join(dir, 'gridwalk.db')}`;
  const remembered = join(dir, 'database_url');
  if (existsSync(remembered)) return readFileSync(remembered, 'utf8');
  const url = new URL(admin);
  const name = `gw_e2e_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  const created = spawnSync('createdb', ['-h', url.searchParams.get('host') ?? url.hostname, '-U', url.username, name],
    { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:${pgBin()}` } });
  if (created.status !== 0) throw new Error(`createdb: ${created.stderr}`);
  url.pathname = `/${name}`;
  writeFileSync(remembered, url.toString());
  return url.toString();
}

/** Debian keeps PostgreSQL's client programs beside the server's. */
function pgBin() {
  const found = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'], { encoding: 'utf8' });
  return found.stdout.trim();
}

/**
 * Starts the built server; resolves once it printed its URL. By default on a
 * free port with a fresh folder; `dir` and `addr` restart it on the same
 * database and port (after a crash); `env` adds settings (`GRIDWALK_*`).
 */
export async function startServer({ dir = mkdtempSync(join(tmpdir(), 'gridwalk-e2e-')), addr = '127.0.0.1:0', env = {} } = {}) {
  if (!existsSync(SERVER)) throw new Error(`no server binary at ${SERVER}: run cargo leptos build --release`);
  const child = spawn(SERVER, [], {
    cwd: ROOT,
    env: {
      ...process.env,
      GRIDWALK_DATABASE_URL: databaseUrl(dir),
      GRIDWALK_PHOTO_STORE: join(dir, 'photos'),
      GRIDWALK_DEMO_DATA: 'true',
      GRIDWALK_ADDR: addr,
      GRIDWALK_SITE_ROOT: SITE_ROOT,
      RUST_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/http:\/\/127\.0\.0\.1:\d+/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[0]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  const exited = new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
  return {
    url,
    dir,
    pid: child.pid,
    addr: url.replace('http://', ''),
    /** Simulates a crash: no graceful shutdown, the database is left as is. */
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Uncaught page errors and WASM panics seen by any page of any browser
 * started here: every test fails on them (the hook below), whatever it checks.
 */
const pageErrors = [];

function watchPage(page) {
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    // The panic hook's message, and what a panic without it looks like.
    if (message.type() === 'error' && /panicked|RuntimeError|unreachable/.test(message.text())) {
      pageErrors.push(`${page.url()}: ${message.text()}`);
    }
  });
}

function watchContext(context) {
  context.pages().forEach(watchPage);
  context.on('page', watchPage);
  return context;
}

afterEach(() => {
  const seen = pageErrors.splice(0);
  if (seen.length > 0) throw new Error(`page errors or WASM panics during the test:\n${seen.join('\n')}`);
});

export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => watchContext(await newContext(options));
  return browser;
}

/** A phone-sized browser whose profile lives in `userDataDir`: it survives a restart. */
export async function launchPersistentPhone(userDataDir) {
  return watchContext(await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    viewport: { width: 360, height: 740 },
    locale: 'zh-CN',
  }));
}

/**
 * A phone-sized Chromium on the profile in `userDataDir`, started here rather
 * than by Playwright so the test owns its process group: `kill()` ends every
 * process of it with SIGKILL at once (the phone dying, nothing flushed), and
 * a browser started again on the same folder finds what reached the disk.
 */
export async function launchKillablePhone(userDataDir) {
  const child = spawn(CHROMIUM, [
    ...CHROMIUM_ARGS, '--headless', '--remote-debugging-port=0', `--user-data-dir=${userDataDir}`,
    '--window-size=360,740', '--lang=zh-CN', '--password-store=basic', 'about:blank',
  ], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((r) => child.once('exit', r));
  const endpoint = await new Promise((resolvePromise, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const match = err.match(/DevTools listening on (ws:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
        err = '';
      }
    });
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}:\n${err}`)));
  });
  const browser = await chromium.connectOverCDP(endpoint);
  const group = -child.pid;
  // A test that fails or times out must not leave the browser running.
  const orphaned = () => { try { process.kill(group, 'SIGKILL'); } catch { /* already gone */ } };
  process.once('exit', orphaned);
  const end = async (signal) => {
    process.off('exit', orphaned);
    try { process.kill(group, signal); } catch { /* already gone */ }
    await exited;
    // The renderers and the GPU and network services too: the profile is
    // free again only when none of them is left.
    for (let i = 0; i < 100; i++) {
      try { process.kill(group, 0); } catch { break; }
      await new Promise((r) => setTimeout(r, 50));
    }
    await browser.close().catch(() => {});
  };
  return {
    context: watchContext(browser.contexts()[0]),
    pid: child.pid,
    kill: () => end('SIGKILL'),
    close: () => end('SIGTERM'),
  };
}

/** A phone: 360 x 740 CSS pixels, touch, Chinese locale. */
export async function phone(browser) {
  return browser.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
}

export async function login(page, baseUrl, username, password = PASSWORD) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
}

/**
 * The first sign-in of an account made with a one-time password: the password
 * page comes first, `chosen` replaces it, and the home page follows.
 */
export async function firstSignIn(page, baseUrl, username, once, chosen) {
  await login(page, baseUrl, username, once);
  await page.waitForURL(`${baseUrl}/account/password`);
  await page.getByLabel('初始密码').fill(once);
  await page.getByLabel('新密码（至少8位）').fill(chosen);
  await page.getByLabel('再输一次新密码').fill(chosen);
  await page.getByRole('button', { name: '保存新密码' }).click();
  await page.waitForURL(`${baseUrl}/`);
}

/** Resolves when the WASM has hydrated the page (the router handles links). */
export async function waitForHydration(page) {
  await page.waitForFunction(() => window.__gridwalk_hydrated === true, null, { timeout: 30_000 });
}

/**
 * Waits until the service worker is installed (its precache, lazy chunks
 * included, complete) and controls the page: a page loaded mid-activation may
 * stay uncontrolled, so it is reloaded once activation is done.
 */
export async function waitForServiceWorker(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await waitForHydration(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
}

/**
 * Puts visits for `household` straight into the phone's outbox, in its stored
 * form, as if recorded offline; returns their visit ids.
 */
export async function queueVisits(page, household, count, label = '走访 · 测试') {
  return page.evaluate(async ({ household, count, label }) => {
    const db = await new Promise((resolve, reject) => {
      // No version: whatever the app created (or v1, as the first release did).
      // The signed-in user's store (phone.js); on a page without one, the
      // store every phone had before each user got their own.
      const request = indexedDB.open(self.gridwalkStore ?? 'gridwalk');
      request.onupgradeneeded = () => request.result.createObjectStore('outbox');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const ids = [];
    const tx = db.transaction('outbox', 'readwrite');
    for (let i = 0; i < count; i++) {
      const visit = { id: crypto.randomUUID(), household_id: household, visited_at: Date.now(),
        visit_type: 'routine', outcome: 'met', notes: `#${i}` };
      const operation = { op_id: crypto.randomUUID(), created_at: Date.now(), change: { record_visit: visit } };
      const entry = { op_id: operation.op_id, operation: JSON.stringify(operation), state: 'pending', reason: null,
        label, household_id: household };
      tx.objectStore('outbox').put(JSON.stringify(entry), entry.op_id);
      ids.push(visit.id);
    }
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
    db.close();
    return ids;
  }, { household, count, label });
}

/**
 * What the phone holds: IndexedDB version, records per store (visits are kept
 * one record per household, so `visitCount` counts the visits inside), grids.
 */
export async function localStore(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(self.gridwalkStore ?? 'gridwalk');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const names = [...db.objectStoreNames];
    const ask = (store, op) => new Promise((resolve, reject) => {
      const request = op(db.transaction(store).objectStore(store));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const counts = {};
    for (const name of names) counts[name] = await ask(name, (s) => s.count());
    const state = names.includes('meta') ? await ask('meta', (s) => s.get('state')) : undefined;
    const visitCount = names.includes('visits')
      ? (await ask('visits', (s) => s.getAll())).reduce((n, g) => n + g.visits.length, 0) : 0;
    const gridIds = {};
    for (const name of ['buildings', 'households', 'residents', 'visits'].filter((n) => names.includes(n))) {
      for (const r of await ask(name, (s) => s.getAll())) gridIds[r.grid_id] = true;
    }
    const version = db.version;
    db.close();
    return { version, counts, visitCount, grids: state ? JSON.parse(state).grids : [], recordGrids: Object.keys(gridIds) };
  });
}

/** A household with people living in it, of the signed-in worker's first building (the `index`-th such). */
export async function someHousehold(page, index = 0) {
  return page.evaluate(async (index) => {
    const get = async (url) => (await fetch(url, { cache: 'no-store' })).json();
    const grids = await get('/api/grids');
    const grid = await get(`/api/grids/${grids[0].id}`);
    const building = await get(`/api/buildings/${grid.buildings[0].id}`);
    return building.households.filter((h) => h.residents > 0)[index].id;
  }, index);
}

/** A session cookie (`name=value`) for `username`, outside the browser. */
export async function signIn(base, username) {
  const response = await fetch(`${base}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (!response.ok) throw new Error(`login ${username}: ${response.status}`);
  return response.headers.get('set-cookie').split(';')[0];
}

/** Polls the phone's store until `done(store)` holds. */
export async function waitForStore(page, done, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let store;
  while (Date.now() < deadline) {
    store = await localStore(page);
    if (done(store)) return store;
    await page.waitForTimeout(250);
  }
  throw new Error(`${what}: ${JSON.stringify(store)}`);
}

/** Every visit id the server holds for the caller's grids, through the pull API. */
export async function serverVisitIds(page) {
  return page.evaluate(async () => {
    const ids = [];
    let cursor = 0;
    for (;;) {
      const page = await (await fetch(`/api/sync/pull?cursor=${cursor}&limit=5000`, { cache: 'no-store' })).json();
      for (const r of page.records) if (r.entity === 'visit') ids.push(r.id);
      cursor = page.next_cursor;
      if (!page.more) return ids;
    }
  });
}

/** Presses 立即同步 on /sync until the badge says 已同步. */
export async function syncUntilDone(page, baseUrl, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  if (!page.url().endsWith('/sync')) await page.goto(`${baseUrl}/sync`);
  await waitForHydration(page);
  while (Date.now() < deadline) {
    const text = await page.locator('.sync-badge').innerText();
    if (text.includes('已同步') && !text.includes('离线')) return;
    const button = page.getByRole('button', { name: '立即同步' });
    if (await button.isEnabled()) await button.click();
    await page.waitForTimeout(500);
  }
  throw new Error(`outbox did not drain: ${await page.locator('.sync-badge').innerText()}`);
}

/**
 * A camera-like JPEG of `width` × `height`: a picture encoded by the browser
 * (smooth areas and texture, like a photo), with an EXIF segment carrying a
 * GPS position spliced in after the start-of-image marker, as phones write it.
 */
export async function cameraJpeg(page, width, height, seed = 7) {
  const base64 = await page.evaluate(async ({ width, height, seed }) => {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    const image = context.createImageData(width, height);
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i += 4) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const noise = (seed >> 16) & 15;
        image.data[i] = (x * 255) / width + noise;
        image.data[i + 1] = (y * 255) / height + noise;
        image.data[i + 2] = (((x >> 5) ^ (y >> 5)) & 1) * 120 + noise;
        image.data[i + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }, { width, height, seed });
  const jpeg = Buffer.from(base64, 'base64');
  return Buffer.concat([jpeg.subarray(0, 2), exifGpsSegment(), jpeg.subarray(2)]);
}

/** APP1 "Exif": IFD0 pointing to a GPS IFD holding 39°54'12.34"N. */
function exifGpsSegment() {
  const tiff = Buffer.alloc(80);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  const entry = (at, tag, type, count, value) => {
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(type, at + 2);
    tiff.writeUInt32LE(count, at + 4);
    tiff.writeUInt32LE(value, at + 8);
  };
  tiff.writeUInt16LE(1, 8);
  entry(10, 0x8825, 4, 1, 26);
  tiff.writeUInt16LE(2, 26);
  entry(28, 0x0001, 2, 2, Buffer.from('N\0\0\0', 'latin1').readUInt32LE(0));
  entry(40, 0x0002, 5, 3, 56);
  [[39, 1], [54, 1], [1234, 100]].forEach(([num, den], i) => {
    tiff.writeUInt32LE(num, 56 + i * 8);
    tiff.writeUInt32LE(den, 60 + i * 8);
  });
  const header = Buffer.alloc(10);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(tiff.length + 8, 2);
  header.write('Exif\0\0', 4, 'latin1');
  return Buffer.concat([header, tiff]);
}

/** Width and height from a JPEG's frame header. */
export function jpegSize(bytes) {
  let at = 2;
  while (at < bytes.length) {
    const marker = bytes[at + 1];
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    at += 2 + length;
  }
  throw new Error('no frame header');
}
