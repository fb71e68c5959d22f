//! `listAccessRequestStatus`, `cancelAccessRequest`, `cancelAccessRequestInBulk` and
//! `closeAccessRequest`.

use crate::access_requests::{approvals, member, new_ids, request, submit, world};
use crate::catalog_fixtures::q;
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_store::access_requests::engine::{self, Actor, Decision};
use gatehouse_store::access_requests::{Stage, State};
use serde_json::{json, Value};

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn grant(app: &TestApp, token: &str, for_id: &str, kind: &str, item: &str) -> String {
    let r = submit(
        app,
        token,
        json!({"requestedFor": [for_id], "requestedItems": [{"type": kind, "id": item, "comment": "needed"}],
               "clientMetadata": {"app": "portal"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    new_ids(&r.body).remove(0)
}

async fn approve(app: &TestApp, approval: &str, who: &str) {
    let (t, a, now, w) = (
        app.tenant_id().await,
        approval.to_owned(),
        app.state.clock().now(),
        who.to_owned(),
    );
    app.state
        .store()
        .write(move |c| {
            let actor = Actor {
                identity_id: w,
                is_admin: false,
            };
            engine::decide(c, &t, &a, &actor, Decision::Approve, Some("ok"), now)
        })
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn status_shows_each_request_to_those_involved_in_every_family() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let pending = grant(&app, &w.alice.1, &w.alice.0, "ACCESS_PROFILE", &w.ap).await;
    let done = grant(&app, &w.dave.1, &w.dave.0, "ROLE", &w.open_role).await;
    app.drain().await;
    let outsider = member(&app, "olga", None).await;

    for (family, path) in [
        ("v3", "/v3/access-request-status"),
        ("v2024", "/v2024/access-request-status"),
        ("beta", "/beta/access-request-status"),
        ("v1", "/access-request-status/v1"),
    ] {
        let shape_path = if family == "v1" {
            "/access-request-status/v1"
        } else {
            "/access-request-status"
        };
        let r = app.admin("GET", &format!("{path}?count=true"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "GET", shape_path, 200, &r.body);
        assert_eq!(
            ids(&r.body),
            vec![done.clone(), pending.clone()],
            "newest first"
        );
        assert_eq!(r.headers["x-total-count"], "2");
        // alice sees hers; bob (her manager, the approver) sees it; olga sees nothing.
        let r = app.call("GET", path, Some(&w.alice.1), None).await;
        assert_eq!(ids(&r.body), vec![pending.clone()], "{family}");
        assert_shape(family, "GET", shape_path, 200, &r.body);
        let r = app.call("GET", path, Some(&w.bob.1), None).await;
        assert_eq!(ids(&r.body), vec![pending.clone()], "{family}");
        let r = app.call("GET", path, Some(&outsider.1), None).await;
        assert_eq!(r.body, json!([]), "{family}");
    }

    let r = app
        .call(
            "GET",
            "/v3/access-request-status?requested-for=me",
            Some(&w.alice.1),
            None,
        )
        .await;
    let entry = &r.body[0];
    assert_eq!(entry["state"], "EXECUTING");
    assert_eq!(entry["cancelable"], true);
    assert_eq!(entry["name"], "HR Staff");
    assert_eq!(entry["type"], "ACCESS_PROFILE");
    assert_eq!(entry["accessRequestId"], pending.as_str());
    assert_eq!(entry["accountActivityItemId"], pending.as_str());
    assert_eq!(entry["requester"]["id"], w.alice.0.as_str());
    assert_eq!(entry["requestedFor"]["name"], "alice");
    assert_eq!(entry["requesterComment"]["comment"], "needed");
    assert_eq!(entry["clientMetadata"], json!({"app": "portal"}));
    assert_eq!(entry["approvalDetails"][0]["status"], "PENDING");
    assert_eq!(entry["approvalDetails"][0]["scheme"], "MANAGER");
    assert_eq!(
        entry["approvalDetails"][0]["currentOwner"]["id"],
        w.bob.0.as_str()
    );
    assert_eq!(entry["accessRequestPhases"][0]["name"], "APPROVAL_PHASE");
    assert_eq!(entry["accessRequestPhases"][0]["state"], "EXECUTING");

    let r = app
        .admin("GET", "/v3/access-request-status?requested-for=me", None)
        .await;
    assert_eq!(r.body, json!([]));
    let done_entry = app
        .admin(
            "GET",
            &format!(
                "/v3/access-request-status?filters={}",
                q(&format!("accessRequestId eq \"{done}\""))
            ),
            None,
        )
        .await;
    assert_eq!(done_entry.body[0]["state"], "REQUEST_COMPLETED");
    assert_eq!(done_entry.body[0]["cancelable"], false);
    assert_eq!(
        done_entry.body[0]["accessRequestPhases"][1]["result"],
        "SUCCESSFUL"
    );
}

#[tokio::test]
async fn query_parameters_filters_sorters_and_paging() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let a = grant(&app, &w.alice.1, &w.alice.0, "ACCESS_PROFILE", &w.ap).await;
    let d = grant(&app, &w.dave.1, &w.dave.0, "ACCESS_PROFILE", &w.ap).await;
    let b = grant(&app, &w.bob.1, &w.bob.0, "ROLE", &w.open_role).await;
    app.drain().await;
    let list = |query: String| {
        let app = &app;
        async move {
            let r = app
                .admin("GET", &format!("/v3/access-request-status?{query}"), None)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
            ids(&r.body)
        }
    };
    assert_eq!(
        list(format!("requested-for={}", w.alice.0)).await,
        vec![a.clone()]
    );
    assert_eq!(
        list(format!("requested-by={}", w.dave.0)).await,
        vec![d.clone()]
    );
    assert_eq!(
        list(format!("regarding-identity={}", w.bob.0)).await,
        vec![b.clone()]
    );
    assert_eq!(
        list(format!("assigned-to={}", w.bob.0)).await,
        vec![d.clone(), a.clone()]
    );
    assert_eq!(
        list("request-state=EXECUTING".into()).await,
        vec![d.clone(), a.clone()]
    );
    assert_eq!(list("sorters=name,created".into()).await[0], a);
    assert_eq!(
        list(format!(
            "filters={}",
            q(&format!("accessRequestId in (\"{a}\", \"{b}\")"))
        ))
        .await
        .len(),
        2
    );
    assert_eq!(
        list(format!(
            "filters={}",
            q(&format!("accountActivityItemId eq \"{d}\""))
        ))
        .await,
        vec![d.clone()]
    );
    assert_eq!(
        list(format!("filters={}", q("created gt 2000-01-01T00:00:00Z")))
            .await
            .len(),
        3
    );
    assert_eq!(list("limit=1&offset=1".into()).await, vec![d.clone()]);
    // Pages past the first (read keys first on PostgreSQL) are slices of the whole list, with
    // filters, sorters and the query parameters that narrow it.
    for query in [
        String::new(),
        "sorters=name,created".into(),
        "sorters=-name,-created".into(),
        format!("filters={}", q("created gt 2000-01-01T00:00:00Z")),
        format!("assigned-to={}", w.bob.0),
        "request-state=EXECUTING".into(),
    ] {
        let whole = list(query.clone()).await;
        for (offset, limit) in [(1, 1), (1, 2), (2, 5), (0, 2), (3, 1), (7, 3)] {
            let end = (offset + limit).min(whole.len());
            let want = whole.get(offset.min(end)..end).unwrap_or_default().to_vec();
            assert_eq!(
                list(format!("{query}&offset={offset}&limit={limit}")).await,
                want,
                "{query} offset {offset} limit {limit}"
            );
        }
    }
    for bad in [
        format!("regarding-identity=me&requested-for={}", w.alice.0),
        "regarding-identity=me&requested-by=me".into(),
        "request-state=REJECTED".into(),
        "limit=251".into(),
        format!("filters={}", q("name eq \"x\"")),
        "sorters=state".into(),
    ] {
        let r = app
            .admin("GET", &format!("/v3/access-request-status?{bad}"), None)
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    // `in` on accessRequestId is a v3/beta filter, not v2024's.
    let r = app
        .admin(
            "GET",
            &format!(
                "/v2024/access-request-status?filters={}",
                q(&format!("accessRequestId in (\"{a}\")"))
            ),
            None,
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cancel_only_by_the_requester_or_an_admin_and_only_before_approval() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let id = grant(&app, &w.alice.1, &w.alice.0, "ACCESS_PROFILE", &w.ap).await;
    app.drain().await;
    let body = |comment: &str| json!({"accountActivityId": id, "comment": comment});
    // bob (the approver) may not cancel it, and olga may not know of it.
    let r = app
        .call(
            "POST",
            "/v3/access-requests/cancel",
            Some(&w.bob.1),
            Some(body("mine")),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    for bad in [
        json!({"accountActivityId": id}),
        json!({"comment": "x"}),
        json!({"accountActivityId": id, "comment": " "}),
    ] {
        let r = app
            .call(
                "POST",
                "/v3/access-requests/cancel",
                Some(&w.alice.1),
                Some(bad),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    assert_eq!(request(&app, &id).await.state, State::Executing);
    let r = app
        .call(
            "POST",
            "/v3/access-requests/cancel",
            Some(&w.alice.1),
            Some(body("changed my mind")),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body, json!({}));
    let q = request(&app, &id).await;
    assert_eq!((q.state, q.stage), (State::Cancelled, Stage::Done));
    assert_eq!(approvals(&app, &id).await[0].status.as_str(), "CANCELLED");
    let r = app
        .call("GET", "/v3/access-request-status", Some(&w.alice.1), None)
        .await;
    assert_eq!(
        r.body[0]["cancelledRequestDetails"]["comment"],
        "changed my mind"
    );
    assert_eq!(
        r.body[0]["cancelledRequestDetails"]["owner"]["id"],
        w.alice.0.as_str()
    );
    assert_shape("v3", "GET", "/access-request-status", 200, &r.body);

    // After the approval step it can no longer be cancelled.
    let id = grant(&app, &w.dave.1, &w.dave.0, "ROLE", &w.open_role).await;
    app.drain().await;
    let r = app
        .admin(
            "POST",
            "/v2024/access-requests/cancel",
            Some(json!({"accountActivityId": id, "comment": "x"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("approval step"));
    assert_eq!(request(&app, &id).await.state, State::RequestCompleted);
}

#[tokio::test]
async fn bulk_cancel_and_close_are_all_or_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let a = grant(&app, &w.alice.1, &w.alice.0, "ACCESS_PROFILE", &w.ap).await;
    let d = grant(&app, &w.dave.1, &w.dave.0, "ACCESS_PROFILE", &w.ap).await;
    let done = grant(&app, &w.bob.1, &w.bob.0, "ROLE", &w.open_role).await;
    app.drain().await;
    // One of them is past approval: nothing is cancelled.
    let r = app
        .admin(
            "POST",
            "/v2024/access-requests/bulk-cancel",
            Some(json!({"accessRequestIds": [a, done], "comment": "cleanup"})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    assert_eq!(request(&app, &a).await.state, State::Executing);
    let too_many: Vec<String> = (0..51).map(|i| format!("r{i}")).collect();
    for bad in [
        json!({"accessRequestIds": [a], "comment": ""}),
        json!({"accessRequestIds": [], "comment": "x"}),
        json!({"accessRequestIds": too_many, "comment": "x"}),
    ] {
        let r = app
            .admin("POST", "/v2024/access-requests/bulk-cancel", Some(bad))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let r = app
        .call(
            "POST",
            "/access-requests/v1/bulk-cancel",
            Some(&w.alice.1),
            Some(json!({"accessRequestIds": [a], "comment": "x"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    let r = app
        .admin(
            "POST",
            "/v2024/access-requests/bulk-cancel",
            Some(json!({"accessRequestIds": [a], "comment": "cleanup"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(request(&app, &a).await.state, State::Cancelled);

    // Close: unknown ids refuse the whole call; otherwise any stage is closed.
    let r = app
        .admin(
            "POST",
            "/v2024/access-requests/close",
            Some(json!({"accessRequestIds": [d, "nope"]})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("nope"));
    assert_eq!(request(&app, &d).await.state, State::Executing);
    for bad in [
        json!({"accessRequestIds": [d], "executionStatus": "Done"}),
        json!({"accessRequestIds": [d], "completionStatus": "Great"}),
    ] {
        let r = app
            .admin("POST", "/beta/access-requests/close", Some(bad))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let r = app
        .call(
            "POST",
            "/v2024/access-requests/close",
            Some(&w.alice.1),
            Some(json!({"accessRequestIds": [d]})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    let r = app
        .admin(
            "POST",
            "/access-requests/v1/close",
            Some(json!({"accessRequestIds": [d]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let q = request(&app, &d).await;
    assert_eq!((q.state, q.stage), (State::Terminated, Stage::Done));
    let r = app
        .admin(
            "GET",
            &format!("/v2024/access-request-status?filters={}", q_filter(&d)),
            None,
        )
        .await;
    assert_eq!(r.body[0]["state"], "TERMINATED");
    assert_eq!(
        r.body[0]["errorMessages"][0][0]["text"],
        "The IdentityNow Administrator manually closed this request."
    );
    assert_shape("v2024", "GET", "/access-request-status", 200, &r.body);
    // The approver's work item went with it.
    let step = approvals(&app, &d).await.remove(0);
    assert_eq!(step.status.as_str(), "CANCELLED");
    let _ = approve;
}

fn q_filter(id: &str) -> String {
    q(&format!("accessRequestId eq \"{id}\""))
}
