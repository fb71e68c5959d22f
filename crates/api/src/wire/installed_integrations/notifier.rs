//! `outboundConfig.baseNotifier`: how Gatehouse calls the desk, kept as the integration's SDIM
//! `attributes` in the uniform vocabulary every template shares.
//!
//! | notifier | attribute |
//! |---|---|
//! | `baseURI` | `url` |
//! | `userName` | `username` |
//! | `password` | `password` (Jira: `apiToken`; a bearer token: `token`, Jira `apiToken`) |
//! | `apiKey` | `clientId` |
//! | `apiSecret` | `clientSecret` |
//! | `accessTokenURI` | `tokenUrl` |
//! | `refreshToken` | `refreshToken` |
//! | `authType` NONE, no credentials | `authType` `none` |
//! | `authType` NONE, `userName` and `password` | `basic` |
//! | `authType` NONE, `password` alone | `bearer` |
//! | `authType` OAUTH2, `grantType` CLIENT_CREDENTIALS | `oauth2_client_credentials` |
//! | `authType` OAUTH2, `grantType` PASSWORD_CREDENTIALS (or PASSWORD) | `oauth2_password` |
//! | `authType` OAUTH2, `grantType` REFRESH_TOKEN | `oauth2_refresh_token` |
//!
//! A credential (`password`, `apiSecret`, `refreshToken`) that is not sent, or is sent as
//! asterisks only (what a client that shows masks sends back), keeps the stored one: the SDIM
//! rules then apply (a changed URL, user name or client id needs it again).

use crate::error::ApiError;
use gatehouse_domain::service_desk::{IntegrationType, MASK};
use gatehouse_store::service_desk::Integration;
use serde::Serialize;
use serde_json::{Map, Value};

/// The SDIM attributes the notifier owns: an update that sends a notifier replaces all of them,
/// and the top-level `attributes` of a body may not hold them.
pub const NOTIFIER_KEYS: &[&str] = &[
    "url",
    "authType",
    "username",
    "password",
    "apiToken",
    "token",
    "clientId",
    "clientSecret",
    "tokenUrl",
    "refreshToken",
    "apiKey",
    "apiKeyHeader",
];

/// The notifier field each notifier-owned attribute is named by in messages.
const FIELD_OF: &[(&str, &str)] = &[
    ("clientSecret", "apiSecret"),
    ("refreshToken", "refreshToken"),
    ("tokenUrl", "accessTokenURI"),
    ("username", "userName"),
    ("password", "password"),
    ("apiToken", "password"),
    ("clientId", "apiKey"),
    ("authType", "authType"),
    ("token", "password"),
    ("url", "baseURI"),
];

/// An OAuth 2.0 grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `CLIENT_CREDENTIALS`.
    ClientCredentials,
    /// `PASSWORD_CREDENTIALS` (or `PASSWORD`).
    Password,
    /// `REFRESH_TOKEN`.
    RefreshToken,
}

/// A notifier as sent. Its `Debug` shows no credential.
pub struct Notifier {
    /// `None` for authType NONE, else the OAuth 2.0 grant.
    pub grant: Option<Grant>,
    base_uri: Option<String>,
    user_name: Option<String>,
    password: Option<String>,
    api_key: Option<String>,
    api_secret: Option<String>,
    access_token_uri: Option<String>,
    refresh_token: Option<String>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("grant", &self.grant)
            .field("base_uri", &self.base_uri)
            .finish_non_exhaustive()
    }
}

const KNOWN: &[&str] = &[
    "type",
    "authType",
    "grantType",
    "baseURI",
    "userName",
    "password",
    "apiKey",
    "apiSecret",
    "accessTokenURI",
    "refreshToken",
    "alertSource",
    "deskAuthType",
];

