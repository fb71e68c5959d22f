//! Service desk integrations (`/v3/service-desk-integrations`) and the tenant's queued-ticket
//! status-check configuration.
//!
//! An integration's owner, cluster and managed sources are stored as ids and read back with their
//! current names (one query per page, plus one `in (…)` query for the managed sources). Its
//! credentials never reach this module in clear: `attributes` is the masked document and
//! `secrets` the sealed values by attribute pointer.
//!
//! The same row is an installed integration (ADR 0008): its installed-only columns are read here
//! with the rest ([`Integration::installed`]) and written only by [`installed_integrations::put`].

use crate::installed_integrations::{self, InboundAuth, Installed};
use crate::{settings, Conn, Dialect, Row, StoreError, Value};
use gatehouse_domain::service_desk::StatusCheck;
use gatehouse_domain::Timestamp;
use gatehouse_filter::SqlFragment;
use serde::{Deserialize, Serialize};
use serde_json::Map;
use std::collections::{BTreeMap, HashMap};

/// A reference to another object: its id and, when read, its current name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Id.
    pub id: String,
    /// Name (filled in on read; ignored on write).
    pub name: Option<String>,
}

impl Ref {
    /// A reference by id alone.
    pub fn to(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
        }
    }
}

/// `provisioningConfig` apart from the managed sources (which are rows of their own).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provisioning {
    /// `planInitializerScript.source`.
    #[serde(default)]
    pub plan_initializer_script: Option<String>,
    /// `noProvisioningRequests`.
    #[serde(default)]
    pub no_provisioning_requests: bool,
    /// `provisioningRequestExpiration`, hours.
    #[serde(default)]
    pub provisioning_request_expiration: Option<i32>,
}

/// A service desk integration.
#[derive(Clone, Debug, PartialEq)]
pub struct Integration {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Name, unique per tenant without regard to case.
    pub name: String,
    /// Description.
    pub description: String,
    /// Type (`ServiceNowSDIM`, …).
    pub type_name: String,
    /// The owning identity.
    pub owner: Option<Ref>,
    /// The managed cluster.
    pub cluster: Option<Ref>,
    /// The sources it manages, in order.
    pub managed_sources: Vec<Ref>,
    /// `beforeProvisioningRule` as given (`{type, id, name}`).
    pub before_provisioning_rule: Option<serde_json::Value>,
    /// The rest of `provisioningConfig`.
    pub provisioning: Provisioning,
    /// Attributes, every credential replaced by the mask.
    pub attributes: Map<String, serde_json::Value>,
    /// Sealed credentials by attribute pointer.
    pub secrets: BTreeMap<String, String>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
    /// The installed-integration view's own parts (read here; written by
    /// [`installed_integrations::put`], never by [`insert`] or [`update`]).
    pub installed: Installed,
}

/// The integration columns, and as the last column its managed sources in order, as a JSON
/// array of `[id, name]` pairs (one statement for a page and its sources).
fn select(dialect: Dialect) -> String {
    let sources = match dialect {
        Dialect::Sqlite => {
            "(select json_group_array(json_array(s.id, s.name) order by m.position) \
              from service_desk_managed_source m join source s on s.id = m.source_id \
              where m.integration_id = i.id)"
        }
        Dialect::Postgres => {
            "(select json_agg(json_build_array(s.id, s.name) order by m.position)::text \
              from service_desk_managed_source m join source s on s.id = m.source_id \
              where m.integration_id = i.id)"
        }
    };
    format!(
        "select i.id, i.tenant_id, i.name, i.description, i.type, i.owner_id, \
         coalesce(o.display_name, o.name), i.cluster_id, cl.name, i.before_provisioning_rule, \
         i.provisioning_config, i.attributes, i.secrets, i.created, i.modified, {}, {sources} \
         from service_desk_integration i \
         left join identity o on o.id = i.owner_id \
         left join managed_cluster cl on cl.id = i.cluster_id",
        installed_integrations::COLUMNS
    )
}

fn of(r: &Row) -> Result<Integration, StoreError> {
    let reference = |id: Option<String>, name: Option<String>| id.map(|id| Ref { id, name });
    Ok(Integration {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        name: r.text(2)?,
        description: r.text(3)?,
        type_name: r.text(4)?,
        owner: reference(r.opt_text(5)?, r.opt_text(6)?),
        cluster: reference(r.opt_text(7)?, r.opt_text(8)?),
        managed_sources: sources_of(r)?,
        before_provisioning_rule: r
            .opt_text(9)?
            .map(|s| serde_json::from_str(&s))
            .transpose()?,
        provisioning: r.json(10)?,
        attributes: r.json(11)?,
        secrets: r.json(12)?,
        created: r.ts(13)?,
        modified: r.ts(14)?,
        installed: installed_integrations::of(r, 15)?,
    })
}

