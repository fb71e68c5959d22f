//! `AccessRequestConfig` (v3 and beta with a flat `EntitlementRequestConfig`, v2024 and
//! `/access-request-config/v1` with a nested one) and `AccessRequestConfigV2`
//! (`/access-request-config/v2`): the tenant's one canonical
//! [`gatehouse_domain::access_config::AccessRequestConfig`] in each family's shape.
//!
//! Bodies are read by hand, so every fault is a 400 that names the field and the rule. A PUT
//! replaces every setting its shape can express, an absent field taking SailPoint's default; the
//! settings a shape has no place for are kept ([`Shape::replace`]), so a v3 client does not wipe the
//! revocation schemes it cannot see, nor a V2 client the reminders.

use crate::error::ApiError;
use crate::routes::Family;
use gatehouse_domain::access_config::{
    self as domain, AccessDuration, EntitlementApprover, FallbackApprover, ReminderConfig,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// Reminders sent at most (v2024 and v1: "The maximum allowed value is 20").
pub const MAX_REMINDERS: i32 = 20;

/// `EntitlementApprovalScheme.approverType`.
pub const APPROVER_TYPES: &[&str] = &[
    "ENTITLEMENT_OWNER",
    "SOURCE_OWNER",
    "MANAGER",
    "GOVERNANCE_GROUP",
    "WORKFLOW",
];

/// `maxPermittedAccessDuration.timeUnit`.
pub const TIME_UNITS: &[&str] = &["HOURS", "DAYS", "WEEKS", "MONTHS"];

/// Which of SailPoint's shapes of the configuration a call uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// v3 and beta `AccessRequestConfig`: flat `entitlementRequestConfig`, `maxReminders` ≥ 1.
    Flat,
    /// v2024 `AccessRequestConfig`: nested `entitlementRequestConfig`, `maxReminders` 0 to 20.
    Nested,
    /// `/access-request-config/v1` `AccessRequestConfig`: v2024's, plus the machine-identity flags
    /// of `requestOnBehalfOfConfig` and `formDefinitionId`.
    NestedV1,
    /// `/access-request-config/v2` `AccessRequestConfigV2`: no auto-approval and no reminders;
    /// governance-group visibility and machine-identity requests.
    V2,
}

impl Shape {
    /// The `AccessRequestConfig` shape of a path family.
    pub fn of(family: Family) -> Self {
        match family {
            Family::V2024 => Self::Nested,
            Family::V1 => Self::NestedV1,
            Family::V3 | Family::Beta | Family::Gatehouse | Family::OpsRamp => Self::Flat,
        }
    }

    fn has_machine_flags(self) -> bool {
        matches!(self, Self::NestedV1 | Self::V2)
    }

