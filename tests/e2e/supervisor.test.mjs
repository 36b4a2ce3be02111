// The supervisor's desk (/desk, desktop viewport, real server): a cadre's phone logs a visit and
// a problem offline and syncs; the county supervisor's overview shows them, stale units are
// marked, drill-down and the back button follow the URL, the record shows its history; the
// supervisor's 督办 remark reaches the phone with its next sync; without a connection the desk
// shows what it last had, marked with its time.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, launchBrowser, offlinePhone, serveForTests, waitSynced } from "./harness.mjs";

const served = serveForTests();

/** Signs the county supervisor (孙丽, `sunli`) in on the desk with the printed password. */
async function signInAsSupervisor(desk, server) {
  await desk.goto(`${server.url}/desk/`);
  await desk.getByLabel("登录名").fill("sunli");
  await desk.getByLabel("密码").fill((await server.account("sunli")).secret);
  await desk.getByRole("button", { name: "登录" }).click();
  await desk.getByTestId("who").filter({ hasText: "督查" }).waitFor();
}

test("a phone's offline work reaches the supervisor's desk, and the supervisor's 督办 reaches the phone", async () => {
  const server = served.server;
  // A cadre of 青石村, out of coverage: a visit and a problem.
  const { context: phone, page } = await offlinePhone(server.url, "张伟");
  await addVisit(page, { whom: "青石村李大娘", heard: "想办低保，不知道找谁" });
  await page.goto(`${server.url}/problems/new`);
  await page.locator('input[name="title"]').fill("村口桥栏杆松动");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").filter({ hasText: "待办" }).waitFor();
  const problemUrl = page.url();
  await phone.setOffline(false);
  await waitSynced(page);

  // The county supervisor (孙丽, 示范县) signs in on a desktop.
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const desk = await context.newPage();
  await signInAsSupervisor(desk, server);

  // The overview: 青石村's visit and problem are there; a unit no phone has synced is stale.
  const overview = desk.getByTestId("overview");
  const village = overview.locator('tr[data-unit="青石村"]');
  await village.waitFor();
  assert.equal(await village.locator('[data-col="raised"]').textContent(), "1");
  assert.equal(await village.locator('[data-col="visits"]').textContent(), "1");
  await overview.locator('tr[data-unit="柳河村"]').getByTestId("stale").waitFor();
  assert.equal(await village.getByTestId("stale").count(), 0, "青石村's phone just synced");
  const county = overview.locator('tr[data-unit="示范县"]');
  assert.equal(await county.locator('[data-col="raised"]').textContent(), "1", "the county's row sums the units below");
  await desk.getByTestId("chart-monthly").locator("rect").first().waitFor();

  // Drill down to the township: the URL keeps it; back returns to the county.
  await overview.locator('tr[data-unit="青石镇"] td').first().getByRole("link").click();
  await desk.waitForFunction(() => location.hash.includes("node="));
  await overview.locator('tr[data-unit="柳河村"]').waitFor({ state: "detached" });
  assert.ok(await village.isVisible());
  await desk.goBack();
  await overview.locator('tr[data-unit="柳河村"]').waitFor();

  // A filter is in the URL too, and the figures follow it.
  await desk.locator('select[name="category"]').selectOption("housing");
  await desk.waitForFunction(() => location.hash.includes("category=housing"));
  await desk.waitForFunction(() => document.querySelector('tr[data-unit="青石村"] [data-col="raised"]')?.textContent === "0");
  await desk.locator('select[name="category"]').selectOption("");

  // The problem across units, its record with history, and a 督办 remark.
  await desk.getByRole("button", { name: "问题清单" }).click();
  await desk.locator('tr[data-problem="村口桥栏杆松动"]').click();
  await desk.getByTestId("history").filter({ hasText: "张伟" }).waitFor();
  await desk.locator('textarea[name="remark"]').fill("请三天内加固并回复群众");
  await desk.getByRole("button", { name: "提交" }).click();
  await desk.getByRole("status").filter({ hasText: "已写入该单位台账" }).waitFor();
  await desk.getByTestId("record").filter({ hasText: "请三天内加固并回复群众" }).waitFor();

  // The phone's next sync brings it, with who wrote it.
  await page.goto(problemUrl);
  const remark = page.getByTestId("supervision");
  await remark.filter({ hasText: "请三天内加固并回复群众" }).waitFor({ timeout: 30_000 });
  assert.match(await remark.textContent(), /孙丽/);

  // Without a connection the desk reopens and shows what it last had, marked.
  await desk.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await context.setOffline(true);
  await desk.reload();
  await desk.getByTestId("offline").waitFor();
  await desk.getByTestId("record").filter({ hasText: "请三天内加固并回复群众" }).waitFor();
  await desk.getByRole("button", { name: "总览" }).click();
  await desk.getByTestId("offline").waitFor();
  await overview.locator('tr[data-unit="青石村"]').waitFor();
  await context.setOffline(false);
  await Promise.all([phone.close(), context.close()]);
});

test("the report page and the export follow the period", async () => {
  const server = served.server;
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  const desk = await context.newPage();
  await signInAsSupervisor(desk, server);
  const year = new Date().getFullYear();
  await desk.goto(`${server.url}/desk/#report?period=${year}`);
  const report = desk.getByTestId("report");
  await report.locator("h1").filter({ hasText: "示范县“科学发展当先锋”工作通报" }).waitFor();
  assert.match(await report.getByTestId("summary").textContent(), new RegExp(`^${year}年，示范县共走访`));
  // The export link carries the same period; the file is a workbook.
  const href = await desk.getByTestId("export").getAttribute("href");
  assert.equal(href, `/api/desk/export.xlsx?period=${year}`);
  const [download] = await Promise.all([desk.waitForEvent("download"), desk.getByTestId("export").click()]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  await context.close();
});
