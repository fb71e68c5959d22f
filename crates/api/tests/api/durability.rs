//! DUR-10 and DUR-11 (docs/RELIABILITY.md): one Idempotency-Key sent by 50 callers at once makes
//! one request and 50 identical answers; a ticket that stays open is polled once per interval
//! until the maximum days have passed (30 minutes and 2 days: exactly 96 polls), then expires.
//! DUR-2 (two replicas): a worker whose lease another one took while it waited makes no call.
//! DUR-11 with two replicas: an open ticket is polled once per interval by them together, and a
//! replica started afresh carries on from the stored next check.
//! DUR-4: a worker whose lease was taken while its call was in flight writes nothing after it.

use crate::approval_fixtures::{pending, request};
use crate::approval_fixtures::{stored_request, world};
use crate::catalog_fixtures::{entitlement, tenant};
use crate::service_desk_tickets::{approved, desk_app, later, setup, ticket, Setup};
use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::ApiConfig;
use gatehouse_desk::{DeskConfig, Desks};
use gatehouse_domain::net_guard::NetPolicy;
use gatehouse_store::access_requests::State;
use gatehouse_store::runner::{Runner, RunnerConfig};
use gatehouse_store::tickets::{self, Phase};
use gatehouse_testdesk::{Fault, Flavor};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// Another replica's ticket worker on `app`'s store: a job runner of its own with fresh
/// service-desk state (token cache, permits), as a second process or a restarted one has.
fn replica(app: &TestApp, worker: &str, desk: DeskConfig) -> Runner {
    let (store, clock) = (app.state.store().clone(), app.state.clock().clone());
    let desks = Arc::new(Desks::new(
        store.clone(),
        clock.clone(),
        app.state.keyring(),
        app.state.config().net.clone(),
        desk,
    ));
    Runner::new(
        store,
        clock,
        gatehouse_desk::handlers(&desks),
        RunnerConfig::new(worker.into()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_submits_with_one_key_make_one_request_and_one_answer() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = json!({"requestedFor": [w.rita.id],
                      "requestedItems": [{"type": "ENTITLEMENT", "id": w.staff}]})
    .to_string();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (state, token, body) = (app.state.clone(), w.rita.token.clone(), body.clone());
        set.spawn(async move {
            let req = Request::post("/v3/access-requests")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("idempotency-key", "dur-10-one-key")
                .body(Body::from(body))
                .unwrap();
            let res = gatehouse_api::app(state).oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        });
    }
    let mut answers = Vec::new();
    while let Some(done) = set.join_next().await {
        answers.push(done.unwrap());
    }
    assert_eq!(answers.len(), 50);
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body, &answers[0].1, "every answer is the first one");
    }
    assert_eq!(
        answers[0].1["newRequests"].as_array().map(Vec::len),
        Some(1)
    );
    let rows = app
        .state
        .store()
        .read(|c| {
            c.query_one("select count(*) from access_request", &[])?
                .int(0)
        })
        .await
        .unwrap();
    assert_eq!(rows, 1, "exactly one access request");
}

