//! LOAD-2 (docs/RELIABILITY.md), a long run, not part of the test suite (`#[ignore]`): run it with
//! `reliability/load2.sh`.
//!
//! Reads: the `gatehouse` binary (SQLite), holding `LOAD2_PEOPLE` identities, 100 entitlements
//! and `LOAD2_SEED` access requests (submitted and ticketed at a ServiceNow test desk before the
//! load), takes `LOAD2_RATE` `GET`s a second for `LOAD2_SECONDS`, open loop. Of every ten: two
//! pages of 50 identities (sorted by name, at an offset that moves), two identities by id, two
//! pages of 50 access-request statuses, one page of 50 entitlements, one entitlement by id, one
//! service-desk integration by id, one page of 50 access-request statuses at an offset that
//! moves. Latency runs from the time each request was due to be sent; the server's resident set
//! is sampled every 10 s. Before the load, the page cap: `limit=250` answers at most 250 items,
//! `limit=251` and `limit=1000` answer 400. Goals: p99 < 50 ms, every answer 200, the page cap
//! holds.
//!
//! Knobs: `LOAD2_RATE` (1000), `LOAD2_SECONDS` (120), `LOAD2_PEOPLE` (1000), `LOAD2_SEED` (2000).

mod common;

use common::load::{self, get_status, open_loop};
use common::{env_num, Answer, Launch};
use gatehouse_testdesk::{Desk, Flavor};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The kinds of request of the mix, by `n % 10`.
const KINDS: [&str; 7] = [
    "identity_page",
    "identity",
    "status_page",
    "entitlement_page",
    "entitlement",
    "integration",
    "status_page_offset",
];

/// The kind of request `n`.
fn kind(n: usize) -> &'static str {
    match n % 10 {
        0 | 1 => KINDS[0],
        2 | 3 => KINDS[1],
        4 | 5 => KINDS[2],
        6 => KINDS[3],
        7 => KINDS[4],
        8 => KINDS[5],
        _ => KINDS[6],
    }
}

/// The status and the number of items of a `GET` of a list.
async fn page(http: &reqwest::Client, url: &str, token: &str) -> (u16, Option<usize>) {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v.as_array().map(Vec::len))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long run: reliability/load2.sh"]
async fn load2_reads() {
    let rate = env_num("LOAD2_RATE", 1000);
    let seconds = env_num("LOAD2_SECONDS", 120);
    let people = usize::try_from(env_num("LOAD2_PEOPLE", 1000)).unwrap();
    let seed = usize::try_from(env_num("LOAD2_SEED", 2000)).unwrap();
    let items = 100;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::import_tenant(
        dir.path(),
        &data,
        None,
        people.max(seed.div_ceil(items)),
        items,
    );
    let listen = common::free_listen_address();
    let base = format!("http://{listen}");
    let desk = Desk::start(Flavor::ServiceNow).await;
    let mut server = Launch::new(&data, &listen).start_until_up();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = common::client_token(&http, &base, common::ADMIN_ID, common::ADMIN_SECRET).await;
    let sdim = common::add_desk(&http, &base, &token, &desk).await;
    common::daily_status_checks(&http, &base, &token).await;

    // The data the reads page through, ticketed before the load so that the job runner is idle.
    for chunk in (0..seed).collect::<Vec<_>>().chunks(32) {
        let mut batch = tokio::task::JoinSet::new();
        for &n in chunk {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            batch.spawn(
                async move { common::submit(&http, &base, &token, "load2", n, items).await },
            );
        }
        for a in batch.join_all().await {
            assert!(matches!(a, Answer::Accepted(_)), "{a:?}");
        }
    }
    let waited = Instant::now();
    while desk.ticket_count() < seed && waited.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(desk.ticket_count(), seed, "the seed requests are ticketed");

    // The page cap.
    let statuses = format!("{base}/v3/access-request-status");
    let (at_cap, at_cap_items) = page(&http, &format!("{statuses}?limit=250"), &token).await;
    let (over_cap, _) = page(&http, &format!("{statuses}?limit=251"), &token).await;
    let (far_over_cap, _) = page(
        &http,
        &format!("{base}/v2024/identities?limit=1000"),
        &token,
    )
    .await;

    let load_before = load::load_average();
    let (server_cpu, own_cpu) = (load::cpu_seconds(server.id()), load::cpu_seconds(0));
    let started = Instant::now();
    let sampler = load::sample_rss(server.id(), started, 10, seconds, "LOAD-2");
    let run = open_loop(rate, seconds, 512, |n| {
        let round = n / 10;
        let path = match kind(n) {
            "identity_page" => format!(
                "/v2024/identities?limit=50&offset={}&sorters=name",
                (round * 50) % people
            ),
            "identity" => format!("/v2024/identities/{}", common::identity(n % people)),
            "status_page" => "/v3/access-request-status?limit=50".to_owned(),
            "entitlement_page" => "/v2024/entitlements?limit=50".to_owned(),
            "entitlement" => format!("/v2024/entitlements/{}", common::entitlement(round % items)),
            "integration" => format!("/v3/service-desk-integrations/{sdim}"),
            _ => format!(
                "/v3/access-request-status?limit=50&offset={}",
                (round * 50) % seed.max(1)
            ),
        };
        let (http, url, token) = (http.clone(), format!("{base}{path}"), token.clone());
        async move { get_status(&http, &url, &token).await }
    })
    .await;
    let cpu = json!({
        "server_cpu_seconds": load::cpu_seconds(server.id()) - server_cpu,
        "generator_and_desk_cpu_seconds": load::cpu_seconds(0) - own_cpu,
    });
    let by_kind: serde_json::Map<String, Value> = KINDS
        .iter()
        .map(|k| (k.to_string(), run.select(|n, _| kind(n) == *k).summary()))
        .collect();
    let load_after = load::load_average();
    let samples = sampler.await.unwrap();
    let (_, rss) = load::rss_growth(&samples, 0);
    let _ = server.kill();
    let _ = server.wait();

    let p99 = run.of(200).quantile(0.99);
    let mut summary = json!({
        "test": "LOAD-2", "rate": rate, "seconds": seconds, "people": people, "seed": seed,
        "loadavg_before": load_before, "loadavg_after": load_after,
        "limit_250_status": at_cap, "limit_250_items": at_cap_items,
        "limit_251_status": over_cap, "limit_1000_status": far_over_cap,
        "latency_by_kind": by_kind,
    });
    load::extend(&mut summary, cpu);
    load::extend(&mut summary, rss);
    load::extend(&mut summary, run.summary(200));
    common::print_result("LOAD-2", &summary);
    assert_eq!(at_cap, 200);
    assert!(at_cap_items.is_some_and(|n| n <= 250), "{at_cap_items:?}");
    assert_eq!((over_cap, far_over_cap), (400, 400), "a limit over 250");
    assert_eq!(run.other_than(200), 0, "answers other than 200");
    assert!(
        p99 < Duration::from_millis(50),
        "p99 {p99:?} (goal < 50 ms)"
    );
}
