//! The binary as a county's IT office runs it, and the packaging in `deploy/`: the systemd
//! unit (verified by systemd, its sandbox scored), the container recipe (what it copies is what
//! the build makes, what it runs the binary takes; no container engine runs on these machines,
//! so it is checked, not built), and the commands an operator types.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sync-server");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Whether the binary takes these arguments (clap stops at `--help` only once every argument
/// before it parsed).
fn takes(args: &[String]) -> Result<(), String> {
    let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
    with_help.push("--help");
    let o = run(&with_help);
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("sync-server {args:?}: {}", text(&o)))
    }
}

/// The unit's ExecStart, joined across its continuation lines.
fn exec_start(unit: &str) -> Vec<String> {
    let joined = unit.replace("\\\n", " ");
    let line = joined.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("an ExecStart");
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_systemd_unit_verifies_is_sandboxed_and_runs_what_the_binary_takes() {
    let unit = std::fs::read_to_string(root().join("deploy/systemd/pioneer-ledger.service")).unwrap();
    let exec = exec_start(&unit);
    assert_eq!(exec[0], "/usr/local/bin/sync-server");
    takes(&exec[1..]).unwrap();
    for needed in ["User=pioneer-ledger", "ProtectSystem=strict", "StateDirectory=pioneer-ledger", "NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID"] {
        assert!(unit.lines().any(|l| l == needed), "the unit lacks {needed}");
    }
    assert!(exec.windows(2).any(|w| w[0] == "--data-dir" && w[1] == "/var/lib/pioneer-ledger"), "the data directory is the state directory");

    // systemd's own reading of it, with the binary where this build put it.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("pioneer-ledger.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/sync-server", BIN)).unwrap();
    let verify = Command::new("systemd-analyze").arg("verify").arg(&copy).output().expect("systemd-analyze (Debian's systemd)");
    assert!(verify.status.success() && verify.stderr.is_empty(), "systemd-analyze verify: {}", text(&verify));
    let security = Command::new("systemd-analyze").args(["security", "--offline=yes", "--threshold=25"]).arg(&copy).output().unwrap();
    let report = text(&security);
    assert!(security.status.success(), "{report}");
    let score: f64 =
        report.lines().find_map(|l| l.split("Overall exposure level for pioneer-ledger.service: ").nth(1)).and_then(|s| s.split_whitespace().next()?.parse().ok()).expect(&report);
    assert!(score <= 2.5, "the sandbox loosened: exposure {score} (was 1.7)\n{report}");
}

/// A Dockerfile's JSON-array instruction (`ENTRYPOINT [...]`), as arguments.
fn json_array(dockerfile: &str, instruction: &str) -> Vec<String> {
    let line = dockerfile.lines().find_map(|l| l.strip_prefix(&format!("{instruction} "))).unwrap_or_else(|| panic!("no {instruction}"));
    let array = line.find('[').map(|i| &line[i..]).expect("an exec-form array");
    serde_json::from_str(array).unwrap()
}

#[test]
fn the_container_recipe_copies_what_the_build_makes_and_runs_what_the_binary_takes() {
    let dockerfile = std::fs::read_to_string(root().join("deploy/container/Dockerfile")).unwrap();
    let build = std::fs::read_to_string(root().join("scripts/build.sh")).unwrap();
    assert!(build.contains("cargo build --release -p sync-server") && build.contains("scripts/bundles.sh"));
    let bundles = std::fs::read_to_string(root().join("scripts/bundles.sh")).unwrap();
    assert!(bundles.contains("dist"), "bundles.sh writes dist/");
    let copies: Vec<&str> = dockerfile.lines().filter_map(|l| l.strip_prefix("COPY --from=build ")).collect();
    assert_eq!(copies, ["/src/target/release/sync-server /usr/local/bin/sync-server", "/src/dist /usr/local/share/pioneer-ledger/dist"]);
    assert!(dockerfile.contains("PIONEER_SETUP=build bash scripts/setup.sh && bash scripts/build.sh"));
    let setup = std::fs::read_to_string(root().join("scripts/setup.sh")).unwrap();
    assert!(setup.contains(r#""${PIONEER_SETUP:-}" = build"#), "setup.sh knows the build-only mode");
    assert!(dockerfile.lines().filter(|l| l.starts_with("FROM ")).count() == 2, "two stages");
    assert!(dockerfile.lines().any(|l| l == "USER pioneer"), "runs as its own user");

    let entry = json_array(&dockerfile, "ENTRYPOINT");
    let cmd = json_array(&dockerfile, "CMD");
    assert_eq!(entry[0], "/usr/local/bin/sync-server");
    let all: Vec<String> = entry[1..].iter().chain(&cmd).cloned().collect();
    takes(&all).unwrap();
    // The run line in its comment, HTTPS of its own.
    let documented: Vec<String> =
        ["--listen", "0.0.0.0:8443", "--http-listen", "0.0.0.0:8080", "--tls-cert", "/tls/fullchain.pem", "--tls-key", "/tls/privkey.pem", "--backup-every", "6h"]
            .map(String::from)
            .to_vec();
    for arg in &documented {
        assert!(dockerfile.contains(arg.as_str()), "the documented run line changed: {arg}");
    }
    takes(&entry[1..].iter().cloned().chain(documented).collect::<Vec<_>>()).unwrap();
    let health = json_array(&dockerfile, "HEALTHCHECK --interval=30s --timeout=10s --start-period=30s CMD");
    assert_eq!(health[0], "/usr/local/bin/sync-server");
    takes(&health[1..]).unwrap();
    assert!(
        entry.windows(2).any(|w| w[0] == "--metrics-listen" && health.iter().any(|h| h.ends_with(w[1].rsplit(':').next().unwrap()))),
        "the health check asks the metrics listener"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain GET's body.
fn get(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(address).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_operator_asks_its_version_and_health_backs_it_up_while_it_runs_and_checks_the_backup() {
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("sync-server {}", env!("CARGO_PKG_VERSION")));

    let data = tempfile::tempdir().unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
    // A redirect to HTTPS with no HTTPS is refused before anything is opened or printed.
    let nowhere = tempfile::tempdir().unwrap();
    let refused = run(&["--http-listen", "127.0.0.1:0", "--data-dir", nowhere.path().to_str().unwrap(), "--dist", dist.path().to_str().unwrap(), "--demo"]);
    assert!(!refused.status.success() && text(&refused).contains("--http-listen redirects to HTTPS"), "{}", text(&refused));
    assert!(!text(&refused).contains("DEMO") && std::fs::read_dir(nowhere.path()).unwrap().next().is_none(), "{}", text(&refused));
    let (port, internal) = (free_port(), free_port());
    let d = data.path().to_str().unwrap();
    let server = Running(
        Command::new(BIN)
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--metrics-listen",
                &format!("127.0.0.1:{internal}"),
                "--data-dir",
                d,
                "--dist",
                dist.path().to_str().unwrap(),
                "--demo",
            ])
            .args(["--backup-every", "1s", "--backup-keep", "2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let address = format!("127.0.0.1:{internal}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !run(&["health", "--address", &address]).status.success() {
        assert!(Instant::now() < deadline, "the server never became healthy");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Scheduled backups come and the oldest go; their age is in the metrics.
    let scheduled = || -> Vec<PathBuf> { std::fs::read_dir(data.path().join("backups")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default() };
    let deadline = Instant::now() + Duration::from_secs(20);
    let metrics = loop {
        let m = get(&address, "/metrics");
        let done: f64 = m.lines().find_map(|l| l.strip_prefix("pioneer_backups_total{outcome=\"done\"} ")).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        if done >= 3.0 {
            break m;
        }
        assert!(Instant::now() < deadline, "three scheduled backups were not made: {m}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let age: f64 = metrics.lines().find_map(|l| l.strip_prefix("pioneer_backup_age_seconds ")).unwrap().parse().unwrap();
    assert!((0.0..10.0).contains(&age), "{metrics}");
    let kept = scheduled();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for f in &kept {
        assert!(text(&run(&["check", "--file", f.to_str().unwrap()])).contains("is whole"));
    }
    // A second server on the same data directory is refused.
    let second = run(&["--listen", &format!("127.0.0.1:{}", free_port()), "--data-dir", d, "--dist", dist.path().to_str().unwrap()]);
    assert!(!second.status.success() && text(&second).contains("another sync-server uses"), "{}", text(&second));

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("now.sqlite3");
    let made = run(&["backup", "--data-dir", d, "--to", file.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made));
    let checked = run(&["check", "--file", file.to_str().unwrap()]);
    assert!(checked.status.success() && text(&checked).contains("is whole"), "{}", text(&checked));
    let restored = run(&["restore", "--from", file.to_str().unwrap(), "--data-dir", d]);
    assert!(!restored.status.success() && text(&restored).contains("another sync-server uses"), "a restore under a running server: {}", text(&restored));
    drop(server);
    assert!(!run(&["health", "--address", &address]).status.success(), "a stopped server is not healthy");

    // Damage found by `check` is named, with a failing exit.
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch("PRAGMA foreign_keys = OFF; INSERT INTO grants VALUES ('nobody', 'nowhere', 'cadre');").unwrap();
    drop(db);
    let checked = run(&["check", "--file", file.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(text(&checked).contains("problem: grants row"), "{}", text(&checked));
}
