//! The generic REST desk: an OAuth token endpoint and `/tickets`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Response, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::server::{object_body, query_param, reply};
use crate::state::Rec;
use crate::{auth, Flavor, Shared};

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth/token", post(auth::token))
        .route("/tickets", get(list).post(create))
        .route("/tickets/{id}", get(read).patch(update))
}

/// The ticket as the desk returns it: the fields plus `id`, `status` and `correlationId`.
fn ticket(rec: &Rec) -> Value {
    let mut map = rec.fields.clone();
    map.insert("id".into(), json!(rec.id));
    map.insert("status".into(), json!(rec.status));
    match &rec.correlation_id {
        Some(c) => map.insert("correlationId".into(), json!(c)),
        None => map.remove("correlationId"),
    };
    Value::Object(map)
}

fn not_found() -> Response<Body> {
    reply(StatusCode::NOT_FOUND, json!({"error": "not found"}))
}

fn string_field(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let fields = match object_body(Flavor::Generic, &body) {
        Ok(fields) => fields,
        Err(resp) => return resp,
    };
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    let mut state = shared.lock();
    if let Some(key) = &idempotency_key {
        if let Some(existing) = state
            .tickets
            .iter()
            .find(|t| t.correlation_id.as_deref() == Some(key.as_str()))
        {
            return reply(StatusCode::OK, ticket(existing));
        }
    }
    let id = format!("T-{}", state.next("generic", 1));
    let rec = Rec {
        id: id.clone(),
        number: id,
        correlation_id: string_field(&fields, "correlationId").or(idempotency_key),
        status: string_field(&fields, "status").unwrap_or_else(|| "open".into()),
        fields,
        container: String::new(),
    };
    let body = ticket(&rec);
    state.tickets.push(rec);
    reply(StatusCode::CREATED, body)
}

async fn list(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let wanted = query_param(query.as_deref(), "correlationId");
    let state = shared.lock();
    let items: Vec<Value> = state
        .tickets
        .iter()
        .filter(|t| wanted.is_none() || t.correlation_id == wanted)
        .map(ticket)
        .collect();
    reply(StatusCode::OK, json!({"items": items}))
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let state = shared.lock();
    match state.tickets.iter().find(|t| t.id == id) {
        Some(rec) => reply(StatusCode::OK, ticket(rec)),
        None => not_found(),
    }
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let mut patch = match object_body(Flavor::Generic, &body) {
        Ok(patch) => patch,
        Err(resp) => return resp,
    };
    patch.remove("id");
    let mut state = shared.lock();
    let Some(rec) = state.tickets.iter_mut().find(|t| t.id == id) else {
        return not_found();
    };
    if let Some(status) = string_field(&patch, "status") {
        rec.status = status;
    }
    if let Some(corr) = string_field(&patch, "correlationId") {
        rec.correlation_id = Some(corr);
    }
    rec.fields.extend(patch);
    reply(StatusCode::OK, ticket(rec))
}

pub(crate) fn webhook_payload(rec: &Rec) -> Value {
    json!({
        "event": "ticket.updated",
        "ticket": {"id": rec.id, "status": rec.status, "correlationId": rec.correlation_id},
    })
}
