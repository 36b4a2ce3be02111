// What the first users hit (issue 27), each at the viewport where it was seen: a cadre's phone
// at 360x740.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Link } from "./link.mjs";
import { addVisit, launchBrowser, launchPersistent, openApp, serveForTests, signIn, tempDir, visitCount, waitForServiceWorker, waitSynced } from "./harness.mjs";

const served = serveForTests();
const PHONE = { viewport: { width: 360, height: 740 } };
const DESK = { viewport: { width: 1366, height: 768 } };
const WECHAT_ON_ANDROID =
  "Mozilla/5.0 (Linux; Android 12; V2106A Build/SP1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MMWEBID/6294 MicroMessenger/8.0.28.2240(0x28001C35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";

/** A phone of `name`, a new secretary of `unit`, at 360x740. */
async function phoneOf(name, unit) {
  await served.server.person(name, unit);
  const context = await launchPersistent(tempDir(`phone-${name}`), { activated: false, ...PHONE });
  await signIn(context, served.server, name);
  const page = context.pages()[0];
  await openApp(page, served.server.url);
  return { context, page };
}

/** The county supervisor (孙丽, 示范县) on a 1366x768 desk. */
async function countyDesk() {
  const server = served.server;
  const browser = await launchBrowser();
  const desk = await (await browser.newContext(DESK)).newPage();
  await desk.goto(`${server.url}/desk/`);
  await desk.getByLabel("登录名").fill("sunli");
  await desk.getByLabel("密码").fill((await server.account("sunli")).secret);
  await desk.getByRole("button", { name: "登录" }).click();
  await desk.getByTestId("who").filter({ hasText: "督查" }).waitFor();
  return desk;
}

/** Raises a problem and takes `steps` (data-action codes) on it. */
async function problemThrough(page, title, steps) {
  await page.goto(`${served.server.url}/problems/new`);
  await page.locator('input[name="title"]').fill(title);
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").filter({ hasText: "待办" }).waitFor();
  for (const step of steps) {
    await page.locator(`button[data-action="${step}"]`).click();
    if (step === "resolve") {
      await page.locator('textarea[name="step-note"]').fill("已办好");
      await page.getByTestId("confirm-step").click();
    }
    await page.getByTestId("problem-status").filter({ hasText: step === "start" ? "办理中" : "已办结" }).waitFor();
  }
}

test("a phone that learns it is retired takes no new record, says so across a reload, and erases only after its upload", async () => {
  const server = served.server;
  const phone = await launchPersistent(tempDir("retired-phone"), { activated: false, ...PHONE });
  const { device } = await signIn(phone, server, "陈红");
  const page = phone.pages()[0];
  // The phone reaches the server through a link the test can cut (the page still loads).
  const link = await Link.open(server);
  await openApp(page, link.url);
  await waitSynced(page);

  // Out of coverage for sync (the socket cannot open), it records a visit; the admin retires it.
  link.cut();
  await page.reload();
  await openApp(page, link.url);
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
  await page.goto(link.url);
  await page.getByTestId("device-notice").filter({ hasText: "此设备已被停用" }).waitFor({ timeout: 30_000 });
  await page.getByText("停用前记下的走访").waitFor();
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill("重新打开后又记的走访");
  await page.locator('textarea[name="heard"]').fill("不应保存");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("save-error").filter({ hasText: "此设备已停用" }).waitFor();

  // Back in coverage: what it took before it learned is uploaded, then it erases, and the
  // records are no longer shown.
  link.mend();
  await page.goto(link.url);
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
  await link.close();
});

