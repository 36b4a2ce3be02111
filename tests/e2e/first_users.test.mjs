// What the first users hit (issue 27), each at the viewport where it was seen: a cadre's phone
// at 360x740.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, launchPersistent, openApp, serveForTests, signIn, tempDir, waitSynced } from "./harness.mjs";

const served = serveForTests();
const PHONE = { viewport: { width: 360, height: 740 } };

test("a phone that learns it is retired takes no new record, says so across a reload, and erases only after its upload", async () => {
  const server = served.server;
  const phone = await launchPersistent(tempDir("retired-phone"), { activated: false, ...PHONE });
  const { device } = await signIn(phone, server, "陈红");
  const page = phone.pages()[0];
  await openApp(page, server.url);
  await waitSynced(page);

  // Out of coverage for sync (the socket cannot open), it records a visit; the admin retires it.
  let blocked = true;
  await phone.routeWebSocket(/\/sync/, (ws) => (blocked ? ws.close() : ws.connectToServer()));
  await page.reload();
  await openApp(page, server.url);
  await addVisit(page, { whom: "停用前记下的走访", heard: "不能丢" });
  await server.adminApi("POST", `devices/${device}/retire`);
  // It learns (from /api/me when sync fails) and from then on takes nothing new, with the reason.
  await page.reload();
  await page.getByTestId("device-notice").filter({ hasText: "此设备已被停用" }).waitFor({ timeout: 30_000 });
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill("停用后又记的走访");
  await page.locator('textarea[name="heard"]').fill("不应保存");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("save-error").filter({ hasText: "此设备已停用，不能再记录新内容" }).waitFor();
  // A reload does not forget it, though the socket is still down.
  await page.goto(server.url);
  await page.getByTestId("device-notice").filter({ hasText: "此设备已被停用" }).waitFor({ timeout: 30_000 });
  await page.getByText("停用前记下的走访").waitFor();
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill("重新打开后又记的走访");
  await page.locator('textarea[name="heard"]').fill("不应保存");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("save-error").filter({ hasText: "此设备已停用" }).waitFor();

  // Back in coverage: what it took before it learned is uploaded, then it erases, and the
  // records are no longer shown.
  blocked = false;
  await page.goto(server.url);
  await page.getByTestId("device-gone").filter({ hasText: "未上传的记录已全部上传" }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByText("停用前记下的走访").count(), 0, "an erased phone still lists records");
  // A colleague in the unit (张伟, 青石村) has what it took before it learned, and nothing after.
  const colleague = await launchPersistent(tempDir("retired-colleague"), PHONE);
  const c = colleague.pages()[0];
  await openApp(c, server.url);
  await c.getByText("停用前记下的走访").waitFor({ timeout: 30_000 });
  await waitSynced(c);
  assert.equal(await c.getByText("又记的走访").count(), 0, "a visit written after it learned reached the unit");
  await colleague.close();
  // After a reload it still says why, above the activation form.
  await page.reload();
  await page.getByRole("heading", { name: "激活本机" }).waitFor();
  await page.getByTestId("device-gone").filter({ hasText: "此设备已停用" }).waitFor();
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
  await phone.close();
});
