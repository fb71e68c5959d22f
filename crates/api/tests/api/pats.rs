//! Personal access tokens: a person's own, the limits, and who may see or change which.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_pat_acts_as_its_owner() {
    let app = TestApp::new().await;
    let (alice, alice_token) = app.person("alice", &["USER"]).await;
    let created = app
        .call(
            "POST",
            "/v3/personal-access-tokens",
            Some(&alice_token),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(
        created.body["owner"],
        json!({"type": "IDENTITY", "id": alice, "name": "alice"})
    );
    assert_eq!(created.body["accessTokenValiditySeconds"], 43_200);
    assert_millis_date(&created.body["expirationDate"]);
    let token = app
        .token(
            created.body["id"].as_str().unwrap(),
            created.body["secret"].as_str().unwrap(),
        )
        .await;
    let mine = app
        .call(
            "GET",
            "/v3/personal-access-tokens?owner-id=me",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let names: Vec<&str> = mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["alice-pat", "ci"]);
    assert!(mine.body[0].get("secret").is_none());
    // Alice may not look at the admin's tokens, nor change or delete them.
    let theirs = app
        .call(
            "GET",
            &format!("/v3/personal-access-tokens?owner-id={}", app.admin_identity),
            Some(&token),
            None,
        )
        .await;
    assert_error(&theirs, StatusCode::FORBIDDEN);
    let admin_pats = app
        .admin("GET", "/v3/personal-access-tokens?owner-id=me", None)
        .await;
    let admin_pat = admin_pats.body[0]["id"].as_str().unwrap().to_owned();
    let r = app
        .call(
            "DELETE",
            &format!("/v3/personal-access-tokens/{admin_pat}"),
            Some(&token),
            None,
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app
        .call(
            "PATCH",
            &format!("/v3/personal-access-tokens/{admin_pat}"),
            Some(&token),
            Some(json!([{"op": "replace", "path": "/name", "value": "mine now"}])),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
    // The admin sees everyone's.
    let all = app.admin("GET", "/v3/personal-access-tokens", None).await;
    assert_eq!(all.body.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn pat_rules_are_enforced() {
    let app = TestApp::new().await;
    let dup = app
        .admin(
            "POST",
            "/v3/personal-access-tokens",
            Some(json!({"name": "gatehouse-admin"})),
        )
        .await;
    let text = assert_error(&dup, StatusCode::BAD_REQUEST);
    assert!(text.contains("gatehouse-admin"), "{text}");
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "a", "accessTokenValiditySeconds": 10}),
        json!({"name": "a", "accessTokenValiditySeconds": 50_000}),
        json!({"name": "a", "expirationDate": "2001-01-01T00:00:00Z"}),
        json!({"name": "a", "expirationDate": "2999-01-01T00:00:00Z"}),
        json!({"name": "a", "expirationDate": "tomorrow"}),
    ] {
        let r = app
            .admin("POST", "/v3/personal-access-tokens", Some(body.clone()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    // v1: a null expiry must be confirmed.
    let r = app
        .admin(
            "POST",
            "/personal-access-tokens/v1",
            Some(json!({"name": "forever"})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let r = app
        .admin(
            "POST",
            "/personal-access-tokens/v1",
            Some(json!({"name": "forever", "userAwareTokenNeverExpires": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed = app
        .admin("GET", "/personal-access-tokens/v1?owner-id=me", None)
        .await;
    let forever = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "forever")
        .unwrap();
    assert!(forever["expirationDate"].is_null());
    assert_eq!(forever["userAwareTokenNeverExpires"], true);
    // At most ten per person.
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(
            app.admin(
                "POST",
                "/v3/personal-access-tokens",
                Some(json!({"name": format!("t{i}")})),
            )
            .await
            .status,
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        8,
        "{statuses:?}"
    );
    let r = app
        .admin(
            "POST",
            "/v3/personal-access-tokens",
            Some(json!({"name": "eleventh"})),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("10"), "{text}");
}

#[tokio::test]
async fn pat_patch_and_delete() {
    let app = TestApp::new().await;
    let created = app
        .admin(
            "POST",
            "/v2024/personal-access-tokens",
            Some(json!({"name": "old", "scope": ["sp:scopes:all"]})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let r = app
        .admin(
            "PATCH",
            &format!("/v2024/personal-access-tokens/{id}"),
            Some(json!([{"op": "replace", "path": "/name", "value": "new"},
                        {"op": "replace", "path": "/scope", "value": ["sp:scopes:default"]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "new");
    assert_eq!(r.body["scope"], json!(["sp:scopes:default"]));
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/personal-access-tokens/{id}"),
            Some(json!([{"op": "replace", "path": "/owner/id", "value": "x"}])),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/personal-access-tokens/{id}"),
            Some(json!({"op": "replace"})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let r = app
        .admin("DELETE", &format!("/v3/personal-access-tokens/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .admin("DELETE", &format!("/v3/personal-access-tokens/{id}"), None)
        .await;
    assert_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_expired_pat_gets_no_token_on_the_business_clock() {
    let app = TestApp::new().await;
    let now = app.admin("GET", "/gatehouse/v1/clock", None).await.body["now"]
        .as_str()
        .unwrap()
        .to_owned();
    let soon = gatehouse_domain::Timestamp::parse_rfc3339(&now)
        .unwrap()
        .plus_seconds(3_600);
    let created = app
        .admin(
            "POST",
            "/v3/personal-access-tokens",
            Some(json!({"name": "expiring", "expirationDate": soon.to_rfc3339()})),
        )
        .await;
    let (id, secret) = (
        created.body["id"].as_str().unwrap(),
        created.body["secret"].as_str().unwrap(),
    );
    app.token(id, secret).await;
    app.admin(
        "POST",
        "/gatehouse/v1/clock",
        Some(json!({"advance": "PT2H"})),
    )
    .await;
    let r = app
        .call(
            "POST",
            &format!(
                "/oauth/token?grant_type=client_credentials&client_id={id}&client_secret={secret}"
            ),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}
