//! `POST /access-requests` (`createAccessRequest`): submit requests to grant, revoke or modify
//! access, for oneself or others.
//!
//! The shape rules (forms, counts, dates, comments) are checked here; the rules that need the
//! tenant's data (who may ask for whom, items that exist and are requestable, what a revocation
//! may touch) by `submit::submit` in the same transaction that stores the requests and enqueues
//! their processing. So a 202 is answered only once everything is committed. A request sent with
//! an `Idempotency-Key` header is answered, when retried with the same body, with the first
//! answer; the key and the answer are stored in that same transaction.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::wire::access_requests::{
    AccessRequest, AccessRequestItem, AccessRequestResponse, AccessRequestTracking,
    RequestedItemDetails,
};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_domain::Timestamp;
use gatehouse_store::access_requests::engine::Refusal;
use gatehouse_store::access_requests::submit::{self, NewItem, NewRequest, Submitted, Tracking};
use gatehouse_store::{Conn, StoreError};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Entitlements one request may ask for (when any entitlement is asked for).
const MAX_ENTITLEMENTS: usize = 25;
/// Identities one request may be for when it asks for any entitlement.
const MAX_IDENTITIES_WITH_ENTITLEMENTS: usize = 10;
/// (identity, item) pairs one request may hold at all: a bound on the work of one call.
const MAX_PAIRS: usize = 5_000;
/// Longest `Idempotency-Key`.
const MAX_KEY_LEN: usize = 255;

/// Maps an engine refusal to its HTTP answer.
pub fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::NotFound(m) => ApiError::NotFound(m),
        Refusal::Forbidden(m) => ApiError::Forbidden(m),
        Refusal::Invalid(m) => ApiError::bad_request(m),
    }
}

fn string_map(v: &Option<Value>, field: &str) -> Result<Option<Value>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(v.clone()),
        Some(_) => Err(ApiError::bad_request(format!(
            "'{field}' must be an object whose values are strings."
        ))),
    }
}

fn date(v: &Option<String>, field: &str, now: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    let Some(text) = v else { return Ok(None) };
    let at = Timestamp::parse_rfc3339(text).map_err(|_| {
        ApiError::bad_request(format!(
            "'{field}' must be an RFC 3339 date-time, not '{text}'."
        ))
    })?;
    let utc = text.ends_with('Z') || text.ends_with('z') || text.ends_with("+00:00");
    if !utc {
        return Err(ApiError::bad_request(format!(
            "'{field}' must be in UTC (end in 'Z'), not '{text}'."
        )));
    }
    if at <= now {
        return Err(ApiError::bad_request(format!(
            "'{field}' must be in the future, not '{text}'."
        )));
    }
    Ok(Some(at))
}

fn item(
    i: &AccessRequestItem,
    at: &str,
    request_type: &str,
    now: Timestamp,
) -> Result<NewItem, ApiError> {
    let item_type = match i.item_type.as_deref() {
        Some(t @ ("ROLE" | "ACCESS_PROFILE" | "ENTITLEMENT")) => t.to_owned(),
        Some(t) => {
            return Err(ApiError::bad_request(format!(
                "{at}.type must be ACCESS_PROFILE, ROLE or ENTITLEMENT, not '{t}'."
            )))
        }
        None => return Err(ApiError::bad_request(format!("{at}.type is required."))),
    };
    let id = match i.id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => return Err(ApiError::bad_request(format!("{at}.id is required."))),
    };
    let revoke = request_type == "REVOKE_ACCESS";
    if revoke && i.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(ApiError::bad_request(format!(
            "{at}.comment is required for a REVOKE_ACCESS request."
        )));
    }
    if revoke && i.start_date.is_some() {
        return Err(ApiError::bad_request(format!(
            "{at}.startDate is not allowed in a REVOKE_ACCESS request: it only applies to grants."
        )));
    }
    if request_type == "GRANT_ACCESS" && i.form_instance_id.as_deref() == Some("") {
        return Err(ApiError::bad_request(format!(
            "{at}.formInstanceId must not be empty."
        )));
    }
    let start_date = date(&i.start_date, &format!("{at}.startDate"), now)?;
    let remove_date = date(&i.remove_date, &format!("{at}.removeDate"), now)?;
    if let (Some(s), Some(r)) = (start_date, remove_date) {
        if r <= s {
            return Err(ApiError::bad_request(format!(
                "{at}.removeDate must come after {at}.startDate."
            )));
        }
    }
    if let Some(sel) = &i.account_selection {
        if !sel.is_array() {
            return Err(ApiError::bad_request(format!(
                "{at}.accountSelection must be an array."
            )));
        }
    }
    Ok(NewItem {
        item_type,
        item_id: id,
        comment: i.comment.clone(),
        client_metadata: string_map(&i.client_metadata, &format!("{at}.clientMetadata"))?,
        start_date,
        remove_date,
        assignment_id: i.assignment_id.clone().filter(|s| !s.is_empty()),
        native_identity: i.native_identity.clone().filter(|s| !s.is_empty()),
        account_selection: i.account_selection.clone(),
    })
}

