//! Service desk integrations: the types Gatehouse provisions to, their templates, and the rules an
//! integration's `attributes` must follow.
//!
//! [`prepare_attributes`] checks an integration's attributes against its type's template (filling
//! in defaults), finds the credentials among them, and replaces each by [`MASK`]. Credentials are
//! the template's [`Kind::Secret`] attributes plus any string whose key looks like one
//! ([`looks_like_credential`]) in headers, request mappings and attributes the template does not
//! know. The masked document is what is stored and returned; each credential goes to the caller
//! separately, by JSON Pointer, to be sealed ([`crate::sealed`]).
//!
//! A credential sent back as [`MASK`] keeps the stored one, unless an attribute that says where
//! credentials go (a URL, a user name, or the type) changes at the same time: then the caller must
//! send the credential again, so a stored secret can never be redirected to a new endpoint.

mod catalogue;
mod checks;
pub mod mapping;

use crate::sealed::Secret;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What responses show in place of a credential, and what a client sends back to keep one.
pub const MASK: &str = "********";

/// The purpose label of the key that seals integration credentials.
pub const SEAL_PURPOSE: &str = "service-desk-integration-credentials";

/// SailPoint's ticket statuses that a desk's statuses map to.
pub const SAILPOINT_STATUSES: &[&str] = &["Queued", "Committed", "Failed"];

/// A service desk type and its template.
#[derive(Debug)]
pub struct IntegrationType {
    /// Display name (`ServiceDeskIntegrationTemplateType.name`).
    pub name: &'static str,
    /// The value of an integration's `type`.
    pub type_name: &'static str,
    /// Other `type` values that mean this type.
    pub aliases: &'static [&'static str],
    /// The template's key (`scriptName`).
    pub script_name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// What an integration of this type holds in `attributes`.
    pub attributes: &'static [Attribute],
}

/// One attribute of a template.
#[derive(Debug)]
pub struct Attribute {
    /// Its key in `attributes`.
    pub name: &'static str,
    /// What values it takes.
    pub kind: Kind,
    /// Whether it must be present.
    pub need: Need,
    /// Its default, as JSON text, filled in when the attribute is absent or null.
    pub default: Option<&'static str>,
    /// What it is for.
    pub description: &'static str,
}

/// The values an attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An absolute `http`/`https` URL without user info or fragment. Changing it needs the
    /// credentials again.
    Url,
    /// A non-empty string.
    Text,
    /// A user name or client id: a non-empty string; changing it needs the credentials again.
    Account,
    /// A credential: a non-empty string, sealed at rest and never returned.
    Secret,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// An object mapping the desk's statuses to `Queued`, `Committed` or `Failed`.
    StatusMap,
    /// An object of header names to string values.
    Headers,
    /// An object `{method, path, headers?, body?}` describing a request relative to `url`.
    Request,
    /// A JSON Pointer (`""` or starting with `/`).
    Pointer,
}

impl Kind {
    /// The name templates give the kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::Url => "url",
            Self::Text => "string",
            Self::Account => "account",
            Self::Secret => "secret",
            Self::Choice(_) => "choice",
            Self::StatusMap => "statusMap",
            Self::Headers => "headers",
            Self::Request => "request",
            Self::Pointer => "jsonPointer",
        }
    }

    /// True when a change of this attribute must come with the credentials.
    pub fn guards_credentials(self) -> bool {
        matches!(self, Self::Url | Self::Account)
    }
}

/// When an attribute must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Always.
    Required,
    /// Never.
    Optional,
    /// When the attribute named first has one of these values.
    When(&'static str, &'static [&'static str]),
}

impl IntegrationType {
    /// Every type Gatehouse provisions to.
    pub fn all() -> &'static [IntegrationType] {
        catalogue::TYPES
    }

    /// The type whose `type` value (or an alias) is `type_name`.
    pub fn by_type(type_name: &str) -> Option<&'static IntegrationType> {
        Self::all()
            .iter()
            .find(|t| t.type_name == type_name || t.aliases.contains(&type_name))
    }

    /// The type whose template is named `script_name`.
    pub fn by_script_name(script_name: &str) -> Option<&'static IntegrationType> {
        Self::all().iter().find(|t| t.script_name == script_name)
    }

    /// Every accepted `type` value, for messages.
    pub fn type_names() -> Vec<&'static str> {
        Self::all()
            .iter()
            .flat_map(|t| std::iter::once(t.type_name).chain(t.aliases.iter().copied()))
            .collect()
    }

    fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Attribute {
    /// The default as JSON.
    pub fn default_value(&self) -> Option<Value> {
        self.default
            .map(|d| serde_json::from_str(d).expect("template defaults are valid JSON"))
    }
}

