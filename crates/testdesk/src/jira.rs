//! Jira Cloud: the OAuth 2.0 client-credentials token endpoint and REST v3 issues and JQL search.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

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
        .route("/rest/api/3/issue", post(create))
        .route("/rest/api/3/issue/{id}", get(read).put(edit))
        .route("/rest/api/3/search", get(search_get).post(search_post))
        .route(
            "/rest/api/3/search/jql",
            get(search_jql_get).post(search_jql_post),
        )
}

fn bad_request(messages: Vec<String>, errors: Map<String, Value>) -> Response<Body> {
    reply(
        StatusCode::BAD_REQUEST,
        json!({"errorMessages": messages, "errors": errors}),
    )
}

fn no_issue() -> Response<Body> {
    reply(
        StatusCode::NOT_FOUND,
        json!({
            "errorMessages": ["Issue does not exist or you do not have permission to see it."],
            "errors": {},
        }),
    )
}

/// The first label starting with `gatehouse-`.
fn correlation(fields: &Map<String, Value>) -> Option<String> {
    fields
        .get("labels")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|l| l.starts_with("gatehouse-"))
        .map(str::to_string)
}

/// The issue as REST v3 returns it; `wanted` limits `fields` (None: all).
fn issue(base: &str, rec: &Rec, wanted: Option<&[String]>) -> Value {
    let mut fields = rec.fields.clone();
    fields.insert("status".into(), json!({"name": rec.status}));
    if let Some(wanted) = wanted {
        if !wanted.iter().any(|w| w == "*all" || w == "*navigable") {
            fields.retain(|k, _| wanted.iter().any(|w| w == k));
        }
    }
    json!({
        "id": rec.id,
        "key": rec.number,
        "self": format!("{base}/rest/api/3/issue/{}", rec.id),
        "fields": fields,
    })
}

/// A `fields` parameter (`status,summary`) as a list.
fn field_list(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(s) => Some(
            s.split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect(),
        ),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        _ => None,
    }
}

async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let body = match object_body(Flavor::Jira, &body) {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    let Some(Value::Object(fields)) = body.get("fields").cloned() else {
        return bad_request(
            vec!["The request body must have a \"fields\" object.".into()],
            Map::new(),
        );
    };
    let mut errors = Map::new();
    let project = fields
        .get("project")
        .and_then(|p| p.get("key"))
        .and_then(Value::as_str)
        .filter(|k| !k.trim().is_empty())
        .map(str::to_string);
    if project.is_none() {
        errors.insert("project".into(), json!("Specify a valid project ID or key"));
    }
    let has_summary = fields
        .get("summary")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    if !has_summary {
        errors.insert(
            "summary".into(),
            json!("You must specify a summary of the issue."),
        );
    }
    let Some(project) = project.filter(|_| errors.is_empty()) else {
        return bad_request(Vec::new(), errors);
    };
    let mut state = shared.lock();
    let id = state.next("jira-id", 10001).to_string();
    let key = format!(
        "{project}-{}",
        state.next(&format!("jira-key-{project}"), 1)
    );
    let self_url = format!("{}/rest/api/3/issue/{id}", shared.url);
    state.tickets.push(Rec {
        id: id.clone(),
        number: key.clone(),
        correlation_id: correlation(&fields),
        fields,
        status: "To Do".into(),
        container: project,
    });
    reply(
        StatusCode::CREATED,
        json!({"id": id, "key": key, "self": self_url}),
    )
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let wanted = field_list(
        query_param(query.as_deref(), "fields")
            .map(Value::String)
            .as_ref(),
    );
    let state = shared.lock();
    match state.find(&id) {
        Some(rec) => reply(StatusCode::OK, issue(&shared.url, rec, wanted.as_deref())),
        None => no_issue(),
    }
}

