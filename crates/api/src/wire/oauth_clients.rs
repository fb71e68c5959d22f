//! `CreateOAuthClientRequest`, `CreateOAuthClientResponse`, `GetOAuthClientResponse`.

use crate::wire::ts;
use gatehouse_store::oauth_clients::OAuthClient;
use serde::{Deserialize, Serialize};

/// `GrantType`.
pub const GRANT_TYPES: &[&str] = &["CLIENT_CREDENTIALS", "AUTHORIZATION_CODE", "REFRESH_TOKEN"];
/// `AccessType`.
pub const ACCESS_TYPES: &[&str] = &["ONLINE", "OFFLINE"];
/// `ClientType`.
pub const CLIENT_TYPES: &[&str] = &["CONFIDENTIAL", "PUBLIC"];

/// Reads a field that may be absent (`None`), null (`Some(None)`) or set (`Some(Some(v))`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `CreateOAuthClientRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOAuthClientRequest {
    /// Business name.
    #[serde(default)]
    pub business_name: Option<String>,
    /// Home page.
    #[serde(default)]
    pub homepage_url: Option<String>,
    /// Name (required, may be null per the spec; Gatehouse requires a value).
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    /// Description (required, nullable).
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    /// Access token lifetime (required).
    pub access_token_validity_seconds: Option<i32>,
    /// Refresh token lifetime.
    #[serde(default)]
    pub refresh_token_validity_seconds: Option<i32>,
    /// Redirect URIs.
    #[serde(default)]
    pub redirect_uris: Option<Vec<String>>,
    /// Grant types (required).
    #[serde(default, deserialize_with = "present")]
    pub grant_types: Option<Option<Vec<String>>>,
    /// Access type (required).
    pub access_type: Option<String>,
    /// Client type.
    #[serde(default, rename = "type")]
    pub client_type: Option<String>,
    /// Internal.
    #[serde(default)]
    pub internal: Option<bool>,
    /// Enabled (required).
    pub enabled: Option<bool>,
    /// Strong auth supported.
    #[serde(default)]
    pub strong_auth_supported: Option<bool>,
    /// Claims supported.
    #[serde(default)]
    pub claims_supported: Option<bool>,
    /// Scopes (default `sp:scopes:all`).
    #[serde(default, deserialize_with = "present")]
    pub scope: Option<Option<Vec<String>>>,
}

/// `GetOAuthClientResponse`.
#[derive(Debug, Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct GetOAuthClientResponse {
    /// Id.
    pub id: String,
    /// Business name.
    pub business_name: Option<String>,
    /// Home page.
    pub homepage_url: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Access token lifetime.
    pub access_token_validity_seconds: i64,
    /// Refresh token lifetime.
    pub refresh_token_validity_seconds: i64,
    /// Redirect URIs.
    pub redirect_uris: Option<Vec<String>>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Access type.
    pub access_type: String,
    /// Client type.
    #[serde(rename = "type")]
    pub client_type: String,
    /// Internal.
    pub internal: bool,
    /// Enabled.
    pub enabled: bool,
    /// Strong auth supported.
    pub strong_auth_supported: bool,
    /// Claims supported.
    pub claims_supported: bool,
    /// Created.
    pub created: String,
    /// Modified.
    pub modified: String,
    /// Never returned after creation.
    pub secret: Option<String>,
    /// Metadata.
    pub metadata: Option<String>,
    /// Last token issued.
    pub last_used: Option<String>,
    /// Scopes.
    pub scope: Option<Vec<String>>,
}

impl From<&OAuthClient> for GetOAuthClientResponse {
    fn from(o: &OAuthClient) -> Self {
        Self {
            id: o.id.clone(),
            business_name: o.business_name.clone(),
            homepage_url: o.homepage_url.clone(),
            name: o.name.clone(),
            description: o.description.clone(),
            access_token_validity_seconds: o.access_token_validity_seconds,
            refresh_token_validity_seconds: o.refresh_token_validity_seconds,
            redirect_uris: Some(o.redirect_uris.clone()),
            grant_types: o.grant_types.clone(),
            access_type: o.access_type.clone(),
            client_type: o.client_type.clone(),
            internal: o.internal,
            enabled: o.enabled,
            strong_auth_supported: o.strong_auth_supported,
            claims_supported: o.claims_supported,
            created: ts(o.created),
            modified: ts(o.modified),
            secret: None,
            metadata: o
                .metadata
                .as_ref()
                .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned)),
            last_used: o.last_used.map(ts),
            scope: o.scope.clone(),
        }
    }
}

/// `CreateOAuthClientResponse`: every field required and, but for `scope`, non-null.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOAuthClientResponse {
    /// Id.
    pub id: String,
    /// The secret, shown this once.
    pub secret: String,
    /// Business name ("" when unset).
    pub business_name: String,
    /// Home page ("" when unset).
    pub homepage_url: String,
    /// Name.
    pub name: String,
    /// Description ("" when unset).
    pub description: String,
    /// Access token lifetime.
    pub access_token_validity_seconds: i64,
    /// Refresh token lifetime.
    pub refresh_token_validity_seconds: i64,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Access type.
    pub access_type: String,
    /// Client type.
    #[serde(rename = "type")]
    pub client_type: String,
    /// Internal.
    pub internal: bool,
    /// Enabled.
    pub enabled: bool,
    /// Strong auth supported.
    pub strong_auth_supported: bool,
    /// Claims supported.
    pub claims_supported: bool,
    /// Created.
    pub created: String,
    /// Modified.
    pub modified: String,
    /// Scopes.
    pub scope: Option<Vec<String>>,
}

impl CreateOAuthClientResponse {
    /// The answer to a create, carrying the clear `secret` once.
    pub fn new(o: &OAuthClient, secret: String) -> Self {
        Self {
            id: o.id.clone(),
            secret,
            business_name: o.business_name.clone().unwrap_or_default(),
            homepage_url: o.homepage_url.clone().unwrap_or_default(),
            name: o.name.clone(),
            description: o.description.clone().unwrap_or_default(),
            access_token_validity_seconds: o.access_token_validity_seconds,
            refresh_token_validity_seconds: o.refresh_token_validity_seconds,
            redirect_uris: o.redirect_uris.clone(),
            grant_types: o.grant_types.clone(),
            access_type: o.access_type.clone(),
            client_type: o.client_type.clone(),
            internal: o.internal,
            enabled: o.enabled,
            strong_auth_supported: o.strong_auth_supported,
            claims_supported: o.claims_supported,
            created: ts(o.created),
            modified: ts(o.modified),
            scope: o.scope.clone(),
        }
    }
}
