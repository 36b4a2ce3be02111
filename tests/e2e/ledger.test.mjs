// The unit ledger beyond visits, in the real app on the real server, mostly offline: a problem
// raised at a visit and walked through every state, a survey round, a pledge with its
// evaluation, an enterprise with a checked credit code, and a conflict between two phones.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Server, closeBrowsers, launchPersistent, offlinePhone as harnessOfflinePhone, openApp, setName, tempDir, waitForServiceWorker } from "./harness.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await closeBrowsers();
  await server?.stop();
  server?.cleanup();
});

const offlinePhone = (name) => harnessOfflinePhone(server.url, name);

const status = (page) => page.getByTestId("problem-status");

async function step(page, action, { note, rating } = {}) {
  await page.locator(`button[data-action="${action}"]`).click();
  if (rating) await page.getByRole("group", { name: "群众满意度" }).getByRole("button", { name: rating, exact: true }).click();
  if (note !== undefined) {
    await page.locator('textarea[name="step-note"]').fill(note);
    await page.getByTestId("confirm-step").click();
  }
}

test("a visit raises a problem that moves through every state, offline", async () => {
  const { context, page } = await offlinePhone("张三");
  // One form: the visit and the problem found on it.
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill("张大爷家");
  await page.locator('textarea[name="heard"]').fill("反映村口路灯坏了两盏");
  await page.locator('input[name="has_problem"]').check();
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("请填写问题标题").waitFor();
  await page.locator('input[name="problem_title"]').fill("村口路灯不亮");
  await page.locator('select[name="problem_category"]').selectOption({ label: "基础设施" });
  await page.getByRole("button", { name: "保存" }).click();
  await status(page).filter({ hasText: "待办" }).waitFor();
  await page.getByText("来源走访：张大爷家").waitFor();

  await step(page, "start");
  await status(page).filter({ hasText: "办理中" }).waitFor();
  await page.locator('textarea[name="progress"]').fill("已联系电工");
  await page.getByRole("button", { name: "记录进展" }).click();
  await page.getByTestId("log").getByText("已联系电工").waitFor();

  // A step without what it requires is refused with a message, and nothing changes.
  await step(page, "resolve", { note: "" });
  await page.getByTestId("step-error").filter({ hasText: "请写明办理结果" }).waitFor();
  assert.equal((await status(page).textContent()).trim(), "办理中");
  await page.locator('textarea[name="step-note"]').fill("已更换灯泡");
  await page.getByTestId("confirm-step").click();
  await status(page).filter({ hasText: "已办结" }).waitFor();

  // The follow-up: 不满意 reopens the problem.
  await step(page, "follow_up", { rating: "不满意", note: "" });
  await page.getByTestId("step-error").filter({ hasText: "不满意的原因" }).waitFor();
  await page.locator('textarea[name="step-note"]').fill("晚上还是不亮");
  await page.getByTestId("confirm-step").click();
  await status(page).filter({ hasText: "办理中" }).waitFor();
  await step(page, "resolve", { note: "更换了线路" });
  await status(page).filter({ hasText: "已办结" }).waitFor();
  await step(page, "follow_up", { rating: "满意", note: "" });
  await status(page).filter({ hasText: "已回访" }).waitFor();
  assert.equal(await page.locator("button[data-action]").count(), 0, "no step is left after 已回访");

  // Still there after closing the page, with its log and history.
  const url = page.url();
  await page.close();
  const again = await context.newPage();
  await again.goto(url);
  await status(again).filter({ hasText: "已回访" }).waitFor();
  const log = await again.getByTestId("log").textContent();
  for (const line of ["登记问题", "已联系电工", "待办 → 办理中", "已办结 → 办理中：不满意：晚上还是不亮", "已办结 → 已回访"]) {
    assert.ok(log.includes(line), `${line} missing from ${log}`);
  }
  await again.getByText("修改记录").click();
  await again.getByTestId("history").getByText("开始办理：待办 → 办理中").waitFor();
  assert.match(await again.getByTestId("history").textContent(), /张三/);
  await again.getByText("来源走访：张大爷家").click();
  await again.getByTestId("linked-problems").getByText("村口路灯不亮").waitFor();
  await again.goto(`${server.url}/problems`);
  // One follow-up was 不满意 (it reopened the problem), the last one 满意.
  // The list may first show the cached view of a moment ago; it must come to this.
  await again.getByTestId("problem-summary").filter({ hasText: /^已回访 1 · 回访满意率 100\.0%$/ }).waitFor();
  await again.getByRole("button", { name: "已回访" }).click();
  await again.getByText("村口路灯不亮").waitFor();
  await context.close();
});

