// In the field: a 360×740 touch phone, offline, as a cadre uses it. Every action that writes
// takes effect once however it is tapped; no verdict, rating or evaluator is invented; each
// step keeps its own words; a deleted source visit is said to be deleted and can come back;
// forms show the first error and keep the save button in reach; long words never widen a
// page; overdue problems show from the first screen; the lists drawn off-screen to ready their
// code leave no trace and disturb no form.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, offlinePhone as harnessOfflinePhone, serveForTests } from "./harness.mjs";

const served = serveForTests();
const PHONE = { viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true };
/** Longer than a double tap's gap and the button's hold after a write. */
const SETTLE = 1_500;

/** A 360×740 touch phone that opened the app once online, then lost coverage. */
const offlinePhone = (name) => harnessOfflinePhone(served.server.url, name, PHONE);

/** Two taps as a hurried thumb makes them: 120 ms apart, the second whatever the button's state. */
async function doubleTap(page, locator) {
  await locator.tap();
  await page.waitForTimeout(120);
  await locator.tap({ force: true, timeout: 2_000 }).catch(() => {});
}

const lines = (page, text) => page.getByTestId("log").locator("li").filter({ hasText: text }).count();
const status = (page) => page.getByTestId("problem-status");

async function newProblem(page, title) {
  await page.goto(`${served.server.url}/problems/new`);
  await page.locator('input[name="title"]').fill(title);
  await page.getByRole("button", { name: "保存" }).tap();
  await status(page).filter({ hasText: "待办" }).waitFor();
}

/** Publishes a pledge with `content` and opens it. */
async function newPledge(page, content) {
  await page.goto(`${served.server.url}/pledges/new`);
  await page.locator('textarea[name="content"]').fill(content);
  await page.getByRole("button", { name: "争当服务群众先锋" }).tap();
  await page.locator('input[name="due"]').fill("2026-12-31");
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByTestId("pledge-state").filter({ hasText: "践诺中" }).waitFor();
}

/** Opens a survey round (with the form's own questions unless `questions` is given). */
async function newSurvey(page, title, questions) {
  await page.goto(`${served.server.url}/surveys/new`);
  await page.locator('input[name="title"]').fill(title);
  if (questions) await page.locator('textarea[name="questions"]').fill(questions);
  await page.getByRole("button", { name: "开启测评" }).tap();
  await page.getByTestId("survey-summary").filter({ hasText: "0 份答卷" }).waitFor();
}

test("every action that writes takes effect once, however it is tapped", async () => {
  const { context, page } = await offlinePhone("张三");

  // A problem through its steps, each step double-tapped (dblclick, then a slower human double tap).
  await newProblem(page, "村口路灯不亮");
  await page.locator('button[data-action="start"]').dblclick();
  await status(page).filter({ hasText: "办理中" }).waitFor();
  await page.locator('textarea[name="progress"]').fill("已联系电工");
  await doubleTap(page, page.getByTestId("post-progress"));
  await page.getByTestId("log").getByText("已联系电工").waitFor();
  await page.locator('button[data-action="resolve"]').tap();
  await page.locator('textarea[name="step-note"]').fill("已更换灯泡");
  await page.getByTestId("confirm-step").dblclick();
  await status(page).filter({ hasText: "已办结" }).waitFor();
  await page.locator('button[data-action="follow_up"]').tap();
  await page.getByRole("group", { name: "群众满意度" }).getByRole("button", { name: "满意", exact: true }).tap();
  await doubleTap(page, page.getByTestId("confirm-step"));
  await status(page).filter({ hasText: "已回访" }).waitFor();
  await page.waitForTimeout(SETTLE);
  assert.equal(await lines(page, "已联系电工"), 1, "进展 logged twice");
  assert.equal(await lines(page, "待办 → 办理中"), 1);
  assert.equal(await lines(page, "办理中 → 已办结"), 1);
  assert.equal(await lines(page, "已办结 → 已回访"), 1);
  assert.equal(await page.getByTestId("step-error").count(), 0, "a second tap was refused with a message");

  // A pledge: progress, 已兑现 (a toggle: a second tap would undo it), an evaluation.
  await newPledge(page, "每周三下午在村委会接待群众");
  await page.locator('textarea[name="progress"]').fill("本周接待群众 12 人次");
  await page.getByTestId("post-progress").dblclick();
  await page.getByTestId("fulfil").dblclick();
  await page.getByTestId("pledge-state").filter({ hasText: "已兑现" }).waitFor();
  await page.getByText("录入评议").tap();
  await page.getByRole("group", { name: "评议人" }).getByRole("button", { name: "群众" }).tap();
  await page.getByRole("group", { name: "评价" }).getByRole("button", { name: "满意", exact: true }).tap();
  await doubleTap(page, page.getByTestId("submit-evaluation"));
  await page.getByTestId("evaluations").locator("li").first().waitFor();
  await page.waitForTimeout(SETTLE);
  assert.equal(await lines(page, "本周接待群众 12 人次"), 1);
  assert.match(await page.getByTestId("pledge-state").textContent(), /已兑现/, "the second tap took 已兑现 back");
  assert.equal(await page.getByTestId("evaluations").locator("li").count(), 1);

  // A survey: one resident's sheet, and ending the round (a toggle).
  await newSurvey(page, "四季度满意度测评");
  for (const q of ["办事效率", "服务态度", "问题解决情况"]) {
    await page.getByRole("group", { name: q }).getByRole("button", { name: "满意", exact: true }).tap();
  }
  await page.getByTestId("save-response").dblclick();
  await page.getByTestId("survey-summary").filter({ hasText: "1 份答卷" }).waitFor();
  await page.getByRole("button", { name: "结束本轮测评" }).dblclick();
  await page.getByRole("button", { name: "重新开启" }).waitFor();
  await page.waitForTimeout(SETTLE);
  assert.match(await page.getByTestId("survey-summary").textContent(), /^1 份答卷/);
  assert.equal(await page.getByRole("button", { name: "重新开启" }).count(), 1, "the round was opened again");
  await context.close();
});

