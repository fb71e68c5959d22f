//! Ending requests early: `cancelAccessRequest` (the requester or an ORG_ADMIN, before the
//! approval step has passed), `cancelAccessRequestInBulk` and `closeAccessRequest` (ORG_ADMIN).
//! Bulk operations try every id and change all or nothing, in one transaction; a refusal names
//! every id refused.

use super::access_requests::refusal;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_store::access_requests::engine::{self, Actor, Close, Refusal};
use gatehouse_store::access_requests::rows;
use gatehouse_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

const DEFAULT_CLOSE_MESSAGE: &str = "The IdentityNow Administrator manually closed this request.";

/// `CancelAccessRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelAccessRequest {
    /// The request (identity request) id.
    pub account_activity_id: Option<String>,
    /// Why.
    pub comment: Option<String>,
}

/// `BulkCancelAccessRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkCancelAccessRequest {
    /// 1 to 50 request ids.
    pub access_request_ids: Option<Vec<String>>,
    /// Why.
    pub comment: Option<String>,
}

/// `CloseAccessRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseAccessRequest {
    /// 1 to 500 request ids.
    pub access_request_ids: Option<Vec<String>>,
    /// Recorded as the requests' error message.
    pub message: Option<String>,
    /// Terminated (default) or Completed.
    pub execution_status: Option<String>,
    /// Success, Incomplete or Failure (default).
    pub completion_status: Option<String>,
}

fn required_text(v: Option<String>, field: &str) -> Result<String, ApiError> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::missing(field)),
    }
}

fn ids(v: Option<Vec<String>>, max: usize) -> Result<Vec<String>, ApiError> {
    let mut list = v.unwrap_or_default();
    if list.is_empty() || list.len() > max {
        return Err(ApiError::illegal(format!(
            "'accessRequestIds' must hold 1 to {max} ids."
        )));
    }
    if list.iter().any(|s| s.trim().is_empty()) {
        return Err(ApiError::illegal("'accessRequestIds' holds an empty id."));
    }
    list.sort();
    list.dedup();
    Ok(list)
}

fn accepted() -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(json!({})))
}

/// `POST /access-requests/cancel`.
pub async fn cancel_access_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CancelAccessRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = required_text(body.account_activity_id, "accountActivityId")?;
    let comment = required_text(body.comment, "comment")?;
    let actor = Actor {
        identity_id: caller.identity()?.to_owned(),
        is_admin: caller.is_admin(),
    };
    let (tenant, now) = (caller.tenant().to_owned(), state.clock().now());
    state
        .store()
        .write(move |c| engine::cancel(c, &tenant, &id, &actor, &comment, now))
        .await?
        .map_err(refusal)?;
    state.wake_jobs();
    Ok(accepted())
}

/// `POST /access-requests/bulk-cancel`: every request or none. Every id is tried (inside one
/// transaction that is rolled back if any is refused), so the 400 names every refused id at once.
pub async fn cancel_access_request_in_bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<BulkCancelAccessRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let list = ids(body.access_request_ids, 50)?;
    let comment = required_text(body.comment, "comment")?;
    let actor = Actor {
        identity_id: caller.identity()?.to_owned(),
        is_admin: caller.is_admin(),
    };
    let (tenant, now) = (caller.tenant().to_owned(), state.clock().now());
    let refused = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Refusal>::new()));
    let slot = refused.clone();
    let outcome = state
        .store()
        .write(move |c| {
            let mut seen = Vec::new();
            for id in &list {
                if let Err(r) = engine::cancel(c, &tenant, id, &actor, &comment, now)? {
                    seen.push(r);
                }
            }
            if seen.is_empty() {
                return Ok(());
            }
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = seen;
            // Returning an error rolls back the requests cancelled so far.
            Err(StoreError::Constraint("bulk cancel refused".into()))
        })
        .await;
    let refusals = std::mem::take(&mut *refused.lock().unwrap_or_else(|e| e.into_inner()));
    match outcome {
        Ok(()) => {
            state.wake_jobs();
            Ok(accepted())
        }
        Err(_) if !refusals.is_empty() => {
            let forbidden = refusals.iter().any(|r| matches!(r, Refusal::Forbidden(_)));
            let reasons: Vec<String> = refusals
                .into_iter()
                .map(|r| match r {
                    Refusal::NotFound(m) | Refusal::Forbidden(m) | Refusal::Invalid(m) => m,
                })
                .collect();
            let message = format!("No request was cancelled: {}", reasons.join(" "));
            Err(if forbidden {
                ApiError::Forbidden(message)
            } else {
                ApiError::illegal(message)
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /access-requests/close`: closes requests at any stage (all or none).
pub async fn close_access_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CloseAccessRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let list = ids(body.access_request_ids, 500)?;
    let execution_status = body.execution_status.unwrap_or_else(|| "Terminated".into());
    if !matches!(execution_status.as_str(), "Terminated" | "Completed") {
        return Err(ApiError::illegal(format!(
            "'executionStatus' must be Terminated or Completed, not '{execution_status}'."
        )));
    }
    let completion_status = body.completion_status.unwrap_or_else(|| "Failure".into());
    if !matches!(
        completion_status.as_str(),
        "Success" | "Incomplete" | "Failure"
    ) {
        return Err(ApiError::illegal(format!(
            "'completionStatus' must be Success, Incomplete or Failure, not '{completion_status}'."
        )));
    }
    let how = Close {
        message: body
            .message
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_CLOSE_MESSAGE.into()),
        execution_status,
        completion_status,
    };
    let (tenant, now) = (caller.tenant().to_owned(), state.clock().now());
    let unknown = state
        .store()
        .write(move |c| {
            let found = rows::requests_by_ids(c, &tenant, &list)?;
            let unknown: Vec<String> = list
                .iter()
                .filter(|id| !found.iter().any(|r| &r.id == *id))
                .cloned()
                .collect();
            if !unknown.is_empty() {
                return Ok(unknown);
            }
            for id in &list {
                engine::close(c, &tenant, id, &how, now)?;
            }
            Ok(Vec::new())
        })
        .await?;
    if !unknown.is_empty() {
        return Err(ApiError::illegal(format!(
            "No request was closed: unknown access request ids {}.",
            unknown.join(", ")
        )));
    }
    state.wake_jobs();
    Ok(accepted())
}
