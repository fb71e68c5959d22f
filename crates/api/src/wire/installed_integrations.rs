//! The OpsRamp-style installed-integration shapes (`/api/v2/tenants/{tenantId}/integrations/…`):
//! the install and update body, the installed integration, and the paged search result.
//!
//! An installed integration is a service desk integration seen through another API (ADR 0008):
//! the notifier (`outboundConfig.baseNotifier`) is read into and out of the integration's SDIM
//! `attributes` ([`notifier`]); the other desk attributes travel as a top-level `attributes`
//! object; inbound authentication and both `mapAttributes` lists are the row's installed-only
//! columns. Requests are read by hand so every fault is a 400 naming the field, and no message
//! echoes a credential.

pub mod notifier;

use crate::error::ApiError;
use crate::wire::ts;
use gatehouse_domain::service_desk::mapping::{normalise_all, MapAttribute};
use gatehouse_domain::service_desk::IntegrationType;
use gatehouse_store::installed_integrations::InboundAuth;
use gatehouse_store::service_desk::Integration;
use notifier::{Notifier, NotifierDto, NOTIFIER_KEYS};
use serde::Serialize;
use serde_json::{Map, Value};

/// One entry of the integration catalogue: what `POST …/install/{intgId}` installs.
#[derive(Debug)]
pub struct CatalogueEntry {
    /// The catalogue id (`intgId`).
    pub id: &'static str,
    /// Other ids accepted for it.
    pub aliases: &'static [&'static str],
    /// Display name (the default `name` of an installed integration).
    pub name: &'static str,
    /// The SDIM `type` of integrations installed from it.
    pub type_name: &'static str,
}

/// The catalogue: one entry per service desk type.
pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry {
        id: "SERVICENOW",
        aliases: &[],
        name: "ServiceNow",
        type_name: "ServiceNowSDIM",
    },
    CatalogueEntry {
        id: "JIRA",
        aliases: &[],
        name: "Jira",
        type_name: "JiraSDIM",
    },
    CatalogueEntry {
        id: "CUSTOM",
        aliases: &["REST"],
        name: "Custom Integration",
        type_name: "Web Service SDIM",
    },
];

impl CatalogueEntry {
    /// The entry named `id` (or an alias), without regard to case.
    pub fn by_id(id: &str) -> Option<&'static Self> {
        CATALOGUE.iter().find(|e| {
            e.id.eq_ignore_ascii_case(id) || e.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
        })
    }

    /// The entry of an integration of SDIM type `type_name` (or an alias of it).
    pub fn of_type(type_name: &str) -> &'static Self {
        let canonical = IntegrationType::by_type(type_name).map_or(type_name, |t| t.type_name);
        CATALOGUE
            .iter()
            .find(|e| e.type_name == canonical)
            .unwrap_or(&CATALOGUE[2])
    }

    /// The SDIM type and template.
    pub fn template(&self) -> Result<&'static IntegrationType, ApiError> {
        IntegrationType::by_type(self.type_name)
            .ok_or_else(|| ApiError::Internal(format!("no template for {}", self.type_name)))
    }
}

/// `inboundConfig.authentication.authType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthChoice {
    /// No inbound credential.
    None,
    /// A random token Gatehouse issues.
    Webhook,
    /// An OAuth client Gatehouse issues.
    OAuth2,
}

impl AuthChoice {
    /// True when `auth` is already of this kind (so an update keeps its credential).
    pub fn matches(self, auth: &InboundAuth) -> bool {
        matches!(
            (self, auth),
            (Self::None, InboundAuth::None)
                | (Self::Webhook, InboundAuth::Webhook { .. })
                | (Self::OAuth2, InboundAuth::OAuth2 { .. })
        )
    }
}

/// An install or update body. Each part is `None` when not sent (an update keeps it).
pub struct InstalledBody {
    /// `name` or `displayName`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `inboundConfig.authentication.authType`.
    pub auth: Option<AuthChoice>,
    /// `inboundConfig.mapAttributes`, checked and normalised.
    pub inbound_maps: Option<Vec<MapAttribute>>,
    /// `outboundConfig.mapAttributes`, checked and normalised.
    pub outbound_maps: Option<Vec<MapAttribute>>,
    /// `outboundConfig.baseNotifier` (or `notifier`).
    pub notifier: Option<Notifier>,
    /// `attributes`: the desk attributes the notifier does not carry (`projectKey`, `statusMap`…).
    pub attributes: Option<Map<String, Value>>,
}

/// Top-level fields of a body; those a GET shows are accepted back and ignored when read-only.
const FIELDS: &[&str] = &[
    "id",
    "name",
    "displayName",
    "description",
    "integration",
    "inboundConfig",
    "outboundConfig",
    "attributes",
    "createdDate",
    "updatedDate",
];

