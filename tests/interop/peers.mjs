// What the interop tests' JS peers share: waiting for a condition, finding a document
// another peer is still uploading, and many peers writing one document at once.
import { recordId, signed, visit } from "../e2e/ledger_peer.mjs";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check()` holds; fails after `ms`, naming `what`. */
export async function until(what, check, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A handle of `url` from a fresh repo (`makeRepo()`), retried while the document's creator is
 * still uploading it: our server answers from what it stores and asks no other peer. */
export async function findRetrying(makeRepo, url, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await makeRepo().find(url);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

/** How many of `writeAtOnce`'s edits a document holds. */
export const editCount = (doc) => Object.values(doc?.visits ?? {}).filter((v) => String(v.place).startsWith("edit ")).length;

/**
 * Every handle writes `edits` visits of its own at once, as `author`, a few milliseconds apart
 * (each peer its own rhythm), each a change of its own; resolves when every change is made.
 */
export async function writeAtOnce(handles, edits, author) {
  await Promise.all(
    handles.map(async (h, p) => {
      for (let e = 0; e < edits; e++) {
        const id = recordId();
        h.change((d) => {
          d.visits[id] = visit({ whom: `p${p}`, place: `edit p${p}-e${e}` });
        }, signed(author, "visits", id));
        await sleep(5 + ((p * 7 + e * 3) % 21));
      }
    }),
  );
}
