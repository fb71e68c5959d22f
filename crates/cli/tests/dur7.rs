//! DUR-7 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/dur7.sh`.
//!
//! The `gatehouse` binary (SQLite) takes `POST /v3/access-requests` at a steady rate, each with
//! its own `Idempotency-Key`, and opens a ticket at a ServiceNow test desk for each. Five seconds
//! before SIGTERM the desk starts holding back the body of every answer (`DUR7_DESK_DELAY_MS`), so the
//! jobs running at SIGTERM cannot finish within the runner's drain time (half of
//! `--shutdown-grace`). The load goes on through the shutdown. Measured: the time from SIGTERM to
//! the exit and its status, what the requests sent after SIGTERM got (202, 503 with
//! `Retry-After`, a refused connection, or no answer), the job rows left `running` in the
//! database once the process is gone (read before the restart), and the leases the server says it
//! released. Then the server is started again, every request not yet answered 202 is retried with
//! its key, the backlog drains, and the oracle: every 202 has its row (0 lost), one ticket per
//! request at the desk (0 missing, 0 duplicates).
//!
//! Knobs (environment): `DUR7_RATE` requests/s (300), `DUR7_SECONDS` of load (20),
//! `DUR7_TERM_AT` seconds into the load (10), `DUR7_GRACE` seconds (`--shutdown-grace`, 20),
//! `DUR7_DESK_DELAY_MS` (25000; 0: the desk answers at once), `DUR7_DRAIN_SECONDS` (180).

mod common;

use common::{env_num, Answer, Launch};
use gatehouse_store::{Store, StoreConfig, Synchronous};
use gatehouse_testdesk::{Desk, Fault, Flavor};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Log {
    /// Idempotency-Key → access request id, for every 202 read.
    accepted: BTreeMap<String, String>,
    /// What first attempts sent after SIGTERM (and before the restart) got.
    after_term: BTreeMap<String, usize>,
    /// Answers that break the goal: a 5xx other than 503 with `Retry-After`, or any other status.
    bad: Vec<String>,
    first_try_202: usize,
}

fn class(a: &Answer) -> String {
    match a {
        Answer::Accepted(_) => "202".into(),
        Answer::Status(503, Some(_), _) => "503+Retry-After".into(),
        Answer::Status(s, after, _) => {
            format!("{s}{}", if after.is_some() { "+Retry-After" } else { "" })
        }
        Answer::Refused => "refused".into(),
        Answer::Unanswered => "no answer".into(),
    }
}

