// What every app page runs before its WASM: a plain script in <head>, so it
// has run before the WASM opens anything, and it runs where the WASM never
// loads. It
// - names the IndexedDB store of the signed-in user in `self.gridwalkStore`,
//   which the WASM opens (phone/idb.rs) and the service worker reads photos
//   from: each user's records, outbox and photos live in a store of their own;
// - on a phone passed to someone else, deletes every other user's copy of
//   their grids (records, the pull's state, photos already uploaded) and the
//   photos the service worker kept; their unsent records and photos stay, are
//   sent when they sign in again, and the sign-in page says whose they are;
// - registers the service worker and asks the browser to keep the data.
// The signed-in user is the `gw_user` cookie the server sets with the session
// (id and display name); signed out, no store is named and the app opens none.
(function () {
  'use strict';
  // phone/idb.rs RECORD_STORES, and the stores holding the copy's state and photos.
  var RECORD_STORES = ['buildings', 'households', 'residents', 'visits', 'requests'];
  // sw.js PHOTO_CACHE.
  var PHOTO_CACHE = 'gridwalk-photos-v1';
  // The users this phone has seen: {id: {name, store, lastSync}}.
  var USERS = 'gridwalk.users';
  // Whose `gridwalk.last_sync` (read by the WASM) is the one in place.
  var OWNER = 'gridwalk.owner';
  var LAST_SYNC = 'gridwalk.last_sync';

  function readUsers() {
    try { return JSON.parse(localStorage.getItem(USERS)) || {}; } catch (e) { return {}; }
  }

  function signedIn() {
    var match = document.cookie.match(/(?:^|;\s*)gw_user=([^.;]+)\.([^;]*)/);
    if (!match) return null;
    var name;
    try { name = decodeURIComponent(match[2]); } catch (e) { name = ''; }
    return { id: match[1], name: name };
  }

  // Opens an existing store (never creates one) and hands it to `use`.
  function withStore(name, use) {
    return new Promise(function (resolve) {
      var open = indexedDB.open(name);
      open.onupgradeneeded = function () { open.transaction.abort(); };
      open.onerror = function () { resolve(null); };
      open.onsuccess = function () {
        var db = open.result;
        use(db, function (value) { db.close(); resolve(value); });
      };
    });
  }

  // Deletes a store's copy of the grids; keeps its outbox and the photos not
  // yet uploaded (photo_queue.rs marks an uploaded one `done`).
  function forgetCopy(name) {
    return withStore(name, function (db, done) {
      var stores = RECORD_STORES.concat(['meta', 'photos'])
        .filter(function (s) { return db.objectStoreNames.contains(s); });
      if (!stores.length) { done(); return; }
      var tx = db.transaction(stores, 'readwrite');
      stores.forEach(function (s) {
        var store = tx.objectStore(s);
        if (s === 'meta') {
          store.delete('state');
        } else if (s === 'photos') {
          store.openCursor().onsuccess = function (event) {
            var cursor = event.target.result;
            if (!cursor) return;
            if (cursor.value && cursor.value.state === 'done') cursor.delete();
            cursor.continue();
          };
        } else {
          store.clear();
        }
      });
      tx.oncomplete = tx.onabort = tx.onerror = function () { done(); };
    });
  }

  // How many records and photos a store holds unsent.
  function unsent(name) {
    return withStore(name, function (db, done) {
      var stores = ['outbox', 'photos'].filter(function (s) { return db.objectStoreNames.contains(s); });
      if (!stores.length) { done(0); return; }
      var tx = db.transaction(stores, 'readonly');
      var count = 0;
      stores.forEach(function (s) {
        tx.objectStore(s).getAll().onsuccess = function (event) {
          event.target.result.forEach(function (value) {
            if (s === 'outbox' || (value && value.state !== 'done')) count += 1;
          });
        };
      });
      tx.oncomplete = function () { done(count); };
      tx.onabort = tx.onerror = function () { done(0); };
    });
  }

  // On the sign-in page: whose unsent records this phone holds, so nobody
  // wonders where they went and their owner knows to sign in.
  function showHeld(users) {
    var ids = Object.keys(users);
    Promise.all(ids.map(function (id) { return unsent(users[id].store); })).then(function (counts) {
      var lines = ids
        .map(function (id, i) { return counts[i] ? users[id].name + ' 的 ' + counts[i] + ' 条记录' : null; })
        .filter(Boolean);
      var main = document.querySelector('main.login');
      if (!lines.length || !main) return;
      var note = document.createElement('p');
      note.className = 'card held';
      note.setAttribute('role', 'status');
      note.textContent = '本机还保留着' + lines.join('、') +
        '尚未上传：本人登录后自动上传，其他人登录看不到也不会上传。';
      // After the form: nodes the server rendered stay as they are for hydration.
      main.appendChild(note);
    });
  }

  var user = signedIn();
  var users = readUsers();
  if (user) {
    var known = users[user.id];
    // The phone's first user has the store every phone had before each user
    // got one of their own: after that update, whatever a phone held unsent
    // stays with the first person to sign in on it (it was theirs, or it was
    // nobody's to send).
    var first = !Object.keys(users).length;
    var store = known ? known.store : first ? 'gridwalk' : 'gridwalk-' + user.id;
    users[user.id] = { name: user.name, store: store, lastSync: known && known.lastSync };
    self.gridwalkStore = store;
  }
  // `gridwalk.last_sync` belongs to the user whose store is open.
  var owner = localStorage.getItem(OWNER);
  var switched = owner !== (user ? user.id : null);
  if (switched) {
    if (owner && users[owner]) users[owner].lastSync = localStorage.getItem(LAST_SYNC);
    var mine = user && users[user.id].lastSync;
    if (mine) localStorage.setItem(LAST_SYNC, mine); else localStorage.removeItem(LAST_SYNC);
    if (user) localStorage.setItem(OWNER, user.id); else localStorage.removeItem(OWNER);
  }
  localStorage.setItem(USERS, JSON.stringify(users));

  // Signed out (the sign-in page), nobody's copy stays; signed in, only the
  // user's own.
  Object.keys(users)
    .filter(function (id) { return !user || id !== user.id; })
    .forEach(function (id) { forgetCopy(users[id].store); });
  if ((switched || !user) && 'caches' in self) caches.delete(PHOTO_CACHE);
  if (!user && location.pathname === '/login') {
    document.addEventListener('DOMContentLoaded', function () { showHeld(users); });
  }

  if ('serviceWorker' in navigator) {
    // After the page's own loading, which it would otherwise compete with.
    window.addEventListener('load', function () {
      navigator.serviceWorker.register('/sw.js').catch(function (err) { console.warn('service worker', err); });
    });
    // Which store the service worker reads the phone's own photos from.
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage({ store: self.gridwalkStore || null });
    });
  }
  // Unsynced work must not be evicted when the phone runs low on space.
  if (user && navigator.storage && navigator.storage.persist) navigator.storage.persist();
})();
