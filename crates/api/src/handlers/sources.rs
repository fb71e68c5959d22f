//! `/sources`: the systems accounts and entitlements come from.

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::handlers::catalog::{
    bool_or, delete_unless_used, document, name_taken, object, opt_string, patched, reference_id,
    required_string, unknown_reference, Deletion,
};
use crate::routes::Family;
use crate::wire::sources::{source, SOURCE_STATUSES};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::sources::{self, Source};
use gatehouse_store::{governance_groups, identities, managed_clusters};
use serde_json::{json, Map, Value};

use FieldKind::{Bool, DateTime, Text, TextCi};
use Op::{Co, Eq, Ge, Gt, In, IsNull, Le, Lt, Ne, Sw};

const fn f(name: &'static str, column: &'static str, kind: FieldKind, ops: &'static [Op]) -> Field {
    Field {
        name,
        column,
        kind,
        ops,
    }
}

const ID_OPS: &[Op] = &[Eq, In, Ge, Gt, Le, Lt, Ne, IsNull, Sw];
const WIDE_OPS: &[Op] = &[Eq, Ge, Gt, In, Le, Lt, Ne, IsNull, Sw];
const DATE_OPS_V3: &[Op] = &[Eq, Ge, Gt, In, Le, Lt, Ne, IsNull, Sw];

macro_rules! source_filters {
    ($dates:expr) => {
        FilterSpec {
            fields: &[
                f("id", "s.id", Text, ID_OPS),
                f(
                    "name",
                    "s.name",
                    TextCi,
                    &[Co, Eq, In, Sw, Ge, Gt, Ne, IsNull],
                ),
                f("type", "s.type", TextCi, &[Eq, In, Ge, Gt, Ne, IsNull, Sw]),
                f("owner.id", "s.owner_id", Text, ID_OPS),
                f("created", "s.created", DateTime, $dates),
                f("modified", "s.modified", DateTime, $dates),
                f(
                    "managementWorkgroup.id",
                    "s.management_workgroup_id",
                    Text,
                    WIDE_OPS,
                ),
                f("description", "s.description", TextCi, &[Eq, Sw]),
                f("authoritative", "s.authoritative", Bool, &[Eq, Ne, IsNull]),
                f("healthy", "s.healthy", Bool, &[IsNull]),
                f("status", "s.status", TextCi, WIDE_OPS),
                f("connectionType", "s.connection_type", TextCi, WIDE_OPS),
                f(
                    "connectorName",
                    "s.connector_name",
                    TextCi,
                    &[Eq, Ge, Gt, In, Ne, IsNull, Sw],
                ),
                f(
                    "category",
                    "s.category",
                    TextCi,
                    &[Co, Eq, Ge, Gt, In, Le, Lt, Ne, Sw],
                ),
            ],
        }
    };
}

/// `filters` of v3 `listSources` (`features` is not supported: see API-COMPAT).
pub static FILTERS_V3: FilterSpec = source_filters!(DATE_OPS_V3);
/// `filters` of v2024 and beta `listSources`, where `created`/`modified` take only `eq`.
pub static FILTERS: FilterSpec = source_filters!(&[Eq]);

/// `sorters` of `listSources` (those on correlation configs and rules are not supported).
pub static SORTERS: SortSpec = SortSpec {
    fields: &[
        ("type", "s.type"),
        ("created", "s.created"),
        ("modified", "s.modified"),
        ("name", "s.name"),
        ("owner.name", "o.name"),
        ("healthy", "s.healthy"),
        ("status", "s.status"),
        ("id", "s.id"),
        ("description", "s.description"),
        ("owner.id", "s.owner_id"),
        ("authoritative", "s.authoritative"),
        ("managementWorkgroup.id", "s.management_workgroup_id"),
        ("connectorName", "s.connector_name"),
        ("connectionType", "s.connection_type"),
    ],
};

/// Fields stored in columns or computed; the rest of a body is the document.
const CORE: &[&str] = &[
    "id",
    "name",
    "description",
    "type",
    "owner",
    "cluster",
    "managementWorkgroup",
    "connector",
    "connectionType",
    "authoritative",
    "healthy",
    "status",
    "features",
    "connectorName",
    "category",
    "created",
    "modified",
];

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Source '{id}' was not found."))
}

/// Reads the writable fields of `body` into `s`.
fn read_body(s: &mut Source, body: &Map<String, Value>) -> Result<(), ApiError> {
    s.name = required_string(body, "name")?;
    s.owner_id = Some(
        reference_id(body, "owner", &["IDENTITY"])?.ok_or_else(|| ApiError::missing("owner"))?,
    );
    s.cluster_id = reference_id(body, "cluster", &["CLUSTER"])?;
    s.management_workgroup_id = reference_id(body, "managementWorkgroup", &["GOVERNANCE_GROUP"])?;
    s.connector = Some(required_string(body, "connector")?);
    s.description = opt_string(body, "description")?;
    s.kind = opt_string(body, "type")?;
    s.connection_type = opt_string(body, "connectionType")?;
    s.connector_name = opt_string(body, "connectorName")?;
    s.category = opt_string(body, "category")?;
    s.authoritative = bool_or(body, "authoritative", false)?;
    s.features = match body.get("features") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| ApiError::illegal("'features' must be a list of strings."))?,
    };
    if let Some(status) = opt_string(body, "status")? {
        if !SOURCE_STATUSES.contains(&status.as_str()) {
            return Err(ApiError::illegal(format!(
                "'status' must be one of {}, not '{status}'.",
                SOURCE_STATUSES.join(", ")
            )));
        }
        s.status = Some(status);
    }
    s.document = document(body, CORE);
    Ok(())
}

