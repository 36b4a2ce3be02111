// Benchmarks of photos (照片) on the phone, in Debian's Chromium against the real server and
// release build: bytes per photo after the phone's resize, the time from choosing a photo to
// its thumbnail, and upload throughput. Each figure has a baseline from the same run, as a
// ratio, because this machine is shared.
// Usage: node bench/photos.mjs   (after scripts/bundles.sh and a release build of the server)
//
// Photos are camera-like: 4000 × 3000 with noise (a flat test card compresses to nothing), JPEG
// at 0.92. The page runs at 4x CPU throttling; Chromium throttles the page's thread, not the
// worker's, so the resize baseline is the same decode, draw and encode run on the throttled page
// (what a phone's busy core would take), beside the app's figure (the worker on its own core).
import { Server, launchPersistent, openApp, tempDir, waitForServiceWorker } from "../tests/e2e/harness.mjs";

const THROTTLE = 4;
const PHOTOS = Number(process.env.BENCH_PHOTOS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const row = (what, figure, baseline, ratio) => rows.push(`| ${what} | ${figure} | ${baseline} | ${ratio} |`);

async function cameraPhotos(page, n) {
  return page.evaluate(async (n) => {
    const out = [];
    for (let k = 0; k < n; k++) {
      const canvas = new OffscreenCanvas(4000, 3000);
      const g = canvas.getContext("2d");
      const image = g.createImageData(4000, 3000);
      let seed = 12345 + k;
      for (let i = 0; i < image.data.length; i += 4) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const x = (i / 4) % 4000;
        image.data[i] = (x / 16 + (seed & 63)) & 255;
        image.data[i + 1] = (((i / 4 / 4000) | 0) / 12 + ((seed >> 6) & 63)) & 255;
        image.data[i + 2] = 90 + ((seed >> 12) & 63);
        image.data[i + 3] = 255;
      }
      g.putImageData(image, 0, 0);
      const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let text = "";
      for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
      out.push(btoa(text));
    }
    return out;
  }, n);
}

const server = await Server.start();
try {
  const context = await launchPersistent(tempDir("bench-photos"));
  const page = context.pages()[0];
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  const photos = (await cameraPhotos(page, PHOTOS)).map((b) => Buffer.from(b, "base64"));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE });

  // Baseline: decode, draw at 1,600 px and encode on the throttled page.
  const onPage = [];
  for (const photo of photos) {
    onPage.push(
      await page.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const started = performance.now();
        const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
        const scale = 1600 / Math.max(bitmap.width, bitmap.height);
        const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        await canvas.convertToBlob({ type: "image/jpeg", quality: 0.8 });
        return performance.now() - started;
      }, photo.toString("base64")),
    );
  }

  // The app: choose each photo on the visit form until its thumbnail shows. Offline, so the
  // upload comes later, measured on its own.
  await context.setOffline(true);
  await page.goto(`${server.url}/visits/new`);
  await page.locator('input[name="whom"]').fill("基准测试");
  await page.locator('textarea[name="heard"]').fill("照片基准");
  // From the page's `change` to the worker's answer (resized, hashed, in IndexedDB): the app's
  // own measure, so handing the file over the DevTools protocol is not counted.
  const inApp = [];
  for (const [i, photo] of photos.entries()) {
    await page.getByTestId("photo-gallery").setInputFiles({ name: `IMG_${i}.jpg`, mimeType: "image/jpeg", buffer: photo });
    await page.waitForFunction((n) => [...document.querySelectorAll('[data-testid="media-field"] .photo-grid img')].filter((img) => img.complete && img.naturalWidth > 0).length === n, i + 1, { timeout: 60_000 });
  }
  inApp.push(...(await page.evaluate(() => performance.getEntriesByName("pioneer:photo-stored").map((e) => e.duration))));
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("visit-count").waitFor();
  const stored = await page.evaluate(
    () =>
      new Promise((ok) => {
        const open = indexedDB.open("pioneer-photos");
        open.onsuccess = () => {
          const all = open.result.transaction("photos").objectStore("photos").getAll();
          all.onsuccess = () => ok(all.result.map((p) => ({ size: p.size })));
        };
      }),
  );
  const sizes = stored.map((p) => p.size);
  const originals = photos.map((p) => p.length);

  // Upload: back online, until nothing waits. Baseline: the same bytes PUT again by the page
  // itself (the server reads, hashes and acknowledges each; nothing new is written).
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
  // The PUTs themselves, first sent to last answered (the worker's requests are the context's).
  const puts = { first: Infinity, last: 0 };
  context.on("request", (r) => {
    if (r.method() === "PUT" && r.url().includes("/api/photos/")) puts.first = Math.min(puts.first, Date.now());
  });
  context.on("requestfinished", (r) => {
    if (r.method() === "PUT" && r.url().includes("/api/photos/")) puts.last = Math.max(puts.last, Date.now());
  });
  const started = Date.now();
  await context.setOffline(false);
  await page.waitForFunction(() => /已同步/.test(document.querySelector('[data-testid="sync-state"]')?.textContent ?? "") && !/照片待上传/.test(document.querySelector('[data-testid="sync-state"]')?.textContent ?? ""), null, { timeout: 120_000 });
  const uploadMs = Date.now() - started;
  const again = await page.evaluate(async () => {
    const open = await new Promise((ok) => {
      const r = indexedDB.open("pioneer-photos");
      r.onsuccess = () => ok(r.result);
    });
    const keys = await new Promise((ok) => {
      const r = open.transaction("photos").objectStore("photos").getAllKeys();
      r.onsuccess = () => ok(r.result);
    });
    const values = await new Promise((ok) => {
      const r = open.transaction("photos").objectStore("photos").getAll();
      r.onsuccess = () => ok(r.result);
    });
    const t = performance.now();
    for (const [i, hash] of keys.entries()) await fetch(`/api/photos/${hash}`, { method: "PUT", body: values[i].blob, headers: { "content-type": "image/jpeg" } });
    return performance.now() - t;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const mbps = (bytes, ms) => `${((bytes / 1024 / 1024) / (ms / 1000)).toFixed(1)} MB/s`;

  console.log(`Photos: ${PHOTOS} camera-like 4000×3000 JPEGs (median ${(median(originals) / 1024).toFixed(0)} KB each), page at ${THROTTLE}x CPU throttling.\n`);
  console.log("| what | figure | baseline | ratio |");
  console.log("|---|---|---|---|");
  row("bytes per photo after resize (median)", `${(median(sizes) / 1024).toFixed(0)} KB`, `${(median(originals) / 1024).toFixed(0)} KB as taken`, `${(median(sizes) / median(originals)).toFixed(2)}x`);
  row("choose a photo → resized, hashed and stored by the worker (median)", `${median(inApp).toFixed(0)} ms`, `${median(onPage).toFixed(0)} ms resize on the throttled page`, `${(median(inApp) / median(onPage)).toFixed(2)}x`);
  const putMs = Math.max(1, puts.last - puts.first);
  row(`upload of ${PHOTOS} photos (${(total / 1024).toFixed(0)} KB), first PUT to last answer`, `${putMs} ms, ${mbps(total, putMs)}`, `${again.toFixed(0)} ms, ${mbps(total, again)} plain PUTs of the same bytes`, `${(putMs / again).toFixed(2)}x`);
  row("reconnect → records synced and every photo uploaded", `${uploadMs} ms`, "—", "—");
  for (const r of rows) console.log(r);
  await context.close();
} finally {
  await server.stop();
  server.cleanup();
}
