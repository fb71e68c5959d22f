//! OUT-2 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/out2.sh`.
//!
//! A desk that answers `429 Too Many Requests` with `Retry-After: 5`, in real time, with the
//! `gatehouse` binary on SQLite and two ServiceNow test desks: desk A (source ERP) and desk B
//! (source SAP), each with its integration. Rounds alternate: a control round first sends M
//! requests for ERP entitlements with desk A healthy and waits until their tickets are open, then
//! sends N access requests for SAP entitlements (no approval, so each goes straight to a ticket
//! at B) and times how long it takes until B holds all N tickets; a throttled round first sends
//! the same M requests for ERP while desk A answers every ticket-API call `429` with
//! `Retry-After: 5`, then the same N for B, timed the same way. The rounds thus differ only in
//! A's answers. With `OUT2_CONTROL=b-only` the control has no A work at all (B's round in the
//! throttled rounds then also carries the rows of A's requests, which alone slowed B down). Goals: B's time in the throttled rounds within ± 10 % of the
//! control (medians over the rounds); no call reaches A within 5 s of a 429 it sent (by the time
//! the desk received each call; the server's virtual clock is not moved while A throttles, so it
//! reads the wall clock the desk reads). After each throttled round desk A recovers and the
//! clock is moved until A holds M tickets, one per item.
//!
//! Calls to A already on their way when one of them came back 429 are counted too (the server
//! could not have held them back): with `per_link_concurrency` 4, up to three calls of the first
//! burst may come in after the first 429. The summary reports them as `calls_in_flight_at_a_429`
//! (received less than `OUT2_IN_FLIGHT_MS` after the 429) apart from the later ones,
//! `calls_within_5s_of_a_429`, whose goal is 0.
//!
//! Knobs: `OUT2_ROUNDS` (pairs of rounds, 5), `OUT2_REQUESTS` (N, 1000), `OUT2_THROTTLED` (M,
//! 200), `OUT2_CONCURRENCY` (client requests in flight, 16), `OUT2_IN_FLIGHT_MS` (10),
//! `OUT2_CONTROL` (`a-healthy`, the default, or `b-only`).

mod common;

use common::{env_num, identity, median, Launch};
use gatehouse_testdesk::{Desk, Fault, Flavor};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Entitlements of SAP (desk B): `0..ITEMS`; of ERP (desk A): `ITEMS..2 * ITEMS`.
const ITEMS: usize = 100;
const ERP: &str = "e4e00000000000000000000000000001";
const RETRY_AFTER_MS: i64 = 5_000;

