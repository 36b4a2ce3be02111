//! A throwaway PostgreSQL for what runs outside Rust's tests: the multi-process benchmark
//! (`bench/processes/run.mjs`) and the JS peers' test on two processes
//! (`tests/interop/processes.test.mjs`). Debian's server started in a temporary directory as
//! the tests start theirs; by default flushing every commit to the disk (as SQLite's
//! `synchronous = FULL` does, so the two compare), not with `PIONEER_PG_DURABLE=0`. Prints one
//! fresh database's address per line, then runs until its standard input closes; the server
//! stops with it.
//!
//! cargo run --release -p sync-server --example throwaway_postgres -- DATABASES

use std::io::Read;

fn main() -> Result<(), String> {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    if std::env::var_os("PIONEER_PG_DURABLE").is_none() {
        std::env::set_var("PIONEER_PG_DURABLE", "1");
    }
    let instance = sync_server::test_postgres::instance()?;
    for _ in 0..n {
        println!("{}", instance.database()?);
    }
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}
