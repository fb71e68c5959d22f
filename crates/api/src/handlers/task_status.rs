//! `/task-status`: every background job of the tenant as a `TaskStatus` (seed 001).
//!
//! v2024 and beta list completed tasks (`getTaskStatusList`) and pending ones
//! (`getPendingTasks`, and `getPendingTaskHeaders` for the count alone); `/task-status/v1` lists
//! all, `completionStatus isnull` selecting the pending. `updateTaskStatus` clears a pending task:
//! its job is cancelled so it never runs. With `--task-retention strict`, tasks older than 90 days
//! are hidden as SailPoint hides them.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::routes::Family;
use crate::wire::ts;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_domain::Timestamp;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::jobs::JobState;
use gatehouse_store::task_status::{self, Task, Which, COMPLETION_STATUS};
use gatehouse_store::tenant_data;
use serde_json::{json, Value};

const RETENTION_MS: i64 = 90 * 86_400_000;
const STATUSES: &[&str] = &["SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR"];

const ID: Field = Field {
    name: "id",
    column: "cast(j.id as text)",
    kind: FieldKind::Text,
    ops: &[Op::Eq, Op::In],
};
const SOURCE_ID: Field = Field {
    name: "sourceId",
    column: "(case when j.target_type = 'APPLICATION' then j.target_id end)",
    kind: FieldKind::Text,
    ops: &[Op::Eq, Op::In],
};
const TYPE: Field = Field {
    name: "type",
    column: "'QUEUED_TASK'",
    kind: FieldKind::Text,
    ops: &[Op::Eq, Op::In],
};

/// `filters` of v2024 and beta: id, sourceId, completionStatus, type (eq, in). Completion
/// statuses match without regard to case (SailPoint's own example filters on "Success").
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        ID,
        SOURCE_ID,
        Field {
            name: "completionStatus",
            column: COMPLETION_STATUS,
            kind: FieldKind::TextCi,
            ops: &[Op::Eq, Op::In],
        },
        TYPE,
    ],
};

/// `filters` of `/task-status/v1`: as v2024, plus `completionStatus isnull` and launcher (the
/// name a task shows as its launcher, or the launching identity's id or user name).
pub static FILTERS_V1: FilterSpec = FilterSpec {
    fields: &[
        ID,
        SOURCE_ID,
        Field {
            name: "completionStatus",
            column: COMPLETION_STATUS,
            kind: FieldKind::TextCi,
            ops: &[Op::Eq, Op::In, Op::IsNull],
        },
        TYPE,
        Field {
            name: "launcher",
            column: task_status::LAUNCHER_NAMES,
            kind: FieldKind::TextSet,
            ops: &[Op::Eq, Op::In],
        },
    ],
};

/// `sorters`: created.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[("created", "j.created")],
};

/// What each job kind is, as a task's `uniqueName` and `description`.
fn describe(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "access_request_process" => (
            "Access Request Processing",
            "Opens the first approval step of a submitted access request, or approves it when it needs none.",
        ),
        "access_request_provision" => (
            "Access Request Provisioning",
            "Grants or revokes the access of an approved request, at its start date.",
        ),
        "approval_timer" => (
            "Approval Reminders and Escalation",
            "Reminds the owner of a pending approval, or escalates it to the fallback approver.",
        ),
        "assignment_expire" => (
            "Scheduled Access Removal",
            "Removes access whose removal date has come.",
        ),
        "service_desk_ticket" => (
            "Service Desk Ticket",
            "Opens the service-desk ticket that provisions an approved request on a desk-managed source.",
        ),
        "service_desk_status_check" => (
            "Service Desk Status Check",
            "Reads the status of an open service-desk ticket; Committed completes its request, Failed fails it.",
        ),
        tenant_data::task::KIND => (
            "Tenant Import",
            "Loads identities, sources, entitlements, access and assignments from tenant files.",
        ),
        _ => ("Background Job", "A background job of Gatehouse."),
    }
}

