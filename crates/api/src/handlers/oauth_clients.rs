//! `/oauth-clients`: API clients that obtain tokens with the client-credentials grant.
//!
//! Managing clients is for tenant administrators (the spec names no user level; an API client
//! created by anyone would hand out tokens, so Gatehouse requires ORG_ADMIN). An API client may
//! read a client (`getOauthClient`) with the `sp:oauth-client:read` scope, as the spec allows.

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{apply_patch, json_patch, ApiJson, QueryMap};
use crate::wire::oauth_clients::{
    CreateOAuthClientRequest, CreateOAuthClientResponse, GetOAuthClientResponse, ACCESS_TYPES,
    CLIENT_TYPES, GRANT_TYPES,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op};
use gatehouse_store::oauth_clients::{self, OAuthClient};
use gatehouse_store::StoreError;

/// `filters` of `listOauthClients`: `lastUsed` le, isnull.
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[Field {
        name: "lastUsed",
        column: "last_used",
        kind: FieldKind::DateTime,
        ops: &[Op::Le, Op::IsNull],
    }],
};

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Managing OAuth clients needs the ORG_ADMIN user level.".into(),
        ))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("OAuth client '{id}' was not found."))
}

/// Checks the fields every client must satisfy (after a create or a patch).
fn validate(o: &OAuthClient) -> Result<(), ApiError> {
    if o.name.trim().is_empty() {
        return Err(ApiError::missing("name"));
    }
    if !(1..=86_400).contains(&o.access_token_validity_seconds) {
        return Err(ApiError::illegal(
            "'accessTokenValiditySeconds' must be from 1 to 86400.",
        ));
    }
    if !(1..=31_536_000).contains(&o.refresh_token_validity_seconds) {
        return Err(ApiError::illegal(
            "'refreshTokenValiditySeconds' must be from 1 to 31536000.",
        ));
    }
    if o.grant_types.is_empty() {
        return Err(ApiError::missing("grantTypes"));
    }
    if let Some(g) = o
        .grant_types
        .iter()
        .find(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(ApiError::illegal(format!(
            "'{g}' is not a grant type: use one of {}.",
            GRANT_TYPES.join(", ")
        )));
    }
    if o.grant_types.iter().any(|g| g == "AUTHORIZATION_CODE") && o.redirect_uris.is_empty() {
        return Err(ApiError::illegal(
            "The AUTHORIZATION_CODE grant type needs at least one redirect URI.",
        ));
    }
    if !ACCESS_TYPES.contains(&o.access_type.as_str()) {
        return Err(ApiError::illegal(format!(
            "'accessType' must be one of {}.",
            ACCESS_TYPES.join(", ")
        )));
    }
    if !CLIENT_TYPES.contains(&o.client_type.as_str()) {
        return Err(ApiError::illegal(format!(
            "'type' must be one of {}.",
            CLIENT_TYPES.join(", ")
        )));
    }
    if let Some(s) = o
        .scope
        .as_ref()
        .and_then(|s| s.iter().find(|s| s.trim().is_empty()))
    {
        return Err(ApiError::illegal(format!("'{s}' is not a scope.")));
    }
    Ok(())
}

