//! IN-4 on the built binary (docs/RELIABILITY.md, section 2; `reliability/in4.sh`): the hostile
//! bodies and queries of `api/input_limits.rs`, each sent `IN4_ROUNDS` times (default 20) over
//! HTTP to the real server, timed from the first byte sent to the last byte of the answer, with
//! the server's peak resident memory reset before (`/proc/<pid>/clear_refs`) and read after.
//! Goal: every answer 400 or 413 in under 100 ms, the server alive, its peak RSS less than 50 MB
//! above where it started. Ignored in CI: timing belongs to the optimised build
//! (`PROFILE=release reliability/in4.sh`).

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A field of `/proc/<pid>/status` in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// One hostile request: its name, method, path, body and the status it must get.
struct Case {
    name: &'static str,
    method: reqwest::Method,
    path: &'static str,
    body: Option<String>,
    want: u16,
}

impl Case {
    /// The request, with `token`.
    fn request(&self, http: &reqwest::Client, base: &str, token: &str) -> reqwest::RequestBuilder {
        let req = http
            .request(self.method.clone(), format!("{base}{}", self.path))
            .bearer_auth(token);
        match &self.body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(b.clone()),
            None => req,
        }
    }
}

fn cases() -> Vec<Case> {
    let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let long = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 - 64));
    let many: Vec<Value> = (0..100_000).map(|_| Value::from(1)).collect();
    let items = json!({"requestedFor": ["x"], "requestedItems": many}).to_string();
    let over = format!("[{}1]", "1,".repeat(600_000));
    let post = |name, path, body: &String, want| Case {
        name,
        method: reqwest::Method::POST,
        path,
        body: Some(body.clone()),
        want,
    };
    let get = |name, path| Case {
        name,
        method: reqwest::Method::GET,
        path,
        body: None,
        want: 400,
    };
    vec![
        post(
            "object nested 10,000 deep",
            "/v3/access-requests",
            &deep,
            400,
        ),
        post(
            "array nested 10,000 deep",
            "/v3/access-requests",
            &deep_array,
            400,
        ),
        post(
            "object nested 10,000 deep (PAT)",
            "/v3/personal-access-tokens",
            &deep,
            400,
        ),
        post("string of 1 MiB", "/v3/personal-access-tokens", &long, 400),
        post("array of 100,000 items", "/v3/access-requests", &items, 400),
        post("body over the limit", "/v3/access-requests", &over, 413),
        get("limit=10^9", "/v3/access-request-status?limit=1000000000"),
        get(
            "limit past i64",
            "/v2024/identities?limit=99999999999999999999999",
        ),
        get("offset=-1", "/v2024/identities?offset=-1"),
    ]
}

#[tokio::test]
#[ignore = "long run: reliability/in4.sh"]
async fn hostile_inputs_are_refused_within_100_ms_and_50_mb() {
    let rounds = usize::try_from(env_num("IN4_ROUNDS", 20)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = free_listen_address();
    let base = format!("http://{listen}");
    let mut server = Launch::new(&data, &listen).start_until_up();
    let pid = server.id();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = client_token(&http, &base, ADMIN_ID, ADMIN_SECRET).await;
    // Warm the paths once, then take the resident memory as it is and reset its peak.
    let cases = cases();
    for c in &cases {
        let _ = c
            .request(&http, &base, &token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
    }
    let rss_before = status_kb(pid, "VmRSS:");
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("the peak RSS can be reset");
    let mut rows = Vec::new();
    let mut worst = Duration::ZERO;
    let mut wrong = Vec::new();
    for c in &cases {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let req = c.request(&http, &base, &token);
            let started = Instant::now();
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            times.push(started.elapsed());
            if status != c.want || body.len() > 4_096 {
                wrong.push(format!("{}: {status}, {} bytes", c.name, body.len()));
            }
        }
        times.sort();
        let max = *times.last().unwrap();
        worst = worst.max(max);
        rows.push(json!({
            "case": c.name,
            "status": c.want,
            "bytes_sent": c.body.as_ref().map_or(0, String::len),
            "median_ms": times[times.len() / 2].as_secs_f64() * 1e3,
            "max_ms": max.as_secs_f64() * 1e3,
        }));
        println!(
            "{:<36} {} median {:>7.2} ms  max {:>7.2} ms",
            c.name,
            c.want,
            times[times.len() / 2].as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
    let peak = status_kb(pid, "VmHWM:");
    let alive = server.try_wait().unwrap().is_none()
        && http
            .get(format!("{base}/health/live"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
    let _ = server.kill();
    let _ = server.wait();
    let spike_mb = peak.saturating_sub(rss_before) as f64 / 1024.0;
    println!(
        "RSS {:.1} MB before, peak {:.1} MB during: +{spike_mb:.1} MB; slowest answer {:.2} ms",
        rss_before as f64 / 1024.0,
        peak as f64 / 1024.0,
        worst.as_secs_f64() * 1e3
    );
    print_result(
        "IN-4",
        &json!({
            "rounds": rounds,
            "cases": rows,
            "slowest_ms": worst.as_secs_f64() * 1e3,
            "rss_before_mb": rss_before as f64 / 1024.0,
            "rss_peak_mb": peak as f64 / 1024.0,
            "rss_spike_mb": spike_mb,
            "wrong_answers": wrong,
            "alive": alive,
        }),
    );
    assert!(wrong.is_empty(), "{wrong:?}");
    assert!(alive, "the server survived");
    assert!(
        worst < Duration::from_millis(100),
        "slowest answer {worst:?}"
    );
    assert!(spike_mb < 50.0, "RSS spike {spike_mb:.1} MB");
}
