// Recognition from the record in browsers: a cadre's phone records visits; his record (实绩) on
// the supervisor's desk lists exactly those (counted on the phone, each link opening its
// record), and its .xlsx is read by an independent reader (Python's zipfile). The county's
// office opens an award round; the village secretary nominates the cadre on the desk with the
// visits as evidence; after the deadline the office records both bodies' opinions, shortlists
// him and starts the 公示; a resident objects on the public page; once the period is over the
// decision is refused until the objection is examined, then recorded; the board shows him
// under 先进事迹 and his record shows the commendation. The server counts the round's days
// ahead (`--days-ahead`) as a rehearsal would, restarted between stages.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { addVisit, launchBrowser, openPhone, serveForTests, tempDir, visitCount, waitSynced } from "./harness.mjs";

const served = serveForTests();
const DAY = 86_400_000;
/** A day as the ledger counts days (China's time), `offset` days from today. */
const chinaDay = (offset = 0) => new Date(Date.now() + 8 * 3_600_000 + offset * DAY).toISOString().slice(0, 10);

async function deskAs(browser, server, login, { desk = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${server.url}/desk/`);
  const account = await server.account(login);
  await page.getByLabel("登录名").fill(login);
  await page.getByLabel("密码").fill(desk ? account.desk : account.secret);
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByTestId("who").waitFor();
  return page;
}

/** Restarts the server counting the round's days `days` ahead. */
async function daysLater(server, days) {
  server.extraArgs = ["--days-ahead", String(days)];
  await server.restart();
}

async function openAward(office, title) {
  await office.locator('button[data-tab="awards"]').click();
  await office.getByTestId("awards").locator("tr", { hasText: title }).getByRole("button", { name: "查看" }).click();
  const round = office.getByTestId("award-round").filter({ hasText: title });
  await round.waitFor();
  return round;
}

test("an award round from the record to the board, an objection holding the decision until examined", async () => {
  const server = served.server;
  const browser = await launchBrowser();
  const title = "2026 年度优秀共产党员";

  // 张伟's phone records two visits.
  const { context: phoneContext, page: phone } = await openPhone("awards-phone", server.url);
  for (const whom of ["村东头李大爷家", "村西王奶奶家"]) await addVisit(phone, { whom, heard: "了解冬季取暖情况" });
  await waitSynced(phone);
  const onPhone = await visitCount(phone);
  const [ledger] = await server.ledgersOf("张伟");
  assert.equal(onPhone, 2);
  await phoneContext.close();

  // His record on the supervisor's desk: exactly his visits, each link opening its record.
  const supervisor = await deskAs(browser, server, "sunli");
  await supervisor.locator('button[data-tab="records"]').click();
  await supervisor.getByTestId("people").locator('tr[data-person="张伟"]').click();
  const record = supervisor.getByTestId("person-record");
  await record.waitFor();
  const visits = record.locator('table[data-section="走访"] tbody tr');
  assert.equal(await visits.count(), onPhone, "the record lists as many visits as the phone holds");
  const titles = (await visits.locator("td:nth-child(2)").allTextContents()).sort();
  assert.deepEqual(titles, ["村东头李大爷家", "村西王奶奶家"].sort());
  await visits.filter({ hasText: "村西王奶奶家" }).click();
  await supervisor.locator(".record").filter({ hasText: "村西王奶奶家" }).waitFor();
  await supervisor.goBack();
  await record.waitFor();

  // The export, read by another program entirely.
  const [download] = await Promise.all([supervisor.waitForEvent("download"), record.getByRole("link", { name: /导出 Excel/ }).click()]);
  const file = join(tempDir("record-xlsx"), "record.xlsx");
  await download.saveAs(file);
  const cells = execFileSync("python3", ["-c", "import sys,zipfile;print(zipfile.ZipFile(sys.argv[1]).read('xl/sharedStrings.xml').decode())", file]).toString();
  for (const text of ["走访", "村东头李大爷家", "村西王奶奶家"]) assert.ok(cells.includes(text), `${text} in the workbook`);

  // The office opens the round.
  const office = await deskAs(browser, server, "office");
  await office.locator('button[data-tab="awards"]').click();
  const form = office.getByTestId("new-award");
  await form.locator('input[name="title"]').fill(title);
  await form.locator('input[name="quota"]').fill("2");
  await form.locator('input[name="nominateBy"]').fill(chinaDay(2));
  await form.getByRole("button", { name: "发起" }).click();
  await office.locator("p.ok").filter({ hasText: "个单位可以推荐" }).waitFor();

  // The village secretary nominates 张伟 on the desk, his visits ticked as evidence.
  const secretary = await deskAs(browser, server, "wangfang", { desk: true });
  const card = secretary.locator(`section[data-award="${title}"]`);
  await card.waitFor();
  const nominate = card.getByTestId("nominate");
  await nominate.locator('select[name="person"]').selectOption({ label: "张伟 · 干部" });
  await nominate.locator('input[name="post"]').fill("网格员");
  await nominate.locator('textarea[name="deeds"]').fill("全年走访农户 200 余户，帮助解决取暖、饮水等问题 30 余件。");
  await nominate.locator('textarea[name="summary"]').fill("走遍网格每一户，群众有事找得到人。");
  const evidence = nominate.getByTestId("evidence").locator("label.check");
  await evidence.first().waitFor();
  assert.equal(await evidence.count(), onPhone, "his record offers his two visits");
  // Filtered by a word, then the filter cleared: what was ticked stays ticked.
  await nominate.locator('input[name="evidence-filter"]').fill("王奶奶");
  await nominate.getByTestId("evidence").locator("label.check").nth(1).waitFor({ state: "detached" });
  assert.equal(await evidence.count(), 1);
  await evidence.locator("input").check();
  await nominate.locator('input[name="evidence-filter"]').fill("");
  await evidence.nth(1).waitFor();
  for (const box of await evidence.locator("input").all()) await box.check();
  assert.equal(await evidence.locator("input:checked").count(), 2);
  await nominate.getByRole("button", { name: "提交推荐" }).click();
  await secretary.locator("p.ok").filter({ hasText: "已推荐" }).waitFor();
  await card.locator('.nomination[data-nomination="张伟"]').filter({ hasText: "已推荐" }).waitFor();

  // After the deadline: both bodies' opinions, the shortlist, the 公示.
  await daysLater(server, 3);
  const office2 = await deskAs(browser, server, "office");
  let round = await openAward(office2, title);
  const nomination = round.locator('.nomination[data-nomination="张伟"]');
  assert.equal(await nomination.locator("ul").first().locator("li").count(), 2, "both visits linked");
  await nomination.getByTestId("shortlist").click();
  await office2.locator("p.error").filter({ hasText: "还没有记录纪检监察机关的意见" }).waitFor();
  for (const body of ["纪检监察机关", "组织部门"]) {
    const opinion = round.locator('.nomination[data-nomination="张伟"]').getByTestId("opinion");
    await opinion.locator('select[name="body"]').selectOption(body);
    await opinion.locator('textarea[name="opinion"]').fill("同意推荐，未发现问题");
    await opinion.locator('input[name="givenOn"]').fill(chinaDay(0));
    await opinion.getByRole("button", { name: "记录意见" }).click();
    await round.locator('.nomination[data-nomination="张伟"] [data-testid="opinions"] li', { hasText: body }).waitFor();
  }
  await round.locator('.nomination[data-nomination="张伟"]').getByTestId("shortlist").click();
  await round.locator('.nomination[data-nomination="张伟"] .tag', { hasText: "拟表彰" }).waitFor();
  await round.getByTestId("start-publicity").click();
  const publicLink = round.getByRole("link", { name: /公示页面/ });
  await publicLink.waitFor();
  const publicPath = await publicLink.getAttribute("href");

  // A resident (no account) sees the 公示 on the village's board and objects.
  const resident = await (await browser.newContext({ viewport: { width: 360, height: 740 } })).newPage();
  await resident.goto(ledger.boardUrl);
  await resident.locator("h2", { hasText: "评先评优公示" }).waitFor();
  await resident.getByRole("link", { name: "查看公示、提出异议" }).click();
  assert.equal(new URL(resident.url()).pathname, publicPath);
  assert.ok((await resident.locator("main").textContent()).includes("走遍网格每一户"));
  await resident.getByLabel(/张伟/).check();
  await resident.locator('textarea[name="text"]').fill("该同志入户走访次数与实际不符");
  await resident.getByRole("button", { name: "提交异议" }).click();
  await resident.getByText("异议已收到").waitFor();
  assert.equal(await resident.evaluate(() => document.querySelectorAll("script").length), 0, "the public page has no script");

  // The period over: the decision waits for the objection, then is recorded.
  await daysLater(server, 30);
  const office3 = await deskAs(browser, server, "office");
  round = await openAward(office3, title);
  await round.getByTestId("decide").locator('input[name="decision"]').fill("县先锋办〔2026〕3号");
  await round.getByTestId("decide").getByRole("button", { name: "作出表彰决定" }).click();
  await office3.locator("p.error").filter({ hasText: "还有 1 条异议没有核查办结" }).waitFor();
  const objection = round.getByTestId("objection");
  assert.ok((await objection.textContent()).includes("该同志入户走访次数与实际不符"));
  await objection.locator('textarea[name="finding"]').fill("经核对走访台账并电话回访 10 户，走访属实，异议不成立。");
  await objection.getByRole("button", { name: "异议不成立" }).click();
  await round.getByTestId("objection").filter({ hasText: "异议不成立" }).locator("p", { hasText: "核查情况" }).waitFor();
  await round.getByTestId("decide").getByRole("button", { name: "作出表彰决定" }).click();
  await office3.locator("p.ok").filter({ hasText: "已作出表彰决定" }).waitFor();

  // Commended: on the village's board, and in his record.
  await resident.goto(ledger.boardUrl);
  await resident.locator("h2", { hasText: "先进事迹" }).waitFor();
  assert.ok((await resident.locator("main").textContent()).includes("走遍网格每一户"));
  assert.equal(await resident.locator("h2", { hasText: "评先评优公示" }).count(), 0, "the 公示 is over");
  const supervisor2 = await deskAs(browser, server, "sunli");
  await supervisor2.locator('button[data-tab="records"]').click();
  await supervisor2.getByTestId("people").locator('tr[data-person="张伟"]').click();
  await supervisor2.getByTestId("commendations").filter({ hasText: title }).waitFor();
  assert.ok((await supervisor2.getByTestId("commendations").textContent()).includes("县先锋办〔2026〕3号"));
});
