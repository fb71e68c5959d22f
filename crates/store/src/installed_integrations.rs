//! The installed-integration view of a service desk integration (ADR 0008): how the desk
//! authenticates when it calls in, the attribute mappings of both directions, and the notifier
//! type. They are columns of `service_desk_integration`, read by [`crate::service_desk`]'s query
//! with the rest of the row, and written only through [`put`], so a write through
//! `/service-desk-integrations` never changes them.
//!
//! A webhook token is never stored: only the lower-case hex SHA-256 of it ([`token_hash`]),
//! compared in constant time ([`webhook_token_matches`]). The token is 256-bit random, so a plain
//! hash is enough to make the stored value useless for calling in.

use crate::{Conn, Row, StoreError, Value};
use gatehouse_domain::service_desk::mapping::MapAttribute;
use gatehouse_domain::Timestamp;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How a desk authenticates when it calls in (the webhook, the status endpoint).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum InboundAuth {
    /// No inbound credential: every inbound call is refused. Integrations created through
    /// `/service-desk-integrations` start so, and so does an OAUTH2 integration whose client was
    /// deleted through `/oauth-clients`.
    #[default]
    None,
    /// A bearer token whose SHA-256 (lower-case hex) is `token_hash`.
    Webhook {
        /// Lower-case hex SHA-256 of the token.
        token_hash: String,
    },
    /// Tokens of the OAuth client `client_id` (issued for this integration).
    OAuth2 {
        /// The OAuth client's id.
        client_id: String,
    },
}

impl InboundAuth {
    /// `NONE`, `WEBHOOK` or `OAUTH2`, as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Webhook { .. } => "WEBHOOK",
            Self::OAuth2 { .. } => "OAUTH2",
        }
    }
}

/// What inbound calls of an integration are checked and read with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inbound {
    /// Who may call in.
    pub auth: InboundAuth,
    /// How the desk's payloads map to Gatehouse's attributes.
    pub map_attributes: Vec<MapAttribute>,
}

/// The installed-only parts of an integration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Installed {
    /// Inbound authentication and mappings.
    pub inbound: Inbound,
    /// How Gatehouse's tickets map to the desk's fields.
    pub outbound_map_attributes: Vec<MapAttribute>,
    /// `REST_API` when installed through the installed-integration API; `None` when created
    /// through `/service-desk-integrations`.
    pub notifier_type: Option<String>,
}

/// The columns [`of`] reads, in order, qualified by the alias `i`.
pub(crate) const COLUMNS: &str = "i.inbound_auth_type, i.inbound_token_hash, i.inbound_client_id, \
    i.inbound_map_attributes, i.outbound_map_attributes, i.notifier_type";

/// Reads [`COLUMNS`] from `r`, starting at column `at`.
pub(crate) fn of(r: &Row, at: usize) -> Result<Installed, StoreError> {
    let kind = r.text(at)?;
    let auth = match (kind.as_str(), r.opt_text(at + 1)?, r.opt_text(at + 2)?) {
        ("WEBHOOK", Some(token_hash), _) => InboundAuth::Webhook { token_hash },
        ("OAUTH2", _, Some(client_id)) => InboundAuth::OAuth2 { client_id },
        _ => InboundAuth::None,
    };
    Ok(Installed {
        inbound: Inbound {
            auth,
            map_attributes: r.json(at + 3)?,
        },
        outbound_map_attributes: r.json(at + 4)?,
        notifier_type: r.opt_text(at + 5)?,
    })
}

/// The inbound authentication and mappings of an integration. None when the integration does not
/// exist in the tenant.
pub fn inbound(
    c: &mut dyn Conn,
    tenant_id: &str,
    integration_id: &str,
) -> Result<Option<Inbound>, StoreError> {
    c.query_opt(
        &format!(
            "select {COLUMNS} from service_desk_integration i where i.tenant_id = $1 and i.id = $2"
        ),
        &[tenant_id.into(), integration_id.into()],
    )?
    .map(|r| of(&r, 0).map(|i| i.inbound))
    .transpose()
}

