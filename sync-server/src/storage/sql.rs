//! The one SQL both backends speak: SQLite embedded (the default) and PostgreSQL for several
//! processes. Storage's statements are written once, in the subset both understand (`?N`
//! parameters, `ON CONFLICT`, `RETURNING`, `CAST`), and run through [`Sql`]; only the schema's
//! column types and a few maintenance pragmas differ per backend.
//!
//! Written by hand because no crate fits: sqlx's `Any` driver is async (storage runs on the
//! blocking pool and its callers are synchronous) and rusqlite and postgres share no trait.
//! What is here is small: values in, rows out, and a transaction per call, retried on
//! PostgreSQL when serialisable isolation says another process got in first.

use std::collections::HashMap;

/// Why a statement failed. `retry`: PostgreSQL aborted the transaction because it overlapped
/// another (serialisation failure, deadlock); running it again from the start is correct.
#[derive(Debug)]
pub(crate) struct SqlError {
    pub message: String,
    pub retry: bool,
}

pub(crate) type Result<T> = std::result::Result<T, SqlError>;

impl From<String> for SqlError {
    fn from(message: String) -> Self {
        Self { message, retry: false }
    }
}

impl From<SqlError> for String {
    fn from(e: SqlError) -> Self {
        e.message
    }
}

impl From<rusqlite::Error> for SqlError {
    fn from(e: rusqlite::Error) -> Self {
        Self { message: format!("storage: {e}"), retry: false }
    }
}

impl From<tokio_postgres::Error> for SqlError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        let retry = e.code().is_some_and(|c| *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED);
        // The server's own message (constraint, column…), not only "db error".
        let message = match e.as_db_error() {
            Some(db) => format!("storage: {}: {}", db.code().code(), db.message()),
            None => format!("storage: {e}"),
        };
        Self { message, retry }
    }
}

/// A value bound to a statement, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// What can be bound as a parameter: integers, text, bytes, and None as NULL.
pub(crate) trait Param {
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_param!(i64, i32, u32, u64, usize);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(*self as i64)
    }
}
impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Bytes(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Bytes(self)
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

/// `params![a, b]`: the parameters of one statement, `?1` then `?2`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::storage::sql::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::storage::sql::Param),+] as &[&dyn $crate::storage::sql::Param] };
}
pub(crate) use params;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(n),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

impl tokio_postgres::types::ToSql for Value<'_> {
    /// Converted to the type PostgreSQL inferred for the parameter, as SQLite would store it.
    fn to_sql(&self, ty: &tokio_postgres::types::Type, out: &mut bytes::BytesMut) -> std::result::Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
                Type::BOOL => (n != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => n.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer cannot be bound to a {ty} parameter").into()),
            },
            // SQLite keeps text where bytes were meant; PostgreSQL's column takes its bytes.
            Value::Text(s) if *ty == Type::BYTEA => s.as_bytes().to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bytes(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// One column of a result row, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// What a column can be read as.
pub(crate) trait FromCell: Sized {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String>;
}

fn mismatch<T>(cell: Cell<'_>) -> std::result::Result<T, String> {
    Err(format!("storage: a column holds {cell:?}, not a {}", std::any::type_name::<T>()))
}

macro_rules! int_cell {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
                match cell {
                    Cell::Int(n) => <$t>::try_from(n).map_err(|e| format!("storage: {n}: {e}")),
                    other => mismatch(other),
                }
            }
        }
    )*};
}
int_cell!(i64, i32, u32, u64, usize);

impl FromCell for f64 {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Real(x) => Ok(x),
            Cell::Int(n) => Ok(n as f64),
            other => mismatch(other),
        }
    }
}

impl FromCell for bool {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Int(n) => Ok(n != 0),
            other => mismatch(other),
        }
    }
}
impl FromCell for String {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Text(s) => Ok(s.to_owned()),
            other => mismatch(other),
        }
    }
}
impl FromCell for Vec<u8> {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Bytes(b) => Ok(b.to_vec()),
            // SQLite keeps what it was given: text written where bytes are read.
            Cell::Text(s) => Ok(s.as_bytes().to_vec()),
            other => mismatch(other),
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// A result row of either backend.
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a tokio_postgres::Row),
}

