//! The transitions of a request: process → approval steps → provisioning, and the decisions,
//! hand-overs, cancellations and timers along the way. Each function runs inside the caller's
//! write transaction and enqueues the jobs its change causes.

use super::chain::{self, Owner};
use super::rows::{self, AccessRequest, Approval, ApprovalStatus, ForwardEntry, Stage, State};
use super::{kinds, new_id};
use crate::assignments::{self, Assignment, ItemType, Reason};
use crate::jobs::{self, NewJob};
use crate::{access_config, Conn, StoreError};
use gatehouse_domain::access_config::AccessRequestConfig;
use gatehouse_domain::Timestamp;
use serde_json::json;

const DAY_MS: i64 = 86_400_000;

/// Who is acting.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Their identity.
    pub identity_id: String,
    /// ORG_ADMIN: may act on anything in the tenant.
    pub is_admin: bool,
}

/// Why a transition was refused (the API turns each into a 400, 403 or 404).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such object, or not one the actor may see.
    NotFound(String),
    /// The actor may see it but not do this.
    Forbidden(String),
    /// The object is not in a state that allows this.
    Invalid(String),
}

/// Outcome of a transition: the value, or why it was refused.
pub type Outcome<T> = Result<Result<T, Refusal>, StoreError>;

fn job(
    tenant_id: &str,
    kind: &str,
    args: serde_json::Value,
    run_at: Timestamp,
    key: Option<String>,
) -> NewJob {
    NewJob {
        tenant_id: Some(tenant_id.to_owned()),
        kind: kind.to_owned(),
        args,
        max_attempts: 10,
        run_at,
        unique_key: key,
        launcher: None,
        target: None,
    }
}

/// Enqueues the processing job of a freshly inserted request.
pub fn enqueue_process(
    c: &mut dyn Conn,
    r: &AccessRequest,
    now: Timestamp,
) -> Result<(), StoreError> {
    jobs::enqueue(
        c,
        &job(
            &r.tenant_id,
            kinds::PROCESS,
            json!({"tenantId": r.tenant_id, "id": r.id}),
            now,
            Some(format!("{}:{}", kinds::PROCESS, r.id)),
        )
        .about(
            Some(&r.requester_id),
            Some(("IDENTITY", &r.requested_for_id)),
        ),
        now,
    )?;
    Ok(())
}

fn set_stage(
    c: &mut dyn Conn,
    r: &mut AccessRequest,
    stage: Stage,
    state: State,
    now: Timestamp,
) -> Result<(), StoreError> {
    r.stage = stage;
    r.state = state;
    r.modified = now;
    if stage == Stage::Done {
        r.completed = Some(now);
    }
    c.execute(
        "update access_request set stage = $3, state = $4, step = $5, modified = $6, completed = $7, \
         error_messages = $8 where tenant_id = $1 and id = $2",
        &[
            r.tenant_id.clone().into(),
            r.id.clone().into(),
            stage.as_str().into(),
            state.as_str().into(),
            r.step.into(),
            now.into(),
            r.completed.into(),
            r.error_messages.as_ref().map(|v| v.to_string()).into(),
        ],
    )?;
    Ok(())
}

/// Runs the processing of request `id`: its first approval step, or its approval when it needs
/// none. Does nothing when it was already processed (the job may run twice).
pub fn process(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut r) = rows::get_request(c, tenant_id, id)? else {
        return Ok(());
    };
    if r.stage != Stage::Queued {
        return Ok(());
    }
    let config = access_config::load(c, tenant_id)?;
    advance(c, &config, &mut r, 0, now)
}

