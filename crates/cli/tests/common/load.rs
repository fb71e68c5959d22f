//! What the load runs share (`reliability/load*.sh`): an open-loop load generator that measures
//! each request's latency from the time it was due to be sent, the server's resident set, and
//! the machine's load average.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The resident set (VmRSS) of process `pid`, in KiB; 0 once it is gone.
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The CPU time process `pid` has used (user and system), in seconds; `pid` 0 is this process.
pub fn cpu_seconds(pid: u32) -> f64 {
    let path = if pid == 0 {
        "/proc/self/stat".to_owned()
    } else {
        format!("/proc/{pid}/stat")
    };
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // The fields after the command (which may hold spaces), from the third on: utime is the 14th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let ticks = f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0);
    // USER_HZ is 100 on Linux.
    ticks / 100.0
}

/// The machine's load average over 1, 5 and 15 minutes (`/proc/loadavg`).
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut v = text.split_whitespace().map(|f| f.parse().unwrap_or(-1.0));
    [
        v.next().unwrap_or(-1.0),
        v.next().unwrap_or(-1.0),
        v.next().unwrap_or(-1.0),
    ]
}

/// Latencies, in the order they were recorded.
#[derive(Clone, Debug, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    /// Adds one.
    pub fn record(&mut self, d: Duration) {
        self.0.push(d);
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// None yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `q`-quantile (0.0–1.0), nearest rank; zero when empty.
    pub fn quantile(&self, q: f64) -> Duration {
        let mut v = self.0.clone();
        v.sort_unstable();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    /// `{"count", "p50_ms", "p99_ms", "max_ms"}`.
    pub fn summary(&self) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
        json!({"count": self.len(), "p50_ms": ms(self.quantile(0.5)),
               "p99_ms": ms(self.quantile(0.99)), "max_ms": ms(self.quantile(1.0))})
    }
}

/// What an open-loop run saw: the answers by status (`0`: no answer), the latency of every
/// request and of each status, measured from the time each request was due to be sent.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Requests sent.
    pub sent: usize,
    /// Answers by status; `0` for none (refused, reset, timed out).
    pub statuses: BTreeMap<u16, usize>,
    /// Every request's latency.
    pub all: Latencies,
    /// The latencies by status.
    pub by_status: BTreeMap<u16, Latencies>,
    /// Each request's number, status and latency, in the order they finished.
    pub requests: Vec<(usize, u16, Duration)>,
    /// Sends that left more than 10 ms after they were due (the generator's own lag, or every
    /// connection slot busy); their latency still counts from the time they were due.
    pub late_sends: usize,
    /// How long the load took, the last answer included.
    pub elapsed: Duration,
}

impl Run {
    /// Answers with status 500–599.
    pub fn server_errors(&self) -> usize {
        self.statuses.range(500..600).map(|(_, n)| n).sum()
    }

    /// Answers other than `status` (unanswered requests included).
    pub fn other_than(&self, status: u16) -> usize {
        self.sent - self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// The latencies of answers with `status`.
    pub fn of(&self, status: u16) -> Latencies {
        self.by_status.get(&status).cloned().unwrap_or_default()
    }

    /// The latencies of the requests whose number `n` and status pass `keep`.
    pub fn select(&self, keep: impl Fn(usize, u16) -> bool) -> Latencies {
        let mut l = Latencies::default();
        for &(n, status, latency) in &self.requests {
            if keep(n, status) {
                l.record(latency);
            }
        }
        l
    }

    /// The run as JSON: counts by status and latencies, in total and for `status`.
    pub fn summary(&self, status: u16) -> Value {
        let statuses: BTreeMap<String, usize> = self
            .statuses
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect();
        json!({"sent": self.sent, "statuses": statuses, "late_sends": self.late_sends,
               "load_seconds": self.elapsed.as_secs_f64(), "latency_all": self.all.summary(),
               format!("latency_{status}"): self.of(status).summary()})
    }
}

/// Sends `rate` requests a second for `seconds`, open loop: request `n` is due at `n / rate` s
/// from the start and sent then, whatever earlier ones are still waiting (at most
/// `max_in_flight` at once; beyond that a send waits for a slot, and the wait counts in its
/// latency). `send(n)` makes request `n` and returns its status, `0` for no answer. Each latency
/// runs from the time the request was due to the end of its answer, so a server that stalls
/// shows in the figures instead of slowing the load down (coordinated omission).
pub async fn open_loop<F, Fut>(rate: u64, seconds: u64, max_in_flight: usize, send: F) -> Run
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = u16> + Send + 'static,
{
    let total = usize::try_from(rate * seconds).unwrap();
    let slots = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    let mut run = Run {
        sent: total,
        ..Run::default()
    };
    fn add(run: &mut Run, (n, status, latency): (usize, u16, Duration)) {
        run.requests.push((n, status, latency));
        *run.statuses.entry(status).or_default() += 1;
        run.all.record(latency);
        run.by_status.entry(status).or_default().record(latency);
    }
    let started = Instant::now();
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let slot = slots.clone().acquire_owned().await.unwrap();
        if Instant::now() > due + Duration::from_millis(10) {
            run.late_sends += 1;
        }
        let request = send(n);
        tasks.spawn(async move {
            let _slot = slot;
            let status = request.await;
            (n, status, due.elapsed())
        });
        while let Some(done) = tasks.try_join_next() {
            add(&mut run, done.unwrap());
        }
    }
    while let Some(done) = tasks.join_next().await {
        add(&mut run, done.unwrap());
    }
    run.elapsed = started.elapsed();
    run
}