    /// Copies into `target` every setting this shape expresses, from `from` (a parsed body);
    /// the settings the shape has no place for keep their values in `target`.
    pub fn replace(
        self,
        target: &mut domain::AccessRequestConfig,
        from: domain::AccessRequestConfig,
    ) {
        // Destructured in full, so a new setting cannot be forgotten here.
        let domain::AccessRequestConfig {
            approvals_must_be_external,
            auto_approval_enabled,
            reauthorization_enabled,
            request_on_behalf_of_anyone_by_anyone,
            request_on_behalf_of_employee_by_manager,
            allow_request_on_behalf_of_for_machine_identity,
            allow_request_for_machine_by_owner,
            gov_group_visibility_enabled,
            machine_identity_access_request_enabled,
            reminders,
            entitlement,
        } = from;
        let domain::EntitlementRequestConfig {
            allow_entitlement_request,
            request_comments_required,
            denied_comments_required,
            grant_approval_schemes,
            revoke_approval_schemes,
            reauthorization_required,
            require_end_date,
            max_permitted_access_duration,
            form_definition_id,
        } = entitlement;
        target.approvals_must_be_external = approvals_must_be_external;
        target.reauthorization_enabled = reauthorization_enabled;
        target.request_on_behalf_of_anyone_by_anyone = request_on_behalf_of_anyone_by_anyone;
        target.request_on_behalf_of_employee_by_manager = request_on_behalf_of_employee_by_manager;
        let e = &mut target.entitlement;
        e.request_comments_required = request_comments_required;
        e.denied_comments_required = denied_comments_required;
        e.grant_approval_schemes = grant_approval_schemes;
        if self != Self::V2 {
            target.auto_approval_enabled = auto_approval_enabled;
            target.reminders = reminders;
        }
        if self == Self::Flat {
            e.allow_entitlement_request = allow_entitlement_request;
        } else {
            e.revoke_approval_schemes = revoke_approval_schemes;
            e.reauthorization_required = reauthorization_required;
            e.require_end_date = require_end_date;
            e.max_permitted_access_duration = max_permitted_access_duration;
        }
        if self.has_machine_flags() {
            e.form_definition_id = form_definition_id;
            target.allow_request_on_behalf_of_for_machine_identity =
                allow_request_on_behalf_of_for_machine_identity;
            target.allow_request_for_machine_by_owner = allow_request_for_machine_by_owner;
        }
        if self == Self::V2 {
            target.gov_group_visibility_enabled = gov_group_visibility_enabled;
            target.machine_identity_access_request_enabled =
                machine_identity_access_request_enabled;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// `RequestOnBehalfOfConfig` (the machine-identity flags only in v1) and `RequestOnBehalfOfConfigV2`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOnBehalfOfConfig {
    /// Anyone may request for anyone.
    pub allow_request_on_behalf_of_anyone_by_anyone: bool,
    /// A manager may request for their direct reports.
    pub allow_request_on_behalf_of_employee_by_manager: bool,
    /// Anyone may request for machine identities (v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_request_on_behalf_of_for_machine_identity: Option<bool>,
    /// Owners may request for their machine identities (v1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_request_for_machine_by_owner: Option<bool>,
}

impl RequestOnBehalfOfConfig {
    fn new(c: &domain::AccessRequestConfig, shape: Shape) -> Self {
        let machine = shape.has_machine_flags();
        Self {
            allow_request_on_behalf_of_anyone_by_anyone: c.request_on_behalf_of_anyone_by_anyone,
            allow_request_on_behalf_of_employee_by_manager: c
                .request_on_behalf_of_employee_by_manager,
            allow_request_on_behalf_of_for_machine_identity: machine
                .then_some(c.allow_request_on_behalf_of_for_machine_identity),
            allow_request_for_machine_by_owner: machine
                .then_some(c.allow_request_for_machine_by_owner),
        }
    }
}

/// `IdentityReferenceWithNameAndEmail` (the fallback approver).
#[derive(Debug, Serialize)]
pub struct IdentityReferenceWithNameAndEmail {
    /// `IDENTITY`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Identity id.
    pub id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail (not nullable in v3 and beta, so omitted when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `ApprovalReminderAndEscalationConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalReminderAndEscalationConfig {
    /// Days before the first reminder (or the escalation).
    pub days_until_escalation: Option<i32>,
    /// Days between reminders.
    pub days_between_reminders: Option<i32>,
    /// Reminders sent at most.
    pub max_reminders: Option<i32>,
    /// The fallback approver.
    pub fallback_approver_ref: Option<IdentityReferenceWithNameAndEmail>,
}

impl ApprovalReminderAndEscalationConfig {
    fn new(r: &ReminderConfig, shape: Shape) -> Self {
        Self {
            days_until_escalation: r.days_until_escalation,
            days_between_reminders: r.days_between_reminders,
            // v3 and beta allow no 0 (their minimum is 1), nor did v2024 when SailPoint's SDKs
            // still in use were generated (their v2024 models refuse 0): "no reminders" reads as
            // unset there. Only `/access-request-config/v1` answers the 0.
            max_reminders: r
                .max_reminders
                .filter(|n| shape == Shape::NestedV1 || *n >= 1),
            fallback_approver_ref: r.fallback_approver.as_ref().map(|f| {
                IdentityReferenceWithNameAndEmail {
                    kind: "IDENTITY",
                    id: f.id.clone(),
                    name: f.name.clone(),
                    email: f.email.clone(),
                }
            }),
        }
    }
}

/// v3 and beta `EntitlementRequestConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementRequestConfigFlat {
    /// Entitlement requests are allowed.
    pub allow_entitlement_request: bool,
    /// Requesters must comment.
    pub request_comments_required: bool,
    /// Approvers must comment a denial.
    pub denied_comments_required: bool,
    /// The grant's approval steps, comma-separated (`""` when none).
    pub grant_request_approval_schemes: String,
}

/// `EntitlementApprovalScheme`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementApprovalScheme {
    /// One of [`APPROVER_TYPES`].
    pub approver_type: &'static str,
    /// The governance group or workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver_id: Option<String>,
}

impl From<&EntitlementApprover> for EntitlementApprovalScheme {
    fn from(a: &EntitlementApprover) -> Self {
        let (approver_type, approver_id) = match a {
            EntitlementApprover::EntitlementOwner => ("ENTITLEMENT_OWNER", None),
            EntitlementApprover::SourceOwner => ("SOURCE_OWNER", None),
            EntitlementApprover::Manager => ("MANAGER", None),
            EntitlementApprover::GovernanceGroup(id) => ("GOVERNANCE_GROUP", Some(id.clone())),
            EntitlementApprover::Workflow(id) => ("WORKFLOW", id.clone()),
        };
        Self {
            approver_type,
            approver_id,
        }
    }
}

/// `maxPermittedAccessDuration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxPermittedAccessDuration {
    /// How many units.
    pub value: i32,
    /// One of [`TIME_UNITS`].
    pub time_unit: String,
}

/// `EntitlementAccessRequestConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementAccessRequestConfig {
    /// The grant's approval steps, in order.
    pub approval_schemes: Vec<EntitlementApprovalScheme>,
    /// Requesters must comment.
    pub request_comment_required: bool,
    /// Approvers must comment a denial.
    pub denial_comment_required: bool,
    /// Reauthorization is required.
    pub reauthorization_required: bool,
    /// Requests need an end date.
    pub require_end_date: bool,
    /// The longest access a request may ask for.
    pub max_permitted_access_duration: Option<MaxPermittedAccessDuration>,
    /// The request form (v1 only; omitted when there is none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form_definition_id: Option<String>,
}

/// `EntitlementRevocationRequestConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementRevocationRequestConfig {
    /// The revocation's approval steps, in order.
    pub approval_schemes: Vec<EntitlementApprovalScheme>,
}

