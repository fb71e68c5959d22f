"""Service desk integrations through SailPoint's Python SDK (sailpoint==1.4.2), v3 and v2024 modules.

All ten operations, as a user drives them: types and templates, the status-check configuration,
create / get / list (each filter, the sorter, paging and X-Total-Count) / put / patch (the bare JSON
Patch array the SDK sends, and the older ``{"operations": [...]}`` body sent through the SDK's own
ApiClient) / delete, and the refusals: a non-replace patch (403), a duplicate name and references to
objects that do not exist (400). Every answer is decoded by the SDK's pydantic models.

The managed cluster and the sources an integration refers to are created with the v3 SDK's
ManagedClustersApi and SourcesApi. The /service-desk-integrations/v1 family, for which this SDK has
no module, is compared with v3 over raw HTTP.
"""

from __future__ import annotations

import typing
from types import SimpleNamespace

import pytest
from conftest import SDK_VERSIONS, Gatehouse, api, models, unique

VERSIONS = ["v3", "v2024"]
MASK = "********"
RULE_ID = "8f1c0a6e2d3b4c5d6e7f8a9b0c1d2e3f"


def expect_error(version: str, status: int, call, *args, **kwargs):
    """Runs an SDK call that must fail with `status`; returns its decoded ErrorResponseDto."""
    with pytest.raises(SDK_VERSIONS[version].ApiException) as info:
        call(*args, **kwargs)
    e = info.value
    assert e.status == status, f"expected {status}, got {e.status}: {e.body}"
    assert isinstance(e.data, models(version).ErrorResponseDto), f"not an ErrorResponseDto: {e.body}"
    return " ".join(m.text for m in [*(e.data.messages or []), *(e.data.causes or [])])


def replace(version: str, path: str, value):
    """A JSON Patch `replace` (each SDK package names the oneOf wrapper of `value` differently)."""
    op = models(version).JsonPatchOperation
    (wrapper,) = [t for t in typing.get_args(op.model_fields["value"].annotation) if t is not type(None)]
    return op(op="replace", path=path, value=wrapper(value))


def operation(version: str, op: str, path: str, value=None):
    o = models(version).JsonPatchOperation
    if value is None:
        return o(op=op, path=path)
    (wrapper,) = [t for t in typing.get_args(o.model_fields["value"].annotation) if t is not type(None)]
    return o(op=op, path=path, value=wrapper(value))


@pytest.fixture(scope="module")
def desk_catalog(gatehouse: Gatehouse, admin_config, admin_identity_id):
    """A managed cluster and three sources, created with the v3 SDK's catalog APIs."""
    m = models("v3")
    cluster = api("v3", admin_config, "ManagedClustersApi").create_managed_cluster(
        m.ManagedClusterRequest(name=unique("sdim-cluster"), type=m.ManagedClusterTypes.IDN, description="SDIM tests")
    )
    sources_api = api("v3", admin_config, "SourcesApi")
    sources = [
        sources_api.create_source(
            m.Source(
                name=unique("sdim-source"),
                description="a source provisioned through a service desk",
                owner=m.SourceOwner(type="IDENTITY", id=admin_identity_id),
                cluster=m.SourceCluster(type="CLUSTER", id=cluster.id, name=cluster.name),
                connector="delimited-file",
            )
        )
        for _ in range(4)
    ]
    assert cluster.id and all(s.id for s in sources)
    return SimpleNamespace(owner=admin_identity_id, cluster=cluster, sources=sources)


