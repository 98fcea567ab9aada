// Gridwalk service worker, rendered by the server at start-up (assets.rs) with
// the exact files of this release. Precached files have content-hashed names
// (or change the version when they change), so they are served cache-first.
// Pages and API answers come from the network only: the server is the truth
// while the phone has signal; without signal app pages open from the shell.
// Unsynced work lives in IndexedDB, never here, so replacing this worker or
// clearing these caches never loses it.
const VERSION = '__VERSION__';
const SHELL_CACHE = `gridwalk-shell-${VERSION}`;
const PRECACHE = __PRECACHE__;
// Photos from the server, kept for offline use; the only answers with
// resident data this worker keeps. Pages and other API answers are never
// stored: offline, app pages open from the precached empty shell and the app
// renders them from the phone's own copy, which leaves with the user (phone.js)
// or the grid (phone/local.rs drops this cache when a grid leaves the phone;
// phone.js when another user signs in or anyone signs out).
const PHOTO_CACHE = 'gridwalk-photos-v1';
// App pages: offline, they open from the empty shell and the app renders them
// from the phone's copy of its grids.
const APP_PAGES = /^\/($|grids\/|buildings\/|households\/|residents\/|sync$|overdue$|requests$|check-in$)/;
// Answers this worker leaves to the browser alone. (The attendance lists too:
// the phone keeps its own copy, and a fetch of the browser's own obeys the
// browser tests' cut network, which a worker's fetch does not.)
const NEVER_CACHED = ['/api/sync/', '/api/activities/', '/api/login', '/healthz', '/login', '/logout', '/sw.js'];

// The signed-in user's IndexedDB store, as the page named it (phone.js):
// the phone's own photos are read from it. Kept in a cache too, since the
// browser stops an idle worker and its variables go with it.
const USER_CACHE = 'gridwalk-user';
let userStore;

self.addEventListener('message', (event) => {
  if (!event.data || !('store' in event.data)) return;
  userStore = event.data.store;
  event.waitUntil(caches.open(USER_CACHE).then((cache) => cache.put('/store', new Response(JSON.stringify(userStore)))));
});

function currentStore() {
  if (userStore !== undefined) return Promise.resolve(userStore);
  return caches.match('/store', { cacheName: USER_CACHE })
    .then((hit) => (hit ? hit.json() : null))
    .then((store) => { userStore = store; return store; });
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

// Old shell caches go only once the new one is complete (install succeeded).
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => ![SHELL_CACHE, PHOTO_CACHE, USER_CACHE].includes(k)).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Photos: the server's copy (kept for offline like any API answer), else the
// phone's own from IndexedDB — a photo taken offline, or not uploaded yet.
const PHOTO = /^\/api\/photos\/([0-9a-f]{64})(\/thumb)?$/;

function localPhoto(hash, thumb) {
  return currentStore().then((store) => new Promise((resolve) => {
    if (!store) { resolve(null); return; }
    const open = indexedDB.open(store);
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
  }));
}

function photo(request, [, hash, thumb]) {
  const local = (otherwise) => localPhoto(hash, Boolean(thumb)).then((blob) => (blob
    ? new Response(blob, { headers: { 'content-type': 'image/jpeg', 'cache-control': 'no-store' } })
    : otherwise()));
  const offline = () => new Response('', { status: 503 });
  const kept = () => caches.match(request, { cacheName: PHOTO_CACHE }).then((hit) => hit || local(offline));
  return fetch(request)
    .then((response) => {
      // What the server lets a cache keep (never a `no-store` answer).
      const keep = response.ok && !response.redirected && !/no-store/.test(response.headers.get('cache-control') || '');
      if (keep) {
        const copy = response.clone();
        caches.open(PHOTO_CACHE).then((cache) => cache.put(request, copy));
      }
      return response.status === 404 ? local(() => response) : response;
    }, kept);
}

// Network only; without an answer, `fallback`.
function network(request, fallback) {
  return fetch(request).catch(fallback);
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
    event.respondWith(network(request, () => caches.match(fallback, { cacheName: SHELL_CACHE })
      .then((hit) => hit || caches.match('/offline.html', { cacheName: SHELL_CACHE }))));
  } else if (PHOTO.test(url.pathname)) {
    event.respondWith(photo(request, url.pathname.match(PHOTO)));
  } else if (url.pathname.startsWith('/api/')) {
    const offline = () => new Response(JSON.stringify({ error: 'network', message: '网络不可用，请检查信号后重试' }),
      { status: 503, headers: { 'content-type': 'application/json' } });
    event.respondWith(network(request, offline));
  }
});
