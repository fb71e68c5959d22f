//! `/service-desk-integrations`: the service desks that manual provisioning is sent to as
//! tickets (their types, templates and the status-check configuration are in
//! [`super::service_desk_config`]).
//!
//! Who may call (ORG_ADMIN or SERVICE_DESK_ADMIN, with the `idn:service-desk-integration:read` or
//! `:manage` scope) is enforced by the route guard. A write checks the body, the attributes
//! against the type's template ([`prepare_attributes`]), and the name and references against the
//! tenant's data in the same transaction that saves it. Credentials are sealed before they reach
//! the store and are never returned (responses carry [`MASK`]).

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{page_response, ApiJson, QueryMap};
use crate::wire::service_desk::{
    apply_replacements, replace_operations, Current, Draft, ServiceDeskIntegrationDto,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use gatehouse_domain::net_guard::NetPolicy;
use gatehouse_domain::sealed::Sealer;
use gatehouse_domain::service_desk::{
    check_urls, prepare_attributes, seal_context, StoredAttributes, SEAL_PURPOSE,
};
use gatehouse_domain::Timestamp;
use gatehouse_filter::{Field, FieldKind, FilterSpec, Op, SortSpec};
use gatehouse_store::service_desk::{self, Integration, Ref, Refusal};
use gatehouse_store::{Conn, StoreError};
use serde_json::Value;
use std::collections::BTreeMap;

#[cfg(doc)]
use gatehouse_domain::service_desk::MASK;

/// `filters` of `getServiceDeskIntegrations`: id (eq, in), name (eq), type (eq, in), cluster
/// (eq, in).
pub static FILTERS: FilterSpec = FilterSpec {
    fields: &[
        Field {
            name: "id",
            column: "i.id",
            kind: FieldKind::Text,
            ops: &[Op::Eq, Op::In],
        },
        Field {
            name: "name",
            column: "i.name",
            kind: FieldKind::TextCi,
            ops: &[Op::Eq],
        },
        Field {
            name: "type",
            column: "i.type",
            kind: FieldKind::Text,
            ops: &[Op::Eq, Op::In],
        },
        Field {
            name: "cluster",
            column: "i.cluster_id",
            kind: FieldKind::Text,
            ops: &[Op::Eq, Op::In],
        },
    ],
};

/// `sorters` of `getServiceDeskIntegrations`: name (without regard to case).
pub static SORTERS: SortSpec = SortSpec {
    fields: &[("name", "lower(i.name)")],
};

/// 404 for integration `id`.
pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Service desk integration '{id}' was not found."))
}

fn refused(r: Refusal, name: &str) -> ApiError {
    match r {
        Refusal::NameTaken => ApiError::conflict(format!(
            "A service desk integration named '{name}' already exists: 'name' must be unique."
        )),
        Refusal::NoSuchOwner(id) => {
            ApiError::unknown_reference(format!("ownerRef: there is no identity '{id}'."))
        }
        Refusal::NoSuchCluster(id) => {
            ApiError::unknown_reference(format!("clusterRef: there is no managed cluster '{id}'."))
        }
        Refusal::NoSuchSource(id) => ApiError::unknown_reference(format!(
            "provisioningConfig.managedResourceRefs: there is no source '{id}'."
        )),
        Refusal::SourceManaged { source_id, by } => ApiError::conflict(format!(
            "provisioningConfig.managedResourceRefs: source '{source_id}' is already managed by the service desk integration '{by}'; a source is managed by at most one integration."
        )),
    }
}

