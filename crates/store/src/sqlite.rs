//! Embedded SQLite: many readers, one writer thread that commits in groups.
//!
//! With `synchronous=FULL` every commit waits for the disk; one commit per request would cap intake
//! at the disk's fsync rate. The writer thread instead takes every write that is waiting, runs each
//! in its own savepoint inside one transaction, commits once, and only then answers each caller.
//! A write that fails rolls back to its savepoint alone; its neighbours still commit.

use crate::conn::{Conn, Dialect};
use crate::{Row, StoreError, Value};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// How many waiting writes one transaction takes at most.
const MAX_GROUP: usize = 512;

/// Durability level for `PRAGMA synchronous`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync at every commit and at checkpoints (the default).
    Full,
    /// fsync at checkpoints only; survives a process crash, not a power cut.
    Normal,
}

impl Synchronous {
    fn pragma_value(self) -> i64 {
        match self {
            Self::Full => 2,
            Self::Normal => 1,
        }
    }
}

type Reply = oneshot::Sender<Result<Box<dyn Any + Send>, StoreError>>;
type WriteFn = Box<dyn FnOnce(&mut dyn Conn) -> Result<Box<dyn Any + Send>, StoreError> + Send>;

pub(crate) struct SqliteBackend {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: crossbeam_channel::Sender<(WriteFn, Reply)>,
}

struct SqliteConn<'a>(&'a Connection);

/// Rewrites `$N` placeholders as SQLite's numbered `?N`, outside string literals.
fn rewrite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_str = false;
    for c in sql.chars() {
        if c == '\'' {
            in_str = !in_str;
        }
        out.push(if c == '$' && !in_str { '?' } else { c });
    }
    out
}

fn bind(v: &Value) -> rusqlite::types::ToSqlOutput<'_> {
    use rusqlite::types::ToSqlOutput::Borrowed;
    match v {
        Value::Null => Borrowed(ValueRef::Null),
        Value::Int(i) => Borrowed(ValueRef::Integer(*i)),
        Value::Float(f) => Borrowed(ValueRef::Real(*f)),
        Value::Text(s) => Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Bool(b) => Borrowed(ValueRef::Integer(i64::from(*b))),
        Value::Blob(b) => Borrowed(ValueRef::Blob(b)),
    }
}

struct Bound<'a>(&'a Value);
impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(bind(self.0))
    }
}

fn read_value(v: ValueRef<'_>) -> Result<Value, StoreError> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(|e| StoreError::Decode(e.to_string()))?
                .to_owned(),
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}

impl Conn for SqliteConn<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.0.prepare_cached(&rewrite_placeholders(sql))?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(Bound)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(read_value(r.get_ref(i)?)?);
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(&rewrite_placeholders(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter().map(Bound)))?;
        Ok(n as u64)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// The storage settings read back from a connection (DUR-9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteSettings {
    /// `PRAGMA journal_mode`.
    pub journal_mode: String,
    /// `PRAGMA synchronous` (2 = FULL, 1 = NORMAL).
    pub synchronous: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: i64,
    /// `PRAGMA busy_timeout` in milliseconds.
    pub busy_timeout: i64,
}

fn open(path: &Path, sync: Synchronous) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_millis(5_000))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.pragma_update(None, "synchronous", sync.pragma_value())?;
    conn.pragma_update(None, "foreign_keys", 1)?;
    // Statement journals (a multi-row insert inside a transaction keeps one, so that a failing
    // statement can be undone alone) in memory rather than in temporary files: a bulk import spent
    // a fifth of its time writing them.
    conn.pragma_update(None, "temp_store", 2)?;
    cache_statements(&conn)?;
    let got = settings_of(&conn)?;
    let ok = got.journal_mode == "wal"
        && got.synchronous == sync.pragma_value()
        && got.foreign_keys == 1
        && got.busy_timeout >= 5_000;
    if !ok {
        return Err(StoreError::Unavailable(format!(
            "SQLite refused the required settings (wanted wal, synchronous={}, foreign_keys=1, busy_timeout>=5000; got {got:?})",
            sync.pragma_value()
        )));
    }
    Ok(conn)
}

/// Keeps prepared statements, and makes them stay prepared: without the query planner stability
/// guarantee (QPSG), SQLite plans a statement with `col = ?` and an `ORDER BY` (every list query)
/// using the bound value, so binding any value again makes the next step parse and plan the
/// statement anew; that re-preparation was most of a list request's CPU.
fn cache_statements(conn: &Connection) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(256);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

fn settings_of(conn: &Connection) -> Result<SqliteSettings, StoreError> {
    Ok(SqliteSettings {
        journal_mode: conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?,
        synchronous: conn.pragma_query_value(None, "synchronous", |r| r.get(0))?,
        foreign_keys: conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?,
        busy_timeout: conn.pragma_query_value(None, "busy_timeout", |r| r.get(0))?,
    })
}