test("a survey round is opened and answered offline, and counted per question", async () => {
  const { context, page } = await offlinePhone("王五");
  await page.getByRole("link", { name: "测评" }).click();
  await page.getByRole("link", { name: "＋ 开启测评" }).click();
  await page.locator('textarea[name="questions"]').fill("办事效率\n服务态度");
  await page.getByRole("button", { name: "开启测评" }).click();
  await page.getByText("请填写测评名称").waitFor();
  await page.locator('input[name="title"]').fill("四季度满意度测评");
  await page.getByRole("button", { name: "开启测评" }).click();
  await page.getByTestId("survey-summary").filter({ hasText: "0 份答卷" }).waitFor();

  const answer = async (efficiency, attitude) => {
    if (efficiency) await page.getByRole("group", { name: "办事效率" }).getByRole("button", { name: efficiency, exact: true }).click();
    if (attitude) await page.getByRole("group", { name: "服务态度" }).getByRole("button", { name: attitude, exact: true }).click();
    await page.getByRole("button", { name: "保存答卷" }).click();
  };
  await page.getByRole("button", { name: "保存答卷" }).click();
  await page.getByText("请至少回答一个问题").waitFor();
  await answer("满意", "不满意");
  await page.getByTestId("survey-summary").filter({ hasText: "1 份答卷" }).waitFor();
  await answer("基本满意", null);
  await answer("满意", "满意");
  await page.getByTestId("survey-summary").filter({ hasText: "3 份答卷 · 总满意率 80.0%" }).waitFor();
  const rows = await page.getByTestId("survey-results").locator("tbody tr").allTextContents();
  assert.deepEqual(rows, ["办事效率210100.0%", "服务态度10150.0%"]);

  await page.getByRole("button", { name: "结束本轮测评" }).click();
  await page.getByRole("button", { name: "重新开启" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "保存答卷" }).count(), 0);
  await page.reload();
  await page.getByTestId("survey-summary").filter({ hasText: "3 份答卷" }).waitFor();
  await context.close();
});

test("a pledge is published, followed and evaluated; bad input is refused", async () => {
  const { context, page } = await offlinePhone("李四");
  await page.getByRole("link", { name: "承诺" }).click();
  await page.getByRole("link", { name: "＋ 发布承诺" }).click();
  await page.locator('textarea[name="content"]').fill("每周三下午在村委会接待群众");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("请至少选择一项").waitFor();
  await page.getByText("请填写承诺兑现的期限").waitFor();
  await page.getByRole("button", { name: "争当服务群众先锋" }).click();
  await page.locator('input[name="due"]').fill("2026-12-31");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("pledge-state").filter({ hasText: "践诺中" }).waitFor();

  await page.locator('textarea[name="progress"]').fill("本周接待群众 12 人次");
  await page.getByRole("button", { name: "记录进展" }).click();
  await page.getByTestId("log").getByText("本周接待群众 12 人次").waitFor();

  await page.getByText("录入评议").click();
  await page.getByRole("group", { name: "评议人" }).getByRole("button", { name: "群众" }).click();
  await page.getByRole("group", { name: "评价" }).getByRole("button", { name: "不满意", exact: true }).click();
  await page.getByRole("button", { name: "提交评议" }).click();
  await page.getByText("评为不满意时，请写下意见").waitFor();
  assert.equal(await page.getByTestId("evaluations").locator("li").count(), 0);
  await page.getByRole("group", { name: "评价" }).getByRole("button", { name: "满意", exact: true }).click();
  await page.locator('textarea[name="comment"]').fill("接待很耐心");
  await page.getByRole("button", { name: "提交评议" }).click();
  await page.getByTestId("evaluations").getByText("接待很耐心").waitFor();
  await page.getByRole("button", { name: "标记已兑现" }).click();
  await page.getByTestId("pledge-state").filter({ hasText: "已兑现" }).waitFor();
  await page.reload();
  await page.getByTestId("evaluations").getByText("接待很耐心").waitFor();
  // Deleted, then undone from the toast.
  await page.getByRole("button", { name: "删除" }).click();
  await page.getByText("还没有服务承诺。").waitFor();
  await page.getByRole("status").filter({ hasText: "已删除一条承诺记录" }).getByRole("button", { name: "撤销" }).click();
  await page.getByText("每周三下午在村委会接待群众").waitFor();
  await context.close();
});