/// The integration `draft` describes, replacing `current` (absent on create): attributes checked
/// against the template, new credentials sealed, credentials sent as the mask kept. The installed
/// integration API builds through it too, so both APIs check and seal alike.
pub fn build(
    key: &Sealer,
    net: &NetPolicy,
    tenant: &str,
    id: &str,
    draft: Draft,
    current: Option<&Integration>,
    now: Timestamp,
) -> Result<Integration, ApiError> {
    let stored = current.map(|c| StoredAttributes {
        type_name: &c.type_name,
        attributes: &c.attributes,
        sealed: &c.secrets,
    });
    let prepared = prepare_attributes(draft.template, draft.attributes, stored)
        .map_err(|e| ApiError::illegal(e.0))?;
    check_urls(draft.template, &prepared.attributes, net).map_err(|e| ApiError::illegal(e.0))?;
    let mut sealed = BTreeMap::new();
    for at in prepared.kept {
        if let Some(v) = current.and_then(|c| c.secrets.get(&at)) {
            sealed.insert(at, v.clone());
        }
    }
    for (at, secret) in prepared.fresh {
        let value = key.seal(
            &secret,
            &seal_context(tenant, id, &at),
            secrets::random_bytes(),
        );
        sealed.insert(at, value);
    }
    Ok(Integration {
        id: id.to_owned(),
        tenant_id: tenant.to_owned(),
        name: draft.name,
        description: draft.description,
        type_name: draft.type_name,
        owner: draft.owner.map(Ref::to),
        cluster: draft.cluster.map(Ref::to),
        managed_sources: draft.sources.into_iter().map(Ref::to).collect(),
        before_provisioning_rule: draft.before_provisioning_rule,
        provisioning: draft.provisioning,
        attributes: prepared.attributes,
        secrets: sealed,
        created: current.map_or(now, |c| c.created),
        modified: now,
        installed: current.map(|c| c.installed.clone()).unwrap_or_default(),
    })
}

/// Saves `i` when its name and references hold, and reads it back with the references' names.
pub(crate) fn save(
    c: &mut dyn Conn,
    i: &Integration,
    insert: bool,
) -> Result<Result<Integration, ApiError>, StoreError> {
    if let Some(r) = service_desk::check(c, i)? {
        return Ok(Err(refused(r, &i.name)));
    }
    if insert {
        service_desk::insert(c, i)?;
    } else if !service_desk::update(c, i)? {
        return Ok(Err(not_found(&i.id)));
    }
    Ok(service_desk::get(c, &i.tenant_id, &i.id)?.ok_or_else(|| not_found(&i.id)))
}

