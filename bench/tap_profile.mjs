// Where the first tap on 走访 spends its time, on the benchmarks' full phone (5,000 visits,
// 2,000 problems) at 4x CPU throttling of the page: a CPU profile of the page's thread from the
// tap to the frame after the list, self time per function, top 30.
//
// Usage: node bench/tap_profile.mjs [DIST]   (DIST: a dist/ with a name section kept, so wasm
// functions have names; the default dist/ shows them as wasm-function[N])
//   BENCH_TRACE=1  a Chromium trace instead of the CPU profile: the time in each kind of the
//                  renderer's work (style, layout, paint, script, compiling) during the tap
import { join } from "node:path";
import { ROOT } from "../tests/e2e/harness.mjs";
import { fullPhone, startTrace } from "./full_phone.mjs";

const { server, phone, page, cdp } = await fullPhone(process.argv[2] ?? join(ROOT, "dist"));
try {
  await page.goto(`${server.url}/problems`);
  await page.waitForFunction(() => performance.getEntriesByName("pioneer:ledger-open").length > 0, null, { timeout: 120_000 });
  await new Promise((r) => setTimeout(r, 500));
  const trace = process.env.BENCH_TRACE ? startTrace(cdp) : null;
  if (trace) await trace.started;
  else {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
    await cdp.send("Profiler.start");
  }
  const took = await page.evaluate(
    () =>
      new Promise((ok) => {
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
      }),
  );
  if (trace) {
    printTrace(await trace.stop(), took);
    await phone.close();
    process.exit(0);
  }
  const { profile } = await cdp.send("Profiler.stop");
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url ? f.url.split("/").pop() : ""}`.trim();
    self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`tap: DOM built ${took.built.toFixed(0)} ms, next frame ${took.took.toFixed(0)} ms; profile ${total.toFixed(0)} ms`);
  for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${name.slice(0, 150)}`);
  // Who calls the browser's own functions that cost most (BENCH_DETAIL=1).
  if (process.env.BENCH_DETAIL) {
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const callers = new Map();
    profile.samples.forEach((id, i) => {
      const n = byId.get(id);
      if (!/^(setAttribute|decode|insertBefore)$/.test(n.callFrame.functionName)) return;
      const chain = [];
      for (let p = parent.get(id); p && chain.length < 16; p = parent.get(p)) chain.push(byId.get(p).callFrame.functionName.slice(0, 90));
      const key = `${n.callFrame.functionName} <- ${chain.join(" <- ")}`;
      callers.set(key, (callers.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    for (const [k, v] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${v.toFixed(1).padStart(8)} ms  ${k}`);
  }
  await phone.close();
} finally {
  await server.stop();
  server.cleanup();
}

/** Time per event name on the renderer's main thread, the longest first (events nest: a
 *  FunctionCall holds the style and layout it forced, so the rows overlap). */
function printTrace(events, took) {
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
  const mine = events.filter((e) => e.ph === "X" && e.dur && (!main || (e.pid === main.pid && e.tid === main.tid)));
  const by = new Map();
  for (const e of mine) {
    const row = by.get(e.name) ?? { ms: 0, n: 0 };
    row.ms += e.dur / 1000;
    row.n += 1;
    by.set(e.name, row);
  }
  console.log(`tap: DOM built ${took.built.toFixed(0)} ms, next frame ${took.took.toFixed(0)} ms; trace events on the main thread, by name:`);
  for (const [name, { ms, n }] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${String(n).padStart(5)}×  ${name}`);
}
