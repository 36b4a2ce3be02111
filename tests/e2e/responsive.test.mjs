// The page never waits for the ledger: while the worker loads a full ledger's document, and
// while it applies a large sync, a tap on a tab and keystrokes in a form take effect. The phone
// runs at 4x CPU throttling, like a cheap phone.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { peerWritesVisits } from "./ledger_peer.mjs";
import { ROOT, Server, closeBrowsers, hasCachedLists, launchPersistent, openApp, seedLedger, tempDir, waitForServiceWorker, waitLive, waitSynced } from "./harness.mjs";

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

/** The ledger of a year of a unit's work, written by the ledger's own example (built by the
 * native build the tests run after). */
function fullLedger() {
  const maker = [join(ROOT, "target/ci/examples/make_ledger"), join(ROOT, "target/release/examples/make_ledger")].find(existsSync);
  assert.ok(maker, "make_ledger is not built: run `cargo test --profile ci --no-run` first");
  const path = join(tempDir("full-ledger"), "ledger.automerge");
  // Larger than a year of a village's work: the worker loads it in about two seconds here.
  execFileSync(maker, ["10000", path, "4000", "1000"]);
  return readFileSync(path);
}

async function throttled(phone, page) {
  const cdp = await phone.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
}

/** Whether the page has heard that the worker loaded the document. */
const documentLoaded = (page) => page.evaluate(() => performance.getEntriesByName("pioneer:ledger-open").length > 0);

test("a tap and typing take effect while a full ledger's document loads", async () => {
  const bytes = fullLedger();
  const phone = await launchPersistent(tempDir("responsive-load"));
  const seeder = phone.pages()[0];
  await openApp(seeder, server.url);
  await waitForServiceWorker(seeder);
  // Offline from here: the seeded ledger stays on this phone.
  await phone.setOffline(true);
  await seedLedger(seeder, bytes);
  await seeder.close();
  // The first open has no cached lists: it waits for the document, then caches the lists.
  const first = await phone.newPage();
  await first.goto(server.url);
  await first.locator('[data-testid="visit-count"][data-live="true"]').waitFor({ timeout: 120_000 });
  for (let i = 0; !(await hasCachedLists(first)); i++) {
    assert.ok(i < 100, "the lists were never cached");
    await new Promise((r) => setTimeout(r, 200));
  }
  await first.close();

  // A warm start: the cached lists show at once, the worker loads the document meanwhile. The
  // person opens the form and types, then taps the problems tab and back.
  const page = await phone.newPage();
  await throttled(phone, page);
  await page.addInitScript(() => {
    window.__keystrokes = [];
    document.addEventListener("input", () => window.__keystrokes.push(performance.now()), true);
  });
  await page.goto(`${server.url}/visits/new`);
  await page.locator('input[name="whom"]').pressSequentially("载入时");
  assert.equal(await page.locator('input[name="whom"]').inputValue(), "载入时");
  await page.getByTestId("problems-tab").click();
  await page.getByTestId("problem-count").waitFor();
  const times = await page.evaluate(() => ({
    keystrokes: window.__keystrokes,
    tab: performance.getEntriesByName("pioneer:problems-ready")[0]?.startTime,
    loaded: performance.getEntriesByName("pioneer:ledger-open")[0]?.startTime ?? Infinity,
  }));
  if (process.env.PIONEER_TEST_VERBOSE) console.error(JSON.stringify(times));
  assert.equal(times.keystrokes.length, 3, JSON.stringify(times));
  assert.ok(Math.max(...times.keystrokes, times.tab) < times.loaded, `the taps and keystrokes waited for the document: ${JSON.stringify(times)}`);

  await page.getByRole("link", { name: "走访", exact: true }).click();
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill("载入时录入");
  // Once loaded, what was typed saves as usual.
  await page.locator('textarea[name="heard"]').fill("在台账载入期间填写");
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByText("载入时录入").first().waitFor({ timeout: 60_000 });
  assert.equal(await documentLoaded(page), true);
  await phone.close();
});

