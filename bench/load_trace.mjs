// What the page's main thread does while the worker loads a full ledger's document (5,000
// visits, 2,000 problems, 500 pledges; 4x CPU throttling): a Chromium trace from the start to
// the document's opening; the time busy, in layout, style and major GC from the first list
// on screen until the document opened, and (LIST=1) each task of 3 ms or more, with what it
// spent its time on. A tap in that window waits for the task it lands on.
//
// Usage: node bench/load_trace.mjs [DIST]   (SYNC_SERVER_BIN: the server to run)
import { join } from "node:path";
import { ROOT } from "../tests/e2e/harness.mjs";
import { fullPhone, startTrace } from "./full_phone.mjs";

const { server, phone, page, cdp } = await fullPhone(process.argv[2] ?? join(ROOT, "dist"));
const trace = startTrace(cdp);
await trace.started;
await page.goto(`${server.url}/problems`);
await page.waitForFunction(() => performance.getEntriesByName("pioneer:ledger-open").length > 0, null, { timeout: 120_000, polling: 500 });
const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType("mark").map((m) => [m.name, m.startTime])));
const events = await trace.stop();
const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
const mine = events.filter((e) => e.ph === "X" && e.dur && e.pid === main.pid && e.tid === main.tid);
const nav = events.find((e) => e.name === "navigationStart" && e.pid === main.pid) ?? events.find((e) => e.name === "TracingStartedInBrowser");
const t0 = nav.ts;
const ms = (ts) => (ts - t0) / 1000;
console.log("marks (ms from the start):", JSON.stringify(marks));
const tasks = mine.filter((e) => e.name === "RunTask" && e.dur > 3000 && ms(e.ts) > marks["pioneer:problems-ready"] - 50 && ms(e.ts) < marks["pioneer:ledger-open"] + 50);
const inWin = mine.filter((e) => ms(e.ts) > marks["pioneer:problems-ready"] - 50 && ms(e.ts) < marks["pioneer:ledger-open"] + 50);
const sum = (name) => inWin.filter((e) => e.name === name).reduce((a, e) => a + e.dur / 1000, 0).toFixed(1);
console.log(`from the first list until the document opened: busy ${sum("RunTask")} layout ${sum("Layout")} style ${sum("UpdateLayoutTree")} gc ${sum("MajorGC")} longest ${Math.max(...tasks.map((t) => t.dur / 1000)).toFixed(1)}`);
for (const t of process.env.LIST ? tasks : []) {
  const kids = mine.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur && e.name !== "RunTask");
  const by = new Map();
  for (const k of kids) by.set(k.name, (by.get(k.name) ?? 0) + k.dur / 1000);
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, d]) => `${n} ${d.toFixed(1)}`).join("; ");
  const fc = kids.find((k) => k.name === "FunctionCall" || k.name === "EventDispatch" || k.name === "TimerFire" || k.name === "FireAnimationFrame" || k.name === "v8.callFunction");
  console.log(`${ms(t.ts).toFixed(0).padStart(6)} +${(t.dur / 1000).toFixed(1).padStart(6)}  ${top}  | ${JSON.stringify(fc?.args?.data ?? {}).slice(0, 150)}`);
}
await phone.close();
await server.stop();
server.cleanup();
process.exit(0);
