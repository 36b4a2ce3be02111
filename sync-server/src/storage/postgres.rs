//! Storage in PostgreSQL: a pool of connections whose sockets run on a small runtime of their
//! own, serialisable transactions retried when another process got in first, and the schema
//! made once, under an advisory lock, by whichever process starts first.

use std::time::Duration;

use super::sql::{self, params, rand_u8, PgManager, Sql, SqlError};
use super::{accounts, awards, board, office, photos, read_model, schema, Notice, Result, SCHEMA_VERSION};

/// Connections per process (one of them held while serving, see [`Pg::serving`]): more than the blocking work storage runs at once on 2 cores, few
/// enough that several processes stay well inside PostgreSQL's default 100.
const POOL_SIZE: u32 = 9;

/// Times a transaction runs before its serialisation failure is reported as an error.
const ATTEMPTS: u32 = 20;

/// The advisory lock key under which the schema is made (any fixed number: "PLDG").
const SCHEMA_LOCK: i64 = 0x504c_4447;

/// The channel on which a process announces each chunk it commits ("<document> <process>").
pub(super) const CHANGES: &str = "pioneer_changes";
/// The channel on which a process announces a change to the directory ("<process>").
pub(super) const DIRECTORY: &str = "pioneer_directory";

/// Notices queued for the process before the listener stops reading (PostgreSQL holds the
/// rest: its queue is the bound, not this process's memory).
const NOTICES_QUEUED: usize = 4096;

pub(super) struct Pg {
    pool: r2d2::Pool<PgManager>,
    config: tokio_postgres::Config,
    /// This process, in the notices it sends (it does not act on its own).
    instance: String,
    /// Drives the connections' sockets. Shut down without waiting when storage is dropped
    /// (possibly on a thread that runs async code, where waiting is not allowed).
    runtime: std::mem::ManuallyDrop<tokio::runtime::Runtime>,
    described: String,
}

impl Drop for Pg {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used again.
        let runtime = unsafe { std::mem::ManuallyDrop::take(&mut self.runtime) };
        runtime.shutdown_background();
    }
}

/// The tables as SQLite has them at [`SCHEMA_VERSION`], in PostgreSQL's types.
fn tables() -> String {
    let mut all: Vec<String> =
        [schema::CORE, accounts::SCHEMA, read_model::SCHEMA, board::SCHEMA, office::SCHEMA, awards::SCHEMA, photos::SCHEMA].iter().map(|s| sql::postgres_ddl(s)).collect();
    all.push(postgres_only());
    all.join("\n")
}

/// What only PostgreSQL keeps (photos' bytes, counts shared by processes); made again with
/// `IF NOT EXISTS` at every start, so a database made before one of them gains it.
fn postgres_only() -> String {
    [photos::POSTGRES_BYTES, accounts::POSTGRES_ATTEMPTS, board::POSTGRES_WINDOWS].concat()
}

/// The database's address for messages, without its password.
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{}@{}:{port}/{}", config.get_user().unwrap_or(""), hosts.join(","), config.get_dbname().unwrap_or(""))
}