/// The managed sources in the last column of an integration row ([`select`]).
fn sources_of(r: &Row) -> Result<Vec<Ref>, StoreError> {
    let last = r.0.len().saturating_sub(1);
    let Some(text) = r.opt_text(last)? else {
        return Ok(Vec::new());
    };
    let pairs: Vec<(String, String)> = serde_json::from_str(&text)?;
    Ok(pairs
        .into_iter()
        .map(|(id, name)| Ref {
            id,
            name: Some(name),
        })
        .collect())
}

/// Looks an integration up by id within `tenant_id`.
pub fn get(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Option<Integration>, StoreError> {
    c.query_opt(
        &format!(
            "{} where i.tenant_id = $1 and i.id = $2",
            select(c.dialect())
        ),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// A page of a tenant's integrations matching `filter` (compiled with its first placeholder at
/// `$2`), in `order_by` (an `order by` clause over allow-listed columns).
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    filter: Option<SqlFragment>,
    order_by: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<Integration>, StoreError> {
    let mut params: Vec<Value> = vec![tenant_id.into()];
    let mut sql = format!("{} where i.tenant_id = $1", select(c.dialect()));
    if let Some(f) = filter {
        sql.push_str(" and ");
        sql.push_str(&f.sql);
        params.extend(f.params.into_iter().map(Value::from));
    }
    sql.push_str(order_by);
    sql.push_str(&format!(
        " limit ${} offset ${}",
        params.len() + 1,
        params.len() + 2
    ));
    params.push(limit.into());
    params.push(offset.into());
    c.query(&sql, &params)?.iter().map(of).collect()
}

/// How many of a tenant's integrations match `filter` (placeholders from `$2`).
pub fn count(
    c: &mut dyn Conn,
    tenant_id: &str,
    filter: Option<SqlFragment>,
) -> Result<i64, StoreError> {
    let mut params: Vec<Value> = vec![tenant_id.into()];
    let mut sql =
        String::from("select count(*) from service_desk_integration i where i.tenant_id = $1");
    if let Some(f) = filter {
        sql.push_str(" and ");
        sql.push_str(&f.sql);
        params.extend(f.params.into_iter().map(Value::from));
    }
    c.query_one(&sql, &params)?.int(0)
}

/// Why an integration cannot be saved as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Another integration of the tenant has this name (without regard to case).
    NameTaken,
    /// `ownerRef` names no identity of the tenant.
    NoSuchOwner(String),
    /// `clusterRef` names no managed cluster of the tenant.
    NoSuchCluster(String),
    /// A managed source is not a source of the tenant.
    NoSuchSource(String),
    /// A source is already managed by another integration (named).
    SourceManaged {
        /// The source.
        source_id: String,
        /// The integration that manages it.
        by: String,
    },
}

/// Checks the name and every reference of `i` against the tenant's data. Run it in the write
/// that saves `i`, so the answer holds when it commits.
pub fn check(c: &mut dyn Conn, i: &Integration) -> Result<Option<Refusal>, StoreError> {
    let t: Value = i.tenant_id.clone().into();
    if c
        .query_opt(
            "select 1 from service_desk_integration where tenant_id = $1 and lower(name) = lower($2) and id <> $3",
            &[t.clone(), i.name.clone().into(), i.id.clone().into()],
        )?
        .is_some()
    {
        return Ok(Some(Refusal::NameTaken));
    }
    if let Some(o) = &i.owner {
        let sql = "select 1 from identity where tenant_id = $1 and id = $2";
        if c.query_opt(sql, &[t.clone(), o.id.clone().into()])?
            .is_none()
        {
            return Ok(Some(Refusal::NoSuchOwner(o.id.clone())));
        }
    }
    if let Some(cl) = &i.cluster {
        let sql = "select 1 from managed_cluster where tenant_id = $1 and id = $2";
        if c.query_opt(sql, &[t.clone(), cl.id.clone().into()])?
            .is_none()
        {
            return Ok(Some(Refusal::NoSuchCluster(cl.id.clone())));
        }
    }
    if i.managed_sources.is_empty() {
        return Ok(None);
    }
    let mut params: Vec<Value> = vec![t, i.id.clone().into()];
    params.extend(i.managed_sources.iter().map(|s| Value::from(s.id.clone())));
    let holes = (3..=params.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = c.query(
        &format!(
            "select s.id, other.name from source s \
             left join service_desk_managed_source m on m.source_id = s.id and m.integration_id <> $2 \
             left join service_desk_integration other on other.id = m.integration_id \
             where s.tenant_id = $1 and s.id in ({holes})"
        ),
        &params,
    )?;
    let mut known: HashMap<String, Option<String>> = HashMap::new();
    for r in rows {
        known.insert(r.text(0)?, r.opt_text(1)?);
    }
    for s in &i.managed_sources {
        match known.get(&s.id) {
            None => return Ok(Some(Refusal::NoSuchSource(s.id.clone()))),
            Some(Some(by)) => {
                return Ok(Some(Refusal::SourceManaged {
                    source_id: s.id.clone(),
                    by: by.clone(),
                }))
            }
            Some(None) => {}
        }
    }
    Ok(None)
}

fn values(i: &Integration) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        i.id.clone().into(),
        i.tenant_id.clone().into(),
        i.name.clone().into(),
        i.description.clone().into(),
        i.type_name.clone().into(),
        i.owner.as_ref().map(|r| r.id.clone()).into(),
        i.cluster.as_ref().map(|r| r.id.clone()).into(),
        i.before_provisioning_rule
            .as_ref()
            .map(serde_json::Value::to_string)
            .into(),
        serde_json::to_string(&i.provisioning)?.into(),
        serde_json::to_string(&i.attributes)?.into(),
        serde_json::to_string(&i.secrets)?.into(),
        i.created.into(),
        i.modified.into(),
    ])
}

