//! `createAccessRequest` and the engine behind it: rules, duplicates, idempotency, approval
//! chains, provisioning, start and removal dates, reminders and escalation.

use crate::catalog_sources::source;
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_domain::access_config::{AccessRequestConfig, FallbackApprover};
use gatehouse_domain::Timestamp;
use gatehouse_store::access_requests::engine::{self, Actor, Decision};
use gatehouse_store::access_requests::{rows, Approval, ApprovalStatus, Stage, State};
use gatehouse_store::assignments::{self, ItemType};
use gatehouse_store::{access_config, jobs};
use serde_json::{json, Value};

/// People and items of one test tenant.
pub struct World {
    pub alice: (String, String),
    pub bob: (String, String),
    pub carol: (String, String),
    pub dave: (String, String),
    pub hr: String,
    pub ap: String,
    pub open_role: String,
    pub entitlement: String,
}

/// A person with a token, optionally with a manager.
pub async fn member(app: &TestApp, name: &str, manager: Option<&str>) -> (String, String) {
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/identities",
            Some(json!({"name": name, "authorities": ["USER"], "managerId": manager})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let pat = app
        .admin(
            "POST",
            &format!("/gatehouse/v1/identities/{id}/personal-access-tokens"),
            Some(json!({"name": format!("{name}-pat")})),
        )
        .await;
    let token = app
        .token(
            pat.body["id"].as_str().unwrap(),
            pat.body["secret"].as_str().unwrap(),
        )
        .await;
    (id, token)
}

/// bob manages alice and dave; carol owns the HR source; an access profile approved by the
/// manager then its owner (carol); a role that needs no approval; an HR entitlement (approved by
/// the source owner, the tenant default).
pub async fn world(app: &TestApp) -> World {
    let bob = member(app, "bob", None).await;
    let alice = member(app, "alice", Some(&bob.0)).await;
    let dave = member(app, "dave", Some(&bob.0)).await;
    let carol = member(app, "carol", None).await;
    let hr = source(app, "HR", &carol.0, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let entitlement = crate::catalog_fixtures::entitlement(app, &hr, "Staff", "cn=staff").await;
    let r = app
        .admin(
            "POST",
            "/v3/access-profiles",
            Some(json!({
                "name": "HR Staff",
                "owner": {"type": "IDENTITY", "id": carol.0},
                "source": {"type": "SOURCE", "id": hr},
                "entitlements": [{"type": "ENTITLEMENT", "id": entitlement}],
                "requestable": true,
                "enabled": true,
                "accessRequestConfig": {"approvalSchemes": [
                    {"approverType": "MANAGER", "approverId": null},
                    {"approverType": "OWNER", "approverId": null}
                ]},
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ap = r.body["id"].as_str().unwrap().to_owned();
    let r = app
        .admin(
            "POST",
            "/v3/roles",
            Some(json!({
                "name": "Open Role",
                "owner": {"type": "IDENTITY", "id": carol.0},
                "requestable": true,
                "enabled": true,
                "accessProfiles": [{"type": "ACCESS_PROFILE", "id": ap}],
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let open_role = r.body["id"].as_str().unwrap().to_owned();
    World {
        alice,
        bob,
        carol,
        dave,
        hr,
        ap,
        open_role,
        entitlement,
    }
}

pub async fn submit(app: &TestApp, token: &str, body: Value) -> crate::support::Reply {
    app.call("POST", "/v3/access-requests", Some(token), Some(body))
        .await
}

/// A GRANT of one item with a comment.
pub fn grant_body(for_id: &str, kind: &str, id: &str) -> Value {
    grant(for_id, kind, id)
}

fn grant(for_id: &str, kind: &str, id: &str) -> Value {
    json!({"requestedFor": [for_id], "requestedItems": [{"type": kind, "id": id, "comment": "please"}]})
}

pub fn new_ids(body: &Value) -> Vec<String> {
    body["newRequests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["accessRequestIds"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

pub async fn request(app: &TestApp, id: &str) -> rows::AccessRequest {
    let (t, id) = (app.tenant_id().await, id.to_owned());
    app.state
        .store()
        .read(move |c| rows::get_request(c, &t, &id))
        .await
        .unwrap()
        .unwrap()
}

pub async fn approvals(app: &TestApp, id: &str) -> Vec<Approval> {
    let (t, id) = (app.tenant_id().await, vec![id.to_owned()]);
    app.state
        .store()
        .read(move |c| rows::approvals_of_requests(c, &t, &id))
        .await
        .unwrap()
}

async fn decide(
    app: &TestApp,
    approval: &str,
    who: &str,
    d: Decision,
) -> Result<Approval, engine::Refusal> {
    let (t, a, now) = (
        app.tenant_id().await,
        approval.to_owned(),
        app.state.clock().now(),
    );
    let actor = Actor {
        identity_id: who.to_owned(),
        is_admin: false,
    };
    app.state
        .store()
        .write(move |c| engine::decide(c, &t, &a, &actor, d, Some("ok"), now))
        .await
        .unwrap()
}

async fn held(
    app: &TestApp,
    who: &str,
    kind: ItemType,
    item: &str,
) -> Vec<assignments::Assignment> {
    let (t, w, i) = (app.tenant_id().await, who.to_owned(), item.to_owned());
    app.state
        .store()
        .read(move |c| assignments::held(c, &t, &w, kind, &i))
        .await
        .unwrap()
}

async fn configure(app: &TestApp, edit: impl FnOnce(&mut AccessRequestConfig)) {
    let mut config = AccessRequestConfig::default();
    edit(&mut config);
    let (t, now) = (app.tenant_id().await, app.state.clock().now());
    app.state
        .store()
        .write(move |c| access_config::save(c, &t, &config, now))
        .await
        .unwrap();
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.state
        .store()
        .read(move |c| c.query_one(sql, &[])?.int(0))
        .await
        .unwrap()
}

fn in_days(app: &TestApp, days: i64) -> String {
    app.state
        .clock()
        .now()
        .plus_millis(days * 86_400_000)
        .to_rfc3339()
}

async fn advance(app: &TestApp, duration: &str) {
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/clock",
            Some(json!({"advance": duration})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_request_goes_through_manager_then_owner_and_is_granted() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = submit(&app, &w.alice.1, grant(&w.alice.0, "ACCESS_PROFILE", &w.ap)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_shape("v3", "POST", "/access-requests", 202, &r.body);
    let ids = new_ids(&r.body);
    assert_eq!(ids.len(), 1);
    assert_eq!(r.body["newRequests"][0]["requestedFor"], w.alice.0.as_str());
    assert_eq!(
        r.body["newRequests"][0]["requestedItemsDetails"][0]["id"],
        w.ap.as_str()
    );
    assert!(r.body["newRequests"][0]["attributesHash"].is_i64());
    assert_eq!(r.body["existingRequests"], json!([]));
    // Committed before the answer: the row and its processing job exist.
    let q = request(&app, &ids[0]).await;
    assert_eq!((q.stage, q.state), (Stage::Queued, State::Executing));
    assert_eq!(q.item_name, "HR Staff");
    assert_eq!(q.source_id.as_deref(), Some(w.hr.as_str()));

    app.drain().await;
    let steps = approvals(&app, &ids[0]).await;
    assert_eq!(steps.len(), 1);
    assert_eq!(
        (steps[0].scheme.as_str(), steps[0].owner_id.as_str()),
        ("MANAGER", w.bob.0.as_str())
    );
    assert_eq!(request(&app, &ids[0]).await.stage, Stage::Approval);
    // Only the owner may decide; the requester may not.
    assert!(matches!(
        decide(&app, &steps[0].id, &w.alice.0, Decision::Approve).await,
        Err(engine::Refusal::NotFound(_))
    ));
    decide(&app, &steps[0].id, &w.bob.0, Decision::Approve)
        .await
        .unwrap();
    // Deciding again changes nothing.
    assert!(matches!(
        decide(&app, &steps[0].id, &w.bob.0, Decision::Reject).await,
        Err(engine::Refusal::Invalid(_))
    ));
    let steps = approvals(&app, &ids[0]).await;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].status, ApprovalStatus::Approved);
    assert_eq!(
        (steps[1].scheme.as_str(), steps[1].owner_id.as_str()),
        ("ACCESS_PROFILE_OWNER", w.carol.0.as_str())
    );
    decide(&app, &steps[1].id, &w.carol.0, Decision::Approve)
        .await
        .unwrap();
    assert!(held(&app, &w.alice.0, ItemType::AccessProfile, &w.ap)
        .await
        .is_empty());
    app.drain().await;
    let q = request(&app, &ids[0]).await;
    assert_eq!((q.stage, q.state), (Stage::Done, State::RequestCompleted));
    let a = held(&app, &w.alice.0, ItemType::AccessProfile, &w.ap).await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].access_request_id.as_deref(), Some(ids[0].as_str()));
    let r = app
        .admin(
            "GET",
            &format!("/gatehouse/v1/identities/{}/access", w.alice.0),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[0]["type"], "ACCESS_PROFILE");
    assert_eq!(r.body[0]["itemId"], w.ap.as_str());
    assert_eq!(r.body[0]["reason"], "ACCESS_REQUEST");
    assert_eq!(r.body[0]["accessRequestId"], ids[0].as_str());
    let r = app
        .admin("GET", "/gatehouse/v1/identities/nobody/access", None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rejection_ends_the_request_and_grants_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = submit(
        &app,
        &w.alice.1,
        grant(&w.alice.0, "ENTITLEMENT", &w.entitlement),
    )
    .await;
    let id = new_ids(&r.body).remove(0);
    app.drain().await;
    let steps = approvals(&app, &id).await;
    assert_eq!(
        (steps[0].scheme.as_str(), steps[0].owner_id.as_str()),
        ("SOURCE_OWNER", w.carol.0.as_str())
    );
    decide(&app, &steps[0].id, &w.carol.0, Decision::Reject)
        .await
        .unwrap();
    app.drain().await;
    let q = request(&app, &id).await;
    assert_eq!((q.stage, q.state), (Stage::Done, State::Rejected));
    assert!(
        held(&app, &w.alice.0, ItemType::Entitlement, &w.entitlement)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn every_submit_rule_is_refused_with_its_reason_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let ent = |id: &str| json!({"type": "ENTITLEMENT", "id": id});
    let many: Vec<Value> = (0..26).map(|i| ent(&format!("e{i}"))).collect();
    let people: Vec<String> = (0..11).map(|i| format!("p{i}")).collect();
    let (a, ap, e) = (w.alice.0.clone(), w.ap.clone(), w.entitlement.clone());
    let past = "2001-01-01T00:00:00.000Z";
    let future = in_days(&app, 5);
    let offset_future = future.replace('Z', "+02:00");
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "no items",
            json!({"requestedFor": [a]}),
            StatusCode::BAD_REQUEST,
            "requestedItems",
        ),
        (
            "no one",
            json!({"requestedItems": [ent(&e)]}),
            StatusCode::BAD_REQUEST,
            "requestedFor",
        ),
        (
            "empty items",
            json!({"requestedFor": [a], "requestedItems": []}),
            StatusCode::BAD_REQUEST,
            "requestedItems",
        ),
        (
            "bad type",
            json!({"requestedFor": [a], "requestedItems": [{"type": "APP", "id": "x"}]}),
            StatusCode::BAD_REQUEST,
            "type",
        ),
        (
            "bad request type",
            json!({"requestedFor": [a], "requestType": "STEAL", "requestedItems": [ent(&e)]}),
            StatusCode::BAD_REQUEST,
            "requestType",
        ),
        (
            "26 entitlements",
            json!({"requestedFor": [a], "requestedItems": many}),
            StatusCode::BAD_REQUEST,
            "at most 25 entitlements",
        ),
        (
            "11 people",
            json!({"requestedFor": people, "requestedItems": [ent(&e)]}),
            StatusCode::BAD_REQUEST,
            "at most 10 identities",
        ),
        (
            "unknown item",
            json!({"requestedFor": [a], "requestedItems": [ent("nope")]}),
            StatusCode::BAD_REQUEST,
            "does not exist",
        ),
        (
            "unknown person",
            json!({"requestedFor": ["nobody"], "requestedItems": [ent(&e)]}),
            StatusCode::BAD_REQUEST,
            "does not exist",
        ),
        (
            "past start",
            json!({"requestedFor": [a], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "startDate": past}]}),
            StatusCode::BAD_REQUEST,
            "future",
        ),
        (
            "past removal",
            json!({"requestedFor": [a], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "removeDate": past}]}),
            StatusCode::BAD_REQUEST,
            "future",
        ),
        (
            "not UTC",
            json!({"requestedFor": [a], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "removeDate": offset_future}]}),
            StatusCode::BAD_REQUEST,
            "UTC",
        ),
        (
            "not a date",
            json!({"requestedFor": [a], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "removeDate": "tomorrow"}]}),
            StatusCode::BAD_REQUEST,
            "RFC 3339",
        ),
        (
            "metadata",
            json!({"requestedFor": [a], "requestedItems": [ent(&e)], "clientMetadata": {"n": 1}}),
            StatusCode::BAD_REQUEST,
            "clientMetadata",
        ),
        (
            "both forms",
            json!({"requestedFor": [a], "requestedItems": [ent(&e)], "requestedForWithRequestedItems": [{"identityId": a, "requestedItems": [ent(&e)]}]}),
            StatusCode::BAD_REQUEST,
            "requestedForWithRequestedItems",
        ),
        (
            "on behalf",
            grant(&w.dave.0, "ACCESS_PROFILE", &w.ap),
            StatusCode::FORBIDDEN,
            "on behalf",
        ),
        (
            "revoke self",
            json!({"requestType": "REVOKE_ACCESS", "requestedFor": [a], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "comment": "x"}]}),
            StatusCode::BAD_REQUEST,
            "yourself",
        ),
        (
            "revoke without comment",
            json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.dave.0], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap}]}),
            StatusCode::BAD_REQUEST,
            "comment",
        ),
        (
            "revoke with start",
            json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.dave.0], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "comment": "x", "startDate": future}]}),
            StatusCode::BAD_REQUEST,
            "startDate",
        ),
        (
            "revoke two people",
            json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.dave.0, w.bob.0], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "comment": "x"}]}),
            StatusCode::BAD_REQUEST,
            "exactly one identity",
        ),
        (
            "revoke not my report",
            json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.carol.0], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "comment": "x"}]}),
            StatusCode::FORBIDDEN,
            "manager",
        ),
        (
            "revoke grouped",
            json!({"requestType": "REVOKE_ACCESS", "requestedForWithRequestedItems": [{"identityId": w.dave.0, "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "comment": "x"}]}]}),
            StatusCode::BAD_REQUEST,
            "GRANT_ACCESS",
        ),
    ];
    for (name, body, status, words) in cases {
        let r = submit(&app, &w.alice.1, body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        let text = assert_error(&r, status);
        assert!(text.contains(words), "{name}: '{words}' not in {text}");
    }
    // A manager revoking what the report does not hold.
    let r = submit(&app, &w.bob.1, json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.dave.0], "requestedItems": [{"type": "ACCESS_PROFILE", "id": ap, "comment": "x"}]})).await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("does not hold"));
    // An API client (no user context) may not submit.
    let client = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(json!({"name": "ci", "description": "CI", "accessTokenValiditySeconds": 750,
                        "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true})),
        )
        .await;
    let api = app
        .token(
            client.body["id"].as_str().unwrap(),
            client.body["secret"].as_str().unwrap(),
        )
        .await;
    let r = submit(&app, &api, grant(&w.alice.0, "ACCESS_PROFILE", &w.ap)).await;
    assert_error(&r, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "select count(*) from access_request").await, 0);
    assert_eq!(count(&app, "select count(*) from job").await, 0);
}

