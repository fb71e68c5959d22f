//! Tenant reset (to empty or to the demo data) and snapshots through `/gatehouse/v1/`.

use crate::support::*;
use axum::http::StatusCode;
use gatehouse_store::tenant_data;
use serde_json::json;

async fn export(app: &TestApp) -> String {
    let tenant = app.tenant_id().await;
    app.state
        .store()
        .read(move |c| tenant_data::export(c, &tenant))
        .await
        .unwrap()
        .to_json_string()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = format!("select count(*) from {table}");
    app.state
        .store()
        .read(move |c| c.query_one(&sql, &[])?.int(0))
        .await
        .unwrap()
}

#[tokio::test]
async fn reset_to_demo_and_back_to_empty() {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/reset",
            Some(json!({"to": "demo"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "demo");
    let people = count(&app, "identity").await;
    assert!(people > 200, "{people} identities after a reset to demo");
    assert_eq!(count(&app, "source").await, 12);
    assert!(count(&app, "assignment").await > 500);
    // Twice gives the same tenant (ids are derived from names).
    let first = export(&app).await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/reset",
            Some(json!({"to": "demo"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(export(&app).await, first);
    // The configured admin credentials still work, and so does the token in hand.
    app.token(ADMIN_ID, ADMIN_SECRET).await;
    let r = app.admin("POST", "/gatehouse/v1/tenant/reset", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "empty");
    assert_eq!(count(&app, "identity").await, 1);
    for table in [
        "source",
        "entitlement",
        "access_profile",
        "role",
        "account",
        "assignment",
    ] {
        assert_eq!(count(&app, table).await, 0, "{table}");
    }
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/reset",
            Some(json!({"to": "empty"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for bad in [
        json!({"to": "everything"}),
        json!({"into": "demo"}),
        json!([1]),
    ] {
        let r = app
            .admin("POST", "/gatehouse/v1/tenant/reset", Some(bad.clone()))
            .await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(!text.is_empty(), "{bad}");
    }
    app.token(ADMIN_ID, ADMIN_SECRET).await;
}

#[tokio::test]
async fn snapshot_change_restore_gives_back_the_snapshot() {
    let app = TestApp::new().await;
    app.admin(
        "POST",
        "/gatehouse/v1/tenant/reset",
        Some(json!({"to": "demo"})),
    )
    .await;
    let before = export(&app).await;
    let people = count(&app, "identity").await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/snapshots",
            Some(json!({"name": "base"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["name"], "base");
    assert!(r.body["rowCount"].as_i64().unwrap() > 2000, "{}", r.text);
    assert_millis_date(&r.body["created"]);
    let dup = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/snapshots",
            Some(json!({"name": "base"})),
        )
        .await;
    assert!(assert_error(&dup, StatusCode::BAD_REQUEST).contains("replace"));
    let again = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/snapshots",
            Some(json!({"name": "base", "replace": true})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);

    // Change things: a new person with a token, a reset to empty.
    let (_, zed) = app.person("zed", &["USER"]).await;
    app.admin("POST", "/gatehouse/v1/tenant/reset", None).await;
    assert_eq!(count(&app, "identity").await, 1);

    let r = app
        .admin("POST", "/gatehouse/v1/tenant/snapshots/base/restore", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    eprintln!(
        "demo snapshot restore through the API: {} rows in {} ms",
        r.body["restored"], r.body["durationMs"]
    );
    assert_eq!(
        export(&app).await,
        before,
        "restore did not give back the snapshot"
    );
    assert_eq!(count(&app, "identity").await, people);
    // zed was made after the snapshot: gone, and his token can no longer act.
    let r = app
        .call(
            "POST",
            "/v3/personal-access-tokens",
            Some(&zed),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    app.token(ADMIN_ID, ADMIN_SECRET).await;

    let list = app
        .admin("GET", "/gatehouse/v1/tenant/snapshots", None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["name"], "base");
    let missing = app
        .admin("POST", "/gatehouse/v1/tenant/snapshots/nope/restore", None)
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND);
    for bad in [json!({"name": "has space"}), json!({"name": ""}), json!({})] {
        let r = app
            .admin("POST", "/gatehouse/v1/tenant/snapshots", Some(bad))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let gone = app
        .admin("DELETE", "/gatehouse/v1/tenant/snapshots/base", None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let again = app
        .admin("DELETE", "/gatehouse/v1/tenant/snapshots/base", None)
        .await;
    assert_error(&again, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn restore_keeps_the_token_the_admin_calls_with() {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/tenant/snapshots",
            Some(json!({"name": "start"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // After the snapshot the admin makes a PAT of their own and calls with it.
    let pat = app
        .admin(
            "POST",
            "/v3/personal-access-tokens",
            Some(json!({"name": "suite"})),
        )
        .await;
    assert_eq!(pat.status, StatusCode::OK, "{}", pat.text);
    let (id, secret) = (
        pat.body["id"].as_str().unwrap().to_owned(),
        pat.body["secret"].as_str().unwrap().to_owned(),
    );
    let token = app.token(&id, &secret).await;
    let other = app
        .admin(
            "POST",
            "/v3/personal-access-tokens",
            Some(json!({"name": "other"})),
        )
        .await;
    let r = app
        .call(
            "POST",
            "/gatehouse/v1/tenant/snapshots/start/restore",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The token used and the configured credentials still give tokens; the other PAT is gone.
    app.token(&id, &secret).await;
    app.token(ADMIN_ID, ADMIN_SECRET).await;
    let gone = app
        .send(
            axum::http::Request::post("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}",
                    other.body["id"].as_str().unwrap(),
                    other.body["secret"].as_str().unwrap()
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{}", gone.text);
}

#[tokio::test]
async fn only_org_admins_reset_or_snapshot() {
    let app = TestApp::new().await;
    let (_, user) = app.person("ursula", &["USER", "HELPDESK"]).await;
    for (method, path) in [
        ("POST", "/gatehouse/v1/tenant/reset"),
        ("POST", "/gatehouse/v1/tenant/snapshots"),
        ("GET", "/gatehouse/v1/tenant/snapshots"),
        ("POST", "/gatehouse/v1/tenant/snapshots/x/restore"),
        ("DELETE", "/gatehouse/v1/tenant/snapshots/x"),
    ] {
        let r = app
            .call(method, path, Some(&user), Some(json!({"name": "x"})))
            .await;
        assert_error(&r, StatusCode::FORBIDDEN);
    }
    assert_eq!(count(&app, "tenant_snapshot").await, 0);
}