/// Reads a `createAccessRequest` body (already parsed as JSON) and checks its shape: the
/// [`NewRequest`] `requester` submits at `now`, or the 400 the handler answers.
pub fn submission(
    raw: Value,
    requester: &str,
    is_admin: bool,
    now: Timestamp,
) -> Result<NewRequest, ApiError> {
    if !raw.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let body: AccessRequest = serde_json::from_value(raw)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}.")))?;
    new_request(&body, requester, is_admin, now)
}

/// Checks the shape of `body` and turns it into a [`NewRequest`] for `requester`.
fn new_request(
    body: &AccessRequest,
    requester: &str,
    is_admin: bool,
    now: Timestamp,
) -> Result<NewRequest, ApiError> {
    let request_type = match body.request_type.as_deref() {
        None => "GRANT_ACCESS",
        Some(t @ ("GRANT_ACCESS" | "REVOKE_ACCESS" | "MODIFY_ACCESS")) => t,
        Some(t) => {
            return Err(ApiError::bad_request(format!(
                "requestType must be GRANT_ACCESS, REVOKE_ACCESS or MODIFY_ACCESS, not '{t}'."
            )))
        }
    };
    let separate = body.requested_for.is_some() || body.requested_items.is_some();
    let mut requested_for: Vec<(String, Vec<NewItem>)> = Vec::new();
    match (&body.requested_for_with_requested_items, separate) {
        (Some(_), true) => {
            return Err(ApiError::bad_request(
                "requestedForWithRequestedItems can only be used when requestedFor and requestedItems are not given.",
            ))
        }
        (Some(list), false) => {
            if request_type != "GRANT_ACCESS" {
                return Err(ApiError::bad_request(
                    "requestedForWithRequestedItems is only supported for GRANT_ACCESS requests.",
                ));
            }
            if list.is_empty() {
                return Err(ApiError::bad_request(
                    "requestedForWithRequestedItems must name at least one identity.",
                ));
            }
            for (n, r) in list.iter().enumerate() {
                let at = format!("requestedForWithRequestedItems[{n}]");
                let id = match r.identity_id.as_deref().map(str::trim) {
                    Some(id) if !id.is_empty() => id.to_owned(),
                    _ => return Err(ApiError::bad_request(format!("{at}.identityId is required."))),
                };
                if let Some(t) = r.identity_type.as_deref().filter(|t| *t != "HUMAN") {
                    return Err(ApiError::bad_request(format!(
                        "{at}.identityType '{t}' is not supported: Gatehouse has human identities only."
                    )));
                }
                let items = r.requested_items.as_deref().unwrap_or_default();
                if items.is_empty() {
                    return Err(ApiError::bad_request(format!(
                        "{at}.requestedItems must hold at least one item."
                    )));
                }
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(k, i)| item(i, &format!("{at}.requestedItems[{k}]"), request_type, now))
                    .collect::<Result<Vec<_>, _>>()?;
                match requested_for.iter_mut().find(|(i, _)| *i == id) {
                    Some((_, existing)) => existing.extend(items),
                    None => requested_for.push((id, items)),
                }
            }
        }
        (None, _) => {
            let ids = body.requested_for.as_deref().unwrap_or_default();
            if ids.is_empty() {
                return Err(ApiError::bad_request(
                    "requestedFor is required: name at least one identity.",
                ));
            }
            let items = body.requested_items.as_deref().unwrap_or_default();
            if items.is_empty() {
                return Err(ApiError::bad_request(
                    "requestedItems is required: name at least one item.",
                ));
            }
            let items = items
                .iter()
                .enumerate()
                .map(|(k, i)| item(i, &format!("requestedItems[{k}]"), request_type, now))
                .collect::<Result<Vec<_>, _>>()?;
            for id in ids {
                let id = id.trim();
                if id.is_empty() {
                    return Err(ApiError::bad_request("requestedFor holds an empty identity id."));
                }
                if !requested_for.iter().any(|(i, _)| i == id) {
                    requested_for.push((id.to_owned(), items.clone()));
                }
            }
        }
    }
    let entitlements = requested_for
        .iter()
        .map(|(_, items)| {
            items
                .iter()
                .filter(|i| i.item_type == "ENTITLEMENT")
                .count()
        })
        .max()
        .unwrap_or(0);
    if entitlements > 0 {
        if entitlements > MAX_ENTITLEMENTS {
            return Err(ApiError::bad_request(format!(
                "A request may ask for at most {MAX_ENTITLEMENTS} entitlements; this one asks for {entitlements}."
            )));
        }
        if requested_for.len() > MAX_IDENTITIES_WITH_ENTITLEMENTS {
            return Err(ApiError::bad_request(format!(
                "A request that asks for entitlements may be for at most {MAX_IDENTITIES_WITH_ENTITLEMENTS} identities; this one is for {}.",
                requested_for.len()
            )));
        }
    }
    let pairs: usize = requested_for.iter().map(|(_, i)| i.len()).sum();
    if pairs > MAX_PAIRS {
        return Err(ApiError::bad_request(format!(
            "A request may hold at most {MAX_PAIRS} (identity, item) pairs; this one holds {pairs}."
        )));
    }
    if request_type == "REVOKE_ACCESS" {
        if requested_for.len() != 1 {
            return Err(ApiError::bad_request(
                "A REVOKE_ACCESS request must be for exactly one identity.",
            ));
        }
        if entitlements > 1 {
            return Err(ApiError::bad_request(
                "A REVOKE_ACCESS request may revoke at most 1 entitlement.",
            ));
        }
    }
    Ok(NewRequest {
        request_type: request_type.to_owned(),
        requester_id: requester.to_owned(),
        requester_is_admin: is_admin,
        requested_for,
        request_metadata: string_map(&body.client_metadata, "clientMetadata")?,
    })
}

