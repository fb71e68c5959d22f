//! LOAD-5 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/load5.sh`.
//!
//! The `gatehouse` binary (SQLite) takes a mixed load at a steady rate for ten minutes: of every
//! ten requests two are `POST /v3/access-requests` (each a new identity-entitlement pair with its
//! own `Idempotency-Key`, opening a ticket at a ServiceNow test desk), four `GET` the desk
//! integration, two a page of 50 access-request statuses and two a page of 50 identities (the mix
//! of `bench/load/mixed.lua`). Every `LOAD5_SAMPLE_SECONDS` the run samples the server's resident
//! set (VmRSS), its open files (`/proc/<pid>/fd`) and the job table (read with the `sqlite3`
//! command, read-only): the jobs due (running, or available and scheduled by now), those
//! scheduled later (each open ticket's next status check, 30 minutes on) and all rows (finished
//! jobs stay as task history). Goals: 0 errors (any answer but 2xx, or none), RSS growth < 5 %
//! and open files within ± 10 % from the first sample after the warm-up to the last, and a bounded
//! backlog (the jobs due at the end no more than twice the most seen in the first half, or 100).
//!
//! Knobs: `LOAD5_RATE` requests/s (100), `LOAD5_SECONDS` (600), `LOAD5_SAMPLE_SECONDS` (10),
//! `LOAD5_WARMUP_SECONDS` (60).

mod common;

use common::{env_num, Answer, Launch};
use gatehouse_testdesk::{Desk, Flavor};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

