// Two tabs of one phone are two writers of one IndexedDB ledger. Both save visits at once,
// offline, past the point where compaction folds the chunks into a snapshot (each tab
// compacting on its own schedule): every saved visit is still there after the browser
// restarts, and the stored snapshot carries a compaction tag.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Server, addVisit, closeBrowsers, launchPersistent, openApp, tempDir, visitCount, waitForServiceWorker, waitLive } from "./harness.mjs";

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

test("two tabs saving at once while compaction runs lose no visit", async () => {
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
