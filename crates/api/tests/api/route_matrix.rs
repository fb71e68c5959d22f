//! AUTH-1 (docs/RELIABILITY.md): every route of the live route table, called by every kind of
//! principal, answers as the declarative policy below says. A route added to the table without
//! an entry here fails the test, and so does an entry whose route is gone.
//!
//! The principals: no token; a person at the USER level; a SERVICE_DESK_ADMIN person; an
//! ORG_ADMIN; an API client (no user context) holding only a few read scopes. "Allowed" means the
//! guard and the handler let the caller through (any answer but 401 or 403: a made-up id gives
//! 404, an empty body 400, an unbuilt operation 501); "denied" means 403 (401 without a token).
//!
//! SEC-1 rides along: a service-desk integration holds a canary password, every `GET` names it
//! wherever a route takes an id, and no answer to any call may contain the canary, nor any line
//! the calls log at the most verbose level (TRACE, every crate).

use crate::service_desk::{catalog, create, snow};
use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_api::routes::all_operations;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The scopes of the API client: reads only, and not of every kind.
const API_SCOPES: &[&str] = &[
    "idn:sources:read",
    "idn:task-management:read",
    "sp:oauth-client:read",
];

/// Who may call each route: `METHOD path` → the principals allowed, among `user` (a USER-level
/// person), `sd` (a SERVICE_DESK_ADMIN person), `admin` (an ORG_ADMIN) and `api` (the API client
/// with [`API_SCOPES`]). Anyone not listed gets 403; without a token every route answers 401.
const POLICY: &[(&str, &str)] = &[
    (
        "DELETE /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}",
        "sd admin",
    ),
    ("DELETE /beta/access-profiles/{id}", "admin"),
    ("DELETE /beta/accounts/{id}", "admin"),
    ("DELETE /beta/identities/{id}", "user sd admin"),
    ("DELETE /beta/oauth-clients/{id}", "admin"),
    ("DELETE /beta/personal-access-tokens/{id}", "user sd admin"),
    ("DELETE /beta/roles/{id}", "admin"),
    ("DELETE /beta/service-desk-integrations/{id}", "sd admin"),
    ("DELETE /beta/sources/{id}", "admin"),
    ("DELETE /beta/workgroups/{id}", "admin"),
    ("DELETE /gatehouse/v1/tenant/snapshots/{name}", "admin"),
    ("DELETE /oauth-clients/v1/{id}", "admin"),
    ("DELETE /personal-access-tokens/v1/{id}", "user sd admin"),
    ("DELETE /service-desk-integrations/v1/{id}", "sd admin"),
    ("DELETE /v2024/access-profiles/{id}", "admin"),
    ("DELETE /v2024/accounts/{id}", "admin"),
    ("DELETE /v2024/identities/{id}", "user sd admin"),
    ("DELETE /v2024/managed-clusters/{id}", "admin"),
    ("DELETE /v2024/oauth-clients/{id}", "admin"),
    ("DELETE /v2024/personal-access-tokens/{id}", "user sd admin"),
    ("DELETE /v2024/roles/{id}", "admin"),
    ("DELETE /v2024/service-desk-integrations/{id}", "sd admin"),
    ("DELETE /v2024/sources/{id}", "admin"),
    ("DELETE /v2024/workgroups/{id}", "admin"),
    ("DELETE /v3/access-profiles/{id}", "admin"),
    ("DELETE /v3/accounts/{id}", "admin"),
    ("DELETE /v3/managed-clusters/{id}", "admin"),
    ("DELETE /v3/oauth-clients/{id}", "admin"),
    ("DELETE /v3/personal-access-tokens/{id}", "user sd admin"),
    ("DELETE /v3/roles/{id}", "admin"),
    ("DELETE /v3/service-desk-integrations/{id}", "sd admin"),
    ("DELETE /v3/sources/{id}", "admin"),
    (
        "GET /access-request-approvals/v1/approval-summary",
        "user sd admin",
    ),
    (
        "GET /access-request-approvals/v1/completed",
        "user sd admin",
    ),
    ("GET /access-request-approvals/v1/pending", "user sd admin"),
    (
        "GET /access-request-approvals/v1/{accessRequestId}/approvers",
        "admin",
    ),
    ("GET /access-request-config/v1", "user sd admin"),
    ("GET /access-request-config/v2", "user sd admin"),
    ("GET /access-request-status/v1", "user sd admin"),
    (
        "GET /api/v2/tenants/{tenantId}/integrations/installed/search",
        "sd admin",
    ),
    (
        "GET /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}",
        "sd admin",
    ),
    ("GET /beta/access-profiles", "admin"),
    ("GET /beta/access-profiles/{id}", "admin"),
    ("GET /beta/access-profiles/{id}/entitlements", "admin"),
    (
        "GET /beta/access-request-approvals/approval-summary",
        "user sd admin",
    ),
    (
        "GET /beta/access-request-approvals/completed",
        "user sd admin",
    ),
    (
        "GET /beta/access-request-approvals/pending",
        "user sd admin",
    ),
    ("GET /beta/access-request-config", "user sd admin"),
    ("GET /beta/access-request-status", "user sd admin"),
    ("GET /beta/accounts", "admin"),
    ("GET /beta/accounts/{id}", "admin"),
    ("GET /beta/entitlements", "user sd admin"),
    ("GET /beta/entitlements/{id}", "admin"),
    ("GET /beta/identities", "user sd admin"),
    ("GET /beta/identities/{id}", "user sd admin"),
    ("GET /beta/managed-clusters", "admin"),
    ("GET /beta/managed-clusters/{id}", "admin"),
    ("GET /beta/oauth-clients", "admin"),
    ("GET /beta/oauth-clients/{id}", "api admin"),
    ("GET /beta/personal-access-tokens", "user sd admin"),
    ("GET /beta/roles", "admin"),
    ("GET /beta/roles/{id}", "admin"),
    ("GET /beta/service-desk-integrations", "sd admin"),
    (
        "GET /beta/service-desk-integrations/status-check-configuration",
        "sd admin",
    ),
    (
        "GET /beta/service-desk-integrations/templates/{scriptName}",
        "sd admin",
    ),
    ("GET /beta/service-desk-integrations/types", "sd admin"),
    ("GET /beta/service-desk-integrations/{id}", "sd admin"),
    ("GET /beta/sources", "admin"),
    ("GET /beta/sources/{id}", "api admin"),
    ("GET /beta/task-status", "api admin"),
    ("GET /beta/task-status/pending-tasks", "api admin"),
    ("GET /beta/task-status/{id}", "api admin"),
    ("GET /beta/work-items", "admin"),
    ("GET /beta/work-items/completed", "admin"),
    ("GET /beta/work-items/completed/count", "admin"),
    ("GET /beta/work-items/count", "admin"),
    ("GET /beta/work-items/summary", "admin"),
    ("GET /beta/work-items/{id}", "admin"),
    ("GET /beta/workgroups", "admin"),
    ("GET /beta/workgroups/{id}", "admin"),
    ("GET /beta/workgroups/{workgroupId}/members", "admin"),
    ("GET /gatehouse/v1/clock", "admin"),
    ("GET /gatehouse/v1/identities/{id}/access", "admin"),
    ("GET /gatehouse/v1/tenant/snapshots", "admin"),
    ("GET /oauth-clients/v1", "admin"),
    ("GET /oauth-clients/v1/{id}", "api admin"),
    ("GET /personal-access-tokens/v1", "user sd admin"),
    ("GET /service-desk-integrations/v1", "sd admin"),
    (
        "GET /service-desk-integrations/v1/status-check-configuration",
        "sd admin",
    ),
    (
        "GET /service-desk-integrations/v1/templates/{scriptName}",
        "sd admin",
    ),
    ("GET /service-desk-integrations/v1/types", "sd admin"),
    ("GET /service-desk-integrations/v1/{id}", "sd admin"),
    ("GET /task-status/v1", "api admin"),
    ("GET /task-status/v1/{id}", "api admin"),
    ("GET /v2024/access-profiles", "admin"),
    ("GET /v2024/access-profiles/{id}", "admin"),
    ("GET /v2024/access-profiles/{id}/entitlements", "admin"),
    (
        "GET /v2024/access-request-approvals/approval-summary",
        "user sd admin",
    ),
    (
        "GET /v2024/access-request-approvals/completed",
        "user sd admin",
    ),
    (
        "GET /v2024/access-request-approvals/pending",
        "user sd admin",
    ),
    (
        "GET /v2024/access-request-approvals/{accessRequestId}/approvers",
        "admin",
    ),
    ("GET /v2024/access-request-config", "user sd admin"),
    ("GET /v2024/access-request-status", "user sd admin"),
    ("GET /v2024/accounts", "admin"),
    ("GET /v2024/accounts/{id}", "admin"),
    ("GET /v2024/entitlements", "user sd admin"),
    ("GET /v2024/entitlements/{id}", "admin"),
    ("GET /v2024/identities", "user sd admin"),
    ("GET /v2024/identities/{id}", "user sd admin"),
    ("GET /v2024/managed-clusters", "admin"),
    ("GET /v2024/managed-clusters/{id}", "admin"),
    ("GET /v2024/oauth-clients", "admin"),
    ("GET /v2024/oauth-clients/{id}", "api admin"),
    ("GET /v2024/personal-access-tokens", "user sd admin"),
    ("GET /v2024/public-identities", "user sd admin"),
    ("GET /v2024/roles", "admin"),
    ("GET /v2024/roles/{id}", "admin"),
    ("GET /v2024/service-desk-integrations", "sd admin"),
    (
        "GET /v2024/service-desk-integrations/status-check-configuration",
        "sd admin",
    ),
    (
        "GET /v2024/service-desk-integrations/templates/{scriptName}",
        "sd admin",
    ),
    ("GET /v2024/service-desk-integrations/types", "sd admin"),
    ("GET /v2024/service-desk-integrations/{id}", "sd admin"),
    ("GET /v2024/sources", "api admin"),
    ("GET /v2024/sources/{id}", "api admin"),
    ("GET /v2024/task-status", "api admin"),
    ("GET /v2024/task-status/pending-tasks", "api admin"),
    ("GET /v2024/task-status/{id}", "api admin"),
    ("GET /v2024/work-items", "user sd admin"),
    ("GET /v2024/work-items/completed", "user sd admin"),
    ("GET /v2024/work-items/completed/count", "user sd admin"),
    ("GET /v2024/work-items/count", "user sd admin"),
    ("GET /v2024/work-items/summary", "user sd admin"),
    ("GET /v2024/work-items/{id}", "user sd admin"),
    ("GET /v2024/workgroups", "admin"),
    ("GET /v2024/workgroups/{id}", "admin"),
    ("GET /v2024/workgroups/{workgroupId}/members", "admin"),
    ("GET /v3/access-profiles", "admin"),
    ("GET /v3/access-profiles/{id}", "admin"),
    ("GET /v3/access-profiles/{id}/entitlements", "admin"),
    (
        "GET /v3/access-request-approvals/approval-summary",
        "user sd admin",
    ),
    (
        "GET /v3/access-request-approvals/completed",
        "user sd admin",
    ),
    ("GET /v3/access-request-approvals/pending", "user sd admin"),
    ("GET /v3/access-request-config", "user sd admin"),
    ("GET /v3/access-request-status", "user sd admin"),
    ("GET /v3/accounts", "admin"),
    ("GET /v3/accounts/{id}", "admin"),
    ("GET /v3/managed-clusters", "admin"),
    ("GET /v3/managed-clusters/{id}", "admin"),
    ("GET /v3/oauth-clients", "admin"),
    ("GET /v3/oauth-clients/{id}", "api admin"),
    ("GET /v3/personal-access-tokens", "user sd admin"),
    ("GET /v3/public-identities", "user sd admin"),
    ("GET /v3/roles", "admin"),
    ("GET /v3/roles/{id}", "admin"),
    ("GET /v3/service-desk-integrations", "sd admin"),
    (
        "GET /v3/service-desk-integrations/status-check-configuration",
        "sd admin",
    ),
    (
        "GET /v3/service-desk-integrations/templates/{scriptName}",
        "sd admin",
    ),
    ("GET /v3/service-desk-integrations/types", "sd admin"),
    ("GET /v3/service-desk-integrations/{id}", "sd admin"),
    ("GET /v3/sources", "api admin"),
    ("GET /v3/sources/{id}", "api admin"),
    ("GET /v3/work-items", "user sd admin"),
    ("GET /v3/work-items/completed", "user sd admin"),
    ("GET /v3/work-items/completed/count", "user sd admin"),
    ("GET /v3/work-items/count", "user sd admin"),
    ("GET /v3/work-items/summary", "user sd admin"),
    ("GET /v3/work-items/{id}", "user sd admin"),
    ("GET /work-items/v1", "user sd admin"),
    ("GET /work-items/v1/completed", "user sd admin"),
    ("GET /work-items/v1/completed/count", "user sd admin"),
    ("GET /work-items/v1/count", "user sd admin"),
    ("GET /work-items/v1/summary", "user sd admin"),
    ("GET /work-items/v1/{id}", "user sd admin"),
    ("HEAD /beta/task-status/pending-tasks", "api admin"),
    ("HEAD /v2024/task-status/pending-tasks", "api admin"),
    ("PATCH /beta/access-profiles/{id}", "admin"),
    ("PATCH /beta/accounts/{id}", "admin"),
    ("PATCH /beta/entitlements/{id}", "admin"),
    ("PATCH /beta/oauth-clients/{id}", "admin"),
    ("PATCH /beta/personal-access-tokens/{id}", "user sd admin"),
    ("PATCH /beta/roles/{id}", "admin"),
    ("PATCH /beta/service-desk-integrations/{id}", "sd admin"),
    ("PATCH /beta/sources/{id}", "admin"),
    ("PATCH /beta/task-status/{id}", "admin"),
    ("PATCH /beta/workgroups/{id}", "admin"),
    ("PATCH /oauth-clients/v1/{id}", "admin"),
    ("PATCH /personal-access-tokens/v1/{id}", "user sd admin"),
    ("PATCH /service-desk-integrations/v1/{id}", "sd admin"),
    ("PATCH /task-status/v1/{id}", "admin"),
    ("PATCH /v2024/access-profiles/{id}", "admin"),
    ("PATCH /v2024/accounts/{id}", "admin"),
    ("PATCH /v2024/entitlements/{id}", "admin"),
    ("PATCH /v2024/managed-clusters/{id}", "admin"),
    ("PATCH /v2024/oauth-clients/{id}", "admin"),
    ("PATCH /v2024/personal-access-tokens/{id}", "user sd admin"),
    ("PATCH /v2024/roles/{id}", "admin"),
    ("PATCH /v2024/service-desk-integrations/{id}", "sd admin"),
    ("PATCH /v2024/sources/{id}", "admin"),
    ("PATCH /v2024/task-status/{id}", "admin"),
    ("PATCH /v2024/workgroups/{id}", "admin"),
    ("PATCH /v3/access-profiles/{id}", "admin"),
    ("PATCH /v3/accounts/{id}", "admin"),
    ("PATCH /v3/managed-clusters/{id}", "admin"),
    ("PATCH /v3/oauth-clients/{id}", "admin"),
    ("PATCH /v3/personal-access-tokens/{id}", "user sd admin"),
    ("PATCH /v3/roles/{id}", "admin"),
    ("PATCH /v3/service-desk-integrations/{id}", "sd admin"),
    ("PATCH /v3/sources/{id}", "admin"),
    ("POST /access-request-approvals/v1/bulk-approve", "admin"),
    (
        "POST /access-request-approvals/v1/{approvalId}/approve",
        "user sd admin",
    ),
    (
        "POST /access-request-approvals/v1/{approvalId}/forward",
        "user sd admin",
    ),
    (
        "POST /access-request-approvals/v1/{approvalId}/reject",
        "user sd admin",
    ),
    ("POST /access-requests/v1", "user sd admin"),
    (
        "POST /access-requests/v1/accounts-selection",
        "user sd admin",
    ),
    ("POST /access-requests/v1/bulk-cancel", "admin"),
    ("POST /access-requests/v1/cancel", "user sd admin"),
    ("POST /access-requests/v1/close", "admin"),
    (
        "POST /api/v2/tenants/{tenantId}/integrations/install/{intgId}",
        "sd admin",
    ),
    (
        "POST /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}",
        "sd admin",
    ),
    (
        "POST /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}/inbound/token",
        "sd admin",
    ),
    (
        "POST /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}/uninstall",
        "sd admin",
    ),
    ("POST /beta/access-profiles", "admin"),
    (
        "POST /beta/access-request-approvals/{approvalId}/approve",
        "user sd admin",
    ),
    (
        "POST /beta/access-request-approvals/{approvalId}/forward",
        "user sd admin",
    ),
    (
        "POST /beta/access-request-approvals/{approvalId}/reject",
        "user sd admin",
    ),
    ("POST /beta/access-requests", "user sd admin"),
    ("POST /beta/access-requests/cancel", "user sd admin"),
    ("POST /beta/access-requests/close", "admin"),
    ("POST /beta/accounts", "admin"),
    ("POST /beta/oauth-clients", "admin"),
    ("POST /beta/personal-access-tokens", "user sd admin"),
    ("POST /beta/roles", "admin"),
    ("POST /beta/service-desk-integrations", "sd admin"),
    ("POST /beta/sources", "admin"),
    ("POST /beta/work-items/bulk-approve/{id}", "admin"),
    ("POST /beta/work-items/bulk-reject/{id}", "admin"),
    ("POST /beta/work-items/{id}", "admin"),
    (
        "POST /beta/work-items/{id}/approve/{approvalItemId}",
        "admin",
    ),
    ("POST /beta/work-items/{id}/forward", "admin"),
    (
        "POST /beta/work-items/{id}/reject/{approvalItemId}",
        "admin",
    ),
    (
        "POST /beta/work-items/{id}/submit-account-selection",
        "admin",
    ),
    ("POST /beta/workgroups", "admin"),
    ("POST /gatehouse/v1/clock", "admin"),
    ("POST /gatehouse/v1/identities", "admin"),
    (
        "POST /gatehouse/v1/identities/{id}/personal-access-tokens",
        "admin",
    ),
    ("POST /gatehouse/v1/tenant/reset", "admin"),
    ("POST /gatehouse/v1/tenant/snapshots", "admin"),
    (
        "POST /gatehouse/v1/tenant/snapshots/{name}/restore",
        "admin",
    ),
    ("POST /oauth-clients/v1", "admin"),
    ("POST /personal-access-tokens/v1", "user sd admin"),
    ("POST /service-desk-integrations/v1", "sd admin"),
    ("POST /v2024/access-profiles", "admin"),
    ("POST /v2024/access-request-approvals/bulk-approve", "admin"),
    (
        "POST /v2024/access-request-approvals/{approvalId}/approve",
        "user sd admin",
    ),
    (
        "POST /v2024/access-request-approvals/{approvalId}/forward",
        "user sd admin",
    ),
    (
        "POST /v2024/access-request-approvals/{approvalId}/reject",
        "user sd admin",
    ),
    ("POST /v2024/access-requests", "user sd admin"),
    (
        "POST /v2024/access-requests/accounts-selection",
        "user sd admin",
    ),
    ("POST /v2024/access-requests/bulk-cancel", "admin"),
    ("POST /v2024/access-requests/cancel", "user sd admin"),
    ("POST /v2024/access-requests/close", "admin"),
    ("POST /v2024/accounts", "admin"),
    ("POST /v2024/managed-clusters", "admin"),
    ("POST /v2024/oauth-clients", "admin"),
    ("POST /v2024/personal-access-tokens", "user sd admin"),
    ("POST /v2024/roles", "admin"),
    ("POST /v2024/service-desk-integrations", "sd admin"),
    ("POST /v2024/sources", "admin"),
    ("POST /v2024/work-items/bulk-approve/{id}", "user sd admin"),
    ("POST /v2024/work-items/bulk-reject/{id}", "user sd admin"),
    ("POST /v2024/work-items/{id}", "user sd admin"),
    (
        "POST /v2024/work-items/{id}/approve/{approvalItemId}",
        "user sd admin",
    ),
    ("POST /v2024/work-items/{id}/forward", "user sd admin"),
    (
        "POST /v2024/work-items/{id}/reject/{approvalItemId}",
        "user sd admin",
    ),
    (
        "POST /v2024/work-items/{id}/submit-account-selection",
        "user sd admin",
    ),
    ("POST /v2024/workgroups", "admin"),
    ("POST /v3/access-profiles", "admin"),
    (
        "POST /v3/access-request-approvals/{approvalId}/approve",
        "user sd admin",
    ),
    (
        "POST /v3/access-request-approvals/{approvalId}/forward",
        "user sd admin",
    ),
    (
        "POST /v3/access-request-approvals/{approvalId}/reject",
        "user sd admin",
    ),
    ("POST /v3/access-requests", "user sd admin"),
    ("POST /v3/access-requests/cancel", "user sd admin"),
    ("POST /v3/accounts", "admin"),
    ("POST /v3/managed-clusters", "admin"),
    ("POST /v3/oauth-clients", "admin"),
    ("POST /v3/personal-access-tokens", "user sd admin"),
    ("POST /v3/roles", "admin"),
    ("POST /v3/service-desk-integrations", "sd admin"),
    ("POST /v3/sources", "admin"),
    ("POST /v3/work-items/bulk-approve/{id}", "user sd admin"),
    ("POST /v3/work-items/bulk-reject/{id}", "user sd admin"),
    ("POST /v3/work-items/{id}", "user sd admin"),
    (
        "POST /v3/work-items/{id}/approve/{approvalItemId}",
        "user sd admin",
    ),
    ("POST /v3/work-items/{id}/forward", "user sd admin"),
    (
        "POST /v3/work-items/{id}/reject/{approvalItemId}",
        "user sd admin",
    ),
    (
        "POST /v3/work-items/{id}/submit-account-selection",
        "user sd admin",
    ),
    ("POST /work-items/v1/bulk-approve/{id}", "user sd admin"),
    ("POST /work-items/v1/bulk-reject/{id}", "user sd admin"),
    ("POST /work-items/v1/{id}", "user sd admin"),
    (
        "POST /work-items/v1/{id}/approve/{approvalItemId}",
        "user sd admin",
    ),
    ("POST /work-items/v1/{id}/forward", "user sd admin"),
    (
        "POST /work-items/v1/{id}/reject/{approvalItemId}",
        "user sd admin",
    ),
    (
        "POST /work-items/v1/{id}/submit-account-selection",
        "user sd admin",
    ),
    ("PUT /access-request-config/v1", "admin"),
    ("PUT /access-request-config/v2", "admin"),
    ("PUT /beta/access-request-config", "admin"),
    ("PUT /beta/accounts/{id}", "admin"),
    (
        "PUT /beta/service-desk-integrations/status-check-configuration",
        "sd admin",
    ),
    ("PUT /beta/service-desk-integrations/{id}", "sd admin"),
    ("PUT /beta/sources/{id}", "admin"),
    (
        "PUT /service-desk-integrations/v1/status-check-configuration",
        "sd admin",
    ),
    ("PUT /service-desk-integrations/v1/{id}", "sd admin"),
    ("PUT /v2024/access-request-config", "admin"),
    ("PUT /v2024/accounts/{id}", "admin"),
    (
        "PUT /v2024/service-desk-integrations/status-check-configuration",
        "sd admin",
    ),
    ("PUT /v2024/service-desk-integrations/{id}", "sd admin"),
    ("PUT /v2024/sources/{id}", "admin"),
    ("PUT /v3/access-request-config", "admin"),
    ("PUT /v3/accounts/{id}", "admin"),
    (
        "PUT /v3/service-desk-integrations/status-check-configuration",
        "sd admin",
    ),
    ("PUT /v3/service-desk-integrations/{id}", "sd admin"),
    ("PUT /v3/sources/{id}", "admin"),
];

