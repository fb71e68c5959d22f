//! Attribute mappings between Gatehouse's tickets and a desk's (`mapAttributes` of an installed
//! integration), in both directions.
//!
//! A mapping names a Gatehouse attribute (`name`, e.g. `Status`) of an entity type
//! (`SERVICEREQUEST` is the provisioning ticket of a requested item), the desk's field that holds
//! it (`thirdPartyAttrName`, a dotted path such as `fields.priority.name` or a JSON Pointer) and,
//! optionally, how values translate (`attrValues`). Outbound mappings shape the ticket Gatehouse
//! opens; inbound mappings read the desk's webhook payloads and status answers.
//!
//! OpsRamp's documents spell the desk side both `thirdParty*` and `tenant*`; both are accepted
//! and `thirdParty*` is what Gatehouse writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The entity types a mapping may name. Gatehouse raises `SERVICEREQUEST` (the provisioning
/// ticket of a requested item); mappings of the others are kept and returned but used by nothing.
pub const ENTITY_TYPES: &[&str] = &[
    "ALERT",
    "PROBLEM",
    "INCIDENT",
    "CHANGE",
    "SERVICEREQUEST",
    "TASK",
];

/// The entity type of a provisioning ticket.
pub const SERVICE_REQUEST: &str = "SERVICEREQUEST";

/// The attributes of a provisioning ticket that outbound mappings may send, and `Status`, which
/// inbound mappings read.
pub const TICKET_ATTRIBUTES: &[&str] = &[
    "Summary",
    "Description",
    "Status",
    "Priority",
    "Requester",
    "RequestedFor",
    "Item",
    "ItemType",
    "Operation",
    "Source",
    "CorrelationId",
    "Comments",
];

/// One translated value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttrValue {
    /// Gatehouse's value.
    pub attr_value: String,
    /// The desk's value.
    #[serde(alias = "tenantAttrValue")]
    pub third_party_attr_value: String,
}

/// One attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapAttribute {
    /// Gatehouse's attribute (one of [`TICKET_ATTRIBUTES`] for a `SERVICEREQUEST`).
    pub name: String,
    /// Gatehouse's qualified attribute name, e.g. `serviceRequest.status`; derived when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attr_name: Option<String>,
    /// The desk's field: a dotted path or a JSON Pointer.
    #[serde(alias = "tenantAttrName")]
    pub third_party_attr_name: String,
    /// Gatehouse's entity type (one of [`ENTITY_TYPES`]).
    pub entity_type: String,
    /// The desk's entity type, e.g. `REQUEST` (informational).
    #[serde(
        default,
        alias = "tenantEntityType",
        skip_serializing_if = "Option::is_none"
    )]
    pub third_party_entity_type: Option<String>,
    /// Value translations; a value without one passes unchanged.
    #[serde(default)]
    pub attr_values: Vec<AttrValue>,
}

/// Why mappings were refused. The message names the mapping and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MappingError(pub String);