impl SqliteBackend {
    /// Opens (creating if needed) the database at `path`, runs `migrate` on the writer connection
    /// before anything else, and starts the writer thread.
    pub(crate) fn open(
        path: &Path,
        sync: Synchronous,
        migrate: impl FnOnce(&mut dyn Conn) -> Result<(), StoreError>,
    ) -> Result<Self, StoreError> {
        let writer_conn = open(path, sync)?;
        writer_conn.execute_batch("begin immediate")?;
        let migrated = migrate(&mut SqliteConn(&writer_conn));
        match migrated {
            Ok(()) => writer_conn.execute_batch("commit")?,
            Err(e) => {
                writer_conn.execute_batch("rollback")?;
                return Err(e);
            }
        }
        let (tx, rx) = crossbeam_channel::unbounded::<(WriteFn, Reply)>();
        std::thread::Builder::new()
            .name("gatehouse-sqlite-writer".into())
            .spawn(move || writer_loop(&writer_conn, &rx))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            writer: tx,
        })
    }

    /// The settings of the connection that writes (read connections keep SQLite's defaults,
    /// which say nothing about how commits are made durable).
    pub(crate) async fn settings(&self) -> Result<SqliteSettings, StoreError> {
        self.write(|c| {
            let mut one = |pragma: &str| c.query_one(&format!("pragma {pragma}"), &[]);
            Ok(SqliteSettings {
                journal_mode: one("journal_mode")?.text(0)?,
                synchronous: one("synchronous")?.int(0)?,
                foreign_keys: one("foreign_keys")?.int(0)?,
                busy_timeout: one("busy_timeout")?.int(0)?,
            })
        })
        .await
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut SqliteConn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_millis(5_000))?;
                cache_statements(&c)?;
                c
            }
        };
        // A read is one snapshot: several statements see the same committed state.
        exec(&conn, "begin")?;
        let out = f(&mut SqliteConn(&conn));
        let ended = exec(&conn, "commit");
        if ended.is_ok() {
            if let Ok(mut pool) = self.readers.lock() {
                pool.push(conn);
            }
        }
        out
    }

    /// Runs `f` on a pooled read connection, on the calling thread: point reads take microseconds,
    /// far less than a hop to another thread would.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_reader(|c| f(c))
    }

    /// Queues `f` for the writer thread; resolves after the group it joined has committed.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: WriteFn = Box::new(move |c| f(c).map(|v| Box::new(v) as Box<dyn Any + Send>));
        self.writer
            .send((job, reply))
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        let boxed = answer
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))??;
        boxed
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Decode("write result of an unexpected type".into()))
    }
}

/// Runs a fixed statement (transaction control) through the statement cache: `execute_batch`
/// would parse it again on every call, which showed up in profiles of the read path.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn poisoned() -> StoreError {
    StoreError::Unavailable("a reader pool lock was poisoned".into())
}

fn writer_loop(conn: &Connection, rx: &crossbeam_channel::Receiver<(WriteFn, Reply)>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        run_group(conn, group);
    }
}

fn run_group(conn: &Connection, group: Vec<(WriteFn, Reply)>) {
    if let Err(e) = exec(conn, "begin immediate") {
        let msg = e.to_string();
        for (_, reply) in group {
            let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
        }
        return;
    }
    let mut results = Vec::with_capacity(group.len());
    for (f, reply) in group {
        let outcome = run_one(conn, f);
        results.push((reply, outcome));
    }
    match exec(conn, "commit") {
        Ok(()) => {
            for (reply, outcome) in results {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            let _ = exec(conn, "rollback");
            let msg = e.to_string();
            for (reply, _) in results {
                let _ = reply.send(Err(StoreError::Unavailable(msg.clone())));
            }
        }
    }
}

fn run_one(conn: &Connection, f: WriteFn) -> Result<Box<dyn Any + Send>, StoreError> {
    exec(conn, "savepoint w")?;
    let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut SqliteConn(conn))))
        .unwrap_or_else(|_| Err(StoreError::Database("a write panicked".into())));
    if outcome.is_ok() {
        exec(conn, "release w")?;
    } else {
        exec(conn, "rollback to w")?;
        exec(conn, "release w")?;
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::{open, rewrite_placeholders, SqliteConn, Synchronous};

    #[test]
    fn placeholders_are_numbered_for_sqlite_outside_literals() {
        assert_eq!(
            rewrite_placeholders("select $2, '$1' from t where a = $1"),
            "select ?2, '$1' from t where a = ?1"
        );
    }

    #[test]
    fn cached_statements_are_not_prepared_again_on_every_run() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("db"), Synchronous::Full).unwrap();
        conn.execute_batch(
            "create table t (id text primary key, tenant_id text not null, name text not null);
             create index t_tenant_name on t (tenant_id, name, id);
             insert into t values ('a', 't1', 'x'), ('b', 't1', 'y'), ('c', 't2', 'z');",
        )
        .unwrap();
        let sql = "select id from t where tenant_id = ?1 and name > ?2 order by name, id limit ?3";
        for i in 0..20 {
            let mut stmt = conn.prepare_cached(sql).unwrap();
            let tenant = if i % 2 == 0 { "t1" } else { "t2" };
            let n = stmt
                .query_map((tenant, "", 10), |r| r.get::<_, String>(0))
                .unwrap()
                .count();
            assert!(n >= 1);
        }
        let stmt = conn.prepare_cached(sql).unwrap();
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "a cached statement was parsed and planned again"
        );
    }

    #[test]
    fn lookups_by_a_set_of_ids_use_the_ids_index_not_the_tenants() {
        use crate::listing::{id_set, tenant_is_1};
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("db"), Synchronous::Full).unwrap();
        crate::migrate::run(&mut SqliteConn(&conn), 0).unwrap();
        let c = SqliteConn(&conn);
        for (sql, index) in [
            (
                format!(
                    "select id from access_request where {} and requested_for_id {} and stage <> 'DONE'",
                    tenant_is_1(&c, "tenant_id"),
                    id_set(&c, 2)
                ),
                "access_request_for",
            ),
            (
                format!(
                    "select id from identity where {} and id {}",
                    tenant_is_1(&c, "tenant_id"),
                    id_set(&c, 2)
                ),
                "sqlite_autoindex_identity_1",
            ),
        ] {
            let sql = rewrite_placeholders(&sql);
            let mut stmt = conn.prepare(&format!("explain query plan {sql}")).unwrap();
            let plan: Vec<String> = stmt
                .query_map(("t1", "[]"), |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(
                plan.iter().any(|step| step.contains(index)),
                "{sql}: {plan:?}"
            );
        }
    }
}