/// v2024 and v1 `EntitlementRequestConfig`, and `EntitlementRequestConfigV2`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementRequestConfigNested {
    /// Grants.
    pub access_request_config: EntitlementAccessRequestConfig,
    /// Revocations.
    pub revocation_request_config: EntitlementRevocationRequestConfig,
}

impl EntitlementRequestConfigNested {
    fn new(e: &domain::EntitlementRequestConfig, shape: Shape) -> Self {
        Self {
            access_request_config: EntitlementAccessRequestConfig {
                approval_schemes: e.grant_approval_schemes.iter().map(Into::into).collect(),
                request_comment_required: e.request_comments_required,
                denial_comment_required: e.denied_comments_required,
                reauthorization_required: e.reauthorization_required,
                require_end_date: e.require_end_date,
                max_permitted_access_duration: e.max_permitted_access_duration.as_ref().map(|d| {
                    MaxPermittedAccessDuration {
                        value: d.value,
                        time_unit: d.time_unit.clone(),
                    }
                }),
                form_definition_id: if shape.has_machine_flags() {
                    e.form_definition_id.clone()
                } else {
                    None
                },
            },
            revocation_request_config: EntitlementRevocationRequestConfig {
                approval_schemes: e.revoke_approval_schemes.iter().map(Into::into).collect(),
            },
        }
    }
}

/// `EntitlementRequestConfig` in the family's form.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EntitlementRequestConfig {
    /// v3, beta.
    Flat(EntitlementRequestConfigFlat),
    /// v2024, v1.
    Nested(EntitlementRequestConfigNested),
}

/// `AccessRequestConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestConfig {
    /// Approvals happen outside; non-admins may not request.
    pub approvals_must_be_external: bool,
    /// A step whose approver is the requester is approved at once.
    pub auto_approval_enabled: bool,
    /// Reauthorization is enforced.
    pub reauthorization_enabled: bool,
    /// Who may request for whom.
    pub request_on_behalf_of_config: RequestOnBehalfOfConfig,
    /// Reminders and escalation.
    pub approval_reminder_and_escalation_config: ApprovalReminderAndEscalationConfig,
    /// Entitlement requests.
    pub entitlement_request_config: EntitlementRequestConfig,
}

