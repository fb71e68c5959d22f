//! SEC-4 (docs/RELIABILITY.md): rotating the master key with the real binary. K1 made the
//! database; every replica is started with K2 as primary and K1 retired; `gatehouse rekey` seals
//! every stored secret again under K2 and is killed (abort, no unwinding) after each batch it
//! commits and once before a commit; then the server starts with K2 alone. At every step every
//! stored secret opens under the keys the servers of that step are given, new secrets are
//! sealed under K2 at once, and tokens and personal access tokens made under K1 keep working.

mod common;

use common::*;
use gatehouse_desk::failpoint;
use gatehouse_domain::sealed::{Keyring, MasterKey};
use gatehouse_domain::service_desk::{seal_context, SEAL_PURPOSE};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const K1: &str = MASTER_KEY;
const K2: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";
/// Integrations with credentials made under K1.
const INTEGRATIONS: usize = 30;
/// Credentials sealed per integration (password and client secret).
const PER: usize = 2;
/// Integrations `rekey` seals again per transaction.
const BATCH: usize = 7;

fn key(hex: &str) -> MasterKey {
    MasterKey::new(gatehouse_api::auth::secrets::unhex(hex).unwrap())
}

/// Every stored sealed value: (where, context, sealed). Read with the server stopped.
fn stored_values(data: &Path) -> Vec<(String, Vec<u8>, String, &'static str)> {
    let db = rusqlite::Connection::open_with_flags(
        data.join("gatehouse.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut out = Vec::new();
    let mut q = db.prepare("select id, secret from signing_key").unwrap();
    for r in q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (id, sealed) = r.unwrap();
        out.push((
            format!("signing key {id}"),
            id.into_bytes(),
            sealed,
            "token-signing-key",
        ));
    }
    let mut q = db.prepare("select name, sealed from sealed_key").unwrap();
    for r in q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (name, sealed) = r.unwrap();
        out.push((
            format!("sealed key {name}"),
            name.into_bytes(),
            sealed,
            "secret-hash-key",
        ));
    }
    let mut q = db
        .prepare("select tenant_id, id, secrets from service_desk_integration")
        .unwrap();
    for r in q
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
    {
        let (tenant, id, secrets) = r.unwrap();
        let values: BTreeMap<String, String> = serde_json::from_str(&secrets).unwrap();
        for (pointer, sealed) in values {
            out.push((
                format!("integration {id} {pointer}"),
                seal_context(&tenant, &id, &pointer),
                sealed,
                SEAL_PURPOSE,
            ));
        }
    }
    out
}

/// How many stored values are under each key id; panics on one that `ring` does not open.
fn by_key(data: &Path, ring: &Keyring) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (place, context, sealed, purpose) in stored_values(data) {
        let (_, at) = ring
            .sealer(purpose)
            .open_with(&sealed, &context)
            .unwrap_or_else(|e| panic!("{place} does not open: {e}"));
        *counts.entry(ring.keys()[at].id().to_owned()).or_insert(0) += 1;
    }
    counts
}

fn rekey(data: &Path, point: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    cmd.args(["rekey", "--batch", &BATCH.to_string(), "--data-dir"])
        .arg(data)
        .args(["--master-key", K2, "--retired-master-keys", K1])
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("GATEHOUSE_MASTER_KEY")
        .env_remove(failpoint::ENV);
    if let Some(p) = point {
        cmd.env(failpoint::ENV, p);
    }
    cmd.output().unwrap()
}

fn aborted(out: &Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(6)
}

/// A launch with `args` whose stderr goes to `log`.
fn launch(data: &Path, listen: &str, log: &Path, args: &[&str]) -> Launch {
    let mut l = Launch::new(data, listen);
    l.args = args.iter().map(|s| (*s).to_owned()).collect();
    l.log_file = Some(log.to_owned());
    l
}

