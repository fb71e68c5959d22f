//! `RequestedItemStatus`: one entry of `listAccessRequestStatus`, built from a request row, its
//! approvals and the names they mention. The entries are typed structs that borrow from the page
//! and are written straight to the response body: a page of 250 built as `serde_json::Value`
//! trees spent most of its time allocating, copying and freeing them.

use crate::routes::Family;
use crate::wire::approvals::client_metadata;
use crate::wire::ts;
use gatehouse_store::access_requests::status::StatusPage;
use gatehouse_store::access_requests::{AccessRequest, Approval, ApprovalStatus, Stage, State};
use serde::Serialize;
use serde_json::Value;

/// An identity reference with its display name.
#[derive(Serialize)]
struct Person<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    name: &'a str,
}

fn person<'a>(page: &'a StatusPage, id: &'a str) -> Person<'a> {
    Person {
        kind: "IDENTITY",
        id,
        name: page.names.get(id).map_or("", String::as_str),
    }
}

/// An owner reference: `type` is IDENTITY or GOVERNANCE_GROUP where the schema allows both
/// (`originalOwner`), and left out for a group where it allows only IDENTITY (`currentOwner`).
#[derive(Serialize)]
struct Owner<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    id: &'a str,
    name: &'a str,
}

fn owner<'a>(page: &'a StatusPage, id: &'a str, group_allowed: bool) -> Owner<'a> {
    let name = page.names.get(id).map_or("", String::as_str);
    let kind = match (page.groups.contains(id), group_allowed) {
        (false, _) => Some("IDENTITY"),
        (true, true) => Some("GOVERNANCE_GROUP"),
        (true, false) => None,
    };
    Owner { kind, id, name }
}

/// `ApprovalStatusDto`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalStatusDto<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_id: Option<&'a str>,
    forwarded: bool,
    original_owner: Owner<'a>,
    current_owner: Owner<'a>,
    modified: String,
    status: &'static str,
    scheme: &'a str,
    error_messages: Option<()>,
    comment: Option<&'a str>,
    remove_date: Option<String>,
}

fn approval_status<'a>(
    page: &'a StatusPage,
    r: &AccessRequest,
    p: &'a Approval,
    family: Family,
) -> ApprovalStatusDto<'a> {
    ApprovalStatusDto {
        approval_id: matches!(family, Family::V3 | Family::Beta).then_some(p.id.as_str()),
        forwarded: !p.forward_history.is_empty(),
        original_owner: owner(page, &p.original_owner_id, true),
        current_owner: owner(page, &p.owner_id, false),
        modified: ts(p.modified),
        status: p.status.as_str(),
        scheme: &p.scheme,
        error_messages: None,
        comment: p.comment.as_deref(),
        remove_date: r.remove_date.map(ts),
    }
}

/// `AccessRequestPhases`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Phase {
    started: Option<String>,
    finished: Option<String>,
    name: &'static str,
    state: &'static str,
    result: Option<&'static str>,
    phase_reference: Option<()>,
}

fn phase(
    name: &'static str,
    started: Option<String>,
    finished: Option<String>,
    state: &'static str,
    result: Option<&'static str>,
) -> Phase {
    Phase {
        started,
        finished,
        name,
        state,
        result,
        phase_reference: None,
    }
}

