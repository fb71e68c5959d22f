//! `/personal-access-tokens`: client credentials bound to a person, so that the tokens they obtain
//! act as that person with that person's user levels.

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{apply_patch, json_patch, json_patch_allowing_null, ApiJson, QueryMap};
use crate::handlers::oauth_clients::FILTERS;
use crate::routes::Family;
use crate::wire::pats::{
    CreatePersonalAccessTokenRequest, CreatePersonalAccessTokenResponse,
    GetPersonalAccessTokenResponse, PatOwner,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gatehouse_domain::Timestamp;
use gatehouse_store::pats::{self, Pat};
use gatehouse_store::tenants::{self, Identity};
use gatehouse_store::StoreError;

/// PATs one person may hold (SailPoint's limit).
pub const MAX_PER_OWNER: i64 = 10;
/// The longest a v3/v2024/beta PAT may live: six months.
const SIX_MONTHS_MS: i64 = 183 * 86_400_000;

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Personal access token '{id}' was not found."))
}

fn check_scopes(scope: Option<&Vec<String>>) -> Result<(), ApiError> {
    let Some(scope) = scope else { return Ok(()) };
    if scope.len() > 100 {
        return Err(ApiError::illegal("'scope' may list at most 100 scopes."));
    }
    match scope.iter().find(|s| s.trim().is_empty() || s.len() > 200) {
        Some(s) => Err(ApiError::illegal(format!("'{s}' is not a scope."))),
        None => Ok(()),
    }
}

/// The expiry rules: v3/v2024/beta default to six months and allow at most six months; v1 allows
/// any future date, or none at all when `userAwareTokenNeverExpires` is true.
fn expiry(
    body: &CreatePersonalAccessTokenRequest,
    family: Family,
    now: Timestamp,
) -> Result<(Option<Timestamp>, bool), ApiError> {
    let date = body
        .expiration_date
        .as_deref()
        .map(|d| {
            Timestamp::parse_rfc3339(d).map_err(|_| {
                ApiError::illegal(format!(
                    "'expirationDate' must be an RFC 3339 date-time, not '{d}'."
                ))
            })
        })
        .transpose()?;
    if let Some(d) = date {
        if d <= now {
            return Err(ApiError::illegal("'expirationDate' must be in the future."));
        }
    }
    let never = body.user_aware_token_never_expires.unwrap_or(false);
    if family == Family::V1 {
        return match (date, never) {
            (None, true) => Ok((None, true)),
            (None, false) => Err(ApiError::illegal(
                "A token without 'expirationDate' never expires: set 'userAwareTokenNeverExpires' to true to confirm.",
            )),
            (Some(_), true) => Err(ApiError::illegal(
                "'userAwareTokenNeverExpires' cannot be true when 'expirationDate' is set.",
            )),
            (Some(d), false) => Ok((Some(d), false)),
        };
    }
    match date {
        None => Ok((Some(now.plus_millis(SIX_MONTHS_MS)), false)),
        Some(d) if d.0 - now.0 > SIX_MONTHS_MS => Err(ApiError::illegal(
            "'expirationDate' must be within six months of the creation date.",
        )),
        Some(d) => Ok((Some(d), false)),
    }
}

