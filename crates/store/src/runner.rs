//! Runs queued jobs: claims due jobs under a lease, runs their handlers, records the outcome.
//!
//! Handlers must be idempotent: a job whose worker died after the work but before `complete` runs
//! again once its lease expires. Only the holder of the lease can record an outcome (fencing).

use crate::jobs::{self, Job, Retry};
use crate::{Store, StoreError};
use gatehouse_domain::Clock;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// How a job attempt ended, when it did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A passing fault: try again after the backoff (if attempts remain).
    #[error("{0}")]
    Retry(String),
    /// A passing fault with a known wait (e.g. `Retry-After`): try again no sooner than this.
    #[error("{message}")]
    RetryAfter {
        /// What went wrong.
        message: String,
        /// Milliseconds to wait at least.
        after_ms: i64,
    },
    /// Not an attempt: the handler chose not to do the work now (e.g. the desk asked for no calls
    /// until a `Retry-After` has passed) and made no outside call. The job is due again after
    /// `after_ms` and the attempt is not counted ([`jobs::defer`]); no error is kept.
    #[error("{message}")]
    Defer {
        /// Why, for the log.
        message: String,
        /// Milliseconds until the job is due again.
        after_ms: i64,
    },
    /// A permanent fault: do not try again.
    #[error("{0}")]
    Fail(String),
    /// The handler found that this worker no longer holds the job's lease (it ran out and another
    /// worker took the job): the attempt stops without doing more, and the runner records nothing,
    /// since the outcome is the new holder's to record.
    #[error("the job's lease was taken by another worker")]
    LeaseLost,
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        Self::Retry(e.to_string())
    }
}

/// A running job: its id and lease token ([`Job::worker`]).
type Held = (i64, String);

/// A boxed future returned by a handler.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

/// The code behind one job kind.
pub trait JobHandler: Send + Sync {
    /// The kind this handler runs.
    fn kind(&self) -> &'static str;
    /// Runs one attempt of `job`.
    fn run(&self, job: Job) -> JobFuture;
    /// True when a successful run has already marked its job completed, in the transaction that
    /// did its work ([`crate::jobs::complete`] with the job's worker); the runner then writes
    /// nothing more.
    fn completes_its_job(&self) -> bool {
        false
    }
}

/// Tuning of a [`Runner`].
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// This worker's name, unique among replicas (used as the lease holder).
    pub worker_id: String,
    /// How long a claimed job stays leased.
    pub lease_ms: i64,
    /// How often to look for due jobs when nothing wakes the runner.
    pub poll: Duration,
    /// Jobs run at once.
    pub concurrency: i64,
    /// First retry delay ceiling.
    pub backoff_base_ms: i64,
    /// Largest retry delay.
    pub backoff_cap_ms: i64,
    /// After how many finished runs this runner has the job table vacuumed
    /// ([`Store::vacuum_jobs`]; 0: never).
    pub vacuum_every: u64,
}

impl RunnerConfig {
    /// Defaults for worker `worker_id`.
    pub fn new(worker_id: String) -> Self {
        Self {
            worker_id,
            lease_ms: 60_000,
            poll: Duration::from_millis(1_000),
            concurrency: 16,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 3_600_000,
            vacuum_every: 5_000,
        }
    }
}

/// Claims and runs jobs for the registered handlers.
#[derive(Clone)]
pub struct Runner {
    store: Store,
    clock: Arc<dyn Clock>,
    handlers: Arc<HashMap<&'static str, Arc<dyn JobHandler>>>,
    config: RunnerConfig,
    wake: Arc<Notify>,
    /// Runs finished, and whether a vacuum is under way (one at a time).
    finished: Arc<AtomicU64>,
    vacuuming: Arc<AtomicBool>,
}