struct Principal {
    name: &'static str,
    token: String,
}

const CANARY: &str = "CANARY-3b9f0c1d7e2a48f6a5d4c3b2a1908f7e";

/// `path` with its parameters filled in: the tenant, and for reads the canary integration's id
/// (so that every read of an integration reads the one holding the canary); otherwise a made-up
/// id, so that no write touches anything.
fn concrete(method: &str, path: &str, tenant: &str, canary_id: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{tenantId}" => tenant.to_owned(),
            s if s.starts_with('{') && matches!(method, "GET" | "HEAD") => canary_id.to_owned(),
            s if s.starts_with('{') => "2c9180835d2e5168015d32f890ca1581".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> StatusCode {
    let reply = call_reply(app, method, path, token).await;
    assert!(
        !reply.text.contains(CANARY),
        "{method} {path} answered the canary: {}",
        reply.text
    );
    reply.status
}

pub async fn call_reply(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("x-sailpoint-experimental", "true");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let body = if matches!(method, "POST" | "PUT" | "PATCH") {
        b = b.header(
            "content-type",
            if method == "PATCH" {
                "application/json-patch+json"
            } else {
                "application/json"
            },
        );
        // An empty object (an empty patch for PATCH): refused by the handler if it gets that far,
        // so a route whose guard lets the caller through changes nothing.
        Body::from(if method == "PATCH" { "[]" } else { "{}" })
    } else {
        Body::empty()
    };
    app.send(b.body(body).unwrap()).await
}

#[tokio::test]
async fn every_route_answers_each_principal_as_the_policy_says() {
    let logs = crate::service_desk_secrets::captured_logs();
    let app = TestApp::new().await;
    let tenant = app.tenant_id().await;
    let cat = catalog(&app).await;
    let mut desk = snow("Canary desk", &cat, &[0]);
    desk["attributes"]["password"] = json!(CANARY);
    let canary = create(&app, desk).await;
    let canary_id = canary["id"].as_str().unwrap().to_owned();
    // The canary is there to be found: the integration reads back masked.
    let r = app
        .admin(
            "GET",
            &format!("/v3/service-desk-integrations/{canary_id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["attributes"]["password"], "********");
    let (_, user) = app.person("matrix.user", &["USER"]).await;
    let (_, sd) = app.person("matrix.sd", &["SERVICE_DESK_ADMIN"]).await;
    let client = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(
                json!({"name": "matrix", "description": "AUTH-1", "accessTokenValiditySeconds": 750,
                        "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE",
                        "enabled": true, "scope": API_SCOPES}),
            ),
        )
        .await;
    assert_eq!(client.status, StatusCode::OK, "{}", client.text);
    assert_eq!(client.body["scope"], json!(API_SCOPES));
    let api = app
        .token(
            client.body["id"].as_str().unwrap(),
            client.body["secret"].as_str().unwrap(),
        )
        .await;
    // The ORG_ADMIN goes last: its calls may change the tenant (none should, with these bodies).
    let principals = [
        Principal {
            name: "api",
            token: api,
        },
        Principal {
            name: "user",
            token: user,
        },
        Principal {
            name: "sd",
            token: sd,
        },
        Principal {
            name: "admin",
            token: app.admin_token.clone(),
        },
    ];

    let policy: BTreeMap<&str, BTreeSet<&str>> = POLICY
        .iter()
        .map(|(route, who)| (*route, who.split_whitespace().collect()))
        .collect();
    assert_eq!(policy.len(), POLICY.len(), "a route is listed twice");
    // Resetting or restoring the tenant (as the admin, last of all) empties it: those go last.
    let mut routes: Vec<_> = all_operations()
        .map(|op| (format!("{} {}", op.method, op.path), op))
        .collect();
    routes.sort_by_key(|(_, op)| op.path.contains("/tenant/reset") || op.path.contains("/restore"));

    let mut problems = Vec::new();
    let mut observed = BTreeMap::new();
    for (key, op) in &routes {
        let path = concrete(op.method, op.path, &tenant, &canary_id);
        let anon = call(&app, op.method, &path, None).await;
        if anon != StatusCode::UNAUTHORIZED {
            problems.push(format!("{key}: without a token {anon}, not 401"));
        }
    }
    for p in &principals {
        for (key, op) in &routes {
            let path = concrete(op.method, op.path, &tenant, &canary_id);
            let status = call(&app, op.method, &path, Some(&p.token)).await;
            let allowed = match status {
                StatusCode::FORBIDDEN => false,
                StatusCode::UNAUTHORIZED => {
                    problems.push(format!("{key}: {} got 401 with a valid token", p.name));
                    false
                }
                _ => true,
            };
            if allowed {
                observed
                    .entry(key.clone())
                    .or_insert_with(Vec::new)
                    .push(p.name);
            } else {
                observed.entry(key.clone()).or_insert_with(Vec::new);
            }
            if let Some(expected) = policy.get(key.as_str()) {
                if expected.contains(p.name) != allowed {
                    problems.push(format!(
                        "{key}: {} got {status}, the policy says {}",
                        p.name,
                        if expected.contains(p.name) {
                            "allowed"
                        } else {
                            "denied"
                        }
                    ));
                }
            }
        }
    }
    // The routes outside the table, read as the admin.
    for path in [
        "/openapi.json",
        "/metrics",
        "/health/live",
        "/health/ready",
        "/oauth/info",
    ] {
        call(&app, "GET", path, Some(&app.admin_token.clone())).await;
    }
    let live: BTreeSet<&str> = routes.iter().map(|(k, _)| k.as_str()).collect();
    for (key, who) in &observed {
        if !policy.contains_key(key.as_str()) {
            problems.push(format!(
                "no policy entry for route {key} (observed: (\"{key}\", \"{}\"),)",
                who.join(" ")
            ));
        }
    }
    for key in policy.keys() {
        if !live.contains(key) {
            problems.push(format!("policy entry {key} names no route of the table"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // SEC-1 in the logs. The capture is the test binary's (shared by the tests running beside
    // this one), so it must hold this test's own calls: the paths naming the canary integration.
    let logs = logs.lock().unwrap();
    assert!(
        crate::service_desk_secrets::contains(&logs, &canary_id),
        "the matrix's calls were logged"
    );
    assert!(
        !crate::service_desk_secrets::contains(&logs, CANARY),
        "a log line holds the canary"
    );
}

/// The spec states no user levels for some `/beta` operations whose `/v3` or `/v2024` siblings
/// are for admins only (workgroups, sources, managed clusters). A person at the USER level, whose
/// token holds `sp:scopes:all`, must not reach them through `/beta`.
#[tokio::test]
async fn a_user_cannot_reach_admin_operations_through_a_sibling_family() {
    let app = TestApp::new().await;
    let (me, user) = app.person("sibling.user", &["USER"]).await;
    let r = app
        .call(
            "POST",
            "/beta/workgroups",
            Some(&user),
            Some(json!({"name": "mine", "owner": {"type": "IDENTITY", "id": me}})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    let r = app
        .admin(
            "POST",
            "/v2024/workgroups",
            Some(
                json!({"name": "theirs", "owner": {"type": "IDENTITY", "id": app.admin_identity}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let group = r.body["id"].as_str().unwrap().to_owned();
    for (method, body) in [
        ("GET", None),
        (
            "PATCH",
            Some(json!([{"op": "replace", "path": "/name", "value": "taken"}])),
        ),
        ("DELETE", None),
    ] {
        let r = app
            .call(
                method,
                &format!("/beta/workgroups/{group}"),
                Some(&user),
                body,
            )
            .await;
        assert_error(&r, StatusCode::FORBIDDEN);
    }
    let r = app
        .admin("GET", &format!("/v2024/workgroups/{group}"), None)
        .await;
    assert_eq!(r.body["name"], "theirs", "{}", r.text);
}
