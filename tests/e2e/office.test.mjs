// The campaign office's year in browsers: the county's 先锋办 opens a plan round on its desk; the
// village secretary's phone drafts the plan offline and submits it; the office returns it with
// a reason on one part; the secretary revises and submits again; the office approves; the
// approved tasks appear in the phone's ledger and the overdue one on the supervisor's desk.
// Then a notice read on the phone shows as opened on the office's desk, and a clean-up round is
// answered rule by rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchBrowser, launchPersistent, serveForTests, tempDir, waitLive, waitSynced } from "./harness.mjs";

const served = serveForTests();
const DAY = 86_400_000;
/** A day as the ledger counts days (China's time), `offset` days from today. */
const chinaDay = (offset = 0) => new Date(Date.now() + 8 * 3_600_000 + offset * DAY).toISOString().slice(0, 10);

async function deskAs(browser, server, login) {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  await page.goto(`${server.url}/desk/`);
  await page.getByLabel("登录名").fill(login);
  await page.getByLabel("密码").fill((await server.account(login)).secret);
  await page.getByRole("button", { name: "登录" }).click();
  return page;
}

/** The office opens the round titled `title` on its desk and shows its units. */
async function openRoundView(office, title) {
  await office.getByTestId("rounds").locator("tr", { hasText: title }).getByRole("button", { name: "查看" }).click();
  await office.getByTestId("round").filter({ hasText: title }).waitFor();
}

/** Waits until the office's desk shows `label` for the demo village 青石村 in the round
 * titled `title`, opening the round again (a fresh answer) until it does. */
async function villageState(office, title, label) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await openRoundView(office, title);
    const state = office.getByTestId("round").locator('tr[data-unit="青石村"] [data-col="state"]');
    await state.waitFor();
    const now = await state.textContent();
    if (now === label) return;
    if (Date.now() > deadline) assert.fail(`青石村 in ${title}: ${now}, not ${label}`);
    await office.waitForTimeout(500);
  }
}

