//! Authentication and authorisation of every routed operation.
//!
//! [`authorize`] runs in front of each route with that route's [`Operation`]: it verifies the
//! bearer token, applies the per-client rate limit, checks the operation's policy (user level and
//! scope, or API-client access) and the experimental header, then hands the handler a [`Caller`].

pub mod jwt;
pub mod rate_limit;
pub mod secrets;

use crate::error::ApiError;
use crate::routes::{Family, Operation};
use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatehouse_domain::{Authority, Principal};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

/// The verified caller of the current request and the operation it called.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who.
    pub principal: Principal,
    /// Which operation (and so which path family).
    pub op: &'static Operation,
}

impl Caller {
    /// The tenant every read and write of this request is confined to.
    pub fn tenant(&self) -> &str {
        &self.principal.tenant_id
    }

    /// The path family of the call.
    pub fn family(&self) -> Family {
        self.op.family
    }

    /// The caller's identity, or 403 for a token without user context.
    pub fn identity(&self) -> Result<&str, ApiError> {
        self.principal.identity_id.as_deref().ok_or_else(|| {
            ApiError::Forbidden("This operation needs a token with a user context.".into())
        })
    }

    /// True for an ORG_ADMIN.
    pub fn is_admin(&self) -> bool {
        self.principal.is_org_admin()
    }

    /// True when the token holds one of `scopes` (or `sp:scopes:all`).
    pub fn has_scope(&self, scopes: &[&str]) -> bool {
        self.principal.has_any_scope(scopes)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("route without an authorisation guard".into()))
    }
}

/// The user levels that may call `op`: its own; or, where its family's spec states none while
/// every other family states some for the same operation, theirs (`/beta` leaves the levels out
/// of operations that `/v3` and `/v2024` give to admins only, and a sibling route must not be an
/// open side door). `None`: any person may call it.
pub fn levels_of(op: &Operation) -> Option<&'static [&'static str]> {
    /// Per handler: the levels its routes state, and how many routes state none.
    type Stated = HashMap<&'static str, (Vec<&'static str>, usize)>;
    static STATED: OnceLock<Stated> = OnceLock::new();
    if let Some(levels) = op.levels {
        return Some(levels);
    }
    let stated = STATED.get_or_init(|| {
        let mut by_handler = Stated::new();
        for o in crate::routes::all_operations() {
            let (list, unstated) = by_handler.entry(o.handler).or_default();
            match o.levels {
                Some(levels) => {
                    for l in levels {
                        if !list.contains(l) {
                            list.push(l);
                        }
                    }
                }
                None => *unstated += 1,
            }
        }
        by_handler
    });
    match stated.get(op.handler) {
        Some((list, 1)) if !list.is_empty() => Some(list.as_slice()),
        _ => None,
    }
}

/// Decides whether `p` may call `op` (levels, scopes, user context). `Err` carries the reason.
pub fn permits(op: &Operation, p: &Principal) -> Result<(), String> {
    if p.identity_id.is_none() {
        if !op.app_auth {
            return Err(format!(
                "{} needs a token with a user context; this token belongs to an API client.",
                op.operation_id
            ));
        }
    } else if let Some(levels) = levels_of(op) {
        let open = levels
            .iter()
            .any(|l| matches!(*l, "Any" | "USER" | "APPROVAL_OWNER"));
        let held = levels
            .iter()
            .any(|l| Authority::parse(l).is_some_and(|a| p.has(a)));
        if !(open || held || p.is_org_admin()) {
            return Err(format!(
                "{} needs one of the user levels {}.",
                op.operation_id,
                levels.join(", ")
            ));
        }
    }
    let scopes = op.scopes.unwrap_or(&["sp:scopes:all"]);
    if !scopes.is_empty() && !p.has_any_scope(scopes) {
        return Err(format!(
            "{} needs one of the scopes {}.",
            op.operation_id,
            scopes.join(", ")
        ));
    }
    Ok(())
}

