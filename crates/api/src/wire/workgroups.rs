//! `WorkgroupDto` and `ListWorkgroupMembers200ResponseInner`.

use crate::wire::ts;
use gatehouse_store::governance_groups::{GovernanceGroupView, Member};
use serde::Serialize;

/// `WorkgroupDto.owner`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkgroupOwner {
    /// `IDENTITY`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
}

/// `WorkgroupDto`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkgroupDto {
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<WorkgroupOwner>,
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members.
    pub member_count: i64,
    /// Connections (Gatehouse has none).
    pub connection_count: i64,
    /// Created.
    pub created: String,
    /// Modified.
    pub modified: String,
}

impl From<&GovernanceGroupView> for WorkgroupDto {
    fn from(v: &GovernanceGroupView) -> Self {
        let g = &v.group;
        Self {
            owner: match (&g.owner_id, &v.owner) {
                (Some(id), Some((name, display, email))) => Some(WorkgroupOwner {
                    kind: "IDENTITY",
                    id: id.clone(),
                    name: name.clone(),
                    display_name: Some(display.clone().unwrap_or_else(|| name.clone())),
                    email_address: email.clone(),
                }),
                _ => None,
            },
            id: g.id.clone(),
            name: g.name.clone(),
            description: g.description.clone(),
            member_count: v.member_count,
            connection_count: 0,
            created: ts(g.created),
            modified: ts(g.modified),
        }
    }
}

/// A member of a workgroup.
#[derive(Debug, Serialize)]
pub struct WorkgroupMember {
    /// `IDENTITY`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl From<&Member> for WorkgroupMember {
    fn from(m: &Member) -> Self {
        Self {
            kind: "IDENTITY",
            id: m.id.clone(),
            name: m.name.clone(),
            email: m.email.clone(),
        }
    }
}