#[tokio::test]
async fn duplicates_are_reported_as_existing_and_keys_replay_the_first_answer() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = grant(&w.alice.0, "ACCESS_PROFILE", &w.ap);
    let first = submit(&app, &w.alice.1, body.clone()).await;
    let id = new_ids(&first.body).remove(0);
    let again = submit(&app, &w.alice.1, body.clone()).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.body["newRequests"], json!([]));
    assert_eq!(
        again.body["existingRequests"][0]["accessRequestIds"],
        json!([id])
    );
    // Already held (the open role needs no approval).
    let r = submit(&app, &w.alice.1, grant(&w.alice.0, "ROLE", &w.open_role)).await;
    let role_request = new_ids(&r.body).remove(0);
    app.drain().await;
    assert_eq!(
        request(&app, &role_request).await.state,
        State::RequestCompleted
    );
    let r = submit(&app, &w.alice.1, grant(&w.alice.0, "ROLE", &w.open_role)).await;
    assert_eq!(r.body["newRequests"], json!([]));
    assert_eq!(
        r.body["existingRequests"][0]["accessRequestIds"],
        json!([role_request])
    );

    // Idempotency-Key: one request, the same answer twice.
    let keyed = |body: Value, key: &'static str| {
        let token = w.bob.1.clone();
        let app = &app;
        async move {
            let req = axum::http::Request::post("/v3/access-requests")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("idempotency-key", key)
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            app.send(req).await
        }
    };
    let body = grant(&w.bob.0, "ENTITLEMENT", &w.entitlement);
    let before = count(&app, "select count(*) from access_request").await;
    let one = keyed(body.clone(), "k-1").await;
    let two = keyed(body.clone(), "k-1").await;
    assert_eq!(
        (one.status, two.status),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert_eq!(one.body, two.body);
    assert_eq!(two.headers["idempotent-replayed"], "true");
    assert_eq!(
        count(&app, "select count(*) from access_request").await,
        before + 1
    );
    let other = keyed(grant(&w.bob.0, "ROLE", &w.open_role), "k-1").await;
    assert!(assert_error(&other, StatusCode::BAD_REQUEST).contains("different request body"));
    assert_eq!(
        count(&app, "select count(*) from access_request").await,
        before + 1
    );
}