/// `GET /oauth-clients` (`listOauthClients`).
pub async fn list_oauth_clients(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Json<Vec<GetOAuthClientResponse>>, ApiError> {
    require_admin(&caller)?;
    let filter = query.filters(&FILTERS, 2)?;
    let tenant = caller.tenant().to_owned();
    let clients = state
        .store()
        .read(move |c| oauth_clients::list(c, &tenant, filter))
        .await?;
    Ok(Json(
        clients.iter().map(GetOAuthClientResponse::from).collect(),
    ))
}

/// `POST /oauth-clients` (`createOauthClient`): 200 with the secret, shown this once.
pub async fn create_oauth_client(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<ApiJson<CreateOAuthClientRequest>, ApiError>,
) -> Result<Json<CreateOAuthClientResponse>, ApiError> {
    // Who may call comes before what was sent: a non-admin learns nothing about the body.
    require_admin(&caller)?;
    let ApiJson(body) = body?;
    let name = body
        .name
        .ok_or_else(|| ApiError::missing("name"))?
        .unwrap_or_default();
    let description = body
        .description
        .ok_or_else(|| ApiError::missing("description"))?;
    let validity = body
        .access_token_validity_seconds
        .ok_or_else(|| ApiError::missing("accessTokenValiditySeconds"))?;
    let grant_types = body
        .grant_types
        .ok_or_else(|| ApiError::missing("grantTypes"))?
        .unwrap_or_default();
    let access_type = body
        .access_type
        .ok_or_else(|| ApiError::missing("accessType"))?;
    let enabled = body.enabled.ok_or_else(|| ApiError::missing("enabled"))?;
    let now = state.clock().now();
    let secret = secrets::new_secret();
    let client = OAuthClient {
        id: uuid::Uuid::new_v4().to_string(),
        tenant_id: caller.tenant().to_owned(),
        secret_hash: secrets::hash_secret(state.secret_hash_key(), &secret),
        name,
        description,
        business_name: body.business_name,
        homepage_url: body.homepage_url,
        access_token_validity_seconds: i64::from(validity),
        refresh_token_validity_seconds: i64::from(
            body.refresh_token_validity_seconds.unwrap_or(86_400),
        ),
        redirect_uris: body.redirect_uris.unwrap_or_default(),
        grant_types,
        access_type,
        client_type: body.client_type.unwrap_or_else(|| "CONFIDENTIAL".into()),
        internal: body.internal.unwrap_or(false),
        enabled,
        strong_auth_supported: body.strong_auth_supported.unwrap_or(false),
        claims_supported: body.claims_supported.unwrap_or(false),
        scope: body
            .scope
            .unwrap_or_else(|| Some(vec!["sp:scopes:all".into()])),
        metadata: None,
        created: now,
        modified: now,
        last_used: None,
    };
    validate(&client)?;
    let stored = client.clone();
    state
        .store()
        .write(move |c| oauth_clients::insert(c, &stored))
        .await?;
    Ok(Json(CreateOAuthClientResponse::new(&client, secret)))
}

/// `GET /oauth-clients/{id}` (`getOauthClient`).
pub async fn get_oauth_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<GetOAuthClientResponse>, ApiError> {
    if caller.principal.identity_id.is_some() {
        require_admin(&caller)?;
    }
    let tenant = caller.tenant().to_owned();
    let key = id.clone();
    let client = state
        .store()
        .read(move |c| oauth_clients::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(GetOAuthClientResponse::from(&client)))
}

/// Fields a patch may not change.
const READ_ONLY: &[&str] = &["id", "created", "modified", "secret", "lastUsed"];

/// `PATCH /oauth-clients/{id}` (`patchOauthClient`).
pub async fn patch_oauth_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<ApiJson<serde_json::Value>, ApiError>,
) -> Result<Json<GetOAuthClientResponse>, ApiError> {
    require_admin(&caller)?;
    let ApiJson(body) = body?;
    let patch = json_patch(body)?;
    let tenant = caller.tenant().to_owned();
    let key = id.clone();
    let current = state
        .store()
        .read(move |c| oauth_clients::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    let before = serde_json::to_value(GetOAuthClientResponse::from(&current))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut doc = before.clone();
    apply_patch(&mut doc, &patch)?;
    for field in READ_ONLY {
        if doc.get(field) != before.get(field) {
            return Err(ApiError::illegal(format!("'{field}' cannot be changed.")));
        }
    }
    let view: GetOAuthClientResponse = serde_json::from_value(doc)
        .map_err(|e| ApiError::illegal(format!("The patched client is not valid: {e}.")))?;
    let updated = OAuthClient {
        name: view.name,
        description: view.description,
        business_name: view.business_name,
        homepage_url: view.homepage_url,
        access_token_validity_seconds: view.access_token_validity_seconds,
        refresh_token_validity_seconds: view.refresh_token_validity_seconds,
        redirect_uris: view.redirect_uris.unwrap_or_default(),
        grant_types: view.grant_types,
        access_type: view.access_type,
        client_type: view.client_type,
        internal: view.internal,
        enabled: view.enabled,
        strong_auth_supported: view.strong_auth_supported,
        claims_supported: view.claims_supported,
        scope: view.scope,
        metadata: view.metadata.map(serde_json::Value::String),
        modified: state.clock().now(),
        ..current
    };
    validate(&updated)?;
    let stored = updated.clone();
    let found = state
        .store()
        .write(move |c| oauth_clients::update(c, &stored))
        .await?;
    if !found {
        return Err(not_found(&id));
    }
    Ok(Json(GetOAuthClientResponse::from(&updated)))
}

/// `DELETE /oauth-clients/{id}` (`deleteOauthClient`): 204.
pub async fn delete_oauth_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    let tenant = caller.tenant().to_owned();
    let key = id.clone();
    let deleted = state
        .store()
        .write(move |c| oauth_clients::delete(c, &tenant, &key))
        .await
        .map_err(|e: StoreError| ApiError::from(e))?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
