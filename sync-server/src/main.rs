//! `sync-server`: one process that is the whole product — it serves the app and (as the
//! sync work lands) syncs ledgers and stores them under `--data-dir`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[derive(Parser, Debug)]
#[command(name = "sync-server", about = "先锋台账服务器：提供应用、同步台账、持久保存")]
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
    let args = Args::parse();
    match run(args).await {
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
    let app = sync_server::router(sync_server::Config { dist: args.dist.clone(), data_dir: args.data_dir.clone() })?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("先锋台账 serving http://{local} (app from {}, data in {})", args.dist.display(), args.data_dir.display());
    sync_server::serve(listener, app, sync_server::ConnectionLimits::default(), shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
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
