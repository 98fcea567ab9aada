// Registers the service worker; kept out of the WASM so it runs even if the
// WASM never loads.
if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('service worker', err));
  });
}
