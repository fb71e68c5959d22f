//! The master keys: read from the options (or the data directory's master.key, created on first
//! start), checked against what the store holds, and `gatehouse rekey`.

use crate::config::{KeyArgs, RekeyArgs};
use anyhow::{bail, Context};
use gatehouse_api::auth::secrets;
use gatehouse_api::rekey::{self, KeyReport};
use gatehouse_domain::sealed::{Keyring, MasterKey};
use gatehouse_store::Store;
use std::path::Path;

/// The ring: the primary key (given, or the data directory's master.key) and the retired keys.
pub(crate) fn keyring(args: &KeyArgs, data_dir: &Path) -> anyhow::Result<Keyring> {
    let primary = master_key(args.master_key.as_deref(), data_dir)?;
    let retired = args
        .retired_master_keys
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| hex_key(k, "GATEHOUSE_RETIRED_MASTER_KEYS").map(MasterKey::new))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Keyring::new(MasterKey::new(primary), retired))
}

fn hex_key(text: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    let key = secrets::unhex(text.trim()).with_context(|| format!("{what} must be hex"))?;
    if key.len() < 32 {
        bail!("{what} must hold keys of at least 32 bytes (64 hex characters)");
    }
    Ok(key)
}

/// The master key: given in hex, or read from (or created in) `data_dir/master.key`.
fn master_key(given: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(hex) = given {
        return hex_key(hex, "GATEHOUSE_MASTER_KEY");
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("master.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return secrets::unhex(text.trim())
            .with_context(|| format!("{} is not hex", path.display()));
    }
    let key = secrets::random_bytes::<32>();
    write_private(&path, &secrets::hex(&key))?;
    Ok(key.to_vec())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Refuses to serve when a stored secret opens under no key of the ring (a retired key dropped
/// too early), and says when values still wait for `gatehouse rekey`.
pub(crate) async fn check_stored(store: &Store, ring: &Keyring) -> anyhow::Result<()> {
    let report = rekey::survey(store, ring)
        .await
        .context("cannot read the stored secrets")?;
    if !report.unreadable.is_empty() {
        bail!(
            "{} stored secret(s) open under none of the master keys given ({}{}): start with the \
             master key they were sealed under, as --master-key or in --retired-master-keys",
            report.unreadable.len(),
            report.unreadable[..report.unreadable.len().min(5)].join("; "),
            if report.unreadable.len() > 5 {
                "; …"
            } else {
                ""
            },
        );
    }
    if report.stale > 0 {
        tracing::warn!(
            stale = report.stale,
            primary = ring.primary().id(),
            "stored secrets are sealed under a retired master key: run `gatehouse rekey`, then \
             drop the retired keys"
        );
    } else if ring.keys().len() > 1 {
        tracing::info!(
            primary = ring.primary().id(),
            "every stored secret is sealed under the primary master key: the retired keys can be dropped"
        );
    }
    Ok(())
}

/// `gatehouse rekey`.
pub async fn rekey(args: RekeyArgs) -> anyhow::Result<()> {
    let ring = keyring(&args.keys, &args.store.data_dir)?;
    let store = crate::serve::open(&args.store).await?;
    let done = rekey::rekey(&store, &ring, args.batch)
        .await
        .context("cannot seal the stored secrets again")?;
    let KeyReport {
        resealed,
        current,
        unreadable,
        ..
    } = &done;
    println!(
        "sealed {resealed} stored secret(s) again under master key {}; {current} already were",
        ring.primary().id()
    );
    if !unreadable.is_empty() {
        bail!(
            "{} stored secret(s) open under none of the keys given, left as they are: {}",
            unreadable.len(),
            unreadable.join("; ")
        );
    }
    let retired: Vec<&str> = ring.keys()[1..].iter().map(MasterKey::id).collect();
    if retired.is_empty() {
        println!(
            "every stored secret is under master key {}",
            ring.primary().id()
        );
    } else {
        println!(
            "no stored secret is under a retired key any more: the retired key(s) {} can be dropped",
            retired.join(", ")
        );
    }
    Ok(())
}
