//! Managed clusters: the groups of virtual appliances or connectors that sources run on.

use crate::listing::{self, ListQuery, Page, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// A managed cluster. `document` keeps the rest of SailPoint's `ManagedCluster` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ManagedCluster {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique name within the tenant.
    pub name: String,
    /// `idn`, `iai`, `standard`…
    pub kind: String,
    /// Description.
    pub description: Option<String>,
    /// Operational.
    pub operational: bool,
    /// `CONFIGURING`, `FAILED`, `NO_CLIENTS`, `NORMAL`, `WARNING`.
    pub status: String,
    /// The other fields (a JSON object).
    pub document: serde_json::Value,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

const COLUMNS: &str =
    "id, tenant_id, name, type, description, operational, status, document, created, modified";

fn of(r: &Row) -> Result<ManagedCluster, StoreError> {
    Ok(ManagedCluster {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        name: r.text(2)?,
        kind: r.text(3)?,
        description: r.opt_text(4)?,
        operational: r.bool(5)?,
        status: r.text(6)?,
        document: r.json(7)?,
        created: r.ts(8)?,
        modified: r.ts(9)?,
    })
}

fn values(m: &ManagedCluster) -> Vec<Value> {
    vec![
        m.id.clone().into(),
        m.tenant_id.clone().into(),
        m.name.clone().into(),
        m.kind.clone().into(),
        m.description.clone().into(),
        m.operational.into(),
        m.status.clone().into(),
        m.document.to_string().into(),
        m.created.into(),
        m.modified.into(),
    ]
}

/// Inserts `m`. A name already taken is a `Conflict`.
pub fn insert(c: &mut dyn Conn, m: &ManagedCluster) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into managed_cluster ({COLUMNS}) values ({})",
            listing::placeholders(1, 10)
        ),
        &values(m),
    )?;
    Ok(())
}

/// Rewrites `m` (but its creation date). False when it does not exist.
pub fn update(c: &mut dyn Conn, m: &ManagedCluster) -> Result<bool, StoreError> {
    let mut params = values(m);
    params.remove(8); // created
    Ok(c.execute(
        "update managed_cluster set name = $3, type = $4, description = $5, operational = $6, \
         status = $7, document = $8, modified = $9 where id = $1 and tenant_id = $2",
        &params,
    )? == 1)
}

/// Looks a cluster up.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<ManagedCluster>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from managed_cluster c where tenant_id = $1 and id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists clusters. Filters use alias `c` and start at `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    q: ListQuery,
) -> Result<Page<ManagedCluster>, StoreError> {
    listing::page(
        c,
        COLUMNS,
        "managed_cluster c",
        "c.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by c.created asc, c.id asc",
        of,
    )
}

/// The sources that run on cluster `id`.
pub fn usages(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Vec<Usage>, StoreError> {
    listing::usages(
        c,
        "source",
        "select id, name from source where tenant_id = $1 and cluster_id = $2 order by name",
        &[tenant_id.into(), id.into()],
    )
}

/// Deletes a cluster. False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from managed_cluster where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}
