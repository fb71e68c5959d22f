//! `/access-request-approvals`: the approval steps of access requests, for their approvers.
//!
//! `owner-id` (pending, completed, summary): an ORG_ADMIN may name anyone, or leave it out to see
//! every approval of the tenant; anyone else may pass only `me` or their own id (403 otherwise)
//! and, leaving it out, sees their own. A person's approvals are those they own or that a
//! governance group they belong to owns. Deciding or forwarding someone else's approval is a 404.
//! Decisions and hand-overs go through the engine, like the work-items API (an approval is the
//! same row as its work item).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{page_response, store_page, ApiJson, QueryMap};
use crate::handlers::work_items::{actor, forward, refused};
use crate::routes::Family;
use crate::wire::approvals;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_domain::Timestamp;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::access_requests::engine::{self, Decision};
use gatehouse_store::access_requests::work_items::{self, Which};
use gatehouse_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

use FieldKind::{DateTime, Text};
use Op::{Eq, Ge, Gt, In, IsNull, Le, Lt, Ne, Sw};

/// `filters` of `listPendingApprovals` (v3, v2024, v1).
pub static PENDING_FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "p.id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "requestedFor.id",
            column: "r.requested_for_id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "modified",
            column: "p.modified",
            kind: DateTime,
            ops: &[Gt, Lt, Ge, Le, Eq, In],
        },
        Field {
            name: "accessRequestId",
            column: "p.access_request_id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "created",
            column: "p.created",
            kind: DateTime,
            ops: &[Gt, Lt, Ge, Le, Eq, In],
        },
    ],
};

/// `filters` of beta's `listPendingApprovals`: the first three only.
pub static PENDING_FILTERS_BETA: FilterSpec = FilterSpec {
    fields: PENDING_FILTERS.fields.split_at(3).0,
};

/// `filters` of `listCompletedApprovals` (every family). `sw` on `modified` is listed by the
/// spec but a date has no prefix, so it is refused with the reason.
pub static COMPLETED_FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "p.id",
            kind: Text,
            ops: &[Eq, In, Ge, Gt, Le, Lt, Ne, IsNull, Sw],
        },
        Field {
            name: "requestedFor.id",
            column: "r.requested_for_id",
            kind: Text,
            ops: &[Eq, In, Ge, Gt, Le, Lt, Ne, IsNull, Sw],
        },
        Field {
            name: "modified",
            column: "p.modified",
            kind: DateTime,
            ops: &[Gt, Lt, Ge, Le, Eq, In, Ne, Sw],
        },
    ],
};

/// `sorters` of both lists.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[("created", "p.created"), ("modified", "p.modified")],
};

/// Whose approvals a list or summary covers (`None`: the whole tenant, for an ORG_ADMIN).
fn owner(query: &QueryMap, caller: &Caller) -> Result<Option<String>, ApiError> {
    let me = caller.identity()?;
    match query.get("owner-id").filter(|id| !id.is_empty()) {
        Some("me") => Ok(Some(me.to_owned())),
        Some(id) if id == me => Ok(Some(me.to_owned())),
        Some(id) if caller.is_admin() => Ok(Some(id.to_owned())),
        Some(_) => Err(ApiError::Forbidden(
            "Only an ORG_ADMIN may name another owner-id; use 'me' or your own identity id.".into(),
        )),
        None if caller.is_admin() => Ok(None),
        None => Ok(Some(me.to_owned())),
    }
}