/// SailPoint's `attributesHash`: a stable 32-bit FNV-1a hash of the identity and its items.
fn attributes_hash(t: &Tracking) -> i32 {
    let mut items: Vec<String> = t.items.iter().map(|(k, i)| format!("{k}:{i}")).collect();
    items.sort();
    let text = format!("{}|{}", t.requested_for, items.join(","));
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i32::from_ne_bytes(h.to_ne_bytes())
}

fn tracking(list: Vec<Tracking>) -> Vec<AccessRequestTracking> {
    list.into_iter()
        .map(|t| AccessRequestTracking {
            attributes_hash: attributes_hash(&t),
            requested_items_details: t
                .items
                .iter()
                .map(|(k, i)| RequestedItemDetails {
                    item_type: k.clone(),
                    id: i.clone(),
                })
                .collect(),
            requested_for: t.requested_for,
            access_request_ids: t.ids,
        })
        .collect()
}

fn response(s: Submitted) -> AccessRequestResponse {
    AccessRequestResponse {
        new_requests: tracking(s.new),
        existing_requests: tracking(s.existing),
    }
}

/// A stored first answer to an `Idempotency-Key`.
struct Replay {
    fingerprint: String,
    status: i64,
    body: String,
}

fn stored_answer(
    c: &mut dyn Conn,
    tenant: &str,
    caller: &str,
    key: &str,
) -> Result<Option<Replay>, StoreError> {
    c.query_opt(
        "select fingerprint, status, body from idempotency_key where tenant_id = $1 and caller = $2 and key = $3",
        &[tenant.into(), caller.into(), key.into()],
    )?
    .map(|r| {
        Ok(Replay {
            fingerprint: r.text(0)?,
            status: r.int(1)?,
            body: r.text(2)?,
        })
    })
    .transpose()
}

