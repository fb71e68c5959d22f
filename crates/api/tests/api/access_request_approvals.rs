//! `/access-request-approvals`: pending and completed approvals, decisions, forwarding, the
//! summary, the approvers of a request and bulk approval, in every family.

use crate::approval_fixtures::{notifications, pending, request, steps, stored_request, world};
use crate::catalog_fixtures::{ids, q};
use crate::spec_shape::assert_shape;
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_store::access_requests::{ApprovalStatus, State};
use serde_json::json;

const FAMILIES: [&str; 4] = ["v3", "v2024", "beta", "v1"];

/// The URL of `/access-request-approvals{rest}` in `family`.
fn url(family: &str, rest: &str) -> String {
    match family {
        "v1" => format!("/access-request-approvals/v1{rest}"),
        f => format!("/{f}/access-request-approvals{rest}"),
    }
}

/// The spec's path of `/access-request-approvals{rest}` in `family`.
fn spec(family: &str, rest: &str) -> String {
    match family {
        "v1" => format!("/access-request-approvals/v1{rest}"),
        _ => format!("/access-request-approvals{rest}"),
    }
}

#[tokio::test]
async fn pending_lists_per_owner_family_filters_and_sorters() {
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
    let (p_clerk, p_treasurer, p_staff) = (
        pending(&app, &clerk).await,
        pending(&app, &treasurer).await,
        pending(&app, &staff).await,
    );
    for family in FAMILIES {
        let r = app
            .call("GET", &url(family, "/pending"), Some(&w.max.token), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "GET", &spec(family, "/pending"), 200, &r.body);
        assert_eq!(
            ids(&r.body),
            vec![p_clerk.id.clone(), p_treasurer.id.clone()],
            "{family}"
        );
        let a = &r.body[0];
        assert_eq!(
            a["accessRequestId"] == clerk.as_str(),
            family != "beta",
            "{family}"
        );
        assert_eq!(a.get("identityType").is_some(), family == "v1", "{family}");
        assert_eq!(a["name"], "Clerk");
        assert_eq!(a["requestType"], "GRANT_ACCESS");
        assert_eq!(
            a["requester"],
            json!({"type": "IDENTITY", "id": w.rita.id, "name": "rita"})
        );
        assert_eq!(
            a["requestedFor"],
            json!({"type": "IDENTITY", "id": w.rita.id, "name": "rita"})
        );
        assert_eq!(
            a["owner"],
            json!({"type": "IDENTITY", "id": w.max.id, "name": "max"})
        );
        assert_eq!(
            a["requestedObject"],
            json!({"type": "ROLE", "id": w.role, "name": "Clerk", "description": "Clerk role"})
        );
        assert_eq!(a["requesterComment"]["comment"], "for the ledger");
        assert_eq!(a["requesterComment"]["author"]["id"], w.rita.id.as_str());
        assert_eq!(
            a["clientMetadata"],
            json!({"origin": "tests", "ticket": "T-1"})
        );
        assert_eq!(
            (
                a["forwardHistory"].clone(),
                a["previousReviewersComments"].clone()
            ),
            (json!([]), json!([]))
        );
        assert_eq!(a["commentRequiredWhenRejected"], false);
        assert_eq!(
            r.body[1]["commentRequiredWhenRejected"], true,
            "Treasurer needs a comment"
        );
        for who in ["me", w.max.id.as_str()] {
            let r = app
                .call(
                    "GET",
                    &url(family, &format!("/pending?owner-id={who}")),
                    Some(&w.max.token),
                    None,
                )
                .await;
            assert_eq!(ids(&r.body).len(), 2, "{family} {who}");
        }
        let r = app
            .call(
                "GET",
                &url(family, &format!("/pending?owner-id={}", w.olga.id)),
                Some(&w.max.token),
                None,
            )
            .await;
        assert!(
            assert_error(&r, StatusCode::FORBIDDEN).contains("owner-id"),
            "{family}"
        );
        // The admin sees the whole tenant without owner-id, one person's with it.
        let r = app
            .admin("GET", &url(family, "/pending?count=true"), None)
            .await;
        assert_eq!(r.headers["x-total-count"], "3", "{family}");
        assert_eq!(ids(&r.body).len(), 3);
        let r = app
            .admin(
                "GET",
                &url(family, &format!("/pending?owner-id={}", w.olga.id)),
                None,
            )
            .await;
        assert_eq!(ids(&r.body), vec![p_staff.id.clone()], "{family}");
    }
    let r = app
        .call(
            "GET",
            "/v3/access-request-approvals/pending",
            Some(&w.eve.token),
            None,
        )
        .await;
    assert_eq!(r.body, json!([]));
    // A filter on a person's own list (its placeholders follow the owner's).
    let filter = q(&format!(
        "id in (\"{}\", \"{}\")",
        p_treasurer.id, p_staff.id
    ));
    let r = app
        .call(
            "GET",
            &format!("/v3/access-request-approvals/pending?count=true&filters={filter}"),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_eq!(ids(&r.body), vec![p_treasurer.id.clone()]);
    assert_eq!(r.headers["x-total-count"], "1");

    // Filters and sorters, per family.
    let list = |family: &'static str, query: String| {
        let app = &app;
        async move {
            app.admin("GET", &url(family, &format!("/pending?{query}")), None)
                .await
        }
    };
    let r = list(
        "v3",
        format!("filters={}", q(&format!("id eq \"{}\"", p_staff.id))),
    )
    .await;
    assert_eq!(ids(&r.body), vec![p_staff.id.clone()]);
    let r = list(
        "v2024",
        format!(
            "filters={}",
            q(&format!("accessRequestId in (\"{clerk}\", \"{staff}\")"))
        ),
    )
    .await;
    assert_eq!(ids(&r.body), vec![p_clerk.id.clone(), p_staff.id.clone()]);
    let r = list(
        "v1",
        format!(
            "filters={}",
            q(&format!("requestedFor.id eq \"{}\"", w.rita.id))
        ),
    )
    .await;
    assert_eq!(ids(&r.body).len(), 3);
    let r = list(
        "v3",
        format!(
            "filters={}&sorters=-created",
            q(&format!("created ge {}", p_treasurer.created))
        ),
    )
    .await;
    assert_eq!(
        ids(&r.body),
        vec![p_staff.id.clone(), p_treasurer.id.clone()]
    );
    let r = list("beta", "sorters=-modified".into()).await;
    assert_eq!(
        ids(&r.body),
        vec![
            p_staff.id.clone(),
            p_treasurer.id.clone(),
            p_clerk.id.clone()
        ]
    );
    for (family, query, needle) in [
        (
            "beta",
            format!("filters={}", q(&format!("accessRequestId eq \"{clerk}\""))),
            "accessRequestId",
        ),
        (
            "beta",
            format!("filters={}", q("created gt 2020-01-01T00:00:00Z")),
            "created",
        ),
        ("v3", format!("filters={}", q("name eq \"Clerk\"")), "name"),
        ("v3", format!("filters={}", q("id sw \"ab\"")), "sw"),
        ("v2024", "sorters=name".into(), "name"),
    ] {
        let r = list(family, query.clone()).await;
        assert!(
            assert_error(&r, StatusCode::BAD_REQUEST).contains(needle),
            "{family} {query}"
        );
    }
}

