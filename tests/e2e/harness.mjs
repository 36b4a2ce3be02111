// Shared set-up for browser tests: the real sync-server serving the real release build, and
// Debian's Chromium driven by playwright-core. Everything talks to loopback only.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const ROOT = resolve(import.meta.dirname, "../..");
const SERVER_BIN = process.env.SYNC_SERVER_BIN ?? join(ROOT, "target/release/sync-server");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), `pioneer-${prefix}-`));
}

async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on("error", fail);
  });
}

// Whatever a failed test leaves open must not keep the test process (and CI) alive.
const liveServers = new Set();
const liveContexts = new Set();
process.on("exit", () => {
  for (const s of liveServers) s.proc?.kill("SIGKILL");
});

/** Closes every browser a test opened; call from each test file's `after`. */
export async function closeBrowsers() {
  await Promise.allSettled([...liveContexts].map((c) => c.close()));
  liveContexts.clear();
}

/** A running sync-server on its own port, data dir and copy of dist/ (so a test may change it). */
export class Server {
  static async start({ dataDir = tempDir("data"), dist, port } = {}) {
    const server = new Server();
    server.dataDir = dataDir;
    if (!dist) {
      dist = tempDir("dist");
      cpSync(join(ROOT, "dist"), dist, { recursive: true });
    }
    server.dist = dist;
    server.port = port ?? (await freePort());
    server.url = `http://127.0.0.1:${server.port}`;
    await server.#spawn();
    return server;
  }

  async #spawn() {
    this.proc = spawn(SERVER_BIN, ["--listen", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, "--dist", this.dist], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    liveServers.add(this);
    this.exited = new Promise((ok) => this.proc.once("exit", ok));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("sync-server did not become healthy");
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill("SIGTERM");
    await this.exited;
  }

  /** Starts again on the same port, data and dist. */
  async restart() {
    await this.stop();
    await this.#spawn();
  }

  cleanup() {
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.dist, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A browser profile on disk, so a test can close the whole browser and open it again. */
export async function launchPersistent(userDataDir, options = {}) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 390, height: 844 },
    ...options,
  });
  liveContexts.add(context);
  context.on("close", () => liveContexts.delete(context));
  return context;
}

/**
 * A phone in a fresh profile with the app open at `url`; `installed` also waits until the
 * service worker controls the page (so it can boot offline).
 */
export async function openPhone(profileName, url, { installed = false, ...options } = {}) {
  const context = await launchPersistent(tempDir(profileName), options);
  const page = context.pages()[0] ?? (await context.newPage());
  await openApp(page, url);
  if (installed) await waitForServiceWorker(page);
  return { context, page };
}

/** Waits until the page is controlled by the service worker (so it can boot offline). */
export async function waitForServiceWorker(page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // The first load is not controlled until a reload (no clients.claim race in tests).
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await page.waitForFunction(() => !!navigator.serviceWorker.controller);
  }
}

/** Opens the app and waits for the visit list, read from the ledger itself (not the cache). */
export async function openApp(page, url) {
  await page.goto(url);
  await page.locator('[data-testid="visit-count"][data-live="true"]').waitFor();
}

/** Fills and saves the visit form; returns when the list shows again. */
export async function addVisit(page, { whom, heard, place = "", opinions = "", kind, date, followUp } = {}) {
  await page.getByRole("link", { name: "＋ 记走访" }).click();
  await page.locator('input[name="whom"]').fill(whom);
  if (date) await page.locator('input[name="date"]').fill(date);
  if (kind) await page.locator('select[name="kind"]').selectOption({ label: kind });
  if (place) await page.locator('input[name="place"]').fill(place);
  await page.locator('textarea[name="heard"]').fill(heard);
  if (opinions) await page.locator('textarea[name="opinions"]').fill(opinions);
  if (followUp) {
    await page.locator('input[name="follow_up_needed"]').check();
    await page.locator('textarea[name="follow_up"]').fill(followUp);
  }
  await page.getByRole("button", { name: "保存" }).click();
  await page.getByTestId("visit-count").waitFor();
}

export async function visitCount(page) {
  const text = await page.getByTestId("visit-count").textContent();
  return Number(/共 (\d+) 条/.exec(text)[1]);
}

/** Waits until the list reflects the ledger document (after a reload). */
export async function waitLive(page) {
  await page.locator('[data-testid="visit-count"][data-live="true"]').waitFor();
}

/** Starts the real server before the file's tests and stops it (and every browser) after;
 * `.server` holds it once started. */
export function serveForTests() {
  const state = { server: null };
  before(async () => {
    state.server = await Server.start();
  });
  after(async () => {
    await closeBrowsers();
    await state.server?.stop();
    state.server?.cleanup();
  });
  return state;
}

/** Waits until the sync status line says everything is synced. */
export async function waitSynced(page) {
  await page.waitForFunction(() => /已同步/.test(document.querySelector('[data-testid="sync-state"]')?.textContent ?? ""), null, { timeout: 30_000 });
}

/** Sets the name written into logs and history. */
export async function setName(page, name) {
  await page.getByTestId("author").click();
  await page.locator('input[name="author"]').fill(name);
  await page.getByRole("button", { name: "确定" }).click();
  await page.getByTestId("author").filter({ hasText: name }).waitFor();
}

/** A phone that opened the app at `url` once online, named itself `name`, then lost coverage. */
export async function offlinePhone(url, name, options = {}) {
  const context = await launchPersistent(tempDir("phone"), options);
  const page = context.pages()[0];
  await openApp(page, url);
  await waitForServiceWorker(page);
  await setName(page, name);
  await context.setOffline(true);
  await page.getByTestId("sync-state").filter({ hasText: "离线" }).waitFor();
  return { context, page };
}
