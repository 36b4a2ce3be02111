// Benchmarks of the offline app in Debian's Chromium, against the real server and release build.
// Usage: node bench/app.mjs   (after scripts/build.sh; writes a Markdown table to stdout)
//
// Timings run with Chrome DevTools CPU throttling at 4x and are read from the app's own User
// Timing marks (pioneer:list-ready, pioneer:ledger-open, pioneer:save). Each figure is reported
// with a baseline measured in the same run, as a ratio, because this machine is shared.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import { ROOT, Server, addVisit, launchPersistent, openApp, seedLedger, tempDir, waitForServiceWorker } from "../tests/e2e/harness.mjs";

const THROTTLE = 4;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const VISITS = Number(process.env.BENCH_VISITS ?? 5000);
const PROBLEMS = Number(process.env.BENCH_PROBLEMS ?? 2000);
const PLEDGES = Number(process.env.BENCH_PLEDGES ?? 500);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const fmt = (ms) => `${ms.toFixed(0)} ms`;
const rows = [];
const row = (what, figure, baseline, target) => rows.push(`| ${what} | ${figure} | ${baseline} | ${target} |`);

async function throttle(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE });
  return cdp;
}

async function markTime(page, name) {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 60_000 });
  return page.evaluate((n) => performance.getEntriesByName(n)[0].startTime, name);
}

// 1. The app shell as transferred, gzip and brotli.
async function shellSize(server) {
  const sw = readFileSync(join(server.dist, "sw.js"), "utf8");
  const list = JSON.parse(/const PRECACHE = (\[[\s\S]*?\]);/.exec(sw)[1]).filter((u) => /\.(wasm|js|css|html)$/.test(u));
  const sizes = {};
  for (const encoding of ["gzip", "br"]) {
    let total = 0;
    for (const url of list) {
      // node:http does not decode, so these are the bytes on the wire.
      total += await new Promise((ok, fail) => {
        get(server.url + url, { headers: { "accept-encoding": encoding } }, (res) => {
          if (res.headers["content-encoding"] !== encoding) fail(new Error(`${url} not sent as ${encoding}`));
          let n = 0;
          res.on("data", (c) => (n += c.length));
          res.on("end", () => ok(n));
        }).on("error", fail);
      });
    }
    sizes[encoding] = total;
  }
  let raw = 0;
  for (const url of list) raw += readFileSync(join(server.dist, url)).byteLength;
  row("app shell transferred (wasm+js+css+html), gzip", `${(sizes.gzip / 1024).toFixed(0)} KB`, `${(raw / 1024).toFixed(0)} KB uncompressed; brotli ${(sizes.br / 1024).toFixed(0)} KB`, "≤ 400 KB");
}

// 2 and 4. Warm start from the service worker cache, empty and with a large ledger.
async function warmStarts(server, ledgerBytes) {
  const context = await launchPersistent(tempDir("bench-profile"));
  const page = context.pages()[0];
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  await server.stop(); // everything below comes from the service worker cache and IndexedDB
  const measure = async (runs = RUNS) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const p = await context.newPage();
      await throttle(p);
      await p.goto(server.url);
      times.push({ list: await markTime(p, "pioneer:list-ready"), open: await markTime(p, "pioneer:ledger-open") });
      if (process.env.BENCH_DETAIL) console.error(await p.evaluate(() => performance.getEntriesByType("mark").map((m) => `${m.name} ${m.startTime.toFixed(0)}`).join(", ")));
      await p.close();
    }
    return { list: median(times.map((t) => t.list)), open: median(times.map((t) => t.open)) };
  };
  const empty = await measure();
  await seedLedger(page, ledgerBytes);
  await page.close(); // its in-memory (empty) ledger must not write a cache over the seeded one
  // The first open has no cached list yet: it waits for the whole document, then writes the
  // cache a few seconds later.
  const firstPage = await context.newPage();
  await throttle(firstPage);
  await firstPage.goto(server.url);
  const first = { list: await markTime(firstPage, "pioneer:list-ready") };
  await new Promise((r) => setTimeout(r, 5_000));
  await firstPage.close();
  const large = await measure();
  const count = await (async () => {
    const p = await context.newPage();
    await p.goto(server.url);
    await p.locator('[data-testid="visit-count"][data-live="true"]').waitFor({ timeout: 60_000 });
    const text = await p.getByTestId("visit-count").textContent();
    await p.close();
    return text;
  })();
  if (!count.includes(String(VISITS))) throw new Error(`seeded ledger shows ${count}`);
  row(`warm start from service worker to interactive visit list, empty ledger (${THROTTLE}x CPU)`, fmt(empty.list), `ledger open at ${fmt(empty.open)}`, "≤ 1 s");
  row(`opening a ledger of ${VISITS} visits for the first time, no cached list (${THROTTLE}x CPU)`, fmt(first.list), `${(first.list / empty.list).toFixed(2)}x the empty-ledger start`, "—");
  row(`opening a ledger of ${VISITS} visits to interactive list (${THROTTLE}x CPU)`, fmt(large.list), `${(large.list / empty.list).toFixed(2)}x the empty-ledger start in the same run; the document itself loaded at ${fmt(large.open)}`, "≤ 1 s");
  await fullLedger(context, server);
  await context.close();
  await server.restart();
}

