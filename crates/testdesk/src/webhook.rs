//! Webhook deliveries, one at a time in the order of the status changes that caused them.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, Request, Uri};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::Shared;

/// How long one delivery may take before it counts as failed (status 0).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Delivery {
    pub(crate) url: String,
    pub(crate) bearer: String,
    pub(crate) payload: Value,
}

/// Delivers until every sender is gone, recording each outcome.
pub(crate) async fn run(mut rx: mpsc::UnboundedReceiver<Delivery>, shared: Arc<Shared>) {
    while let Some(delivery) = rx.recv().await {
        let status = tokio::time::timeout(DELIVERY_TIMEOUT, post(&delivery))
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        shared.lock().webhook_results.push(status);
    }
}

/// POSTs the payload over plain HTTP/1.1; `None` if no HTTP answer came back.
async fn post(delivery: &Delivery) -> Option<u16> {
    let uri: Uri = delivery.url.parse().ok()?;
    let authority = uri.authority()?.clone();
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port)).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    let driver = tokio::spawn(conn);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = Request::post(path)
        .header(header::HOST, authority.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {}", delivery.bearer))
        .header(header::USER_AGENT, "gatehouse-testdesk")
        .body(Full::new(Bytes::from(delivery.payload.to_string())))
        .ok()?;
    let result = async {
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        Some(status)
    }
    .await;
    driver.abort();
    result
}
