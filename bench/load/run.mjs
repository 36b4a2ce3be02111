// Concurrent WebSocket clients making small edits, against our sync-server and, in the same
// run, against the reference automerge-repo Node server. Two shapes: CLIENTS clients with a
// document each, and SHARED clients all writing one unit ledger (the real case), where a fresh
// reader then counts confirmed edits that went missing. Loopback only.
// Our server takes only authenticated devices on ledgers the organisation made: its data
// directory is prepared by `examples/prepare_load` (an organisation of CLIENTS villages, one
// device token), and every connection of the run is authenticated and its rights checked.
// BASELINE_BIN=path/to/an/older/sync-server adds that build (from before accounts, open to
// anyone) to the same run, so the cost of the checks is a ratio of two figures of one run.
// Usage (after scripts/build.sh and
// `cargo build --release -p sync-server --example load --example prepare_load`):
//   node bench/load/run.mjs [CLIENTS] [EDITS] [SHARED]      (SHAPES=shared: that shape only;
//   SKIP_REFERENCE=1: not the reference server; BASELINE_FIRST=1: the baseline build first)
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
// The server's CPU time so far (user + system), in seconds: steadier than wall-clock figures on
// a shared machine, and per confirmed edit it is what each edit costs the server.
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

async function measure(name, command, args, wsUrl, healthUrl, shape, ledgers) {
  const proc = spawn(command, args, { stdio: "ignore", cwd: ROOT });
  try {
    await healthy(healthUrl);
    const cpuAtStart = cpuSeconds(proc.pid); // start-up (loading the organisation) is not an edit's cost
    const clients = shape === "shared" ? SHARED : CLIENTS;
    const extra = ledgers ? [ledgers] : [];
    const out = execFileSync(join(ROOT, "target/release/examples/load"), [wsUrl, clients, EDITS, shape, ...extra], { encoding: "utf8", maxBuffer: 1 << 24 });
    const result = JSON.parse(out.trim().split("\n").pop());
    return { name, ...result, peak_rss_mb: peakRss(proc.pid), cpu_ms_per_edit: ((cpuSeconds(proc.pid) - cpuAtStart) * 1000) / result.edits };
  } finally {
    proc.kill("SIGKILL");
  }
}

const dir = mkdtempSync(join(tmpdir(), "pioneer-load-"));
try {
  const rows = [];
  // SHAPES=shared runs only that shape (to repeat it without the 1,000-client run).
  for (const shape of (process.env.SHAPES ?? "separate,shared").split(",")) {
    const data = join(dir, `ours-${shape}`);
    const ledgers = join(dir, `ledgers-${shape}.json`);
    execFileSync(join(ROOT, "target/release/examples/prepare_load"), [data, shape === "shared" ? "1" : CLIENTS, ledgers]);
    const measureOurs = () => measure("sync-server (ours, authenticated)", join(ROOT, "target/release/sync-server"),
      ["--listen", "127.0.0.1:18180", "--data-dir", data, "--dist", join(ROOT, "dist")],
      "ws://127.0.0.1:18180/sync", "http://127.0.0.1:18180/healthz", shape, ledgers);
    const measureBaseline = () => measure("sync-server before accounts (baseline)", process.env.BASELINE_BIN,
      ["--listen", "127.0.0.1:18182", "--data-dir", join(dir, `before-${shape}`), "--dist", join(ROOT, "dist")],
      "ws://127.0.0.1:18182/sync", "http://127.0.0.1:18182/healthz", shape);
    // BASELINE_FIRST=1 runs the baseline build first, so repeated runs can alternate the order.
    let ours;
    if (process.env.BASELINE_BIN && process.env.BASELINE_FIRST) {
      const before = await measureBaseline();
      ours = await measureOurs();
      rows.push([shape, ours, before]);
    } else {
      ours = await measureOurs();
      if (process.env.BASELINE_BIN) rows.push([shape, ours, await measureBaseline()]);
    }
    // SKIP_REFERENCE=1: only our server (and the baseline build), to repeat runs quickly.
    if (process.env.SKIP_REFERENCE) continue;
    const ref = await measure("automerge-repo reference (express + ws + NodeWSServerAdapter + NodeFSStorageAdapter)", "node",
      [join(ROOT, "bench/load/reference-server.mjs"), "18181", join(dir, `ref-${shape}`)],
      "ws://127.0.0.1:18181/", "http://127.0.0.1:18181/healthz", shape);
    rows.push([shape, ours, ref]);
  }
  // rows: [shape, ours, other]; the other is the reference server or the baseline build.
  console.log("| shape | server | clients | failed | confirmed edits | lost | edits/s | p50 ms | p99 ms | peak RSS MB | server CPU ms per edit |\n|---|---|---|---|---|---|---|---|---|---|---|");
  const printed = new Set();
  for (const [shape, ...rs] of rows) {
    for (const r of rs) {
      if (printed.has(r)) continue;
      printed.add(r);
      console.log(`| ${shape} | ${r.name} | ${r.clients} | ${r.failed} | ${r.edits} | ${r.lost} | ${r.edits_per_second} | ${r.p50_ms} | ${r.p99_ms} | ${r.peak_rss_mb.toFixed(0)} | ${r.cpu_ms_per_edit.toFixed(2)} |`);
    }
  }
  for (const [shape, ours, other] of rows) {
    console.log(`\n${shape}, ours vs ${other.name}: throughput ${(ours.edits_per_second / other.edits_per_second).toFixed(2)}x, p99 ${(ours.p99_ms / other.p99_ms).toFixed(2)}x, memory ${(ours.peak_rss_mb / other.peak_rss_mb).toFixed(2)}x, CPU per edit ${(ours.cpu_ms_per_edit / other.cpu_ms_per_edit).toFixed(2)}x, frames received per edit ${ours.frames_in_per_edit} vs ${other.frames_in_per_edit}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
