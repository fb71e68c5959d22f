//! `/access-profiles`: bundles of entitlements of one source, with their own approval schemes.

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{store_page, ApiJson, QueryMap};
use crate::handlers::catalog::{
    approval_groups, bool_or, delete_unless_used, document, name_taken, object, opt_object,
    opt_string, patched, reference_id, reference_ids, required_string, unknown_reference, Deletion,
};
use crate::handlers::entitlements::{no_segments, ACCESS_PROFILE_FILTERS, ACCESS_PROFILE_SORTERS};
use crate::wire::access::{access_profile, entitlement, ACCESS_PROFILE_APPROVERS};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::access_profiles::{self, AccessProfile};
use gatehouse_store::{entitlements, governance_groups, identities, sources, Conn, StoreError};
use serde_json::{Map, Value};

use FieldKind::{Bool, DateTime, Text, TextCi};
use Op::{Eq, Ge, Gt, In, Le, Lt, Sw};

/// `filters` of `listAccessProfiles`.
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "ap.id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "name",
            column: "ap.name",
            kind: TextCi,
            ops: &[Eq, Sw],
        },
        Field {
            name: "created",
            column: "ap.created",
            kind: DateTime,
            ops: &[Gt, Ge, Le],
        },
        Field {
            name: "modified",
            column: "ap.modified",
            kind: DateTime,
            ops: &[Gt, Lt, Ge, Le],
        },
        Field {
            name: "owner.id",
            column: "ap.owner_id",
            kind: Text,
            ops: &[Eq, In],
        },
        Field {
            name: "requestable",
            column: "ap.requestable",
            kind: Bool,
            ops: &[Eq],
        },
        Field {
            name: "source.id",
            column: "ap.source_id",
            kind: Text,
            ops: &[Eq, In],
        },
    ],
};

/// `sorters` of `listAccessProfiles`.
pub static SORTERS: SortSpec = SortSpec {
    fields: &[
        ("name", "ap.name"),
        ("created", "ap.created"),
        ("modified", "ap.modified"),
    ],
};

const CORE: &[&str] = &[
    "id",
    "name",
    "description",
    "created",
    "modified",
    "enabled",
    "owner",
    "source",
    "entitlements",
    "requestable",
    "accessRequestConfig",
    "revocationRequestConfig",
];

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Access profile '{id}' was not found."))
}

/// Reads the writable fields of `body` into `a`; returns the governance groups its approval
/// schemes name, to be checked.
fn read_body(a: &mut AccessProfile, body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    a.name = required_string(body, "name")?;
    a.description = opt_string(body, "description")?;
    a.owner_id =
        reference_id(body, "owner", &["IDENTITY"])?.ok_or_else(|| ApiError::missing("owner"))?;
    a.source_id =
        reference_id(body, "source", &["SOURCE"])?.ok_or_else(|| ApiError::missing("source"))?;
    a.entitlement_ids = reference_ids(body, "entitlements", "ENTITLEMENT")?;
    a.enabled = bool_or(body, "enabled", false)?;
    a.requestable = bool_or(body, "requestable", true)?;
    a.access_request_config = opt_object(body, "accessRequestConfig")?;
    a.revocation_request_config = opt_object(body, "revocationRequestConfig")?;
    let mut groups = approval_groups(
        a.access_request_config.as_ref(),
        "accessRequestConfig",
        ACCESS_PROFILE_APPROVERS,
    )?;
    groups.extend(approval_groups(
        a.revocation_request_config.as_ref(),
        "revocationRequestConfig",
        ACCESS_PROFILE_APPROVERS,
    )?);
    a.document = document(body, CORE);
    Ok(groups)
}

/// The referential rules: the owner, the source and the approval groups exist, and every
/// entitlement exists and comes from the access profile's source.
fn check(
    c: &mut dyn Conn,
    a: &AccessProfile,
    groups: &[String],
) -> Result<Result<(), ApiError>, StoreError> {
    let t = &a.tenant_id;
    if let Some(id) = identities::missing(c, t, std::slice::from_ref(&a.owner_id))?.pop() {
        return Ok(Err(unknown_reference("owner.id", "identity", &id)));
    }
    let Some(source) = sources::get(c, t, &a.source_id)? else {
        return Ok(Err(unknown_reference("source.id", "source", &a.source_id)));
    };
    if let Some(id) = governance_groups::missing(c, t, groups)?.pop() {
        return Ok(Err(unknown_reference(
            "approvalSchemes.approverId",
            "governance group",
            &id,
        )));
    }
    for (id, from) in entitlements::sources_of(c, t, &a.entitlement_ids)? {
        match from {
            None => return Ok(Err(unknown_reference("entitlements", "entitlement", &id))),
            Some(s) if s != a.source_id => {
                return Ok(Err(ApiError::illegal(format!(
                    "Entitlement '{id}' comes from source '{s}', not from the access profile's source '{}' ({}): \
                     an access profile's entitlements must all come from its source.",
                    source.source.name, a.source_id
                ))))
            }
            Some(_) => {}
        }
    }
    Ok(Ok(()))
}

