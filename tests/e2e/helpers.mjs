// Shared fixtures for the browser tests: a real server on a free port with a
// fresh SQLite file, and a headless Debian Chromium on a phone-sized screen.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const PASSWORD = 'gridwalk2026';
const SERVER = process.env.GRIDWALK_SERVER_BIN ?? join(ROOT, 'target', 'release', 'server');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts the built server on port 0; resolves once it printed its URL. */
export async function startServer() {
  if (!existsSync(SERVER)) throw new Error(`no server binary at ${SERVER}: run cargo leptos build --release`);
  const dir = mkdtempSync(join(tmpdir(), 'gridwalk-e2e-'));
  const child = spawn(SERVER, [], {
    cwd: ROOT,
    env: {
      ...process.env,
      GRIDWALK_DATABASE_URL: `sqlite://${join(dir, 'gridwalk.db')}`,
      GRIDWALK_PHOTO_DIR: join(dir, 'photos'),
      GRIDWALK_ADDR: '127.0.0.1:0',
      GRIDWALK_SITE_ROOT: join(ROOT, 'target', 'site'),
      RUST_LOG: 'warn',
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
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
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

/** Resolves when the WASM has hydrated the page (the router handles links). */
export async function waitForHydration(page) {
  await page.waitForFunction(() => window.__gridwalk_hydrated === true, null, { timeout: 30_000 });
}
