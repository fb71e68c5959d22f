//! Gatehouse's domain: the vocabulary every other crate shares.
//!
//! Pure by construction: this crate depends on no runtime, database, HTTP or network crate, so its
//! types and rules can be tested with plain values. Time comes in as a [`Timestamp`] from a [`Clock`].

pub mod access_config;
pub mod clock;
pub mod ids;
pub mod net_guard;
pub mod principal;
pub mod sealed;
pub mod service_desk;
pub mod timestamp;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use ids::new_hex_id;
pub use principal::{Authority, Principal};
pub use timestamp::Timestamp;
