// A phone on a LAN over HTTPS, as `sync-server --lan` serves it: the local authority's
// certificate fetched from the plain-HTTP port and installed (an NSS database in the browser's
// home, what "install a CA certificate" does on a phone), then the app at a name that is not
// localhost (a browser gives a service worker nothing else over plain HTTP): it installs, and
// works offline.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ROOT, CHROMIUM_ARGS, tempDir, addVisit, visitCount, waitForServiceWorker, waitSynced } from "./harness.mjs";

const SERVER_BIN = process.env.SYNC_SERVER_BIN ?? join(ROOT, "target/release/sync-server");
const NAME = "pioneer.test";
const opened = [];
after(async () => {
  for (const o of opened) await o();
});

async function freePort() {
  return new Promise((ok) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** A JSON request to the server over HTTPS, trusting only the local authority. */
function api(port, ca, method, path, { body, cookie } = {}) {
  const origin = `https://${NAME}:${port}`;
  const headers = { host: `${NAME}:${port}`, origin };
  if (cookie) headers.cookie = cookie;
  if (body) headers["content-type"] = "application/json";
  return new Promise((ok, fail) => {
    const r = request({ host: "127.0.0.1", port, servername: NAME, ca, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => ok({ status: res.statusCode, headers: res.headers, text }));
    });
    r.on("error", fail);
    r.end(body ? JSON.stringify(body) : undefined);
  });
}

test("a phone trusts the local authority, installs the app over HTTPS and works offline", async () => {
  const [port, plainPort] = [await freePort(), await freePort()];
  const dataDir = tempDir("https-data");
  const dist = tempDir("https-dist");
  cpSync(join(ROOT, "dist"), dist, { recursive: true });
  const proc = spawn(SERVER_BIN, ["--lan", "--lan-name", NAME, "--listen", `127.0.0.1:${port}`, "--http-listen", `127.0.0.1:${plainPort}`, "--data-dir", dataDir, "--dist", dist, "--demo"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const accounts = new Map();
  proc.stdout.on("data", (chunk) => {
    for (const line of chunk.toString().split("\n")) {
      const [tag, login, , , , , secret] = line.split("\t");
      if (tag === "DEMO") accounts.set(login, secret);
    }
  });
  opened.push(async () => {
    proc.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dist, { recursive: true, force: true });
  });

  // The plain port hands out the authority's certificate and sends everything else to HTTPS.
  let ca;
  for (const deadline = Date.now() + 15_000; !ca; ) {
    try {
      const r = await fetch(`http://127.0.0.1:${plainPort}/ca.crt`);
      if (r.ok) ca = await r.text();
    } catch {}
    if (!ca && Date.now() > deadline) throw new Error("the server never handed out its authority");
    if (!ca) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
  const redirected = await fetch(`http://127.0.0.1:${plainPort}/visits`, { redirect: "manual" });
  assert.equal(redirected.status, 308);
  assert.equal(redirected.headers.get("location"), `https://127.0.0.1:${port}/visits`);

  // A device of the demo cadre, made by the demo admin over HTTPS.
  const health = await api(port, ca, "GET", "/healthz");
  assert.equal(health.status, 200);
  assert.equal(health.headers["strict-transport-security"], "max-age=31536000");
  while (!accounts.has("admin")) await new Promise((r) => setTimeout(r, 20));
  const login = await api(port, ca, "POST", "/api/login", { body: { login: "admin", password: accounts.get("admin") } });
  assert.equal(login.status, 200, login.text);
  assert.match(login.headers["set-cookie"][0], /; Secure/);
  const cookie = login.headers["set-cookie"][0].split(";")[0];
  const org = JSON.parse((await api(port, ca, "GET", "/api/admin/org", { cookie })).text);
  const person = org.people.find((p) => p.name === "张伟");
  const made = await api(port, ca, "POST", "/api/admin/tokens", { cookie, body: { person: person.id, device: "LAN phone" } });
  assert.equal(made.status, 200, made.text);
  const { token } = JSON.parse(made.text);

  // The phone: its own home, where the authority is installed as trusted for websites.
  const home = tempDir("https-home");
  opened.push(async () => rmSync(home, { recursive: true, force: true }));
  const nss = join(home, ".pki/nssdb");
  mkdirSync(nss, { recursive: true });
  writeFileSync(join(home, "ca.crt"), ca);
  execFileSync("certutil", ["-d", `sql:${nss}`, "-N", "--empty-password"]);
  execFileSync("certutil", ["-d", `sql:${nss}`, "-A", "-t", "C,,", "-n", "pioneer-ledger-local", "-i", join(home, "ca.crt")]);
  const context = await chromium.launchPersistentContext(join(home, "profile"), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${NAME} 127.0.0.1`],
    env: { ...process.env, HOME: home },
    headless: true,
    viewport: { width: 390, height: 844 },
  });
  opened.unshift(() => context.close());
  const url = `https://${NAME}:${port}`;
  await context.addCookies([{ name: "pl_device", value: token, url, httpOnly: true, secure: true, sameSite: "Strict" }]);
  const page = context.pages()[0] ?? (await context.newPage());
  const response = await page.goto(url);
  assert.equal(response.status(), 200, "the page loads over HTTPS with no certificate error");
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
  await page.locator('[data-testid="visit-count"][data-live="true"]').waitFor();
  await waitForServiceWorker(page);
  await addVisit(page, { whom: "王大妈", heard: "在局域网里记下的" });
  await waitSynced(page);

  // Out of coverage: the app starts from its service worker and keeps recording.
  await context.setOffline(true);
  await page.reload();
  await page.locator('[data-testid="visit-count"][data-live="true"]').waitFor();
  await page.getByText("王大妈").waitFor();
  const before = await visitCount(page);
  await addVisit(page, { whom: "赵大爷", heard: "没有信号时记下的" });
  assert.equal(await visitCount(page), before + 1);
  await context.setOffline(false);
  await waitSynced(page);
});
