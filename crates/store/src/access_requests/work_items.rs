//! What the work-items and access-request-approvals APIs read and the few writes only they make.
//!
//! An approval step is both a pending/completed approval and a work item of type Approval. A
//! person sees the approvals they own directly or through a governance group they belong to; an
//! administrator listing without an owner sees every approval of the tenant. Decisions and
//! hand-overs go through [`super::engine`]; this module lists, counts and gathers what an answer
//! needs: [`details`] fetches the related rows of a whole page with a fixed number of queries,
//! whatever the page's size.

use super::engine::{self, Actor, Decision, Outcome, Refusal};
use super::rows::{self, approval_of, AccessRequest, Approval, ApprovalStatus, APPROVAL_COLUMNS};
use crate::listing::{self, ListQuery, Page};
use crate::{access_config, Conn, StoreError, Value};
use gatehouse_domain::Timestamp;
use std::collections::{HashMap, HashSet};

/// Which approvals a list or count covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Waiting for a decision: pending approvals, open work items.
    Pending,
    /// Approved or rejected: completed approvals (`CompletedApprovalState` has only these two).
    Decided,
    /// No longer pending for any reason (approved, rejected, expired, cancelled): completed
    /// work items, whose state can say `Expired` and `Canceled`.
    Closed,
}

impl Which {
    fn condition(self) -> &'static str {
        match self {
            Self::Pending => "p.status = 'PENDING'",
            Self::Decided => "p.status in ('APPROVED', 'REJECTED')",
            Self::Closed => "p.status in ('APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED')",
        }
    }
}

/// The approvals a list reads: an approval joined with its request (filters name both).
const FROM: &str = "approval p join access_request r on r.id = p.access_request_id";

/// Approvals `$2` may act on: owned by them, or by a governance group they are a member of.
/// One `in (…)` on `owner_id`, so the `(tenant_id, owner_id, status, created)` index serves it;
/// the second condition keeps a group-owned row from matching a person's id and vice versa.
const OWNED_BY_2: &str = "p.owner_id in (select cast($2 as text) union all \
     select m.group_id from governance_group_member m where m.identity_id = $2) \
     and (p.owner_type = 'GOVERNANCE_GROUP' or p.owner_id = $2)";

fn base(owner: Option<&str>, which: Which) -> String {
    match owner {
        Some(_) => format!(
            "p.tenant_id = $1 and {} and {OWNED_BY_2}",
            which.condition()
        ),
        None => format!("p.tenant_id = $1 and {}", which.condition()),
    }
}

fn params(tenant_id: &str, owner: Option<&str>) -> Vec<Value> {
    let mut params: Vec<Value> = vec![tenant_id.into()];
    if let Some(o) = owner {
        params.push(o.into());
    }
    params
}

/// The placeholder the compiled `filters` of a list start at: after the tenant, and the owner
/// when there is one.
pub fn first_filter_param(owner: Option<&str>) -> usize {
    if owner.is_some() {
        3
    } else {
        2
    }
}

/// A page of the approvals `which` of `owner` (every owner when `None`), oldest first unless
/// `q` sorts otherwise. Filters may name `p.` (approval) and `r.` (request) columns.
pub fn list(
    c: &mut dyn Conn,
    tenant_id: &str,
    owner: Option<&str>,
    which: Which,
    q: ListQuery,
) -> Result<Page<Approval>, StoreError> {
    listing::page(
        c,
        APPROVAL_COLUMNS,
        FROM,
        &base(owner, which),
        params(tenant_id, owner),
        q,
        " order by p.created asc, p.id asc",
        approval_of,
    )
}

/// How many approvals `which` `owner` has (every owner when `None`).
pub fn count(
    c: &mut dyn Conn,
    tenant_id: &str,
    owner: Option<&str>,
    which: Which,
) -> Result<i64, StoreError> {
    c.query_one(
        &format!(
            "select count(*) from approval p where {}",
            base(owner, which)
        ),
        &params(tenant_id, owner),
    )?
    .int(0)
}

/// How many approvals there are in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// PENDING.
    pub pending: i64,
    /// APPROVED.
    pub approved: i64,
    /// REJECTED.
    pub rejected: i64,
    /// EXPIRED or CANCELLED.
    pub ended: i64,
}

