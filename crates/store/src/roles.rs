//! Roles: bundles of access profiles and entitlements, with an owner, requestability and their
//! own approval schemes.

use crate::listing::{self, ListQuery, Page, Ref, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// A role. `document` keeps the rest of SailPoint's `Role` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique name within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Owner (an identity).
    pub owner_id: String,
    /// Enabled.
    pub enabled: bool,
    /// Requestable.
    pub requestable: bool,
    /// Dimensional.
    pub dimensional: bool,
    /// `accessRequestConfig`, a JSON object.
    pub access_request_config: Option<serde_json::Value>,
    /// `revocationRequestConfig`, a JSON object.
    pub revocation_request_config: Option<serde_json::Value>,
    /// Its access profiles, in order.
    pub access_profile_ids: Vec<String>,
    /// Its entitlements, in order.
    pub entitlement_ids: Vec<String>,
    /// The other fields (a JSON object).
    pub document: serde_json::Value,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

/// A role with the names of what it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleView {
    /// The role.
    pub role: Role,
    /// Owner's name.
    pub owner_name: String,
    /// Its access profiles, in order.
    pub access_profiles: Vec<Ref>,
    /// Its entitlements, in order.
    pub entitlements: Vec<Ref>,
}

const COLUMNS: &str =
    "r.id, r.tenant_id, r.name, r.description, r.owner_id, r.enabled, r.requestable, \
    r.dimensional, r.access_request_config, r.revocation_request_config, r.document, r.created, \
    r.modified, o.name";

/// Aliases: `r` the role, `o` its owner.
const FROM: &str = "role r join identity o on o.id = r.owner_id";

fn opt_json(r: &Row, i: usize) -> Result<Option<serde_json::Value>, StoreError> {
    r.opt_text(i)?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(Into::into)
}

fn of(r: &Row) -> Result<RoleView, StoreError> {
    Ok(RoleView {
        role: Role {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            name: r.text(2)?,
            description: r.opt_text(3)?,
            owner_id: r.text(4)?,
            enabled: r.bool(5)?,
            requestable: r.bool(6)?,
            dimensional: r.bool(7)?,
            access_request_config: opt_json(r, 8)?,
            revocation_request_config: opt_json(r, 9)?,
            access_profile_ids: Vec::new(),
            entitlement_ids: Vec::new(),
            document: r.json(10)?,
            created: r.ts(11)?,
            modified: r.ts(12)?,
        },
        owner_name: r.text(13)?,
        access_profiles: Vec::new(),
        entitlements: Vec::new(),
    })
}

fn values(r: &Role) -> Vec<Value> {
    vec![
        r.id.clone().into(),
        r.tenant_id.clone().into(),
        r.name.clone().into(),
        r.description.clone().into(),
        r.owner_id.clone().into(),
        r.enabled.into(),
        r.requestable.into(),
        r.dimensional.into(),
        r.access_request_config
            .as_ref()
            .map(ToString::to_string)
            .into(),
        r.revocation_request_config
            .as_ref()
            .map(ToString::to_string)
            .into(),
        r.document.to_string().into(),
        r.created.into(),
        r.modified.into(),
    ]
}

fn link(c: &mut dyn Conn, r: &Role) -> Result<(), StoreError> {
    for (table, column, ids) in [
        (
            "role_access_profile",
            "access_profile_id",
            &r.access_profile_ids,
        ),
        ("role_entitlement", "entitlement_id", &r.entitlement_ids),
    ] {
        c.execute(
            &format!("delete from {table} where role_id = $1"),
            &[r.id.clone().into()],
        )?;
        for (n, id) in ids.iter().enumerate() {
            c.execute(
                &format!("insert into {table} (role_id, {column}, position) values ($1, $2, $3)"),
                &[
                    r.id.clone().into(),
                    id.into(),
                    i64::try_from(n).unwrap_or(i64::MAX).into(),
                ],
            )?;
        }
    }
    Ok(())
}

/// Inserts `r` and its links. A name already taken is a `Conflict`.
pub fn insert(c: &mut dyn Conn, r: &Role) -> Result<(), StoreError> {
    c.execute(
        "insert into role (id, tenant_id, name, description, owner_id, enabled, requestable, \
         dimensional, access_request_config, revocation_request_config, document, created, modified) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &values(r),
    )?;
    link(c, r)
}

/// Rewrites `r` and its links (but its creation date). False when it does not exist.
pub fn update(c: &mut dyn Conn, r: &Role) -> Result<bool, StoreError> {
    let mut params = values(r);
    params.remove(11); // created
    let n = c.execute(
        "update role set name = $3, description = $4, owner_id = $5, enabled = $6, requestable = $7, \
         dimensional = $8, access_request_config = $9, revocation_request_config = $10, document = $11, \
         modified = $12 where id = $1 and tenant_id = $2",
        &params,
    )?;
    if n == 1 {
        link(c, r)?;
    }
    Ok(n == 1)
}

/// Fills in the access profiles and entitlements of `views`, one query each.
fn with_links(c: &mut dyn Conn, mut views: Vec<RoleView>) -> Result<Vec<RoleView>, StoreError> {
    if views.is_empty() {
        return Ok(views);
    }
    let ids = [listing::id_set_value(
        views.iter().map(|v| v.role.id.as_str()),
    )];
    let ph = listing::id_set(c, 1);
    for (table, column, target) in [
        ("role_access_profile", "access_profile_id", "access_profile"),
        ("role_entitlement", "entitlement_id", "entitlement"),
    ] {
        let rows = c.query(
            &format!(
                "select x.role_id, t.id, t.name from {table} x join {target} t on t.id = x.{column} \
                 where x.role_id {ph} order by x.role_id, x.position"
            ),
            &ids,
        )?;
        for row in &rows {
            let role = row.text(0)?;
            if let Some(v) = views.iter_mut().find(|v| v.role.id == role) {
                let item = Ref {
                    id: row.text(1)?,
                    name: row.text(2)?,
                };
                if target == "access_profile" {
                    v.role.access_profile_ids.push(item.id.clone());
                    v.access_profiles.push(item);
                } else {
                    v.role.entitlement_ids.push(item.id.clone());
                    v.entitlements.push(item);
                }
            }
        }
    }
    Ok(views)
}

/// Looks a role up.
pub fn get(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Option<RoleView>, StoreError> {
    let found = c
        .query_opt(
            &format!("select {COLUMNS} from {FROM} where r.tenant_id = $1 and r.id = $2"),
            &[tenant_id.into(), id.into()],
        )?
        .as_ref()
        .map(of)
        .transpose()?;
    Ok(with_links(c, found.into_iter().collect())?.pop())
}

/// Lists roles. Filters and sorters use aliases `r`, `o` and start at `$2`.
pub fn list(c: &mut dyn Conn, tenant_id: &str, q: ListQuery) -> Result<Page<RoleView>, StoreError> {
    let page = listing::page(
        c,
        COLUMNS,
        FROM,
        "r.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by r.created asc, r.id asc",
        of,
    )?;
    Ok(Page {
        items: with_links(c, page.items)?,
        total: page.total,
    })
}

/// What refers to role `id`: assignments.
pub fn usages(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Vec<Usage>, StoreError> {
    crate::assignments::usages(c, tenant_id, "ROLE", id)
}

/// Deletes a role (and its links). False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from role where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}