test("the desk's figures say exactly what they count: 待办 apart from 办理中, answer sheets apart from answers", async () => {
  const server = served.server;
  // 柳河村's secretary makes, and counts as made: three problems (one left 待办, one started, one
  // resolved) and a round of three questions answered by three people (two 满意 throughout,
  // one 不满意 throughout): 3 sheets, 9 answers, 6 satisfied.
  const { context, page } = await phoneOf("钱进", "柳河村");
  const made = { raised: 3, pending: 1, inProgress: 1, resolved: 1, sheets: 3, answers: 9, satisfied: 6 };
  await problemThrough(page, "待办的问题", []);
  await problemThrough(page, "办理中的问题", ["start"]);
  await problemThrough(page, "办结的问题", ["start", "resolve"]);
  await page.goto(`${server.url}/surveys/new`);
  await page.locator('input[name="title"]').fill("柳河村测评");
  await page.locator('textarea[name="questions"]').fill("服务态度\n办事效率\n廉洁自律");
  await page.getByRole("button", { name: "开启测评" }).click();
  for (const answer of ["满意", "满意", "不满意"]) {
    for (const q of ["服务态度", "办事效率", "廉洁自律"]) {
      await page.getByRole("group", { name: q }).getByRole("button", { name: answer, exact: true }).click();
    }
    await page.getByTestId("save-response").click();
    await page.getByTestId("save-response").filter({ hasText: "保存答卷" }).waitFor();
  }
  await page.getByTestId("survey-summary").filter({ hasText: `${made.sheets} 份答卷` }).waitFor();
  await waitSynced(page);

  const desk = await countyDesk();
  const row = desk.getByTestId("overview").locator('tr[data-unit="柳河村"]');
  await row.waitFor();
  const cell = async (col) => (await row.locator(`[data-col="${col}"]`).textContent()).trim();
  assert.equal(await cell("raised"), String(made.raised));
  assert.equal(await cell("pending"), String(made.pending), "待办 counted on its own");
  assert.equal(await cell("in_progress"), String(made.inProgress), "办理中 counts only started problems");
  assert.equal(await cell("resolved"), String(made.resolved));
  const pct = (good, all) => `${((1000 * good) / all / 10).toFixed(1)}%`;
  await desk.getByTestId("chart-rounds").getByText(`${pct(made.satisfied, made.answers)}（${made.sheets} 份答卷，${made.answers} 个回答）`).waitFor();
  // The 通报 says the same.
  await desk.locator('button[data-tab="report"]').click();
  const summary = desk.getByTestId("summary");
  await summary.waitFor();
  assert.match(await summary.textContent(), new RegExp(`登记问题 ${made.raised} 个，已办结 ${made.resolved} 个、办理中 ${made.inProgress} 个、待办 ${made.pending} 个`));
  await context.close();
  await desk.context().browser().close();
});

