"""Small helpers run.sh calls between the test stages (raw HTTP against the server under test).

    gatehouse_admin.py wait-ready URL SECONDS PID   wait for GET /health/ready = 200 (fails early if PID dies)
    gatehouse_admin.py token URL CLIENT_ID SECRET  print an access token (client-credentials grant)
    gatehouse_admin.py fuzz-token URL ADMIN_TOKEN FAMILY
        empty the tenant (POST /gatehouse/v1/tenant/reset, which keeps the calling admin), create a
        fresh ORG_ADMIN identity for FAMILY's schemathesis run, mint it a PAT and print that PAT's
        access token. Each family thus starts with no OAuth clients and a person holding one PAT.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

import requests


def fail(message: str) -> None:
    print(f"gatehouse_admin.py: {message}", file=sys.stderr)
    sys.exit(1)


def wait_ready(url: str, seconds: float, pid: int) -> None:
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            fail(f"the server (pid {pid}) exited before it was ready")
        try:
            r = requests.get(f"{url}/health/ready", timeout=2)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:200]}"
        except requests.RequestException as e:
            last = type(e).__name__
        time.sleep(0.2)
    fail(f"{url}/health/ready did not answer 200 within {seconds:.0f} s (last: {last})")


def token(url: str, client_id: str, secret: str) -> str:
    r = requests.post(
        f"{url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    if r.status_code != 200:
        fail(f"POST /oauth/token answered {r.status_code}: {r.text[:300]}")
    return r.json()["access_token"]


def admin_call(url: str, admin_token: str, path: str, body: dict | None, expect: int) -> dict:
    r = requests.post(f"{url}{path}", json=body, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    if r.status_code != expect:
        fail(f"POST {path} answered {r.status_code}, expected {expect}: {r.text[:300]}")
    return r.json()


def fuzz_token(url: str, admin_token: str, family: str) -> str:
    admin_call(url, admin_token, "/gatehouse/v1/tenant/reset", None, 200)
    name = f"schemathesis-{family}-{uuid.uuid4().hex[:8]}"
    identity = admin_call(
        url,
        admin_token,
        "/gatehouse/v1/identities",
        {"name": name, "displayName": f"Schemathesis {family}", "authorities": ["ORG_ADMIN"]},
        201,
    )
    pat = admin_call(
        url, admin_token, f"/gatehouse/v1/identities/{identity['id']}/personal-access-tokens", {"name": name}, 200
    )
    return token(url, pat["id"], pat["secret"])


def main(argv: list[str]) -> None:
    match argv:
        case ["wait-ready", url, seconds, pid]:
            wait_ready(url, float(seconds), int(pid))
        case ["token", url, client_id, secret]:
            print(token(url, client_id, secret))
        case ["fuzz-token", url, admin_token, family]:
            print(fuzz_token(url, admin_token, family))
        case _:
            fail(__doc__ or "usage")


if __name__ == "__main__":
    main(sys.argv[1:])
