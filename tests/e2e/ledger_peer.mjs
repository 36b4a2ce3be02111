// What a third-party automerge-repo peer must write for our server to take it: records in the
// ledger's schema (ledger/src/unit_ledger/*.rs: plain strings as ImmutableString, free text as
// Text, times as Date) and a change note naming the record and signed with the name of the
// person whose token the peer holds (ledger/src/record.rs, ChangeNote).
import { randomBytes } from "node:crypto";
import { ImmutableString } from "@automerge/automerge";

/** A fresh record id: 16 random bytes as 32 hex digits, the only key shape the ledger takes. */
export const recordId = () => randomBytes(16).toString("hex");

/** A visit as the schema has it. */
export function visit({ whom, heard = "", place = "", kind = "home", date = "2026-11-20", at = Date.now() }) {
  const plain = (s) => new ImmutableString(s);
  return {
    date: plain(date),
    kind: plain(kind),
    whom: plain(whom),
    place: plain(place),
    heard,
    opinions: "",
    follow_up_needed: false,
    follow_up: "",
    enterprise: plain(""),
    created_at: new Date(at),
    updated_at: new Date(at),
    deleted: false,
  };
}

/** The change options of an edit of one record, signed by `by`. */
export const signed = (by, section, id, summary = "修改记录") => ({ message: `${summary}\nrecord=${section}/${id}\nby=${by}` });

/**
 * A colleague's tool writes `count` visits into `person`'s first unit ledger on `server`, one
 * change each, through a token of its own; returns its repo (shut it down when done).
 */
export async function peerWritesVisits(server, person, count) {
  const { Repo } = await import("@automerge/automerge-repo");
  const { WebSocketClientAdapter } = await import("@automerge/automerge-repo-network-websocket");
  const token = await server.tokenFor("批量录入", "js peer");
  const repo = new Repo({ network: [new WebSocketClientAdapter(`ws://127.0.0.1:${server.port}/sync?token=${token}`)] });
  const [{ url }] = await server.ledgersOf(person);
  const handle = await repo.find(url);
  for (let i = 0; i < count; i++) {
    const id = recordId();
    handle.change((d) => {
      d.visits[id] = visit({ whom: `批量走访${i}`, heard: "批量录入的走访情况" });
    }, signed("批量录入", "visits", id, "新增走访"));
  }
  return { repo, url, token };
}
