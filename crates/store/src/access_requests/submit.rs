//! Submitting access requests: the rules that need the tenant's data, and the insert of one row
//! per (identity, item) with its processing job, in the caller's transaction.

use super::engine::{self, Refusal};
use super::new_id;
use super::rows::{self, AccessRequest, Stage, State};
use crate::listing::{id_set, id_set_value, tenant_is_1};
use crate::{Conn, StoreError, Value};
use gatehouse_domain::Timestamp;
use std::collections::{HashMap, HashSet};

/// One requested item, checked for shape by the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct NewItem {
    /// ROLE, ACCESS_PROFILE or ENTITLEMENT.
    pub item_type: String,
    /// The item's id.
    pub item_id: String,
    /// Requester's comment.
    pub comment: Option<String>,
    /// `clientMetadata` of the item.
    pub client_metadata: Option<serde_json::Value>,
    /// Sunrise.
    pub start_date: Option<Timestamp>,
    /// Sunset.
    pub remove_date: Option<Timestamp>,
    /// REVOKE: assignment to revoke.
    pub assignment_id: Option<String>,
    /// REVOKE: account to revoke on.
    pub native_identity: Option<String>,
    /// `accountSelection`, as sent.
    pub account_selection: Option<serde_json::Value>,
}

/// A submitted request: items for each identity.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRequest {
    /// GRANT_ACCESS, REVOKE_ACCESS or MODIFY_ACCESS.
    pub request_type: String,
    /// Who asks.
    pub requester_id: String,
    /// The requester is an ORG_ADMIN.
    pub requester_is_admin: bool,
    /// For whom, and what (identities in request order).
    pub requested_for: Vec<(String, Vec<NewItem>)>,
    /// The request's `clientMetadata`.
    pub request_metadata: Option<serde_json::Value>,
}

/// What was (or already had been) requested for one identity (`AccessRequestTracking`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracking {
    /// The identity.
    pub requested_for: String,
    /// (type, id) of each item.
    pub items: Vec<(String, String)>,
    /// Request ids.
    pub ids: Vec<String>,
}

/// The answer to a submission.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Submitted {
    /// Requests created now.
    pub new: Vec<Tracking>,
    /// Items already pending or held, reported instead of requested again.
    pub existing: Vec<Tracking>,
}

/// (identity, item type, item id).
type ItemKey = (String, String, String);

/// A catalog item as a request needs it.
#[derive(Clone, Debug)]
struct CatalogItem {
    name: String,
    description: Option<String>,
    source_id: Option<String>,
    requestable: bool,
    enabled: bool,
    comments_required: bool,
}

fn lookup(
    c: &mut dyn Conn,
    tenant_id: &str,
    item_type: &str,
    ids: &[String],
    comments_default: bool,
) -> Result<HashMap<String, CatalogItem>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = match item_type {
        "ROLE" => "select id, name, description, null, requestable, enabled, access_request_config from role",
        "ACCESS_PROFILE" => "select id, name, description, source_id, requestable, enabled, access_request_config from access_profile",
        _ => "select id, name, description, source_id, requestable, true, null from entitlement",
    };
    let params: Vec<Value> = vec![tenant_id.into(), id_set_value(ids)];
    let rows = c.query(
        &format!(
            "{sql} where {} and id {}",
            tenant_is_1(c, "tenant_id"),
            id_set(c, 2)
        ),
        &params,
    )?;
    let mut out = HashMap::new();
    for r in rows {
        let config: Option<serde_json::Value> =
            r.opt_text(6)?.and_then(|s| serde_json::from_str(&s).ok());
        out.insert(
            r.text(0)?,
            CatalogItem {
                name: r.text(1)?,
                description: r.opt_text(2)?,
                source_id: r.opt_text(3)?,
                requestable: r.bool(4)?,
                enabled: r.bool(5)?,
                comments_required: config
                    .and_then(|c| c.get("commentsRequired").and_then(|v| v.as_bool()))
                    .unwrap_or(comments_default),
            },
        );
    }
    Ok(out)
}

fn kind_name(item_type: &str) -> &'static str {
    match item_type {
        "ROLE" => "role",
        "ACCESS_PROFILE" => "access profile",
        _ => "entitlement",
    }
}

