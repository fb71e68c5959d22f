//! The durable job queue: a table, leases, retries with backoff and jitter, and fencing.
//!
//! A job is inserted in the same transaction as the write that causes it ([`enqueue`]). Workers
//! [`claim`] due jobs by taking a lease (`locked_by`, `locked_until`); a job whose lease ran out
//! (its worker died) is due again. [`complete`] and [`fail`] only act while the caller still holds
//! the lease (its token, [`Job::worker`], is still the job's), so a run that lost its lease cannot
//! overwrite the work of the one that took over.
//! On PostgreSQL, `for update skip locked` lets several replicas claim without blocking each other;
//! SQLite has one writer, so claiming is already serial.

use crate::{Conn, Dialect, Row, StoreError, Value};
use gatehouse_domain::Timestamp;
use serde::{Deserialize, Serialize};

/// A job to insert.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    /// The tenant the work belongs to, if any.
    pub tenant_id: Option<String>,
    /// Stable snake_case kind; selects the handler. Never rename a kind that may be queued.
    pub kind: String,
    /// The handler's arguments.
    pub args: serde_json::Value,
    /// Attempts before the job is discarded.
    pub max_attempts: i32,
    /// Not run before this instant.
    pub run_at: Timestamp,
    /// At most one job with this key exists at any time (completed ones included).
    pub unique_key: Option<String>,
    /// Who caused it (an identity id), shown as the task's launcher; `None`: the system.
    pub launcher: Option<String>,
    /// What it is about: (`IDENTITY` or `APPLICATION`, id), shown as the task's target.
    pub target: Option<(String, String)>,
}

impl NewJob {
    /// The same job with a launcher (an identity id) and a target (`IDENTITY` or `APPLICATION`,
    /// id), which its task status shows.
    pub fn about(mut self, launcher: Option<&str>, target: Option<(&str, &str)>) -> Self {
        self.launcher = launcher.map(str::to_owned);
        self.target = target.map(|(t, id)| (t.to_owned(), id.to_owned()));
        self
    }
}

/// States of a job row (see the `check` constraint in the migration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for `scheduled_at`.
    Available,
    /// Leased by a worker.
    Running,
    /// Done.
    Completed,
    /// Failed `max_attempts` times, or failed for good.
    Discarded,
    /// Stopped by an administrator.
    Cancelled,
}

impl JobState {
    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "available" => Self::Available,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "discarded" => Self::Discarded,
            "cancelled" => Self::Cancelled,
            other => return Err(StoreError::Decode(format!("unknown job state {other}"))),
        })
    }
}

/// A job row.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// Tenant, if any.
    pub tenant_id: Option<String>,
    /// Kind.
    pub kind: String,
    /// Arguments.
    pub args: serde_json::Value,
    /// State.
    pub state: JobState,
    /// Attempts made so far (the running one included).
    pub attempt: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Due at.
    pub scheduled_at: Timestamp,
    /// Errors of earlier attempts, oldest first.
    pub errors: Vec<String>,
    /// The lease token of the run holding the job, while it runs: the worker's name and the
    /// attempt (`worker-1:3`). Every fenced write ([`heartbeat`], [`complete`], [`fail`],
    /// [`release`]) names it, so a run whose lease was taken, by another worker or by a later
    /// claim of the same worker, changes nothing.
    pub worker: Option<String>,
    /// When that lease runs out (another worker may then take the job), while it runs.
    pub leased_until: Option<Timestamp>,
}

const COLUMNS: &str =
    "id, tenant_id, kind, args, state, attempt, max_attempts, scheduled_at, errors, locked_by, locked_until";

fn job_of(r: &Row) -> Result<Job, StoreError> {
    Ok(Job {
        id: r.int(0)?,
        tenant_id: r.opt_text(1)?,
        kind: r.text(2)?,
        args: r.json(3)?,
        state: JobState::parse(&r.text(4)?)?,
        attempt: i32::try_from(r.int(5)?).unwrap_or(i32::MAX),
        max_attempts: i32::try_from(r.int(6)?).unwrap_or(i32::MAX),
        scheduled_at: r.ts(7)?,
        errors: r.json(8)?,
        worker: r.opt_text(9)?,
        leased_until: r.opt_ts(10)?,
    })
}

/// Inserts `job` in the caller's transaction. Returns its id, or `None` when a job with the same
/// `unique_key` already exists (nothing is inserted then).
pub fn enqueue(c: &mut dyn Conn, job: &NewJob, now: Timestamp) -> Result<Option<i64>, StoreError> {
    let row = c.query_opt(
        "insert into job (tenant_id, kind, args, max_attempts, scheduled_at, unique_key, created,
                          launcher, target_type, target_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (unique_key) do nothing
         returning id",
        &[
            job.tenant_id.clone().into(),
            job.kind.clone().into(),
            job.args.to_string().into(),
            job.max_attempts.into(),
            job.run_at.into(),
            job.unique_key.clone().into(),
            now.into(),
            job.launcher.clone().into(),
            job.target.as_ref().map(|t| t.0.clone()).into(),
            job.target.as_ref().map(|t| t.1.clone()).into(),
        ],
    )?;
    row.map(|r| r.int(0)).transpose()
}

