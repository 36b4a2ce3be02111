// The admin's desk (/desk, a bundle of its own): sign in with a password, grow the tree, add a
// person and give them an activation code (text and QR) that activates a phone into the new
// unit's ledger, import a table (a wrong row refuses the whole table and says which), download
// the template, retire the phone, read the audit log. The phone's service worker never answers
// /desk with the phone's shell.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { launchBrowser, launchPersistent, openApp, serveForTests, tempDir, waitForServiceWorker } from "./harness.mjs";

const served = serveForTests();

async function me(server, token) {
  const r = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  return r.json();
}

test("an admin builds the organisation on the desk, and a phone activated from it gets the new unit's ledger", async () => {
  const server = served.server;
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  // Confirmations are accepted; the one prompt asks the name of a third-party system.
  page.on("dialog", (dialog) => (dialog.type() === "prompt" ? dialog.accept("村务系统") : dialog.accept()));
  await page.goto(`${server.url}/desk/`);

  // Signing in: a wrong password is refused with the reason; the right one opens the desk.
  await page.getByLabel("登录名").fill("admin");
  await page.getByLabel("密码").fill("not-the-password");
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByRole("alert").filter({ hasText: "登录名或密码不对" }).waitFor();
  const { secret } = await server.account("admin");
  await page.getByLabel("密码").fill(secret);
  await page.getByRole("button", { name: "登录" }).click();
  await page.getByTestId("who").filter({ hasText: "管理员" }).waitFor();

  // The tree, and a village added under 柳河镇.
  const tree = page.getByTestId("org-tree");
  for (const unit of ["示范市", "示范县", "青石镇", "青石村", "恒达机械有限公司党支部"]) await tree.locator(`tr[data-unit="${unit}"]`).waitFor();
  const addUnit = page.getByTestId("add-unit");
  await addUnit.locator('select[name="parent"]').selectOption({ label: "　　柳河镇" });
  // Only the kinds that fit under a township are offered.
  const kinds = await addUnit.locator('select[name="kind"] option').allTextContents();
  assert.deepEqual(kinds, ["请选择", "村", "社区", "企业党支部", "部门"]);
  await addUnit.locator('select[name="kind"]').selectOption("village");
  await addUnit.locator('input[name="name"]').fill("新桥村");
  await addUnit.getByRole("button", { name: "添加" }).click();
  await tree.locator('tr[data-unit="新桥村"]').filter({ hasText: "有台账" }).waitFor();
  // The same name again under the same township is refused with the reason.
  await addUnit.locator('select[name="parent"]').selectOption({ label: "　　柳河镇" });
  await addUnit.locator('select[name="kind"]').selectOption("village");
  await addUnit.locator('input[name="name"]').fill("新桥村");
  await addUnit.getByRole("button", { name: "添加" }).click();
  await page.getByRole("alert").filter({ hasText: "已有名为“新桥村”" }).waitFor();

  // A person of the new village, and their activation code, as text and as a QR code.
  await page.getByRole("button", { name: "人员与激活码" }).click();
  const addPerson = page.getByTestId("add-person");
  await addPerson.locator('input[name="name"]').fill("钱进");
  await addPerson.locator('input[name="login"]').fill("qianjin");
  await addPerson.locator('select[name="unit"]').selectOption({ label: "　　　新桥村" });
  await addPerson.getByRole("button", { name: "添加" }).click();
  const row = page.locator('tr[data-person="钱进"]');
  await row.filter({ hasText: "新桥村 · 干部" }).waitFor();
  await row.getByTestId("issue-code").click();
  const code = (await page.getByTestId("code-text").textContent()).trim();
  assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2}$/);
  assert.equal(await page.getByTestId("activation-code").locator("svg").count(), 1, "the QR code is drawn");

  // The code activates a phone, once, into exactly the new village's ledger.
  const activated = await fetch(`${server.url}/api/activate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code, device: "钱进的手机" }) });
  assert.equal(activated.status, 200);
  const phoneToken = activated.headers.get("set-cookie").split(";")[0].split("=")[1];
  const phone = await me(server, phoneToken);
  assert.deepEqual(phone.ledgers.map((l) => l.unitName), ["新桥村"]);

  // A token for a third-party peer, shown once; it authenticates as the person.
  await row.getByTestId("issue-token").click();
  const token = (await page.getByTestId("token-text").textContent()).trim();
  const peer = await me(server, token);
  assert.equal(peer.person.name, "钱进");
  assert.equal(peer.device.kind, "token");

  // Import: a table with one wrong row adds nothing and names the row; the mended one lands.
  await page.getByRole("button", { name: "批量导入" }).click();
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "下载模板（.xlsx）" }).click();
  const template = readFileSync(await (await download).path());
  assert.equal(template.subarray(0, 4).toString("latin1"), "PK\u0003\u0004", "the template is an .xlsx file");
  const header = "单位路径,单位类型,姓名,登录名,角色\n";
  const good = "示范市/示范县/柳河镇/白杨村,村,孙一,sunyi,书记\n示范市/示范县/柳河镇/白杨村,,孙二,suner,干部\n";
  const dir = tempDir("import");
  const wrong = `${dir}/wrong.csv`;
  const right = `${dir}/right.csv`;
  (await import("node:fs")).writeFileSync(wrong, header + good + "示范市/示范县/无此镇/某村,村,,,\n");
  (await import("node:fs")).writeFileSync(right, header + good);
  const before = await server.adminApi("GET", "org");
  await page.locator('input[type="file"]').setInputFiles(wrong);
  const rows = page.getByTestId("import-rows");
  await rows.waitFor();
  assert.match(await rows.textContent(), /有 1 行有误/);
  assert.match(await rows.locator("tbody tr").first().textContent(), /^4.*无此镇/);
  const after = await server.adminApi("GET", "org");
  assert.equal(after.units.length, before.units.length, "nothing of the good rows was added");
  assert.equal(after.people.length, before.people.length);
  await page.locator('input[type="file"]').setInputFiles(right);
  await page.getByTestId("import-done").filter({ hasText: "1 个单位、2 名人员、2 个角色" }).waitFor();
  await page.getByRole("button", { name: "组织架构" }).click();
  await page.getByTestId("org-tree").locator('tr[data-unit="白杨村"]').filter({ hasText: "孙一（书记）" }).waitFor();

  // The phone shows on the devices page; retiring it tells the phone at its next contact.
  await page.getByRole("button", { name: "设备" }).click();
  const device = page.locator('tr[data-device="钱进的手机"]');
  await device.filter({ hasText: "在用" }).waitFor();
  await page.locator('tr[data-device="村务系统"]').filter({ hasText: "接口令牌" }).waitFor();
  await device.getByTestId("retire").click();
  await page.locator('tr[data-device="钱进的手机"][data-status="retired"]').filter({ hasText: "已停用" }).waitFor();
  assert.equal((await me(server, phoneToken)).device.status, "retired");

  // Every one of those actions is in the audit log, by the admin.
  await page.getByRole("button", { name: "操作日志" }).click();
  const audit = page.getByTestId("audit");
  for (const action of ["添加单位", "添加人员", "发放激活码", "批量导入", "停用设备"]) {
    await audit.locator("tr").filter({ hasText: action }).first().waitFor();
  }
  assert.ok((await audit.locator("tr").filter({ hasText: "批量导入" }).first().textContent()).includes("周敏"));

  // A reload keeps the session and the tab.
  await page.reload();
  await page.getByTestId("audit").waitFor();
  await browser.close();
});

test("the phone's service worker leaves /desk to the server", async () => {
  const server = served.server;
  const phone = await launchPersistent(tempDir("desk-sw"));
  const page = phone.pages()[0];
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  await page.goto(`${server.url}/desk/`);
  // The desk, not the phone's shell: it knows the signed-in cadre and says the desk is not theirs.
  await page.getByText("桌面端供管理员、督查、先锋办和书记使用").waitFor();
  assert.equal(await page.title(), "先锋台账 · 桌面端");
  assert.equal(await page.getByTestId("visit-count").count(), 0);
});