async fn list(
    state: &AppState,
    caller: &Caller,
    query: &QueryMap,
    which: Which,
) -> Result<Response, ApiError> {
    let owner = owner(query, caller)?;
    let filters = match (which, caller.family()) {
        (Which::Pending, Family::Beta) => &PENDING_FILTERS_BETA,
        (Which::Pending, _) => &PENDING_FILTERS,
        _ => &COMPLETED_FILTERS,
    };
    let first = work_items::first_filter_param(owner.as_deref());
    let (q, paging) = query.list_query(filters, first, &SORTERS, "p.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let (details, total) = state
        .store()
        .read(move |c| {
            let page = work_items::list(c, &tenant, owner.as_deref(), which, q)?;
            Ok((work_items::details(c, &tenant, page.items)?, page.total))
        })
        .await?;
    let family = caller.family();
    let items: Vec<Value> = details
        .items
        .iter()
        .map(|x| match which {
            Which::Pending => approvals::pending_approval(&details, x, family),
            _ => approvals::completed_approval(&details, x, family),
        })
        .collect();
    Ok(store_page(items, total, &paging))
}

/// `GET /access-request-approvals/pending` (`listPendingApprovals`).
pub async fn list_pending_approvals(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    list(&state, &caller, &query, Which::Pending).await
}

/// `GET /access-request-approvals/completed` (`listCompletedApprovals`): approved and rejected.
pub async fn list_completed_approvals(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    list(&state, &caller, &query, Which::Decided).await
}

/// The `{}` of a 202.
fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({}))).into_response()
}

/// A `CommentDto` as sent: only `comment` counts (`created` and `author` are read-only).
#[derive(Debug, Default, Deserialize)]
struct CommentDto {
    #[serde(default)]
    comment: Option<String>,
}

/// Reads an optional `CommentDto` body (`required`: a missing body is a 400).
pub fn comment_body(body: &Bytes, required: bool) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        if required {
            return Err(ApiError::bad_request(
                "A CommentDto body is required: {\"comment\": \"…\"}.",
            ));
        }
        return Ok(None);
    }
    let dto: CommentDto = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}.")))?;
    Ok(dto.comment)
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: String,
    decision: Decision,
    comment: Option<String>,
) -> Result<Response, ApiError> {
    let actor = actor(caller)?;
    let tenant = caller.tenant().to_owned();
    let now = state.clock().now();
    state
        .store()
        .write(move |c| {
            engine::decide(c, &tenant, &id, &actor, decision, comment.as_deref(), now)
                .map(|o| o.map(|_| ()))
        })
        .await?
        .map_err(refused)?;
    state.wake_jobs();
    Ok(accepted())
}

/// `POST /access-request-approvals/{approvalId}/approve` (`approveAccessRequest`): 202 `{}`.
/// The `CommentDto` body is optional, except in beta.
pub async fn approve_access_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let comment = comment_body(&body, caller.family() == Family::Beta)?;
    decide(&state, &caller, id, Decision::Approve, comment).await
}

/// `POST /access-request-approvals/{approvalId}/reject` (`rejectAccessRequest`): 202 `{}`. The
/// `CommentDto` body is required; its comment too when the approval says
/// `commentRequiredWhenRejected`.
pub async fn reject_access_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let comment = comment_body(&body, true)?;
    decide(&state, &caller, id, Decision::Reject, comment).await
}

/// `ForwardApprovalDto`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardApprovalDto {
    /// The new owner.
    pub new_owner_id: Option<String>,
    /// Why.
    pub comment: Option<String>,
}

impl ForwardApprovalDto {
    /// The new owner and the comment, both required, non-blank and at most 255 characters.
    pub fn fields(self) -> Result<(String, String), ApiError> {
        Ok((
            bounded(self.new_owner_id, "newOwnerId")?,
            bounded(self.comment, "comment")?,
        ))
    }
}

fn bounded(value: Option<String>, field: &str) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.trim().is_empty() && v.chars().count() <= 255 => Ok(v),
        Some(v) if !v.trim().is_empty() => Err(ApiError::illegal(format!(
            "'{field}' may be at most 255 characters."
        ))),
        _ => Err(ApiError::missing(field)),
    }
}

/// `POST /access-request-approvals/{approvalId}/forward` (`forwardAccessRequest`): 202 `{}`; the
/// new owner is notified.
pub async fn forward_access_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ForwardApprovalDto>,
) -> Result<Response, ApiError> {
    let (target, comment) = body.fields()?;
    forward(&state, &caller, &id, target, comment, true).await?;
    Ok(accepted())
}

