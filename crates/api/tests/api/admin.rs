//! Gatehouse's admin API: people, PATs for anyone, tenant reset, and the virtual clock.

use crate::support::*;
use axum::http::StatusCode;
use gatehouse_domain::Timestamp;
use serde_json::json;

#[tokio::test]
async fn identities_are_created_once_by_name() {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/identities",
            Some(json!({"name": "bob", "email": "bob@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["authorities"], json!(["USER"]));
    let again = app
        .admin(
            "POST",
            "/gatehouse/v1/identities",
            Some(json!({"name": "bob"})),
        )
        .await;
    assert_error(&again, StatusCode::BAD_REQUEST);
    let bad = app
        .admin(
            "POST",
            "/gatehouse/v1/identities",
            Some(json!({"name": "eve", "authorities": ["GOD"]})),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST);
    let unknown = app
        .admin(
            "POST",
            "/gatehouse/v1/identities/nobody/personal-access-tokens",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(&unknown, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reset_empties_the_tenant_but_keeps_the_caller() {
    let app = TestApp::new().await;
    let (_, bob) = app.person("bob", &["USER"]).await;
    app.admin(
        "POST",
        "/v3/oauth-clients",
        Some(
            json!({"name": "c", "description": "d", "accessTokenValiditySeconds": 60,
            "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true}),
        ),
    )
    .await;
    let r = app.admin("POST", "/gatehouse/v1/tenant/reset", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        app.admin("GET", "/v3/oauth-clients", None).await.body,
        json!([])
    );
    let pats = app.admin("GET", "/v3/personal-access-tokens", None).await;
    let names: Vec<&str> = pats
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["gatehouse-admin"]);
    // Bob is gone; his token still verifies, but he no longer exists as an identity.
    let r = app
        .call(
            "POST",
            "/v3/personal-access-tokens",
            Some(&bob),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN);
    // The admin credentials still work.
    app.token(ADMIN_ID, ADMIN_SECRET).await;
}

#[tokio::test]
async fn the_virtual_clock_moves_forward_only() {
    let app = TestApp::new().await;
    let before = app.admin("GET", "/gatehouse/v1/clock", None).await;
    assert_eq!(before.body["virtual"], true);
    let t0 = Timestamp::parse_rfc3339(before.body["now"].as_str().unwrap()).unwrap();
    let r = app
        .admin(
            "POST",
            "/gatehouse/v1/clock",
            Some(json!({"advance": "PT36H"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let t1 = Timestamp::parse_rfc3339(r.body["now"].as_str().unwrap()).unwrap();
    assert!(t1.0 - t0.0 >= 36 * 3_600_000, "{t0} → {t1}");
    // Tokens still work after the move: they are judged by the wall clock.
    assert_eq!(
        app.admin("GET", "/v3/oauth-clients", None).await.status,
        StatusCode::OK
    );
    let back = app
        .admin(
            "POST",
            "/gatehouse/v1/clock",
            Some(json!({"now": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_error(&back, StatusCode::BAD_REQUEST);
    let target = t1.plus_seconds(86_400);
    let set = app
        .admin(
            "POST",
            "/gatehouse/v1/clock",
            Some(json!({"now": target.to_rfc3339()})),
        )
        .await;
    let t2 = Timestamp::parse_rfc3339(set.body["now"].as_str().unwrap()).unwrap();
    assert!((t2.0 - target.0).abs() < 2_000);
    for bad in [
        json!({"advance": "36 hours"}),
        json!({}),
        json!({"advance": "PT1H", "now": "2030-01-01T00:00:00Z"}),
    ] {
        let r = app.admin("POST", "/gatehouse/v1/clock", Some(bad)).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
}
