"""The catalog through SailPoint's own Python SDK (sailpoint==1.4.2), as a user would drive it.

Configured from the variables the SDK reads itself: SAIL_BASE_URL, SAIL_CLIENT_ID,
SAIL_CLIENT_SECRET (an ORG_ADMIN personal access token). Entitlements have no create operation
(they come from source imports), so the scenario builds everything else: a managed cluster, a
source, an access profile, a role and a governance group, and lists them with documented filters
in v3 and v2024. An undocumented filter is a 400.
"""
import os
import uuid

import pytest

sailpoint = pytest.importorskip("sailpoint")
from sailpoint.configuration import Configuration  # noqa: E402
import sailpoint.v3 as v3  # noqa: E402
import sailpoint.v2024 as v2024  # noqa: E402

pytestmark = pytest.mark.skipif(
    not os.environ.get("SAIL_BASE_URL"), reason="SAIL_BASE_URL is not set"
)


@pytest.fixture(scope="module")
def config():
    c = Configuration()
    c.experimental = True
    return c


@pytest.fixture(scope="module")
def clients(config):
    a = v3.ApiClient(config)
    b = v2024.ApiClient(config)
    yield a, b


def _me(b):
    # The PAT's owner is the ORG_ADMIN the scenario acts as; find them by the token's user name.
    people = v2024.IdentitiesApi(b).list_identities(default_filter="NONE", limit=250)
    assert people, "the directory lists the admin"
    return people[0]


def test_catalog_scenario(clients):
    a, b = clients
    tag = uuid.uuid4().hex[:8]
    owner = _me(b)
    owner_ref = {"type": "IDENTITY", "id": owner.id, "name": owner.name}

    cluster = v3.ManagedClustersApi(a).create_managed_cluster(
        v3.ManagedClusterRequest(name=f"cluster-{tag}", type="idn", description="VA")
    )
    assert cluster.id and cluster.name == f"cluster-{tag}"

    source = v3.SourcesApi(a).create_source(
        v3.Source(
            name=f"HR-{tag}",
            owner=v3.SourceOwner(type="IDENTITY", id=owner.id, name=owner.name),
            cluster=v3.SourceCluster(type="CLUSTER", id=cluster.id, name=cluster.name),
            connector="delimited-file",
            description="people",
        )
    )
    assert source.owner.id == owner.id and source.cluster.id == cluster.id

    group = v2024.GovernanceGroupsApi(b).create_workgroup(
        v2024.WorkgroupDto(name=f"approvers-{tag}", description="approve", owner=owner_ref)
    )
    assert group.id and group.member_count == 0

    profile = v3.AccessProfilesApi(a).create_access_profile(
        v3.AccessProfile(
            name=f"HR basic {tag}",
            owner=v3.OwnerReference(**owner_ref),
            source=v3.AccessProfileSourceRef(type="SOURCE", id=source.id, name=source.name),
            entitlements=[],
            requestable=True,
            access_request_config=v3.Requestability(
                comments_required=True,
                approval_schemes=[
                    v3.AccessProfileApprovalScheme(approver_type="GOVERNANCE_GROUP", approver_id=group.id)
                ],
            ),
        )
    )
    assert profile.source.id == source.id

    role = v3.RolesApi(a).create_role(
        v3.Role(
            name=f"Clerk {tag}",
            owner=v3.OwnerReference(**owner_ref),
            access_profiles=[v3.AccessProfileRef(type="ACCESS_PROFILE", id=profile.id, name=profile.name)],
            entitlements=[],
            requestable=True,
        )
    )
    assert role.access_profiles[0].id == profile.id

    # Documented filters, in v3 and v2024.
    assert [s.id for s in v3.SourcesApi(a).list_sources(filters=f'name eq "HR-{tag}"')] == [source.id]
    assert [s.id for s in v2024.SourcesApi(b).list_sources(filters=f'id eq "{source.id}"')] == [source.id]
    assert [p.id for p in v3.AccessProfilesApi(a).list_access_profiles(filters=f'source.id eq "{source.id}"')] == [profile.id]
    assert [p.id for p in v2024.AccessProfilesApi(b).list_access_profiles(filters=f'name sw "HR basic {tag}"')] == [profile.id]
    assert [r.id for r in v3.RolesApi(a).list_roles(filters=f'name eq "Clerk {tag}"')] == [role.id]
    assert [r.id for r in v2024.RolesApi(b).list_roles(filters=f'id eq "{role.id}"', sorters="-name")] == [role.id]
    assert [g.id for g in v2024.GovernanceGroupsApi(b).list_workgroups(filters=f'name eq "approvers-{tag}"')] == [group.id]
    assert [c.id for c in v3.ManagedClustersApi(a).get_managed_clusters(filters=f'name eq "cluster-{tag}"')] == [cluster.id]
    assert [c.id for c in v2024.ManagedClustersApi(b).get_managed_clusters(filters=f'name eq "cluster-{tag}"')] == [cluster.id]
    assert v2024.IdentitiesApi(b).get_identity(owner.id).id == owner.id
    assert any(p.id == owner.id for p in v3.PublicIdentitiesApi(a).get_public_identities(limit=250))
    assert v2024.EntitlementsApi(b).list_entitlements(filters=f'source.id eq "{source.id}"') == []

    # An undocumented filter is a 400 that names it.
    with pytest.raises(v3.ApiException) as bad:
        v3.SourcesApi(a).list_sources(filters='features ca ("PROVISIONING")')
    assert bad.value.status == 400
    with pytest.raises(v2024.ApiException) as bad:
        v2024.RolesApi(b).list_roles(filters='description eq "x"')
    assert bad.value.status == 400 and "description" in bad.value.body

    # In use: the source has an access profile, the group an approval scheme.
    with pytest.raises(v3.ApiException) as used:
        v3.SourcesApi(a).delete_source(source.id)
    assert used.value.status == 400 and profile.name in used.value.body
    with pytest.raises(v2024.ApiException) as used:
        v2024.GovernanceGroupsApi(b).delete_workgroup(group.id)
    assert used.value.status == 400

    v3.RolesApi(a).delete_role(role.id)
    v3.AccessProfilesApi(a).delete_access_profile(profile.id)
    v2024.GovernanceGroupsApi(b).delete_workgroup(group.id)
    v3.SourcesApi(a).delete_source(source.id)
    v3.ManagedClustersApi(a).delete_managed_cluster(cluster.id)
