//! The injected source of time. Everything that reads "now" takes a [`Clock`], so tests and the
//! `--clock virtual` mode can move time instead of waiting for it.

use crate::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

fn wall_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(wall_millis())
    }
}

/// Wall-clock time plus an offset that can be moved forward or set: it keeps ticking in real time,
/// so tokens still expire, but reminders, escalations and removal dates can be reached at once.
#[derive(Debug, Default)]
pub struct VirtualClock {
    offset_ms: AtomicI64,
}

impl VirtualClock {
    /// A virtual clock that starts at the wall-clock time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `ms` milliseconds (a negative value is refused by the caller).
    pub fn advance(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock so that it reads `at` now.
    pub fn set(&self, at: Timestamp) {
        self.offset_ms.store(at.0 - wall_millis(), Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        Timestamp(wall_millis() + self.offset_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_advances_and_sets() {
        let c = VirtualClock::new();
        let before = SystemClock.now();
        c.advance(36 * 3_600_000);
        assert!(c.now().0 >= before.0 + 36 * 3_600_000);
        c.set(Timestamp(1_000));
        assert!((c.now().0 - 1_000).abs() < 1_000);
    }
}
