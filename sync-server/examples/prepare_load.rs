//! Prepares a data directory for the load benchmark: an organisation of `UNITS` villages under
//! one township, one cadre in all of them with a device token, written to `OUT` as
//! `{"token": "...", "name": "...", "ledgers": ["<id>", ...]}` for `examples/load`.
//!
//! cargo run --release -p sync-server --example prepare_load -- DATA_DIR UNITS OUT.json [DATABASE]
//!
//! DATABASE: `sqlite` (the default) or a `postgres://` address several servers share.

use std::sync::Arc;

use ledger::org::{Role, UnitKind};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let data = args.next().ok_or("DATA_DIR")?;
    let units: usize = args.next().and_then(|s| s.parse().ok()).ok_or("UNITS")?;
    let out = args.next().ok_or("OUT")?;
    let database: sync_server::Database = args.next().unwrap_or_else(|| "sqlite".into()).parse()?;
    let storage = Arc::new(sync_server::Storage::open_database(&database, std::path::Path::new(&data), std::time::Duration::from_secs(5))?);
    let directory = sync_server::Directory::open(storage)?;
    let city = directory.add_unit("压测市", UnitKind::City, None, None)?;
    let county = directory.add_unit("压测县", UnitKind::County, Some(&city.id), None)?;
    let town = directory.add_unit("压测镇", UnitKind::Township, Some(&county.id), None)?;
    let person = directory.add_person("压测干部", "load", None, None)?;
    let mut ledgers = Vec::with_capacity(units);
    for i in 0..units {
        let unit = directory.add_unit(&format!("压测村{i}"), UnitKind::Village, Some(&town.id), None)?;
        directory.grant(&person.id, &unit.id, Role::Cadre, None)?;
        ledgers.push(unit.ledger.expect("a village keeps a ledger"));
    }
    let token = directory.issue_token(&person.id, "load generator", None)?.token;
    let json = serde_json::json!({ "token": token, "name": person.name, "ledgers": ledgers });
    std::fs::write(&out, json.to_string()).map_err(|e| e.to_string())
}
