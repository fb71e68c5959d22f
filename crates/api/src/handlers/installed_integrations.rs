//! `/api/v2/tenants/{tenantId}/integrations/…`: installed integrations, OpsRamp's API over the
//! service desk integrations (ADR 0008). An installed integration is a
//! `service_desk_integration` row; its id is the integration id (an `INTG-` prefix is accepted
//! and ignored). Writes go through the SDIM checks and sealing ([`build`], [`save`]), so both
//! APIs accept and refuse alike.
//!
//! Who may call is what the SDIM routes ask (ORG_ADMIN or SERVICE_DESK_ADMIN, the
//! `idn:service-desk-integration:read`/`:manage` scopes), enforced by the route guard;
//! `{tenantId}` must be the caller's own tenant, else 404. Inbound credentials are issued here
//! and shown once: a WEBHOOK token (256-bit random, stored as its SHA-256) or, for OAUTH2, an
//! OAuth client (secret stored as the other clients' are).

use crate::auth::{secrets, Caller};
use crate::error::ApiError;
use crate::extract::{ApiJson, QueryMap};
use crate::handlers::service_desk::{build, key, not_found, save, write};
use crate::wire::installed_integrations::notifier::{
    in_notifier_terms, NotifierDto, NOTIFIER_KEYS,
};
use crate::wire::installed_integrations::{
    AuthChoice, CatalogueEntry, InstalledBody, InstalledIntegrationDto, InstalledIntegrationPage,
    Issued, CATALOGUE,
};
use crate::wire::service_desk::Draft;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gatehouse_domain::service_desk::IntegrationType;
use gatehouse_domain::Timestamp;
use gatehouse_store::installed_integrations::{self as installed, Inbound, InboundAuth, Installed};
use gatehouse_store::oauth_clients::{self, OAuthClient};
use gatehouse_store::service_desk::{self, Integration, Provisioning};
use gatehouse_store::{Conn, StoreError};
use serde_json::Value;

/// The one scope of the OAuth clients issued for inbound calls: their tokens call the inbound
/// endpoints and nothing else.
pub const INBOUND_SCOPE: &str = "gatehouse:service-desk:inbound";

/// 404 unless `tenant` is the caller's own tenant.
fn own_tenant(caller: &Caller, tenant: &str) -> Result<(), ApiError> {
    if tenant == caller.tenant() {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "Tenant '{tenant}' was not found."
        )))
    }
}

/// The integration id an `installedIntgId` names.
fn integration_id(raw: &str) -> String {
    raw.strip_prefix("INTG-").unwrap_or(raw).to_owned()
}

/// A new inbound credential, made before the write that may use it.
struct Fresh {
    token: String,
    client_id: String,
    client_secret: String,
    client_hash: String,
}

impl Fresh {
    fn new(state: &AppState) -> Self {
        let client_secret = secrets::new_secret();
        Self {
            token: secrets::new_secret(),
            client_id: uuid::Uuid::new_v4().to_string(),
            client_hash: secrets::hash_secret(state.secret_hash_key(), &client_secret),
            client_secret,
        }
    }
}

/// The OAuth client issued for the inbound calls of integration `i`.
fn inbound_client(i: &Integration, id: &str, secret_hash: &str, now: Timestamp) -> OAuthClient {
    OAuthClient {
        id: id.to_owned(),
        tenant_id: i.tenant_id.clone(),
        secret_hash: secret_hash.to_owned(),
        name: format!("{} (inbound)", i.name),
        description: Some(format!(
            "Issued for the inbound calls of the installed integration {}; deleted with it.",
            i.id
        )),
        business_name: None,
        homepage_url: None,
        access_token_validity_seconds: 43_200,
        refresh_token_validity_seconds: 86_400,
        redirect_uris: Vec::new(),
        grant_types: vec!["CLIENT_CREDENTIALS".into()],
        access_type: "ONLINE".into(),
        client_type: "CONFIDENTIAL".into(),
        internal: false,
        enabled: true,
        strong_auth_supported: false,
        claims_supported: false,
        scope: Some(vec![INBOUND_SCOPE.into()]),
        metadata: None,
        created: now,
        modified: now,
        last_used: None,
    }
}

