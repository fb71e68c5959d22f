//! ServiceNow: the OAuth token endpoint and the Table API.

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
        .route("/oauth_token.do", post(auth::token))
        .route("/api/now/table/{table}", get(list).post(create))
        .route(
            "/api/now/table/{table}/{sys_id}",
            get(read).patch(update).put(update),
        )
}

/// The number prefix ServiceNow uses for a table.
fn prefix(table: &str) -> &'static str {
    match table {
        "incident" => "INC",
        "sc_request" => "REQ",
        "sc_req_item" => "RITM",
        "sc_task" => "SCTASK",
        "change_request" => "CHG",
        "problem" => "PRB",
        _ => "TASK",
    }
}

/// A JSON value as ServiceNow compares it: strings as they are, anything else as JSON text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The record as the Table API returns it: the fields plus the desk-assigned ones.
fn record(rec: &Rec) -> Value {
    let mut map = rec.fields.clone();
    map.insert("sys_id".into(), json!(rec.id));
    map.insert("number".into(), json!(rec.number));
    map.insert("state".into(), json!(rec.status));
    map.insert(
        "correlation_id".into(),
        json!(rec.correlation_id.clone().unwrap_or_default()),
    );
    map.insert("sys_class_name".into(), json!(rec.container));
    Value::Object(map)
}

fn no_record(sys_id: &str) -> Response<Body> {
    reply(
        StatusCode::NOT_FOUND,
        json!({
            "error": {
                "message": "No Record found",
                "detail": format!("Record doesn't exist or ACL restricts the record retrieval ({sys_id})"),
            },
            "status": "failure",
        }),
    )
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(table): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let fields = match object_body(Flavor::ServiceNow, &body) {
        Ok(fields) => fields,
        Err(resp) => return resp,
    };
    let status = fields.get("state").map(text).unwrap_or_else(|| "1".into());
    let correlation_id = fields
        .get("correlation_id")
        .map(text)
        .filter(|c| !c.is_empty());
    let mut state = shared.lock();
    let prefix = prefix(&table);
    let number = format!("{prefix}{:07}", state.next(prefix, 10001));
    let rec = Rec {
        id: uuid::Uuid::new_v4().simple().to_string(),
        number,
        correlation_id,
        fields,
        status,
        container: table,
    };
    let body = json!({"result": record(&rec)});
    state.tickets.push(rec);
    reply(StatusCode::CREATED, body)
}

/// One `sysparm_query` condition, `field=value`; ordering and unknown operators are ignored.
fn conditions(query: &str) -> Vec<(String, String)> {
    query
        .split('^')
        .filter(|c| !c.is_empty() && !c.starts_with("ORDERBY"))
        .filter_map(|c| {
            let decoded;
            let c = if !c.contains('=') && c.to_ascii_uppercase().contains("%3D") {
                // Encoded once more than the query string itself.
                decoded = url::form_urlencoded::parse(format!("q={c}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())?;
                decoded.as_str()
            } else {
                c
            };
            let (field, value) = c.split_once('=')?;
            if field.ends_with(['!', '<', '>']) {
                return None;
            }
            Some((field.to_string(), value.to_string()))
        })
        .collect()
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(table): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let conds = conditions(&query_param(query.as_deref(), "sysparm_query").unwrap_or_default());
    let limit = query_param(query.as_deref(), "sysparm_limit")
        .and_then(|l| l.trim().parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let state = shared.lock();
    let records: Vec<Value> = state
        .tickets
        .iter()
        .filter(|t| t.container == table)
        .map(record)
        .filter(|r| {
            conds
                .iter()
                .all(|(f, v)| r.get(f).map(text).as_deref() == Some(v.as_str()))
        })
        .take(limit)
        .collect();
    reply(StatusCode::OK, json!({"result": records}))
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let state = shared.lock();
    match state
        .tickets
        .iter()
        .find(|t| t.container == table && t.id == sys_id)
    {
        Some(rec) => reply(StatusCode::OK, json!({"result": record(rec)})),
        None => no_record(&sys_id),
    }
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let patch = match object_body(Flavor::ServiceNow, &body) {
        Ok(patch) => patch,
        Err(resp) => return resp,
    };
    let mut state = shared.lock();
    let Some(rec) = state
        .tickets
        .iter_mut()
        .find(|t| t.container == table && t.id == sys_id)
    else {
        return no_record(&sys_id);
    };
    merge(rec, patch);
    reply(StatusCode::OK, json!({"result": record(rec)}))
}

fn merge(rec: &mut Rec, patch: Map<String, Value>) {
    if let Some(state) = patch.get("state") {
        rec.status = text(state);
    }
    if let Some(corr) = patch.get("correlation_id") {
        rec.correlation_id = Some(text(corr)).filter(|c| !c.is_empty());
    }
    rec.fields.extend(patch);
}

pub(crate) fn webhook_payload(rec: &Rec) -> Value {
    json!({
        "sys_id": rec.id,
        "number": rec.number,
        "state": rec.status,
        "correlation_id": rec.correlation_id,
    })
}
