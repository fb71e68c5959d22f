//! Gatehouse's storage.
//!
//! One [`Store`] over either embedded SQLite (the default: a file in the data directory, written by
//! one thread that commits in groups) or PostgreSQL (several replicas share it). Business code is
//! written once as closures over [`Conn`], in the SQL both engines share; see `docs/adr/0002`.
//!
//! A write resolves only after its transaction has committed, so an HTTP 200/202 built from its
//! result is durable. Jobs that a write causes are enqueued through [`jobs::enqueue`] inside the
//! same closure, so they commit or vanish with it.

mod bulk;
mod conn;
mod error;
pub mod jobs;
mod migrate;
mod postgres;
pub mod runner;
mod sqlite;
mod value;

pub mod access_config;
pub mod access_profiles;
pub mod access_requests;
pub mod accounts;
pub mod assignments;
pub mod conformance;
pub mod entitlements;
pub mod governance_groups;
pub mod identities;
pub mod installed_integrations;
pub mod keys;
pub mod listing;
pub mod managed_clusters;
pub mod oauth_clients;
pub mod pats;
pub mod roles;
pub mod service_desk;
pub mod settings;
pub mod snapshots;
pub mod sources;
pub mod task_status;
pub mod tenant_data;
pub mod tenants;
pub mod tickets;

pub use conn::{Conn, Dialect};
pub use error::StoreError;
pub use migrate::latest_version;
pub use sqlite::{SqliteSettings, Synchronous};
pub use value::{Row, Value};

use std::path::PathBuf;
use std::sync::Arc;

/// Where the data lives. Its `Debug` hides a password in the PostgreSQL URL.
#[derive(Clone)]
pub enum StoreConfig {
    /// An SQLite database file.
    Sqlite {
        /// The database file (created if missing).
        path: PathBuf,
        /// `PRAGMA synchronous`.
        synchronous: Synchronous,
    },
    /// A PostgreSQL database.
    Postgres {
        /// `postgres://user@host:port/db`.
        url: String,
        /// Connections in the pool.
        pool_size: u32,
    },
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite { path, synchronous } => f
                .debug_struct("Sqlite")
                .field("path", path)
                .field("synchronous", synchronous)
                .finish(),
            Self::Postgres { url, pool_size } => f
                .debug_struct("Postgres")
                .field("url", &redact_url(url))
                .field("pool_size", pool_size)
                .finish(),
        }
    }
}

/// `url` with any password masked: `scheme://user:********@host/…`, and `password=********` in
/// the `key=value` form of connection strings and in query parameters.
pub fn redact_url(url: &str) -> String {
    const MASK: &str = "********";
    let mut out = url.to_owned();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i) {
            if let Some(colon) = out[start..at].find(':').map(|i| start + i) {
                out.replace_range(colon + 1..at, MASK);
            }
        }
    }
    let lower = out.to_ascii_lowercase();
    let mut masked = String::with_capacity(out.len());
    let mut rest = 0;
    let mut search = 0;
    while let Some(i) = lower[search..]
        .find("password=")
        .map(|i| search + i + "password=".len())
    {
        let end = out[i..].find(['&', ' ', ';']).map_or(out.len(), |e| i + e);
        masked.push_str(&out[rest..i]);
        masked.push_str(MASK);
        rest = end;
        search = end;
    }
    masked.push_str(&out[rest..]);
    masked
}

enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(postgres::PgHandle),
}

/// The store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect())
            .finish()
    }
}

impl Store {
    /// Opens the store and brings its schema up to date (`now_ms` stamps applied migrations).
    pub async fn open(config: StoreConfig, now_ms: i64) -> Result<Self, StoreError> {
        tokio::task::spawn_blocking(move || Self::open_blocking(&config, now_ms))
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening the store failed: {e}")))?
    }

    fn open_blocking(config: &StoreConfig, now_ms: i64) -> Result<Self, StoreError> {
        let backend = match config {
            StoreConfig::Sqlite { path, synchronous } => {
                Backend::Sqlite(sqlite::SqliteBackend::open(path, *synchronous, |c| {
                    migrate::run(c, now_ms).map(|_| ())
                })?)
            }
            StoreConfig::Postgres { url, pool_size } => Backend::Postgres(postgres::PgHandle::new(
                postgres::PgBackend::connect(url, *pool_size, |c| {
                    migrate::run(c, now_ms).map(|_| ())
                })?,
            )),
        };
        Ok(Self {
            backend: Arc::new(backend),
        })
    }

    /// The engine underneath.
    pub fn dialect(&self) -> Dialect {
        match &*self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// SQLite's storage settings as read back from the connection that writes; `None` on PostgreSQL.
    pub async fn sqlite_settings(&self) -> Result<Option<SqliteSettings>, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.settings().await.map(Some),
            Backend::Postgres(_) => Ok(None),
        }
    }

    /// Runs `f` to read. On SQLite its statements see one snapshot and it cannot write; on
    /// PostgreSQL each statement sees what was committed when it started (read committed, run
    /// outside a transaction) and `execute` is refused.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.read(f),
            Backend::Postgres(b) => b.get().read(f).await,
        }
    }

    /// Runs `f` in a transaction; resolves once it has committed (or failed and rolled back).
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match &*self.backend {
            Backend::Sqlite(b) => b.write(f).await,
            Backend::Postgres(b) => b.get().write(f).await,
        }
    }

    /// Reclaims the job table's dead row versions now: `vacuum (analyze) job` on PostgreSQL,
    /// nothing on SQLite (whose freed pages are reused at once). Called by the job runner every
    /// few thousand finished runs ([`runner::RunnerConfig::vacuum_every`]).
    pub async fn vacuum_jobs(&self) -> Result<(), StoreError> {
        match &*self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(b) => b.get().outside_transaction("vacuum (analyze) job").await,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read(|c| c.query_one("select 1", &[]).map(|_| ()))
            .await
            .is_ok()
    }
}