/// Opens the first step from `from` on that needs a person, approving the ones the requester
/// owns when auto-approval is on; approves the request when no step is left.
fn advance(
    c: &mut dyn Conn,
    config: &AccessRequestConfig,
    r: &mut AccessRequest,
    from: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let schemes = chain::schemes(c, r, config)?;
    let start = usize::try_from(from).unwrap_or(usize::MAX);
    for (i, scheme) in schemes.iter().enumerate().skip(start) {
        let owner = match chain::owner(c, r, scheme)? {
            Some(o) => o,
            None => match chain::fallback(c, tenant(r), config)? {
                Some(o) => o,
                None => continue,
            },
        };
        let step = i64::try_from(i).unwrap_or(i64::MAX);
        let auto = config.auto_approval_enabled && owner == Owner::Identity(r.requester_id.clone());
        let p = Approval {
            id: new_id(),
            tenant_id: r.tenant_id.clone(),
            access_request_id: r.id.clone(),
            step,
            scheme: scheme.as_str().to_owned(),
            owner_type: owner.kind().to_owned(),
            owner_id: owner.id().to_owned(),
            original_owner_id: owner.id().to_owned(),
            status: if auto {
                ApprovalStatus::Approved
            } else {
                ApprovalStatus::Pending
            },
            comment: auto
                .then(|| "Approved automatically: the requester is the approver.".to_owned()),
            decided_by: auto.then(|| r.requester_id.clone()),
            decided_at: auto.then_some(now),
            forward_history: Vec::new(),
            reminders_sent: 0,
            escalated: false,
            created: now,
            modified: now,
        };
        rows::insert_approval(c, &p)?;
        if auto {
            continue;
        }
        r.step = step;
        set_stage(c, r, Stage::Approval, State::Executing, now)?;
        schedule_timer(c, config, &p, now)?;
        return Ok(());
    }
    r.step = i64::try_from(schemes.len()).unwrap_or(i64::MAX);
    approved(c, r, now)
}

fn tenant(r: &AccessRequest) -> &str {
    &r.tenant_id
}

/// Every approval step passed: provision now, or at the start date.
fn approved(c: &mut dyn Conn, r: &mut AccessRequest, now: Timestamp) -> Result<(), StoreError> {
    let later = r.start_date.filter(|d| *d > now);
    let stage = if later.is_some() {
        Stage::Scheduled
    } else {
        Stage::Provisioning
    };
    set_stage(c, r, stage, State::Executing, now)?;
    jobs::enqueue(
        c,
        &job(
            &r.tenant_id,
            kinds::PROVISION,
            json!({"tenantId": r.tenant_id, "id": r.id}),
            later.unwrap_or(now),
            Some(format!("{}:{}", kinds::PROVISION, r.id)),
        )
        .about(None, Some(("IDENTITY", &r.requested_for_id))),
        now,
    )?;
    Ok(())
}

/// True when `source_id` is provisioned through a service-desk integration.
pub fn desk_managed(
    c: &mut dyn Conn,
    tenant_id: &str,
    source_id: &str,
) -> Result<bool, StoreError> {
    Ok(c.query_opt(
        "select 1 from source s where s.tenant_id = $1 and s.id = $2 and \
             (s.service_desk_integration_id is not null or exists \
              (select 1 from service_desk_managed_source m where m.source_id = s.id))",
        &[tenant_id.into(), source_id.into()],
    )?
    .is_some())
}

/// Provisions approved request `id` (when its start date has come): grants or revokes the
/// assignment, or hands it to the service desk when its source is desk-managed. Does nothing
/// for a request that is not waiting for provisioning.
pub fn provision(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut r) = rows::get_request(c, tenant_id, id)? else {
        return Ok(());
    };
    if !matches!(r.stage, Stage::Scheduled | Stage::Provisioning) {
        return Ok(());
    }
    if let Some(source) = r.source_id.clone() {
        if desk_managed(c, tenant_id, &source)? {
            set_stage(c, &mut r, Stage::Ticket, State::Executing, now)?;
            jobs::enqueue(
                c,
                &job(
                    tenant_id,
                    kinds::TICKET,
                    json!({"tenantId": tenant_id, "id": r.id}),
                    now,
                    Some(format!("{}:{}", kinds::TICKET, r.id)),
                )
                .about(None, Some(("APPLICATION", &source))),
                now,
            )?;
            return Ok(());
        }
    }
    apply(c, &r, now)?;
    set_stage(c, &mut r, Stage::Done, State::RequestCompleted, now)
}

