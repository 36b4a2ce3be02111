// 1,000 concurrent WebSocket clients making small edits, against our sync-server and, in the
// same run, against the reference automerge-repo Node server. Loopback only.
// Usage (after scripts/build.sh and `cargo build --release -p sync-server --example load`):
//   node bench/load/run.mjs [CLIENTS] [EDITS]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const CLIENTS = process.argv[2] ?? "1000";
const EDITS = process.argv[3] ?? "20";

async function healthy(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became healthy`);
}

const peakRss = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

async function measure(name, command, args, wsUrl, healthUrl) {
  const proc = spawn(command, args, { stdio: "ignore", cwd: ROOT });
  try {
    await healthy(healthUrl);
    const out = execFileSync(join(ROOT, "target/release/examples/load"), [wsUrl, CLIENTS, EDITS], { encoding: "utf8", maxBuffer: 1 << 24 });
    const result = JSON.parse(out.trim().split("\n").pop());
    return { name, ...result, peak_rss_mb: peakRss(proc.pid) };
  } finally {
    proc.kill("SIGKILL");
  }
}

const dir = mkdtempSync(join(tmpdir(), "pioneer-load-"));
try {
  const ours = await measure("sync-server (ours)", join(ROOT, "target/release/sync-server"),
    ["--listen", "127.0.0.1:18180", "--data-dir", join(dir, "ours"), "--dist", join(ROOT, "dist")],
    "ws://127.0.0.1:18180/sync", "http://127.0.0.1:18180/healthz");
  const ref = await measure("automerge-repo reference (express + ws + NodeWSServerAdapter + NodeFSStorageAdapter)", "node",
    [join(ROOT, "bench/load/reference-server.mjs"), "18181", join(dir, "ref")],
    "ws://127.0.0.1:18181/", "http://127.0.0.1:18181/healthz");
  console.log("| server | clients | failed | confirmed edits | edits/s | p50 ms | p99 ms | peak RSS MB |\n|---|---|---|---|---|---|---|---|");
  for (const r of [ours, ref]) {
    console.log(`| ${r.name} | ${r.clients} | ${r.failed} | ${r.edits} | ${r.edits_per_second} | ${r.p50_ms} | ${r.p99_ms} | ${r.peak_rss_mb.toFixed(0)} |`);
  }
  console.log(`\nthroughput ratio ${(ours.edits_per_second / ref.edits_per_second).toFixed(2)}x, memory ratio ${(ours.peak_rss_mb / ref.peak_rss_mb).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