impl Row<'_> {
    pub(crate) fn get<T: FromCell>(&self, i: usize) -> Result<T> {
        let cell = match self {
            Row::Sqlite(r) => {
                use rusqlite::types::ValueRef;
                match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(n) => Cell::Int(n),
                    ValueRef::Real(x) => Cell::Real(x),
                    ValueRef::Text(t) => Cell::Text(std::str::from_utf8(t).map_err(|e| SqlError::from(format!("storage: text column {i}: {e}")))?),
                    ValueRef::Blob(b) => Cell::Bytes(b),
                }
            }
            Row::Postgres(r) => return pg_cell(r, i).and_then(|c| T::from_cell(c)).map_err(SqlError::from),
        };
        T::from_cell(cell).map_err(SqlError::from)
    }
}

/// Helps read a column of any type: whether it is NULL.
struct Nullness(bool);
impl<'a> tokio_postgres::types::FromSql<'a> for Nullness {
    fn from_sql(_: &tokio_postgres::types::Type, _: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Nullness(false))
    }
    fn from_sql_null(_: &tokio_postgres::types::Type) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Nullness(true))
    }
    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }
}

fn pg_cell(r: &tokio_postgres::Row, i: usize) -> std::result::Result<Cell<'_>, String> {
    use tokio_postgres::types::Type;
    let e = |e: tokio_postgres::Error| format!("storage: column {i}: {e}");
    if r.try_get::<_, Nullness>(i).map_err(e)?.0 {
        return Ok(Cell::Null);
    }
    let ty = r.columns()[i].type_();
    Ok(match *ty {
        Type::INT8 => Cell::Int(r.try_get::<_, i64>(i).map_err(e)?),
        Type::INT4 => Cell::Int(r.try_get::<_, i32>(i).map_err(e)?.into()),
        Type::INT2 => Cell::Int(r.try_get::<_, i16>(i).map_err(e)?.into()),
        Type::BOOL => Cell::Int(r.try_get::<_, bool>(i).map_err(e)?.into()),
        Type::FLOAT8 => Cell::Real(r.try_get::<_, f64>(i).map_err(e)?),
        Type::BYTEA => Cell::Bytes(r.try_get::<_, &[u8]>(i).map_err(e)?),
        _ => Cell::Text(r.try_get::<_, &str>(i).map_err(e)?),
    })
}

/// A transaction (or, for maintenance, a connection) of either backend.
pub(crate) trait Sql {
    /// Runs a statement; the rows it changed.
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize>;
    /// Runs a query, calling `each` with every row in order.
    fn each(&mut self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()>;
    /// Which backend this is: for the few places that must differ.
    fn backend(&self) -> Kind;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

impl dyn Sql + '_ {
    /// Every row, each read by `f`.
    pub(crate) fn query_map<T>(&mut self, sql: &str, params: &[&dyn Param], mut f: impl FnMut(&Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each(sql, params, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, if there is one.
    pub(crate) fn query_opt<T>(&mut self, sql: &str, params: &[&dyn Param], f: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<Option<T>> {
        let mut f = Some(f);
        let mut out = None;
        self.each(sql, params, &mut |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row; an error when there is none.
    pub(crate) fn query_row<T>(&mut self, sql: &str, params: &[&dyn Param], f: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        self.query_opt(sql, params, f)?.ok_or_else(|| SqlError::from(format!("storage: no row for {sql}")))
    }
}

/// SQLite: statements cached on the connection.
pub(crate) struct SqliteSql<'a>(pub &'a rusqlite::Connection);

impl Sql for SqliteSql<'_> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        Ok(self.0.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params.iter().map(|p| p.value())))?)
    }

    fn each(&mut self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(|p| p.value())))?;
        while let Some(r) = rows.next()? {
            each(&Row::Sqlite(r))?;
        }
        Ok(())
    }

    fn backend(&self) -> Kind {
        Kind::Sqlite
    }
}

/// A pooled PostgreSQL connection with the statements it has prepared (a statement is
/// prepared once per connection, not once per call: that is a round trip saved on every
/// call).
///
/// tokio-postgres rather than the blocking `postgres` crate: that one runs a runtime of its
/// own per call and panics when called from a thread that drives tokio, as some of storage's
/// callers are. Here each connection's socket is driven by a task on storage's own small
/// runtime, and a call waits for its answer on the caller's thread (the client's futures only
/// wait on channels, so any executor may poll them).
pub(crate) struct PgConnection {
    client: tokio_postgres::Client,
    statements: HashMap<String, tokio_postgres::Statement>,
    /// Inside BEGIN … COMMIT: a connection given back in this state is dropped, not reused.
    in_transaction: bool,
}

/// Statements prepared per connection at most; storage has fewer distinct ones than this.
const MAX_STATEMENTS: usize = 512;

fn wait<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

impl PgConnection {
    /// Starts a transaction (`BEGIN …`, e.g. `BEGIN ISOLATION LEVEL SERIALIZABLE`).
    pub(crate) fn begin(&mut self, begin: &str) -> Result<PgSql<'_>> {
        self.in_transaction = true;
        wait(self.client.batch_execute(begin))?;
        Ok(PgSql { conn: self })
    }

    /// Runs statements outside any transaction (the schema, under its own lock).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(wait(self.client.batch_execute(sql))?)
    }

