//! IN-4 (docs/RELIABILITY.md): bodies and queries of hostile size and shape are refused quickly
//! with 400 or 413, never a 5xx or a crash, and nothing is stored: JSON nested 10,000 deep, a
//! string of almost 1 MiB, an array of 100,000 items, a body over the limit, a page of 10^9.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Sends raw `body` as JSON; checks the answer is `want` (an error document), and quick.
async fn refused(app: &TestApp, method: &str, path: &str, body: Option<String>, want: StatusCode) {
    let mut b = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", app.admin_token));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let req = b
        .body(axum::body::Body::from(body.unwrap_or_default()))
        .unwrap();
    let started = Instant::now();
    let r = app.send(req).await;
    let took = started.elapsed();
    assert_eq!(
        r.status,
        want,
        "{method} {path}: {}",
        &r.text[..r.text.len().min(300)]
    );
    assert!(
        r.text.len() < 4_096,
        "{method} {path}: the answer echoes the input"
    );
    // Generous for an unoptimised build on a shared machine; the point is "no pathological time".
    assert!(took < Duration::from_secs(2), "{method} {path}: {took:?}");
}

#[tokio::test]
async fn hostile_sizes_and_shapes_are_refused_quickly() {
    let app = TestApp::new().await;
    let deep = format!(
        "{}{}",
        "{\"a\":".repeat(10_000),
        "1".to_owned() + &"}".repeat(10_000)
    );
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for path in [
        "/v3/access-requests",
        "/v3/personal-access-tokens",
        "/v3/oauth-clients",
    ] {
        refused(
            &app,
            "POST",
            path,
            Some(deep.clone()),
            StatusCode::BAD_REQUEST,
        )
        .await;
        refused(
            &app,
            "POST",
            path,
            Some(deep_array.clone()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let long = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024 - 64));
    refused(
        &app,
        "POST",
        "/v3/personal-access-tokens",
        Some(long),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let many: Vec<Value> = (0..100_000).map(|_| Value::from(1)).collect();
    let items = serde_json::json!({"requestedFor": ["x"], "requestedItems": many}).to_string();
    assert!(items.len() < 1024 * 1024);
    refused(
        &app,
        "POST",
        "/v3/access-requests",
        Some(items),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let over = format!("[{}1]", "1,".repeat(600_000));
    refused(
        &app,
        "POST",
        "/v3/access-requests",
        Some(over),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    for path in [
        "/v2024/identities?limit=1000000000",
        "/v3/access-request-status?limit=1000000000",
        "/v3/service-desk-integrations?limit=1000000000",
        "/v2024/identities?offset=-1",
        "/v2024/identities?limit=-5",
        "/v2024/identities?limit=99999999999999999999999",
    ] {
        refused(&app, "GET", path, None, StatusCode::BAD_REQUEST).await;
    }
    let stored = app
        .state
        .store()
        .read(|c| {
            Ok((
                c.query_one("select count(*) from access_request", &[])?
                    .int(0)?,
                c.query_one("select count(*) from personal_access_token", &[])?
                    .int(0)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        stored,
        (0, 1),
        "nothing was stored (the admin's own token aside)"
    );
}