/// True for a key that names a credential: password, secret, token, API key, authorization…
/// Keys that name where or how a credential is used (`tokenUrl`, `apiKeyHeader`, `tokenType`)
/// are not credentials.
pub fn looks_like_credential(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const USES: &[&str] = &[
        "url",
        "uri",
        "endpoint",
        "type",
        "header",
        "path",
        "pointer",
        "field",
        "name",
        "expiry",
        "expiration",
        "length",
    ];
    const CREDENTIALS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "authorization",
        "privatekey",
        "cookie",
    ];
    !USES.iter().any(|u| k.ends_with(u)) && CREDENTIALS.iter().any(|c| k.contains(c))
}

/// Where a credential is kept: a JSON Pointer (RFC 6901) into `attributes`.
fn pointer(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Readable form of a pointer for messages: `attributes.headers.Authorization`.
fn dotted(pointer: &str) -> String {
    let mut out = String::from("attributes");
    for seg in pointer.split('/').skip(1) {
        out.push('.');
        out.push_str(&seg.replace("~1", "/").replace("~0", "~"));
    }
    out
}

/// Why attributes were refused. The message names attributes, never their values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AttributeError(pub String);

fn fail<T>(message: String) -> Result<T, AttributeError> {
    Err(AttributeError(message))
}

/// An integration's attributes as stored: the masked document and the sealed credentials by
/// pointer.
#[derive(Debug, Clone, Copy)]
pub struct StoredAttributes<'a> {
    /// The integration's type before this change.
    pub type_name: &'a str,
    /// The stored (masked) attributes.
    pub attributes: &'a Map<String, Value>,
    /// Sealed credentials by pointer.
    pub sealed: &'a BTreeMap<String, String>,
}

/// Attributes ready to store.
#[derive(Debug)]
pub struct PreparedAttributes {
    /// The document with defaults filled in and every credential replaced by [`MASK`].
    pub attributes: Map<String, Value>,
    /// Credentials sent as [`MASK`]: the stored sealed value at each pointer is kept.
    pub kept: Vec<String>,
    /// New credentials to seal, by pointer.
    pub fresh: Vec<(String, Secret)>,
}

/// Checks every URL attribute of `attributes` (already prepared) against the operator's network
/// policy: no metadata, link-local or other forbidden address, and loopback or private ranges only
/// when allowed. The message names the attribute, never its value.
pub fn check_urls(
    ty: &IntegrationType,
    attributes: &Map<String, Value>,
    policy: &crate::net_guard::NetPolicy,
) -> Result<(), AttributeError> {
    for a in ty.attributes.iter().filter(|a| matches!(a.kind, Kind::Url)) {
        if let Some(text) = attributes.get(a.name).and_then(Value::as_str) {
            if let Err(e) = crate::net_guard::check_url(text, policy) {
                return fail(format!(
                    "attributes.{} is not a URL Gatehouse may call: {e}",
                    a.name
                ));
            }
        }
    }
    Ok(())
}

