// Photos and places (照片、位置), as cadres use them: a photo taken offline with the place
// recorded, resized and stripped of its EXIF on the phone; its upload cut and resumed; a second
// phone of the unit sees 照片待上传 (never a broken image) until it arrives, then the photo; the
// county supervisor's desk shows it; a cadre of another unit gets 404; taking it off the record
// takes it away everywhere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Server, launchBrowser, offlinePhone, openPhone, serveForTests, setName, waitSynced } from "./harness.mjs";

const served = serveForTests();

/** A camera's JPEG (3000 × 2000) with an EXIF block naming a place the phone must not pass on. */
async function cameraJpeg(page) {
  const base64 = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(3000, 2000);
    const g = canvas.getContext("2d");
    const gradient = g.createLinearGradient(0, 0, 3000, 2000);
    gradient.addColorStop(0, "#2a6");
    gradient.addColorStop(1, "#c82");
    g.fillStyle = gradient;
    g.fillRect(0, 0, 3000, 2000);
    g.fillStyle = "#fff";
    g.font = "200px sans-serif";
    g.fillText("水渠堵塞", 600, 1100);
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.95 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
  });
  const jpeg = Buffer.from(base64, "base64");
  const exif = Buffer.concat([Buffer.from("Exif\0\0MM\0*\0\0\0\x08", "latin1"), Buffer.from("GPS-SECRET-PLACE device=SECRET-PHONE".padEnd(64, " "), "latin1")]);
  const segment = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]), exif]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** A JPEG's width and height, from its frame header. */
function jpegSize(bytes) {
  let i = 2;
  while (i < bytes.length) {
    const marker = bytes[i + 1];
    const length = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    i += 2 + length;
  }
  return null;
}

