//! The store conformance suite on PostgreSQL.
//!
//! Runs when `GATEHOUSE_TEST_PG_URL` names a server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`);
//! each check gets a database of its own, created and dropped here. Without the variable the
//! test says it was skipped; the test command sets it whenever a server answers (always in CI).

use gatehouse_store::{conformance, Store, StoreConfig, Value};

fn admin_url() -> Option<String> {
    std::env::var("GATEHOUSE_TEST_PG_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

fn with_database(url: &str, db: &str) -> String {
    match url.rfind('/') {
        Some(i) if url[..i].contains('@') || url[..i].ends_with(':') || url[..i].contains("//") => {
            format!("{}/{db}", &url[..i])
        }
        _ => format!("{url}/{db}"),
    }
}

fn admin(url: &str, sql: &str) {
    let url = url.to_owned();
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let mut client =
            postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL answers");
        for stmt in sql.split(';') {
            client.batch_execute(stmt).expect("admin statement runs");
        }
    })
    .join()
    .unwrap();
}

/// A new database `{prefix}_{process id}` and a store on it with `pool_size` connections.
async fn fresh_store(url: &str, prefix: &str, pool_size: u32) -> (Store, String) {
    let db = format!("{prefix}_{}", std::process::id());
    admin(
        url,
        &format!("drop database if exists {db}; create database {db}"),
    );
    let store = Store::open(
        StoreConfig::Postgres {
            url: with_database(url, &db),
            pool_size,
        },
        0,
    )
    .await
    .unwrap();
    (store, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_on_postgres() {
    let Some(url) = admin_url() else {
        eprintln!("PostgreSQL suite skipped: GATEHOUSE_TEST_PG_URL is not set");
        return;
    };
    for check in conformance::CHECKS {
        let db = format!("gatehouse_conf_{}_{}", std::process::id(), check);
        admin(
            &url,
            &format!("drop database if exists {db}; create database {db}"),
        );
        let store = Store::open(
            StoreConfig::Postgres {
                url: with_database(&url, &db),
                pool_size: 8,
            },
            0,
        )
        .await
        .unwrap();
        eprintln!("postgres: {check}");
        conformance::run(check, &store).await;
        drop(store);
        admin(&url, &format!("drop database if exists {db} with (force)"));
    }
}

/// DUR-9 (docs/RELIABILITY.md): on a database whose `synchronous_commit` is not `on`, the store
/// refuses to open; with it on, it opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_without_synchronous_commit_is_refused() {
    let Some(url) = admin_url() else {
        eprintln!("PostgreSQL check skipped: GATEHOUSE_TEST_PG_URL is not set");
        return;
    };
    let db = format!("gatehouse_sync_{}", std::process::id());
    admin(
        &url,
        &format!(
            "drop database if exists {db}; create database {db}; \
             alter database {db} set synchronous_commit = off"
        ),
    );
    let config = StoreConfig::Postgres {
        url: with_database(&url, &db),
        pool_size: 2,
    };
    let refused = Store::open(config.clone(), 0).await;
    let err = refused.expect_err("the store refuses to open").to_string();
    assert!(err.contains("synchronous_commit"), "{err}");
    admin(
        &url,
        &format!("alter database {db} set synchronous_commit = on"),
    );
    let store = Store::open(config, 0)
        .await
        .expect("opens with synchronous_commit on");
    drop(store);
    admin(&url, &format!("drop database if exists {db} with (force)"));
}

/// DUR-8 (docs/RELIABILITY.md): while the database is down (its connections ended, as a stopping
/// server ends them, and no new ones accepted), each write fails as `Unavailable` (the API's 503
/// with `Retry-After`) within 2 s rather than waiting or failing as an internal fault; once the
/// database is back, writes pass again by themselves. Found: the pool waited 5 s for a
/// connection on every call, and a connection ended by the server (57P01) was a database error
/// (a 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_unavailable_within_two_seconds_and_passes_by_itself() {
    use gatehouse_store::StoreError;
    use std::time::{Duration, Instant};
    let Some(url) = admin_url() else {
        eprintln!("PostgreSQL check skipped: GATEHOUSE_TEST_PG_URL is not set");
        return;
    };
    let (store, db) = fresh_store(&url, "gatehouse_outage", 4).await;
    let insert = || async {
        store
            .write(|c| c.execute("insert into probe (n) values (1)", &[]))
            .await
    };
    store
        .write(|c| c.execute("create table probe (n int)", &[]))
        .await
        .unwrap();
    insert().await.unwrap();

    // A long statement on a pooled connection when the server ends it.
    let long = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .read(|c| c.query_one("select pg_sleep(30)", &[]).map(|_| ()))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    admin(
        &url,
        &format!(
            "alter database {db} with allow_connections false; \
             select pg_terminate_backend(pid) from pg_stat_activity where datname = '{db}'"
        ),
    );
    let ended = long.await.unwrap();
    assert!(
        matches!(ended, Err(StoreError::Unavailable(_))),
        "a statement ended by the server: {ended:?}"
    );
    for i in 0..5 {
        let t = Instant::now();
        let r = insert().await;
        assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
        // Once the database is known to be down, callers hear it at once: a request that
        // touches the store several times still answers within the 2 s.
        let bound = Duration::from_millis(if i == 0 { 2_000 } else { 500 });
        assert!(
            t.elapsed() < bound,
            "attempt {i}: unavailable after {:?}",
            t.elapsed()
        );
    }

    admin(
        &url,
        &format!("alter database {db} with allow_connections true"),
    );
    let back = Instant::now();
    while insert().await.is_err() {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "writes pass again within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let n = store
        .read(|c| c.query_one("select count(*) from probe", &[])?.int(0))
        .await
        .unwrap();
    assert!(n >= 2, "{n}");
    drop(store);
    admin(&url, &format!("drop database if exists {db} with (force)"));
}

/// Each pooled connection prepares a statement once and keeps it (issue: a prepare per call cost
/// a round trip and the server's parse and plan on every query), plans it with its values on
/// every run (a generic plan made while a table was empty stayed a sequential scan as it grew),
/// and a plan made stale by a schema change fails once and is prepared again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_prepared_once_per_connection() {
    let Some(url) = admin_url() else {
        eprintln!("PostgreSQL check skipped: GATEHOUSE_TEST_PG_URL is not set");
        return;
    };
    let (store, db) = fresh_store(&url, "gatehouse_stmts", 1).await;
    const PROBE: &str = "select $1::text || 'x' as echoed";
    for i in 0..20 {
        let got = store
            .read(move |c| c.query_one(PROBE, &[Value::Text(i.to_string())])?.text(0))
            .await
            .unwrap();
        assert_eq!(got, format!("{i}x"));
    }
    let prepared = store
        .read(|c| {
            c.query_one(
                "select count(*) from pg_prepared_statements where statement = $1",
                &[Value::Text(PROBE.into())],
            )?
            .int(0)
        })
        .await
        .unwrap();
    assert_eq!(
        prepared, 1,
        "the probe is prepared once on the one connection"
    );
    let mode = store
        .read(|c| c.query_one("show plan_cache_mode", &[])?.text(0))
        .await
        .unwrap();
    assert_eq!(
        mode, "force_custom_plan",
        "kept statements are planned with their values on every run, never with a generic plan"
    );

    // A schema change that alters a cached statement's result: one failure, then a fresh plan.
    store
        .write(|c| {
            c.execute("create table stmt_probe (a int)", &[])
                .map(|_| ())
        })
        .await
        .unwrap();
    let columns = |store: &Store| {
        let store = store.clone();
        async move {
            store
                .read(|c| Ok(c.query("select * from stmt_probe", &[])?.len()))
                .await
        }
    };
    assert_eq!(columns(&store).await.unwrap(), 0);
    store
        .write(|c| {
            c.execute("alter table stmt_probe add column b int", &[])?;
            c.execute("insert into stmt_probe values (1, 2)", &[])
                .map(|_| ())
        })
        .await
        .unwrap();
    let first = columns(&store).await;
    let second = columns(&store).await;
    assert!(
        matches!(second, Ok(1)),
        "after a stale plan the statement is prepared again: {first:?} then {second:?}"
    );
    drop(store);
    admin(&url, &format!("drop database if exists {db} with (force)"));
}

