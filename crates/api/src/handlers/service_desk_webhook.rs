//! `POST /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}/webhook`: a service
//! desk reports a ticket's status.
//!
//! The desk authenticates with the integration's inbound credential, sent as
//! `Authorization: Bearer …`: the WEBHOOK token (compared in constant time with the stored hash)
//! or an access token issued to the integration's OAUTH2 client. The payload is the desk's own
//! (ServiceNow record, Jira `jira:issue_updated` event, generic `ticket.updated` event, or any
//! JSON the inbound `mapAttributes` describe); it names the ticket by correlation id, desk id or
//! number. The status is read through the inbound `SERVICEREQUEST` `Status` mapping, else the
//! protocol's status field and the integration's `statusMap`. Committed completes the item,
//! Failed fails it; a repeated delivery changes nothing the second time.

use crate::auth::bearer_token;
use crate::auth::jwt::Signer;
use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use gatehouse_desk::jobs::sailpoint_status;
use gatehouse_desk::protocol::{webhook_keys, webhook_status};
use gatehouse_domain::service_desk::mapping::{inbound_status, ticket_status};
use gatehouse_domain::{Clock, SystemClock, Timestamp};
use gatehouse_store::installed_integrations::{self, InboundAuth, PreviousToken};
use gatehouse_store::runner::JobError;
use gatehouse_store::tickets::{self, Phase};
use serde_json::{json, Value};

/// The webhook route (its own authentication: the desk is not a Gatehouse user).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v2/tenants/{p1}/integrations/installed/{p2}/webhook",
        post(receive_service_desk_webhook),
    )
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized("The webhook credential of this integration is missing or wrong.".into())
}

fn not_found() -> ApiError {
    ApiError::NotFound("No installed integration with this id exists in this tenant.".into())
}

fn job_error(e: JobError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Checks the bearer credential of an inbound call against the integration's inbound auth:
/// OAUTH2 access tokens are verified by `signer` at wall-clock second `now`.
pub fn check_credential(
    signer: &Signer,
    now: i64,
    tenant: &str,
    auth: &InboundAuth,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let presented = bearer_token(headers)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    match auth {
        InboundAuth::None => Err(unauthorized()),
        InboundAuth::Webhook { token_hash } => {
            if installed_integrations::webhook_token_matches(token_hash, presented) {
                Ok(())
            } else {
                Err(unauthorized())
            }
        }
        InboundAuth::OAuth2 { client_id } => match signer.verify(presented, now, "access") {
            Ok(c) if c.client_id == *client_id && c.tenant_id == tenant => Ok(()),
            _ => Err(unauthorized()),
        },
    }
}

/// True when a WEBHOOK integration's rotated-out token is presented inside its overlap window
/// (`rotateInstalledIntegrationToken` with `overlapSeconds`), which ends at `until` by the
/// server's business clock.
pub fn previous_token_accepted(
    auth: &InboundAuth,
    previous: Option<&PreviousToken>,
    now: Timestamp,
    headers: &HeaderMap,
) -> bool {
    match (auth, previous, bearer_token(headers)) {
        (InboundAuth::Webhook { .. }, Some(p), Some(presented)) => {
            now < p.until
                && !presented.is_empty()
                && installed_integrations::webhook_token_matches(&p.token_hash, presented)
        }
        _ => false,
    }
}

/// `receiveServiceDeskWebhook`.
pub async fn receive_service_desk_webhook(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (t, i) = (tenant.clone(), id.clone());
    let (inbound, previous) = state
        .store()
        .read(move |c| {
            Ok((
                installed_integrations::inbound(c, &t, &i)?,
                installed_integrations::previous_token(c, &t, &i)?,
            ))
        })
        .await?;
    let inbound = inbound.ok_or_else(not_found)?;
    let now = SystemClock.now().unix_seconds();
    if let Err(refused) = check_credential(state.signer(), now, &tenant, &inbound.auth, &headers) {
        if !previous_token_accepted(
            &inbound.auth,
            previous.as_ref(),
            state.clock().now(),
            &headers,
        ) {
            return Err(refused);
        }
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("The webhook body is not JSON: {e}")))?;
    if !payload.is_object() {
        return Err(ApiError::bad_request(
            "The webhook body must be a JSON object.",
        ));
    }
    let loaded = state
        .desks()
        .load(&tenant, &id)
        .await
        .map_err(job_error)?
        .ok_or_else(not_found)?;
    let keys = webhook_keys(loaded.link.flavor, &payload);
    if keys.is_empty() {
        return Err(ApiError::bad_request(
            "The webhook body names no ticket (no correlation id, ticket id or number where this desk's payloads hold them).",
        ));
    }
    let (t, i) = (tenant.clone(), id.clone());
    let found = state
        .store()
        .read(move |c| {
            for k in &keys {
                if let Some(found) = tickets::find(c, &t, &i, k)? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        })
        .await?
        .ok_or_else(|| {
            ApiError::NotFound("No ticket of this integration matches the webhook.".into())
        })?;
    let desk_status = webhook_status(&loaded.link, &payload);
    let status = match inbound_status(&loaded.inbound, &payload) {
        Some(v) => ticket_status(&v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "The mapped status '{v}' is none of Queued, Committed or Failed (or Open, Closed, Cancelled…)."
            ))
        })?,
        None => match desk_status.as_deref() {
            Some(s) => sailpoint_status(&loaded, s),
            None => {
                return Err(ApiError::bad_request(
                    "The webhook body holds no ticket status where this desk's payloads hold it.",
                ))
            }
        },
    };
    let reply = |changed: bool| {
        Json(json!({
            "correlationId": found.correlation_id,
            "status": status,
            "changed": changed,
        }))
    };
    if found.phase == Phase::Done {
        return Ok(reply(false));
    }
    let now = state.clock().now();
    let shown = desk_status.clone().unwrap_or_else(|| status.to_owned());
    let changed = if status == "Queued" {
        let (t, r) = (tenant.clone(), found.request_id.clone());
        state
            .store()
            .write(move |c| tickets::seen(c, &t, &r, &shown, now))
            .await?
    } else {
        let (t, r, s) = (tenant.clone(), found.request_id.clone(), status.to_owned());
        let message = format!("The desk's ticket is {shown}.");
        let d = desk_status.clone();
        let changed = state
            .store()
            .write(move |c| tickets::settle(c, &t, &r, &s, d.as_deref(), &message, now))
            .await?;
        state.wake_jobs();
        changed
    };
    Ok(reply(changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(authorization: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        h
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_letter_case_as_the_api_reads_it() {
        let signer = Signer::new("k".into(), b"key".to_vec());
        let auth = InboundAuth::Webhook {
            token_hash: installed_integrations::token_hash("whk-token"),
        };
        for ok in [
            "Bearer whk-token",
            "bearer whk-token",
            "BEARER whk-token",
            "bEaReR  whk-token ",
        ] {
            assert!(
                check_credential(&signer, 0, "t", &auth, &headers(ok)).is_ok(),
                "{ok}"
            );
        }
        for refused in [
            "Bearer other",
            "Basic whk-token",
            "Bearer",
            "Bearer ",
            "whk-token",
        ] {
            assert!(
                check_credential(&signer, 0, "t", &auth, &headers(refused)).is_err(),
                "{refused}"
            );
        }
        assert!(check_credential(&signer, 0, "t", &auth, &HeaderMap::new()).is_err());
    }
}
