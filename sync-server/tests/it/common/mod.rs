//! A phone as the server's tests and load clients see it: one document, the `ledger-sync`
//! engine the app runs, a real WebSocket, and the heads the server has confirmed (the shared
//! heads of its last reply, which the server sends only after its commit).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{sync, ActorId, AutoCommit, ChangeHash, ROOT};
use futures_util::{SinkExt, StreamExt};
use ledger_sync::{Connection, DocumentId, LocalPeer, Message, Output, SingleDocument};
use tokio_tungstenite::tungstenite::Message as Ws;

pub struct Phone {
    pub id: DocumentId,
    pub doc: AutoCommit,
    pub name: String,
    /// The name its changes are signed with: the person whose token it syncs with.
    pub signer: String,
    /// The server's storage id and the sync state kept for it, as the app keeps them.
    pub storage_id: Option<String>,
    pub saved_state: Option<Vec<u8>>,
    /// The heads the server confirmed last (its reply came after its commit).
    pub confirmed: Vec<ChangeHash>,
    /// Every confirmation heard, with when it was heard.
    pub confirmations: Vec<(Instant, Vec<ChangeHash>)>,
    /// Edits made so far (each one change), in order.
    pub edits: Vec<ChangeHash>,
    /// Why the last connection ended, when the server closed it.
    pub closed: Option<String>,
    /// `error` messages the server sent.
    pub errors: Vec<String>,
}

/// How one connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Nothing moved for the quiet period.
    Quiet,
    /// The server closed it, or the socket failed.
    Closed,
    /// The time budget ran out.
    Budget,
    /// Could not connect.
    NoConnection,
}

/// The seeded tester's name (see [`seed`]): what the tests' phones sign with.
pub const TESTER: &str = "测试员";

/// A new document holding the skeleton every unit ledger starts from, with its own actor.
pub fn skeleton() -> AutoCommit {
    ledger::UnitLedger::create(ActorId::random()).doc().clone().with_actor(ActorId::random())
}

/// The id of the visit the tests record under `key` (the same on every phone).
pub fn visit_id(key: &str) -> ledger::RecordId {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (salt, key).hash(&mut h);
        h.finish()
    };
    ledger::RecordId::parse(&format!("{:016x}{:016x}", half(1), half(2))).unwrap()
}

/// Writes `value` into the visit recorded under `key` (its `whom`), making the visit if this
/// document has none: a change the ledger's schema allows a cadre. Not committed.
pub fn put_visit(doc: &mut AutoCommit, key: &str, value: &str) {
    use automerge::{ReadDoc, ScalarValue};
    let visits = doc.get(ROOT, "visits").unwrap().expect("a ledger skeleton").1;
    let id = visit_id(key);
    let record = match doc.get(&visits, id.as_str()).unwrap() {
        Some((_, record)) => record,
        None => {
            let record = doc.put_object(&visits, id.as_str(), automerge::ObjType::Map).unwrap();
            doc.put(&record, "created_at", ScalarValue::Timestamp(1_000)).unwrap();
            doc.put(&record, "deleted", false).unwrap();
            doc.put(&record, "place", key).unwrap();
            record
        }
    };
    doc.put(&record, "whom", value).unwrap();
    doc.put(&record, "updated_at", ScalarValue::Timestamp(2_000)).unwrap();
}

/// Commits with a change note signed by `signer`, naming the visit of `key` (None: several).
pub fn commit_signed(doc: &mut AutoCommit, signer: &str, key: Option<&str>) {
    let note = ledger::record::ChangeNote { summary: "测试修改".into(), record: key.map(|k| (ledger::Section::Visits, visit_id(k))), by: signer.into() };
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message(note.encode()));
}

/// What the visit recorded under `key` says in `doc`.
pub fn visit_value(doc: &impl automerge::ReadDoc, key: &str) -> Option<String> {
    let visits = doc.get(ROOT, "visits").ok()??.1;
    let record = doc.get(&visits, visit_id(key).as_str()).ok()??.1;
    doc.get(&record, "whom").ok()?.map(|(v, _)| v.to_string().trim_matches('"').to_owned())
}

