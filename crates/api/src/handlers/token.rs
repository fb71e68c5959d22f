//! `POST /oauth/token`: the client-credentials and refresh-token grants, in the three forms
//! SailPoint's clients send (form body, multipart body, query string), plus HTTP Basic.
//!
//! The client id is an OAuth client's or a personal access token's. A PAT's tokens act as its
//! owner: they carry `identity_id`, `user_name` and the owner's user levels. An OAuth client's
//! tokens have no user context and the `API` authority.

use crate::auth::jwt::Claims;
use crate::auth::secrets;
use crate::AppState;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use gatehouse_domain::{Clock, SystemClock};
use gatehouse_store::{oauth_clients, pats, tenants};
use std::collections::HashMap;
use std::time::Instant;

/// The token routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/oauth/info", get(info))
}

/// An RFC 6749 error answer.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Bad credentials",
    )
}

/// The grant's parameters, gathered from the query string, the body and Basic auth.
async fn params(state: &AppState, req: Request) -> Result<HashMap<String, String>, Response> {
    let mut out: HashMap<String, String> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    if let Some((id, secret)) = basic(req.headers()) {
        out.entry("client_id".into()).or_insert(id);
        out.entry("client_secret".into()).or_insert(secret);
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bad = |what: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", what);
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|_| bad("The multipart body could not be read."))?;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|_| bad("The multipart body could not be read."))?
        {
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            let value = field
                .text()
                .await
                .map_err(|_| bad("A multipart field could not be read."))?;
            out.insert(name, value);
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") || ct.is_empty() {
        let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
            .await
            .map_err(|_| bad("The body could not be read."))?;
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| bad("The form body could not be read."))?;
        out.extend(form);
    } else if ct.starts_with("application/json") {
        let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
            .await
            .map_err(|_| bad("The body could not be read."))?;
        let json: HashMap<String, serde_json::Value> =
            serde_json::from_slice(&body).map_err(|_| bad("The JSON body could not be read."))?;
        for (k, v) in json {
            if let Some(s) = v.as_str() {
                out.insert(k, s.to_owned());
            }
        }
    }
    Ok(out)
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Who a client id stands for.
struct Grantee {
    claims: Claims,
    validity: i64,
    refresh_validity: Option<i64>,
    access_type: &'static str,
}

/// Looks `client_id` up, checks `secret` (when given), and builds the claims of its tokens.
async fn grantee(state: &AppState, client_id: &str, secret: Option<&str>) -> Option<Grantee> {
    let id = client_id.to_owned();
    let found = state
        .store()
        .read(move |c| {
            if let Some(o) = oauth_clients::find(c, &id)? {
                let t = tenants::get(c, &o.tenant_id)?;
                return Ok(Some((Some(o), None, None, t)));
            }
            if let Some(p) = pats::find(c, &id)? {
                let who = tenants::identity(c, &p.tenant_id, &p.owner_id)?;
                let t = tenants::get(c, &p.tenant_id)?;
                return Ok(Some((None, Some(p), who, t)));
            }
            Ok(None)
        })
        .await
        .ok()??;
    let (client, pat, identity, tenant) = found;
    let tenant = tenant?;
    let now = SystemClock.now().unix_seconds();
    let base = |scope: Option<Vec<String>>| Claims {
        tenant_id: tenant.id.clone(),
        org: tenant.name.clone(),
        pod: state.config().pod.clone(),
        internal: false,
        identity_id: None,
        user_name: None,
        authorities: vec![],
        client_id: client_id.to_owned(),
        scope: scope.unwrap_or_else(|| vec!["sp:scopes:all".into()]),
        strong_auth: false,
        strong_auth_supported: false,
        iat: now,
        exp: now,
        jti: uuid::Uuid::new_v4().to_string(),
        token_use: "access".into(),
        ati: None,
        nbf: None,
    };
    if let Some(o) = client {
        if let Some(s) = secret {
            if !secrets::verify_secret(state.secret_hash_key(), s, &o.secret_hash) {
                return None;
            }
        }
        if !o.enabled || !o.grant_types.iter().any(|g| g == "CLIENT_CREDENTIALS") {
            return None;
        }
        let mut claims = base(o.scope.clone());
        claims.internal = o.internal;
        claims.authorities = vec!["API".into()];
        let refresh = o.grant_types.iter().any(|g| g == "REFRESH_TOKEN");
        return Some(Grantee {
            claims,
            validity: o.access_token_validity_seconds,
            refresh_validity: refresh.then_some(o.refresh_token_validity_seconds),
            access_type: if o.access_type == "ONLINE" {
                "ONLINE"
            } else {
                "OFFLINE"
            },
        });
    }
    let p = pat?;
    let who = identity?;
    if let Some(s) = secret {
        if !secrets::verify_secret(state.secret_hash_key(), s, &p.secret_hash) {
            return None;
        }
    }
    // The expiry date was set on the business clock, so it is judged by it (token lifetimes are not).
    if p.expiration_date.is_some_and(|d| d <= state.clock().now()) {
        return None;
    }
    let mut claims = base(p.scope.clone());
    claims.identity_id = Some(who.id.clone());
    claims.user_name = Some(who.name.clone());
    claims.authorities = who.authorities.clone();
    Some(Grantee {
        claims,
        validity: p.access_token_validity_seconds,
        refresh_validity: None,
        access_type: "OFFLINE",
    })
}

