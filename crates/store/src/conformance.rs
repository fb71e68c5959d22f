//! The store conformance suite: one set of checks, run against every backend.
//!
//! Each check takes a freshly migrated, empty [`Store`] and panics on a violation. The SQLite
//! tests (`tests/sqlite.rs`) and the PostgreSQL tests (`tests/postgres.rs`) run every check; a new
//! store behaviour gets a check here, never in one backend's tests only.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

#[path = "conformance_tenant.rs"]
mod tenant_checks;

use crate::jobs::{self, JobState, NewJob, Retry};
use crate::{oauth_clients, pats, settings, tenants, Store, StoreError};
use gatehouse_domain::Timestamp;

const T0: Timestamp = Timestamp(1_700_000_000_000);

/// Every check's name and body, for the backends' test files to iterate over.
pub const CHECKS: &[&str] = &[
    "write_is_visible_after_commit",
    "failed_write_rolls_back_alone",
    "unique_violation_is_conflict",
    "foreign_key_violation_is_constraint",
    "job_commits_with_its_write",
    "job_unique_key_deduplicates",
    "job_lease_is_exclusive_and_expires",
    "job_stale_worker_is_fenced",
    "job_retries_then_discards",
    "job_concurrent_claims_never_share",
    "filters_compile_to_working_sql",
    "oauth_client_and_pat_round_trip",
    "settings_upsert",
    "every_table_is_classified",
    "demo_imports_and_reimports_unchanged",
    "good_file_imports_once",
    "bad_file_changes_nothing_and_names_every_row",
    "export_import_round_trips",
    "csv_forms_import_and_export",
    "reset_empties_every_table_but_keeps_the_admin",
    "snapshot_restore_gives_back_the_snapshot",
    "restore_keeps_the_callers_access",
];

/// Runs check `name` against `store`.
pub async fn run(name: &str, store: &Store) {
    match name {
        "write_is_visible_after_commit" => write_is_visible_after_commit(store).await,
        "failed_write_rolls_back_alone" => failed_write_rolls_back_alone(store).await,
        "unique_violation_is_conflict" => unique_violation_is_conflict(store).await,
        "foreign_key_violation_is_constraint" => foreign_key_violation_is_constraint(store).await,
        "job_commits_with_its_write" => job_commits_with_its_write(store).await,
        "job_unique_key_deduplicates" => job_unique_key_deduplicates(store).await,
        "job_lease_is_exclusive_and_expires" => job_lease_is_exclusive_and_expires(store).await,
        "job_stale_worker_is_fenced" => job_stale_worker_is_fenced(store).await,
        "job_retries_then_discards" => job_retries_then_discards(store).await,
        "job_concurrent_claims_never_share" => job_concurrent_claims_never_share(store).await,
        "filters_compile_to_working_sql" => filters_compile_to_working_sql(store).await,
        "oauth_client_and_pat_round_trip" => oauth_client_and_pat_round_trip(store).await,
        "settings_upsert" => settings_upsert(store).await,
        "every_table_is_classified" => tenant_checks::every_table_is_classified(store).await,
        "demo_imports_and_reimports_unchanged" => {
            tenant_checks::demo_imports_and_reimports_unchanged(store).await;
        }
        "good_file_imports_once" => tenant_checks::good_file_imports_once(store).await,
        "bad_file_changes_nothing_and_names_every_row" => {
            tenant_checks::bad_file_changes_nothing_and_names_every_row(store).await;
        }
        "export_import_round_trips" => tenant_checks::export_import_round_trips(store).await,
        "csv_forms_import_and_export" => tenant_checks::csv_forms_import_and_export(store).await,
        "reset_empties_every_table_but_keeps_the_admin" => {
            tenant_checks::reset_empties_every_table_but_keeps_the_admin(store).await;
        }
        "snapshot_restore_gives_back_the_snapshot" => {
            tenant_checks::snapshot_restore_gives_back_the_snapshot(store).await;
        }
        "restore_keeps_the_callers_access" => {
            tenant_checks::restore_keeps_the_callers_access(store).await;
        }
        other => panic!("no conformance check named {other}"),
    }
}

async fn tenant(store: &Store, id: &str) {
    let id = id.to_owned();
    store
        .write(move |c| tenants::ensure_default(c, &id, "acme", T0).map(|_| ()))
        .await
        .unwrap();
}