/// A request whose ticket is open at a generic desk that never closes it, with status checks
/// every 30 minutes for at most 2 days.
async fn open_ticket_checked_every_30_minutes(app: &TestApp) -> (Setup, String) {
    let s = setup(app, Flavor::Generic).await;
    let r = app
        .admin(
            "PUT",
            "/v3/service-desk-integrations/status-check-configuration",
            Some(json!({"provisioningStatusCheckIntervalMinutes": "30",
                        "provisioningMaxStatusCheckDays": "2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = approved(app, &s, &s.w.staff).await;
    assert_eq!(ticket(app, &id).await.phase, Phase::Open);
    (s, id)
}

#[tokio::test]
async fn an_open_ticket_is_polled_96_times_in_two_days_then_expires() {
    let app = desk_app().await;
    let (s, id) = open_ticket_checked_every_30_minutes(&app).await;
    let polls = || s.desk.calls().iter().filter(|c| c.method == "GET").count();
    for step in 1..=95 {
        later(&app, 30 * 60_000).await;
        assert_eq!(polls(), step, "one poll per 30 minutes");
        assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
    }
    // The 96th check, due at the last instant of the two days, still runs; none comes after it.
    later(&app, 30 * 60_000).await;
    assert_eq!(polls(), 96);
    for _ in 0..4 {
        later(&app, 30 * 60_000).await;
    }
    assert_eq!(polls(), 96, "no poll after the two days");
    let r = stored_request(&app, &id).await;
    assert_eq!(r.state, State::ProvisioningFailed);
    assert!(r.error_messages.unwrap().to_string().contains("expired"));
}

/// DUR-2: replica A claims two ticket jobs; the desk never answers A's first create, so A's
/// second job waits for the integration's only permit. Meanwhile the clock moves past the lease
/// and replica B takes both jobs and opens both tickets. When A's permit comes, A must find that
/// its lease is gone and not create: a create made then is a second ticket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_was_taken_while_it_waited_for_the_desk_opens_no_second_ticket() {
    let desk = DeskConfig {
        connect_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(2),
        per_link_concurrency: 1,
        ..DeskConfig::default()
    };
    let app = TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        net: NetPolicy::private_allowed(),
        desk,
        ..ApiConfig::default()
    })
    .await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let vault = entitlement(&app, &s.source, "Vault", "cn=vault").await;
    let ids = [
        request(
            &app,
            &s.w.rita.id,
            &s.w.rita.id,
            "ENTITLEMENT",
            &s.w.staff,
            None,
        )
        .await,
        request(
            &app,
            &s.w.rita.id,
            &s.w.rita.id,
            "ENTITLEMENT",
            &vault,
            None,
        )
        .await,
    ];
    for id in &ids {
        let p = pending(&app, id).await;
        let path = format!("/v3/access-request-approvals/{}/approve", p.id);
        let r = app
            .call("POST", &path, Some(&s.w.olga.token), Some(json!({})))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    }
    // The approvals' own jobs run; the two ticket jobs they queue wait for replica A.
    let (store, clock) = (app.state.store().clone(), app.state.clock().clone());
    let engine = Runner::new(
        store.clone(),
        clock.clone(),
        gatehouse_store::access_requests::handlers::all(&store, &clock),
        RunnerConfig::new("engine".into()),
    );
    while engine.run_due().await.unwrap() > 0 {}
    s.desk.fail_next(1, Fault::Hang);
    let a = {
        let state = app.state.clone();
        tokio::spawn(async move { state.runner().run_due().await.unwrap() })
    };
    // Both of A's attempts have begun (their ticket rows exist) and one create is at the desk.
    let t = tenant(&app).await;
    for _ in 0..500 {
        let (t, ids) = (t.clone(), ids.clone());
        let begun = app
            .state
            .store()
            .read(move |c| {
                Ok(ids
                    .iter()
                    .filter_map(|id| tickets::get(c, &t, id).transpose())
                    .count())
            })
            .await
            .unwrap();
        if begun == 2 && s.desk.calls().iter().any(|c| c.method == "POST") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.state.virtual_clock().unwrap().advance(2 * 60_000);
    let replica_b = replica(&app, "worker-b", desk);
    assert_eq!(replica_b.run_due().await.unwrap(), 2, "B takes both jobs");
    assert_eq!(a.await.unwrap(), 2);
    let made = s.desk.tickets();
    assert_eq!(made.len(), 2, "one ticket per request: {made:?}");
    for id in &ids {
        let mine = made
            .iter()
            .filter(|m| m.correlation_id.as_deref() == Some(&format!("gatehouse-{id}")))
            .count();
        assert_eq!(mine, 1, "{made:?}");
        assert_eq!(ticket(&app, id).await.phase, Phase::Open);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_poll_an_open_ticket_once_per_interval_and_a_fresh_one_carries_on() {
    let app = desk_app().await;
    let (s, id) = open_ticket_checked_every_30_minutes(&app).await;
    let polls = || s.desk.calls().iter().filter(|c| c.method == "GET").count();
    let clock = app.state.virtual_clock().unwrap();
    let b = replica(&app, "worker-b", app.state.config().desk);
    for step in 1..=12 {
        clock.advance(30 * 60_000);
        // Both replicas look for due work at the same moment, each with two workers.
        let (a, b) = tokio::join!(app.state.runner().run_due(), b.run_due());
        a.unwrap();
        b.unwrap();
        assert_eq!(polls(), step, "one poll per 30 minutes by the two together");
    }
    // Both stop; a replica started afresh knows nothing but the store, and polls on schedule.
    let fresh = replica(&app, "worker-c", app.state.config().desk);
    clock.advance(10 * 60_000);
    fresh.run_due().await.unwrap();
    assert_eq!(polls(), 12, "not before the next check is due");
    for step in 13..=16 {
        clock.advance(if step == 13 { 20 * 60_000 } else { 30 * 60_000 });
        fresh.run_due().await.unwrap();
        assert_eq!(polls(), step, "the fresh replica keeps the interval");
    }
    assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
}

/// Replica A (`app`'s own runner) runs what is due, in a task of its own, until the desk has
/// been called with `method`; then the clock moves 2 minutes, past A's lease (A's call is held
/// by the desk). The task answers how many jobs A ran, once its call has ended.
async fn run_as_a_until_the_desk_is_called(
    app: &TestApp,
    desk: &gatehouse_testdesk::Desk,
    method: &str,
) -> tokio::task::JoinHandle<usize> {
    let a = {
        let state = app.state.clone();
        tokio::spawn(async move { state.runner().run_due().await.unwrap() })
    };
    for _ in 0..500 {
        if desk.calls().iter().any(|c| c.method == method) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.state.virtual_clock().unwrap().advance(2 * 60_000);
    a
}

/// DUR-4: replica A makes the last attempt a ticket job allows; the desk never answers A's
/// create, and while A waits the clock moves past A's lease and replica B takes the job and opens
/// the ticket. When A's call times out, A must write nothing: before its writes went through the
/// lease, A failed the item as out of attempts, over the ticket B had opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_was_taken_during_its_last_attempt_writes_nothing_after_it() {
    let desk = DeskConfig {
        connect_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(3),
        ..DeskConfig::default()
    };
    let app = TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        net: NetPolicy::private_allowed(),
        desk,
        ..ApiConfig::default()
    })
    .await;
    let s = setup(&app, Flavor::ServiceNow).await;
    let id = request(
        &app,
        &s.w.rita.id,
        &s.w.rita.id,
        "ENTITLEMENT",
        &s.w.staff,
        None,
    )
    .await;
    let p = pending(&app, &id).await;
    let path = format!("/v3/access-request-approvals/{}/approve", p.id);
    let r = app
        .call("POST", &path, Some(&s.w.olga.token), Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let (store, clock) = (app.state.store().clone(), app.state.clock().clone());
    let engine = Runner::new(
        store.clone(),
        clock.clone(),
        gatehouse_store::access_requests::handlers::all(&store, &clock),
        RunnerConfig::new("engine".into()),
    );
    while engine.run_due().await.unwrap() > 0 {}
    // The ticket job's next attempt is its last.
    let left = store
        .write(|c| {
            c.execute(
                "update job set attempt = max_attempts - 1 where kind = 'service_desk_ticket'",
                &[],
            )
        })
        .await
        .unwrap();
    assert_eq!(left, 1);
    s.desk.fail_next(1, Fault::Hang);
    let a = run_as_a_until_the_desk_is_called(&app, &s.desk, "POST").await;
    let replica_b = replica(&app, "worker-b", desk);
    assert_eq!(replica_b.run_due().await.unwrap(), 1, "B takes the job");
    assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
    // A's create times out now, on what was its last attempt.
    assert_eq!(a.await.unwrap(), 1);
    assert_eq!(s.desk.tickets().len(), 1);
    let t = ticket(&app, &id).await;
    assert_eq!(t.phase, Phase::Open, "{t:?}");
    assert!(t.last_error.is_none(), "{t:?}");
    let r = stored_request(&app, &id).await;
    assert_ne!(r.state, State::ProvisioningFailed, "{r:?}");
}

/// DUR-4 for status checks: replica A runs the check of an open ticket; the desk never answers
/// A's status read, and while A waits the clock moves past A's lease and replica B takes the
/// check and records it. When A's call times out, A must write nothing: not its "the desk did not
/// answer" report over B's, not the ticket, not another next check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_check_whose_lease_was_taken_during_its_desk_call_writes_nothing_after_it() {
    let app = desk_app().await;
    let (s, id) = open_ticket_checked_every_30_minutes(&app).await;
    s.desk.fail_next(1, Fault::Hang);
    app.state.virtual_clock().unwrap().advance(30 * 60_000);
    let a = run_as_a_until_the_desk_is_called(&app, &s.desk, "GET").await;
    let replica_b = replica(&app, "worker-b", app.state.config().desk);
    assert_eq!(replica_b.run_due().await.unwrap(), 1, "B takes the check");
    let snapshot = || async {
        app.state
            .store()
            .read(|c| {
                let jobs = c.query("select * from job order by id", &[])?;
                let tickets = c.query("select * from service_desk_ticket", &[])?;
                Ok(format!(
                    "{:?}\n{:?}",
                    jobs.iter().map(|r| &r.0).collect::<Vec<_>>(),
                    tickets.iter().map(|r| &r.0).collect::<Vec<_>>()
                ))
            })
            .await
            .unwrap()
    };
    let after_b = snapshot().await;
    assert!(
        after_b.contains("checked again in 30 minutes"),
        "B's report: {after_b}"
    );
    // A's status read times out now.
    assert_eq!(a.await.unwrap(), 1);
    assert_eq!(snapshot().await, after_b, "A wrote after losing its lease");
    assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
}
