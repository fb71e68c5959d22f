//! The `access_request` and `approval` rows.

use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::Timestamp;
use serde::{Deserialize, Serialize};

/// Where the engine is with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Submitted; its processing job has not run yet.
    Queued,
    /// Waiting for an approval step.
    Approval,
    /// Approved; waiting for its start date.
    Scheduled,
    /// Approved; its provisioning job has not run yet.
    Provisioning,
    /// Approved on a desk-managed source; waiting for the service-desk ticket.
    Ticket,
    /// Finished (completed, rejected, cancelled, closed or failed).
    Done,
}

impl Stage {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Approval => "APPROVAL",
            Self::Scheduled => "SCHEDULED",
            Self::Provisioning => "PROVISIONING",
            Self::Ticket => "TICKET",
            Self::Done => "DONE",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "QUEUED" => Self::Queued,
            "APPROVAL" => Self::Approval,
            "SCHEDULED" => Self::Scheduled,
            "PROVISIONING" => Self::Provisioning,
            "TICKET" => Self::Ticket,
            "DONE" => Self::Done,
            other => return Err(StoreError::Decode(format!("unknown stage {other}"))),
        })
    }

    /// True while the request has not passed its approval step (so it can be cancelled).
    pub fn before_approval(self) -> bool {
        matches!(self, Self::Queued | Self::Approval)
    }
}

/// What `listAccessRequestStatus` reports (SailPoint's `RequestedItemStatusRequestState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Still moving.
    Executing,
    /// Provisioned.
    RequestCompleted,
    /// Cancelled by the requester or an admin.
    Cancelled,
    /// Closed by an admin.
    Terminated,
    /// Sent for provisioning; not yet confirmed.
    ProvisioningVerificationPending,
    /// An approver rejected it.
    Rejected,
    /// Provisioning failed.
    ProvisioningFailed,
    /// Closed as incomplete.
    NotAllItemsProvisioned,
    /// Something went wrong that is not provisioning.
    Error,
}

impl State {
    /// SailPoint's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Executing => "EXECUTING",
            Self::RequestCompleted => "REQUEST_COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Terminated => "TERMINATED",
            Self::ProvisioningVerificationPending => "PROVISIONING_VERIFICATION_PENDING",
            Self::Rejected => "REJECTED",
            Self::ProvisioningFailed => "PROVISIONING_FAILED",
            Self::NotAllItemsProvisioned => "NOT_ALL_ITEMS_PROVISIONED",
            Self::Error => "ERROR",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "EXECUTING" => Self::Executing,
            "REQUEST_COMPLETED" => Self::RequestCompleted,
            "CANCELLED" => Self::Cancelled,
            "TERMINATED" => Self::Terminated,
            "PROVISIONING_VERIFICATION_PENDING" => Self::ProvisioningVerificationPending,
            "REJECTED" => Self::Rejected,
            "PROVISIONING_FAILED" => Self::ProvisioningFailed,
            "NOT_ALL_ITEMS_PROVISIONED" => Self::NotAllItemsProvisioned,
            "ERROR" => Self::Error,
            other => return Err(StoreError::Decode(format!("unknown request state {other}"))),
        })
    }
}

