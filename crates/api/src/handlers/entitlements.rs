//! `/entitlements` (v2024, beta): what sources grant. They come from imports, not the API.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{store_page, QueryMap};
use crate::wire::access::entitlement;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::entitlements;
use serde_json::Value;

use FieldKind::{Bool, DateTime, Text, TextCi};
use Op::{Eq, Ge, Gt, In, Le, Lt, Sw};

const fn f(name: &'static str, column: &'static str, kind: FieldKind, ops: &'static [Op]) -> Field {
    Field {
        name,
        column,
        kind,
        ops,
    }
}

/// `filters` of `listEntitlements`.
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        f("id", "e.id", Text, &[Eq, In]),
        f("name", "e.name", TextCi, &[Eq, In, Sw]),
        f("type", "e.type", TextCi, &[Eq, In]),
        f("attribute", "e.attribute", TextCi, &[Eq, In]),
        f("value", "e.value", TextCi, &[Eq, In, Sw]),
        f("source.id", "e.source_id", Text, &[Eq, In]),
        f("requestable", "e.requestable", Bool, &[Eq]),
        f("created", "e.created", DateTime, &[Gt, Lt, Ge, Le]),
        f("modified", "e.modified", DateTime, &[Gt, Lt, Ge, Le]),
        f("owner.id", "e.owner_id", Text, &[Eq, In]),
    ],
};

/// `sorters` of `listEntitlements`.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[
        ("id", "e.id"),
        ("name", "e.name"),
        ("created", "e.created"),
        ("modified", "e.modified"),
        ("type", "e.type"),
        ("attribute", "e.attribute"),
        ("value", "e.value"),
        ("source.id", "e.source_id"),
        ("requestable", "e.requestable"),
    ],
};

/// `filters` of `getAccessProfileEntitlements` (the same aliases).
pub static ACCESS_PROFILE_FILTERS: FilterSpec = FilterSpec {
    fields: &[
        f("id", "e.id", Text, &[Eq, In]),
        f("name", "e.name", TextCi, &[Eq, Sw]),
        f("attribute", "e.attribute", TextCi, &[Eq, Sw]),
        f("value", "e.value", TextCi, &[Eq, Sw]),
        f("created", "e.created", DateTime, &[Gt, Lt, Ge, Le]),
        f("modified", "e.modified", DateTime, &[Gt, Lt, Ge, Le]),
        f("owner.id", "e.owner_id", Text, &[Eq, In]),
        f("source.id", "e.source_id", Text, &[Eq, In]),
    ],
};

/// `sorters` of `getAccessProfileEntitlements`.
pub static ACCESS_PROFILE_SORTERS: SortSpec = SortSpec {
    fields: &[
        ("name", "e.name"),
        ("attribute", "e.attribute"),
        ("value", "e.value"),
        ("created", "e.created"),
        ("modified", "e.modified"),
    ],
};

/// Refuses segmentation parameters: Gatehouse has no segments ("If segmentation is currently
/// unavailable, specifying this parameter results in an error").
pub fn no_segments(query: &QueryMap, extra: &[&str]) -> Result<(), ApiError> {
    for p in ["for-segment-ids", "segmented-for-identity", "for-subadmin"]
        .iter()
        .chain(extra)
    {
        if query.get(p).is_some_and(|v| !v.is_empty()) {
            return Err(ApiError::illegal(format!(
                "'{p}' is not supported: Gatehouse has no segments or sub-admin scopes."
            )));
        }
    }
    if !query.bool("include-unsegmented", true)? {
        return Err(ApiError::illegal(
            "'include-unsegmented=false' needs 'for-segment-ids', and Gatehouse has no segments.",
        ));
    }
    Ok(())
}

/// `GET /entitlements` (`listEntitlements`).
pub async fn list_entitlements(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    no_segments(&query, &["account-id"])?;
    let (q, paging) = query.list_query(&FILTERS, 2, &SORTERS, "e.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| entitlements::list(c, &tenant, q))
        .await?;
    let items: Vec<Value> = page.items.iter().map(entitlement).collect();
    Ok(store_page(items, page.total, &paging))
}

/// `GET /entitlements/{id}` (`getEntitlement`).
pub async fn get_entitlement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let v = state
        .store()
        .read(move |c| entitlements::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Entitlement '{id}' was not found.")))?;
    Ok(Json(entitlement(&v)))
}