fn task_json(t: &Task) -> Value {
    let (unique_name, description) = describe(&t.kind);
    let modified = [Some(t.created), t.launched, t.finished]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(t.created);
    let last = t.errors.len().saturating_sub(1);
    let mut messages: Vec<Value> = t
        .errors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let final_error = i == last && t.state == JobState::Discarded;
            json!({
                "type": if final_error { "ERROR" } else { "WARN" },
                "localizedText": {"locale": "en-US", "message": e},
                "key": if final_error { "task.failed" } else { "task.attempt.failed" },
                "parameters": [{"attempt": i + 1}],
            })
        })
        .collect();
    let mut returns = Vec::new();
    let mut attributes =
        json!({"kind": t.kind, "attempts": t.attempt, "maxAttempts": t.max_attempts});
    if let Some(report) = &t.report {
        messages.extend(report.messages.iter().map(|m| {
            json!({
                "type": m.level,
                "localizedText": {"locale": "en-US", "message": m.text},
                "key": m.key,
                "parameters": [],
            })
        }));
        returns.extend(
            report
                .returns
                .iter()
                .map(|(name, attr)| json!({"name": name, "attributeName": attr})),
        );
        for (k, v) in &report.attributes {
            attributes[k] = v.clone();
        }
    }
    let (progress, percent) = match t.state {
        JobState::Available if t.attempt == 0 => ("Queued", 0),
        JobState::Available => ("Waiting to retry", 0),
        JobState::Running => ("Running", 0),
        JobState::Completed => ("Completed", 100),
        JobState::Discarded => ("Failed", 100),
        JobState::Cancelled => ("Cleared", 100),
    };
    let launcher = match (&t.launcher, &t.launcher_label) {
        (Some((id, name)), _) => name.clone().unwrap_or_else(|| id.clone()),
        (None, Some(label)) => label.clone(),
        (None, None) => task_status::SYSTEM_LAUNCHER.to_owned(),
    };
    let mut o = json!({
        "id": t.id.to_string(),
        "type": "QUEUED_TASK",
        "uniqueName": unique_name,
        "description": t.description.as_deref().unwrap_or(description),
        "parentName": null,
        "launcher": launcher,
        "created": ts(t.created),
        "modified": ts(modified),
        "launched": t.launched.map(ts),
        "completed": t.finished.map(ts),
        "completionStatus": t.completion_status,
        "messages": messages,
        "returns": returns,
        "attributes": attributes,
        "progress": progress,
        "percentComplete": percent,
    });
    if let Some((kind, id, name)) = &t.target {
        o["target"] = json!({"id": id, "type": kind, "name": name.clone().unwrap_or_default()});
    }
    o
}

fn since(state: &AppState) -> Option<Timestamp> {
    state
        .config()
        .task_retention_strict
        .then(|| state.clock().now().plus_millis(-RETENTION_MS))
}

async fn list(
    state: &AppState,
    caller: &Caller,
    query: &QueryMap,
    which: Which,
) -> Result<(Vec<Value>, Option<i64>, crate::extract::Paging), ApiError> {
    let since = since(state);
    let filters = if caller.family() == Family::V1 {
        &FILTERS_V1
    } else {
        &FILTERS
    };
    let (q, paging) = query.list_query(
        filters,
        task_status::first_filter_param(since),
        &SORTERS,
        "j.id",
        250,
    )?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| task_status::list(c, &tenant, which, since, q))
        .await?;
    Ok((
        page.items.iter().map(task_json).collect(),
        page.total,
        paging,
    ))
}

/// `GET /task-status`: completed tasks (v2024, beta) or all tasks (`/task-status/v1`).
pub async fn get_task_status_list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let which = if caller.family() == Family::V1 {
        Which::All
    } else {
        Which::Completed
    };
    let (items, total, paging) = list(&state, &caller, &query, which).await?;
    Ok(store_page(items, total, &paging))
}

