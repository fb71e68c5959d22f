//! PostgreSQL, for several replicas sharing one database.
//!
//! Work runs on tokio's blocking pool with a pooled synchronous client, so the business code that
//! runs inside a transaction is the same plain Rust closure as on SQLite. Each pooled connection
//! keeps its prepared statements: a statement is parsed and planned once per connection, not once
//! per call (which took a round trip and the server's parse and plan every time).

use crate::conn::{Conn, Dialect};
use crate::{Row, StoreError, Value};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{GenericClient, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

type Pool = r2d2::Pool<SessionManager>;

/// How long a caller waits for a pooled connection before the store answers
/// [`StoreError::Unavailable`] (the API's 503 with `Retry-After`). While the database is down,
/// every request waits this long, so it is kept under the 2 s within which a caller must hear that
/// the service is unavailable (DUR-8).
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1_500);

/// How long one connection attempt may take, unless the URL says (`connect_timeout`): a server
/// that does not answer must not hold the pool's connecting threads.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a caller waits for a pooled connection while the database is known to be down. The
/// pool keeps trying to connect in the background (at most [`ACQUIRE_TIMEOUT`] apart), so work
/// passes again about a second after the database is back.
const ACQUIRE_TIMEOUT_WHILE_DOWN: Duration = Duration::from_millis(250);

/// How many prepared statements one connection keeps; past it the cache starts again empty.
/// Statement texts do not grow with the data (sets of ids are bound as one array), so the
/// distinct texts are the queries and the filter shapes in use.
const STATEMENT_CACHE: usize = 512;

/// A pooled connection and the statements prepared on it.
pub(crate) struct Session {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

/// Makes [`Session`]s for the pool.
struct SessionManager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for SessionManager {
    type Connection = Session;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Session, postgres::Error> {
        Ok(Session {
            client: self.0.connect()?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, s: &mut Session) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut s.client)
    }

    fn has_broken(&self, s: &mut Session) -> bool {
        self.0.has_broken(&mut s.client)
    }
}

#[derive(Clone)]
pub(crate) struct PgBackend {
    pool: Pool,
    /// One permit per pooled connection, handed out first come, first served. Work waits here,
    /// as a task, rather than as a blocked thread inside the pool, whose wake-ups are in no
    /// order: under 64 concurrent requests on a pool of 16 some waited half a second (p99).
    /// The wait is bounded like the pool's own ([`PgBackend::wait`]).
    permits: Arc<Semaphore>,
    /// Set when the database was found unreachable (no connection could be made, or one was
    /// lost), cleared by the next connection handed out: while set, callers wait
    /// [`ACQUIRE_TIMEOUT_WHILE_DOWN`] rather than [`ACQUIRE_TIMEOUT`], so that a request that
    /// touches the store several times still hears of an outage quickly.
    down: Arc<AtomicBool>,
}

/// The last handle on the pool closes its connections; the synchronous client closes by blocking
/// on its own runtime, which must not happen on an async worker thread, so the pool is dropped on
/// a thread of its own.
pub(crate) struct PgHandle(Option<PgBackend>);

impl PgHandle {
    pub(crate) fn new(b: PgBackend) -> Self {
        Self(Some(b))
    }

    pub(crate) fn get(&self) -> &PgBackend {
        self.0.as_ref().expect("the pool is present until drop")
    }
}

impl Drop for PgHandle {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            let _ = std::thread::spawn(move || drop(b)).join();
        }
    }
}

#[derive(Debug)]
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Float(f) => f.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Bool(b) => match *ty {
                Type::INT2 | Type::INT4 | Type::INT8 => i64::from(*b).to_sql(&Type::INT8, out),
                _ => b.to_sql(ty, out),
            },
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn read_row(r: &postgres::Row) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => r
                .try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |v| Value::Int(i64::from(v))),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)?
                .map_or(Value::Null, |v| Value::Int(i64::from(v))),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)?
                .map_or(Value::Null, Value::Bool),
            Type::FLOAT8 => r
                .try_get::<_, Option<f64>>(i)?
                .map_or(Value::Null, Value::Float),
            Type::FLOAT4 => r
                .try_get::<_, Option<f32>>(i)?
                .map_or(Value::Null, |v| Value::Float(f64::from(v))),
            Type::BYTEA => r
                .try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Blob),
            _ => r
                .try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text),
        };
        out.push(v);
    }
    Ok(Row(out))
}

