//! Access profiles: a named bundle of entitlements of one source, with an owner, requestability
//! and their own approval schemes for access requests and revocations.

use crate::entitlements::{self, EntitlementView};
use crate::listing::{self, ListQuery, Page, Ref, Usage};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// An access profile. `document` keeps the rest of SailPoint's `AccessProfile` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessProfile {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique name within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The source all its entitlements come from.
    pub source_id: String,
    /// Owner (an identity).
    pub owner_id: String,
    /// Enabled.
    pub enabled: bool,
    /// Requestable.
    pub requestable: bool,
    /// `accessRequestConfig` (approval schemes…), a JSON object.
    pub access_request_config: Option<serde_json::Value>,
    /// `revocationRequestConfig`, a JSON object.
    pub revocation_request_config: Option<serde_json::Value>,
    /// Its entitlements, in order.
    pub entitlement_ids: Vec<String>,
    /// The other fields (a JSON object).
    pub document: serde_json::Value,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

/// An access profile with the names of what it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessProfileView {
    /// The access profile.
    pub access_profile: AccessProfile,
    /// Source's name.
    pub source_name: String,
    /// Owner's name.
    pub owner_name: String,
    /// Its entitlements with their names, in order.
    pub entitlements: Vec<Ref>,
}

const COLUMNS: &str = "ap.id, ap.tenant_id, ap.name, ap.description, ap.source_id, ap.owner_id, \
    ap.enabled, ap.requestable, ap.access_request_config, ap.revocation_request_config, ap.document, \
    ap.created, ap.modified, src.name, o.name";

/// Aliases: `ap` the access profile, `src` its source, `o` its owner.
const FROM: &str = "access_profile ap join source src on src.id = ap.source_id \
    join identity o on o.id = ap.owner_id";

fn opt_json(r: &Row, i: usize) -> Result<Option<serde_json::Value>, StoreError> {
    r.opt_text(i)?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(Into::into)
}

fn of(r: &Row) -> Result<AccessProfileView, StoreError> {
    Ok(AccessProfileView {
        access_profile: AccessProfile {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            name: r.text(2)?,
            description: r.opt_text(3)?,
            source_id: r.text(4)?,
            owner_id: r.text(5)?,
            enabled: r.bool(6)?,
            requestable: r.bool(7)?,
            access_request_config: opt_json(r, 8)?,
            revocation_request_config: opt_json(r, 9)?,
            entitlement_ids: Vec::new(),
            document: r.json(10)?,
            created: r.ts(11)?,
            modified: r.ts(12)?,
        },
        source_name: r.text(13)?,
        owner_name: r.text(14)?,
        entitlements: Vec::new(),
    })
}

fn values(a: &AccessProfile) -> Vec<Value> {
    vec![
        a.id.clone().into(),
        a.tenant_id.clone().into(),
        a.name.clone().into(),
        a.description.clone().into(),
        a.source_id.clone().into(),
        a.owner_id.clone().into(),
        a.enabled.into(),
        a.requestable.into(),
        a.access_request_config
            .as_ref()
            .map(ToString::to_string)
            .into(),
        a.revocation_request_config
            .as_ref()
            .map(ToString::to_string)
            .into(),
        a.document.to_string().into(),
        a.created.into(),
        a.modified.into(),
    ]
}

fn link(c: &mut dyn Conn, a: &AccessProfile) -> Result<(), StoreError> {
    c.execute(
        "delete from access_profile_entitlement where access_profile_id = $1",
        &[a.id.clone().into()],
    )?;
    for (n, e) in a.entitlement_ids.iter().enumerate() {
        c.execute(
            "insert into access_profile_entitlement (access_profile_id, entitlement_id, position) \
             values ($1, $2, $3)",
            &[
                a.id.clone().into(),
                e.into(),
                i64::try_from(n).unwrap_or(i64::MAX).into(),
            ],
        )?;
    }
    Ok(())
}

/// Inserts `a` and its entitlement links. A name already taken is a `Conflict`.
pub fn insert(c: &mut dyn Conn, a: &AccessProfile) -> Result<(), StoreError> {
    c.execute(
        "insert into access_profile (id, tenant_id, name, description, source_id, owner_id, enabled, \
         requestable, access_request_config, revocation_request_config, document, created, modified) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &values(a),
    )?;
    link(c, a)
}