test("no verdict, rating or evaluator is chosen for the person, and none carries over", async () => {
  const { context, page } = await offlinePhone("李四");
  await page.goto(`${served.server.url}/problems/new`);
  await page.locator('input[name="title"]').fill("排水沟堵塞");
  await page.locator('input[name="contact"]').fill("张大爷 13800000000");
  await page.getByRole("button", { name: "保存" }).tap();
  await status(page).filter({ hasText: "待办" }).waitFor();
  await page.locator('button[data-action="resolve"]').tap();
  await page.locator('textarea[name="step-note"]').fill("已疏通");
  await page.getByTestId("confirm-step").tap();
  await status(page).filter({ hasText: "已办结" }).waitFor();
  await page.locator('button[data-action="follow_up"]').tap();
  // The 回访 step says how to reach the person who raised it.
  await page.getByTestId("follow-up-contact").filter({ hasText: "联系反映人：张大爷 13800000000" }).waitFor();
  assert.equal(await page.getByTestId("follow-up-contact").getByRole("link", { name: "拨打" }).getAttribute("href"), "tel:13800000000");
  const verdicts = page.getByRole("group", { name: "群众满意度" });
  assert.equal(await verdicts.locator('[aria-pressed="true"]').count(), 0, "a verdict was preselected");
  await page.getByTestId("confirm-step").tap();
  await page.getByTestId("step-error").filter({ hasText: "请先选择群众满意度" }).waitFor();
  assert.equal((await status(page).textContent()).trim(), "已办结", "回访 was recorded without a verdict");

  await newPledge(page, "帮助老人代办医保");
  await page.getByText("录入评议").tap();
  const form = page.locator("details.evaluate");
  assert.equal(await form.locator('[aria-pressed="true"]').count(), 0, "an evaluator or rating was preselected");
  await page.getByTestId("submit-evaluation").tap();
  await page.getByText("请先选择评议人").waitFor();
  await page.getByRole("group", { name: "评议人" }).getByRole("button", { name: "督查组" }).tap();
  await page.getByTestId("submit-evaluation").tap();
  await page.getByText("请先选择评价").waitFor();
  assert.equal(await page.getByTestId("evaluations").locator("li").count(), 0);
  await page.getByRole("group", { name: "评价" }).getByRole("button", { name: "基本满意", exact: true }).tap();
  await page.getByTestId("submit-evaluation").tap();
  await page.getByTestId("evaluations").getByText("基本满意").waitFor();
  // The next evaluator starts from nothing.
  if (!(await form.evaluate((d) => d.open))) await page.getByText("录入评议").tap();
  assert.equal(await page.locator("details.evaluate").locator('[aria-pressed="true"]').count(), 0, "the last evaluation's choices carried over");
  await context.close();
});

