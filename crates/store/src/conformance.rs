//! The store conformance suite: one set of checks, run against every backend.
//!
//! Each check takes a freshly migrated, empty [`Store`] and panics on a violation. The SQLite
//! tests (`tests/sqlite.rs`) and the PostgreSQL tests (`tests/postgres.rs`) run every check; a new
//! store behaviour gets a check here, never in one backend's tests only.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

#[path = "conformance_tenant.rs"]
mod tenant_checks;

#[path = "conformance_installed.rs"]
mod installed_checks;

use crate::jobs::{self, JobState, NewJob, Retry};
use crate::{oauth_clients, pats, service_desk, settings, tenants, Store, StoreError};
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
    "runner_stop_releases_unfinished_jobs",
    "engine_step_completes_its_job_in_its_transaction",
    "job_retries_then_discards",
    "job_deferred_runs_later_uncounted",
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
    "catalog_prefix_filters_match_exactly",
    "catalog_references_and_usages",
    "assignments_grant_list_revoke",
    "service_desk_round_trip",
    "service_desk_refusals",
    "installed_integration_round_trip",
    "sealed_values_are_replaced_only_where_unchanged",
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
        "engine_step_completes_its_job_in_its_transaction" => {
            engine_step_completes_its_job_in_its_transaction(store).await;
        }
        "job_lease_is_exclusive_and_expires" => job_lease_is_exclusive_and_expires(store).await,
        "job_stale_worker_is_fenced" => job_stale_worker_is_fenced(store).await,
        "runner_stop_releases_unfinished_jobs" => {
            runner_stop_releases_unfinished_jobs(store).await;
        }
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
        "job_retries_then_discards" => job_retries_then_discards(store).await,
        "job_deferred_runs_later_uncounted" => job_deferred_runs_later_uncounted(store).await,
        "job_concurrent_claims_never_share" => job_concurrent_claims_never_share(store).await,
        "filters_compile_to_working_sql" => filters_compile_to_working_sql(store).await,
        "catalog_prefix_filters_match_exactly" => catalog_prefix_filters_match_exactly(store).await,
        "catalog_references_and_usages" => catalog_references_and_usages(store).await,
        "assignments_grant_list_revoke" => assignments_grant_list_revoke(store).await,
        "oauth_client_and_pat_round_trip" => oauth_client_and_pat_round_trip(store).await,
        "settings_upsert" => settings_upsert(store).await,
        "service_desk_round_trip" => service_desk_round_trip(store).await,
        "service_desk_refusals" => service_desk_refusals(store).await,
        "installed_integration_round_trip" => {
            installed_checks::installed_integration_round_trip(store).await
        }
        "sealed_values_are_replaced_only_where_unchanged" => {
            sealed_values_are_replaced_only_where_unchanged(store).await;
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
        launcher: None,
        target: None,
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
    let w1 = a[0].worker.clone().unwrap();
    assert_eq!(
        w1, "w1:1",
        "the lease token names the worker and the attempt"
    );
    let b = store
        .write(|c| jobs::claim(c, "w2", &["k"], T0.plus_seconds(2), 1_000, 1))
        .await
        .unwrap();
    assert_eq!(b[0].id, id);
    let w2 = b[0].worker.clone().unwrap();
    let stale = {
        let w1 = w1.clone();
        store
            .write(move |c| jobs::complete(c, id, &w1, T0.plus_seconds(3)))
            .await
            .unwrap()
    };
    assert!(!stale, "the worker that lost its lease cannot complete");
    let stale_fail = {
        let w1 = w1.clone();
        store
            .write(move |c| jobs::fail(c, id, &w1, T0.plus_seconds(3), "x", Retry::Never))
            .await
            .unwrap()
    };
    assert_eq!(stale_fail, None);
    assert!(!store
        .write(move |c| jobs::heartbeat(c, id, &w1, T0.plus_seconds(9)))
        .await
        .unwrap());
    {
        let w2 = w2.clone();
        assert!(store
            .write(move |c| jobs::heartbeat(c, id, &w2, T0.plus_seconds(9)))
            .await
            .unwrap());
    }
    // The same worker claiming the job again (its lease ran out under a run still going on)
    // fences that earlier run out too.
    let again = store
        .write(|c| jobs::claim(c, "w2", &["k"], T0.plus_seconds(20), 1_000, 1))
        .await
        .unwrap();
    assert_eq!(again[0].id, id);
    let w2_again = again[0].worker.clone().unwrap();
    assert_ne!(w2_again, w2);
    assert!(!store
        .write(move |c| jobs::heartbeat(c, id, &w2, T0.plus_seconds(21)))
        .await
        .unwrap());
    assert!(store
        .write(move |c| jobs::complete(c, id, &w2_again, T0.plus_seconds(21)))
        .await
        .unwrap());
    let j = store
        .read(move |c| jobs::get(c, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Completed);
}

/// A handler that never finishes, counting its starts.
struct Hang(std::sync::Arc<tokio::sync::Semaphore>);

impl crate::runner::JobHandler for Hang {
    fn kind(&self) -> &'static str {
        "hang"
    }

    fn run(&self, _job: jobs::Job) -> crate::runner::JobFuture {
        let started = self.0.clone();
        Box::pin(async move {
            started.add_permits(1);
            std::future::pending::<()>().await;
            Ok(())
        })
    }
}

