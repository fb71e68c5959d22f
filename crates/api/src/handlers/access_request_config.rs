//! `/access-request-config` (v3, v2024, beta; `/access-request-config/v1`) and
//! `/access-request-config/v2`: the tenant's access-request configuration, one stored form answered
//! in each family's shape. SailPoint's defaults until the first PUT.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::handlers::catalog::unknown_reference;
use crate::wire::access_request_config::{
    parse, AccessRequestConfig, AccessRequestConfigV2, Parsed, Shape,
};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_domain::access_config as domain;
use gatehouse_store::{access_config, governance_groups, identities};
use serde_json::Value;

/// Ids checked per query (well under either engine's limit on parameters).
const IDS_PER_QUERY: usize = 500;

async fn load(state: &AppState, caller: &Caller) -> Result<domain::AccessRequestConfig, ApiError> {
    let tenant = caller.tenant().to_owned();
    Ok(state
        .store()
        .read(move |c| access_config::load(c, &tenant))
        .await?)
}

/// Checks a parsed body's references and replaces what `shape` expresses, in one write; a refusal
/// changes nothing. Answers the whole stored configuration.
async fn replace(
    state: &AppState,
    caller: &Caller,
    body: &Value,
    shape: Shape,
) -> Result<domain::AccessRequestConfig, ApiError> {
    let Parsed {
        mut config,
        groups,
        fallback,
    } = parse(body, shape)?;
    let tenant = caller.tenant().to_owned();
    let now = state.clock().now();
    state
        .store()
        .write(move |c| {
            let mut ids: Vec<String> = groups.iter().map(|(_, id)| id.clone()).collect();
            ids.sort();
            ids.dedup();
            let mut missing = Vec::new();
            for chunk in ids.chunks(IDS_PER_QUERY) {
                missing.extend(governance_groups::missing(c, &tenant, chunk)?);
            }
            if let Some((field, id)) = groups.iter().find(|(_, id)| missing.contains(id)) {
                return Ok(Err(unknown_reference(field, "governance group", id)));
            }
            if let Some((field, id)) = &fallback {
                let Some(person) = identities::get(c, &tenant, id)? else {
                    return Ok(Err(unknown_reference(field, "identity", id)));
                };
                // `name` and `email` are read-only: the identity's, as of this save.
                if let Some(f) = config.reminders.fallback_approver.as_mut() {
                    let i = person.identity;
                    f.name = Some(i.display_name.unwrap_or(i.name));
                    f.email = i.email;
                }
            }
            let mut stored = access_config::load(c, &tenant)?;
            shape.replace(&mut stored, config);
            access_config::save(c, &tenant, &stored, now)?;
            Ok(Ok(stored))
        })
        .await?
}

/// `GET /access-request-config` (`getAccessRequestConfig`; v1 `getAccessRequestConfigV1`).
pub async fn get_access_request_config(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AccessRequestConfig>, ApiError> {
    let config = load(&state, &caller).await?;
    Ok(Json(AccessRequestConfig::new(
        &config,
        Shape::of(caller.family()),
    )))
}

/// `PUT /access-request-config` (`setAccessRequestConfig`; v1 `setAccessRequestConfigV1`):
/// replaces the configuration as the family's shape expresses it.
pub async fn set_access_request_config(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<AccessRequestConfig>, ApiError> {
    let shape = Shape::of(caller.family());
    let config = replace(&state, &caller, &body, shape).await?;
    Ok(Json(AccessRequestConfig::new(&config, shape)))
}

/// `GET /access-request-config/v2` (`getAccessRequestConfigV2`).
pub async fn get_access_request_config_v2(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AccessRequestConfigV2>, ApiError> {
    Ok(Json((&load(&state, &caller).await?).into()))
}

/// `PUT /access-request-config/v2` (`setAccessRequestConfigV2`).
pub async fn set_access_request_config_v2(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<AccessRequestConfigV2>, ApiError> {
    let config = replace(&state, &caller, &body, Shape::V2).await?;
    Ok(Json((&config).into()))
}
