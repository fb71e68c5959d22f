//! `ServiceDeskIntegrationDto`, `ProvisioningConfig`, `ServiceDeskIntegrationTemplateType`,
//! `ServiceDeskIntegrationTemplateDto`, `QueuedCheckConfigDetails`.
//!
//! Requests are read from JSON by hand ([`Draft::parse`]) so every fault is a 400 that names the
//! field, and so no message ever echoes a value (attributes may hold credentials). Responses are
//! written per family: beta's `ServiceDeskIntegrationDto` has no `id`, `created` or `modified`,
//! and its `cluster` and `planInitializerScript` are not nullable, so absent values are omitted
//! everywhere.

use crate::error::ApiError;
use crate::routes::Family;
use crate::wire::ts;
use gatehouse_domain::service_desk::{IntegrationType, Kind, Need, StatusCheck};
use gatehouse_store::service_desk::{Integration, Provisioning, Ref};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// `OwnerDto`, `SourceClusterDto`, `ServiceDeskSource`, `BeforeProvisioningRuleDto`.
#[derive(Debug, Serialize)]
pub struct RefDto {
    /// `IDENTITY`, `CLUSTER`, `SOURCE` or `RULE`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Id.
    pub id: String,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl RefDto {
    fn of(kind: &'static str, r: &Ref) -> Self {
        Self {
            kind,
            id: r.id.clone(),
            name: r.name.clone(),
        }
    }
}

/// `ProvisioningConfig.planInitializerScript`.
#[derive(Debug, Serialize)]
pub struct PlanInitializerScript {
    /// The rule's XML.
    pub source: String,
}

/// `ProvisioningConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningConfig {
    /// Read-only; Gatehouse has no universal manager, so always false.
    pub universal_manager: bool,
    /// The managed sources.
    pub managed_resource_refs: Vec<RefDto>,
    /// The plan initializer script.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_initializer_script: Option<PlanInitializerScript>,
    /// Do not save provisioning requests.
    pub no_provisioning_requests: bool,
    /// Hours a pending request lives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_request_expiration: Option<i32>,
}

/// `ServiceDeskIntegrationDto`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeskIntegrationDto {
    /// Id (not in beta).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Created (not in beta).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Modified (not in beta).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Description.
    pub description: String,
    /// Type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_ref: Option<RefDto>,
    /// Cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_ref: Option<RefDto>,
    /// Deprecated: the cluster id, kept in step with `clusterRef`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Deprecated: the managed source ids, kept in step with `managedResourceRefs`.
    pub managed_sources: Vec<String>,
    /// Provisioning configuration.
    pub provisioning_config: ProvisioningConfig,
    /// Attributes, credentials masked.
    pub attributes: Map<String, Value>,
    /// Before-provisioning rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_provisioning_rule: Option<Value>,
}

impl ServiceDeskIntegrationDto {
    /// `i` in the shape of `family`.
    pub fn new(i: &Integration, family: Family) -> Self {
        let dated = family != Family::Beta;
        Self {
            id: dated.then(|| i.id.clone()),
            name: i.name.clone(),
            created: dated.then(|| ts(i.created)),
            modified: dated.then(|| ts(i.modified)),
            description: i.description.clone(),
            type_name: i.type_name.clone(),
            owner_ref: i.owner.as_ref().map(|r| RefDto::of("IDENTITY", r)),
            cluster_ref: i.cluster.as_ref().map(|r| RefDto::of("CLUSTER", r)),
            cluster: i.cluster.as_ref().map(|r| r.id.clone()),
            managed_sources: i.managed_sources.iter().map(|r| r.id.clone()).collect(),
            provisioning_config: ProvisioningConfig {
                universal_manager: false,
                managed_resource_refs: i
                    .managed_sources
                    .iter()
                    .map(|r| RefDto::of("SOURCE", r))
                    .collect(),
                plan_initializer_script: i
                    .provisioning
                    .plan_initializer_script
                    .clone()
                    .map(|source| PlanInitializerScript { source }),
                no_provisioning_requests: i.provisioning.no_provisioning_requests,
                provisioning_request_expiration: i.provisioning.provisioning_request_expiration,
            },
            attributes: i.attributes.clone(),
            before_provisioning_rule: i.before_provisioning_rule.clone(),
        }
    }

    /// The document a PATCH applies to: every top-level field present (null when unset), so a
    /// `replace` can set any of them.
    pub fn patch_document(i: &Integration) -> Result<Value, ApiError> {
        let mut doc = serde_json::to_value(Self::new(i, Family::V3))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(m) = doc.as_object_mut() {
            for key in [
                "ownerRef",
                "clusterRef",
                "cluster",
                "beforeProvisioningRule",
            ] {
                m.entry(key).or_insert(Value::Null);
            }
            if let Some(p) = m
                .get_mut("provisioningConfig")
                .and_then(Value::as_object_mut)
            {
                for key in ["planInitializerScript", "provisioningRequestExpiration"] {
                    p.entry(key).or_insert(Value::Null);
                }
            }
        }
        Ok(doc)
    }
}