/// One requested item for one identity (SailPoint's identity request / account activity).
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRequest {
    /// 32-hex id: `accessRequestId`, `accountActivityItemId` and the status entry's `id`.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// GRANT_ACCESS, REVOKE_ACCESS or MODIFY_ACCESS.
    pub request_type: String,
    /// Who asked.
    pub requester_id: String,
    /// Whom it is for.
    pub requested_for_id: String,
    /// ROLE, ACCESS_PROFILE or ENTITLEMENT.
    pub item_type: String,
    /// The item's id.
    pub item_id: String,
    /// The item's name when requested.
    pub item_name: String,
    /// The item's description when requested.
    pub item_description: Option<String>,
    /// The source the item provisions to (access profiles and entitlements).
    pub source_id: Option<String>,
    /// The requester's comment.
    pub comment: Option<String>,
    /// The item's `clientMetadata`.
    pub client_metadata: Option<serde_json::Value>,
    /// The request's `clientMetadata`.
    pub request_metadata: Option<serde_json::Value>,
    /// Sunrise.
    pub start_date: Option<Timestamp>,
    /// Sunset.
    pub remove_date: Option<Timestamp>,
    /// REVOKE: the assignment to revoke.
    pub assignment_id: Option<String>,
    /// REVOKE: the account to revoke on.
    pub native_identity: Option<String>,
    /// `accountSelection` of the request, as sent.
    pub account_selection: Option<serde_json::Value>,
    /// Reported state.
    pub state: State,
    /// Engine stage.
    pub stage: Stage,
    /// Index of the current (or next) approval scheme.
    pub step: i64,
    /// `errorMessages`.
    pub error_messages: Option<serde_json::Value>,
    /// Cancellation comment.
    pub cancel_comment: Option<String>,
    /// Who cancelled.
    pub cancelled_by: Option<String>,
    /// When.
    pub cancelled_at: Option<Timestamp>,
    /// Submitted at.
    pub created: Timestamp,
    /// Last change.
    pub modified: Timestamp,
    /// Finished at.
    pub completed: Option<Timestamp>,
}

/// Column list of [`AccessRequest`], in the order [`request_of`] reads (alias `r`).
pub const REQUEST_COLUMNS: &str = "r.id, r.tenant_id, r.request_type, r.requester_id, \
    r.requested_for_id, r.item_type, r.item_id, r.item_name, r.item_description, r.source_id, \
    r.comment, r.client_metadata, r.request_metadata, r.start_date, r.remove_date, r.assignment_id, \
    r.native_identity, r.account_selection, r.state, r.stage, r.step, r.error_messages, \
    r.cancel_comment, r.cancelled_by, r.cancelled_at, r.created, r.modified, r.completed";

/// Number of columns in [`REQUEST_COLUMNS`].
pub const REQUEST_WIDTH: usize = 28;

fn opt_json(r: &Row, i: usize) -> Result<Option<serde_json::Value>, StoreError> {
    r.opt_text(i)?
        .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Decode(e.to_string())))
        .transpose()
}

/// Reads an [`AccessRequest`] from the first [`REQUEST_WIDTH`] columns.
pub fn request_of(r: &Row) -> Result<AccessRequest, StoreError> {
    Ok(AccessRequest {
        id: r.text(0)?,
        tenant_id: r.text(1)?,
        request_type: r.text(2)?,
        requester_id: r.text(3)?,
        requested_for_id: r.text(4)?,
        item_type: r.text(5)?,
        item_id: r.text(6)?,
        item_name: r.text(7)?,
        item_description: r.opt_text(8)?,
        source_id: r.opt_text(9)?,
        comment: r.opt_text(10)?,
        client_metadata: opt_json(r, 11)?,
        request_metadata: opt_json(r, 12)?,
        start_date: r.opt_ts(13)?,
        remove_date: r.opt_ts(14)?,
        assignment_id: r.opt_text(15)?,
        native_identity: r.opt_text(16)?,
        account_selection: opt_json(r, 17)?,
        state: State::parse(&r.text(18)?)?,
        stage: Stage::parse(&r.text(19)?)?,
        step: r.int(20)?,
        error_messages: opt_json(r, 21)?,
        cancel_comment: r.opt_text(22)?,
        cancelled_by: r.opt_text(23)?,
        cancelled_at: r.opt_ts(24)?,
        created: r.ts(25)?,
        modified: r.ts(26)?,
        completed: r.opt_ts(27)?,
    })
}

fn json_text(v: &Option<serde_json::Value>) -> Value {
    v.as_ref().map(|v| v.to_string()).into()
}

