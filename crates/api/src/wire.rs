//! Wire types, named after SailPoint's schemas, one module per capability.

pub mod access;
pub mod access_request_config;
pub mod access_request_status;
pub mod access_requests;
pub mod approvals;
pub mod identities;
pub mod installed_integrations;
pub mod managed_clusters;
pub mod oauth_clients;
pub mod pats;
pub mod refs;
pub mod service_desk;
pub mod sources;
pub mod workgroups;

use gatehouse_domain::Timestamp;

/// Serialises a [`Timestamp`] as RFC 3339 UTC with milliseconds.
pub fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}