/// Leases up to `limit` due jobs of the given kinds to `worker` until `now + lease_ms`.
/// A job is due when it is available and scheduled, or running with an expired lease. Each
/// claimed job's [`Job::worker`] is its lease token, `worker:attempt`: a job claimed again while
/// an earlier run still goes on (its lease ran out under it) is fenced from that run even when
/// the same worker claims it.
pub fn claim(
    c: &mut dyn Conn,
    worker: &str,
    kinds: &[&str],
    now: Timestamp,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Value> = vec![
        worker.into(),
        now.plus_millis(lease_ms).into(),
        now.into(),
        limit.into(),
    ];
    let mut kind_list = String::new();
    for (i, k) in kinds.iter().enumerate() {
        if i > 0 {
            kind_list.push_str(", ");
        }
        kind_list.push_str(&format!("${}", params.len() + 1));
        params.push((*k).into());
    }
    let lock = match c.dialect() {
        Dialect::Postgres => " for update skip locked",
        Dialect::Sqlite => "",
    };
    // Two index walks in `job_ready` order (state, scheduled_at, id), each stopping at `limit`:
    // one predicate with `or` made SQLite collect and sort every due job on each claim, which
    // under a backlog of tens of thousands cost more than the jobs.
    let sql = format!(
        "update job set state = 'running', attempt = attempt + 1,
                        locked_by = $1 || ':' || (attempt + 1), locked_until = $2,
                        launched = coalesce(launched, $3)
         where id in (
             select id from (
                 select id, scheduled_at from (
                     select id, scheduled_at from job
                     where state = 'available' and scheduled_at <= $3 and kind in ({kind_list})
                     order by scheduled_at, id limit $4{lock}) due
                 union all
                 select id, scheduled_at from (
                     select id, scheduled_at from job
                     where state = 'running' and locked_until <= $3 and kind in ({kind_list})
                     order by scheduled_at, id limit $4{lock}) expired) candidates
             order by scheduled_at, id
             limit $4)
         returning {COLUMNS}"
    );
    let mut jobs = c
        .query(&sql, &params)?
        .iter()
        .map(job_of)
        .collect::<Result<Vec<_>, _>>()?;
    jobs.sort_by_key(|j| (j.scheduled_at, j.id));
    Ok(jobs)
}

/// Extends the lease of the run with lease token `token` ([`Job::worker`]) on job `id` to
/// `until`. False (and no change) when the lease was lost: the job was claimed again (by another
/// worker or this one), or it ended. A lease that ran out but that no one took yet is still the
/// run's to extend: a claim and this update exclude each other row by row.
pub fn heartbeat(
    c: &mut dyn Conn,
    id: i64,
    token: &str,
    until: Timestamp,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "update job set locked_until = $1 where id = $2 and locked_by = $3 and state = 'running'",
        &[until.into(), id.into(), token.into()],
    )?;
    Ok(n == 1)
}

/// Marks job `id` completed. False (and no change) when `token` no longer holds its lease.
pub fn complete(
    c: &mut dyn Conn,
    id: i64,
    token: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "update job set state = 'completed', finalized_at = $1, locked_by = null, locked_until = null
         where id = $2 and locked_by = $3 and state = 'running'",
        &[now.into(), id.into(), token.into()],
    )?;
    Ok(n == 1)
}

/// Gives back the lease of the run with token `token` on job `id` without counting the attempt: the job is available
/// again at once, for any worker, and keeps its `scheduled_at` (when it was due). A server that
/// stops hands back the jobs it could not finish, so they do not wait for their lease to run
/// out. False (and no change) when `token` no longer holds the lease.
pub fn release(c: &mut dyn Conn, id: i64, token: &str) -> Result<bool, StoreError> {
    let n = c.execute(
        "update job set state = 'available', locked_by = null, locked_until = null,
                        attempt = case when attempt > 0 then attempt - 1 else 0 end
         where id = $1 and locked_by = $2 and state = 'running'",
        &[id.into(), token.into()],
    )?;
    Ok(n == 1)
}

