//! `/work-items`: the approval steps of access requests, as work items of type Approval.
//!
//! A work item is one approval step (its id is the approval's id) with one approval item, the
//! requested access (its id is the access request's id). Its owner, a member of its owning
//! governance group, or an ORG_ADMIN may see and act on it; anyone else gets 404, as if it did
//! not exist. Lists, counts and the summary cover the caller's own work items; `ownerId` of
//! someone else needs ORG_ADMIN (403 otherwise). Decisions and hand-overs go through the
//! engine ([`engine::decide`], [`engine::forward`]), whose compare-and-set leaves one winner
//! when two people decide at once; a decision on a decided item is a 400 that changes nothing.
//!
//! `completeWorkItem` on an approval whose item is still pending is a 400 telling to approve or
//! reject it first; on a decided one it answers the (already complete) work item. The forward
//! history is not part of `WorkItems`; the approvals API shows it (`forwardHistory`).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::routes::Family;
use crate::wire::approvals;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gatehouse_store::access_requests::engine::{self, Actor, Decision, Refusal};
use gatehouse_store::access_requests::work_items::{self, Details, Which};
use gatehouse_store::access_requests::ApprovalStatus;
use gatehouse_store::listing::ListQuery;
use gatehouse_store::{Conn, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

/// The caller as the engine sees them (403 for a token without a user context).
pub(crate) fn actor(caller: &Caller) -> Result<Actor, ApiError> {
    Ok(Actor {
        identity_id: caller.identity()?.to_owned(),
        is_admin: caller.is_admin(),
    })
}

/// The answer to a refused transition.
pub(crate) fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::NotFound(m) => ApiError::NotFound(m),
        Refusal::Forbidden(m) => ApiError::Forbidden(m),
        Refusal::Invalid(m) => ApiError::bad_request(m),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Work item '{id}' was not found."))
}

/// Whose work items a list, count or summary covers: the caller, or (for an ORG_ADMIN) the
/// identity `ownerId` names.
fn owner(query: &QueryMap, caller: &Caller) -> Result<String, ApiError> {
    let me = caller.identity()?;
    match query.get("ownerId") {
        None | Some("") => Ok(me.to_owned()),
        Some(id) if id == me || caller.is_admin() => Ok(id.to_owned()),
        Some(_) => Err(ApiError::Forbidden(
            "Work items of another person need the ORG_ADMIN user level.".into(),
        )),
    }
}

/// Work-item lists take only `ownerId`, `limit`, `offset` and `count`.
fn no_filters(query: &QueryMap) -> Result<(), ApiError> {
    for p in ["filters", "sorters"] {
        if query.get(p).is_some() {
            return Err(ApiError::illegal(format!(
                "'{p}' is not supported by the work-items lists; use the access-request-approvals lists to filter approvals."
            )));
        }
    }
    Ok(())
}

/// The answer for one approval of a freshly read page.
fn first_work_item(d: &Details, id: &str, family: Family) -> Result<Value, ApiError> {
    d.items
        .first()
        .map(|x| approvals::work_item(d, x, family))
        .ok_or_else(|| not_found(id))
}

async fn list(
    state: &AppState,
    caller: &Caller,
    query: &QueryMap,
    which: Which,
) -> Result<Response, ApiError> {
    no_filters(query)?;
    let paging = query.paging()?;
    let owner = owner(query, caller)?;
    let tenant = caller.tenant().to_owned();
    let q = ListQuery {
        filter: None,
        order_by: String::new(),
        limit: paging.limit,
        offset: paging.offset,
        count: paging.count,
    };
    let (details, total) = state
        .store()
        .read(move |c| {
            let page = work_items::list(c, &tenant, Some(&owner), which, q)?;
            Ok((work_items::details(c, &tenant, page.items)?, page.total))
        })
        .await?;
    let items: Vec<Value> = details
        .items
        .iter()
        .map(|x| approvals::work_item(&details, x, caller.family()))
        .collect();
    Ok(store_page(items, total, &paging))
}

/// `GET /work-items` (`listWorkItems`): the pending work items of the caller (or of `ownerId`).
pub async fn list_work_items(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    list(&state, &caller, &query, Which::Pending).await
}

