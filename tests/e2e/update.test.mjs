// A new version of the app never reloads under a half-written form: it offers "新版本可用".
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Server, closeBrowsers, launchPersistent, openApp, tempDir, waitForServiceWorker } from "./harness.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await closeBrowsers();
  await server?.stop();
  server?.cleanup();
});

test("a new version waits for the person, then takes over and drops the old cache", async () => {
  const context = await launchPersistent(tempDir("profile-update"));
  const page = context.pages()[0] ?? (await context.newPage());
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  const oldCaches = await page.evaluate(() => caches.keys());
  assert.equal(oldCaches.length, 1);

  // Half-way through a form when a new version is deployed.
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('textarea[name="heard"]').fill("写到一半的记录");
  const swPath = join(server.dist, "sw.js");
  writeFileSync(swPath, readFileSync(swPath, "utf8").replace(/const VERSION = "([0-9a-f]+)"/, 'const VERSION = "$1-next"'));
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
  const context = await launchPersistent(tempDir("profile-update-installing"));
  const first = context.pages()[0] ?? (await context.newPage());
  await openApp(first, server.url);
  await waitForServiceWorker(first);

  // A new version whose install takes a while (a big shell on a slow link).
  const swPath = join(server.dist, "sw.js");
  const slow = readFileSync(swPath, "utf8")
    .replace(/const VERSION = "([^"]+)"/, 'const VERSION = "$1-slow"')
    .replace("event.waitUntil(caches.open(CACHE)", "event.waitUntil(new Promise((done) => setTimeout(done, 8_000)).then(() => caches.open(CACHE))");
  assert.notEqual(slow, readFileSync(swPath, "utf8"));
  writeFileSync(swPath, slow);
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
  const context = await launchPersistent(tempDir("profile-update-online"));
  const page = context.pages()[0] ?? (await context.newPage());
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  // Let the update check that follows every navigation finish, so only the app can check again.
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration.update().catch(() => {});
  });

  await context.setOffline(true);
  const swPath = join(server.dist, "sw.js");
  writeFileSync(swPath, readFileSync(swPath, "utf8").replace(/const VERSION = "([^"]+)"/, 'const VERSION = "$1-online"'));
  await page.waitForTimeout(500);
  assert.equal(await page.getByText("新版本可用").isVisible(), false);

  await context.setOffline(false);
  await page.getByText("新版本可用").waitFor({ timeout: 20_000 });
  await context.close();
});
