//! References to other objects (`OwnerReference`, `EntitlementRef`, `AccessProfileSourceRef`,
//! `BaseReferenceDto`…): `{type, id, name}`.

use serde::{Deserialize, Serialize};

/// A reference as answered: `{type, id, name}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// `IDENTITY`, `SOURCE`, `ENTITLEMENT`…
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

impl Reference {
    /// A reference to `kind` object `id` named `name`.
    pub fn new(kind: &'static str, id: &str, name: &str) -> Self {
        Self {
            kind,
            id: id.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// A reference as sent: only `id` counts (`type` is checked when given, `name` is ignored).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReferenceInput {
    /// Type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Name (ignored).
    #[serde(default)]
    pub name: Option<serde_json::Value>,
}