/// Checks the references of `s` and stores it (insert or update), answering its view.
async fn save(state: &AppState, s: Source, insert: bool) -> Result<Value, ApiError> {
    let name = s.name.clone();
    let view = state
        .store()
        .write(move |c| {
            let t = s.tenant_id.clone();
            let one = |id: &Option<String>| id.iter().cloned().collect::<Vec<_>>();
            if let Some(id) = identities::missing(c, &t, &one(&s.owner_id))?.pop() {
                return Ok(Err(unknown_reference("owner.id", "identity", &id)));
            }
            if let Some(id) = s.cluster_id.as_ref() {
                if managed_clusters::get(c, &t, id)?.is_none() {
                    return Ok(Err(unknown_reference("cluster.id", "managed cluster", id)));
                }
            }
            if let Some(id) =
                governance_groups::missing(c, &t, &one(&s.management_workgroup_id))?.pop()
            {
                return Ok(Err(unknown_reference(
                    "managementWorkgroup.id",
                    "governance group",
                    &id,
                )));
            }
            let done = if insert {
                sources::insert(c, &s)?;
                true
            } else {
                sources::update(c, &s)?
            };
            if !done {
                return Ok(Err(not_found(&s.id)));
            }
            Ok(Ok(sources::get(c, &t, &s.id)?))
        })
        .await
        .map_err(name_taken("source", &name))??;
    view.as_ref()
        .map(source)
        .ok_or_else(|| ApiError::Internal("a saved source vanished".into()))
}

/// `GET /sources` (`listSources`).
pub async fn list_sources(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    query.bool("includeIDNSource", false)?;
    let filters = if caller.family() == Family::V3 {
        &FILTERS_V3
    } else {
        &FILTERS
    };
    let (q, paging) = query.list_query(filters, 2, &SORTERS, "s.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| sources::list(c, &tenant, q))
        .await?;
    let items: Vec<Value> = page.items.iter().map(source).collect();
    Ok(store_page(items, page.total, &paging))
}

/// `GET /sources/{id}` (`getSource`).
pub async fn get_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let v = state
        .store()
        .read(move |c| sources::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(source(&v)))
}

/// `POST /sources` (`createSource`): 201 with the source. `provisionAsCsv=true` makes it a
/// `DelimitedFile` source.
pub async fn create_source(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let mut body = object(body)?;
    if query.bool("provisionAsCsv", false)? {
        body.insert("type".into(), json!("DelimitedFile"));
    }
    let now = state.clock().now();
    let mut s = Source {
        id: secrets::new_id(),
        tenant_id: caller.tenant().to_owned(),
        name: String::new(),
        description: None,
        kind: None,
        owner_id: None,
        cluster_id: None,
        management_workgroup_id: None,
        connector: None,
        connection_type: None,
        authoritative: false,
        healthy: true,
        status: Some("SOURCE_STATE_HEALTHY".into()),
        features: Vec::new(),
        connector_name: None,
        category: None,
        service_desk_integration_id: None,
        document: Value::Null,
        created: now,
        modified: now,
    };
    read_body(&mut s, &body)?;
    let view = save(&state, s, true).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn current(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<gatehouse_store::sources::SourceView, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    state
        .store()
        .read(move |c| sources::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(id))
}

/// `PUT /sources/{id}` (`putSource`): replaces the writable fields.
pub async fn put_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let body = object(body)?;
    let mut s = current(&state, &caller, &id).await?.source;
    read_body(&mut s, &body)?;
    s.modified = state.clock().now();
    Ok(Json(save(&state, s, false).await?))
}

/// `PATCH /sources/{id}` (`updateSource`).
pub async fn update_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let v = current(&state, &caller, &id).await?;
    let doc = patched(source(&v), body, &["id", "created", "modified", "healthy"])?;
    let mut s = v.source;
    read_body(&mut s, &doc)?;
    s.modified = state.clock().now();
    Ok(Json(save(&state, s, false).await?))
}

/// How sources are deleted.
static SOURCE_DELETION: Deletion = Deletion {
    what: "source",
    name_of: |c, t, id| Ok(sources::get(c, t, id)?.map(|v| v.source.name)),
    usages: sources::usages,
    delete: sources::delete,
};

/// `DELETE /sources/{id}` (`deleteSource`): deletes it with its entitlements and accounts and
/// answers 202 with a task reference; 400 while access profiles, roles or assignments use it.
pub async fn delete_source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if delete_unless_used(&state, caller.tenant(), &id, &SOURCE_DELETION).await? {
        Ok((
            StatusCode::ACCEPTED,
            Json(json!({"type": "TASK_RESULT", "id": secrets::new_id(), "name": ""})),
        )
            .into_response())
    } else {
        Err(not_found(&id))
    }
}