/// Inserts `a`.
pub fn insert_request(c: &mut dyn Conn, a: &AccessRequest) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "insert into access_request ({}) values ({})",
            REQUEST_COLUMNS.replace("r.", ""),
            crate::listing::placeholders(1, REQUEST_WIDTH)
        ),
        &[
            a.id.clone().into(),
            a.tenant_id.clone().into(),
            a.request_type.clone().into(),
            a.requester_id.clone().into(),
            a.requested_for_id.clone().into(),
            a.item_type.clone().into(),
            a.item_id.clone().into(),
            a.item_name.clone().into(),
            a.item_description.clone().into(),
            a.source_id.clone().into(),
            a.comment.clone().into(),
            json_text(&a.client_metadata),
            json_text(&a.request_metadata),
            a.start_date.into(),
            a.remove_date.into(),
            a.assignment_id.clone().into(),
            a.native_identity.clone().into(),
            json_text(&a.account_selection),
            a.state.as_str().into(),
            a.stage.as_str().into(),
            a.step.into(),
            json_text(&a.error_messages),
            a.cancel_comment.clone().into(),
            a.cancelled_by.clone().into(),
            a.cancelled_at.into(),
            a.created.into(),
            a.modified.into(),
            a.completed.into(),
        ],
    )?;
    Ok(())
}

/// Request `id` of `tenant_id`.
pub fn get_request(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<AccessRequest>, StoreError> {
    c.query_opt(
        &format!(
            "select {REQUEST_COLUMNS} from access_request r where r.tenant_id = $1 and r.id = $2"
        ),
        &[tenant_id.into(), id.into()],
    )?
    .map(|r| request_of(&r))
    .transpose()
}

/// Status of an approval step (SailPoint's `ManualWorkItemState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalStatus {
    /// Waiting for its owner.
    Pending,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
    /// Timed out.
    Expired,
    /// The request was cancelled or closed.
    Cancelled,
}

impl ApprovalStatus {
    /// SailPoint's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
            Self::Cancelled => "CANCELLED",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "PENDING" => Self::Pending,
            "APPROVED" => Self::Approved,
            "REJECTED" => Self::Rejected,
            "EXPIRED" => Self::Expired,
            "CANCELLED" => Self::Cancelled,
            other => {
                return Err(StoreError::Decode(format!(
                    "unknown approval status {other}"
                )))
            }
        })
    }

    /// The work-item state of the same status (`WorkItemStateManualWorkItems`).
    pub fn work_item_state(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Approved => "Finished",
            Self::Rejected => "Rejected",
            Self::Expired => "Expired",
            Self::Cancelled => "Canceled",
        }
    }
}

/// One hand-over of an approval to another owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardEntry {
    /// Owner before.
    pub old_owner_id: String,
    /// Owner after.
    pub new_owner_id: String,
    /// Who forwarded (absent for automatic reassignments).
    pub forwarder_id: Option<String>,
    /// Why.
    pub comment: Option<String>,
    /// When (milliseconds).
    pub at: i64,
    /// MANUAL_REASSIGNMENT or AUTO_ESCALATION.
    pub reassignment_type: String,
}

/// One approval step; also the work item (type Approval) of its owner.
#[derive(Clone, Debug, PartialEq)]
pub struct Approval {
    /// 32-hex id: the approval id and the work item id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The request it decides.
    pub access_request_id: String,
    /// Index of the scheme in the item's chain.
    pub step: i64,
    /// SailPoint's `ApprovalScheme` (MANAGER, SOURCE_OWNER…).
    pub scheme: String,
    /// IDENTITY or GOVERNANCE_GROUP.
    pub owner_type: String,
    /// Current owner.
    pub owner_id: String,
    /// First owner.
    pub original_owner_id: String,
    /// Status.
    pub status: ApprovalStatus,
    /// The decider's comment.
    pub comment: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// Hand-overs, oldest first.
    pub forward_history: Vec<ForwardEntry>,
    /// Reminders sent.
    pub reminders_sent: i64,
    /// Escalated to the fallback approver.
    pub escalated: bool,
    /// Created at.
    pub created: Timestamp,
    /// Last change.
    pub modified: Timestamp,
}

/// Column list of [`Approval`], in the order [`approval_of`] reads (alias `p`).
pub const APPROVAL_COLUMNS: &str = "p.id, p.tenant_id, p.access_request_id, p.step, p.scheme, \
    p.owner_type, p.owner_id, p.original_owner_id, p.status, p.comment, p.decided_by, p.decided_at, \
    p.forward_history, p.reminders_sent, p.escalated, p.created, p.modified";

