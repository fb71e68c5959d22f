//! Tenants (orgs) and the identities the foundation needs (the catalog issue extends identities).

use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// A tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// 32-hex id.
    pub id: String,
    /// Org name (the `org` claim).
    pub name: String,
    /// Created at.
    pub created: Timestamp,
}

/// The first tenant, creating it as `name` with id `id` when the database has none.
pub fn ensure_default(
    c: &mut dyn Conn,
    id: &str,
    name: &str,
    now: Timestamp,
) -> Result<Tenant, StoreError> {
    if let Some(t) = first(c)? {
        return Ok(t);
    }
    c.execute(
        "insert into tenant (id, name, created) values ($1, $2, $3)",
        &[id.into(), name.into(), now.into()],
    )?;
    Ok(Tenant {
        id: id.to_owned(),
        name: name.to_owned(),
        created: now,
    })
}

/// The oldest tenant, if any.
pub fn first(c: &mut dyn Conn) -> Result<Option<Tenant>, StoreError> {
    c.query_opt(
        "select id, name, created from tenant order by created, id limit 1",
        &[],
    )?
    .map(|r| {
        Ok(Tenant {
            id: r.text(0)?,
            name: r.text(1)?,
            created: r.ts(2)?,
        })
    })
    .transpose()
}

/// Looks a tenant up by id.
pub fn get(c: &mut dyn Conn, id: &str) -> Result<Option<Tenant>, StoreError> {
    c.query_opt(
        "select id, name, created from tenant where id = $1",
        &[id.into()],
    )?
    .map(|r| {
        Ok(Tenant {
            id: r.text(0)?,
            name: r.text(1)?,
            created: r.ts(2)?,
        })
    })
    .transpose()
}

/// A person in a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
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
    /// User levels (`ORG_ADMIN`, `USER`, …).
    pub authorities: Vec<String>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
}

const IDENTITY_COLUMNS: &str =
    "id, tenant_id, name, display_name, email, authorities, created, modified";

fn identity_of(r: &Row) -> Result<Identity, StoreError> {
    Ok(Identity {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        name: r.text(2)?,
        display_name: r.opt_text(3)?,
        email: r.opt_text(4)?,
        authorities: r.json(5)?,
        created: r.ts(6)?,
        modified: r.ts(7)?,
    })
}

/// Inserts `i`.
pub fn insert_identity(c: &mut dyn Conn, i: &Identity) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into identity ({IDENTITY_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        &[
            i.id.clone().into(),
            i.tenant_id.clone().into(),
            i.name.clone().into(),
            i.display_name.clone().into(),
            i.email.clone().into(),
            serde_json::to_string(&i.authorities)?.into(),
            i.created.into(),
            i.modified.into(),
        ],
    )?;
    Ok(())
}

/// Looks an identity up by id within `tenant_id`.
pub fn identity(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Identity>, StoreError> {
    c.query_opt(
        &format!("select {IDENTITY_COLUMNS} from identity where tenant_id = $1 and id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(identity_of)
    .transpose()
}

/// Looks an identity up by user name within `tenant_id`.
pub fn identity_by_name(
    c: &mut dyn Conn,
    tenant_id: &str,
    name: &str,
) -> Result<Option<Identity>, StoreError> {
    c.query_opt(
        &format!("select {IDENTITY_COLUMNS} from identity where tenant_id = $1 and name = $2"),
        &[tenant_id.into(), name.into()],
    )?
    .as_ref()
    .map(identity_of)
    .transpose()
}

/// Deletes every row of tenant `tenant_id` except the tenant itself, its signing material and the
/// identities and tokens in `keep_identities` (the admin who asked). Jobs of the tenant go too.
pub fn reset(
    c: &mut dyn Conn,
    tenant_id: &str,
    keep_identities: &[String],
) -> Result<(), StoreError> {
    c.execute("delete from job where tenant_id = $1", &[tenant_id.into()])?;
    c.execute(
        "delete from setting where tenant_id = $1",
        &[tenant_id.into()],
    )?;
    c.execute(
        "delete from service_desk_integration where tenant_id = $1",
        &[tenant_id.into()],
    )?;
    c.execute(
        "delete from oauth_client where tenant_id = $1",
        &[tenant_id.into()],
    )?;
    let mut params: Vec<Value> = vec![tenant_id.into()];
    let mut keep = String::from("''");
    for id in keep_identities {
        params.push(id.into());
        keep.push_str(&format!(", ${}", params.len()));
    }
    c.execute(
        &format!(
            "delete from personal_access_token where tenant_id = $1 and owner_id not in ({keep})"
        ),
        &params,
    )?;
    c.execute(
        &format!("delete from identity where tenant_id = $1 and id not in ({keep})"),
        &params,
    )?;
    Ok(())
}