#[tokio::test]
async fn on_behalf_requests_follow_the_configuration_and_auto_approval() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = grant(&w.alice.0, "ACCESS_PROFILE", &w.ap);
    assert_error(
        &submit(&app, &w.bob.1, body.clone()).await,
        StatusCode::FORBIDDEN,
    );
    configure(&app, |c| {
        c.request_on_behalf_of_employee_by_manager = true;
        c.auto_approval_enabled = true;
    })
    .await;
    // bob (alice's manager) may now ask for her, but not carol for her.
    assert_error(
        &submit(&app, &w.carol.1, body.clone()).await,
        StatusCode::FORBIDDEN,
    );
    let r = submit(&app, &w.bob.1, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = new_ids(&r.body).remove(0);
    app.drain().await;
    // The manager step is bob's own: approved automatically; the owner step waits for carol.
    let steps = approvals(&app, &id).await;
    assert_eq!(steps[0].status, ApprovalStatus::Approved);
    assert_eq!(steps[0].decided_by.as_deref(), Some(w.bob.0.as_str()));
    assert_eq!(
        (steps[1].status, steps[1].owner_id.as_str()),
        (ApprovalStatus::Pending, w.carol.0.as_str())
    );
    let q = request(&app, &id).await;
    assert_eq!(q.requester_id, w.bob.0);
}

