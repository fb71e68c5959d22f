//! Per-client rate limiting, SailPoint's way: N requests per window per `client_id`
//! (default 100 per 10 s). A token bucket that refills continuously at N per window.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `100/10s`, `1000/1m`, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimit {
    /// No limit.
    Off,
    /// `requests` per `window`.
    Per {
        /// Requests allowed per window.
        requests: u32,
        /// The window.
        window: Duration,
    },
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let bad = || format!("'{s}' is not a rate limit: use e.g. 100/10s, 1000/1m or off");
        let (n, w) = s.split_once('/').ok_or_else(bad)?;
        let requests: u32 = n.trim().parse().map_err(|_| bad())?;
        let w = w.trim();
        let (num, unit) = w.split_at(w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len()));
        let num: u64 = if num.is_empty() {
            1
        } else {
            num.parse().map_err(|_| bad())?
        };
        let secs = match unit {
            "s" | "" => num,
            "m" => num * 60,
            "h" => num * 3_600,
            _ => return Err(bad()),
        };
        if requests == 0 || secs == 0 {
            return Err(bad());
        }
        Ok(Self::Per {
            requests,
            window: Duration::from_secs(secs),
        })
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets per client, sharded to keep lock hold times short under load.
pub struct RateLimiter {
    limit: RateLimit,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

const SHARDS: usize = 16;

impl RateLimiter {
    /// A limiter enforcing `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Takes one request for `client` at `now`: `Ok` or `Err(seconds to wait)`.
    pub fn check(&self, client: &str, now: Instant) -> Result<(), u64> {
        self.take(client, now, true)
    }

    /// Whether `client` could be let through at `now`, taking nothing: `Ok` or
    /// `Err(seconds to wait)`. With [`RateLimiter::check`] called for failures only, this bounds
    /// failures rather than requests.
    pub fn peek(&self, client: &str, now: Instant) -> Result<(), u64> {
        self.take(client, now, false)
    }

    fn take(&self, client: &str, now: Instant, consume: bool) -> Result<(), u64> {
        let RateLimit::Per { requests, window } = self.limit else {
            return Ok(());
        };
        let cap = f64::from(requests);
        let per_sec = cap / window.as_secs_f64();
        let shard = client.bytes().fold(0_usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        }) % SHARDS;
        let Ok(mut map) = self.shards[shard].lock() else {
            return Ok(());
        };
        if map.len() > 100_000 {
            map.retain(|_, b| now.duration_since(b.at) < window);
        }
        let b = map.entry(client.to_owned()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            if consume {
                b.tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / per_sec).ceil().max(1.0);
            Err(wait as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_limits() {
        assert_eq!("off".parse::<RateLimit>(), Ok(RateLimit::Off));
        assert_eq!(
            "100/10s".parse::<RateLimit>(),
            Ok(RateLimit::Per {
                requests: 100,
                window: Duration::from_secs(10)
            })
        );
        assert_eq!(
            "1000/1m".parse::<RateLimit>(),
            Ok(RateLimit::Per {
                requests: 1000,
                window: Duration::from_secs(60)
            })
        );
        assert!("0/10s".parse::<RateLimit>().is_err());
        assert!("ten".parse::<RateLimit>().is_err());
    }

    #[test]
    fn limits_per_client_and_refills() {
        let l = RateLimiter::new("3/3s".parse().unwrap());
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.check("a", t).is_ok());
        }
        assert_eq!(l.check("a", t), Err(1));
        assert!(l.check("b", t).is_ok(), "clients are limited separately");
        assert!(
            l.check("a", t + Duration::from_millis(1_100)).is_ok(),
            "refills over time"
        );
    }
}