/// The approval phase, then (once approvals passed) the provisioning phase.
fn phases(r: &AccessRequest, approvals: &[Approval]) -> Vec<Phase> {
    let decided = approvals.iter().filter_map(|p| p.decided_at).max().map(ts);
    let started = Some(ts(r.created));
    let rejected = r.state == State::Rejected
        || approvals
            .iter()
            .any(|p| p.status == ApprovalStatus::Rejected);
    // Cancelled, or closed while a step was pending (closing cancels the pending steps).
    let stopped = r.state == State::Cancelled
        || approvals
            .iter()
            .any(|p| p.status == ApprovalStatus::Cancelled);
    let approval = match r.stage {
        Stage::Queued | Stage::Approval => {
            phase("APPROVAL_PHASE", started, None, "EXECUTING", None)
        }
        Stage::Done if rejected => phase(
            "APPROVAL_PHASE",
            started,
            decided.clone(),
            "COMPLETED",
            Some("FAILED"),
        ),
        Stage::Done if stopped => phase(
            "APPROVAL_PHASE",
            started,
            r.completed.map(ts),
            "CANCELLED",
            None,
        ),
        _ => phase(
            "APPROVAL_PHASE",
            started,
            decided.clone().or_else(|| Some(ts(r.created))),
            "COMPLETED",
            Some("SUCCESSFUL"),
        ),
    };
    let provisioning_started = decided.or_else(|| Some(ts(r.created)));
    let provisioning = match (r.stage, r.state) {
        (Stage::Queued | Stage::Approval, _) => None,
        // Provisioning never started for a request rejected, cancelled or closed in approval.
        (Stage::Done, _) if rejected || stopped => None,
        (Stage::Scheduled, _) => Some(phase(
            "PROVISIONING_PHASE",
            provisioning_started,
            None,
            "PENDING",
            None,
        )),
        (Stage::Provisioning | Stage::Ticket, _) => Some(phase(
            "PROVISIONING_PHASE",
            provisioning_started,
            None,
            "EXECUTING",
            None,
        )),
        (Stage::Done, State::RequestCompleted) => Some(phase(
            "PROVISIONING_PHASE",
            provisioning_started,
            r.completed.map(ts),
            "COMPLETED",
            Some("SUCCESSFUL"),
        )),
        (Stage::Done, State::Terminated) => Some(phase(
            "PROVISIONING_PHASE",
            provisioning_started,
            r.completed.map(ts),
            "CANCELLED",
            None,
        )),
        (Stage::Done, _) => Some(phase(
            "PROVISIONING_PHASE",
            provisioning_started,
            r.completed.map(ts),
            "COMPLETED",
            Some("FAILED"),
        )),
    };
    std::iter::once(approval).chain(provisioning).collect()
}

/// `CancelledRequestDetails`.
#[derive(Serialize)]
struct Cancelled<'a> {
    comment: Option<&'a str>,
    owner: Option<Person<'a>>,
    modified: Option<String>,
}

/// `CommentDtoWithId`-shaped requester comment.
#[derive(Serialize)]
struct RequesterComment<'a> {
    comment: &'a str,
    created: String,
    author: Person<'a>,
}

/// `RequestedItemStatus`. `cancelledRequestDetails` and `requesterComment` are declared as
/// `allOf: [schema, {nullable: true}]`, which validators read differently: an absent value is
/// left out rather than sent as null.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedItemStatus<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled_request_details: Option<Cancelled<'a>>,
    error_messages: Option<&'a Value>,
    state: &'static str,
    approval_details: Vec<ApprovalStatusDto<'a>>,
    approval_ids: Vec<&'a str>,
    manual_work_item_details: Option<()>,
    account_activity_item_id: &'a str,
    request_type: &'a str,
    modified: String,
    created: String,
    requester: Person<'a>,
    requested_for: Person<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requester_comment: Option<RequesterComment<'a>>,
    access_request_phases: Vec<Phase>,
    description: Option<&'a str>,
    start_date: Option<String>,
    remove_date: Option<String>,
    cancelable: bool,
    access_request_id: &'a str,
    client_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity_type: Option<&'static str>,
}

/// The status entry of request `r` for `family`.
pub fn requested_item_status<'a>(
    page: &'a StatusPage,
    r: &'a AccessRequest,
    family: Family,
) -> RequestedItemStatus<'a> {
    let approvals: &[Approval] = page.approvals.get(&r.id).map_or(&[], Vec::as_slice);
    RequestedItemStatus {
        id: &r.id,
        name: &r.item_name,
        kind: &r.item_type,
        cancelled_request_details: (r.state == State::Cancelled).then(|| Cancelled {
            comment: r.cancel_comment.as_deref(),
            owner: r.cancelled_by.as_deref().map(|id| person(page, id)),
            modified: r.cancelled_at.map(ts),
        }),
        error_messages: r.error_messages.as_ref(),
        state: r.state.as_str(),
        approval_details: approvals
            .iter()
            .map(|p| approval_status(page, r, p, family))
            .collect(),
        approval_ids: approvals.iter().map(|p| p.id.as_str()).collect(),
        manual_work_item_details: None,
        account_activity_item_id: &r.id,
        request_type: &r.request_type,
        modified: ts(r.modified),
        created: ts(r.created),
        requester: person(page, &r.requester_id),
        requested_for: person(page, &r.requested_for_id),
        requester_comment: r.comment.as_deref().map(|c| RequesterComment {
            comment: c,
            created: ts(r.created),
            author: person(page, &r.requester_id),
        }),
        access_request_phases: phases(r, approvals),
        description: r.item_description.as_deref(),
        start_date: r.start_date.map(ts),
        remove_date: r.remove_date.map(ts),
        cancelable: r.state == State::Executing && r.stage.before_approval(),
        access_request_id: &r.id,
        client_metadata: client_metadata(r),
        identity_type: (family == Family::V1).then_some("HUMAN"),
    }
}