/// Runs a write whose closure answers with a business outcome. A unique constraint that fires
/// despite the checks (a concurrent write won) is a 400 conflict. A closure that answers `Err`
/// must do so before it writes anything: the transaction commits either way.
pub(crate) async fn write<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut dyn Conn) -> Result<Result<T, ApiError>, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    match state.store().write(f).await {
        Ok(outcome) => outcome,
        Err(StoreError::Conflict(_)) => Err(ApiError::conflict(
            "Another service desk integration took this name or one of these sources at the same time; retry.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Seals integration credentials under the primary master key.
pub(crate) fn key(state: &AppState) -> Sealer {
    state.keyring().sealer(SEAL_PURPOSE)
}

/// `GET /service-desk-integrations` (`getServiceDeskIntegrations`; beta
/// `getServiceDeskIntegrationList`).
pub async fn get_service_desk_integrations(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let paging = query.paging()?;
    let filter = query.filters(&FILTERS, 2)?;
    let sorts = query.sorters(&SORTERS)?;
    let order = if sorts.is_empty() {
        " order by i.created asc, i.id asc".to_owned()
    } else {
        gatehouse_filter::order_by_sql(&sorts, Some("i.id"))
    };
    let tenant = caller.tenant().to_owned();
    let (list, total) = state
        .store()
        .read(move |c| {
            let total = if paging.count {
                service_desk::count(c, &tenant, filter.clone())?
            } else {
                0
            };
            let list = service_desk::list(c, &tenant, filter, &order, paging.offset, paging.limit)?;
            Ok((list, total))
        })
        .await?;
    let family = caller.family();
    let items: Vec<_> = list
        .iter()
        .map(|i| ServiceDeskIntegrationDto::new(i, family))
        .collect();
    Ok(page_response(
        items,
        usize::try_from(total).unwrap_or(0),
        &paging,
    ))
}

/// `POST /service-desk-integrations` (`createServiceDeskIntegration`): 200 with the stored
/// integration, as the spec says.
pub async fn create_service_desk_integration(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ServiceDeskIntegrationDto>, ApiError> {
    let draft = Draft::parse(&body, &Current::default())?;
    let id = secrets::new_id();
    let integration = build(
        &key(&state),
        &state.config().net,
        caller.tenant(),
        &id,
        draft,
        None,
        state.clock().now(),
    )?;
    let saved = write(&state, move |c| save(c, &integration, true)).await?;
    tracing::info!(service_desk_integration.id = %saved.id, tenant.id = %saved.tenant_id,
        "created service desk integration {}", saved.id);
    Ok(Json(ServiceDeskIntegrationDto::new(
        &saved,
        caller.family(),
    )))
}

/// `GET /service-desk-integrations/{id}` (`getServiceDeskIntegration`).
pub async fn get_service_desk_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ServiceDeskIntegrationDto>, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let found = state
        .store()
        .read(move |c| service_desk::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(ServiceDeskIntegrationDto::new(
        &found,
        caller.family(),
    )))
}

/// Replaces integration `id` by the body `doc` (a full `ServiceDeskIntegrationDto`), inside one
/// write: the current integration, the checks and the update see the same data.
async fn replace(
    state: &AppState,
    caller: &Caller,
    id: String,
    doc: impl FnOnce(&Integration) -> Result<Value, ApiError> + Send + 'static,
) -> Result<Integration, ApiError> {
    let tenant = caller.tenant().to_owned();
    let key = key(state);
    let net = state.config().net.clone();
    let now = state.clock().now();
    write(state, move |c| {
        let Some(current) = service_desk::get(c, &tenant, &id)? else {
            return Ok(Err(not_found(&id)));
        };
        let built = doc(&current).and_then(|body| {
            let before = Current {
                cluster: current.cluster.as_ref().map(|r| r.id.clone()),
                sources: current
                    .managed_sources
                    .iter()
                    .map(|r| r.id.clone())
                    .collect(),
            };
            let draft = Draft::parse(&body, &before)?;
            build(&key, &net, &tenant, &id, draft, Some(&current), now)
        });
        match built {
            Ok(updated) => save(c, &updated, false),
            Err(e) => Ok(Err(e)),
        }
    })
    .await
}

/// `PUT /service-desk-integrations/{id}` (`putServiceDeskIntegration`): a full replace. A
/// credential sent back as the mask keeps the stored one, unless an endpoint attribute changes.
pub async fn put_service_desk_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ServiceDeskIntegrationDto>, ApiError> {
    let saved = replace(&state, &caller, id, move |_| Ok(body)).await?;
    tracing::info!(service_desk_integration.id = %saved.id, "replaced service desk integration {}", saved.id);
    Ok(Json(ServiceDeskIntegrationDto::new(
        &saved,
        caller.family(),
    )))
}

/// `PATCH /service-desk-integrations/{id}` (`patchServiceDeskIntegration`): `replace` only; the
/// result must be a valid integration, or nothing changes.
pub async fn patch_service_desk_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ServiceDeskIntegrationDto>, ApiError> {
    let ops = replace_operations(body)?;
    let saved = replace(&state, &caller, id, move |current| {
        let mut doc = ServiceDeskIntegrationDto::patch_document(current)?;
        apply_replacements(&mut doc, ops)?;
        Ok(doc)
    })
    .await?;
    tracing::info!(service_desk_integration.id = %saved.id, "patched service desk integration {}", saved.id);
    Ok(Json(ServiceDeskIntegrationDto::new(
        &saved,
        caller.family(),
    )))
}

/// `DELETE /service-desk-integrations/{id}` (`deleteServiceDeskIntegration`): 204.
pub async fn delete_service_desk_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (tenant, key) = (caller.tenant().to_owned(), id.clone());
    let deleted = state
        .store()
        .write(move |c| service_desk::delete(c, &tenant, &key))
        .await?;
    if !deleted {
        return Err(not_found(&id));
    }
    tracing::info!(service_desk_integration.id = %id, "deleted service desk integration {id}");
    Ok(StatusCode::NO_CONTENT)
}
