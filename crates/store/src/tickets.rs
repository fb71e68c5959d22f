//! Service-desk tickets: the `service_desk_ticket` rows that follow a requested item through its
//! desk, and the transitions the ticket jobs and the inbound webhook make.
//!
//! A ticket row is written ([`begin`]) and committed before the desk is called; its correlation id
//! goes with the create, so a retry after a crash or a timeout looks the ticket up first.
//! [`opened`] records the desk's answer and schedules the first status check; [`settle`] ends the
//! ticket (Committed or Failed) and, in the same transaction, completes or fails the request.
//! Settling twice changes nothing the second time.

use crate::access_requests::{engine, kinds, rows, Stage};
use crate::jobs::{self, NewJob};
use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;
use serde_json::json;

/// Where a ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not yet confirmed by the desk (a create may be in flight or may have been lost).
    Creating,
    /// Open at the desk; its status is followed.
    Open,
    /// Committed or Failed.
    Done,
}

impl Phase {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Open => "OPEN",
            Self::Done => "DONE",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "CREATING" => Self::Creating,
            "OPEN" => Self::Open,
            "DONE" => Self::Done,
            other => return Err(StoreError::Decode(format!("unknown ticket phase {other}"))),
        })
    }
}

/// A ticket row.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// The access request (requested item) it provisions.
    pub request_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The service-desk integration it was sent through.
    pub integration_id: String,
    /// Sent with the create; how a retried create finds a ticket the desk already made.
    pub correlation_id: String,
    /// Phase.
    pub phase: Phase,
    /// SailPoint's status: `Queued`, `Committed` or `Failed`.
    pub status: String,
    /// The desk's id (`sys_id`, Jira issue id, generic id).
    pub desk_id: Option<String>,
    /// The desk's display number (`INC0010001`, `IAM-7`), when it has one.
    pub desk_number: Option<String>,
    /// The desk's own status value, as last seen.
    pub desk_status: Option<String>,
    /// Create attempts made.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// Written at.
    pub created: Timestamp,
    /// Confirmed open at.
    pub opened: Option<Timestamp>,
    /// Last status check.
    pub checked: Option<Timestamp>,
    /// Settled at.
    pub closed: Option<Timestamp>,
    /// Polling stops (and the item fails as expired) after this.
    pub check_until: Option<Timestamp>,
}

const COLUMNS: &str = "request_id, tenant_id, integration_id, correlation_id, phase, status, \
    desk_id, desk_number, desk_status, attempts, last_error, created, opened, checked, closed, \
    check_until";

fn of(r: &Row) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        request_id: r.text(0)?,
        tenant_id: r.text(1)?,
        integration_id: r.text(2)?,
        correlation_id: r.text(3)?,
        phase: Phase::parse(&r.text(4)?)?,
        status: r.text(5)?,
        desk_id: r.opt_text(6)?,
        desk_number: r.opt_text(7)?,
        desk_status: r.opt_text(8)?,
        attempts: r.int(9)?,
        last_error: r.opt_text(10)?,
        created: r.ts(11)?,
        opened: r.opt_ts(12)?,
        checked: r.opt_ts(13)?,
        closed: r.opt_ts(14)?,
        check_until: r.opt_ts(15)?,
    })
}

/// The correlation id of request `request_id`'s ticket.
pub fn correlation_id(request_id: &str) -> String {
    format!("gatehouse-{request_id}")
}

/// The ticket of request `request_id`.
pub fn get(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
) -> Result<Option<Ticket>, StoreError> {
    c.query_opt(
        &format!(
            "select {COLUMNS} from service_desk_ticket where tenant_id = $1 and request_id = $2"
        ),
        &[tenant_id.into(), request_id.into()],
    )?
    .map(|r| of(&r))
    .transpose()
}

/// The ticket of integration `integration_id` that the desk knows as `key`: its correlation id,
/// its desk id or its desk number.
pub fn find(
    c: &mut dyn Conn,
    tenant_id: &str,
    integration_id: &str,
    key: &str,
) -> Result<Option<Ticket>, StoreError> {
    for column in ["correlation_id", "desk_id", "desk_number"] {
        let found = c.query_opt(
            &format!(
                "select {COLUMNS} from service_desk_ticket \
                 where tenant_id = $1 and integration_id = $2 and {column} = $3"
            ),
            &[tenant_id.into(), integration_id.into(), key.into()],
        )?;
        if let Some(r) = found {
            return of(&r).map(Some);
        }
    }
    Ok(None)
}