/// Puts job `id` back for later without counting the run held under `token` as an attempt: it is
/// available again at `at`, with no error kept. For a run that made no outside call because it
/// was asked to wait (a desk's `Retry-After`). False (and no change) when `token` no longer holds
/// the lease.
pub fn defer(c: &mut dyn Conn, id: i64, token: &str, at: Timestamp) -> Result<bool, StoreError> {
    let n = c.execute(
        "update job set state = 'available', scheduled_at = $1, locked_by = null, locked_until = null,
                        attempt = case when attempt > 0 then attempt - 1 else 0 end
         where id = $2 and locked_by = $3 and state = 'running'",
        &[at.into(), id.into(), token.into()],
    )?;
    Ok(n == 1)
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again at this instant, if attempts remain.
    At(Timestamp),
    /// Do not try again.
    Never,
}

/// Records a failed attempt of job `id`: the error is kept, and the job is either due again at the
/// retry instant or discarded (no attempts left, or [`Retry::Never`]). Returns the new state, or
/// `None` when `token` no longer holds the lease (nothing changes then).
pub fn fail(
    c: &mut dyn Conn,
    id: i64,
    token: &str,
    now: Timestamp,
    error: &str,
    retry: Retry,
) -> Result<Option<JobState>, StoreError> {
    let Some(row) = c.query_opt(
        "select attempt, max_attempts, errors from job where id = $1 and locked_by = $2 and state = 'running'",
        &[id.into(), token.into()],
    )?
    else {
        return Ok(None);
    };
    let (attempt, max) = (row.int(0)?, row.int(1)?);
    let mut errors: Vec<String> = row.json(2)?;
    errors.push(error.chars().take(2_000).collect());
    let errors = serde_json::to_string(&errors)?;
    let state = match retry {
        Retry::At(at) if attempt < max => {
            c.execute(
                "update job set state = 'available', scheduled_at = $1, errors = $2, locked_by = null, locked_until = null
                 where id = $3",
                &[at.into(), errors.into(), id.into()],
            )?;
            JobState::Available
        }
        _ => {
            c.execute(
                "update job set state = 'discarded', finalized_at = $1, errors = $2, locked_by = null, locked_until = null
                 where id = $3",
                &[now.into(), errors.into(), id.into()],
            )?;
            JobState::Discarded
        }
    };
    Ok(Some(state))
}

/// Cancels job `id` unless it already finished. True when it was cancelled.
pub fn cancel(c: &mut dyn Conn, id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let n = c.execute(
        "update job set state = 'cancelled', finalized_at = $1, locked_by = null, locked_until = null
         where id = $2 and state in ('available', 'running')",
        &[now.into(), id.into()],
    )?;
    Ok(n == 1)
}

/// Reads job `id`.
pub fn get(c: &mut dyn Conn, id: i64) -> Result<Option<Job>, StoreError> {
    c.query_opt(
        &format!("select {COLUMNS} from job where id = $1"),
        &[id.into()],
    )?
    .as_ref()
    .map(job_of)
    .transpose()
}

/// Counts jobs that are not finished (available or running).
pub fn count_unfinished(c: &mut dyn Conn) -> Result<i64, StoreError> {
    c.query_one(
        "select count(*) from job where state in ('available', 'running')",
        &[],
    )?
    .int(0)
}

/// The delay before retry number `attempt` (1-based): full jitter over an exponential ceiling,
/// `uniform(0, min(cap, base · 2^(attempt-1)))`, with `unit` a uniform sample in `[0, 1)`.
pub fn backoff_ms(attempt: i32, base_ms: i64, cap_ms: i64, unit: f64) -> i64 {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    let ceiling = base_ms
        .saturating_mul(1_i64 << exp.min(40))
        .min(cap_ms)
        .max(0);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ceiling as f64 * unit) as i64
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    /// DUR-6: every delay lies in `[0, min(cap, base·2^(n-1))]`, the cap holds, and the jitter is
    /// real (full jitter over a uniform draw has a coefficient of variation near 0.577).
    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let (base, cap) = (1_000, 3_600_000);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut unit = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1_u64 << 53) as f64
        };
        for attempt in 1..=25 {
            let ceiling = (base * (1_i64 << (attempt - 1).min(40))).min(cap);
            let samples: Vec<f64> = (0..10_000)
                .map(|_| {
                    let d = backoff_ms(attempt, base, cap, unit());
                    assert!(
                        (0..=ceiling).contains(&d),
                        "attempt {attempt}: {d} outside 0..={ceiling}"
                    );
                    d as f64
                })
                .collect();
            let mean = samples.iter().sum::<f64>() / samples.len() as f64;
            let var =
                samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / samples.len() as f64;
            let cv = var.sqrt() / mean;
            assert!(
                cv >= 0.5,
                "attempt {attempt}: coefficient of variation {cv}"
            );
        }
        assert_eq!(backoff_ms(1, base, cap, 0.0), 0);
        assert_eq!(backoff_ms(100, base, cap, 0.999_999), 3_599_996);
        assert_eq!(backoff_ms(3, base, cap, f64::NAN), 0);
    }
}