test("a plan round goes from the office to an offline phone and back until approved; its tasks are followed", async () => {
  const server = served.server;
  const browser = await launchBrowser();

  // The demo office sees the open round the demo starts with, then opens one of its own.
  const office = await deskAs(browser, server, "office");
  await office.getByTestId("who").filter({ hasText: "先锋办" }).waitFor();
  await office.getByTestId("rounds").locator("tr", { hasText: "实施方案" }).first().waitFor();
  const form = office.getByTestId("new-work");
  await form.locator('input[name="title"]').fill("2027 年青石片区实施方案");
  await form.locator('input[name="deadline"]').fill(chinaDay(20));
  await form.getByRole("button", { name: "下达" }).click();
  await office.locator("p.ok").filter({ hasText: "已下达 4 个单位" }).waitFor();
  await villageState(office, "2027 年青石片区实施方案", "未报送");

  // The secretary's phone receives it with its next sync.
  // The phone keeps China's calendar, as the dates this test writes do (from 16:00 UTC on, a
  // phone on UTC still lives in China's yesterday and nothing due yesterday is overdue yet).
  const phone = await launchPersistent(tempDir("office-secretary"), { activated: false, viewport: { width: 360, height: 740 }, timezoneId: "Asia/Shanghai" });
  const page = phone.pages()[0];
  await page.goto(server.url);
  await page.locator("#activation-code").fill((await server.account("wangfang")).secret);
  await page.getByRole("button", { name: "激活" }).click();
  await waitLive(page);
  await waitSynced(page);
  await page.getByTestId("work-tab").click();
  const plan = page.getByTestId("plans").locator("a.card", { hasText: "2027 年青石片区实施方案" });
  await plan.waitFor();
  assert.match(await plan.textContent(), /起草中/);

  // Drafted and submitted out of coverage.
  await phone.setOffline(true);
  await plan.click();
  await page.getByTestId("edit-plan").click();
  const draft = page.getByTestId("plan-form");
  await draft.locator('textarea[name="goals"]').fill("全年解决群众急难愁盼问题 20 件");
  await draft.locator('textarea[name="carrier-ling_service"], textarea[name^="carrier-"]').first().fill("党员中心户联系群众");
  await draft.getByTestId("add-stage").click();
  await draft.locator('input[name="stage-text"]').fill("动员部署");
  await draft.locator('input[name="stage-from"]').fill(chinaDay(0));
  await draft.locator('input[name="stage-to"]').fill(chinaDay(10));
  await draft.locator('input[name="leader"]').fill("王芳");
  await draft.locator('input[name="liaison"]').fill("张伟");
  await draft.locator('textarea[name="requirements"]').fill("每月调度一次");
  await draft.getByTestId("add-task").click();
  await draft.getByTestId("add-task").click();
  const tasks = draft.getByTestId("task");
  await tasks.nth(0).locator('input[name="task-what"]').fill("修复村口路灯");
  await tasks.nth(0).locator('input[name="task-who"]').fill("张伟");
  // Due yesterday: overdue once approved.
  await tasks.nth(0).locator('input[name="task-due"]').fill(chinaDay(-1));
  await tasks.nth(1).locator('input[name="task-what"]').fill("建立村民议事会");
  await tasks.nth(1).locator('input[name="task-who"]').fill("刘洋");
  await tasks.nth(1).locator('input[name="task-due"]').fill(chinaDay(60));
  await page.getByRole("button", { name: "保存草稿" }).click();
  await page.getByTestId("plan").waitFor();
  await page.getByTestId("save-state").filter({ hasText: "已保存" }).waitFor();
  await page.getByTestId("submit-plan").click();
  await page.getByTestId("plan-state").filter({ hasText: "待审核" }).waitFor();
  assert.equal(await page.getByTestId("edit-plan").count(), 0, "a submitted plan is locked");
  await phone.setOffline(false);
  await waitSynced(page);

  // The office returns it with a reason on the task list.
  await villageState(office, "2027 年青石片区实施方案", "待审核");
  await office.getByTestId("round").locator('tr[data-unit="青石村"]').getByRole("button", { name: "查看方案" }).click();
  const review = office.getByTestId("plan");
  await review.getByText("修复村口路灯").waitFor();
  await review.locator("summary").click();
  await review.locator('textarea[name="on_tasks"]').fill("请写明每项任务的完成标准");
  await review.getByRole("button", { name: "退回修改" }).click();
  await office.locator("p.ok").filter({ hasText: "已退回修改" }).waitFor();
  await villageState(office, "2027 年青石片区实施方案", "已退回");

  // The phone shows why, the secretary revises and submits again.
  await page.getByTestId("returned").filter({ hasText: "请写明每项任务的完成标准" }).waitFor({ timeout: 30_000 });
  await page.getByTestId("edit-plan").click();
  await page.locator('textarea[name="goals"]').fill("全年解决群众急难愁盼问题 20 件，每件有完成标准");
  await page.getByRole("button", { name: "保存草稿" }).click();
  await page.getByTestId("plan").waitFor();
  await page.getByTestId("submit-plan").click();
  await page.getByTestId("plan-state").filter({ hasText: "待审核" }).waitFor();
  await waitSynced(page);

  // Approved: every version and opinion stays in the record.
  await villageState(office, "2027 年青石片区实施方案", "待审核");
  await office.getByTestId("round").locator('tr[data-unit="青石村"]').getByRole("button", { name: "查看方案" }).click();
  await office.getByTestId("plan").locator("p.muted", { hasText: "第 2 稿" }).waitFor();
  await office.getByTestId("plan").getByRole("button", { name: "批准" }).click();
  await office.locator("p.ok").filter({ hasText: "已批准" }).waitFor();
  await office.getByTestId("plan-history").filter({ hasText: "示范县先锋办：批准" }).waitFor();
  const history = await office.getByTestId("plan-history").textContent();
  assert.match(history, /报送第 1 稿.*退回修改.*请写明每项任务的完成标准.*报送第 2 稿.*批准/s);

  // The tasks are the unit's to follow in its ledger; the overdue one is on the supervisor's desk.
  await page.getByTestId("plan-state").filter({ hasText: "已批准" }).waitFor({ timeout: 30_000 });
  const followed = page.getByTestId("tasks").locator("li");
  assert.equal(await followed.count(), 2);
  assert.match(await page.getByTestId("tasks").locator('li[data-task="修复村口路灯"]').textContent(), /已逾期/);
  const supervisor = await deskAs(browser, server, "sunli");
  await supervisor.locator('nav.tabs button, nav.tabs a').filter({ hasText: "方案任务" }).click();
  const overdueRow = supervisor.getByTestId("tasks").locator('tr[data-task="修复村口路灯"]');
  await overdueRow.locator('[data-col="state"]').filter({ hasText: "逾期" }).waitFor();
  assert.match(await overdueRow.textContent(), /青石村.*2027 年青石片区实施方案.*张伟/);

  // Marked done on the phone: no longer overdue on the desk after sync.
  await page.getByTestId("tasks").locator('li[data-task="修复村口路灯"]').getByTestId("task-done").click();
  await page.getByTestId("tasks").locator('li[data-task="修复村口路灯"]').filter({ hasText: "已完成" }).waitFor();
  await waitSynced(page);
  await supervisor.reload();
  await supervisor.getByTestId("tasks").locator('tr[data-task="修复村口路灯"] [data-col="state"]').filter({ hasText: "已完成" }).waitFor();
  await browser.close();
  await phone.close();
});