/// A connection as the business code sees it: a transaction (writes), or the bare session
/// (reads), with the session's prepared statements.
struct PgConn<'a, C: GenericClient> {
    client: &'a mut C,
    statements: &'a mut HashMap<String, postgres::Statement>,
    /// Reads run statement by statement outside a transaction: `execute` is refused.
    read_only: bool,
}

impl<C: GenericClient> PgConn<'_, C> {
    /// The connection's prepared statement for `sql`, prepared now if it has none.
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Forgets `sql`'s statement when the server no longer accepts it: a plan made stale by a
    /// schema change (another replica migrating: "cached plan must not change result type") or a
    /// statement the server does not know is prepared again on the next call.
    fn forget<T>(&mut self, sql: &str, r: Result<T, postgres::Error>) -> Result<T, StoreError> {
        use postgres::error::SqlState;
        r.map_err(|e| {
            if matches!(e.code(), Some(c) if *c == SqlState::FEATURE_NOT_SUPPORTED
                || *c == SqlState::INVALID_SQL_STATEMENT_NAME)
            {
                self.statements.remove(sql);
            }
            e.into()
        })
    }
}

fn params(values: &[Value]) -> Vec<Param<'_>> {
    values.iter().map(Param).collect()
}

impl<C: GenericClient> Conn for PgConn<'_, C> {
    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let ps = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, &refs);
        self.forget(sql, rows)?.iter().map(read_row).collect()
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let ps = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        if self.read_only {
            return Err(StoreError::Database(format!(
                "a read may not change data: {sql}"
            )));
        }
        let stmt = self.statement(sql)?;
        let n = self.client.execute(&stmt, &refs);
        self.forget(sql, n)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