impl Notifier {
    /// Reads the notifier object at `at` (`outboundConfig.baseNotifier`).
    pub fn parse(m: &Map<String, Value>, at: &str) -> Result<Self, ApiError> {
        if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(ApiError::illegal(format!(
                "'{at}.{k}' is not known: a notifier has {}.",
                KNOWN.join(", ")
            )));
        }
        let text = |key: &str| -> Result<Option<String>, ApiError> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::illegal(format!("'{at}.{key}' must be a string."))),
            }
        };
        let upper = |key: &str| text(key).map(|v| v.map(|s| s.trim().to_ascii_uppercase()));
        match upper("type")?.as_deref() {
            None | Some("REST_API") => {}
            Some("SOAP_API") => {
                return Err(ApiError::illegal(format!(
                    "'{at}.type' is SOAP_API: SOAP desks are not supported yet; use REST_API."
                )))
            }
            Some(_) => {
                return Err(ApiError::illegal(format!(
                    "'{at}.type' must be REST_API (or SOAP_API, not supported yet)."
                )))
            }
        }
        let grant = match (upper("authType")?.as_deref(), upper("grantType")?.as_deref()) {
            (None | Some("NONE"), None | Some("")) => None,
            (None | Some("NONE"), Some(_)) => {
                return Err(ApiError::illegal(format!(
                    "'{at}.grantType' is valid only with authType OAUTH2."
                )))
            }
            (Some("OAUTH2"), None | Some("")) => {
                return Err(ApiError::missing(&format!("{at}.grantType")))
            }
            (Some("OAUTH2"), Some("CLIENT_CREDENTIALS")) => Some(Grant::ClientCredentials),
            (Some("OAUTH2"), Some("PASSWORD_CREDENTIALS" | "PASSWORD")) => Some(Grant::Password),
            (Some("OAUTH2"), Some("REFRESH_TOKEN")) => Some(Grant::RefreshToken),
            (Some("OAUTH2"), Some(_)) => {
                return Err(ApiError::illegal(format!(
                    "'{at}.grantType' must be CLIENT_CREDENTIALS, PASSWORD_CREDENTIALS (or PASSWORD) or REFRESH_TOKEN."
                )))
            }
            (Some(_), _) => {
                return Err(ApiError::illegal(format!(
                    "'{at}.authType' must be NONE or OAUTH2."
                )))
            }
        };
        // Asterisks only: the client echoes a mask; keep the stored credential.
        let secret = |key: &str| {
            text(key).map(|v| v.filter(|s| s.is_empty() || s.chars().any(|c| c != '*')))
        };
        Ok(Self {
            grant,
            base_uri: text("baseURI")?,
            user_name: text("userName")?,
            password: secret("password")?,
            api_key: text("apiKey")?,
            api_secret: secret("apiSecret")?,
            access_token_uri: text("accessTokenURI")?,
            refresh_token: secret("refreshToken")?,
        })
    }

    /// The SDIM attributes this notifier stands for on a desk of type `ty`. `current` is the
    /// integration being updated: a credential not sent is taken as the mask where one is stored.
    pub fn to_attributes(
        &self,
        ty: &IntegrationType,
        current: Option<&Integration>,
    ) -> Result<Map<String, Value>, ApiError> {
        let stored =
            |attr: &str| current.is_some_and(|c| c.secrets.contains_key(&format!("/{attr}")));
        let mut out = Map::new();
        let mut put = |attr: &str, v: &Option<String>| {
            if let Some(v) = v {
                out.insert(attr.to_owned(), Value::String(v.clone()));
            }
        };
        let secret = |attr: &str, v: &Option<String>| -> Option<String> {
            v.clone().or_else(|| stored(attr).then(|| MASK.to_owned()))
        };
        let jira = ty.type_name == "JiraSDIM";
        put("url", &self.base_uri);
        let auth = match self.grant {
            None => {
                let current_auth = current
                    .and_then(|c| c.attributes.get("authType"))
                    .and_then(Value::as_str);
                let bearer_attr = if jira { "apiToken" } else { "token" };
                if self.user_name.is_some() {
                    put("username", &self.user_name);
                    let attr = if jira { "apiToken" } else { "password" };
                    put(attr, &secret(attr, &self.password));
                    "basic"
                } else if self.password.is_some()
                    || (current_auth == Some("bearer") && stored(bearer_attr))
                {
                    put(bearer_attr, &secret(bearer_attr, &self.password));
                    "bearer"
                } else {
                    "none"
                }
            }
            Some(grant) => {
                put("clientId", &self.api_key);
                put("clientSecret", &secret("clientSecret", &self.api_secret));
                put("tokenUrl", &self.access_token_uri);
                if grant != Grant::ClientCredentials {
                    put("username", &self.user_name);
                    if grant == Grant::Password || self.password.is_some() {
                        put("password", &secret("password", &self.password));
                    }
                }
                match grant {
                    Grant::ClientCredentials => "oauth2_client_credentials",
                    Grant::Password => "oauth2_password",
                    Grant::RefreshToken => {
                        put("refreshToken", &secret("refreshToken", &self.refresh_token));
                        "oauth2_refresh_token"
                    }
                }
            }
        };
        let allowed = ty
            .attributes
            .iter()
            .find(|a| a.name == "authType")
            .and_then(|a| match a.kind {
                gatehouse_domain::service_desk::Kind::Choice(values) => Some(values),
                _ => None,
            })
            .unwrap_or(&[]);
        if !allowed.contains(&auth) {
            let ways: Vec<&str> = allowed.iter().filter_map(|v| describe(v)).collect();
            return Err(ApiError::illegal(format!(
                "outboundConfig.baseNotifier: a {} desk is called with {}.",
                ty.name,
                ways.join("; or ")
            )));
        }
        out.insert("authType".into(), Value::String(auth.into()));
        Ok(out)
    }
}

