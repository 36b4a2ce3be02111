// The supervisor's desk on a generated organisation (default 300 units x 1,000 records):
// generation and full rebuild of the read model, the server's time for the city's overview,
// one unit and the overdue list, the projection cost per incoming change, the export of every
// record (and of one county, to show memory flat in the row count), then in Chromium the time
// to a rendered overview of the city and to a rendered drill-down to one unit. Loopback only.
// Usage (after scripts/build.sh and `cargo build --release -p sync-server --example bench_desk`):
//   node bench/desk/run.mjs [UNITS] [RECORDS]     (DESK_BENCH_DIR= keeps the generated data)
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "../..");
const UNITS = process.argv[2] ?? "300";
const RECORDS = process.argv[3] ?? "1000";
const dir = process.env.DESK_BENCH_DIR ?? join(tmpdir(), `pioneer-desk-${UNITS}x${RECORDS}`);
const bench = join(ROOT, "target/release/examples/bench_desk");
const run = (...args) => execFileSync(bench, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();

if (!existsSync(join(dir, "ledger.sqlite3"))) console.log(run("prepare", dir, UNITS, RECORDS));
console.log(run("measure", dir));
console.log(run("export", dir));
console.log(run("export", dir, "county"));

const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
const port = 18190;
const url = `http://127.0.0.1:${port}`;
const server = spawn(join(ROOT, "target/release/sync-server"), ["--listen", `127.0.0.1:${port}`, "--data-dir", dir, "--dist", join(ROOT, "dist")], { stdio: "ignore" });
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (i > 200) throw new Error("server never became healthy");
    await new Promise((r) => setTimeout(r, 50));
  }
  const login = await fetch(`${url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: "supervisor", password: "bench-password-1" }) });
  const token = login.headers.get("set-cookie").split(";")[0].split("=")[1];
  const year = new Date().getFullYear();
  const overview = await (await fetch(`${url}/api/desk/overview?period=${year}`, { headers: { cookie: `pl_device=${token}` } })).json();
  const rows = overview.rows.length;
  const unit = overview.rows.find((r) => r.ledger);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  await context.addCookies([{ name: "pl_device", value: token, url, httpOnly: true, sameSite: "Strict" }]);
  const page = await context.newPage();
  const rendered = [];
  const drill = [];
  for (let i = 0; i < 6; i++) {
    await page.goto("about:blank");
    await page.goto(`${url}/desk/#overview?period=${year}`);
    // From the start of navigation to every row of the overview on screen.
    const ms = await page.waitForFunction((n) => document.querySelectorAll('[data-testid="overview"] tbody tr').length === n && performance.now(), rows, { timeout: 60_000, polling: "raf" });
    if (i > 0) rendered.push(await ms.jsonValue());
    // Drill down to one unit (a click's hash change) until its row alone is drawn.
    const took = await page.evaluate(async (unit) => {
      const t = performance.now();
      location.hash = `#overview?period=${new Date().getFullYear()}&node=${unit}`;
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const trs = document.querySelectorAll('[data-testid="overview"] tbody tr');
        if (trs.length === 1 && trs[0].dataset.unit) return performance.now() - t;
      }
    }, unit.unit);
    if (i > 0) drill.push(took);
  }
  console.log(`Chromium: overview of the city (${rows} rows) rendered ${median(rendered).toFixed(0)} ms after navigation (median of 5, service worker and wasm cached); drill-down to one unit rendered in ${median(drill).toFixed(0)} ms`);
  await browser.close();
} finally {
  server.kill("SIGKILL");
}
