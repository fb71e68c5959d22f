//! Task status: every background job of a tenant, seen as SailPoint's `TaskStatus`.
//!
//! A job row already holds what a task shows (kind, state, attempts, errors, when it was created
//! and finished); migration 0007 added when it first ran, who caused it and what it is about. A
//! pending task can be cleared: its job is cancelled (so it never runs) with the completion
//! status the administrator gave.
//!
//! Work that does not go through the queue (an import) is recorded as a finished task in the
//! transaction that does it ([`record`]), with its own description, launcher and report.

use crate::jobs::JobState;
use crate::listing::{self, ListQuery, Page};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;

/// The SQL expression of a task's `completionStatus` (null while pending), for filters.
pub const COMPLETION_STATUS: &str = "coalesce(j.completion_status, case j.state \
    when 'completed' then 'SUCCESS' when 'discarded' then 'ERROR' when 'cancelled' then 'TERMINATED' end)";

/// The launcher a task shows when nothing and no one in particular started it.
pub const SYSTEM_LAUNCHER: &str = "Gatehouse";

/// The names a task's launcher answers to in a `launcher` filter (a set, for `FieldKind::TextSet`):
/// the name it shows, and the launching identity's id and user name.
pub const LAUNCHER_NAMES: &str =
    "select coalesce(li.display_name, li.name, j.launcher, j.launcher_label, 'Gatehouse') \
    union select j.launcher where j.launcher is not null \
    union select li.name where li.name is not null";

/// One task.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// The job's id.
    pub id: i64,
    /// Job kind.
    pub kind: String,
    /// Queue state.
    pub state: JobState,
    /// Attempts made.
    pub attempt: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Errors of the attempts, oldest first.
    pub errors: Vec<String>,
    /// Enqueued at.
    pub created: Timestamp,
    /// First run.
    pub launched: Option<Timestamp>,
    /// Finished (completed, discarded or cancelled).
    pub finished: Option<Timestamp>,
    /// `completionStatus` (null while pending).
    pub completion_status: Option<String>,
    /// Who caused it: (identity id, display name).
    pub launcher: Option<(String, Option<String>)>,
    /// What it is about: (type, id, name).
    pub target: Option<(String, String, Option<String>)>,
    /// Its own description, when it has one (else its kind's).
    pub description: Option<String>,
    /// Who ran it when that is not an identity (the command), e.g. `gatehouse import`.
    pub launcher_label: Option<String>,
    /// What a recorded task reported.
    pub report: Option<Report>,
}

/// What a task that ran outside the queue reports: its messages, and what it returned.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Messages, in order.
    pub messages: Vec<ReportMessage>,
    /// The attributes it returned, each with a display name: (name, attribute).
    pub returns: Vec<(String, String)>,
    /// The returned values, by attribute.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// One message of a [`Report`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportMessage {
    /// `INFO`, `WARN` or `ERROR`.
    pub level: String,
    /// A stable key, e.g. `import.summary`.
    pub key: String,
    /// The text.
    pub text: String,
}

/// A task that ran outside the queue, recorded when it has finished.
#[derive(Clone, Debug)]
pub struct Record {
    /// Kind, as a job's (e.g. `tenant_import`).
    pub kind: &'static str,
    /// What this run did.
    pub description: String,
    /// The identity that ran it, when one did.
    pub launcher: Option<String>,
    /// Else the command that ran it.
    pub launcher_label: Option<String>,
    /// Started at.
    pub started: Timestamp,
    /// Finished at.
    pub finished: Timestamp,
    /// `SUCCESS`, `WARNING` or `ERROR`.
    pub completion_status: &'static str,
    /// What it reported.
    pub report: Report,
}

/// Which tasks a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Finished ones.
    Completed,
    /// Not finished.
    Pending,
    /// All.
    All,
}

const COLUMNS: &str = "j.id, j.kind, j.state, j.attempt, j.max_attempts, j.errors, j.created, \
    j.launched, j.finalized_at, j.launcher, coalesce(li.display_name, li.name), j.target_type, \
    j.target_id, coalesce(ti.display_name, ti.name, s.name), j.completion_status, j.description, \
    j.launcher_label, j.report";

const FROM: &str = "job j \
    left join identity li on li.id = j.launcher \
    left join identity ti on j.target_type = 'IDENTITY' and ti.id = j.target_id \
    left join source s on j.target_type = 'APPLICATION' and s.id = j.target_id";

fn state_of(s: &str) -> Result<JobState, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::Decode(format!("unknown job state {s}")))
}

fn task_of(r: &Row) -> Result<Task, StoreError> {
    let state = state_of(&r.text(2)?)?;
    let explicit = r.opt_text(14)?;
    let completion_status = explicit.or(match state {
        JobState::Completed => Some("SUCCESS".into()),
        JobState::Discarded => Some("ERROR".into()),
        JobState::Cancelled => Some("TERMINATED".into()),
        JobState::Available | JobState::Running => None,
    });
    Ok(Task {
        id: r.int(0)?,
        kind: r.text(1)?,
        state,
        attempt: r.int(3)?,
        max_attempts: r.int(4)?,
        errors: r.json(5)?,
        created: r.ts(6)?,
        launched: r.opt_ts(7)?,
        finished: r.opt_ts(8)?,
        completion_status,
        launcher: r.opt_text(9)?.map(|id| (id, r.opt_text(10).ok().flatten())),
        target: match (r.opt_text(11)?, r.opt_text(12)?) {
            (Some(t), Some(id)) => Some((t, id, r.opt_text(13)?)),
            _ => None,
        },
        description: r.opt_text(15)?,
        launcher_label: r.opt_text(16)?,
        report: r
            .opt_text(17)?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Decode(format!("task report: {e}")))?,
    })
}

