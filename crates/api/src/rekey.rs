//! Master-key rotation: every value stored sealed under a master key (the token-signing keys,
//! the secret-hash key, service-desk credentials) sealed again under the ring's primary key.
//!
//! The rotation (docs/adr/0010, README "Rotating the master key"): start every replica with the
//! new key as primary and the old one retired, so new values are sealed under the new key at
//! once and old ones still open; run `gatehouse rekey` with the same keys; start without the old
//! key. `rekey` works in batches, one transaction each, and writes a value only where it still
//! holds what was read, so it may run beside live replicas and may be stopped at any point (even
//! by `kill -9`) and run again: every value is under one key of the ring at every moment.

use crate::auth::secrets;
use crate::bootstrap::{SECRET_HASH_KEY, SIGNING_KEY_PURPOSE};
use gatehouse_desk::failpoint;
use gatehouse_domain::sealed::{KeyUse, Keyring, Sealer};
use gatehouse_domain::service_desk::{seal_context, SEAL_PURPOSE};
use gatehouse_store::service_desk::{self, SealedCredentials};
use gatehouse_store::{keys, Conn, Store, StoreError};
use std::collections::BTreeMap;

/// What a survey or a rekey found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyReport {
    /// Values sealed again under the primary key by this run.
    pub resealed: usize,
    /// Values under the primary key already.
    pub current: usize,
    /// Values that open, under a retired key (or sealed before keys had ids).
    pub stale: usize,
    /// Where a value opens under no key of the ring (left as it is).
    pub unreadable: Vec<String>,
}

impl KeyReport {
    fn add(&mut self, other: KeyReport) {
        self.resealed += other.resealed;
        self.current += other.current;
        self.stale += other.stale;
        self.unreadable.extend(other.unreadable);
    }
}

/// The sealers of every purpose, for one ring.
struct Sealers {
    signing: Sealer,
    hashing: Sealer,
    credentials: Sealer,
}

impl Sealers {
    fn new(ring: &Keyring) -> Self {
        Self {
            signing: ring.sealer(SIGNING_KEY_PURPOSE),
            hashing: ring.sealer(SECRET_HASH_KEY),
            credentials: ring.sealer(SEAL_PURPOSE),
        }
    }
}

/// One value: judged, and when `reseal` and stale, sealed again under the primary key.
fn judge(
    seal: &Sealer,
    stored: &str,
    context: &[u8],
    place: impl FnOnce() -> String,
    reseal: bool,
    report: &mut KeyReport,
) -> Option<String> {
    match seal.open(stored, context) {
        Err(_) => {
            report.unreadable.push(place());
            None
        }
        Ok(_) if seal.key_use(stored) == KeyUse::Current => {
            report.current += 1;
            None
        }
        Ok(secret) if reseal => {
            report.resealed += 1;
            Some(seal.seal(&secret, context, secrets::random_bytes()))
        }
        Ok(_) => {
            report.stale += 1;
            None
        }
    }
}

/// The signing keys and the sealed keys (a handful of rows, one transaction).
fn server_keys(c: &mut dyn Conn, s: &Sealers, reseal: bool) -> Result<KeyReport, StoreError> {
    let mut report = KeyReport::default();
    for (id, stored) in keys::signing_keys(c)? {
        if secrets::unhex(&stored).is_some() {
            // Stored in clear by an earlier version; sealed at the next start.
            report.stale += 1;
            continue;
        }
        let place = || format!("token-signing key {id}");
        if let Some(new) = judge(
            &s.signing,
            &stored,
            id.as_bytes(),
            place,
            reseal,
            &mut report,
        ) {
            keys::replace_secret(c, &id, &stored, &new)?;
        }
    }
    for (name, stored) in keys::sealed_keys(c)? {
        let place = || format!("sealed key {name}");
        if let Some(new) = judge(
            &s.hashing,
            &stored,
            name.as_bytes(),
            place,
            reseal,
            &mut report,
        ) {
            keys::replace_sealed_key(c, &name, &stored, &new)?;
        }
    }
    Ok(report)
}

/// One batch of integrations' credentials; the last id read, or `None` at the end.
fn credentials(
    c: &mut dyn Conn,
    s: &Sealers,
    after: &str,
    batch: i64,
    reseal: bool,
) -> Result<(KeyReport, Option<String>), StoreError> {
    let mut report = KeyReport::default();
    let rows = service_desk::sealed_credentials(c, after, batch)?;
    for SealedCredentials {
        tenant_id,
        id,
        stored,
    } in &rows
    {
        let mut values: BTreeMap<String, String> = serde_json::from_str(stored)?;
        let mut changed = false;
        for (pointer, sealed) in &mut values {
            let context = seal_context(tenant_id, id, pointer);
            let place = || format!("service-desk integration {id}, credential {pointer}");
            if let Some(new) = judge(&s.credentials, sealed, &context, place, reseal, &mut report) {
                *sealed = new;
                changed = true;
            }
        }
        if changed {
            let new = serde_json::to_string(&values)?;
            service_desk::replace_credentials(c, tenant_id, id, stored, &new)?;
        }
    }
    if reseal && report.resealed > 0 {
        failpoint::hit(failpoint::REKEY_SEALED);
    }
    let last = (rows.len() as i64 == batch)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok((report, last))
}

/// Counts the stored sealed values by key, and names those no key of `ring` opens. Reads only.
pub async fn survey(store: &Store, ring: &Keyring) -> Result<KeyReport, StoreError> {
    run(store, ring, 500, false).await
}

/// Seals every stored value that opens under a retired key (or has no key id) again under the
/// primary key, `batch` integrations per transaction. Values no key opens are named and left.
pub async fn rekey(store: &Store, ring: &Keyring, batch: usize) -> Result<KeyReport, StoreError> {
    run(
        store,
        ring,
        i64::try_from(batch.max(1)).unwrap_or(i64::MAX),
        true,
    )
    .await
}

async fn run(
    store: &Store,
    ring: &Keyring,
    batch: i64,
    reseal: bool,
) -> Result<KeyReport, StoreError> {
    let sealers = std::sync::Arc::new(Sealers::new(ring));
    let s = sealers.clone();
    let mut report = if reseal {
        store.write(move |c| server_keys(c, &s, true)).await?
    } else {
        store.read(move |c| server_keys(c, &s, false)).await?
    };
    let mut after = String::new();
    loop {
        let (s, from) = (sealers.clone(), after.clone());
        let (part, next) = if reseal {
            store
                .write(move |c| credentials(c, &s, &from, batch, true))
                .await?
        } else {
            store
                .read(move |c| credentials(c, &s, &from, batch, false))
                .await?
        };
        if part.resealed > 0 {
            failpoint::hit(failpoint::REKEY_COMMITTED);
        }
        report.add(part);
        match next {
            Some(id) => after = id,
            None => return Ok(report),
        }
    }
}
