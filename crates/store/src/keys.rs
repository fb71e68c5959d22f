//! Server-wide keys kept in the store so every replica signs, verifies and hashes alike: the
//! token-signing key and the named sealed keys (the secret-hash key). Both are stored sealed by
//! the caller under the master key; the functions here also serve `gatehouse rekey`, which seals
//! them again under a new master key with a compare-and-set per row.

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

/// Every signing key: (id, stored secret).
pub fn signing_keys(c: &mut dyn Conn) -> Result<Vec<(String, String)>, StoreError> {
    c.query("select id, secret from signing_key order by id", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect()
}

/// Replaces the stored secret of signing key `id` when it is still `old`; false when it is not.
pub fn replace_secret(
    c: &mut dyn Conn,
    id: &str,
    old: &str,
    new: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update signing_key set secret = $3 where id = $1 and secret = $2",
        &[id.into(), old.into(), new.into()],
    )? == 1)
}

/// The sealed key `name`; stores `fresh` first when there is none (the first writer wins, so
/// replicas starting together agree).
pub fn sealed_key(
    c: &mut dyn Conn,
    name: &str,
    fresh: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    c.execute(
        "insert into sealed_key (name, sealed, created)
         select $1, $2, $3 where not exists (select 1 from sealed_key where name = $1)",
        &[name.into(), fresh.into(), now.into()],
    )?;
    c.query_one(
        "select sealed from sealed_key where name = $1",
        &[name.into()],
    )?
    .text(0)
}

/// Every sealed key: (name, sealed).
pub fn sealed_keys(c: &mut dyn Conn) -> Result<Vec<(String, String)>, StoreError> {
    c.query("select name, sealed from sealed_key order by name", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect()
}

/// Replaces sealed key `name` when it is still `old`; false when it is not.
pub fn replace_sealed_key(
    c: &mut dyn Conn,
    name: &str,
    old: &str,
    new: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update sealed_key set sealed = $3 where name = $1 and sealed = $2",
        &[name.into(), old.into(), new.into()],
    )? == 1)
}
