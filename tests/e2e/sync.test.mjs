// Two cadres of one unit, offline on their own phones, edit the same visit's note; back in
// coverage, both phones and the server end with the same ledger, every edit kept.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Link } from "./link.mjs";
import { Server, addVisit, closeBrowsers, launchPersistent, openApp, tempDir, waitForServiceWorker, waitSynced } from "./harness.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await closeBrowsers();
  await server?.stop();
  server?.cleanup();
});

const syncState = (page) => page.getByTestId("sync-state");

/** A phone syncing through a new `Link`, with one visit of its own saved and synced. */
async function phoneThroughLink(profile, visit) {
  const link = await Link.open(server);
  const phone = await launchPersistent(tempDir(profile));
  const page = phone.pages()[0];
  await openApp(page, link.url);
  await addVisit(page, visit);
  await waitSynced(page);
  return { link, phone, page };
}

async function editHeard(page, whom, heard) {
  await page.getByText(whom).first().click();
  await page.getByRole("link", { name: "编辑" }).click();
  await page.locator('textarea[name="heard"]').fill(heard);
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText(heard).waitFor();
  await page.getByRole("link", { name: "‹ 返回" }).click();
}

test("offline edits of one note on two phones merge, and the status shows each state", async () => {
  const phoneA = await launchPersistent(tempDir("phone-a"));
  const phoneB = await launchPersistent(tempDir("phone-b"));
  const a = phoneA.pages()[0];
  const b = phoneB.pages()[0];

  await openApp(a, server.url);
  await waitForServiceWorker(a);
  await addVisit(a, { whom: "张大爷家", heard: "路灯坏了。" });
  await waitSynced(a);

  await openApp(b, server.url);
  await waitForServiceWorker(b);
  await b.getByText("张大爷家").waitFor({ timeout: 30_000 });
  await waitSynced(b);

  // Both lose coverage.
  await phoneA.setOffline(true);
  await phoneB.setOffline(true);
  await syncState(a).filter({ hasText: "离线" }).waitFor();
  await editHeard(a, "张大爷家", "村口路灯坏了。");
  await editHeard(b, "张大爷家", "路灯坏了。已报修。");
  await addVisit(b, { whom: "李阿姨", heard: "低保申请" });
  await syncState(b).filter({ hasText: "条未上传" }).waitFor();

  // Back in coverage: both converge without anyone touching anything.
  await phoneA.setOffline(false);
  await phoneB.setOffline(false);
  await waitSynced(a);
  await waitSynced(b);
  for (const page of [a, b]) {
    await page.getByText("李阿姨").waitFor({ timeout: 30_000 });
    await page.getByText("张大爷家").first().click();
    await page.getByText("村口路灯坏了。已报修。").waitFor({ timeout: 30_000 });
    await page.getByRole("link", { name: "‹ 返回" }).click();
  }
  assert.doesNotMatch(await syncState(a).textContent(), /未上传/);

  // A desktop that was never offline sees the same ledger.
  const desk = await launchPersistent(tempDir("desk"));
  const d = desk.pages()[0];
  await openApp(d, server.url);
  await d.getByText("李阿姨").waitFor({ timeout: 30_000 });
  await d.getByText("张大爷家").first().click();
  await d.getByText("村口路灯坏了。已报修。").waitFor();
  await phoneA.close();
  await phoneB.close();
  await desk.close();
});

test("a frame from the server that changes nothing, arriving after 已同步, does not leave the phone saying 正在同步", async () => {
  // On a slow link the server's last word can come after the phone has settled; it moves no
  // heads, so it leaves no sync state to store, and it once left the status at 正在同步 until
  // the next edit (CI, stop 47). Here the server's last frame is sent again, after 已同步.
  const { link, phone, page } = await phoneThroughLink("phone-late-frame", { whom: "王师傅家", heard: "水管漏水。" });
  assert.ok(link.lastFromServer, "the sync socket went through the link");
  await page.evaluate(() => {
    const shown = document.querySelector('[data-testid="sync-state"]');
    window.syncStates = [shown.textContent];
    new MutationObserver(() => window.syncStates.push(shown.textContent)).observe(shown, { childList: true, characterData: true, subtree: true });
  });
  link.sendLastFrameAgain();
  // The frame was taken (the phone said it was syncing), and the phone settles again by itself.
  await page
    .waitForFunction(() => window.syncStates.some((s) => s.includes("正在同步")) && window.syncStates.at(-1).includes("已同步"), null, { timeout: 10_000 })
    .catch(async (e) => {
      e.message += `\nthe states shown: ${(await page.evaluate(() => window.syncStates)).join(" → ")}`;
      throw e;
    });
  await phone.close();
  await link.close();
});

test("a save while the phone is still connecting does not lose the sync handshake", async () => {
  // The worker sent what the sync engine had queued on every save, also while the new socket
  // was CONNECTING; the socket refuses a send then, and the first frame given up was the join.
  // Once open, the server waited for a join and the phone for an answer, until the server's
  // idle timeout (CI: "正在连接… · 1 条未上传"). A cadre saving on a weak signal hit it.
  const { link, phone, page } = await phoneThroughLink("phone-connecting", { whom: "赵奶奶家", heard: "想装扶手。" });

  link.stall();
  const deadline = Date.now() + 8_000;
  while (link.held.length === 0) {
    assert.ok(Date.now() < deadline, "the phone tried to connect again through the link");
    await new Promise((ok) => setTimeout(ok, 50));
  }
  // The socket is connecting (the worker gives one up after 10 s): save now.
  await addVisit(page, { whom: "钱叔叔家", heard: "楼道灯不亮。" });
  link.release();
  await waitSynced(page);
  assert.doesNotMatch(await syncState(page).textContent(), /未上传/);

  const other = await launchPersistent(tempDir("phone-connecting-other"));
  const o = other.pages()[0];
  await openApp(o, server.url);
  await o.getByText("钱叔叔家").waitFor({ timeout: 30_000 });
  await phone.close();
  await other.close();
  await link.close();
});