/// The top-level fields of `ServiceDeskIntegrationDto`.
pub const FIELDS: &[&str] = &[
    "id",
    "name",
    "created",
    "modified",
    "description",
    "type",
    "ownerRef",
    "clusterRef",
    "cluster",
    "managedSources",
    "provisioningConfig",
    "attributes",
    "beforeProvisioningRule",
];

/// A `ServiceDeskIntegrationDto` as sent, checked field by field. Its `attributes` may hold
/// credentials in clear, so its `Debug` shows only their keys.
pub struct Draft {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Type (as sent) and its template.
    pub type_name: String,
    /// The type's template.
    pub template: &'static IntegrationType,
    /// Owner identity id.
    pub owner: Option<String>,
    /// Cluster id (from `clusterRef` or the deprecated `cluster`).
    pub cluster: Option<String>,
    /// Managed source ids (from `managedResourceRefs` or the deprecated `managedSources`).
    pub sources: Vec<String>,
    /// `beforeProvisioningRule` as `{type: RULE, id, name?}`.
    pub before_provisioning_rule: Option<Value>,
    /// The rest of `provisioningConfig`.
    pub provisioning: Provisioning,
    /// Attributes as sent.
    pub attributes: Map<String, Value>,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draft")
            .field("name", &self.name)
            .field("type_name", &self.type_name)
            .field("attributes", &self.attributes.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::illegal(message)
}

/// Reads `field` as an optional string (absent or null = `None`).
fn opt_str(m: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("'{field}' must be a string."))),
    }
}

/// Reads a reference object `{type?, id, name?}` whose `type`, when sent, must be `kind`.
fn reference(v: Option<&Value>, field: &str, kind: &str) -> Result<Option<String>, ApiError> {
    let o = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(bad(format!(
                "'{field}' must be an object {{\"type\": \"{kind}\", \"id\": …}}."
            )))
        }
    };
    match o.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t == kind => {}
        Some(_) => return Err(bad(format!("'{field}.type' must be {kind}."))),
    }
    match o.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() && id.len() <= 128 => Ok(Some(id.clone())),
        _ => Err(ApiError::missing(&format!("{field}.id"))),
    }
}

/// Picks between a reference and its deprecated twin (`clusterRef`/`cluster`,
/// `managedResourceRefs`/`managedSources`). When both are sent and differ, the one that differs
/// from the current value is the change (a client edited one and echoed the other); when neither
/// is the current value, the request is ambiguous and refused with `conflict`.
fn in_step<T>(
    new: Option<T>,
    legacy: Option<T>,
    current: Option<&T>,
    same: impl Fn(&T, &T) -> bool,
    conflict: &str,
) -> Result<Option<T>, ApiError> {
    match (new, legacy) {
        (Some(a), Some(b)) if !same(&a, &b) => {
            if current.is_some_and(|c| same(c, &a)) {
                Ok(Some(b))
            } else if current.is_some_and(|c| same(c, &b)) {
                Ok(Some(a))
            } else {
                Err(bad(conflict))
            }
        }
        (a, b) => Ok(a.or(b)),
    }
}

/// The current cluster and sources of an integration being replaced, to resolve which of a
/// reference and its deprecated twin changed.
#[derive(Debug, Default)]
pub struct Current {
    /// Cluster id.
    pub cluster: Option<String>,
    /// Managed source ids.
    pub sources: Vec<String>,
}