impl Runner {
    /// A runner over `store` for `handlers`.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        handlers: Vec<Arc<dyn JobHandler>>,
        config: RunnerConfig,
    ) -> Self {
        let handlers = handlers.into_iter().map(|h| (h.kind(), h)).collect();
        Self {
            store,
            clock,
            handlers: Arc::new(handlers),
            config,
            wake: Arc::new(Notify::new()),
            finished: Arc::new(AtomicU64::new(0)),
            vacuuming: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A handle that wakes the runner at once (call it after enqueuing).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Claims the jobs due now and runs them to their outcome. Returns how many ran.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        let claimed = self.claim_due(self.slots()).await?;
        let n = claimed.len();
        let mut batch = JoinSet::new();
        self.spawn_into(&mut batch, claimed);
        while let Some(done) = batch.join_next().await {
            Self::log_outcome(done);
        }
        Ok(n)
    }

    /// Claims up to `limit` due jobs of the registered kinds under this worker's lease.
    async fn claim_due(&self, limit: usize) -> Result<Vec<Job>, StoreError> {
        let kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        let (worker, lease, now) = (
            self.config.worker_id.clone(),
            self.config.lease_ms,
            self.clock.now(),
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store
            .write(move |c| jobs::claim(c, &worker, &kinds, now, lease, limit))
            .await
    }

    /// How many jobs run at once.
    fn slots(&self) -> usize {
        usize::try_from(self.config.concurrency.max(1)).unwrap_or(1)
    }

    /// Runs each of `claimed` as a task of `set`, which answers with the job's id and lease token.
    fn spawn_into(&self, set: &mut JoinSet<(Held, Result<(), StoreError>)>, claimed: Vec<Job>) {
        for job in claimed {
            let this = self.clone();
            let held = (job.id, job.worker.clone().unwrap_or_default());
            set.spawn(async move { (held, this.run_one(job).await) });
        }
    }

    fn log_outcome(done: Result<(Held, Result<(), StoreError>), tokio::task::JoinError>) {
        if let Ok(((id, _), Err(e))) = done {
            tracing::error!(job.id = id, error = %e, "recording a job outcome failed: {e}");
        }
    }

    async fn run_one(&self, job: Job) -> Result<(), StoreError> {
        let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
            return Ok(());
        };
        let outcome = self.run_handler(&*handler, job).await;
        self.count_finished();
        outcome
    }

    /// On PostgreSQL, counts a finished run; every `vacuum_every` of them, has the job table
    /// vacuumed in the background (unless a vacuum is still under way). Each run leaves dead row
    /// versions behind (the claim and the outcome are updates), which every claim walks until a
    /// vacuum clears them; PostgreSQL's autovacuum comes late on a busy queue (20 % of the table,
    /// once a minute) or not at all where it is off.
    fn count_finished(&self) {
        let every = self.config.vacuum_every;
        if self.store.dialect() == crate::Dialect::Sqlite {
            return; // its freed pages are reused at once: nothing to vacuum
        }
        let n = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
        if every == 0 || !n.is_multiple_of(every) || self.vacuuming.swap(true, Ordering::AcqRel) {
            return;
        }
        let (store, vacuuming) = (self.store.clone(), self.vacuuming.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match store.vacuum_jobs().await {
                Ok(()) => {
                    tracing::debug!(ms = started.elapsed().as_millis(), "vacuumed the job table")
                }
                Err(e) => tracing::warn!(error = %e, "vacuuming the job table failed: {e}"),
            }
            vacuuming.store(false, Ordering::Release);
        });
    }

    async fn run_handler(&self, handler: &dyn JobHandler, job: Job) -> Result<(), StoreError> {
        let (id, attempt, kind) = (job.id, job.attempt, job.kind.clone());
        let worker = job.worker.clone().unwrap_or_default();
        let outcome = handler.run(job).await;
        let now = self.clock.now();
        match outcome {
            Ok(()) if handler.completes_its_job() => {}
            Ok(()) => {
                self.store
                    .write(move |c| jobs::complete(c, id, &worker, now))
                    .await?;
            }
            Err(JobError::LeaseLost) => {
                tracing::info!(job.id = id, job.kind = %kind, "job {id} ({kind}) attempt {attempt} stopped: its lease was taken by another worker");
            }
            Err(JobError::Defer { message, after_ms }) => {
                tracing::debug!(job.id = id, job.kind = %kind, "job {id} ({kind}) deferred by {after_ms} ms: {message}");
                let at = now.plus_millis(after_ms.max(0));
                self.store
                    .write(move |c| jobs::defer(c, id, &worker, at))
                    .await?;
            }
            Err(err) => {
                let delay = jobs::backoff_ms(
                    attempt,
                    self.config.backoff_base_ms,
                    self.config.backoff_cap_ms,
                    rand::random::<f64>(),
                );
                let retry = match &err {
                    JobError::Retry(_) => Retry::At(now.plus_millis(delay)),
                    JobError::RetryAfter { after_ms, .. } => {
                        Retry::At(now.plus_millis(delay.max(*after_ms)))
                    }
                    JobError::Fail(_) | JobError::LeaseLost | JobError::Defer { .. } => {
                        Retry::Never
                    }
                };
                let message = err.to_string();
                tracing::warn!(job.id = id, job.kind = %kind, job.attempt = attempt, "job {id} ({kind}) attempt {attempt} failed: {message}");
                self.store
                    .write(move |c| jobs::fail(c, id, &worker, now, &message, retry))
                    .await?;
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` resolves. Jobs run in a pipeline: once half of the `concurrency`
    /// slots are free the runner claims due jobs for them, without waiting for the rest of the
    /// last claim to finish (one slow job, say a desk call waiting for its integration's permit,
    /// no longer holds back the jobs queued behind it); with nothing due it sleeps until woken,
    /// until a job ends, or for the poll interval.
    ///
    /// Once `shutdown` resolves, no job is claimed any more; the jobs running then get `drain` to
    /// finish, and those still running after it are stopped and their leases given back
    /// ([`jobs::release`]), so that another worker, or this one after a restart, takes them at
    /// once rather than when the lease runs out. Returns the number of jobs given back.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send,
        drain: Duration,
    ) -> usize {
        tokio::pin!(shutdown);
        let slots = self.slots();
        let refill_at = slots.div_ceil(2);
        let mut running: HashSet<Held> = HashSet::new();
        let mut batch: JoinSet<(Held, Result<(), StoreError>)> = JoinSet::new();
        loop {
            let free = slots - batch.len();
            if free >= refill_at || batch.is_empty() {
                match self.claim_due(free).await {
                    Ok(claimed) if !claimed.is_empty() => {
                        running.extend(
                            claimed
                                .iter()
                                .map(|j| (j.id, j.worker.clone().unwrap_or_default())),
                        );
                        self.spawn_into(&mut batch, claimed);
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "claiming jobs failed: {e}"),
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.config.poll) => {}
                Some(done) = batch.join_next(), if !batch.is_empty() => {
                    if let Ok((held, _)) = &done {
                        running.remove(held);
                    }
                    Self::log_outcome(done);
                }
            }
        }
        if batch.is_empty() {
            return 0;
        }
        self.stop(batch, running, drain).await
    }

    /// Gives the jobs of `batch` (`running`: ids and lease tokens) `drain` to finish, then stops the rest and
    /// releases their leases.
    async fn stop(
        &self,
        mut batch: JoinSet<(Held, Result<(), StoreError>)>,
        mut running: HashSet<Held>,
        drain: Duration,
    ) -> usize {
        tracing::info!(
            jobs = running.len(),
            "stopping: {} jobs running",
            running.len()
        );
        let deadline = tokio::time::Instant::now() + drain;
        while let Ok(Some(done)) = tokio::time::timeout_at(deadline, batch.join_next()).await {
            if let Ok((held, _)) = &done {
                running.remove(held);
            }
            Self::log_outcome(done);
        }
        batch.abort_all();
        while let Some(done) = batch.join_next().await {
            if let Ok((held, _)) = &done {
                running.remove(held);
            }
            Self::log_outcome(done);
        }
        if running.is_empty() {
            return 0;
        }
        let held: Vec<Held> = running.into_iter().collect();
        let released = self
            .store
            .write(move |c| {
                let mut n = 0;
                for (id, token) in held {
                    if jobs::release(c, id, &token)? {
                        n += 1;
                    }
                }
                Ok(n)
            })
            .await;
        match released {
            Ok(n) => {
                tracing::info!(
                    jobs = n,
                    "stopping: released the leases of {n} unfinished jobs"
                );
                n
            }
            Err(e) => {
                tracing::error!(error = %e, "releasing the leases of unfinished jobs failed: {e}");
                0
            }
        }
    }
}