test("each step keeps its own words", async () => {
  const { context, page } = await offlinePhone("王五");
  await newProblem(page, "垃圾清运不及时");
  const note = page.locator('textarea[name="step-note"]');
  await page.locator('button[data-action="resolve"]').tap();
  await note.fill("协调环卫所每日清运");
  await page.locator('button[data-action="reject"]').tap();
  assert.equal(await note.inputValue(), "", "the result became the reason");
  await note.fill("不属于本村职责");
  await page.locator('button[data-action="resolve"]').tap();
  assert.equal(await note.inputValue(), "协调环卫所每日清运");
  await context.close();
});

test("a problem whose source visit was deleted says so, by whom, and can bring it back", async () => {
  const { context, page } = await offlinePhone("赵六");
  await page.getByRole("link", { name: "＋ 记走访" }).tap();
  await page.locator('input[name="whom"]').fill("张大爷家");
  await page.locator('textarea[name="heard"]').fill("反映村口路灯坏了");
  await page.locator('input[name="has_problem"]').check();
  await page.locator('input[name="problem_title"]').fill("村口路灯不亮");
  await page.getByRole("button", { name: "保存" }).tap();
  await status(page).waitFor();
  const problemUrl = page.url();
  await page.getByText("来源走访：张大爷家").tap();
  await page.getByRole("button", { name: "删除" }).tap();
  await page.getByTestId("visit-count").waitFor();
  await page.goto(problemUrl);
  const notice = page.getByTestId("source-visit-deleted");
  await notice.filter({ hasText: "已删除" }).waitFor();
  assert.match(await notice.textContent(), /张大爷家.*赵六/);
  await notice.getByRole("button", { name: "恢复这条走访" }).tap();
  await page.getByText("来源走访：张大爷家").tap();
  await page.getByTestId("linked-problems").getByText("村口路灯不亮").waitFor();
  await context.close();
});

test("surveys show every comment, confirm each sheet and round rates half up", async () => {
  const { context, page } = await offlinePhone("孙七");
  await newSurvey(page, "便民服务测评", "办事效率");
  for (const [answer, comment] of [["满意", "希望周末也能办"], ["不满意", ""], ["满意", ""]]) {
    await page.getByRole("group", { name: "办事效率" }).getByRole("button", { name: answer, exact: true }).tap();
    if (comment) await page.locator('textarea[name="comment"]').fill(comment);
    await page.getByTestId("save-response").tap();
    await page.getByTestId("save-response").filter({ hasText: "保存答卷" }).waitFor();
  }
  await page.getByTestId("responses-saved").filter({ hasText: "本次已录入 3 份" }).waitFor();
  // 2 of 3: 66.7%, not 66.6%.
  await page.getByTestId("survey-summary").filter({ hasText: "3 份答卷 · 总满意率 66.7%" }).waitFor();
  await page.getByText("其他意见（1 条）").tap();
  await page.getByTestId("survey-comments").getByText("希望周末也能办").waitFor();
  await context.close();
});

/** The element focused and the first error message are in the viewport, clear of the sticky bar. */
async function errorInView(page) {
  return page.evaluate(() => {
    const bar = document.querySelector(".sticky-actions").getBoundingClientRect();
    const focused = document.activeElement.getBoundingClientRect();
    const summary = document.querySelector('[data-testid="save-error"]').getBoundingClientRect();
    return {
      focusedIn: focused.top >= 0 && focused.bottom <= bar.top,
      summaryIn: summary.top >= 0 && summary.bottom <= window.innerHeight,
      focusedName: document.activeElement.getAttribute("name") ?? document.activeElement.textContent,
    };
  });
}