impl AccessRequestConfig {
    /// The configuration in `shape` (any but [`Shape::V2`], which is [`AccessRequestConfigV2`]).
    pub fn new(c: &domain::AccessRequestConfig, shape: Shape) -> Self {
        let e = &c.entitlement;
        Self {
            approvals_must_be_external: c.approvals_must_be_external,
            auto_approval_enabled: c.auto_approval_enabled,
            reauthorization_enabled: c.reauthorization_enabled,
            request_on_behalf_of_config: RequestOnBehalfOfConfig::new(c, shape),
            approval_reminder_and_escalation_config: ApprovalReminderAndEscalationConfig::new(
                &c.reminders,
                shape,
            ),
            entitlement_request_config: if shape == Shape::Flat {
                EntitlementRequestConfig::Flat(EntitlementRequestConfigFlat {
                    allow_entitlement_request: e.allow_entitlement_request,
                    request_comments_required: e.request_comments_required,
                    denied_comments_required: e.denied_comments_required,
                    // A workflow step has no flat spelling; the flat form lists the others.
                    grant_request_approval_schemes: e
                        .grant_approval_schemes
                        .iter()
                        .filter_map(EntitlementApprover::flat_name)
                        .collect::<Vec<_>>()
                        .join(","),
                })
            } else {
                EntitlementRequestConfig::Nested(EntitlementRequestConfigNested::new(e, shape))
            },
        }
    }
}

/// `AccessRequestConfigV2`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestConfigV2 {
    /// Approvals happen outside; non-admins may not request.
    pub approvals_must_be_external: bool,
    /// Reauthorization is enforced.
    pub reauthorization_enabled: bool,
    /// Who may request for whom (`RequestOnBehalfOfConfigV2`).
    pub request_on_behalf_of_config: RequestOnBehalfOfConfig,
    /// Entitlement requests (`EntitlementRequestConfigV2`).
    pub entitlement_request_config: EntitlementRequestConfigNested,
    /// Requesters see the members of an approving governance group.
    pub gov_group_visibility_enabled: bool,
    /// Machine identities may be the subject of requests.
    pub machine_identity_access_request_enabled: bool,
}

impl From<&domain::AccessRequestConfig> for AccessRequestConfigV2 {
    fn from(c: &domain::AccessRequestConfig) -> Self {
        Self {
            approvals_must_be_external: c.approvals_must_be_external,
            reauthorization_enabled: c.reauthorization_enabled,
            request_on_behalf_of_config: RequestOnBehalfOfConfig::new(c, Shape::V2),
            entitlement_request_config: EntitlementRequestConfigNested::new(
                &c.entitlement,
                Shape::V2,
            ),
            gov_group_visibility_enabled: c.gov_group_visibility_enabled,
            machine_identity_access_request_enabled: c.machine_identity_access_request_enabled,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies.

/// A body read into the canonical form, with the references the write must find.
#[derive(Debug)]
pub struct Parsed {
    /// Every setting the shape expresses (the rest at their defaults); see [`Shape::replace`].
    pub config: domain::AccessRequestConfig,
    /// Governance groups named by approval schemes: (field, id).
    pub groups: Vec<(String, String)>,
    /// The fallback approver's identity: (field, id).
    pub fallback: Option<(String, String)>,
}

/// One JSON object of the body and where it is.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    at: String,
}

fn illegal(message: String) -> ApiError {
    ApiError::illegal(message)
}

impl<'a> Obj<'a> {
    fn field(&self, key: &str) -> String {
        if self.at.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.at)
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// A boolean (not nullable), `default` when absent.
    fn bool(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(illegal(format!(
                "'{}' must be true or false.",
                self.field(key)
            ))),
        }
    }

    /// An object (not nullable), `None` when absent.
    fn object(&self, key: &str) -> Result<Option<Obj<'a>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj {
                map,
                at: self.field(key),
            })),
            Some(_) => Err(illegal(format!("'{}' must be an object.", self.field(key)))),
        }
    }

    /// A nullable object, `None` when absent or null.
    fn nullable_object(&self, key: &str) -> Result<Option<Obj<'a>>, ApiError> {
        match self.get(key) {
            Some(Value::Null) => Ok(None),
            _ => self.object(key),
        }
    }

    /// A string; `Ok(None)` when absent, or null where `nullable`.
    fn string(&self, key: &str, nullable: bool) -> Result<Option<&'a str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Null) if nullable => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(illegal(format!(
                "'{}' must be a string{}.",
                self.field(key),
                if nullable { " or null" } else { "" }
            ))),
        }
    }

    /// A nullable whole number within `range`.
    fn int(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<i32>,
        why: &str,
    ) -> Result<Option<i32>, ApiError> {
        let n = match self.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(_) => None,
        };
        n.and_then(|n| i32::try_from(n).ok())
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                illegal(format!(
                    "'{}' must be a whole number from {} to {}{why}.",
                    self.field(key),
                    range.start(),
                    range.end()
                ))
            })
    }
}