/// Rewrites `a` and its links (but its creation date). False when it does not exist.
pub fn update(c: &mut dyn Conn, a: &AccessProfile) -> Result<bool, StoreError> {
    let mut params = values(a);
    params.remove(11); // created
    let n = c.execute(
        "update access_profile set name = $3, description = $4, source_id = $5, owner_id = $6, \
         enabled = $7, requestable = $8, access_request_config = $9, revocation_request_config = $10, \
         document = $11, modified = $12 where id = $1 and tenant_id = $2",
        &params,
    )?;
    if n == 1 {
        link(c, a)?;
    }
    Ok(n == 1)
}

/// Fills in the entitlements of `views` with one query.
fn with_entitlements(
    c: &mut dyn Conn,
    mut views: Vec<AccessProfileView>,
) -> Result<Vec<AccessProfileView>, StoreError> {
    if views.is_empty() {
        return Ok(views);
    }
    let ids = [listing::id_set_value(
        views.iter().map(|v| v.access_profile.id.as_str()),
    )];
    let rows = c.query(
        &format!(
            "select x.access_profile_id, e.id, e.name from access_profile_entitlement x \
             join entitlement e on e.id = x.entitlement_id \
             where x.access_profile_id {} order by x.access_profile_id, x.position",
            listing::id_set(c, 1)
        ),
        &ids,
    )?;
    for r in &rows {
        let ap = r.text(0)?;
        if let Some(v) = views.iter_mut().find(|v| v.access_profile.id == ap) {
            let e = Ref {
                id: r.text(1)?,
                name: r.text(2)?,
            };
            v.access_profile.entitlement_ids.push(e.id.clone());
            v.entitlements.push(e);
        }
    }
    Ok(views)
}

/// Looks an access profile up.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<AccessProfileView>, StoreError> {
    let found = c
        .query_opt(
            &format!("select {COLUMNS} from {FROM} where ap.tenant_id = $1 and ap.id = $2"),
            &[tenant_id.into(), id.into()],
        )?
        .as_ref()
        .map(of)
        .transpose()?;
    Ok(with_entitlements(c, found.into_iter().collect())?.pop())
}

/// Lists access profiles. Filters and sorters use aliases `ap`, `src`, `o` and start at `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    q: ListQuery,
) -> Result<Page<AccessProfileView>, StoreError> {
    let page = listing::page(
        c,
        COLUMNS,
        FROM,
        "ap.tenant_id = $1",
        vec![tenant_id.into()],
        q,
        " order by ap.created asc, ap.id asc",
        of,
    )?;
    Ok(Page {
        items: with_entitlements(c, page.items)?,
        total: page.total,
    })
}

/// Lists the entitlements of access profile `id`, in its order unless sorted. Filters and sorters
/// use the aliases of the entitlement list (`e`, `src`, `o`) and start at `$3`.
pub fn entitlements(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    q: ListQuery,
) -> Result<Page<EntitlementView>, StoreError> {
    listing::page(
        c,
        entitlements::COLUMNS,
        &format!(
            "access_profile_entitlement x join {}",
            entitlements::FROM.replacen(
                "entitlement e",
                "entitlement e on e.id = x.entitlement_id",
                1
            )
        ),
        "e.tenant_id = $1 and x.access_profile_id = $2",
        vec![tenant_id.into(), id.into()],
        q,
        " order by x.position asc",
        entitlements::of,
    )
}

/// What refers to access profile `id`: roles that include it, and assignments.
pub fn usages(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Vec<Usage>, StoreError> {
    let mut all = listing::usages(
        c,
        "role",
        "select r.id, r.name from role r join role_access_profile x on x.role_id = r.id \
         where r.tenant_id = $1 and x.access_profile_id = $2 order by r.name",
        &[tenant_id.into(), id.into()],
    )?;
    all.extend(crate::assignments::usages(
        c,
        tenant_id,
        "ACCESS_PROFILE",
        id,
    )?);
    Ok(all)
}

/// Deletes an access profile (and its entitlement links). False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from access_profile where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}

/// The ids among `ids` that are no access profile of the tenant.
pub fn missing(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    listing::missing(c, "access_profile", tenant_id, ids)
}