/// Number of columns in [`APPROVAL_COLUMNS`].
pub const APPROVAL_WIDTH: usize = 17;

/// Reads an [`Approval`] from `APPROVAL_WIDTH` columns starting at `at`.
pub fn approval_at(r: &Row, at: usize) -> Result<Approval, StoreError> {
    Ok(Approval {
        id: r.text(at)?,
        tenant_id: r.text(at + 1)?,
        access_request_id: r.text(at + 2)?,
        step: r.int(at + 3)?,
        scheme: r.text(at + 4)?,
        owner_type: r.text(at + 5)?,
        owner_id: r.text(at + 6)?,
        original_owner_id: r.text(at + 7)?,
        status: ApprovalStatus::parse(&r.text(at + 8)?)?,
        comment: r.opt_text(at + 9)?,
        decided_by: r.opt_text(at + 10)?,
        decided_at: r.opt_ts(at + 11)?,
        forward_history: r.json(at + 12)?,
        reminders_sent: r.int(at + 13)?,
        escalated: r.bool(at + 14)?,
        created: r.ts(at + 15)?,
        modified: r.ts(at + 16)?,
    })
}

/// Reads an [`Approval`] from the first columns.
pub fn approval_of(r: &Row) -> Result<Approval, StoreError> {
    approval_at(r, 0)
}

/// Inserts `p`.
pub fn insert_approval(c: &mut dyn Conn, p: &Approval) -> Result<(), StoreError> {
    let history =
        serde_json::to_string(&p.forward_history).map_err(|e| StoreError::Decode(e.to_string()))?;
    c.execute(
        &format!(
            "insert into approval ({}) values ({})",
            APPROVAL_COLUMNS.replace("p.", ""),
            crate::listing::placeholders(1, APPROVAL_WIDTH)
        ),
        &[
            p.id.clone().into(),
            p.tenant_id.clone().into(),
            p.access_request_id.clone().into(),
            p.step.into(),
            p.scheme.clone().into(),
            p.owner_type.clone().into(),
            p.owner_id.clone().into(),
            p.original_owner_id.clone().into(),
            p.status.as_str().into(),
            p.comment.clone().into(),
            p.decided_by.clone().into(),
            p.decided_at.into(),
            history.into(),
            p.reminders_sent.into(),
            p.escalated.into(),
            p.created.into(),
            p.modified.into(),
        ],
    )?;
    Ok(())
}

/// Approval `id` of `tenant_id`.
pub fn get_approval(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Approval>, StoreError> {
    c.query_opt(
        &format!("select {APPROVAL_COLUMNS} from approval p where p.tenant_id = $1 and p.id = $2"),
        &[tenant_id.into(), id.into()],
    )?
    .map(|r| approval_of(&r))
    .transpose()
}

/// The approvals of the requests `request_ids`, by request then step.
pub fn approvals_of_requests(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_ids: &[String],
) -> Result<Vec<Approval>, StoreError> {
    if request_ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<Value> = vec![tenant_id.into(), crate::listing::id_set_value(request_ids)];
    c.query(
        &format!(
            "select {APPROVAL_COLUMNS} from approval p where {} and p.access_request_id {} \
             order by p.access_request_id, p.step, p.created, p.id",
            crate::listing::tenant_is_1(c, "p.tenant_id"),
            crate::listing::id_set(c, 2)
        ),
        &params,
    )?
    .iter()
    .map(approval_of)
    .collect()
}

/// The requests `ids` of `tenant_id` (in no particular order).
pub fn requests_by_ids(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<AccessRequest>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<Value> = vec![tenant_id.into(), crate::listing::id_set_value(ids)];
    c.query(
        &format!(
            "select {REQUEST_COLUMNS} from access_request r where {} and r.id {}",
            crate::listing::tenant_is_1(c, "r.tenant_id"),
            crate::listing::id_set(c, 2)
        ),
        &params,
    )?
    .iter()
    .map(request_of)
    .collect()
}
