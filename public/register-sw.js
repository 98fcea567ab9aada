// Registers the service worker; kept out of the WASM so it runs even if the
// WASM never loads. On the sign-in page, cached pages of the previous user are
// dropped (the outbox in IndexedDB is not touched).
if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('service worker', err));
  });
}
if (location.pathname === '/login' && 'caches' in window) {
  caches.delete('gridwalk-data-v2');
}