/// Checks the rules of `req` that need the tenant's data (identities exist; who may ask for
/// whom; items exist, are enabled and requestable; comments; what a revocation may touch), then
/// inserts one request per (identity, item) and enqueues its processing. Items already pending
/// for the identity, or (for a grant) already held with the same dates, are reported as existing
/// and not requested again.
pub fn submit(
    c: &mut dyn Conn,
    tenant_id: &str,
    req: &NewRequest,
    now: Timestamp,
) -> Result<Result<Submitted, Refusal>, StoreError> {
    let config = crate::access_config::load(c, tenant_id)?;
    if config.approvals_must_be_external && !req.requester_is_admin {
        return Ok(Err(Refusal::Forbidden(
            "Access requests must come from an external approval system (approvalsMustBeExternal); only an ORG_ADMIN may submit here.".into(),
        )));
    }
    let for_ids: Vec<String> = req.requested_for.iter().map(|(id, _)| id.clone()).collect();
    let params: Vec<Value> = vec![tenant_id.into(), id_set_value(&for_ids)];
    let managers: HashMap<String, Option<String>> = c
        .query(
            &format!(
                "select id, manager_id from identity where {} and id {}",
                tenant_is_1(c, "tenant_id"),
                id_set(c, 2)
            ),
            &params,
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.opt_text(1)?)))
        .collect::<Result<_, StoreError>>()?;
    for id in &for_ids {
        let Some(manager) = managers.get(id) else {
            return Ok(Err(Refusal::Invalid(format!(
                "requestedFor: identity '{id}' does not exist."
            ))));
        };
        let own = *id == req.requester_id;
        let managed = manager.as_deref() == Some(req.requester_id.as_str());
        if req.request_type == "REVOKE_ACCESS" {
            if own {
                return Ok(Err(Refusal::Invalid(
                    "REVOKE_ACCESS cannot be requested for yourself.".into(),
                )));
            }
            if !(req.requester_is_admin || managed) {
                return Ok(Err(Refusal::Forbidden(format!(
                    "Only the manager of identity '{id}' or an ORG_ADMIN may request to revoke its access."
                ))));
            }
        } else {
            let allowed = own
                || req.requester_is_admin
                || config.request_on_behalf_of_anyone_by_anyone
                || (managed && config.request_on_behalf_of_employee_by_manager);
            if allowed {
                continue;
            }
            return Ok(Err(Refusal::Forbidden(format!(
                "You may not request access for identity '{id}': the access request configuration does not allow requests on behalf of others{}.",
                if managed { " (not even for your direct reports)" } else { "" }
            ))));
        }
    }
    // The catalog items, fetched once per type.
    let mut wanted: HashMap<&str, Vec<String>> = HashMap::new();
    for (_, items) in &req.requested_for {
        for i in items {
            let list = wanted.entry(i.item_type.as_str()).or_default();
            if !list.contains(&i.item_id) {
                list.push(i.item_id.clone());
            }
        }
    }
    let mut catalog: HashMap<(String, String), CatalogItem> = HashMap::new();
    for (t, ids) in &wanted {
        let default = *t == "ENTITLEMENT" && config.entitlement.request_comments_required;
        for (id, item) in lookup(c, tenant_id, t, ids, default)? {
            catalog.insert(((*t).to_owned(), id), item);
        }
    }
    let revoke = req.request_type == "REVOKE_ACCESS";
    for (for_id, items) in &req.requested_for {
        for i in items {
            let Some(item) = catalog.get(&(i.item_type.clone(), i.item_id.clone())) else {
                return Ok(Err(Refusal::Invalid(format!(
                    "requestedItems: {} '{}' does not exist.",
                    kind_name(&i.item_type),
                    i.item_id
                ))));
            };
            if !(revoke || item.requestable && item.enabled) {
                return Ok(Err(Refusal::Invalid(format!(
                    "requestedItems: {} '{}' ({}) is not requestable.",
                    kind_name(&i.item_type),
                    i.item_id,
                    item.name
                ))));
            }
            if !revoke
                && item.comments_required
                && i.comment.as_deref().is_none_or(|s| s.trim().is_empty())
            {
                return Ok(Err(Refusal::Invalid(format!(
                    "requestedItems: {} '{}' ({}) requires a comment.",
                    kind_name(&i.item_type),
                    i.item_id,
                    item.name
                ))));
            }
            if revoke || req.request_type == "MODIFY_ACCESS" {
                if let Err(refusal) = check_held(c, tenant_id, for_id, i, revoke)? {
                    return Ok(Err(refusal));
                }
            }
        }
    }
    // Pending requests and (for grants) held access, for every identity at once.
    let pending: HashMap<ItemKey, String> = c
        .query(
            &format!(
                "select requested_for_id, item_type, item_id, id from access_request \
                 where {} and requested_for_id {} and stage <> 'DONE' and request_type = $3 \
                 and not (stage = 'TICKET' and exists (select 1 from service_desk_ticket t \
                   where t.request_id = access_request.id and t.pending_until <= $4))",
                tenant_is_1(c, "tenant_id"),
                id_set(c, 2),
            ),
            &[
                params.clone(),
                vec![req.request_type.clone().into(), now.into()],
            ]
            .concat(),
        )?
        .iter()
        .map(|r| Ok(((r.text(0)?, r.text(1)?, r.text(2)?), r.text(3)?)))
        .collect::<Result<_, StoreError>>()?;
    let held: HashMap<ItemKey, (Option<i64>, Option<String>)> = if revoke {
        HashMap::new()
    } else {
        c.query(
            &format!(
                "select identity_id, item_type, item_id, remove_date, access_request_id from assignment \
                 where {} and identity_id {}",
                tenant_is_1(c, "tenant_id"),
                id_set(c, 2)
            ),
            &params,
        )?
        .iter()
        .map(|r| Ok(((r.text(0)?, r.text(1)?, r.text(2)?), (r.opt_int(3)?, r.opt_text(4)?))))
        .collect::<Result<_, StoreError>>()?
    };
    let mut out = Submitted::default();
    for (for_id, items) in &req.requested_for {
        let mut new = Tracking {
            requested_for: for_id.clone(),
            items: Vec::new(),
            ids: Vec::new(),
        };
        let mut existing = new.clone();
        let mut seen = HashSet::new();
        for i in items {
            let key = (for_id.clone(), i.item_type.clone(), i.item_id.clone());
            if !seen.insert(key.clone()) {
                continue;
            }
            let pair = (i.item_type.clone(), i.item_id.clone());
            if let Some(id) = pending.get(&key) {
                existing.items.push(pair);
                existing.ids.push(id.clone());
                continue;
            }
            if let Some((remove, by)) = held.get(&key) {
                if req.request_type == "GRANT_ACCESS"
                    && i.start_date.is_none()
                    && *remove == i.remove_date.map(|d| d.0)
                {
                    existing.items.push(pair);
                    existing.ids.extend(by.iter().cloned());
                    continue;
                }
            }
            let item = &catalog[&(i.item_type.clone(), i.item_id.clone())];
            let r = AccessRequest {
                id: new_id(),
                tenant_id: tenant_id.to_owned(),
                request_type: req.request_type.clone(),
                requester_id: req.requester_id.clone(),
                requested_for_id: for_id.clone(),
                item_type: i.item_type.clone(),
                item_id: i.item_id.clone(),
                item_name: item.name.clone(),
                item_description: item.description.clone(),
                source_id: item.source_id.clone(),
                comment: i.comment.clone(),
                client_metadata: i.client_metadata.clone(),
                request_metadata: req.request_metadata.clone(),
                start_date: i.start_date,
                remove_date: i.remove_date,
                assignment_id: i.assignment_id.clone(),
                native_identity: i.native_identity.clone(),
                account_selection: i.account_selection.clone(),
                state: State::Executing,
                stage: Stage::Queued,
                step: 0,
                error_messages: None,
                cancel_comment: None,
                cancelled_by: None,
                cancelled_at: None,
                created: now,
                modified: now,
                completed: None,
            };
            rows::insert_request(c, &r)?;
            engine::enqueue_process(c, &r, now)?;
            new.items.push(pair);
            new.ids.push(r.id);
        }
        if !new.items.is_empty() {
            out.new.push(new);
        }
        if !existing.items.is_empty() {
            out.existing.push(existing);
        }
    }
    Ok(Ok(out))
}

