// Several sync-server processes on one PostgreSQL, against one process on SQLite, in one run:
// the same load (examples/load) spread over 1, 2 and 4 processes behind no balancer but the
// clients themselves (client i talks to process i mod N), then, with two or more, how long an
// edit made through one process takes to reach a phone connected to another. Where the time
// goes: CPU seconds of the server processes and of PostgreSQL per confirmed edit.
// Usage (after `cargo build --release -p sync-server --bins --example load --example
// prepare_load --example throwaway_postgres`):
//   node bench/processes/run.mjs [CLIENTS] [EDITS] [SHARED] [PROPAGATION_EDITS]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const ROOT = resolve(import.meta.dirname, "../..");
const CLIENTS = process.argv[2] ?? "200";
const EDITS = process.argv[3] ?? "20";
const SHARED = process.argv[4] ?? "30";
const PROPAGATION = process.argv[5] ?? "200";
const bin = (name) => join(ROOT, "target/release", name);

async function healthy(url) {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became healthy`);
}

const cpuSeconds = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
};
// PostgreSQL's processes (the postmaster and every backend): their CPU summed.
const postgresCpu = () =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").startsWith("postgres");
      } catch {
        return false;
      }
    })
    .reduce((sum, p) => sum + cpuSeconds(p), 0);

const dir = mkdtempSync(join(tmpdir(), "pioneer-processes-"));
const dist = join(dir, "dist");
mkdirSync(dist);
writeFileSync(join(dist, "index.html"), "<!DOCTYPE html>");

// Four fresh databases on one durable PostgreSQL, for as long as this script runs.
// BENCH_PG_STATS=0: without pg_stat_statements (to see what keeping the statistics costs).
const STATS = process.env.BENCH_PG_STATS !== "0";
const pg = spawn(join(ROOT, "target/release/examples/throwaway_postgres"), ["4"], { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, PIONEER_PG_STATS: STATS ? "1" : "0" } });
const urls = [];
for await (const line of createInterface({ input: pg.stdout })) {
  urls.push(line.trim());
  if (urls.length === 4) break;
}

// Where PostgreSQL's time went in one database's run: its statements by total time, per
// confirmed edit (pg_stat_statements, loaded by the throwaway server for this benchmark).
const psql = (url, sql) => execFileSync("psql", [url, "-At", "-F", "\t", "-c", sql], { encoding: "utf8" }).trim();
function statements(url, edits) {
  psql(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const rows = psql(
    url,
    `SELECT calls, round(total_exec_time::numeric, 1), regexp_replace(left(query, 90), '\\s+', ' ', 'g') FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 8`,
  );
  return rows.split("\n").map((l) => {
    const [calls, ms, query] = l.split("\t");
    return { calls: Number(calls), us_per_edit: ((Number(ms) * 1000) / edits).toFixed(0), query };
  });
}

let port = 18300;
async function run(name, database, processes) {
  const data = join(dir, name);
  const ledgers = join(dir, `${name}.json`);
  // The organisation: in the one server's own data directory on SQLite, in the database on
  // PostgreSQL.
  execFileSync(join(ROOT, "target/release/examples/prepare_load"), [join(data, database === "sqlite" ? "p0" : "prepare"), CLIENTS, ledgers, database]);
  const servers = [];
  for (let i = 0; i < processes; i++) {
    const p = port++;
    const proc = spawn(bin("sync-server"), ["--listen", `127.0.0.1:${p}`, "--database", database, "--data-dir", join(data, `p${i}`), "--dist", dist], { stdio: "ignore" });
    servers.push({ proc, p });
  }
  const ws = servers.map((s) => `ws://127.0.0.1:${s.p}/sync`).join(",");
  try {
    for (const s of servers) await healthy(`http://127.0.0.1:${s.p}/healthz`);
    const rows = {};
    for (const shape of ["separate", "shared"]) {
      const cpu0 = servers.reduce((t, s) => t + cpuSeconds(s.proc.pid), 0);
      const pg0 = database === "sqlite" ? 0 : postgresCpu();
      const clients = shape === "shared" ? SHARED : CLIENTS;
      const out = execFileSync(join(ROOT, "target/release/examples/load"), [ws, clients, EDITS, shape, ledgers], { encoding: "utf8", maxBuffer: 1 << 24 });
      const r = JSON.parse(out.trim().split("\n").pop());
      r.server_cpu_ms_per_edit = ((servers.reduce((t, s) => t + cpuSeconds(s.proc.pid), 0) - cpu0) * 1000) / r.edits;
      r.postgres_cpu_ms_per_edit = database === "sqlite" ? 0 : ((postgresCpu() - pg0) * 1000) / r.edits;
      rows[shape] = r;
    }
    if (processes >= 2) {
      const out = execFileSync(join(ROOT, "target/release/examples/load"), [ws, "1", PROPAGATION, "propagation", ledgers], { encoding: "utf8", maxBuffer: 1 << 24 });
      rows.propagation = JSON.parse(out.trim().split("\n").pop());
    }
    if (database !== "sqlite" && STATS) rows.statements = statements(database, rows.separate.edits + rows.shared.edits);
    return { name, processes, ...rows };
  } finally {
    for (const s of servers) s.proc.kill("SIGKILL");
  }
}

try {
  const results = [
    await run("sqlite-1", "sqlite", 1),
    await run("postgres-1", urls[0], 1),
    await run("postgres-2", urls[1], 2),
    await run("postgres-4", urls[2], 4),
  ];
  const base = results[0];
  console.log("| storage, processes | shape | clients | failed | confirmed edits | lost | edits/s | vs SQLite | p50 ms | p99 ms | server CPU ms/edit | PostgreSQL CPU ms/edit |\n|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    for (const shape of ["separate", "shared"]) {
      const x = r[shape];
      console.log(`| ${r.name} | ${shape} | ${x.clients} | ${x.failed} | ${x.edits} | ${x.lost} | ${x.edits_per_second} | ${(x.edits_per_second / base[shape].edits_per_second).toFixed(2)}x | ${x.p50_ms} | ${x.p99_ms} | ${x.server_cpu_ms_per_edit.toFixed(2)} | ${x.postgres_cpu_ms_per_edit.toFixed(2)} |`);
    }
  }
  for (const r of results.filter((r) => r.statements)) {
    console.log(`\nwhere PostgreSQL's time went (${r.name}, both shapes): statement, calls, µs per confirmed edit`);
    for (const s of r.statements) console.log(`| ${s.query.replaceAll("|", "\\|")} | ${s.calls} | ${s.us_per_edit} |`);
  }
  for (const r of results.filter((r) => r.propagation)) {
    console.log(`\npropagation across processes (${r.name}): ${r.propagation.edits} edits, p50 ${r.propagation.p50_ms} ms, p99 ${r.propagation.p99_ms} ms`);
  }
} finally {
  pg.stdin.end();
  rmSync(dir, { recursive: true, force: true });
}
