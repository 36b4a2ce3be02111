// What the interop tests' JS peers share: waiting for a condition, and finding a document
// another peer is still uploading.

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
