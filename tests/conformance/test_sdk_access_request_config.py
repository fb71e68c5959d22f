"""The access-request configuration through SailPoint's Python SDK (sailpoint==1.4.2).

``AccessRequestsApi.get_access_request_config`` / ``set_access_request_config`` of the v3, beta
(flat ``entitlementRequestConfig``) and v2024 (nested ``accessRequestConfig`` /
``revocationRequestConfig``) modules: SailPoint's defaults, a round trip in each module, one stored
configuration seen through the others, the refusals (400 ErrorResponseDto naming the rule, nothing
changed) and a USER who may read but not write (403). Every answer is decoded by the SDK's pydantic
models. ``/access-request-config/v1`` and ``/v2``, for which this SDK has no module, are driven over
raw HTTP.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import SDK_VERSIONS, Gatehouse, Person, api, models, unique

FLAT = ["v3", "beta"]
VERSIONS = ["v3", "beta", "v2024"]


def expect_error(version: str, status: int, call, *args, **kwargs) -> str:
    """Runs an SDK call that must fail with `status`; returns the texts of its ErrorResponseDto."""
    with pytest.raises(SDK_VERSIONS[version].ApiException) as info:
        call(*args, **kwargs)
    e = info.value
    assert e.status == status, f"expected {status}, got {e.status}: {e.body}"
    assert isinstance(e.data, models(version).ErrorResponseDto), f"not an ErrorResponseDto: {e.body}"
    return " ".join(m.text for m in [*(e.data.messages or []), *(e.data.causes or [])])


def requests_api(version: str, config):
    return api(version, config, "AccessRequestsApi")


def reset(gatehouse: Gatehouse) -> None:
    """Every setting back to SailPoint's default: v1 and V2 together say all but
    allowEntitlementRequest, which v3 says."""
    for path in ["/access-request-config/v1", "/access-request-config/v2", "/v3/access-request-config"]:
        r = gatehouse.admin("PUT", path, json={})
        assert r.status_code == 200, r.text


@pytest.fixture
def arc(gatehouse: Gatehouse, admin_identity_id):
    """A governance group and a fallback approver; the configuration is reset before and after."""
    fallback = gatehouse.create_identity(["USER"], unique("fallback"))
    # Over HTTP: this SDK's v2024 GovernanceGroupsApi still carries the experimental header.
    r = gatehouse.admin(
        "POST",
        "/v2024/workgroups",
        json={"name": unique("arc-approvers"), "owner": {"type": "IDENTITY", "id": admin_identity_id}},
    )
    assert r.status_code == 200, r.text
    reset(gatehouse)
    yield SimpleNamespace(group=r.json()["id"], fallback=fallback)
    reset(gatehouse)


@pytest.mark.parametrize("version", VERSIONS)
def test_defaults(version, gatehouse, admin_config, arc):
    c = requests_api(version, admin_config).get_access_request_config()
    assert isinstance(c, models(version).AccessRequestConfig)
    assert (c.approvals_must_be_external, c.auto_approval_enabled, c.reauthorization_enabled) == (False, False, False)
    rob = c.request_on_behalf_of_config
    assert (rob.allow_request_on_behalf_of_anyone_by_anyone, rob.allow_request_on_behalf_of_employee_by_manager) == (
        False,
        False,
    )
    r = c.approval_reminder_and_escalation_config
    assert (r.days_until_escalation, r.days_between_reminders, r.max_reminders, r.fallback_approver_ref) == (
        None,
        None,
        None,
        None,
    )
    e = c.entitlement_request_config
    if version in FLAT:
        assert (e.allow_entitlement_request, e.request_comments_required, e.denied_comments_required) == (False,) * 3
        assert e.grant_request_approval_schemes == "sourceOwner"
    else:
        assert [s.approver_type for s in e.access_request_config.approval_schemes] == ["SOURCE_OWNER"]
        assert e.revocation_request_config.approval_schemes == []
        a = e.access_request_config
        assert (a.request_comment_required, a.denial_comment_required, a.require_end_date) == (False,) * 3
        assert a.max_permitted_access_duration is None


@pytest.mark.parametrize("version", FLAT)
def test_flat_round_trip_and_what_v2024_sees(version, gatehouse, admin_config, arc):
    m = models(version)
    flat_model = m.EntitlementRequestConfig if version == "v3" else m.EntitlementRequestConfig1
    body = m.AccessRequestConfig(
        approvals_must_be_external=False,
        auto_approval_enabled=True,
        reauthorization_enabled=True,
        request_on_behalf_of_config=m.RequestOnBehalfOfConfig(
            allow_request_on_behalf_of_anyone_by_anyone=False,
            allow_request_on_behalf_of_employee_by_manager=True,
        ),
        approval_reminder_and_escalation_config=m.ApprovalReminderAndEscalationConfig(
            days_until_escalation=3,
            days_between_reminders=1,
            max_reminders=2,
            fallback_approver_ref=m.IdentityReferenceWithNameAndEmail(type="IDENTITY", id=arc.fallback["id"]),
        ),
        entitlement_request_config=flat_model(
            allow_entitlement_request=True,
            request_comments_required=True,
            denied_comments_required=False,
            grant_request_approval_schemes=f"manager, workgroup:{arc.group}",
        ),
    )
    arcs = requests_api(version, admin_config)
    saved = arcs.set_access_request_config(body)
    assert isinstance(saved, m.AccessRequestConfig)
    assert saved == arcs.get_access_request_config()
    assert saved.auto_approval_enabled is True and saved.reauthorization_enabled is True
    assert saved.request_on_behalf_of_config.allow_request_on_behalf_of_employee_by_manager is True
    r = saved.approval_reminder_and_escalation_config
    assert (r.days_until_escalation, r.days_between_reminders, r.max_reminders) == (3, 1, 2)
    # The fallback approver's name and e-mail are read-only: the identity's.
    f = r.fallback_approver_ref
    assert (f.type, f.id, f.name, f.email) == (
        "IDENTITY",
        arc.fallback["id"],
        arc.fallback["displayName"],
        arc.fallback["email"],
    )
    e = saved.entitlement_request_config
    assert (e.allow_entitlement_request, e.request_comments_required) == (True, True)
    assert e.grant_request_approval_schemes == f"manager,workgroup:{arc.group}"

    # The same configuration through v2024's nested shape.
    nested = requests_api("v2024", admin_config).get_access_request_config()
    assert nested.auto_approval_enabled is True
    assert nested.approval_reminder_and_escalation_config.max_reminders == 2
    steps = nested.entitlement_request_config.access_request_config.approval_schemes
    assert [(s.approver_type, s.approver_id) for s in steps] == [("MANAGER", None), ("GOVERNANCE_GROUP", arc.group)]
    assert nested.entitlement_request_config.access_request_config.request_comment_required is True
    # ...and through V2 (raw HTTP: no module in this SDK).
    v2 = gatehouse.admin("GET", "/access-request-config/v2").json()
    assert v2["entitlementRequestConfig"]["accessRequestConfig"]["approvalSchemes"] == [
        {"approverType": "MANAGER"},
        {"approverType": "GOVERNANCE_GROUP", "approverId": arc.group},
    ]
    assert "autoApprovalEnabled" not in v2


def test_nested_round_trip_and_what_v3_keeps(gatehouse, admin_config, arc):
    m = models("v2024")
    arcs = requests_api("v2024", admin_config)
    body = m.AccessRequestConfig(
        auto_approval_enabled=False,
        approval_reminder_and_escalation_config=m.ApprovalReminderAndEscalationConfig(max_reminders=20),
        entitlement_request_config=m.EntitlementRequestConfig(
            access_request_config=m.EntitlementAccessRequestConfig(
                approval_schemes=[
                    m.EntitlementApprovalScheme(approver_type="GOVERNANCE_GROUP", approver_id=arc.group),
                    m.EntitlementApprovalScheme(approver_type="ENTITLEMENT_OWNER"),
                ],
                request_comment_required=True,
                denial_comment_required=True,
                require_end_date=True,
                max_permitted_access_duration=m.PendingApprovalMaxPermittedAccessDuration(value=90, time_unit="DAYS"),
            ),
            revocation_request_config=m.EntitlementRevocationRequestConfig(
                approval_schemes=[m.EntitlementApprovalScheme(approver_type="MANAGER")]
            ),
        ),
    )
    saved = arcs.set_access_request_config(body)
    assert saved == arcs.get_access_request_config()
    a = saved.entitlement_request_config.access_request_config
    assert [(s.approver_type, s.approver_id) for s in a.approval_schemes] == [
        ("GOVERNANCE_GROUP", arc.group),
        ("ENTITLEMENT_OWNER", None),
    ]
    assert (a.request_comment_required, a.denial_comment_required, a.require_end_date) == (True, True, True)
    assert (a.max_permitted_access_duration.value, a.max_permitted_access_duration.time_unit) == (90, "DAYS")
    assert [s.approver_type for s in saved.entitlement_request_config.revocation_request_config.approval_schemes] == [
        "MANAGER"
    ]
    assert saved.approval_reminder_and_escalation_config.max_reminders == 20

    flat = requests_api("v3", admin_config).get_access_request_config().entitlement_request_config
    assert flat.grant_request_approval_schemes == f"workgroup:{arc.group},entitlementOwner"
    assert (flat.request_comments_required, flat.denied_comments_required) == (True, True)

    # A v3 PUT replaces what v3 says and keeps what it cannot say (revocation steps, end dates).
    v3 = models("v3")
    requests_api("v3", admin_config).set_access_request_config(
        v3.AccessRequestConfig(entitlement_request_config=v3.EntitlementRequestConfig(grant_request_approval_schemes=""))
    )
    after = arcs.get_access_request_config().entitlement_request_config
    assert after.access_request_config.approval_schemes == []
    assert after.access_request_config.require_end_date is True
    assert [s.approver_type for s in after.revocation_request_config.approval_schemes] == ["MANAGER"]

    # A maxReminders of 0, which v2024 and v1 allow, is answered as unset to this SDK's models
    # (their minimum is 1) and as 0 by /access-request-config/v1.
    r = gatehouse.admin("PUT", "/v2024/access-request-config", json={"approvalReminderAndEscalationConfig": {"maxReminders": 0}})
    assert r.status_code == 200, r.text
    assert arcs.get_access_request_config().approval_reminder_and_escalation_config.max_reminders is None
    v1 = gatehouse.admin("GET", "/access-request-config/v1").json()
    assert v1["approvalReminderAndEscalationConfig"]["maxReminders"] == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_refusals_change_nothing(version, gatehouse, admin_config, arc):
    m = models(version)
    arcs = requests_api(version, admin_config)
    before = arcs.set_access_request_config(m.AccessRequestConfig(auto_approval_enabled=True))
    ghost = "0" * 32
    if version in FLAT:
        flat_model = m.EntitlementRequestConfig if version == "v3" else m.EntitlementRequestConfig1

        def schemes(value):
            return m.AccessRequestConfig(entitlement_request_config=flat_model(grant_request_approval_schemes=value))

        bad = [
            (schemes("manager,owner"), ["grantRequestApprovalSchemes", "unknown approval scheme 'owner'"]),
            (schemes(f"workgroup:{ghost}"), [f"governance group '{ghost}'", "does not exist"]),
        ]
    else:

        def schemes(*steps):
            return m.AccessRequestConfig(
                entitlement_request_config=m.EntitlementRequestConfig(
                    access_request_config=m.EntitlementAccessRequestConfig(approval_schemes=list(steps))
                )
            )

        bad = [
            (
                schemes(m.EntitlementApprovalScheme(approver_type="GOVERNANCE_GROUP", approver_id=ghost)),
                ["approvalSchemes[0].approverId", "does not exist"],
            ),
            (
                schemes(m.EntitlementApprovalScheme(approver_type="GOVERNANCE_GROUP")),
                ["approvalSchemes[0].approverId", "is required"],
            ),
        ]
    reminders = m.ApprovalReminderAndEscalationConfig
    ref = m.IdentityReferenceWithNameAndEmail
    bad += [
        (
            m.AccessRequestConfig(approval_reminder_and_escalation_config=reminders(fallback_approver_ref=ref(id=ghost))),
            ["fallbackApproverRef.id", f"identity '{ghost}'", "does not exist"],
        ),
        (
            m.AccessRequestConfig(approval_reminder_and_escalation_config=reminders(days_until_escalation=-1)),
            ["daysUntilEscalation", "from 0"],
        ),
        (
            m.AccessRequestConfig(approval_reminder_and_escalation_config=reminders(max_reminders=21)),
            ["maxReminders", "to 20"],
        ),
    ]
    for body, needles in bad:
        text = expect_error(version, 400, arcs.set_access_request_config, body)
        for needle in needles:
            assert needle in text, f"{needle!r} not in {text!r}"
        assert arcs.get_access_request_config() == before
    # An approver type outside the enum (the SDK only warns) is refused by the server.
    if version == "v2024":
        with pytest.warns(UserWarning):
            step = m.EntitlementApprovalScheme(approver_type="APP_OWNER")
        text = expect_error(version, 400, arcs.set_access_request_config, schemes(step))
        assert "approverType" in text and "ENTITLEMENT_OWNER" in text
        assert arcs.get_access_request_config() == before


@pytest.mark.parametrize("version", VERSIONS)
def test_a_user_reads_but_does_not_write(version, gatehouse, admin_config, user: Person, arc):
    m = models(version)
    mine = requests_api(version, user.config)
    current = requests_api(version, admin_config).get_access_request_config()
    assert mine.get_access_request_config() == current
    expect_error(version, 403, mine.set_access_request_config, m.AccessRequestConfig(auto_approval_enabled=True))
    assert requests_api(version, admin_config).get_access_request_config() == current


def test_v1_and_v2_over_http(gatehouse, admin_config, arc, user: Person):
    """/access-request-config/v1 (deprecated) and /v2, for which this SDK has no module."""
    r = gatehouse.admin("GET", "/access-request-config/v1")
    assert r.status_code == 200 and r.headers.get("X-Deprecated") == "true", r.text
    assert r.json()["requestOnBehalfOfConfig"]["allowRequestOnBehalfOfForMachineIdentity"] is True
    r = gatehouse.admin(
        "PUT",
        "/access-request-config/v2",
        json={
            "govGroupVisibilityEnabled": True,
            "machineIdentityAccessRequestEnabled": False,
            "requestOnBehalfOfConfig": {"allowRequestForMachineByOwner": True},
            "entitlementRequestConfig": {
                "accessRequestConfig": {"approvalSchemes": [{"approverType": "MANAGER"}], "formDefinitionId": "form-1"}
            },
        },
    )
    assert r.status_code == 200 and "X-Deprecated" not in r.headers, r.text
    v2 = r.json()
    assert gatehouse.admin("GET", "/access-request-config/v2").json() == v2
    assert (v2["govGroupVisibilityEnabled"], v2["machineIdentityAccessRequestEnabled"]) == (True, False)
    v1 = gatehouse.admin("GET", "/access-request-config/v1").json()
    assert v1["requestOnBehalfOfConfig"]["allowRequestForMachineByOwner"] is True
    assert v1["entitlementRequestConfig"]["accessRequestConfig"]["formDefinitionId"] == "form-1"
    # v2024 sees the same approval steps.
    steps = requests_api("v2024", admin_config).get_access_request_config().entitlement_request_config
    assert [s.approver_type for s in steps.access_request_config.approval_schemes] == ["MANAGER"]
    r = gatehouse.admin("PUT", "/access-request-config/v2", json={"govGroupVisibilityEnabled": "yes"})
    assert r.status_code == 400 and "govGroupVisibilityEnabled" in r.text, r.text
    token = gatehouse.token(user.client_id, user.client_secret)
    for path in ["/access-request-config/v1", "/access-request-config/v2"]:
        assert gatehouse.call("GET", path, token).status_code == 200
        r = gatehouse.call("PUT", path, token, json={})
        assert r.status_code == 403 and r.json()["detailCode"] == "403 Forbidden", r.text
