//! Governance groups (SailPoint's workgroups): named sets of people who approve or own together.

use crate::listing::{self, ListQuery, Page, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::access_config::EntitlementApprover;
use gatehouse_domain::Timestamp;

/// A governance group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceGroup {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique name within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Owner (an identity).
    pub owner_id: Option<String>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

/// A group with what lists show beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceGroupView {
    /// The group.
    pub group: GovernanceGroup,
    /// The owner's name, display name and e-mail.
    pub owner: Option<(String, Option<String>, Option<String>)>,
    /// Members.
    pub member_count: i64,
}

/// A member of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Identity id.
    pub id: String,
    /// Identity name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
}

const COLUMNS: &str =
    "g.id, g.tenant_id, g.name, g.description, g.owner_id, g.created, g.modified, \
    o.name, o.display_name, o.email, \
    (select count(*) from governance_group_member gm where gm.group_id = g.id)";
const FROM: &str = "governance_group g left join identity o on o.id = g.owner_id";

fn of(r: &Row) -> Result<GovernanceGroupView, StoreError> {
    Ok(GovernanceGroupView {
        group: GovernanceGroup {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            name: r.text(2)?,
            description: r.opt_text(3)?,
            owner_id: r.opt_text(4)?,
            created: r.ts(5)?,
            modified: r.ts(6)?,
        },
        owner: r
            .opt_text(7)?
            .map(|n| Ok::<_, StoreError>((n, r.opt_text(8)?, r.opt_text(9)?)))
            .transpose()?,
        member_count: r.int(10)?,
    })
}

fn values(g: &GovernanceGroup) -> Vec<Value> {
    vec![
        g.id.clone().into(),
        g.tenant_id.clone().into(),
        g.name.clone().into(),
        g.description.clone().into(),
        g.owner_id.clone().into(),
        g.created.into(),
        g.modified.into(),
    ]
}

/// Inserts `g`. A name already taken is a `Conflict`.
pub fn insert(c: &mut dyn Conn, g: &GovernanceGroup) -> Result<(), StoreError> {
    c.execute(
        "insert into governance_group (id, tenant_id, name, description, owner_id, created, modified) \
         values ($1, $2, $3, $4, $5, $6, $7)",
        &values(g),
    )?;
    Ok(())
}

/// Rewrites `g` (but its creation date). False when it does not exist.
pub fn update(c: &mut dyn Conn, g: &GovernanceGroup) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update governance_group set name = $3, description = $4, owner_id = $5, modified = $6 \
         where id = $1 and tenant_id = $2",
        &[
            g.id.clone().into(),
            g.tenant_id.clone().into(),
            g.name.clone().into(),
            g.description.clone().into(),
            g.owner_id.clone().into(),
            g.modified.into(),
        ],
    )? == 1)
}

/// Looks a group up.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<GovernanceGroupView>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from {FROM} where g.tenant_id = $1 and g.id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists groups. Filters use alias `g` and start at `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    q: ListQuery,
) -> Result<Page<GovernanceGroupView>, StoreError> {
    listing::page(
        c,
        COLUMNS,
        FROM,
        "g.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by g.name asc, g.id asc",
        of,
    )
}

/// Adds `identity_id` to group `group_id` (nothing when already a member).
pub fn add_member(
    c: &mut dyn Conn,
    group_id: &str,
    identity_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "insert into governance_group_member (group_id, identity_id, created) values ($1, $2, $3) \
         on conflict (group_id, identity_id) do nothing",
        &[group_id.into(), identity_id.into(), now.into()],
    )?;
    Ok(())
}

/// Removes `identity_id` from group `group_id`. False when they were not a member.
pub fn remove_member(
    c: &mut dyn Conn,
    group_id: &str,
    identity_id: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from governance_group_member where group_id = $1 and identity_id = $2",
        &[group_id.into(), identity_id.into()],
    )? == 1)
}

/// Lists the members of group `group_id`. Sorters use alias `i` (the identity) and `gm` (the
/// membership, whose `created` is when they joined).
pub fn members(c: &mut dyn Conn, group_id: &str, q: ListQuery) -> Result<Page<Member>, StoreError> {
    listing::page(
        c,
        "i.id, i.name, i.email",
        "governance_group_member gm join identity i on i.id = gm.identity_id",
        "gm.group_id = $1",
        vec![group_id.into()],
        q,
        " order by i.name asc, i.id asc",
        |r| {
            Ok(Member {
                id: r.text(0)?,
                name: r.text(1)?,
                email: r.opt_text(2)?,
            })
        },
    )
}

/// What refers to group `id`: sources it manages, access profiles or roles whose approval schemes
/// name it, and the tenant's access-request configuration when its entitlement approval schemes do.
pub fn usages(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Vec<Usage>, StoreError> {
    let mut all = listing::usages(
        c,
        "source",
        "select id, name from source where tenant_id = $1 and management_workgroup_id = $2 order by name",
        &[tenant_id.into(), id.into()],
    )?;
    // Approval schemes are JSON text; a scheme naming the group holds `"<id>"` (ids are hex).
    let pattern: Vec<Value> = vec![tenant_id.into(), format!("%\"{id}\"%").into()];
    for (kind, table) in [("access profile", "access_profile"), ("role", "role")] {
        all.extend(listing::usages(
            c,
            kind,
            &format!(
                "select id, name from {table} where tenant_id = $1 \
                 and (access_request_config like $2 or revocation_request_config like $2) order by name"
            ),
            &pattern,
        )?);
    }
    let config = crate::access_config::load(c, tenant_id)?;
    let e = &config.entitlement;
    if e.grant_approval_schemes
        .iter()
        .chain(&e.revoke_approval_schemes)
        .any(|a| matches!(a, EntitlementApprover::GovernanceGroup(g) if g == id))
    {
        all.push(Usage {
            kind: "access request configuration",
            id: crate::access_config::SETTING.to_owned(),
            name: "entitlement approval schemes".to_owned(),
        });
    }
    Ok(all)
}

/// Deletes a group (and its memberships). False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from governance_group where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}

/// The ids among `ids` that are no group of the tenant.
pub fn missing(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    listing::missing(c, "governance_group", tenant_id, ids)
}