/// The token of an `Authorization: Bearer …` header, if one was sent. The scheme is read in any
/// letter case (RFC 9110); the token is trimmed.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Turns verified claims into a principal.
pub fn principal_of(c: jwt::Claims) -> Principal {
    Principal {
        tenant_id: c.tenant_id,
        client_id: c.client_id,
        identity_id: c.identity_id,
        user_name: c.user_name,
        authorities: c
            .authorities
            .iter()
            .filter_map(|a| Authority::parse(a))
            .collect(),
        scopes: c.scope,
    }
}

/// The guard in front of every operation.
pub async fn authorize(
    State((state, op)): State<(AppState, &'static Operation)>,
    mut req: Request,
    next: Next,
) -> Response {
    req.extensions_mut().insert(op);
    let Some(token) = bearer_token(req.headers()) else {
        return ApiError::Unauthorized("JWT validation failed: no bearer token was sent".into())
            .into_response();
    };
    let now = gatehouse_domain::SystemClock.now_seconds();
    let claims = match state.signer().verify(token, now, "access") {
        Ok(c) => c,
        Err(e) => return ApiError::Unauthorized(e.text().into()).into_response(),
    };
    let principal = principal_of(claims);
    if let Err(wait) = state
        .rate_limiter()
        .check(&principal.client_id, Instant::now())
    {
        return ApiError::RateLimited(wait).into_response();
    }
    if let Err(why) = permits(op, &principal) {
        return ApiError::Forbidden(why).into_response();
    }
    if op.experimental_required {
        let ok = req
            .headers()
            .get("x-sailpoint-experimental")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if !ok {
            return ApiError::bad_request(
                "This endpoint is experimental: send the header X-SailPoint-Experimental: true.",
            )
            .into_response();
        }
    }
    req.extensions_mut().insert(Caller { principal, op });
    let mut res = next.run(req).await;
    if op.deprecated {
        res.headers_mut()
            .insert("x-deprecated", HeaderValue::from_static("true"));
    }
    res
}

/// Wall-clock seconds, for token lifetimes.
trait NowSeconds {
    fn now_seconds(&self) -> i64;
}

impl NowSeconds for gatehouse_domain::SystemClock {
    fn now_seconds(&self) -> i64 {
        use gatehouse_domain::Clock;
        self.now().unix_seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::OPERATIONS;

    fn person(levels: &[Authority], scopes: &[&str]) -> Principal {
        Principal {
            tenant_id: "t".into(),
            client_id: "c".into(),
            identity_id: Some("i".into()),
            user_name: Some("u".into()),
            authorities: levels.to_vec(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn op(id: &str) -> &'static Operation {
        OPERATIONS.iter().find(|o| o.operation_id == id).unwrap()
    }

    #[test]
    fn levels_scopes_and_user_context_are_enforced() {
        let admin = person(&[Authority::OrgAdmin], &["sp:scopes:all"]);
        let user = person(&[Authority::User], &["sp:scopes:all"]);
        let sd_admin = person(&[Authority::ServiceDeskAdmin], &["sp:scopes:all"]);
        let narrow = person(&[Authority::OrgAdmin], &["sp:scopes:default"]);
        let mut api = person(&[Authority::Api], &["sp:scopes:all"]);
        api.identity_id = None;
        let sdim = op("getServiceDeskIntegrations");
        assert!(permits(sdim, &admin).is_ok());
        assert!(permits(sdim, &sd_admin).is_ok());
        assert!(permits(sdim, &user).is_err());
        assert!(permits(sdim, &narrow).is_err());
        assert!(permits(sdim, &api).is_err());
        assert!(permits(op("createAccessRequest"), &user).is_ok());
        assert!(permits(op("getOauthClient"), &api).is_ok());
        assert!(permits(op("listOauthClients"), &api).is_err());
    }
}