fn object<'a>(v: &'a Value, field: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        _ => Err(ApiError::illegal(format!("'{field}' must be an object."))),
    }
}

fn text(m: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::illegal(format!("'{field}' must be a string."))),
    }
}

fn unknown(m: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), ApiError> {
    match m.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::illegal(format!(
            "'{at}{k}' is not known here: use {}.",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

fn mappings(v: Option<&Value>, at: &str) -> Result<Option<Vec<MapAttribute>>, ApiError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::illegal(format!("'{at}' must be an array."))),
    };
    let mut list = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<MapAttribute>(item.clone())
                .map_err(|e| ApiError::illegal(format!("{at}[{i}]: {e}.")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    normalise_all(&mut list, at).map_err(|e| ApiError::illegal(e.0))?;
    Ok(Some(list))
}

impl InstalledBody {
    /// Reads a body; see the module doc.
    pub fn parse(body: &Value) -> Result<Self, ApiError> {
        let Some(m) = body.as_object() else {
            return Err(ApiError::bad_request(
                "The body must be an installed integration object.",
            ));
        };
        unknown(m, FIELDS, "")?;
        let name = match (
            text(m, "name", "name")?,
            text(m, "displayName", "displayName")?,
        ) {
            (Some(a), Some(b)) if a != b => {
                return Err(ApiError::illegal(
                    "'name' and 'displayName' differ: send one of them.",
                ))
            }
            (Some(n), _) => Some(("name", n)),
            (None, Some(n)) => Some(("displayName", n)),
            (None, None) => None,
        };
        if let Some((field, n)) = &name {
            if n.trim().is_empty() || n.len() > 255 {
                return Err(ApiError::illegal(format!(
                    "'{field}' must be 1 to 255 characters."
                )));
            }
        }
        let description = text(m, "description", "description")?;
        if description.as_ref().is_some_and(|d| d.len() > 2000) {
            return Err(ApiError::illegal(
                "'description' may be at most 2000 characters.",
            ));
        }
        let (mut auth, mut inbound_maps) = (None, None);
        if let Some(inbound) = object(
            m.get("inboundConfig").unwrap_or(&Value::Null),
            "inboundConfig",
        )? {
            unknown(
                inbound,
                &["authentication", "mapAttributes"],
                "inboundConfig.",
            )?;
            let a = inbound.get("authentication").unwrap_or(&Value::Null);
            if let Some(a) = object(a, "inboundConfig.authentication")? {
                let field = "inboundConfig.authentication.authType";
                auth = Some(
                    match text(a, "authType", field)?.map(|s| s.to_ascii_uppercase()) {
                        None => return Err(ApiError::missing(field)),
                        Some(t) if t == "WEBHOOK" => AuthChoice::Webhook,
                        Some(t) if t == "OAUTH2" => AuthChoice::OAuth2,
                        Some(t) if t == "NONE" => AuthChoice::None,
                        Some(_) => {
                            return Err(ApiError::illegal(format!(
                                "'{field}' must be WEBHOOK, OAUTH2 or NONE."
                            )))
                        }
                    },
                );
            }
            inbound_maps = mappings(inbound.get("mapAttributes"), "inboundConfig.mapAttributes")?;
        }
        let (mut notifier, mut outbound_maps) = (None, None);
        let outbound = m.get("outboundConfig").unwrap_or(&Value::Null);
        if let Some(outbound) = object(outbound, "outboundConfig")? {
            unknown(
                outbound,
                &["baseNotifier", "notifier", "mapAttributes"],
                "outboundConfig.",
            )?;
            let (base, plain) = (outbound.get("baseNotifier"), outbound.get("notifier"));
            if base.is_some_and(|v| !v.is_null()) && plain.is_some_and(|v| !v.is_null()) {
                return Err(ApiError::illegal(
                    "'outboundConfig.baseNotifier' and 'outboundConfig.notifier' are the same: send one of them.",
                ));
            }
            let (key, v) = match (base, plain) {
                (Some(v), _) if !v.is_null() => ("baseNotifier", v),
                (_, Some(v)) => ("notifier", v),
                _ => ("baseNotifier", &Value::Null),
            };
            let at = format!("outboundConfig.{key}");
            if let Some(n) = object(v, &at)? {
                notifier = Some(Notifier::parse(n, &at)?);
            }
            outbound_maps = mappings(
                outbound.get("mapAttributes"),
                "outboundConfig.mapAttributes",
            )?;
        }
        let attributes = match object(m.get("attributes").unwrap_or(&Value::Null), "attributes")? {
            None => None,
            Some(a) => {
                if let Some(k) = a.keys().find(|k| NOTIFIER_KEYS.contains(&k.as_str())) {
                    return Err(ApiError::illegal(format!(
                        "'attributes.{k}' is set through outboundConfig.baseNotifier, not attributes."
                    )));
                }
                Some(a.clone())
            }
        };
        Ok(Self {
            name: name.map(|(_, n)| n),
            description,
            auth,
            inbound_maps,
            outbound_maps,
            notifier,
            attributes,
        })
    }
}

/// A credential issued by this call, shown in its answer only.
pub enum Issued {
    /// None.
    Nothing,
    /// A webhook token.
    Token(String),
    /// An OAuth client's id and secret.
    Client {
        /// Client id.
        id: String,
        /// Client secret.
        secret: String,
    },
}

/// `integration`: the catalogue entry an installed integration came from.
#[derive(Debug, Serialize)]
pub struct IntegrationRefDto {
    /// Catalogue id.
    pub id: &'static str,
    /// Catalogue name.
    pub name: &'static str,
}

/// `inboundConfig.authentication`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationDto {
    /// `NONE`, `WEBHOOK` or `OAUTH2`.
    pub auth_type: &'static str,
    /// The webhook token, only in the answer that issued it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The issued OAuth client's id (OAUTH2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The issued OAuth client's secret, only in the answer that issued it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// `inboundConfig`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundConfigDto {
    /// Authentication.
    pub authentication: AuthenticationDto,
    /// Mappings of what the desk sends.
    pub map_attributes: Vec<MapAttribute>,
}

/// `outboundConfig`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundConfigDto {
    /// The notifier (never with `password`, `apiSecret` or `refreshToken`).
    pub base_notifier: NotifierDto,
    /// Mappings of what Gatehouse sends.
    pub map_attributes: Vec<MapAttribute>,
}

