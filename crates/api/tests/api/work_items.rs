//! `/work-items`: the approval steps of access requests as work items, in every family.

use crate::approval_fixtures::{
    notifications, pending, request, steps, stored_request, world, World,
};
use crate::catalog_fixtures::{ids, tenant};
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_store::access_requests::{engine, ApprovalStatus, State};
use gatehouse_store::assignments::{self, ItemType};
use serde_json::{json, Value};
use std::sync::Arc;

const FAMILIES: [&str; 4] = ["v3", "v2024", "beta", "v1"];

/// The URL of `/work-items{rest}` in `family`.
fn url(family: &str, rest: &str) -> String {
    match family {
        "v1" => format!("/work-items/v1{rest}"),
        f => format!("/{f}/work-items{rest}"),
    }
}

/// The spec's path of `/work-items{rest}` in `family`.
fn spec(family: &str, rest: &str) -> String {
    match family {
        "v1" => format!("/work-items/v1{rest}"),
        _ => format!("/work-items{rest}"),
    }
}

/// Beta's work-item operations are ORG_ADMIN only; the other families serve their owner.
fn token<'a>(app: &'a TestApp, family: &str, own: &'a str) -> &'a str {
    if family == "beta" {
        &app.admin_token
    } else {
        own
    }
}

async fn holds(app: &TestApp, who: &str, kind: ItemType, item: &str) -> bool {
    let (t, who, item) = (tenant(app).await, who.to_owned(), item.to_owned());
    !app.state
        .store()
        .read(move |c| assignments::held(c, &t, &who, kind, &item))
        .await
        .unwrap()
        .is_empty()
}