impl Pg {
    pub(super) fn open(url: &str) -> Result<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| format!("--database: {e}"))?;
        let described = describe(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("postgres-io")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the PostgreSQL client: {e}"))?;
        let manager = PgManager { config: config.clone(), runtime: runtime.handle().clone() };
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| format!("cannot connect to {described}: {e}"))?;
        let instance = ledger_sync::DocumentId::random().to_string();
        let pg = Self { pool, config, instance, runtime: std::mem::ManuallyDrop::new(runtime), described };
        pg.make_schema()?;
        Ok(pg)
    }

    pub(super) fn describe(&self) -> String {
        self.described.clone()
    }

    /// The payload announcing a chunk of `doc` committed by this process.
    pub(super) fn notice(&self, doc: &str) -> String {
        format!("{doc} {}", self.instance)
    }

    pub(super) fn instance(&self) -> &str {
        &self.instance
    }

    /// Listens, on a connection of its own (a pooled one would lose notifications when given
    /// back), for what other processes commit. After every (re)connection the first notice is
    /// [`Notice::Resync`]: what was announced while nobody listened is looked for, not lost.
    pub(super) fn listen(&self) -> tokio::sync::mpsc::Receiver<Notice> {
        let (tx, rx) = tokio::sync::mpsc::channel(NOTICES_QUEUED);
        let (config, instance, described) = (self.config.clone(), self.instance.clone(), self.described.clone());
        self.runtime.spawn(async move {
            loop {
                match listen_once(&config, &instance, &tx).await {
                    Ok(()) => return, // nobody reads the notices any more
                    Err(e) => tracing::warn!("listening to {described}: {e}; again in a second"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        rx
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<PgManager>> {
        self.pool.get().map_err(|e| format!("storage: no connection to {}: {e}", self.described))
    }

    /// Makes the tables when the database has none; refuses one a newer server wrote.
    fn make_schema(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin("BEGIN")?;
        let db: &mut dyn Sql = &mut tx;
        db.execute("SELECT pg_advisory_xact_lock(?1)", params![SCHEMA_LOCK]).map(|_| ())?;
        let exists = db.query_row("SELECT to_regclass('settings') IS NOT NULL", params![], |r| r.get::<bool>(0))?;
        if exists {
            let version =
                db.query_opt("SELECT value FROM settings WHERE key = 'schema_version'", params![], |r| r.get::<String>(0))?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            if version > SCHEMA_VERSION {
                return Err(format!("{} was written by a newer version of the server (schema {version}; this one knows up to {SCHEMA_VERSION}): run that version", self.described));
            }
            if version < SCHEMA_VERSION {
                return Err(format!("{} holds schema {version}, which this server cannot bring to {SCHEMA_VERSION}", self.described));
            }
            for statement in postgres_only().split(';').map(str::trim).filter(|s| !s.is_empty()) {
                db.execute(statement, params![])?;
            }
            tx.commit()?;
            return Ok(());
        }
        for statement in tables().split(';').map(str::trim).filter(|s| !s.is_empty()) {
            db.execute(statement, params![])?;
        }
        db.execute("INSERT INTO settings (key, value) VALUES ('schema_version', ?1)", params![SCHEMA_VERSION.to_string()])?;
        db.execute("INSERT INTO settings (key, value) VALUES ('read_model_version', ?1)", params![read_model::PROJECTION_VERSION.to_string()])?;
        tx.commit()?;
        tracing::info!("made the tables in {}", self.described);
        Ok(())
    }

    /// A repeatable-read transaction that only reads: one snapshot for all its statements (a
    /// document's snapshot and chunks read while another process compacts it stay one state).
    pub(super) fn read<T>(&self, f: impl FnOnce(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        let mut conn = self.conn()?;
        let mut tx = conn.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let v = f(&mut tx)?;
        tx.commit()?;
        Ok(v)
    }

    /// A read-committed transaction that first waits for the advisory lock of `key`.
    pub(super) fn write_in_turn<T>(&self, key: &str, f: impl FnMut(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        self.retrying("BEGIN ISOLATION LEVEL READ COMMITTED", Some(key), f)
    }

    /// A serialisable transaction, run again from the start while PostgreSQL reports that it
    /// overlapped another: the result is as if every writer, on every process, took turns.
    pub(super) fn write<T>(&self, f: impl FnMut(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        self.retrying("BEGIN ISOLATION LEVEL SERIALIZABLE", None, f)
    }

    /// Runs `f` in a transaction begun with `begin` (after the advisory lock of `key`, if
    /// any), from the start again while PostgreSQL says it overlapped another (a serialisation
    /// failure, or a deadlock between locks), up to [`ATTEMPTS`] times.
    fn retrying<T>(&self, begin: &str, key: Option<&str>, mut f: impl FnMut(&mut dyn Sql) -> sql::Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = (|| -> sql::Result<T> {
                let mut conn = self.conn().map_err(SqlError::from)?;
                let mut tx = conn.begin(begin)?;
                if let Some(key) = key {
                    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))", params![key])?;
                }
                let v = f(&mut tx)?;
                tx.commit()?;
                Ok(v)
            })();
            match result {
                Ok(v) => return Ok(v),
                Err(e) if e.retry && attempt < ATTEMPTS => {
                    // Apart a little, and more each time, so the same two do not meet again.
                    std::thread::sleep(Duration::from_millis(u64::from(attempt) * (1 + u64::from(rand_u8()) % 4)));
                }
                Err(e) => return Err(e.message),
            }
        }
    }
}

/// One listening connection, until it fails (Err) or the process stops reading (Ok).
async fn listen_once(config: &tokio_postgres::Config, instance: &str, tx: &tokio::sync::mpsc::Sender<Notice>) -> std::result::Result<(), String> {
    use futures_util::StreamExt;
    use tokio_postgres::AsyncMessage;
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let sql = format!("LISTEN {CHANGES}; LISTEN {DIRECTORY}");
    let listen = client.batch_execute(&sql);
    tokio::pin!(listen);
    // The socket is read by polling `messages`: both run until LISTEN is answered.
    loop {
        tokio::select! {
            done = &mut listen => { done.map_err(|e| e.to_string())?; break; }
            message = messages.next() => match message {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("the connection closed".into()),
            },
        }
    }
    if tx.send(Notice::Resync).await.is_err() {
        return Ok(());
    }
    while let Some(message) = messages.next().await {
        let notification = match message.map_err(|e| e.to_string())? {
            AsyncMessage::Notification(n) => n,
            _ => continue,
        };
        let _ = &client; // kept open while listening
        let notice = match notification.channel() {
            CHANGES => {
                let Some((doc, from)) = notification.payload().split_once(' ') else { continue };
                let Ok(doc) = ledger_sync::DocumentId::parse(doc) else { continue };
                if from == instance {
                    continue;
                }
                Notice::Changed(doc)
            }
            DIRECTORY => {
                let mut words = notification.payload().split(' ');
                if words.next() == Some(instance) {
                    continue;
                }
                match (words.next(), words.next(), words.next()) {
                    (Some("device"), Some(device), Some(status)) => Notice::Revoked { device: device.into(), status: status.into() },
                    _ => Notice::Directory,
                }
            }
            _ => continue,
        };
        // Waiting here stops reading the socket: PostgreSQL keeps what follows.
        if tx.send(notice).await.is_err() {
            return Ok(());
        }
    }
    Err("the connection closed".into())
}

/// One of a limited number of places held across every process (a session-level advisory
/// lock on a connection kept for as long as the place is held); given back when dropped, and by
/// PostgreSQL when the process dies.
pub(crate) struct PgPlace {
    conn: r2d2::PooledConnection<PgManager>,
    key: (i32, i32),
    /// Held together with others (a serving process), not alone.
    shared: bool,
}

impl Drop for PgPlace {
    fn drop(&mut self) {
        let (a, b) = self.key;
        let unlock = if self.shared { "pg_advisory_unlock_shared" } else { "pg_advisory_unlock" };
        if !matches!(self.conn.ask(&format!("SELECT {unlock}({a}, {b})")), Ok(true)) {
            self.conn.poison();
        }
    }
}

/// The advisory lock every serving process holds shared and a restore holds alone.
const SERVING: (i32, i32) = (SCHEMA_LOCK as i32, 1);

impl Pg {
    /// A place among `max` of `kind` (a small number naming the bound), or None when all are
    /// held somewhere.
    pub(super) fn place(&self, kind: i32, max: usize) -> Result<Option<PgPlace>> {
        let mut conn = self.conn()?;
        for slot in 0..max as i32 {
            if conn.ask(&format!("SELECT pg_try_advisory_lock({kind}, {slot})"))? {
                return Ok(Some(PgPlace { conn, key: (kind, slot), shared: false }));
            }
        }
        Ok(None)
    }

    /// Held for as long as a process serves from this database (`alone` false, shared with
    /// every other serving process), or by a restore (`alone`: refused while any process
    /// serves, and no process starts while it is held).
    pub(super) fn hold_serving(&self, alone: bool) -> Result<PgPlace> {
        let mut conn = self.conn()?;
        let (a, b) = SERVING;
        let lock = if alone { "pg_try_advisory_lock" } else { "pg_try_advisory_lock_shared" };
        if !conn.ask(&format!("SELECT {lock}({a}, {b})"))? {
            return Err(if alone {
                format!("a sync-server serves from {} (stop every one first) or another restore runs", self.described)
            } else {
                format!("a restore into {} is under way: start the server once it is done", self.described)
            });
        }
        Ok(PgPlace { conn, key: SERVING, shared: !alone })
    }
}
