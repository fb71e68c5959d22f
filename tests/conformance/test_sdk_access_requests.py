"""Access requests and approvals through SailPoint's own Python SDK (sailpoint==1.4.2).

Each person acts with their own personal access token, as in a real tenant: a requester, their
manager, the access profile's owner, the owner's stand-in, an outsider and the ORG_ADMIN. The
scenario runs the whole lifecycle in v3 and v2024: submit -> manager approves (work items) ->
owner forwards -> the new owner approves (access-request approvals) -> access granted and
visible as an assignment; then a rejection, a cancel, a revoke, a removal date reached by moving
the server's virtual clock, and the submit rules refused with the right status.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import sailpoint.v3 as v3
import sailpoint.v2024 as v2024

from conftest import Gatehouse, Person, api, unique


def wait_for(what, probe, seconds: float = 20.0):
    """Polls `probe` until it returns something truthy (the engine runs in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class World:
    def __init__(self, gh: Gatehouse, admin_config) -> None:
        self.gh = gh
        self.manager = gh.person(["USER"])
        self.requester = gh.person(["USER"], manager_id=self.manager.id)
        self.owner = gh.person(["USER"])
        self.stand_in = gh.person(["USER"])
        self.outsider = gh.person(["USER"])
        tag = unique("ar")
        owner_ref = {"type": "IDENTITY", "id": self.owner.id, "name": self.owner.name}
        source = api("v3", admin_config, "SourcesApi").create_source(
            v3.Source(
                name=f"HR-{tag}",
                owner=v3.SourceOwner(type="IDENTITY", id=self.owner.id, name=self.owner.name),
                connector="delimited-file",
            )
        )
        self.profile = api("v3", admin_config, "AccessProfilesApi").create_access_profile(
            v3.AccessProfile(
                name=f"HR staff {tag}",
                owner=v3.OwnerReference(**owner_ref),
                source=v3.AccessProfileSourceRef(type="SOURCE", id=source.id, name=source.name),
                entitlements=[],
                enabled=True,
                requestable=True,
                access_request_config=v3.Requestability(
                    approval_schemes=[
                        v3.AccessProfileApprovalScheme(approver_type="MANAGER"),
                        v3.AccessProfileApprovalScheme(approver_type="OWNER"),
                    ],
                ),
            )
        )
        self.role = api("v3", admin_config, "RolesApi").create_role(
            v3.Role(
                name=f"Reader {tag}",
                owner=v3.OwnerReference(**owner_ref),
                access_profiles=[],
                entitlements=[],
                enabled=True,
                requestable=True,
            )
        )

    def access(self, identity_id: str) -> list[dict]:
        r = self.gh.admin("GET", f"/gatehouse/v1/identities/{identity_id}/access")
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def world(gatehouse: Gatehouse, admin_config) -> World:
    return World(gatehouse, admin_config)


def pending_items(version: str, who: Person):
    return api(version, who.config, "WorkItemsApi").list_work_items()


def status_of(version: str, who: Person, request_id: str):
    items = api(version, who.config, "AccessRequestsApi").list_access_request_status(
        filters=f'accessRequestId eq "{request_id}"'
    )
    return items[0] if items else None


@pytest.mark.parametrize("version", ["v3", "v2024"])
def test_submit_approve_forward_approve_grant(world: World, version: str):
    sdk = v3 if version == "v3" else v2024
    requests_api = api(version, world.requester.config, "AccessRequestsApi")
    answer = requests_api.create_access_request(
        sdk.AccessRequest(
            requested_for=[world.requester.id],
            request_type="GRANT_ACCESS",
            requested_items=[
                sdk.AccessRequestItem(type="ACCESS_PROFILE", id=world.profile.id, comment="onboarding")
            ],
            client_metadata={"app": "sdk-scenario"},
        )
    )
    assert answer.new_requests and answer.new_requests[0].requested_for == world.requester.id
    (request_id,) = answer.new_requests[0].access_request_ids

    # The manager decides in the work-items API.
    item = wait_for(
        "the manager's work item",
        lambda: [w for w in pending_items(version, world.manager) if w.approval_items and w.approval_items[0].id == request_id],
    )[0]
    assert item.type == "Approval" and item.owner_id == world.manager.id
    # Nobody else sees or decides it.
    with pytest.raises(sdk.ApiException) as e:
        api(version, world.outsider.config, "WorkItemsApi").get_work_item(item.id)
    assert e.value.status == 404
    decided = api(version, world.manager.config, "WorkItemsApi").approve_approval_item(
        item.id, item.approval_items[0].id
    )
    assert decided.state == "Finished"
    with pytest.raises(sdk.ApiException) as e:
        api(version, world.manager.config, "WorkItemsApi").reject_approval_item(item.id, item.approval_items[0].id)
    assert e.value.status == 400

    # The owner forwards theirs to a stand-in, with a comment.
    owner_item = wait_for(
        "the owner's work item",
        lambda: [w for w in pending_items(version, world.owner) if w.approval_items and w.approval_items[0].id == request_id],
    )[0]
    forward = sdk.WorkItemForward(target_owner_id=world.stand_in.id, comment="I am away")
    work_items = api(version, world.owner.config, "WorkItemsApi")
    if version == "v3":
        work_items.send_work_item_forward(owner_item.id, forward)
    else:
        work_items.forward_work_item(owner_item.id, forward)
    assert not [w for w in pending_items(version, world.owner) if w.id == owner_item.id]

    # The stand-in approves through the access-request-approvals API.
    approvals = api(version, world.stand_in.config, "AccessRequestApprovalsApi")
    pending = [p for p in approvals.list_pending_approvals(owner_id="me") if p.id == owner_item.id]
    assert pending, "the forwarded approval is the stand-in's"
    history = pending[0].forward_history
    assert history and history[0].comment == "I am away"
    approvals.approve_access_request(owner_item.id, sdk.CommentDto(comment="fine"))

    done = wait_for(
        "REQUEST_COMPLETED",
        lambda: (s := status_of(version, world.requester, request_id)) and s.state == "REQUEST_COMPLETED" and s,
    )
    assert done.requester.id == world.requester.id and done.requested_for.id == world.requester.id
    assert any(d.forwarded for d in done.approval_details)
    assert done.client_metadata is None or isinstance(done.client_metadata, dict)
    held = [a for a in world.access(world.requester.id) if a["itemId"] == world.profile.id]
    assert held and held[0]["accessRequestId"] == request_id

    # Asking again for what is held reports it as existing.
    again = requests_api.create_access_request(
        sdk.AccessRequest(
            requested_for=[world.requester.id],
            requested_items=[sdk.AccessRequestItem(type="ACCESS_PROFILE", id=world.profile.id)],
        )
    )
    assert not again.new_requests and again.existing_requests

    # The manager revokes it (a manager may revoke their report's access).
    revoke = api(version, world.manager.config, "AccessRequestsApi").create_access_request(
        sdk.AccessRequest(
            requested_for=[world.requester.id],
            request_type="REVOKE_ACCESS",
            requested_items=[
                sdk.AccessRequestItem(type="ACCESS_PROFILE", id=world.profile.id, comment="left the team")
            ],
        )
    )
    assert revoke.new_requests[0].access_request_ids
    # The access profile has no revocation approval schemes: it goes at once.
    wait_for(
        "the revocation",
        lambda: not [a for a in world.access(world.requester.id) if a["itemId"] == world.profile.id],
    )


def test_reject_and_cancel(world: World):
    req = api("v3", world.requester.config, "AccessRequestsApi")
    submitted = req.create_access_request(
        v3.AccessRequest(
            requested_for=[world.requester.id],
            requested_items=[v3.AccessRequestItem(type="ACCESS_PROFILE", id=world.profile.id)],
        )
    )
    (first,) = submitted.new_requests[0].access_request_ids
    item = wait_for(
        "the manager's work item",
        lambda: [w for w in pending_items("v3", world.manager) if w.approval_items and w.approval_items[0].id == first],
    )[0]
    approvals = api("v3", world.manager.config, "AccessRequestApprovalsApi")
    approvals.reject_access_request(item.id, v3.CommentDto(comment="not needed"))
    assert wait_for("REJECTED", lambda: (s := status_of("v3", world.requester, first)) and s.state == "REJECTED")
    assert not [a for a in world.access(world.requester.id) if a["itemId"] == world.profile.id]

    submitted = req.create_access_request(
        v3.AccessRequest(
            requested_for=[world.requester.id],
            requested_items=[v3.AccessRequestItem(type="ACCESS_PROFILE", id=world.profile.id)],
        )
    )
    (second,) = submitted.new_requests[0].access_request_ids
    wait_for("the approval step", lambda: status_of("v3", world.requester, second).cancelable)
    # Someone else may not cancel it.
    with pytest.raises(v3.ApiException) as e:
        api("v3", world.outsider.config, "AccessRequestsApi").cancel_access_request(
            v3.CancelAccessRequest(account_activity_id=second, comment="mine now")
        )
    assert e.value.status in (403, 404)
    req.cancel_access_request(v3.CancelAccessRequest(account_activity_id=second, comment="changed my mind"))
    s = status_of("v3", world.requester, second)
    assert s.state == "CANCELLED" and s.cancelled_request_details.comment == "changed my mind"
    assert not [w for w in pending_items("v3", world.manager) if w.approval_items and w.approval_items[0].id == second]


def test_remove_date_is_honoured_when_the_clock_moves(world: World, gatehouse: Gatehouse):
    now = datetime.fromisoformat(gatehouse.admin("GET", "/gatehouse/v1/clock").json()["now"].replace("Z", "+00:00"))
    remove = now + timedelta(days=2)
    submitted = api("v3", world.outsider.config, "AccessRequestsApi").create_access_request(
        v3.AccessRequest(
            requested_for=[world.outsider.id],
            requested_items=[v3.AccessRequestItem(type="ROLE", id=world.role.id, remove_date=remove)],
        )
    )
    (rid,) = submitted.new_requests[0].access_request_ids
    held = wait_for(
        "the role",
        lambda: [a for a in world.access(world.outsider.id) if a["itemId"] == world.role.id],
    )
    assert held[0]["removeDate"].startswith(remove.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    r = gatehouse.admin("POST", "/gatehouse/v1/clock", json={"advance": "P3D"})
    assert r.status_code == 200, r.text
    wait_for("the removal", lambda: not [a for a in world.access(world.outsider.id) if a["itemId"] == world.role.id])
    assert status_of("v3", world.outsider, rid).state == "REQUEST_COMPLETED"


def test_submit_rules_are_refused(world: World, gatehouse: Gatehouse):
    req = api("v3", world.requester.config, "AccessRequestsApi")
    cases = [
        # Someone else, without on-behalf configuration: 403.
        (v3.AccessRequest(requested_for=[world.outsider.id], requested_items=[v3.AccessRequestItem(type="ROLE", id=world.role.id)]), 403),
        # Revoking one's own access: 400.
        (v3.AccessRequest(requested_for=[world.requester.id], request_type="REVOKE_ACCESS",
                          requested_items=[v3.AccessRequestItem(type="ROLE", id=world.role.id, comment="x")]), 400),
        # Revoking without a comment: 400.
        (v3.AccessRequest(requested_for=[world.outsider.id], request_type="REVOKE_ACCESS",
                          requested_items=[v3.AccessRequestItem(type="ROLE", id=world.role.id)]), 400),
        # Unknown item: 400.
        (v3.AccessRequest(requested_for=[world.requester.id], requested_items=[v3.AccessRequestItem(type="ROLE", id="nope")]), 400),
        # More than 25 entitlements: 400.
        (v3.AccessRequest(requested_for=[world.requester.id],
                          requested_items=[v3.AccessRequestItem(type="ENTITLEMENT", id=f"e{i}") for i in range(26)]), 400),
        # A removal date in the past: 400.
        (v3.AccessRequest(requested_for=[world.requester.id],
                          requested_items=[v3.AccessRequestItem(type="ROLE", id=world.role.id,
                                                                remove_date=datetime(2001, 1, 1, tzinfo=timezone.utc))]), 400),
    ]
    for body, status in cases:
        with pytest.raises(v3.ApiException) as e:
            req.create_access_request(body)
        assert e.value.status == status, e.value.body
        assert "detailCode" in e.value.body
    # A plain API client (no user context) is refused.
    client = gatehouse.admin(
        "POST",
        "/v3/oauth-clients",
        json={"name": unique("ci"), "description": "CI", "accessTokenValiditySeconds": 750,
              "grantTypes": ["CLIENT_CREDENTIALS"], "accessType": "OFFLINE", "enabled": True},
    ).json()
    token = gatehouse.token(client["id"], client["secret"])
    r = gatehouse.call("POST", "/v3/access-requests", token,
                       json={"requestedFor": [world.requester.id], "requestedItems": [{"type": "ROLE", "id": world.role.id}]})
    assert r.status_code == 403 and r.json()["detailCode"]
