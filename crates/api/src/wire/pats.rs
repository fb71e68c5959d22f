//! `CreatePersonalAccessTokenRequest`, `CreatePersonalAccessTokenResponse`,
//! `GetPersonalAccessTokenResponse`, `PatOwner`.

use crate::routes::Family;
use crate::wire::ts;
use gatehouse_store::pats::Pat;
use serde::{Deserialize, Serialize};

/// `CreatePersonalAccessTokenRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePersonalAccessTokenRequest {
    /// Name (required).
    pub name: Option<String>,
    /// Scopes (default `sp:scopes:all`).
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    /// Token lifetime, 15..=43200 (default 43200).
    #[serde(default)]
    pub access_token_validity_seconds: Option<i64>,
    /// When the PAT stops working.
    #[serde(default)]
    pub expiration_date: Option<String>,
    /// v1: never expires (then `expirationDate` must be null).
    #[serde(default)]
    pub user_aware_token_never_expires: Option<bool>,
}

/// `PatOwner`.
#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, Eq)]
pub struct PatOwner {
    /// Always `IDENTITY`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Identity id.
    pub id: String,
    /// Identity name.
    pub name: String,
}

impl PatOwner {
    /// The owner `id` named `name`.
    pub fn identity(id: &str, name: &str) -> Self {
        Self {
            kind: "IDENTITY".into(),
            id: id.into(),
            name: name.into(),
        }
    }
}

/// `CreatePersonalAccessTokenResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePersonalAccessTokenResponse {
    /// Id (the client id).
    pub id: String,
    /// Secret (the client secret), shown this once.
    pub secret: String,
    /// Scopes.
    pub scope: Option<Vec<String>>,
    /// Name.
    pub name: String,
    /// Owner.
    pub owner: PatOwner,
    /// Created.
    pub created: String,
    /// Token lifetime.
    pub access_token_validity_seconds: i64,
    /// Expiry (a far-future date for never-expiring v1 tokens, as the schema needs a value).
    pub expiration_date: String,
}

/// The expiry shown for a PAT that never expires where the schema requires a date.
const NEVER: gatehouse_domain::Timestamp = gatehouse_domain::Timestamp(253_402_300_799_000);

impl CreatePersonalAccessTokenResponse {
    /// The answer to a create, carrying the clear `secret` once.
    pub fn new(p: &Pat, owner: PatOwner, secret: String) -> Self {
        Self {
            id: p.id.clone(),
            secret,
            scope: p.scope.clone(),
            name: p.name.clone(),
            owner,
            created: ts(p.created),
            access_token_validity_seconds: p.access_token_validity_seconds,
            expiration_date: ts(p.expiration_date.unwrap_or(NEVER)),
        }
    }
}

/// `GetPersonalAccessTokenResponse`.
#[derive(Debug, Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalAccessTokenResponse {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scope: Option<Vec<String>>,
    /// Owner.
    pub owner: PatOwner,
    /// Created.
    pub created: String,
    /// Last token issued.
    pub last_used: Option<String>,
    /// Managed.
    pub managed: bool,
    /// Token lifetime.
    pub access_token_validity_seconds: i64,
    /// Expiry (null only in beta and v1, for tokens that never expire).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<Option<String>>,
    /// v1 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_aware_token_never_expires: Option<bool>,
}

impl GetPersonalAccessTokenResponse {
    /// The view of `p` in `family`.
    pub fn new(p: &Pat, owner: PatOwner, family: Family) -> Self {
        let nullable = matches!(family, Family::Beta | Family::V1);
        let expiration_date = match (p.expiration_date, nullable) {
            (Some(d), _) => Some(Some(ts(d))),
            (None, true) => Some(None),
            (None, false) => Some(Some(ts(NEVER))),
        };
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            scope: p.scope.clone(),
            owner,
            created: ts(p.created),
            last_used: p.last_used.map(ts),
            managed: p.managed,
            access_token_validity_seconds: p.access_token_validity_seconds,
            expiration_date,
            user_aware_token_never_expires: (family == Family::V1).then_some(p.never_expires),
        }
    }
}