test("on a 360 px phone two people's long values in conflict wrap, and no page is wider than the phone", async () => {
  const server = served.server;
  const a = await phoneOf("冯一", "青石村");
  await a.page.goto(`${server.url}/problems/new`);
  await a.page.locator('input[name="title"]').fill("排水沟堵塞");
  await a.page.getByRole("button", { name: "保存" }).click();
  await a.page.getByTestId("problem-status").waitFor();
  const problemUrl = a.page.url();
  await waitSynced(a.page);
  const b = await phoneOf("褚二", "青石村");
  await b.page.goto(problemUrl);
  await b.page.getByTestId("problem-status").waitFor({ timeout: 30_000 });
  await Promise.all([a.context.setOffline(true), b.context.setOffline(true)]);
  for (const [page, value] of [[a.page, "村口排水沟堵塞，雨天积水漫进三户人家的院子，需要尽快疏通"], [b.page, "排水沟堵塞导致东头低洼处积水，涉及十二户村民出行困难"]]) {
    await page.getByRole("link", { name: "编辑" }).click();
    await page.locator('input[name="title"]').fill(value);
    await page.getByRole("button", { name: "保存" }).click();
    await page.getByTestId("problem-status").waitFor();
  }
  await Promise.all([a.context.setOffline(false), b.context.setOffline(false)]);
  for (const { page } of [a, b]) {
    await page.getByTestId("conflicts").waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: /保留“村口排水沟/ }).filter({ hasText: "冯一 所填" }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    const wide = await page.evaluate(() => [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > 361).slice(0, 5).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`).join("; "));
    assert.ok(width <= 360, `the page is ${width} px wide on a 360 px phone: ${wide}`);
  }
  await Promise.all([a.context.close(), b.context.close()]);
});

test("a form marks what it requires and takes the person to the first field in error", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("卫三", "青石村");
  await page.goto(`${server.url}/pledges/new`);
  const aims = page.locator(".field").filter({ has: page.getByRole("group", { name: "服务目标" }) });
  await aims.getByText("必填").waitFor();
  await page.locator("label.field").filter({ hasText: "兑现期限" }).getByText("必填").waitFor();
  await page.locator('textarea[name="content"]').fill("每周二上午在村部接待群众");
  await page.locator('input[name="team"]').check();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("save-error").filter({ hasText: "请先改正标红的项目" }).waitFor();
  // The first field in error (the aims, below the fold at the top of the page) has the focus, in view.
  await page.waitForFunction(() => document.activeElement?.closest('[role="group"]')?.getAttribute("aria-label") === "服务目标");
  const inView = await page.evaluate(() => {
    const r = document.activeElement.getBoundingClientRect();
    const bar = document.querySelector(".sticky-actions").getBoundingClientRect();
    return r.top >= 0 && r.bottom <= bar.top;
  });
  assert.ok(inView, "the first field in error is out of view");
  await context.close();
});

test("the campaign's own kinds of visit: 下访, 征求意见, 矛盾排查, 政策宣讲, recorded and filtered", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("蒋四", "青石村");
  await addVisit(page, { whom: "东头三户邻里纠纷", heard: "宅基地边界有争议，已调解", kind: "矛盾排查" });
  for (const kind of ["下访", "征求意见", "矛盾排查", "政策宣讲"]) {
    await page.locator('[aria-label="按类型筛选"], .chips').getByRole("button", { name: kind, exact: true }).first().waitFor();
  }
  await page.getByRole("button", { name: "矛盾排查", exact: true }).first().click();
  await page.getByText("东头三户邻里纠纷").waitFor();
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
  await context.close();
});

test("every figure on the desk opens the list it counts; a village's 通报 has its row and a way back up", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("韩五", "东风社区");
  await problemThrough(page, "东风待办的问题", []);
  await problemThrough(page, "东风办结的问题", ["start", "resolve"]);
  await waitSynced(page);
  await context.close();

  const desk = await countyDesk();
  const overview = desk.getByTestId("overview");
  const row = overview.locator('tr[data-unit="东风社区"]');
  const problems = desk.getByTestId("problems").locator("tbody tr");
  const listed = async () => (await problems.evaluateAll((rows) => rows.map((r) => r.dataset.problem))).sort();
  for (const [col, expected] of [["pending", ["东风待办的问题"]], ["resolved", ["东风办结的问题"]], ["raised", ["东风办结的问题", "东风待办的问题"]]]) {
    await row.locator(`[data-col="${col}"] a`).click();
    await problems.first().waitFor();
    await desk.waitForFunction((n) => document.querySelectorAll('[data-testid="problems"] tbody tr').length === n, expected.length);
    assert.deepEqual(await listed(), expected, `the ${col} figure's list`);
    assert.equal(Number(await desk.goBack().then(() => row.locator(`[data-col="${col}"]`).textContent())), expected.length);
  }
  // The village's name opens its problems, not the same single row again.
  await row.locator("td").first().getByRole("link").click();
  await desk.waitForFunction(() => document.querySelectorAll('[data-testid="problems"] tbody tr').length === 2);
  // Its 通报 has its own row, and a way back up the tree.
  await desk.locator('button[data-tab="report"]').click();
  const report = desk.getByTestId("report");
  await report.locator("tbody tr").filter({ hasText: "东风社区" }).waitFor();
  await desk.getByTestId("up").click();
  await report.locator("tbody tr").filter({ hasText: "东风社区" }).waitFor();
  assert.ok((await report.locator("tbody tr").count()) > 1, "the township's 通报 lists its units");
  await desk.context().browser().close();
});