/// The ticket of request `id` ended: committed, the access is granted or revoked and the request
/// completes; otherwise it fails (`PROVISIONING_FAILED`) with `message` as its error. Does nothing
/// to a request that no longer waits for its ticket.
pub fn ticket_settled(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    committed: bool,
    message: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut r) = rows::get_request(c, tenant_id, id)? else {
        return Ok(());
    };
    if r.stage != Stage::Ticket {
        return Ok(());
    }
    if committed {
        apply(c, &r, now)?;
        return set_stage(c, &mut r, Stage::Done, State::RequestCompleted, now);
    }
    r.error_messages =
        Some(json!([[{"locale": "en-US", "localeOrigin": "DEFAULT", "text": message}]]));
    set_stage(c, &mut r, Stage::Done, State::ProvisioningFailed, now)
}

fn item_type(r: &AccessRequest) -> ItemType {
    match r.item_type.as_str() {
        "ROLE" => ItemType::Role,
        "ACCESS_PROFILE" => ItemType::AccessProfile,
        _ => ItemType::Entitlement,
    }
}

fn schedule_expiry(
    c: &mut dyn Conn,
    tenant_id: &str,
    a: &str,
    at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    jobs::enqueue(
        c,
        &job(
            tenant_id,
            kinds::EXPIRE_ASSIGNMENT,
            json!({"tenantId": tenant_id, "id": a}),
            at,
            Some(format!("{}:{a}:{}", kinds::EXPIRE_ASSIGNMENT, at.0)),
        ),
        now,
    )?;
    Ok(())
}

/// Grants (GRANT/MODIFY) or revokes (REVOKE) the access of `r`. Idempotent.
pub fn apply(c: &mut dyn Conn, r: &AccessRequest, now: Timestamp) -> Result<(), StoreError> {
    let t = &r.tenant_id;
    let held = assignments::held(c, t, &r.requested_for_id, item_type(r), &r.item_id)?;
    let requested: Vec<&Assignment> = held
        .iter()
        .filter(|a| matches!(a.reason, Reason::AccessRequest | Reason::Import))
        .filter(|a| r.assignment_id.as_ref().is_none_or(|id| *id == a.id))
        .collect();
    if r.request_type == "REVOKE_ACCESS" {
        for a in requested {
            match r.remove_date.filter(|d| *d > now) {
                Some(at) => {
                    assignments::set_remove_date(c, t, &a.id, Some(at), now)?;
                    schedule_expiry(c, t, &a.id, at, now)?;
                }
                None => {
                    assignments::revoke(c, t, &a.id)?;
                }
            }
        }
        return Ok(());
    }
    if let Some(a) = requested.first() {
        if a.remove_date != r.remove_date {
            assignments::set_remove_date(c, t, &a.id, r.remove_date, now)?;
            if let Some(at) = r.remove_date {
                schedule_expiry(c, t, &a.id, at, now)?;
            }
        }
        return Ok(());
    }
    let a = Assignment {
        id: new_id(),
        tenant_id: t.clone(),
        identity_id: r.requested_for_id.clone(),
        item_type: item_type(r),
        item_id: r.item_id.clone(),
        reason: Reason::AccessRequest,
        access_request_id: Some(r.id.clone()),
        account_id: None,
        start_date: r.start_date,
        remove_date: r.remove_date,
        created: now,
        modified: now,
    };
    assignments::grant(c, &a)?;
    if let Some(at) = r.remove_date {
        schedule_expiry(c, t, &a.id, at, now)?;
    }
    Ok(())
}

/// Removes assignment `id` if its removal date has come (a later date set since leaves it).
pub fn expire_assignment(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "delete from assignment where tenant_id = $1 and id = $2 and remove_date is not null and remove_date <= $3",
        &[tenant_id.into(), id.into(), now.into()],
    )?;
    Ok(())
}

