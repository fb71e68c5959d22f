//! Sources: the systems accounts and entitlements come from, with their owner, the cluster they
//! run on, and the service-desk integration that provisions them, if any.

use crate::listing::{self, ListQuery, Page, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// A source. `document` keeps the rest of SailPoint's `Source` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique name within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Type (e.g. `DelimitedFile`).
    pub kind: Option<String>,
    /// Owner (an identity).
    pub owner_id: Option<String>,
    /// The managed cluster it runs on.
    pub cluster_id: Option<String>,
    /// The governance group that manages it.
    pub management_workgroup_id: Option<String>,
    /// Connector script name.
    pub connector: Option<String>,
    /// `direct` or `file`.
    pub connection_type: Option<String>,
    /// Authoritative.
    pub authoritative: bool,
    /// Healthy.
    pub healthy: bool,
    /// Status (`SOURCE_STATE_HEALTHY`…).
    pub status: Option<String>,
    /// Features (`PROVISIONING`…).
    pub features: Vec<String>,
    /// Connector's display name.
    pub connector_name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// The service-desk integration that provisions it (none: it is not managed by one).
    pub service_desk_integration_id: Option<String>,
    /// The other fields (a JSON object).
    pub document: serde_json::Value,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

/// A source with the names of what it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceView {
    /// The source.
    pub source: Source,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Cluster's name.
    pub cluster_name: Option<String>,
    /// Management group's name.
    pub management_workgroup_name: Option<String>,
}

const INSERT_COLUMNS: &str = "id, tenant_id, name, description, type, owner_id, cluster_id, \
    management_workgroup_id, connector, connection_type, authoritative, healthy, status, features, \
    connector_name, category, service_desk_integration_id, document, created, modified";

const COLUMNS: &str = "s.id, s.tenant_id, s.name, s.description, s.type, s.owner_id, s.cluster_id, \
    s.management_workgroup_id, s.connector, s.connection_type, s.authoritative, s.healthy, s.status, \
    s.features, s.connector_name, s.category, s.service_desk_integration_id, s.document, s.created, \
    s.modified, o.name, mc.name, wg.name";

/// Aliases: `s` the source, `o` its owner, `mc` its cluster, `wg` its management group.
const FROM: &str = "source s left join identity o on o.id = s.owner_id \
    left join managed_cluster mc on mc.id = s.cluster_id \
    left join governance_group wg on wg.id = s.management_workgroup_id";

fn of(r: &Row) -> Result<SourceView, StoreError> {
    Ok(SourceView {
        source: Source {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            name: r.text(2)?,
            description: r.opt_text(3)?,
            kind: r.opt_text(4)?,
            owner_id: r.opt_text(5)?,
            cluster_id: r.opt_text(6)?,
            management_workgroup_id: r.opt_text(7)?,
            connector: r.opt_text(8)?,
            connection_type: r.opt_text(9)?,
            authoritative: r.bool(10)?,
            healthy: r.bool(11)?,
            status: r.opt_text(12)?,
            features: r.json(13)?,
            connector_name: r.opt_text(14)?,
            category: r.opt_text(15)?,
            service_desk_integration_id: r.opt_text(16)?,
            document: r.json(17)?,
            created: r.ts(18)?,
            modified: r.ts(19)?,
        },
        owner_name: r.opt_text(20)?,
        cluster_name: r.opt_text(21)?,
        management_workgroup_name: r.opt_text(22)?,
    })
}

fn values(s: &Source) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        s.id.clone().into(),
        s.tenant_id.clone().into(),
        s.name.clone().into(),
        s.description.clone().into(),
        s.kind.clone().into(),
        s.owner_id.clone().into(),
        s.cluster_id.clone().into(),
        s.management_workgroup_id.clone().into(),
        s.connector.clone().into(),
        s.connection_type.clone().into(),
        s.authoritative.into(),
        s.healthy.into(),
        s.status.clone().into(),
        serde_json::to_string(&s.features)?.into(),
        s.connector_name.clone().into(),
        s.category.clone().into(),
        s.service_desk_integration_id.clone().into(),
        s.document.to_string().into(),
        s.created.into(),
        s.modified.into(),
    ])
}

/// Inserts `s`. A name already taken is a `Conflict`; an unknown owner, cluster or group a
/// `Constraint`.
pub fn insert(c: &mut dyn Conn, s: &Source) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into source ({INSERT_COLUMNS}) values ({})",
            listing::placeholders(1, 20)
        ),
        &values(s)?,
    )?;
    Ok(())
}

/// Rewrites `s` (but its creation date). False when it does not exist.
pub fn update(c: &mut dyn Conn, s: &Source) -> Result<bool, StoreError> {
    let mut params = values(s)?;
    params.remove(18); // created
    let sets = INSERT_COLUMNS
        .split(", ")
        .filter(|col| *col != "created")
        .enumerate()
        .skip(2)
        .map(|(n, col)| format!("{col} = ${}", n + 1))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(c.execute(
        &format!("update source set {sets} where id = $1 and tenant_id = $2"),
        &params,
    )? == 1)
}

/// Looks a source up.
pub fn get(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Option<SourceView>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from {FROM} where s.tenant_id = $1 and s.id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists sources. Filters and sorters use the aliases of `FROM` (`s`, `o`, `mc`, `wg`) and start at
/// `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    q: ListQuery,
) -> Result<Page<SourceView>, StoreError> {
    listing::page(
        c,
        COLUMNS,
        FROM,
        "s.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by s.created asc, s.id asc",
        of,
    )
}

/// Records which service-desk integration provisions source `id` (none: no longer one).
pub fn set_service_desk_integration(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    integration_id: Option<&str>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update source set service_desk_integration_id = $3 where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into(), integration_id.into()],
    )? == 1)
}

/// What stops source `id` from being deleted: access profiles on it, and roles or assignments
/// that hold one of its entitlements. (Its own entitlements and accounts go with it.)
pub fn usages(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Vec<Usage>, StoreError> {
    let p: Vec<Value> = vec![tenant_id.into(), id.into()];
    let mut all = listing::usages(
        c,
        "access profile",
        "select id, name from access_profile where tenant_id = $1 and source_id = $2 order by name",
        &p,
    )?;
    all.extend(listing::usages(
        c,
        "role",
        "select distinct r.id, r.name from role r join role_entitlement re on re.role_id = r.id \
         join entitlement e on e.id = re.entitlement_id \
         where r.tenant_id = $1 and e.source_id = $2 order by r.name",
        &p,
    )?);
    all.extend(listing::usages(
        c,
        "assignment",
        "select a.id, i.name from assignment a join entitlement e on e.id = a.item_id \
         join identity i on i.id = a.identity_id \
         where a.tenant_id = $1 and a.item_type = 'ENTITLEMENT' and e.source_id = $2 order by i.name",
        &p,
    )?);
    Ok(all)
}

/// Deletes source `id` with its entitlements and accounts. False when it did not exist. Callers
/// check [`usages`] first; a remaining reference makes this a `Constraint` error.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let p: Vec<Value> = vec![tenant_id.into(), id.into()];
    c.execute(
        "delete from account where tenant_id = $1 and source_id = $2",
        &p,
    )?;
    c.execute(
        "delete from entitlement where tenant_id = $1 and source_id = $2",
        &p,
    )?;
    Ok(c.execute("delete from source where tenant_id = $1 and id = $2", &p)? == 1)
}
