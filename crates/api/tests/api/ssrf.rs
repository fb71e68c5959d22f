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
        net: NetPolicy::private_allowed(),
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

#[tokio::test]
async fn with_an_allow_list_only_listed_desks_may_be_saved() {
    let listed = TestApp::with(ApiConfig {
        rate_limit: RateLimit::Off,
        net: NetPolicy::only(
            ["127.0.0.1/32", "10.20.0.0/16", "*.corp.example"]
                .iter()
                .map(|e| e.parse().unwrap())
                .collect(),
        ),
        ..ApiConfig::default()
    })
    .await;
    let cat = catalog(&listed).await;
    for url in [
        "http://127.0.0.1:8080",
        "http://10.20.3.4",
        "https://desk.corp.example",
        // A name not on the list passes here and is judged by its addresses when called.
        "https://acme.service-now.com",
    ] {
        create(&listed, with_url(snow(url, &cat, &[]), "url", url)).await;
    }
    let saved = listed
        .admin("GET", "/v3/service-desk-integrations", None)
        .await
        .body;
    for url in [
        "http://127.0.0.2:8080/",
        "http://10.21.0.1/",
        "http://192.168.1.10/",
        "http://8.8.8.8/",
        "http://[::1]/",
        "http://169.254.169.254/",
        "http://metadata.google.internal/",
    ] {
        let r = listed
            .admin(
                "POST",
                "/v3/service-desk-integrations",
                Some(with_url(snow(url, &cat, &[]), "url", url)),
            )
            .await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        assert!(text.contains("attributes.url"), "{url}: {text}");
    }
    let after = listed
        .admin("GET", "/v3/service-desk-integrations", None)
        .await
        .body;
    assert_eq!(after, saved, "a refused URL saves nothing");
}