/// Sets the inbound authentication of saved integration `i` to `wanted` (`None`: unchanged),
/// issuing and revoking credentials as needed. Only writes; every check has passed.
fn apply_inbound(
    c: &mut dyn Conn,
    i: &Integration,
    wanted: Option<AuthChoice>,
    fresh: Fresh,
    now: Timestamp,
) -> Result<(InboundAuth, Issued), StoreError> {
    let current = &i.installed.inbound.auth;
    let Some(wanted) = wanted.filter(|w| !w.matches(current)) else {
        return Ok((current.clone(), Issued::Nothing));
    };
    if let InboundAuth::OAuth2 { client_id } = current {
        oauth_clients::delete(c, &i.tenant_id, client_id)?;
    }
    Ok(match wanted {
        AuthChoice::None => (InboundAuth::None, Issued::Nothing),
        AuthChoice::Webhook => (
            InboundAuth::Webhook {
                token_hash: installed::token_hash(&fresh.token),
            },
            Issued::Token(fresh.token),
        ),
        AuthChoice::OAuth2 => {
            oauth_clients::insert(
                c,
                &inbound_client(i, &fresh.client_id, &fresh.client_hash, now),
            )?;
            (
                InboundAuth::OAuth2 {
                    client_id: fresh.client_id.clone(),
                },
                Issued::Client {
                    id: fresh.client_id,
                    secret: fresh.client_secret,
                },
            )
        }
    })
}

/// Saves `built` (inserted or updated), then its installed parts from `body` over `current`'s.
fn save_installed(
    c: &mut dyn Conn,
    built: &Integration,
    current: Option<&Integration>,
    body: InstalledBody,
    fresh: Fresh,
    now: Timestamp,
) -> Result<Result<(Integration, Issued), ApiError>, StoreError> {
    let saved = match save(c, built, current.is_none())? {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let before = current.map(|c| c.installed.clone()).unwrap_or_default();
    let (auth, issued) = apply_inbound(c, &saved, body.auth, fresh, now)?;
    let parts = Installed {
        inbound: Inbound {
            auth,
            map_attributes: body.inbound_maps.unwrap_or(before.inbound.map_attributes),
        },
        outbound_map_attributes: body.outbound_maps.unwrap_or(before.outbound_map_attributes),
        notifier_type: Some("REST_API".into()),
    };
    installed::put(c, &saved.tenant_id, &saved.id, &parts)?;
    Ok(service_desk::get(c, &saved.tenant_id, &saved.id)?
        .map(|i| (i, issued))
        .ok_or_else(|| not_found(&saved.id)))
}

/// The integration `body` describes over `current` (absent on install), checked and sealed.
fn draft(
    body: &InstalledBody,
    ty: &'static IntegrationType,
    current: Option<&Integration>,
    default_name: &str,
) -> Result<Draft, ApiError> {
    let mut attributes = match (&body.attributes, current) {
        (Some(a), _) => a.clone(),
        (None, Some(c)) => c
            .attributes
            .iter()
            .filter(|(k, _)| !NOTIFIER_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        (None, None) => serde_json::Map::new(),
    };
    match (&body.notifier, current) {
        (Some(n), _) => attributes.extend(n.to_attributes(ty, current)?),
        (None, Some(c)) => attributes.extend(NotifierDto::owned_attributes(&c.attributes)),
        (None, None) => {
            return Err(ApiError::missing("outboundConfig.baseNotifier.baseURI"));
        }
    }
    Ok(Draft {
        name: body
            .name
            .clone()
            .or_else(|| current.map(|c| c.name.clone()))
            .unwrap_or_else(|| default_name.to_owned()),
        description: body
            .description
            .clone()
            .or_else(|| current.map(|c| c.description.clone()))
            .unwrap_or_else(|| format!("{default_name}, installed through the integrations API.")),
        type_name: current
            .map_or(ty.type_name, |c| c.type_name.as_str())
            .to_owned(),
        template: ty,
        owner: current.and_then(|c| c.owner.as_ref().map(|r| r.id.clone())),
        cluster: current.and_then(|c| c.cluster.as_ref().map(|r| r.id.clone())),
        sources: current.map_or_else(Vec::new, |c| {
            c.managed_sources.iter().map(|r| r.id.clone()).collect()
        }),
        before_provisioning_rule: current.and_then(|c| c.before_provisioning_rule.clone()),
        provisioning: current.map_or_else(Provisioning::default, |c| c.provisioning.clone()),
        attributes,
    })
}

/// `POST /api/v2/tenants/{tenantId}/integrations/install/{intgId}` (`installIntegration`):
/// installs catalogue entry `intgId` (SERVICENOW, JIRA, CUSTOM or REST) as a new service desk
/// integration; 200 with it and the inbound credential issued, shown this once.
pub async fn install_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, intg)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<InstalledIntegrationDto>, ApiError> {
    own_tenant(&caller, &tenant)?;
    let entry = CatalogueEntry::by_id(&intg).ok_or_else(|| {
        let ids: Vec<&str> = CATALOGUE.iter().map(|e| e.id).collect();
        ApiError::NotFound(format!(
            "There is no integration '{intg}' to install: the catalogue has {} (REST is CUSTOM).",
            ids.join(", ")
        ))
    })?;
    let ty = entry.template()?;
    let body = InstalledBody::parse(&body)?;
    let d = draft(&body, ty, None, entry.name).map_err(in_notifier_terms)?;
    let id = secrets::new_id();
    let now = state.clock().now();
    let net = state.config().net.clone();
    let built = build(&key(&state), &net, &tenant, &id, d, None, now).map_err(in_notifier_terms)?;
    let fresh = Fresh::new(&state);
    let (saved, issued) = write(&state, move |c| {
        save_installed(c, &built, None, body, fresh, now)
    })
    .await?;
    tracing::info!(service_desk_integration.id = %saved.id, tenant.id = %saved.tenant_id,
        "installed integration {} ({})", saved.id, entry.id);
    Ok(Json(InstalledIntegrationDto::new(&saved, issued)))
}

/// `GET /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}`
/// (`getInstalledIntegration`): no inbound token or client secret.
pub async fn get_installed_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, raw)): Path<(String, String)>,
) -> Result<Json<InstalledIntegrationDto>, ApiError> {
    own_tenant(&caller, &tenant)?;
    let id = integration_id(&raw);
    let key = id.clone();
    let found = state
        .store()
        .read(move |c| service_desk::get(c, &tenant, &key))
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(InstalledIntegrationDto::new(&found, Issued::Nothing)))
}