fn base(which: Which, since: Option<Timestamp>) -> (String, Vec<Value>) {
    let mut sql = "j.tenant_id = $1".to_owned();
    sql.push_str(match which {
        Which::Completed => " and j.state in ('completed', 'discarded', 'cancelled')",
        Which::Pending => " and j.state in ('available', 'running')",
        Which::All => "",
    });
    let mut params = Vec::new();
    if let Some(t) = since {
        sql.push_str(" and j.created >= $2");
        params.push(t.into());
    }
    (sql, params)
}

/// The placeholder number a compiled `filters` starts at for a list with `since`.
pub fn first_filter_param(since: Option<Timestamp>) -> usize {
    2 + usize::from(since.is_some())
}

/// One page of the tasks of `tenant_id` (created at or after `since`, when given), newest first.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    which: Which,
    since: Option<Timestamp>,
    q: ListQuery,
) -> Result<Page<Task>, StoreError> {
    let (cond, extra) = base(which, since);
    let mut params: Vec<Value> = vec![tenant_id.into()];
    params.extend(extra);
    listing::page(
        c,
        COLUMNS,
        FROM,
        &cond,
        params,
        q,
        " order by j.created desc, j.id desc",
        task_of,
    )
}

/// Task `id` of `tenant_id` (created at or after `since`, when given).
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: i64,
    since: Option<Timestamp>,
) -> Result<Option<Task>, StoreError> {
    let (cond, extra) = base(Which::All, since);
    let mut params: Vec<Value> = vec![tenant_id.into()];
    params.extend(extra);
    let n = params.len() + 1;
    params.push(id.into());
    c.query_opt(
        &format!("select {COLUMNS} from {FROM} where {cond} and j.id = ${n}"),
        &params,
    )?
    .map(|r| task_of(&r))
    .transpose()
}

/// Clears pending task `id`: its job is cancelled (it will not run) and the task shows `status`
/// completed at `completed`. `Ok(false)` when the task had already finished (nothing changes).
pub fn clear(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: i64,
    status: &str,
    completed: Timestamp,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update job set state = 'cancelled', completion_status = $3, finalized_at = $4, \
         locked_by = null, locked_until = null \
         where tenant_id = $1 and id = $2 and state in ('available', 'running')",
        &[tenant_id.into(), id.into(), status.into(), completed.into()],
    )? == 1)
}

/// Writes `record` as a finished task of `tenant_id` (in the caller's transaction, so it exists
/// exactly when the work it describes was committed). Returns its id.
pub fn record(c: &mut dyn Conn, tenant_id: &str, record: &Record) -> Result<i64, StoreError> {
    let state = if record.completion_status == "ERROR" {
        "discarded"
    } else {
        "completed"
    };
    let report = serde_json::to_string(&record.report)
        .map_err(|e| StoreError::Decode(format!("task report: {e}")))?;
    c.query_one(
        "insert into job (tenant_id, kind, args, state, attempt, max_attempts, scheduled_at, created, \
         launched, finalized_at, completion_status, launcher, description, launcher_label, report) \
         values ($1, $2, '{}', $3, 1, 1, $4, $4, $4, $5, $6, $7, $8, $9, $10) returning id",
        &[
            tenant_id.into(),
            record.kind.into(),
            state.into(),
            record.started.into(),
            record.finished.into(),
            record.completion_status.into(),
            record.launcher.clone().into(),
            record.description.clone().into(),
            record.launcher_label.clone().into(),
            report.into(),
        ],
    )?
    .int(0)
}

/// Sets what job `id` reports (its task's extra messages, returns and attributes), in the
/// caller's transaction, e.g. the ticket a dispatch opened.
pub fn set_report(c: &mut dyn Conn, id: i64, report: &Report) -> Result<(), StoreError> {
    let text = serde_json::to_string(report)
        .map_err(|e| StoreError::Decode(format!("task report: {e}")))?;
    c.execute(
        "update job set report = $2 where id = $1",
        &[id.into(), text.into()],
    )?;
    Ok(())
}

impl Report {
    /// One INFO message and the given returned values.
    pub fn info(key: &str, text: String, values: &[(&str, &str, Option<String>)]) -> Self {
        let mut r = Self {
            messages: vec![ReportMessage {
                level: "INFO".into(),
                key: key.into(),
                text,
            }],
            ..Self::default()
        };
        for (name, attr, value) in values {
            if let Some(v) = value {
                r.returns.push(((*name).to_owned(), (*attr).to_owned()));
                r.attributes.insert((*attr).to_owned(), v.clone().into());
            }
        }
        r
    }
}
