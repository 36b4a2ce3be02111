// A new version of the app never reloads under a half-written form: it offers "新版本可用".
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Server, closeBrowsers, openApp, openPhone } from "./harness.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await closeBrowsers();
  await server?.stop();
  server?.cleanup();
});

/** Puts a new version on the server: the service worker's VERSION gains `suffix`. */
function deployNewVersion(suffix, change = (sw) => sw) {
  const swPath = join(server.dist, "sw.js");
  const sw = readFileSync(swPath, "utf8");
  const next = sw.replace(/const VERSION = "([^"]+)"/, `const VERSION = "$1${suffix}"`);
  assert.notEqual(next, sw);
  writeFileSync(swPath, change(next));
}

test("a new version waits for the person, then takes over and drops the old cache", async () => {
  const { context, page } = await openPhone("profile-update", server.url, { installed: true });
  const oldCaches = await page.evaluate(() => caches.keys());
  assert.equal(oldCaches.length, 1);

  // Half-way through a form when a new version is deployed.
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('textarea[name="heard"]').fill("写到一半的记录");
  deployNewVersion("-next");
  // Checked again until found, as browsers do: an update check already running when the file
  // changed (one follows every navigation) absorbs an explicit update() made meanwhile.
  const banner = page.getByText("新版本可用");
  for (let i = 0; i < 30 && !(await banner.isVisible()); i++) {
    // A check may fail while another runs; the loop tries again.
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update().catch(() => {}));
    await banner.waitFor({ timeout: 1_000 }).catch(() => {});
  }
  await banner.waitFor();
  // Nothing reloaded: the text is still there.
  assert.equal(await page.locator('textarea[name="heard"]').inputValue(), "写到一半的记录");

  const reloaded = page.waitForEvent("load");
  await page.getByRole("button", { name: "更新" }).click();
  await reloaded;
  await page.getByRole("heading", { name: "记一次走访" }).waitFor();
  await page.waitForFunction(async () => {
    const keys = await caches.keys();
    return keys.length === 1 && keys[0].endsWith("-next");
  });
  await context.close();
});

test("an app opened while a new version is still installing offers it once installed", async () => {
  const { context, page: first } = await openPhone("profile-update-installing", server.url, { installed: true });

  // A new version whose install takes a while (a big shell on a slow link).
  deployNewVersion("-slow", (sw) => {
    const slow = sw.replace("event.waitUntil(caches.open(CACHE)", "event.waitUntil(new Promise((done) => setTimeout(done, 8_000)).then(() => caches.open(CACHE))");
    assert.notEqual(slow, sw);
    return slow;
  });
  await first.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    if (!registration.installing) await registration.update().catch(() => {});
    return registration.installing !== null;
  }, null, { polling: 500, timeout: 15_000 });

  // The app opens in a second tab while that install runs: its `updatefound` is long gone, yet
  // the tab must offer the new version once it is installed.
  const second = await context.newPage();
  await openApp(second, server.url);
  assert.equal(await second.evaluate(async () => (await navigator.serviceWorker.getRegistration()).installing !== null), true);
  await second.getByText("新版本可用").waitFor({ timeout: 30_000 });

  const reloaded = second.waitForEvent("load");
  await second.getByRole("button", { name: "更新" }).click();
  await reloaded;
  await second.waitForFunction(async () => {
    const keys = await caches.keys();
    return keys.length === 1 && keys[0].endsWith("-slow");
  });
  await context.close();
});

test("a phone back in coverage checks for a new version at once", async () => {
  const { context, page } = await openPhone("profile-update-online", server.url, { installed: true });
  // Let the update check that follows every navigation finish, so only the app can check again.
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration.update().catch(() => {});
  });

  await context.setOffline(true);
  deployNewVersion("-online");
  await page.waitForTimeout(500);
  assert.equal(await page.getByText("新版本可用").isVisible(), false);

  await context.setOffline(false);
  await page.getByText("新版本可用").waitFor({ timeout: 20_000 });
  await context.close();
});
