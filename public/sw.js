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

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
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
