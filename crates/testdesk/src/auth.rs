//! Authentication of ticket-API requests and the OAuth token endpoint.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Response, StatusCode};
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::server::{error, reply};
use crate::{Flavor, Shared};

/// Accepts the request if any of the flavor's accepted credentials is present, else answers 401.
pub(crate) fn check(shared: &Shared, headers: &HeaderMap) -> Result<(), Response<Body>> {
    if authenticated(shared, headers) {
        return Ok(());
    }
    let message = match shared.flavor {
        Flavor::ServiceNow => "User Not Authenticated",
        Flavor::Jira => {
            "You are not authenticated. Authentication required to perform this operation."
        }
        Flavor::Generic => "unauthorized",
    };
    let mut resp = error(shared.flavor, StatusCode::UNAUTHORIZED, message);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"testdesk\""),
    );
    Err(resp)
}

fn authenticated(shared: &Shared, headers: &HeaderMap) -> bool {
    let creds = &shared.creds;
    let flavor = shared.flavor;
    if flavor == Flavor::Generic
        && headers
            .get_all("x-api-key")
            .iter()
            .any(|v| v.as_bytes() == creds.api_token.as_bytes())
    {
        return true;
    }
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|value| {
            if let Some((user, pass)) = basic(value) {
                return user == creds.username
                    && (pass == creds.password
                        || (flavor == Flavor::Jira && pass == creds.api_token));
            }
            if let Some(token) = bearer(value) {
                return shared.lock().access_token_valid(token)
                    || (flavor != Flavor::ServiceNow && token == creds.api_token);
            }
            false
        })
}

/// `Basic base64(user:pass)`, decoded.
fn basic(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
}

/// The token endpoint: `POST /oauth_token.do` (ServiceNow) or `POST /oauth/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let flavor = shared.flavor;
    let creds = &shared.creds;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
    let params: Map<String, Value> = if is_json && flavor == Flavor::Jira {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => map,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Malformed JSON body",
                )
            }
        }
    } else {
        url::form_urlencoded::parse(&body)
            .into_owned()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    };
    let param = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_string);

    let (client_id, client_secret) = match (param("client_id"), param("client_secret")) {
        (Some(id), Some(secret)) => (Some(id), Some(secret)),
        _ => {
            let from_header = headers
                .get_all(header::AUTHORIZATION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(basic);
            match from_header {
                Some((id, secret)) => (Some(id), Some(secret)),
                None => (param("client_id"), param("client_secret")),
            }
        }
    };
    let Some(grant) = param("grant_type") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is required",
        );
    };
    let grants: &[&str] = match flavor {
        Flavor::Jira => &["client_credentials"],
        Flavor::ServiceNow | Flavor::Generic => {
            &["client_credentials", "password", "refresh_token"]
        }
    };
    if !grants.contains(&grant.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("grant_type {grant} is not supported"),
        );
    }
    let denied = |what: &str| {
        if flavor == Flavor::ServiceNow {
            oauth_error(StatusCode::UNAUTHORIZED, "access_denied", what)
        } else if what.starts_with("client") {
            oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", what)
        } else {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", what)
        }
    };
    if client_id.as_deref() != Some(creds.client_id.as_str())
        || client_secret.as_deref() != Some(creds.client_secret.as_str())
    {
        return denied("client authentication failed");
    }
    let with_refresh = match grant.as_str() {
        "password" => {
            if param("username").as_deref() != Some(creds.username.as_str())
                || param("password").as_deref() != Some(creds.password.as_str())
            {
                return denied("invalid username or password");
            }
            true
        }
        "refresh_token" => {
            let presented = param("refresh_token").unwrap_or_default();
            let known = presented == creds.refresh_token
                || shared.lock().refresh_tokens.contains(&presented);
            if !known {
                return denied("invalid refresh token");
            }
            true
        }
        _ => false,
    };
    let (access, refresh, expires_in) = shared.lock().issue_token(with_refresh);
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": expires_in,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    if flavor == Flavor::ServiceNow {
        body["scope"] = json!("useraccount");
    }
    let mut resp = reply(StatusCode::OK, body);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response<Body> {
    reply(
        status,
        json!({"error": code, "error_description": description}),
    )
}