#[tokio::test]
async fn completed_approvals_show_who_decided_and_earlier_reviewers() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let treasurer = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.strict_role, None).await;
    let (p_clerk, p_treasurer) = (pending(&app, &clerk).await, pending(&app, &treasurer).await);
    let r = app
        .call(
            "POST",
            &url("v3", &format!("/{}/approve", p_clerk.id)),
            Some(&w.max.token),
            Some(json!({"comment": "fine by me"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = app
        .call(
            "POST",
            &url("v2024", &format!("/{}/reject", p_treasurer.id)),
            Some(&w.max.token),
            Some(json!({"comment": "not now"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    for family in FAMILIES {
        let r = app
            .call("GET", &url(family, "/completed"), Some(&w.max.token), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(family, "GET", &spec(family, "/completed"), 200, &r.body);
        assert_eq!(
            ids(&r.body),
            vec![p_clerk.id.clone(), p_treasurer.id.clone()],
            "{family}"
        );
        let (a, b) = (&r.body[0], &r.body[1]);
        assert_eq!(
            (a["state"].as_str(), b["state"].as_str()),
            (Some("APPROVED"), Some("REJECTED"))
        );
        assert_eq!(
            a["reviewedBy"],
            json!({"type": "IDENTITY", "id": w.max.id, "name": "max"})
        );
        assert_eq!(a["reviewerComment"]["comment"], "fine by me");
        assert_eq!(b["reviewerComment"]["comment"], "not now");
        assert!(a.get("accessRequestId").is_none());
    }
    // Olga's step shows Max's decision among the previous reviewers' comments.
    let r = app
        .call("GET", &url("v3", "/pending"), Some(&w.olga.token), None)
        .await;
    let second = pending(&app, &clerk).await;
    assert_eq!(ids(&r.body), vec![second.id.clone()]);
    let prev = &r.body[0]["previousReviewersComments"];
    assert_eq!(
        (
            prev[0]["comment"].as_str(),
            prev[0]["author"]["name"].as_str()
        ),
        (Some("fine by me"), Some("max"))
    );
    // Completed filters and sorters.
    let list = |query: String| {
        let app = &app;
        async move {
            app.admin("GET", &url("v2024", &format!("/completed?{query}")), None)
                .await
        }
    };
    let r = list(format!(
        "filters={}",
        q(&format!("id sw \"{}\"", &p_treasurer.id[..6]))
    ))
    .await;
    assert!(ids(&r.body).contains(&p_treasurer.id));
    let r = list(format!(
        "filters={}&sorters=-created",
        q(&format!("requestedFor.id eq \"{}\"", w.rita.id))
    ))
    .await;
    assert_eq!(
        ids(&r.body),
        vec![p_treasurer.id.clone(), p_clerk.id.clone()]
    );
    let r = list(format!(
        "filters={}",
        q(&format!("id ne \"{}\"", p_clerk.id))
    ))
    .await;
    assert_eq!(ids(&r.body), vec![p_treasurer.id.clone()]);
    let r = list(format!("filters={}", q("modified gt 2000-01-01T00:00:00Z"))).await;
    assert_eq!(ids(&r.body).len(), 2);
    for (query, needle) in [
        (
            format!("filters={}", q("created gt 2000-01-01T00:00:00Z")),
            "created",
        ),
        (format!("filters={}", q("modified sw \"2020\"")), "sw"),
        (
            format!("filters={}", q("accessRequestId eq \"x\"")),
            "accessRequestId",
        ),
        ("sorters=name".into(), "name"),
    ] {
        let r = list(query.clone()).await;
        assert!(
            assert_error(&r, StatusCode::BAD_REQUEST).contains(needle),
            "{query}"
        );
    }
    let r = app
        .call("GET", &url("v3", "/completed"), Some(&w.eve.token), None)
        .await;
    assert_eq!(r.body, json!([]));
}

#[tokio::test]
async fn decisions_and_forwarding_through_the_approvals_api() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let treasurer = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.strict_role, None).await;
    let (p_clerk, p_treasurer) = (pending(&app, &clerk).await, pending(&app, &treasurer).await);
    // Refusals change nothing.
    for (family, path, body, status, needle) in [
        (
            "beta",
            format!("/{}/approve", p_clerk.id),
            None,
            StatusCode::BAD_REQUEST,
            "CommentDto",
        ),
        (
            "v3",
            format!("/{}/reject", p_clerk.id),
            None,
            StatusCode::BAD_REQUEST,
            "CommentDto",
        ),
        (
            "v3",
            format!("/{}/reject", p_treasurer.id),
            Some(json!({"comment": " "})),
            StatusCode::BAD_REQUEST,
            "comment is required",
        ),
        (
            "v2024",
            format!("/{}/reject", p_treasurer.id),
            Some(json!({})),
            StatusCode::BAD_REQUEST,
            "comment is required",
        ),
        (
            "v3",
            format!("/{}/forward", p_clerk.id),
            Some(json!({"comment": "x"})),
            StatusCode::BAD_REQUEST,
            "newOwnerId",
        ),
        (
            "v3",
            format!("/{}/forward", p_clerk.id),
            Some(json!({"newOwnerId": w.eve.id, "comment": "x".repeat(256)})),
            StatusCode::BAD_REQUEST,
            "255",
        ),
        (
            "v3",
            format!("/{}/forward", p_clerk.id),
            Some(json!({"newOwnerId": w.eve.id, "comment": ""})),
            StatusCode::BAD_REQUEST,
            "comment",
        ),
        (
            "v3",
            format!("/{}/forward", p_clerk.id),
            Some(json!({"newOwnerId": "nobody", "comment": "x"})),
            StatusCode::BAD_REQUEST,
            "nobody",
        ),
        (
            "v3",
            "/0123456789abcdef0123456789abcdef/approve".to_owned(),
            None,
            StatusCode::NOT_FOUND,
            "0123456789abcdef0123456789abcdef",
        ),
    ] {
        let r = app
            .call("POST", &url(family, &path), Some(&w.max.token), body)
            .await;
        assert!(
            assert_error(&r, status).contains(needle),
            "{family} {path}: {}",
            r.text
        );
    }
    for path in [
        format!("/{}/approve", p_clerk.id),
        format!("/{}/reject", p_clerk.id),
        format!("/{}/forward", p_clerk.id),
    ] {
        let r = app
            .call(
                "POST",
                &url("v3", &path),
                Some(&w.eve.token),
                Some(json!({"comment": "x", "newOwnerId": w.eve.id})),
            )
            .await;
        assert_error(&r, StatusCode::NOT_FOUND);
    }
    assert_eq!(pending(&app, &clerk).await, p_clerk);
    assert_eq!(pending(&app, &treasurer).await, p_treasurer);

    // Rejecting with the comment the item needs.
    let r = app
        .call(
            "POST",
            &url("v1", &format!("/{}/reject", p_treasurer.id)),
            Some(&w.max.token),
            Some(json!({"comment": "budget"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_shape(
        "v1",
        "POST",
        "/access-request-approvals/v1/{approvalId}/reject",
        202,
        &r.body,
    );
    assert_eq!(r.body, json!({}));
    assert_eq!(
        stored_request(&app, &treasurer).await.state,
        State::Rejected
    );

    // Forwarding: the new owner is notified, sees it and decides it; the old one cannot.
    let r = app
        .call(
            "POST",
            &url("v2024", &format!("/{}/forward", p_clerk.id)),
            Some(&w.max.token),
            Some(json!({"newOwnerId": w.gina.id, "comment": "please"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_shape(
        "v2024",
        "POST",
        "/access-request-approvals/{approvalId}/forward",
        202,
        &r.body,
    );
    let sent = notifications(&app, &w.gina.id).await;
    assert_eq!(
        (sent.len(), sent[0].1["workItemId"].as_str()),
        (1, Some(p_clerk.id.as_str()))
    );
    let r = app
        .call("GET", &url("beta", "/pending"), Some(&w.gina.token), None)
        .await;
    assert_shape(
        "beta",
        "GET",
        "/access-request-approvals/pending",
        200,
        &r.body,
    );
    assert_eq!(ids(&r.body), vec![p_clerk.id.clone()]);
    assert_eq!(r.body[0]["forwardHistory"][0]["newApproverName"], "gina");
    let r = app
        .call(
            "POST",
            &url("v3", &format!("/{}/approve", p_clerk.id)),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            "POST",
            &url("beta", &format!("/{}/approve", p_clerk.id)),
            Some(&w.gina.token),
            Some(json!({"comment": "ok"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_shape(
        "beta",
        "POST",
        "/access-request-approvals/{approvalId}/approve",
        202,
        &r.body,
    );
    let done = steps(&app, &clerk).await;
    assert_eq!(
        (done[0].status, done[0].decided_by.as_deref()),
        (ApprovalStatus::Approved, Some(w.gina.id.as_str()))
    );
    assert_eq!(
        done[1].status,
        ApprovalStatus::Pending,
        "the next step opened"
    );
    // A decided approval stays decided.
    let r = app
        .admin(
            "POST",
            &url("v3", &format!("/{}/reject", p_clerk.id)),
            Some(json!({"comment": "no"})),
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("already decided"));
    assert_eq!(steps(&app, &clerk).await, done);
}

#[tokio::test]
async fn approval_summary_per_owner_and_date() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let treasurer = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.strict_role, None).await;
    request(&app, &w.rita.id, &w.rita.id, "ENTITLEMENT", &w.staff, None).await;
    let p = pending(&app, &clerk).await;
    app.call(
        "POST",
        &url("v3", &format!("/{}/approve", p.id)),
        Some(&w.max.token),
        None,
    )
    .await;
    let p = pending(&app, &treasurer).await;
    app.call(
        "POST",
        &url("v3", &format!("/{}/reject", p.id)),
        Some(&w.max.token),
        Some(json!({"comment": "no"})),
    )
    .await;
    for family in FAMILIES {
        let r = app
            .call(
                "GET",
                &url(family, "/approval-summary"),
                Some(&w.max.token),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(
            family,
            "GET",
            &spec(family, "/approval-summary"),
            200,
            &r.body,
        );
        assert_eq!(
            r.body,
            json!({"pending": 0, "approved": 1, "rejected": 1}),
            "{family}"
        );
    }
    // The whole tenant for the admin: Olga's two pending steps (the role's second, HR's entitlement).
    let r = app
        .admin("GET", &url("v3", "/approval-summary"), None)
        .await;
    assert_eq!(r.body, json!({"pending": 2, "approved": 1, "rejected": 1}));
    let r = app
        .admin(
            "GET",
            &url("v3", &format!("/approval-summary?owner-id={}", w.olga.id)),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"pending": 2, "approved": 0, "rejected": 0}));
    let r = app
        .admin(
            "GET",
            &url("v2024", "/approval-summary?from-date=2999-01-01T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"pending": 0, "approved": 0, "rejected": 0}));
    let r = app
        .admin(
            "GET",
            &url("v2024", "/approval-summary?from-date=2020-03-19"),
            None,
        )
        .await;
    assert_eq!(r.body["approved"], 1);
    let r = app
        .admin(
            "GET",
            &url("v2024", "/approval-summary?from-date=yesterday"),
            None,
        )
        .await;
    assert!(assert_error(&r, StatusCode::BAD_REQUEST).contains("from-date"));
    let r = app
        .call(
            "GET",
            &url("v3", &format!("/approval-summary?owner-id={}", w.olga.id)),
            Some(&w.max.token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn approvers_of_a_request() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let auditor = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.group_role, None).await;
    let (p_clerk, p_auditor) = (pending(&app, &clerk).await, pending(&app, &auditor).await);
    for family in ["v2024", "v1"] {
        let r = app
            .admin("GET", &url(family, &format!("/{clerk}/approvers")), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{family}: {}", r.text);
        assert_shape(
            family,
            "GET",
            &spec(family, "/{accessRequestId}/approvers"),
            200,
            &r.body,
        );
        assert_eq!(
            r.body,
            json!([{"id": w.max.id, "name": "max", "email": "max@example.com", "approvalId": p_clerk.id, "type": "Identity"}])
        );
        // A governance group's step lists its members.
        let r = app
            .admin(
                "GET",
                &url(family, &format!("/{auditor}/approvers?count=true")),
                None,
            )
            .await;
        assert_eq!(ids(&r.body), vec![w.gina.id.clone()]);
        assert_eq!(r.body[0]["approvalId"], p_auditor.id.as_str());
        assert_eq!(r.headers["x-total-count"], "1");
        let r = app
            .admin(
                "GET",
                &url(family, "/0123456789abcdef0123456789abcdef/approvers"),
                None,
            )
            .await;
        assert_error(&r, StatusCode::NOT_FOUND);
        let r = app
            .call(
                "GET",
                &url(family, &format!("/{clerk}/approvers")),
                Some(&w.max.token),
                None,
            )
            .await;
        assert_error(&r, StatusCode::FORBIDDEN);
    }
    // Decided steps are nobody's to approve any more.
    app.call(
        "POST",
        &url("v3", &format!("/{}/reject", p_clerk.id)),
        Some(&w.max.token),
        Some(json!({"comment": "no"})),
    )
    .await;
    let r = app
        .admin("GET", &url("v2024", &format!("/{clerk}/approvers")), None)
        .await;
    assert_eq!(r.body, json!([]));
}

#[tokio::test]
async fn bulk_approval_is_all_or_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let clerk = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.role, None).await;
    let staff = request(&app, &w.rita.id, &w.rita.id, "ENTITLEMENT", &w.staff, None).await;
    let treasurer = request(&app, &w.rita.id, &w.rita.id, "ROLE", &w.strict_role, None).await;
    let (a, b, c) = (
        pending(&app, &clerk).await,
        pending(&app, &staff).await,
        pending(&app, &treasurer).await,
    );
    app.call(
        "POST",
        &url("v3", &format!("/{}/reject", c.id)),
        Some(&w.max.token),
        Some(json!({"comment": "no"})),
    )
    .await;
    let ghost = "0123456789abcdef0123456789abcdef";
    let many: Vec<String> = (0..51).map(|i| format!("{i:032x}")).collect();
    for (body, status, needle) in [
        (
            json!({"approvalIds": [a.id, ghost], "comment": "ok"}),
            StatusCode::NOT_FOUND,
            ghost,
        ),
        (
            json!({"approvalIds": [a.id, c.id], "comment": "ok"}),
            StatusCode::BAD_REQUEST,
            c.id.as_str(),
        ),
        (
            json!({"approvalIds": [], "comment": "ok"}),
            StatusCode::BAD_REQUEST,
            "1 to 50",
        ),
        (
            json!({"approvalIds": many, "comment": "ok"}),
            StatusCode::BAD_REQUEST,
            "1 to 50",
        ),
        (
            json!({"approvalIds": [a.id]}),
            StatusCode::BAD_REQUEST,
            "comment",
        ),
        (
            json!({"accessRequestIds": [clerk], "comment": "ok"}),
            StatusCode::BAD_REQUEST,
            "approvalIds",
        ),
    ] {
        let r = app
            .admin("POST", &url("v2024", "/bulk-approve"), Some(body.clone()))
            .await;
        assert!(
            assert_error(&r, status).contains(needle),
            "{body}: {}",
            r.text
        );
    }
    let r = app
        .call(
            "POST",
            &url("v1", "/bulk-approve"),
            Some(&w.max.token),
            Some(json!({"approvalIds": [a.id], "comment": "ok"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    assert_eq!(pending(&app, &clerk).await, a, "nothing was approved");
    assert_eq!(pending(&app, &staff).await, b);

    // v2024: the clerk's first step and the entitlement's only step (a repeated id counts once).
    let r = app
        .admin(
            "POST",
            &url("v2024", "/bulk-approve"),
            Some(json!({"approvalIds": [a.id, b.id, a.id], "comment": "all good"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_shape(
        "v2024",
        "POST",
        "/access-request-approvals/bulk-approve",
        202,
        &r.body,
    );
    assert_eq!(r.body, json!({}));
    for (req, p) in [(&clerk, &a), (&staff, &b)] {
        let s = steps(&app, req).await;
        let mine = s.iter().find(|s| s.id == p.id).unwrap();
        assert_eq!(
            (
                mine.status,
                mine.comment.as_deref(),
                mine.decided_by.as_deref()
            ),
            (
                ApprovalStatus::Approved,
                Some("all good"),
                Some(app.admin_identity.as_str())
            )
        );
    }
    app.drain().await;
    assert_eq!(
        stored_request(&app, &staff).await.state,
        State::RequestCompleted
    );
    // v1: the clerk's second step.
    let second = pending(&app, &clerk).await;
    assert_eq!(second.step, 1);
    let r = app
        .admin(
            "POST",
            &url("v1", "/bulk-approve"),
            Some(json!({"approvalIds": [second.id], "comment": "all good"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_shape(
        "v1",
        "POST",
        "/access-request-approvals/v1/bulk-approve",
        202,
        &r.body,
    );
    app.drain().await;
    assert_eq!(
        stored_request(&app, &clerk).await.state,
        State::RequestCompleted
    );
}
