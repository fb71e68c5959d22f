//! OAuth clients: create, read, patch, filter, delete; secrets shown once and stored hashed.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::json;

fn new_client(name: &str) -> serde_json::Value {
    json!({"name": name, "description": "CI client", "accessTokenValiditySeconds": 750,
           "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true})
}

#[tokio::test]
async fn oauth_client_lifecycle() {
    let app = TestApp::new().await;
    let created = app
        .admin("POST", "/v3/oauth-clients", Some(new_client("ci")))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    assert_eq!(id.len(), 36, "a UUID with dashes: {id}");
    assert_millis_date(&created.body["created"]);
    assert_eq!(created.body["scope"], json!(["sp:scopes:all"]));

    let got = app
        .admin("GET", &format!("/v2024/oauth-clients/{id}"), None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(
        got.body["secret"].is_null(),
        "the secret is shown only at creation"
    );
    assert!(!got.text.contains(&secret));
    assert!(got.body["lastUsed"].is_null());

    let api_token = app.token(&id, &secret).await;
    let after = app
        .admin("GET", &format!("/v3/oauth-clients/{id}"), None)
        .await;
    assert_millis_date(&after.body["lastUsed"]);
    let _ = api_token;

    let patched = app
        .admin(
            "PATCH",
            &format!("/beta/oauth-clients/{id}"),
            Some(
                json!([{"op": "replace", "path": "/name", "value": "renamed"},
                        {"op": "replace", "path": "/enabled", "value": false}]),
            ),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["name"], "renamed");
    assert_eq!(patched.body["enabled"], false);
    // A disabled client gets no tokens.
    let refused = app
        .call(
            "POST",
            &format!(
                "/oauth/token?grant_type=client_credentials&client_id={id}&client_secret={secret}"
            ),
            None,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let ro = app
        .admin(
            "PATCH",
            &format!("/v3/oauth-clients/{id}"),
            Some(json!([{"op": "replace", "path": "/id", "value": "x"}])),
        )
        .await;
    assert_error(&ro, StatusCode::BAD_REQUEST);
    let bad = app
        .admin(
            "PATCH",
            &format!("/v3/oauth-clients/{id}"),
            Some(json!([{"op": "replace", "path": "/grantTypes", "value": ["IMPLICIT"]}])),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST);
    let unchanged = app
        .admin("GET", &format!("/v3/oauth-clients/{id}"), None)
        .await;
    assert_eq!(
        unchanged.body["grantTypes"],
        json!(["CLIENT_CREDENTIALS"]),
        "a refused patch changes nothing"
    );

    let used = app
        .admin("GET", "/v3/oauth-clients?filters=lastUsed%20isnull", None)
        .await;
    assert_eq!(used.body, json!([]));
    let old = app
        .admin(
            "GET",
            "/oauth-clients/v1?filters=lastUsed%20le%202000-01-01T00:00:00.000Z",
            None,
        )
        .await;
    assert_eq!(old.body, json!([]));
    let all = app.admin("GET", "/v3/oauth-clients", None).await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);

    let del = app
        .admin("DELETE", &format!("/v3/oauth-clients/{id}"), None)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = app
        .admin("GET", &format!("/v3/oauth-clients/{id}"), None)
        .await;
    assert_error(&gone, StatusCode::NOT_FOUND);
    let again = app
        .admin("DELETE", &format!("/v3/oauth-clients/{id}"), None)
        .await;
    assert_error(&again, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_oauth_clients_are_refused_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let mut missing = new_client("x");
    missing.as_object_mut().unwrap().remove("grantTypes");
    let bad_type = json!({"name": "x", "description": "d", "accessTokenValiditySeconds": 750,
        "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "SOMETIMES", "enabled": true});
    let code_without_uri = json!({"name": "x", "description": "d", "accessTokenValiditySeconds": 750,
        "grantTypes": ["AUTHORIZATION_CODE"], "accessType": "ONLINE", "enabled": true});
    for body in [
        missing,
        bad_type,
        code_without_uri,
        json!({"name": 5}),
        json!([]),
    ] {
        let r = app
            .admin("POST", "/v3/oauth-clients", Some(body.clone()))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let not_json = app
        .send(
            axum::http::Request::post("/v3/oauth-clients")
                .header("authorization", format!("Bearer {}", app.admin_token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_error(&not_json, StatusCode::BAD_REQUEST);
    let list = app.admin("GET", "/v3/oauth-clients", None).await;
    assert_eq!(list.body, json!([]));
}
