//! One route table, four path families.
//!
//! [`OPERATIONS`](crate::operations::OPERATIONS) lists every operation of the SailPoint specs in
//! every family (`/v3`, `/v2024`, `/beta`, `/{resource}/v1`). Each row is served by the handler
//! named after its operationId; rows whose handler is not built yet answer 501. Every route,
//! implemented or not, passes through [`crate::auth::authorize`] with its row, so a route cannot
//! exist without an access policy.

use crate::auth::authorize;
use crate::error::ApiError;
use crate::handlers;
use crate::operations::OPERATIONS;
use crate::AppState;
use axum::extract::Request;
use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use std::collections::BTreeMap;

/// A path family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `/v3/...`
    V3,
    /// `/v2024/...`
    V2024,
    /// `/beta/...`
    Beta,
    /// `/{resource}/v1/...`
    V1,
    /// Gatehouse's own admin and test API, `/gatehouse/v1/...`.
    Gatehouse,
    /// OpsRamp's installed-integration API, `/api/v2/tenants/{tenantId}/integrations/...`.
    OpsRamp,
}

impl Family {
    /// The name used in `GET /openapi.json?family=`.
    pub fn name(self) -> &'static str {
        match self {
            Self::V3 => "v3",
            Self::V2024 => "v2024",
            Self::Beta => "beta",
            Self::V1 => "v1",
            Self::Gatehouse => "gatehouse",
            Self::OpsRamp => "opsramp",
        }
    }
}

/// One routed operation and its access policy (from the spec's `security` and
/// `x-sailpoint-userLevels`).
#[derive(Debug)]
pub struct Operation {
    /// Path family.
    pub family: Family,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Full path with `{param}` segments, as in the spec.
    pub path: &'static str,
    /// The spec's operationId.
    pub operation_id: &'static str,
    /// The handler serving it (the operationId shared across families).
    pub handler: &'static str,
    /// Deprecated in the spec (answers carry `X-Deprecated: true`).
    pub deprecated: bool,
    /// User levels allowed; `None` = any person.
    pub levels: Option<&'static [&'static str]>,
    /// Scopes of which the token needs one (or `sp:scopes:all`); `None` = the spec default
    /// `sp:scopes:all`; empty = no scope needed.
    pub scopes: Option<&'static [&'static str]>,
    /// Plain API clients (no user context) may call it.
    pub app_auth: bool,
    /// The current spec requires `X-SailPoint-Experimental: true`.
    pub experimental_required: bool,
}

/// Gatehouse's own operations (`/gatehouse/v1`, ORG_ADMIN only).
pub static ADMIN_OPERATIONS: &[Operation] = &[
    admin("POST", "/gatehouse/v1/identities", "createIdentity"),
    admin(
        "POST",
        "/gatehouse/v1/identities/{id}/personal-access-tokens",
        "createIdentityPersonalAccessToken",
    ),
    admin(
        "GET",
        "/gatehouse/v1/identities/{id}/access",
        "listIdentityAccess",
    ),
    admin("POST", "/gatehouse/v1/tenant/reset", "resetTenant"),
    admin(
        "POST",
        "/gatehouse/v1/tenant/snapshots",
        "createTenantSnapshot",
    ),
    admin(
        "GET",
        "/gatehouse/v1/tenant/snapshots",
        "listTenantSnapshots",
    ),
    admin(
        "POST",
        "/gatehouse/v1/tenant/snapshots/{name}/restore",
        "restoreTenantSnapshot",
    ),
    admin(
        "DELETE",
        "/gatehouse/v1/tenant/snapshots/{name}",
        "deleteTenantSnapshot",
    ),
    admin("GET", "/gatehouse/v1/clock", "getClock"),
    admin("POST", "/gatehouse/v1/clock", "setClock"),
];

const fn admin(method: &'static str, path: &'static str, id: &'static str) -> Operation {
    Operation {
        family: Family::Gatehouse,
        method,
        path,
        operation_id: id,
        handler: id,
        deprecated: false,
        levels: Some(&["ORG_ADMIN"]),
        scopes: Some(&[]),
        app_auth: false,
        experimental_required: false,
    }
}

