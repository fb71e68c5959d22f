//! Start-up preparation of a data store: the signing key, the tenant, the admin identity and the
//! admin's personal access token.

use crate::auth::jwt::Signer;
use crate::auth::secrets;
use gatehouse_domain::sealed::{Keyring, SealError, Sealer, Secret, NONCE_LEN};
use gatehouse_domain::Timestamp;
use gatehouse_store::pats::{self, Pat};
use gatehouse_store::tenants::{self, Identity, Tenant};
use gatehouse_store::{keys, Store, StoreError};
use zeroize::Zeroizing;

/// The admin's user name.
pub const ADMIN_NAME: &str = "admin";
/// The name of the admin PAT that start-up manages.
pub const ADMIN_PAT_NAME: &str = "gatehouse-admin";
/// The tenant name of a fresh data store.
pub const DEFAULT_TENANT: &str = "gatehouse";

/// What start-up found or made.
#[derive(Debug)]
pub struct Prepared {
    /// Signs and verifies tokens.
    pub signer: Signer,
    /// The master keys and the key secrets are hashed with.
    pub keys: ServerKeys,
    /// The tenant.
    pub tenant: Tenant,
    /// The admin identity.
    pub admin: Identity,
    /// Credentials created now (shown once), when no admin PAT existed and none was configured.
    pub new_credentials: Option<(String, String)>,
}

/// The keys a server works with: its master keys, and the key that client, token and webhook
/// secrets are hashed with, which is kept in the store sealed under the master key so that it
/// outlives a master key's rotation (docs/adr/0010). Cheap to clone.
#[derive(Clone)]
pub struct ServerKeys {
    /// The master keys: the primary seals, every key opens.
    pub ring: Keyring,
    /// The HMAC key of [`secrets::hash_secret`].
    pub hash_key: std::sync::Arc<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("ring", &self.ring)
            .field("hash_key", &"***")
            .finish()
    }
}

impl ServerKeys {
    /// The key secrets are hashed with.
    pub fn hash_key(&self) -> &[u8] {
        &self.hash_key
    }
}

/// Ensures the signing key, the secret-hash key, the tenant and the admin exist. With
/// `admin_credentials`, ensures an ORG_ADMIN PAT with exactly that id and secret; without, creates
/// one on first start.
pub async fn prepare(
    store: &Store,
    ring: &Keyring,
    now: Timestamp,
    admin_credentials: Option<(String, String)>,
) -> Result<Prepared, StoreError> {
    let key_id = secrets::new_id();
    let signing = ring.sealer(SIGNING_KEY_PURPOSE);
    let fresh = signing.seal(
        &Secret::new(secrets::hex(&secrets::random_bytes::<32>())),
        key_id.as_bytes(),
        secrets::random_bytes(),
    );
    let hashing = ring.sealer(SECRET_HASH_KEY);
    let nonces: [[u8; NONCE_LEN]; 2] = [secrets::random_bytes(), secrets::random_bytes()];
    let fresh_hash_key = secrets::random_bytes::<32>();
    let (tenant_id, admin_id) = (secrets::new_id(), secrets::new_id());
    let generated_secret = secrets::new_secret();
    let generated_id = secrets::new_id();
    let generated = generated_secret.clone();
    let legacy_ring = ring.clone();
    let (key_hex, hash_key, tenant, admin, created) = store
        .write(move |c| {
            let (key_hex, opened_by) = signing_key(c, &signing, &key_id, &fresh, nonces[0], now)?;
            // A database from before the hash key was stored hashed its secrets with the master
            // key itself: the one that opens its signing key.
            let hash_key = match opened_by {
                Some(by) if keys::sealed_keys(c)?.is_empty() => {
                    legacy_ring.keys()[by].bytes().to_vec()
                }
                _ => fresh_hash_key.to_vec(),
            };
            let hash_key = secret_hash_key(c, &hashing, &hash_key, nonces[1], now)?;
            let configured = admin_credentials
                .map(|(id, secret)| (id, secrets::hash_secret(&hash_key, &secret)));
            let generated = (generated_id, secrets::hash_secret(&hash_key, &generated));
            let tenant = tenants::ensure_default(c, &tenant_id, DEFAULT_TENANT, now)?;
            let admin = match tenants::identity_by_name(c, &tenant.id, ADMIN_NAME)? {
                Some(a) => a,
                None => {
                    let a = Identity {
                        id: admin_id,
                        tenant_id: tenant.id.clone(),
                        name: ADMIN_NAME.into(),
                        display_name: Some("Gatehouse Administrator".into()),
                        email: None,
                        authorities: vec!["ORG_ADMIN".into()],
                        created: now,
                        modified: now,
                    };
                    tenants::insert_identity(c, &a)?;
                    a
                }
            };
            let pat = |id: String, hash: String| Pat {
                id,
                tenant_id: tenant.id.clone(),
                owner_id: admin.id.clone(),
                name: ADMIN_PAT_NAME.into(),
                secret_hash: hash,
                scope: Some(vec!["sp:scopes:all".into()]),
                access_token_validity_seconds: 43_200,
                expiration_date: None,
                never_expires: true,
                managed: true,
                created: now,
                last_used: None,
            };
            let mut created = false;
            if let Some((id, hash)) = &configured {
                match pats::find(c, id)? {
                    Some(existing)
                        if existing.secret_hash == *hash && existing.owner_id == admin.id => {}
                    Some(existing) => {
                        pats::delete(c, &existing.tenant_id, &existing.id)?;
                        insert_replacing_name(c, &pat(id.clone(), hash.clone()))?;
                    }
                    None => insert_replacing_name(c, &pat(id.clone(), hash.clone()))?,
                }
            } else if pats::list(c, &tenant.id, Some(&admin.id), None)?.is_empty() {
                pats::insert(c, &pat(generated.0.clone(), generated.1.clone()))?;
                created = true;
            }
            Ok((
                key_hex,
                hash_key,
                tenant,
                admin,
                created.then_some(generated.0),
            ))
        })
        .await?;
    let key = secrets::unhex(&key_hex)
        .ok_or_else(|| StoreError::Decode("the signing key is not hex".into()))?;
    let signer = Signer::new("gatehouse-1".into(), key);
    Ok(Prepared {
        signer,
        keys: ServerKeys {
            ring: ring.clone(),
            hash_key: std::sync::Arc::new(hash_key),
        },
        tenant,
        admin,
        new_credentials: created.map(|id| (id, generated_secret)),
    })
}