/// A handler that finishes at once.
struct Quick;

impl crate::runner::JobHandler for Quick {
    fn kind(&self) -> &'static str {
        "quick"
    }

    fn run(&self, _job: jobs::Job) -> crate::runner::JobFuture {
        Box::pin(async { Ok(()) })
    }
}

/// DUR-7: a runner asked to stop claims nothing more, gives its running jobs the drain time, then
/// stops them and releases their leases: they are available again at once (not after the lease),
/// with the attempt not counted, and another worker claims them; a finished job stays completed.
/// Only the holder of a lease can release it.
async fn runner_stop_releases_unfinished_jobs(store: &Store) {
    use crate::runner::{JobHandler, Runner, RunnerConfig};
    use std::sync::Arc;
    use std::time::Duration;
    let mut ids = Vec::new();
    for kind in ["hang", "hang", "hang", "quick"] {
        let id = store
            .write(move |c| jobs::enqueue(c, &job(kind, None), T0))
            .await
            .unwrap()
            .unwrap();
        ids.push(id);
    }
    let started = Arc::new(tokio::sync::Semaphore::new(0));
    let handlers: Vec<Arc<dyn JobHandler>> = vec![Arc::new(Hang(started.clone())), Arc::new(Quick)];
    let mut config = RunnerConfig::new("w1".into());
    config.lease_ms = 3_600_000;
    let runner = Runner::new(
        store.clone(),
        Arc::new(gatehouse_domain::SystemClock),
        handlers,
        config,
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(runner.run_until(
        async move {
            let _ = stop_rx.await;
        },
        Duration::from_millis(300),
    ));
    let all_started = tokio::time::timeout(Duration::from_secs(10), started.acquire_many(3)).await;
    assert!(all_started.is_ok(), "the three hanging jobs started");
    let asked = std::time::Instant::now();
    stop_tx.send(()).unwrap();
    let released = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the runner stops within the drain time, not when its jobs end")
        .unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(released, 3);
    for &id in &ids[..3] {
        let j = store
            .read(move |c| jobs::get(c, id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(j.state, JobState::Available, "job {id}");
        assert_eq!(j.worker, None);
        assert_eq!(j.attempt, 0, "a released attempt does not count");
        assert_eq!(j.scheduled_at, T0, "it keeps the instant it was due");
    }
    let quick = ids[3];
    let q = store
        .read(move |c| jobs::get(c, quick))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q.state, JobState::Completed);
    // Another worker takes them at once, well within the hour-long lease they had.
    let now = gatehouse_domain::Clock::now(&gatehouse_domain::SystemClock);
    let taken = store
        .write(move |c| jobs::claim(c, "w2", &["hang"], now, 60_000, 10))
        .await
        .unwrap();
    assert_eq!(taken.len(), 3);
    let id = ids[0];
    let token = taken.iter().find(|j| j.id == id).unwrap().worker.clone();
    assert!(
        !store
            .write(move |c| jobs::release(c, id, "w1:1"))
            .await
            .unwrap(),
        "w1 no longer holds the lease"
    );
    assert!(store
        .write(move |c| jobs::release(c, id, &token.unwrap()))
        .await
        .unwrap());
}

/// An engine step marks its job completed in the transaction of its transition (the runner writes
/// nothing after it), and a worker that lost the lease keeps neither.
async fn engine_step_completes_its_job_in_its_transaction(store: &Store) {
    use crate::access_requests::{handlers, kinds};
    tenant(store, "t1").await;
    let clock: std::sync::Arc<dyn gatehouse_domain::Clock> =
        std::sync::Arc::new(gatehouse_domain::SystemClock);
    let step = handlers::all(store, &clock)
        .into_iter()
        .find(|h| h.kind() == kinds::PROCESS)
        .unwrap();
    assert!(step.completes_its_job());
    let mut j = job(kinds::PROCESS, None);
    j.args = serde_json::json!({"tenantId": "t1", "id": "no-such-request"});
    store
        .write(move |c| jobs::enqueue(c, &j, T0))
        .await
        .unwrap();
    let kinds = [kinds::PROCESS];
    let stale = store
        .write(move |c| jobs::claim(c, "w1", &kinds, T0, 1_000, 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(stale.worker.as_deref(), Some("w1:1"));
    let current = store
        .write(move |c| jobs::claim(c, "w2", &kinds, T0.plus_seconds(2), 60_000, 1))
        .await
        .unwrap()
        .remove(0);
    let id = current.id;
    assert!(step.run(stale).await.is_err(), "the lease was lost");
    let j = store
        .read(move |c| jobs::get(c, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Running, "still w2's");
    step.run(current).await.unwrap();
    let j = store
        .read(move |c| jobs::get(c, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.state, JobState::Completed);
}

/// A deferred run ([`jobs::defer`], a desk's `Retry-After`) is not an attempt: the job comes back
/// at the instant given, with its attempts and errors as they were, however often it is
/// deferred; only the lease holder can defer it.
async fn job_deferred_runs_later_uncounted(store: &Store) {
    let mut j = job("k", None);
    j.max_attempts = 2;
    let id = store
        .write(move |c| jobs::enqueue(c, &j, T0))
        .await
        .unwrap()
        .unwrap();
    let mut now = T0;
    for round in 0..5 {
        let claimed = store
            .write(move |c| jobs::claim(c, "w", &["k"], now, 60_000, 1))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "round {round}");
        assert_eq!(
            claimed[0].attempt, 1,
            "round {round}: deferrals are not counted"
        );
        let token = claimed[0].worker.clone().unwrap();
        let stale = "someone-else:1".to_owned();
        let at = now.plus_seconds(5);
        assert!(!store
            .write(move |c| jobs::defer(c, id, &stale, at))
            .await
            .unwrap());
        assert!(store
            .write(move |c| jobs::defer(c, id, &token, at))
            .await
            .unwrap());
        let early = store
            .write(move |c| jobs::claim(c, "w", &["k"], at.plus_millis(-1), 60_000, 1))
            .await
            .unwrap();
        assert!(
            early.is_empty(),
            "round {round}: not before the instant given"
        );
        now = at;
    }
    let j = store
        .read(move |c| jobs::get(c, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (j.state, j.attempt, j.errors.len(), j.scheduled_at),
        (JobState::Available, 0, 0, now)
    );
    // Its attempts are all still there: a failure now is its first.
    let claimed = store
        .write(move |c| jobs::claim(c, "w", &["k"], now, 60_000, 1))
        .await
        .unwrap();
    let token = claimed[0].worker.clone().unwrap();
    let state = store
        .write(move |c| jobs::fail(c, id, &token, now, "boom", Retry::At(now)))
        .await
        .unwrap();
    assert_eq!(state, Some(JobState::Available));
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
        let token = claimed[0].worker.clone().unwrap();
        let state = store
            .write(move |c| {
                jobs::fail(
                    c,
                    id,
                    &token,
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

/// What `gatehouse rekey` relies on: a sealed key's first writer wins (replicas starting together
/// agree), and sealed values (signing key, sealed key, integration credentials) are replaced only
/// where they still hold what was read.
async fn sealed_values_are_replaced_only_where_unchanged(store: &Store) {
    use crate::keys;
    service_desk_catalog(store).await;
    let (first, second) = store
        .write(|c| {
            let a = keys::sealed_key(c, "k", "v2:one", T0)?;
            let b = keys::sealed_key(c, "k", "v2:two", T0)?;
            Ok((a, b))
        })
        .await
        .unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("v2:one", "v2:one"));
    let i = integration("a", "Desk", &[]);
    store
        .write(move |c| service_desk::insert(c, &i))
        .await
        .unwrap();
    let outcome = store
        .write(|c| {
            let (id, _) = keys::signing_key(c, "s1", "v2:sign", T0)?;
            Ok([
                keys::replace_sealed_key(c, "k", "v2:stale", "v2:x")?,
                keys::replace_sealed_key(c, "k", "v2:one", "v2:new")?,
                keys::replace_secret(c, &id, "v2:stale", "v2:x")?,
                keys::replace_secret(c, &id, "v2:sign", "v2:sign2")?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(outcome, [false, true, false, true]);
    let rows = store
        .read(|c| service_desk::sealed_credentials(c, "", 10))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored = rows[0].stored.clone();
    assert_eq!(stored, r#"{"/password":"v1:abc"}"#);
    let (s1, s2) = (stored.clone(), stored.clone());
    let replaced = store
        .write(move |c| {
            Ok([
                service_desk::replace_credentials(c, "t1", "a", "{}", "{}")?,
                service_desk::replace_credentials(c, "t2", "a", &s1, "{}")?,
                service_desk::replace_credentials(c, "t1", "a", &s2, r#"{"/password":"v2:k:x"}"#)?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(replaced, [false, false, true]);
    let after = store
        .read(|c| {
            Ok((
                service_desk::sealed_credentials(c, "", 10)?,
                service_desk::sealed_credentials(c, "a", 10)?,
                keys::sealed_keys(c)?,
                keys::signing_keys(c)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(after.0[0].stored, r#"{"/password":"v2:k:x"}"#);
    assert!(after.1.is_empty(), "paged after the last id");
    assert_eq!(after.2, [("k".to_owned(), "v2:new".to_owned())]);
    assert_eq!(after.3, [("s1".to_owned(), "v2:sign2".to_owned())]);
}

/// An identity `i1` ("Alice"), a cluster `c1` and sources `s1`..`s3` in tenant `t1`.
async fn service_desk_catalog(store: &Store) {
    tenant(store, "t1").await;
    store
        .write(|c| {
            c.execute(
                "insert into identity (id, tenant_id, name, display_name, created, modified) values ('i1', 't1', 'alice', 'Alice', 0, 0)",
                &[],
            )?;
            c.execute(
                "insert into managed_cluster (id, tenant_id, name, type, created, modified) values ('c1', 't1', 'VA cluster', 'idn', 0, 0)",
                &[],
            )?;
            for n in 1..=3 {
                c.execute(
                    &format!("insert into source (id, tenant_id, name, created, modified) values ('s{n}', 't1', 'Source {n}', 0, 0)"),
                    &[],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn integration(id: &str, name: &str, sources: &[&str]) -> service_desk::Integration {
    service_desk::Integration {
        id: id.into(),
        tenant_id: "t1".into(),
        name: name.into(),
        description: "d".into(),
        type_name: "ServiceNowSDIM".into(),
        owner: Some(service_desk::Ref::to("i1")),
        cluster: Some(service_desk::Ref::to("c1")),
        managed_sources: sources.iter().map(|s| service_desk::Ref::to(*s)).collect(),
        before_provisioning_rule: Some(serde_json::json!({"type": "RULE", "id": "r1"})),
        provisioning: service_desk::Provisioning {
            plan_initializer_script: None,
            no_provisioning_requests: true,
            provisioning_request_expiration: Some(7),
        },
        attributes: serde_json::json!({"url": "https://x", "password": "********"})
            .as_object()
            .cloned()
            .unwrap(),
        secrets: [("/password".to_owned(), "v1:abc".to_owned())].into(),
        created: T0,
        modified: T0,
        installed: Default::default(),
    }
}

static SDIM_FILTERS: gatehouse_filter::FilterSpec = gatehouse_filter::FilterSpec {
    fields: &[
        gatehouse_filter::Field {
            name: "name",
            column: "i.name",
            kind: gatehouse_filter::FieldKind::TextCi,
            ops: &[gatehouse_filter::Op::Eq],
        },
        gatehouse_filter::Field {
            name: "cluster",
            column: "i.cluster_id",
            kind: gatehouse_filter::FieldKind::Text,
            ops: &[gatehouse_filter::Op::Eq, gatehouse_filter::Op::In],
        },
    ],
};

async fn service_desk_round_trip(store: &Store) {
    service_desk_catalog(store).await;
    let a = integration("a", "Beta desk", &["s2", "s1"]);
    let b = integration("b", "alpha desk", &["s3"]);
    let (x, y) = (a.clone(), b.clone());
    store
        .write(move |c| {
            service_desk::insert(c, &x)?;
            service_desk::insert(c, &y)
        })
        .await
        .unwrap();
    let got = store
        .read(|c| service_desk::get(c, "t1", "a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.owner.as_ref().unwrap().name.as_deref(), Some("Alice"));
    assert_eq!(
        got.cluster.as_ref().unwrap().name.as_deref(),
        Some("VA cluster")
    );
    let names: Vec<_> = got
        .managed_sources
        .iter()
        .map(|s| (s.id.as_str(), s.name.as_deref().unwrap()))
        .collect();
    assert_eq!(
        names,
        vec![("s2", "Source 2"), ("s1", "Source 1")],
        "in the order given"
    );
    assert_eq!(got.secrets, a.secrets);
    assert_eq!(got.attributes, a.attributes);
    assert_eq!(got.provisioning, a.provisioning);
    assert!(store
        .read(|c| service_desk::get(c, "t2", "a"))
        .await
        .unwrap()
        .is_none());

    let page = |filter: Option<&'static str>, order: &'static str, offset: i64, limit: i64| async move {
        let f = filter.map(|f| gatehouse_filter::compile_filters(f, &SDIM_FILTERS, 2).unwrap());
        let f2 = f.clone();
        store
            .read(move |c| {
                let list = service_desk::list(c, "t1", f, order, offset, limit)?;
                let n = service_desk::count(c, "t1", f2)?;
                Ok((
                    list.into_iter()
                        .map(|i| (i.id, i.managed_sources.len()))
                        .collect::<Vec<_>>(),
                    n,
                ))
            })
            .await
            .unwrap()
    };
    assert_eq!(
        page(None, " order by lower(i.name) asc, i.id asc", 0, 10).await,
        (vec![("b".into(), 1), ("a".into(), 2)], 2)
    );
    assert_eq!(
        page(None, " order by lower(i.name) desc, i.id asc", 0, 1).await,
        (vec![("a".into(), 2)], 2)
    );
    assert_eq!(
        page(None, " order by lower(i.name) asc, i.id asc", 1, 5).await,
        (vec![("a".into(), 2)], 2)
    );
    assert_eq!(
        page(Some("name eq \"ALPHA DESK\""), "", 0, 10).await,
        (vec![("b".into(), 1)], 1)
    );
    assert_eq!(
        page(Some("cluster in (\"c1\", \"zz\")"), " order by i.id", 0, 10)
            .await
            .1,
        2
    );
    assert_eq!(
        page(Some("cluster eq \"zz\""), "", 0, 10).await,
        (vec![], 0)
    );

    let mut changed = a.clone();
    changed.name = "Gamma".into();
    changed.managed_sources = vec![service_desk::Ref::to("s1")];
    changed.owner = None;
    changed.modified = T0.plus_seconds(5);
    changed.created = T0.plus_seconds(99);
    let ch = changed.clone();
    assert!(store
        .write(move |c| service_desk::update(c, &ch))
        .await
        .unwrap());
    let got = store
        .read(|c| service_desk::get(c, "t1", "a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.name, "Gamma");
    assert_eq!(got.owner, None);
    assert_eq!(got.created, T0, "created is kept");
    assert_eq!(got.modified, T0.plus_seconds(5));
    assert_eq!(got.managed_sources.len(), 1);
    let mut ghost = changed.clone();
    ghost.id = "nope".into();
    assert!(!store
        .write(move |c| service_desk::update(c, &ghost))
        .await
        .unwrap());

    // A source is managed by at most one integration, even if a caller skips the check.
    let dup = integration("c", "Other", &["s3"]);
    let err = store
        .write(move |c| service_desk::insert(c, &dup))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Names are unique without regard to case.
    let dup = integration("d", "GAMMA", &[]);
    let err = store
        .write(move |c| service_desk::insert(c, &dup))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert!(store
        .write(|c| service_desk::delete(c, "t1", "a"))
        .await
        .unwrap());
    assert!(!store
        .write(|c| service_desk::delete(c, "t1", "a"))
        .await
        .unwrap());
    let links = store
        .read(|c| {
            c.query_one("select count(*) from service_desk_managed_source", &[])?
                .int(0)
        })
        .await
        .unwrap();
    assert_eq!(links, 1, "only b's link is left");

    // Status checks: SailPoint's defaults until set.
    use gatehouse_domain::service_desk::StatusCheck;
    let dflt = store
        .read(|c| service_desk::status_check(c, "t1"))
        .await
        .unwrap();
    assert_eq!(
        dflt,
        StatusCheck {
            interval_minutes: 30,
            max_days: 2
        }
    );
    store
        .write(|c| {
            service_desk::put_status_check(
                c,
                "t1",
                &StatusCheck {
                    interval_minutes: 5,
                    max_days: 9,
                },
                T0,
            )
        })
        .await
        .unwrap();
    let set = store
        .read(|c| service_desk::status_check(c, "t1"))
        .await
        .unwrap();
    assert_eq!(
        set,
        StatusCheck {
            interval_minutes: 5,
            max_days: 9
        }
    );

    store
        .write(|c| tenants::reset(c, "t1", &tenants::Keep::default()))
        .await
        .unwrap();
    let left = store
        .read(|c| {
            Ok((
                service_desk::count(c, "t1", None)?,
                service_desk::status_check(c, "t1")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        left,
        (0, StatusCheck::default()),
        "a reset empties the tenant"
    );
}

async fn service_desk_refusals(store: &Store) {
    use service_desk::Refusal;
    service_desk_catalog(store).await;
    let a = integration("a", "Desk", &["s1"]);
    let x = a.clone();
    store
        .write(move |c| service_desk::insert(c, &x))
        .await
        .unwrap();
    let check = |i: service_desk::Integration| async move {
        store
            .read(move |c| service_desk::check(c, &i))
            .await
            .unwrap()
    };
    assert_eq!(
        check(a.clone()).await,
        None,
        "an integration does not conflict with itself"
    );
    assert_eq!(
        check(integration("b", "desk", &[])).await,
        Some(Refusal::NameTaken)
    );
    let mut no_owner = integration("b", "Other", &[]);
    no_owner.owner = Some(service_desk::Ref::to("ghost"));
    assert_eq!(
        check(no_owner).await,
        Some(Refusal::NoSuchOwner("ghost".into()))
    );
    let mut no_cluster = integration("b", "Other", &[]);
    no_cluster.cluster = Some(service_desk::Ref::to("ghost"));
    assert_eq!(
        check(no_cluster).await,
        Some(Refusal::NoSuchCluster("ghost".into()))
    );
    assert_eq!(
        check(integration("b", "Other", &["s2", "ghost"])).await,
        Some(Refusal::NoSuchSource("ghost".into()))
    );
    assert_eq!(
        check(integration("b", "Other", &["s2", "s1"])).await,
        Some(Refusal::SourceManaged {
            source_id: "s1".into(),
            by: "Desk".into()
        })
    );
    assert_eq!(check(integration("b", "Other", &["s2", "s3"])).await, None);
}

/// A person in tenant `t1` (created first).
async fn catalog_person(store: &Store, id: &str, name: &str) {
    let i = crate::identities::IdentityRecord::new(id, "t1", name, T0);
    store
        .write(move |c| crate::identities::insert(c, &i))
        .await
        .unwrap();
}

/// `sw` and `eq` on case-insensitive fields give the same rows on both engines, also where a
/// linguistic collation would disagree with the prefix range (punctuation), and sorting is by
/// code point.
async fn catalog_prefix_filters_match_exactly(store: &Store) {
    use gatehouse_filter::{compile_filters, Field, FieldKind, FilterSpec, Op, SortSpec};
    tenant(store, "t1").await;
    for (n, name) in [
        "jo-zz", "jo.a", "jo", "joa", "JOB", "j-o", "jp", "ab_c", "abxc", "Zed",
    ]
    .iter()
    .enumerate()
    {
        catalog_person(store, &format!("id{n}"), name).await;
    }
    static F: FilterSpec = FilterSpec {
        fields: &[Field {
            name: "name",
            column: "i.name",
            kind: FieldKind::TextCi,
            ops: &[Op::Eq, Op::Sw, Op::In],
        }],
    };
    static S: SortSpec = SortSpec {
        fields: &[("name", "i.name")],
    };
    let names = |filter: &'static str, sort: &'static str| async move {
        let frag = compile_filters(filter, &F, 2).unwrap();
        let order = gatehouse_filter::order_by_sql(
            &gatehouse_filter::parse_sorters(sort, &S).unwrap(),
            Some("i.id"),
        );
        let q = crate::listing::ListQuery {
            filter: Some(frag),
            order_by: order,
            limit: 100,
            offset: 0,
            count: true,
        };
        let page = store
            .read(move |c| crate::identities::list(c, "t1", crate::identities::Scope::All, q))
            .await
            .unwrap();
        assert_eq!(page.total, Some(page.items.len() as i64));
        page.items
            .into_iter()
            .map(|v| v.identity.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(r#"name sw "jo-""#, "name").await, vec!["jo-zz"]);
    assert_eq!(
        names(r#"name sw "jo""#, "name").await,
        vec!["JOB", "jo", "jo-zz", "jo.a", "joa"]
    );
    assert_eq!(names(r#"name sw "ab_""#, "name").await, vec!["ab_c"]);
    assert_eq!(names(r#"name eq "job""#, "name").await, vec!["JOB"]);
    assert_eq!(
        names(r#"name in ("zed", "jp")"#, "-name").await,
        vec!["jp", "Zed"]
    );
}

/// Catalog objects refer to each other; what uses an object is found before it is deleted, and
/// the store refuses a dangling reference itself.
async fn catalog_references_and_usages(store: &Store) {
    use crate::{access_profiles, entitlements, governance_groups, roles, sources};
    tenant(store, "t1").await;
    catalog_person(store, "owner", "owner").await;
    let src = sources::Source {
        id: "s1".into(),
        tenant_id: "t1".into(),
        name: "HR".into(),
        description: None,
        kind: None,
        owner_id: Some("owner".into()),
        cluster_id: None,
        management_workgroup_id: Some("g1".into()),
        connector: Some("c".into()),
        connection_type: None,
        authoritative: false,
        healthy: true,
        status: None,
        features: vec!["PROVISIONING".into()],
        connector_name: None,
        category: None,
        service_desk_integration_id: None,
        document: serde_json::json!({"deleteThreshold": 10}),
        created: T0,
        modified: T0,
    };
    let group = governance_groups::GovernanceGroup {
        id: "g1".into(),
        tenant_id: "t1".into(),
        name: "Approvers".into(),
        description: None,
        owner_id: Some("owner".into()),
        created: T0,
        modified: T0,
    };
    let ent = entitlements::Entitlement {
        id: "e1".into(),
        tenant_id: "t1".into(),
        source_id: "s1".into(),
        name: "Staff".into(),
        attribute: "memberOf".into(),
        value: "cn=staff".into(),
        kind: None,
        description: None,
        owner_id: None,
        requestable: true,
        privileged: false,
        document: serde_json::json!({}),
        created: T0,
        modified: T0,
    };
    let ap = access_profiles::AccessProfile {
        id: "ap1".into(),
        tenant_id: "t1".into(),
        name: "HR basic".into(),
        description: None,
        source_id: "s1".into(),
        owner_id: "owner".into(),
        enabled: true,
        requestable: true,
        access_request_config: Some(
            serde_json::json!({"approvalSchemes": [{"approverType": "GOVERNANCE_GROUP", "approverId": "g1"}]}),
        ),
        revocation_request_config: None,
        entitlement_ids: vec!["e1".into()],
        document: serde_json::json!({}),
        created: T0,
        modified: T0,
    };
    let role = roles::Role {
        id: "r1".into(),
        tenant_id: "t1".into(),
        name: "Clerk".into(),
        description: None,
        owner_id: "owner".into(),
        enabled: true,
        requestable: true,
        dimensional: false,
        access_request_config: None,
        revocation_request_config: None,
        access_profile_ids: vec!["ap1".into()],
        entitlement_ids: vec!["e1".into()],
        document: serde_json::json!({}),
        created: T0,
        modified: T0,
    };
    let (g2, s2, e2, a2, r2) = (
        group.clone(),
        src.clone(),
        ent.clone(),
        ap.clone(),
        role.clone(),
    );
    store
        .write(move |c| {
            governance_groups::insert(c, &g2)?;
            sources::insert(c, &s2)?;
            entitlements::insert(c, &e2)?;
            access_profiles::insert(c, &a2)?;
            roles::insert(c, &r2)
        })
        .await
        .unwrap();
    let (s, a, r) = store
        .read(|c| {
            Ok((
                sources::get(c, "t1", "s1")?.unwrap(),
                access_profiles::get(c, "t1", "ap1")?.unwrap(),
                roles::get(c, "t1", "r1")?.unwrap(),
            ))
        })
        .await
        .unwrap();
    assert_eq!(s.source, src);
    assert_eq!(
        (
            s.owner_name.as_deref(),
            s.management_workgroup_name.as_deref()
        ),
        (Some("owner"), Some("Approvers"))
    );
    assert_eq!(a.access_profile, ap);
    assert_eq!(a.entitlements[0].name, "Staff");
    assert_eq!(r.role, role);
    assert_eq!(r.access_profiles[0].name, "HR basic");
    let kinds =
        |u: Vec<crate::listing::Usage>| u.into_iter().map(|u| (u.kind, u.id)).collect::<Vec<_>>();
    let usages = store
        .read(|c| {
            Ok((
                sources::usages(c, "t1", "s1")?,
                entitlements::usages(c, "t1", "e1")?,
                access_profiles::usages(c, "t1", "ap1")?,
                governance_groups::usages(c, "t1", "g1")?,
                roles::usages(c, "t1", "r1")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        kinds(usages.0),
        vec![("access profile", "ap1".into()), ("role", "r1".into())]
    );
    assert_eq!(
        kinds(usages.1),
        vec![("access profile", "ap1".into()), ("role", "r1".into())]
    );
    assert_eq!(kinds(usages.2), vec![("role", "r1".into())]);
    assert_eq!(
        kinds(usages.3),
        vec![("source", "s1".into()), ("access profile", "ap1".into())]
    );
    assert!(usages.4.is_empty());
    // The tenant's access-request configuration uses a group its entitlement schemes name.
    let mut config = gatehouse_domain::access_config::AccessRequestConfig::default();
    config.entitlement.revoke_approval_schemes =
        vec![gatehouse_domain::access_config::EntitlementApprover::GovernanceGroup("g1".into())];
    let usages = store
        .write(move |c| {
            crate::access_config::save(c, "t1", &config, T0)?;
            Ok((
                governance_groups::usages(c, "t1", "g1")?,
                governance_groups::usages(c, "t1", "g2")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        kinds(usages.0).last(),
        Some(&(
            "access request configuration",
            crate::access_config::SETTING.to_owned()
        ))
    );
    assert!(usages.1.is_empty());
    // The schema refuses what the checks would: a dangling owner, an entitlement in use.
    let mut bad = ap.clone();
    bad.id = "ap2".into();
    bad.name = "Other".into();
    bad.owner_id = "nobody".into();
    let err = store
        .write(move |c| access_profiles::insert(c, &bad))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    let err = store
        .write(|c| sources::delete(c, "t1", "s1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    let mut dup = role.clone();
    dup.id = "r2".into();
    let err = store
        .write(move |c| roles::insert(c, &dup))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Once unused, deletes go through; a source takes its entitlements with it.
    store
        .write(|c| {
            roles::delete(c, "t1", "r1")?;
            access_profiles::delete(c, "t1", "ap1")?;
            sources::delete(c, "t1", "s1")
        })
        .await
        .unwrap();
    assert!(store
        .read(|c| entitlements::get(c, "t1", "e1"))
        .await
        .unwrap()
        .is_none());
}

/// The access-request engine's view of assignments: grant, list, schedule removal, revoke.
async fn assignments_grant_list_revoke(store: &Store) {
    use crate::assignments::{self, Assignment, ItemType, Reason};
    tenant(store, "t1").await;
    catalog_person(store, "p1", "pat").await;
    let a = |id: &str, item: &str, remove: Option<Timestamp>| Assignment {
        id: id.into(),
        tenant_id: "t1".into(),
        identity_id: "p1".into(),
        item_type: ItemType::Role,
        item_id: item.into(),
        reason: Reason::AccessRequest,
        access_request_id: Some("req1".into()),
        account_id: None,
        start_date: None,
        remove_date: remove,
        created: T0,
        modified: T0,
    };
    let (x, y) = (
        a("a1", "r1", None),
        a("a2", "r2", Some(T0.plus_seconds(60))),
    );
    let (x2, y2) = (x.clone(), y.clone());
    store
        .write(move |c| {
            assignments::grant(c, &x2)?;
            assignments::grant(c, &y2)
        })
        .await
        .unwrap();
    let all = store
        .read(|c| assignments::for_identity(c, "t1", "p1"))
        .await
        .unwrap();
    assert_eq!(all, vec![x.clone(), y.clone()]);
    let held = store
        .read(|c| assignments::held(c, "t1", "p1", ItemType::Role, "r2"))
        .await
        .unwrap();
    assert_eq!(held, vec![y.clone()]);
    let used = store
        .read(|c| assignments::usages(c, "t1", "ROLE", "r1"))
        .await
        .unwrap();
    assert_eq!((used[0].id.as_str(), used[0].name.as_str()), ("a1", "pat"));
    let due = store
        .read(|c| assignments::due_for_removal(c, "t1", T0.plus_seconds(60), 10))
        .await
        .unwrap();
    assert_eq!(due, vec![y]);
    store
        .write(|c| assignments::set_remove_date(c, "t1", "a1", Some(T0), T0))
        .await
        .unwrap();
    assert!(store
        .write(|c| assignments::revoke(c, "t1", "a2"))
        .await
        .unwrap());
    assert!(!store
        .write(|c| assignments::revoke(c, "t1", "a2"))
        .await
        .unwrap());
    let left = store
        .read(|c| assignments::for_identity(c, "t1", "p1"))
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].remove_date, Some(T0));
}
