// The organisation on phones: a phone activated with a demo code works offline and syncs; a
// cadre of another unit never sees the first unit's records; a supervisor reads both; a phone
// an admin retires uploads what it had, then erases and says why; a lost one erases at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, launchPersistent, openApp, Server, serveForTests, signIn, tempDir, visitCount, waitForServiceWorker, waitLive, waitSynced } from "./harness.mjs";

const served = serveForTests();

test("a phone activated with a demo code works offline and syncs; another unit never sees it; a supervisor reads both", async () => {
  const server = served.server;
  const phone = await launchPersistent(tempDir("activate"), { activated: false });
  const page = phone.pages()[0];
  await page.goto(server.url);
  // Not activated: the code screen, and a wrong code is refused with a reason.
  await page.getByRole("heading", { name: "激活本机" }).waitFor();
  await page.locator("#activation-code").fill("AAAA-BBBB-CC");
  await page.getByRole("button", { name: "激活" }).click();
  await page.getByRole("alert").filter({ hasText: "激活码无效" }).waitFor();
  const { secret } = await server.account("zhangwei");
  await page.locator("#activation-code").fill(secret.toLowerCase());
  await page.getByRole("button", { name: "激活" }).click();
  await waitLive(page);
  assert.equal(await page.getByTestId("author").textContent(), "张伟");
  assert.equal(await page.getByTestId("unit").textContent(), "青石村");
  await waitForServiceWorker(page);

  // Offline: reopens with no prompt, records a visit; back online it syncs.
  await phone.setOffline(true);
  await page.reload();
  await waitLive(page);
  await addVisit(page, { whom: "青石村王大爷", heard: "灌溉渠堵了" });
  await phone.setOffline(false);
  await waitSynced(page);
  // The code was used once: it activates nothing else.
  const reuse = await fetch(`${server.url}/api/activate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code: secret }) });
  assert.equal(reuse.status, 401);

  // Another unit's cadre (东风社区) never sees it, now or after syncing.
  const other = await launchPersistent(tempDir("other-unit"), { activated: false });
  await signIn(other, server, "李娜");
  const o = other.pages()[0];
  await openApp(o, server.url);
  assert.equal(await o.getByTestId("unit").textContent(), "东风社区");
  await addVisit(o, { whom: "东风社区刘阿姨", heard: "楼道灯坏了" });
  await waitSynced(o);
  await o.reload();
  await waitLive(o);
  assert.equal(await visitCount(o), 1);
  assert.equal(await o.getByText("青石村王大爷").count(), 0);
  assert.equal(await page.getByText("东风社区刘阿姨").count(), 0);

  // The county supervisor reads both units' ledgers, one at a time, switching between them.
  const supervisor = await launchPersistent(tempDir("supervisor"), { activated: false });
  await signIn(supervisor, server, "孙丽");
  const s = supervisor.pages()[0];
  await openApp(s, server.url);
  const units = await s.getByTestId("unit-switch").locator("option").allTextContents();
  for (const unit of ["青石村", "东风社区", "柳河村", "恒达机械有限公司党支部"]) assert.ok(units.includes(unit), `${unit} missing from ${units}`);
  await s.getByTestId("unit-switch").selectOption({ label: "青石村" });
  await waitLive(s);
  await s.getByText("青石村王大爷").waitFor({ timeout: 30_000 });
  await s.getByTestId("unit-switch").selectOption({ label: "东风社区" });
  await waitLive(s);
  await s.getByText("东风社区刘阿姨").waitFor({ timeout: 30_000 });
  assert.equal(await s.getByText("青石村王大爷").count(), 0);

  // The supervisor reads; the phone offers no way to add, and a change typed anyway (a page
  // opened by its address) is refused on the phone, with the reason, before it is saved: the
  // server would refuse it, and a refused change would hold up the sync of everything after it.
  await s.getByTestId("read-only").waitFor();
  assert.equal(await s.getByRole("link", { name: "＋ 记走访" }).count(), 0);
  await s.goto(`${server.url}/visits/new`);
  await s.locator('input[name="whom"]').fill("督查不该写的走访");
  await s.locator('textarea[name="heard"]').fill("不应保存");
  await s.getByRole("button", { name: "保存" }).click();
  await s.getByTestId("save-error").filter({ hasText: "只能查看" }).waitFor();
  await s.goto(server.url);
  await waitLive(s);
  await waitSynced(s);
  assert.equal(await s.getByText("督查不该写的走访").count(), 0);
  assert.doesNotMatch(await s.getByTestId("sync-state").textContent(), /未上传/);
  await o.reload();
  await waitLive(o);
  await waitSynced(o);
  assert.equal(await o.getByText("督查不该写的走访").count(), 0);
  await Promise.all([phone.close(), other.close(), supervisor.close()]);
});

test("a cadre in two units: the ledger not shown still uploads what was saved offline, and takes in colleagues' work", async () => {
  // A server of its own: this test stops and restarts it. Phones of the tests after it are
  // activated on the shared server again.
  const shared = Server.current;
  const server = await Server.start();
  try {
    const person = await server.person("两村干部", "青石村");
    const org = await server.adminApi("GET", "org");
    const dongfeng = org.units.find((u) => u.name === "东风社区").id;
    await server.adminApi("POST", "grants", { person, unit: dongfeng, role: "cadre" });
    const phone = await launchPersistent(tempDir("two-units"), { activated: false });
    await signIn(phone, server, "两村干部");
    const page = phone.pages()[0];
    await openApp(page, server.url);
    const switcher = page.getByTestId("unit-switch");
    await switcher.selectOption({ label: "东风社区" });
    await waitLive(page);
    await waitSynced(page);

    // The server goes away; a visit is saved in 东风社区, then the cadre turns to 青石村.
    await server.stop();
    await addVisit(page, { whom: "东风社区离线走访", heard: "楼道积水" });
    await switcher.selectOption({ label: "青石村" });
    await waitLive(page);
    // The ledger not shown says what it holds unsent.
    const dongfengOption = switcher.locator("option").filter({ hasText: "东风社区" });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="unit-switch"] option')].some((o) => o.textContent.includes("东风社区（1 条未上传）")), null, { timeout: 30_000 });

    // The server is back: 东风社区's visit is uploaded while the phone shows 青石村.
    await server.restart();
    await waitSynced(page);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="unit-switch"] option')].every((o) => !o.textContent.includes("未上传")), null, { timeout: 60_000 });
    assert.equal(await dongfengOption.textContent(), "东风社区");
    const colleague = await launchPersistent(tempDir("two-units-colleague"), { activated: false });
    await signIn(colleague, server, "李娜");
    const c = colleague.pages()[0];
    await openApp(c, server.url);
    await c.getByText("东风社区离线走访").waitFor({ timeout: 30_000 });

    // The colleague's visit reaches the phone's 东风社区 ledger while it shows 青石村: with the
    // server gone again, switching shows it from the phone alone.
    await addVisit(c, { whom: "李娜的新走访", heard: "路灯修好了" });
    await waitSynced(c);
    await new Promise((r) => setTimeout(r, 3_000));
    await server.stop();
    await switcher.selectOption({ label: "东风社区" });
    await waitLive(page);
    await page.getByText("李娜的新走访").waitFor({ timeout: 10_000 });
    assert.equal(await page.getByText("东风社区离线走访").count(), 1);
    await Promise.all([phone.close(), colleague.close()]);
  } finally {
    await server.stop();
    server.cleanup();
    Server.current = shared;
  }
});

test("a phone an admin retires uploads what it had, then erases and says why; a lost one is cut off", async () => {
  const server = served.server;
  const phone = await launchPersistent(tempDir("retire"), { activated: false });
  const { device } = await signIn(phone, server, "刘洋");
  const page = phone.pages()[0];
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  await waitSynced(page);
  // Offline, it records a visit; meanwhile the admin retires it.
  await phone.setOffline(true);
  await addVisit(page, { whom: "停用前的走访", heard: "最后一条" });
  await server.adminApi("POST", `devices/${device}/retire`);
  await phone.setOffline(false);
  await page.getByTestId("device-gone").filter({ hasText: "此设备已停用" }).waitFor({ timeout: 30_000 });
  // What it had not sent reached the unit: a colleague's phone sees it.
  const colleague = await launchPersistent(tempDir("colleague"));
  const c = colleague.pages()[0];
  await openApp(c, server.url);
  await c.getByText("停用前的走访").waitFor({ timeout: 30_000 });
  // The retired phone holds nothing any more.
  await page.reload();
  await page.getByRole("heading", { name: "激活本机" }).waitFor();
  const left = await page.evaluate(() => new Promise((ok) => {
    const open = indexedDB.open("pioneer-ledger");
    open.onsuccess = () => {
      const tx = open.result.transaction(["chunks", "snapshots"], "readonly");
      const n = tx.objectStore("chunks").count();
      const m = tx.objectStore("snapshots").count();
      tx.oncomplete = () => ok(n.result + m.result);
    };
  }));
  assert.equal(left, 0, "a retired phone kept ledger data");

  // Lost while online: the connection is cut, the phone erases and says so.
  const lost = await launchPersistent(tempDir("lost"), { activated: false });
  const made = await signIn(lost, server, "王芳");
  const l = lost.pages()[0];
  await openApp(l, server.url);
  await waitSynced(l);
  await server.adminApi("POST", `devices/${made.device}/lose`);
  await l.getByTestId("device-gone").filter({ hasText: "此设备已被报告丢失" }).waitFor({ timeout: 30_000 });
  await Promise.all([phone.close(), colleague.close(), lost.close()]);
});

test("a cadre raises and works on a problem; assigning it and closing it are the secretary's", async () => {
  const server = served.server;
  // 刘洋 is a cadre of 青石村, 王芳 its secretary (the demo organisation).
  const cadre = await launchPersistent(tempDir("cadre"), { activated: false });
  await signIn(cadre, server, "刘洋");
  const c = cadre.pages()[0];
  await openApp(c, server.url);
  await c.goto(`${server.url}/problems/new`);
  await c.locator('input[name="title"]').fill("村道塌陷");
  await c.locator('input[name="responsible"]').fill("刘洋");
  await c.getByRole("button", { name: "保存" }).click();
  const status = c.getByTestId("problem-status");
  await status.filter({ hasText: "待办" }).waitFor();
  // Starting it is the cadre's; 办结 and 不予受理 are not offered.
  assert.equal(await c.locator('button[data-action="start"]').count(), 1);
  assert.equal(await c.locator('button[data-action="resolve"]').count(), 0);
  assert.equal(await c.locator('button[data-action="reject"]').count(), 0);
  await c.locator('button[data-action="start"]').click();
  await status.filter({ hasText: "办理中" }).waitFor();
  const problemUrl = c.url();
  // Editing it, the person responsible is shown, not offered for change.
  await c.goto(`${problemUrl}/edit`);
  await c.getByTestId("responsible-fixed").filter({ hasText: "刘洋" }).waitFor();
  assert.equal(await c.locator('input[name="responsible"]').count(), 0);
  await c.goto(server.url);
  await waitLive(c);
  await waitSynced(c);

  // The secretary's phone gets it, reassigns it and closes it; the cadre's phone shows that.
  const secretary = await launchPersistent(tempDir("secretary"), { activated: false });
  await signIn(secretary, server, "王芳");
  const s = secretary.pages()[0];
  await openApp(s, server.url);
  await s.goto(problemUrl.replace(/^http:\/\/[^/]+/, server.url));
  await s.getByTestId("problem-status").filter({ hasText: "办理中" }).waitFor({ timeout: 30_000 });
  await s.goto(`${s.url()}/edit`);
  await s.locator('input[name="responsible"]').fill("张伟");
  await s.getByRole("button", { name: "保存" }).click();
  await s.locator('button[data-action="resolve"]').click();
  await s.locator('textarea[name="step-note"]').fill("已回填压实");
  await s.getByTestId("confirm-step").click();
  await s.getByTestId("problem-status").filter({ hasText: "已办结" }).waitFor();
  await waitSynced(s);
  await c.goto(problemUrl);
  await c.getByTestId("problem-status").filter({ hasText: "已办结" }).waitFor({ timeout: 30_000 });
  await Promise.all([cadre.close(), secretary.close()]);
});
