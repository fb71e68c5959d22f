//! Service-desk provisioning: approved items on desk-managed sources become tickets in the
//! organisation's service desk, and the desk's answer completes or fails them.
//!
//! - [`http`]: the guarded outbound client (timeouts, no redirects, response cap, SSRF checks at
//!   save time and at connect time).
//! - [`auth`]: how calls authenticate; the OAuth 2.0 token cache.
//! - [`protocol`]: ServiceNow Table API, Jira REST v3 and the generic REST desk.
//! - [`jobs`]: the `service_desk_ticket` and `service_desk_status_check` job handlers.
//! - [`failpoint`]: crash points for the crash tests (`GATEHOUSE_FAILPOINT`).

pub mod auth;
pub mod failpoint;
pub mod http;
pub mod jobs;
mod pause;
pub mod protocol;

pub use http::DeskConfig;
pub use jobs::{handlers, Desks};