/// How the notifier expresses SDIM `authType` `v`.
fn describe(v: &str) -> Option<&'static str> {
    Some(match v {
        "none" => "authType NONE and no credentials",
        "basic" => "authType NONE, userName and password",
        "bearer" => "authType NONE and password alone (a bearer token)",
        "oauth2_client_credentials" => "authType OAUTH2, grantType CLIENT_CREDENTIALS",
        "oauth2_password" => "authType OAUTH2, grantType PASSWORD_CREDENTIALS",
        "oauth2_refresh_token" => "authType OAUTH2, grantType REFRESH_TOKEN",
        _ => return None,
    })
}

/// Rewrites the attribute names of a refusal from the SDIM checks into the notifier's fields
/// (`attributes.url` → `outboundConfig.baseNotifier.baseURI`), so the message names what the
/// caller sent.
pub fn in_notifier_terms(e: ApiError) -> ApiError {
    match e {
        ApiError::BadRequest {
            detail,
            mut message,
        } => {
            for (attr, field) in FIELD_OF {
                message = message.replace(
                    &format!("attributes.{attr}"),
                    &format!("outboundConfig.baseNotifier.{field}"),
                );
            }
            ApiError::BadRequest { detail, message }
        }
        other => other,
    }
}

/// `outboundConfig.baseNotifier` as answered: never `password`, `apiSecret` or `refreshToken`.
#[derive(Debug, Serialize)]
pub struct NotifierDto {
    /// `REST_API`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `NONE` or `OAUTH2`.
    #[serde(rename = "authType")]
    pub auth_type: &'static str,
    /// The OAuth 2.0 grant.
    #[serde(rename = "grantType", skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<&'static str>,
    /// The desk's URL.
    #[serde(rename = "baseURI", skip_serializing_if = "Option::is_none")]
    pub base_uri: Option<String>,
    /// User name.
    #[serde(rename = "userName", skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// OAuth 2.0 client id.
    #[serde(rename = "apiKey", skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// OAuth 2.0 token endpoint.
    #[serde(rename = "accessTokenURI", skip_serializing_if = "Option::is_none")]
    pub access_token_uri: Option<String>,
    /// The SDIM `authType` this stands for (`basic`, `oauth2_password`…); read-only.
    #[serde(rename = "deskAuthType", skip_serializing_if = "Option::is_none")]
    pub desk_auth_type: Option<String>,
}

impl NotifierDto {
    /// The notifier of integration `i`, from its attributes.
    pub fn new(i: &Integration) -> Self {
        let s = |k: &str| {
            i.attributes
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let desk = s("authType");
        let (auth_type, grant_type) = match desk.as_deref() {
            Some("oauth2_client_credentials") => ("OAUTH2", Some("CLIENT_CREDENTIALS")),
            Some("oauth2_password") => ("OAUTH2", Some("PASSWORD_CREDENTIALS")),
            Some("oauth2_refresh_token") => ("OAUTH2", Some("REFRESH_TOKEN")),
            _ => ("NONE", None),
        };
        Self {
            kind: i
                .installed
                .notifier_type
                .clone()
                .unwrap_or_else(|| "REST_API".into()),
            auth_type,
            grant_type,
            base_uri: s("url"),
            user_name: s("username"),
            api_key: s("clientId"),
            access_token_uri: s("tokenUrl"),
            desk_auth_type: desk,
        }
    }

    /// The notifier-owned attributes of `attributes` as they are (to keep them on an update
    /// that sends no notifier).
    pub fn owned_attributes(attributes: &Map<String, Value>) -> Map<String, Value> {
        attributes
            .iter()
            .filter(|(k, _)| NOTIFIER_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
