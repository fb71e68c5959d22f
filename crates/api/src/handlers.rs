//! Handlers, one module per capability, each named after its SailPoint operationId.

pub mod admin;
pub mod oauth_clients;
pub mod ops;
pub mod pats;
pub mod token;

use crate::AppState;
use axum::routing::{on, MethodFilter, MethodRouter};

/// Builds the method router serving one operation for a method.
pub type Bind = fn(MethodFilter) -> MethodRouter<AppState>;

/// The handler for `operation` (SailPoint's operationId, the same in every family), if built.
pub fn bind(operation: &str) -> Option<Bind> {
    Some(match operation {
        "listOauthClients" => |f| on(f, oauth_clients::list_oauth_clients),
        "createOauthClient" => |f| on(f, oauth_clients::create_oauth_client),
        "getOauthClient" => |f| on(f, oauth_clients::get_oauth_client),
        "patchOauthClient" => |f| on(f, oauth_clients::patch_oauth_client),
        "deleteOauthClient" => |f| on(f, oauth_clients::delete_oauth_client),
        "listPersonalAccessTokens" => |f| on(f, pats::list_personal_access_tokens),
        "createPersonalAccessToken" => |f| on(f, pats::create_personal_access_token),
        "patchPersonalAccessToken" => |f| on(f, pats::patch_personal_access_token),
        "deletePersonalAccessToken" => |f| on(f, pats::delete_personal_access_token),
        "createIdentity" => |f| on(f, admin::create_identity),
        "createIdentityPersonalAccessToken" => {
            |f| on(f, admin::create_identity_personal_access_token)
        }
        "resetTenant" => |f| on(f, admin::reset_tenant),
        "createTenantSnapshot" => |f| on(f, admin::create_tenant_snapshot),
        "listTenantSnapshots" => |f| on(f, admin::list_tenant_snapshots),
        "restoreTenantSnapshot" => |f| on(f, admin::restore_tenant_snapshot),
        "deleteTenantSnapshot" => |f| on(f, admin::delete_tenant_snapshot),
        "getClock" => |f| on(f, admin::get_clock),
        "setClock" => |f| on(f, admin::set_clock),
        _ => return None,
    })
}