fn job(kind: &str, key: Option<&str>) -> NewJob {
    NewJob {
        tenant_id: None,
        kind: kind.into(),
        args: serde_json::json!({"n": 1}),
        max_attempts: 3,
        run_at: T0,
        unique_key: key.map(str::to_owned),
    }
}

async fn write_is_visible_after_commit(store: &Store) {
    tenant(store, "t1").await;
    let got = store
        .read(|c| tenants::get(c, "t1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.name, "acme");
    assert_eq!(got.created, T0);
}

async fn failed_write_rolls_back_alone(store: &Store) {
    tenant(store, "t1").await;
    let ok = store.write(|c| settings::put(c, "t1", "a", &serde_json::json!(1), T0));
    let bad = store.write(|c| {
        settings::put(c, "t1", "b", &serde_json::json!(2), T0)?;
        Err::<(), _>(StoreError::Constraint("refused on purpose".into()))
    });
    let ok2 = store.write(|c| settings::put(c, "t1", "c", &serde_json::json!(3), T0));
    let (a, b, c) = tokio::join!(ok, bad, ok2);
    a.unwrap();
    assert!(b.is_err());
    c.unwrap();
    let names = store
        .read(|c| {
            Ok((
                settings::get(c, "t1", "a")?,
                settings::get(c, "t1", "b")?,
                settings::get(c, "t1", "c")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        names,
        (Some(serde_json::json!(1)), None, Some(serde_json::json!(3)))
    );
}

async fn unique_violation_is_conflict(store: &Store) {
    tenant(store, "t1").await;
    let err = store
        .write(|c| {
            c.execute(
                "insert into tenant (id, name, created) values ('t2', 'acme', 0)",
                &[],
            )
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn foreign_key_violation_is_constraint(store: &Store) {
    let err = store
        .write(|c| settings::put(c, "no-such-tenant", "a", &serde_json::json!(1), T0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
}

async fn job_commits_with_its_write(store: &Store) {
    tenant(store, "t1").await;
    let failed = store
        .write(|c| {
            jobs::enqueue(c, &job("k", None), T0)?;
            Err::<(), _>(StoreError::Constraint("the causing write failed".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(store.read(jobs::count_unfinished).await.unwrap(), 0);
    let id = store
        .write(|c| jobs::enqueue(c, &job("k", None), T0))
        .await
        .unwrap();
    assert!(id.is_some());
    assert_eq!(store.read(jobs::count_unfinished).await.unwrap(), 1);
}

async fn job_unique_key_deduplicates(store: &Store) {
    let a = store
        .write(|c| jobs::enqueue(c, &job("k", Some("u1")), T0))
        .await
        .unwrap();
    let b = store
        .write(|c| jobs::enqueue(c, &job("k", Some("u1")), T0))
        .await
        .unwrap();
    assert!(a.is_some());
    assert_eq!(b, None);
    assert_eq!(store.read(jobs::count_unfinished).await.unwrap(), 1);
}

async fn job_lease_is_exclusive_and_expires(store: &Store) {
    let mut later = job("k", None);
    later.run_at = T0.plus_seconds(60);
    store
        .write(|c| jobs::enqueue(c, &job("k", None), T0))
        .await
        .unwrap();
    store
        .write(move |c| jobs::enqueue(c, &later, T0))
        .await
        .unwrap();
    let first = store
        .write(|c| jobs::claim(c, "w1", &["k"], T0, 30_000, 10))
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "only the due job is claimed");
    assert_eq!(first[0].attempt, 1);
    assert_eq!(first[0].state, JobState::Running);
    let none = store
        .write(|c| jobs::claim(c, "w2", &["k"], T0.plus_seconds(1), 30_000, 10))
        .await
        .unwrap();
    assert!(none.is_empty(), "a leased job is not claimed again");
    let other_kind = store
        .write(|c| jobs::claim(c, "w2", &["x"], T0.plus_seconds(100), 30_000, 10))
        .await
        .unwrap();
    assert!(other_kind.is_empty(), "claims are by kind");
    let again = store
        .write(|c| jobs::claim(c, "w2", &["k"], T0.plus_seconds(31), 30_000, 10))
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        1,
        "the expired lease is reclaimed, the later job is not due yet"
    );
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].attempt, 2);
}

async fn job_stale_worker_is_fenced(store: &Store) {
    store
        .write(|c| jobs::enqueue(c, &job("k", None), T0))
        .await
        .unwrap();
    let a = store
        .write(|c| jobs::claim(c, "w1", &["k"], T0, 1_000, 1))
        .await
        .unwrap();
    let id = a[0].id;
    let b = store
        .write(|c| jobs::claim(c, "w2", &["k"], T0.plus_seconds(2), 1_000, 1))
        .await
        .unwrap();
    assert_eq!(b[0].id, id);
    let stale = store
        .write(move |c| jobs::complete(c, id, "w1", T0.plus_seconds(3)))
        .await
        .unwrap();
    assert!(!stale, "the worker that lost its lease cannot complete");
    let stale_fail = store
        .write(move |c| jobs::fail(c, id, "w1", T0.plus_seconds(3), "x", Retry::Never))
        .await
        .unwrap();
    assert_eq!(stale_fail, None);
    assert!(!store
        .write(move |c| jobs::heartbeat(c, id, "w1", T0.plus_seconds(9)))
        .await
        .unwrap());
    assert!(store
        .write(move |c| jobs::heartbeat(c, id, "w2", T0.plus_seconds(9)))
        .await
        .unwrap());
    assert!(store
        .write(move |c| jobs::complete(c, id, "w2", T0.plus_seconds(3)))
        .await
        .unwrap());
    let j = store
        .read(move |c| jobs::get(c, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Completed);
}

async fn job_retries_then_discards(store: &Store) {
    let id = store
        .write(|c| jobs::enqueue(c, &job("k", None), T0))
        .await
        .unwrap()
        .unwrap();
    let mut now = T0;
    for attempt in 1..=3 {
        let claimed = store
            .write(move |c| jobs::claim(c, "w", &["k"], now, 1_000, 1))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt} is claimed");
        assert_eq!(claimed[0].attempt, attempt);
        let retry_at = now.plus_seconds(10);
        let state = store
            .write(move |c| {
                jobs::fail(
                    c,
                    id,
                    "w",
                    now,
                    &format!("boom {attempt}"),
                    Retry::At(retry_at),
                )
            })
            .await
            .unwrap();
        let early = store
            .write(move |c| jobs::claim(c, "w", &["k"], now.plus_seconds(5), 1_000, 1))
            .await
            .unwrap();
        assert!(early.is_empty(), "not before the backoff");
        now = retry_at;
        let expected = if attempt < 3 {
            JobState::Available
        } else {
            JobState::Discarded
        };
        assert_eq!(state, Some(expected));
    }
    let j = store
        .read(move |c| jobs::get(c, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Discarded);
    assert_eq!(j.errors, vec!["boom 1", "boom 2", "boom 3"]);
    let none = store
        .write(move |c| jobs::claim(c, "w", &["k"], now.plus_seconds(3_600), 1_000, 1))
        .await
        .unwrap();
    assert!(none.is_empty(), "a discarded job never runs again");
}

async fn job_concurrent_claims_never_share(store: &Store) {
    store
        .write(|c| {
            for _ in 0..200 {
                jobs::enqueue(c, &job("k", None), T0)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let mut handles = Vec::new();
    for w in 0..8 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let worker = format!("w{w}");
                let got = s
                    .write(move |c| jobs::claim(c, &worker, &["k"], T0, 60_000, 7))
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(n, 200, "every job is claimed");
    assert_eq!(all.len(), 200, "no job is claimed twice");
}

fn client(id: &str, last_used: Option<Timestamp>) -> oauth_clients::OAuthClient {
    oauth_clients::OAuthClient {
        id: id.into(),
        tenant_id: "t1".into(),
        secret_hash: "h".into(),
        name: format!("client {id}"),
        description: Some("d".into()),
        business_name: None,
        homepage_url: None,
        access_token_validity_seconds: 750,
        refresh_token_validity_seconds: 86_400,
        redirect_uris: vec![],
        grant_types: vec!["CLIENT_CREDENTIALS".into()],
        access_type: "OFFLINE".into(),
        client_type: "CONFIDENTIAL".into(),
        internal: false,
        enabled: true,
        strong_auth_supported: false,
        claims_supported: false,
        scope: Some(vec!["sp:scopes:all".into()]),
        metadata: None,
        created: T0,
        modified: T0,
        last_used,
    }
}

static LAST_USED: gatehouse_filter::FilterSpec = gatehouse_filter::FilterSpec {
    fields: &[gatehouse_filter::Field {
        name: "lastUsed",
        column: "last_used",
        kind: gatehouse_filter::FieldKind::DateTime,
        ops: &[gatehouse_filter::Op::Le, gatehouse_filter::Op::IsNull],
    }],
};

async fn filters_compile_to_working_sql(store: &Store) {
    tenant(store, "t1").await;
    store
        .write(|c| {
            oauth_clients::insert(c, &client("a", None))?;
            oauth_clients::insert(c, &client("b", Some(T0)))?;
            oauth_clients::insert(c, &client("c", Some(T0.plus_seconds(86_400))))
        })
        .await
        .unwrap();
    let ids = |filter: &'static str| async move {
        let f = gatehouse_filter::compile_filters(filter, &LAST_USED, 2).unwrap();
        store
            .read(move |c| oauth_clients::list(c, "t1", Some(f)))
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("lastUsed isnull").await, vec!["a"]);
    assert_eq!(ids("lastUsed le 2023-11-14T22:13:20.000Z").await, vec!["b"]);
    assert_eq!(
        ids("lastUsed le 2023-11-15T22:13:20Z or lastUsed isnull").await,
        vec!["a", "b", "c"]
    );
    assert_eq!(ids("not lastUsed isnull").await, vec!["b", "c"]);
}

async fn oauth_client_and_pat_round_trip(store: &Store) {
    tenant(store, "t1").await;
    let owner = tenants::Identity {
        id: "i1".into(),
        tenant_id: "t1".into(),
        name: "alice".into(),
        display_name: Some("Alice".into()),
        email: None,
        authorities: vec!["USER".into()],
        created: T0,
        modified: T0,
    };
    let pat = pats::Pat {
        id: "p1".into(),
        tenant_id: "t1".into(),
        owner_id: "i1".into(),
        name: "ci".into(),
        secret_hash: "h".into(),
        scope: None,
        access_token_validity_seconds: 43_200,
        expiration_date: Some(T0.plus_seconds(86_400)),
        never_expires: false,
        managed: false,
        created: T0,
        last_used: None,
    };
    let (o, p) = (owner.clone(), pat.clone());
    store
        .write(move |c| {
            tenants::insert_identity(c, &o)?;
            pats::insert(c, &p)?;
            oauth_clients::insert(c, &client("a", None))
        })
        .await
        .unwrap();
    let dup = pat.clone();
    let err = store
        .write(move |c| {
            pats::insert(
                c,
                &pats::Pat {
                    id: "p2".into(),
                    ..dup
                },
            )
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "same name, same owner: {err:?}"
    );
    let (got_pat, got_client) = store
        .read(|c| Ok((pats::find(c, "p1")?, oauth_clients::get(c, "t1", "a")?)))
        .await
        .unwrap();
    assert_eq!(got_pat, Some(pat.clone()));
    assert_eq!(got_client, Some(client("a", None)));
    let mut renamed = pat.clone();
    renamed.name = "renamed".into();
    renamed.scope = Some(vec!["sp:scopes:default".into()]);
    let r = renamed.clone();
    assert!(store.write(move |c| pats::update(c, &r)).await.unwrap());
    let listed = store
        .read(|c| pats::list(c, "t1", Some("i1"), None))
        .await
        .unwrap();
    assert_eq!(listed, vec![renamed]);
    assert!(store
        .read(|c| pats::list(c, "t1", Some("other"), None))
        .await
        .unwrap()
        .is_empty());
    assert!(store.write(|c| pats::delete(c, "t1", "p1")).await.unwrap());
    assert!(!store.write(|c| pats::delete(c, "t1", "p1")).await.unwrap());
    assert!(store
        .write(|c| oauth_clients::delete(c, "t1", "a"))
        .await
        .unwrap());
}

async fn settings_upsert(store: &Store) {
    tenant(store, "t1").await;
    store
        .write(|c| settings::put(c, "t1", "x", &serde_json::json!({"a": 1}), T0))
        .await
        .unwrap();
    store
        .write(|c| settings::put(c, "t1", "x", &serde_json::json!({"a": 2}), T0))
        .await
        .unwrap();
    let got = store.read(|c| settings::get(c, "t1", "x")).await.unwrap();
    assert_eq!(got, Some(serde_json::json!({"a": 2})));
}