#[tokio::test]
async fn lists_counts_and_summary_per_owner_in_every_family() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(
        &app,
        &w.rita.id,
        &w.rita.id,
        "ROLE",
        &w.role,
        Some("for the ledger"),
    )
    .await;
    let treasurer = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.strict_role, None).await;
    let staff = request(&app, &w.rita.id, &w.rita.id, "ENTITLEMENT", &w.staff, None).await;
    let (p_clerk, p_staff) = (pending(&app, &clerk).await, pending(&app, &staff).await);
    let p_treasurer = pending(&app, &treasurer).await;

    for family in FAMILIES {
        let who = token(&app, family, &w.max.token);
        let owner = if family == "beta" {
            format!("?ownerId={}", w.max.id)
        } else {
            String::new()
        };
        let r = app.call("GET", &url(family, &owner), Some(who), None).await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "GET", &spec(family, ""), 200, &r.body);
        assert_eq!(
            ids(&r.body),
            vec![p_clerk.id.clone(), p_treasurer.id.clone()],
            "{family}"
        );
        let item = &r.body[0];
        assert_eq!(item["type"], "Approval");
        assert_eq!(item["state"], "Pending");
        assert_eq!(item["ownerId"], w.max.id.as_str());
        assert_eq!(item["ownerName"], "max");
        assert_eq!(item["requesterId"], w.rita.id.as_str());
        assert_eq!(item["requesterDisplayName"], "rita");
        assert_eq!(
            item["description"],
            "Approval for role 'Clerk' requested for rita"
        );
        assert_eq!(item["completed"], Value::Null);
        assert_eq!(item["numItems"], 1);
        assert_eq!(
            item["approvalItems"],
            // The item's state is null outside beta (SailPoint's Python SDK cannot read it).
            json!([{"id": clerk, "account": null, "application": "IdentityNow", "name": "Clerk",
                    "operation": "Add", "value": "Clerk",
                    "state": if family == "beta" { json!("Pending") } else { Value::Null }}])
        );
        let r = app
            .call(
                "GET",
                &url(family, &format!("/count{owner}")),
                Some(who),
                None,
            )
            .await;
        assert_shape(family, "GET", &spec(family, "/count"), 200, &r.body);
        assert_eq!(r.body["count"], 2, "{family}");
        let r = app
            .call(
                "GET",
                &url(family, &format!("/summary{owner}")),
                Some(who),
                None,
            )
            .await;
        assert_shape(family, "GET", &spec(family, "/summary"), 200, &r.body);
        assert_eq!(
            r.body,
            json!({"open": 2, "completed": 0, "total": 2}),
            "{family}"
        );
    }

    // Olga owns the entitlement request (owner of its source).
    let r = app
        .call("GET", "/v3/work-items", Some(&w.olga.token), None)
        .await;
    assert_eq!(ids(&r.body), vec![p_staff.id.clone()]);
    let item = &r.body[0]["approvalItems"][0];
    assert_eq!(
        (item["application"].as_str(), item["value"].as_str()),
        (Some("HR"), Some("cn=staff"))
    );
    // Eve has none; the admin without ownerId sees their own (none), with ownerId anyone's.
    let r = app
        .call("GET", "/v2024/work-items/count", Some(&w.eve.token), None)
        .await;
    assert_eq!(r.body["count"], 0);
    let r = app.admin("GET", "/v3/work-items", None).await;
    assert_eq!(r.body, json!([]));
    let r = app
        .admin(
            "GET",
            &format!(
                "/v3/work-items?ownerId={}&count=true&limit=1&offset=1",
                w.max.id
            ),
            None,
        )
        .await;
    assert_eq!(ids(&r.body), vec![p_treasurer.id.clone()]);
    assert_eq!(r.headers["x-total-count"], "2");
    // Someone else's ownerId needs ORG_ADMIN.
    for rest in ["", "/count", "/completed", "/completed/count", "/summary"] {
        let r = app
            .call(
                "GET",
                &format!("/v3/work-items{rest}?ownerId={}", w.max.id),
                Some(&w.eve.token),
                None,
            )
            .await;
        assert!(
            assert_error(&r, StatusCode::FORBIDDEN).contains("ORG_ADMIN"),
            "{rest}"
        );
    }
    let r = app
        .call(
            "GET",
            &format!("/v3/work-items?ownerId={}", w.max.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "one's own id is fine");
    let r = app
        .call(
            "GET",
            "/v3/work-items?filters=id%20eq%20%22x%22",
            Some(&w.max.token),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("filters"));

    // After a decision the item moves to the completed list.
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/approve/{clerk}", p_clerk.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for family in FAMILIES {
        let who = token(&app, family, &w.max.token);
        let owner = if family == "beta" {
            format!("?ownerId={}", w.max.id)
        } else {
            String::new()
        };
        let r = app
            .call(
                "GET",
                &url(family, &format!("/completed{owner}")),
                Some(who),
                None,
            )
            .await;
        assert_shape(family, "GET", &spec(family, "/completed"), 200, &r.body);
        assert_eq!(ids(&r.body), vec![p_clerk.id.clone()], "{family}");
        assert_eq!(r.body[0]["state"], "Finished");
        crate::support::assert_millis_date(&r.body[0]["completed"]);
        let r = app
            .call(
                "GET",
                &url(family, &format!("/completed/count{owner}")),
                Some(who),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(
            family,
            "GET",
            &spec(family, "/completed/count"),
            200,
            &r.body,
        );
        let n = if family == "beta" {
            &r.body[0]["count"]
        } else {
            &r.body["count"]
        };
        assert_eq!(*n, 1, "{family}");
        let r = app
            .call(
                "GET",
                &url(family, &format!("/summary{owner}")),
                Some(who),
                None,
            )
            .await;
        assert_eq!(
            r.body,
            json!({"open": 1, "completed": 1, "total": 2}),
            "{family}"
        );
    }
}

