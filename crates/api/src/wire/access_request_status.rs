//! `RequestedItemStatus`: one entry of `listAccessRequestStatus`, built from a request row, its
//! approvals and the names they mention.

use crate::routes::Family;
use crate::wire::approvals::client_metadata;
use crate::wire::ts;
use gatehouse_store::access_requests::status::StatusPage;
use gatehouse_store::access_requests::{AccessRequest, Approval, ApprovalStatus, Stage, State};
use serde_json::{json, Map, Value};

fn person(page: &StatusPage, id: &str) -> Value {
    json!({"type": "IDENTITY", "id": id, "name": page.names.get(id).map_or("", String::as_str)})
}

/// An owner reference: `type` is IDENTITY or GOVERNANCE_GROUP where the schema allows both
/// (`originalOwner`), and left out for a group where it allows only IDENTITY (`currentOwner`).
fn owner(page: &StatusPage, id: &str, group_allowed: bool) -> Value {
    let name = page.names.get(id).map_or("", String::as_str);
    match (page.groups.contains(id), group_allowed) {
        (false, _) => json!({"type": "IDENTITY", "id": id, "name": name}),
        (true, true) => json!({"type": "GOVERNANCE_GROUP", "id": id, "name": name}),
        (true, false) => json!({"id": id, "name": name}),
    }
}

fn approval_status(page: &StatusPage, r: &AccessRequest, p: &Approval, family: Family) -> Value {
    let mut o = Map::new();
    if matches!(family, Family::V3 | Family::Beta) {
        o.insert("approvalId".into(), json!(p.id));
    }
    o.insert("forwarded".into(), json!(!p.forward_history.is_empty()));
    o.insert(
        "originalOwner".into(),
        owner(page, &p.original_owner_id, true),
    );
    o.insert("currentOwner".into(), owner(page, &p.owner_id, false));
    o.insert("modified".into(), json!(ts(p.modified)));
    o.insert("status".into(), json!(p.status.as_str()));
    o.insert("scheme".into(), json!(p.scheme));
    o.insert("errorMessages".into(), Value::Null);
    o.insert("comment".into(), json!(p.comment));
    o.insert("removeDate".into(), json!(r.remove_date.map(ts)));
    Value::Object(o)
}

fn phase(
    name: &str,
    started: Option<String>,
    finished: Option<String>,
    state: &str,
    result: Option<&str>,
) -> Value {
    json!({"started": started, "finished": finished, "name": name, "state": state,
           "result": result, "phaseReference": null})
}

/// The approval phase, then (once approvals passed) the provisioning phase.
fn phases(r: &AccessRequest, approvals: &[Approval]) -> Value {
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
    Value::Array(std::iter::once(approval).chain(provisioning).collect())
}

/// The status entry of request `r` for `family`.
pub fn requested_item_status(page: &StatusPage, r: &AccessRequest, family: Family) -> Value {
    let approvals: &[Approval] = page.approvals.get(&r.id).map_or(&[], Vec::as_slice);
    let cancelled = (r.state == State::Cancelled).then(|| {
        json!({
            "comment": r.cancel_comment,
            "owner": r.cancelled_by.as_deref().map(|id| person(page, id)),
            "modified": r.cancelled_at.map(ts),
        })
    });
    let requester_comment = r.comment.as_ref().map(|c| {
        json!({"comment": c, "created": ts(r.created), "author": person(page, &r.requester_id)})
    });
    let mut o = json!({
        "id": r.id,
        "name": r.item_name,
        "type": r.item_type,
        "cancelledRequestDetails": cancelled,
        "errorMessages": r.error_messages,
        "state": r.state.as_str(),
        "approvalDetails": approvals.iter().map(|p| approval_status(page, r, p, family)).collect::<Vec<_>>(),
        "approvalIds": approvals.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        "manualWorkItemDetails": null,
        "accountActivityItemId": r.id,
        "requestType": r.request_type,
        "modified": ts(r.modified),
        "created": ts(r.created),
        "requester": person(page, &r.requester_id),
        "requestedFor": person(page, &r.requested_for_id),
        "requesterComment": requester_comment,
        "accessRequestPhases": phases(r, approvals),
        "description": r.item_description,
        "startDate": r.start_date.map(ts),
        "removeDate": r.remove_date.map(ts),
        "cancelable": r.state == State::Executing && r.stage.before_approval(),
        "accessRequestId": r.id,
        "clientMetadata": client_metadata(r),
    });
    if family == Family::V1 {
        o["identityType"] = json!("HUMAN");
    }
    // Declared as `allOf: [schema, {nullable: true}]`, which validators read differently: an
    // absent value is left out rather than sent as null.
    if let Some(m) = o.as_object_mut() {
        for key in ["cancelledRequestDetails", "requesterComment"] {
            if m.get(key).is_some_and(Value::is_null) {
                m.remove(key);
            }
        }
    }
    o
}