async fn save(
    state: &AppState,
    a: AccessProfile,
    groups: Vec<String>,
    insert: bool,
) -> Result<Value, ApiError> {
    let name = a.name.clone();
    let view = state
        .store()
        .write(move |c| {
            if let Err(e) = check(c, &a, &groups)? {
                return Ok(Err(e));
            }
            let done = if insert {
                access_profiles::insert(c, &a)?;
                true
            } else {
                access_profiles::update(c, &a)?
            };
            if !done {
                return Ok(Err(not_found(&a.id)));
            }
            Ok(Ok(access_profiles::get(c, &a.tenant_id, &a.id)?))
        })
        .await
        .map_err(name_taken("access profile", &name))??;
    view.as_ref()
        .map(access_profile)
        .ok_or_else(|| ApiError::Internal("a saved access profile vanished".into()))
}

/// `GET /access-profiles` (`listAccessProfiles`).
pub async fn list_access_profiles(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    no_segments(&query, &[])?;
    let (q, paging) = query.list_query(&FILTERS, 2, &SORTERS, "ap.id", 250)?;
    let tenant = caller.tenant().to_owned();
    let page = state
        .store()
        .read(move |c| access_profiles::list(c, &tenant, q))
        .await?;
    let items: Vec<Value> = page.items.iter().map(access_profile).collect();
    Ok(store_page(items, page.total, &paging))
}

async fn current(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<access_profiles::AccessProfileView, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.to_owned());
    state
        .store()
        .read(move |c| access_profiles::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(id))
}

/// `GET /access-profiles/{id}` (`getAccessProfile`).
pub async fn get_access_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(access_profile(&current(&state, &caller, &id).await?)))
}

/// `POST /access-profiles` (`createAccessProfile`): 201 with the access profile.
pub async fn create_access_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let body = object(body)?;
    let now = state.clock().now();
    let mut a = AccessProfile {
        id: secrets::new_id(),
        tenant_id: caller.tenant().to_owned(),
        name: String::new(),
        description: None,
        source_id: String::new(),
        owner_id: String::new(),
        enabled: false,
        requestable: true,
        access_request_config: None,
        revocation_request_config: None,
        entitlement_ids: Vec::new(),
        document: Value::Null,
        created: now,
        modified: now,
    };
    let groups = read_body(&mut a, &body)?;
    let view = save(&state, a, groups, true).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `PATCH /access-profiles/{id}` (`patchAccessProfile`).
pub async fn patch_access_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let v = current(&state, &caller, &id).await?;
    let doc = patched(access_profile(&v), body, &["id", "created", "modified"])?;
    let mut a = v.access_profile;
    let groups = read_body(&mut a, &doc)?;
    a.modified = state.clock().now();
    Ok(Json(save(&state, a, groups, false).await?))
}

/// How access profiles are deleted.
static ACCESS_PROFILE_DELETION: Deletion = Deletion {
    what: "access profile",
    name_of: |c, t, id| Ok(access_profiles::get(c, t, id)?.map(|v| v.access_profile.name)),
    usages: access_profiles::usages,
    delete: access_profiles::delete,
};

/// `DELETE /access-profiles/{id}` (`deleteAccessProfile`): 204; 400 while a role includes it or
/// someone holds it.
pub async fn delete_access_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if delete_unless_used(&state, caller.tenant(), &id, &ACCESS_PROFILE_DELETION).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}

/// `GET /access-profiles/{id}/entitlements` (`getAccessProfileEntitlements`).
pub async fn get_access_profile_entitlements(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let (q, paging) = query.list_query(
        &ACCESS_PROFILE_FILTERS,
        3,
        &ACCESS_PROFILE_SORTERS,
        "e.id",
        250,
    )?;
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let page = state
        .store()
        .read(move |c| {
            if access_profiles::get(c, &tenant, &key)?.is_none() {
                return Ok(None);
            }
            access_profiles::entitlements(c, &tenant, &key, q).map(Some)
        })
        .await?
        .ok_or_else(|| not_found(&id))?;
    let items: Vec<Value> = page.items.iter().map(entitlement).collect();
    Ok(store_page(items, page.total, &paging))
}
