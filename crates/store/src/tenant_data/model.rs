//! The records of a tenant file, as written by people and by `gatehouse export`.
//!
//! Field names are camelCase. Objects refer to each other by name (a string) or by id
//! (`{"id": "…"}`); entitlements by `{"source", "attribute", "value"}` or `{"id"}`. Sources,
//! entitlements, access profiles, roles and clusters keep any other field (SailPoint's shape) in
//! their `document`; the other kinds refuse unknown fields, so a typo is an error.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value as Json};
use std::fmt;

/// A reference to a named object: `"name"`, `{"name": "…"}`, `{"id": "…"}` (a `type` is ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// By id.
    pub id: Option<String>,
    /// By name.
    pub name: Option<String>,
}

impl Ref {
    /// How the reference reads in a message.
    pub fn describe(&self) -> String {
        match (&self.name, &self.id) {
            (Some(n), _) => format!("'{n}'"),
            (None, Some(id)) => format!("id '{id}'"),
            (None, None) => "(empty reference)".into(),
        }
    }
}

struct RefVisitor;

impl<'de> Visitor<'de> for RefVisitor {
    type Value = Ref;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name, or an object with \"id\" or \"name\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Ref, E> {
        Ok(Ref {
            id: None,
            name: Some(v.to_owned()),
        })
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Ref, E> {
        Ok(Ref {
            id: None,
            name: Some(v),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ref, A::Error> {
        let mut r = Ref {
            id: None,
            name: None,
        };
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "id" => r.id = map.next_value()?,
                "name" => r.name = map.next_value()?,
                "type" => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                other => {
                    return Err(de::Error::unknown_field(other, &["id", "name", "type"]));
                }
            }
        }
        if r.id.is_none() && r.name.is_none() {
            return Err(de::Error::custom("a reference needs \"id\" or \"name\""));
        }
        Ok(r)
    }
}

impl<'de> Deserialize<'de> for Ref {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RefVisitor)
    }
}

/// A reference to an entitlement: `{"id"}` or `{"source", "attribute", "value"}` (inside an access
/// profile, `source` defaults to the profile's).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EntitlementRef {
    /// By id.
    pub id: Option<String>,
    /// Its source.
    pub source: Option<Ref>,
    /// Attribute (e.g. `memberOf`).
    pub attribute: Option<String>,
    /// Value (e.g. the group's DN).
    pub value: Option<String>,
    /// Ignored (exports may carry it).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Ignored: a display name is not a key.
    pub name: Option<String>,
}

/// A reference to an account: `{"id"}` or `{"source", "nativeIdentity"}` (`source` defaults to the
/// assigned entitlement's or access profile's).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccountRef {
    /// By id.
    pub id: Option<String>,
    /// Its source.
    pub source: Option<Ref>,
    /// Its native identity on the source.
    pub native_identity: Option<String>,
}

/// A person.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityRec {
    pub id: Option<String>,
    pub name: String,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub alias: Option<String>,
    pub manager: Option<Ref>,
    pub authorities: Option<Vec<String>>,
    pub lifecycle_state: Option<String>,
    pub cloud_status: Option<String>,
    pub processing_state: Option<String>,
    pub correlated: Option<bool>,
    pub is_protected: Option<bool>,
    pub attributes: Option<Map<String, Json>>,
    pub created: Option<String>,
    pub modified: Option<String>,
}

/// A virtual-appliance cluster.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRec {
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
    pub operational: Option<bool>,
    pub status: Option<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
    #[serde(flatten)]
    pub document: Map<String, Json>,
}

/// A governance group (workgroup) and its members.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GroupRec {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<Ref>,
    pub members: Option<Vec<Ref>>,
    pub created: Option<String>,
    pub modified: Option<String>,
}

/// A source (a connected or service-desk-managed system).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRec {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub owner: Option<Ref>,
    pub cluster: Option<Ref>,
    pub management_workgroup: Option<Ref>,
    pub connector: Option<String>,
    pub connection_type: Option<String>,
    pub authoritative: Option<bool>,
    pub healthy: Option<bool>,
    pub status: Option<String>,
    pub features: Option<Vec<String>>,
    pub created: Option<String>,
    pub modified: Option<String>,
    #[serde(flatten)]
    pub document: Map<String, Json>,
}

/// An entitlement of a source.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementRec {
    pub id: Option<String>,
    pub source: Ref,
    pub attribute: String,
    pub value: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
    pub owner: Option<Ref>,
    pub requestable: Option<bool>,
    pub privileged: Option<bool>,
    pub created: Option<String>,
    pub modified: Option<String>,
    #[serde(flatten)]
    pub document: Map<String, Json>,
}

/// An access profile: entitlements of one source.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessProfileRec {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub source: Ref,
    pub owner: Ref,
    pub enabled: Option<bool>,
    pub requestable: Option<bool>,
    pub access_request_config: Option<Json>,
    pub revocation_request_config: Option<Json>,
    pub entitlements: Option<Vec<EntitlementRef>>,
    pub created: Option<String>,
    pub modified: Option<String>,
    #[serde(flatten)]
    pub document: Map<String, Json>,
}

/// A role: access profiles and entitlements.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRec {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub owner: Ref,
    pub enabled: Option<bool>,
    pub requestable: Option<bool>,
    pub dimensional: Option<bool>,
    pub access_request_config: Option<Json>,
    pub revocation_request_config: Option<Json>,
    pub access_profiles: Option<Vec<Ref>>,
    pub entitlements: Option<Vec<EntitlementRef>>,
    pub created: Option<String>,
    pub modified: Option<String>,
    #[serde(flatten)]
    pub document: Map<String, Json>,
}

/// An account on a source, of an identity or uncorrelated.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccountRec {
    pub id: Option<String>,
    pub source: Ref,
    pub native_identity: String,
    pub name: Option<String>,
    pub identity: Option<Ref>,
    pub uuid: Option<String>,
    pub disabled: Option<bool>,
    pub locked: Option<bool>,
    pub manually_correlated: Option<bool>,
    pub origin: Option<String>,
    pub attributes: Option<Map<String, Json>>,
    pub created: Option<String>,
    pub modified: Option<String>,
}

/// Access an identity holds: exactly one of `role`, `accessProfile`, `entitlement`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AssignmentRec {
    pub id: Option<String>,
    pub identity: Ref,
    pub role: Option<Ref>,
    pub access_profile: Option<Ref>,
    pub entitlement: Option<EntitlementRef>,
    pub reason: Option<String>,
    pub account: Option<AccountRef>,
    pub access_request_id: Option<String>,
    pub start_date: Option<String>,
    pub remove_date: Option<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
}
