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
