// Gridwalk service worker, rendered by the server at start-up (assets.rs) with
// the exact files of this release. Precached files have content-hashed names
// (or change the version when they change), so they are served cache-first.
// Pages and API answers are network first: the server is the truth while the
// phone has signal; without signal the last copy the worker opened is used.
// Unsynced work lives in IndexedDB, never here, so replacing this worker or
// clearing these caches never loses it.
const VERSION = '__VERSION__';
const SHELL_CACHE = `gridwalk-shell-${VERSION}`;
const PRECACHE = __PRECACHE__;
// Pages and API answers hold resident data: cleared at sign-in (register-sw.js).
// v2: residents carry the birth year and the ID number's last four only; the
// activation below drops v1, whose answers held more (and no longer parse).
const DATA_CACHE = 'gridwalk-data-v2';
// App pages: without a copy of their own, offline, they open from the empty
// shell and the app renders them from the phone's copy of its grids.
const APP_PAGES = /^\/($|grids\/|buildings\/|households\/|residents\/|sync$|overdue$|requests$)/;
// Answers that must never come from a cache.
const NEVER_CACHED = ['/api/sync/', '/api/login', '/healthz', '/login', '/logout', '/sw.js'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

// Old shell caches go only once the new one is complete (install succeeded).
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL_CACHE && k !== DATA_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Photos: the server's copy (kept for offline like any API answer), else the
// phone's own from IndexedDB — a photo taken offline, or not uploaded yet.
const PHOTO = /^\/api\/photos\/([0-9a-f]{64})(\/thumb)?$/;

function localPhoto(hash, thumb) {
  return new Promise((resolve) => {
    const open = indexedDB.open('gridwalk');
    // No store yet: never create the database here, the app does.
    open.onupgradeneeded = () => open.transaction.abort();
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('photos')) { db.close(); resolve(null); return; }
      const get = db.transaction('photos').objectStore('photos').get(hash);
      get.onsuccess = () => { db.close(); resolve(get.result ? (thumb ? get.result.thumb : get.result.photo || get.result.thumb) : null); };
      get.onerror = () => { db.close(); resolve(null); };
    };
  });
}

function photo(request, [, hash, thumb]) {
  const local = (otherwise) => localPhoto(hash, Boolean(thumb)).then((blob) => (blob
    ? new Response(blob, { headers: { 'content-type': 'image/jpeg', 'cache-control': 'no-store' } })
    : otherwise()));
  const offline = () => new Response('', { status: 503 });
  return networkFirst(request, () => local(offline))
    .then((response) => (response.status === 404 ? local(() => response) : response));
}

function networkFirst(request, fallback) {
  return fetch(request)
    .then((response) => {
      if (response.ok && !response.redirected) {
        const copy = response.clone();
        caches.open(DATA_CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    })
    .catch(() => caches.match(request, { cacheName: DATA_CACHE }).then((hit) => hit || fallback()));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (NEVER_CACHED.some((p) => url.pathname.startsWith(p))) return;
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: SHELL_CACHE }).then((hit) => hit || fetch(request)));
  } else if (request.mode === 'navigate') {
    const fallback = APP_PAGES.test(url.pathname) ? '/shell' : '/offline.html';
    event.respondWith(networkFirst(request, () => caches.match(fallback).then((hit) => hit || caches.match('/offline.html'))));
  } else if (PHOTO.test(url.pathname)) {
    event.respondWith(photo(request, url.pathname.match(PHOTO)));
  } else if (url.pathname.startsWith('/api/')) {
    const offline = () => new Response(JSON.stringify({ error: 'network', message: '网络不可用，请检查信号后重试' }),
      { status: 503, headers: { 'content-type': 'application/json' } });
    event.respondWith(networkFirst(request, offline));
  }
});