/// Creates a PAT for `owner` (used by `createPersonalAccessToken` and the admin API).
pub async fn create_for(
    state: &AppState,
    owner: Identity,
    body: CreatePersonalAccessTokenRequest,
    family: Family,
) -> Result<CreatePersonalAccessTokenResponse, ApiError> {
    let name = body.name.clone().unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::missing("name"));
    }
    if name.len() > 255 {
        return Err(ApiError::illegal("'name' may be at most 255 characters."));
    }
    check_scopes(body.scope.as_ref())?;
    let validity = body.access_token_validity_seconds.unwrap_or(43_200);
    if !(15..=43_200).contains(&validity) {
        return Err(ApiError::illegal(
            "'accessTokenValiditySeconds' must be from 15 to 43200.",
        ));
    }
    let now = state.clock().now();
    let (expiration_date, never_expires) = expiry(&body, family, now)?;
    let secret = secrets::new_secret();
    let pat = Pat {
        id: secrets::new_id(),
        tenant_id: owner.tenant_id.clone(),
        owner_id: owner.id.clone(),
        name,
        secret_hash: secrets::hash_secret(state.secret_hash_key(), &secret),
        scope: Some(body.scope.unwrap_or_else(|| vec!["sp:scopes:all".into()])),
        access_token_validity_seconds: validity,
        expiration_date,
        never_expires,
        managed: false,
        created: now,
        last_used: None,
    };
    let stored = pat.clone();
    let outcome = state
        .store()
        .write(move |c| {
            if pats::count_for_owner(c, &stored.tenant_id, &stored.owner_id)? >= MAX_PER_OWNER {
                return Ok(false);
            }
            pats::insert(c, &stored)?;
            Ok(true)
        })
        .await;
    match outcome {
        Ok(true) => {}
        Ok(false) => {
            return Err(ApiError::BadRequest {
                detail: "400.1.4 Limit violation",
                message: format!(
                    "A person may hold at most {MAX_PER_OWNER} personal access tokens."
                ),
            })
        }
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(format!(
                "The owner already has a personal access token named '{}'.",
                pat.name
            )))
        }
        Err(e) => return Err(e.into()),
    }
    let owner_ref = PatOwner::identity(&owner.id, &owner.name);
    Ok(CreatePersonalAccessTokenResponse::new(
        &pat, owner_ref, secret,
    ))
}

async fn caller_identity(state: &AppState, caller: &Caller) -> Result<Identity, ApiError> {
    let (tenant, id) = (caller.tenant().to_owned(), caller.identity()?.to_owned());
    state
        .store()
        .read(move |c| tenants::identity(c, &tenant, &id))
        .await?
        .ok_or_else(|| ApiError::Forbidden("The token's identity no longer exists.".into()))
}

/// `POST /personal-access-tokens` (`createPersonalAccessToken`): 200 with the secret, shown once.
pub async fn create_personal_access_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreatePersonalAccessTokenRequest>,
) -> Result<Json<CreatePersonalAccessTokenResponse>, ApiError> {
    let owner = caller_identity(&state, &caller).await?;
    Ok(Json(
        create_for(&state, owner, body, caller.family()).await?,
    ))
}

