//! A `ServiceDeskIntegrationDto` request body, read field by field.

use super::bad;
use crate::error::ApiError;
use gatehouse_domain::service_desk::IntegrationType;
use gatehouse_store::service_desk::Provisioning;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

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
/// `managedResourceRefs`/`managedSources`). Each is `None` when not sent, `Some(None)` when sent
/// as null. When both are sent and differ, the one that differs from the current value is the
/// change (a client edited one and echoed the other, or a PATCH replaced one of them); when
/// neither is the current value, the request is ambiguous and refused with `conflict`.
fn in_step<T>(
    new: Option<Option<T>>,
    legacy: Option<Option<T>>,
    current: Option<&T>,
    same: impl Fn(&T, &T) -> bool,
    conflict: &str,
) -> Result<Option<T>, ApiError> {
    let eq = |a: Option<&T>, b: Option<&T>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    };
    match (new, legacy) {
        (Some(a), Some(b)) if !eq(a.as_ref(), b.as_ref()) => {
            if eq(b.as_ref(), current) {
                Ok(a)
            } else if eq(a.as_ref(), current) {
                Ok(b)
            } else {
                Err(bad(conflict))
            }
        }
        (a, b) => Ok(a.or(b).flatten()),
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
        let sent = |field: &str| m.contains_key(field);
        let cluster = in_step(
            sent("clusterRef")
                .then(|| reference(m.get("clusterRef"), "clusterRef", "CLUSTER"))
                .transpose()?,
            sent("cluster")
                .then(|| opt_str(m, "cluster").map(|c| c.filter(|c| !c.is_empty())))
                .transpose()?,
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
            None => None,
            Some(Value::Null) => Some(Vec::new()),
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
            refs.map(Some),
            legacy.map(Some),
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
/// `managedResourceRefs` was not sent; empty when sent as null).
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
        None => None,
        Some(Value::Null) => Some(Vec::new()),
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