/// True when `actor` may see (and so decide) approval `p`.
pub fn may_act(c: &mut dyn Conn, p: &Approval, actor: &Actor) -> Result<bool, StoreError> {
    Ok(actor.is_admin || chain::acts_for(c, &p.owner_type, &p.owner_id, &actor.identity_id)?)
}

/// Approval `id`, when `actor` may act on it and it is still pending; `noun` names it in the
/// refusal ("Approval", "Work item"). Someone who may not act on it is told it does not exist.
fn pending_for(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    actor: &Actor,
    noun: &str,
) -> Outcome<Approval> {
    let Some(p) = rows::get_approval(c, tenant_id, id)? else {
        return Ok(Err(Refusal::NotFound(format!(
            "{noun} '{id}' was not found."
        ))));
    };
    if !may_act(c, &p, actor)? {
        return Ok(Err(Refusal::NotFound(format!(
            "{noun} '{id}' was not found."
        ))));
    }
    if p.status != ApprovalStatus::Pending {
        return Ok(Err(Refusal::Invalid(format!(
            "{noun} '{id}' was already decided: it is {}.",
            p.status.as_str()
        ))));
    }
    Ok(Ok(p))
}

/// A decision on an approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
}

/// True when a rejection of `r` needs a comment (the item's or the tenant's rule).
pub fn comment_required_when_rejected(
    c: &mut dyn Conn,
    r: &AccessRequest,
) -> Result<bool, StoreError> {
    let table = match r.item_type.as_str() {
        "ROLE" => "role",
        "ACCESS_PROFILE" => "access_profile",
        _ => {
            return Ok(access_config::load(c, &r.tenant_id)?
                .entitlement
                .denied_comments_required)
        }
    };
    let doc = c
        .query_opt(
            &format!("select access_request_config from {table} where tenant_id = $1 and id = $2"),
            &[r.tenant_id.clone().into(), r.item_id.clone().into()],
        )?
        .and_then(|row| row.opt_text(0).ok().flatten())
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
    Ok(doc
        .and_then(|d| d.get("denialCommentsRequired").and_then(|v| v.as_bool()))
        .unwrap_or(false))
}

/// Decides approval `approval_id`. Exactly one of two racing decisions wins: the status moves
/// from PENDING by compare-and-set; the loser gets [`Refusal::Invalid`].
pub fn decide(
    c: &mut dyn Conn,
    tenant_id: &str,
    approval_id: &str,
    actor: &Actor,
    decision: Decision,
    comment: Option<&str>,
    now: Timestamp,
) -> Outcome<Approval> {
    let mut p = match pending_for(c, tenant_id, approval_id, actor, "Approval")? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let Some(mut r) = rows::get_request(c, tenant_id, &p.access_request_id)? else {
        return Ok(Err(Refusal::NotFound(format!(
            "Approval '{approval_id}' was not found."
        ))));
    };
    if decision == Decision::Reject
        && comment.is_none_or(|s| s.trim().is_empty())
        && comment_required_when_rejected(c, &r)?
    {
        return Ok(Err(Refusal::Invalid(
            "A comment is required to reject this request.".into(),
        )));
    }
    let status = match decision {
        Decision::Approve => ApprovalStatus::Approved,
        Decision::Reject => ApprovalStatus::Rejected,
    };
    let won = c.execute(
        "update approval set status = $3, comment = $4, decided_by = $5, decided_at = $6, modified = $6 \
         where tenant_id = $1 and id = $2 and status = 'PENDING'",
        &[
            tenant_id.into(),
            approval_id.into(),
            status.as_str().into(),
            comment.into(),
            actor.identity_id.clone().into(),
            now.into(),
        ],
    )? == 1;
    if !won {
        return Ok(Err(Refusal::Invalid(format!(
            "Approval '{approval_id}' was already decided."
        ))));
    }
    p.status = status;
    p.comment = comment.map(str::to_owned);
    p.decided_by = Some(actor.identity_id.clone());
    p.decided_at = Some(now);
    p.modified = now;
    match decision {
        Decision::Approve => {
            let config = access_config::load(c, tenant_id)?;
            advance(c, &config, &mut r, p.step + 1, now)?;
        }
        Decision::Reject => set_stage(c, &mut r, Stage::Done, State::Rejected, now)?,
    }
    Ok(Ok(p))
}