/// `POST /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}`
/// (`updateInstalledIntegration`): each part sent replaces that part; parts not sent stay. A new
/// inbound authType issues a new credential (shown in this answer) and revokes the old one.
pub async fn update_installed_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, raw)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<InstalledIntegrationDto>, ApiError> {
    own_tenant(&caller, &tenant)?;
    let id = integration_id(&raw);
    let body = InstalledBody::parse(&body)?;
    let (seal, net, now) = (key(&state), state.config().net.clone(), state.clock().now());
    let fresh = Fresh::new(&state);
    let (saved, issued) = write(&state, move |c| {
        let Some(current) = service_desk::get(c, &tenant, &id)? else {
            return Ok(Err(not_found(&id)));
        };
        let built = IntegrationType::by_type(&current.type_name)
            .ok_or_else(|| ApiError::Internal(format!("no template for {}", current.type_name)))
            .and_then(|ty| draft(&body, ty, Some(&current), &current.name))
            .and_then(|d| build(&seal, &net, &tenant, &id, d, Some(&current), now))
            .map_err(in_notifier_terms);
        match built {
            Ok(b) => save_installed(c, &b, Some(&current), body, fresh, now),
            Err(e) => Ok(Err(e)),
        }
    })
    .await?;
    tracing::info!(service_desk_integration.id = %saved.id, "updated installed integration {}", saved.id);
    Ok(Json(InstalledIntegrationDto::new(&saved, issued)))
}

/// `DELETE /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}` and `POST
/// …/{installedIntgId}/uninstall` (`uninstallIntegration`): deletes the integration and the OAuth
/// client issued for it; 204.
pub async fn uninstall_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, raw)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    own_tenant(&caller, &tenant)?;
    let id = integration_id(&raw);
    let key = id.clone();
    let deleted = state
        .store()
        .write(move |c| service_desk::delete(c, &tenant, &key))
        .await?;
    if !deleted {
        return Err(not_found(&id));
    }
    tracing::info!(service_desk_integration.id = %id, "uninstalled integration {id}");
    Ok(StatusCode::NO_CONTENT)
}

/// The longest overlap of a rotated webhook token: 7 days.
pub const MAX_TOKEN_OVERLAP_SECONDS: i64 = 7 * 24 * 3600;

