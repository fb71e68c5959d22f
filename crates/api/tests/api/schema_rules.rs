//! Requests the spec's schemas forbid are refused even where the handler could make sense of them
//! (found by schemathesis' negative-data check), and answers keep the schema's types.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn null_patch_values_are_refused_except_for_v1_pat_expiry() {
    let app = TestApp::new().await;
    let c = app
        .admin(
            "POST",
            "/v3/oauth-clients",
            Some(
                json!({"name": "c", "description": "d", "accessTokenValiditySeconds": 60,
                "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": true}),
            ),
        )
        .await;
    let id = c.body["id"].as_str().unwrap();
    let r = app
        .admin(
            "PATCH",
            &format!("/v3/oauth-clients/{id}"),
            Some(json!([{"op": "replace", "path": "/description", "value": null}])),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("null"), "{text}");
    assert_eq!(
        app.admin("GET", &format!("/v3/oauth-clients/{id}"), None)
            .await
            .body["description"],
        "d"
    );
    let pat = app
        .admin(
            "POST",
            "/personal-access-tokens/v1",
            Some(json!({"name": "p", "expirationDate": "2099-01-01T00:00:00Z"})),
        )
        .await;
    let pid = pat.body["id"].as_str().unwrap();
    let r = app
        .admin(
            "PATCH",
            &format!("/personal-access-tokens/v1/{pid}"),
            Some(
                json!([{"op": "replace", "path": "/expirationDate", "value": null},
                        {"op": "replace", "path": "/userAwareTokenNeverExpires", "value": true}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["expirationDate"].is_null());
}

#[tokio::test]
async fn managed_cluster_configuration_is_a_map_of_strings() {
    let app = TestApp::new().await;
    for body in [
        json!({"name": "a", "type": null}),
        json!({"name": "a", "configuration": null}),
        json!({"name": "a", "configuration": {"x": {}}}),
    ] {
        let r = app.admin("POST", "/v3/managed-clusters", Some(body)).await;
        assert_error(&r, StatusCode::BAD_REQUEST);
    }
    let r = app
        .admin("POST", "/v3/managed-clusters", Some(json!({"name": "a"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["configuration"], json!({}));
    assert_eq!(
        app.admin("GET", "/v3/managed-clusters", None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_workgroup_owner_may_be_left_out_but_not_null() {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/v2024/workgroups",
            Some(json!({"name": "g", "owner": null})),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.admin("GET", "/v2024/workgroups", None).await.body,
        json!([])
    );
}
