//! The store conformance suite on embedded SQLite, plus SQLite-only checks (settings read back).

use gatehouse_store::{conformance, Store, StoreConfig, Synchronous};

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        StoreConfig::Sqlite {
            path: dir.path().join("gatehouse.db"),
            synchronous: Synchronous::Full,
        },
        0,
    )
    .await
    .unwrap();
    (dir, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_on_sqlite() {
    for check in conformance::CHECKS {
        let (_dir, store) = fresh().await;
        eprintln!("sqlite: {check}");
        conformance::run(check, &store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_settings_are_read_back_as_configured() {
    let (_dir, store) = fresh().await;
    let s = store.sqlite_settings().await.unwrap().unwrap();
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.synchronous, 2);
    assert_eq!(s.foreign_keys, 1);
    assert!(s.busy_timeout >= 5_000);
}

/// DUR-9 (docs/RELIABILITY.md): `synchronous` follows the configuration, the other settings do
/// not change with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_normal_is_read_back_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        StoreConfig::Sqlite {
            path: dir.path().join("gatehouse.db"),
            synchronous: Synchronous::Normal,
        },
        0,
    )
    .await
    .unwrap();
    let s = store.sqlite_settings().await.unwrap().unwrap();
    assert_eq!(s.synchronous, 1);
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.foreign_keys, 1);
    assert!(s.busy_timeout >= 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::Sqlite {
        path: dir.path().join("gatehouse.db"),
        synchronous: Synchronous::Normal,
    };
    let a = Store::open(config.clone(), 0).await.unwrap();
    drop(a);
    let b = Store::open(config, 1).await.unwrap();
    let (n, rerun, newest) = b
        .read(|c| {
            let r = c.query_one(
                "select count(*), sum(case when applied = 1 then 1 else 0 end), max(version) from schema_migration",
                &[],
            )?;
            Ok((r.int(0)?, r.opt_int(1)?.unwrap_or(0), r.int(2)?))
        })
        .await
        .unwrap();
    assert!(n >= 2, "{n} migrations recorded");
    assert_eq!(rerun, 0, "a migration ran again at the second open");
    assert_eq!(newest, gatehouse_store::latest_version());
}

/// SEC-5 (docs/RELIABILITY.md): the `Debug` of a store configuration shows no database password.
#[test]
fn a_database_password_is_not_in_the_debug_output() {
    for url in [
        "postgres://gatehouse:CANARY-pw-1@db.example:5432/gatehouse",
        "postgres://gatehouse:CANARY-pw-1@db.example",
        "postgres://db.example/gatehouse?user=g&password=CANARY-pw-1&sslmode=require",
        "host=db.example user=g password=CANARY-pw-1 dbname=gatehouse",
    ] {
        let config = StoreConfig::Postgres {
            url: url.into(),
            pool_size: 4,
        };
        for text in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!text.contains("CANARY"), "{text}");
            assert!(text.contains("db.example"), "{text}");
        }
    }
    assert_eq!(
        gatehouse_store::redact_url("postgres://postgres@127.0.0.1:5432/postgres"),
        "postgres://postgres@127.0.0.1:5432/postgres"
    );
}
