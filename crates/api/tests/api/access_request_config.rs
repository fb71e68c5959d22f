//! The access-request configuration: `/access-request-config` (v3, beta, v2024),
//! `/access-request-config/v1` and `/access-request-config/v2`. Defaults, round trips in every
//! family, one stored configuration seen through every shape, the refusals, who may write, and
//! governance groups the configuration names.

use crate::catalog_fixtures::{person, T};
use crate::spec_shape::assert_shape;
use crate::support::*;
use axum::http::StatusCode;
use gatehouse_domain::access_config::{
    AccessRequestConfig as Stored, EntitlementApprover as Approver,
};
use gatehouse_store::access_config;
use gatehouse_store::governance_groups::{self, GovernanceGroup};
use gatehouse_store::identities::{self, IdentityRecord};
use serde_json::{json, Value};

const V3: &str = "/v3/access-request-config";
const BETA: &str = "/beta/access-request-config";
const V2024: &str = "/v2024/access-request-config";
const V1: &str = "/access-request-config/v1";
const V2: &str = "/access-request-config/v2";
const ALL: [&str; 5] = [V3, BETA, V2024, V1, V2];

/// The spec family and path of a URL, for [`assert_shape`].
fn spec_of(url: &str) -> (&'static str, &'static str) {
    match url {
        V3 => ("v3", "/access-request-config"),
        BETA => ("beta", "/access-request-config"),
        V2024 => ("v2024", "/access-request-config"),
        V1 => ("v1", "/access-request-config/v1"),
        V2 => ("v1", "/access-request-config/v2"),
        _ => unreachable!("{url}"),
    }
}

async fn get(app: &TestApp, url: &str) -> Value {
    let r = app.admin("GET", url, None).await;
    assert_eq!(r.status, StatusCode::OK, "GET {url}: {}", r.text);
    let (family, path) = spec_of(url);
    assert_shape(family, "GET", path, 200, &r.body);
    r.body
}

/// A PUT that must succeed; its answer (checked against the spec) equals the next GET.
async fn put(app: &TestApp, url: &str, body: Value) -> Value {
    let r = app.admin("PUT", url, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "PUT {url}: {}", r.text);
    let (family, path) = spec_of(url);
    assert_shape(family, "PUT", path, 200, &r.body);
    assert_eq!(get(app, url).await, r.body, "GET {url} after PUT");
    r.body
}

async fn stored(app: &TestApp) -> Stored {
    let tenant = app.tenant_id().await;
    app.state
        .store()
        .read(move |c| access_config::load(c, &tenant))
        .await
        .unwrap()
}

