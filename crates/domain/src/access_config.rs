//! The tenant's access-request configuration, in one canonical form.
//!
//! SailPoint publishes the same settings in three shapes (v3/beta flat `entitlementRequestConfig`,
//! v2024/v1 nested `accessRequestConfig`/`revocationRequestConfig`, and the v1 `AccessRequestConfigV2`).
//! Gatehouse stores this one struct; the API layer converts each family's shape to and from it. The
//! defaults are SailPoint's documented defaults, so a tenant that never set anything behaves as
//! SailPoint's does.

use serde::{Deserialize, Serialize};

/// Who approves one step of an entitlement request (tenant-wide schemes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "approverType",
    content = "approverId",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
pub enum EntitlementApprover {
    /// The entitlement's owner.
    EntitlementOwner,
    /// The owner of the entitlement's source.
    SourceOwner,
    /// The manager of the identity the access is for.
    Manager,
    /// Any member of this governance group.
    GovernanceGroup(String),
    /// A workflow (accepted and kept; Gatehouse runs no workflows, so the step is skipped).
    Workflow(Option<String>),
}

impl EntitlementApprover {
    /// The v3 comma-separated spelling (`entitlementOwner`, `sourceOwner`, `manager`,
    /// `workgroup:{id}`); `None` for a workflow, which that form cannot express.
    pub fn flat_name(&self) -> Option<String> {
        Some(match self {
            Self::EntitlementOwner => "entitlementOwner".into(),
            Self::SourceOwner => "sourceOwner".into(),
            Self::Manager => "manager".into(),
            Self::GovernanceGroup(id) => format!("workgroup:{id}"),
            Self::Workflow(_) => return None,
        })
    }

    /// Parses one entry of the v3 comma-separated form.
    pub fn parse_flat(s: &str) -> Option<Self> {
        let s = s.trim();
        Some(match s {
            "entitlementOwner" => Self::EntitlementOwner,
            "sourceOwner" => Self::SourceOwner,
            "manager" => Self::Manager,
            _ => {
                let id = s.strip_prefix("workgroup:")?;
                if id.is_empty() {
                    return None;
                }
                Self::GovernanceGroup(id.to_owned())
            }
        })
    }
}

/// The fallback approver of the reminder and escalation configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FallbackApprover {
    /// Identity id.
    pub id: String,
    /// Display name, as given.
    pub name: Option<String>,
    /// Email, as given.
    pub email: Option<String>,
}

/// `approvalReminderAndEscalationConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderConfig {
    /// Days a pending approval waits before it escalates to the fallback approver.
    pub days_until_escalation: Option<i32>,
    /// Days between reminders to the current approver.
    pub days_between_reminders: Option<i32>,
    /// Reminders sent at most.
    pub max_reminders: Option<i32>,
    /// Who approves when no one else can (and who escalations go to).
    pub fallback_approver: Option<FallbackApprover>,
}

/// `maxPermittedAccessDuration`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDuration {
    /// How many units.
    pub value: i32,
    /// HOURS, DAYS, WEEKS, MONTHS (as SailPoint spells it).
    pub time_unit: String,
}

/// Entitlement request settings (flat in v3/beta, nested in v2024/v1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementRequestConfig {
    /// v3 `allowEntitlementRequest`.
    pub allow_entitlement_request: bool,
    /// A comment is required with a request.
    pub request_comments_required: bool,
    /// A comment is required with a denial.
    pub denied_comments_required: bool,
    /// Approval steps of a grant, in order.
    pub grant_approval_schemes: Vec<EntitlementApprover>,
    /// Approval steps of a revocation, in order.
    pub revoke_approval_schemes: Vec<EntitlementApprover>,
    /// v2024 `reauthorizationRequired`.
    pub reauthorization_required: bool,
    /// v2024 `requireEndDate`.
    pub require_end_date: bool,
    /// v2024 `maxPermittedAccessDuration`.
    pub max_permitted_access_duration: Option<AccessDuration>,
    /// v1 `formDefinitionId`: the form shown to requesters (kept; Gatehouse has no forms).
    #[serde(default)]
    pub form_definition_id: Option<String>,
}

impl Default for EntitlementRequestConfig {
    fn default() -> Self {
        Self {
            allow_entitlement_request: false,
            request_comments_required: false,
            denied_comments_required: false,
            // SailPoint's default `grantRequestApprovalSchemes` is "sourceOwner".
            grant_approval_schemes: vec![EntitlementApprover::SourceOwner],
            revoke_approval_schemes: Vec::new(),
            reauthorization_required: false,
            require_end_date: false,
            max_permitted_access_duration: None,
            form_definition_id: None,
        }
    }
}

/// The whole configuration of one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessRequestConfig {
    /// Requests must come from outside the request center; non-admins are refused.
    pub approvals_must_be_external: bool,
    /// A step whose approver is the requester is approved at once.
    pub auto_approval_enabled: bool,
    /// Reauthorization of approvers.
    pub reauthorization_enabled: bool,
    /// Anyone may request for anyone.
    pub request_on_behalf_of_anyone_by_anyone: bool,
    /// A manager may request for their direct reports.
    pub request_on_behalf_of_employee_by_manager: bool,
    /// V2: requests on behalf of machine identities.
    pub allow_request_on_behalf_of_for_machine_identity: bool,
    /// V2: owners may request for their machine identities.
    pub allow_request_for_machine_by_owner: bool,
    /// V2: governance-group visibility.
    pub gov_group_visibility_enabled: bool,
    /// V2: machine identities may be the subject of a request.
    pub machine_identity_access_request_enabled: bool,
    /// Reminders, escalation and the fallback approver.
    pub reminders: ReminderConfig,
    /// Entitlement requests.
    pub entitlement: EntitlementRequestConfig,
}

impl Default for AccessRequestConfig {
    fn default() -> Self {
        Self {
            approvals_must_be_external: false,
            auto_approval_enabled: false,
            reauthorization_enabled: false,
            request_on_behalf_of_anyone_by_anyone: false,
            request_on_behalf_of_employee_by_manager: false,
            allow_request_on_behalf_of_for_machine_identity: true,
            allow_request_for_machine_by_owner: false,
            gov_group_visibility_enabled: false,
            machine_identity_access_request_enabled: true,
            reminders: ReminderConfig::default(),
            entitlement: EntitlementRequestConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_names_round_trip() {
        for s in [
            "entitlementOwner",
            "sourceOwner",
            "manager",
            "workgroup:abc",
        ] {
            assert_eq!(
                EntitlementApprover::parse_flat(s)
                    .unwrap()
                    .flat_name()
                    .unwrap(),
                s
            );
        }
        assert_eq!(EntitlementApprover::parse_flat("workgroup:"), None);
        assert_eq!(EntitlementApprover::parse_flat("owner"), None);
    }

    #[test]
    fn an_empty_document_reads_as_the_defaults() {
        let c: AccessRequestConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, AccessRequestConfig::default());
        assert_eq!(
            c.entitlement.grant_approval_schemes,
            vec![EntitlementApprover::SourceOwner]
        );
    }

    #[test]
    fn a_document_saved_before_form_definitions_still_reads() {
        let mut v = serde_json::to_value(AccessRequestConfig::default()).unwrap();
        v["entitlement"]
            .as_object_mut()
            .unwrap()
            .remove("form_definition_id");
        v["entitlement"]["require_end_date"] = serde_json::Value::Bool(true);
        let c: AccessRequestConfig = serde_json::from_value(v).unwrap();
        assert_eq!(c.entitlement.form_definition_id, None);
        assert!(c.entitlement.require_end_date);
    }
}