test("offline, the desk says in plain words that a page it never opened is not kept", async () => {
  const desk = await countyDesk();
  await desk.getByTestId("overview").waitFor();
  await desk.context().setOffline(true);
  await desk.locator('button[data-tab="pledges"]').click();
  const shown = desk.getByText("离线，此页尚未缓存");
  await shown.waitFor();
  const text = await desk.locator("body").innerText();
  assert.ok(!/JsValue|wasm-function|TypeError/.test(text), `a raw error reached the page: ${text.slice(0, 300)}`);
  await desk.context().browser().close();
});

test("a new 督办意见 shows where a cadre looks first, until the problem is opened", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("杨六", "东风社区");
  await problemThrough(page, "东风路面塌陷", []);
  await waitSynced(page);
  // Not looking at it when the remark comes (a problem open on screen shows it: seen).
  await page.goto(`${server.url}/enterprises`);
  const desk = await countyDesk();
  await desk.getByTestId("overview").locator('tr[data-unit="东风社区"] [data-col="raised"] a').click();
  await desk.locator('tr[data-problem="东风路面塌陷"]').click();
  await desk.locator('textarea[name="remark"]').fill("请本周内设置警示并修复");
  await desk.getByRole("button", { name: "提交" }).click();
  await desk.getByRole("status").filter({ hasText: "已写入该单位台账" }).waitFor();
  await desk.context().browser().close();

  // The phone's first screen, its 问题 tab and the problem's card say so, before it is opened.
  await page.goto(server.url);
  await page.getByTestId("new-remarks-notice").filter({ hasText: "1 件问题收到新的督办意见" }).waitFor({ timeout: 30_000 });
  await page.getByTestId("new-remarks-badge").waitFor();
  await page.getByTestId("problems-tab").click();
  const card = page.locator(".card").filter({ hasText: "东风路面塌陷" });
  await card.getByTestId("new-remark").waitFor();
  assert.equal(await page.locator('[data-testid="new-remark"]').count(), 1, "only the problem with the remark is flagged");
  // Opened: seen, everywhere, and still after a reload.
  await card.click();
  await page.getByTestId("supervision").filter({ hasText: "请本周内设置警示并修复" }).waitFor();
  await page.goto(`${server.url}/problems`);
  await page.locator(".card").filter({ hasText: "东风路面塌陷" }).waitFor();
  assert.equal(await page.getByTestId("new-remark").count(), 0);
  assert.equal(await page.getByTestId("new-remarks-badge").count(), 0);
  await page.reload();
  await page.locator(".card").filter({ hasText: "东风路面塌陷" }).waitFor();
  assert.equal(await page.getByTestId("new-remark").count(), 0, "seen is forgotten on reload");
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
  await context.close();
});

test("the activation QR code opens the app with the code filled in; an empty code is asked for", async () => {
  const server = served.server;
  const browser = await launchBrowser();
  const admin = await (await browser.newContext(DESK)).newPage();
  await admin.goto(`${server.url}/desk/`);
  await admin.getByLabel("登录名").fill("admin");
  await admin.getByLabel("密码").fill((await server.account("admin")).secret);
  await admin.getByRole("button", { name: "登录" }).click();
  await admin.getByRole("button", { name: "人员与激活码" }).click();
  const addPerson = admin.getByTestId("add-person");
  await addPerson.locator('input[name="name"]').fill("许七");
  await addPerson.locator('input[name="login"]').fill("xuqi");
  await addPerson.locator('select[name="unit"]').selectOption({ label: "　　　青石村" });
  await addPerson.getByRole("button", { name: "添加" }).click();
  await admin.locator('tr[data-person="许七"]').getByTestId("issue-code").click();
  const code = (await admin.getByTestId("code-text").textContent()).trim();
  const qr = admin.getByTestId("activation-qr");
  const link = await qr.getAttribute("data-link");
  assert.equal(link, `${server.url}/#activate=${code}`, "the QR code holds the app's address with the code");
  assert.equal(await qr.locator("svg").count(), 1);

  // A new phone (WeChat's browser on Android): typing nothing asks for the code; opening the link fills it in.
  const phone = await launchPersistent(tempDir("qr-phone"), { activated: false, ...PHONE, userAgent: WECHAT_ON_ANDROID });
  const page = phone.pages()[0];
  await page.goto(server.url);
  await page.getByRole("heading", { name: "激活本机" }).waitFor();
  await page.getByRole("button", { name: "激活" }).click();
  await page.getByRole("alert").filter({ hasText: "请输入激活码" }).waitFor();
  const left = await page.locator("#activation-code").evaluate((f) => f.getBoundingClientRect().left);
  assert.ok(left >= 8, `the activation form touches the screen's edge (${left} px)`);
  // The camera opens the link in a new page.
  const opened = await phone.newPage();
  await opened.goto(link);
  await opened.getByRole("heading", { name: "激活本机" }).waitFor();
  assert.equal(await opened.locator("#activation-code").inputValue(), code);
  await opened.getByRole("button", { name: "激活" }).click();
  await opened.getByTestId("author").filter({ hasText: "许七" }).waitFor({ timeout: 30_000 });
  assert.ok(!opened.url().includes(code), "the used code stays in the address");
  await phone.close();

  // The admin reads the phone as a kind of phone and browser, not as its user-agent string.
  await admin.getByRole("button", { name: "设备" }).click();
  const row = admin.getByTestId("devices").locator("tbody tr").filter({ hasText: "许七" });
  await row.waitFor();
  assert.equal((await row.locator("td").nth(1).textContent()).trim(), "安卓手机 · 微信");
  assert.doesNotMatch(await admin.getByTestId("devices").textContent(), /Mozilla/);
  await browser.close();
});