// Issue 4: a ledger of visits, problems and pledges; opening at the problem list, then filtering.
async function fullLedger(context, server) {
  const path = join(tempDir("bench-full"), "ledger.automerge");
  execFileSync("cargo", ["run", "--quiet", "--release", "-p", "ledger", "--example", "make_ledger", "--", String(VISITS), path, String(PROBLEMS), String(PLEDGES)], { cwd: ROOT });
  const seeder = await context.newPage();
  await seeder.goto(`${server.url}/problems`);
  await seedLedger(seeder, readFileSync(path));
  await seeder.close();
  const open = async () => {
    const p = await context.newPage();
    await throttle(p);
    await p.goto(`${server.url}/problems`);
    const t = { list: await markTime(p, "pioneer:problems-ready"), open: await markTime(p, "pioneer:ledger-open") };
    return { p, t };
  };
  // First open writes the cache of every record a few seconds after the document loaded.
  const first = await open();
  await new Promise((r) => setTimeout(r, 5_000));
  await first.p.close();
  const times = [];
  const filters = [];
  for (let i = 0; i < RUNS; i++) {
    const { p, t } = await open();
    times.push(t);
    await p.locator('[data-testid="problem-count"]').waitFor();
    // Filtering: from the keystroke's input event until the count on screen has changed.
    for (const word of ["路灯", "低保", "排水", ""]) {
      filters.push(await p.evaluate(async (w) => {
        const input = document.querySelector('input[aria-label="搜索问题"]');
        const count = document.querySelector('[data-testid="problem-count"]');
        const before = count.textContent;
        const changed = new Promise((ok) => new MutationObserver((_, o) => { o.disconnect(); ok(performance.now()); }).observe(count, { subtree: true, childList: true, characterData: true }));
        const t0 = performance.now();
        input.value = w;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        const t1 = await Promise.race([changed, new Promise((ok) => setTimeout(() => ok(null), 5_000))]);
        await new Promise((ok) => requestAnimationFrame(() => ok()));
        return t1 === null ? (before === count.textContent ? -1 : performance.now() - t0) : t1 - t0;
      }, word));
    }
    await p.close();
  }
  const shown = filters.filter((f) => f >= 0);
  if (!shown.length) throw new Error("filtering never changed the list");
  const list = median(times.map((t) => t.list));
  const doc = median(times.map((t) => t.open));
  row(`opening a ledger of ${VISITS} visits, ${PROBLEMS} problems, ${PLEDGES} pledges to an interactive problem list (${THROTTLE}x CPU)`, fmt(list), `first open without the cached lists ${fmt(first.t.list)} (${(first.t.list / list).toFixed(1)}x); the document itself loaded at ${fmt(doc)}`, "≤ 1 s");
  row(`filtering those ${PROBLEMS} problems by a search word, keystroke to updated count, median of ${shown.length} (${THROTTLE}x CPU)`, fmt(median(shown)), `slowest ${fmt(Math.max(...shown))}`, "≤ 50 ms");
}

// 3. Saving a visit until IndexedDB has committed.
async function saves(server) {
  const context = await launchPersistent(tempDir("bench-save"));
  const page = context.pages()[0];
  await openApp(page, server.url);
  await throttle(page);
  for (let i = 0; i < 30; i++) {
    await addVisit(page, { whom: `测试户${i}`, heard: "反映村口路灯坏了两盏，晚上出行不便，希望尽快修好。" });
  }
  const saves = await page.evaluate(() => performance.getEntriesByName("pioneer:save").map((e) => e.duration));
  // Baseline: a bare IndexedDB put-and-commit of a chunk of the same size, same page, same throttle.
  const bare = await page.evaluate(async () => {
    const db = await new Promise((ok) => { const r = indexedDB.open("bench-baseline", 1); r.onupgradeneeded = () => r.result.createObjectStore("s", { autoIncrement: true }); r.onsuccess = () => ok(r.result); });
    const out = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const tx = db.transaction("s", "readwrite");
      tx.objectStore("s").add(new Uint8Array(400));
      await new Promise((ok) => (tx.oncomplete = ok));
      out.push(performance.now() - t);
    }
    return out;
  });
  row(`saving a visit until IndexedDB committed, p95 of ${saves.length} (${THROTTLE}x CPU)`, fmt(p95(saves)), `bare IndexedDB put p95 ${fmt(p95(bare))} (${(p95(saves) / p95(bare)).toFixed(1)}x); median save ${fmt(median(saves))}`, "≤ 50 ms");
  await context.close();
}

const server = await Server.start();
try {
  const ledgerPath = join(tempDir("bench-ledger"), "ledger.automerge");
  const native = execFileSync("cargo", ["run", "--quiet", "--release", "-p", "ledger", "--example", "make_ledger", "--", String(VISITS), ledgerPath], { cwd: ROOT, encoding: "utf8" }).trim();
  await shellSize(server);
  await warmStarts(server, readFileSync(ledgerPath));
  await saves(server);
  console.log(`Chromium ${execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()}, ${THROTTLE}x CPU throttling, median of ${RUNS} runs unless said.`);
  console.log(`Native reference (same machine, same run): ${native}\n`);
  console.log("| what | figure | baseline in the same run | target |\n|---|---|---|---|");
  console.log(rows.join("\n"));
} finally {
  await server.stop();
  server.cleanup();
}
