// The public board (先锋广场) as a resident meets it: a QR code opened on a weak connection.
// Usage: node bench/board.mjs   (after scripts/bundles.sh and a build of the server; writes a
// Markdown table to stdout). SYNC_SERVER_BIN picks the server binary, BENCH_RUNS the runs.
//
// Chromium's network emulation at DevTools' "Fast 3G" (562.5 ms round trip, 1.44 Mbit/s down,
// 675 kbit/s up: Lighthouse's 3G preset), and 4x CPU throttling as the phone benchmarks use.
// Each page is opened in a fresh context (nothing cached), and its time to the first
// contentful paint and to `load` is compared with the same server's 1-byte answer to /healthz
// loaded the same way in the same run (the floor: a round trip or two and nothing to show),
// because this machine is shared. Bytes are what the page and everything it loads sent.
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, Server } from "../tests/e2e/harness.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FAST_3G = { offline: false, latency: 562.5, downloadThroughput: (1.44 * 1e6) / 8, uploadThroughput: (0.675 * 1e6) / 8 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function open(browser, url) {
  // Scripts on, as in WeChat's browser: the board's pages carry none (their CSP allows none),
  // and the timings are read from the page's own Performance entries.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "zh-CN" });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", FAST_3G);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => (bytes += e.encodedDataLength));
  const response = await page.goto(url, { waitUntil: "load" });
  if (!response.ok()) throw new Error(`${url}: ${response.status()}`);
  await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0, null, { timeout: 10_000 });
  const { fcp, loaded } = await page.evaluate(() => ({
    fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,
    loaded: performance.getEntriesByType("navigation")[0].loadEventEnd,
  }));
  await context.close();
  return { loaded, fcp, bytes };
}

async function measure(browser, url) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await open(browser, url));
  return { loaded: median(runs.map((r) => r.loaded)), fcp: median(runs.map((r) => r.fcp)), bytes: Math.max(...runs.map((r) => r.bytes)) };
}

const server = await Server.start();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
try {
  const lina = [...server.accounts.values()].find((a) => a.login === "lina") ?? (await server.account("lina"));
  const [ledger] = await server.ledgersOf(lina.name);
  const board = ledger.boardUrl;
  const html = await (await fetch(board)).text();
  const rate = new URL(/href="([^"]*\/rate\/post\/[^"]*)"/.exec(html)?.[1] ?? /href="([^"]*\/rate\/[^"]*)"/.exec(html)[1], board).href;
  const floor = await measure(browser, `${server.url}/healthz`);
  const rows = [];
  for (const [what, url] of [
    ["the unit's board (东风社区, demo posts and pledges)", board],
    ["a poster's rating form", rate],
  ]) {
    const m = await measure(browser, url);
    rows.push(
      `| ${what} | ${m.fcp.toFixed(0)} ms to first paint, ${m.loaded.toFixed(0)} ms to load | /healthz: ${floor.fcp.toFixed(0)} ms / ${floor.loaded.toFixed(0)} ms; the page's first paint is ${(m.fcp / floor.fcp).toFixed(2)}x the floor's | ${(m.bytes / 1024).toFixed(1)} KB | ≤ 1 s, ≤ 50 KB |`,
    );
  }
  console.log(`Chromium ${browser.version()}, Fast 3G (562.5 ms RTT, 1.44 Mbit/s down), 4x CPU, fresh context per run, median of ${RUNS}; bytes: the largest run's total on the wire.\n`);
  console.log("| page | figure | baseline in the same run | transferred | issue's target |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await browser.close();
  await server.stop();
  server.cleanup();
}