/// `GET /work-items/completed` (`getCompletedWorkItems`): approved, rejected, expired and
/// cancelled work items.
pub async fn get_completed_work_items(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    list(&state, &caller, &query, Which::Closed).await
}

async fn count(
    state: &AppState,
    caller: &Caller,
    query: &QueryMap,
    which: Which,
) -> Result<i64, ApiError> {
    let owner = owner(query, caller)?;
    let tenant = caller.tenant().to_owned();
    Ok(state
        .store()
        .read(move |c| work_items::count(c, &tenant, Some(&owner), which))
        .await?)
}

/// `GET /work-items/count` (`getCountWorkItems`).
pub async fn get_count_work_items(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Json<Value>, ApiError> {
    let n = count(&state, &caller, &query, Which::Pending).await?;
    Ok(Json(json!({ "count": n })))
}

/// `GET /work-items/completed/count` (`getCountCompletedWorkItems`); beta answers a one-element
/// list, as its schema says.
pub async fn get_count_completed_work_items(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Json<Value>, ApiError> {
    if caller.family() == Family::Beta {
        query.paging()?;
    }
    let n = count(&state, &caller, &query, Which::Closed).await?;
    Ok(Json(if caller.family() == Family::Beta {
        json!([{ "count": n }])
    } else {
        json!({ "count": n })
    }))
}

/// `GET /work-items/summary` (`getWorkItemsSummary`): open, completed and all work items.
pub async fn get_work_items_summary(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Json<Value>, ApiError> {
    let owner = owner(&query, &caller)?;
    let tenant = caller.tenant().to_owned();
    let n = state
        .store()
        .read(move |c| work_items::count_by_status(c, &tenant, Some(&owner), None))
        .await?;
    let completed = n.approved + n.rejected + n.ended;
    Ok(Json(
        json!({ "open": n.pending, "completed": completed, "total": n.pending + completed }),
    ))
}

/// Reads work item `id` as `actor` sees it: 404 when it does not exist or is someone else's.
async fn read_one(state: &AppState, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    let actor = actor(caller)?;
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    let details = state
        .store()
        .read(move |c| {
            let found = work_items::visible(c, &tenant, &key, &actor)?;
            work_items::details(c, &tenant, found.into_iter().collect())
        })
        .await?;
    first_work_item(&details, id, caller.family())
}

/// `GET /work-items/{id}` (`getWorkItem`). Beta's `ownerId` follows the list rule (someone
/// else's needs ORG_ADMIN).
pub async fn get_work_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Json<Value>, ApiError> {
    owner(&query, &caller)?;
    Ok(Json(read_one(&state, &caller, &id).await?))
}

/// Runs `change` on work item `id` in one write (after checking the caller may act on it), and
/// answers the work item as it is afterwards.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    change: impl FnOnce(&mut dyn Conn, &Actor) -> Result<Result<(), Refusal>, StoreError>
        + Send
        + 'static,
) -> Result<Value, ApiError> {
    let actor = actor(caller)?;
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    let outcome = state
        .store()
        .write(move |c| {
            if let Err(why) = change(c, &actor)? {
                return Ok(Err(why));
            }
            let found = work_items::visible(c, &tenant, &key, &actor)?;
            Ok(Ok(work_items::details(
                c,
                &tenant,
                found.into_iter().collect(),
            )?))
        })
        .await?;
    state.wake_jobs();
    first_work_item(&outcome.map_err(refused)?, id, caller.family())
}

/// Decides work item `id` (only its single approval item `item`, when named).
async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    item: Option<String>,
    decision: Decision,
) -> Result<Value, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    let now = state.clock().now();
    change(state, caller, id, move |c, actor| {
        let Some(p) = work_items::visible(c, &tenant, &key, actor)? else {
            return Ok(Err(Refusal::NotFound(format!(
                "Work item '{key}' was not found."
            ))));
        };
        if let Some(item) = item.filter(|i| *i != p.access_request_id) {
            return Ok(Err(Refusal::NotFound(format!(
                "Work item '{key}' has no approval item '{item}' (its approval item is '{}').",
                p.access_request_id
            ))));
        }
        Ok(engine::decide(c, &tenant, &key, actor, decision, None, now)?.map(|_| ()))
    })
    .await
}

/// `POST /work-items/{id}/approve/{approvalItemId}` (`approveApprovalItem`).
pub async fn approve_approval_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        decide(&state, &caller, &id, Some(item), Decision::Approve).await?,
    ))
}

