//! PostgreSQL, for several replicas sharing one database.
//!
//! Work runs on tokio's blocking pool with a pooled synchronous client, so the business code that
//! runs inside a transaction is the same plain Rust closure as on SQLite.

use crate::conn::{Conn, Dialect};
use crate::{Row, StoreError, Value};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// How long a caller waits for a pooled connection before the store answers
/// [`StoreError::Unavailable`] (the API's 503 with `Retry-After`). While the database is down,
/// every request waits this long, so it is kept under the 2 s within which a caller must hear that
/// the service is unavailable (DUR-8).
pub(crate) const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1_500);

/// How long one connection attempt may take, unless the URL says (`connect_timeout`): a server
/// that does not answer must not hold the pool's connecting threads.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a caller waits for a pooled connection while the database is known to be down. The
/// pool keeps trying to connect in the background (at most [`ACQUIRE_TIMEOUT`] apart), so work
/// passes again about a second after the database is back.
const ACQUIRE_TIMEOUT_WHILE_DOWN: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Clone)]
pub(crate) struct PgBackend {
    pool: Pool,
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

struct PgConn<'a, 'b>(&'a mut postgres::Transaction<'b>);

fn params(values: &[Value]) -> Vec<Param<'_>> {
    values.iter().map(Param).collect()
}

impl Conn for PgConn<'_, '_> {
    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let ps = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let stmt = self.0.prepare(sql)?;
        self.0.query(&stmt, &refs)?.iter().map(read_row).collect()
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let ps = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = ps.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let stmt = self.0.prepare(sql)?;
        Ok(self.0.execute(&stmt, &refs)?)
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
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(ACQUIRE_TIMEOUT)
            .build(manager)?;
        let backend = Self {
            pool,
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
        let mut client = self.client()?;
        let row = client.query_one("show synchronous_commit", &[])?;
        let v: String = row.get(0);
        if v != "on" {
            return Err(StoreError::Unavailable(format!(
                "PostgreSQL synchronous_commit is '{v}'; Gatehouse requires 'on' so that an accepted write is durable"
            )));
        }
        Ok(())
    }

    /// A pooled connection, or `Unavailable` after the acquire timeout.
    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        let got = if self.down.load(Ordering::Relaxed) {
            self.pool.get_timeout(ACQUIRE_TIMEOUT_WHILE_DOWN)
        } else {
            self.pool.get()
        };
        match got {
            Ok(client) => {
                self.down.store(false, Ordering::Relaxed);
                Ok(client)
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
        let mut client = self.client()?;
        self.observe((|| {
            let mut tx = client.transaction()?;
            let out = f(&mut PgConn(&mut tx))?;
            tx.commit()?;
            Ok(out)
        })())
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let backend = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut client = backend.client()?;
            backend.observe((|| {
                let mut tx = client.build_transaction().read_only(true).start()?;
                let out = f(&mut PgConn(&mut tx))?;
                tx.commit()?;
                Ok(out)
            })())
        })
        .await
        .map_err(|e| StoreError::Database(format!("read task failed: {e}")))?
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let backend = self.clone();
        tokio::task::spawn_blocking(move || backend.run_tx(f))
            .await
            .map_err(|e| StoreError::Database(format!("write task failed: {e}")))?
    }
}