impl Draft {
    /// Reads a `ServiceDeskIntegrationDto` body. `id`, `created` and `modified` are read-only and
    /// ignored; unknown fields are ignored.
    pub fn parse(body: &Value, current: &Current) -> Result<Self, ApiError> {
        let Some(m) = body.as_object() else {
            return Err(ApiError::bad_request(
                "The body must be a ServiceDeskIntegrationDto object.",
            ));
        };
        let name = opt_str(m, "name")?.ok_or_else(|| ApiError::missing("name"))?;
        if name.trim().is_empty() || name.len() > 255 {
            return Err(bad("'name' must be 1 to 255 characters."));
        }
        let description =
            opt_str(m, "description")?.ok_or_else(|| ApiError::missing("description"))?;
        if description.len() > 2000 {
            return Err(bad("'description' may be at most 2000 characters."));
        }
        let type_name = opt_str(m, "type")?.ok_or_else(|| ApiError::missing("type"))?;
        let template = IntegrationType::by_type(&type_name).ok_or_else(|| {
            bad(format!(
                "'type' must be a service desk type Gatehouse provisions to: {} (see /service-desk-integrations/types).",
                IntegrationType::type_names().join(", ")
            ))
        })?;
        let attributes = match m.get("attributes") {
            Some(Value::Object(a)) => a.clone(),
            None | Some(Value::Null) => return Err(ApiError::missing("attributes")),
            Some(_) => return Err(bad("'attributes' must be an object.")),
        };
        let owner = reference(m.get("ownerRef"), "ownerRef", "IDENTITY")?;
        let cluster = in_step(
            reference(m.get("clusterRef"), "clusterRef", "CLUSTER")?,
            opt_str(m, "cluster")?.filter(|c| !c.is_empty()),
            current.cluster.as_ref(),
            |a, b| a == b,
            "'clusterRef' and the deprecated 'cluster' name different clusters: send one of them.",
        )?;
        let before_provisioning_rule = reference(
            m.get("beforeProvisioningRule"),
            "beforeProvisioningRule",
            "RULE",
        )?
        .map(|id| {
            let mut rule = serde_json::json!({"type": "RULE", "id": id});
            if let Some(n) = m
                .get("beforeProvisioningRule")
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str)
            {
                rule["name"] = Value::String(n.to_owned());
            }
            rule
        });
        let (provisioning, refs) = provisioning_config(m.get("provisioningConfig"))?;
        let legacy = match m.get("managedSources") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("'managedSources' must be a list of source ids."))?,
            ),
            Some(_) => return Err(bad("'managedSources' must be a list of source ids.")),
        };
        let set = |v: &[String]| -> BTreeSet<String> { v.iter().cloned().collect() };
        let sources = in_step(
            refs,
            legacy,
            Some(&current.sources),
            |a, b| set(a) == set(b),
            "'provisioningConfig.managedResourceRefs' and the deprecated 'managedSources' list different sources: send one of them.",
        )?
        .unwrap_or_default();
        if sources.len() > 250 {
            return Err(bad("An integration may manage at most 250 sources."));
        }
        if set(&sources).len() != sources.len() {
            return Err(bad(
                "'provisioningConfig.managedResourceRefs' names a source more than once.",
            ));
        }
        Ok(Self {
            name,
            description,
            type_name,
            template,
            owner,
            cluster,
            sources,
            before_provisioning_rule,
            provisioning,
            attributes,
        })
    }
}

/// Reads `provisioningConfig`: the stored part and the managed source ids (`None` when
/// `managedResourceRefs` was not sent).
fn provisioning_config(v: Option<&Value>) -> Result<(Provisioning, Option<Vec<String>>), ApiError> {
    let p = match v {
        None | Some(Value::Null) => return Ok((Provisioning::default(), None)),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(bad("'provisioningConfig' must be an object.")),
    };
    match p.get("universalManager") {
        None | Some(Value::Null | Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            return Err(bad(
                "'provisioningConfig.universalManager' is read-only: Gatehouse has no universal manager; list the managed sources instead.",
            ))
        }
        Some(_) => return Err(bad("'provisioningConfig.universalManager' must be a boolean.")),
    }
    let refs = match p.get("managedResourceRefs") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(n, item)| {
                    let field = format!("provisioningConfig.managedResourceRefs[{n}]");
                    reference(Some(item), &field, "SOURCE")?
                        .ok_or_else(|| ApiError::missing(&format!("{field}.id")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(bad(
                "'provisioningConfig.managedResourceRefs' must be a list.",
            ))
        }
    };
    let plan_initializer_script = match p.get("planInitializerScript") {
        None | Some(Value::Null) => None,
        Some(Value::Object(s)) => match s.get("source") {
            None | Some(Value::Null) => None,
            Some(Value::String(src)) if src.len() <= 256 * 1024 => Some(src.clone()),
            Some(_) => {
                return Err(bad(
                    "'provisioningConfig.planInitializerScript.source' must be a string of at most 256 KiB.",
                ))
            }
        },
        Some(_) => return Err(bad("'provisioningConfig.planInitializerScript' must be an object.")),
    };
    let no_provisioning_requests = match p.get("noProvisioningRequests") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(bad(
                "'provisioningConfig.noProvisioningRequests' must be a boolean.",
            ))
        }
    };
    let provisioning_request_expiration = match p.get("provisioningRequestExpiration") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .filter(|h| *h >= 0)
                .and_then(|h| i32::try_from(h).ok())
                .ok_or_else(|| {
                    bad("'provisioningConfig.provisioningRequestExpiration' must be a whole number of hours from 0 to 2147483647.")
                })?,
        ),
    };
    Ok((
        Provisioning {
            plan_initializer_script,
            no_provisioning_requests,
            provisioning_request_expiration,
        },
        refs,
    ))
}

