//! `listAccessRequestStatus`: one page of requests seen by someone, with their approvals and the
//! names they mention, in a fixed number of queries.

use super::rows::{self, AccessRequest, Approval, REQUEST_COLUMNS};
use crate::listing::{self, ListQuery, Page};
use crate::{Conn, StoreError, Value};
use std::collections::{HashMap, HashSet};

/// Which requests a status list is about. Every identity filter is optional.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Tenant.
    pub tenant_id: String,
    /// Only requests for this identity.
    pub requested_for: Option<String>,
    /// Only requests made by this identity.
    pub requested_by: Option<String>,
    /// Only requests for or by this identity.
    pub regarding: Option<String>,
    /// Only requests with a pending approval this identity owns (directly or through a group).
    pub assigned_to: Option<String>,
    /// Only requests still executing.
    pub executing_only: bool,
    /// A non-admin caller: only requests they made, are the subject of, or approve(d).
    pub visible_to: Option<String>,
}

impl Scope {
    fn base(&self) -> (String, Vec<Value>) {
        let mut sql = "r.tenant_id = $1".to_owned();
        let mut params: Vec<Value> = vec![self.tenant_id.clone().into()];
        let next = |sql: &mut String, params: &mut Vec<Value>, cond: &str, v: &str| {
            params.push(v.into());
            sql.push_str(" and ");
            sql.push_str(&cond.replace("$?", &format!("${}", params.len())));
        };
        if let Some(v) = &self.requested_for {
            next(&mut sql, &mut params, "r.requested_for_id = $?", v);
        }
        if let Some(v) = &self.requested_by {
            next(&mut sql, &mut params, "r.requester_id = $?", v);
        }
        if let Some(v) = &self.regarding {
            params.push(v.as_str().into());
            let n = params.len();
            sql.push_str(&format!(
                " and (r.requested_for_id = ${n} or r.requester_id = ${n})"
            ));
        }
        if let Some(v) = &self.assigned_to {
            params.push(v.as_str().into());
            let n = params.len();
            sql.push_str(&format!(
                " and exists (select 1 from approval p where p.access_request_id = r.id \
                 and p.status = 'PENDING' and (p.owner_id = ${n} or p.owner_id in \
                 (select group_id from governance_group_member where identity_id = ${n})))"
            ));
        }
        if self.executing_only {
            sql.push_str(" and r.state = 'EXECUTING'");
        }
        if let Some(v) = &self.visible_to {
            params.push(v.as_str().into());
            let n = params.len();
            sql.push_str(&format!(
                " and (r.requester_id = ${n} or r.requested_for_id = ${n} or exists \
                 (select 1 from approval p where p.access_request_id = r.id and \
                 (p.owner_id = ${n} or p.original_owner_id = ${n} or p.decided_by = ${n} or \
                 p.owner_id in (select group_id from governance_group_member where identity_id = ${n}))))"
            ));
        }
        (sql, params)
    }

    /// The placeholder number a compiled `filters` must start at.
    pub fn first_filter_param(&self) -> usize {
        self.base().1.len() + 1
    }
}

/// A page of requests with what their status entries show.
#[derive(Clone, Debug, Default)]
pub struct StatusPage {
    /// The requests, in list order.
    pub requests: Vec<AccessRequest>,
    /// Their approvals, by request id, in step order.
    pub approvals: HashMap<String, Vec<Approval>>,
    /// Display names of every identity and governance group mentioned.
    pub names: HashMap<String, String>,
    /// The ids among them that are governance groups.
    pub groups: HashSet<String>,
    /// Matching requests, when counted.
    pub total: Option<i64>,
}

/// One page of the requests in `scope`.
pub fn list(c: &mut dyn Conn, scope: &Scope, q: ListQuery) -> Result<StatusPage, StoreError> {
    let (base, params) = scope.base();
    let Page { items, total } = listing::page_by_key(
        c,
        "r.id",
        REQUEST_COLUMNS,
        "access_request r",
        &base,
        params,
        q,
        " order by r.created desc, r.id desc",
        rows::request_of,
    )?;
    let ids: Vec<String> = items.iter().map(|r| r.id.clone()).collect();
    let mut approvals: HashMap<String, Vec<Approval>> = HashMap::new();
    for p in rows::approvals_of_requests(c, &scope.tenant_id, &ids)? {
        approvals
            .entry(p.access_request_id.clone())
            .or_default()
            .push(p);
    }
    let mut wanted: Vec<String> = Vec::new();
    for r in &items {
        wanted.push(r.requester_id.clone());
        wanted.push(r.requested_for_id.clone());
        wanted.extend(r.cancelled_by.iter().cloned());
    }
    for p in approvals.values().flatten() {
        wanted.push(p.owner_id.clone());
        wanted.push(p.original_owner_id.clone());
        wanted.extend(p.decided_by.iter().cloned());
    }
    wanted.sort();
    wanted.dedup();
    let (names, groups) = names_of(c, &scope.tenant_id, &wanted)?;
    Ok(StatusPage {
        requests: items,
        approvals,
        names,
        groups,
        total,
    })
}

/// Display names (else user names) of identities, and names of governance groups, among `ids`;
/// and which of them are groups.
pub fn names_of(
    c: &mut dyn Conn,
    tenant_id: &str,
    ids: &[String],
) -> Result<(HashMap<String, String>, HashSet<String>), StoreError> {
    let mut out = HashMap::new();
    let mut groups = HashSet::new();
    if ids.is_empty() {
        return Ok((out, groups));
    }
    let params: Vec<Value> = vec![tenant_id.into(), listing::id_set_value(ids)];
    let marks = listing::id_set(c, 2);
    let tenant = listing::tenant_is_1(c, "tenant_id");
    for r in c.query(
        &format!(
            "select id, coalesce(display_name, name) from identity where {tenant} and id {marks}"
        ),
        &params,
    )? {
        out.insert(r.text(0)?, r.text(1)?);
    }
    for r in c.query(
        &format!("select id, name from governance_group where {tenant} and id {marks}"),
        &params,
    )? {
        groups.insert(r.text(0)?);
        out.insert(r.text(0)?, r.text(1)?);
    }
    Ok((out, groups))
}
