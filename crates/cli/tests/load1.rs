//! LOAD-1 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/load1.sh`.
//!
//! Sustained intake: the `gatehouse` binary (SQLite, whose writer batches commits) takes
//! `LOAD1_RATE` `POST /v3/access-requests` a second for `LOAD1_SECONDS`, open loop (each a new
//! identity-entitlement pair with its own `Idempotency-Key`), while its job runner opens a ticket
//! for each at a ServiceNow test desk that creates at most `LOAD1_DESK_CREATES` tickets a second
//! (creates beyond that wait at the desk). Latency runs from the time each request was due to be
//! sent. The server's resident set is sampled every `LOAD1_SAMPLE_SECONDS`. After the load the
//! run waits until the desk holds a ticket for every 202 (the backlog drains) and checks them
//! against the stored rows. Goals: p99 of the 202s < 100 ms, no answer but 202 (so 0 × 5xx), RSS
//! growth < 10 % from the first sample after `LOAD1_WARMUP_SECONDS` to the end of the load, the
//! backlog drained ≤ 2× the load's duration after the load ends, 0 lost 202s, 0 missing and 0
//! duplicate tickets.
//!
//! Knobs: `LOAD1_RATE` (500), `LOAD1_SECONDS` (300), `LOAD1_DESK_CREATES` (200),
//! `LOAD1_SAMPLE_SECONDS` (10), `LOAD1_WARMUP_SECONDS` (60).

mod common;

use common::load::{self, open_loop};
use common::{env_num, Answer, Launch};
use gatehouse_testdesk::{Desk, Flavor, Pace};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The ids of every stored access request, read-only with rusqlite.
fn stored_ids(db: &Path) -> BTreeSet<String> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut q = c.prepare("select id from access_request").unwrap();
    q.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/load1.sh"]
async fn load1_sustained_intake() {
    let rate = env_num("LOAD1_RATE", 500);
    let seconds = env_num("LOAD1_SECONDS", 300);
    let creates = env_num("LOAD1_DESK_CREATES", 200);
    let every = env_num("LOAD1_SAMPLE_SECONDS", 10);
    let warmup = env_num("LOAD1_WARMUP_SECONDS", 60);
    let total = usize::try_from(rate * seconds).unwrap();
    let items = 100;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::import_tenant(dir.path(), &data, None, total.div_ceil(items), items);
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.set_pace(Pace {
        creates_per_second: Some(u32::try_from(creates).unwrap()),
        ..Pace::default()
    });
    let mut server = Launch::new(&data, &listen).start_until_up();
    let pid = server.id();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base, common::ADMIN_ID, common::ADMIN_SECRET).await;
    common::add_desk(&http, &base, &token, &desk).await;
    common::daily_status_checks(&http, &base, &token).await;

    let load_before = load::load_average();
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let started = Instant::now();
    let sampler = load::sample_rss(pid, started, every, seconds, "LOAD-1");
    let (server_cpu, own_cpu) = (load::cpu_seconds(pid), load::cpu_seconds(0));
    let run = open_loop(rate, seconds, 512, |n| {
        let (http, base, token, accepted) =
            (http.clone(), base.clone(), token.clone(), accepted.clone());
        async move {
            match common::submit(&http, &base, &token, "load1", n, items).await {
                Answer::Accepted(id) => {
                    accepted.lock().unwrap().push(id);
                    202
                }
                Answer::Status(s, ..) => s,
                Answer::Refused | Answer::Unanswered => 0,
            }
        }
    })
    .await;
    let load_after = load::load_average();
    let cpu = json!({
        "server_cpu_seconds": load::cpu_seconds(pid) - server_cpu,
        "generator_and_desk_cpu_seconds": load::cpu_seconds(0) - own_cpu,
    });
    let samples = sampler.await.unwrap();
    let accepted = accepted.lock().unwrap().clone();

    // The backlog: every 202 gets its ticket.
    let tickets_at_load_end = desk.ticket_count();
    let drain_started = Instant::now();
    let drain_limit = Duration::from_secs(2 * seconds + 60);
    while desk.ticket_count() < accepted.len() && drain_started.elapsed() < drain_limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained_in = drain_started.elapsed();
    let rss_after_drain = load::rss_kb(pid);
    let _ = server.kill();
    let _ = server.wait();
    let rows = stored_ids(&data.join("gatehouse.db"));
    let tickets = common::Tickets::check(&desk, &rows, &accepted, drained_in);

    let (growth, rss) = load::rss_growth(&samples, warmup);
    let p99 = run.of(202).quantile(0.99);
    let mut summary = json!({
        "test": "LOAD-1", "rate": rate, "seconds": seconds, "desk_creates_per_second": creates,
        "warmup": warmup, "loadavg_before": load_before, "loadavg_after": load_after,
        "tickets_at_load_end": tickets_at_load_end, "rss_kb_after_drain": rss_after_drain,
        "desk_max_in_flight": desk.load().max_in_flight,
        "desk_creates_delayed": desk.load().creates_delayed,
    });
    load::extend(&mut summary, run.summary(202));
    load::extend(&mut summary, rss);
    tickets.add_to(&mut summary);
    load::extend(&mut summary, cpu);
    common::print_result("LOAD-1", &summary);
    assert_eq!(run.server_errors(), 0, "5xx answers");
    assert_eq!(run.other_than(202), 0, "answers other than 202");
    assert!(
        p99 < Duration::from_millis(100),
        "p99 of the 202s {p99:?} (goal < 100 ms)"
    );
    assert!(growth < 10.0, "RSS grew {growth} % after the warm-up");
    assert!(
        drained_in <= Duration::from_secs(2 * seconds),
        "the backlog drained in {drained_in:?}, more than twice the load's {seconds} s"
    );
    tickets.assert_converged();
}
