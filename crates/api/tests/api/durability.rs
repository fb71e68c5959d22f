//! DUR-10 and DUR-11 (docs/RELIABILITY.md): one Idempotency-Key sent by 50 callers at once makes
//! one request and 50 identical answers; a ticket that stays open is polled once per interval
//! until the maximum days have passed (30 minutes and 2 days: exactly 96 polls), then expires.

use crate::approval_fixtures::{stored_request, world};
use crate::service_desk_tickets::{approved, desk_app, later, setup, ticket};
use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_store::access_requests::State;
use gatehouse_store::tickets::Phase;
use gatehouse_testdesk::Flavor;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

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

#[tokio::test]
async fn an_open_ticket_is_polled_96_times_in_two_days_then_expires() {
    let app = desk_app().await;
    let s = setup(&app, Flavor::Generic).await;
    let r = app
        .admin(
            "PUT",
            "/v3/service-desk-integrations/status-check-configuration",
            Some(json!({"provisioningStatusCheckIntervalMinutes": "30",
                        "provisioningMaxStatusCheckDays": "2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = approved(&app, &s, &s.w.staff).await;
    assert_eq!(ticket(&app, &id).await.phase, Phase::Open);
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