/// Job rows (due now: running, or available and scheduled by now; scheduled later; all), read
/// from the SQLite file with the `sqlite3` command (read-only). The server's clock is the
/// virtual one, never moved here, so it is the wall clock.
fn job_counts(db: &Path) -> (u64, u64, u64) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let out = std::process::Command::new("sqlite3")
        .arg("-readonly")
        .arg(db)
        .arg(".timeout 5000")
        .arg(format!(
            "select sum(state = 'running' or (state = 'available' and scheduled_at <= {now_ms})) \
             || '|' || sum(state = 'available' and scheduled_at > {now_ms}) || '|' || count(*) \
             from job"
        ))
        .output()
        .expect("sqlite3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().split('|').map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[derive(Clone, Debug)]
struct Sample {
    t: u64,
    rss_kb: u64,
    fds: u64,
    due_jobs: u64,
    scheduled_jobs: u64,
    job_rows: u64,
    requests: usize,
    errors: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/load5.sh"]
async fn load5_soak() {
    let rate = env_num("LOAD5_RATE", 100);
    let seconds = env_num("LOAD5_SECONDS", 600);
    let every = env_num("LOAD5_SAMPLE_SECONDS", 10);
    let warmup = env_num("LOAD5_WARMUP_SECONDS", 60);
    let total = usize::try_from(rate * seconds).unwrap();
    let posts = total.div_ceil(5);
    let items = 100;
    let people = posts.div_ceil(items).max(1);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::import_tenant(dir.path(), &data, None, people, items);
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk = Desk::start(Flavor::ServiceNow).await;
    let mut server = Launch::new(&data, &listen).start_until_up();
    let pid = server.id();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base, common::ADMIN_ID, common::ADMIN_SECRET).await;
    let sdim = common::add_desk(&http, &base, &token, &desk).await;

    let requests = Arc::new(AtomicUsize::new(0));
    let errors: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let started = Instant::now();
    let sampler = {
        let (requests, errors, samples, db) = (
            requests.clone(),
            errors.clone(),
            samples.clone(),
            data.join("gatehouse.db"),
        );
        tokio::spawn(async move {
            for k in 0..=seconds / every {
                tokio::time::sleep_until((started + Duration::from_secs(k * every)).into()).await;
                let db = db.clone();
                let (due, scheduled, rows) = tokio::task::spawn_blocking(move || job_counts(&db))
                    .await
                    .unwrap();
                let s = Sample {
                    t: k * every,
                    rss_kb: rss_kb(pid),
                    fds: open_fds(pid),
                    due_jobs: due,
                    scheduled_jobs: scheduled,
                    job_rows: rows,
                    requests: requests.load(Ordering::SeqCst),
                    errors: errors.lock().unwrap().values().sum(),
                };
                eprintln!(
                    "LOAD-5 sample t={} rss_kb={} fds={} due_jobs={} scheduled_jobs={} job_rows={} requests={} errors={}",
                    s.t, s.rss_kb, s.fds, s.due_jobs, s.scheduled_jobs, s.job_rows, s.requests, s.errors
                );
                samples.lock().unwrap().push(s);
            }
        })
    };

    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let mut tasks = tokio::task::JoinSet::new();
    let mut late = 0;
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        if Instant::now() > due + Duration::from_millis(100) {
            late += 1;
        }
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (http, base, token, sdim, requests, errors) = (
            http.clone(),
            base.clone(),
            token.clone(),
            sdim.clone(),
            requests.clone(),
            errors.clone(),
        );
        tasks.spawn(async move {
            let _permit = permit;
            let (round, k) = (n / 10, n % 10);
            let failure = if k < 2 {
                match common::submit(&http, &base, &token, "load5", round * 2 + k, items).await {
                    Answer::Accepted(_) => None,
                    other => Some(format!("POST {other:?}")),
                }
            } else {
                let path = match k {
                    2..=5 => format!("/v3/service-desk-integrations/{sdim}"),
                    6 | 7 => "/v3/access-request-status?limit=50".to_owned(),
                    _ => "/v2024/identities?limit=50&sorters=name".to_owned(),
                };
                let label = path.split('?').next().unwrap_or_default().to_owned();
                match http
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(_) => None,
                        Err(_) => Some(format!("GET {label}: body not read")),
                    },
                    Ok(r) => Some(format!("GET {label}: {}", r.status().as_u16())),
                    Err(_) => Some(format!("GET {label}: no answer")),
                }
            };
            requests.fetch_add(1, Ordering::SeqCst);
            if let Some(f) = failure {
                *errors.lock().unwrap().entry(f).or_default() += 1;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let load_time = started.elapsed();
    sampler.await.unwrap();
    let _ = server.kill();
    let _ = server.wait();

    let samples = samples.lock().unwrap().clone();
    let errors = errors.lock().unwrap().clone();
    let error_count: usize = errors.values().sum();
    let reference = samples
        .iter()
        .find(|s| s.t >= warmup)
        .cloned()
        .expect("a sample after the warm-up");
    let last = samples.last().cloned().unwrap();
    let change = |a: u64, b: u64| (b as f64 - a as f64) / a.max(1) as f64 * 100.0;
    let rss_growth = change(reference.rss_kb, last.rss_kb);
    let rss_max = samples
        .iter()
        .filter(|s| s.t >= warmup)
        .map(|s| s.rss_kb)
        .max()
        .unwrap();
    let fds_change = change(reference.fds, last.fds);
    let half = samples.iter().filter(|s| s.t <= seconds / 2);
    let due_first_half = half.map(|s| s.due_jobs).max().unwrap_or(0);
    let due_max = samples.iter().map(|s| s.due_jobs).max().unwrap_or(0);
    let bound = (2 * due_first_half).max(100);
    let summary = json!({
        "test": "LOAD-5", "rate": rate, "seconds": seconds, "warmup": warmup,
        "requests": total, "load_seconds": load_time.as_secs_f64(), "late_sends": late,
        "errors": error_count, "error_kinds": errors,
        "rss_kb_at_warmup": reference.rss_kb, "rss_kb_last": last.rss_kb, "rss_kb_max": rss_max,
        "rss_growth_percent": rss_growth,
        "fds_at_warmup": reference.fds, "fds_last": last.fds, "fds_change_percent": fds_change,
        "due_jobs_first_half_max": due_first_half, "due_jobs_max": due_max,
        "due_jobs_last": last.due_jobs, "scheduled_jobs_last": last.scheduled_jobs,
        "job_rows_last": last.job_rows, "desk_tickets": desk.tickets().len(),
    });
    println!("LOAD-5 RESULT {summary}");
    assert_eq!(error_count, 0, "errors: {errors:?}");
    assert!(rss_growth < 5.0, "RSS grew {rss_growth:.1} %");
    assert!(
        fds_change.abs() <= 10.0,
        "open files changed {fds_change:.1} %"
    );
    assert!(
        last.due_jobs <= bound,
        "jobs due at the end {}, bound {bound}",
        last.due_jobs
    );
}