/// `POST /oauth/token`.
async fn token(State(state): State<AppState>, req: Request) -> Response {
    let p = match params(&state, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let grant = p
        .get("grant_type")
        .map(|g| g.to_ascii_lowercase())
        .unwrap_or_default();
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let limiter_key = format!("token:{client_id}");
    if let Err(wait) = state.rate_limiter().check(&limiter_key, Instant::now()) {
        return crate::error::ApiError::RateLimited(wait).into_response();
    }
    if let Err(wait) = state.token_failures().peek(&client_id, Instant::now()) {
        return crate::error::ApiError::RateLimited(wait).into_response();
    }
    let grantee = match grant.as_str() {
        "client_credentials" => {
            let Some(secret) = p.get("client_secret") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_secret is required",
                );
            };
            if client_id.is_empty() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "client_id is required",
                );
            }
            grantee(&state, &client_id, Some(secret)).await
        }
        "refresh_token" => {
            let Some(refresh) = p.get("refresh_token") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                );
            };
            let now = SystemClock.now().unix_seconds();
            let Ok(old) = state.signer().verify(refresh, now, "refresh") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The refresh token is invalid or expired",
                );
            };
            if !client_id.is_empty() && client_id != old.client_id {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The refresh token belongs to another client",
                );
            }
            let secret = p.get("client_secret").map(String::as_str);
            grantee(&state, &old.client_id, secret).await
        }
        "" => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            )
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Supported grant types: client_credentials, refresh_token",
            )
        }
    };
    let Some(g) = grantee else {
        let _ = state.token_failures().check(&client_id, Instant::now());
        return invalid_client();
    };
    issue(&state, g).await
}

async fn issue(state: &AppState, g: Grantee) -> Response {
    let mut claims = g.claims;
    claims.exp = claims.iat + g.validity;
    let access = state.signer().sign(&claims);
    let refresh = g.refresh_validity.map(|v| {
        let mut r = claims.clone();
        r.token_use = "refresh".into();
        r.ati = Some(claims.jti.clone());
        r.jti = uuid::Uuid::new_v4().to_string();
        r.exp = r.iat + v;
        state.signer().sign(&r)
    });
    let (client_id, now) = (claims.client_id.clone(), state.clock().now());
    let is_pat = claims.identity_id.is_some();
    if let Err(e) = state
        .store()
        .write(move |c| {
            if is_pat {
                pats::touch(c, &client_id, now)
            } else {
                oauth_clients::touch(c, &client_id, now)
            }
        })
        .await
    {
        return crate::error::ApiError::from(e).into_response();
    }
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": g.validity,
        "scope": claims.scope.join(" "),
        "accessType": g.access_type,
        "tenant_id": claims.tenant_id,
        "internal": claims.internal,
        "pod": claims.pod,
        "strong_auth_supported": false,
        "org": claims.org,
        "claims_supported": false,
        "strong_auth": false,
        "enabled": true,
        "jti": claims.jti,
    });
    if let Some(map) = body.as_object_mut() {
        if let Some(id) = &claims.identity_id {
            map.insert("identity_id".into(), id.clone().into());
            map.insert("user_id".into(), id.clone().into());
        }
        if let Some(u) = &claims.user_name {
            map.insert("user_name".into(), u.clone().into());
        }
        if let Some(r) = refresh {
            map.insert("refresh_token".into(), r.into());
        }
    }
    let mut res = Json(body).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// `GET /oauth/info`: where to get tokens.
async fn info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:7100")
        .to_owned();
    let tenant = state.store().read(tenants::first).await.ok().flatten();
    Json(serde_json::json!({
        "tenantId": tenant.as_ref().map(|t| t.id.clone()),
        "tenantName": tenant.as_ref().map(|t| t.name.clone()),
        "tokenEndpoint": format!("http://{host}/oauth/token"),
        "cloudDomainUrl": format!("http://{host}"),
        "pod": state.config().pod,
    }))
    .into_response()
}
