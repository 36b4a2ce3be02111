// The app runs under its Content-Security-Policy without a single violation, and a script
// injected into the page (say, through a record's text) does not run.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addVisit, launchPersistent, openApp, serveForTests, tempDir, waitLive } from "./harness.mjs";

const served = serveForTests();

test("the app starts and saves under its CSP, and an injected inline script is blocked", async () => {
  const phone = await launchPersistent(tempDir("csp"));
  const page = phone.pages()[0];
  const violations = [];
  page.on("console", (m) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
  });
  const response = await page.goto(served.server.url);
  assert.match(response.headers()["content-security-policy"] ?? "", /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  await openApp(page, served.server.url);
  await waitLive(page);
  await addVisit(page, { whom: "<img src=x onerror=alert(1)>", heard: "<script>window.__injected = 1</script>" });
  await page.getByText("<img src=x onerror=alert(1)>").first().waitFor();

  const ran = await page.evaluate(
    () =>
      new Promise((ok) => {
        const s = document.createElement("script");
        s.textContent = "window.__injected = 2";
        document.body.appendChild(s);
        setTimeout(() => ok(window.__injected ?? null), 100);
      }),
  );
  assert.equal(ran, null, "an injected inline script ran");
  const unexpected = violations.filter((v) => !/__injected/.test(v) && !/inline script/i.test(v));
  assert.deepEqual(unexpected, [], "the app itself broke its policy");
  await phone.close();
});
