//! `sync-server`: one process that is the whole product — it serves the app and (as the
//! sync work lands) syncs ledgers and stores them under `--data-dir`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[derive(Parser, Debug)]
#[command(name = "sync-server", version, about = "先锋台账服务器：提供应用、同步台账、持久保存")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Args,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Issues a device token for a third-party automerge-repo peer and prints it (pass it as
    /// the `token` query parameter of the `/sync` URL).
    IssueToken {
        #[command(flatten)]
        store: Store,
        /// The login of the person the peer acts for.
        #[arg(long)]
        account: String,
        /// A name for the device, shown to admins.
        #[arg(long)]
        device: String,
    },
    /// Rebuilds the supervisor's read model of every unit ledger from the documents (run it
    /// with the server stopped; a running server keeps the read model current by itself).
    RebuildReadModel {
        #[command(flatten)]
        store: Store,
    },
    /// Writes a consistent copy of storage to FILE (a SQLite file, from either backend; photos
    /// beside it), while servers run or not.
    Backup {
        #[command(flatten)]
        store: Store,
        /// The backup file to write (it must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restores a backup into storage (every server on it stopped). The backup is checked
    /// first; what storage held is kept (SQLite: moved aside; PostgreSQL: backed up into the
    /// data directory's backups). A SQLite backup restored into PostgreSQL moves a city there.
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        store: Store,
    },
    /// Asks a running server's internal listener (`--metrics-listen`) whether it is healthy:
    /// exits 0 when storage takes writes (for a container's health check; no curl needed).
    Health {
        #[arg(long, default_value = "127.0.0.1:9108")]
        address: SocketAddr,
    },
    /// Proves storage (or, with --file, a backup) whole: exits 1 naming every problem.
    Check {
        #[command(flatten)]
        store: Store,
        /// A backup file to check instead.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

/// Where storage is: the data directory and, beside it, the database.
#[derive(clap::Args, Debug)]
struct Store {
    /// Where documents and accounts are stored (the SQLite database, photos, backups).
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// `sqlite` (in the data directory; the default) or `postgres://user@host:port/database`,
    /// which several server processes may share (from the environment, a password stays out
    /// of the process list).
    #[arg(long, default_value = "sqlite", env = "PIONEER_DATABASE")]
    database: sync_server::Database,
}

impl Store {
    /// For messages: the data directory, or PostgreSQL's address without its password.
    fn describe(&self) -> String {
        match &self.database {
            sync_server::Database::Sqlite => self.data_dir.display().to_string(),
            database => database.describe(),
        }
    }

    fn open(&self) -> Result<sync_server::Storage, String> {
        sync_server::Storage::open_database(&self.database, &self.data_dir, sync_server::STORAGE_BUSY_TIMEOUT)
    }
}

#[derive(clap::Args, Debug)]
struct Args {
    /// Address to listen on [default: 127.0.0.1:8080; with --lan 0.0.0.0:8443].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Serves HTTPS with this certificate chain (PEM); read again when the file changes or on
    /// SIGHUP. Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Tries it on phones on this LAN: HTTPS with a certificate for this machine's LAN
    /// addresses from a local authority kept in the data directory (install its certificate on
    /// the phones once: see README).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    lan: bool,
    /// More names the --lan certificate is for (a DNS name on the LAN).
    #[arg(long = "lan-name", requires = "lan")]
    lan_names: Vec<String>,
    /// Plain HTTP on this address only redirects to HTTPS [default with --lan: 0.0.0.0:8080].
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// A reverse proxy in front of the server (one or more addresses): only requests from it
    /// have their X-Forwarded-For and X-Forwarded-Proto believed.
    #[arg(long = "trusted-proxy", num_args = 1..)]
    trusted_proxies: Vec<std::net::IpAddr>,
    #[command(flatten)]
    store: Store,
    /// The built app (Trunk's output).
    #[arg(long, default_value = "./dist")]
    dist: PathBuf,
    /// Seeds a demo organisation (on an empty data directory) and prints every demo account
    /// with a fresh password or activation code.
    #[arg(long)]
    demo: bool,
    /// For rehearsals and tests only: award rounds (评先评优) count their stages as if today
    /// were this many days later, so a whole round can be walked through in an afternoon.
    #[arg(long, default_value_t = 0, hide = true)]
    days_ahead: i64,
    /// Backs the data directory up this often while serving (`6h`, `1d`); off when not given.
    #[arg(long, value_parser = humantime::parse_duration)]
    backup_every: Option<std::time::Duration>,
    /// How many scheduled backups to keep; older ones are deleted.
    #[arg(long, default_value_t = 14)]
    backup_keep: usize,
    /// Where scheduled backups go (default: `backups` in the data directory; a different disk
    /// is better).
    #[arg(long)]
    backup_dir: Option<PathBuf>,
    /// Megabytes of photos each unit may keep on the server; an upload past it is refused
    /// with a message saying so [default: 2048].
    #[arg(long)]
    photo_quota_mb: Option<u64>,
    /// Serves `/metrics` (Prometheus) on this address only, with no token: keep it internal.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// A file holding a token: `/metrics` on the main address then answers requests bearing it
    /// (`Authorization: Bearer …`).
    #[arg(long)]
    metrics_token_file: Option<PathBuf>,
    /// Serves the public board (先锋广场, /b/…) alone on this address too: the one to expose to
    /// the internet while the main address stays internal. Plain HTTP: put TLS in front of it.
    #[arg(long)]
    public_listen: Option<SocketAddr>,
    /// Where residents reach the board (`https://board.example.gov.cn`), for QR codes, posters
    /// and each ledger's boardUrl [default: the address a request came to].
    #[arg(long)]
    public_url: Option<String>,
    /// Ratings, 留言 and rechecks the board stores per second, from everyone; past it residents
    /// are asked to try again shortly.
    #[arg(long, default_value_t = 200)]
    public_writes_per_second: u32,
    /// Ratings, 留言 and rechecks from one address per hour (keep it high where many phones share
    /// a carrier's address).
    #[arg(long, default_value_t = 300)]
    public_writes_per_address_per_hour: u32,
}

/// `RUST_LOG`, or info. Automerge opens an info-level span for every batch of changes it loads
/// whose fields include its whole change graph, formatted with `Debug`: recording it cost about
/// a sixth of the server's CPU under load, growing with the document. Its spans are off unless
/// `RUST_LOG` names automerge.
fn log_filter() -> EnvFilter {
    let wanted = std::env::var("RUST_LOG").unwrap_or_default();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if wanted.contains("automerge") {
        return filter;
    }
    filter.add_directive("automerge=warn".parse().expect("a valid directive"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_env_filter(log_filter()).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::IssueToken { store, account, device }) => issue_token(&store, &account, &device),
        Some(Command::RebuildReadModel { store }) => rebuild_read_model(&store),
        Some(Command::Backup { store, to }) => backup(&store, &to).map(|b| {
            println!(
                "backed up {} to {} ({} bytes in {:.1} s; {} new photos copied beside it)",
                store.describe(),
                b.path.display(),
                b.bytes,
                b.took.as_secs_f64(),
                b.photos_copied
            );
            if !b.photos_missing.is_empty() {
                println!("{} photos were removed while the backup ran and are not in it", b.photos_missing.len());
            }
        }),
        Some(Command::Restore { from, store }) => restore(&from, &store).map(|r| {
            println!("restored {} into {}: {}", from.display(), store.describe(), r.report.summary());
            if let Some(kept) = r.kept {
                println!("what it held before is kept in {}", kept.display());
            }
            if !r.photos_missing.is_empty() {
                println!("{} photos the backup lists were not beside it (its photos folder was not copied with it?)", r.photos_missing.len());
            }
        }),
        Some(Command::Health { address }) => health(address).await,
        Some(Command::Check { store, file }) => check(&store, file.as_deref()),
        None => run(cli.serve).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !args.dist.join("index.html").is_file() {
        return Err(format!("{} has no index.html: build the app first (trunk build)", args.dist.display()));
    }
    if args.http_listen.is_some() && !args.lan && args.tls_cert.is_none() {
        return Err("--http-listen redirects to HTTPS: give --tls-cert and --tls-key, or --lan".into());
    }
    // One server per SQLite data directory; restore waits for it to stop. On PostgreSQL every
    // serving process holds a place shared with the others, which a restore takes alone.
    let _lock = match args.store.database {
        sync_server::Database::Sqlite => Some(sync_server::backup::DataDirLock::take(&args.store.data_dir)?),
        sync_server::Database::Postgres(_) => None,
    };
    if let Some(url) = &args.public_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.parse::<axum::http::Uri>().is_err() {
            return Err(format!("--public-url {url}: give the board's address as https://host[:port]"));
        }
    }
    let limits = sync_server::board::BoardLimits {
        writes_per_second: args.public_writes_per_second,
        writes_per_address_per_hour: args.public_writes_per_address_per_hour,
        ..Default::default()
    };
    let storage = std::sync::Arc::new(args.store.open()?);
    let _serving = storage.hold_serving()?;
    let mut state = sync_server::AppState::with_board(storage, &limits, args.public_url.clone())?;
    if let Some(mb) = args.photo_quota_mb {
        state.photo_quota = mb * 1024 * 1024;
    }
    if let Some(file) = &args.metrics_token_file {
        let token = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let token = token.trim();
        if token.len() < 16 {
            return Err(format!("the metrics token in {} is shorter than 16 characters", file.display()));
        }
        state.metrics_token = Some(token.into());
    }
    let backup_dir = args.backup_dir.clone().unwrap_or_else(|| args.store.data_dir.join(sync_server::backup::DIR));
    if let Some(every) = args.backup_every {
        sync_server::backup::schedule(state.hub.storage.clone(), backup_dir.clone(), every, args.backup_keep);
        tracing::info!("backing up every {} into {}, keeping {}", humantime::format_duration(every), backup_dir.display(), args.backup_keep);
    }
    if let Some(addr) = args.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let router = sync_server::metrics_router(state.clone());
        tracing::info!("metrics on http://{}/metrics", listener.local_addr().map_err(|e| e.to_string())?);
        // The same bounded accept loop as the main address (header timeout, connection caps):
        // an internal address is still one a stuck scraper or a scan can hold sockets on.
        tokio::spawn(sync_server::serve(listener, router, sync_server::ConnectionLimits::default(), std::future::pending()));
    }
    sync_server::watch_backups(backup_dir);
    if let Some(addr) = args.public_listen {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        tracing::info!("public board (先锋广场) on http://{}/b/…", listener.local_addr().map_err(|e| e.to_string())?);
        let router = sync_server::public_router(state.clone());
        let transport = sync_server::Transport { tls: None, trusted_proxies: args.trusted_proxies.clone().into() };
        tokio::spawn(sync_server::serve_with(listener, router, sync_server::ConnectionLimits::default(), transport, std::future::pending()));
    }
    let listen = args.listen.unwrap_or(if args.lan { ([0, 0, 0, 0], 8443).into() } else { ([127, 0, 0, 1], 8080).into() });
    let http_listen = args.http_listen.or(args.lan.then(|| ([0, 0, 0, 0], 8080).into()));
    let mut lan_hosts = Vec::new();
    let certificates = if args.lan {
        let authority = sync_server::tls::LocalAuthority::in_data_dir(&args.store.data_dir);
        let issued = authority.issue(&sync_server::tls::lan_names(&args.lan_names))?;
        lan_hosts = issued.names.clone();
        tracing::info!("certificate from the local authority for {}", issued.names.join(", "));
        Some(sync_server::tls::Certificates::open(&issued.cert, &issued.key)?)
    } else if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        Some(sync_server::tls::Certificates::open(cert, key)?)
    } else {
        None
    };
    if let Some(c) = &certificates {
        c.watch();
    }
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if certificates.is_some() { "https" } else { "http" };
    let base = match lan_hosts.first() {
        Some(host) if local.ip().is_unspecified() => format!("{scheme}://{}:{}", host, local.port()),
        _ => format!("{scheme}://{local}"),
    };
    state.hub.days_ahead.store(args.days_ahead, std::sync::atomic::Ordering::Relaxed);
    let directory = state.hub.directory.clone();
    if args.demo {
        let hub = state.hub.clone();
        let accounts = tokio::task::spawn_blocking(move || sync_server::demo::seed(&hub)).await.map_err(|e| e.to_string())??;
        println!("{}", sync_server::demo::describe(&accounts, &base));
    } else if let Some(code) = tokio::task::spawn_blocking(move || directory.issue_setup_code()).await.map_err(|e| e.to_string())?? {
        println!("首次启动：请在浏览器打开 {base}/setup#{code} 创建第一个管理员（24 小时内有效，只能使用一次）。");
    }
    let mut app = sync_server::router_for(state, args.dist.clone());
    if certificates.is_some() {
        app = sync_server::with_hsts(app);
    }
    let transport = sync_server::Transport { tls: certificates.as_ref().map(|c| c.acceptor()), trusted_proxies: args.trusted_proxies.clone().into() };
    if let Some(addr) = http_listen {
        let plain = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let ca = args.lan.then(|| sync_server::tls::LocalAuthority::in_data_dir(&args.store.data_dir).ca_path());
        if let (Some(host), true) = (lan_hosts.first(), ca.is_some()) {
            println!("手机上先打开 http://{host}:{}/ca.crt 安装本地证书（见 README），再打开 {base}", addr.port());
        }
        let redirect = sync_server::redirect_router(local.port(), ca);
        tokio::spawn(sync_server::serve(plain, redirect, sync_server::ConnectionLimits::default(), std::future::pending()));
    }
    tracing::info!("先锋台账 serving {base} (app from {}, data in {})", args.dist.display(), args.store.data_dir.display());
    sync_server::serve_with(listener, app, sync_server::ConnectionLimits::default(), transport, shutdown_signal()).await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

