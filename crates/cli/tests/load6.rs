//! LOAD-6 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/load6.sh`.
//!
//! Slow desk back-pressure: the `gatehouse` binary (SQLite) takes `LOAD6_RATE`
//! `POST /v3/access-requests` a second for `LOAD6_SECONDS`, open loop, while its desk, a
//! ServiceNow test desk, takes 2 s over every call and refuses (429) any call beyond 5 at once.
//! Latency runs from the time each request was due to be sent. Every second the run reads how
//! many calls are in the desk, and every `LOAD6_SAMPLE_SECONDS` the server's resident set, also
//! for `LOAD6_AFTER_SECONDS` after the load while the backlog keeps the desk busy. Goals: p99 of
//! the 202s < 100 ms (intake does not wait for the desk), every answer 202, never more calls in
//! the desk than the server's cap per desk (`DeskConfig::per_link_concurrency`, the binary's
//! default), none refused by the desk, RSS < 200 MB at every sample.
//!
//! Knobs: `LOAD6_RATE` (200), `LOAD6_SECONDS` (180), `LOAD6_SAMPLE_SECONDS` (5),
//! `LOAD6_AFTER_SECONDS` (30).

mod common;

use common::load::{self, open_loop};
use common::{env_num, Answer, Launch};
use gatehouse_testdesk::{Desk, Flavor, Pace};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The desk's delay on every call.
const DESK_DELAY: Duration = Duration::from_secs(2);
/// The calls the desk takes at once.
const DESK_CAP: usize = 5;
/// The resident set the server must stay under, KiB.
const RSS_BOUND_KB: u64 = 200 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/load6.sh"]
async fn load6_slow_desk() {
    let rate = env_num("LOAD6_RATE", 200);
    let seconds = env_num("LOAD6_SECONDS", 180);
    let every = env_num("LOAD6_SAMPLE_SECONDS", 5);
    let after = env_num("LOAD6_AFTER_SECONDS", 30);
    let total = usize::try_from(rate * seconds).unwrap();
    let items = 100;
    let cap = gatehouse_desk::DeskConfig::default().per_link_concurrency;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::import_tenant(dir.path(), &data, None, total.div_ceil(items), items);
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk = Desk::start(Flavor::ServiceNow).await;
    desk.set_pace(Pace {
        delay: DESK_DELAY,
        max_concurrent: Some(DESK_CAP),
        creates_per_second: None,
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
    let started = Instant::now();
    let rss_sampler = load::sample_rss(pid, started, every, seconds + after, "LOAD-6");
    let in_desk = {
        let desk = desk.clone();
        tokio::spawn(async move {
            let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
            for t in 1..=seconds + after {
                tokio::time::sleep_until((started + Duration::from_secs(t)).into()).await;
                *seen.entry(desk.load().in_flight).or_default() += 1;
            }
            seen
        })
    };
    let (server_cpu, own_cpu) = (load::cpu_seconds(pid), load::cpu_seconds(0));
    let run = open_loop(rate, seconds, 512, |n| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            match common::submit(&http, &base, &token, "load6", n, items).await {
                Answer::Accepted(_) => 202,
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
    let tickets_at_load_end = desk.ticket_count();
    let samples = rss_sampler.await.unwrap();
    let in_desk = in_desk.await.unwrap();
    let desk_load = desk.load();
    let _ = server.kill();
    let _ = server.wait();

    let rss_max = samples.iter().map(|s| s.rss_kb).max().unwrap_or(0);
    let (_, rss) = load::rss_growth(&samples, 0);
    let p99 = run.of(202).quantile(0.99);
    let in_desk: BTreeMap<String, usize> = in_desk
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut summary = json!({
        "test": "LOAD-6", "rate": rate, "seconds": seconds, "after_seconds": after,
        "desk_delay_ms": DESK_DELAY.as_millis(), "desk_cap": DESK_CAP,
        "per_link_concurrency": cap, "desk_max_in_flight": desk_load.max_in_flight,
        "desk_refused": desk_load.refused, "seconds_by_calls_in_desk": in_desk,
        "tickets_at_load_end": tickets_at_load_end, "desk_tickets": desk.ticket_count(),
        "loadavg_before": load_before, "loadavg_after": load_after,
        "rss_bound_kb": RSS_BOUND_KB,
    });
    load::extend(&mut summary, run.summary(202));
    load::extend(&mut summary, rss);
    load::extend(&mut summary, cpu);
    common::print_result("LOAD-6", &summary);
    assert_eq!(run.other_than(202), 0, "answers other than 202");
    assert!(
        p99 < Duration::from_millis(100),
        "p99 of the 202s {p99:?} (goal < 100 ms)"
    );
    assert!(
        desk_load.max_in_flight <= cap,
        "{} calls in the desk at once, cap {cap}",
        desk_load.max_in_flight
    );
    assert_eq!(desk_load.refused, 0, "calls the desk refused");
    assert!(desk.ticket_count() > 0, "the desk got tickets");
    assert!(rss_max < RSS_BOUND_KB, "RSS reached {rss_max} KiB");
}