fn notify(
    c: &mut dyn Conn,
    tenant_id: &str,
    recipient: &str,
    kind: &str,
    subject: String,
    body: serde_json::Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "insert into notification (id, tenant_id, recipient_id, kind, subject, body, created) \
         values ($1, $2, $3, $4, $5, $6, $7)",
        &[
            new_id().into(),
            tenant_id.into(),
            recipient.into(),
            kind.into(),
            subject.into(),
            body.to_string().into(),
            now.into(),
        ],
    )?;
    Ok(())
}

fn reassign(
    c: &mut dyn Conn,
    p: &mut Approval,
    to: &str,
    entry: ForwardEntry,
    escalated: bool,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let old_owner = p.owner_id.clone();
    p.forward_history.push(entry);
    let history =
        serde_json::to_string(&p.forward_history).map_err(|e| StoreError::Decode(e.to_string()))?;
    let moved = c.execute(
        "update approval set owner_type = 'IDENTITY', owner_id = $3, forward_history = $4, \
         escalated = $5, modified = $6 where tenant_id = $1 and id = $2 and status = 'PENDING' and owner_id = $7",
        &[
            p.tenant_id.clone().into(),
            p.id.clone().into(),
            to.into(),
            history.into(),
            (p.escalated || escalated).into(),
            now.into(),
            old_owner.into(),
        ],
    )? == 1;
    if moved {
        p.owner_type = "IDENTITY".into();
        p.owner_id = to.to_owned();
        p.escalated |= escalated;
        p.modified = now;
    }
    Ok(moved)
}

/// Forwards approval `approval_id` to `target`: only its owner or an admin, to an existing
/// identity other than the current owner. The hand-over joins the approval's history and the
/// new owner is notified when `send_notification` is set.
#[allow(clippy::too_many_arguments)] // one hand-over, every part named at the call
pub fn forward(
    c: &mut dyn Conn,
    tenant_id: &str,
    approval_id: &str,
    actor: &Actor,
    target: &str,
    comment: &str,
    send_notification: bool,
    now: Timestamp,
) -> Outcome<Approval> {
    let mut p = match pending_for(c, tenant_id, approval_id, actor, "Work item")? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    if c.query_opt(
        "select 1 from identity where tenant_id = $1 and id = $2",
        &[tenant_id.into(), target.into()],
    )?
    .is_none()
    {
        return Ok(Err(Refusal::Invalid(format!(
            "The target owner '{target}' is not an identity of this tenant."
        ))));
    }
    if p.owner_type == "IDENTITY" && p.owner_id == target {
        return Ok(Err(Refusal::Invalid(format!(
            "Work item '{approval_id}' is already owned by '{target}': forward it to someone else."
        ))));
    }
    let entry = ForwardEntry {
        old_owner_id: p.owner_id.clone(),
        new_owner_id: target.to_owned(),
        forwarder_id: Some(actor.identity_id.clone()),
        comment: Some(comment.to_owned()),
        at: now.0,
        reassignment_type: "MANUAL_REASSIGNMENT".into(),
    };
    if !reassign(c, &mut p, target, entry, false, now)? {
        return Ok(Err(Refusal::Invalid(format!(
            "Work item '{approval_id}' changed while it was being forwarded; try again."
        ))));
    }
    if send_notification {
        notify(
            c,
            tenant_id,
            target,
            "WORK_ITEM_FORWARDED",
            "An approval was forwarded to you".into(),
            json!({"workItemId": p.id, "accessRequestId": p.access_request_id,
                   "forwarderId": actor.identity_id, "comment": comment}),
            now,
        )?;
    }
    Ok(Ok(p))
}

