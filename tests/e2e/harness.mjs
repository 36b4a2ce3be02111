// Shared set-up for browser tests: the real sync-server serving the real release build, and
// Debian's Chromium driven by playwright-core. Everything talks to loopback only.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
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

/** A running sync-server on its own port, data dir and copy of dist/ (so a test may change it),
 * started with `--demo`: the demo organisation, its accounts read from what the server prints. */
export class Server {
  /** The server started last: phones opened from now on get a device of its demo cadre. */
  static current = null;

  static async start({ dataDir = tempDir("data"), dist, port, args } = {}) {
    const server = new Server();
    server.dataDir = dataDir;
    server.extraArgs = args;
    if (!dist) {
      dist = tempDir("dist");
      cpSync(join(ROOT, "dist"), dist, { recursive: true });
    }
    server.dist = dist;
    server.port = port ?? (await freePort());
    server.url = `http://127.0.0.1:${server.port}`;
    server.people = new Map();
    await server.#spawn();
    Server.current = server;
    return server;
  }

  async #spawn() {
    this.proc = spawn(SERVER_BIN, ["--listen", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, "--dist", this.dist, "--demo", ...(this.extraArgs ?? [])], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    // Demo accounts: `DEMO<TAB>login<TAB>name<TAB>role<TAB>unit<TAB>kind<TAB>secret[<TAB>desk password]`.
    this.accounts = new Map();
    let pending = "";
    this.proc.stdout.on("data", (chunk) => {
      pending += chunk.toString();
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const [tag, login, name, role, unit, kind, secret, desk] = line.split("\t");
        if (tag === "DEMO") this.accounts.set(login, { login, name, role, unit, kind, secret, desk });
        else if (process.env.PIONEER_TEST_VERBOSE) console.log(line);
      }
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
    if (Server.current === this) Server.current = null;
  }

  running() {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** A demo account's one-time code or password, as printed at the last start. */
  async account(login) {
    const deadline = Date.now() + 5_000;
    while (!this.accounts.has(login) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.accounts.get(login);
  }

  /** The demo admin's session cookie header. */
  async adminCookie() {
    if (this.admin) return this.admin;
    const { secret } = await this.account("admin");
    const r = await fetch(`${this.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: "admin", password: secret }) });
    if (!r.ok) throw new Error(`admin login: ${r.status}`);
    this.admin = r.headers.get("set-cookie").split(";")[0];
    return this.admin;
  }

  /** Calls the admin API as the demo admin. */
  async adminApi(method, path, body) {
    // A cookie-carrying request that changes something names the server as its Origin, as a
    // page of it does (the server refuses it otherwise: cross-site request forgery).
    const headers = { cookie: await this.adminCookie(), origin: this.url };
    if (body) headers["content-type"] = "application/json";
    const r = await fetch(`${this.url}/api/admin/${path}`, { method, headers, body: body && JSON.stringify(body) });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${json.message ?? ""}`);
    return json;
  }

  /** The id of a person named `name`, made a secretary (书记) of `unit` (the demo village) if
   * new: test phones take every step of a problem; what a cadre may not do is tested apart. */
  async person(name, unit = "青石村") {
    if (this.people.has(name)) return this.people.get(name);
    const org = await this.adminApi("GET", "org");
    let person = org.people.find((p) => p.name === name);
    if (!person) {
      const unitId = org.units.find((u) => u.name === unit).id;
      const login = `p${this.people.size}x${Date.now().toString(36)}`;
      person = await this.adminApi("POST", "people", { name, login, unit: unitId, role: "secretary" });
    }
    this.people.set(name, person.id);
    return person.id;
  }

  /** A device token for the person named `name` (a third-party peer, or a test's phone). */
  async tokenFor(name = "张伟", device = "test phone") {
    return (await this.deviceFor(name, device)).token;
  }

  /** A new device of the person named `name`: `{ device, token }`. */
  async deviceFor(name = "张伟", device = "test phone") {
    const person = await this.person(name);
    return this.adminApi("POST", "tokens", { person, device });
  }

  /** The ledger ids `name` may use, from /api/me. */
  async ledgersOf(name = "张伟") {
    const token = await this.tokenFor(name, "lookup");
    const r = await fetch(`${this.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    return (await r.json()).ledgers;
  }
}

/** A throwaway PostgreSQL (the server's `throwaway_postgres` example, built beside the server
 * binary): `n` fresh databases' addresses, and `stop()`, which ends it. */
export async function startPostgres(n = 1) {
  const bin = join(dirname(SERVER_BIN), "examples", "throwaway_postgres");
  const proc = spawn(bin, [String(n)], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, PIONEER_PG_DURABLE: "0" } });
  const exited = new Promise((ok) => proc.once("exit", ok));
  const urls = await new Promise((ok, fail) => {
    let out = "";
    proc.stdout.on("data", (chunk) => {
      out += chunk.toString();
      const lines = out.split("\n").filter((l) => l.startsWith("postgres://"));
      if (lines.length >= n) ok(lines.slice(0, n));
    });
    proc.once("exit", (code) => fail(new Error(`throwaway_postgres exited (${code}) before printing ${n} databases`)));
  });
  return {
    urls,
    async stop() {
      proc.stdin.end();
      await exited;
    },
  };
}

/** Puts a device of `name` into a browser context, as activation would (the HttpOnly cookie). */
export async function signIn(context, server, name = "张伟") {
  const made = await server.deviceFor(name);
  await context.addCookies([{ name: "pl_device", value: made.token, url: server.url, httpOnly: true, sameSite: "Strict" }]);
  return made;
}

export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  liveContexts.add(browser);
  return browser;
}

/** A browser profile on disk, so a test can close the whole browser and open it again. */
export async function launchPersistent(userDataDir, { activated, ...options } = {}) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 390, height: 844 },
    ...options,
  });
  liveContexts.add(context);
  context.on("close", () => liveContexts.delete(context));
  // A phone of the demo village's cadre, unless the test activates it itself.
  // (A profile reopened while the server is down keeps the cookie it has.)
  if (Server.current?.running() && activated !== false) await signIn(context, Server.current);
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

/**
 * Puts a ledger document (Automerge bytes) in the phone's IndexedDB as its home ledger's
 * snapshot, with no chunks and no cached lists. Close the tab that seeds it afterwards: its
 * worker holds the ledger it had, and would write its own cache over the seeded one.
 */
export async function seedLedger(page, bytes) {
  await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const db = await new Promise((ok, fail) => {
      const r = indexedDB.open("pioneer-ledger");
      r.onsuccess = () => ok(r.result);
      r.onerror = () => fail(r.error);
    });
    const tx = db.transaction(["snapshots", "chunks", "views"], "readwrite");
    tx.objectStore("snapshots").put(bytes, "unit-ledger");
    tx.objectStore("chunks").clear();
    tx.objectStore("views").clear();
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); });
    db.close();
  }, Buffer.from(bytes).toString("base64"));
}

/** Whether the phone has cached lists of its home ledger (written a few seconds after a load). */
export const hasCachedLists = (page) =>
  page.evaluate(() => new Promise((ok) => {
    const r = indexedDB.open("pioneer-ledger");
    r.onsuccess = () => {
      const tx = r.result.transaction(["views"], "readonly");
      const got = tx.objectStore("views").count("unit-ledger");
      tx.oncomplete = () => { r.result.close(); ok(got.result > 0); };
    };
  }));

/** Waits until the sync status line says everything is synced. */
export async function waitSynced(page) {
  try {
    await page.waitForFunction(() => /已同步/.test(document.querySelector('[data-testid="sync-state"]')?.textContent ?? ""), null, { timeout: 30_000 });
  } catch (e) {
    // Say where sync stood, so a failure in CI can be read without rerunning it.
    const shown = await page.locator('[data-testid="sync-state"]').textContent({ timeout: 1_000 }).catch(() => "(no sync state on the page)");
    // Who holds the sync lock, and whether the server takes this phone: a silent server, a
    // refused account and a phone that never asks look alike on the status line.
    const probe = await page
      .evaluate(async () => {
        const locks = await navigator.locks.query();
        const held = locks.held.filter((l) => l.name.startsWith("pioneer-sync:")).map((l) => `${l.name} held by ${l.clientId}`);
        const me = await fetch("/api/me").then((r) => r.status, (err) => `failed: ${err}`);
        const opens = await new Promise((ok) => {
          const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/sync`);
          const done = (what) => { ok(what); ws.close(); };
          ws.onopen = () => done("a socket opens");
          ws.onerror = () => done("a socket fails");
          setTimeout(() => done("a socket neither opens nor fails in 5 s"), 5_000);
        });
        return `${held.join(", ") || "no sync lock held"}; /api/me ${me}; ${opens}`;
      })
      .catch((err) => `(could not ask the page: ${err.message})`);
    e.message = `${e.message}\nsync state shown: ${shown} (at ${page.url()})\n${probe}`;
    throw e;
  }
}