/// Approvals by status, created at or after `from` (all when `None`), of `owner` (every owner
/// when `None`), in one query.
pub fn count_by_status(
    c: &mut dyn Conn,
    tenant_id: &str,
    owner: Option<&str>,
    from: Option<Timestamp>,
) -> Result<StatusCounts, StoreError> {
    let mut cond = match owner {
        Some(_) => format!("p.tenant_id = $1 and {OWNED_BY_2}"),
        None => "p.tenant_id = $1".to_owned(),
    };
    let mut params = params(tenant_id, owner);
    if let Some(f) = from {
        params.push(f.into());
        cond.push_str(&format!(" and p.created >= ${}", params.len()));
    }
    let mut out = StatusCounts::default();
    for r in c.query(
        &format!("select p.status, count(*) from approval p where {cond} group by p.status"),
        &params,
    )? {
        let n = r.int(1)?;
        match r.text(0)?.as_str() {
            "PENDING" => out.pending += n,
            "APPROVED" => out.approved += n,
            "REJECTED" => out.rejected += n,
            _ => out.ended += n,
        }
    }
    Ok(out)
}

/// Approval `id` if `actor` may see it (owns it, is a member of its owning group, or is an
/// administrator); `None` otherwise, so that another person's work item is indistinguishable
/// from a missing one.
pub fn visible(
    c: &mut dyn Conn,
    tenant_id: &str,
    id: &str,
    actor: &Actor,
) -> Result<Option<Approval>, StoreError> {
    match rows::get_approval(c, tenant_id, id)? {
        Some(p) if engine::may_act(c, &p, actor)? => Ok(Some(p)),
        _ => Ok(None),
    }
}

/// A person as answers name them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// User name.
    pub name: String,
    /// Display name, when set.
    pub display_name: Option<String>,
    /// E-mail, when set.
    pub email: Option<String>,
}

/// One approval with what its answer shows besides itself.
#[derive(Clone, Debug)]
pub struct Detail {
    /// The approval (the work item).
    pub approval: Approval,
    /// The request it decides.
    pub request: AccessRequest,
    /// The decided steps of the same request before this one, by step (previous reviewers).
    pub earlier: Vec<Approval>,
    /// Rejecting needs a comment.
    pub comment_required_when_rejected: bool,
}

/// A page of approvals with everything its answers name.
#[derive(Clone, Debug, Default)]
pub struct Details {
    /// The approvals, in the page's order (an approval whose request vanished is left out).
    pub items: Vec<Detail>,
    /// People named by the page: requesters, recipients, owners, deciders, forwarders.
    pub people: HashMap<String, Person>,
    /// Governance groups named by the page (group owners, and groups an item was forwarded from).
    pub groups: HashMap<String, String>,
    /// Source names by id (the item's source and the sources of selected accounts).
    pub sources: HashMap<String, String>,
    /// Entitlement values by id (the value an approval item grants or removes).
    pub values: HashMap<String, String>,
}

impl Details {
    /// The name of person or group `id`, if it still exists.
    pub fn name(&self, id: &str) -> Option<&str> {
        self.people
            .get(id)
            .map(|p| p.name.as_str())
            .or_else(|| self.groups.get(id).map(String::as_str))
    }
}

