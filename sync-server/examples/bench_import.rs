//! Benchmark of the organisation import: a generated organisation of 2,000 units (1 city,
//! 10 counties, 100 townships, 1,889 villages, each with its ledger) and 20,000 people (one
//! secretary and cadres in every village, a supervisor per township), imported once from CSV
//! (the baseline) and once from .xlsx, each into a fresh data directory. Prints time to read the
//! file, to check the rows, to store everything, and the process's peak memory during each.
//!
//! cargo run --release -p sync-server --example bench_import

use std::sync::Arc;
use std::time::Instant;

use ledger::org::import::HEADERS;
use ledger::org::{Role, UnitKind};

const COUNTIES: usize = 10;
const TOWNSHIPS_PER_COUNTY: usize = 10;
const VILLAGES: usize = 2_000 - 1 - COUNTIES - COUNTIES * TOWNSHIPS_PER_COUNTY;
const PEOPLE: usize = 20_000;

/// The rows: every unit, then the people (a supervisor per township, the rest in villages).
fn table() -> Vec<[String; 5]> {
    let mut rows = Vec::new();
    let s = String::new;
    let mut townships = Vec::new();
    for c in 0..COUNTIES {
        rows.push([format!("压测市/第{c}县"), "县".into(), s(), s(), s()]);
        for t in 0..TOWNSHIPS_PER_COUNTY {
            let path = format!("压测市/第{c}县/第{t}镇");
            rows.push([path.clone(), "乡镇".into(), s(), s(), s()]);
            townships.push(path);
        }
    }
    let villages: Vec<String> = (0..VILLAGES).map(|v| format!("{}/第{v}村", townships[v % townships.len()])).collect();
    for path in &villages {
        rows.push([path.clone(), "村".into(), s(), s(), s()]);
    }
    for (i, path) in townships.iter().enumerate() {
        rows.push([path.clone(), s(), format!("督查{i}"), format!("sup{i}"), "督查".into()]);
    }
    for p in 0..PEOPLE - townships.len() {
        let role = if p < VILLAGES { "书记" } else { "干部" };
        rows.push([villages[p % VILLAGES].clone(), s(), format!("干部{p}"), format!("cadre{p}"), role.into()]);
    }
    rows
}

fn csv_file(rows: &[[String; 5]]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADERS).unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.into_inner().unwrap()
}

fn xlsx_file(rows: &[[String; 5]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Peak resident memory (VmHWM) in MB, and a reset of it for the next phase (Linux).
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0.0);
    kb / 1024.0
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Run {
    read_ms: f64,
    import_ms: f64,
    peak_mb: f64,
}

fn run(name: &str, file: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(sync_server::Storage::open(dir.path()).unwrap());
    let directory = sync_server::Directory::open(storage).unwrap();
    let city = directory.add_unit("压测市", UnitKind::City, None, None).unwrap();
    let admin = directory.add_person("管理员", "admin", None, None).unwrap();
    directory.grant(&admin.id, &city.id, Role::Admin, None).unwrap();
    reset_peak();
    let started = Instant::now();
    let rows = sync_server::read_import_table(file).unwrap();
    let read_ms = started.elapsed().as_secs_f64() * 1e3;
    let counts = directory.import(&admin.id, &rows).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!((counts.units, counts.people), (1_999, PEOPLE), "{name}");
    Run { read_ms, import_ms: total_ms - read_ms, peak_mb: peak_mb() }
}

fn main() {
    let rows = table();
    let (csv, xlsx) = (csv_file(&rows), xlsx_file(&rows));
    println!("{} rows; CSV {} KB, .xlsx {} KB", rows.len(), csv.len() / 1024, xlsx.len() / 1024);
    drop(rows);
    let base = run("csv", &csv);
    let x = run("xlsx", &xlsx);
    for (name, r) in [("CSV (baseline)", &base), (".xlsx", &x)] {
        println!("{name}: read {:.0} ms, check + store {:.0} ms, total {:.0} ms, peak {:.0} MB", r.read_ms, r.import_ms, r.read_ms + r.import_ms, r.peak_mb);
    }
    println!("xlsx / csv: total {:.2}x, peak memory {:.2}x", (x.read_ms + x.import_ms) / (base.read_ms + base.import_ms), x.peak_mb / base.peak_mb);
}