/** Makes this phone a device of the person `name` (a cadre of the demo village), as if it had
 * been activated for them: history then names them. */
export async function setName(page, name) {
  await signIn(page.context(), Server.current, name);
  // An app that started from what it remembered refreshes /api/me in the background; if that
  // answer (for the person before) lands after the key is removed, the reload opens as them
  // again. The refresh that reload starts asks with the new cookie, so a second try settles it.
  for (let attempt = 1; ; attempt++) {
    await page.evaluate(() => localStorage.removeItem("pioneer.me"));
    await page.reload();
    try {
      await page.getByTestId("author").filter({ hasText: name }).waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/** A phone that opened the app at `url` once online, named itself `name`, then lost coverage. */
export async function offlinePhone(url, name, options = {}) {
  const context = await launchPersistent(tempDir("phone"), options);
  const page = context.pages()[0];
  await openApp(page, url);
  await waitForServiceWorker(page);
  await setName(page, name);
  await waitLive(page);
  await waitSynced(page);
  await context.setOffline(true);
  await page.getByTestId("sync-state").filter({ hasText: "离线" }).waitFor().catch(async (e) => {
    throw new Error(`the phone never showed 离线: it shows “${await page.getByTestId("sync-state").textContent()}”, online: ${await page.evaluate(() => navigator.onLine)}; ${e.message}`);
  });
  return { context, page };
}

/** A phone with the app installed, then offline with `bytes` as its ledger, its lists cached
 * (the benchmarks' full phone). */
export async function phoneWithLedger(server, bytes) {
  const context = await launchPersistent(tempDir("phone-ledger"));
  const page = context.pages()[0];
  await openApp(page, server.url);
  await waitForServiceWorker(page);
  await context.setOffline(true);
  if (bytes) {
    await seedLedger(page, bytes);
    await page.close();
    const first = await context.newPage();
    await first.goto(server.url);
    await first.locator('[data-testid="visit-count"][data-live="true"]').waitFor({ timeout: 120_000 });
    while (!(await hasCachedLists(first))) await new Promise((r) => setTimeout(r, 200));
    await first.close();
  } else {
    await page.close();
  }
  return context;
}