fn cancel_approvals(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    c.execute(
        "update approval set status = 'CANCELLED', modified = $3 \
         where tenant_id = $1 and access_request_id = $2 and status = 'PENDING'",
        &[tenant_id.into(), request_id.into(), now.into()],
    )?;
    Ok(())
}

/// Cancels request `id`: only its requester or an admin, and only before it has passed its
/// approval step.
pub fn cancel(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    actor: &Actor,
    comment: &str,
    now: Timestamp,
) -> Outcome<AccessRequest> {
    let Some(mut r) = rows::get_request(c, tenant_id, id)? else {
        return Ok(Err(Refusal::NotFound(format!(
            "Access request '{id}' was not found."
        ))));
    };
    if !actor.is_admin && r.requester_id != actor.identity_id {
        if r.requested_for_id == actor.identity_id {
            return Ok(Err(Refusal::Forbidden(format!(
                "Only the requester of access request '{id}' or an ORG_ADMIN may cancel it."
            ))));
        }
        return Ok(Err(Refusal::NotFound(format!(
            "Access request '{id}' was not found."
        ))));
    }
    if r.state != State::Executing || !r.stage.before_approval() {
        return Ok(Err(Refusal::Invalid(format!(
            "Access request '{id}' can no longer be cancelled: it has passed the approval step ({}).",
            r.state.as_str()
        ))));
    }
    let won = c.execute(
        "update access_request set state = 'CANCELLED', stage = 'DONE', cancel_comment = $3, \
         cancelled_by = $4, cancelled_at = $5, modified = $5, completed = $5 \
         where tenant_id = $1 and id = $2 and stage in ('QUEUED', 'APPROVAL')",
        &[
            tenant_id.into(),
            id.into(),
            comment.into(),
            actor.identity_id.clone().into(),
            now.into(),
        ],
    )? == 1;
    if !won {
        return Ok(Err(Refusal::Invalid(format!(
            "Access request '{id}' can no longer be cancelled."
        ))));
    }
    cancel_approvals(c, tenant_id, id, now)?;
    r.state = State::Cancelled;
    r.stage = Stage::Done;
    r.cancel_comment = Some(comment.to_owned());
    r.cancelled_by = Some(actor.identity_id.clone());
    r.cancelled_at = Some(now);
    r.modified = now;
    r.completed = Some(now);
    Ok(Ok(r))
}

/// How an admin closes requests (`CloseAccessRequest`).
#[derive(Clone, Debug)]
pub struct Close {
    /// Recorded as the request's error message.
    pub message: String,
    /// `Terminated` or `Completed`.
    pub execution_status: String,
    /// `Success`, `Incomplete` or `Failure`.
    pub completion_status: String,
}

/// Closes request `id` at whatever stage it is in. Returns false when it does not exist or was
/// already finished.
pub fn close(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    how: &Close,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let Some(mut r) = rows::get_request(c, tenant_id, id)? else {
        return Ok(false);
    };
    if r.stage == Stage::Done {
        return Ok(false);
    }
    let state = match (
        how.execution_status.as_str(),
        how.completion_status.as_str(),
    ) {
        ("Completed", "Success") => State::RequestCompleted,
        ("Completed", "Incomplete") => State::NotAllItemsProvisioned,
        ("Completed", _) => State::ProvisioningFailed,
        _ => State::Terminated,
    };
    cancel_approvals(c, tenant_id, id, now)?;
    r.error_messages =
        Some(json!([[{"locale": "en-US", "localeOrigin": "DEFAULT", "text": how.message}]]));
    set_stage(c, &mut r, Stage::Done, state, now)?;
    Ok(true)
}