impl MapAttribute {
    /// Checks one mapping (at `at`, e.g. `inboundConfig.mapAttributes[2]`) and normalises its
    /// entity type to upper case and its `attrName`.
    pub fn normalise(&mut self, at: &str) -> Result<(), MappingError> {
        let fail = |m: String| Err(MappingError(format!("{at}: {m}")));
        let upper = self.entity_type.trim().to_ascii_uppercase();
        if !ENTITY_TYPES.contains(&upper.as_str()) {
            return fail(format!(
                "entityType must be one of {}.",
                ENTITY_TYPES.join(", ")
            ));
        }
        self.entity_type = upper;
        if self.name.trim().is_empty() || self.name.len() > 128 {
            return fail("name must be 1 to 128 characters.".into());
        }
        if self.entity_type == SERVICE_REQUEST {
            match TICKET_ATTRIBUTES
                .iter()
                .find(|a| a.eq_ignore_ascii_case(self.name.trim()))
            {
                Some(a) => self.name = (*a).to_owned(),
                None => {
                    return fail(format!(
                        "a SERVICEREQUEST attribute is one of {}.",
                        TICKET_ATTRIBUTES.join(", ")
                    ))
                }
            }
        }
        let field = self.third_party_attr_name.trim();
        if field.is_empty() || field.len() > 256 || field.split('.').any(str::is_empty) {
            return fail(
                "thirdPartyAttrName must be a field name, a dotted path or a JSON Pointer of at most 256 characters."
                    .into(),
            );
        }
        if self.attr_values.len() > 200 {
            return fail("attrValues may hold at most 200 values.".into());
        }
        if self
            .attr_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty())
        {
            let entity = match self.entity_type.as_str() {
                SERVICE_REQUEST => "serviceRequest".to_owned(),
                other => other.to_ascii_lowercase(),
            };
            let mut name = self.name.clone();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_lowercase();
            }
            self.attr_name = Some(format!("{entity}.{name}"));
        }
        Ok(())
    }

    fn applies_to(&self, entity: &str, name: &str) -> bool {
        self.entity_type == entity && self.name.eq_ignore_ascii_case(name)
    }

    /// Gatehouse's value → the desk's.
    pub fn to_desk<'a>(&'a self, value: &'a str) -> &'a str {
        self.attr_values
            .iter()
            .find(|v| v.attr_value.eq_ignore_ascii_case(value))
            .map_or(value, |v| v.third_party_attr_value.as_str())
    }

    /// The desk's value → Gatehouse's.
    pub fn from_desk<'a>(&'a self, value: &'a str) -> &'a str {
        self.attr_values
            .iter()
            .find(|v| v.third_party_attr_value.eq_ignore_ascii_case(value))
            .map_or(value, |v| v.attr_value.as_str())
    }
}

/// Checks and normalises a list of mappings (`at` names the list in messages).
pub fn normalise_all(list: &mut [MapAttribute], at: &str) -> Result<(), MappingError> {
    if list.len() > 100 {
        return Err(MappingError(format!("{at} may hold at most 100 mappings.")));
    }
    list.iter_mut()
        .enumerate()
        .try_for_each(|(i, m)| m.normalise(&format!("{at}[{i}]")))
}