fn issue_token(store: &Store, login: &str, device: &str) -> Result<(), String> {
    let storage = std::sync::Arc::new(store.open()?);
    let directory = sync_server::Directory::open(storage.clone())?;
    let (person, _) = storage.person_by_login(login)?.ok_or_else(|| format!("no account with login {login}"))?;
    let new = directory.issue_token(&person.id, device, None)?;
    println!("{}", new.token);
    Ok(())
}

async fn health(address: SocketAddr) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut s = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("cannot reach {address}: {e}"))?;
        s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(answer)
    };
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), ask).await.map_err(|_| format!("{address} did not answer in 10 s"))??;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    if head.starts_with("HTTP/1.1 200") {
        println!("healthy");
        Ok(())
    } else {
        Err(format!("unhealthy: {}", body.trim()))
    }
}

/// SQLite's backup opens the file by itself (a server may be running on it, or an older one
/// that a full open would migrate); PostgreSQL's reads through storage.
fn backup(store: &Store, to: &std::path::Path) -> Result<sync_server::backup::Backup, String> {
    match store.database {
        sync_server::Database::Sqlite => sync_server::backup::backup(&store.data_dir, to),
        sync_server::Database::Postgres(_) => sync_server::backup::backup_storage(&store.open()?, to),
    }
}

