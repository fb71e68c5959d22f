//! Service-desk URLs that would reach metadata, link-local or (unless allowed) private addresses
//! are refused when saved, through every write.

use crate::service_desk::{catalog, create, snow};
use crate::support::{assert_error, TestApp};
use axum::http::StatusCode;
use gatehouse_api::auth::rate_limit::RateLimit;
use gatehouse_api::ApiConfig;
use gatehouse_domain::net_guard::NetPolicy;
use serde_json::json;

fn with_url(mut body: serde_json::Value, field: &str, url: &str) -> serde_json::Value {
    body["attributes"][field] = json!(url);
    body
}

#[tokio::test]
async fn hostile_service_desk_urls_are_refused_when_saved() {
    let app = TestApp::new().await;
    let cat = catalog(&app).await;
    let ok = create(&app, snow("Desk", &cat, &[])).await;
    let id = ok["id"].as_str().unwrap().to_owned();
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/",
        "http://[::ffff:169.254.169.254]/",
        "http://0xa9fea9fe/",
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://10.1.2.3/",
        "gopher://desk.example.com/",
    ] {
        for field in ["url", "tokenUrl"] {
            let body = with_url(snow(&format!("Bad {url}"), &cat, &[]), field, url);
            let r = app
                .admin("POST", "/v3/service-desk-integrations", Some(body.clone()))
                .await;
            let text = assert_error(&r, StatusCode::BAD_REQUEST);
            assert!(
                text.contains(&format!("attributes.{field}")),
                "{url}: {text}"
            );
            assert!(
                !text.contains(url),
                "the message must not echo the URL: {text}"
            );
            let r = app
                .admin(
                    "PUT",
                    &format!("/v3/service-desk-integrations/{id}"),
                    Some(with_url(snow("Desk", &cat, &[]), field, url)),
                )
                .await;
            assert_error(&r, StatusCode::BAD_REQUEST);
        }
    }
    let r = app
        .admin("GET", &format!("/v3/service-desk-integrations/{id}"), None)
        .await;
    assert_eq!(r.body["attributes"]["url"], "https://acme.service-now.com");

    // With private networks allowed, a desk on the local network may be saved; metadata never.
    let local = TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        net: NetPolicy {
            allow_private: true,
        },
        ..ApiConfig::default()
    })
    .await;
    let cat = catalog(&local).await;
    create(
        &local,
        with_url(snow("Local", &cat, &[]), "url", "http://127.0.0.1:8080"),
    )
    .await;
    let r = local
        .admin(
            "POST",
            "/v3/service-desk-integrations",
            Some(with_url(
                snow("Meta", &cat, &[]),
                "url",
                "http://169.254.169.254/",
            )),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST);
}