/// The job table is vacuumed after a fixed number of changes, not after 20 % of the table: the
/// settings of migration 0012 are read back from the catalog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_table_is_vacuumed_after_a_fixed_number_of_changes() {
    let Some(url) = admin_url() else {
        eprintln!("PostgreSQL check skipped: GATEHOUSE_TEST_PG_URL is not set");
        return;
    };
    let (store, db) = fresh_store(&url, "gatehouse_vacuum", 1).await;
    let options: Vec<String> = store
        .read(|c| {
            c.query_one(
                "select array_to_string(reloptions, ',') from pg_class where relname = 'job'",
                &[],
            )?
            .text(0)
        })
        .await
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    for wanted in [
        "autovacuum_vacuum_scale_factor=0",
        "autovacuum_vacuum_threshold=5000",
        "autovacuum_analyze_scale_factor=0",
        "autovacuum_vacuum_cost_delay=0",
    ] {
        assert!(
            options.iter().any(|o| o == wanted),
            "{wanted} in {options:?}"
        );
    }
    drop(store);
    admin(&url, &format!("drop database if exists {db} with (force)"));
}

/// A handler that finishes at once.
struct Quick;

impl gatehouse_store::runner::JobHandler for Quick {
    fn kind(&self) -> &'static str {
        "quick"
    }

    fn run(&self, _job: gatehouse_store::jobs::Job) -> gatehouse_store::runner::JobFuture {
        Box::pin(async { Ok(()) })
    }
}

