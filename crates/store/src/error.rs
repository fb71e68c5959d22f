//! Storage errors, mapped by kind so both backends report the same thing.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or primary-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A foreign key or check constraint refused the write.
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The database could not be reached or is shutting down.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row did not have the shape the code expects (a bug or a bad migration).
    #[error("unexpected data: {0}")]
    Decode(String),
    /// Any other database fault.
    #[error("database error: {0}")]
    Database(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::ConstraintViolation => {
                    // Extended codes tell unique/primary key apart from foreign key and check.
                    if matches!(f.extended_code, 2067 | 1555) {
                        Self::Conflict(e.to_string())
                    } else {
                        Self::Constraint(e.to_string())
                    }
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    Self::Unavailable(e.to_string())
                }
                _ => Self::Database(e.to_string()),
            },
            _ => Self::Database(e.to_string()),
        }
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let text = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        };
        match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => Self::Conflict(text),
            Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION || *c == SqlState::CHECK_VIOLATION => {
                Self::Constraint(text)
            }
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                Self::Conflict(text)
            }
            None => Self::Unavailable(text),
            Some(c) if unavailable(c) => Self::Unavailable(text),
            _ => Self::Database(text),
        }
    }
}

/// The server is going away or cannot take the work now: a connection exception (class 08), the
/// operator's intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now)
/// or too many connections (53300). Passing faults, not bugs: the caller is told to retry.
fn unavailable(code: &postgres::error::SqlState) -> bool {
    let code = code.code();
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Decode(e.to_string())
    }
}
