//! The benchmarks' baseline: the same web stack and build profile as Gatehouse, answering every
//! GET with a fixed ~600-byte JSON body and doing nothing else. What the machine can serve at
//! all; Gatehouse's figures are reported as ratios to it, measured in the same run.
//!
//! `gatehouse-bench-baseline 127.0.0.1:7199`

use axum::http::header;
use axum::response::IntoResponse;
use axum::Router;

/// A body shaped like a service-desk integration, 600 bytes long.
fn body() -> String {
    let mut b = String::from(
        r#"{"id":"2c9180835d2e5168015d32f890ca1581","name":"Service Desk","description":"Tickets for manual provisioning","type":"ServiceNowSDIM","ownerRef":{"type":"IDENTITY","id":"2c9180a46faadee4016fb4e018c20639","name":"Support"},"clusterRef":{"type":"CLUSTER","id":"2c9180847a7fccdd017aa5896f9f4f6f","name":"Cluster"},"created":"2024-01-17T18:45:25.994Z","modified":"2024-01-17T18:45:25.994Z","attributes":{"url":"https://desk.example.com","username":"svc","password":"********"},"pad":""#,
    );
    while b.len() < 598 {
        b.push('x');
    }
    b.push_str("\"}");
    b
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7199".into());
    let text: &'static str = Box::leak(body().into_boxed_str());
    let app = Router::new().fallback(move || async move {
        ([(header::CONTENT_TYPE, "application/json")], text).into_response()
    });
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("the baseline can listen");
    axum::serve(listener, app)
        .await
        .expect("the baseline serves");
}
