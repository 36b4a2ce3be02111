// Concurrent WebSocket clients making small edits, against our sync-server and, in the same
// run, against the reference automerge-repo Node server. Two shapes: CLIENTS clients with a
// document each, and SHARED clients all writing one unit ledger (the real case), where a fresh
// reader then counts confirmed edits that went missing. Loopback only.
// Usage (after scripts/build.sh and `cargo build --release -p sync-server --example load`):
//   node bench/load/run.mjs [CLIENTS] [EDITS] [SHARED]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const CLIENTS = process.argv[2] ?? "1000";
const EDITS = process.argv[3] ?? "20";
const SHARED = process.argv[4] ?? "30";

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

async function measure(name, command, args, wsUrl, healthUrl, shape) {
  const proc = spawn(command, args, { stdio: "ignore", cwd: ROOT });
  try {
    await healthy(healthUrl);
    const clients = shape === "shared" ? SHARED : CLIENTS;
    const out = execFileSync(join(ROOT, "target/release/examples/load"), [wsUrl, clients, EDITS, shape], { encoding: "utf8", maxBuffer: 1 << 24 });
    const result = JSON.parse(out.trim().split("\n").pop());
    return { name, ...result, peak_rss_mb: peakRss(proc.pid) };
  } finally {
    proc.kill("SIGKILL");
  }
}

const dir = mkdtempSync(join(tmpdir(), "pioneer-load-"));
try {
  const rows = [];
  for (const shape of ["separate", "shared"]) {
    const ours = await measure("sync-server (ours)", join(ROOT, "target/release/sync-server"),
      ["--listen", "127.0.0.1:18180", "--data-dir", join(dir, `ours-${shape}`), "--dist", join(ROOT, "dist")],
      "ws://127.0.0.1:18180/sync", "http://127.0.0.1:18180/healthz", shape);
    const ref = await measure("automerge-repo reference (express + ws + NodeWSServerAdapter + NodeFSStorageAdapter)", "node",
      [join(ROOT, "bench/load/reference-server.mjs"), "18181", join(dir, `ref-${shape}`)],
      "ws://127.0.0.1:18181/", "http://127.0.0.1:18181/healthz", shape);
    rows.push([shape, ours, ref]);
  }
  console.log("| shape | server | clients | failed | confirmed edits | lost | edits/s | p50 ms | p99 ms | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|");
  for (const [shape, ...rs] of rows) {
    for (const r of rs) {
      console.log(`| ${shape} | ${r.name} | ${r.clients} | ${r.failed} | ${r.edits} | ${r.lost} | ${r.edits_per_second} | ${r.p50_ms} | ${r.p99_ms} | ${r.peak_rss_mb.toFixed(0)} |`);
    }
  }
  for (const [shape, ours, ref] of rows) {
    console.log(`\n${shape}: throughput ratio ${(ours.edits_per_second / ref.edits_per_second).toFixed(2)}x, memory ratio ${(ours.peak_rss_mb / ref.peak_rss_mb).toFixed(2)}x`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
