//! Integrations whose desk asked Gatehouse to wait (`Retry-After` on a 429 or a 503): no call is
//! made to such a desk until the time it gave has passed, whichever job got the answer, and
//! then one call goes first (the probe) while the integration's other jobs wait for its answer:
//! a desk still throttling then sees one call per `Retry-After`, not one per job in flight.
//! The jobs that wait are told to come back [`PROBE_WAIT_MS`] after the pause ends, so that the
//! job that got the 429 (due again when the pause ends) is usually the probe, and the others,
//! each put back in the queue once per pause, find its answer when they come. Kept per server
//! process.

use gatehouse_domain::Timestamp;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How long the jobs behind a probe wait before they look again, in milliseconds.
pub const PROBE_WAIT_MS: i64 = 1_000;

/// The paused integrations, by integration id.
pub struct Pauses {
    map: Mutex<HashMap<String, Pause>>,
    probe_ms: i64,
}

#[derive(Clone, Copy, Debug)]
struct Pause {
    /// No call before this instant.
    until: Timestamp,
    /// When the probe after the pause was let through, while its answer is awaited.
    probe: Option<Timestamp>,
}

impl Pauses {
    /// No integration paused. A probe whose answer has not come `probe_ms` after it was let
    /// through (its job stopped, say) no longer holds the others back.
    pub fn new(probe_ms: i64) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            probe_ms,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Pause>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The desk of `link` asked at `now` for no calls for `after_ms`. A later end than one
    /// already set wins; any probe is over.
    pub fn pause(&self, link: &str, now: Timestamp, after_ms: i64) {
        let until = now.plus_millis(after_ms.max(0));
        let mut map = self.lock();
        let p = map
            .entry(link.to_owned())
            .or_insert(Pause { until, probe: None });
        if p.until < until {
            p.until = until;
        }
        p.probe = None;
    }

    /// How long a job must wait before calling `link`'s desk at `now`, in milliseconds: the rest
    /// of its pause and [`PROBE_WAIT_MS`], or while another job's probe is out, [`PROBE_WAIT_MS`]
    /// at most. `None`: it may call.
    pub fn wait(&self, link: &str, now: Timestamp) -> Option<i64> {
        self.lock().get(link).and_then(|p| self.wait_of(p, now))
    }

    fn wait_of(&self, p: &Pause, now: Timestamp) -> Option<i64> {
        if now < p.until {
            return Some(p.until.0 - now.0 + PROBE_WAIT_MS);
        }
        match p.probe {
            Some(at) if now.0 < at.0 + self.probe_ms => {
                Some(PROBE_WAIT_MS.min(at.0 + self.probe_ms - now.0))
            }
            _ => None,
        }
    }

    /// As [`Pauses::wait`], for a job about to call `link`'s desk: when its pause is over and no
    /// probe is out, this call is the probe, and the others wait for its answer.
    pub fn admit(&self, link: &str, now: Timestamp) -> Option<i64> {
        let mut map = self.lock();
        let p = map.get_mut(link)?;
        let wait = self.wait_of(p, now);
        if wait.is_none() {
            p.probe = Some(now);
        }
        wait
    }

    /// A call to `link`'s desk was answered at `now` without a `Retry-After`: a pause that is
    /// over is lifted (one that is still running, from another call's answer, stays).
    pub fn answered(&self, link: &str, now: Timestamp) {
        let mut map = self.lock();
        if map.get(link).is_some_and(|p| p.until <= now) {
            map.remove(link);
        }
    }

    /// The integrations a job may not call at `now`.
    pub fn waiting(&self, now: Timestamp) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, p)| self.wait_of(p, now).is_some())
            .map(|(link, _)| link.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp(1_700_000_000_000);

    #[test]
    fn a_paused_desk_waits_then_lets_one_probe_through_at_a_time() {
        let p = Pauses::new(6_500);
        assert_eq!(p.admit("a", T), None, "nothing paused");
        p.pause("a", T, 5_000);
        assert_eq!(p.wait("a", T.plus_millis(1)), Some(4_999 + PROBE_WAIT_MS));
        assert_eq!(p.admit("a", T.plus_millis(4_999)), Some(1 + PROBE_WAIT_MS));
        assert_eq!(
            p.wait("b", T.plus_millis(1)),
            None,
            "other desks are not paused"
        );
        assert_eq!(p.waiting(T.plus_millis(1)), vec!["a".to_owned()]);
        // The pause is over: the first caller is the probe, the others wait for its answer.
        let end = T.plus_millis(5_000);
        assert_eq!(p.wait("a", end), None, "looking is not probing");
        assert_eq!(p.admit("a", end), None);
        assert_eq!(p.admit("a", end.plus_millis(10)), Some(PROBE_WAIT_MS));
        // Throttled again: a new pause, no probe.
        p.pause("a", end.plus_millis(20), 5_000);
        assert_eq!(
            p.admit("a", end.plus_millis(30)),
            Some(4_990 + PROBE_WAIT_MS)
        );
        // The next probe is answered without a Retry-After: all may call.
        let end = end.plus_millis(5_020);
        assert_eq!(p.admit("a", end), None);
        assert_eq!(p.admit("a", end), Some(PROBE_WAIT_MS));
        p.answered("a", end.plus_millis(5));
        assert_eq!(p.admit("a", end.plus_millis(6)), None);
        assert_eq!(p.admit("a", end.plus_millis(6)), None);
        assert!(p.waiting(end.plus_millis(6)).is_empty());
    }

    #[test]
    fn a_lost_probe_holds_the_others_back_no_longer_than_its_window() {
        let p = Pauses::new(6_500);
        p.pause("a", T, 1_000);
        let end = T.plus_millis(1_000);
        assert_eq!(p.admit("a", end), None);
        assert_eq!(p.admit("a", end.plus_millis(6_000)), Some(500));
        assert_eq!(p.admit("a", end.plus_millis(6_500)), None, "a new probe");
    }

    #[test]
    fn an_answer_does_not_lift_a_pause_still_running_and_the_later_end_wins() {
        let p = Pauses::new(6_500);
        p.pause("a", T, 5_000);
        p.answered("a", T.plus_millis(10));
        assert_eq!(p.wait("a", T.plus_millis(10)), Some(4_990 + PROBE_WAIT_MS));
        p.pause("a", T.plus_millis(10), 1_000);
        assert_eq!(p.wait("a", T.plus_millis(10)), Some(4_990 + PROBE_WAIT_MS));
        p.pause("a", T.plus_millis(10), 9_990);
        assert_eq!(p.wait("a", T.plus_millis(10)), Some(9_990 + PROBE_WAIT_MS));
    }
}