/// Reads a PUT body of `shape`.
pub fn parse(body: &Value, shape: Shape) -> Result<Parsed, ApiError> {
    let schema = if shape == Shape::V2 {
        "AccessRequestConfigV2"
    } else {
        "AccessRequestConfig"
    };
    let Some(map) = body.as_object() else {
        return Err(ApiError::bad_request(format!(
            "The body must be an {schema} object."
        )));
    };
    let root = Obj {
        map,
        at: String::new(),
    };
    let mut c = domain::AccessRequestConfig::default();
    let mut groups = Vec::new();
    let mut fallback = None;
    c.approvals_must_be_external =
        root.bool("approvalsMustBeExternal", c.approvals_must_be_external)?;
    c.reauthorization_enabled = root.bool("reauthorizationEnabled", c.reauthorization_enabled)?;
    if let Some(r) = root.object("requestOnBehalfOfConfig")? {
        c.request_on_behalf_of_anyone_by_anyone = r.bool(
            "allowRequestOnBehalfOfAnyoneByAnyone",
            c.request_on_behalf_of_anyone_by_anyone,
        )?;
        c.request_on_behalf_of_employee_by_manager = r.bool(
            "allowRequestOnBehalfOfEmployeeByManager",
            c.request_on_behalf_of_employee_by_manager,
        )?;
        if shape.has_machine_flags() {
            c.allow_request_on_behalf_of_for_machine_identity = r.bool(
                "allowRequestOnBehalfOfForMachineIdentity",
                c.allow_request_on_behalf_of_for_machine_identity,
            )?;
            c.allow_request_for_machine_by_owner = r.bool(
                "allowRequestForMachineByOwner",
                c.allow_request_for_machine_by_owner,
            )?;
        }
    }
    if shape != Shape::V2 {
        c.auto_approval_enabled = root.bool("autoApprovalEnabled", c.auto_approval_enabled)?;
        if let Some(r) = root.object("approvalReminderAndEscalationConfig")? {
            c.reminders = reminders(&r, shape, &mut fallback)?;
        }
    }
    if let Some(e) = root.object("entitlementRequestConfig")? {
        if shape == Shape::Flat {
            flat_entitlement(&e, &mut c.entitlement, &mut groups)?;
        } else {
            nested_entitlement(&e, shape, &mut c.entitlement, &mut groups)?;
        }
    }
    if shape == Shape::V2 {
        c.gov_group_visibility_enabled =
            root.bool("govGroupVisibilityEnabled", c.gov_group_visibility_enabled)?;
        c.machine_identity_access_request_enabled = root.bool(
            "machineIdentityAccessRequestEnabled",
            c.machine_identity_access_request_enabled,
        )?;
    }
    Ok(Parsed {
        config: c,
        groups,
        fallback,
    })
}

fn reminders(
    r: &Obj<'_>,
    shape: Shape,
    fallback: &mut Option<(String, String)>,
) -> Result<ReminderConfig, ApiError> {
    let days = 0..=i32::MAX;
    let max = if shape == Shape::Flat {
        1..=MAX_REMINDERS
    } else {
        0..=MAX_REMINDERS
    };
    let max_why = if shape == Shape::Flat {
        " (this API's minimum is 1; the maximum of 20 is SailPoint's, shared with v2024)"
    } else {
        ""
    };
    let fallback_approver = match r.nullable_object("fallbackApproverRef")? {
        None => None,
        Some(f) => {
            if let Some(t) = f.string("type", false)? {
                if t != "IDENTITY" {
                    return Err(illegal(format!(
                        "'{}' must be IDENTITY, not '{t}'.",
                        f.field("type")
                    )));
                }
            }
            // The name and e-mail are read-only: they are the identity's, filled in when saved.
            f.string("name", false)?;
            f.string("email", shape != Shape::Flat)?;
            let id = match f.string("id", false)? {
                Some(id) if !id.trim().is_empty() => id.to_owned(),
                _ => return Err(ApiError::missing(&f.field("id"))),
            };
            *fallback = Some((f.field("id"), id.clone()));
            Some(FallbackApprover {
                id,
                name: None,
                email: None,
            })
        }
    };
    Ok(ReminderConfig {
        days_until_escalation: r.int("daysUntilEscalation", days.clone(), " (days)")?,
        days_between_reminders: r.int("daysBetweenReminders", days, " (days)")?,
        max_reminders: r.int("maxReminders", max, max_why)?,
        fallback_approver,
    })
}