/// `PUT /rest/api/3/issue/{id}` with `{"fields": {...}}`: merges the fields (status is changed by
/// the desk, not by an edit), answers 204.
async fn edit(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    let body = match object_body(Flavor::Jira, &body) {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    let mut patch = match body.get("fields") {
        Some(Value::Object(fields)) => fields.clone(),
        None => Map::new(),
        Some(_) => {
            return bad_request(vec!["\"fields\" must be an object.".into()], Map::new());
        }
    };
    patch.remove("status");
    let mut state = shared.lock();
    let Some(rec) = state.find_mut(&id) else {
        return no_issue();
    };
    rec.fields.extend(patch);
    rec.correlation_id = correlation(&rec.fields);
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .expect("static response")
}

/// One JQL clause, `field = value`.
struct Clause {
    field: String,
    value: String,
}

/// Parses `a = "x" AND b = y [ORDER BY ...]`; the only operator is `=`.
fn parse_jql(jql: &str) -> Result<Vec<Clause>, String> {
    let lower = jql.to_ascii_lowercase();
    let jql = match lower.find(" order by ") {
        Some(i) => &jql[..i],
        None if lower.starts_with("order by ") => "",
        None => jql,
    };
    let lower = jql.to_ascii_lowercase();
    let mut clauses = Vec::new();
    let mut rest = 0;
    let mut parts = Vec::new();
    while let Some(i) = lower[rest..].find(" and ") {
        parts.push(&jql[rest..rest + i]);
        rest += i + 5;
    }
    parts.push(&jql[rest..]);
    for part in parts.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, value)) = part.split_once('=') else {
            return Err(format!(
                "Error in the JQL Query: unsupported clause '{part}'."
            ));
        };
        let field = field.trim().to_ascii_lowercase();
        if field.ends_with(['!', '~', '<', '>']) {
            return Err(format!(
                "Error in the JQL Query: unsupported clause '{part}'."
            ));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
            .unwrap_or(value);
        if !["labels", "project", "key", "issuekey", "status", "id"].contains(&field.as_str()) {
            return Err(format!(
                "Field '{field}' does not exist or you do not have permission to view it."
            ));
        }
        clauses.push(Clause {
            field,
            value: value.to_string(),
        });
    }
    Ok(clauses)
}

fn matches(rec: &Rec, clause: &Clause) -> bool {
    let v = clause.value.as_str();
    match clause.field.as_str() {
        "labels" => rec
            .fields
            .get("labels")
            .and_then(Value::as_array)
            .is_some_and(|ls| ls.iter().any(|l| l.as_str() == Some(v))),
        "project" => rec.container.eq_ignore_ascii_case(v),
        "key" | "issuekey" | "id" => rec.number.eq_ignore_ascii_case(v) || rec.id == v,
        "status" => rec.status.eq_ignore_ascii_case(v),
        _ => false,
    }
}

/// Runs a search; `legacy` is `/search` (with `total`), otherwise `/search/jql` (with `isLast`).
fn search(
    shared: &Shared,
    headers: &HeaderMap,
    jql: Option<String>,
    fields: Option<Vec<String>>,
    legacy: bool,
) -> Response<Body> {
    if let Err(resp) = auth::check(shared, headers) {
        return resp;
    }
    let clauses = match parse_jql(&jql.unwrap_or_default()) {
        Ok(clauses) => clauses,
        Err(message) => return bad_request(vec![message], Map::new()),
    };
    let state = shared.lock();
    let issues: Vec<Value> = state
        .tickets
        .iter()
        .filter(|rec| clauses.iter().all(|c| matches(rec, c)))
        .map(|rec| issue(&shared.url, rec, fields.as_deref()))
        .collect();
    if legacy {
        let total = issues.len();
        reply(
            StatusCode::OK,
            json!({"startAt": 0, "maxResults": 50, "total": total, "issues": issues}),
        )
    } else {
        reply(StatusCode::OK, json!({"issues": issues, "isLast": true}))
    }
}

/// A search's JQL and its `fields` list.
type SearchParams = (Option<String>, Option<Vec<String>>);

fn from_query(query: Option<&str>) -> SearchParams {
    let fields = field_list(query_param(query, "fields").map(Value::String).as_ref());
    (query_param(query, "jql"), fields)
}

fn from_body(body: &[u8]) -> Result<SearchParams, Response<Body>> {
    let body = object_body(Flavor::Jira, body)?;
    let jql = body.get("jql").and_then(Value::as_str).map(str::to_string);
    Ok((jql, field_list(body.get("fields"))))
}

async fn search_get(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let (jql, fields) = from_query(query.as_deref());
    search(&shared, &headers, jql, fields, true)
}

async fn search_jql_get(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let (jql, fields) = from_query(query.as_deref());
    search(&shared, &headers, jql, fields, false)
}

async fn search_post(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    match from_body(&body) {
        Ok((jql, fields)) => search(&shared, &headers, jql, fields, true),
        Err(resp) => resp,
    }
}

async fn search_jql_post(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if let Err(resp) = auth::check(&shared, &headers) {
        return resp;
    }
    match from_body(&body) {
        Ok((jql, fields)) => search(&shared, &headers, jql, fields, false),
        Err(resp) => resp,
    }
}

pub(crate) fn webhook_payload(rec: &Rec) -> Value {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    json!({
        "webhookEvent": "jira:issue_updated",
        "timestamp": timestamp,
        "issue": {
            "id": rec.id,
            "key": rec.number,
            "fields": {
                "status": {"name": rec.status},
                "labels": rec.fields.get("labels").cloned().unwrap_or_else(|| json!([])),
            },
        },
    })
}