test("an enterprise's credit code is checked, and its difficulty becomes a linked problem", async () => {
  const { context, page } = await offlinePhone("赵六");
  await page.getByRole("link", { name: "企业" }).click();
  await page.getByRole("link", { name: "＋ 添加企业" }).click();
  await page.locator('input[name="name"]').fill("闽兴机械有限公司");
  await page.locator('input[name="credit_code"]').fill("91350100M000100Y42");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("校验位不符：最后一位应为“3”").waitFor();
  await page.locator('input[name="credit_code"]').fill("91350100M000100Y4");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("应为 18 位，现有 17 位").waitFor();
  await page.goto(`${server.url}/enterprises`);
  await page.getByText("还没有服务企业").waitFor();

  await page.getByRole("link", { name: "＋ 添加企业" }).click();
  await page.locator('input[name="name"]').fill("闽兴机械有限公司");
  await page.locator('input[name="credit_code"]').fill("91350100m000100y43");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("91350100M000100Y43").waitFor();
  await page.getByRole("link", { name: "登记企业困难" }).click();
  await page.locator('input[name="title"]').fill("缺熟练工三十人");
  await page.getByRole("group", { name: "困难类型" }).getByRole("button", { name: "用工" }).click();
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("企业困难：用工").waitFor();
  await page.locator('textarea[name="progress"]').fill("对接人社局专场招聘会");
  await page.getByRole("button", { name: "记录帮扶措施" }).click();
  await page.getByTestId("log").getByText("对接人社局专场招聘会").waitFor();
  await page.locator('button[data-action="resolve"]').click();
  await page.locator('textarea[name="step-note"]').fill("招到熟练工二十五人");
  await page.getByTestId("confirm-step").click();
  await page.getByText("帮扶成效").waitFor();
  await page.getByRole("link", { name: "企业：闽兴机械有限公司" }).click();
  await page.getByTestId("enterprise").getByText("缺熟练工三十人").waitFor();
  // A visit to the firm, started from its page: kind and firm are filled in already.
  // Records a visit from the firm's page, opens it from the list, and goes back to the firm.
  const firmVisit = async (date, heard, firmFilledIn = () => {}) => {
    await page.getByRole("link", { name: "记企业走访" }).click();
    await firmFilledIn();
    await page.locator('input[name="date"]').fill(date);
    await page.locator('textarea[name="heard"]').fill(heard);
    await page.getByRole("button", { name: "保存" }).click();
    await page.getByTestId("visit-count").waitFor();
    await page.getByText(heard).click();
    await page.getByRole("link", { name: "企业：闽兴机械有限公司" }).click();
    await page.getByTestId("enterprise").getByText(heard).waitFor();
  };
  await firmVisit("2026-11-20", "了解用工缺口和招聘进展", async () => {
    assert.equal(await page.locator('input[name="whom"]').inputValue(), "闽兴机械有限公司");
    assert.equal(await page.locator('select[name="enterprise"]').locator("option:checked").textContent(), "闽兴机械有限公司");
  });
  // A later visit, saved after: the firm's 走访记录 lists it first, newest first as the visit list.
  await firmVisit("2026-12-01", "回访招聘会后的到岗情况");
  const firmVisits = page.getByTestId("enterprise").locator("ul.plain li");
  await firmVisits.nth(1).waitFor();
  assert.deepEqual((await firmVisits.allTextContents()).map((t) => t.slice(0, 10)), ["2026-12-01", "2026-11-20"]);
  // From the plain visit form: choosing the firm fills 走访对象; a name typed by hand stays.
  await page.goto(`${server.url}/visits/new`);
  await page.locator('select[name="kind"]').selectOption({ label: "企业走访" });
  await page.locator('select[name="enterprise"]').selectOption({ label: "闽兴机械有限公司" });
  assert.equal(await page.locator('input[name="whom"]').inputValue(), "闽兴机械有限公司");
  await page.locator('select[name="enterprise"]').selectOption({ label: "（不在服务企业名单中）" });
  await page.locator('input[name="whom"]').fill("闽兴机械 王经理");
  await page.locator('select[name="enterprise"]').selectOption({ label: "闽兴机械有限公司" });
  assert.equal(await page.locator('input[name="whom"]').inputValue(), "闽兴机械 王经理");
  await context.close();
});

