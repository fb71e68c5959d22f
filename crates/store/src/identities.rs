//! The directory: people with their names, e-mail, manager, lifecycle state, attributes and user
//! levels. (`tenants::Identity` is the foundation's narrow view of the same rows.)

use crate::listing::{self, ListQuery, Page};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// A person, as the catalog knows them.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityRecord {
    /// 32-hex id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Unique user name within the tenant.
    pub name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Alias (the `uid`).
    pub alias: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Manager's id.
    pub manager_id: Option<String>,
    /// Lifecycle state (`active`, `inactive`…).
    pub lifecycle_state: Option<String>,
    /// Identity status (`ACTIVE`, `DISABLED`…).
    pub cloud_status: Option<String>,
    /// `OK`, `ERROR` or none.
    pub processing_state: Option<String>,
    /// Correlated to an authoritative account.
    pub correlated: bool,
    /// Protected from refresh changes.
    pub is_protected: bool,
    /// Identity attributes (a JSON object).
    pub attributes: serde_json::Value,
    /// User levels (`ORG_ADMIN`, `USER`, …).
    pub authorities: Vec<String>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

impl IdentityRecord {
    /// A person named `name` with defaults for everything else (correlated, level `USER`).
    pub fn new(id: &str, tenant_id: &str, name: &str, now: Timestamp) -> Self {
        Self {
            id: id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            name: name.to_owned(),
            display_name: None,
            email: None,
            alias: None,
            first_name: None,
            last_name: None,
            manager_id: None,
            lifecycle_state: None,
            cloud_status: None,
            processing_state: None,
            correlated: true,
            is_protected: false,
            attributes: serde_json::json!({}),
            authorities: vec!["USER".into()],
            created: now,
            modified: now,
        }
    }
}

/// A person with what lists show beside them.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentityView {
    /// The person.
    pub identity: IdentityRecord,
    /// Their manager's name.
    pub manager_name: Option<String>,
    /// Whether anyone has them as manager.
    pub is_manager: bool,
}

const INSERT_COLUMNS: &str = "id, tenant_id, name, display_name, email, alias, first_name, last_name, \
    manager_id, lifecycle_state, cloud_status, processing_state, correlated, is_protected, attributes, \
    authorities, created, modified";

/// The columns a list reads; alias `i` is the identity, `m` its manager.
const COLUMNS: &str = "i.id, i.tenant_id, i.name, i.display_name, i.email, i.alias, i.first_name, \
    i.last_name, i.manager_id, i.lifecycle_state, i.cloud_status, i.processing_state, i.correlated, \
    i.is_protected, i.attributes, i.authorities, i.created, i.modified, m.name, \
    exists (select 1 from identity r where r.manager_id = i.id)";

const FROM: &str = "identity i left join identity m on m.id = i.manager_id";

fn of(r: &Row) -> Result<IdentityView, StoreError> {
    Ok(IdentityView {
        identity: IdentityRecord {
            id: r.text(0)?,
            tenant_id: r.text(1)?,
            name: r.text(2)?,
            display_name: r.opt_text(3)?,
            email: r.opt_text(4)?,
            alias: r.opt_text(5)?,
            first_name: r.opt_text(6)?,
            last_name: r.opt_text(7)?,
            manager_id: r.opt_text(8)?,
            lifecycle_state: r.opt_text(9)?,
            cloud_status: r.opt_text(10)?,
            processing_state: r.opt_text(11)?,
            correlated: r.bool(12)?,
            is_protected: r.bool(13)?,
            attributes: r.json(14)?,
            authorities: r.json(15)?,
            created: r.ts(16)?,
            modified: r.ts(17)?,
        },
        manager_name: r.opt_text(18)?,
        is_manager: r.bool(19)?,
    })
}

fn values(i: &IdentityRecord) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        i.id.clone().into(),
        i.tenant_id.clone().into(),
        i.name.clone().into(),
        i.display_name.clone().into(),
        i.email.clone().into(),
        i.alias.clone().into(),
        i.first_name.clone().into(),
        i.last_name.clone().into(),
        i.manager_id.clone().into(),
        i.lifecycle_state.clone().into(),
        i.cloud_status.clone().into(),
        i.processing_state.clone().into(),
        i.correlated.into(),
        i.is_protected.into(),
        i.attributes.to_string().into(),
        serde_json::to_string(&i.authorities)?.into(),
        i.created.into(),
        i.modified.into(),
    ])
}

/// Inserts `i`. A name already taken in the tenant is a `Conflict`.
pub fn insert(c: &mut dyn Conn, i: &IdentityRecord) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into identity ({INSERT_COLUMNS}) values ({})",
            listing::placeholders(1, 18)
        ),
        &values(i)?,
    )?;
    Ok(())
}

/// Inserts every identity of `all`, in order (managers before the people they manage).
pub fn insert_many(c: &mut dyn Conn, all: &[IdentityRecord]) -> Result<(), StoreError> {
    all.iter().try_for_each(|i| insert(c, i))
}

/// Rewrites every column of `i` but its tenant and creation date. False when it does not exist.
pub fn update(c: &mut dyn Conn, i: &IdentityRecord) -> Result<bool, StoreError> {
    let sets = INSERT_COLUMNS
        .split(", ")
        .enumerate()
        .skip(2)
        .filter(|(_, col)| *col != "created")
        .map(|(n, col)| format!("{col} = ${}", n + 1))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(c.execute(
        &format!("update identity set {sets} where id = $1 and tenant_id = $2"),
        &values(i)?,
    )? == 1)
}

/// Looks a person up by id within `tenant_id`.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<IdentityView>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from {FROM} where i.tenant_id = $1 and i.id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Which people a list includes besides what its filter says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everyone.
    All,
    /// Only correlated people (`listIdentities`' `defaultFilter=CORRELATED_ONLY`).
    Correlated,
    /// `getPublicIdentities`' `add-core-filters`: correlated or protected, not `spadmin` or
    /// `cloudadmin`, with an alias, a last name and an e-mail.
    Core,
}

/// Lists a tenant's people. Filters use alias `i` (the identity) and start at `$2`.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    scope: Scope,
    q: ListQuery,
) -> Result<Page<IdentityView>, StoreError> {
    let base = match scope {
        Scope::All => "i.tenant_id = $1",
        Scope::Correlated => "i.tenant_id = $1 and i.correlated = true",
        Scope::Core => {
            "i.tenant_id = $1 and (i.correlated = true or i.is_protected = true) \
             and lower(i.name) not in ('spadmin', 'cloudadmin') and i.alias is not null \
             and i.last_name is not null and i.email is not null"
        }
    };
    listing::page(
        c,
        COLUMNS,
        FROM,
        base,
        vec![tenant_id.into()],
        q,
        " order by i.name asc, i.id asc",
        of,
    )
}

/// The ids among `ids` that are no person of the tenant.
pub fn missing(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    listing::missing(c, "identity", tenant_id, ids)
}
