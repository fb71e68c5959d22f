//! Entitlements: the permissions a source grants (a group, a role in the system), with their
//! owner and whether people may request them. They come from the source (import), not the API.

use crate::listing::{self, ListQuery, Page, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// An entitlement. `document` keeps the rest of SailPoint's `Entitlement` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Entitlement {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The source that grants it.
    pub source_id: String,
    /// Display name.
    pub name: String,
    /// The account attribute that carries it (`memberOf`).
    pub attribute: String,
    /// Its value (unique per source and attribute).
    pub value: String,
    /// Schema object type (`group`).
    pub kind: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Owner (an identity).
    pub owner_id: Option<String>,
    /// Requestable.
    pub requestable: bool,
    /// Privileged.
    pub privileged: bool,
    /// The other fields (a JSON object).
    pub document: serde_json::Value,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

/// An entitlement with the names of what it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct EntitlementView {
    /// The entitlement.
    pub entitlement: Entitlement,
    /// Source's name.
    pub source_name: String,
    /// Owner's name.
    pub owner_name: Option<String>,
}

const INSERT_COLUMNS: &str =
    "id, tenant_id, source_id, name, attribute, value, type, description, \
    owner_id, requestable, privileged, document, created, modified";

pub(crate) const COLUMNS: &str =
    "e.id, e.tenant_id, e.source_id, e.name, e.attribute, e.value, e.type, \
    e.description, e.owner_id, e.requestable, e.privileged, e.document, e.created, e.modified, \
    src.name, o.name";

/// Aliases: `e` the entitlement, `src` its source, `o` its owner.
pub(crate) const FROM: &str = "entitlement e join source src on src.id = e.source_id \
    left join identity o on o.id = e.owner_id";

pub(crate) fn of(r: &Row) -> Result<EntitlementView, StoreError> {
    Ok(EntitlementView {
        entitlement: Entitlement {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            source_id: r.text(2)?,
            name: r.text(3)?,
            attribute: r.text(4)?,
            value: r.text(5)?,
            kind: r.opt_text(6)?,
            description: r.opt_text(7)?,
            owner_id: r.opt_text(8)?,
            requestable: r.bool(9)?,
            privileged: r.bool(10)?,
            document: r.json(11)?,
            created: r.ts(12)?,
            modified: r.ts(13)?,
        },
        source_name: r.text(14)?,
        owner_name: r.opt_text(15)?,
    })
}

fn values(e: &Entitlement) -> Vec<Value> {
    vec![
        e.id.clone().into(),
        e.tenant_id.clone().into(),
        e.source_id.clone().into(),
        e.name.clone().into(),
        e.attribute.clone().into(),
        e.value.clone().into(),
        e.kind.clone().into(),
        e.description.clone().into(),
        e.owner_id.clone().into(),
        e.requestable.into(),
        e.privileged.into(),
        e.document.to_string().into(),
        e.created.into(),
        e.modified.into(),
    ]
}

/// Inserts `e`. The same attribute and value twice on a source is a `Conflict`.
pub fn insert(c: &mut dyn Conn, e: &Entitlement) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into entitlement ({INSERT_COLUMNS}) values ({})",
            listing::placeholders(1, 14)
        ),
        &values(e),
    )?;
    Ok(())
}

/// Rewrites `e` (but its source and creation date). False when it does not exist.
pub fn update(c: &mut dyn Conn, e: &Entitlement) -> Result<bool, StoreError> {
    let mut params = values(e);
    params.remove(12); // created
    params.remove(2); // source_id
    Ok(c.execute(
        "update entitlement set name = $3, attribute = $4, value = $5, type = $6, description = $7, \
         owner_id = $8, requestable = $9, privileged = $10, document = $11, modified = $12 \
         where id = $1 and tenant_id = $2",
        &params,
    )? == 1)
}

/// Looks an entitlement up.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<EntitlementView>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from {FROM} where e.tenant_id = $1 and e.id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists entitlements. Filters and sorters use aliases `e`, `src`, `o` and start at `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    q: ListQuery,
) -> Result<Page<EntitlementView>, StoreError> {
    listing::page(
        c,
        COLUMNS,
        FROM,
        "e.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by e.name asc, e.id asc",
        of,
    )
}

/// Of `ids`, each one's source, or `None` for an id that is no entitlement of the tenant.
pub fn sources_of(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<Value> = vec![tenant_id.into(), listing::id_set_value(ids)];
    let rows = c.query(
        &format!(
            "select id, source_id from entitlement where {} and id {}",
            listing::tenant_is_1(c, "tenant_id"),
            listing::id_set(c, 2)
        ),
        &params,
    )?;
    let mut found = std::collections::HashMap::new();
    for r in &rows {
        found.insert(r.text(0)?, r.text(1)?);
    }
    Ok(ids
        .iter()
        .map(|id| (id.clone(), found.get(id).cloned()))
        .collect())
}

/// What refers to entitlement `id`: access profiles and roles that include it, and assignments.
pub fn usages(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Vec<Usage>, StoreError> {
    let p: Vec<Value> = vec![tenant_id.into(), id.into()];
    let mut all = listing::usages(
        c,
        "access profile",
        "select ap.id, ap.name from access_profile ap join access_profile_entitlement x \
         on x.access_profile_id = ap.id where ap.tenant_id = $1 and x.entitlement_id = $2 order by ap.name",
        &p,
    )?;
    all.extend(listing::usages(
        c,
        "role",
        "select r.id, r.name from role r join role_entitlement x on x.role_id = r.id \
         where r.tenant_id = $1 and x.entitlement_id = $2 order by r.name",
        &p,
    )?);
    all.extend(crate::assignments::usages(c, tenant_id, "ENTITLEMENT", id)?);
    Ok(all)
}