impl Phone {
    pub fn new(name: &str, id: DocumentId) -> Self {
        Self {
            id,
            doc: skeleton(),
            name: name.into(),
            signer: TESTER.into(),
            storage_id: Some(format!("{name}-storage")),
            saved_state: None,
            confirmed: Vec::new(),
            confirmations: Vec::new(),
            edits: Vec::new(),
            closed: None,
            errors: Vec::new(),
        }
    }

    /// A reader with no storage of its own: every connection starts from nothing.
    pub fn reader(id: DocumentId) -> Self {
        let mut p = Self::new("reader", id);
        p.storage_id = None;
        p
    }

    /// One edit, one change: the visit recorded under `key` now says `value`.
    pub fn edit(&mut self, key: &str, value: i64) {
        put_visit(&mut self.doc, key, &value.to_string());
        commit_signed(&mut self.doc, &self.signer, Some(key));
        self.edits.extend(self.doc.get_heads());
    }

    /// An edit carrying `bytes` of text (a long visit note, a photo caption pasted twice).
    pub fn edit_long(&mut self, key: &str, bytes: usize) {
        let text: String = (0..bytes).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
        put_visit(&mut self.doc, key, &text);
        commit_signed(&mut self.doc, &self.signer, Some(key));
        self.edits.extend(self.doc.get_heads());
    }

    fn host(&mut self) -> SingleDocument<'_> {
        SingleDocument { id: self.id, doc: &mut self.doc }
    }

    /// Edits the server confirmed: every edit that is an ancestor of (or equal to) the
    /// confirmed heads.
    pub fn confirmed_edits(&mut self) -> Vec<ChangeHash> {
        let confirmed = self.confirmed.clone();
        self.edits_within(&confirmed)
    }

    /// Edits the server had confirmed before `moment`.
    pub fn confirmed_before(&mut self, moment: Instant) -> Vec<ChangeHash> {
        let Some((_, heads)) = self.confirmations.iter().rev().find(|(at, _)| *at < moment).cloned() else { return Vec::new() };
        self.edits_within(&heads)
    }

    fn edits_within(&mut self, heads: &[ChangeHash]) -> Vec<ChangeHash> {
        if heads.is_empty() {
            return Vec::new();
        }
        let newer: std::collections::HashSet<ChangeHash> = self.doc.get_changes(heads).iter().map(|c| c.hash()).collect();
        self.edits.iter().copied().filter(|h| !newer.contains(h)).collect()
    }

    /// Connects and syncs until `quiet` passes with nothing received, the connection ends,
    /// or `budget` runs out. `edits` more edits are made while connected, one every
    /// `interval`, each synced at once; when there are any, quiet counts only once the server
    /// has confirmed every edit this phone holds.
    pub async fn session(&mut self, url: &str, budget: Duration, quiet: Duration, edits: usize, interval: Duration) -> End {
        let deadline = Instant::now() + budget;
        let Ok(Ok((ws, _))) = tokio::time::timeout(budget, tokio_tungstenite::connect_async(url)).await else {
            return End::NoConnection;
        };
        let (mut tx, mut rx) = ws.split();
        let mut conn = Connection::initiate(LocalPeer { peer_id: format!("{}-{}", self.name, DocumentId::random()), storage_id: self.storage_id.clone() });
        let mut left = edits;
        let mut next_edit = Instant::now() + interval;
        let mut last_heard = Instant::now();
        // Quiet counts only once the server has said something about the document.
        let mut heard_doc = false;
        let mut open = false;
        loop {
            while let Some(o) = conn.poll_output() {
                match o {
                    Output::Send(f) => {
                        if tx.send(Ws::Binary(f.into())).await.is_err() {
                            return End::Closed;
                        }
                    }
                    Output::Connected { .. } => {
                        open = true;
                        if let Some(state) = self.saved_state.clone() {
                            conn.restore_sync_state(self.id, &state);
                        }
                        conn.sync_document(self.id);
                    }
                    Output::Load { doc } => conn.process(doc, &mut self.host()),
                    Output::Persist { ticket, .. } => conn.persisted(ticket, &mut self.host()),
                    Output::SyncState { state, .. } => {
                        self.confirmed = sync::State::decode(&state).unwrap().shared_heads;
                        self.confirmations.push((Instant::now(), self.confirmed.clone()));
                        self.saved_state = Some(state);
                    }
                    Output::Close { reason } => {
                        self.closed = Some(reason);
                        return End::Closed;
                    }
                    Output::Unavailable { .. } | Output::RemoteError { .. } => {}
                }
            }
            // Without storage of our own the engine keeps no states: confirmed is what the
            // connection shares.
            if let Some(h) = conn.shared_heads(&self.id) {
                if self.storage_id.is_none() && self.confirmed != h {
                    self.confirmed = h.to_vec();
                    self.confirmations.push((Instant::now(), self.confirmed.clone()));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return End::Budget;
            }
            if open && left > 0 && now >= next_edit {
                left -= 1;
                let n = self.edits.len();
                self.edit(&format!("{}-{}", self.name, n % 16), n as i64);
                next_edit = now + interval;
                conn.sync_document(self.id);
                continue;
            }
            // A phone that wrote in this session waits for the server to confirm every edit
            // before silence may end it, as a phone in coverage keeps its socket: on a busy
            // machine a phone queued behind eleven others on one ledger can hear nothing for
            // seconds. A server that never confirms runs into `budget` instead.
            let mut waiting_for_confirmation = false;
            if left == 0 && heard_doc && now.duration_since(last_heard) >= quiet {
                let confirmed = self.confirmed_edits().len();
                if edits == 0 || confirmed == self.edits.len() {
                    return End::Quiet;
                }
                waiting_for_confirmation = true;
            }
            let wake = if left > 0 && open {
                next_edit.min(deadline)
            } else if waiting_for_confirmation {
                deadline
            } else {
                (last_heard + quiet).min(deadline)
            };
            match tokio::time::timeout(wake.saturating_duration_since(now), rx.next()).await {
                Ok(Some(Ok(Ws::Binary(f)))) => {
                    last_heard = Instant::now();
                    match ledger_sync::Message::decode(&f) {
                        Ok(ledger_sync::Message::Error { message }) => {
                            heard_doc |= message.contains(&self.id.to_string());
                            self.errors.push(message);
                        }
                        Ok(
                            ledger_sync::Message::Sync { document_id, .. }
                            | ledger_sync::Message::Request { document_id, .. }
                            | ledger_sync::Message::DocUnavailable { document_id, .. },
                        ) => heard_doc |= document_id == self.id,
                        _ => {}
                    }
                    conn.receive(&f);
                }
                Ok(Some(Ok(Ws::Close(frame)))) => {
                    self.closed = Some(frame.map(|f| f.reason.to_string()).unwrap_or_default());
                    return End::Closed;
                }
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) => return End::Closed,
                Err(_) => {}
            }
        }
    }

    /// Syncs with nothing new to say until quiet (or `budget`).
    pub async fn sync(&mut self, url: &str, budget: Duration) -> End {
        self.session(url, budget, Duration::from_millis(500), 0, Duration::ZERO).await
    }
}