fn schedule_timer(
    c: &mut dyn Conn,
    config: &AccessRequestConfig,
    p: &Approval,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let Some(at) = next_timer(config, p) {
        jobs::enqueue(
            c,
            &job(
                &p.tenant_id,
                kinds::APPROVAL_TIMER,
                json!({"tenantId": p.tenant_id, "id": p.id}),
                at,
                Some(format!("{}:{}:{}", kinds::APPROVAL_TIMER, p.id, at.0)),
            ),
            now,
        )?;
    }
    Ok(())
}

/// When the next reminder or escalation of pending approval `p` falls due, if ever.
pub fn next_timer(config: &AccessRequestConfig, p: &Approval) -> Option<Timestamp> {
    let rc = &config.reminders;
    let reminder = match (rc.days_between_reminders, rc.max_reminders) {
        (Some(days), max) if days > 0 && p.reminders_sent < i64::from(max.unwrap_or(i32::MAX)) => {
            Some(
                p.created
                    .plus_millis(DAY_MS * i64::from(days) * (p.reminders_sent + 1)),
            )
        }
        _ => None,
    };
    let escalation = match (rc.days_until_escalation, &rc.fallback_approver) {
        (Some(days), Some(_)) if days >= 0 && !p.escalated => {
            Some(p.created.plus_millis(DAY_MS * i64::from(days)))
        }
        _ => None,
    };
    match (reminder, escalation) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Sends the reminders and makes the escalation of pending approval `id` that are due at `now`,
/// then schedules the next timer. Compare-and-set on the counters makes a repeated run harmless.
pub fn timer(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut p) = rows::get_approval(c, tenant_id, id)? else {
        return Ok(());
    };
    if p.status != ApprovalStatus::Pending {
        return Ok(());
    }
    let config = access_config::load(c, tenant_id)?;
    let rc = config.reminders.clone();
    if let (Some(days), Some(f)) = (rc.days_until_escalation, &rc.fallback_approver) {
        let due = p.created.plus_millis(DAY_MS * i64::from(days.max(0)));
        if !p.escalated && now >= due {
            if f.id != p.owner_id {
                let entry = ForwardEntry {
                    old_owner_id: p.owner_id.clone(),
                    new_owner_id: f.id.clone(),
                    forwarder_id: None,
                    comment: Some("Escalated to the fallback approver.".into()),
                    at: now.0,
                    reassignment_type: "AUTO_ESCALATION".into(),
                };
                if reassign(c, &mut p, &f.id, entry, true, now)? {
                    notify(
                        c,
                        tenant_id,
                        &f.id,
                        "APPROVAL_ESCALATED",
                        "An approval was escalated to you".into(),
                        json!({"workItemId": p.id, "accessRequestId": p.access_request_id}),
                        now,
                    )?;
                }
            } else {
                p.escalated = true;
                c.execute(
                    "update approval set escalated = $3 where tenant_id = $1 and id = $2",
                    &[tenant_id.into(), id.into(), true.into()],
                )?;
            }
        }
    }
    if let Some(days) = rc.days_between_reminders.filter(|d| *d > 0) {
        let max = i64::from(rc.max_reminders.unwrap_or(i32::MAX));
        let due = p
            .created
            .plus_millis(DAY_MS * i64::from(days) * (p.reminders_sent + 1));
        if p.reminders_sent < max && now >= due {
            let sent = c.execute(
                "update approval set reminders_sent = reminders_sent + 1 \
                 where tenant_id = $1 and id = $2 and reminders_sent = $3",
                &[tenant_id.into(), id.into(), p.reminders_sent.into()],
            )? == 1;
            if sent {
                p.reminders_sent += 1;
                notify(
                    c,
                    tenant_id,
                    &p.owner_id,
                    "APPROVAL_REMINDER",
                    "An approval is waiting for you".into(),
                    json!({"workItemId": p.id, "accessRequestId": p.access_request_id,
                           "reminder": p.reminders_sent}),
                    now,
                )?;
            }
        }
    }
    schedule_timer(c, &config, &p, now)
}
