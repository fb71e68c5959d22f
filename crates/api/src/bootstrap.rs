//! Start-up preparation of a data store: the signing key, the tenant, the admin identity and the
//! admin's personal access token.

use crate::auth::jwt::Signer;
use crate::auth::secrets;
use gatehouse_domain::sealed::{SealKey, Secret};
use gatehouse_domain::Timestamp;
use gatehouse_store::pats::{self, Pat};
use gatehouse_store::tenants::{self, Identity, Tenant};
use gatehouse_store::{keys, Store, StoreError};

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
    /// The tenant.
    pub tenant: Tenant,
    /// The admin identity.
    pub admin: Identity,
    /// Credentials created now (shown once), when no admin PAT existed and none was configured.
    pub new_credentials: Option<(String, String)>,
}

/// Ensures the signing key, the tenant and the admin exist. With `admin_credentials`, ensures an
/// ORG_ADMIN PAT with exactly that id and secret; without, creates one on first start.
pub async fn prepare(
    store: &Store,
    master_key: &[u8],
    now: Timestamp,
    admin_credentials: Option<(String, String)>,
) -> Result<Prepared, StoreError> {
    let key_id = secrets::new_id();
    let seal = SealKey::derive(master_key, SIGNING_KEY_PURPOSE);
    let fresh = seal.seal(
        &Secret::new(secrets::hex(&secrets::random_bytes::<32>())),
        key_id.as_bytes(),
        secrets::random_bytes(),
    );
    let nonce = secrets::random_bytes();
    let (tenant_id, admin_id) = (secrets::new_id(), secrets::new_id());
    let configured = admin_credentials
        .map(|(id, secret)| (id, secrets::hash_secret(master_key, &secret), secret));
    let generated_secret = secrets::new_secret();
    let generated = (
        secrets::new_id(),
        secrets::hash_secret(master_key, &generated_secret),
    );
    let (key_hex, tenant, admin, created) = store
        .write(move |c| {
            let key_hex = signing_key(c, &seal, &key_id, &fresh, nonce, now)?;
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
            if let Some((id, hash, _)) = &configured {
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
            Ok((key_hex, tenant, admin, created.then_some(generated.0)))
        })
        .await?;
    let key = secrets::unhex(&key_hex)
        .ok_or_else(|| StoreError::Decode("the signing key is not hex".into()))?;
    let signer = Signer::new("gatehouse-1".into(), key);
    Ok(Prepared {
        signer,
        tenant,
        admin,
        new_credentials: created.map(|id| (id, generated_secret)),
    })
}

/// The purpose the signing key is sealed for (its own key derived from the master key).
pub const SIGNING_KEY_PURPOSE: &str = "token-signing-key";

/// The signing key in clear (hex), stored sealed with the master key under its id, so a copy of
/// the database (a backup, a dump) cannot sign tokens. A key stored in clear by an earlier
/// version is sealed in place here. A sealed key that does not open means the master key is not
/// the one the database was made with: the server refuses to start.
fn signing_key(
    c: &mut dyn gatehouse_store::Conn,
    seal: &SealKey,
    fresh_id: &str,
    fresh: &str,
    nonce: [u8; gatehouse_domain::sealed::NONCE_LEN],
    now: Timestamp,
) -> Result<String, StoreError> {
    let (id, stored) = keys::signing_key(c, fresh_id, fresh, now)?;
    if secrets::unhex(&stored).is_some() {
        keys::replace_secret(
            c,
            &id,
            &seal.seal(&Secret::new(stored.clone()), id.as_bytes(), nonce),
        )?;
        return Ok(stored);
    }
    seal.open(&stored, id.as_bytes())
        .map(|s| s.expose().to_owned())
        .map_err(|_| {
            StoreError::Decode(
                "the token-signing key in the database does not open with this master key: \
                 start with the master key the database was made with (GATEHOUSE_MASTER_KEY, or \
                 master.key in the data directory)"
                    .into(),
            )
        })
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
