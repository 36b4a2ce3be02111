// Diagnosis only (not a benchmark): a CPU profile of the first tap on 走访 while a full
// ledger's document loads, at 4x throttling. Prints the heaviest functions by self time.
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, Server, phoneWithLedger, tempDir } from "../tests/e2e/harness.mjs";

const path = join(tempDir("probe-ledger"), "ledger.automerge");
execFileSync(join(ROOT, "target/release/examples/make_ledger"), ["5000", path, "2000", "500"]);
const dist = tempDir("probe-dist");
cpSync(join(ROOT, "dist"), dist, { recursive: true });
const server = await Server.start({ dist });
const context = await phoneWithLedger(server, readFileSync(path));
for (let run = 0; run < 2; run++) {
  const p = await context.newPage();
  const cdp = await context.newCDPSession(p);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await p.goto(server.url + "/problems");
  await p.waitForFunction(() => performance.getEntriesByName("pioneer:problems-ready").length > 0);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  const t = await p.evaluate(() => new Promise((ok) => {
    const link = [...document.querySelectorAll(".bottom-nav a")].find((a) => a.textContent.startsWith("走访"));
    const t0 = performance.now();
    new MutationObserver((_, o) => {
      if (document.querySelector('[data-testid="visit-count"]')) {
        o.disconnect();
        const built = performance.now() - t0;
        requestAnimationFrame(() => ok({ built, took: performance.now() - t0 }));
      }
    }).observe(document.body, { subtree: true, childList: true });
    link.click();
  }));
  const { profile } = await cdp.send("Profiler.stop");
  console.log(`run ${run}: built ${t.built.toFixed(0)} ms, frame ${t.took.toFixed(0)} ms`);
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const key = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").pop()}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).forEach(([k, v]) => console.log(`  ${v.toFixed(1)} ms  ${k}`));
  await p.close();
}
await context.close();
await server.stop();
server.cleanup();
process.exit(0);
