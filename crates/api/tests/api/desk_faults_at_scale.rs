//! OUT-1 and DUR-5 (docs/RELIABILITY.md) at the catalogue's size: 1,000 ticket jobs at a
//! ServiceNow test desk. OUT-1: 30 % of creates answer 500 (the desk's seeded generator), and
//! every item still ends with exactly one ticket, in fewer than 1.6 attempts on average, none
//! beyond the job's maximum. DUR-5: one item the desk refuses for good (400) and one it never
//! serves (503) sit at the head of the queue before the 1,000 others; the refused one fails at
//! once, the other after exactly its maximum attempts, both with their error shown to admins, and
//! the 1,000 others open their tickets in the first pass, without waiting for them. Attempts are
//! read from the job rows, and matched against the calls the desk recorded. OUT-2: one desk
//! answers every call `429` with `Retry-After: 5`; no call reaches it within 5 s of a 429 (by the
//! virtual clock, which the desks read too), and another desk's items open their tickets in the
//! first pass all the same.

use crate::approval_fixtures::stored_request;
use crate::catalog_fixtures::{q, tenant, T};
use crate::catalog_sources::source;
use crate::service_desk_tickets::{attributes, desk_app, later, setup, Setup};
use crate::support::*;
use axum::http::StatusCode;
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::auth::secrets::new_id;
use gatehouse_api::ApiConfig;
use gatehouse_desk::DeskConfig;
use gatehouse_domain::net_guard::NetPolicy;
use gatehouse_domain::Clock;
use gatehouse_store::access_requests::submit::{self, NewItem, NewRequest};
use gatehouse_store::access_requests::{kinds, State};
use gatehouse_store::entitlements::{self, Entitlement};
use gatehouse_store::tickets::{self, Phase};
use gatehouse_testdesk::{Desk, Fault, Flavor};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MINUTE: i64 = 60_000;

/// `n` entitlements of the desk-managed source named `name 0`, `name 1`, … that need no approval
/// (a request goes straight to its ticket), inserted in one write.
async fn direct_items(app: &TestApp, s: &Setup, name: &str, n: usize) -> Vec<String> {
    direct_items_of(app, &s.source, name, n).await
}

