"""Small helpers run.sh calls between the test stages (raw HTTP against the server under test).

    gatehouse_admin.py wait-ready URL SECONDS PID   wait for GET /health/ready = 200 (fails early if PID dies)
    gatehouse_admin.py token URL CLIENT_ID SECRET  print an access token (client-credentials grant)
    gatehouse_admin.py fuzz-token URL ADMIN_TOKEN FAMILY
        empty the tenant (POST /gatehouse/v1/tenant/reset, which keeps the calling admin), create a
        fresh ORG_ADMIN identity for FAMILY's schemathesis run, mint it a PAT and print that PAT's
        access token. Each family thus starts with no OAuth clients and a person holding one PAT.
    gatehouse_admin.py demo-tenant URL ADMIN_TOKEN
        reset the tenant to the demo data (Northwind Robotics), keeping the calling admin
    gatehouse_admin.py user-token URL ADMIN_TOKEN USER_NAME
        print "IDENTITY_ID ACCESS_TOKEN" for the person USER_NAME: their id is looked up through
        GET /v2024/identities, a PAT is minted for them through the admin API
        (POST /gatehouse/v1/identities/{id}/personal-access-tokens) and exchanged at /oauth/token,
        exactly as a client acting as them would
    gatehouse_admin.py short-lived-token URL ADMIN_TOKEN
        print "PAT_ID PAT_SECRET ACCESS_TOKEN": the calling admin creates itself a PAT whose tokens
        live 15 s, the shortest a PAT allows (POST /v3/personal-access-tokens,
        accessTokenValiditySeconds=15), and takes one token from it. The token is a real one of
        the server, signed by it; it only needs time to expire (see wait-expired).
    gatehouse_admin.py wait-expired URL TOKEN PAT_ID PAT_SECRET SECONDS
        wait (at most SECONDS) until the server refuses TOKEN with 401 for having expired, then
        check that a fresh token of the same PAT is still accepted: the refusal is down to `exp`
        alone, not to a PAT that is gone or a tenant that changed
    gatehouse_admin.py db-state DB OUT
        write every row of every table of the SQLite database DB (read-only, while the server
        runs) to OUT as JSON
    gatehouse_admin.py db-compare BEFORE AFTER [OWNER_ID]
        fail, listing them, if rows differ between two db-state files. With OWNER_ID, rows that
        hold that value in one of their columns (the person's own PATs, requests, ...) may change
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
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


def demo_tenant(url: str, admin_token: str) -> None:
    admin_call(url, admin_token, "/gatehouse/v1/tenant/reset", {"to": "demo"}, 200)


def user_token(url: str, admin_token: str, user_name: str) -> str:
    r = requests.get(
        f"{url}/v2024/identities",
        params={"filters": f'name eq "{user_name}"'},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=30,
    )
    if r.status_code != 200 or len(r.json()) != 1:
        fail(f"GET /v2024/identities for {user_name!r} answered {r.status_code}: {r.text[:300]}")
    identity_id = r.json()[0]["id"]
    pat = admin_call(
        url,
        admin_token,
        f"/gatehouse/v1/identities/{identity_id}/personal-access-tokens",
        {"name": f"schemathesis-user-{uuid.uuid4().hex[:8]}"},
        200,
    )
    return f"{identity_id} {token(url, pat['id'], pat['secret'])}"


def short_lived_token(url: str, admin_token: str) -> str:
    pat = admin_call(
        url,
        admin_token,
        "/v3/personal-access-tokens",
        {"name": f"schemathesis-expired-{uuid.uuid4().hex[:8]}", "accessTokenValiditySeconds": 15},
        200,
    )
    return f"{pat['id']} {pat['secret']} {token(url, pat['id'], pat['secret'])}"


def _claims(access_token: str) -> dict:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def wait_expired(url: str, access_token: str, pat_id: str, pat_secret: str, seconds: float) -> None:
    probe = f"{url}/v3/personal-access-tokens"
    deadline = time.monotonic() + seconds
    while True:
        r = requests.get(probe, headers={"Authorization": f"Bearer {access_token}"}, timeout=30)
        if r.status_code == 401:
            break
        if r.status_code != 200:
            fail(f"GET {probe} with the short-lived token answered {r.status_code}: {r.text[:300]}")
        if time.monotonic() > deadline:
            fail(f"the short-lived token was still accepted after {seconds:.0f} s")
        time.sleep(1)
    if "expired" not in r.text.lower():
        fail(f"the short-lived token was refused, but not as expired: {r.text[:300]}")
    exp = _claims(access_token)["exp"]
    print(f"refused as expired (exp {exp}, {time.time() - exp:.0f} s ago): {r.text[:200]}")
    fresh = token(url, pat_id, pat_secret)
    r = requests.get(probe, headers={"Authorization": f"Bearer {fresh}"}, timeout=30)
    if r.status_code != 200:
        fail(f"a fresh token of the same PAT answered {r.status_code}: {r.text[:300]}")


def db_state(db: str, out: str) -> None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        con.execute("BEGIN")  # one read transaction: a consistent view of every table
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        state = {}
        for t in tables:
            rows = con.execute(f'SELECT * FROM "{t}"').fetchall()
            state[t] = sorted(json.dumps([v.hex() if isinstance(v, bytes) else v for v in row]) for row in rows)
    finally:
        con.close()
    with open(out, "w") as f:
        json.dump(state, f)


def db_compare(before_path: str, after_path: str, owner_id: str | None) -> None:
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    changed = []
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        for sign, rows in (("-", old - new), ("+", new - old)):
            for row in sorted(rows):
                if owner_id is not None and owner_id in json.loads(row):
                    continue
                changed.append(f"{sign} {table}: {row[:300]}")
    if changed:
        fail(f"{len(changed)} row(s) changed:\n" + "\n".join(changed[:40]))
    print(f"database unchanged ({sum(len(v) for v in after.values())} rows in {len(after)} tables)"
          + (f", apart from rows naming {owner_id}" if owner_id else ""))


def main(argv: list[str]) -> None:
    match argv:
        case ["wait-ready", url, seconds, pid]:
            wait_ready(url, float(seconds), int(pid))
        case ["token", url, client_id, secret]:
            print(token(url, client_id, secret))
        case ["fuzz-token", url, admin_token, family]:
            print(fuzz_token(url, admin_token, family))
        case ["demo-tenant", url, admin_token]:
            demo_tenant(url, admin_token)
        case ["user-token", url, admin_token, user_name]:
            print(user_token(url, admin_token, user_name))
        case ["short-lived-token", url, admin_token]:
            print(short_lived_token(url, admin_token))
        case ["wait-expired", url, access_token, pat_id, pat_secret, seconds]:
            wait_expired(url, access_token, pat_id, pat_secret, float(seconds))
        case ["db-state", db, out]:
            db_state(db, out)
        case ["db-compare", before, after]:
            db_compare(before, after, None)
        case ["db-compare", before, after, owner_id]:
            db_compare(before, after, owner_id)
        case _:
            fail(__doc__ or "usage")


if __name__ == "__main__":
    main(sys.argv[1:])