impl PgBackend {
    pub(crate) fn connect(
        url: &str,
        pool_size: u32,
        migrate: impl FnOnce(&mut dyn Conn) -> Result<(), StoreError>,
    ) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            StoreError::Unavailable(format!("bad database URL: {e}"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // Statements stay prepared per connection, and PostgreSQL would switch a prepared
        // statement to a generic plan after five runs, made once and kept: a plan chosen while
        // a table was empty (a sequential scan) stayed in use as the table grew, and point
        // lookups of tickets took 90 ms by the end of a 10,000-request run. Every run is planned
        // with its values instead; the parse and the round trip of a prepare are still saved.
        let options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} -c plan_cache_mode=force_custom_plan"),
            _ => "-c plan_cache_mode=force_custom_plan".to_owned(),
        };
        config.options(&options);
        let manager = SessionManager(PostgresConnectionManager::new(config, NoTls));
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(ACQUIRE_TIMEOUT)
            .build(manager)?;
        let backend = Self {
            pool,
            permits: Arc::new(Semaphore::new(pool_size as usize)),
            down: Arc::new(AtomicBool::new(false)),
        };
        backend.run_tx(|c| {
            // Serialise migrations across replicas starting together.
            c.execute("select pg_advisory_xact_lock(7100)", &[])?;
            migrate(c)
        })?;
        backend.check_settings()?;
        Ok(backend)
    }

    fn check_settings(&self) -> Result<(), StoreError> {
        let mut session = self.session(None)?;
        let row = session.client.query_one("show synchronous_commit", &[])?;
        let v: String = row.get(0);
        if v != "on" {
            return Err(StoreError::Unavailable(format!(
                "PostgreSQL synchronous_commit is '{v}'; Gatehouse requires 'on' so that an accepted write is durable"
            )));
        }
        Ok(())
    }

    /// How long a caller waits for a connection now.
    fn wait(&self) -> Duration {
        if self.down.load(Ordering::Relaxed) {
            ACQUIRE_TIMEOUT_WHILE_DOWN
        } else {
            ACQUIRE_TIMEOUT
        }
    }

    /// A pooled connection, or `Unavailable` after the acquire timeout (or by `deadline`).
    fn session(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> Result<r2d2::PooledConnection<SessionManager>, StoreError> {
        let mut wait = self.wait();
        if let Some(d) = deadline {
            wait = wait.min(d.saturating_duration_since(std::time::Instant::now()));
        }
        match self.pool.get_timeout(wait.max(Duration::from_millis(1))) {
            Ok(session) => {
                self.down.store(false, Ordering::Relaxed);
                Ok(session)
            }
            Err(e) => {
                // r2d2 adds the last connection error when connecting failed; without one the
                // pool was only busy.
                let text = e.to_string();
                if text.starts_with("timed out waiting for connection: ") {
                    self.down.store(true, Ordering::Relaxed);
                }
                Err(StoreError::Unavailable(text))
            }
        }
    }

    /// Notes a lost connection (an `Unavailable` from a statement).
    fn observe<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if matches!(r, Err(StoreError::Unavailable(_))) {
            self.down.store(true, Ordering::Relaxed);
        }
        r
    }

    fn run_tx<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.on_connection(false, None, f)
    }

    /// Runs `f` on a pooled connection: a write in one transaction, committed at the end; a read
    /// statement by statement, each seeing what was committed when it started. (A read
    /// transaction in PostgreSQL's default isolation, read committed, gives each statement its
    /// own snapshot all the same; its `begin` and `commit` were two of a point read's four round
    /// trips.)
    fn on_connection<T>(
        &self,
        read_only: bool,
        deadline: Option<std::time::Instant>,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut session = self.session(deadline)?;
        let Session { client, statements } = &mut *session;
        self.observe((|| {
            if read_only {
                return f(&mut PgConn {
                    client,
                    statements,
                    read_only: true,
                });
            }
            let mut tx = client.transaction()?;
            let out = f(&mut PgConn {
                client: &mut tx,
                statements,
                read_only: false,
            })?;
            tx.commit()?;
            Ok(out)
        })())
    }

    /// Waits for a turn on one of the pooled connections (FIFO); the deadline it returns bounds
    /// the wait for the pool too.
    async fn permit(
        &self,
    ) -> Result<(std::time::Instant, tokio::sync::OwnedSemaphorePermit), StoreError> {
        let deadline = std::time::Instant::now() + self.wait();
        let permit = tokio::time::timeout(self.wait(), self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                StoreError::Unavailable("timed out waiting for a database connection".into())
            })?
            .map_err(|_| StoreError::Unavailable("the database pool is closed".into()))?;
        Ok((deadline, permit))
    }

    /// Runs `f` on a pooled connection ([`Self::on_connection`]), on tokio's blocking pool, once
    /// one of the connections is free; `Unavailable` when none is within the acquire timeout
    /// (waiting for the permit and for the pool together).
    async fn run<T: Send + 'static>(
        &self,
        read_only: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (deadline, permit) = self.permit().await?;
        let backend = self.clone();
        tokio::task::spawn_blocking(move || {
            let out = backend.on_connection(read_only, Some(deadline), f);
            drop(permit);
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("database task failed: {e}")))?
    }

    /// Runs `sql`, a statement that cannot run in a transaction (`vacuum`), on a pooled
    /// connection, once one is free (like [`Self::run`]).
    pub(crate) async fn outside_transaction(&self, sql: &'static str) -> Result<(), StoreError> {
        let (deadline, permit) = self.permit().await?;
        let backend = self.clone();
        tokio::task::spawn_blocking(move || {
            let out = backend.session(Some(deadline)).and_then(|mut session| {
                backend.observe(session.client.batch_execute(sql).map_err(StoreError::from))
            });
            drop(permit);
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("database task failed: {e}")))?
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(true, f).await
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(false, f).await
    }
}