/// REVOKE and MODIFY need the access to be held through a request (never through a role or a
/// birthright), and a revocation's removal date must come before an existing one.
fn check_held(
    c: &mut dyn Conn,
    tenant_id: &str,
    for_id: &str,
    i: &NewItem,
    revoke: bool,
) -> Result<Result<(), Refusal>, StoreError> {
    let held = c.query(
        "select id, reason, remove_date from assignment where tenant_id = $1 and identity_id = $2 \
         and item_type = $3 and item_id = $4",
        &[
            tenant_id.into(),
            for_id.into(),
            i.item_type.clone().into(),
            i.item_id.clone().into(),
        ],
    )?;
    let mut requested = Vec::new();
    let mut other = None;
    for r in &held {
        let (id, reason, remove) = (r.text(0)?, r.text(1)?, r.opt_int(2)?);
        if i.assignment_id.as_ref().is_some_and(|a| *a != id) {
            continue;
        }
        if matches!(reason.as_str(), "ACCESS_REQUEST" | "IMPORT") {
            requested.push(remove);
        } else {
            other = Some(reason);
        }
    }
    let what = format!("{} '{}'", kind_name(&i.item_type), i.item_id);
    if requested.is_empty() {
        return Ok(Err(Refusal::Invalid(match other {
            Some(reason) => format!(
                "Identity '{for_id}' holds {what} through {}: it cannot be revoked by an access request.",
                if reason == "ROLE_MEMBERSHIP" { "role membership" } else { "birthright provisioning" }
            ),
            None => format!("Identity '{for_id}' does not hold {what}{}.",
                i.assignment_id.as_ref().map(|a| format!(" under assignment '{a}'")).unwrap_or_default()),
        })));
    }
    if revoke {
        if let Some(at) = i.remove_date {
            if requested.iter().flatten().any(|sunset| at.0 >= *sunset) {
                return Ok(Err(Refusal::Invalid(format!(
                    "removeDate must be earlier than the existing removal date of {what}."
                ))));
            }
        }
    }
    Ok(Ok(()))
}
