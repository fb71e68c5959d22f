"""Fixtures for the SDK conformance scenarios.

run.sh starts the real release binary and exports:

* SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET - read by ``sailpoint.configuration.Configuration``
  exactly as for any SailPoint SDK user (the admin personal access token's credentials);
* GATEHOUSE_URL - the same base URL, for raw HTTP calls to the token endpoint and the admin API.

Every fixture talks to that server over HTTP; nothing here imports Gatehouse code.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass

import pytest
import requests
import sailpoint.beta
import sailpoint.v3
import sailpoint.v2024
from sailpoint.configuration import Configuration, ConfigurationParams

#: The SDK packages whose families Gatehouse serves (path prefix = package name).
SDK_VERSIONS = {"v3": sailpoint.v3, "v2024": sailpoint.v2024, "beta": sailpoint.beta}

#: Leeway Gatehouse grants on `exp` when it verifies a bearer token (crates/api/src/auth/jwt.rs).
JWT_LEEWAY_SECONDS = 30


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite through tests/conformance/run.sh", returncode=2)
    return value


def sdk_configuration(client_id: str | None = None, client_secret: str | None = None) -> Configuration:
    """A ``Configuration`` as users build it: from SAIL_* variables, or from explicit client credentials.

    The SDK fetches its token from {base}/oauth/token in the constructor; on failure it only prints
    and leaves ``access_token`` as None, so that is asserted here.
    """
    if client_id is None:
        config = Configuration()
    else:
        params = ConfigurationParams()
        params.base_url = _env("SAIL_BASE_URL")
        params.client_id = client_id
        params.client_secret = client_secret
        config = Configuration(params)
    assert config.access_token, f"the SDK could not get a token for client {config.client_id!r}"
    return config


def api(version: str, config: Configuration, name: str):
    """An instance of SDK API class ``name`` (e.g. ``OAuthClientsApi``) of ``version``."""
    package = SDK_VERSIONS[version]
    return getattr(package, name)(package.ApiClient(config))


def models(version: str):
    return SDK_VERSIONS[version].models


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Person:
    """An identity created through Gatehouse's admin API, with a PAT acting as them."""

    id: str
    name: str
    client_id: str
    client_secret: str
    config: Configuration


class Gatehouse:
    """Raw HTTP access to the server under test (token endpoint and admin API)."""

    def __init__(self, base_url: str, admin_id: str, admin_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_id = admin_id
        self.admin_secret = admin_secret
        self.http = requests.Session()
        self.admin_token = self.token(admin_id, admin_secret)

    def url(self, path: str) -> str:
        return self.base_url + path

    def token_response(self, client_id: str, client_secret: str) -> requests.Response:
        return self.http.post(
            self.url("/oauth/token"),
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            timeout=30,
        )

    def token(self, client_id: str, client_secret: str) -> str:
        r = self.token_response(client_id, client_secret)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def admin(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.call(method, path, self.admin_token, **kwargs)

    def create_identity(
        self, authorities: list[str], name: str | None = None, manager_id: str | None = None
    ) -> dict:
        name = name or unique("person")
        r = self.admin(
            "POST",
            "/gatehouse/v1/identities",
            json={
                "name": name,
                "displayName": name.title(),
                "email": f"{name}@example.com",
                "authorities": authorities,
                "managerId": manager_id,
            },
        )
        assert r.status_code == 201, r.text
        return r.json()

    def mint_pat(self, identity_id: str, name: str | None = None) -> dict:
        r = self.admin(
            "POST",
            f"/gatehouse/v1/identities/{identity_id}/personal-access-tokens",
            json={"name": name or unique("pat")},
        )
        assert r.status_code == 200, r.text
        return r.json()

    def person(self, authorities: list[str], manager_id: str | None = None) -> Person:
        identity = self.create_identity(authorities, manager_id=manager_id)
        pat = self.mint_pat(identity["id"])
        return Person(
            id=identity["id"],
            name=identity["name"],
            client_id=pat["id"],
            client_secret=pat["secret"],
            config=sdk_configuration(pat["id"], pat["secret"]),
        )


@pytest.fixture(scope="session")
def gatehouse() -> Gatehouse:
    gh = Gatehouse(_env("GATEHOUSE_URL"), _env("SAIL_CLIENT_ID"), _env("SAIL_CLIENT_SECRET"))
    r = gh.admin("POST", "/gatehouse/v1/tenant/reset")
    assert r.status_code == 200, r.text
    return gh


@pytest.fixture(scope="session")
def admin_config(gatehouse: Gatehouse) -> Configuration:
    """The SDK configured purely from SAIL_BASE_URL / SAIL_CLIENT_ID / SAIL_CLIENT_SECRET."""
    return sdk_configuration()


@pytest.fixture(scope="session")
def admin_identity_id(gatehouse: Gatehouse) -> str:
    r = gatehouse.admin("GET", "/v3/personal-access-tokens?owner-id=me")
    assert r.status_code == 200, r.text
    (pat,) = [p for p in r.json() if p["id"] == gatehouse.admin_id]
    return pat["owner"]["id"]


@pytest.fixture
def user(gatehouse: Gatehouse) -> Person:
    """A fresh person with the USER level only."""
    return gatehouse.person(["USER"])


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_parts(token: str) -> tuple[dict, dict, str]:
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(h))),
        json.loads(base64.urlsafe_b64decode(pad(p))),
        s,
    )


def forge(header: dict, payload: dict, signature: str = "") -> str:
    return f"{_b64(header)}.{_b64(payload)}.{signature}"


@dataclass
class ShortLivedToken:
    token: str
    exp: int


@pytest.fixture(scope="session")
def short_lived_token(gatehouse: Gatehouse) -> ShortLivedToken:
    """A token of an API client whose tokens live 1 s, obtained when the session starts.

    The expiry test runs last (see pytest_collection_modifyitems), so it waits only for what is
    left of exp + Gatehouse's leeway rather than the whole span.
    """
    r = gatehouse.admin(
        "POST",
        "/v3/oauth-clients",
        json={
            "name": unique("short-lived"),
            "description": "tokens that expire at once",
            "accessTokenValiditySeconds": 1,
            "grantTypes": ["CLIENT_CREDENTIALS"],
            "accessType": "OFFLINE",
            "enabled": True,
        },
    )
    assert r.status_code == 200, r.text
    token = gatehouse.token(r.json()["id"], r.json()["secret"])
    return ShortLivedToken(token=token, exp=jwt_parts(token)[1]["exp"])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "run_last: run after every other test (waits on a clock)")


def pytest_collection_modifyitems(session, config, items) -> None:
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)


@pytest.fixture(scope="session", autouse=True)
def _start_short_lived_clock(request) -> None:
    """Obtains the short-lived token at session start when an expiry test was collected."""
    if any(i.get_closest_marker("run_last") for i in request.session.items):
        request.getfixturevalue("short_lived_token")


def wait_until(epoch_seconds: float) -> None:
    delay = epoch_seconds - time.time()
    if delay > 0:
        time.sleep(delay)
