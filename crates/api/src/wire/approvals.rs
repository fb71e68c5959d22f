//! `WorkItems`, `PendingApproval` and `CompletedApproval`: one approval step seen as a work item
//! of type Approval, or as an access-request approval, in each family's shape.
//!
//! Built as JSON objects because the families differ by a field or two (beta's `PendingApproval`
//! has no `accessRequestId`; v1 adds `identityType`). Optional values are omitted rather than
//! `null` where a family's schema does not allow null.

use crate::routes::Family;
use crate::wire::ts;
use gatehouse_domain::Timestamp;
use gatehouse_store::access_requests::work_items::{Detail, Details};
use gatehouse_store::access_requests::{AccessRequest, Approval, ApprovalStatus};
use serde_json::{json, Map, Value};

/// `{type: IDENTITY, id, name}` of person `id` (an empty name when they no longer exist).
fn identity_ref(d: &Details, id: &str) -> Value {
    json!({"type": "IDENTITY", "id": id, "name": d.name(id).unwrap_or("")})
}

/// The owner of an approval: a person as an identity reference; a governance group as `{id,
/// name}` without `type` (the schemas' owner `type` allows only IDENTITY).
fn owner_ref(d: &Details, p: &Approval) -> Value {
    if p.owner_type == "IDENTITY" {
        identity_ref(d, &p.owner_id)
    } else {
        json!({"id": p.owner_id, "name": d.name(&p.owner_id).unwrap_or("")})
    }
}

/// A `CommentDto`.
fn comment(d: &Details, text: Option<&str>, at: Timestamp, author: &str) -> Value {
    json!({"comment": text, "created": ts(at), "author": identity_ref(d, author)})
}

/// The requester's comment, when they wrote one.
fn requester_comment(d: &Details, r: &AccessRequest) -> Option<Value> {
    r.comment
        .as_deref()
        .map(|c| comment(d, Some(c), r.created, &r.requester_id))
}

/// The decisions of the earlier steps of the same request.
fn previous_reviewers(d: &Details, x: &Detail) -> Value {
    Value::Array(
        x.earlier
            .iter()
            .filter_map(|e| {
                let by = e.decided_by.as_deref()?;
                Some(comment(
                    d,
                    e.comment.as_deref(),
                    e.decided_at.unwrap_or(e.modified),
                    by,
                ))
            })
            .collect(),
    )
}

/// `ApprovalForwardHistory` entries, oldest first.
pub fn forward_history(d: &Details, p: &Approval) -> Value {
    Value::Array(
        p.forward_history
            .iter()
            .map(|f| {
                json!({
                    "oldApproverName": d.name(&f.old_owner_id).unwrap_or(&f.old_owner_id),
                    "newApproverName": d.name(&f.new_owner_id).unwrap_or(&f.new_owner_id),
                    "comment": f.comment,
                    "modified": ts(Timestamp(f.at)),
                    "forwarderName": f.forwarder_id.as_deref().and_then(|id| d.name(id)),
                    "reassignmentType": f.reassignment_type,
                })
            })
            .collect(),
    )
}

/// The request's `clientMetadata` merged with the item's (the item's keys win); string values
/// only, as the schemas declare.
pub fn client_metadata(r: &AccessRequest) -> Option<Value> {
    let mut out = Map::new();
    for m in [&r.request_metadata, &r.client_metadata]
        .into_iter()
        .flatten()
    {
        for (k, v) in m.as_object().into_iter().flatten() {
            if let Some(s) = v.as_str() {
                out.insert(k.clone(), Value::String(s.to_owned()));
            }
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// `requestedAccounts` from an `accountSelection` of `[{sourceId, accounts: [{accountUuid,
/// nativeIdentity}]}]`; `None` when the request selected no accounts that way.
fn requested_accounts(d: &Details, r: &AccessRequest) -> Option<Value> {
    let list: Vec<Value> = r
        .account_selection
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let source = s.get("sourceId").and_then(Value::as_str).unwrap_or("");
            let source_name = d.sources.get(source).cloned().unwrap_or_default();
            s.get("accounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(move |a| {
                    let native = a.get("nativeIdentity").and_then(Value::as_str);
                    json!({
                        "name": native.unwrap_or(""),
                        "type": "ACCOUNT",
                        "accountUuid": a.get("accountUuid").and_then(Value::as_str),
                        "accountId": native,
                        "sourceName": source_name,
                    })
                })
        })
        .collect();
    (!list.is_empty()).then_some(Value::Array(list))
}

/// The native identity of the account the item is for: a revocation's, or the first selected.
fn account(r: &AccessRequest) -> Option<String> {
    r.native_identity.clone().or_else(|| {
        r.account_selection
            .as_ref()?
            .as_array()?
            .iter()
            .filter_map(|s| s.get("accounts")?.as_array())
            .flatten()
            .find_map(|a| a.get("nativeIdentity")?.as_str().map(str::to_owned))
    })
}

fn item_kind(r: &AccessRequest) -> &'static str {
    match r.item_type.as_str() {
        "ROLE" => "role",
        "ACCESS_PROFILE" => "access profile",
        _ => "entitlement",
    }
}