/// The purpose the signing key is sealed for (its own key derived from the master key).
pub const SIGNING_KEY_PURPOSE: &str = "token-signing-key";
/// The name (and sealing purpose and context) of the key secrets are hashed with.
pub const SECRET_HASH_KEY: &str = "secret-hash-key";

/// What a stored value that does not open says about the master keys.
fn unopened(what: &str, e: &SealError) -> StoreError {
    StoreError::Decode(match e {
        SealError::UnknownKey(id) => format!(
            "{what} in the database is sealed under master key {id}, which this server was not \
             given: start with that master key (GATEHOUSE_MASTER_KEY, or master.key in the data \
             directory), or name it in GATEHOUSE_RETIRED_MASTER_KEYS while keys are rotated"
        ),
        _ => format!(
            "{what} in the database does not open with this server's master keys: start with \
             the master key the database was made with (GATEHOUSE_MASTER_KEY, or master.key in \
             the data directory)"
        ),
    })
}

/// The signing key in clear (hex), stored sealed with the master key under its id, so a copy of
/// the database (a backup, a dump) cannot sign tokens, and which key of the ring opened it (`None`
/// when it was made now). A key stored in clear by an earlier version is sealed in place here. A
/// sealed key that does not open means the master key is not the one the database was made
/// with: the server refuses to start.
fn signing_key(
    c: &mut dyn gatehouse_store::Conn,
    seal: &Sealer,
    fresh_id: &str,
    fresh: &str,
    nonce: [u8; NONCE_LEN],
    now: Timestamp,
) -> Result<(String, Option<usize>), StoreError> {
    let (id, stored) = keys::signing_key(c, fresh_id, fresh, now)?;
    if secrets::unhex(&stored).is_some() {
        let sealed = seal.seal(&Secret::new(stored.clone()), id.as_bytes(), nonce);
        keys::replace_secret(c, &id, &stored, &sealed)?;
        return Ok((stored, Some(0)));
    }
    let (key, by) = seal
        .open_with(&stored, id.as_bytes())
        .map_err(|e| unopened("the token-signing key", &e))?;
    Ok((key.expose().to_owned(), (id != fresh_id).then_some(by)))
}

/// The key secrets are hashed with: the stored one, or `fresh` (stored now, sealed) when there is
/// none.
fn secret_hash_key(
    c: &mut dyn gatehouse_store::Conn,
    seal: &Sealer,
    fresh: &[u8],
    nonce: [u8; NONCE_LEN],
    now: Timestamp,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let context = SECRET_HASH_KEY.as_bytes();
    let sealed = seal.seal(&Secret::new(secrets::hex(fresh)), context, nonce);
    let stored = keys::sealed_key(c, SECRET_HASH_KEY, &sealed, now)?;
    let hex = seal
        .open(&stored, context)
        .map_err(|e| unopened("the secret-hash key", &e))?;
    secrets::unhex(hex.expose())
        .map(Zeroizing::new)
        .ok_or_else(|| StoreError::Decode("the secret-hash key is not hex".into()))
}
/// Inserts the managed admin PAT, replacing an older one of the same name.
fn insert_replacing_name(c: &mut dyn gatehouse_store::Conn, p: &Pat) -> Result<(), StoreError> {
    for old in pats::list(c, &p.tenant_id, Some(&p.owner_id), None)? {
        if old.name == p.name {
            pats::delete(c, &old.tenant_id, &old.id)?;
        }
    }
    pats::insert(c, p)
}
