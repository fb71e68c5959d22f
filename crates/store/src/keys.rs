//! The token-signing key, kept in the store so every replica signs and verifies alike.

use crate::{Conn, StoreError};
use gatehouse_domain::Timestamp;

/// The current signing key: its id and its secret as stored (sealed by the caller); stores
/// `fresh_secret` (under `id`) first when there is none.
pub fn signing_key(
    c: &mut dyn Conn,
    id: &str,
    fresh_secret: &str,
    now: Timestamp,
) -> Result<(String, String), StoreError> {
    c.execute(
        "insert into signing_key (id, secret, created)
         select $1, $2, $3 where not exists (select 1 from signing_key)",
        &[id.into(), fresh_secret.into(), now.into()],
    )?;
    let row = c.query_one(
        "select id, secret from signing_key order by created, id limit 1",
        &[],
    )?;
    Ok((row.text(0)?, row.text(1)?))
}

/// Replaces the stored secret of signing key `id` (to seal one stored in clear).
pub fn replace_secret(c: &mut dyn Conn, id: &str, secret: &str) -> Result<(), StoreError> {
    c.execute(
        "update signing_key set secret = $2 where id = $1",
        &[id.into(), secret.into()],
    )?;
    Ok(())
}