/// Twelve phones of one unit starting from `base` and writing to it at once: `edits` each,
/// `min_gap` to `min_gap` + 20 ms apart, each syncing until `quiet`. Await [`all_quiet`].
pub fn twelve_writers(url: &str, id: DocumentId, base: &AutoCommit, edits: usize, min_gap: u64, quiet: Duration) -> Vec<tokio::task::JoinHandle<(Phone, End)>> {
    (0..12)
        .map(|n| {
            let mut phone = Phone::new(&format!("p{n}"), id);
            phone.doc = base.clone().with_actor(ActorId::random());
            let url = url.to_owned();
            tokio::spawn(async move {
                let interval = Duration::from_millis(min_gap + (n as u64 * 7) % 21);
                let end = phone.session(&url, Duration::from_secs(120), quiet, edits, interval).await;
                (phone, end)
            })
        })
        .collect()
}

/// The phones, once every one has finished quietly.
pub async fn all_quiet(tasks: Vec<tokio::task::JoinHandle<(Phone, End)>>) -> Vec<Phone> {
    let mut phones = Vec::new();
    for t in tasks {
        let (phone, end) = t.await.unwrap();
        assert_eq!(end, End::Quiet, "{} did not finish: {:?}", phone.name, phone.closed);
        phones.push(phone);
    }
    phones
}