/// `GET /task-status/pending-tasks`: tasks not finished yet.
pub async fn get_pending_tasks(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let (items, total, paging) = list(&state, &caller, &query, Which::Pending).await?;
    Ok(store_page(items, total, &paging))
}

/// `HEAD /task-status/pending-tasks`: the headers of the pending list (`X-Total-Count`), no body.
pub async fn get_pending_task_headers(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    // The caller's own parameters are checked as the list checks them; the count is always sent.
    query.paging()?;
    let mut q = query.clone();
    q.0.insert("count".into(), "true".into());
    let (_, total, _) = list(&state, &caller, &q, Which::Pending).await?;
    let mut res = StatusCode::OK.into_response();
    res.headers_mut()
        .insert("x-total-count", HeaderValue::from(total.unwrap_or(0)));
    Ok(res)
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Task status '{id}' was not found."))
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Task, ApiError> {
    let n: i64 = id.parse().map_err(|_| not_found(id))?;
    let (tenant, since) = (caller.tenant().to_owned(), since(state));
    state
        .store()
        .read(move |c| task_status::get(c, &tenant, n, since))
        .await?
        .ok_or_else(|| not_found(id))
}

/// `GET /task-status/{id}`.
pub async fn get_task_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(task_json(&find(&state, &caller, &id).await?)))
}

/// Reads the only patch SailPoint documents: `replace` of `/completionStatus` (required) and
/// `/completed` (default: now). Status names are matched without regard to case (the spec's own
/// example sends "Error"); dates may use a space for the `T`, as that example does.
fn clearing(body: &Value, now: Timestamp) -> Result<(String, Timestamp), ApiError> {
    let ops = body
        .as_array()
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| ApiError::bad_request("The body must be a non-empty JSON Patch array."))?;
    let (mut status, mut completed) = (None, None);
    for (i, op) in ops.iter().enumerate() {
        let (Some("replace"), Some(path)) = (
            op.get("op").and_then(Value::as_str),
            op.get("path").and_then(Value::as_str),
        ) else {
            return Err(ApiError::illegal(format!(
                "Operation {i}: only 'replace' of /completionStatus and /completed is allowed."
            )));
        };
        let value = op.get("value").and_then(Value::as_str).ok_or_else(|| {
            ApiError::illegal(format!("Operation {i}: 'value' must be a string."))
        })?;
        match path {
            "/completionStatus" => {
                let upper = value.to_ascii_uppercase();
                if !STATUSES.contains(&upper.as_str()) {
                    return Err(ApiError::illegal(format!(
                        "'{value}' is not a completion status ({}).",
                        STATUSES.join(", ")
                    )));
                }
                status = Some(upper);
            }
            "/completed" => {
                let at = Timestamp::parse_rfc3339(&value.replacen(' ', "T", 1)).map_err(|_| {
                    ApiError::illegal(format!("'{value}' is not an RFC 3339 date-time."))
                })?;
                completed = Some(at);
            }
            other => {
                return Err(ApiError::illegal(format!(
                    "Operation {i}: '{other}' cannot be changed; only /completionStatus and /completed can."
                )))
            }
        }
    }
    let status = status.ok_or_else(|| ApiError::missing("/completionStatus"))?;
    Ok((status, completed.unwrap_or(now)))
}

/// `PATCH /task-status/{id}`: clears a pending task (its job will not run).
pub async fn update_task_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let task = find(&state, &caller, &id).await?;
    let (status, completed) = clearing(&body, state.clock().now())?;
    let tenant = caller.tenant().to_owned();
    let n = task.id;
    let st = status.clone();
    let cleared = state
        .store()
        .write(move |c| task_status::clear(c, &tenant, n, &st, completed))
        .await?;
    if !cleared {
        return Err(ApiError::illegal(format!(
            "Task '{id}' has already finished ({}); only a pending task can be cleared.",
            task.completion_status.unwrap_or_default()
        )));
    }
    Ok(Json(task_json(&find(&state, &caller, &id).await?)))
}
