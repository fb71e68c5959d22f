//! Wire types, named after SailPoint's schemas, one module per capability.

pub mod oauth_clients;
pub mod pats;
pub mod service_desk;

use gatehouse_domain::Timestamp;

/// Serialises a [`Timestamp`] as RFC 3339 UTC with milliseconds.
pub fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}