/// The organisation every server test starts with: city → county → township, and a tester
/// who is a cadre of every ledger a test makes, with one device.
pub struct Tester {
    pub person: String,
    pub township: String,
    pub token: String,
    pub device: String,
}

/// Seeds the test organisation (once per data directory; later calls find it).
pub fn seed(directory: &sync_server::Directory) -> Tester {
    use ledger::org::UnitKind;
    let org = directory.org();
    let township = match org.units.values().find(|u| u.kind == UnitKind::Township) {
        Some(t) => t.id.clone(),
        None => {
            let city = directory.add_unit("测试市", UnitKind::City, None, None).unwrap();
            let county = directory.add_unit("测试县", UnitKind::County, Some(&city.id), None).unwrap();
            directory.add_unit("测试镇", UnitKind::Township, Some(&county.id), None).unwrap().id
        }
    };
    let person = match directory.storage.person_by_login("tester").unwrap() {
        Some((p, _)) => p,
        None => directory.add_person(TESTER, "tester", None, None).unwrap(),
    };
    let new = directory.issue_token(&person.id, "test device", None).unwrap();
    Tester { person: person.id, township, token: new.token, device: new.device.id }
}

/// A new village under the test township, the tester a cadre of it; its ledger's id.
pub fn add_ledger(directory: &sync_server::Directory, tester: &Tester) -> DocumentId {
    let name = format!("村{}", &DocumentId::random().to_string()[..8]);
    let unit = directory.add_unit(&name, ledger::org::UnitKind::Village, Some(&tester.township), None).unwrap();
    directory.grant(&tester.person, &unit.id, ledger::org::Role::Cadre, None).unwrap();
    DocumentId::parse(unit.ledger.as_ref().unwrap()).unwrap()
}

/// A data directory whose storage stays SQLite when the run tests PostgreSQL: for the tests
/// about SQLite's own file (locks, size, damage, backups of it, older layouts).
pub fn sqlite_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sync_server::Storage::test_on_sqlite(dir.path());
    dir
}

/// The server's router on a loopback port, with storage opened here (so a test reaches it)
/// and `busy` as the longest a write waits for a database lock.
pub struct Server {
    pub addr: std::net::SocketAddr,
    pub state: sync_server::AppState,
    pub task: tokio::task::JoinHandle<()>,
    pub tester: Tester,
    /// What the binary holds while it serves (on PostgreSQL: a restore waits for it).
    serving: sync_server::SharedPlace,
}

impl Server {
    pub async fn start(data: &std::path::Path, busy: Duration) -> Self {
        Self::start_with(data, busy, sync_server::ConnectionLimits::default()).await
    }

    /// Served by the binary's own accept loop, with these connection limits.
    pub async fn start_with(data: &std::path::Path, busy: Duration, limits: sync_server::ConnectionLimits) -> Self {
        Self::start_configured(data, busy, limits, |_| {}).await
    }

    /// With its state set as `configure` says before it serves (a flag of the binary's).
    pub async fn start_configured(data: &std::path::Path, busy: Duration, limits: sync_server::ConnectionLimits, configure: impl FnOnce(&mut sync_server::AppState)) -> Self {
        // PostgreSQL when the run asks for it (PIONEER_TEST_DATABASE=postgres), else SQLite.
        let database = sync_server::Storage::test_database(data).unwrap();
        Self::start_on(&database, data, busy, limits, configure).await
    }

    /// One of several processes sharing `database` (each with a data directory of its own).
    pub async fn start_shared(database: &sync_server::Database, data: &std::path::Path) -> Self {
        Self::start_on(database, data, Duration::from_secs(5), sync_server::ConnectionLimits::default(), |_| {}).await
    }

