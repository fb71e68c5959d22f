//! Crash points for the crash tests (DUR-3 in docs/RELIABILITY.md).
//!
//! When the environment variable `GATEHOUSE_FAILPOINT` names one of the points below, the process
//! aborts (`std::process::abort`, no unwinding, no destructors: as close to `kill -9` as a process
//! can do to itself) the first time it reaches that point. Unset (always, outside the crash tests)
//! a point costs one read of a value cached at the first call.
//!
//! The points of a ticket's life:
//! - [`CLAIMED`]: the ticket job was claimed, nothing else happened;
//! - [`TOKEN_FETCHED`]: an OAuth 2.0 token was fetched from the desk, not yet used;
//! - [`CREATED`]: the desk accepted the create, its ticket id is not yet stored;
//! - [`RECORDED`]: the ticket id is stored, the job is not yet completed;
//! - [`STATUS_READ`]: a status check read the ticket's status, the result is not yet stored.
//!
//! And of `gatehouse rekey` (SEC-4):
//! - [`REKEY_SEALED`]: a batch's values are sealed again and written, not yet committed;
//! - [`REKEY_COMMITTED`]: a batch that changed values is committed.

use std::sync::OnceLock;

/// The environment variable naming the point to crash at.
pub const ENV: &str = "GATEHOUSE_FAILPOINT";
/// The ticket job was claimed.
pub const CLAIMED: &str = "ticket-claimed";
/// An OAuth 2.0 token was fetched.
pub const TOKEN_FETCHED: &str = "ticket-token-fetched";
/// The desk accepted the create; the ticket id is not stored yet.
pub const CREATED: &str = "ticket-created";
/// The ticket id is stored; the job is not completed yet.
pub const RECORDED: &str = "ticket-recorded";
/// A status check read the status; the result is not stored yet.
pub const STATUS_READ: &str = "ticket-status-read";

/// `gatehouse rekey` wrote a batch, not yet committed.
pub const REKEY_SEALED: &str = "rekey-sealed";
/// `gatehouse rekey` committed a batch that changed values.
pub const REKEY_COMMITTED: &str = "rekey-committed";

/// Every point, in the order a ticket passes them.
pub const ALL: &[&str] = &[CLAIMED, TOKEN_FETCHED, CREATED, RECORDED, STATUS_READ];

fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var(ENV).ok().filter(|s| !s.is_empty()))
        .as_deref()
}

/// Aborts the process if `GATEHOUSE_FAILPOINT` names `point`.
pub fn hit(point: &str) {
    if armed() == Some(point) {
        eprintln!("{ENV}={point}: aborting the process");
        std::process::abort();
    }
}