/// `POST /work-items/{id}/reject/{approvalItemId}` (`rejectApprovalItem`). An item whose
/// rejection needs a comment cannot be rejected here (this operation takes none): use
/// `rejectAccessRequest` with a comment.
pub async fn reject_approval_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        decide(&state, &caller, &id, Some(item), Decision::Reject).await?,
    ))
}

/// `POST /work-items/bulk-approve/{id}` (`approveApprovalItemsInBulk`): every approval item of
/// the work item (an approval has one).
pub async fn approve_approval_items_in_bulk(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        decide(&state, &caller, &id, None, Decision::Approve).await?,
    ))
}

/// `POST /work-items/bulk-reject/{id}` (`rejectApprovalItemsInBulk`).
pub async fn reject_approval_items_in_bulk(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        decide(&state, &caller, &id, None, Decision::Reject).await?,
    ))
}

/// `POST /work-items/{id}` (`completeWorkItem`). The optional body is a JSON string (or null).
/// An approval is completed by deciding its approval item: while that is pending this is a 400
/// saying so; once decided the work item is already complete and is answered as it is.
pub async fn complete_work_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::String(_) | Value::Null) => {}
            _ => {
                return Err(ApiError::bad_request(
                    "The body of completeWorkItem, when sent, must be a JSON string or null.",
                ))
            }
        }
    }
    let item = read_one(&state, &caller, &id).await?;
    if item["state"] == ApprovalStatus::Pending.work_item_state() {
        let approval_item = item["approvalItems"][0]["id"].as_str().unwrap_or_default();
        return Err(ApiError::bad_request(format!(
            "Work item '{id}' is an approval whose item '{approval_item}' is still pending: approve or reject it \
             (POST /work-items/{id}/approve/{approval_item} or /reject/{approval_item}); that completes the work item."
        )));
    }
    Ok(Json(item))
}

/// `POST /work-items/{id}/submit-account-selection` (`submitAccountSelection`): the body (an
/// object keyed by field name) becomes the request's account selection, while the work item is
/// pending.
pub async fn submit_account_selection(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "The account selection must be a JSON object keyed by field name.",
        ));
    }
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let now = state.clock().now();
    Ok(Json(
        change(&state, &caller, &id, move |c, actor| {
            Ok(
                work_items::submit_account_selection(c, &tenant, &key, actor, &body, now)?
                    .map(|_| ()),
            )
        })
        .await?,
    ))
}

/// `WorkItemForward`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemForward {
    /// The new owner.
    pub target_owner_id: Option<String>,
    /// Why.
    pub comment: Option<String>,
    /// Notify the new owner (default true).
    pub send_notifications: Option<bool>,
}

impl WorkItemForward {
    /// The new owner and the comment (both required and non-blank) and whether to notify.
    pub fn fields(self) -> Result<(String, String, bool), ApiError> {
        let target = self
            .target_owner_id
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ApiError::missing("targetOwnerId"))?;
        let comment = self
            .comment
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| ApiError::missing("comment"))?;
        Ok((target, comment, self.send_notifications.unwrap_or(true)))
    }
}

/// Forwards approval `id` to `target` as the caller, in one write.
pub(crate) async fn forward(
    state: &AppState,
    caller: &Caller,
    id: &str,
    target: String,
    comment: String,
    notify: bool,
) -> Result<(), ApiError> {
    let actor = actor(caller)?;
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    let now = state.clock().now();
    state
        .store()
        .write(move |c| {
            engine::forward(c, &tenant, &key, &actor, &target, &comment, notify, now)
                .map(|o| o.map(|_| ()))
        })
        .await?
        .map_err(refused)
}

/// `POST /work-items/{id}/forward` (`sendWorkItemForward` v3, `forwardWorkItem` v2024/v1,
/// `submitForwardWorkItem` beta): 200 without a body. Only the owner (or a member of the owning
/// group) or an ORG_ADMIN; an unknown target or the current owner is a 400.
pub async fn forward_work_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WorkItemForward>,
) -> Result<StatusCode, ApiError> {
    let (target, comment, notify) = body.fields()?;
    forward(&state, &caller, &id, target, comment, notify).await?;
    Ok(StatusCode::OK)
}