#[tokio::test]
async fn access_starts_and_ends_on_time_and_a_manager_revokes() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let (start, end) = (in_days(&app, 1), in_days(&app, 3));
    let r = submit(
        &app,
        &w.alice.1,
        json!({"requestedFor": [w.alice.0], "requestedItems": [
            {"type": "ROLE", "id": w.open_role, "startDate": start, "removeDate": end, "clientMetadata": {"ticket": "T-1"}}
        ], "clientMetadata": {"app": "portal"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = new_ids(&r.body).remove(0);
    app.drain().await;
    let q = request(&app, &id).await;
    assert_eq!((q.stage, q.state), (Stage::Scheduled, State::Executing));
    assert_eq!(q.client_metadata, Some(json!({"ticket": "T-1"})));
    assert_eq!(q.request_metadata, Some(json!({"app": "portal"})));
    assert!(held(&app, &w.alice.0, ItemType::Role, &w.open_role)
        .await
        .is_empty());
    advance(&app, "PT25H").await;
    app.drain().await;
    let a = held(&app, &w.alice.0, ItemType::Role, &w.open_role).await;
    assert_eq!(a.len(), 1);
    assert_eq!(
        a[0].remove_date,
        Some(Timestamp::parse_rfc3339(&end).unwrap())
    );
    assert_eq!(request(&app, &id).await.state, State::RequestCompleted);
    advance(&app, "P2D").await;
    app.drain().await;
    assert!(held(&app, &w.alice.0, ItemType::Role, &w.open_role)
        .await
        .is_empty());

    // Granted again, then revoked by the manager (the role needs no revocation approval).
    let r = submit(&app, &w.alice.1, grant(&w.alice.0, "ROLE", &w.open_role)).await;
    new_ids(&r.body);
    app.drain().await;
    assert_eq!(
        held(&app, &w.alice.0, ItemType::Role, &w.open_role)
            .await
            .len(),
        1
    );
    let r = submit(
        &app,
        &w.bob.1,
        json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.alice.0],
               "requestedItems": [{"type": "ROLE", "id": w.open_role, "comment": "moved team"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let revoke = new_ids(&r.body).remove(0);
    app.drain().await;
    assert_eq!(request(&app, &revoke).await.state, State::RequestCompleted);
    assert!(held(&app, &w.alice.0, ItemType::Role, &w.open_role)
        .await
        .is_empty());
}

#[tokio::test]
async fn access_held_through_a_role_cannot_be_revoked_by_request() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let (t, dave, ap) = (app.tenant_id().await, w.dave.0.clone(), w.ap.clone());
    app.state
        .store()
        .write(move |c| {
            assignments::grant(
                c,
                &assignments::Assignment {
                    id: "m1".into(),
                    tenant_id: t,
                    identity_id: dave,
                    item_type: ItemType::AccessProfile,
                    item_id: ap,
                    reason: assignments::Reason::RoleMembership,
                    access_request_id: None,
                    account_id: None,
                    start_date: None,
                    remove_date: None,
                    created: Timestamp(0),
                    modified: Timestamp(0),
                },
            )
        })
        .await
        .unwrap();
    let r = submit(
        &app,
        &w.bob.1,
        json!({"requestType": "REVOKE_ACCESS", "requestedFor": [w.dave.0],
               "requestedItems": [{"type": "ACCESS_PROFILE", "id": w.ap, "comment": "x"}]}),
    )
    .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("role membership"));
}

#[tokio::test]
async fn items_on_sources_whose_integration_is_gone_fail_with_that_error() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let hr = w.hr.clone();
    app.state
        .store()
        .write(move |c| {
            c.execute(
                "update source set service_desk_integration_id = 'sd-1' where id = $1",
                &[hr.into()],
            )
        })
        .await
        .unwrap();
    let r = submit(
        &app,
        &w.alice.1,
        grant(&w.alice.0, "ENTITLEMENT", &w.entitlement),
    )
    .await;
    let id = new_ids(&r.body).remove(0);
    app.drain().await;
    let step = approvals(&app, &id).await.remove(0);
    decide(&app, &step.id, &w.carol.0, Decision::Approve)
        .await
        .unwrap();
    app.drain().await;
    // The source names an integration that does not exist: the ticket job fails the item.
    let q = request(&app, &id).await;
    assert_eq!((q.stage, q.state), (Stage::Done, State::ProvisioningFailed));
    let text = q.error_messages.unwrap().to_string();
    assert!(text.contains("integration was deleted"), "{text}");
    assert!(
        held(&app, &w.alice.0, ItemType::Entitlement, &w.entitlement)
            .await
            .is_empty()
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from job where kind = 'service_desk_ticket' and state = 'completed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn reminders_then_escalation_to_the_fallback_approver() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let fallback = w.dave.0.clone();
    configure(&app, |c| {
        c.reminders.days_between_reminders = Some(1);
        c.reminders.max_reminders = Some(2);
        c.reminders.days_until_escalation = Some(4);
        c.reminders.fallback_approver = Some(FallbackApprover {
            id: fallback,
            ..FallbackApprover::default()
        });
    })
    .await;
    let r = submit(
        &app,
        &w.alice.1,
        grant(&w.alice.0, "ENTITLEMENT", &w.entitlement),
    )
    .await;
    let id = new_ids(&r.body).remove(0);
    app.drain().await;
    let reminders = "select count(*) from notification where kind = 'APPROVAL_REMINDER'";
    for (hours, sent) in [("PT25H", 1), ("PT24H", 2), ("PT24H", 2)] {
        advance(&app, hours).await;
        app.drain().await;
        assert_eq!(count(&app, reminders).await, sent, "after {hours}");
    }
    let step = approvals(&app, &id).await.remove(0);
    assert_eq!(step.owner_id, w.carol.0);
    advance(&app, "PT24H").await;
    app.drain().await;
    let step = approvals(&app, &id).await.remove(0);
    assert_eq!(step.owner_id, w.dave.0);
    assert_eq!(step.original_owner_id, w.carol.0);
    assert_eq!(step.forward_history[0].reassignment_type, "AUTO_ESCALATION");
    assert_eq!(
        count(
            &app,
            "select count(*) from notification where kind = 'APPROVAL_ESCALATED'"
        )
        .await,
        1
    );
    // The fallback approver decides.
    decide(&app, &step.id, &w.dave.0, Decision::Approve)
        .await
        .unwrap();
    app.drain().await;
    assert_eq!(
        held(&app, &w.alice.0, ItemType::Entitlement, &w.entitlement)
            .await
            .len(),
        1
    );
    let _ = jobs::count_unfinished;
}