test("a notice read on a phone shows as opened; a clean-up round is answered rule by rule", async () => {
  const server = served.server;
  const browser = await launchBrowser();
  const office = await deskAs(browser, server, "office");
  const form = office.getByTestId("new-work");
  await form.locator('select[name="kind"]').selectOption("notice");
  await form.locator('input[name="title"]').fill("关于一季度走访情况的通报");
  await form.locator('textarea[name="body"]').fill("各村（社区）：一季度共走访群众 1200 户……");
  await form.getByRole("button", { name: "下达" }).click();
  await office.locator("p.ok").filter({ hasText: "已下达" }).waitFor();
  await villageState(office, "关于一季度走访情况的通报", "未阅");
  await form.locator('select[name="kind"]').selectOption("cleanup");
  await form.locator('input[name="title"]').fill("2027 年制度清理");
  await form.locator('input[name="deadline"]').fill(chinaDay(15));
  await form.getByRole("button", { name: "下达" }).click();
  await office.locator("p.ok").filter({ hasText: "已下达" }).waitFor();

  // A cadre's phone: the notice is unread until opened; a rule is kept and one repealed.
  const phone = await launchPersistent(tempDir("office-cadre"), { activated: false, viewport: { width: 360, height: 740 } });
  const page = phone.pages()[0];
  await page.goto(server.url);
  await page.locator("#activation-code").fill((await server.account("zhangwei")).secret);
  await page.getByRole("button", { name: "激活" }).click();
  await waitLive(page);
  await waitSynced(page);
  await page.getByTestId("work-tab").locator(".badge").waitFor();
  await page.getByTestId("work-tab").click();
  const notice = page.getByTestId("notices").locator("a.card", { hasText: "关于一季度走访情况的通报" });
  assert.match(await notice.textContent(), /未读/);
  await notice.click();
  await page.getByTestId("notice").getByText("一季度共走访群众 1200 户").waitFor();
  await page.getByTestId("save-state").filter({ hasText: "已保存" }).waitFor();
  await waitSynced(page);
  await villageState(office, "关于一季度走访情况的通报", "已阅");

  await page.goto(`${server.url}/work/rules`);
  await page.getByTestId("cleanup").filter({ hasText: "已清理 0 / 0 项" }).waitFor();
  for (const name of ["村务公开制度", "村级财务管理办法"]) {
    await page.getByRole("link", { name: "＋ 新增制度" }).click();
    await page.locator('input[name="name"]').fill(name);
    await page.getByRole("button", { name: "保存" }).click();
    await page.getByTestId("rule").waitFor();
    await page.getByRole("link", { name: "‹ 制度台账" }).click();
  }
  await page.getByTestId("cleanup").filter({ hasText: "已清理 0 / 2 项" }).waitFor();
  await page.getByTestId("rules").locator("a.card", { hasText: "村务公开制度" }).click();
  await page.getByTestId("decide").getByRole("button", { name: "保留" }).click();
  await page.getByRole("button", { name: "保存清理意见" }).click();
  await page.getByTestId("decide").waitFor({ state: "detached" });
  await page.getByRole("link", { name: "‹ 制度台账" }).click();
  await page.getByTestId("rules").locator("a.card", { hasText: "村级财务管理办法" }).click();
  await page.getByTestId("decide").getByRole("button", { name: "废止" }).click();
  await page.getByRole("button", { name: "保存清理意见" }).click();
  await page.getByTestId("save-error").filter({ hasText: "请写明修订或废止的理由" }).waitFor();
  await page.locator('textarea[name="reason"]').fill("已被县级新办法取代");
  await page.getByRole("button", { name: "保存清理意见" }).click();
  await page.getByTestId("rule-status").filter({ hasText: "废止" }).waitFor();
  await page.getByRole("link", { name: "‹ 制度台账" }).click();
  await page.getByTestId("cleanup").filter({ hasText: "已清理 2 / 2 项" }).waitFor();
  await waitSynced(page);
  await villageState(office, "2027 年制度清理", "已完成");

  // A new rule in place of the one kept: the old one becomes 已修订 and names its successor.
  await page.getByRole("link", { name: "＋ 新增制度" }).click();
  await page.locator('input[name="name"]').fill("村务公开办法（2027 年修订）");
  await page.locator('select[name="replaces"]').selectOption({ label: "村务公开制度" });
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("rule").getByText("取代：《村务公开制度》").waitFor();
  await page.getByRole("link", { name: "《村务公开制度》" }).click();
  await page.getByTestId("rule-status").filter({ hasText: "已修订" }).waitFor();
  assert.match(await page.getByTestId("replaced-by").textContent(), /村务公开办法（2027 年修订）/);
  await browser.close();
  await phone.close();
});