fn restore(from: &std::path::Path, store: &Store) -> Result<sync_server::backup::Restored, String> {
    match store.database {
        sync_server::Database::Sqlite => sync_server::backup::restore(from, &store.data_dir),
        sync_server::Database::Postgres(_) => sync_server::backup::restore_into(from, &store.open()?),
    }
}

fn check(store: &Store, file: Option<&std::path::Path>) -> Result<(), String> {
    let (report, file) = match (file, &store.database) {
        (Some(file), _) => (sync_server::data_check::check_file(file)?, file.display().to_string()),
        (None, sync_server::Database::Sqlite) => {
            let file = store.data_dir.join(sync_server::DATABASE);
            (sync_server::data_check::check_file(&file)?, file.display().to_string())
        }
        (None, sync_server::Database::Postgres(_)) => {
            let storage = store.open()?;
            (sync_server::data_check::check_storage(&storage)?, storage.describe())
        }
    };
    let file = &file;
    for note in &report.notes {
        println!("note: {note}");
    }
    if report.is_whole() {
        println!("{file} is whole: {}", report.summary());
        return Ok(());
    }
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    Err(format!("{file} is not whole: {} problem(s)", report.problems.len()))
}

fn rebuild_read_model(store: &Store) -> Result<(), String> {
    let storage = store.open()?;
    let started = std::time::Instant::now();
    let n = sync_server::rebuild_read_model(&storage, &storage.org()?)?;
    println!("read model rebuilt: {n} ledgers in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