test("a refused save shows the first field in error, and a required choice has no default", async () => {
  const { context, page } = await offlinePhone("周八");
  // The visit form, saved empty after scrolling to the bottom.
  await page.getByRole("link", { name: "＋ 记走访" }).tap();
  await page.getByText("必填").first().waitFor();
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByTestId("save-error").waitFor();
  await page.waitForFunction(() => document.activeElement?.getAttribute("name") === "whom");
  assert.deepEqual(await errorInView(page), { focusedIn: true, summaryIn: true, focusedName: "whom" });

  // An enterprise difficulty: its type is not chosen for the person, and the row shows every type.
  await page.goto(`${served.server.url}/enterprises/new`);
  await page.locator('input[name="name"]').fill("闽兴机械有限公司");
  await page.locator('input[name="credit_code"]').fill("91350100M000100Y43");
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByRole("link", { name: "登记企业困难" }).tap();
  const types = page.getByRole("group", { name: "困难类型" });
  assert.equal(await types.locator('[aria-pressed="true"]').count(), 0, "a difficulty type was preselected");
  const outside = await types.locator("button").evaluateAll((chips) => chips.filter((c) => c.getBoundingClientRect().right > window.innerWidth).length);
  assert.equal(outside, 0, "some types are off-screen");
  await page.locator('input[name="title"]').fill("缺熟练工三十人");
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByText("请选择企业困难的类型").waitFor();
  await page.waitForFunction(() => document.activeElement?.closest('[data-name="difficulty"]'));
  assert.equal((await errorInView(page)).focusedIn, true);

  // A 时限 before the problem's own date.
  await page.goto(`${served.server.url}/problems/new`);
  await page.locator('input[name="title"]').fill("桥面破损");
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await page.locator('input[name="deadline"]').fill(yesterday);
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByText("办结时限不能早于问题登记的日期").waitFor();
  // A counter appears as a long field nears its limit.
  await page.locator('input[name="title"]').fill("桥".repeat(95));
  await page.getByTestId("title-counter").filter({ hasText: "95 / 100 字" }).waitFor();
  await context.close();
});

test("the save button stays in reach with the keyboard up", async () => {
  const { context, page } = await offlinePhone("吴九");
  await page.getByRole("link", { name: "＋ 记走访" }).tap();
  // The on-screen keyboard takes about half the screen.
  await page.setViewportSize({ width: 360, height: 380 });
  await page.locator('textarea[name="heard"]').tap();
  await page.locator('textarea[name="heard"]').fill("反映的情况");
  const save = await page.getByRole("button", { name: "保存" }).boundingBox();
  assert.ok(save.y >= 0 && save.y + save.height <= 380, `保存 at ${save.y}–${save.y + save.height} of 380`);
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByText("请填写走访对象").waitFor();
  await context.close();
});

test("no page grows wider than the screen, whatever is typed", async () => {
  const { context, page } = await offlinePhone("郑十");
  const word = (c, n) => c.repeat(n);
  const url = served.server.url;
  const pages = [];
  await page.getByRole("link", { name: "＋ 记走访" }).tap();
  await page.locator('input[name="whom"]').fill(word("w", 100));
  await page.locator('input[name="place"]').fill(word("p", 200));
  await page.locator('textarea[name="heard"]').fill(word("h", 200));
  await page.locator('input[name="has_problem"]').check();
  await page.locator('input[name="problem_title"]').fill(word("t", 100));
  await page.getByRole("button", { name: "保存" }).tap();
  await status(page).waitFor();
  pages.push(page.url(), `${url}/`, `${url}/problems`);
  await page.getByText(/来源走访/).tap();
  await page.getByTestId("linked-problems").waitFor();
  pages.push(page.url());
  await newSurvey(page, word("s", 100), word("q", 200));
  pages.push(page.url(), `${url}/surveys`);
  await newPledge(page, word("c", 200));
  pages.push(page.url(), `${url}/pledges`);
  await page.goto(`${url}/enterprises/new`);
  await page.locator('input[name="name"]').fill(word("e", 100));
  await page.locator('input[name="credit_code"]').fill("91350100M000100Y43");
  await page.locator('input[name="address"]').fill(word("a", 200));
  await page.getByRole("button", { name: "保存" }).tap();
  await page.getByRole("link", { name: "登记企业困难" }).waitFor();
  pages.push(page.url(), `${url}/enterprises`);
  for (const at of pages) {
    await page.goto(at);
    await page.locator("main").waitFor();
    await page.waitForTimeout(200);
    const { width, nav } = await page.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      nav: document.querySelector(".bottom-nav").getBoundingClientRect().right,
    }));
    assert.ok(width <= 360 && nav <= 360, `${at} is ${width} px wide (tab bar ends at ${nav})`);
    // Rows of buttons wrap as whole buttons: none is squeezed to a character per line.
    const tallest = await page.locator(".actions > .button").evaluateAll((bs) => Math.max(0, ...bs.map((b) => b.getBoundingClientRect().height)));
    assert.ok(tallest < 70, `${at}: a button in an action row is ${tallest} px tall`);
  }
  await context.close();
});