/// `ServiceDeskIntegrationTemplateType`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeskIntegrationTemplateType {
    /// Display name.
    pub name: &'static str,
    /// The `type` of integrations of this type.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// The template's key.
    pub script_name: &'static str,
}

impl From<&IntegrationType> for ServiceDeskIntegrationTemplateType {
    fn from(t: &IntegrationType) -> Self {
        Self {
            name: t.name,
            type_name: t.type_name,
            script_name: t.script_name,
        }
    }
}

/// `ServiceDeskIntegrationTemplateDto`: `attributes` maps each attribute an integration of the
/// type holds to its description (`type`, `required` or `requiredWhen`, `default`, `values`,
/// `secret`, `description`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeskIntegrationTemplateDto {
    /// Display name.
    pub name: &'static str,
    /// The `type` of integrations made from it.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// The attributes.
    pub attributes: Map<String, Value>,
    /// The default provisioning configuration.
    pub provisioning_config: ProvisioningConfig,
}

impl From<&IntegrationType> for ServiceDeskIntegrationTemplateDto {
    fn from(t: &IntegrationType) -> Self {
        let attributes = t
            .attributes
            .iter()
            .map(|a| {
                let mut d = Map::new();
                d.insert("type".into(), a.kind.name().into());
                match a.need {
                    Need::Required => {
                        d.insert("required".into(), true.into());
                    }
                    Need::Optional => {
                        d.insert("required".into(), false.into());
                    }
                    Need::When(other, values) => {
                        d.insert("required".into(), false.into());
                        d.insert("requiredWhen".into(), serde_json::json!({ other: values }));
                    }
                }
                if let Some(v) = a.default_value() {
                    d.insert("default".into(), v);
                }
                if let Kind::Choice(values) = a.kind {
                    d.insert("values".into(), values.into());
                }
                d.insert("secret".into(), (a.kind == Kind::Secret).into());
                d.insert("description".into(), a.description.into());
                (a.name.to_owned(), Value::Object(d))
            })
            .collect();
        Self {
            name: t.name,
            type_name: t.type_name,
            description: t.description,
            attributes,
            provisioning_config: ProvisioningConfig {
                universal_manager: false,
                managed_resource_refs: Vec::new(),
                plan_initializer_script: None,
                no_provisioning_requests: false,
                provisioning_request_expiration: None,
            },
        }
    }
}

/// `QueuedCheckConfigDetails`: both values are strings holding whole numbers, as the spec types
/// them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedCheckConfigDetails {
    /// Minutes between status checks.
    pub provisioning_status_check_interval_minutes: String,
    /// Days to keep checking.
    pub provisioning_max_status_check_days: String,
}

impl From<StatusCheck> for QueuedCheckConfigDetails {
    fn from(s: StatusCheck) -> Self {
        Self {
            provisioning_status_check_interval_minutes: s.interval_minutes.to_string(),
            provisioning_max_status_check_days: s.max_days.to_string(),
        }
    }
}

impl QueuedCheckConfigDetails {
    /// Reads a body: each field a string holding a whole number (a JSON number is accepted too)
    /// within its range.
    pub fn parse(body: &Value) -> Result<StatusCheck, ApiError> {
        let Some(m) = body.as_object() else {
            return Err(ApiError::bad_request(
                "The body must be a QueuedCheckConfigDetails object.",
            ));
        };
        let number = |field: &str, range: std::ops::RangeInclusive<u32>| -> Result<u32, ApiError> {
            let n = match m.get(field) {
                None | Some(Value::Null) => return Err(ApiError::missing(field)),
                Some(Value::String(s)) => s.trim().parse::<u32>().ok(),
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                Some(_) => None,
            };
            n.filter(|n| range.contains(n)).ok_or_else(|| {
                bad(format!(
                    "'{field}' must be a whole number from {} to {}, written as a string.",
                    range.start(),
                    range.end()
                ))
            })
        };
        Ok(StatusCheck {
            interval_minutes: number(
                "provisioningStatusCheckIntervalMinutes",
                StatusCheck::INTERVAL_MINUTES,
            )?,
            max_days: number("provisioningMaxStatusCheckDays", StatusCheck::MAX_DAYS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_does_not_show_its_attribute_values() {
        let body = serde_json::json!({"name": "n", "description": "d", "type": "JiraSDIM",
            "attributes": {"apiToken": "CANARY-1"}});
        let draft = Draft::parse(&body, &Current::default()).unwrap();
        let shown = format!("{draft:?}");
        assert!(
            shown.contains("apiToken") && !shown.contains("CANARY-1"),
            "{shown}"
        );
    }
}