/// The installed-integration operations (OpsRamp's API, ADR 0008), with the SDIM routes'
/// authority: ORG_ADMIN or SERVICE_DESK_ADMIN, and the service-desk-integration scopes.
pub static OPSRAMP_OPERATIONS: &[Operation] = &[
    opsramp(
        "POST",
        "/api/v2/tenants/{tenantId}/integrations/install/{intgId}",
        "installIntegration",
        "installIntegration",
        MANAGE,
    ),
    opsramp(
        "GET",
        "/api/v2/tenants/{tenantId}/integrations/installed/search",
        "searchInstalledIntegrations",
        "searchInstalledIntegrations",
        READ,
    ),
    opsramp(
        "GET",
        "/api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}",
        "getInstalledIntegration",
        "getInstalledIntegration",
        READ,
    ),
    opsramp(
        "POST",
        "/api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}",
        "updateInstalledIntegration",
        "updateInstalledIntegration",
        MANAGE,
    ),
    opsramp(
        "DELETE",
        "/api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}",
        "uninstallIntegration",
        "uninstallIntegration",
        MANAGE,
    ),
    opsramp(
        "POST",
        "/api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}/uninstall",
        "uninstallIntegrationByPost",
        "uninstallIntegration",
        MANAGE,
    ),
    opsramp(
        "POST",
        "/api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}/inbound/token",
        "rotateInstalledIntegrationToken",
        "rotateInstalledIntegrationToken",
        MANAGE,
    ),
];

const READ: &[&str] = &[
    "idn:service-desk-integration:read",
    "idn:service-desk-integration:manage",
];
const MANAGE: &[&str] = &["idn:service-desk-integration:manage"];

const fn opsramp(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    handler: &'static str,
    scopes: &'static [&'static str],
) -> Operation {
    Operation {
        family: Family::OpsRamp,
        method,
        path,
        operation_id: id,
        handler,
        deprecated: false,
        levels: Some(&["ORG_ADMIN", "SERVICE_DESK_ADMIN"]),
        scopes: Some(scopes),
        app_auth: false,
        experimental_required: false,
    }
}

fn method_filter(m: &str) -> MethodFilter {
    match m {
        "GET" => MethodFilter::GET,
        "HEAD" => MethodFilter::HEAD,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "PATCH" => MethodFilter::PATCH,
        _ => MethodFilter::DELETE,
    }
}

/// Renames path parameters by position (`{p1}`, `{p2}`), so that operations that name the same
/// position differently (`{approvalId}/approve`, `{accessRequestId}/approvers`) share one route
/// node. Handlers read parameters by position.
fn router_path(path: &str) -> String {
    let mut n = 0;
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                n += 1;
                format!("{{p{n}}}")
            } else {
                seg.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn not_implemented(req: Request) -> ApiError {
    let op = req
        .extensions()
        .get::<&'static Operation>()
        .map_or("this operation", |o| o.operation_id);
    ApiError::NotImplemented(op)
}

/// Every routed operation: the spec's, Gatehouse's own and the installed-integration API's.
pub fn all_operations() -> impl Iterator<Item = &'static Operation> {
    OPERATIONS
        .iter()
        .chain(ADMIN_OPERATIONS.iter())
        .chain(OPSRAMP_OPERATIONS.iter())
}

/// True when `op` has a real handler.
pub fn is_implemented(op: &Operation) -> bool {
    handlers::bind(op.handler).is_some()
}

/// Builds the router for every operation.
pub fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<String, MethodRouter<AppState>> = BTreeMap::new();
    for op in all_operations() {
        let filter = method_filter(op.method);
        let guard = from_fn_with_state((state.clone(), op), authorize);
        let method_router = match handlers::bind(op.handler) {
            Some(h) => h(filter).layer(guard),
            None => MethodRouter::new().on(filter, not_implemented.layer(guard)),
        };
        let path = router_path(op.path);
        let merged = match by_path.remove(&path) {
            Some(existing) => existing.merge(method_router),
            None => method_router,
        };
        by_path.insert(path, merged);
    }
    let mut router = Router::new();
    for (path, mr) in by_path {
        router = router.route(&path, mr);
    }
    router
        .merge(handlers::ops::routes())
        .merge(handlers::token::routes())
        .merge(handlers::service_desk_webhook::routes())
        .fallback(|| async { ApiError::NotFound("No route matches the requested path.".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renamed_by_position() {
        assert_eq!(
            router_path("/v3/work-items/{id}/approve/{approvalItemId}"),
            "/v3/work-items/{p1}/approve/{p2}"
        );
    }

    #[test]
    fn every_family_is_routed() {
        for f in [Family::V3, Family::V2024, Family::Beta, Family::V1] {
            assert!(OPERATIONS.iter().any(|o| o.family == f), "{f:?}");
        }
    }
}