test("the desk's record of an enterprise difficulty names the enterprise and the kind of difficulty", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("秦八", "东风社区");
  await page.goto(`${server.url}/enterprises/new`);
  await page.locator('input[name="name"]').fill("东风纺织有限公司");
  await page.locator('input[name="credit_code"]').fill("91350100M000100Y43");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByRole("link", { name: "登记企业困难" }).click();
  await page.getByRole("group", { name: "困难类型" }).getByRole("button", { name: "融资" }).click();
  await page.locator('input[name="title"]').fill("流动资金缺口两百万");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").waitFor();
  await waitSynced(page);
  await context.close();

  const desk = await countyDesk();
  await desk.getByTestId("overview").locator('tr[data-unit="东风社区"] [data-col="raised"] a').click();
  await desk.locator('tr[data-problem="流动资金缺口两百万"]').click();
  const record = desk.getByTestId("record");
  await record.waitFor();
  const field = async (name) => (await record.locator("dt").filter({ hasText: new RegExp(`^${name}$`) }).locator("+ dd").textContent()).trim();
  assert.equal(await field("企业"), "东风纺织有限公司");
  assert.equal(await field("困难类型"), "融资");
  await desk.context().browser().close();
});

test("smaller things: a firm's open difficulties are not cut off, history names people and old and new values, trees are indented", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("郑九", "东风社区");
  await page.goto(`${server.url}/enterprises/new`);
  await page.locator('input[name="name"]').fill("东风食品有限公司");
  await page.locator('input[name="credit_code"]').fill("91440300708461136T");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByRole("link", { name: "登记企业困难" }).click();
  await page.getByRole("group", { name: "困难类型" }).getByRole("button", { name: "用工" }).click();
  await page.locator('input[name="title"]').fill("缺熟练工二十人");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").waitFor();
  assert.equal(await page.getByText(/设备会话/).count(), 0, "history shows a page-load code");
  // An edit's history line says what the field was and what it became.
  await page.getByRole("link", { name: "编辑" }).click();
  await page.locator('input[name="title"]').fill("缺熟练工三十人");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("problem-status").waitFor();
  await page.getByText("修改记录").click();
  await page.getByTestId("history").getByText("修改问题：问题标题「缺熟练工二十人」→「缺熟练工三十人」").waitFor();
  await page.goto(`${server.url}/enterprises`);
  const tag = page.locator(".card").filter({ hasText: "东风食品有限公司" }).getByTestId("open-difficulties");
  await tag.waitFor();
  const box = await tag.evaluate((t) => ({ right: t.getBoundingClientRect().right, clipped: t.closest(".snippet") !== null }));
  assert.ok(box.right <= 360 && !box.clipped, `the tag is cut off: ${JSON.stringify(box)}`);
  await context.close();

  const browser = await launchBrowser();
  const admin = await (await browser.newContext(DESK)).newPage();
  await admin.goto(`${server.url}/desk/`);
  await admin.getByLabel("登录名").fill("admin");
  await admin.getByLabel("密码").fill((await server.account("admin")).secret);
  await admin.getByRole("button", { name: "登录" }).click();
  const tree = admin.getByTestId("org-tree");
  const indent = (unit) => tree.locator(`tr[data-unit="${unit}"] td`).first().evaluate((td) => parseFloat(getComputedStyle(td).paddingLeft));
  await tree.locator('tr[data-unit="青石村"]').waitFor();
  const [city, county, village] = [await indent("示范市"), await indent("示范县"), await indent("青石村")];
  assert.ok(city < county && county < village, `the tree is flat: ${city}, ${county}, ${village}`);
  await browser.close();
});

