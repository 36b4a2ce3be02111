// A unit's cadres back in coverage together: ten JS automerge-repo 2.5 peers write small
// edits to one document at once through our server (compaction runs meanwhile), then the
// server is stopped (SIGTERM) and started again on the same data, and then killed (SIGKILL)
// and started again: every edit any peer saw through the server is still there.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { recordId, visit } from "../e2e/ledger_peer.mjs";
import { Server } from "../e2e/harness.mjs";
import { editCount, findRetrying, until, writeAtOnce } from "./peers.mjs";

let server;
const repos = [];

before(async () => {
  server = await Server.start();
});

after(async () => {
  for (const r of repos) await r.shutdown().catch(() => {});
  await server?.stop();
  server?.cleanup();
  setTimeout(() => process.exit(), 1000).unref();
});

let token;
function repo() {
  const r = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${server.port}/sync?token=${token}`)] });
  repos.push(r);
  return r;
}

const findWhenUploaded = (url) => findRetrying(repo, url);

const PEERS = 10;
const EDITS = 30;
// Each edit is a visit of its own, its place naming the peer and edit.
const count = editCount;
const notes = (doc) => Object.values(doc?.visits ?? {}).filter((v) => String(v.place).startsWith("note ")).length;

test("ten JS peers writing one document at once lose nothing across a stop and a kill", async () => {
  // A ledger with some history already, so snapshots are not trivial.
  // Ten peers of one cadre (one device token) on the unit's ledger.
  token = await server.tokenFor("陈杰", "js peer");
  const [{ url }] = await server.ledgersOf("陈杰");
  const first = repo();
  const handle = await first.find(url);
  // Five hundred visits in one change: its note names no single record.
  handle.change((d) => {
    for (let i = 0; i < 500; i++) d.visits[recordId()] = visit({ whom: `走访记录 ${i}`, place: `note ${i}`, heard: "张大爷家路灯不亮，已联系供电所" });
  }, { message: "导入走访\nby=陈杰" });
  const handles = [handle];
  for (let p = 1; p < PEERS; p++) handles.push(await findWhenUploaded(handle.url));

  await writeAtOnce(handles, EDITS, "陈杰");
  // Each peer sees every other peer's edits only through the server, so once all agree the
  // server had every edit.
  await until("every peer to see every edit", () => handles.every((h) => count(h.doc()) === PEERS * EDITS));

  for (const stop of ["restart", "kill"]) {
    if (stop === "restart") await server.restart();
    else {
      server.proc.kill("SIGKILL");
      await server.exited;
      await server.restart();
    }
    const fresh = await findWhenUploaded(handle.url);
    await until(`a fresh peer to read every edit after the ${stop}`, () => count(fresh.doc()) === PEERS * EDITS, 30_000).catch((e) => {
      throw new Error(`${e.message}: it has ${count(fresh.doc())} of ${PEERS * EDITS}`);
    });
    assert.equal(notes(fresh.doc()), 500);
  }
});
