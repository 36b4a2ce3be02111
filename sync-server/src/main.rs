//! `sync-server`: one process that is the whole product — it serves the app and (as the
//! sync work lands) syncs ledgers and stores them under `--data-dir`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[derive(Parser, Debug)]
#[command(name = "sync-server", about = "先锋台账服务器：提供应用、同步台账、持久保存")]
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
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
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
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where documents and accounts are stored.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// The built app (Trunk's output).
    #[arg(long, default_value = "./dist")]
    dist: PathBuf,
    /// Seeds a demo organisation (on an empty data directory) and prints every demo account
    /// with a fresh password or activation code.
    #[arg(long)]
    demo: bool,
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
        Some(Command::IssueToken { data_dir, account, device }) => issue_token(&data_dir, &account, &device),
        Some(Command::RebuildReadModel { data_dir }) => rebuild_read_model(&data_dir),
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
    let state = sync_server::AppState::open(&args.data_dir)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let base = format!("http://{local}");
    let directory = state.hub.directory.clone();
    if args.demo {
        let accounts = tokio::task::spawn_blocking(move || sync_server::demo::seed(&directory)).await.map_err(|e| e.to_string())??;
        println!("{}", sync_server::demo::describe(&accounts, &base));
    } else if let Some(code) = tokio::task::spawn_blocking(move || directory.issue_setup_code()).await.map_err(|e| e.to_string())?? {
        println!("首次启动：请在浏览器打开 {base}/setup#{code} 创建第一个管理员（24 小时内有效，只能使用一次）。");
    }
    let app = sync_server::router_for(state, args.dist.clone());
    tracing::info!("先锋台账 serving http://{local} (app from {}, data in {})", args.dist.display(), args.data_dir.display());
    sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), shutdown_signal()).await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

fn issue_token(data_dir: &std::path::Path, login: &str, device: &str) -> Result<(), String> {
    let storage = std::sync::Arc::new(sync_server::Storage::open_with(data_dir, sync_server::STORAGE_BUSY_TIMEOUT)?);
    let directory = sync_server::Directory::open(storage.clone())?;
    let (person, _) = storage.person_by_login(login)?.ok_or_else(|| format!("no account with login {login}"))?;
    let new = directory.issue_token(&person.id, device, None)?;
    println!("{}", new.token);
    Ok(())
}

fn rebuild_read_model(data_dir: &std::path::Path) -> Result<(), String> {
    let storage = sync_server::Storage::open_with(data_dir, sync_server::STORAGE_BUSY_TIMEOUT)?;
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