/// The runner has the job table vacuumed every `vacuum_every` finished runs, whether or not the
/// server's autovacuum is on (where it is off, nothing else ever clears the dead row versions
/// every claim walks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_vacuums_the_job_table_every_so_many_runs() {
    use gatehouse_store::jobs::{self, NewJob};
    use gatehouse_store::runner::{Runner, RunnerConfig};
    use std::sync::Arc;
    let Some(url) = admin_url() else {
        eprintln!("PostgreSQL check skipped: GATEHOUSE_TEST_PG_URL is not set");
        return;
    };
    let (store, db) = fresh_store(&url, "gatehouse_runner_vacuum", 2).await;
    let clock: Arc<dyn gatehouse_domain::Clock> = Arc::new(gatehouse_domain::SystemClock);
    let now = clock.now();
    store
        .write(move |c| {
            for _ in 0..30 {
                let job = NewJob {
                    tenant_id: None,
                    kind: "quick".into(),
                    args: serde_json::json!({}),
                    max_attempts: 3,
                    run_at: now,
                    unique_key: None,
                    launcher: None,
                    target: None,
                };
                jobs::enqueue(c, &job, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let vacuums = || {
        store.read(|c| {
            c.query_one(
                "select vacuum_count from pg_stat_user_tables where relname = 'job'",
                &[],
            )?
            .int(0)
        })
    };
    assert_eq!(vacuums().await.unwrap(), 0);
    let runner = Runner::new(
        store.clone(),
        clock,
        vec![Arc::new(Quick)],
        RunnerConfig {
            vacuum_every: 10,
            ..RunnerConfig::new("w".into())
        },
    );
    while runner.run_due().await.unwrap() > 0 {}
    let mut seen = 0;
    for _ in 0..100 {
        seen = vacuums().await.unwrap();
        if seen > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen >= 1, "the job table was vacuumed after 30 runs");
    drop(store);
    admin(&url, &format!("drop database if exists {db} with (force)"));
}
