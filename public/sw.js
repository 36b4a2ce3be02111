// Pioneer Ledger's service worker: the app shell, precached at install, served cache-first,
// so the app opens with no network at all. The build (tools/precache.mjs) fills in the two
// constants below; a new build changes VERSION, which is what makes the browser see an update.
const VERSION = "__PRECACHE_VERSION__";
const PRECACHE = __PRECACHE_LIST__;
const CACHE = `pioneer-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new version waits until the person taps "更新".
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("pioneer-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

// Paths that are live server APIs, or pages that are not the phone's (the desk bundle, the
// first administrator's setup): never cached, never answered with the phone's shell.
const LIVE = ["/sync", "/healthz", "/api/", "/desk", "/setup"];

// A photo (/api/photos/<sha-256>): from this phone's own store when it is here (taken here,
// offline or not), else from the server; never a broken image. The store is the worker's
// (app-worker/src/photos.rs); this only reads it, and never creates the database.
const PHOTO = /^\/api\/photos\/([0-9a-f]{64})$/;

function storedPhoto(hash) {
  return new Promise((resolve) => {
    const open = indexedDB.open("pioneer-photos");
    // No database yet: leave it to the worker to make, with its store.
    open.onupgradeneeded = () => open.transaction.abort();
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const db = open.result;
      try {
        const get = db.transaction("photos").objectStore("photos").get(hash);
        get.onsuccess = () => { db.close(); resolve(get.result ? get.result.blob : null); };
        get.onerror = () => { db.close(); resolve(null); };
      } catch (e) {
        db.close();
        resolve(null);
      }
    };
  });
}

// A picture that says why there is no photo, so a record never shows a broken image.
function notice(text, status) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240"><rect width="320" height="240" fill="#eee"/><text x="160" y="128" font-size="22" text-anchor="middle" fill="#555" font-family="sans-serif">${text}</text></svg>`;
  return new Response(svg, { status: 200, headers: { "Content-Type": "image/svg+xml", "Cache-Control": "no-store", "X-Photo-Status": String(status) } });
}

async function photo(request, hash) {
  const blob = await storedPhoto(hash);
  if (blob) return new Response(blob, { headers: { "Content-Type": "image/jpeg", "Cache-Control": "no-store" } });
  try {
    const response = await fetch(request);
    if (response.ok || response.status === 304) return response;
    const body = await response.json().catch(() => ({}));
    return notice(body.error === "pending" ? "照片待上传" : "照片无法查看", response.status);
  } catch (e) {
    return notice("离线，暂时看不到这张照片", 0);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const photoHash = url.origin === self.location.origin && url.pathname.match(PHOTO);
  if (photoHash) {
    event.respondWith(photo(request, photoHash[1]));
    return;
  }
  if (url.origin !== self.location.origin || LIVE.some((p) => url.pathname.startsWith(p))) return;

  if (request.mode === "navigate") {
    // Every page of the app is the same index.html; the router inside picks the page.
    event.respondWith(
      caches.open(CACHE).then((cache) => cache.match("/index.html")).then((hit) => hit || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then((cache) => cache.match(request, { ignoreSearch: true })).then((hit) => hit || fetch(request)),
  );
});
