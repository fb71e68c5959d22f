//! DUR-1 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/dur1.sh`.
//!
//! The `gatehouse` binary (SQLite) takes `POST /v3/access-requests` at a steady rate, each with
//! its own `Idempotency-Key`, while a supervisor kills it with SIGKILL every few seconds and starts
//! it again. A client retries a request that got no answer (connection refused or reset) with the
//! same key, and logs a request as accepted only after it has read the 202. Each request's
//! entitlement needs no approval, so it goes straight to a ticket at a ServiceNow test desk that
//! records every create with its correlation id. After the load, the server runs without kills
//! and the (virtual) clock is moved past every lease until the backlog drains. Then the oracle:
//! every accepted request has its row, each has exactly one ticket at the desk, and
//! `PRAGMA integrity_check` answers `ok`.
//!
//! Knobs (environment): `DUR1_RATE` requests/s (100), `DUR1_SECONDS` of load (60),
//! `DUR1_KILL_EVERY_MS` (2000), `DUR1_SYNC` full|normal (full), `DUR1_DRAIN_SECONDS` (120),
//! `DUR1_MAX_LOAD_SECONDS` (4 × the load time: requests still unanswered then are given up).

mod common;

use common::{env_num, Answer, Launch};
use gatehouse_store::{Store, StoreConfig, Synchronous};
use gatehouse_testdesk::{Desk, Flavor};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Log {
    /// Idempotency-Key → access request id, for every 202 read.
    accepted: BTreeMap<String, String>,
    first_try_202: usize,
    retries: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/dur1.sh"]
async fn dur1_kill_9_under_load() {
    let rate = env_num("DUR1_RATE", 100);
    let seconds = env_num("DUR1_SECONDS", 60);
    let kill_every = Duration::from_millis(env_num("DUR1_KILL_EVERY_MS", 2_000));
    let drain = Duration::from_secs(env_num("DUR1_DRAIN_SECONDS", 120));
    let sync = std::env::var("DUR1_SYNC").unwrap_or_else(|_| "full".into());
    let total = usize::try_from(rate * seconds).unwrap();
    let items = 100;
    let people = total.div_ceil(items).max(1);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::import_tenant(dir.path(), &data, None, people, items);
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk = Desk::start(Flavor::ServiceNow).await;
    let mut launch = Launch::new(&data, &listen);
    launch.args = vec!["--sqlite-synchronous".into(), sync.clone()];

    let server = Arc::new(Mutex::new(launch.start_until_up()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base, common::ADMIN_ID, common::ADMIN_SECRET).await;
    common::add_desk(&http, &base, &token, &desk).await;

    // The supervisor: SIGKILL every `kill_every`, then start again at once.
    let loading = Arc::new(AtomicBool::new(true));
    let kills = Arc::new(AtomicUsize::new(0));
    let supervisor = {
        let (server, loading, kills, launch) = (
            server.clone(),
            loading.clone(),
            kills.clone(),
            launch.clone(),
        );
        std::thread::spawn(move || {
            while loading.load(Ordering::SeqCst) {
                std::thread::sleep(kill_every);
                if !loading.load(Ordering::SeqCst) {
                    break;
                }
                let mut s = server.lock().unwrap();
                let _ = s.kill();
                let _ = s.wait();
                kills.fetch_add(1, Ordering::SeqCst);
                *s = launch.start_until_up();
            }
        })
    };

    // The load: `rate` new requests a second, each retried with its key until it is answered 202.
    let log = Arc::new(Mutex::new(Log::default()));
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let deadline = started + Duration::from_secs(env_num("DUR1_MAX_LOAD_SECONDS", seconds * 4));
    let mut sent = 0;
    for n in 0..total {
        if Instant::now() > deadline {
            eprintln!("DUR-1: load deadline reached after {n} of {total} requests were sent");
            break;
        }
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let permit = limit.clone().acquire_owned().await.unwrap();
        sent += 1;
        let (http, base, token, log) = (http.clone(), base.clone(), token.clone(), log.clone());
        tasks.spawn(async move {
            let _permit = permit;
            let key = common::key("dur1", n);
            for attempt in 0.. {
                if let Answer::Accepted(id) =
                    common::submit(&http, &base, &token, "dur1", n, items).await
                {
                    let mut l = log.lock().unwrap();
                    if attempt == 0 {
                        l.first_try_202 += 1;
                    }
                    l.accepted.insert(key, id);
                    return;
                }
                log.lock().unwrap().retries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    // Whatever is still unanswered at the deadline is given up (and reported as such).
    let mut last_report = Instant::now();
    loop {
        match tokio::time::timeout_at(deadline.into(), tasks.join_next()).await {
            Ok(Some(done)) => done.unwrap(),
            Ok(None) => break,
            Err(_) => {
                eprintln!(
                    "DUR-1: load deadline reached; {} requests unanswered",
                    tasks.len()
                );
                tasks.abort_all();
                break;
            }
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = Instant::now();
            let l = log.lock().unwrap();
            eprintln!(
                "DUR-1: {:.0} s, {} accepted, {} retries, {} kills",
                started.elapsed().as_secs_f64(),
                l.accepted.len(),
                l.retries,
                kills.load(Ordering::SeqCst)
            );
        }
    }
    let load_time = started.elapsed();
    loading.store(false, Ordering::SeqCst);
    supervisor.join().unwrap();

    // Drain: no more kills; the clock moves past leases and backoffs until every ticket exists.
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
    {
        let mut s = server.lock().unwrap();
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
    let integrity = store
        .read(|c| c.query_one("pragma integrity_check", &[])?.text(0))
        .await
        .unwrap();
    drop(store);
    let tickets = common::Tickets::check(&desk, &rows, accepted.values(), drained_in);
    let l = log.lock().unwrap();
    let mut summary = json!({
        "test": "DUR-1", "sync": sync, "rate": rate, "seconds": seconds,
        "load_seconds": load_time.as_secs_f64(), "kills": kills.load(Ordering::SeqCst),
        "requests": total, "sent": sent, "accepted_202": accepted.len(),
        "first_try_202_percent": 100.0 * l.first_try_202 as f64 / total as f64,
        "retries": l.retries, "integrity_check": integrity,
    });
    tickets.add_to(&mut summary);
    common::print_result("DUR-1", &summary);
    assert_eq!(
        accepted.len(),
        total,
        "every request was answered 202 in the end"
    );
    tickets.assert_converged();
    assert_eq!(integrity, "ok");
}
