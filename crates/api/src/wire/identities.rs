//! `Identity` (v2024, beta), `PublicIdentity` (v3, v2024).

use crate::wire::refs::Reference;
use crate::wire::ts;
use gatehouse_store::identities::IdentityView;
use serde::Serialize;

/// `IdentityLifecycleState`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityLifecycleState {
    /// The state's technical name.
    pub state_name: String,
    /// Whether it was set by hand.
    pub manually_updated: bool,
}

/// `Identity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Id.
    pub id: String,
    /// User name.
    pub name: String,
    /// Created.
    pub created: String,
    /// Modified.
    pub modified: String,
    /// Alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// E-mail.
    pub email_address: Option<String>,
    /// `ERROR`, `OK` or null.
    pub processing_state: Option<String>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_status: Option<String>,
    /// Manager.
    pub manager_ref: Option<Reference>,
    /// Whether anyone reports to them.
    pub is_manager: bool,
    /// Last refresh (Gatehouse: last change).
    pub last_refresh: String,
    /// Attributes.
    pub attributes: serde_json::Value,
    /// Lifecycle state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<IdentityLifecycleState>,
}

/// Values of `Identity.identityStatus`.
const STATUSES: &[&str] = &[
    "UNREGISTERED",
    "REGISTERED",
    "PENDING",
    "WARNING",
    "DISABLED",
    "ACTIVE",
    "DEACTIVATED",
    "TERMINATED",
    "ERROR",
    "LOCKED",
];

impl From<&IdentityView> for Identity {
    fn from(v: &IdentityView) -> Self {
        let i = &v.identity;
        Self {
            id: i.id.clone(),
            name: i.name.clone(),
            created: ts(i.created),
            modified: ts(i.modified),
            alias: i.alias.clone(),
            email_address: i.email.clone(),
            processing_state: i
                .processing_state
                .clone()
                .filter(|s| s == "OK" || s == "ERROR"),
            identity_status: i
                .cloud_status
                .clone()
                .filter(|s| STATUSES.contains(&s.as_str())),
            manager_ref: i
                .manager_id
                .as_ref()
                .map(|id| Reference::new("IDENTITY", id, v.manager_name.as_deref().unwrap_or(""))),
            is_manager: v.is_manager,
            last_refresh: ts(i.modified),
            attributes: i.attributes.clone(),
            lifecycle_state: i.lifecycle_state.clone().map(|s| IdentityLifecycleState {
                state_name: s,
                manually_updated: false,
            }),
        }
    }
}

/// `PublicIdentity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicIdentity {
    /// Id.
    pub id: String,
    /// Display name (the user name when there is none).
    pub name: String,
    /// Alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// `ACTIVE`, `INACTIVE_SHORT_TERM`, `INACTIVE_LONG_TERM` or null.
    pub identity_state: Option<String>,
    /// Manager.
    pub manager: Option<Reference>,
    /// Public attributes (none are configured as public).
    pub attributes: Vec<serde_json::Value>,
}

impl From<&IdentityView> for PublicIdentity {
    fn from(v: &IdentityView) -> Self {
        let i = &v.identity;
        Self {
            id: i.id.clone(),
            name: i.display_name.clone().unwrap_or_else(|| i.name.clone()),
            alias: i.alias.clone(),
            email: i.email.clone(),
            status: i.cloud_status.clone(),
            identity_state: None,
            manager: i
                .manager_id
                .as_ref()
                .map(|id| Reference::new("IDENTITY", id, v.manager_name.as_deref().unwrap_or(""))),
            attributes: Vec::new(),
        }
    }
}
