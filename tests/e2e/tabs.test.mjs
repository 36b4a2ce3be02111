// Two tabs of one phone are two writers of one IndexedDB ledger. Both save visits at once,
// offline, past the point where compaction folds the chunks into a snapshot (each tab
// compacting on its own schedule): every saved visit is still there after the browser
// restarts, and the stored snapshot carries a compaction tag.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Server, addVisit, closeBrowsers, launchPersistent, openApp, tempDir, visitCount, waitForServiceWorker, waitLive, waitSynced } from "./harness.mjs";

let server;
before(async () => {
  server = await Server.start();
});
after(async () => {
  await closeBrowsers();
  await server?.stop();
  server?.cleanup();
});

const PER_TAB = 36; // two tabs: 72 chunks, past the 64 that start a compaction

// 72 saves through the form: about 100 s on CI's two cores, more beside the other jobs; its own
// limit rather than the suite's 180 s.
test("two tabs saving at once while compaction runs lose no visit", { timeout: 360_000 }, async () => {
  const profile = tempDir("two-tabs");
  let phone = await launchPersistent(profile);
  const first = phone.pages()[0];
  await openApp(first, server.url);
  await waitForServiceWorker(first);
  await phone.setOffline(true);
  const second = await phone.newPage();
  await second.goto(server.url);
  await waitLive(second);

  await Promise.all(
    [first, second].map(async (tab, t) => {
      for (let i = 0; i < PER_TAB; i++) await addVisit(tab, { whom: `第${t + 1}页-${i}`, heard: `走访记录 ${i}` });
    }),
  );
  await phone.close();

  phone = await launchPersistent(profile, { offline: true });
  const page = phone.pages()[0];
  await page.goto(server.url);
  await waitLive(page);
  assert.equal(await visitCount(page), 2 * PER_TAB);
  const stored = await page.evaluate(
    () =>
      new Promise((ok, fail) => {
        const open = indexedDB.open("pioneer-ledger");
        open.onerror = () => fail(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction(["snapshots", "chunks"], "readonly");
          const snapshot = tx.objectStore("snapshots").get("unit-ledger");
          const chunks = tx.objectStore("chunks").count();
          tx.oncomplete = () => ok({ tag: snapshot.result?.tag ?? 0, chunks: chunks.result });
        };
      }),
  );
  assert.ok(stored.tag > 0, `no compaction wrote a snapshot: ${JSON.stringify(stored)}`);
  assert.ok(stored.chunks < 2 * PER_TAB, `chunks were never folded: ${JSON.stringify(stored)}`);
  await phone.close();
});

/** The names of the visits a phone's list shows (none has a place, so the name is the text). */
const shownVisits = (page) => page.locator(".cards .whom").allTextContents();

test("one tab syncs for the phone; closing it mid-save loses and doubles nothing, and the other tab takes over", async () => {
  const phone = await launchPersistent(tempDir("tabs-sync"));
  const sockets = [];
  const watch = (tab) => tab.on("websocket", (ws) => { if (ws.url().endsWith("/sync")) sockets.push(ws); });
  const first = phone.pages()[0];
  watch(first);
  await openApp(first, server.url);
  await waitSynced(first);
  const second = await phone.newPage();
  watch(second);
  await second.goto(server.url);
  await waitLive(second);
  // The second tab follows: it shows the first tab's sync state and opens no connection.
  await waitSynced(second);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(sockets.filter((ws) => !ws.isClosed()).length, 1, "more than one tab of the phone connected");

  // Both tabs save at once; the syncing tab is closed right after it was asked to save one more.
  const saved = { first: [], second: [] };
  const saving = async (tab, name, n, from = 0) => {
    for (let i = from; i < from + n; i++) {
      await addVisit(tab, { whom: `${name}-${i}`, heard: `走访记录 ${i}` });
      saved[name].push(`${name}-${i}`);
    }
  };
  await Promise.all([saving(first, "first", 5), saving(second, "second", 5)]);
  await first.getByRole("link", { name: "＋ 记走访" }).click();
  await first.locator('input[name="whom"]').fill("first-closed");
  await first.locator('textarea[name="heard"]').fill("保存中关闭");
  await first.getByRole("button", { name: "保存" }).click();
  await first.close();
  await saving(second, "second", 8, 5);

  // The remaining tab now holds the connection and uploads everything the phone has.
  await second.goto(server.url);
  await waitLive(second);
  await waitSynced(second);
  const here = await shownVisits(second);
  for (const name of [...saved.first, ...saved.second]) assert.ok(here.includes(name), `${name} was lost`);
  assert.equal(new Set(here).size, here.length, `a visit shows twice: ${here}`);
  assert.ok(sockets.some((ws) => !ws.isClosed()), "the remaining tab never connected");

  // The server has each visit once: a fresh phone of the same person shows the same list.
  const other = await launchPersistent(tempDir("tabs-sync-check"));
  const check = other.pages()[0];
  await openApp(check, server.url);
  await waitSynced(check);
  await check.waitForFunction((n) => document.querySelectorAll(".cards .whom").length >= n, here.length, { timeout: 30_000 });
  const there = await shownVisits(check);
  assert.deepEqual([...there].sort(), [...here].sort());
  await Promise.all([phone.close(), other.close()]);
});
