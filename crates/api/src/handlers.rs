//! Handlers, one module per capability, each named after its SailPoint operationId.

pub mod access_profiles;
pub mod access_request_admin;
pub mod access_request_approvals;
pub mod access_request_config;
pub mod access_request_status;
pub mod access_requests;
pub mod accounts;
pub mod admin;
pub mod catalog;
pub mod entitlements;
pub mod identities;
pub mod installed_integrations;
pub mod managed_clusters;
pub mod oauth_clients;
pub mod ops;
pub mod pats;
pub mod role_membership;
pub mod roles;
pub mod service_desk;
pub mod service_desk_config;
pub mod service_desk_webhook;
pub mod sources;
pub mod task_status;
pub mod token;
pub mod work_items;
pub mod workgroups;

use crate::AppState;
use axum::routing::{on, MethodFilter, MethodRouter};

/// Builds the method router serving one operation for a method.
pub type Bind = fn(MethodFilter) -> MethodRouter<AppState>;

/// The handler for `operation` (SailPoint's operationId, the same in every family), if built.
pub fn bind(operation: &str) -> Option<Bind> {
    Some(match operation {
        "listAccessRequestStatus" => |f| on(f, access_request_status::list_access_request_status),
        "cancelAccessRequest" => |f| on(f, access_request_admin::cancel_access_request),
        "cancelAccessRequestInBulk" => {
            |f| on(f, access_request_admin::cancel_access_request_in_bulk)
        }
        "closeAccessRequest" => |f| on(f, access_request_admin::close_access_request),
        "getTaskStatusList" => |f| on(f, task_status::get_task_status_list),
        "getPendingTasks" => |f| on(f, task_status::get_pending_tasks),
        "getPendingTaskHeaders" => |f| on(f, task_status::get_pending_task_headers),
        "getTaskStatus" => |f| on(f, task_status::get_task_status),
        "updateTaskStatus" => |f| on(f, task_status::update_task_status),
        "createAccessRequest" => |f| on(f, access_requests::create_access_request),
        "listOauthClients" => |f| on(f, oauth_clients::list_oauth_clients),
        "createOauthClient" => |f| on(f, oauth_clients::create_oauth_client),
        "getOauthClient" => |f| on(f, oauth_clients::get_oauth_client),
        "patchOauthClient" => |f| on(f, oauth_clients::patch_oauth_client),
        "deleteOauthClient" => |f| on(f, oauth_clients::delete_oauth_client),
        "listPersonalAccessTokens" => |f| on(f, pats::list_personal_access_tokens),
        "createPersonalAccessToken" => |f| on(f, pats::create_personal_access_token),
        "patchPersonalAccessToken" => |f| on(f, pats::patch_personal_access_token),
        "deletePersonalAccessToken" => |f| on(f, pats::delete_personal_access_token),
        "getServiceDeskIntegrations" => |f| on(f, service_desk::get_service_desk_integrations),
        "createServiceDeskIntegration" => |f| on(f, service_desk::create_service_desk_integration),
        "getServiceDeskIntegration" => |f| on(f, service_desk::get_service_desk_integration),
        "putServiceDeskIntegration" => |f| on(f, service_desk::put_service_desk_integration),
        "patchServiceDeskIntegration" => |f| on(f, service_desk::patch_service_desk_integration),
        "deleteServiceDeskIntegration" => |f| on(f, service_desk::delete_service_desk_integration),
        "getServiceDeskIntegrationTypes" => {
            |f| on(f, service_desk_config::get_service_desk_integration_types)
        }
        "getServiceDeskIntegrationTemplate" => |f| {
            on(
                f,
                service_desk_config::get_service_desk_integration_template,
            )
        },
        "getStatusCheckDetails" => |f| on(f, service_desk_config::get_status_check_details),
        "updateStatusCheckDetails" => |f| on(f, service_desk_config::update_status_check_details),
        "installIntegration" => |f| on(f, installed_integrations::install_integration),
        "getInstalledIntegration" => |f| on(f, installed_integrations::get_installed_integration),
        "updateInstalledIntegration" => {
            |f| on(f, installed_integrations::update_installed_integration)
        }
        "uninstallIntegration" => |f| on(f, installed_integrations::uninstall_integration),
        "rotateInstalledIntegrationToken" => |f| {
            on(
                f,
                installed_integrations::rotate_installed_integration_token,
            )
        },
        "searchInstalledIntegrations" => {
            |f| on(f, installed_integrations::search_installed_integrations)
        }
        "createIdentity" => |f| on(f, admin::create_identity),
        "createIdentityPersonalAccessToken" => {
            |f| on(f, admin::create_identity_personal_access_token)
        }
        "listIdentityAccess" => |f| on(f, admin::list_identity_access),
        "resetTenant" => |f| on(f, admin::reset_tenant),
        "createTenantSnapshot" => |f| on(f, admin::create_tenant_snapshot),
        "listTenantSnapshots" => |f| on(f, admin::list_tenant_snapshots),
        "restoreTenantSnapshot" => |f| on(f, admin::restore_tenant_snapshot),
        "deleteTenantSnapshot" => |f| on(f, admin::delete_tenant_snapshot),
        "getClock" => |f| on(f, admin::get_clock),
        "setClock" => |f| on(f, admin::set_clock),
        "listIdentities" => |f| on(f, identities::list_identities),
        "getIdentity" => |f| on(f, identities::get_identity),
        "getPublicIdentities" => |f| on(f, identities::get_public_identities),
        "getManagedClusters" => |f| on(f, managed_clusters::get_managed_clusters),
        "getManagedCluster" => |f| on(f, managed_clusters::get_managed_cluster),
        "createManagedCluster" => |f| on(f, managed_clusters::create_managed_cluster),
        "updateManagedCluster" => |f| on(f, managed_clusters::update_managed_cluster),
        "deleteManagedCluster" => |f| on(f, managed_clusters::delete_managed_cluster),
        "listWorkgroups" => |f| on(f, workgroups::list_workgroups),
        "getWorkgroup" => |f| on(f, workgroups::get_workgroup),
        "createWorkgroup" => |f| on(f, workgroups::create_workgroup),
        "patchWorkgroup" => |f| on(f, workgroups::patch_workgroup),
        "deleteWorkgroup" => |f| on(f, workgroups::delete_workgroup),
        "listWorkgroupMembers" => |f| on(f, workgroups::list_workgroup_members),
        "listSources" => |f| on(f, sources::list_sources),
        "getSource" => |f| on(f, sources::get_source),
        "createSource" => |f| on(f, sources::create_source),
        "putSource" => |f| on(f, sources::put_source),
        "updateSource" => |f| on(f, sources::update_source),
        "deleteSource" => |f| on(f, sources::delete_source),
        "listEntitlements" => |f| on(f, entitlements::list_entitlements),
        "getEntitlement" => |f| on(f, entitlements::get_entitlement),
        "listAccessProfiles" => |f| on(f, access_profiles::list_access_profiles),
        "getAccessProfile" => |f| on(f, access_profiles::get_access_profile),
        "createAccessProfile" => |f| on(f, access_profiles::create_access_profile),
        "patchAccessProfile" => |f| on(f, access_profiles::patch_access_profile),
        "deleteAccessProfile" => |f| on(f, access_profiles::delete_access_profile),
        "getAccessProfileEntitlements" => {
            |f| on(f, access_profiles::get_access_profile_entitlements)
        }
        "listRoles" => |f| on(f, roles::list_roles),
        "getRole" => |f| on(f, roles::get_role),
        "createRole" => |f| on(f, roles::create_role),
        "patchRole" => |f| on(f, roles::patch_role),
        "deleteRole" => |f| on(f, roles::delete_role),
        "listAccounts" => |f| on(f, accounts::list_accounts),
        "getAccessRequestConfig" => |f| on(f, access_request_config::get_access_request_config),
        "setAccessRequestConfig" => |f| on(f, access_request_config::set_access_request_config),
        "getAccessRequestConfigV2" => {
            |f| on(f, access_request_config::get_access_request_config_v2)
        }
        "setAccessRequestConfigV2" => {
            |f| on(f, access_request_config::set_access_request_config_v2)
        }
        "getAccount" => |f| on(f, accounts::get_account),
        "listWorkItems" => |f| on(f, work_items::list_work_items),
        "getCompletedWorkItems" => |f| on(f, work_items::get_completed_work_items),
        "getCountWorkItems" => |f| on(f, work_items::get_count_work_items),
        "getCountCompletedWorkItems" => |f| on(f, work_items::get_count_completed_work_items),
        "getWorkItemsSummary" => |f| on(f, work_items::get_work_items_summary),
        "getWorkItem" => |f| on(f, work_items::get_work_item),
        "completeWorkItem" => |f| on(f, work_items::complete_work_item),
        "approveApprovalItem" => |f| on(f, work_items::approve_approval_item),
        "rejectApprovalItem" => |f| on(f, work_items::reject_approval_item),
        "approveApprovalItemsInBulk" => |f| on(f, work_items::approve_approval_items_in_bulk),
        "rejectApprovalItemsInBulk" => |f| on(f, work_items::reject_approval_items_in_bulk),
        "submitAccountSelection" => |f| on(f, work_items::submit_account_selection),
        "forwardWorkItem" => |f| on(f, work_items::forward_work_item),
        "listPendingApprovals" => |f| on(f, access_request_approvals::list_pending_approvals),
        "listCompletedApprovals" => |f| on(f, access_request_approvals::list_completed_approvals),
        "approveAccessRequest" => |f| on(f, access_request_approvals::approve_access_request),
        "rejectAccessRequest" => |f| on(f, access_request_approvals::reject_access_request),
        "forwardAccessRequest" => |f| on(f, access_request_approvals::forward_access_request),
        "getAccessRequestApprovalSummary" => |f| {
            on(
                f,
                access_request_approvals::get_access_request_approval_summary,
            )
        },
        "listAccessRequestApprovers" => {
            |f| on(f, access_request_approvals::list_access_request_approvers)
        }
        "approveBulkAccessRequest" => {
            |f| on(f, access_request_approvals::approve_bulk_access_request)
        }
        _ => return None,
    })
}