async fn create_integration(http: &reqwest::Client, base: &str, token: &str, n: usize) -> String {
    let r = http
        .post(format!("{base}/v3/service-desk-integrations"))
        .bearer_auth(token)
        .json(&json!({
            "name": format!("desk {n}"), "description": "rotation", "type": "ServiceNowSDIM",
            "ownerRef": {"type": "IDENTITY", "id": identity(0)},
            "clusterRef": {"type": "CLUSTER", "id": CLUSTER},
            "attributes": {"url": "http://127.0.0.1:9", "authType": "oauth2_password",
                "username": "svc", "password": format!("pw-{n}"),
                "clientId": "client", "clientSecret": format!("cs-{n}")}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// Whether the token endpoint grants a token to `id` / `secret`.
async fn grants(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> bool {
    token_response(http, base, id, secret).await.status() == 200
}

#[tokio::test]
async fn the_master_key_rotates_with_every_secret_readable_at_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    import_tenant(dir.path(), &data, None, 1, 1);
    let listen = free_listen_address();
    let base = format!("http://{listen}");
    // No kept connections: the servers of the steps come and go on one port.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let (k1, k2) = (key(K1), key(K2));
    let k1_only = Keyring::new(key(K1), Vec::new());
    let rotating = Keyring::new(key(K2), vec![key(K1)]);
    let k2_only = Keyring::new(key(K2), Vec::new());

    // K1 made the database: credentials of 30 integrations and a personal access token.
    let mut server = launch(&data, &listen, &log, &[]).start_until_up();
    let token = client_token(&http, &base, ADMIN_ID, ADMIN_SECRET).await;
    for n in 0..INTEGRATIONS {
        create_integration(&http, &base, &token, n).await;
    }
    let pat: Value = http
        .post(format!("{base}/v3/personal-access-tokens"))
        .bearer_auth(&token)
        .json(&json!({"name": "made under K1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (pat_id, pat_secret) = (
        pat["id"].as_str().unwrap().to_owned(),
        pat["secret"].as_str().unwrap().to_owned(),
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let values = INTEGRATIONS * PER + 2;
    assert_eq!(
        by_key(&data, &k1_only),
        BTreeMap::from([(k1.id().to_owned(), values)])
    );

    // Step 1: K2 primary, K1 retired. Old secrets open, new ones are sealed under K2 at once.
    let rotation_args = ["--master-key", K2, "--retired-master-keys", K1];
    let mut server = launch(&data, &listen, &log, &rotation_args).start_until_up();
    let token = client_token(&http, &base, ADMIN_ID, ADMIN_SECRET).await;
    assert!(
        grants(&http, &base, &pat_id, &pat_secret).await,
        "the PAT made under K1"
    );
    create_integration(&http, &base, &token, INTEGRATIONS).await;
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(
        by_key(&data, &rotating),
        BTreeMap::from([(k1.id().to_owned(), values), (k2.id().to_owned(), PER)]),
        "the new integration's credentials under K2, the rest still under K1"
    );

    // K2 alone before the rekey: the server refuses to start and says why.
    let refused = launch(&data, &listen, &log, &["--master-key", K2]).start();
    assert!(refused.is_none(), "served with secrets it cannot open");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains(&format!(
            "token-signing key in the database is sealed under master key {}",
            k1.id()
        )),
        "{said}"
    );

    // The rekey killed before its first batch of credentials commits: only the server's two
    // keys (signing, secret-hash), sealed again in a transaction of their own, moved.
    let out = rekey(&data, Some(failpoint::REKEY_SEALED));
    assert!(aborted(&out), "{out:?}");
    assert_eq!(
        by_key(&data, &rotating),
        BTreeMap::from([
            (k1.id().to_owned(), values - 2),
            (k2.id().to_owned(), PER + 2)
        ]),
        "a batch killed before its commit"
    );

    // Killed after each batch it commits, and run again: every value opens at every step, and
    // each run moves at most one batch of integrations (the first also the server's 2 keys).
    let mut under_k1 = values - 2;
    let mut runs = 0;
    loop {
        let out = rekey(&data, Some(failpoint::REKEY_COMMITTED));
        runs += 1;
        let now = by_key(&data, &rotating);
        let left = now.get(k1.id()).copied().unwrap_or(0);
        if out.status.success() {
            assert_eq!(left, 0, "{now:?}");
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(said.contains("can be dropped"), "{said}");
            break;
        }
        assert!(aborted(&out), "{out:?}");
        if runs == 1 {
            // The server's keys are under K2, not yet every credential: K2 alone still
            // refuses to start, naming what it cannot open.
            std::fs::write(&log, "").unwrap();
            let refused = launch(&data, &listen, &log, &["--master-key", K2]).start();
            assert!(refused.is_none(), "served with secrets it cannot open");
            let said = std::fs::read_to_string(&log).unwrap();
            assert!(
                said.contains("open under none of the master keys given (service-desk integration"),
                "{said}"
            );
        }
        let moved = under_k1 - left;
        assert!(
            moved > 0 && moved <= BATCH * PER,
            "moved {moved} in one run"
        );
        under_k1 = left;
        assert!(runs < 20, "the rekey does not converge");
    }
    assert_eq!(
        runs,
        INTEGRATIONS.div_ceil(BATCH) + 1,
        "one batch per run, then a clean run"
    );
    assert_eq!(
        by_key(&data, &k2_only),
        BTreeMap::from([(k2.id().to_owned(), values + PER)])
    );

    // Step 3: K2 alone. Tokens and the PAT made under K1 still work; K1 alone no longer starts.
    let mut server = launch(&data, &listen, &log, &["--master-key", K2]).start_until_up();
    assert!(grants(&http, &base, ADMIN_ID, ADMIN_SECRET).await);
    assert!(
        grants(&http, &base, &pat_id, &pat_secret).await,
        "the PAT made under K1"
    );
    assert!(!grants(&http, &base, &pat_id, "not-the-secret").await);
    server.kill().unwrap();
    server.wait().unwrap();
    std::fs::write(&log, "").unwrap();
    let refused = launch(&data, &listen, &log, &["--master-key", K1]).start();
    assert!(
        refused.is_none(),
        "served with a key the database no longer holds"
    );
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains(&format!("sealed under master key {}", k2.id())),
        "{said}"
    );
    assert!(
        !said.contains(K1) && !said.contains(K2),
        "no key in the message"
    );
}
