// The desk's service worker (scope /desk/): its files, precached at install, so the desk opens
// without a connection and shows the answers it kept (a meeting room, an inspection on the
// road). Pages are fetched from the network first, so an online desk always runs the newest
// build; the build (tools/precache.mjs) fills in the two constants below.
const VERSION = "__PRECACHE_VERSION__";
const PRECACHE = __PRECACHE_LIST__;
const CACHE = `pioneer-desk-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("pioneer-desk-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith("/desk")) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match("/desk/index.html"))));
    return;
  }
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(request, { ignoreSearch: true })).then((hit) => hit || fetch(request)));
});
