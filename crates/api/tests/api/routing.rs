//! The route table: every spec operation is routed in every family; unbuilt ones answer 501;
//! unknown paths 404, wrong methods 405; `//v3/…` works; filters name what they refuse.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use gatehouse_api::operations::OPERATIONS;
use gatehouse_api::routes::is_implemented;

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') {
                "x0123456789abcdef0123456789abcdef"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_unbuilt_operation_answers_501_in_every_family() {
    let app = TestApp::new().await;
    let mut checked = 0;
    for op in OPERATIONS.iter().filter(|o| !is_implemented(o)) {
        let mut b = Request::builder()
            .method(op.method)
            .uri(concrete(op.path))
            .header("authorization", format!("Bearer {}", app.admin_token))
            .header("x-sailpoint-experimental", "true");
        if op.method != "GET" && op.method != "HEAD" && op.method != "DELETE" {
            b = b.header("content-type", "application/json");
        }
        let r = app.send(b.body(Body::from("{}")).unwrap()).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_IMPLEMENTED,
            "{} {} ({})",
            op.method,
            op.path,
            op.operation_id
        );
        if op.method != "HEAD" {
            let text = assert_error(&r, StatusCode::NOT_IMPLEMENTED);
            assert!(text.contains(op.operation_id), "{text}");
        }
        if op.deprecated {
            assert_eq!(r.headers["x-deprecated"], "true", "{}", op.operation_id);
        }
        checked += 1;
    }
    // Shrinks as operations are built (work items and approvals left 58).
    assert!(
        checked > 0,
        "the table lists the unbuilt operations ({checked})"
    );
}

#[tokio::test]
async fn implemented_operations_are_routed_in_all_four_families() {
    let app = TestApp::new().await;
    for path in [
        "/v3/oauth-clients",
        "/v2024/oauth-clients",
        "/beta/oauth-clients",
        "/oauth-clients/v1",
    ] {
        let r = app.admin("GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    for path in [
        "/v3/personal-access-tokens",
        "/v2024/personal-access-tokens",
        "/beta/personal-access-tokens",
        "/personal-access-tokens/v1",
    ] {
        let r = app.admin("GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
}

#[tokio::test]
async fn unknown_paths_404_wrong_methods_405_and_double_slashes_work() {
    let app = TestApp::new().await;
    let r = app.admin("GET", "/v3/no-such-thing", None).await;
    assert_error(&r, StatusCode::NOT_FOUND);
    let r = app.admin("PUT", "/v3/oauth-clients", None).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED);
    let r = app.admin("GET", "//v3/oauth-clients", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn filters_on_fields_or_operators_not_allowed_are_400_naming_them() {
    let app = TestApp::new().await;
    let r = app
        .admin("GET", "/v3/oauth-clients?filters=name%20eq%20%22x%22", None)
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("name"), "{text}");
    let r = app
        .admin(
            "GET",
            "/v3/oauth-clients?filters=lastUsed%20gt%202024-01-01T00:00:00Z",
            None,
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("gt") && text.contains("lastUsed"), "{text}");
    let r = app
        .admin("GET", "/v3/oauth-clients?filters=lastUsed%20ISNULL", None)
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
    let r = app
        .admin("GET", "/v3/oauth-clients?filters=lastUsed%20isnull", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn experimental_header_is_required_only_where_the_spec_requires_it() {
    let app = TestApp::new().await;
    let r = app
        .admin(
            "POST",
            "/v2024/access-requests/accounts-selection",
            Some(serde_json::json!({})),
        )
        .await;
    let text = assert_error(&r, StatusCode::BAD_REQUEST);
    assert!(text.contains("X-SailPoint-Experimental"), "{text}");
    let r = app
        .send(
            Request::get("/v2024/oauth-clients")
                .header("authorization", format!("Bearer {}", app.admin_token))
                .header("x-sailpoint-experimental", "true")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "accepted everywhere: {}", r.text);
}

#[tokio::test]
async fn health_metrics_and_openapi_answer() {
    let app = TestApp::new().await;
    assert_eq!(
        app.call("GET", "/health/live", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call("GET", "/health/ready", None, None).await.status,
        StatusCode::OK
    );
    app.admin("GET", "/v3/oauth-clients", None).await;
    let m = app.call("GET", "/metrics", None, None).await;
    assert!(m.text.contains("gatehouse_http_requests_total{method=\"GET\",route=\"/v3/oauth-clients\",status=\"200\"}"), "{}", m.text);
    for family in ["v3", "v2024", "beta", "v1"] {
        let r = app
            .call("GET", &format!("/openapi.json?family={family}"), None, None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let paths = r.body["paths"].as_object().unwrap();
        assert!(
            paths.keys().any(|p| p.contains("oauth-clients")),
            "{family}"
        );
        assert!(paths.keys().any(|p| p.contains("work-items")), "{family}");
        let prefix = if family == "v1" {
            String::new()
        } else {
            format!("/{family}")
        };
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                let m = method.to_ascii_uppercase();
                if !matches!(
                    m.as_str(),
                    "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE"
                ) {
                    continue;
                }
                assert!(
                    OPERATIONS.iter().any(|o| o.method == m
                        && o.path == format!("{prefix}{path}")
                        && is_implemented(o)),
                    "{family} lists only what is built: {m} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::new().await;
    let big = serde_json::json!({"name": "x".repeat(2 * 1024 * 1024)});
    let r = app
        .admin("POST", "/v3/personal-access-tokens", Some(big))
        .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE);
    let list = app.admin("GET", "/v3/personal-access-tokens", None).await;
    assert_eq!(
        list.body.as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}