/// Checks `incoming` against `ty`'s template, fills in defaults, and separates the credentials.
/// `stored` is the integration as it is now (absent on create). See the module doc.
pub fn prepare_attributes(
    ty: &IntegrationType,
    incoming: Map<String, Value>,
    stored: Option<StoredAttributes<'_>>,
) -> Result<PreparedAttributes, AttributeError> {
    if incoming.len() > 100 {
        return fail("'attributes' may hold at most 100 attributes.".into());
    }
    let mut doc: Map<String, Value> = incoming.into_iter().filter(|(_, v)| !v.is_null()).collect();
    for a in ty.attributes {
        if !doc.contains_key(a.name) {
            if let Some(d) = a.default_value() {
                doc.insert(a.name.to_owned(), d);
            }
        }
    }
    let mut found: Vec<(String, String)> = Vec::new();
    for (key, value) in doc.iter_mut() {
        let at = pointer("", key);
        match ty.attribute(key).map(|a| a.kind) {
            Some(Kind::Secret) => take(value, &at, &mut found)?,
            Some(Kind::Headers | Kind::Request) => walk(value, &at, false, &mut found)?,
            Some(_) => {}
            None => walk(value, &at, looks_like_credential(key), &mut found)?,
        }
    }
    checks::check_template(ty, &doc)?;

    let mut kept = Vec::new();
    let mut fresh = Vec::new();
    for (at, value) in found {
        if value == MASK {
            if stored.is_some_and(|s| s.sealed.contains_key(&at)) {
                kept.push(at);
            } else {
                return fail(format!(
                    "{} is the mask {MASK}, which keeps a stored credential, but none is stored there: send the credential itself.",
                    dotted(&at)
                ));
            }
        } else {
            fresh.push((at, Secret::new(value)));
        }
    }
    if let (Some(s), false) = (stored, kept.is_empty()) {
        let mut changed: Vec<String> = ty
            .attributes
            .iter()
            .filter(|a| a.kind.guards_credentials())
            .filter(|a| doc.get(a.name) != s.attributes.get(a.name))
            .map(|a| format!("attributes.{}", a.name))
            .collect();
        if IntegrationType::by_type(s.type_name).map(|t| t.type_name) != Some(ty.type_name) {
            changed.insert(0, "type".into());
        }
        if !changed.is_empty() {
            let masked: Vec<String> = kept.iter().map(|p| dotted(p)).collect();
            return fail(format!(
                "{} changed, so the stored credentials cannot be kept: send {} again instead of {MASK}.",
                changed.join(", "),
                masked.join(", ")
            ));
        }
    }
    Ok(PreparedAttributes {
        attributes: doc,
        kept,
        fresh,
    })
}

/// Takes the credential at `at` (a template secret): it must be a non-empty string.
fn take(
    value: &mut Value,
    at: &str,
    found: &mut Vec<(String, String)>,
) -> Result<(), AttributeError> {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= 4096 => {
            found.push((at.to_owned(), std::mem::replace(s, MASK.to_owned())));
            Ok(())
        }
        _ => fail(format!(
            "{} must be a non-empty string of at most 4096 characters.",
            dotted(at)
        )),
    }
}

/// Takes every string under a key that looks like a credential, at any depth.
fn walk(
    value: &mut Value,
    at: &str,
    credential: bool,
    found: &mut Vec<(String, String)>,
) -> Result<(), AttributeError> {
    match value {
        Value::String(_) if credential => take(value, at, found),
        Value::Number(_) if credential => fail(format!(
            "{} looks like a credential: send it as a string, so that it is stored encrypted.",
            dotted(at)
        )),
        Value::Object(m) => m
            .iter_mut()
            .try_for_each(|(k, v)| walk(v, &pointer(at, k), looks_like_credential(k), found)),
        Value::Array(items) => items
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, v)| walk(v, &pointer(at, &i.to_string()), credential, found)),
        _ => Ok(()),
    }
}

/// How often and for how long queued tickets are polled for their status
/// (`QueuedCheckConfigDetails`), per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCheck {
    /// Minutes between two status checks of a queued ticket.
    pub interval_minutes: u32,
    /// Days after which a ticket still queued is no longer checked.
    pub max_days: u32,
}

impl StatusCheck {
    /// The accepted `provisioningStatusCheckIntervalMinutes`: a minute to a day.
    pub const INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;
    /// The accepted `provisioningMaxStatusCheckDays`: a day to 90 days (how long task data is kept).
    pub const MAX_DAYS: std::ops::RangeInclusive<u32> = 1..=90;
}

impl Default for StatusCheck {
    /// SailPoint's documented values: every 30 minutes, for 2 days.
    fn default() -> Self {
        Self {
            interval_minutes: 30,
            max_days: 2,
        }
    }
}

/// The associated data a credential is sealed with: it binds the ciphertext to its tenant,
/// integration and attribute.
pub fn seal_context(tenant_id: &str, integration_id: &str, pointer: &str) -> Vec<u8> {
    format!("service-desk-integration\0{tenant_id}\0{integration_id}\0{pointer}").into_bytes()
}

#[cfg(test)]
mod tests;
