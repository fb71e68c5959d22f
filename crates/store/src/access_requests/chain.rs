//! Who approves a requested item: its approval schemes in order, and the owner of each step.
//!
//! Roles and access profiles carry their own schemes (`accessRequestConfig` for grants,
//! `revocationRequestConfig` for revocations); entitlements use their own `accessRequestConfig`
//! when they have one, else the tenant's entitlement request configuration. An item without
//! schemes needs no approval.

use super::AccessRequest;
use crate::{Conn, StoreError};
use gatehouse_domain::access_config::{AccessRequestConfig, EntitlementApprover};

/// One step of an approval chain (SailPoint's `ApprovalScheme`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// The owner of the item's source (application).
    AppOwner,
    /// The owner of the item's source.
    SourceOwner,
    /// The manager of the identity the access is for.
    Manager,
    /// The role's owner.
    RoleOwner,
    /// The access profile's owner.
    AccessProfileOwner,
    /// The entitlement's owner.
    EntitlementOwner,
    /// Any member of the governance group.
    GovernanceGroup(String),
}

impl Scheme {
    /// SailPoint's `ApprovalScheme` spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AppOwner => "APP_OWNER",
            Self::SourceOwner => "SOURCE_OWNER",
            Self::Manager => "MANAGER",
            Self::RoleOwner => "ROLE_OWNER",
            Self::AccessProfileOwner => "ACCESS_PROFILE_OWNER",
            Self::EntitlementOwner => "ENTITLEMENT_OWNER",
            Self::GovernanceGroup(_) => "GOVERNANCE_GROUP",
        }
    }
}

/// Who owns a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    /// One person.
    Identity(String),
    /// Any member of a governance group.
    Group(String),
}

impl Owner {
    /// `IDENTITY` or `GOVERNANCE_GROUP`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Identity(_) => "IDENTITY",
            Self::Group(_) => "GOVERNANCE_GROUP",
        }
    }

    /// The owner's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Identity(id) | Self::Group(id) => id,
        }
    }
}

/// Reads an item-level `approvalSchemes` list (`[{approverType, approverId}]`). `owner` is the
/// scheme an `OWNER` entry means for this kind of item. Workflows are skipped (none run here).
fn item_schemes(doc: Option<serde_json::Value>, owner: &Scheme) -> Vec<Scheme> {
    let Some(list) = doc
        .as_ref()
        .and_then(|d| d.get("approvalSchemes"))
        .and_then(|s| s.as_array())
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let id = s.get("approverId").and_then(|v| v.as_str());
            Some(match s.get("approverType").and_then(|v| v.as_str())? {
                "OWNER" => owner.clone(),
                "APP_OWNER" => Scheme::AppOwner,
                "SOURCE_OWNER" => Scheme::SourceOwner,
                "MANAGER" => Scheme::Manager,
                "ENTITLEMENT_OWNER" => Scheme::EntitlementOwner,
                "GOVERNANCE_GROUP" => Scheme::GovernanceGroup(id?.to_owned()),
                _ => return None,
            })
        })
        .collect()
}

fn tenant_schemes(list: &[EntitlementApprover]) -> Vec<Scheme> {
    list.iter()
        .filter_map(|a| {
            Some(match a {
                EntitlementApprover::EntitlementOwner => Scheme::EntitlementOwner,
                EntitlementApprover::SourceOwner => Scheme::SourceOwner,
                EntitlementApprover::Manager => Scheme::Manager,
                EntitlementApprover::GovernanceGroup(id) => Scheme::GovernanceGroup(id.clone()),
                EntitlementApprover::Workflow(_) => return None,
            })
        })
        .collect()
}

fn opt_doc(
    c: &mut dyn Conn,
    sql: &str,
    r: &AccessRequest,
) -> Result<Option<serde_json::Value>, StoreError> {
    let row = c.query_opt(sql, &[r.tenant_id.clone().into(), r.item_id.clone().into()])?;
    Ok(row
        .and_then(|row| row.opt_text(0).ok().flatten())
        .and_then(|s| serde_json::from_str(&s).ok()))
}