async function photoAs(server, name, hash) {
  const token = await server.tokenFor(name, `photo check ${name}`);
  const r = await fetch(`${server.url}/api/photos/${hash}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, type: r.headers.get("content-type"), bytes: Buffer.from(await r.arrayBuffer()) };
}

/** The photos shown in `scope` have loaded (no broken image): their natural widths. */
async function loadedWidths(scope) {
  const images = scope.locator("img");
  await images.first().waitFor();
  await scope.page().waitForFunction((el) => [...el.querySelectorAll("img")].every((i) => i.complete && i.naturalWidth > 0), await scope.elementHandle());
  return images.evaluateAll((all) => all.map((i) => i.naturalWidth));
}

test("a photo taken offline reaches the unit's other phone and the desk after an upload cut and resumed; other units get 404; removing it removes it", async () => {
  const server = served.server;
  const { context: phoneA, page } = await offlinePhone(server.url, "张伟", { permissions: ["geolocation"], geolocation: { latitude: 30.274151, longitude: 120.155151, accuracy: 12 } });

  // Offline: a problem with a photo from the gallery and the place, on one tap each.
  await page.goto(`${server.url}/problems/new`);
  await page.locator('input[name="title"]').fill("水渠堵塞，农田积水");
  await page.getByTestId("photo-gallery").setInputFiles({ name: "IMG_0001.jpg", mimeType: "image/jpeg", buffer: await cameraJpeg(page) });
  const field = page.getByTestId("media-field");
  assert.deepEqual(await loadedWidths(field.locator(".photo-grid")), [1600], "resized to 1,600 px on its longest side, shown from the phone");
  assert.equal(await field.getByTestId("location").count(), 0, "no place without the tap");
  await page.getByTestId("locate").click();
  await field.getByTestId("location").filter({ hasText: "北纬 30.27415°，东经 120.15515°（精度约 12 米）" }).waitFor();
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").waitFor();
  const problemUrl = page.url();
  const strip = page.getByTestId("photos");
  await loadedWidths(strip);
  await strip.getByText("待上传").waitFor();
  await page.getByTestId("sync-state").filter({ hasText: "1 张照片待上传" }).waitFor();
  const hash = (await strip.locator("img").getAttribute("src")).split("/").pop();
  assert.match(hash, /^[0-9a-f]{64}$/);

  // Back in coverage, but every upload is cut: the record syncs, the photo waits.
  let cut = 0;
  await phoneA.route("**/api/photos/**", (route) => {
    if (route.request().method() !== "PUT") return route.continue();
    cut += 1;
    return route.abort("connectionreset");
  });
  await phoneA.setOffline(false);
  await waitSynced(page);
  for (let i = 0; i < 100 && cut === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(cut > 0, "the worker tried to upload once the record had synced");
  await page.getByTestId("sync-state").filter({ hasText: "1 张照片待上传" }).waitFor();

  // The unit's other phone has the record: the photo says it is on its way, not a broken image.
  const { page: phoneB } = await openPhone("photos-b", server.url, { installed: true });
  await setName(phoneB, "刘洋");
  await phoneB.goto(problemUrl);
  const seenByB = phoneB.getByTestId("photos");
  assert.deepEqual(await loadedWidths(seenByB), [320], "the picture that says 照片待上传");
  const pending = await phoneB.evaluate(async (h) => {
    const r = await fetch(`/api/photos/${h}`);
    return { type: r.headers.get("content-type"), status: r.headers.get("x-photo-status"), text: await r.text() };
  }, hash);
  assert.equal(pending.type, "image/svg+xml");
  assert.equal(pending.status, "404");
  assert.match(pending.text, /照片待上传/);

  // The connection is whole again: the next reconnect sends the photo, once, whole.
  await phoneA.unroute("**/api/photos/**");
  await phoneA.setOffline(true);
  await phoneA.setOffline(false);
  await page.waitForFunction(() => !/照片待上传/.test(document.querySelector('[data-testid="sync-state"]')?.textContent ?? ""), null, { timeout: 60_000 });
  const stored = await photoAs(server, "刘洋", hash);
  assert.equal(stored.status, 200);
  assert.equal(stored.type, "image/jpeg");
  assert.deepEqual(jpegSize(stored.bytes), { width: 1600, height: 1067 });
  assert.ok(stored.bytes.length < 1024 * 1024, `${stored.bytes.length} bytes`);
  assert.ok(!stored.bytes.includes("SECRET") && !stored.bytes.includes("Exif"), "the place and device in the EXIF never left the phone");
  await phoneB.reload();
  assert.deepEqual(await loadedWidths(phoneB.getByTestId("photos")), [1600]);

  // Another unit's cadre: as for a photo that does not exist.
  assert.equal((await photoAs(server, "陈杰", hash)).status, 404);

  // The county supervisor's desk: the photo and the place on the problem's record.
  const deskContext = await (await launchBrowser()).newContext({ viewport: { width: 1366, height: 900 } });
  const deskPage = await deskContext.newPage();
  await deskPage.goto(`${server.url}/desk/`);
  await deskPage.getByLabel("登录名").fill("sunli");
  await deskPage.getByLabel("密码").fill((await server.account("sunli")).secret);
  await deskPage.getByRole("button", { name: "登录" }).click();
  await deskPage.getByRole("button", { name: "问题清单" }).click();
  await deskPage.locator('tr[data-problem="水渠堵塞，农田积水"]').click();
  const record = deskPage.getByTestId("record");
  assert.deepEqual(await loadedWidths(record.getByTestId("photos")), [1600]);
  assert.match(await record.getByTestId("location").textContent(), /北纬 30\.27415°/);
  // The printed 通报 of the year, with the site photos asked for.
  await deskPage.goto(`${server.url}/desk/#report?period=${new Date().getFullYear()}`);
  await deskPage.getByTestId("report").locator("h1").waitFor();
  await deskPage.getByTestId("with-photos").check();
  const site = deskPage.getByTestId("site-photos");
  await site.locator("figcaption").filter({ hasText: "水渠堵塞，农田积水" }).waitFor();
  assert.deepEqual(await loadedWidths(site), [1600]);

  // Taken off the record on phone A: gone from phone B and from the server's answers.
  await page.goto(`${problemUrl}/edit`);
  await page.getByRole("button", { name: "删除这张照片" }).click();
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").waitFor();
  assert.equal(await page.getByTestId("photos").count(), 0);
  await waitSynced(page);
  await phoneB.goto(problemUrl);
  await phoneB.getByTestId("problem-status").waitFor();
  await phoneB.waitForFunction(() => !document.querySelector('[data-testid="photos"]'), null, { timeout: 30_000 });
  assert.equal((await photoAs(server, "刘洋", hash)).status, 404);
});

test("a photo the server refuses (the unit's space is full) waits on the phone, which says why in the server's words", async () => {
  const full = await Server.start({ args: ["--photo-quota-mb", "0"] });
  try {
    const { context, page } = await openPhone("photos-full", full.url);
    await page.goto(`${full.url}/problems/new`);
    await page.locator('input[name="title"]').fill("桥面开裂");
    await page.getByTestId("photo-gallery").setInputFiles({ name: "IMG_0002.jpg", mimeType: "image/jpeg", buffer: await cameraJpeg(page) });
    await page.getByTestId("media-field").locator(".photo-grid img").waitFor();
    await page.getByRole("button", { name: "保存" }).click();
    await page.getByTestId("problem-status").waitFor();
    // The record syncs; its photo is refused with a reason the person can act on, and waits.
    await page.getByTestId("photo-problem").filter({ hasText: "照片暂停上传：本单位的照片空间已满（已用 0 MB，上限 0 MB），请联系管理员" }).waitFor({ timeout: 30_000 });
    await page.getByTestId("sync-state").filter({ hasText: "1 张照片待上传" }).waitFor();
    const hash = (await page.getByTestId("photos").locator("img").getAttribute("src")).split("/").pop();
    assert.equal((await photoAs(full, "张伟", hash)).status, 404, "nothing of it was stored");
    await context.close();
  } finally {
    await full.stop();
    full.cleanup();
    Server.current = served.server;
  }
});
