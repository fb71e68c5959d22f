//! OAuth clients (`/v3/oauth-clients`): client-credentials API clients of a tenant.

use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;
use gatehouse_filter::SqlFragment;

/// An OAuth client. The secret is kept only as a keyed hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    /// Id (a UUID with dashes, as SailPoint's).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Keyed hash of the secret.
    pub secret_hash: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Business name.
    pub business_name: Option<String>,
    /// Home page.
    pub homepage_url: Option<String>,
    /// Lifetime of access tokens.
    pub access_token_validity_seconds: i64,
    /// Lifetime of refresh tokens.
    pub refresh_token_validity_seconds: i64,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Grant types (`CLIENT_CREDENTIALS`, `AUTHORIZATION_CODE`, `REFRESH_TOKEN`).
    pub grant_types: Vec<String>,
    /// `ONLINE` or `OFFLINE`.
    pub access_type: String,
    /// `CONFIDENTIAL` or `PUBLIC`.
    pub client_type: String,
    /// Internal.
    pub internal: bool,
    /// Enabled.
    pub enabled: bool,
    /// Strong auth supported.
    pub strong_auth_supported: bool,
    /// Claims supported.
    pub claims_supported: bool,
    /// Scopes (`None` = null).
    pub scope: Option<Vec<String>>,
    /// Free-form metadata.
    pub metadata: Option<serde_json::Value>,
    /// Created at.
    pub created: Timestamp,
    /// Modified at.
    pub modified: Timestamp,
    /// Last token issued at.
    pub last_used: Option<Timestamp>,
}

const COLUMNS: &str = "id, tenant_id, secret_hash, name, description, business_name, homepage_url, \
    access_token_validity_seconds, refresh_token_validity_seconds, redirect_uris, grant_types, access_type, \
    client_type, internal, enabled, strong_auth_supported, claims_supported, scope, metadata, created, modified, last_used";

fn of(r: &Row) -> Result<OAuthClient, StoreError> {
    Ok(OAuthClient {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        secret_hash: r.text(2)?,
        name: r.text(3)?,
        description: r.opt_text(4)?,
        business_name: r.opt_text(5)?,
        homepage_url: r.opt_text(6)?,
        access_token_validity_seconds: r.int(7)?,
        refresh_token_validity_seconds: r.int(8)?,
        redirect_uris: r.json(9)?,
        grant_types: r.json(10)?,
        access_type: r.text(11)?,
        client_type: r.text(12)?,
        internal: r.bool(13)?,
        enabled: r.bool(14)?,
        strong_auth_supported: r.bool(15)?,
        claims_supported: r.bool(16)?,
        scope: r
            .opt_text(17)?
            .map(|s| serde_json::from_str(&s))
            .transpose()?,
        metadata: r
            .opt_text(18)?
            .map(|s| serde_json::from_str(&s))
            .transpose()?,
        created: r.ts(19)?,
        modified: r.ts(20)?,
        last_used: r.opt_ts(21)?,
    })
}

fn values(o: &OAuthClient) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        o.id.clone().into(),
        o.tenant_id.clone().into(),
        o.secret_hash.clone().into(),
        o.name.clone().into(),
        o.description.clone().into(),
        o.business_name.clone().into(),
        o.homepage_url.clone().into(),
        o.access_token_validity_seconds.into(),
        o.refresh_token_validity_seconds.into(),
        serde_json::to_string(&o.redirect_uris)?.into(),
        serde_json::to_string(&o.grant_types)?.into(),
        o.access_type.clone().into(),
        o.client_type.clone().into(),
        o.internal.into(),
        o.enabled.into(),
        o.strong_auth_supported.into(),
        o.claims_supported.into(),
        o.scope
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?
            .into(),
        o.metadata.as_ref().map(serde_json::Value::to_string).into(),
        o.created.into(),
        o.modified.into(),
        o.last_used.into(),
    ])
}

/// Inserts `o`.
pub fn insert(c: &mut dyn Conn, o: &OAuthClient) -> Result<(), StoreError> {
    let placeholders = (1..=22)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    c.execute(
        &format!("insert into oauth_client ({COLUMNS}) values ({placeholders})"),
        &values(o)?,
    )?;
    Ok(())
}

/// Rewrites every column of `o` (matched by tenant and id). False when it does not exist.
pub fn update(c: &mut dyn Conn, o: &OAuthClient) -> Result<bool, StoreError> {
    let sets = COLUMNS
        .split(", ")
        .enumerate()
        .skip(2)
        .map(|(i, col)| format!("{col} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let n = c.execute(
        &format!("update oauth_client set {sets} where id = $1 and tenant_id = $2"),
        &values(o)?,
    )?;
    Ok(n == 1)
}

/// Looks a client up by id within `tenant_id`.
pub fn get(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<Option<OAuthClient>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from oauth_client where tenant_id = $1 and id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Looks a client up by id in any tenant (the token endpoint does not know the tenant yet).
pub fn find(c: &mut dyn Conn, id: &str) -> Result<Option<OAuthClient>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from oauth_client where id = $1"),
        &[id.into()],
    )?
    .as_ref()
    .map(of)
    .transpose()
}

/// Lists a tenant's clients matching `filter` (compiled with its first placeholder at `$2`).
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    filter: Option<SqlFragment>,
) -> Result<Vec<OAuthClient>, StoreError> {
    let mut params: Vec<Value> = vec![tenant_id.into()];
    let mut sql = format!("select {COLUMNS} from oauth_client where tenant_id = $1");
    if let Some(f) = filter {
        sql.push_str(" and ");
        sql.push_str(&f.sql);
        params.extend(f.params.into_iter().map(Value::from));
    }
    sql.push_str(" order by created, id");
    c.query(&sql, &params)?.iter().map(of).collect()
}

/// Deletes a client. False when it did not exist.
pub fn delete(c: &mut dyn Conn, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    Ok(c.execute(
        "delete from oauth_client where tenant_id = $1 and id = $2",
        &[tenant_id.into(), id.into()],
    )? == 1)
}

/// Records that a token was issued to client `id` at `now`.
pub fn touch(c: &mut dyn Conn, id: &str, now: Timestamp) -> Result<(), StoreError> {
    c.execute(
        "update oauth_client set last_used = $1 where id = $2",
        &[now.into(), id.into()],
    )?;
    Ok(())
}