/// The approval schemes of request `r`, in order.
pub fn schemes(
    c: &mut dyn Conn,
    r: &AccessRequest,
    config: &AccessRequestConfig,
) -> Result<Vec<Scheme>, StoreError> {
    let revoke = r.request_type == "REVOKE_ACCESS";
    let column = if revoke {
        "revocation_request_config"
    } else {
        "access_request_config"
    };
    Ok(match r.item_type.as_str() {
        "ROLE" => item_schemes(
            opt_doc(
                c,
                &format!("select {column} from role where tenant_id = $1 and id = $2"),
                r,
            )?,
            &Scheme::RoleOwner,
        ),
        "ACCESS_PROFILE" => item_schemes(
            opt_doc(
                c,
                &format!("select {column} from access_profile where tenant_id = $1 and id = $2"),
                r,
            )?,
            &Scheme::AccessProfileOwner,
        ),
        _ => {
            let doc = opt_doc(
                c,
                "select document from entitlement where tenant_id = $1 and id = $2",
                r,
            )?;
            let key = if revoke {
                "revocationRequestConfig"
            } else {
                "accessRequestConfig"
            };
            match doc.and_then(|d| d.get(key).cloned()) {
                Some(own) if own.get("approvalSchemes").is_some() => {
                    item_schemes(Some(own), &Scheme::EntitlementOwner)
                }
                _ if revoke => tenant_schemes(&config.entitlement.revoke_approval_schemes),
                _ => tenant_schemes(&config.entitlement.grant_approval_schemes),
            }
        }
    })
}

fn one(c: &mut dyn Conn, sql: &str, params: &[crate::Value]) -> Result<Option<String>, StoreError> {
    Ok(c.query_opt(sql, params)?
        .map(|row| row.opt_text(0))
        .transpose()?
        .flatten())
}

/// The owner of step `scheme` of request `r`, or `None` when there is no one (no manager, no
/// owner, an unknown group).
pub fn owner(
    c: &mut dyn Conn,
    r: &AccessRequest,
    scheme: &Scheme,
) -> Result<Option<Owner>, StoreError> {
    let t = r.tenant_id.clone();
    let id = match scheme {
        Scheme::Manager => one(
            c,
            "select manager_id from identity where tenant_id = $1 and id = $2",
            &[t.into(), r.requested_for_id.clone().into()],
        )?,
        Scheme::AppOwner | Scheme::SourceOwner => match &r.source_id {
            Some(s) => one(
                c,
                "select owner_id from source where tenant_id = $1 and id = $2",
                &[t.into(), s.clone().into()],
            )?,
            None => None,
        },
        Scheme::RoleOwner => one(
            c,
            "select owner_id from role where tenant_id = $1 and id = $2",
            &[t.into(), r.item_id.clone().into()],
        )?,
        Scheme::AccessProfileOwner => one(
            c,
            "select owner_id from access_profile where tenant_id = $1 and id = $2",
            &[t.into(), r.item_id.clone().into()],
        )?,
        Scheme::EntitlementOwner => one(
            c,
            "select owner_id from entitlement where tenant_id = $1 and id = $2",
            &[t.into(), r.item_id.clone().into()],
        )?,
        Scheme::GovernanceGroup(g) => {
            return Ok(one(
                c,
                "select id from governance_group where tenant_id = $1 and id = $2",
                &[t.into(), g.clone().into()],
            )?
            .map(Owner::Group))
        }
    };
    Ok(id.map(Owner::Identity))
}

/// Who approves when a step has no owner: the configured fallback approver if it exists, else
/// the tenant's first ORG_ADMIN (so no request is ever approved for want of an approver).
pub fn fallback(
    c: &mut dyn Conn,
    tenant_id: &str,
    config: &AccessRequestConfig,
) -> Result<Option<Owner>, StoreError> {
    if let Some(f) = &config.reminders.fallback_approver {
        if let Some(id) = one(
            c,
            "select id from identity where tenant_id = $1 and id = $2",
            &[tenant_id.into(), f.id.clone().into()],
        )? {
            return Ok(Some(Owner::Identity(id)));
        }
    }
    Ok(one(
        c,
        "select id from identity where tenant_id = $1 and authorities like '%\"ORG_ADMIN\"%' \
         order by created, id limit 1",
        &[tenant_id.into()],
    )?
    .map(Owner::Identity))
}

/// True when `identity_id` may act for `owner` (is it, or is a member of its group).
pub fn acts_for(
    c: &mut dyn Conn,
    owner_type: &str,
    owner_id: &str,
    identity_id: &str,
) -> Result<bool, StoreError> {
    if owner_type == "IDENTITY" {
        return Ok(owner_id == identity_id);
    }
    Ok(c.query_opt(
        "select 1 from governance_group_member where group_id = $1 and identity_id = $2",
        &[owner_id.into(), identity_id.into()],
    )?
    .is_some())
}