    async fn start_on(
        database: &sync_server::Database,
        data: &std::path::Path,
        busy: Duration,
        limits: sync_server::ConnectionLimits,
        configure: impl FnOnce(&mut sync_server::AppState),
    ) -> Self {
        let dist = tempfile::tempdir().unwrap();
        std::fs::write(dist.path().join("index.html"), "<!DOCTYPE html>").unwrap();
        let storage = std::sync::Arc::new(sync_server::Storage::open_database(database, data, busy).unwrap());
        let serving = storage.hold_serving().unwrap();
        let mut state = sync_server::AppState::with_storage(storage).unwrap();
        configure(&mut state);
        let tester = seed(&state.hub.directory);
        let app = sync_server::router_for(state.clone(), dist.keep());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            sync_server::serve(listener, app, limits, std::future::pending()).await.unwrap();
        });
        Self { addr, state, task, tester, serving }
    }

    /// The sync URL with the tester's device token.
    pub fn url(&self) -> String {
        self.url_with(&self.tester.token)
    }

    pub fn url_with(&self, token: &str) -> String {
        format!("ws://{}/sync?token={token}", self.addr)
    }

    /// A new unit ledger the tester may read and write.
    pub fn ledger(&self) -> DocumentId {
        add_ledger(&self.state.hub.directory, &self.tester)
    }

    /// Stops serving and lets go of storage, as a stopped process would.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        drop(self.serving);
    }
}

/// What the server answered one attempt with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The document's data came, and what was sent (if anything) is stored.
    Data,
    /// doc-unavailable, exactly as for a document that does not exist.
    Unavailable,
    /// The connection was closed with this reason.
    Refused(String),
}

/// Connects with `token`, syncs `doc` from `local` until quiet; returns the answer and the
/// document as the client then holds it.
pub async fn attempt(url: &str, doc: DocumentId, mut local: AutoCommit) -> (Answer, AutoCommit) {
    let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("the upgrade was refused");
    let (mut tx, mut rx) = ws.split();
    let mut conn = Connection::initiate(LocalPeer { peer_id: format!("matrix-{}", DocumentId::random()), storage_id: None });
    let mut answer = None;
    loop {
        while let Some(o) = conn.poll_output() {
            let mut host = SingleDocument { id: doc, doc: &mut local };
            match o {
                Output::Send(f) => {
                    let _ = tx.send(Ws::Binary(f.into())).await;
                }
                Output::Connected { .. } => conn.sync_document(doc),
                Output::Load { doc } => conn.process(doc, &mut host),
                Output::Persist { ticket, .. } => conn.persisted(ticket, &mut host),
                Output::Unavailable { .. } => answer = Some(Answer::Unavailable),
                Output::Close { reason } => return (Answer::Refused(reason), local),
                _ => {}
            }
        }
        match tokio::time::timeout(Duration::from_millis(600), rx.next()).await {
            Ok(Some(Ok(Ws::Binary(f)))) => {
                if let Ok(Message::Error { message }) = Message::decode(&f) {
                    return (Answer::Refused(message), local);
                }
                conn.receive(&f);
            }
            Ok(Some(Ok(Ws::Close(frame)))) => return (Answer::Refused(frame.map(|f| f.reason.to_string()).unwrap_or_default()), local),
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => return (Answer::Refused("socket ended".into()), local),
            Err(_) => return (answer.unwrap_or(Answer::Data), local),
        }
    }
}

/// A plain HTTP request over a TcpStream: (status, headers, body).
pub mod counties;

pub async fn http(addr: std::net::SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// A GET whose answer is bytes (a download), chunked or not: (status, head, body).
pub async fn http_bytes(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").map_or(out.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut body = out[split..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let (mut plain, mut rest) = (Vec::new(), body.as_slice());
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            plain.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = plain;
    }
    (status, head, body)
}

/// Runs `body` in a process of its own: this test binary again, asked for `test` alone. For a
/// test whose subject is the whole process (the global log subscriber, the process's memory and
/// descriptors), which the other tests of this binary running beside it would disturb.
/// `test` is the name the test harness knows (`module::function`).
pub fn own_process(test: &str, body: impl std::future::Future<Output = ()>) {
    const CHILD: &str = "PIONEER_OWN_PROCESS";
    if std::env::var(CHILD).as_deref() == Ok(test) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        return runtime.block_on(body);
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap()).args([test, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD, test).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{test} failed in its own process");
    // A name the harness does not know runs nothing and passes: that must fail here.
    assert!(stdout.contains("1 passed"), "{test} did not run in its own process");
}

/// The `Origin` a page of the server at `addr` sends (what a cookie-carrying request that
/// changes something must name).
pub fn origin(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}")
}

/// Resident memory of this process (server and clients together), in MB.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}