test("a tap and typing take effect while a large sync is applied", async () => {
  const CHANGES = 2_500;
  const phone = await launchPersistent(tempDir("responsive-sync"));
  const page = phone.pages()[0];
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  await waitSynced(page);
  await phone.setOffline(true);
  await page.getByText("离线").waitFor();

  // While the phone is away, a colleague's tool writes many visits to the unit's ledger, one
  // change each (a peer with a token, writing in the ledger's schema).
  let url, token;
  ({ repo, url, token } = await peerWritesVisits(server, "张伟", CHANGES));
  // The server has them all when a second peer reads them there.
  const check = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${server.port}/sync?token=${token}`)] });
  // Waits while the count grows (12 s on an idle machine, over 36 s in a loaded CI run); fails
  // when it stands still for 30 s.
  for (let seen = -1, since = Date.now(); ; ) {
    const there = await check.find(url);
    const count = Object.keys(there.doc().visits).length;
    if (count >= CHANGES) break;
    if (count > seen) [seen, since] = [count, Date.now()];
    assert.ok(Date.now() - since < 30_000, `the server stopped at ${seen} of the peer's ${CHANGES} visits`);
    await new Promise((r) => setTimeout(r, 300));
  }
  await check.shutdown().catch(() => {});

  // Back in coverage, on a cheap phone, with the form open: the sync starts, and the person
  // types and taps meanwhile. The page notes when each keystroke took effect and when the state
  // first said 已同步.
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').waitFor();
  await page.evaluate(() => {
    window.__keystrokes = [];
    document.addEventListener("input", () => window.__keystrokes.push(performance.now()), true);
    const state = document.querySelector('[data-testid="sync-state"]');
    new MutationObserver(() => {
      if (window.__synced === undefined && /已同步/.test(state.textContent)) window.__synced = performance.now();
    }).observe(state, { subtree: true, childList: true, characterData: true });
  });
  await throttled(phone, page);
  await phone.setOffline(false);
  await page.getByText("正在同步").waitFor({ timeout: 30_000 });
  await page.locator('input[name="whom"]').pressSequentially("同步时");
  assert.equal(await page.locator('input[name="whom"]').inputValue(), "同步时");
  await page.getByTestId("problems-tab").click();
  await page.getByTestId("problem-count").waitFor();
  const tabShown = await page.evaluate(() => performance.now());
  await waitSynced(page);
  const times = await page.evaluate(() => ({ keystrokes: window.__keystrokes, synced: window.__synced }));
  if (process.env.PIONEER_TEST_VERBOSE) console.error(JSON.stringify({ ...times, tabShown }));
  assert.equal(times.keystrokes.length, 3, JSON.stringify(times));
  assert.ok(Math.max(...times.keystrokes, tabShown) < times.synced, `the tap and the typing waited for the sync: ${JSON.stringify({ ...times, tabShown })}`);

  // Once synced, a visit typed now saves beside the colleague's.
  await page.getByRole("link", { name: "走访", exact: true }).click();
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill("同步时录入");
  await page.locator('textarea[name="heard"]').fill("在同步期间填写");
  await page.getByRole("button", { name: "保存" }).click();
  await waitLive(page);
  await page.waitForFunction((n) => /共 (\d+) 条/.test(document.querySelector('[data-testid="visit-count"]')?.textContent ?? "") && Number(/共 (\d+) 条/.exec(document.querySelector('[data-testid="visit-count"]').textContent)[1]) >= n, CHANGES + 1, { timeout: 120_000 });
  await waitSynced(page);
  await phone.close();
});

test("a worker that cannot start is said so, with a way to reload", async () => {
  const phone = await launchPersistent(tempDir("responsive-broken"), { serviceWorkers: "block" });
  const page = phone.pages()[0];
  await page.route("**/app-worker*", (route) => route.fulfill({ status: 500, body: "" }));
  await page.goto(server.url);
  await page.getByRole("alert").filter({ hasText: "后台线程出错" }).waitFor();
  await page.getByRole("button", { name: "刷新" }).waitFor();
  await phone.close();
});
