// Our app and a peer written elsewhere (the JS automerge-repo) share one ledger through our
// server: each sees the other's visits. The JS peer writes in the ledger's schema, signed with
// its person's name (ledger_peer.mjs): the server takes nothing else.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { recordId, signed, visit } from "./ledger_peer.mjs";
import { Server, addVisit, closeBrowsers, launchPersistent, openApp, tempDir } from "./harness.mjs";

let server;
let repo;

before(async () => {
  server = await Server.start();
});

after(async () => {
  await closeBrowsers();
  await repo?.shutdown().catch(() => {});
  await server?.stop();
  server?.cleanup();
  setTimeout(() => process.exit(), 1000).unref(); // automerge-repo's adapter leaves a timer armed
});

async function until(check, what, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("the app shows a visit a JS peer wrote, and the JS peer sees the app's", async () => {
  const context = await launchPersistent(tempDir("interop-app"));
  const page = context.pages()[0];
  await openApp(page, server.url);
  await page.waitForFunction(() => /已同步/.test(document.querySelector('[data-testid="sync-state"]')?.textContent ?? ""), null, { timeout: 30_000 });

  // A third-party peer with a token an admin issued, in the `token` query parameter.
  const token = await server.tokenFor("接口测试", "js peer");
  repo = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${server.port}/sync?token=${token}`)] });
  const [{ url }] = await server.ledgersOf("张伟");
  const handle = await repo.find(url);
  const id = recordId();
  handle.change((d) => {
    d.visits[id] = visit({ whom: "来自JS的走访", place: "南街社区", heard: "JS 写入的走访情况", kind: "petition" });
  }, signed("接口测试", "visits", id, "新增走访"));

  // Pushed to the open app without a reload.
  await page.getByText("来自JS的走访").waitFor({ timeout: 30_000 });
  await page.getByText("来自JS的走访").click();
  await page.getByText("JS 写入的走访情况").waitFor();
  await page.getByText("接访").first().waitFor();
  await page.getByRole("link", { name: "‹ 返回" }).click();

  await addVisit(page, { whom: "来自浏览器", heard: "浏览器里记的" });
  await until(
    () => Object.values(handle.doc().visits).some((v) => String(v.whom) === "来自浏览器" && String(v.heard) === "浏览器里记的"),
    "the JS peer to see the app's visit",
  );
  const fromApp = Object.values(handle.doc().visits).find((v) => String(v.whom) === "来自浏览器");
  assert.equal(fromApp.deleted, false);
  assert.equal(fromApp.kind.toString(), "home");
  await context.close();
});