    /// The one boolean a statement answers, outside any transaction (session-level locks).
    pub(crate) fn ask(&mut self, sql: &str) -> Result<bool> {
        Ok(wait(self.client.query_one(sql, &[]))?.try_get::<_, bool>(0)?)
    }

    /// Not to be used again: the pool closes it (and PostgreSQL ends what its session held).
    pub(crate) fn poison(&mut self) {
        self.in_transaction = true;
    }
}

/// PostgreSQL: one transaction on a pooled connection, rolled back unless committed.
pub(crate) struct PgSql<'a> {
    conn: &'a mut PgConnection,
}

impl PgSql<'_> {
    pub(crate) fn commit(self) -> Result<()> {
        let done = wait(self.conn.client.batch_execute("COMMIT"));
        if done.is_ok() {
            self.conn.in_transaction = false;
        }
        // On an error the connection stays marked and Drop rolls back.
        Ok(done?)
    }

    fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(s) = self.conn.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = wait(self.conn.client.prepare(&dollar_params(sql)))?;
        if self.conn.statements.len() >= MAX_STATEMENTS {
            self.conn.statements.clear();
        }
        self.conn.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }
}

impl Drop for PgSql<'_> {
    fn drop(&mut self) {
        if self.conn.in_transaction && wait(self.conn.client.batch_execute("ROLLBACK")).is_ok() {
            self.conn.in_transaction = false;
        }
    }
}

impl Sql for PgSql<'_> {
    fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        Ok(wait(self.conn.client.execute(&stmt, &refs))? as usize)
    }

    fn each(&mut self, sql: &str, params: &[&dyn Param], each: &mut dyn FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values.iter().map(|v| v as _).collect();
        for r in wait(self.conn.client.query(&stmt, &refs))? {
            each(&Row::Postgres(&r))?;
        }
        Ok(())
    }

    fn backend(&self) -> Kind {
        Kind::Postgres
    }
}

/// A random byte: for spreading retries and occasional sweeps.
pub(crate) fn rand_u8() -> u8 {
    let mut b = [0u8];
    let _ = getrandom::fill(&mut b);
    b[0]
}

/// `?N` → `$N` outside quoted text: the one spelling the two disagree on.
pub(crate) fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if c == '?' && !quoted { '$' } else { c });
    }
    out
}

/// Opens PostgreSQL connections for the pool; their sockets run on `runtime`.
pub(crate) struct PgManager {
    pub config: tokio_postgres::Config,
    pub runtime: tokio::runtime::Handle,
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = SqlError;

    fn connect(&self) -> Result<PgConnection> {
        let config = self.config.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let opened = config.connect(tokio_postgres::NoTls).await.map(|(client, connection)| {
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!("postgres connection: {e}");
                    }
                });
                client
            });
            let _ = tx.send(opened);
        });
        let client = rx.recv().map_err(|_| SqlError::from("storage: the postgres runtime stopped".to_owned()))??;
        Ok(PgConnection { client, statements: HashMap::new(), in_transaction: false })
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<()> {
        conn.batch("")
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        conn.in_transaction || conn.client.is_closed()
    }
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

/// The PostgreSQL column types for a table written in SQLite's: 64-bit integers, bytes, and
/// text compared byte by byte (`COLLATE "C"`), so that lists sort as on SQLite whatever the
/// database's locale.
pub(crate) fn postgres_ddl(sqlite: &str) -> String {
    sqlite
        .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        .replace("DEFAULT (unixepoch())", "DEFAULT (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))")
        .replace(" WITHOUT ROWID", "")
        .replace(" INTEGER", " BIGINT")
        .replace(" BLOB", " BYTEA")
        .replace(" TEXT", " TEXT COLLATE \"C\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_outside_quotes_only() {
        assert_eq!(dollar_params("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d = ?2"), "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2");
    }

    #[test]
    fn ddl_becomes_postgres_types() {
        let pg = postgres_ddl("CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL, b BLOB, c INTEGER) WITHOUT ROWID;");
        assert_eq!(pg, "CREATE TABLE t (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, a TEXT COLLATE \"C\" NOT NULL, b BYTEA, c BIGINT);");
    }
}
