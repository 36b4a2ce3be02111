// Interop: peers written elsewhere — the JS @automerge/automerge-repo 2.5 with its WebSocket
// adapter — create, edit and read documents through our sync-server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { recordId, signed, visit } from "../e2e/ledger_peer.mjs";
import WebSocket from "ws";
import { Server } from "../e2e/harness.mjs";

let server;
const repos = [];

before(async () => {
  server = await Server.start();
});

after(async () => {
  for (const r of repos) await r.shutdown().catch(() => {});
  await server?.stop();
  server?.cleanup();
  // automerge-repo's WebSocket adapter arms a reconnect timer when a socket closes that
  // shutdown() does not clear; do not let it keep this test process alive.
  setTimeout(() => process.exit(), 1000).unref();
});

/** A peer acting for `name` (a person of the demo organisation), with a device token an admin
 * issued for it, passed as the `token` query parameter. */
const tokens = new Map();
async function tokenOf(name) {
  if (!tokens.has(name)) tokens.set(name, await server.tokenFor(name, "automerge-repo peer"));
  return tokens.get(name);
}

function repo(token = tokens.get("李娜")) {
  const r = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${server.port}/sync?token=${token}`)] });
  repos.push(r);
  return r;
}

/** Resolves when `check(doc)` holds for the handle's document, or fails after `ms`. */
async function until(handle, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const doc = handle.doc();
    if (doc && check(doc)) return doc;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out; document is ${JSON.stringify(handle.doc())}`);
}

/**
 * Finds a document from a fresh peer, retrying while the creator's upload is still on its
 * way: our server answers from what it stores and does not ask other peers for documents.
 */
async function findWhenUploaded(url, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = repo();
    try {
      return await r.find(url);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
}

test("a JS peer's edit of its unit's ledger reaches another JS peer through our server, and edits flow back", async () => {
  await tokenOf("李娜");
  const [{ url }] = await server.ledgersOf("李娜");
  const a = repo();
  const handle = await a.find(url);
  const [v1, v2] = [recordId(), recordId()];
  handle.change((d) => {
    d.visits[v1] = visit({ whom: "张大爷家", heard: "路灯坏了" });
  }, signed("李娜", "visits", v1));
  const other = await findWhenUploaded(handle.url);
  const seen = await until(other, (d) => String(d.visits?.[v1]?.whom) === "张大爷家");
  assert.equal(seen.visits[v1].heard, "路灯坏了");

  other.change((d) => {
    d.visits[v2] = visit({ whom: "李阿姨", heard: "低保" });
  }, signed("李娜", "visits", v2));
  await until(handle, (d) => String(d.visits?.[v2]?.whom) === "李阿姨");

  // A peer that connects later gets everything from the server's storage.
  await server.restart();
  const late = await findWhenUploaded(handle.url);
  const all = await until(late, (d) => Object.keys(d.visits ?? {}).length === 2);
  assert.deepEqual(Object.keys(all.visits).sort(), [v1, v2].sort());
});

test("a unit's new ledger is readable by a JS peer, with our schema", async () => {
  const [{ url }] = await server.ledgersOf("陈杰");
  const handle = await repo(await tokenOf("陈杰")).find(url);
  const doc = await until(handle, (d) => d.schema !== undefined);
  assert.equal(Number(doc.schema), 4);
  for (const section of ["visits", "problems", "enterprises", "pledges", "surveys", "posts", "ratings", "rules", "rounds", "notices"]) {
    assert.deepEqual({ ...doc[section] }, {}, section);
  }
  // The demo county's office opened a plan round: the village's plan waits in its ledger.
  const plans = Object.values(doc.plans);
  assert.equal(plans.length, 1);
  assert.match(String(plans[0].title), /实施方案/);
  assert.equal(String(plans[0].office), "示范县先锋办");
});

test("asking for a document nobody has, or another unit's, is answered as unavailable", async () => {
  const r = repo(await tokenOf("李娜"));
  await assert.rejects(r.find("automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh"), /unavailable/i);
  const [{ url: elsewhere }] = await server.ledgersOf("陈杰");
  await assert.rejects(repo(await tokenOf("李娜")).find(elsewhere), /unavailable/i);
});

test("a document a JS peer makes is not taken by the server", async () => {
  const handle = repo(await tokenOf("李娜")).create({ visits: { x: { whom: "无中生有" } } });
  await new Promise((r) => setTimeout(r, 1_000));
  await assert.rejects(repo(await tokenOf("李娜")).find(handle.url), /unavailable/i);
});

test("a peer without a token is refused before the protocol starts", async () => {
  const refused = await new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sync`);
    ws.on("open", () => resolve(false));
    ws.on("unexpected-response", (_, response) => resolve(response.statusCode === 401));
    ws.on("error", () => resolve(true));
  });
  assert.ok(refused, "a socket without a token was opened");
});