async fn jobs_by_state(data: &std::path::Path) -> BTreeMap<String, i64> {
    let store = Store::open(
        StoreConfig::Sqlite {
            path: data.join("gatehouse.db"),
            synchronous: Synchronous::Full,
        },
        0,
    )
    .await
    .unwrap();
    store
        .read(|c| {
            c.query("select state, count(*) from job group by state", &[])?
                .iter()
                .map(|r| Ok((r.text(0)?, r.int(1)?)))
                .collect()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/dur7.sh"]
async fn dur7_sigterm_under_load() {
    let rate = env_num("DUR7_RATE", 300);
    let seconds = env_num("DUR7_SECONDS", 20);
    let term_at = Duration::from_secs(env_num("DUR7_TERM_AT", 10));
    let grace = env_num("DUR7_GRACE", 20);
    let desk_delay = env_num("DUR7_DESK_DELAY_MS", 25_000);
    let drain = Duration::from_secs(env_num("DUR7_DRAIN_SECONDS", 180));
    let total = usize::try_from(rate * seconds).unwrap();
    let items = 100;
    let people = total.div_ceil(items).max(1);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::import_tenant(dir.path(), &data, None, people, items);
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk = Desk::start(Flavor::ServiceNow).await;
    let log_file = dir.path().join("server.log");
    let mut launch = Launch::new(&data, &listen);
    launch.args = vec!["--shutdown-grace".into(), grace.to_string()];
    launch.log_filter = "warn,gatehouse_store::runner=info,gatehouse=info".into();
    launch.log_file = Some(log_file.clone());

    let server = Arc::new(Mutex::new(Some(launch.start_until_up())));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base, common::ADMIN_ID, common::ADMIN_SECRET).await;
    common::add_desk(&http, &base, &token, &desk).await;

    // The supervisor: slows the desk, sends SIGTERM, waits for the exit, reads the job rows, and
    // starts the server again.
    let started = Instant::now();
    let term_sent: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let restarted: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let supervisor = {
        let (server, term_sent, restarted, launch, desk, data) = (
            server.clone(),
            term_sent.clone(),
            restarted.clone(),
            launch.clone(),
            desk.clone(),
            data.clone(),
        );
        tokio::spawn(async move {
            if desk_delay > 0 {
                tokio::time::sleep_until(
                    (started + term_at.saturating_sub(Duration::from_secs(5))).into(),
                )
                .await;
                desk.fail_randomly(
                    1.0,
                    Fault::SlowBody {
                        delay_ms: desk_delay,
                    },
                );
            }
            tokio::time::sleep_until((started + term_at).into()).await;
            let mut child = server.lock().unwrap().take().unwrap();
            let pid = child.id().to_string();
            *term_sent.lock().unwrap() = Some(Instant::now());
            let sent_at = Instant::now();
            let ok = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success();
            assert!(ok, "SIGTERM sent");
            let (status, exit_after) = tokio::task::spawn_blocking(move || {
                let deadline = sent_at + Duration::from_secs(120);
                loop {
                    if let Some(s) = child.try_wait().unwrap() {
                        return (s, sent_at.elapsed());
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        return (child.wait().unwrap(), sent_at.elapsed());
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
            .await
            .unwrap();
            desk.clear_faults();
            let jobs = jobs_by_state(&data).await;
            let child = tokio::task::spawn_blocking(move || launch.start_until_up())
                .await
                .unwrap();
            *restarted.lock().unwrap() = Some(Instant::now());
            *server.lock().unwrap() = Some(child);
            (status, exit_after, jobs)
        })
    };

    // The load: `rate` new requests a second, each retried with its key until it is answered 202.
    let log = Arc::new(Mutex::new(Log::default()));
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    let (mut late, mut late_before_term) = (0, 0);
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        if Instant::now() > due + Duration::from_millis(100) {
            late += 1;
            if term_sent.lock().unwrap().is_none() {
                late_before_term += 1;
            }
        }
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (http, base, token, log, term_sent, restarted) = (
            http.clone(),
            base.clone(),
            token.clone(),
            log.clone(),
            term_sent.clone(),
            restarted.clone(),
        );
        tasks.spawn(async move {
            let _permit = permit;
            let key = common::key("dur7", n);
            for attempt in 0.. {
                let sent_at = Instant::now();
                let answer = common::submit(&http, &base, &token, "dur7", n, items).await;
                let term = *term_sent.lock().unwrap();
                let before_restart = restarted.lock().unwrap().is_none_or(|r| sent_at < r);
                {
                    let mut l = log.lock().unwrap();
                    if attempt == 0 && term.is_some_and(|t| sent_at >= t) && before_restart {
                        *l.after_term.entry(class(&answer)).or_default() += 1;
                    }
                    match &answer {
                        Answer::Status(503, Some(_), _) | Answer::Refused | Answer::Unanswered => {}
                        Answer::Accepted(id) => {
                            if attempt == 0 {
                                l.first_try_202 += 1;
                            }
                            l.accepted.insert(key, id.clone());
                            return;
                        }
                        other => l.bad.push(format!("{key}: {other:?}")),
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let load_time = started.elapsed();
    let (status, exit_after, jobs_after_exit) = supervisor.await.unwrap();

    // Drain: the clock moves past backoffs until every ticket exists.
    let accepted = log.lock().unwrap().accepted.clone();
    let drained_in = common::drain_until_ticketed(
        &http,
        std::slice::from_ref(&base),
        &token,
        "PT2M",
        &desk,
        accepted.values(),
        drain,
    )
    .await;
    if let Some(mut s) = server.lock().unwrap().take() {
        let _ = s.kill();
        let _ = s.wait();
    }

    // The oracle.
    let store = Store::open(
        StoreConfig::Sqlite {
            path: data.join("gatehouse.db"),
            synchronous: Synchronous::Full,
        },
        0,
    )
    .await
    .unwrap();
    let rows = common::access_request_ids(&store).await;
    let tickets = common::Tickets::check(&desk, &rows, accepted.values(), drained_in);
    let server_log = std::fs::read_to_string(&log_file).unwrap_or_default();
    let stopping_line = server_log
        .lines()
        .find(|l| l.contains("stopping:") && l.contains("jobs running"))
        .unwrap_or_default()
        .to_owned();
    let released_line = server_log
        .lines()
        .find(|l| l.contains("released_jobs"))
        .unwrap_or_default()
        .to_owned();
    let field = |line: &str, name: &str| -> Option<i64> {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()?
            .pointer(&format!("/fields/{name}"))?
            .as_i64()
    };
    let running_at_term = field(&stopping_line, "jobs");
    let released = field(&released_line, "released_jobs");
    let running_after_exit = jobs_after_exit.get("running").copied().unwrap_or(0);
    let l = log.lock().unwrap();
    let mut summary = json!({
        "test": "DUR-7", "rate": rate, "seconds": seconds, "term_at": term_at.as_secs(),
        "grace": grace, "desk_delay_ms": desk_delay,
        "load_seconds": load_time.as_secs_f64(), "late_sends": late,
        "late_sends_before_sigterm": late_before_term,
        "requests": total, "accepted_202": accepted.len(),
        "first_try_202_percent": 100.0 * l.first_try_202 as f64 / total as f64,
        "exit_seconds": exit_after.as_secs_f64(), "exit_status": status.to_string(),
        "after_sigterm_first_attempts": l.after_term, "bad_answers": l.bad.len(),
        "jobs_running_at_sigterm": running_at_term, "leases_released": released,
        "jobs_after_exit": jobs_after_exit, "running_after_exit": running_after_exit,
    });
    tickets.add_to(&mut summary);
    common::print_result("DUR-7", &summary);
    assert!(
        status.success(),
        "the server exits cleanly on SIGTERM: {status}"
    );
    assert!(
        exit_after <= Duration::from_secs(30),
        "exit within 30 s: {exit_after:?}"
    );
    assert!(
        l.bad.is_empty(),
        "answers other than 202 or 503 with Retry-After: {:?}",
        &l.bad[..l.bad.len().min(10)]
    );
    assert_eq!(
        running_after_exit, 0,
        "job rows left running after the exit"
    );
    assert_eq!(
        accepted.len(),
        total,
        "every request was answered 202 in the end"
    );
    tickets.assert_converged();
}
