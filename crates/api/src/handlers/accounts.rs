//! `/accounts` (list and get): people's accounts on sources.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{store_page, QueryMap};
use crate::routes::Family;
use crate::wire::ts;
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::accounts::{self, AccountView};
use serde_json::{json, Value};

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

const HAS_ENTITLEMENTS: &str =
    "exists (select 1 from assignment x where x.account_id = a.id and x.item_type = 'ENTITLEMENT')";

macro_rules! account_filters {
    ($created:expr) => {
        FilterSpec {
            fields: &[
                f("id", "a.id", Text, &[Eq, In, Sw]),
                f("identityId", "a.identity_id", Text, &[Eq, In, Sw]),
                f("name", "a.name", TextCi, &[Eq, In, Sw]),
                f("nativeIdentity", "a.native_identity", TextCi, &[Eq, In, Sw]),
                f("sourceId", "a.source_id", Text, &[Eq, In, Sw]),
                f("uncorrelated", "(a.identity_id is null)", Bool, &[Eq]),
                f("hasEntitlements", HAS_ENTITLEMENTS, Bool, &[Eq]),
                f("entitlements", HAS_ENTITLEMENTS, Bool, &[Eq]),
                f("origin", "a.origin", Text, &[Eq, In]),
                f("manuallyCorrelated", "a.manually_correlated", Bool, &[Eq]),
                f("identity.name", "idn.name", TextCi, &[Eq, In, Sw]),
                f("identity.correlated", "idn.correlated", Bool, &[Eq]),
                f("source.displayableName", "src.name", TextCi, &[Eq, In]),
                f("source.authoritative", "src.authoritative", Bool, &[Eq]),
                f(
                    "source.connectionType",
                    "src.connection_type",
                    TextCi,
                    &[Eq, In],
                ),
                f("created", "a.created", DateTime, $created),
                f("modified", "a.modified", DateTime, &[Eq, Ge, Gt, Le, Lt]),
            ],
        }
    };
}

/// `filters` of v3 `listAccounts` (`identity.identityState` and `recommendation.method` are not
/// supported: see API-COMPAT).
pub static FILTERS_V3: FilterSpec = account_filters!(&[Eq, Ge, Gt, Le, Lt]);
/// `filters` of v2024 and beta `listAccounts` (`created` without `lt`).
pub static FILTERS: FilterSpec = account_filters!(&[Eq, Ge, Gt, Le]);

macro_rules! account_sorters {
    ($($extra:expr),*) => {
        SortSpec {
            fields: &[
                ("id", "a.id"),
                ("name", "a.name"),
                ("created", "a.created"),
                ("modified", "a.modified"),
                ("sourceId", "a.source_id"),
                ("identityId", "a.identity_id"),
                ("nativeIdentity", "a.native_identity"),
                ("uuid", "a.uuid"),
                ("manuallyCorrelated", "a.manually_correlated"),
                ("entitlements", HAS_ENTITLEMENTS),
                ("origin", "a.origin"),
                ("identity.name", "idn.name"),
                ("identity.correlated", "idn.correlated"),
                ("source.displayableName", "src.name"),
                ("source.authoritative", "src.authoritative"),
                ("source.connectionType", "src.connection_type"),
                $($extra),*
            ],
        }
    };
}

/// `sorters` of v3 `listAccounts`.
pub static SORTERS_V3: SortSpec = account_sorters!();
/// `sorters` of v2024 and beta `listAccounts`.
pub static SORTERS: SortSpec = account_sorters!(
    ("hasEntitlements", HAS_ENTITLEMENTS),
    ("sourceOwner.name", "so.name")
);

/// The `Account` view of `v` (`SLIM` leaves out the attributes).
fn account(v: &AccountView, slim: bool) -> Value {
    let a = &v.account;
    let mut out = json!({
        "id": a.id,
        "name": a.name,
        "created": ts(a.created),
        "modified": ts(a.modified),
        "sourceId": a.source_id,
        "sourceName": v.source_name,
        "identityId": a.identity_id.clone().unwrap_or_default(),
        "cloudLifecycleState": v.identity_lifecycle_state,
        "identityState": null,
        "connectionType": v.source_connection_type,
        "isMachine": false,
        "attributes": if slim { Value::Null } else { a.attributes.clone() },
        "authoritative": v.source_authoritative,
        "description": null,
        "disabled": a.disabled,
        "locked": a.locked,
        "nativeIdentity": a.native_identity,
        "systemAccount": false,
        "uncorrelated": a.identity_id.is_none(),
        "uuid": a.uuid,
        "manuallyCorrelated": a.manually_correlated,
        "hasEntitlements": v.has_entitlements,
        "identity": a.identity_id.as_ref().map(|id| json!({
            "type": "IDENTITY", "id": id, "name": v.identity_name.clone().unwrap_or_default()
        })),
        "sourceOwner": v.source_owner.as_ref().map(|(id, name)| json!({
            "type": "IDENTITY", "id": id, "name": name
        })),
        "features": null,
        "origin": a.origin.clone().filter(|o| o == "AGGREGATED" || o == "PROVISIONED"),
    });
    // v2024 and beta do not allow a null `identity`; absent is fine everywhere.
    if let Some(o) = out.as_object_mut() {
        if o.get("identity").is_some_and(Value::is_null) {
            o.remove("identity");
        }
    }
    out
}

/// `GET /accounts` (`listAccounts`).
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let slim = match query.get("detailLevel") {
        None | Some("FULL") => false,
        Some("SLIM") => true,
        Some(other) => {
            return Err(ApiError::illegal(format!(
                "'detailLevel' must be SLIM or FULL, not '{other}'."
            )))
        }
    };
    let (filters, sorters) = if caller.family() == Family::V3 {
        (&FILTERS_V3, &SORTERS_V3)
    } else {
        (&FILTERS, &SORTERS)
    };
    let (q, paging) = query.list_query(filters, 2, sorters, "a.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| accounts::list(c, &tenant, q))
        .await?;
    let items: Vec<Value> = page.items.iter().map(|v| account(v, slim)).collect();
    Ok(store_page(items, page.total, &paging))
}

/// `GET /accounts/{id}` (`getAccount`).
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let v = state
        .store()
        .read(move |c| accounts::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Account '{id}' was not found.")))?;
    Ok(Json(account(&v, false)))
}