const COLUMNS: &str = "id, tenant_id, name, description, type, owner_id, cluster_id, \
    before_provisioning_rule, provisioning_config, attributes, secrets, created, modified";

fn put_sources(c: &mut dyn Conn, i: &Integration) -> Result<(), StoreError> {
    c.execute(
        "delete from service_desk_managed_source where integration_id = $1",
        &[i.id.clone().into()],
    )?;
    for (n, s) in i.managed_sources.iter().enumerate() {
        c.execute(
            "insert into service_desk_managed_source (integration_id, source_id, position) values ($1, $2, $3)",
            &[
                i.id.clone().into(),
                s.id.clone().into(),
                i64::try_from(n).unwrap_or(i64::MAX).into(),
            ],
        )?;
    }
    Ok(())
}

/// Inserts `i` and its managed sources.
pub fn insert(c: &mut dyn Conn, i: &Integration) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into service_desk_integration ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        &values(i)?,
    )?;
    put_sources(c, i)
}

/// Rewrites `i` (matched by tenant and id; `created` is kept) and its managed sources. False when
/// it does not exist.
pub fn update(c: &mut dyn Conn, i: &Integration) -> Result<bool, StoreError> {
    let mut params = values(i)?;
    params.remove(11); // created
    let n = c.execute(
        "update service_desk_integration set name = $3, description = $4, type = $5, owner_id = $6, \
         cluster_id = $7, before_provisioning_rule = $8, provisioning_config = $9, attributes = $10, \
         secrets = $11, modified = $12 where id = $1 and tenant_id = $2",
        &params,
    )?;
    if n != 1 {
        return Ok(false);
    }
    put_sources(c, i)?;
    Ok(true)
}

/// Deletes an integration (its managed-source rows go with it) and the OAuth client issued for
/// its inbound calls, if any. False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let inbound = installed_integrations::inbound(c, tenant_id, id)?;
    let deleted = c.execute(
        "delete from service_desk_integration where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1;
    if let Some(InboundAuth::OAuth2 { client_id }) = inbound.map(|i| i.auth) {
        crate::oauth_clients::delete(c, tenant_id, &client_id)?;
    }
    Ok(deleted)
}

/// The setting that holds a tenant's [`StatusCheck`].
pub const STATUS_CHECK_SETTING: &str = "serviceDesk.statusCheck";

/// The tenant's effective status-check configuration: what was set, or SailPoint's defaults
/// (every 30 minutes, for 2 days). The poller of queued tickets reads it here.
pub fn status_check(c: &mut dyn Conn, tenant_id: &str) -> Result<StatusCheck, StoreError> {
    match settings::get(c, tenant_id, STATUS_CHECK_SETTING)? {
        Some(v) => Ok(serde_json::from_value(v)?),
        None => Ok(StatusCheck::default()),
    }
}

/// Sets the tenant's status-check configuration.
pub fn put_status_check(
    c: &mut dyn Conn,
    tenant_id: &str,
    check: &StatusCheck,
    now: Timestamp,
) -> Result<(), StoreError> {
    settings::put(
        c,
        tenant_id,
        STATUS_CHECK_SETTING,
        &serde_json::to_value(check)?,
        now,
    )
}

/// The sealed credentials of one integration, as `gatehouse rekey` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredentials {
    /// The integration's tenant.
    pub tenant_id: String,
    /// The integration.
    pub id: String,
    /// The `secrets` column as stored (JSON: attribute pointer → sealed value).
    pub stored: String,
}

/// Up to `limit` integrations with credentials, ordered by id, after `after` (an id).
pub fn sealed_credentials(
    c: &mut dyn Conn,
    after: &str,
    limit: i64,
) -> Result<Vec<SealedCredentials>, StoreError> {
    c.query(
        "select tenant_id, id, secrets from service_desk_integration
         where id > $1 and secrets <> '{}' order by id limit $2",
        &[after.into(), limit.into()],
    )?
    .iter()
    .map(|r| {
        Ok(SealedCredentials {
            tenant_id: r.text(0)?,
            id: r.text(1)?,
            stored: r.text(2)?,
        })
    })
    .collect()
}

/// Replaces the credentials of integration `id` when they are still `old` (a write since the
/// read wins: its values are sealed under the primary key already); false when they are not.
pub fn replace_credentials(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    old: &str,
    new: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update service_desk_integration set secrets = $4
         where id = $1 and tenant_id = $2 and secrets = $3",
        &[id.into(), tenant_id.into(), old.into(), new.into()],
    )? == 1)
}