#[tokio::test]
async fn approving_opens_the_next_step_and_the_last_approval_provisions() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let first = pending(&app, &clerk).await;
    assert_eq!(first.owner_id, w.max.id);
    let r = app
        .call(
            "POST",
            &format!("/v2024/work-items/{}/approve/{clerk}", first.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape(
        "v2024",
        "POST",
        "/work-items/{id}/approve/{approvalItemId}",
        200,
        &r.body,
    );
    assert_eq!(
        (r.body["id"].as_str(), r.body["state"].as_str()),
        (Some(first.id.as_str()), Some("Finished"))
    );
    assert_eq!(r.body["approvalItems"][0]["state"], Value::Null);
    let second = pending(&app, &clerk).await;
    assert_eq!(
        (second.step, second.owner_id.as_str()),
        (1, w.olga.id.as_str())
    );
    assert!(!holds(&app, &w.rita.id, ItemType::Role, &w.role).await);
    // The role owner approves with the bulk operation (one item).
    let r = app
        .call(
            "POST",
            &url("v1", &format!("/bulk-approve/{}", second.id)),
            Some(&w.olga.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape(
        "v1",
        "POST",
        "/work-items/v1/bulk-approve/{id}",
        200,
        &r.body,
    );
    assert_eq!(r.body["state"], "Finished");
    app.drain().await;
    assert!(
        holds(&app, &w.rita.id, ItemType::Role, &w.role).await,
        "provisioned"
    );
    assert_eq!(
        stored_request(&app, &clerk).await.state,
        State::RequestCompleted
    );
    let all = steps(&app, &clerk).await;
    assert_eq!(
        all.iter()
            .map(|p| (p.status, p.decided_by.clone()))
            .collect::<Vec<_>>(),
        vec![
            (ApprovalStatus::Approved, Some(w.max.id.clone())),
            (ApprovalStatus::Approved, Some(w.olga.id.clone()))
        ]
    );
}

#[tokio::test]
async fn rejecting_ends_the_request_and_a_decided_item_stays_decided() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let p = pending(&app, &clerk).await;
    let r = app
        .call(
            "POST",
            &url("v1", &format!("/{}/reject/{clerk}", p.id)),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape(
        "v1",
        "POST",
        "/work-items/v1/{id}/reject/{approvalItemId}",
        200,
        &r.body,
    );
    assert_eq!(r.body["state"], "Rejected");
    app.drain().await;
    assert_eq!(stored_request(&app, &clerk).await.state, State::Rejected);
    assert_eq!(steps(&app, &clerk).await.len(), 1, "no next step");
    assert!(!holds(&app, &w.rita.id, ItemType::Role, &w.role).await);
    // Any further decision is a 400 and changes nothing.
    let before = steps(&app, &clerk).await;
    for path in [
        format!("/v3/work-items/{}/approve/{clerk}", p.id),
        format!("/v3/work-items/{}/reject/{clerk}", p.id),
        format!("/v2024/work-items/bulk-approve/{}", p.id),
        format!("/v2024/work-items/bulk-reject/{}", p.id),
    ] {
        let r = app.call("POST", &path, Some(&w.max.token), None).await;
        assert!(
            assert_error(&r, StatusCode::BAD_REQUEST).contains("already decided"),
            "{path}"
        );
    }
    let r = app
        .admin(
            "POST",
            &format!("/v3/work-items/{}/approve/{clerk}", p.id),
            None,
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    assert_eq!(steps(&app, &clerk).await, before);
    assert_eq!(stored_request(&app, &clerk).await.state, State::Rejected);

    // A rejection that needs a comment cannot go through the work-items API (it takes none).
    let t = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.strict_role, None).await;
    let p = pending(&app, &t).await;
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/bulk-reject/{}", p.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("comment"));
    assert_eq!(pending(&app, &t).await, p);
    // The approval item must be the work item's.
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/approve/{clerk}", p.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::NOT_FOUND).contains(&clerk));
    assert_eq!(pending(&app, &t).await, p);
}

#[tokio::test]
async fn forwarding_hands_the_item_over_with_its_history() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let p = pending(&app, &clerk).await;
    let fwd = |target: &str, comment: Value| json!({"targetOwnerId": target, "comment": comment});
    // Refusals first: nothing changes.
    for (body, needle) in [
        (
            fwd("0123456789abcdef0123456789abcdef", json!("x")),
            "0123456789abcdef0123456789abcdef",
        ),
        (fwd(&w.max.id, json!("x")), "already owned"),
        (json!({"targetOwnerId": w.eve.id}), "comment"),
        (json!({"comment": "x"}), "targetOwnerId"),
    ] {
        let r = app
            .call(
                "POST",
                &format!("/v3/work-items/{}/forward", p.id),
                Some(&w.max.token),
                Some(body),
            )
            .await;
        assert!(
            assert_error(&r, StatusCode::BAD_REQUEST).contains(needle),
            "{needle}"
        );
    }
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/forward", p.id),
            Some(&w.eve.token),
            Some(fwd(&w.eve.id, json!("mine"))),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    assert_eq!(pending(&app, &clerk).await, p);
    assert!(notifications(&app, &w.eve.id).await.is_empty());

    let before = app.state.clock().now().0;
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/forward", p.id),
            Some(&w.max.token),
            Some(fwd(&w.eve.id, json!("on leave"))),
        )
        .await;
    let after_call = app.state.clock().now().0;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.is_empty(), "no body: {}", r.text);
    let after = pending(&app, &clerk).await;
    assert_eq!(after.owner_id, w.eve.id);
    let h = &after.forward_history;
    assert_eq!(h.len(), 1);
    assert_eq!(
        (
            h[0].old_owner_id.as_str(),
            h[0].new_owner_id.as_str(),
            h[0].forwarder_id.as_deref(),
            h[0].comment.as_deref()
        ),
        (
            w.max.id.as_str(),
            w.eve.id.as_str(),
            Some(w.max.id.as_str()),
            Some("on leave")
        )
    );
    assert!(
        (before..=after_call).contains(&h[0].at),
        "when: {}",
        h[0].at
    );
    let sent = notifications(&app, &w.eve.id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "WORK_ITEM_FORWARDED");
    assert_eq!(sent[0].1["workItemId"], p.id.as_str());
    assert_eq!(sent[0].1["comment"], "on leave");
    // The approvals API shows the history with names.
    let r = app
        .admin(
            "GET",
            &format!(
                "/v3/access-request-approvals/pending?filters=id%20eq%20%22{}%22",
                p.id
            ),
            None,
        )
        .await;
    assert_shape(
        "v3",
        "GET",
        "/access-request-approvals/pending",
        200,
        &r.body,
    );
    let entry = &r.body[0]["forwardHistory"][0];
    assert_eq!(
        (
            entry["oldApproverName"].as_str(),
            entry["newApproverName"].as_str(),
            entry["forwarderName"].as_str(),
            entry["comment"].as_str(),
            entry["reassignmentType"].as_str()
        ),
        (
            Some("max"),
            Some("eve"),
            Some("max"),
            Some("on leave"),
            Some("MANUAL_REASSIGNMENT")
        )
    );
    crate::support::assert_millis_date(&entry["modified"]);
    // The old owner has lost it; the new one has it and can decide.
    let r = app
        .call(
            "GET",
            &format!("/v3/work-items/{}", p.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/approve/{clerk}", p.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .call("GET", "/v3/work-items", Some(&w.eve.token), None)
        .await;
    assert_eq!(ids(&r.body), vec![p.id.clone()]);
    assert_eq!(r.body[0]["ownerName"], "eve");
    // Forwarded on again, without a notification, in v2024 (and by the admin in beta).
    let r = app
        .call(
            "POST",
            &format!("/v2024/work-items/{}/forward", p.id),
            Some(&w.eve.token),
            Some(
                json!({"targetOwnerId": w.gina.id, "comment": "yours", "sendNotifications": false}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(notifications(&app, &w.gina.id).await.is_empty());
    let r = app
        .admin(
            "POST",
            &format!("/beta/work-items/{}/forward", p.id),
            Some(fwd(&w.olga.id, json!("admin"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .call(
            "POST",
            &url("v1", &format!("/{}/approve/{clerk}", p.id)),
            Some(&w.olga.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(pending(&app, &clerk).await.step, 1, "the next step opened");
    let done = &steps(&app, &clerk).await[0];
    assert_eq!(done.forward_history.len(), 3);
    assert_eq!(done.decided_by.as_deref(), Some(w.olga.id.as_str()));
}

#[tokio::test]
async fn a_person_cannot_see_or_touch_someone_elses_work_item() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let p = pending(&app, &clerk).await;
    for who in [&w.eve, &w.rita, &w.olga] {
        let r = app
            .call(
                "GET",
                &format!("/v3/work-items/{}", p.id),
                Some(&who.token),
                None,
            )
            .await;
        assert_error(&r, StatusCode::NOT_FOUND);
        for path in [
            format!("/v3/work-items/{}/approve/{clerk}", p.id),
            format!("/v3/work-items/{}/reject/{clerk}", p.id),
            format!("/v2024/work-items/bulk-approve/{}", p.id),
            format!("/v2024/work-items/bulk-reject/{}", p.id),
            format!("/v3/work-items/{}", p.id),
        ] {
            let r = app.call("POST", &path, Some(&who.token), None).await;
            assert_error(&r, StatusCode::NOT_FOUND);
        }
        let r = app
            .call(
                "POST",
                &format!("/v3/work-items/{}/submit-account-selection", p.id),
                Some(&who.token),
                Some(json!({"a": "b"})),
            )
            .await;
        assert_error(&r, StatusCode::NOT_FOUND);
    }
    assert_eq!(pending(&app, &clerk).await, p);
    assert_eq!(stored_request(&app, &clerk).await.account_selection, None);
    // The owner and the admin see it, in every family.
    for family in FAMILIES {
        let who = token(&app, family, &w.max.token);
        let r = app
            .call("GET", &url(family, &format!("/{}", p.id)), Some(who), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "GET", &spec(family, "/{id}"), 200, &r.body);
        assert_eq!(r.body["id"], p.id.as_str());
    }
    let r = app
        .admin("GET", &format!("/v3/work-items/{}", p.id), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .admin(
            "GET",
            "/v3/work-items/0123456789abcdef0123456789abcdef",
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_governance_group_member_decides_the_groups_items() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let auditor = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.group_role, None).await;
    let p = pending(&app, &auditor).await;
    assert_eq!(
        (p.owner_type.as_str(), p.owner_id.as_str()),
        ("GOVERNANCE_GROUP", w.group.as_str())
    );
    let r = app
        .call("GET", "/v3/work-items", Some(&w.gina.token), None)
        .await;
    assert_shape("v3", "GET", "/work-items", 200, &r.body);
    assert_eq!(ids(&r.body), vec![p.id.clone()]);
    assert_eq!(
        (
            r.body[0]["ownerId"].as_str(),
            r.body[0]["ownerName"].as_str()
        ),
        (Some(w.group.as_str()), Some("Approvers"))
    );
    let r = app
        .call("GET", "/v3/work-items/count", Some(&w.olga.token), None)
        .await;
    assert_eq!(r.body["count"], 0, "the group's owner is not a member");
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/approve/{auditor}", p.id),
            Some(&w.olga.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/approve/{auditor}", p.id),
            Some(&w.gina.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "Finished");
    app.drain().await;
    assert!(holds(&app, &w.rita.id, ItemType::Role, &w.group_role).await);
    let r = app
        .call("GET", "/v3/work-items/completed", Some(&w.gina.token), None)
        .await;
    assert_eq!(ids(&r.body), vec![p.id.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_leave_exactly_one_outcome() {
    let app = Arc::new(TestApp::new().await);
    let w = world(&app).await;
    for round in 0..4 {
        let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
        let p = pending(&app, &clerk).await;
        let approve = {
            let (app, path, token) = (
                app.clone(),
                format!("/v3/work-items/{}/approve/{clerk}", p.id),
                w.max.token.clone(),
            );
            tokio::spawn(async move { app.call("POST", &path, Some(&token), None).await })
        };
        let reject = {
            let (app, path) = (
                app.clone(),
                format!("/v3/work-items/{}/reject/{clerk}", p.id),
            );
            tokio::spawn(async move { app.admin("POST", &path, None).await })
        };
        let (a, r) = (approve.await.unwrap(), reject.await.unwrap());
        let won: Vec<_> = [&a, &r]
            .iter()
            .filter(|x| x.status == StatusCode::OK)
            .map(|x| x.body["state"].clone())
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {} / {}", a.text, r.text);
        let lost = if a.status == StatusCode::OK { &r } else { &a };
        assert!(assert_error(lost, StatusCode::BAD_REQUEST).contains("already decided"));
        app.drain().await;
        let all = steps(&app, &clerk).await;
        let state = stored_request(&app, &clerk).await.state;
        if won[0] == "Finished" {
            assert_eq!(all[0].status, ApprovalStatus::Approved);
            assert_eq!(all.len(), 2, "the next step opened");
            assert_eq!(state, State::Executing);
        } else {
            assert_eq!(won[0], "Rejected");
            assert_eq!(all[0].status, ApprovalStatus::Rejected);
            assert_eq!(all.len(), 1);
            assert_eq!(state, State::Rejected);
        }
        // Close what is left so that the next round can ask again.
        let (t, id) = (tenant(&app).await, clerk.clone());
        let now = app.state.clock().now();
        let how = engine::Close {
            message: "test round over".into(),
            execution_status: "Terminated".into(),
            completion_status: "Failure".into(),
        };
        app.state
            .store()
            .write(move |c| engine::close(c, &t, &id, &how, now))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn completing_and_account_selection() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let p = pending(&app, &clerk).await;
    let path = format!("/v3/work-items/{}", p.id);
    let r = app.call("POST", &path, Some(&w.max.token), None).await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("approve or reject"), "{text}");
    let r = app
        .call(
            "POST",
            &path,
            Some(&w.max.token),
            Some(json!({"not": "a string"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("JSON string"));
    assert_eq!(pending(&app, &clerk).await, p);

    let sel = format!("/v2024/work-items/{}/submit-account-selection", p.id);
    let r = app
        .call("POST", &sel, Some(&w.max.token), Some(json!(["a"])))
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("object"));
    let selection = json!({"account": "rita.r", "source": "HR"});
    let r = app
        .call("POST", &sel, Some(&w.max.token), Some(selection.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_shape(
        "v2024",
        "POST",
        "/work-items/{id}/submit-account-selection",
        200,
        &r.body,
    );
    assert_eq!(r.body["id"], p.id.as_str());
    assert_eq!(
        stored_request(&app, &clerk).await.account_selection,
        Some(selection.clone())
    );

    let r = app
        .call(
            "POST",
            &format!("/v3/work-items/{}/approve/{clerk}", p.id),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for family in ["v3", "v2024", "v1"] {
        let r = app
            .call(
                "POST",
                &url(family, &format!("/{}", p.id)),
                Some(&w.max.token),
                Some(json!("done")),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "POST", &spec(family, "/{id}"), 200, &r.body);
        assert_eq!(r.body["state"], "Finished");
    }
    let r = app
        .call(
            "POST",
            &sel,
            Some(&w.max.token),
            Some(json!({"account": "other"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("no longer pending"));
    assert_eq!(
        stored_request(&app, &clerk).await.account_selection,
        Some(selection)
    );
}

#[tokio::test]
async fn a_world_without_requests_has_no_work_items() {
    let app = TestApp::new().await;
    let World { max, .. } = world(&app).await;
    let r = app
        .call("GET", "/v3/work-items/summary", Some(&max.token), None)
        .await;
    assert_eq!(r.body, json!({"open": 0, "completed": 0, "total": 0}));
    let r = app
        .call(
            "GET",
            "/v3/work-items/completed?count=true",
            Some(&max.token),
            None,
        )
        .await;
    assert_eq!(
        (r.body.clone(), r.headers["x-total-count"].to_str().unwrap()),
        (json!([]), "0")
    );
}
