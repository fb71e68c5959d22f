//! The one SQL surface both backends offer.
//!
//! Queries are written once, in the common subset of SQLite and PostgreSQL, with `$1, $2, …`
//! placeholders; [`Dialect`] lets the rare statement that must differ (row locking) choose.

use crate::{Row, StoreError, Value};

/// Which SQL engine is underneath.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection inside a transaction (writes) or a read snapshot (reads).
pub trait Conn {
    /// Runs `sql` and returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs `sql` and returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// The engine's dialect.
    fn dialect(&self) -> Dialect;

    /// Runs `sql` and returns the first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `sql` and returns the first row, which must exist.
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Decode("expected one row, got none".into()))
    }
}
