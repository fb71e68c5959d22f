//! Access requests and their approvals: the rows, and the engine that moves a request from
//! submission through its approval steps to provisioning.
//!
//! Every transition is a function over [`Conn`] run inside one write transaction; the jobs it
//! causes are enqueued in the same transaction ([`crate::jobs::enqueue`]). Decisions are
//! compare-and-set on the approval's status, so of two concurrent decisions exactly one wins.
//!
//! - [`rows`]: the `access_request` and `approval` rows and their states.
//! - [`submit`]: inserting submitted requests (and their processing jobs).
//! - [`chain`]: who approves each step of a requested item.
//! - [`engine`]: processing, decisions, forwarding, cancel/close, provisioning, timers.
//! - [`handlers`]: the job handlers that run the engine's transitions.
//! - [`work_items`]: what the work-items and approvals APIs list, count and show.

pub mod chain;
pub mod engine;
pub mod handlers;
pub mod rows;
pub mod status;
pub mod submit;
pub mod work_items;

pub use rows::{AccessRequest, Approval, ApprovalStatus, ForwardEntry, Stage, State};

/// Job kinds of the access-request engine. Never rename one that may be queued.
pub mod kinds {
    /// Resolve the first approval step of a submitted request (or approve it outright).
    pub const PROCESS: &str = "access_request_process";
    /// Grant or revoke the access of an approved request (at its start date).
    pub const PROVISION: &str = "access_request_provision";
    /// Open a service-desk ticket for an approved request on a desk-managed source.
    pub const TICKET: &str = "service_desk_ticket";
    /// Check the status of an open service-desk ticket.
    pub const TICKET_STATUS: &str = "service_desk_status_check";
    /// Remind the owner of a pending approval, or escalate it.
    pub const APPROVAL_TIMER: &str = "approval_timer";
    /// Remove an assignment whose removal date has come.
    pub const EXPIRE_ASSIGNMENT: &str = "assignment_expire";
}

/// A fresh 32-hex id.
pub(crate) fn new_id() -> String {
    gatehouse_domain::new_hex_id(rand::random::<[u8; 16]>())
}