/// Reads the value at `field` (dotted path or JSON Pointer) of `doc`, as text.
pub fn read_field(doc: &Value, field: &str) -> Option<String> {
    let v = if field.starts_with('/') {
        doc.pointer(field)?
    } else {
        field.split('.').try_fold(doc, |v, seg| v.get(seg))?
    };
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Writes `value` at `field` (dotted path or JSON Pointer) of `doc`, creating objects on the way.
/// A path through a non-object value is left alone.
pub fn write_field(doc: &mut Map<String, Value>, field: &str, value: Value) {
    let segs: Vec<String> = if let Some(p) = field.strip_prefix('/') {
        p.split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    } else {
        field.split('.').map(str::to_owned).collect()
    };
    let Some((last, path)) = segs.split_last() else {
        return;
    };
    let mut at = doc;
    for seg in path {
        let next = at
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        match next {
            Value::Object(m) => at = m,
            _ => return,
        }
    }
    at.insert(last.clone(), value);
}

/// The desk fields of a provisioning ticket from the outbound mappings: for each `SERVICEREQUEST`
/// mapping whose attribute `values` holds, the translated value at its desk field.
pub fn outbound_fields(maps: &[MapAttribute], values: &[(&str, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for m in maps.iter().filter(|m| m.entity_type == SERVICE_REQUEST) {
        if let Some((_, v)) = values.iter().find(|(k, _)| m.name.eq_ignore_ascii_case(k)) {
            write_field(
                &mut out,
                &m.third_party_attr_name,
                Value::String(m.to_desk(v).to_owned()),
            );
        }
    }
    out
}

/// The ticket status an inbound payload carries through the `SERVICEREQUEST` `Status` mapping,
/// translated to Gatehouse's value; `None` when no such mapping reads a value from it.
pub fn inbound_status(maps: &[MapAttribute], payload: &Value) -> Option<String> {
    maps.iter()
        .filter(|m| m.applies_to(SERVICE_REQUEST, "Status"))
        .find_map(|m| {
            read_field(payload, &m.third_party_attr_name).map(|v| m.from_desk(&v).to_owned())
        })
}

/// Gatehouse's ticket status (`Queued`, `Committed`, `Failed`) for a mapped `Status` value, which
/// may be one of those or a service-request status word: Open, New, In Progress, On Hold and
/// Pending are Queued; Resolved, Closed, Completed and Done are Committed; Cancelled, Canceled,
/// Rejected and Failed are Failed.
pub fn ticket_status(value: &str) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    match v.as_str() {
        "queued" | "open" | "new" | "in progress" | "on hold" | "pending" => Some("Queued"),
        "committed" | "resolved" | "closed" | "completed" | "done" => Some("Committed"),
        "failed" | "cancelled" | "canceled" | "rejected" => Some("Failed"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Vec<MapAttribute> {
        serde_json::from_value(json!([
            {"name": "status", "tenantAttrName": "ticket.state", "entityType": "serviceRequest",
             "thirdPartyEntityType": "REQUEST",
             "attrValues": [{"attrValue": "Open", "tenantAttrValue": "In Progress"},
                            {"attrValue": "Closed", "thirdPartyAttrValue": "Completed"}]},
            {"name": "Priority", "thirdPartyAttrName": "/fields/priority/name",
             "entityType": "SERVICEREQUEST",
             "attrValues": [{"attrValue": "High", "thirdPartyAttrValue": "Maximum"}]},
            {"name": "Priority", "thirdPartyAttrName": "severity", "entityType": "INCIDENT"}
        ]))
        .unwrap()
    }

    #[test]
    fn both_spellings_read_and_normalised_on_write() {
        let mut m = sample();
        normalise_all(&mut m, "mapAttributes").unwrap();
        assert_eq!(m[0].name, "Status");
        assert_eq!(m[0].entity_type, "SERVICEREQUEST");
        assert_eq!(m[0].attr_name.as_deref(), Some("serviceRequest.status"));
        assert_eq!(m[2].attr_name.as_deref(), Some("incident.priority"));
        let out = serde_json::to_value(&m[0]).unwrap();
        assert_eq!(out["thirdPartyAttrName"], "ticket.state");
        assert_eq!(out["attrValues"][0]["thirdPartyAttrValue"], "In Progress");
        assert!(out.get("tenantAttrName").is_none());
    }

    #[test]
    fn refuses_unknown_entity_and_attribute() {
        let mut m = sample();
        m[1].entity_type = "TICKETS".into();
        let e = normalise_all(&mut m, "x").unwrap_err();
        assert!(e.0.starts_with("x[1]: entityType"), "{e}");
        let mut m = sample();
        m[0].name = "Colour".into();
        assert!(normalise_all(&mut m, "x")
            .unwrap_err()
            .0
            .contains("SERVICEREQUEST"));
        let mut m = sample();
        m[0].third_party_attr_name = "a..b".into();
        assert!(normalise_all(&mut m, "x").is_err());
    }

    #[test]
    fn outbound_writes_translated_values_at_paths() {
        let mut m = sample();
        normalise_all(&mut m, "m").unwrap();
        let f = outbound_fields(
            &m,
            &[("Priority", "High".into()), ("Status", "Open".into())],
        );
        assert_eq!(
            Value::Object(f),
            json!({"fields": {"priority": {"name": "Maximum"}}, "ticket": {"state": "In Progress"}})
        );
    }

    #[test]
    fn inbound_reads_and_translates_status() {
        let mut m = sample();
        normalise_all(&mut m, "m").unwrap();
        let got = inbound_status(&m, &json!({"ticket": {"state": "completed"}})).unwrap();
        assert_eq!(got, "Closed");
        assert_eq!(ticket_status(&got), Some("Committed"));
        assert_eq!(inbound_status(&m, &json!({"other": 1})), None);
        assert_eq!(ticket_status("In_Progress"), Some("Queued"));
        assert_eq!(ticket_status("Cancelled"), Some("Failed"));
        assert_eq!(ticket_status("whatever"), None);
    }

    #[test]
    fn fields_by_pointer_and_numbers() {
        let doc = json!({"a": {"b/c": 3}, "s": true});
        assert_eq!(read_field(&doc, "/a/b~1c").as_deref(), Some("3"));
        assert_eq!(read_field(&doc, "s").as_deref(), Some("true"));
        assert_eq!(read_field(&doc, "a"), None);
        let mut m = Map::new();
        write_field(&mut m, "x", json!(1));
        write_field(&mut m, "x.y", json!(2));
        assert_eq!(Value::Object(m), json!({"x": 1}));
    }
}
