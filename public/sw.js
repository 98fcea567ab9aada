// Gridwalk service worker. Network first: the server is the truth while the
// phone has signal. Without signal, the cached app shell (WASM, JS, CSS, icons)
// and the last copy of each page and API answer the worker opened keep the app
// usable. Unsynced work lives in IndexedDB, never here, so replacing this worker
// or clearing these caches never loses it.
const SHELL_CACHE = 'gridwalk-shell-v2';
// Pages and API answers hold resident data: cleared at sign-in (register-sw.js).
const DATA_CACHE = 'gridwalk-data-v1';
const SHELL = [
  '/pkg/gridwalk.js',
  '/pkg/gridwalk.wasm',
  '/pkg/gridwalk.css',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/manifest.webmanifest',
  '/offline.html',
  '/register-sw.js',
];
// Answers that must never come from a cache.
const NEVER_CACHED = ['/api/sync/', '/api/login', '/healthz', '/login', '/logout'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL_CACHE && k !== DATA_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function networkFirst(request, cacheName, fallback) {
  return fetch(request)
    .then((response) => {
      if (response.ok && !response.redirected) {
        const copy = response.clone();
        caches.open(cacheName).then((cache) => cache.put(request, copy));
      }
      return response;
    })
    .catch(() => caches.match(request, { cacheName }).then((hit) => hit || fallback()));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (NEVER_CACHED.some((p) => url.pathname.startsWith(p))) return;
  if (SHELL.includes(url.pathname)) {
    event.respondWith(networkFirst(request, SHELL_CACHE, () => Response.error()));
  } else if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, DATA_CACHE, () => caches.match('/offline.html')));
  } else if (url.pathname.startsWith('/api/')) {
    const offline = () => new Response(JSON.stringify({ error: 'network', message: '网络不可用，请检查信号后重试' }),
      { status: 503, headers: { 'content-type': 'application/json' } });
    event.respondWith(networkFirst(request, DATA_CACHE, offline));
  }
});