/// A server process, killed when dropped (a failed round leaves none behind).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The tenant: `people` requesters, SAP and ERP (both desk-managed) with `ITEMS` entitlements
/// each that need no approval; imported into `data`.
fn import(dir: &Path, data: &Path, people: usize) {
    let identities: Vec<Value> = (0..people)
        .map(|n| json!({"id": identity(n), "name": format!("person{n}")}))
        .collect();
    let entitlements: Vec<Value> = (0..2 * ITEMS)
        .map(|n| {
            let source = if n < ITEMS { "SAP" } else { "ERP" };
            json!({"id": common::entitlement(n), "source": source, "attribute": "role",
                   "value": format!("Z_ROLE_{n}"), "accessRequestConfig": {"approvalSchemes": []}})
        })
        .collect();
    let doc = json!({
        "gatehouse": "tenant/1",
        "identities": identities,
        "clusters": [{"id": common::CLUSTER, "name": "Cluster"}],
        "sources": [
            {"id": common::SAP, "name": "SAP", "owner": "person0", "cluster": "Cluster",
             "connector": "delimited-file", "serviceDeskManaged": true},
            {"id": ERP, "name": "ERP", "owner": "person0", "cluster": "Cluster",
             "connector": "delimited-file", "serviceDeskManaged": true}],
        "entitlements": entitlements,
    });
    let path = dir.join("tenant.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["import", "--data-dir"])
        .arg(data)
        .arg(&path)
        .env_remove("GATEHOUSE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Submits requests `from..from + n` (entitlement `offset + k % ITEMS`), `concurrency` at a
/// time, each until accepted; returns their access request ids.
async fn submit_many(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    run: &'static str,
    n: usize,
    offset: usize,
    concurrency: usize,
) -> Vec<String> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..n {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let (http, base, token) = (http.clone(), base.to_owned(), token.to_owned());
        tasks.spawn(async move {
            let _permit = permit;
            let key = common::key(run, k);
            let body = json!({"requestedFor": [identity(k / ITEMS)],
                              "requestedItems": [{"type": "ENTITLEMENT",
                                                  "id": common::entitlement(offset + k % ITEMS)}]});
            loop {
                let sent = http
                    .post(format!("{base}/v3/access-requests"))
                    .bearer_auth(&token)
                    .header("idempotency-key", &key)
                    .json(&body)
                    .send()
                    .await;
                if let Ok(res) = sent {
                    let status = res.status().as_u16();
                    assert!(
                        !matches!(status, 400 | 401 | 403 | 404 | 422),
                        "{key}: {status}"
                    );
                    if status == 202 {
                        if let Ok(v) = res.json::<Value>().await {
                            if let Some(id) = v["newRequests"][0]["accessRequestIds"][0].as_str() {
                                return id.to_owned();
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    let mut ids = Vec::new();
    while let Some(id) = tasks.join_next().await {
        ids.push(id.unwrap());
    }
    ids
}

/// Waits until A's `m` items have each had their turn (every ticket job exists, and no job is
/// running or due: throttled, A's first calls were answered 429 and the rest deferred; healthy,
/// every ticket is open), and then until 4.5 s after A's last 429 (healthy: its last call): B's
/// requests then start once the work of A's items is done, and, throttled, the end of A's pause,
/// when its jobs are due again, falls early in B's round.
async fn settle(db: &Path, m: usize, desk_a: &Desk, throttled: bool) {
    let started = Instant::now();
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let (tickets, busy): (i64, i64) = rusqlite::Connection::open(db)
            .unwrap()
            .query_row(
                "select (select count(*) from job where kind = 'service_desk_ticket'), \
                        (select count(*) from job where state = 'running' \
                         or (state = 'available' and scheduled_at <= ?1))",
                [now],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        if tickets == i64::try_from(m).unwrap() && busy == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "A's items never settled: {tickets} ticket jobs, {busy} running or due"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last_429 = desk_a
        .calls()
        .iter()
        .rev()
        .find(|c| c.too_many || !throttled)
        .map(|c| c.at_ms)
        .expect("A was called");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let wait = (last_429 + RETRY_AFTER_MS - 500 - now).max(0);
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
}

/// How many of `wanted` (access request ids) `desk` holds a ticket for.
fn ticketed(desk: &Desk, wanted: &BTreeSet<String>) -> usize {
    desk.tickets()
        .into_iter()
        .filter_map(|t| t.correlation_id)
        .filter(|c| wanted.contains(c))
        .count()
}

/// Calls received after a call the desk answered 429: (less than `in_flight_ms` after it, from
/// `in_flight_ms` to 5 s after it). Each later call is counted once, against the latest 429
/// before it.
fn after_429s(desk: &Desk, in_flight_ms: i64) -> (usize, usize, Vec<i64>) {
    let calls = desk.calls();
    let (mut in_flight, mut early, mut gaps) = (0, 0, Vec::new());
    let mut last_429: Option<i64> = None;
    for c in &calls {
        if let Some(at) = last_429 {
            let gap = c.at_ms - at;
            if gap < in_flight_ms {
                in_flight += 1;
            } else if gap < RETRY_AFTER_MS {
                early += 1;
                gaps.push(gap);
            }
        }
        if c.too_many {
            last_429 = Some(c.at_ms);
        }
    }
    (in_flight, early, gaps)
}

struct Round {
    seconds: f64,
    throttled: Option<Value>,
    problems: Vec<String>,
}

async fn round(
    n: usize,
    m: usize,
    throttled: bool,
    a_in_control: bool,
    concurrency: usize,
    in_flight_ms: i64,
) -> Round {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import(dir.path(), &data, n.max(m).div_ceil(ITEMS).max(1));
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk_a = Desk::start(Flavor::ServiceNow).await;
    let desk_b = Desk::start(Flavor::ServiceNow).await;
    let server = Server(Launch::new(&data, &listen).start_until_up());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base, common::ADMIN_ID, common::ADMIN_SECRET).await;
    common::add_desk(&http, &base, &token, &desk_b).await;
    common::add_desk_for(&http, &base, &token, &desk_a, "ERP desk", ERP).await;
    common::daily_status_checks(&http, &base, &token).await;
    let mut problems = Vec::new();

    let ids_a = if throttled {
        desk_a.fail_randomly(
            1.0,
            Fault::TooMany {
                retry_after_secs: 5,
            },
        );
        let ids = submit_many(&http, &base, &token, "out2a", m, ITEMS, concurrency).await;
        settle(&data.join("gatehouse.db"), m, &desk_a, true).await;
        ids
    } else if a_in_control {
        // The same work for A, healthy: the rounds then differ only in A's answers.
        let ids = submit_many(&http, &base, &token, "out2a", m, ITEMS, concurrency).await;
        settle(&data.join("gatehouse.db"), m, &desk_a, false).await;
        if desk_a.tickets().len() != m {
            problems.push(format!(
                "{} tickets at healthy A for {m} items",
                desk_a.tickets().len()
            ));
        }
        ids
    } else {
        Vec::new()
    };
    let started = Instant::now();
    let ids_b = submit_many(&http, &base, &token, "out2b", n, 0, concurrency).await;
    let wanted: BTreeSet<String> = ids_b.iter().map(|id| format!("gatehouse-{id}")).collect();
    loop {
        let have = ticketed(&desk_b, &wanted);
        if have == n {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "{have} of {n} tickets at B"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "OUT-2: {} round: {n} tickets at B in {seconds:.2} s",
        if throttled { "throttled" } else { "control" }
    );
    if desk_b.calls().iter().any(|c| c.too_many) {
        problems.push("desk B answered 429".to_owned());
    }
    if desk_b.tickets().len() != n {
        problems.push(format!(
            "{} tickets at B for {n} items",
            desk_b.tickets().len()
        ));
    }

    let summary = if throttled {
        // Let A throttle a while longer, so that more than one Retry-After passes under it.
        let hold = Duration::from_secs(12).saturating_sub(Duration::from_secs_f64(seconds));
        tokio::time::sleep(hold).await;
        let (in_flight, early, gaps) = after_429s(&desk_a, in_flight_ms);
        let calls_a = desk_a.calls();
        let answered_429 = calls_a.iter().filter(|c| c.too_many).count();
        let throttled_for = started.elapsed().as_secs_f64();
        // Desk A recovers; the clock is moved past every backoff until it holds M tickets.
        desk_a.clear_faults();
        let wanted_a: BTreeSet<String> = ids_a.iter().map(|id| format!("gatehouse-{id}")).collect();
        let recovering = Instant::now();
        while ticketed(&desk_a, &wanted_a) < m && recovering.elapsed() < Duration::from_secs(120) {
            let _ = http
                .post(format!("{base}/gatehouse/v1/clock"))
                .bearer_auth(&token)
                .json(&json!({"advance": "PT1M"}))
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let mut per_correlation: BTreeMap<String, usize> = BTreeMap::new();
        for t in desk_a.tickets() {
            *per_correlation
                .entry(t.correlation_id.unwrap_or_default())
                .or_default() += 1;
        }
        let duplicates: usize = per_correlation.values().map(|k| k - 1).sum();
        let missing = wanted_a
            .iter()
            .filter(|c| !per_correlation.contains_key(*c))
            .count();
        if early > 0 {
            problems.push(format!(
                "{early} calls to A within 5 s of a 429 (gaps in ms: {gaps:?})"
            ));
        }
        if duplicates > 0 || missing > 0 {
            problems.push(format!(
                "after A recovered: {missing} of its items without a ticket, {duplicates} duplicates"
            ));
        }
        Some(json!({
            "a_items": m, "a_calls_while_throttled": calls_a.len(),
            "a_answered_429": answered_429, "a_throttled_seconds": throttled_for,
            "calls_in_flight_at_a_429": in_flight, "calls_within_5s_of_a_429": early,
            "early_gaps_ms": gaps, "a_tickets_after_recovery": m - missing,
            "a_duplicates": duplicates,
            "a_recovered_in_seconds": recovering.elapsed().as_secs_f64(),
        }))
    } else {
        None
    };
    drop(server);
    Round {
        seconds,
        throttled: summary,
        problems,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/out2.sh"]
async fn out2_a_throttled_desk_is_left_alone_and_slows_no_other_desk() {
    let rounds = usize::try_from(env_num("OUT2_ROUNDS", 5)).unwrap();
    let n = usize::try_from(env_num("OUT2_REQUESTS", 1_000)).unwrap();
    let m = usize::try_from(env_num("OUT2_THROTTLED", 200)).unwrap();
    let concurrency = usize::try_from(env_num("OUT2_CONCURRENCY", 16)).unwrap();
    let in_flight_ms = i64::try_from(env_num("OUT2_IN_FLIGHT_MS", 10)).unwrap();
    // The control's A: healthy with the same M items (default), or none ("b-only").
    let a_in_control = std::env::var("OUT2_CONTROL").as_deref() != Ok("b-only");
    let (mut control, mut throttled, mut details) = (Vec::new(), Vec::new(), Vec::new());
    let mut problems: Vec<String> = Vec::new();
    for r in 0..rounds {
        // Alternate which goes first, so a machine getting busier or quieter favours neither.
        for with_429 in if r % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        } {
            let round = round(n, m, with_429, a_in_control, concurrency, in_flight_ms).await;
            problems.extend(
                round
                    .problems
                    .into_iter()
                    .map(|p| format!("round {r}: {p}")),
            );
            if with_429 {
                throttled.push(round.seconds);
                details.push(round.throttled.unwrap());
            } else {
                control.push(round.seconds);
            }
        }
    }
    let (c, t) = (median(&mut control.clone()), median(&mut throttled.clone()));
    let ratio = t / c;
    let sum = |k: &str| -> u64 { details.iter().filter_map(|d| d[k].as_u64()).sum() };
    let summary = json!({
        "test": "OUT-2", "requests_b": n, "requests_a": m, "rounds": rounds,
        "concurrency": concurrency, "retry_after_seconds": RETRY_AFTER_MS / 1000,
        "control": if a_in_control { "a-healthy" } else { "b-only" },
        "control_seconds": control, "throttled_seconds": throttled,
        "control_median": c, "throttled_median": t, "ratio": ratio,
        "calls_within_5s_of_a_429": sum("calls_within_5s_of_a_429"),
        "calls_in_flight_at_a_429": sum("calls_in_flight_at_a_429"),
        "a_answered_429": sum("a_answered_429"),
        "in_flight_ms": in_flight_ms,
        "throttled_rounds": details, "problems": problems,
    });
    common::print_result("OUT-2", &summary);
    assert!(
        (0.90..=1.10).contains(&ratio),
        "B took {ratio:.3} × the control while A throttled"
    );
    assert!(problems.is_empty(), "{problems:?}");
}