/// The outbound mappings of an integration; empty when it has none or does not exist in the
/// tenant.
pub fn outbound_mappings(
    c: &mut dyn Conn,
    tenant_id: &str,
    integration_id: &str,
) -> Result<Vec<MapAttribute>, StoreError> {
    match c.query_opt(
        "select outbound_map_attributes from service_desk_integration where tenant_id = $1 and id = $2",
        &[tenant_id.into(), integration_id.into()],
    )? {
        Some(r) => r.json(0),
        None => Ok(Vec::new()),
    }
}

/// Writes the installed-only parts of integration `integration_id`. False when it does not exist
/// in the tenant.
pub fn put(
    c: &mut dyn Conn,
    tenant_id: &str,
    integration_id: &str,
    installed: &Installed,
) -> Result<bool, StoreError> {
    let (hash, client): (Option<String>, Option<String>) = match &installed.inbound.auth {
        InboundAuth::None => (None, None),
        InboundAuth::Webhook { token_hash } => (Some(token_hash.clone()), None),
        InboundAuth::OAuth2 { client_id } => (None, Some(client_id.clone())),
    };
    let params: Vec<Value> = vec![
        tenant_id.into(),
        integration_id.into(),
        installed.inbound.auth.kind().into(),
        hash.into(),
        client.into(),
        serde_json::to_string(&installed.inbound.map_attributes)?.into(),
        serde_json::to_string(&installed.outbound_map_attributes)?.into(),
        installed.notifier_type.clone().into(),
    ];
    // A previous webhook token's window survives only while the current token stays the same
    // (the right-hand sides read the row as it was before the update).
    Ok(c.execute(
        "update service_desk_integration set inbound_auth_type = $3, inbound_token_hash = $4, \
         inbound_client_id = $5, inbound_map_attributes = $6, outbound_map_attributes = $7, \
         notifier_type = $8, \
         inbound_previous_token_hash = case when $3 = 'WEBHOOK' and inbound_token_hash = $4 \
           then inbound_previous_token_hash end, \
         inbound_previous_token_until = case when $3 = 'WEBHOOK' and inbound_token_hash = $4 \
           then inbound_previous_token_until end \
         where tenant_id = $1 and id = $2",
        &params,
    )? == 1)
}

/// A rotated-out webhook token that is still accepted until `until`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousToken {
    /// Lower-case hex SHA-256 of the token.
    pub token_hash: String,
    /// The end of its overlap window.
    pub until: Timestamp,
}

/// Keeps `previous` as the integration's rotated-out webhook token (after [`put`] wrote the new
/// one, which clears any earlier window).
pub fn keep_previous_token(
    c: &mut dyn Conn,
    tenant_id: &str,
    integration_id: &str,
    previous: &PreviousToken,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "update service_desk_integration set inbound_previous_token_hash = $3, \
         inbound_previous_token_until = $4 \
         where tenant_id = $1 and id = $2 and inbound_auth_type = 'WEBHOOK'",
        &[
            tenant_id.into(),
            integration_id.into(),
            previous.token_hash.clone().into(),
            previous.until.into(),
        ],
    )? == 1)
}

/// The integration's rotated-out webhook token, if it has one (whether or not its window is over).
pub fn previous_token(
    c: &mut dyn Conn,
    tenant_id: &str,
    integration_id: &str,
) -> Result<Option<PreviousToken>, StoreError> {
    let Some(r) = c.query_opt(
        "select inbound_previous_token_hash, inbound_previous_token_until \
         from service_desk_integration where tenant_id = $1 and id = $2",
        &[tenant_id.into(), integration_id.into()],
    )?
    else {
        return Ok(None);
    };
    Ok(match (r.opt_text(0)?, r.opt_ts(1)?) {
        (Some(token_hash), Some(until)) => Some(PreviousToken { token_hash, until }),
        _ => None,
    })
}

/// The lower-case hex SHA-256 of a webhook token: what is stored in its place.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Constant-time comparison of SHA-256(`presented`) with the stored hex hash.
pub fn webhook_token_matches(token_hash: &str, presented: &str) -> bool {
    let computed = self::token_hash(presented);
    computed
        .as_bytes()
        .ct_eq(token_hash.to_ascii_lowercase().as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_their_hash() {
        let h = token_hash("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(webhook_token_matches(&h, "abc"));
        assert!(webhook_token_matches(&h.to_ascii_uppercase(), "abc"));
        assert!(!webhook_token_matches(&h, "abd"));
        assert!(!webhook_token_matches("", "abc"));
    }
}