/// A governance group created through the v2024 API.
async fn workgroup(app: &TestApp, name: &str, owner: &str) -> String {
    let r = app
        .admin(
            "POST",
            "/v2024/workgroups",
            Some(json!({"name": name, "owner": {"type": "IDENTITY", "id": owner}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// The fallback approver of the tests, with a display name and an e-mail.
async fn fallback_person(app: &TestApp) -> String {
    person(app, "fallback.person", |i| {
        i.display_name = Some("Fallback Person".into());
        i.email = Some("fallback@example.com".into());
    })
    .await
}

fn fallback_ref(id: &str) -> Value {
    json!({"type": "IDENTITY", "id": id, "name": "Fallback Person", "email": "fallback@example.com"})
}

fn flat_defaults() -> Value {
    json!({
        "approvalsMustBeExternal": false,
        "autoApprovalEnabled": false,
        "reauthorizationEnabled": false,
        "requestOnBehalfOfConfig": {
            "allowRequestOnBehalfOfAnyoneByAnyone": false,
            "allowRequestOnBehalfOfEmployeeByManager": false
        },
        "approvalReminderAndEscalationConfig": {
            "daysUntilEscalation": null,
            "daysBetweenReminders": null,
            "maxReminders": null,
            "fallbackApproverRef": null
        },
        "entitlementRequestConfig": {
            "allowEntitlementRequest": false,
            "requestCommentsRequired": false,
            "deniedCommentsRequired": false,
            "grantRequestApprovalSchemes": "sourceOwner"
        }
    })
}

fn nested_entitlement_defaults() -> Value {
    json!({
        "accessRequestConfig": {
            "approvalSchemes": [{"approverType": "SOURCE_OWNER"}],
            "requestCommentRequired": false,
            "denialCommentRequired": false,
            "reauthorizationRequired": false,
            "requireEndDate": false,
            "maxPermittedAccessDuration": null
        },
        "revocationRequestConfig": {"approvalSchemes": []}
    })
}

fn v2024_defaults() -> Value {
    let mut v = flat_defaults();
    v["entitlementRequestConfig"] = nested_entitlement_defaults();
    v
}

fn v1_defaults() -> Value {
    let mut v = v2024_defaults();
    v["requestOnBehalfOfConfig"]["allowRequestOnBehalfOfForMachineIdentity"] = json!(true);
    v["requestOnBehalfOfConfig"]["allowRequestForMachineByOwner"] = json!(false);
    v
}

fn v2_defaults() -> Value {
    json!({
        "approvalsMustBeExternal": false,
        "reauthorizationEnabled": false,
        "requestOnBehalfOfConfig": {
            "allowRequestOnBehalfOfAnyoneByAnyone": false,
            "allowRequestOnBehalfOfEmployeeByManager": false,
            "allowRequestOnBehalfOfForMachineIdentity": true,
            "allowRequestForMachineByOwner": false
        },
        "entitlementRequestConfig": nested_entitlement_defaults(),
        "govGroupVisibilityEnabled": false,
        "machineIdentityAccessRequestEnabled": true
    })
}

#[tokio::test]
async fn every_family_answers_sailpoints_defaults_until_set() {
    let app = TestApp::new().await;
    for (url, expected) in [
        (V3, flat_defaults()),
        (BETA, flat_defaults()),
        (V2024, v2024_defaults()),
        (V1, v1_defaults()),
        (V2, v2_defaults()),
    ] {
        assert_eq!(get(&app, url).await, expected, "{url}");
        let r = app.admin("GET", url, None).await;
        let deprecated = r.headers.get("x-deprecated").map(|v| v.to_str().unwrap());
        assert_eq!(deprecated, (url != V2).then_some("true"), "{url}");
    }
    assert_eq!(stored(&app).await, Stored::default());
}

#[tokio::test]
async fn a_put_round_trips_in_every_family() {
    // v3 and beta: the flat form.
    for url in [V3, BETA] {
        let app = TestApp::new().await;
        let fb = fallback_person(&app).await;
        let g = workgroup(&app, "Approvers", &fb).await;
        let body = json!({
            "approvalsMustBeExternal": true,
            "autoApprovalEnabled": true,
            "reauthorizationEnabled": true,
            "requestOnBehalfOfConfig": {
                "allowRequestOnBehalfOfAnyoneByAnyone": true,
                "allowRequestOnBehalfOfEmployeeByManager": true
            },
            "approvalReminderAndEscalationConfig": {
                "daysUntilEscalation": 2,
                "daysBetweenReminders": 1,
                "maxReminders": 3,
                "fallbackApproverRef": {"type": "IDENTITY", "id": fb, "name": "ignored"}
            },
            "entitlementRequestConfig": {
                "allowEntitlementRequest": true,
                "requestCommentsRequired": true,
                "deniedCommentsRequired": true,
                "grantRequestApprovalSchemes": format!("manager, workgroup:{g},entitlementOwner")
            }
        });
        let mut expected = body.clone();
        expected["approvalReminderAndEscalationConfig"]["fallbackApproverRef"] = fallback_ref(&fb);
        expected["entitlementRequestConfig"]["grantRequestApprovalSchemes"] =
            json!(format!("manager,workgroup:{g},entitlementOwner"));
        assert_eq!(put(&app, url, body).await, expected, "{url}");
        // The canonical form the access-request engine reads.
        let s = stored(&app).await;
        assert!(s.approvals_must_be_external && s.auto_approval_enabled);
        assert!(
            s.request_on_behalf_of_anyone_by_anyone && s.request_on_behalf_of_employee_by_manager
        );
        assert_eq!(
            s.entitlement.grant_approval_schemes,
            vec![
                Approver::Manager,
                Approver::GovernanceGroup(g.clone()),
                Approver::EntitlementOwner
            ]
        );
        assert!(s.entitlement.request_comments_required && s.entitlement.denied_comments_required);
        assert_eq!(
            (
                s.reminders.days_until_escalation,
                s.reminders.days_between_reminders,
                s.reminders.max_reminders
            ),
            (Some(2), Some(1), Some(3))
        );
        assert_eq!(s.reminders.fallback_approver.unwrap().id, fb);
    }

    // v2024 and v1: the nested form (v1 adds the machine-identity flags and formDefinitionId).
    for url in [V2024, V1] {
        let app = TestApp::new().await;
        let fb = fallback_person(&app).await;
        let g = workgroup(&app, "Approvers", &fb).await;
        let mut body = json!({
            "approvalsMustBeExternal": true,
            "autoApprovalEnabled": true,
            "reauthorizationEnabled": true,
            "requestOnBehalfOfConfig": {
                "allowRequestOnBehalfOfAnyoneByAnyone": true,
                "allowRequestOnBehalfOfEmployeeByManager": true
            },
            "approvalReminderAndEscalationConfig": {
                "daysUntilEscalation": 0,
                "daysBetweenReminders": 4,
                "maxReminders": 0,
                "fallbackApproverRef": {"id": fb, "email": null}
            },
            "entitlementRequestConfig": {
                "accessRequestConfig": {
                    "approvalSchemes": [
                        {"approverType": "MANAGER", "approverId": null},
                        {"approverType": "GOVERNANCE_GROUP", "approverId": g},
                        {"approverType": "WORKFLOW", "approverId": "wf-1"}
                    ],
                    "requestCommentRequired": true,
                    "denialCommentRequired": true,
                    "reauthorizationRequired": true,
                    "requireEndDate": true,
                    "maxPermittedAccessDuration": {"value": 30, "timeUnit": "DAYS"}
                },
                "revocationRequestConfig": {
                    "approvalSchemes": [{"approverType": "SOURCE_OWNER"}]
                }
            }
        });
        if url == V1 {
            body["requestOnBehalfOfConfig"]["allowRequestOnBehalfOfForMachineIdentity"] =
                json!(false);
            body["requestOnBehalfOfConfig"]["allowRequestForMachineByOwner"] = json!(true);
            body["entitlementRequestConfig"]["accessRequestConfig"]["formDefinitionId"] =
                json!("form-1");
        }
        let mut expected = body.clone();
        expected["approvalReminderAndEscalationConfig"]["fallbackApproverRef"] = fallback_ref(&fb);
        expected["entitlementRequestConfig"]["accessRequestConfig"]["approvalSchemes"][0] =
            json!({"approverType": "MANAGER"});
        if url == V2024 {
            // Kept, but answered as unset: SailPoint's SDK 1.4.2 v2024 model refuses 0.
            expected["approvalReminderAndEscalationConfig"]["maxReminders"] = Value::Null;
        }
        assert_eq!(put(&app, url, body).await, expected, "{url}");
        let s = stored(&app).await;
        assert_eq!(
            s.entitlement.grant_approval_schemes,
            vec![
                Approver::Manager,
                Approver::GovernanceGroup(g.clone()),
                Approver::Workflow(Some("wf-1".into()))
            ]
        );
        assert_eq!(
            s.entitlement.revoke_approval_schemes,
            vec![Approver::SourceOwner]
        );
        assert_eq!(s.reminders.max_reminders, Some(0));
        assert_eq!(
            s.entitlement.form_definition_id.as_deref(),
            (url == V1).then_some("form-1")
        );
    }

    // V2.
    let app = TestApp::new().await;
    let fb = fallback_person(&app).await;
    let g = workgroup(&app, "Approvers", &fb).await;
    let body = json!({
        "approvalsMustBeExternal": true,
        "reauthorizationEnabled": true,
        "requestOnBehalfOfConfig": {
            "allowRequestOnBehalfOfAnyoneByAnyone": true,
            "allowRequestOnBehalfOfEmployeeByManager": false,
            "allowRequestOnBehalfOfForMachineIdentity": false,
            "allowRequestForMachineByOwner": true
        },
        "entitlementRequestConfig": {
            "accessRequestConfig": {
                "approvalSchemes": [],
                "requestCommentRequired": false,
                "denialCommentRequired": true,
                "reauthorizationRequired": false,
                "requireEndDate": true,
                "maxPermittedAccessDuration": {"value": 2, "timeUnit": "WEEKS"},
                "formDefinitionId": "form-2"
            },
            "revocationRequestConfig": {
                "approvalSchemes": [{"approverType": "GOVERNANCE_GROUP", "approverId": g}]
            }
        },
        "govGroupVisibilityEnabled": true,
        "machineIdentityAccessRequestEnabled": false
    });
    assert_eq!(put(&app, V2, body.clone()).await, body);
    let s = stored(&app).await;
    assert!(s.gov_group_visibility_enabled && !s.machine_identity_access_request_enabled);
    assert!(s.entitlement.grant_approval_schemes.is_empty());
    assert_eq!(
        s.entitlement.revoke_approval_schemes,
        vec![Approver::GovernanceGroup(g)]
    );
}

#[tokio::test]
async fn one_configuration_is_seen_through_every_family() {
    let app = TestApp::new().await;
    let fb = fallback_person(&app).await;
    let g = workgroup(&app, "Approvers", &fb).await;

    // Set through v3's flat form...
    put(
        &app,
        V3,
        json!({
            "autoApprovalEnabled": true,
            "requestOnBehalfOfConfig": {"allowRequestOnBehalfOfEmployeeByManager": true},
            "approvalReminderAndEscalationConfig": {"maxReminders": 5, "daysBetweenReminders": 2,
                "fallbackApproverRef": {"type": "IDENTITY", "id": fb}},
            "entitlementRequestConfig": {"allowEntitlementRequest": true, "requestCommentsRequired": true,
                "grantRequestApprovalSchemes": format!("manager,workgroup:{g}")}
        }),
    )
    .await;
    // ...seen through v2024's nested form, v1's and V2.
    let v2024 = get(&app, V2024).await;
    assert_eq!(v2024["autoApprovalEnabled"], true);
    assert_eq!(
        v2024["requestOnBehalfOfConfig"]["allowRequestOnBehalfOfEmployeeByManager"],
        true
    );
    assert_eq!(
        v2024["approvalReminderAndEscalationConfig"],
        json!({"daysUntilEscalation": null, "daysBetweenReminders": 2, "maxReminders": 5,
               "fallbackApproverRef": fallback_ref(&fb)})
    );
    let schemes =
        json!([{"approverType": "MANAGER"}, {"approverType": "GOVERNANCE_GROUP", "approverId": g}]);
    let access = &v2024["entitlementRequestConfig"]["accessRequestConfig"];
    assert_eq!(access["approvalSchemes"], schemes);
    assert_eq!(access["requestCommentRequired"], true);
    assert_eq!(
        get(&app, V1).await["entitlementRequestConfig"],
        v2024["entitlementRequestConfig"]
    );
    let v2 = get(&app, V2).await;
    assert_eq!(
        v2["entitlementRequestConfig"]["accessRequestConfig"]["approvalSchemes"],
        schemes
    );
    assert_eq!(
        v2["requestOnBehalfOfConfig"]["allowRequestOnBehalfOfEmployeeByManager"],
        true
    );
    assert!(v2.get("autoApprovalEnabled").is_none());
    assert_eq!(get(&app, BETA).await, get(&app, V3).await);

    // Set through v2024: what v3 can show changes, what it cannot keeps.
    put(
        &app,
        V2024,
        json!({
            "autoApprovalEnabled": true,
            "approvalReminderAndEscalationConfig": {"maxReminders": 0},
            "entitlementRequestConfig": {
                "accessRequestConfig": {"approvalSchemes": [
                    {"approverType": "WORKFLOW", "approverId": "wf-1"},
                    {"approverType": "ENTITLEMENT_OWNER"}
                ], "requireEndDate": true},
                "revocationRequestConfig": {"approvalSchemes": [{"approverType": "MANAGER"}]}
            }
        }),
    )
    .await;
    let v3 = get(&app, V3).await;
    let flat = &v3["entitlementRequestConfig"];
    // A workflow step has no flat spelling; 0 reminders is below v3's minimum and reads as unset.
    assert_eq!(flat["grantRequestApprovalSchemes"], "entitlementOwner");
    assert_eq!(flat["allowEntitlementRequest"], true, "v2024 cannot say it");
    assert_eq!(flat["requestCommentsRequired"], false, "v2024 replaced it");
    assert!(v3["approvalReminderAndEscalationConfig"]["maxReminders"].is_null());
    assert!(
        get(&app, V2024).await["approvalReminderAndEscalationConfig"]["maxReminders"].is_null()
    );
    assert_eq!(
        get(&app, V1).await["approvalReminderAndEscalationConfig"]["maxReminders"],
        0
    );
    assert_eq!(stored(&app).await.reminders.max_reminders, Some(0));

    // A v3 PUT replaces what v3 says and keeps revocation schemes and the end-date rule.
    put(
        &app,
        V3,
        json!({"autoApprovalEnabled": true, "approvalReminderAndEscalationConfig": {"maxReminders": 4}}),
    )
    .await;
    let access = get(&app, V2024).await["entitlementRequestConfig"].clone();
    assert_eq!(
        access["accessRequestConfig"]["approvalSchemes"],
        json!([{"approverType": "SOURCE_OWNER"}])
    );
    assert_eq!(access["accessRequestConfig"]["requireEndDate"], true);
    assert_eq!(
        access["revocationRequestConfig"]["approvalSchemes"],
        json!([{"approverType": "MANAGER"}])
    );

    // A V2 PUT replaces what V2 says and keeps auto-approval and the reminders.
    put(
        &app,
        V2,
        json!({"approvalsMustBeExternal": true, "govGroupVisibilityEnabled": true,
               "requestOnBehalfOfConfig": {"allowRequestForMachineByOwner": true}}),
    )
    .await;
    let v3 = get(&app, V3).await;
    assert_eq!(v3["approvalsMustBeExternal"], true);
    assert_eq!(v3["autoApprovalEnabled"], true);
    assert_eq!(v3["approvalReminderAndEscalationConfig"]["maxReminders"], 4);
    let v1 = get(&app, V1).await;
    assert_eq!(
        v1["requestOnBehalfOfConfig"],
        json!({"allowRequestOnBehalfOfAnyoneByAnyone": false,
               "allowRequestOnBehalfOfEmployeeByManager": false,
               "allowRequestOnBehalfOfForMachineIdentity": true,
               "allowRequestForMachineByOwner": true})
    );
    assert_eq!(
        v1["entitlementRequestConfig"],
        nested_entitlement_defaults(),
        "V2 replaced the entitlement settings"
    );
    let s = stored(&app).await;
    assert!(s.gov_group_visibility_enabled && s.auto_approval_enabled);
}

#[tokio::test]
async fn refusals_name_the_rule_and_change_nothing() {
    let app = TestApp::new().await;
    let fb = fallback_person(&app).await;
    let g = workgroup(&app, "Approvers", &fb).await;
    // A group and a person of another tenant.
    let (other_group, other_person) = ("a".repeat(32), "b".repeat(32));
    let (og, op) = (other_group.clone(), other_person.clone());
    app.state
        .store()
        .write(move |c| {
            c.execute(
                "insert into tenant (id, name, created) values ('other', 'other', 0)",
                &[],
            )?;
            identities::insert(c, &IdentityRecord::new(&op, "other", "stranger", T))?;
            governance_groups::insert(
                c,
                &GovernanceGroup {
                    id: og,
                    tenant_id: "other".into(),
                    name: "Elsewhere".into(),
                    description: None,
                    owner_id: None,
                    created: T,
                    modified: T,
                },
            )
        })
        .await
        .unwrap();
    put(
        &app,
        V2024,
        json!({"autoApprovalEnabled": true,
               "approvalReminderAndEscalationConfig": {"maxReminders": 2, "fallbackApproverRef": {"id": fb}},
               "entitlementRequestConfig": {"accessRequestConfig": {"approvalSchemes": [
                   {"approverType": "GOVERNANCE_GROUP", "approverId": g}]}}}),
    )
    .await;
    let before = stored(&app).await;
    let nested = |schemes: Value| json!({"entitlementRequestConfig": {"accessRequestConfig": {"approvalSchemes": schemes}}});
    let flat = |schemes: &str| json!({"entitlementRequestConfig": {"grantRequestApprovalSchemes": schemes}});
    let reminders = |r: Value| json!({"approvalReminderAndEscalationConfig": r});
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            V2024,
            nested(json!([{"approverType": "OWNER"}])),
            &[
                "accessRequestConfig.approvalSchemes[0].approverType",
                "ENTITLEMENT_OWNER",
                "OWNER",
            ],
        ),
        (
            V2,
            json!({"entitlementRequestConfig": {"revocationRequestConfig": {"approvalSchemes": [
                {"approverType": "MANAGER"}, {"approverType": "APP_OWNER"}]}}}),
            &[
                "revocationRequestConfig.approvalSchemes[1].approverType",
                "APP_OWNER",
            ],
        ),
        (
            V3,
            flat("manager,owner"),
            &[
                "grantRequestApprovalSchemes",
                "unknown approval scheme 'owner'",
                "workgroup:{id}",
            ],
        ),
        (
            BETA,
            flat("MANAGER"),
            &["grantRequestApprovalSchemes", "'MANAGER'"],
        ),
        (
            V3,
            flat("manager,,sourceOwner"),
            &["grantRequestApprovalSchemes", "empty entry"],
        ),
        (
            V3,
            flat("workgroup:"),
            &[
                "grantRequestApprovalSchemes",
                "without a governance group id",
            ],
        ),
        (
            V3,
            flat("workgroup:nosuchgroup"),
            &[
                "grantRequestApprovalSchemes",
                "governance group 'nosuchgroup'",
                "does not exist",
            ],
        ),
        (
            BETA,
            flat(&format!("workgroup:{other_group}")),
            &[
                "grantRequestApprovalSchemes",
                "governance group 'aaaaaaaa",
                "does not exist",
            ],
        ),
        (
            V1,
            nested(json!([{"approverType": "GOVERNANCE_GROUP", "approverId": "nosuchgroup"}])),
            &[
                "approvalSchemes[0].approverId",
                "governance group 'nosuchgroup'",
                "does not exist",
            ],
        ),
        (
            V2024,
            nested(json!([{"approverType": "GOVERNANCE_GROUP", "approverId": other_group}])),
            &["approvalSchemes[0].approverId", "does not exist"],
        ),
        (
            V2024,
            nested(json!([{"approverType": "MANAGER"}, {"approverType": "GOVERNANCE_GROUP"}])),
            &[
                "approvalSchemes[1].approverId",
                "is required",
                "GOVERNANCE_GROUP",
            ],
        ),
        (
            V2,
            nested(json!([{"approverType": "GOVERNANCE_GROUP", "approverId": null}])),
            &["approvalSchemes[0].approverId", "is required"],
        ),
        (
            V3,
            reminders(json!({"fallbackApproverRef": {"type": "IDENTITY", "id": "nosuchperson"}})),
            &[
                "fallbackApproverRef.id",
                "identity 'nosuchperson'",
                "does not exist",
            ],
        ),
        (
            V2024,
            reminders(json!({"fallbackApproverRef": {"id": other_person}})),
            &["fallbackApproverRef.id", "does not exist"],
        ),
        (
            V1,
            reminders(json!({"fallbackApproverRef": {"type": "GOVERNANCE_GROUP", "id": g}})),
            &["fallbackApproverRef.type", "must be IDENTITY"],
        ),
        (
            V3,
            reminders(json!({"fallbackApproverRef": {"type": "IDENTITY"}})),
            &["fallbackApproverRef.id", "is required"],
        ),
        (
            V3,
            reminders(json!({"maxReminders": 0})),
            &["maxReminders", "from 1 to 20"],
        ),
        (
            BETA,
            reminders(json!({"maxReminders": 21})),
            &["maxReminders", "from 1 to 20"],
        ),
        (
            V2024,
            reminders(json!({"maxReminders": 21})),
            &["maxReminders", "from 0 to 20"],
        ),
        (
            V1,
            reminders(json!({"maxReminders": -1})),
            &["maxReminders", "from 0 to 20"],
        ),
        (
            V3,
            reminders(json!({"daysUntilEscalation": -1})),
            &["daysUntilEscalation", "from 0 to"],
        ),
        (
            V1,
            reminders(json!({"daysBetweenReminders": -3})),
            &["daysBetweenReminders", "from 0 to"],
        ),
        (
            V2024,
            reminders(json!({"daysBetweenReminders": 1.5})),
            &["daysBetweenReminders", "whole number"],
        ),
        (
            V2024,
            json!({"entitlementRequestConfig": {"accessRequestConfig": {
                "maxPermittedAccessDuration": {"value": 3, "timeUnit": "YEARS"}}}}),
            &[
                "maxPermittedAccessDuration.timeUnit",
                "HOURS, DAYS, WEEKS, MONTHS",
            ],
        ),
        (
            V1,
            json!({"entitlementRequestConfig": {"accessRequestConfig": {
                "maxPermittedAccessDuration": {"value": -3, "timeUnit": "DAYS"}}}}),
            &["maxPermittedAccessDuration.value", "from 1 to"],
        ),
        (
            V3,
            json!({"autoApprovalEnabled": "yes"}),
            &["autoApprovalEnabled", "true or false"],
        ),
        (
            V2,
            json!({"machineIdentityAccessRequestEnabled": null}),
            &["machineIdentityAccessRequestEnabled", "true or false"],
        ),
        (
            V2024,
            json!({"requestOnBehalfOfConfig": []}),
            &["requestOnBehalfOfConfig", "must be an object"],
        ),
        (V3, json!([]), &["AccessRequestConfig object"]),
    ];
    for (url, body, needles) in cases {
        let r = app.admin("PUT", url, Some(body.clone())).await;
        let text = assert_error(&r, StatusCode::BAD_REQUEST);
        for n in needles {
            assert!(text.contains(n), "PUT {url} {body}: '{n}' not in: {text}");
        }
        assert_eq!(
            stored(&app).await,
            before,
            "PUT {url} {body} changed the configuration"
        );
    }
}

#[tokio::test]
async fn a_user_may_read_but_not_write() {
    let app = TestApp::new().await;
    let (_, token) = app.person("reader", &["USER"]).await;
    put(&app, V3, json!({"autoApprovalEnabled": true})).await;
    let before = stored(&app).await;
    for url in ALL {
        let r = app.call("GET", url, Some(&token), None).await;
        assert_eq!(r.status, StatusCode::OK, "GET {url}: {}", r.text);
        assert_eq!(r.body, get(&app, url).await, "{url}");
        let r = app
            .call(
                "PUT",
                url,
                Some(&token),
                Some(json!({"autoApprovalEnabled": false})),
            )
            .await;
        let text = assert_error(&r, StatusCode::FORBIDDEN);
        assert!(text.contains("ORG_ADMIN"), "{url}: {text}");
    }
    assert_eq!(stored(&app).await, before);
}

#[tokio::test]
async fn a_governance_group_the_configuration_names_cannot_be_deleted() {
    let app = TestApp::new().await;
    let fb = fallback_person(&app).await;
    let g = workgroup(&app, "Revokers", &fb).await;
    put(
        &app,
        V2024,
        json!({"entitlementRequestConfig": {"revocationRequestConfig": {"approvalSchemes": [
            {"approverType": "GOVERNANCE_GROUP", "approverId": g}]}}}),
    )
    .await;
    let path = format!("/v2024/workgroups/{g}");
    let text = assert_error(
        &app.admin("DELETE", &path, None).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(text.contains("access request configuration"), "{text}");
    // v3 cannot see the revocation schemes, so its PUT keeps them.
    put(&app, V3, json!({})).await;
    assert_error(
        &app.admin("DELETE", &path, None).await,
        StatusCode::BAD_REQUEST,
    );
    put(&app, V2024, json!({})).await;
    let r = app.admin("DELETE", &path, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}