test("overdue problems show from the first screen", async () => {
  const { context, page } = await offlinePhone("钱一");
  const today = new Date().toISOString().slice(0, 10);
  await page.goto(`${served.server.url}/problems/new`);
  await page.locator('input[name="title"]').fill("危房改造未完成");
  await page.locator('input[name="deadline"]').fill(today);
  await page.getByRole("button", { name: "保存" }).tap();
  await status(page).waitFor();
  assert.equal(await page.getByTestId("overdue-notice").count(), 0);
  // Three days later.
  await page.clock.setFixedTime(new Date(Date.now() + 3 * 86_400_000));
  await page.goto(served.server.url);
  await page.getByTestId("overdue-notice").filter({ hasText: "1 件问题已逾期" }).waitFor();
  assert.equal((await page.getByTestId("problems-tab").locator(".badge").textContent()).trim(), "1");
  await page.getByTestId("overdue-notice").tap();
  await page.getByRole("button", { name: "逾期 1" }).and(page.locator('[aria-pressed="true"]')).waitFor();
  await page.getByText("危房改造未完成").waitFor();
  await context.close();
});

test("the visit list drawn off-screen to ready its code leaves no trace", async () => {
  const { context, page } = await offlinePhone("孙二");
  await addVisit(page, { whom: "王大爷", heard: "门前排水沟堵了" });
  // The first screen is the problem list; once the ledger is open, the visit list is drawn
  // where nobody sees it, without its cards and then with one (each pass measured as
  // pioneer:warmed-up).
  await page.goto(`${served.server.url}/problems`);
  await page.getByTestId("problem-count").waitFor();
  await page.waitForFunction(() => performance.getEntriesByName("pioneer:warmed-up").length === 2);
  const marks = () => page.evaluate(() => performance.getEntriesByName("pioneer:list-ready").length);
  assert.equal(await marks(), 0, "a list drawn to warm up must not say it was shown");
  assert.equal(await page.getByTestId("visit-count").count(), 0);
  assert.equal(await page.getByText("王大爷").count(), 0);
  await page.getByRole("link", { name: "走访", exact: true }).tap();
  await page.getByTestId("visit-count").filter({ hasText: "共 1 条" }).waitFor();
  await page.getByText("王大爷").waitFor();
  assert.equal(await marks(), 1);
  await context.close();
});

test("drawing both lists off-screen leaves a form being typed in as it was", async () => {
  const { context, page } = await offlinePhone("孙三");
  await page.goto(`${served.server.url}/visits/new`);
  const whom = page.locator('input[name="whom"]');
  await whom.pressSequentially("李大");
  // Neither list is on screen: both are drawn, two passes each.
  await page.waitForFunction(() => performance.getEntriesByName("pioneer:warmed-up").length === 4);
  assert.equal(await whom.inputValue(), "李大");
  assert.equal(await whom.evaluate((el) => el === document.activeElement), true, "the field keeps the focus");
  await whom.pressSequentially("妈");
  assert.equal(await whom.inputValue(), "李大妈");
  await context.close();
});

/** Counts what the person does: taps, and fields typed into. */
function burden(page) {
  const count = { taps: 0, typed: 0 };
  return {
    count,
    tap: async (locator) => {
      count.taps += 1;
      await locator.tap();
    },
    type: async (locator, text) => {
      count.taps += 1;
      count.typed += 1;
      await locator.tap();
      await locator.fill(text);
    },
    choose: async (select, label) => {
      count.taps += 2; // open the list, pick
      await select.selectOption({ label });
    },
  };
}

