//! `ServiceDeskIntegrationDto`, `ProvisioningConfig`, `ServiceDeskIntegrationTemplateType`,
//! `ServiceDeskIntegrationTemplateDto`, `QueuedCheckConfigDetails`.
//!
//! Requests are read from JSON by hand ([`Draft::parse`], [`replace_operations`]) so every fault
//! is a 400 that names the field, and so no message ever echoes a value (attributes may hold
//! credentials). Responses are written per family: beta's `ServiceDeskIntegrationDto` has no `id`, `created` or `modified`,
//! and its `cluster` and `planInitializerScript` are not nullable, so absent values are omitted
//! everywhere.

mod draft;
mod patch;

pub use draft::{Current, Draft, FIELDS};
pub use patch::{apply_replacements, replace_operations};

use crate::error::ApiError;
use crate::routes::Family;
use crate::wire::ts;
use gatehouse_domain::service_desk::{IntegrationType, Kind, Need, StatusCheck};
use gatehouse_store::service_desk::{Integration, Ref};
use serde::Serialize;
use serde_json::{Map, Value};

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

/// A 400 "400.1.3 Illegal value".
fn bad(message: impl Into<String>) -> ApiError {
    ApiError::illegal(message)
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
