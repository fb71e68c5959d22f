//! Prometheus metrics: requests by route and status, and a latency histogram by route.

use crate::AppState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Route {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters kept in memory, rendered on `GET /metrics`.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), Route>>,
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, method: &str, path: &str, status: u16, secs: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let r = routes
            .entry((method.to_owned(), path.to_owned()))
            .or_default();
        *r.by_status.entry(status).or_default() += 1;
        r.count += 1;
        r.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                r.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP gatehouse_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE gatehouse_http_requests_total counter\n");
        let Ok(routes) = self.routes.lock() else {
            return out;
        };
        for ((m, p), r) in routes.iter() {
            for (s, n) in &r.by_status {
                let _ = writeln!(out, "gatehouse_http_requests_total{{method=\"{m}\",route=\"{p}\",status=\"{s}\"}} {n}");
            }
        }
        out.push_str("# HELP gatehouse_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE gatehouse_http_request_duration_seconds histogram\n");
        for ((m, p), r) in routes.iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "gatehouse_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{p}\",le=\"{b}\"}} {}",
                    r.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "gatehouse_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{p}\",le=\"+Inf\"}} {}",
                r.count
            );
            let _ = writeln!(
                out,
                "gatehouse_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{p}\"}} {}",
                r.sum
            );
            let _ = writeln!(
                out,
                "gatehouse_http_request_duration_seconds_count{{method=\"{m}\",route=\"{p}\"}} {}",
                r.count
            );
        }
        out
    }
}

/// Middleware recording each request under its matched route (not its raw path, so ids do not
/// multiply the series), and logging it at DEBUG (the access log).
pub async fn track(state: AppState, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let path = tracing::enabled!(tracing::Level::DEBUG).then(|| req.uri().path().to_owned());
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    state.metrics().record(
        &method,
        &route,
        res.status().as_u16(),
        elapsed.as_secs_f64(),
    );
    // The access log: the path, never the query (filters may name people) or a header.
    if let Some(path) = path {
        tracing::debug!(
            http.method = %method,
            http.route = %route,
            http.path = %path,
            http.status = res.status().as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "{method} {path} {}",
            res.status().as_u16()
        );
    }
    res
}