fn flat_entitlement(
    e: &Obj<'_>,
    out: &mut domain::EntitlementRequestConfig,
    groups: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    out.allow_entitlement_request =
        e.bool("allowEntitlementRequest", out.allow_entitlement_request)?;
    out.request_comments_required =
        e.bool("requestCommentsRequired", out.request_comments_required)?;
    out.denied_comments_required =
        e.bool("deniedCommentsRequired", out.denied_comments_required)?;
    let key = "grantRequestApprovalSchemes";
    let field = e.field(key);
    match e.get(key) {
        // Absent: the default ("sourceOwner"), already in `out`.
        None => {}
        // Null, like "", is "no approval is needed".
        Some(Value::Null) => out.grant_approval_schemes = Vec::new(),
        Some(Value::String(s)) => out.grant_approval_schemes = flat_schemes(s, &field, groups)?,
        Some(_) => return Err(illegal(format!("'{field}' must be a string or null."))),
    }
    Ok(())
}

/// The comma-separated v3 form: `entitlementOwner`, `sourceOwner`, `manager`, `workgroup:{id}`.
fn flat_schemes(
    s: &str,
    field: &str,
    groups: &mut Vec<(String, String)>,
) -> Result<Vec<EntitlementApprover>, ApiError> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return Err(illegal(format!(
                    "'{field}' has an empty entry: separate the approval schemes with single commas."
                )));
            }
            match EntitlementApprover::parse_flat(part) {
                Some(a) => {
                    if let EntitlementApprover::GovernanceGroup(id) = &a {
                        groups.push((field.to_owned(), id.clone()));
                    }
                    Ok(a)
                }
                None if part.starts_with("workgroup:") => Err(illegal(format!(
                    "'{field}' has 'workgroup:' without a governance group id: write workgroup:{{id}}."
                ))),
                None => Err(illegal(format!(
                    "'{field}' names an unknown approval scheme '{part}': the schemes are \
                     entitlementOwner, sourceOwner, manager and workgroup:{{id}}."
                ))),
            }
        })
        .collect()
}

fn nested_entitlement(
    e: &Obj<'_>,
    shape: Shape,
    out: &mut domain::EntitlementRequestConfig,
    groups: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    if let Some(a) = e.object("accessRequestConfig")? {
        if let Some(v) = a.get("approvalSchemes") {
            out.grant_approval_schemes = schemes(v, &a.field("approvalSchemes"), groups)?;
        }
        out.request_comments_required =
            a.bool("requestCommentRequired", out.request_comments_required)?;
        out.denied_comments_required =
            a.bool("denialCommentRequired", out.denied_comments_required)?;
        out.reauthorization_required =
            a.bool("reauthorizationRequired", out.reauthorization_required)?;
        out.require_end_date = a.bool("requireEndDate", out.require_end_date)?;
        out.max_permitted_access_duration = match a.nullable_object("maxPermittedAccessDuration")? {
            None => None,
            Some(d) => Some(duration(&d)?),
        };
        if shape.has_machine_flags() {
            out.form_definition_id = a
                .string("formDefinitionId", true)?
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned);
        }
    }
    if let Some(r) = e.object("revocationRequestConfig")? {
        if let Some(v) = r.get("approvalSchemes") {
            out.revoke_approval_schemes = schemes(v, &r.field("approvalSchemes"), groups)?;
        }
    }
    Ok(())
}

