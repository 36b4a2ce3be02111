// 先锋广场 end to end: the secretary sets up a post on the phone and publishes it; a resident
// with no account, on a small phone with scripts off, reads the board, gives a 差评 and leaves
// a question; the secretary's phone, offline meanwhile, receives both once back online and
// answers the case; the resident reads the answer and rates it once, and only once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, launchBrowser, launchPersistent, serveForTests, tempDir, waitLive, waitSynced } from "./harness.mjs";

const served = serveForTests();
const DAY = 86_400_000;

/** `n` working days after `from` (a "YYYY-MM-DD"), Monday to Friday less `holidays`. */
function workingDaysAfter(from, n, holidays = []) {
  let d = new Date(`${from}T00:00:00Z`);
  while (n > 0) {
    d = new Date(d.getTime() + DAY);
    const iso = d.toISOString().slice(0, 10);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !holidays.includes(iso)) n--;
  }
  return d.toISOString().slice(0, 10);
}

/** Today as the ledger counts days (China's time). */
const chinaToday = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

test("a resident's 差评 and question reach the secretary's phone, which answers; the resident rates the answer once", async () => {
  const server = served.server;
  const browser = await launchBrowser();

  // The top admin declares the next working day a holiday under 设置 (a weekend day is refused
  // with why); the desk reads the days back as it stored them. Phones learn it from /api/me.
  const holiday = workingDaysAfter(chinaToday(), 1);
  const due = workingDaysAfter(chinaToday(), 1, [holiday]);
  const weekend = [1, 2, 3, 4, 5, 6, 7].map((n) => new Date(Date.parse(`${chinaToday()}T00:00:00Z`) + n * DAY)).find((d) => d.getUTCDay() === 6).toISOString().slice(0, 10);
  const admin = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  await admin.goto(`${server.url}/desk/#settings`);
  await admin.getByLabel("登录名").fill("admin");
  await admin.getByLabel("密码").fill((await server.account("admin")).secret);
  await admin.getByRole("button", { name: "登录" }).click();
  const holidays = admin.locator('textarea[name="holidays"]');
  await holidays.fill(weekend);
  await admin.getByRole("button", { name: "保存" }).click();
  await admin.locator("p.error").filter({ hasText: "是周末" }).waitFor();
  await holidays.fill(`${holiday}至${holiday}`);
  await admin.getByRole("button", { name: "保存" }).click();
  await admin.locator("p.ok").filter({ hasText: "已保存" }).waitFor();
  assert.equal(await holidays.inputValue(), holiday);

  // Activated with a code, as a phone: it gets its key for one-time rating codes.
  const phone = await launchPersistent(tempDir("board-secretary"), { activated: false, viewport: { width: 360, height: 740 } });
  const page = phone.pages()[0];
  await page.goto(server.url);
  const { secret } = await server.account("wangfang");
  await page.locator("#activation-code").fill(secret);
  await page.getByRole("button", { name: "激活" }).click();
  await waitLive(page);

  // 设岗定责 on the phone, then published.
  await page.getByTestId("board-tab").click();
  await page.getByTestId("board").waitFor();
  await page.getByRole("link", { name: "＋ 设岗定责" }).click();
  await page.locator("input[name=title]").fill("村务公开栏");
  await page.locator("input[name=holder]").fill("王芳");
  await page.locator("textarea[name=duties]").fill("每月更新村务、财务公开内容");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("post").waitFor();
  assert.equal(await page.getByTestId("published").textContent(), "未在先锋广场公开");
  // Double-tapped, it publishes once (a second toggle would take it off again).
  await page.getByTestId("publish").dblclick();
  await page.getByTestId("published").filter({ hasText: "已在先锋广场公开" }).waitFor();
  await page.waitForTimeout(1_500);
  assert.equal(await page.getByTestId("published").textContent(), "已在先锋广场公开");
  await page.getByTestId("poster").waitFor();
  await waitSynced(page);

  // The phone goes out of coverage; the resident comes.
  await phone.setOffline(true);
  const [ledger] = await server.ledgersOf("王芳");
  assert.match(ledger.boardUrl, /^http:\/\/127\.0\.0\.1:\d+\/b\/\S+$/);
  const resident = await browser.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: false, locale: "zh-CN" });
  const r = await resident.newPage();
  const board = await r.goto(ledger.boardUrl);
  assert.equal(board.status(), 200);
  await r.getByText("村务公开栏").waitFor();
  await r.getByRole("link", { name: "评价这个岗位" }).click();
  // Nothing chosen: asked again, nothing stored.
  await r.getByRole("button", { name: "提交评价" }).click();
  await r.getByLabel("非常不满意").check();
  await r.locator("#comment").fill("公开栏三个月没更新");
  await r.locator("#phone").fill("138 0013 8000");
  await r.getByRole("button", { name: "提交评价" }).click();
  await r.getByText("已收到您的评价，谢谢！").waitFor();
  const caseLink = new URL(await r.getByRole("link", { name: "查看办理情况" }).getAttribute("href"), ledger.boardUrl).href;
  await r.getByRole("link", { name: "返回单位公示" }).click();
  // The 差评 is public at once, anonymised, with the day the unit must acknowledge it by.
  await r.getByText(`应于 ${due} 前签收`).waitFor();
  assert.equal(await r.getByText("138 0013 8000").count(), 0);
  await r.getByRole("link", { name: /我要留言/ }).click();
  await r.locator("#title").fill("村口路灯不亮");
  await r.locator("#detail").fill("晚上出行不便");
  await r.getByRole("button", { name: "提交留言" }).click();
  await r.getByText("已收到您的留言，谢谢！").waitFor();
  // The resident's page carried no script and no WebAssembly.
  assert.equal(await r.locator("script").count(), 0);

  // Back in coverage: the case and the question arrive.
  await phone.setOffline(false);
  await page.getByTestId("board-tab").locator(".badge").filter({ hasText: "1" }).waitFor({ timeout: 30_000 });
  await page.getByTestId("board-tab").click();
  const cases = page.getByTestId("cases").locator("a.card");
  await cases.first().waitFor();
  assert.equal(await cases.count(), 1);
  assert.match(await cases.first().textContent(), /待签收.*非常不满意.*村务公开栏.*公开栏三个月没更新/);
  // The phone counts the deadline by the organisation's calendar, as the board does.
  assert.match(await cases.first().textContent(), new RegExp(`${due} 前`));
  assert.equal(await page.getByText("138").count(), 0, "the resident's phone number is not in the ledger");
  await cases.first().click();
  // The number for a call back, only from the server and only for the secretary.
  await page.getByRole("button", { name: "查看回访电话" }).click();
  await page.getByTestId("contact").filter({ hasText: "回访电话：13800138000" }).waitFor();
  // 签收 double-tapped: one step, and the second tap takes none of the steps that follow it.
  await page.getByTestId("case-acknowledge").dblclick();
  await page.getByTestId("case-state").filter({ hasText: "待答复" }).waitFor();
  await page.waitForTimeout(1_500);
  assert.equal(await page.getByTestId("case-steps").locator("li").count(), 1);
  assert.equal(await page.getByTestId("step-error").count(), 0);
  // 整改 without words is refused and nothing is taken.
  await page.getByTestId("case-rectify").click();
  await page.getByTestId("step-error").waitFor();
  await page.locator("textarea[name=case-note]").fill("已更新公开栏，今后每月 5 日前更新");
  await page.getByTestId("case-rectify").click();
  await page.getByTestId("case-state").filter({ hasText: "已答复" }).waitFor();
  await waitSynced(page);
  await page.getByRole("link", { name: "问题" }).click();
  await page.getByText("村口路灯不亮").waitFor();

  // The resident reads the answer and rates it, once.
  await r.goto(caseLink);
  await r.getByText("已更新公开栏，今后每月 5 日前更新").waitFor();
  await r.getByLabel("满意", { exact: true }).check();
  await r.getByRole("button", { name: "提交" }).click();
  await r.getByText("您对答复的评价：满意").waitFor();
  const again = await resident.request.post(caseLink, { form: { verdict: "very_satisfied" }, maxRedirects: 0 });
  assert.equal(again.status(), 409);
  await r.reload();
  await r.getByText("您对答复的评价：满意").waitFor();

  // 一事一评: at the end of a visit, offline, the phone shows a code; the resident rates the
  // visit once with it; again, or with the code changed, nothing is taken.
  await phone.setOffline(true);
  await page.getByRole("link", { name: "走访" }).click();
  await addVisit(page, { whom: "李大爷", heard: "想了解医保报销" });
  await page.getByText("李大爷").first().click();
  await page.getByTestId("once-code").click();
  const once = await page.getByTestId("once-qr").getAttribute("data-link");
  assert.match(once, /^http:\/\/127\.0\.0\.1:\d+\/r\/\S+$/);
  await page.getByTestId("once-qr").locator("svg").waitFor();
  await page.getByRole("button", { name: "完成" }).click();
  await r.goto(once);
  await r.getByText("本次走访").waitFor();
  await r.getByLabel("非常满意").check();
  await r.getByRole("button", { name: "提交评价" }).click();
  await r.getByText("已收到您的评价，谢谢！").waitFor();
  const replay = await r.goto(once);
  assert.equal(replay.status(), 409);
  await r.getByText("已经评价过了").waitFor();
  const forged = once.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
  assert.equal((await r.goto(forged)).status(), 404);
  await r.getByText("这个评价码无效").waitFor();
  await phone.setOffline(false);
  await waitSynced(page);

  // The phone hears of the recheck too; nothing is left to do.
  await page.getByTestId("board-tab").click();
  await page.getByText("没有待处理的差评。").waitFor();
  assert.equal(await page.getByTestId("cases").locator("a.card").count(), 0);
  await page.getByTestId("posts").getByText("村务公开栏").click();
  await page.getByTestId("ratings").getByRole("link", { name: "非常不满意" }).click();
  await page.getByTestId("case-state").filter({ hasText: "群众回评：满意" }).waitFor({ timeout: 30_000 });

  // The county supervisor's desk counts both ratings and lists the 差评 with its answer.
  const desk = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  await desk.goto(`${server.url}/desk/`);
  await desk.getByLabel("登录名").fill("sunli");
  await desk.getByLabel("密码").fill((await server.account("sunli")).secret);
  await desk.getByRole("button", { name: "登录" }).click();
  await desk.getByTestId("who").filter({ hasText: "督查" }).waitFor();
  const village = desk.locator('tr[data-unit="青石村"]');
  await village.locator('[data-col="ratings"]').filter({ hasText: "（2 条）" }).waitFor();
  await desk.locator('button[data-tab="cases"]').click();
  const row = desk.getByTestId("cases").locator("tbody tr");
  // The list arrives after the tab is shown: counted once it has.
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /青石村.*村务公开栏.*非常不满意.*公开栏三个月没更新.*已答复.*整改：已更新公开栏.*满意/);

  // 设岗定责: the post the secretary set up, rated twice, opens with the same poster the phone prints.
  await desk.locator('button[data-tab="posts"]').click();
  const post = desk.getByTestId("posts").locator('tr[data-post="村务公开栏"]');
  await post.waitFor();
  assert.equal(await desk.locator("form.filters").count(), 0, "no period applies to posts");
  assert.match(await post.textContent(), /青石村.*村务公开栏.*已公开.*0 \/ 1 满意/);
  await post.click();
  const poster = await desk.getByTestId("poster").getAttribute("href");
  assert.match(poster, /^\/b\/[^/]+\/poster\/post\/[^/]+$/);
  const printed = await desk.request.get(`${server.url}${poster}`);
  assert.equal(printed.status(), 200);
  assert.match(await printed.text(), /村务公开栏/);
});
