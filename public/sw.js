// Gridwalk service worker. Network first: the server is the truth while the
// phone has signal; the cached copy of the app shell (WASM, JS, CSS, icons)
// keeps the app opening when it has none. Pages with resident data are never
// written to the cache.
const CACHE = 'gridwalk-shell-v1';
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

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(() => caches.match('/offline.html')));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request)),
    );
  }
});