/// What a ticket job needs to know about the request it serves.
#[derive(Clone, Debug)]
pub struct Work {
    /// The request.
    pub request: rows::AccessRequest,
    /// Its ticket (which names the integration it goes through).
    pub ticket: Ticket,
}

/// The integration that manages `source_id`, if any.
pub fn integration_of_source(
    c: &mut dyn Conn,
    tenant_id: &str,
    source_id: &str,
) -> Result<Option<String>, StoreError> {
    let r = c.query_opt(
        "select coalesce(m.integration_id, s.service_desk_integration_id) from source s \
         left join service_desk_managed_source m on m.source_id = s.id \
         where s.tenant_id = $1 and s.id = $2",
        &[tenant_id.into(), source_id.into()],
    )?;
    Ok(r.map(|r| r.opt_text(0)).transpose()?.flatten())
}

/// Starts (or resumes) the ticket of request `request_id`: `None` when the request no longer
/// waits for a ticket (cancelled, closed, already settled) or its source has no integration left
/// (then the request fails, saying so). Writes the ticket row on first use.
pub fn begin(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    now: Timestamp,
) -> Result<Option<Work>, StoreError> {
    let Some(request) = rows::get_request(c, tenant_id, request_id)? else {
        return Ok(None);
    };
    if request.stage != Stage::Ticket {
        return Ok(None);
    }
    if let Some(ticket) = get(c, tenant_id, request_id)? {
        if ticket.phase == Phase::Done {
            return Ok(None);
        }
        return Ok(Some(Work { request, ticket }));
    }
    let integration = match &request.source_id {
        Some(s) => integration_of_source(c, tenant_id, s)?,
        None => None,
    };
    let Some(integration_id) = integration else {
        engine::ticket_settled(
            c,
            tenant_id,
            request_id,
            false,
            "The source is no longer managed by a service-desk integration.",
            now,
        )?;
        return Ok(None);
    };
    c.execute(
        "insert into service_desk_ticket (request_id, tenant_id, integration_id, correlation_id, \
         phase, status, attempts, created) values ($1, $2, $3, $4, 'CREATING', 'Queued', 0, $5)",
        &[
            request_id.into(),
            tenant_id.into(),
            integration_id.clone().into(),
            correlation_id(request_id).into(),
            now.into(),
        ],
    )?;
    let ticket = get(c, tenant_id, request_id)?
        .ok_or_else(|| StoreError::Decode("ticket row vanished".into()))?;
    Ok(Some(Work { request, ticket }))
}

/// Records why a create attempt failed (kept for the task and, in the end, the item).
pub fn attempt_failed(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    error: &str,
) -> Result<(), StoreError> {
    c.execute(
        "update service_desk_ticket set last_error = $3 \
         where tenant_id = $1 and request_id = $2 and phase = 'CREATING'",
        &[tenant_id.into(), request_id.into(), error.into()],
    )?;
    Ok(())
}

/// Counts a create attempt about to be made (so a crash mid-call is remembered: the next attempt
/// looks the ticket up first).
pub fn attempt_started(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
) -> Result<(), StoreError> {
    c.execute(
        "update service_desk_ticket set attempts = attempts + 1 \
         where tenant_id = $1 and request_id = $2 and phase = 'CREATING'",
        &[tenant_id.into(), request_id.into()],
    )?;
    Ok(())
}

/// What the desk answered for a created (or found) ticket.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The desk's id.
    pub desk_id: String,
    /// Its display number.
    pub desk_number: Option<String>,
    /// Its status value.
    pub desk_status: Option<String>,
}

/// How long an open ticket is followed, and how long it counts as a pending request.
#[derive(Clone, Copy, Debug)]
pub struct Follow {
    /// Minutes between status checks.
    pub interval_minutes: u32,
    /// Polling stops after this many days.
    pub max_days: u32,
    /// `noProvisioningRequests`: an open ticket does not count as a pending request.
    pub no_provisioning_requests: bool,
    /// `provisioningRequestExpiration`: an open ticket counts as pending for this many hours.
    pub request_expiration_hours: Option<i32>,
}

