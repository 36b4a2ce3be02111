//! What a county's backup and check cost: a data directory of `UNITS` villages, each ledger the
//! realistic one `make_ledger` wrote (visits, problems, pledges), its read model projected. Times
//! a plain copy of the database file (the baseline), `backup` (online `VACUUM INTO`, checked),
//! `check` of the backup, and `restore`, each as a ratio to the copy.
//!
//! cargo run --release -p ledger --example make_ledger -- 5000 /tmp/ledger.automerge 2000 500
//! cargo run --release -p sync-server --example bench_backup -- 20 /tmp/ledger.automerge

use std::sync::Arc;
use std::time::Instant;

use ledger::org::UnitKind;
use ledger_sync::DocumentId;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let units: usize = args.next().and_then(|s| s.parse().ok()).ok_or("UNITS")?;
    let ledger = std::fs::read(args.next().ok_or("LEDGER_FILE")?).map_err(|e| e.to_string())?;
    let data = tempfile_dir("bench-backup-data")?;
    {
        let storage = Arc::new(sync_server::Storage::open(&data)?);
        let directory = sync_server::Directory::open(storage.clone())?;
        let city = directory.add_unit("测市", UnitKind::City, None, None)?;
        let county = directory.add_unit("测县", UnitKind::County, Some(&city.id), None)?;
        let town = directory.add_unit("测镇", UnitKind::Township, Some(&county.id), None)?;
        for i in 0..units {
            let unit = directory.add_unit(&format!("测村{i}"), UnitKind::Village, Some(&town.id), None)?;
            let doc = DocumentId::parse(unit.ledger.as_deref().expect("a village keeps a ledger")).map_err(|e| e.to_string())?;
            storage.append(&doc, &ledger)?;
        }
        let started = Instant::now();
        sync_server::rebuild_read_model(&storage, &storage.org()?)?;
        println!("prepared {units} ledgers of {} KB each; read model projected in {:.1} s", ledger.len() / 1024, started.elapsed().as_secs_f64());
    }
    let db = data.join(sync_server::DATABASE);
    let size = std::fs::metadata(&db).map_err(|e| e.to_string())?.len();
    let out = tempfile_dir("bench-backup-out")?;

    let started = Instant::now();
    std::fs::copy(&db, out.join("copy.sqlite3")).map_err(|e| e.to_string())?;
    let copy = started.elapsed().as_secs_f64();

    let file = out.join("backup.sqlite3");
    let backup = sync_server::backup::backup(&data, &file)?;
    let backup_s = backup.took.as_secs_f64();

    let started = Instant::now();
    let report = sync_server::data_check::check_file(&file)?;
    let check = started.elapsed().as_secs_f64();
    if !report.is_whole() {
        return Err(format!("the backup is not whole: {:?}", report.problems));
    }

    let target = tempfile_dir("bench-backup-restored")?;
    let started = Instant::now();
    sync_server::backup::restore(&file, &target)?;
    let restore = started.elapsed().as_secs_f64();

    println!("database {:.1} MB; {}", size as f64 / 1e6, report.summary());
    println!("copy of the file (baseline) {copy:.3} s");
    println!("backup  {backup_s:.3} s  {:.1}x the copy  ({:.1} MB)", backup_s / copy, backup.bytes as f64 / 1e6);
    println!("check   {check:.3} s  {:.1}x the copy", check / copy);
    println!("restore {restore:.3} s  {:.1}x the copy (its check included)", restore / copy);
    for dir in [&data, &out, &target] {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

fn tempfile_dir(prefix: &str) -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}
