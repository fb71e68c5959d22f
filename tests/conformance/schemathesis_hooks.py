"""schemathesis hooks (loaded by run.sh through the config file's `hooks` key).

Stateful testing follows links (create -> get/patch/delete) only from creates that succeeded. The
create schemas allow much that Gatehouse's business rules refuse (null or blank names, token
lifetimes out of range, expiration dates in the past or beyond six months, ...), so without help
nearly every generated OAuth client create is a 400 and the links from it are never exercised.

In the STATEFUL phase only, and only for schema-valid (positive) create bodies, this nudges the
few fields that break a business rule into the accepted range. The examples, coverage and fuzzing
phases still send unmodified data, so the business-rule rejections stay under test there (every
400 is still checked for status code, content type and ErrorResponseDto shape).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from urllib.parse import urlsplit

import schemathesis
from schemathesis.core.parameters import ParameterLocation

GRANT_NEEDS_REDIRECT = "AUTHORIZATION_CODE"
_serial = itertools.count(1)


def _positive_stateful_body(case) -> bool:
    meta = case.meta
    if meta is None or str(getattr(meta.phase.name, "value", meta.phase.name)) != "stateful":
        return False
    component = meta.components.get(ParameterLocation.BODY)
    mode = component.mode if component is not None else meta.generation.mode
    return mode.is_positive and isinstance(case.body, dict)


def _in_days(days: int) -> str:
    t = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _scopes(body: dict) -> None:
    scope = body.get("scope")
    if isinstance(scope, list):
        kept = [s for s in scope if isinstance(s, str) and s.strip() and len(s) <= 200][:100]
        body["scope"] = kept or None


def _name(body: dict, prefix: str) -> None:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        body["name"] = prefix
    else:
        # Creates in one scenario must not collide on a generated name (PAT names are unique).
        body["name"] = f"{name[:200]}-{next(_serial)}"


def _oauth_client(body: dict) -> None:
    _name(body, "stateful-client")
    validity = body.get("accessTokenValiditySeconds")
    if not isinstance(validity, int) or not 1 <= validity <= 86_400:
        body["accessTokenValiditySeconds"] = 3_600
    refresh = body.get("refreshTokenValiditySeconds")
    if refresh is not None and (not isinstance(refresh, int) or not 1 <= refresh <= 31_536_000):
        body["refreshTokenValiditySeconds"] = 86_400
    grants = body.get("grantTypes")
    if not grants:
        body["grantTypes"] = ["CLIENT_CREDENTIALS"]
    if GRANT_NEEDS_REDIRECT in body["grantTypes"] and not body.get("redirectUris"):
        body["redirectUris"] = ["https://example.com/callback"]
    _scopes(body)


def _pat(body: dict, v1: bool) -> None:
    _name(body, "stateful-pat")
    _scopes(body)
    if v1:
        if body.get("expirationDate") is None:
            body["userAwareTokenNeverExpires"] = True
        else:
            body["expirationDate"] = _in_days(400)
            body["userAwareTokenNeverExpires"] = False
    elif body.get("expirationDate") is not None:
        body["expirationDate"] = _in_days(30)


@schemathesis.hook
def map_case(context, case):
    if case.method.upper() != "POST" or not _positive_stateful_body(case):
        return case
    path = case.operation.path
    body = dict(case.body)
    if path.startswith("/oauth-clients"):
        _oauth_client(body)
    elif path.startswith("/personal-access-tokens"):
        _pat(body, v1=path.endswith("/v1"))
    else:
        return case
    case.body = body
    return case


# ---------------------------------------------------------------------------------------------
# IN-2: the runs without valid credentials (run.sh sets GATEHOUSE_AUTH_MODE for them).
#
#   none     no Authorization header at all
#   expired  a real token of the server, signed by it, whose `exp` has passed
#   user     a token of a person at the USER level only (GATEHOUSE_AUTH_USER_ID is their id)
#
# schemathesis' own `ignored_auth` check only looks at 2xx answers and, when a header was sent,
# takes that header for valid credentials; an expired token that the server wrongly accepted
# would pass it. The check below states what each mode must get instead.

AUTH_MODE = os.environ.get("GATEHOUSE_AUTH_MODE", "")
AUTH_USER_ID = os.environ.get("GATEHOUSE_AUTH_USER_ID", "")

# The operations a person at the USER level may call (any other answers 403), by operationId.
# This is the `user` column of AUTH-1's policy (crates/api/tests/api/route_matrix.rs) restated
# here, not read from the server: their own PATs; access requests they submit or cancel, and
# their status; the approvals and work items assigned to them; the access-request
# configuration; the public identities; and what the v2024/beta specs open to every user level
# (identity and entitlement lists and gets; identity DELETE, which is not built and answers 501).
# In /beta the work-item operations are for admins only (USER_DENIED_PATH_PREFIXES).
USER_OPERATIONS = frozenset(
    {
        "listPersonalAccessTokens", "listPersonalAccessTokensV1",
        "createPersonalAccessToken", "createPersonalAccessTokenV1",
        "patchPersonalAccessToken", "patchPersonalAccessTokenV1",
        "deletePersonalAccessToken", "deletePersonalAccessTokenV1",
        "createAccessRequest", "createAccessRequestV1",
        "cancelAccessRequest", "cancelAccessRequestV1",
        "listAccessRequestStatus", "listAccessRequestStatusV1",
        "getAccessRequestConfig", "getAccessRequestConfigV1", "getAccessRequestConfigV2",
        "listPendingApprovals", "listPendingApprovalsV1",
        "listCompletedApprovals", "listCompletedApprovalsV1",
        "getAccessRequestApprovalSummary", "getAccessRequestApprovalSummaryV1",
        "approveAccessRequest", "approveAccessRequestV1",
        "rejectAccessRequest", "rejectAccessRequestV1",
        "forwardAccessRequest", "forwardAccessRequestV1",
        "listWorkItems", "listWorkItemsV1", "getWorkItem", "getWorkItemV1",
        "getCompletedWorkItems", "getCompletedWorkItemsV1",
        "getCountWorkItems", "getCountWorkItemsV1",
        "getCountCompletedWorkItems", "getCountCompletedWorkItemsV1",
        "getWorkItemsSummary", "getWorkItemsSummaryV1",
        "completeWorkItem", "completeWorkItemV1",
        "approveApprovalItem", "approveApprovalItemV1",
        "rejectApprovalItem", "rejectApprovalItemV1",
        "approveApprovalItemsInBulk", "approveApprovalItemsInBulkV1",
        "rejectApprovalItemsInBulk", "rejectApprovalItemsInBulkV1",
        "loadAccountSelections", "loadAccountSelectionsV1",
        "submitAccountSelection", "submitAccountSelectionV1",
        "forwardWorkItem", "forwardWorkItemV1", "sendWorkItemForward",
        "getPublicIdentities",
        "listIdentities", "getIdentity", "deleteIdentity", "listEntitlements",
    }
)
USER_DENIED_PATH_PREFIXES = ("/beta/work-items",)


def _operation_id(case) -> str:
    return str(case.operation.definition.raw.get("operationId", ""))


def _user_may_call(case, response) -> bool:
    path = urlsplit(response.request.url).path
    return _operation_id(case) in USER_OPERATIONS and not path.startswith(USER_DENIED_PATH_PREFIXES)


@schemathesis.check
def gatehouse_credentials_enforced(ctx, response, case):
    """IN-2: without a valid token every operation is 401; a USER gets 403 outside its operations
    and sees only its own PATs."""
    if case.method.upper() != case.operation.method.upper() and response.status_code == 405:
        # The coverage phase's unexpected methods (TRACE, ...): no route, nothing to authorise.
        return None
    if AUTH_MODE in ("none", "expired"):
        if response.status_code != 401:
            raise AssertionError(
                f"{AUTH_MODE} token: expected 401 from {_operation_id(case)}, got {response.status_code}"
            )
    elif AUTH_MODE == "user":
        op = _operation_id(case)
        if not _user_may_call(case, response) and response.status_code != 403:
            raise AssertionError(f"USER token: expected 403 from {op}, got {response.status_code}")
        if op.startswith("listPersonalAccessTokens") and response.status_code == 200:
            others = [p.get("id") for p in response.json() if (p.get("owner") or {}).get("id") != AUTH_USER_ID]
            if others:
                raise AssertionError(f"USER token: {op} listed PATs of other people: {others[:5]}")
    return None
