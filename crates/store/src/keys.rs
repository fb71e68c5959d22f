//! The token-signing key, kept in the store so every replica signs and verifies alike.

use crate::{Conn, StoreError};
use gatehouse_domain::Timestamp;

/// The current signing key as hex; stores `fresh_hex` (under `id`) first when there is none.
pub fn signing_key(
    c: &mut dyn Conn,
    id: &str,
    fresh_hex: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    c.execute(
        "insert into signing_key (id, secret, created)
         select $1, $2, $3 where not exists (select 1 from signing_key)",
        &[id.into(), fresh_hex.into(), now.into()],
    )?;
    c.query_one(
        "select secret from signing_key order by created, id limit 1",
        &[],
    )?
    .text(0)
}
