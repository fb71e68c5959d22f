//! The job runner's pipeline, on SQLite with the real clock.

use gatehouse_domain::{Clock, SystemClock};
use gatehouse_store::jobs::{self, NewJob};
use gatehouse_store::runner::{JobFuture, JobHandler, Runner, RunnerConfig};
use gatehouse_store::{Store, StoreConfig, Synchronous};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A handler whose `slow` jobs wait until released and whose other jobs end at once.
struct Gate {
    release: Arc<Notify>,
    quick_done: Arc<AtomicUsize>,
}

impl JobHandler for Gate {
    fn kind(&self) -> &'static str {
        "gate"
    }

    fn run(&self, job: jobs::Job) -> JobFuture {
        let (release, done) = (self.release.clone(), self.quick_done.clone());
        Box::pin(async move {
            if job.args["slow"] == true {
                release.notified().await;
            } else {
                done.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        })
    }
}

fn gate_job(slow: bool) -> NewJob {
    NewJob {
        tenant_id: None,
        kind: "gate".into(),
        args: serde_json::json!({ "slow": slow }),
        max_attempts: 3,
        run_at: SystemClock.now(),
        unique_key: None,
        launcher: None,
        target: None,
    }
}

/// One job that does not end must not hold back the jobs claimed with it or queued after it:
/// with 4 slots, a slow job and 20 quick ones, the quick ones all finish while the slow one still
/// runs (a runner that waited for each claimed batch to finish would run 3 and stop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_does_not_end_holds_back_no_other_job() {
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
    store
        .write(|c| {
            let now = SystemClock.now();
            jobs::enqueue(c, &gate_job(true), now)?;
            for _ in 0..20 {
                jobs::enqueue(c, &gate_job(false), now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let release = Arc::new(Notify::new());
    let quick_done = Arc::new(AtomicUsize::new(0));
    let mut config = RunnerConfig::new("w1".into());
    config.concurrency = 4;
    config.poll = Duration::from_millis(50);
    let runner = Runner::new(
        store.clone(),
        Arc::new(SystemClock),
        vec![Arc::new(Gate {
            release: release.clone(),
            quick_done: quick_done.clone(),
        })],
        config,
    );
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    let task = tokio::spawn(runner.run_until(
        async move { stopped.notified().await },
        Duration::from_secs(5),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while quick_done.load(Ordering::SeqCst) < 20 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        quick_done.load(Ordering::SeqCst),
        20,
        "every quick job ran while the slow one was still running"
    );
    release.notify_one();
    stop.notify_one();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the runner stops once its running job ends")
        .unwrap();
}
