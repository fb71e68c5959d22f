//! `/identities` (v2024, beta) and `/public-identities` (v3, v2024): the directory.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{store_page, QueryMap};
use crate::wire::identities::{Identity, PublicIdentity};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::identities::{self, Scope};

const fn field(
    name: &'static str,
    column: &'static str,
    kind: FieldKind,
    ops: &'static [Op],
) -> Field {
    Field {
        name,
        column,
        kind,
        ops,
    }
}

/// `filters` of `listIdentities`.
pub static IDENTITY_FILTERS: FilterSpec = FilterSpec {
    fields: &[
        field("id", "i.id", FieldKind::Text, &[Op::Eq, Op::In]),
        field("name", "i.name", FieldKind::TextCi, &[Op::Eq, Op::Sw]),
        field("alias", "i.alias", FieldKind::TextCi, &[Op::Eq, Op::Sw]),
        field(
            "firstname",
            "i.first_name",
            FieldKind::TextCi,
            &[Op::Eq, Op::Sw],
        ),
        field(
            "lastname",
            "i.last_name",
            FieldKind::TextCi,
            &[Op::Eq, Op::Sw],
        ),
        field("email", "i.email", FieldKind::TextCi, &[Op::Eq, Op::Sw]),
        field("cloudStatus", "i.cloud_status", FieldKind::Text, &[Op::Eq]),
        field(
            "processingState",
            "i.processing_state",
            FieldKind::Text,
            &[Op::Eq],
        ),
        field("correlated", "i.correlated", FieldKind::Bool, &[Op::Eq]),
        field("protected", "i.is_protected", FieldKind::Bool, &[Op::Eq]),
    ],
};

/// `sorters` of `listIdentities`.
pub static IDENTITY_SORTERS: SortSpec = SortSpec {
    fields: &[
        ("name", "i.name"),
        ("alias", "i.alias"),
        ("cloudStatus", "i.cloud_status"),
    ],
};

/// `filters` of `getPublicIdentities`.
pub static PUBLIC_FILTERS: FilterSpec = FilterSpec {
    fields: &[
        field("id", "i.id", FieldKind::Text, &[Op::Eq, Op::In]),
        field("alias", "i.alias", FieldKind::TextCi, &[Op::Eq, Op::Sw]),
        field("email", "i.email", FieldKind::TextCi, &[Op::Eq, Op::Sw]),
        field(
            "firstname",
            "i.first_name",
            FieldKind::TextCi,
            &[Op::Eq, Op::Sw],
        ),
        field(
            "lastname",
            "i.last_name",
            FieldKind::TextCi,
            &[Op::Eq, Op::Sw],
        ),
    ],
};

/// `sorters` of `getPublicIdentities`.
pub static PUBLIC_SORTERS: SortSpec = SortSpec {
    fields: &[("name", "i.name")],
};

/// `GET /identities` (`listIdentities`). `defaultFilter=CORRELATED_ONLY` (the default) keeps
/// only correlated people; `NONE` adds nothing.
pub async fn list_identities(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let scope = match query.get("defaultFilter") {
        None | Some("CORRELATED_ONLY") => Scope::Correlated,
        Some("NONE") => Scope::All,
        Some(other) => {
            return Err(ApiError::illegal(format!(
                "'defaultFilter' must be CORRELATED_ONLY or NONE, not '{other}'."
            )))
        }
    };
    let (q, paging) = query.list_query(&IDENTITY_FILTERS, 2, &IDENTITY_SORTERS, "i.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| identities::list(c, &tenant, scope, q))
        .await?;
    let items: Vec<Identity> = page.items.iter().map(Identity::from).collect();
    Ok(store_page(items, page.total, &paging))
}

/// `GET /identities/{id}` (`getIdentity`).
pub async fn get_identity(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Identity>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let found = state
        .store()
        .read(move |c| identities::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Identity '{id}' was not found.")))?;
    Ok(Json(Identity::from(&found)))
}

/// `GET /public-identities` (`getPublicIdentities`). `add-core-filters=true` keeps only people
/// who are correlated or protected, are not `spadmin`/`cloudadmin`, and have an alias, a last
/// name and an e-mail.
pub async fn get_public_identities(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let scope = if query.bool("add-core-filters", false)? {
        Scope::Core
    } else {
        Scope::All
    };
    let (q, paging) = query.list_query(&PUBLIC_FILTERS, 2, &PUBLIC_SORTERS, "i.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| identities::list(c, &tenant, scope, q))
        .await?;
    let items: Vec<PublicIdentity> = page.items.iter().map(PublicIdentity::from).collect();
    Ok(store_page(items, page.total, &paging))
}
