// Changes that arrive from the server are written to IndexedDB once: they count as persisted,
// so the phone's next local save writes only its own change, not the colleague's again.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, launchPersistent, openApp, serveForTests, tempDir, waitForServiceWorker, waitSynced } from "./harness.mjs";

const served = serveForTests();

/** Every chunk of the phone's IndexedDB: its key and size in bytes. */
const chunks = (page) =>
  page.evaluate(
    () =>
      new Promise((ok, fail) => {
        const open = indexedDB.open("pioneer-ledger");
        open.onerror = () => fail(open.error);
        open.onsuccess = () => {
          const rows = [];
          const tx = open.result.transaction(["chunks"], "readonly");
          tx.objectStore("chunks").openCursor().onsuccess = (e) => {
            const cursor = e.target.result;
            if (!cursor) return;
            rows.push({ key: cursor.key, size: cursor.value.bytes.byteLength });
            cursor.continue();
          };
          tx.oncomplete = () => ok(rows);
          tx.onerror = () => fail(tx.error);
        };
      }),
  );

const total = (rows) => rows.reduce((sum, r) => sum + r.size, 0);

/** Text that DEFLATE cannot shrink much: distinct CJK characters. */
const longText = (seed, n) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + ((seed * 7919 + i * 104729) % 20000))).join("");

test("changes from the server are stored once, and a local save writes only its own change", async () => {
  const colleague = await launchPersistent(tempDir("colleague"));
  const phone = await launchPersistent(tempDir("phone"));
  const c = colleague.pages()[0];
  const p = phone.pages()[0];
  await openApp(p, served.server.url);
  await waitForServiceWorker(p);
  await waitSynced(p);

  // A colleague records three long visits (about 3.6 KB of text each; together under the 16 KB
  // of chunks that would start a compaction and fold the chunks away).
  await openApp(c, served.server.url);
  for (let i = 0; i < 3; i++) await addVisit(c, { whom: `远端走访-${i}`, heard: longText(i + 1, 1200) });
  await waitSynced(c);

  // The phone receives them and stores them.
  await p.getByText("远端走访-2").waitFor({ timeout: 30_000 });
  await waitSynced(p);
  const received = await chunks(p);
  assert.ok(total(received) > 7_000, `the colleague's visits were not stored: ${JSON.stringify(received)}`);

  // A short local visit: the chunks it adds hold that visit only.
  await addVisit(p, { whom: "本机走访", heard: "路灯" });
  await waitSynced(p);
  const after = await chunks(p);
  const lastKey = Math.max(0, ...received.map((r) => r.key));
  const added = after.filter((r) => r.key > lastKey);
  assert.ok(added.length >= 1, `the local save wrote nothing: ${JSON.stringify(after)}`);
  assert.ok(total(added) < 2_000, `the local save wrote the colleague's changes again: ${JSON.stringify(added)}`);

  await colleague.close();
  await phone.close();
});
