// Loads every document the forged_changes fuzz target accepted (PIONEER_FUZZ_KEEP=DIR) in
// automerge-js, the other implementation our protocol meets, and checks it has the heads Rust
// gave it (the file name: the first 16 hex digits of each head, joined by "-").
// Usage: node scripts/fuzz_js_check.mjs DIR [--at-least N]   (fails if fewer were checked)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as Automerge from "@automerge/automerge";

const dir = process.argv[2];
const atLeast = process.argv[3] === "--at-least" ? Number(process.argv[4]) : 0;
if (!dir) {
  console.error("usage: node scripts/fuzz_js_check.mjs DIR");
  process.exit(2);
}
let loaded = 0;
const failed = [];
for (const name of readdirSync(dir).filter((n) => n.endsWith(".automerge"))) {
  const expected = name.slice(0, -".automerge".length).split("-").sort();
  try {
    const doc = Automerge.load(new Uint8Array(readFileSync(join(dir, name))));
    const heads = Automerge.getHeads(doc).map((h) => h.slice(0, 16)).sort();
    if (JSON.stringify(heads) !== JSON.stringify(expected)) throw new Error(`heads ${heads} instead of ${expected}`);
    loaded += 1;
  } catch (e) {
    failed.push(`${name}: ${e.message ?? e}`);
  }
}
console.log(`automerge-js loaded ${loaded} of ${loaded + failed.length} accepted documents`);
for (const f of failed) console.log(`  cannot load ${f}`);
if (loaded + failed.length < atLeast) {
  console.log(`  fewer than ${atLeast} documents to check: the check would prove nothing`);
  process.exit(1);
}
process.exit(failed.length ? 1 : 0);
