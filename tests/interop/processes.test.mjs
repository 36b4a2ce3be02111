// Two sync-server processes on one PostgreSQL, JS automerge-repo 2.5 peers on each: an edit
// made through one process reaches a peer of the other while both stay connected; five peers
// on each write one document at once and every one ends with every edit; one process is
// killed with SIGKILL, and a fresh peer on the other, and on the killed one once it is back,
// reads every edit.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { recordId, signed, visit } from "../e2e/ledger_peer.mjs";
import { Server, startPostgres } from "../e2e/harness.mjs";
import { editCount, findRetrying, until, writeAtOnce } from "./peers.mjs";

let postgres;
const servers = [];
const repos = [];

before(async () => {
  postgres = await startPostgres(1);
  const args = ["--database", postgres.urls[0]];
  // One after the other: the first makes the tables and the demo organisation.
  servers.push(await Server.start({ args }));
  servers.push(await Server.start({ args }));
});

after(async () => {
  for (const r of repos) await r.shutdown().catch(() => {});
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  await postgres?.stop();
  setTimeout(() => process.exit(), 1000).unref();
});

let token;
function repo(server) {
  const r = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${server.port}/sync?token=${token}`)] });
  repos.push(r);
  return r;
}

const findOn = (server, url) => findRetrying(() => repo(server), url);

const PER_PROCESS = 5;
const EDITS = 20;
const edits = editCount;

test("JS peers on two processes sharing PostgreSQL see each other's edits live and lose none when one is killed", async () => {
  const [one, two] = servers;
  // The demo's accounts as the second start printed them (each start gives fresh secrets).
  token = await two.tokenFor("陈杰", "js peer");
  const [{ url }] = await two.ledgersOf("陈杰");

  // Live, both ways, over connections that stay open.
  const a = await findOn(one, url);
  const b = await findOn(two, url);
  const first = recordId();
  a.change((d) => {
    d.visits[first] = visit({ whom: "王大妈家", place: "one→two" });
  }, signed("陈杰", "visits", first));
  await until("the edit made through the first process to reach a peer of the second", () => String(b.doc()?.visits?.[first]?.whom) === "王大妈家", 10_000);
  const second = recordId();
  b.change((d) => {
    d.visits[second] = visit({ whom: "李师傅家", place: "two→one" });
  }, signed("陈杰", "visits", second));
  await until("the edit made through the second process to reach a peer of the first", () => String(a.doc()?.visits?.[second]?.whom) === "李师傅家", 10_000);

  // Five peers on each process write at once.
  const handles = [a, b];
  for (let p = 2; p < 2 * PER_PROCESS; p++) handles.push(await findOn(p % 2 === 0 ? one : two, url));
  await writeAtOnce(handles, EDITS, "陈杰");
  const all = 2 * PER_PROCESS * EDITS;
  // A peer sees the other process's peers' edits only through PostgreSQL and the other
  // process: once every peer has all of them, both processes had them.
  await until("every peer to see every edit", () => handles.every((h) => edits(h.doc()) === all), 60_000).catch((e) => {
    throw new Error(`${e.message}: ${handles.map((h) => edits(h.doc())).join(", ")} of ${all}`);
  });

  one.proc.kill("SIGKILL");
  await one.exited;
  const survivor = await findOn(two, url);
  await until("a fresh peer on the process that stayed up to read every edit", () => edits(survivor.doc()) === all, 30_000);
  await one.restart();
  const back = await findOn(one, url);
  await until("a fresh peer on the restarted process to read every edit", () => edits(back.doc()) === all, 30_000);
  assert.equal(String(back.doc().visits[second].whom), "李师傅家");
});