/// `POST /api/v2/tenants/{tenantId}/integrations/installed/{installedIntgId}/inbound/token`
/// (`rotateInstalledIntegrationToken`): a new WEBHOOK token, or a new secret for the OAUTH2
/// client (same client id). The old webhook token stops working at once, or after
/// `overlapSeconds` (0 to 7 days, WEBHOOK only) so the desk can be given the new one without a
/// gap; a later rotation or change of the credential ends that window. 200 with the integration
/// and the new credential, shown this once.
pub async fn rotate_installed_integration_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, raw)): Path<(String, String)>,
    query: QueryMap,
) -> Result<Json<InstalledIntegrationDto>, ApiError> {
    own_tenant(&caller, &tenant)?;
    let overlap_ms = query.int("overlapSeconds", 0, MAX_TOKEN_OVERLAP_SECONDS)? * 1000;
    let id = integration_id(&raw);
    let fresh = Fresh::new(&state);
    let now = state.clock().now();
    let (saved, issued) = write(&state, move |c| {
        let Some(current) = service_desk::get(c, &tenant, &id)? else {
            return Ok(Err(not_found(&id)));
        };
        let mut parts = current.installed.clone();
        let issued = match &parts.inbound.auth {
            InboundAuth::None => {
                return Ok(Err(ApiError::illegal(format!(
                    "Installed integration '{id}' has no inbound credential to rotate: set inboundConfig.authentication.authType to WEBHOOK or OAUTH2 with an update."
                ))))
            }
            InboundAuth::Webhook { token_hash } => {
                let previous = installed::PreviousToken {
                    token_hash: token_hash.clone(),
                    until: Timestamp(now.millis() + overlap_ms),
                };
                parts.inbound.auth = InboundAuth::Webhook {
                    token_hash: installed::token_hash(&fresh.token),
                };
                installed::put(c, &tenant, &id, &parts)?;
                if overlap_ms > 0 {
                    installed::keep_previous_token(c, &tenant, &id, &previous)?;
                }
                Issued::Token(fresh.token)
            }
            InboundAuth::OAuth2 { .. } if overlap_ms > 0 => {
                return Ok(Err(ApiError::illegal(format!(
                    "'overlapSeconds' applies to WEBHOOK tokens only: installed integration '{id}' uses OAUTH2, whose access tokens issued before the rotation stay valid until they expire."
                ))))
            }
            InboundAuth::OAuth2 { client_id } => {
                let Some(client) = oauth_clients::get(c, &tenant, client_id)? else {
                    return Ok(Err(not_found(&id)));
                };
                oauth_clients::update(
                    c,
                    &OAuthClient {
                        secret_hash: fresh.client_hash,
                        modified: now,
                        ..client
                    },
                )?;
                Issued::Client {
                    id: client_id.clone(),
                    secret: fresh.client_secret,
                }
            }
        };
        Ok(service_desk::get(c, &tenant, &id)?
            .map(|i| (i, issued))
            .ok_or_else(|| not_found(&id)))
    })
    .await?;
    tracing::info!(service_desk_integration.id = %saved.id, "rotated the inbound credential of installed integration {}", saved.id);
    Ok(Json(InstalledIntegrationDto::new(&saved, issued)))
}

/// `GET /api/v2/tenants/{tenantId}/integrations/installed/search`
/// (`searchInstalledIntegrations`): every integration of the tenant, those created through
/// `/service-desk-integrations` included. `pageNo` from 1 (default 1), `pageSize` 1 to 500
/// (default 100), `sortName` `createdDate` (default), `updatedDate`, `name` or `id`,
/// `isDescendingOrder` (default false).
pub async fn search_installed_integrations(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    query: QueryMap,
) -> Result<Json<InstalledIntegrationPage>, ApiError> {
    own_tenant(&caller, &tenant)?;
    let number = |name: &str, default: i64, max: i64| -> Result<i64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::illegal(format!("'{name}' must be an integer from 1 to {max}."))
                }),
        }
    };
    let page_no = number("pageNo", 1, 1_000_000)?;
    let page_size = number("pageSize", 100, 500)?;
    let descending = query.bool("isDescendingOrder", false)?;
    let (order_by, column) = match query.get("sortName").unwrap_or("createdDate") {
        "createdDate" => ("createdDate", "i.created"),
        "updatedDate" => ("updatedDate", "i.modified"),
        "name" => ("name", "lower(i.name)"),
        "id" => ("id", "i.id"),
        _ => {
            return Err(ApiError::illegal(
                "'sortName' must be createdDate, updatedDate, name or id.",
            ))
        }
    };
    let dir = if descending { "desc" } else { "asc" };
    let order = format!(" order by {column} {dir}, i.id {dir}");
    let offset = (page_no - 1) * page_size;
    let (list, total) = state
        .store()
        .read(move |c| {
            let total = service_desk::count(c, &tenant, None)?;
            let list = service_desk::list(c, &tenant, None, &order, offset, page_size)?;
            Ok((list, total))
        })
        .await?;
    let total_pages = (total + page_size - 1) / page_size;
    Ok(Json(InstalledIntegrationPage {
        results: list
            .iter()
            .map(|i| InstalledIntegrationDto::new(i, Issued::Nothing))
            .collect(),
        total_results: total,
        page_no,
        page_size,
        total_pages,
        next_page: page_no < total_pages,
        descending_order: descending,
        order_by,
    }))
}