test("the field burden: taps and typed fields of each main flow, and unsent work counted in records", async () => {
  const { context, page } = await offlinePhone("冯二");
  const figures = {};
  // A home visit with one problem found, from the visit list.
  let b = burden(page);
  await b.tap(page.getByRole("link", { name: "＋ 记走访" }));
  await b.type(page.locator('input[name="whom"]'), "张大爷家");
  await b.type(page.locator('textarea[name="heard"]'), "反映村口路灯坏了两盏");
  await b.tap(page.locator('input[name="has_problem"]'));
  await b.type(page.locator('input[name="problem_title"]'), "村口路灯不亮");
  await b.choose(page.locator('select[name="problem_category"]'), "基础设施");
  await b.tap(page.getByRole("button", { name: "保存" }));
  await status(page).filter({ hasText: "待办" }).waitFor();
  figures["走访并登记一个问题"] = b.count;
  assert.ok(b.count.taps <= 9 && b.count.typed <= 4, `more than 9 taps or 4 typed fields: ${JSON.stringify(b.count)}`);
  // Two records: a visit and its problem.
  await page.getByTestId("sync-state").filter({ hasText: "2 条未上传" }).waitFor();

  // A step: 办结 with its result, from the problem list.
  await page.goto(`${served.server.url}/problems`);
  b = burden(page);
  await b.tap(page.getByText("村口路灯不亮"));
  await b.tap(page.locator('button[data-action="resolve"]'));
  await b.type(page.locator('textarea[name="step-note"]'), "已更换灯泡");
  await b.tap(page.getByTestId("confirm-step"));
  await status(page).filter({ hasText: "已办结" }).waitFor();
  figures["办结一个问题"] = b.count;
  // More edits of the same problem are still two records to upload, not four changes.
  await page.locator('textarea[name="progress"]').fill("回访前再看一次");
  await page.getByTestId("post-progress").tap();
  await page.getByTestId("log").getByText("回访前再看一次").waitFor();
  await page.getByTestId("sync-state").filter({ hasText: "2 条未上传" }).waitFor();

  // 回访 with a verdict.
  b = burden(page);
  await b.tap(page.locator('button[data-action="follow_up"]'));
  await b.tap(page.getByRole("group", { name: "群众满意度" }).getByRole("button", { name: "满意", exact: true }));
  await b.tap(page.getByTestId("confirm-step"));
  await status(page).filter({ hasText: "已回访" }).waitFor();
  figures["回访"] = b.count;

  // One resident's answer sheet in an open round of three questions.
  await newSurvey(page, "四季度测评");
  b = burden(page);
  for (const q of ["办事效率", "服务态度", "问题解决情况"]) {
    await b.tap(page.getByRole("group", { name: q }).getByRole("button", { name: "满意", exact: true }));
  }
  await b.tap(page.getByTestId("save-response"));
  await page.getByTestId("survey-summary").filter({ hasText: "1 份答卷" }).waitFor();
  figures["录入一份答卷"] = b.count;

  // An evaluation of a pledge.
  await newPledge(page, "每周三接待群众");
  b = burden(page);
  await b.tap(page.getByText("录入评议"));
  await b.tap(page.getByRole("group", { name: "评议人" }).getByRole("button", { name: "群众" }));
  await b.tap(page.getByRole("group", { name: "评价" }).getByRole("button", { name: "满意", exact: true }));
  await b.tap(page.getByTestId("submit-evaluation"));
  await page.getByTestId("evaluations").locator("li").first().waitFor();
  figures["录入一条评议"] = b.count;

  console.log(`field burden (taps, typed fields): ${JSON.stringify(figures)}`);
  await context.close();
});

test("back and forward draw the screen the address names, also when only its query differs", async () => {
  const { context, page } = await offlinePhone("陈三");
  const heading = (name) => page.getByRole("heading", { name, exact: true });
  await page.goto(`${served.server.url}/problems/new`);
  await heading("登记问题").waitFor();
  // An entry for the same form with a firm named, as a link to it would leave in the history.
  const firm = "0123456789abcdef0123456789abcdef";
  await page.evaluate((firm) => history.pushState(null, "", `/problems/new?enterprise=${firm}`), firm);
  await page.goBack();
  await page.goForward();
  await heading("登记企业困难").waitFor({ timeout: 5_000 });
  await page.goBack();
  await heading("登记问题").waitFor({ timeout: 5_000 });
  assert.equal(await page.locator('input[name="title"]').count(), 1, "the form is drawn once");
  await context.close();
});