/// A `from-date`: an ISO-8601 date-time, or a date (midnight UTC). SailPoint's own example value
/// is `from-date=2020-03-19T19:59:11Z` (the parameter name repeated inside the value), so that
/// spelling is accepted too.
fn from_date(query: &QueryMap) -> Result<Option<Timestamp>, ApiError> {
    let Some(text) = query
        .get("from-date")
        .map(|s| s.strip_prefix("from-date=").unwrap_or(s))
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    Timestamp::parse_rfc3339(text)
        .or_else(|_| Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z")))
        .map(Some)
        .map_err(|_| {
            ApiError::illegal(format!(
                "'from-date' must be an ISO-8601 date-time such as 2020-03-19T19:59:11Z, not '{text}'."
            ))
        })
}

/// `GET /access-request-approvals/approval-summary` (`getAccessRequestApprovalSummary`): pending,
/// approved and rejected approvals created since `from-date`.
pub async fn get_access_request_approval_summary(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Json<Value>, ApiError> {
    let owner = owner(&query, &caller)?;
    let from = from_date(&query)?;
    let tenant = caller.tenant().to_owned();
    let n = state
        .store()
        .read(move |c| work_items::count_by_status(c, &tenant, owner.as_deref(), from))
        .await?;
    Ok(Json(
        json!({"pending": n.pending, "approved": n.approved, "rejected": n.rejected}),
    ))
}

fn admin_only(caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "{what} needs the ORG_ADMIN user level."
        )))
    }
}

/// `GET /access-request-approvals/{accessRequestId}/approvers` (`listAccessRequestApprovers`):
/// who may decide the request's pending steps; a step owned by a governance group lists each
/// member.
pub async fn list_access_request_approvers(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    admin_only(&caller, "Listing the approvers of an access request")?;
    let paging = query.paging()?;
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let found = state
        .store()
        .read(move |c| work_items::approvers(c, &tenant, &key))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Access request '{id}' was not found.")))?;
    let list: Vec<Value> = found
        .into_iter()
        .map(|a| {
            let mut v = json!({"id": a.id, "name": a.name, "approvalId": a.approval_id, "type": "Identity"});
            if let Some(e) = a.email {
                v["email"] = Value::String(e);
            }
            v
        })
        .collect();
    let (page, total) = paging.slice(list);
    Ok(page_response(page, total, &paging))
}

/// `BulkApproveAccessRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkApproveAccessRequest {
    /// The approvals to approve.
    pub approval_ids: Option<Vec<String>>,
    /// The comment recorded on each.
    pub comment: Option<String>,
}

/// Approvals one bulk approval may name.
pub const MAX_BULK: usize = 50;

/// `POST /access-request-approvals/bulk-approve` (`approveBulkAccessRequest`): 202 `{}`. All or
/// nothing: an unknown id is a 404 and an already decided one a 400, naming them, and then
/// nothing is approved.
pub async fn approve_bulk_access_request(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<BulkApproveAccessRequest>, ApiError>,
) -> Result<Response, ApiError> {
    // Who may call comes before what was sent: a non-admin learns nothing about the body.
    admin_only(&caller, "Approving access requests in bulk")?;
    let ApiJson(body) = body?;
    let mut ids = body
        .approval_ids
        .ok_or_else(|| ApiError::missing("approvalIds"))?;
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(ApiError::BadRequest {
            detail: "400.1.4 Limit violation",
            message: format!(
                "'approvalIds' must list from 1 to {MAX_BULK} approvals, not {}.",
                ids.len()
            ),
        });
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let comment = body
        .comment
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiError::missing("comment"))?;
    let actor = actor(&caller)?;
    let tenant = caller.tenant().to_owned();
    let now = state.clock().now();
    match state
        .store()
        .write(move |c| work_items::approve_all(c, &tenant, &ids, &actor, &comment, now))
        .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(why)) => return Err(refused(why)),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "An approval was decided by someone else during the bulk approval; nothing was approved. Try again.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    state.wake_jobs();
    Ok(accepted())
}