/// `GET /personal-access-tokens` (`listPersonalAccessTokens`). `owner-id` may be `me` or the
/// caller's own id; another id, or all tokens, needs ORG_ADMIN. Without `owner-id` a person who
/// is not an administrator sees their own tokens.
pub async fn list_personal_access_tokens(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Json<Vec<GetPersonalAccessTokenResponse>>, ApiError> {
    let me = caller.identity()?.to_owned();
    let owner = match query.get("owner-id") {
        Some("me") => Some(me.clone()),
        Some(id) if id == me => Some(me.clone()),
        Some(id) if caller.is_admin() => Some(id.to_owned()),
        Some(_) => {
            return Err(ApiError::Forbidden(
                "Listing another person's tokens needs the ORG_ADMIN user level.".into(),
            ))
        }
        None if caller.is_admin() => None,
        None => Some(me.clone()),
    };
    let filter = query.filters(&FILTERS, 3)?;
    let tenant = caller.tenant().to_owned();
    let (list, names) = state
        .store()
        .read(move |c| {
            let list = pats::list(c, &tenant, owner.as_deref(), filter)?;
            let owners: Vec<&str> = list.iter().map(|p| p.owner_id.as_str()).collect();
            let names = tenants::identity_names(c, &tenant, &owners)?;
            Ok((list, names))
        })
        .await?;
    let family = caller.family();
    Ok(Json(
        list.iter()
            .map(|p| {
                let name = names.get(&p.owner_id).map_or("", String::as_str);
                GetPersonalAccessTokenResponse::new(
                    p,
                    PatOwner::identity(&p.owner_id, name),
                    family,
                )
            })
            .collect(),
    ))
}

async fn owned_pat(
    state: &AppState,
    caller: &Caller,
    id: &str,
    admin_may: bool,
) -> Result<(Pat, Identity), ApiError> {
    let me = caller.identity()?.to_owned();
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    let found = state
        .store()
        .read(move |c| {
            let Some(p) = pats::get(c, &tenant, &key)? else {
                return Ok(None);
            };
            let owner = tenants::identity(c, &tenant, &p.owner_id)?;
            Ok(owner.map(|o| (p, o)))
        })
        .await?;
    match found {
        Some((p, o)) if p.owner_id == me || (admin_may && caller.is_admin()) => Ok((p, o)),
        _ => Err(not_found(id)),
    }
}

/// `PATCH /personal-access-tokens/{id}` (`patchPersonalAccessToken`): the owner may change `name`
/// and `scope` (and, in v1, the expiry fields).
pub async fn patch_personal_access_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<GetPersonalAccessTokenResponse>, ApiError> {
    let family = caller.family();
    let patch = if family == Family::V1 {
        json_patch_allowing_null(body)?
    } else {
        json_patch(body)?
    };
    let (current, owner) = owned_pat(&state, &caller, &id, false).await?;
    let owner_ref = PatOwner::identity(&owner.id, &owner.name);
    let before = serde_json::to_value(GetPersonalAccessTokenResponse::new(
        &current,
        owner_ref.clone(),
        family,
    ))
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut doc = before.clone();
    apply_patch(&mut doc, &patch)?;
    let mut changeable = vec!["name", "scope"];
    if family == Family::V1 {
        changeable.extend(["expirationDate", "userAwareTokenNeverExpires"]);
    }
    let keys: std::collections::BTreeSet<&String> = before
        .as_object()
        .into_iter()
        .chain(doc.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for key in keys {
        if !changeable.contains(&key.as_str()) && doc.get(key) != before.get(key) {
            return Err(ApiError::illegal(format!("'{key}' cannot be changed.")));
        }
    }
    let name = doc
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    if name.trim().is_empty() {
        return Err(ApiError::missing("name"));
    }
    let scope: Option<Vec<String>> =
        serde_json::from_value(doc.get("scope").cloned().unwrap_or_default())
            .map_err(|_| ApiError::illegal("'scope' must be a list of scopes or null."))?;
    check_scopes(scope.as_ref())?;
    let mut updated = Pat {
        name,
        scope,
        ..current
    };
    if family == Family::V1 {
        let never = doc
            .get("userAwareTokenNeverExpires")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let date = match doc.get("expirationDate") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| Timestamp::parse_rfc3339(s).ok())
                    .ok_or_else(|| {
                        ApiError::illegal("'expirationDate' must be an RFC 3339 date-time or null.")
                    })?,
            ),
        };
        match (date, never) {
            (None, false) => {
                return Err(ApiError::illegal(
                    "Clearing 'expirationDate' needs 'userAwareTokenNeverExpires': true in the same patch.",
                ))
            }
            (Some(_), true) => {
                return Err(ApiError::illegal("'userAwareTokenNeverExpires' cannot be true when 'expirationDate' is set."))
            }
            _ => {}
        }
        updated.expiration_date = date;
        updated.never_expires = never;
    }
    let stored = updated.clone();
    match state.store().write(move |c| pats::update(c, &stored)).await {
        Ok(true) => {}
        Ok(false) => return Err(not_found(&id)),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(format!(
                "The owner already has a personal access token named '{}'.",
                updated.name
            )))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(GetPersonalAccessTokenResponse::new(
        &updated, owner_ref, family,
    )))
}

/// `DELETE /personal-access-tokens/{id}` (`deletePersonalAccessToken`): the owner or an ORG_ADMIN.
/// Tokens already issued stay valid until they expire, as in SailPoint.
pub async fn delete_personal_access_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (pat, _) = owned_pat(&state, &caller, &id, true).await?;
    let tenant = caller.tenant().to_owned();
    state
        .store()
        .write(move |c| pats::delete(c, &tenant, &pat.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