def servicenow(version: str, cat, name: str, sources: list, password: str = "s3cret-pw"):
    m = models(version)
    return m.ServiceDeskIntegrationDto(
        name=name,
        description="tickets for manual changes",
        type="ServiceNowSDIM",
        owner_ref=m.OwnerDto(type="IDENTITY", id=cat.owner),
        cluster_ref=m.SourceClusterDto(type="CLUSTER", id=cat.cluster.id),
        provisioning_config=m.ProvisioningConfig(
            managed_resource_refs=[m.ServiceDeskSource(type="SOURCE", id=s.id) for s in sources],
            no_provisioning_requests=True,
            provisioning_request_expiration=7,
        ),
        before_provisioning_rule=m.BeforeProvisioningRuleDto(type="RULE", id=RULE_ID, name="Before"),
        attributes={"url": "https://acme.service-now.com", "username": "svc-iam", "password": password},
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_types_and_templates(version, gatehouse, admin_config):
    desks = api(version, admin_config, "ServiceDeskIntegrationApi")
    types = desks.get_service_desk_integration_types()
    assert all(isinstance(t, models(version).ServiceDeskIntegrationTemplateType) for t in types)
    assert {(t.type, t.script_name) for t in types} >= {
        ("ServiceNowSDIM", "servicenow"),
        ("JiraSDIM", "jira"),
        ("Web Service SDIM", "generic"),
    }
    for t in types:
        template = desks.get_service_desk_integration_template(t.script_name)
        assert isinstance(template, models(version).ServiceDeskIntegrationTemplateDto)
        assert (template.name, template.type) == (t.name, t.type)
        assert template.attributes["url"]["required"] is True
        assert any(a["secret"] for a in template.attributes.values()), "the credentials are named"
        assert "Committed" in template.attributes["statusMap"]["default"].values()
        assert template.provisioning_config.universal_manager is False
    text = expect_error(version, 404, desks.get_service_desk_integration_template, "no-such-desk")
    assert "no-such-desk" in text


@pytest.mark.parametrize("version", VERSIONS)
def test_status_check_configuration(version, gatehouse, admin_config):
    m = models(version)
    desks = api(version, admin_config, "ServiceDeskIntegrationApi")
    current = desks.get_status_check_details()
    assert isinstance(current, m.QueuedCheckConfigDetails)
    assert (current.provisioning_status_check_interval_minutes, current.provisioning_max_status_check_days) == ("30", "2")
    try:
        updated = desks.update_status_check_details(
            m.QueuedCheckConfigDetails(provisioning_status_check_interval_minutes="45", provisioning_max_status_check_days="3")
        )
        assert (updated.provisioning_status_check_interval_minutes, updated.provisioning_max_status_check_days) == ("45", "3")
        again = desks.get_status_check_details()
        assert (again.provisioning_status_check_interval_minutes, again.provisioning_max_status_check_days) == ("45", "3")
        for minutes, days in [("soon", "3"), ("0", "3"), ("45", "-1")]:
            expect_error(
                version,
                400,
                desks.update_status_check_details,
                m.QueuedCheckConfigDetails(
                    provisioning_status_check_interval_minutes=minutes, provisioning_max_status_check_days=days
                ),
            )
        assert desks.get_status_check_details().provisioning_status_check_interval_minutes == "45"
    finally:
        desks.update_status_check_details(
            m.QueuedCheckConfigDetails(provisioning_status_check_interval_minutes="30", provisioning_max_status_check_days="2")
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_service_desk_integration_lifecycle(version, gatehouse, admin_config, desk_catalog):
    m = models(version)
    cat = desk_catalog
    first, second = (0, 1) if version == "v3" else (2, 3)
    desks = api(version, admin_config, "ServiceDeskIntegrationApi")
    name = unique(f"sdim-{version}")

    created = desks.create_service_desk_integration(servicenow(version, cat, name, [cat.sources[first]]))
    assert isinstance(created, m.ServiceDeskIntegrationDto)
    assert created.id and created.created and created.modified
    assert created.owner_ref.id == cat.owner and created.owner_ref.name
    assert (created.cluster_ref.id, created.cluster_ref.name) == (cat.cluster.id, cat.cluster.name)
    assert created.cluster == cat.cluster.id, "the deprecated field is kept in step"
    assert created.managed_sources == [cat.sources[first].id]
    refs = created.provisioning_config.managed_resource_refs
    assert [(r.id, r.name) for r in refs] == [(cat.sources[first].id, cat.sources[first].name)]
    assert created.provisioning_config.universal_manager is False
    assert created.before_provisioning_rule.id == RULE_ID
    assert created.attributes["password"] == MASK, "credentials are never returned"
    assert created.attributes["ticketType"] == "incident", "template defaults are filled in"

    got = desks.get_service_desk_integration(created.id)
    assert got == created

    # The list, its filters, the sorter, paging and X-Total-Count.
    other = desks.create_service_desk_integration(
        servicenow(version, cat, unique(f"aaa-{version}"), [cat.sources[second]])
    )
    mine = {created.id, other.id}

    def ids(**kwargs):
        return [i.id for i in desks.get_service_desk_integrations(**kwargs)]

    assert set(ids()) >= mine
    assert ids(filters=f'id eq "{created.id}"') == [created.id]
    assert set(ids(filters=f'id in ("{created.id}","{other.id}")')) == mine
    assert ids(filters=f'name eq "{name.upper()}"') == [created.id], "names compare without case"
    assert set(ids(filters='type eq "ServiceNowSDIM"')) >= mine
    assert not set(ids(filters='type in ("JiraSDIM","Web Service SDIM")')) & mine
    assert set(ids(filters=f'cluster eq "{cat.cluster.id}"')) >= mine
    assert set(ids(filters=f'cluster in ("{cat.cluster.id}","nope")')) >= mine
    by_name = [i.name for i in desks.get_service_desk_integrations(sorters="name")]
    assert by_name == sorted(by_name, key=str.lower)
    assert [i.name for i in desks.get_service_desk_integrations(sorters="-name")] == by_name[::-1]
    page = desks.get_service_desk_integrations_with_http_info(
        filters=f'id in ("{created.id}","{other.id}")', sorters="name", limit=1, offset=1, count=True
    )
    assert {k.lower(): v for k, v in page.headers.items()}["x-total-count"] == "2"
    assert [i.id for i in page.data] == [created.id]
    for bad in ['description eq "x"', 'name sw "sdim"', 'cluster ne "x"']:
        expect_error(version, 400, desks.get_service_desk_integrations, filters=bad)
    expect_error(version, 400, desks.get_service_desk_integrations, sorters="created")

    # PUT: a full replace. What GET showed, the mask included, goes back unchanged.
    got.description = "replaced by PUT"
    got.provisioning_config.no_provisioning_requests = False
    put = desks.put_service_desk_integration(created.id, got)
    assert put.description == "replaced by PUT"
    assert put.provisioning_config.no_provisioning_requests is False
    assert put.attributes["password"] == MASK
    assert put.created == created.created
    # ...but the mask cannot follow the integration to a new URL.
    moved = desks.get_service_desk_integration(created.id)
    moved.attributes["url"] = "https://elsewhere.example.com"
    text = expect_error(version, 400, desks.put_service_desk_integration, created.id, moved)
    assert "attributes.url changed" in text and "attributes.password" in text

    # PATCH, the bare array the SDK sends.
    patched = desks.patch_service_desk_integration(
        created.id,
        [replace(version, "/description", "patched"), replace(version, "/attributes/assignmentGroup", "IAM")],
    )
    assert patched.description == "patched"
    assert patched.attributes["assignmentGroup"] == "IAM"
    # PATCH, the {"operations": [...]} body of the older v3 schema, through the SDK's ApiClient.
    client = desks.api_client
    request = client.param_serialize(
        method="PATCH",
        resource_path="/service-desk-integrations/{id}",
        path_params={"id": created.id},
        header_params={"Content-Type": "application/json-patch+json", "Accept": "application/json"},
        body={"operations": [{"op": "replace", "path": "/description", "value": "patched as an object"}]},
        auth_settings=["userAuth"],
    )
    response = client.call_api(*request)
    response.read()
    wrapped = client.response_deserialize(response, {"200": "ServiceDeskIntegrationDto"}).data
    assert isinstance(wrapped, m.ServiceDeskIntegrationDto)
    assert wrapped.description == "patched as an object"
    # Only replace: anything else is a 403, and changes nothing.
    for op in [
        operation(version, "add", "/description", "x"),
        operation(version, "remove", "/ownerRef"),
        operation(version, "test", "/name", name),
    ]:
        expect_error(version, 403, desks.patch_service_desk_integration, created.id, [op])
    expect_error(
        version, 400, desks.patch_service_desk_integration, created.id, [replace(version, "/type", "NoSuchDesk")]
    )
    assert desks.get_service_desk_integration(created.id).description == "patched as an object"

    # Refusals: a duplicate name, references to nothing, a source another integration manages.
    text = expect_error(
        version, 400, desks.create_service_desk_integration, servicenow(version, cat, name.upper(), [])
    )
    assert "already exists" in text
    ghost = "0123456789abcdef0123456789abcdef"
    bad_owner = servicenow(version, cat, unique("x"), [])
    bad_owner.owner_ref = m.OwnerDto(type="IDENTITY", id=ghost)
    assert f"ownerRef: there is no identity '{ghost}'" in expect_error(
        version, 400, desks.create_service_desk_integration, bad_owner
    )
    bad_cluster = servicenow(version, cat, unique("x"), [])
    bad_cluster.cluster_ref = m.SourceClusterDto(type="CLUSTER", id=ghost)
    assert f"there is no managed cluster '{ghost}'" in expect_error(
        version, 400, desks.create_service_desk_integration, bad_cluster
    )
    bad_source = servicenow(version, cat, unique("x"), [SimpleNamespace(id=ghost)])
    assert f"there is no source '{ghost}'" in expect_error(
        version, 400, desks.create_service_desk_integration, bad_source
    )
    taken = servicenow(version, cat, unique("x"), [cat.sources[first]])
    assert "already managed" in expect_error(version, 400, desks.create_service_desk_integration, taken)

    # DELETE: 204, then 404.
    assert desks.delete_service_desk_integration(other.id) is None
    assert desks.delete_service_desk_integration(created.id) is None
    expect_error(version, 404, desks.get_service_desk_integration, created.id)
    expect_error(version, 404, desks.delete_service_desk_integration, created.id)


def test_v1_family_answers_as_v3(gatehouse, admin_config, desk_catalog):
    """/service-desk-integrations/v1 (no module in this SDK) against v3, over raw HTTP."""
    desks = api("v3", admin_config, "ServiceDeskIntegrationApi")
    created = desks.create_service_desk_integration(
        servicenow("v3", desk_catalog, unique("sdim-v1"), [], password="v1-pw")
    )
    for path in [
        f"/service-desk-integrations/{created.id}",
        "/service-desk-integrations/types",
        "/service-desk-integrations/templates/jira",
        "/service-desk-integrations/status-check-configuration",
        f"/service-desk-integrations?filters=id%20eq%20%22{created.id}%22",
    ]:
        v3 = gatehouse.admin("GET", "/v3" + path)
        v1 = gatehouse.admin("GET", path.replace("/service-desk-integrations", "/service-desk-integrations/v1", 1))
        assert (v1.status_code, v1.json()) == (v3.status_code, v3.json()), path
        assert "v1-pw" not in v1.text
    v1 = f"/service-desk-integrations/v1/{created.id}"
    r = gatehouse.admin(
        "PATCH",
        v1,
        json=[{"op": "replace", "path": "/description", "value": "from v1"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status_code == 200 and r.json()["description"] == "from v1", r.text
    r = gatehouse.admin("PATCH", v1, json=[{"op": "remove", "path": "/ownerRef"}])
    assert r.status_code == 403 and r.json()["detailCode"] == "403 Forbidden", r.text
    body = gatehouse.admin("GET", v1).json()
    body["name"] = body["name"] + "-put"
    r = gatehouse.admin("PUT", v1, json=body)
    assert r.status_code == 200 and r.json()["name"] == body["name"], r.text
    assert gatehouse.admin("DELETE", v1).status_code == 204
    assert gatehouse.admin("GET", v1).status_code == 404
