//! Personal access tokens (`/v3/personal-access-tokens`): client credentials bound to a person,
//! so the tokens they obtain act as that person.

use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;
use gatehouse_filter::SqlFragment;

/// A personal access token. The secret is kept only as a keyed hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pat {
    /// Id (32 hex; the client id of the client-credentials grant).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The identity the token acts as.
    pub owner_id: String,
    /// Name, unique per owner.
    pub name: String,
    /// Keyed hash of the secret.
    pub secret_hash: String,
    /// Scopes (`None` = null).
    pub scope: Option<Vec<String>>,
    /// Lifetime of access tokens, seconds.
    pub access_token_validity_seconds: i64,
    /// When the PAT stops working (`None` = never).
    pub expiration_date: Option<Timestamp>,
    /// v1: explicitly never expires.
    pub never_expires: bool,
    /// Managed by the platform.
    pub managed: bool,
    /// Created at.
    pub created: Timestamp,
    /// Last token issued at.
    pub last_used: Option<Timestamp>,
}

const COLUMNS: &str =
    "id, tenant_id, owner_id, name, secret_hash, scope, access_token_validity_seconds, \
    expiration_date, never_expires, managed, created, last_used";

fn of(r: &Row) -> Result<Pat, StoreError> {
    Ok(Pat {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        owner_id: r.text(2)?,
        name: r.text(3)?,
        secret_hash: r.text(4)?,
        scope: r
            .opt_text(5)?
            .map(|s| serde_json::from_str(&s))
            .transpose()?,
        access_token_validity_seconds: r.int(6)?,
        expiration_date: r.opt_ts(7)?,
        never_expires: r.bool(8)?,
        managed: r.bool(9)?,
        created: r.ts(10)?,
        last_used: r.opt_ts(11)?,
    })
}

fn values(p: &Pat) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        p.id.clone().into(),
        p.tenant_id.clone().into(),
        p.owner_id.clone().into(),
        p.name.clone().into(),
        p.secret_hash.clone().into(),
        p.scope
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?
            .into(),
        p.access_token_validity_seconds.into(),
        p.expiration_date.into(),
        p.never_expires.into(),
        p.managed.into(),
        p.created.into(),
        p.last_used.into(),
    ])
}

/// Inserts `p`. A second PAT of the same name for the same owner is a `Conflict`.
pub fn insert(c: &mut dyn Conn, p: &Pat) -> Result<(), StoreError> {
    let placeholders = (1..=12)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    c.execute(
        &format!("insert into personal_access_token ({COLUMNS}) values ({placeholders})"),
        &values(p)?,
    )?;
    Ok(())
}

/// Rewrites every column of `p` (matched by tenant and id). False when it does not exist.
pub fn update(c: &mut dyn Conn, p: &Pat) -> Result<bool, StoreError> {
    let sets = COLUMNS
        .split(", ")
        .enumerate()
        .skip(2)
        .map(|(i, col)| format!("{col} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let n = c.execute(
        &format!("update personal_access_token set {sets} where id = $1 and tenant_id = $2"),
        &values(p)?,
    )?;
    Ok(n == 1)
}

/// Looks a PAT up by id within `tenant_id`.
pub fn get(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Option<Pat>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from personal_access_token where tenant_id = $1 and id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Looks a PAT up by id in any tenant (the token endpoint does not know the tenant yet).
pub fn find(c: &mut dyn Conn, id: &str) -> Result<Option<Pat>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from personal_access_token where id = $1"),
        &[id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists a tenant's PATs, of one owner when given, matching `filter` (first placeholder `$3`).
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    owner_id: Option<&str>,
    filter: Option<SqlFragment>,
) -> Result<Vec<Pat>, StoreError> {
    let mut params: Vec<Value> = vec![tenant_id.into(), owner_id.into()];
    let mut sql = format!(
        "select {COLUMNS} from personal_access_token where tenant_id = $1 and (cast($2 as text) is null or owner_id = $2)"
    );
    if let Some(f) = filter {
        sql.push_str(" and ");
        sql.push_str(&f.sql);
        params.extend(f.params.into_iter().map(Value::from));
    }
    sql.push_str(" order by created, id");
    c.query(&sql, &params)?.iter().map(of).collect()
}

/// How many PATs `owner_id` has.
pub fn count_for_owner(
    c: &mut dyn Conn,
    tenant_id: &str,
    owner_id: &str,
) -> Result<i64, StoreError> {
    c.query_one(
        "select count(*) from personal_access_token where tenant_id = $1 and owner_id = $2",
        &[tenant_id.into(), owner_id.into()],
    )?
    .int(0)
}

/// Deletes a PAT. False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from personal_access_token where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}

/// Records that a token was issued to PAT `id` at `now`.
pub fn touch(c: &mut dyn Conn, id: &str, now: Timestamp) -> Result<(), StoreError> {
    c.execute(
        "update personal_access_token set last_used = $1 where id = $2",
        &[now.into(), id.into()],
    )?;
    Ok(())
}