/// [`direct_items`] of source `source`.
async fn direct_items_of(app: &TestApp, source: &str, name: &str, n: usize) -> Vec<String> {
    let (t, source) = (tenant(app).await, source.to_owned());
    let items: Vec<Entitlement> = (0..n)
        .map(|i| Entitlement {
            id: new_id(),
            tenant_id: t.clone(),
            source_id: source.clone(),
            name: format!("{name} {i}"),
            attribute: "memberOf".into(),
            value: format!("cn={name}{i}"),
            kind: Some("group".into()),
            description: None,
            owner_id: None,
            requestable: true,
            privileged: false,
            document: json!({"accessRequestConfig": {"approvalSchemes": []}}),
            created: T,
            modified: T,
        })
        .collect();
    let ids = items.iter().map(|e| e.id.clone()).collect();
    app.state
        .store()
        .write(move |c| {
            for e in &items {
                entitlements::insert(c, e)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    ids
}

/// Rita asks for each of `items` (25 to a submission); nothing runs yet. Returns the access
/// request ids, in the order of `items`.
async fn submit_all(app: &TestApp, s: &Setup, items: &[String]) -> Vec<String> {
    let t = tenant(app).await;
    let mut ids = Vec::new();
    for chunk in items.chunks(25) {
        let req = NewRequest {
            request_type: "GRANT_ACCESS".into(),
            requester_id: s.w.rita.id.clone(),
            requester_is_admin: false,
            requested_for: vec![(
                s.w.rita.id.clone(),
                chunk
                    .iter()
                    .map(|id| NewItem {
                        item_type: "ENTITLEMENT".into(),
                        item_id: id.clone(),
                        comment: None,
                        client_metadata: None,
                        start_date: None,
                        remove_date: None,
                        assignment_id: None,
                        native_identity: None,
                        account_selection: None,
                    })
                    .collect(),
            )],
            request_metadata: None,
        };
        let (t, now) = (t.clone(), app.state.clock().now());
        let done = app
            .state
            .store()
            .write(move |c| submit::submit(c, &t, &req, now))
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("submission refused: {e:?}"));
        ids.extend(done.new.into_iter().flat_map(|n| n.ids));
    }
    assert_eq!(ids.len(), items.len());
    ids
}

/// The ticket job of each request: (attempt, max_attempts, state, errors recorded).
#[derive(Debug)]
struct JobRow {
    attempt: i64,
    max_attempts: i64,
    state: String,
    errors: usize,
}

async fn ticket_jobs(app: &TestApp) -> BTreeMap<String, JobRow> {
    app.state
        .store()
        .read(|c| {
            let rows = c.query(
                "select args, attempt, max_attempts, state, errors from job where kind = $1",
                &[kinds::TICKET.into()],
            )?;
            let mut out = BTreeMap::new();
            for r in rows {
                let args: serde_json::Value = r.json(0)?;
                let errors: Vec<String> = r.json(4)?;
                out.insert(
                    args["id"].as_str().unwrap_or_default().to_owned(),
                    JobRow {
                        attempt: r.int(1)?,
                        max_attempts: r.int(2)?,
                        state: r.text(3)?,
                        errors: errors.len(),
                    },
                );
            }
            Ok(out)
        })
        .await
        .unwrap()
}

/// Creates the desk received (ServiceNow `POST`s), by correlation id.
fn creates_by_correlation(s: &Setup) -> BTreeMap<String, usize> {
    creates_at(&s.desk)
}

/// Creates `desk` received (ServiceNow `POST`s), by correlation id.
fn creates_at(desk: &Desk) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in desk.calls() {
        if c.method == "POST" && c.path.starts_with("/api/now/table/") {
            let v: serde_json::Value = serde_json::from_str(&c.body).unwrap_or_default();
            let corr = v["correlation_id"].as_str().unwrap_or_default().to_owned();
            *out.entry(corr).or_default() += 1;
        }
    }
    out
}

/// Moves the clock 10 minutes at a time (past every backoff) until no ticket job is left to
/// run, at most `rounds` times.
async fn until_no_ticket_job_left(app: &TestApp, rounds: usize) {
    for _ in 0..rounds {
        let left = ticket_jobs(app)
            .await
            .values()
            .filter(|j| j.state == "available" || j.state == "running")
            .count();
        if left == 0 {
            return;
        }
        later(app, 10 * MINUTE).await;
    }
    panic!("ticket jobs still queued after {rounds} rounds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_items_at_a_desk_failing_thirty_percent_of_creates_get_one_ticket_each() {
    const N: usize = 1_000;
    let started = Instant::now();
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    s.desk.fail_creates_randomly(0.3, Fault::Status(500));
    let items = direct_items(&app, &s, "Share", N).await;
    let ids = submit_all(&app, &s, &items).await;
    app.drain().await;
    until_no_ticket_job_left(&app, 30).await;

    // One ticket per item at the desk, and each stored on its item.
    let made = s.desk.tickets();
    let mut per_correlation: BTreeMap<String, usize> = BTreeMap::new();
    for t in &made {
        *per_correlation
            .entry(t.correlation_id.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let duplicates: usize = per_correlation.values().map(|n| n - 1).sum();
    assert_eq!(duplicates, 0, "duplicate tickets");
    assert_eq!(made.len(), N, "one ticket per item");
    let stored = stored_tickets(&app, &ids).await;
    for (id, ticket) in ids.iter().zip(&stored) {
        let ticket = ticket.as_ref().expect("a ticket row");
        assert_eq!(ticket.phase, Phase::Open, "{id}: {ticket:?}");
        assert_eq!(per_correlation.get(&ticket.correlation_id), Some(&1));
    }

    // Attempts, from the job rows: each job completed, within its maximum, with one error kept
    // per failed attempt; their sum is the number of creates the desk received (a 500 creates
    // nothing, so each attempt made exactly one create).
    let jobs = ticket_jobs(&app).await;
    assert_eq!(jobs.len(), N);
    let mut total = 0;
    for id in &ids {
        let j = &jobs[id];
        assert_eq!(j.state, "completed", "{id}: {j:?}");
        assert!(j.attempt >= 1 && j.attempt <= j.max_attempts, "{id}: {j:?}");
        assert_eq!(j.errors as i64, j.attempt - 1, "{id}: {j:?}");
        total += j.attempt;
    }
    let creates = creates_by_correlation(&s);
    let sent: usize = creates.values().sum();
    assert_eq!(sent as i64, total, "one create per attempt");
    let mean = total as f64 / N as f64;
    let refused = (sent - N) as f64 / sent as f64;
    let max = jobs.values().map(|j| j.attempt).max().unwrap_or(0);
    eprintln!(
        "OUT-1: {N} items, {sent} creates, {:.1} % answered 500, mean attempts {mean:.3}, max {max}, {} s",
        100.0 * refused,
        started.elapsed().as_secs_f64()
    );
    // The faults really were there: about 30 % of the creates were refused.
    assert!((0.25..=0.35).contains(&refused), "{refused}");
    assert!(mean < 1.6, "mean attempts {mean}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_items_fail_within_their_attempts_and_hold_back_none_of_a_thousand_others() {
    const N: usize = 1_000;
    let started = Instant::now();
    let app = desk_app().await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let poison_items = direct_items(&app, &s, "Poison", 2).await;
    let poison = submit_all(&app, &s, &poison_items).await;
    let (refused, unserved) = (poison[0].clone(), poison[1].clone());
    // The desk refuses one item's ticket for good, and never serves the other's.
    s.desk
        .fail_matching(&format!("gatehouse-{refused}"), Fault::Status(400));
    s.desk
        .fail_matching(&format!("gatehouse-{unserved}"), Fault::Status(503));
    let items = direct_items(&app, &s, "Share", N).await;
    let ids = submit_all(&app, &s, &items).await;

    // The first pass, without moving the clock: every other item opens its ticket, while the
    // unserved one is still waiting for its backoff (its first delays, up to 1 s and 2 s, may
    // pass as the clock runs, but not its last ones).
    app.drain().await;
    let first = ticket_jobs(&app).await;
    let done_first = ids
        .iter()
        .filter(|id| first[*id].state == "completed")
        .count();
    assert_eq!(done_first, N, "no item waits behind the poison");
    let j = &first[&unserved];
    assert_eq!(j.state, "available", "{j:?}");
    assert!(j.attempt < j.max_attempts, "{j:?}");

    until_no_ticket_job_left(&app, 60).await;
    let jobs = ticket_jobs(&app).await;
    let creates = creates_by_correlation(&s);
    for id in &ids {
        assert_eq!(jobs[id].attempt, 1, "{id}: {:?}", jobs[id]);
        assert_eq!(creates.get(&format!("gatehouse-{id}")), Some(&1));
    }
    assert_eq!(s.desk.tickets().len(), N);

    // The refusal is final at once: one attempt, one create.
    let j = &jobs[&refused];
    assert_eq!((j.attempt, j.state.as_str()), (1, "completed"), "{j:?}");
    assert_eq!(creates.get(&format!("gatehouse-{refused}")), Some(&1));
    // The unserved one: exactly its maximum attempts (one create, then a lookup each), never more.
    let j = &jobs[&unserved];
    assert_eq!(j.attempt, j.max_attempts, "{j:?}");
    assert_eq!(j.errors as i64, j.max_attempts - 1, "{j:?}");
    let lookups = s
        .desk
        .calls()
        .iter()
        .filter(|c| {
            c.method == "GET"
                && c.query
                    .as_deref()
                    .is_some_and(|q| q.contains(&format!("gatehouse-{unserved}")))
        })
        .count();
    assert_eq!(
        (
            creates.get(&format!("gatehouse-{unserved}")),
            lookups as i64
        ),
        (Some(&1), j.max_attempts - 1)
    );
    // A few more hours change nothing: no attempt beyond the maximum.
    later(&app, 6 * 60 * MINUTE).await;
    assert_eq!(ticket_jobs(&app).await[&unserved].attempt, j.max_attempts);

    // Both items failed with their error, stored and shown to admins.
    let filter = q(&format!(
        "accessRequestId in (\"{refused}\", \"{unserved}\")"
    ));
    let status = app
        .admin(
            "GET",
            &format!("/v3/access-request-status?filters={filter}"),
            None,
        )
        .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    assert_eq!(
        status.body.as_array().map(Vec::len),
        Some(2),
        "{}",
        status.text
    );
    for (id, says) in [(&refused, "refused"), (&unserved, "10 attempts")] {
        let r = stored_request(&app, id).await;
        assert_eq!(r.state, State::ProvisioningFailed, "{id}");
        let text = r.error_messages.unwrap().to_string();
        assert!(text.contains(says), "{text}");
        let entry = status
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is listed"))
            .clone();
        assert_eq!(entry["state"], "PROVISIONING_FAILED");
        let shown = entry["errorMessages"].to_string();
        assert!(shown.contains(says), "{shown}");
    }
    assert!(status.body.to_string().contains("400"));
    assert!(status.body.to_string().contains("503"));
    eprintln!(
        "DUR-5 (CI): {N} others and 2 poison items in {} s",
        started.elapsed().as_secs_f64()
    );
}

/// A second ServiceNow desk and the integration that manages a new source `name` with it (the
/// first is [`setup`]'s). Returns the desk and the source's id.
async fn second_desk(app: &TestApp, s: &Setup, name: &str) -> (Desk, String) {
    let source = source(app, name, &s.w.olga.id, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let desk = Desk::start(Flavor::ServiceNow).await;
    let r = app
        .admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(json!({
                "name": format!("{name} desk"),
                "description": format!("Tickets for {name}"),
                "type": "ServiceNowSDIM",
                "ownerRef": {"type": "IDENTITY", "id": s.w.olga.id},
                "clusterRef": {"type": "CLUSTER", "id": "c00000000000000000000000000000d1"},
                "provisioningConfig": {"managedResourceRefs": [{"type": "SOURCE", "id": source}]},
                "attributes": attributes(&desk),
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (desk, source)
}

/// Calls `desk` received less than `window_ms` after a call it answered 429 (by the desk's
/// clock): (the 429 call's index and time, the later call's index and time).
fn calls_within(desk: &Desk, window_ms: i64) -> Vec<((usize, i64), (usize, i64))> {
    let calls = desk.calls();
    let mut out = Vec::new();
    for (i, c) in calls.iter().enumerate().filter(|(_, c)| c.too_many) {
        for (j, d) in calls.iter().enumerate().skip(i + 1) {
            if d.at_ms - c.at_ms < window_ms {
                out.push(((i, c.at_ms), (j, d.at_ms)));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_answering_429_is_left_alone_for_its_retry_after_and_holds_back_no_other_desk() {
    const N: usize = 200;
    const RETRY_AFTER_MS: i64 = 5_000;
    // One call in flight per integration: every call to the throttled desk after its first is
    // then sent after Gatehouse read the answer before it, so a call within 5 s of a 429 is one
    // Gatehouse chose to make (with more in flight, calls already on their way when the 429 came
    // back would count too, though nothing could have held them back).
    let app = TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        net: NetPolicy::private_allowed(),
        desk: DeskConfig {
            connect_timeout: Duration::from_secs(1),
            total_timeout: Duration::from_millis(1500),
            per_link_concurrency: 1,
            ..DeskConfig::default()
        },
        ..ApiConfig::default()
    })
    .await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let (desk_b, source_b) = second_desk(&app, &s, "Finance").await;
    let desk_a = s.desk.clone();
    for desk in [&desk_a, &desk_b] {
        let clock = app.state.virtual_clock().unwrap().clone();
        desk.set_clock(move || clock.now().0);
    }
    // Desk A answers every ticket-API call 429 with Retry-After: 5, until told otherwise.
    desk_a.fail_randomly(
        1.0,
        Fault::TooMany {
            retry_after_secs: 5,
        },
    );
    // A's items are queued first, at the head of the line; then B's.
    let items_a = direct_items(&app, &s, "Share", N).await;
    let ids_a = submit_all(&app, &s, &items_a).await;
    let items_b = direct_items_of(&app, &source_b, "Ledger", N).await;
    let ids_b = submit_all(&app, &s, &items_b).await;

    // The first pass, without moving the clock: every B item opens its ticket, at one attempt
    // and one create each, while A's wait for its Retry-After.
    app.drain().await;
    let first = ticket_jobs(&app).await;
    let done_b = ids_b
        .iter()
        .filter(|id| first[*id].state == "completed" && first[*id].attempt == 1)
        .count();
    assert_eq!(done_b, N, "B's items wait behind A's 429s");
    assert_eq!(desk_b.ticket_count(), N);
    let creates_b = creates_at(&desk_b);
    for id in &ids_b {
        assert_eq!(creates_b.get(&format!("gatehouse-{id}")), Some(&1), "{id}");
    }
    assert_eq!(desk_b.calls().iter().filter(|c| c.too_many).count(), 0);
    assert_eq!(desk_a.ticket_count(), 0);
    let waiting_a = ids_a
        .iter()
        .filter(|id| first[*id].state == "available")
        .count();
    assert_eq!(waiting_a, N, "A's items wait");

    // 30 s more of throttling, the clock moved 1 s at a time: A is called again only once each
    // Retry-After has passed.
    for _ in 0..30 {
        later(&app, 1_000).await;
    }
    let throttled = desk_a.calls().iter().filter(|c| c.too_many).count();
    // Desk A recovers; its items open their tickets.
    desk_a.clear_faults();
    for _ in 0..30 {
        later(&app, 1_000).await;
    }
    until_no_ticket_job_left(&app, 30).await;

    let early = calls_within(&desk_a, RETRY_AFTER_MS);
    assert!(
        early.is_empty(),
        "calls to A within {RETRY_AFTER_MS} ms of a 429 it sent (429 at, call at): {early:?}"
    );
    // It was throttled again and again (about once per Retry-After), not just once.
    assert!(throttled >= 5, "{throttled} calls answered 429");
    // One ticket per item at each desk, every job done within its attempts.
    let jobs = ticket_jobs(&app).await;
    for (desk, ids) in [(&desk_a, &ids_a), (&desk_b, &ids_b)] {
        let mut per_correlation: BTreeMap<String, usize> = BTreeMap::new();
        for t in desk.tickets() {
            *per_correlation
                .entry(t.correlation_id.clone().unwrap_or_default())
                .or_default() += 1;
        }
        assert_eq!(per_correlation.len(), N);
        for id in ids {
            assert_eq!(
                per_correlation.get(&format!("gatehouse-{id}")),
                Some(&1),
                "{id}"
            );
            let j = &jobs[id];
            assert_eq!(j.state, "completed", "{id}: {j:?}");
            assert!(j.attempt <= j.max_attempts, "{id}: {j:?}");
        }
    }
    let stored = stored_tickets(&app, &ids_a).await;
    for (id, ticket) in ids_a.iter().zip(&stored) {
        assert_eq!(ticket.as_ref().map(|t| t.phase), Some(Phase::Open), "{id}");
    }
    eprintln!(
        "OUT-2 (CI): {throttled} calls to A answered 429, {} calls to A in all, 0 within {RETRY_AFTER_MS} ms of a 429; {N} B tickets in the first pass",
        desk_a.calls().len()
    );
}

/// The ticket rows of requests `ids`, in order (`None` where a request has none).
async fn stored_tickets(app: &TestApp, ids: &[String]) -> Vec<Option<tickets::Ticket>> {
    let (t, ids) = (tenant(app).await, ids.to_vec());
    app.state
        .store()
        .read(move |c| {
            ids.iter()
                .map(|id| tickets::get(c, &t, id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap()
}