/// The status of a `GET` of `url` with `token` once its body is read; `0` for no answer.
pub async fn get_status(http: &reqwest::Client, url: &str, token: &str) -> u16 {
    match http.get(url).bearer_auth(token).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            match r.bytes().await {
                Ok(_) => status,
                Err(_) => 0,
            }
        }
        Err(_) => 0,
    }
}

/// Samples of the server's resident set taken every `every` while a run lasts.
#[derive(Clone, Debug)]
pub struct RssSample {
    /// Seconds since the start.
    pub t: u64,
    /// VmRSS, KiB.
    pub rss_kb: u64,
    /// Open sockets (the listener, client connections, desk connections).
    pub sockets: usize,
}

/// How many sockets process `pid` holds open.
pub fn sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

/// Samples `pid`'s resident set at 0, `every`, 2·`every`, … up to `seconds` from `started`.
pub fn sample_rss(
    pid: u32,
    started: Instant,
    every: u64,
    seconds: u64,
    label: &'static str,
) -> tokio::task::JoinHandle<Vec<RssSample>> {
    tokio::spawn(async move {
        let mut samples = Vec::new();
        for k in 0..=seconds / every.max(1) {
            let t = k * every.max(1);
            tokio::time::sleep_until((started + Duration::from_secs(t)).into()).await;
            let s = RssSample {
                t,
                rss_kb: rss_kb(pid),
                sockets: sockets(pid),
            };
            eprintln!(
                "{label} sample t={} rss_kb={} sockets={}",
                s.t, s.rss_kb, s.sockets
            );
            samples.push(s);
        }
        samples
    })
}

/// The growth of the resident set from the first sample at or after `warmup` to the last, in
/// percent, and as JSON with those two samples, the largest of all and every sample.
pub fn rss_growth(samples: &[RssSample], warmup: u64) -> (f64, Value) {
    let after: Vec<&RssSample> = samples.iter().filter(|s| s.t >= warmup).collect();
    let (Some(first), Some(last)) = (after.first(), after.last()) else {
        panic!("no resident-set sample after the warm-up of {warmup} s");
    };
    let growth = (last.rss_kb as f64 - first.rss_kb as f64) / first.rss_kb.max(1) as f64 * 100.0;
    let growth = (growth * 100.0).round() / 100.0;
    let summary = json!({"rss_kb_at_warmup": first.rss_kb, "rss_kb_last": last.rss_kb,
           "rss_kb_max": samples.iter().map(|s| s.rss_kb).max(),
           "rss_kb_samples": samples.iter().map(|s| s.rss_kb).collect::<Vec<_>>(),
           "socket_samples": samples.iter().map(|s| s.sockets).collect::<Vec<_>>(),
           "rss_growth_percent": growth});
    (growth, summary)
}

/// Adds the fields of the JSON object `more` to the JSON object `summary`.
pub fn extend(summary: &mut Value, more: Value) {
    let (Value::Object(s), Value::Object(m)) = (summary, more) else {
        panic!("a summary is a JSON object");
    };
    s.extend(m);
}