/// Runs `select {columns} from {table} where tenant_id = $1 and id in (…)` over `ids` in chunks,
/// handing every row to `each`.
fn by_ids(
    c: &mut dyn Conn,
    sql_head: &str,
    tenant_id: &str,
    ids: &HashSet<String>,
    mut each: impl FnMut(&crate::Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let params: Vec<Value> = vec![tenant_id.into(), listing::id_set_value(ids)];
    for r in c.query(
        &format!(
            "{sql_head} where {} and id {}",
            listing::tenant_is_1(c, "tenant_id"),
            listing::id_set(c, 2)
        ),
        &params,
    )? {
        each(&r)?;
    }
    Ok(())
}

/// The `sourceId`s of a request's `accountSelection` (`[{sourceId, accounts}]`), if it has that shape.
pub fn selected_sources(r: &AccessRequest) -> Vec<String> {
    r.account_selection
        .as_ref()
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s.get("sourceId")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .collect()
}

/// Everything the answers about `approvals` name, in a fixed number of queries (requests, the
/// other steps of those requests, people, groups, sources, entitlement values, and the
/// rejection-comment rules of roles and access profiles), whatever the number of approvals.
pub fn details(
    c: &mut dyn Conn,
    tenant_id: &str,
    approvals: Vec<Approval>,
) -> Result<Details, StoreError> {
    if approvals.is_empty() {
        return Ok(Details::default());
    }
    let request_ids: Vec<String> = {
        let mut ids: Vec<String> = approvals
            .iter()
            .map(|p| p.access_request_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let requests: HashMap<String, AccessRequest> =
        rows::requests_by_ids(c, tenant_id, &request_ids)?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
    let mut steps: HashMap<String, Vec<Approval>> = HashMap::new();
    for p in rows::approvals_of_requests(c, tenant_id, &request_ids)? {
        steps
            .entry(p.access_request_id.clone())
            .or_default()
            .push(p);
    }
    let mut people_ids = HashSet::new();
    let mut group_ids = HashSet::new();
    let mut source_ids = HashSet::new();
    let mut entitlement_ids = HashSet::new();
    let (mut role_ids, mut profile_ids) = (HashSet::new(), HashSet::new());
    for r in requests.values() {
        people_ids.insert(r.requester_id.clone());
        people_ids.insert(r.requested_for_id.clone());
        source_ids.extend(r.source_id.clone());
        source_ids.extend(selected_sources(r));
        match r.item_type.as_str() {
            "ROLE" => role_ids.insert(r.item_id.clone()),
            "ACCESS_PROFILE" => profile_ids.insert(r.item_id.clone()),
            _ => entitlement_ids.insert(r.item_id.clone()),
        };
    }
    for p in steps.values().flatten() {
        if p.owner_type == "IDENTITY" {
            people_ids.insert(p.owner_id.clone());
        } else {
            group_ids.insert(p.owner_id.clone());
        }
        people_ids.extend(p.decided_by.clone());
        for f in &p.forward_history {
            // A hand-over may start from a group; look the old owner up both ways.
            people_ids.insert(f.old_owner_id.clone());
            group_ids.insert(f.old_owner_id.clone());
            people_ids.insert(f.new_owner_id.clone());
            people_ids.extend(f.forwarder_id.clone());
        }
    }
    let mut out = Details::default();
    by_ids(
        c,
        "select id, name, display_name, email from identity",
        tenant_id,
        &people_ids,
        |r| {
            out.people.insert(
                r.text(0)?,
                Person {
                    name: r.text(1)?,
                    display_name: r.opt_text(2)?,
                    email: r.opt_text(3)?,
                },
            );
            Ok(())
        },
    )?;
    by_ids(
        c,
        "select id, name from governance_group",
        tenant_id,
        &group_ids,
        |r| {
            out.groups.insert(r.text(0)?, r.text(1)?);
            Ok(())
        },
    )?;
    by_ids(
        c,
        "select id, name from source",
        tenant_id,
        &source_ids,
        |r| {
            out.sources.insert(r.text(0)?, r.text(1)?);
            Ok(())
        },
    )?;
    by_ids(
        c,
        "select id, value from entitlement",
        tenant_id,
        &entitlement_ids,
        |r| {
            out.values.insert(r.text(0)?, r.text(1)?);
            Ok(())
        },
    )?;
    // The rule of engine::comment_required_when_rejected, for the whole page: a role's or access
    // profile's own `denialCommentsRequired`, the tenant's setting for entitlements.
    let mut denial: HashMap<(String, String), bool> = HashMap::new();
    for (kind, table, ids) in [
        ("ROLE", "role", &role_ids),
        ("ACCESS_PROFILE", "access_profile", &profile_ids),
    ] {
        by_ids(
            c,
            &format!("select id, access_request_config from {table}"),
            tenant_id,
            ids,
            |r| {
                let required = r
                    .opt_text(1)?
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                    .and_then(|d| d.get("denialCommentsRequired").and_then(|v| v.as_bool()))
                    .unwrap_or(false);
                denial.insert((kind.to_owned(), r.text(0)?), required);
                Ok(())
            },
        )?;
    }
    let entitlement_rule = if entitlement_ids.is_empty() {
        false
    } else {
        access_config::load(c, tenant_id)?
            .entitlement
            .denied_comments_required
    };
    for p in approvals {
        let Some(r) = requests.get(&p.access_request_id) else {
            continue;
        };
        let earlier = steps
            .get(&r.id)
            .into_iter()
            .flatten()
            .filter(|e| {
                e.step < p.step
                    && matches!(
                        e.status,
                        ApprovalStatus::Approved | ApprovalStatus::Rejected
                    )
            })
            .cloned()
            .collect();
        let comment_required_when_rejected = match r.item_type.as_str() {
            "ROLE" | "ACCESS_PROFILE" => denial
                .get(&(r.item_type.clone(), r.item_id.clone()))
                .copied()
                .unwrap_or(false),
            _ => entitlement_rule,
        };
        out.items.push(Detail {
            request: r.clone(),
            approval: p,
            earlier,
            comment_required_when_rejected,
        });
    }
    Ok(out)
}

/// Someone who may decide a pending step of a request (`listAccessRequestApprovers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approver {
    /// Identity id.
    pub id: String,
    /// User name.
    pub name: String,
    /// E-mail, when set.
    pub email: Option<String>,
    /// The approval they may decide.
    pub approval_id: String,
}

/// The people who may decide the pending steps of request `request_id`: the owner of each step,
/// or every member of its owning governance group. `None` when the request does not exist.
pub fn approvers(
    c: &mut dyn Conn,
    tenant_id: &str,
    request_id: &str,
) -> Result<Option<Vec<Approver>>, StoreError> {
    if rows::get_request(c, tenant_id, request_id)?.is_none() {
        return Ok(None);
    }
    let rows = c.query(
        "select i.id, i.name, i.email, p.id from approval p join identity i on i.id = p.owner_id \
         where p.tenant_id = $1 and p.access_request_id = $2 and p.status = 'PENDING' and p.owner_type = 'IDENTITY' \
         union all \
         select i.id, i.name, i.email, p.id from approval p \
         join governance_group_member m on m.group_id = p.owner_id join identity i on i.id = m.identity_id \
         where p.tenant_id = $1 and p.access_request_id = $2 and p.status = 'PENDING' and p.owner_type = 'GOVERNANCE_GROUP' \
         order by 4, 2, 1",
        &[tenant_id.into(), request_id.into()],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Approver {
                id: r.text(0)?,
                name: r.text(1)?,
                email: r.opt_text(2)?,
                approval_id: r.text(3)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()
        .map(Some)
}

/// Stores `selection` (an object keyed by field name) as the account selection of the request
/// that pending approval `approval_id` decides. Only someone who may act on the approval, and
/// only while it is pending.
pub fn submit_account_selection(
    c: &mut dyn Conn,
    tenant_id: &str,
    approval_id: &str,
    actor: &Actor,
    selection: &serde_json::Value,
    now: Timestamp,
) -> Outcome<Approval> {
    let Some(p) = visible(c, tenant_id, approval_id, actor)? else {
        return Ok(Err(Refusal::NotFound(format!(
            "Work item '{approval_id}' was not found."
        ))));
    };
    if p.status != ApprovalStatus::Pending {
        return Ok(Err(Refusal::Invalid(format!(
            "Work item '{approval_id}' is no longer pending ({}): its account selection cannot change.",
            p.status.as_str()
        ))));
    }
    let stored = c.execute(
        "update access_request set account_selection = $3, modified = $4 where tenant_id = $1 and id = $2 \
         and exists (select 1 from approval a where a.id = $5 and a.status = 'PENDING')",
        &[
            tenant_id.into(),
            p.access_request_id.clone().into(),
            selection.to_string().into(),
            now.into(),
            approval_id.into(),
        ],
    )? == 1;
    if !stored {
        return Ok(Err(Refusal::Invalid(format!(
            "Work item '{approval_id}' was decided meanwhile: its account selection cannot change."
        ))));
    }
    Ok(Ok(p))
}

/// Approves every approval of `ids` with `comment`, or none: unknown ids (or ones `actor` may
/// not act on) are [`Refusal::NotFound`] and decided ones [`Refusal::Invalid`], each naming all
/// of them. Should a decision lose a race after the checks, the whole write fails with
/// [`StoreError::Conflict`] so that nothing is kept.
pub fn approve_all(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
    actor: &Actor,
    comment: &str,
    now: Timestamp,
) -> Outcome<Vec<Approval>> {
    let mut found = Vec::new();
    let (mut missing, mut decided) = (Vec::new(), Vec::new());
    for id in ids {
        match visible(c, tenant_id, id, actor)? {
            None => missing.push(id.clone()),
            Some(p) if p.status != ApprovalStatus::Pending => {
                decided.push(format!("{id} ({})", p.status.as_str()))
            }
            Some(p) => found.push(p),
        }
    }
    if !missing.is_empty() {
        return Ok(Err(Refusal::NotFound(format!(
            "approvalIds: no approval {}; nothing was approved.",
            missing.join(", ")
        ))));
    }
    if !decided.is_empty() {
        return Ok(Err(Refusal::Invalid(format!(
            "approvalIds: already decided: {}; nothing was approved.",
            decided.join(", ")
        ))));
    }
    let mut out = Vec::new();
    for p in found {
        match engine::decide(
            c,
            tenant_id,
            &p.id,
            actor,
            Decision::Approve,
            Some(comment),
            now,
        )? {
            Ok(p) => out.push(p),
            Err(why) => {
                return Err(StoreError::Conflict(format!(
                    "approval {} changed during a bulk approval: {why:?}",
                    p.id
                )))
            }
        }
    }
    Ok(Ok(out))
}