test("two phones set one problem's field differently offline: both values shown until one is chosen", async () => {
  const phoneA = await launchPersistent(tempDir("phone-a"));
  const a = phoneA.pages()[0];
  await openApp(a, `${server.url}`);
  await waitForServiceWorker(a);
  await a.goto(`${server.url}/problems/new`);
  await a.locator('input[name="title"]').fill("排水沟堵塞");
  await a.getByRole("button", { name: "保存" }).click();
  await status(a).waitFor();
  const problemUrl = a.url();
  await a.getByTestId("sync-state").filter({ hasText: "已同步" }).waitFor({ timeout: 30_000 });

  const phoneB = await launchPersistent(tempDir("phone-b"));
  const b = phoneB.pages()[0];
  await openApp(b, server.url);
  await waitForServiceWorker(b);
  await b.goto(problemUrl);
  await status(b).waitFor({ timeout: 30_000 });
  await setName(a, "甲");
  await setName(b, "乙");

  await phoneA.setOffline(true);
  await phoneB.setOffline(true);
  for (const [page, who] of [[a, "王电工"], [b, "赵主任"]]) {
    await page.getByRole("link", { name: "编辑" }).click();
    await page.locator('input[name="responsible"]').fill(who);
    await page.getByRole("button", { name: "保存" }).click();
    await page.getByText(`责任人：${who}`).waitFor();
  }
  await phoneA.setOffline(false);
  await phoneB.setOffline(false);
  for (const page of [a, b]) {
    await page.getByTestId("conflicts").waitFor({ timeout: 30_000 });
    // Each value says who set it.
    await page.getByText(/责任人：(王电工|赵主任)（有冲突）/).waitFor();
    await page.getByRole("button", { name: "保留“王电工”" }).filter({ hasText: "甲 所填" }).waitFor();
    await page.getByRole("button", { name: "保留“赵主任”" }).filter({ hasText: "乙 所填" }).waitFor();
  }
  await b.getByRole("button", { name: "保留“赵主任”" }).click();
  for (const page of [a, b]) {
    await page.getByText("责任人：赵主任").waitFor({ timeout: 30_000 });
    await page.getByTestId("conflicts").waitFor({ state: "detached", timeout: 30_000 });
  }

  // Two different steps offline: both statuses show, and no next step is offered until one is kept.
  await phoneA.setOffline(true);
  await phoneB.setOffline(true);
  await step(a, "resolve", { note: "已疏通" });
  await status(a).filter({ hasText: "已办结" }).waitFor();
  await step(b, "reject", { note: "属水务公司职责" });
  await status(b).filter({ hasText: "不予受理" }).waitFor();
  await phoneA.setOffline(false);
  await phoneB.setOffline(false);
  for (const page of [a, b]) {
    await page.getByTestId("status-conflict").filter({ hasText: "已办结" }).filter({ hasText: "不予受理" }).waitFor({ timeout: 30_000 });
    await page.getByTestId("steps-blocked").waitFor();
    assert.equal(await page.locator("button[data-action]").count(), 0, "a step was offered while the status is in conflict");
  }
  await a.getByRole("button", { name: "保留“已办结”" }).filter({ hasText: "甲 所填" }).click();
  for (const page of [a, b]) {
    await page.locator('button[data-action="follow_up"]').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("status-conflict").count(), 0);
  }
  await phoneA.close();
  await phoneB.close();
});

test("an update of the record from elsewhere never wipes what the person is typing", async () => {
  const { context, page } = await offlinePhone("张三");
  await page.goto(`${server.url}/problems/new`);
  await page.locator('input[name="title"]').fill("排水沟堵塞");
  await page.getByRole("button", { name: "保存" }).click();
  await status(page).waitFor();
  await page.locator('button[data-action="resolve"]').click();
  await page.locator('textarea[name="step-note"]').fill("已清");
  await page.locator('textarea[name="progress"]').fill("联系了环卫");

  // Another tab of the same phone posts progress on the same problem.
  const other = await context.newPage();
  await other.goto(page.url());
  await other.locator('textarea[name="progress"]').fill("另一个标签页的进展");
  await other.getByRole("button", { name: "记录进展" }).click();
  await other.getByTestId("log").getByText("另一个标签页的进展").waitFor();

  await page.getByTestId("log").getByText("另一个标签页的进展").waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('textarea[name="step-note"]').inputValue(), "已清");
  assert.equal(await page.locator('textarea[name="progress"]').inputValue(), "联系了环卫");
  await page.getByTestId("confirm-step").click();
  await status(page).filter({ hasText: "已办结" }).waitFor();
  await context.close();
});
