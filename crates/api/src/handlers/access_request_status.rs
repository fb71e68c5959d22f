//! `GET /access-request-status` (`listAccessRequestStatus`): where each requested item stands.
//!
//! An ORG_ADMIN sees every request of the tenant; anyone else sees the requests they made, are
//! the subject of, or approve (or approved). The identity parameters accept `me`.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{store_page, QueryMap};
use crate::routes::Family;
use crate::wire::access_request_status::requested_item_status;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::access_requests::status::{self, Scope};

/// `filters` of v3 and beta: accessRequestId (eq, ge, gt, le, lt, ne, in, sw),
/// accountActivityItemId (eq, in, ge, gt, le, ne, sw), created (eq, ge, gt, le, lt, ne).
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "accessRequestId",
            column: "r.id",
            kind: FieldKind::Text,
            ops: &[
                Op::Eq,
                Op::Ge,
                Op::Gt,
                Op::Le,
                Op::Lt,
                Op::Ne,
                Op::In,
                Op::Sw,
            ],
        },
        ACCOUNT_ACTIVITY_ITEM_ID,
        CREATED,
    ],
};

/// `filters` of v2024 and v1: as v3 without `in` on accessRequestId.
pub static FILTERS_V2024: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "accessRequestId",
            column: "r.id",
            kind: FieldKind::Text,
            ops: &[Op::Eq, Op::Ge, Op::Gt, Op::Le, Op::Lt, Op::Ne, Op::Sw],
        },
        ACCOUNT_ACTIVITY_ITEM_ID,
        CREATED,
    ],
};

const ACCOUNT_ACTIVITY_ITEM_ID: Field = Field {
    name: "accountActivityItemId",
    column: "r.id",
    kind: FieldKind::Text,
    ops: &[Op::Eq, Op::In, Op::Ge, Op::Gt, Op::Le, Op::Ne, Op::Sw],
};

const CREATED: Field = Field {
    name: "created",
    column: "r.created",
    kind: FieldKind::DateTime,
    ops: &[Op::Eq, Op::Ge, Op::Gt, Op::Le, Op::Lt, Op::Ne],
};

/// `sorters`: created, modified, accountActivityItemId, name.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[
        ("created", "r.created"),
        ("modified", "r.modified"),
        ("accountActivityItemId", "r.id"),
        ("name", "r.item_name"),
    ],
};

fn identity_param(query: &QueryMap, name: &str, me: &str) -> Option<String> {
    query.get(name).filter(|v| !v.is_empty()).map(|v| {
        if v == "me" {
            me.to_owned()
        } else {
            v.to_owned()
        }
    })
}

/// `GET /access-request-status`.
pub async fn list_access_request_status(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let me = caller.identity()?.to_owned();
    let scope = Scope {
        tenant_id: caller.tenant().to_owned(),
        requested_for: identity_param(&query, "requested-for", &me),
        requested_by: identity_param(&query, "requested-by", &me),
        regarding: identity_param(&query, "regarding-identity", &me),
        assigned_to: identity_param(&query, "assigned-to", &me),
        executing_only: match query.get("request-state") {
            None | Some("") => false,
            Some(s) if s.eq_ignore_ascii_case("EXECUTING") => true,
            Some(s) => {
                return Err(ApiError::illegal(format!(
                    "'request-state' may only be EXECUTING, not '{s}'."
                )))
            }
        },
        visible_to: (!caller.is_admin()).then(|| me.clone()),
    };
    if scope.regarding.is_some() && (scope.requested_for.is_some() || scope.requested_by.is_some())
    {
        return Err(ApiError::illegal(
            "'regarding-identity' is mutually exclusive with 'requested-for' and 'requested-by'.",
        ));
    }
    let filters = match caller.family() {
        Family::V3 | Family::Beta => &FILTERS,
        _ => &FILTERS_V2024,
    };
    let (q, paging) =
        query.list_query(filters, scope.first_filter_param(), &SORTERS, "r.id", 250)?;
    let page = state
        .store()
        .read(move |c| status::list(c, &scope, q))
        .await?;
    let family = caller.family();
    let items = page
        .requests
        .iter()
        .map(|r| requested_item_status(&page, r, family))
        .collect();
    Ok(store_page(items, page.total, &paging))
}