fn replay(r: Replay, fingerprint: &str, key: &str) -> Result<Response, ApiError> {
    if r.fingerprint != fingerprint {
        return Err(ApiError::bad_request(format!(
            "Idempotency-Key '{key}' was already used with a different request body."
        )));
    }
    let status = u16::try_from(r.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::ACCEPTED);
    let body: Value = serde_json::from_str(&r.body)
        .map_err(|e| ApiError::Internal(format!("stored idempotent answer: {e}")))?;
    Ok((status, [("Idempotent-Replayed", "true")], Json(body)).into_response())
}

/// `POST /access-requests`.
pub async fn create_access_request(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let requester = caller.identity()?.to_owned();
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= MAX_KEY_LEN => Some(k.trim().to_owned()),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible characters."
                )))
            }
        },
    };
    let fingerprint = hex(&Sha256::digest(raw.to_string().as_bytes()));
    let caller_key = format!("{}:{requester}", caller.principal.client_id);
    let tenant = caller.tenant().to_owned();
    if let Some(k) = &key {
        let (t, ck, kk) = (tenant.clone(), caller_key.clone(), k.clone());
        if let Some(r) = state
            .store()
            .read(move |c| stored_answer(c, &t, &ck, &kk))
            .await?
        {
            return replay(r, &fingerprint, k);
        }
    }
    let now = state.clock().now();
    let req = submission(raw, &requester, caller.is_admin(), now)?;
    let stored_key = key
        .clone()
        .map(|k| (k, caller_key.clone(), fingerprint.clone()));
    let t = tenant.clone();
    let outcome = state
        .store()
        .write(move |c| {
            let submitted = match submit::submit(c, &t, &req, now)? {
                Ok(s) => s,
                Err(r) => return Ok(Err(r)),
            };
            let body = serde_json::to_string(&response(submitted.clone()))
                .map_err(|e| StoreError::Decode(e.to_string()))?;
            if let Some((k, ck, fp)) = &stored_key {
                c.execute(
                    "insert into idempotency_key (tenant_id, caller, key, fingerprint, status, body, created) \
                     values ($1, $2, $3, $4, 202, $5, $6)",
                    &[t.as_str().into(), ck.into(), k.into(), fp.into(), body.into(), now.into()],
                )?;
            }
            Ok(Ok(submitted))
        })
        .await;
    let submitted = match outcome {
        Ok(Ok(s)) => s,
        Ok(Err(r)) => return Err(refusal(r)),
        // Two submits with the same key raced: the loser's transaction rolled back; answer
        // with the winner's.
        Err(StoreError::Conflict(_)) if key.is_some() => {
            let k = key.unwrap_or_default();
            let kk = k.clone();
            let r = state
                .store()
                .read(move |c| stored_answer(c, &tenant, &caller_key, &kk))
                .await?
                .ok_or_else(|| ApiError::Internal("idempotency key vanished".into()))?;
            return replay(r, &fingerprint, &k);
        }
        Err(e) => return Err(e.into()),
    };
    state.wake_jobs();
    Ok((StatusCode::ACCEPTED, Json(response(submitted))).into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