test("a satisfaction round of the office is answered in five levels on a phone and compared unit by unit", async () => {
  const server = served.server;
  const browser = await launchBrowser();
  const office = await deskAs(browser, server, "office");
  const form = office.getByTestId("new-work");
  await form.locator('select[name="kind"]').selectOption("satisfaction");
  await form.locator('input[name="title"]').fill("一季度群众满意度测评");
  await form.locator('input[name="deadline"]').fill(chinaDay(10));
  await form.locator('textarea[name="questions"]').fill("办事效率\n服务态度");
  await form.getByRole("button", { name: "下达" }).click();
  await villageState(office, "一季度群众满意度测评", "未开展");

  const phone = await launchPersistent(tempDir("office-survey"), { activated: false, viewport: { width: 360, height: 740 } });
  const page = phone.pages()[0];
  await page.goto(server.url);
  await page.locator("#activation-code").fill((await server.account("liuyang")).secret);
  await page.getByRole("button", { name: "激活" }).click();
  await waitLive(page);
  await waitSynced(page);
  await page.goto(`${server.url}/surveys`);
  await page.locator("a.card", { hasText: "一季度群众满意度测评" }).click();
  await page.getByTestId("survey").waitFor();
  // Out of coverage, two residents' answers.
  await phone.setOffline(true);
  for (const [first, second] of [["非常满意", "基本满意"], ["不满意", "满意"]]) {
    await page.getByRole("group", { name: "办事效率" }).getByRole("button", { name: first, exact: true }).click();
    await page.getByRole("group", { name: "服务态度" }).getByRole("button", { name: second, exact: true }).click();
    await page.getByTestId("save-response").click();
    await page.getByTestId("save-response").filter({ hasText: "保存答卷" }).waitFor();
  }
  await page.getByTestId("survey-summary").filter({ hasText: "2 份答卷" }).waitFor();
  await phone.setOffline(false);
  await waitSynced(page);

  await villageState(office, "一季度群众满意度测评", "进行中");
  const row = office.getByTestId("comparison").first().locator('tr[data-unit="青石村"]');
  assert.equal((await row.locator("td").allTextContents()).join("|"), "青石村|2|1|0|0|1|0|50.0%");
  const other = office.getByTestId("comparison").first().locator('tr[data-unit="东风社区"]');
  assert.equal(await other.locator('[data-col="rate"]').textContent(), "—");
  await browser.close();
  await phone.close();
});
