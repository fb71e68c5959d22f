//! Per-tenant settings stored as JSON documents by name (configuration objects of the API).

use crate::{Conn, StoreError};
use gatehouse_domain::Timestamp;

/// Reads setting `name` of `tenant_id`.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    name: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    c.query_opt(
        "select value from setting where tenant_id = $1 and name = $2",
        &[tenant_id.into(), name.into()],
    )?
    .map(|r| r.json(0))
    .transpose()
}

/// Writes setting `name` of `tenant_id`, replacing any earlier value.
pub fn put(
    c: &mut dyn Conn,
    tenant_id: &str,
    name: &str,
    value: &serde_json::Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "insert into setting (tenant_id, name, value, modified) values ($1, $2, $3, $4)
         on conflict (tenant_id, name) do update set value = excluded.value, modified = excluded.modified",
        &[tenant_id.into(), name.into(), value.to_string().into(), now.into()],
    )?;
    Ok(())
}
