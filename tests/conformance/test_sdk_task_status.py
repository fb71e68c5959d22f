"""Task status through SailPoint's own Python SDK (sailpoint==1.4.2, v2024 TaskManagementApi) and
`/task-status/v1` over HTTP: background jobs of access requests seen as tasks, and a pending one
cleared so that it never runs.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import sailpoint.v2024 as v2024
import sailpoint.v3 as v3

from conftest import Gatehouse, api, sdk_configuration, unique


def wait_for(what, probe, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def test_task_status_lifecycle(gatehouse: Gatehouse, admin_config):
    config = sdk_configuration()
    config.experimental = True
    tasks = api("v2024", config, "TaskManagementApi")
    person = gatehouse.person(["USER"])
    role = api("v3", admin_config, "RolesApi").create_role(
        v3.Role(
            name=unique("Task role"),
            owner=v3.OwnerReference(type="IDENTITY", id=person.id, name=person.name),
            access_profiles=[],
            entitlements=[],
            enabled=True,
            requestable=True,
        )
    )
    now = datetime.fromisoformat(gatehouse.admin("GET", "/gatehouse/v1/clock").json()["now"].replace("Z", "+00:00"))
    start = (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    r = gatehouse.call(
        "POST",
        "/v3/access-requests",
        gatehouse.token(person.client_id, person.client_secret),
        json={"requestedFor": [person.id], "requestedItems": [{"type": "ROLE", "id": role.id, "startDate": start}]},
    )
    assert r.status_code == 202, r.text

    # Processing completes at once; provisioning waits for the start date: a pending task.
    pending = wait_for(
        "the provisioning task",
        lambda: [t for t in tasks.get_pending_tasks() if t.unique_name == "Access Request Provisioning"],
    )
    task = pending[0]
    assert task.type == "QUEUED_TASK" and task.completion_status is None
    assert task.target.id == person.id
    head = tasks.get_pending_task_headers_with_http_info()
    headers = {k.lower(): v for k, v in head.headers.items()}
    assert head.status_code == 200 and int(headers["x-total-count"]) >= 1
    done = wait_for(
        "the processing task",
        lambda: [t for t in tasks.get_task_status_list(filters='completionStatus eq "SUCCESS"')
                 if t.unique_name == "Access Request Processing"],
    )
    assert done[0].completed is not None
    assert tasks.get_task_status(task.id).id == task.id

    # v1 lists every task; `completionStatus isnull` selects the pending ones.
    r = gatehouse.admin("GET", "/task-status/v1", params={"filters": "completionStatus isnull"})
    assert r.status_code == 200, r.text
    assert task.id in [t["id"] for t in r.json()]

    # Clearing the pending task: the job is cancelled and the access never arrives.
    cleared = tasks.update_task_status(
        task.id,
        [
            v2024.JsonPatchOperation(op="replace", path="/completionStatus", value=v2024.UpdateMultiHostSourcesRequestInnerValue("TERMINATED")),
        ],
    )
    assert cleared.completion_status == "TERMINATED"
    assert gatehouse.admin("POST", "/gatehouse/v1/clock", json={"advance": "P4D"}).status_code == 200
    time.sleep(0.5)
    held = gatehouse.admin("GET", f"/gatehouse/v1/identities/{person.id}/access").json()
    assert not [a for a in held if a["itemId"] == role.id]
    r = gatehouse.admin("GET", f"/task-status/v1/{task.id}")
    assert r.status_code == 200 and r.json()["completionStatus"] == "TERMINATED"