fn status_job(tenant_id: &str, request_id: &str, at: Timestamp) -> NewJob {
    NewJob {
        tenant_id: Some(tenant_id.to_owned()),
        kind: kinds::TICKET_STATUS.to_owned(),
        args: json!({"tenantId": tenant_id, "id": request_id}),
        max_attempts: 10,
        run_at: at,
        unique_key: Some(format!("{}:{request_id}:{}", kinds::TICKET_STATUS, at.0)),
        launcher: None,
        target: None,
    }
}

/// Records the desk's ticket: the ticket is open and its first status check is scheduled (the
/// request stays EXECUTING until the desk commits or fails it). Does nothing to a ticket that is no longer being
/// created.
pub fn opened(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    o: &Opened,
    follow: Follow,
    now: Timestamp,
) -> Result<bool, StoreError> {
    const MINUTE: i64 = 60_000;
    let check_until = now.plus_millis(i64::from(follow.max_days) * 1440 * MINUTE);
    let pending_until = if follow.no_provisioning_requests {
        Some(now)
    } else {
        follow
            .request_expiration_hours
            .filter(|h| *h > 0)
            .map(|h| now.plus_millis(i64::from(h) * 60 * MINUTE))
    };
    let changed = c.execute(
        "update service_desk_ticket set phase = 'OPEN', desk_id = $3, desk_number = $4, \
         desk_status = $5, opened = $6, check_until = $7, pending_until = $8, last_error = null \
         where tenant_id = $1 and request_id = $2 and phase = 'CREATING'",
        &[
            tenant_id.into(),
            request_id.into(),
            o.desk_id.clone().into(),
            o.desk_number.clone().into(),
            o.desk_status.clone().into(),
            now.into(),
            check_until.into(),
            pending_until.into(),
        ],
    )? > 0;
    if changed {
        let first = now.plus_millis(i64::from(follow.interval_minutes) * MINUTE);
        let whom = requested_for(c, tenant_id, request_id)?;
        jobs::enqueue(
            c,
            &status_job(tenant_id, request_id, first).about(None, Some(("IDENTITY", &whom))),
            now,
        )?;
    }
    Ok(changed)
}

fn requested_for(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
) -> Result<String, StoreError> {
    Ok(rows::get_request(c, tenant_id, request_id)?
        .map(|r| r.requested_for_id)
        .unwrap_or_default())
}

/// Records a status check that found the ticket still open; schedules the next one at `next`.
pub fn still_open(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    desk_status: Option<&str>,
    next: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "update service_desk_ticket set checked = $3, desk_status = coalesce($4, desk_status) \
         where tenant_id = $1 and request_id = $2 and phase = 'OPEN'",
        &[
            tenant_id.into(),
            request_id.into(),
            now.into(),
            desk_status.map(str::to_owned).into(),
        ],
    )?;
    let whom = requested_for(c, tenant_id, request_id)?;
    jobs::enqueue(
        c,
        &status_job(tenant_id, request_id, next).about(None, Some(("IDENTITY", &whom))),
        now,
    )?;
    Ok(())
}

/// Ends a ticket: `Committed` completes the request (the access is granted or revoked), anything
/// else fails it with `message`. Returns false (and changes nothing) when the ticket was already
/// settled.
pub fn settle(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    status: &str,
    desk_status: Option<&str>,
    message: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let status = if status == "Committed" {
        "Committed"
    } else {
        "Failed"
    };
    let changed = c.execute(
        "update service_desk_ticket set phase = 'DONE', status = $3, \
         desk_status = coalesce($4, desk_status), closed = $5, checked = $5, \
         last_error = case when $3 = 'Failed' then $6 else last_error end \
         where tenant_id = $1 and request_id = $2 and phase <> 'DONE'",
        &[
            tenant_id.into(),
            request_id.into(),
            status.into(),
            desk_status.map(str::to_owned).into(),
            now.into(),
            Value::from(message),
        ],
    )? > 0;
    if changed {
        engine::ticket_settled(
            c,
            tenant_id,
            request_id,
            status == "Committed",
            message,
            now,
        )?;
    }
    Ok(changed)
}

/// Records the desk's status of an open ticket, as a webhook reported it, without scheduling a
/// check (the polling chain goes on by itself).
pub fn seen(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    desk_status: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update service_desk_ticket set checked = $3, desk_status = $4 \
         where tenant_id = $1 and request_id = $2 and phase <> 'DONE' \
         and (desk_status is null or desk_status <> $4)",
        &[
            tenant_id.into(),
            request_id.into(),
            now.into(),
            desk_status.into(),
        ],
    )? > 0)
}