fn duration(d: &Obj<'_>) -> Result<AccessDuration, ApiError> {
    let value = d
        .int("value", 1..=i32::MAX, "")?
        .ok_or_else(|| ApiError::missing(&d.field("value")))?;
    let time_unit = match d.string("timeUnit", false)? {
        None => return Err(ApiError::missing(&d.field("timeUnit"))),
        Some(u) if TIME_UNITS.contains(&u) => u.to_owned(),
        Some(u) => {
            return Err(illegal(format!(
                "'{}' must be one of {}, not '{u}'.",
                d.field("timeUnit"),
                TIME_UNITS.join(", ")
            )))
        }
    };
    Ok(AccessDuration { value, time_unit })
}

/// A list of `EntitlementApprovalScheme`s.
fn schemes(
    v: &Value,
    field: &str,
    groups: &mut Vec<(String, String)>,
) -> Result<Vec<EntitlementApprover>, ApiError> {
    let Some(list) = v.as_array() else {
        return Err(illegal(format!(
            "'{field}' must be a list of approval schemes."
        )));
    };
    list.iter()
        .enumerate()
        .map(|(n, s)| {
            let at = format!("{field}[{n}]");
            let Some(map) = s.as_object() else {
                return Err(illegal(format!(
                    "'{at}' must be an object {{\"approverType\", \"approverId\"}}."
                )));
            };
            let s = Obj { map, at };
            let t = s
                .string("approverType", false)?
                .ok_or_else(|| ApiError::missing(&s.field("approverType")))?;
            let id = s
                .string("approverId", true)?
                .filter(|id| !id.trim().is_empty())
                .map(str::to_owned);
            Ok(match t {
                "ENTITLEMENT_OWNER" => EntitlementApprover::EntitlementOwner,
                "SOURCE_OWNER" => EntitlementApprover::SourceOwner,
                "MANAGER" => EntitlementApprover::Manager,
                "WORKFLOW" => EntitlementApprover::Workflow(id),
                "GOVERNANCE_GROUP" => {
                    let field = s.field("approverId");
                    let id = id.ok_or_else(|| ApiError::BadRequest {
                        detail: "400.1.0 Required Data Missing Or Empty",
                        message: format!(
                            "'{field}' is required: a GOVERNANCE_GROUP step names its governance group."
                        ),
                    })?;
                    groups.push((field, id.clone()));
                    EntitlementApprover::GovernanceGroup(id)
                }
                other => {
                    return Err(illegal(format!(
                        "'{}' must be one of {}, not '{other}'.",
                        s.field("approverType"),
                        APPROVER_TYPES.join(", ")
                    )))
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(body: Value, shape: Shape) -> domain::AccessRequestConfig {
        parse(&body, shape).unwrap().config
    }

    #[test]
    fn an_empty_body_is_every_default() {
        for shape in [Shape::Flat, Shape::Nested, Shape::NestedV1, Shape::V2] {
            assert_eq!(
                parsed(json!({}), shape),
                domain::AccessRequestConfig::default()
            );
        }
    }

    #[test]
    fn flat_defaults_answer_source_owner() {
        let v = serde_json::to_value(AccessRequestConfig::new(
            &domain::AccessRequestConfig::default(),
            Shape::Flat,
        ))
        .unwrap();
        assert_eq!(
            v["entitlementRequestConfig"]["grantRequestApprovalSchemes"],
            "sourceOwner"
        );
        assert!(v["requestOnBehalfOfConfig"]
            .get("allowRequestOnBehalfOfForMachineIdentity")
            .is_none());
        assert_eq!(
            v["approvalReminderAndEscalationConfig"],
            json!({"daysUntilEscalation": null, "daysBetweenReminders": null,
                   "maxReminders": null, "fallbackApproverRef": null})
        );
    }

    #[test]
    fn flat_schemes_read_and_write() {
        let c = parsed(
            json!({"entitlementRequestConfig": {"grantRequestApprovalSchemes":
                " manager, workgroup:g1 ,entitlementOwner"}}),
            Shape::Flat,
        );
        assert_eq!(
            c.entitlement.grant_approval_schemes,
            vec![
                EntitlementApprover::Manager,
                EntitlementApprover::GovernanceGroup("g1".into()),
                EntitlementApprover::EntitlementOwner
            ]
        );
        let v = serde_json::to_value(AccessRequestConfig::new(&c, Shape::Flat)).unwrap();
        assert_eq!(
            v["entitlementRequestConfig"]["grantRequestApprovalSchemes"],
            "manager,workgroup:g1,entitlementOwner"
        );
        for none in [json!(""), json!(null), json!("  ")] {
            let c = parsed(
                json!({"entitlementRequestConfig": {"grantRequestApprovalSchemes": none}}),
                Shape::Flat,
            );
            assert!(c.entitlement.grant_approval_schemes.is_empty());
        }
        for bad in ["owner", "manager,,sourceOwner", "workgroup:", "MANAGER"] {
            assert!(
                parse(
                    &json!({"entitlementRequestConfig": {"grantRequestApprovalSchemes": bad}}),
                    Shape::Flat
                )
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_flat_put_keeps_what_the_flat_shape_cannot_say() {
        let mut current = domain::AccessRequestConfig {
            gov_group_visibility_enabled: true,
            allow_request_for_machine_by_owner: true,
            auto_approval_enabled: true,
            ..Default::default()
        };
        current.entitlement.revoke_approval_schemes = vec![EntitlementApprover::Manager];
        current.entitlement.require_end_date = true;
        Shape::Flat.replace(&mut current, parsed(json!({}), Shape::Flat));
        assert!(!current.auto_approval_enabled, "v3 expresses auto-approval");
        assert_eq!(
            current.entitlement.revoke_approval_schemes,
            vec![EntitlementApprover::Manager]
        );
        assert!(current.entitlement.require_end_date);
        assert!(current.gov_group_visibility_enabled);
        assert!(current.allow_request_for_machine_by_owner);
    }

    #[test]
    fn a_v2_put_keeps_auto_approval_reminders_and_allow_entitlement_request() {
        let mut current = domain::AccessRequestConfig {
            auto_approval_enabled: true,
            ..Default::default()
        };
        current.reminders.max_reminders = Some(3);
        current.entitlement.allow_entitlement_request = true;
        current.entitlement.require_end_date = true;
        Shape::V2.replace(&mut current, parsed(json!({}), Shape::V2));
        assert!(current.auto_approval_enabled);
        assert_eq!(current.reminders.max_reminders, Some(3));
        assert!(current.entitlement.allow_entitlement_request);
        assert!(!current.entitlement.require_end_date, "V2 expresses it");
    }

    #[test]
    fn max_reminders_bounds_per_shape() {
        let body = |n: i64| json!({"approvalReminderAndEscalationConfig": {"maxReminders": n}});
        assert!(parse(&body(0), Shape::Flat).is_err());
        assert!(parse(&body(21), Shape::Flat).is_err());
        assert_eq!(
            parsed(body(1), Shape::Flat).reminders.max_reminders,
            Some(1)
        );
        assert_eq!(
            parsed(body(0), Shape::Nested).reminders.max_reminders,
            Some(0)
        );
        assert!(parse(&body(21), Shape::NestedV1).is_err());
        assert!(parse(&body(-1), Shape::Nested).is_err());
        // A stored 0 is unset where a minimum of 1 is (or was) the rule: v3, beta and v2024.
        let answered = |n: i32, shape| {
            let mut c = domain::AccessRequestConfig::default();
            c.reminders.max_reminders = Some(n);
            serde_json::to_value(AccessRequestConfig::new(&c, shape)).unwrap()
                ["approvalReminderAndEscalationConfig"]["maxReminders"]
                .clone()
        };
        assert!(answered(0, Shape::Flat).is_null());
        assert!(answered(0, Shape::Nested).is_null());
        assert_eq!(answered(0, Shape::NestedV1), 0);
        assert_eq!(answered(1, Shape::Nested), 1);
    }

    #[test]
    fn nulls_only_where_the_schema_allows_them() {
        for (body, shape) in [
            (json!({"autoApprovalEnabled": null}), Shape::Flat),
            (json!({"requestOnBehalfOfConfig": null}), Shape::Flat),
            (
                json!({"entitlementRequestConfig": {"accessRequestConfig": {"approvalSchemes": null}}}),
                Shape::Nested,
            ),
            (
                json!({"approvalReminderAndEscalationConfig": {"fallbackApproverRef": {"id": "x", "email": null}}}),
                Shape::Flat,
            ),
        ] {
            assert!(parse(&body, shape).is_err(), "{body}");
        }
        let c = parsed(
            json!({"approvalReminderAndEscalationConfig": {"daysUntilEscalation": null,
                "fallbackApproverRef": {"id": "x", "email": null}}}),
            Shape::Nested,
        );
        assert_eq!(c.reminders.fallback_approver.unwrap().id, "x");
    }
}
