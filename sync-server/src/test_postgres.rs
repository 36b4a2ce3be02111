//! A throwaway PostgreSQL for the tests and benchmarks: Debian's server started from its own
//! binaries in a temporary directory on a free loopback port, one per test process, each test
//! given a database of its own. The server dies with the process that started it (it is told
//! to by the kernel), and a later start clears what dead ones left behind.
//!
//! Not used by the server itself.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running server: where to reach it.
pub struct Instance {
    pub port: u16,
    dir: PathBuf,
}

static INSTANCE: OnceLock<Result<Instance, String>> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// Where Debian keeps PostgreSQL's programs (the newest version installed).
fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (/usr/lib/postgresql): run scripts/setup.sh, which installs Debian's postgresql".to_owned())?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop().ok_or_else(|| "no PostgreSQL server under /usr/lib/postgresql".to_owned())
}

/// The account PostgreSQL runs as: `postgres` when we are root (it refuses to run as root).
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: plain libc calls; getpwnam's result is read at once.
    unsafe {
        if libc::geteuid() != 0 {
            return None;
        }
        let pw = libc::getpwnam(c"postgres".as_ptr());
        if pw.is_null() {
            return None;
        }
        Some(((*pw).pw_uid, (*pw).pw_gid))
    }
}

fn command(program: PathBuf, dies_with_us: bool) -> Command {
    let mut c = Command::new(program);
    let user = run_as();
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(move || {
            if let Some((uid, gid)) = user {
                if libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            // After setuid, which clears it: the server is killed when its parent thread ends.
            if dies_with_us {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
            }
            Ok(())
        });
    }
    c
}

fn chown(path: &Path) -> Result<(), String> {
    if let Some((uid, gid)) = run_as() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Removes the directories of servers whose test processes are gone.
fn clear_leftovers(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("pg-").and_then(|p| p.parse::<u32>().ok()) {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn start() -> Result<Instance, String> {
    let bin = bin_dir()?;
    let root = std::env::temp_dir().join("pioneer-test-postgres");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    clear_leftovers(&root);
    let dir = root.join(format!("pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    chown(&root)?;
    chown(&dir)?;
    let data = dir.join("data");
    let out = command(bin.join("initdb"), false)
        .args(["-D", &data.to_string_lossy(), "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let (bin2, data2, dir2) = (bin.clone(), data.clone(), dir.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    // The thread that starts the server lives as long as the process: the kernel kills the
    // server when that thread ends.
    std::thread::Builder::new()
        .name("test-postgres".into())
        .spawn(move || {
            let log = std::fs::File::create(dir2.join("log")).map(Stdio::from).unwrap_or_else(|_| Stdio::null());
            let started = command(bin2.join("postgres"), true)
                .args(["-D", &data2.to_string_lossy(), "-p", &port.to_string(), "-k", &dir2.to_string_lossy()])
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "shared_buffers=64MB"])
                .args(durability())
                .args(statistics())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn();
            let _ = tx.send(started.map(|_child| ()).map_err(|e| format!("postgres: {e}")));
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())??;
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            return Err(format!("postgres did not start in 30 s: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Instance { port, dir })
}

/// Tests: a commit need not reach the disk (a killed server process is what the tests kill,
/// never the machine). Benchmarks set `PIONEER_PG_DURABLE=1`: every commit is flushed, as
/// SQLite's `synchronous = FULL` does, so the two compare.
fn durability() -> Vec<&'static str> {
    if std::env::var("PIONEER_PG_DURABLE").as_deref() == Ok("1") {
        return Vec::new();
    }
    vec!["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
}

/// `PIONEER_PG_STATS=1` (the multi-process benchmark): every statement's count and time
/// kept by `pg_stat_statements`, to say where PostgreSQL's time goes.
fn statistics() -> Vec<&'static str> {
    if std::env::var("PIONEER_PG_STATS").as_deref() == Ok("1") {
        return vec!["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all"];
    }
    Vec::new()
}

/// The process's server, started the first time it is asked for.
pub fn instance() -> Result<&'static Instance, String> {
    INSTANCE.get_or_init(start).as_ref().map_err(Clone::clone)
}

impl Instance {
    /// A new, empty database; its `postgres://` address.
    pub fn database(&self) -> Result<String, String> {
        let name = format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let port = self.port;
        let sql = format!("CREATE DATABASE {name}");
        // On a thread of its own: the caller may be inside a runtime.
        std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let said = |e: tokio_postgres::Error| e.as_db_error().map_or_else(|| e.to_string(), |d| format!("{}: {}", d.code().code(), d.message()));
                // The server takes connections on its port before it is ready for them ("the
                // database system is starting up"): a process's first test waits for it.
                let mut waited = 0;
                let (client, connection) = loop {
                    match tokio_postgres::connect(&format!("postgres://postgres@127.0.0.1:{port}/postgres"), tokio_postgres::NoTls).await {
                        Ok(c) => break c,
                        Err(e) if waited < 300 && e.code() == Some(&tokio_postgres::error::SqlState::CANNOT_CONNECT_NOW) => {
                            waited += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(e) => return Err(said(e)),
                    }
                };
                tokio::spawn(connection);
                // CREATE DATABASE copies template1 and is refused while another one does:
                // tests asking at once take turns.
                let mut attempt = 0;
                loop {
                    match client.batch_execute(&sql).await {
                        Ok(()) => return Ok(()),
                        Err(e) if attempt < 50 && e.code() == Some(&tokio_postgres::error::SqlState::OBJECT_IN_USE) => {
                            attempt += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                        }
                        Err(e) => return Err(said(e)),
                    }
                }
            })
        })
        .join()
        .map_err(|_| "creating a test database panicked".to_owned())??;
        Ok(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
    }

    /// The server's folder (its log is `log` in it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A new, empty database on the process's server.
pub fn database() -> Result<String, String> {
    instance()?.database()
}