/// What a work item asks, in words.
fn description(d: &Details, r: &AccessRequest) -> String {
    let whom = d.name(&r.requested_for_id).unwrap_or(&r.requested_for_id);
    match r.request_type.as_str() {
        "REVOKE_ACCESS" => format!(
            "Approval to revoke {} '{}' from {whom}",
            item_kind(r),
            r.item_name
        ),
        "MODIFY_ACCESS" => format!(
            "Approval to change the dates of {} '{}' for {whom}",
            item_kind(r),
            r.item_name
        ),
        _ => format!(
            "Approval for {} '{}' requested for {whom}",
            item_kind(r),
            r.item_name
        ),
    }
}

/// `WorkItems` of type Approval: one approval item, the requested access.
///
/// The approval item's `state` is null outside beta: the SailPoint Python SDK's v3/v2024 models
/// of `ApprovalItemDetails` fail on any non-null state (they name a class they never import),
/// and those families' schemas allow null. The work item's own `state` carries the status.
pub fn work_item(d: &Details, x: &Detail, family: Family) -> Value {
    let (p, r) = (&x.approval, &x.request);
    let requester = d.people.get(&r.requester_id);
    let state = p.status.work_item_state();
    let application = r
        .source_id
        .as_ref()
        .and_then(|s| d.sources.get(s))
        .map_or("IdentityNow", String::as_str);
    let value = match r.item_type.as_str() {
        "ENTITLEMENT" => d.values.get(&r.item_id).unwrap_or(&r.item_name),
        _ => &r.item_name,
    };
    json!({
        "id": p.id,
        "requesterId": r.requester_id,
        "requesterDisplayName": requester.map(|i| i.display_name.clone().unwrap_or_else(|| i.name.clone())),
        "ownerId": p.owner_id,
        "ownerName": d.name(&p.owner_id).unwrap_or(""),
        "created": ts(p.created),
        "modified": ts(p.modified),
        "description": description(d, r),
        "state": state,
        "type": "Approval",
        "approvalItems": [{
            "id": r.id,
            "account": account(r),
            "application": application,
            "name": r.item_name,
            "operation": if r.request_type == "REVOKE_ACCESS" { "Remove" } else { "Add" },
            "value": value,
            "state": if family == Family::Beta { Value::from(state) } else { Value::Null },
        }],
        "name": format!("Access request for {}", r.item_name),
        "completed": (p.status != ApprovalStatus::Pending).then(|| ts(p.decided_at.unwrap_or(p.modified))),
        "numItems": 1,
        "errors": [],
    })
}

/// The fields `PendingApproval` and `CompletedApproval` share.
fn core(d: &Details, x: &Detail, family: Family) -> Map<String, Value> {
    let (p, r) = (&x.approval, &x.request);
    let mut object = json!({
        "type": r.item_type,
        "id": r.item_id,
        "name": r.item_name,
    });
    if let Some(desc) = &r.item_description {
        object["description"] = Value::String(desc.clone());
    }
    let modify = r.request_type == "MODIFY_ACCESS";
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("id", Value::String(p.id.clone()));
    put("name", Value::String(r.item_name.clone()));
    put("created", Value::String(ts(p.created)));
    put("modified", Value::String(ts(p.modified)));
    put("requestCreated", Value::String(ts(r.created)));
    put("requestType", Value::String(r.request_type.clone()));
    if family == Family::V1 {
        put("identityType", Value::String("HUMAN".into()));
    }
    put("requester", identity_ref(d, &r.requester_id));
    put("requestedFor", identity_ref(d, &r.requested_for_id));
    put("owner", owner_ref(d, p));
    put("requestedObject", object);
    if let Some(c) = requester_comment(d, r) {
        put("requesterComment", c);
    }
    put("previousReviewersComments", previous_reviewers(d, x));
    put("forwardHistory", forward_history(d, p));
    put(
        "commentRequiredWhenRejected",
        Value::Bool(x.comment_required_when_rejected),
    );
    if let Some(at) = r.remove_date {
        put("removeDate", Value::String(ts(at)));
    }
    put(
        "removeDateUpdateRequested",
        Value::Bool(modify && r.remove_date.is_some()),
    );
    if let Some(at) = r.start_date {
        put("startDate", Value::String(ts(at)));
    }
    put(
        "startUpdateRequested",
        Value::Bool(modify && r.start_date.is_some()),
    );
    if let Some(meta) = client_metadata(r) {
        put("clientMetadata", meta);
    }
    put(
        "requestedAccounts",
        requested_accounts(d, r).unwrap_or(Value::Null),
    );
    m
}

/// `PendingApproval` (`accessRequestId` except in beta, whose schema lacks it).
pub fn pending_approval(d: &Details, x: &Detail, family: Family) -> Value {
    let mut m = core(d, x, family);
    if family != Family::Beta {
        m.insert(
            "accessRequestId".into(),
            Value::String(x.request.id.clone()),
        );
    }
    Value::Object(m)
}

/// `CompletedApproval`: who decided, with what comment, and how.
pub fn completed_approval(d: &Details, x: &Detail, family: Family) -> Value {
    let p = &x.approval;
    let mut m = core(d, x, family);
    let by = p.decided_by.clone().unwrap_or_else(|| p.owner_id.clone());
    let at = p.decided_at.unwrap_or(p.modified);
    m.insert("reviewedBy".into(), identity_ref(d, &by));
    m.insert(
        "reviewerComment".into(),
        comment(d, p.comment.as_deref(), at, &by),
    );
    m.insert(
        "state".into(),
        Value::String(
            if p.status == ApprovalStatus::Rejected {
                "REJECTED"
            } else {
                "APPROVED"
            }
            .into(),
        ),
    );
    Value::Object(m)
}