/// An installed integration.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledIntegrationDto {
    /// The service desk integration id.
    pub id: String,
    /// Name (the SDIM `name`).
    pub name: String,
    /// The same, as OpsRamp names it.
    pub display_name: String,
    /// Description (the SDIM `description`).
    pub description: String,
    /// The catalogue entry.
    pub integration: IntegrationRefDto,
    /// Inbound configuration.
    pub inbound_config: InboundConfigDto,
    /// Outbound configuration.
    pub outbound_config: OutboundConfigDto,
    /// The desk attributes the notifier does not carry, credentials masked.
    pub attributes: Map<String, Value>,
    /// Created.
    pub created_date: String,
    /// Last changed.
    pub updated_date: String,
}

impl InstalledIntegrationDto {
    /// `i` as an installed integration, with the credential `issued` by this call, if any.
    pub fn new(i: &Integration, issued: Issued) -> Self {
        let entry = CatalogueEntry::of_type(&i.type_name);
        let inbound = &i.installed.inbound;
        let mut authentication = AuthenticationDto {
            auth_type: inbound.auth.kind(),
            token: None,
            client_id: match &inbound.auth {
                InboundAuth::OAuth2 { client_id } => Some(client_id.clone()),
                _ => None,
            },
            client_secret: None,
        };
        match issued {
            Issued::Nothing => {}
            Issued::Token(t) => authentication.token = Some(t),
            Issued::Client { id, secret } => {
                authentication.client_id = Some(id);
                authentication.client_secret = Some(secret);
            }
        }
        Self {
            id: i.id.clone(),
            name: i.name.clone(),
            display_name: i.name.clone(),
            description: i.description.clone(),
            integration: IntegrationRefDto {
                id: entry.id,
                name: entry.name,
            },
            inbound_config: InboundConfigDto {
                authentication,
                map_attributes: inbound.map_attributes.clone(),
            },
            outbound_config: OutboundConfigDto {
                base_notifier: NotifierDto::new(i),
                map_attributes: i.installed.outbound_map_attributes.clone(),
            },
            attributes: i
                .attributes
                .iter()
                .filter(|(k, _)| !NOTIFIER_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            created_date: ts(i.created),
            updated_date: ts(i.modified),
        }
    }
}

/// OpsRamp's paged search result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledIntegrationPage {
    /// This page.
    pub results: Vec<InstalledIntegrationDto>,
    /// Matches in all pages.
    pub total_results: i64,
    /// This page's number, from 1.
    pub page_no: i64,
    /// Page size asked for.
    pub page_size: i64,
    /// Number of pages.
    pub total_pages: i64,
    /// True when a later page has results.
    pub next_page: bool,
    /// True when sorted descending.
    pub descending_order: bool,
    /// The sort field.
    pub order_by: &'static str,
}
