// The benchmarks' full phone for the trace tools (tap_profile.mjs, load_trace.mjs): a ledger of
// 5,000 visits, 2,000 problems and 500 pledges on a phone that has opened it once (its lists
// cached), a server on a copy of `source`, and a fresh page at 4x CPU throttling; and a Chromium
// trace of that page.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, Server, phoneWithLedger, tempDir } from "../tests/e2e/harness.mjs";

/** `{ server, phone, page, cdp }`; stop the server (and clean it up) when done. */
export async function fullPhone(source) {
  const path = join(tempDir("full-phone"), "ledger.automerge");
  const maker = join(ROOT, "target/release/examples/make_ledger");
  if (!existsSync(maker)) execFileSync("cargo", ["build", "--quiet", "--release", "-p", "ledger", "--example", "make_ledger"], { cwd: ROOT });
  execFileSync(maker, ["5000", path, "2000", "500"]);
  const dist = tempDir("full-phone-dist");
  cpSync(source, dist, { recursive: true });
  const server = await Server.start({ dist });
  const phone = await phoneWithLedger(server, readFileSync(path));
  const page = await phone.newPage();
  const cdp = await phone.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  return { server, phone, page, cdp };
}

/** Starts a trace of the page's renderer; `stop()` resolves to its events. */
export function startTrace(cdp) {
  const events = [];
  cdp.on("Tracing.dataCollected", ({ value }) => events.push(...value));
  const started = cdp.send("Tracing.start", {
    transferMode: "ReportEvents",
    traceConfig: { includedCategories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.wasm", "blink", "loading"] },
  });
  return {
    started,
    async stop() {
      const done = new Promise((ok) => cdp.once("Tracing.tracingComplete", ok));
      await cdp.send("Tracing.end");
      await done;
      return events;
    },
  };
}