test("the secretary assigns a problem on its page, and the 办理记录 says so", async () => {
  const server = served.server;
  const { context, page } = await phoneOf("何十", "东风社区");
  await problemThrough(page, "东风垃圾清运不及时", []);
  const assign = page.getByTestId("assign");
  await assign.locator('input[name="assign"]').fill("李娜");
  // The record changes between typing and tapping (as a sync arriving does: the part of the
  // page showing it is drawn again); the typed name stays.
  await page.locator('textarea[name="progress"]').fill("已联系环卫所");
  await page.getByTestId("post-progress").click();
  await page.getByTestId("log").locator("li").filter({ hasText: "已联系环卫所" }).waitFor();
  assert.equal(await assign.locator('input[name="assign"]').inputValue(), "李娜");
  await assign.getByRole("button", { name: "指派" }).click();
  await page.getByTestId("log").locator("li").filter({ hasText: "指派给 李娜" }).waitFor();
  await page.getByText("责任人：李娜").waitFor();
  // The same name again changes nothing, and says so.
  await assign.getByRole("button", { name: "指派" }).click();
  await assign.getByRole("alert").filter({ hasText: "责任人没有变化" }).waitFor();
  assert.equal(await page.getByTestId("log").locator("li").filter({ hasText: "指派给" }).count(), 1);
  await waitSynced(page);
  await context.close();
});

test("a phone whose settings were kept as plain strings, before this update, opens offline as its person with its records", async () => {
  const { context, page } = await phoneOf("吴八", "东风社区");
  await waitForServiceWorker(page);
  await addVisit(page, { whom: "吴大爷", heard: "路灯坏了" });
  await waitSynced(page);
  // What an older app left: every setting a plain string, no format mark.
  const before = await page.evaluate(() => {
    localStorage.removeItem("pioneer.settings-format");
    for (const key of Object.keys(localStorage).filter((k) => k.startsWith("pioneer."))) {
      const value = JSON.parse(localStorage.getItem(key));
      if (typeof value === "string") localStorage.setItem(key, value);
      else if (key.startsWith("pioneer.remarks_seen:")) localStorage.setItem(key, Object.entries(value).map(([id, at]) => `${id}=${at}`).join(";"));
      else if (key === "pioneer.device_retired") localStorage.setItem(key, "1");
    }
    return localStorage.getItem("pioneer.me");
  });
  assert.ok(before.startsWith("{"), `pioneer.me is the plain JSON text of /api/me: ${before}`);

  // The update opens with no connection: who it works for can only come from what it kept.
  await context.setOffline(true);
  await page.reload();
  await page.locator('[data-testid="visit-count"][data-live="true"]').waitFor();
  await page.getByTestId("author").filter({ hasText: "吴八" }).waitFor();
  assert.equal(await visitCount(page), 1);
  const after = await page.evaluate(() => ({ me: localStorage.getItem("pioneer.me"), format: localStorage.getItem("pioneer.settings-format") }));
  assert.equal(after.format, "2");
  assert.equal(JSON.parse(after.me), before, "the kept /api/me is now a JSON string of the same text");
  await context.close();
});
