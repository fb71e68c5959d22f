#!/usr/bin/env python3
"""Loads N access requests straight into a stopped Gatehouse's store (for the list benchmark).

    python3 bench/load/requests.py DATA_DIR/gatehouse.db 1000000
    python3 bench/load/requests.py postgres://postgres@127.0.0.1:5432/gatehouse_bench 1000000

Rows are spread over the tenant's identities and entitlements, over the last year, in all states;
one approval row per request that is still in approval. Seeded, so every run loads the same data.
SQLite is written with the sqlite3 module; PostgreSQL with `psql` and COPY.
"""

import csv
import io
import random
import sqlite3
import subprocess
import sys

REQUEST_COLUMNS = ("id, tenant_id, request_type, requester_id, requested_for_id, item_type, "
                   "item_id, item_name, source_id, state, stage, created, modified")
APPROVAL_COLUMNS = ("id, tenant_id, access_request_id, step, scheme, owner_type, owner_id, "
                    "original_owner_id, status, created, modified")


def rows(n, tenant, people, items, now):
    rng = random.Random(7)
    year = 365 * 86_400_000
    states = [("REQUEST_COMPLETED", "DONE")] * 6 + [("EXECUTING", "APPROVAL")] * 2 + [("REJECTED", "DONE"), ("CANCELLED", "DONE")]
    for _ in range(n):
        rid = f"{rng.getrandbits(128):032x}"
        who, by = rng.choice(people), rng.choice(people)
        eid, ename, src = rng.choice(items)
        created = now - rng.randrange(year)
        state, stage = rng.choice(states)
        request = (rid, tenant, "GRANT_ACCESS", by, who, "ENTITLEMENT", eid, ename, src, state, stage, created, created + 60_000)
        approval = None
        if stage == "APPROVAL":
            owner = rng.choice(people)
            approval = (f"{rng.getrandbits(128):032x}", tenant, rid, 0, "MANAGER", "IDENTITY", owner, owner, "PENDING", created, created)
        yield request, approval


def load_sqlite(path, n):
    db = sqlite3.connect(path)
    tenant, = db.execute("select id from tenant order by created limit 1").fetchone()
    people = [r[0] for r in db.execute("select id from identity where tenant_id = ?", (tenant,))]
    items = [r for r in db.execute("select id, name, source_id from entitlement where tenant_id = ?", (tenant,))]
    now = int(db.execute("select max(created) from identity").fetchone()[0]) + 86_400_000
    db.execute("begin")
    batch, approvals = [], []
    for request, approval in rows(n, tenant, people, items, now):
        batch.append(request)
        if approval:
            approvals.append(approval)
        if len(batch) == 50_000:
            flush(db, batch, approvals)
            batch, approvals = [], []
    flush(db, batch, approvals)
    db.execute("commit")
    db.execute("analyze")


def flush(db, batch, approvals):
    db.executemany(f"insert into access_request ({REQUEST_COLUMNS}) values ({','.join('?' * 13)})", batch)
    db.executemany(f"insert into approval ({APPROVAL_COLUMNS}) values ({','.join('?' * 11)})", approvals)


def psql(url, sql, data=None):
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         input=data, capture_output=True, text=True, check=True)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def load_postgres(url, n):
    (tenant,), = psql(url, "select id from tenant order by created limit 1")
    people = [r[0] for r in psql(url, f"select id from identity where tenant_id = '{tenant}'")]
    items = [tuple(r) for r in psql(url, f"select id, name, source_id from entitlement where tenant_id = '{tenant}'")]
    (now,), = psql(url, "select max(created) from identity")
    requests_csv, approvals_csv = io.StringIO(), io.StringIO()
    rw, aw = csv.writer(requests_csv), csv.writer(approvals_csv)
    for request, approval in rows(n, tenant, people, items, int(now) + 86_400_000):
        rw.writerow(request)
        if approval:
            aw.writerow(approval)
    psql(url, f"copy access_request ({REQUEST_COLUMNS}) from stdin with (format csv)", requests_csv.getvalue())
    psql(url, f"copy approval ({APPROVAL_COLUMNS}) from stdin with (format csv)", approvals_csv.getvalue())
    # What autovacuum does after a bulk insert, at once: statistics for the planner, and the
    # visibility map, without which a count or a deep page visits every heap page it walks.
    psql(url, "vacuum analyze access_request")
    psql(url, "vacuum analyze approval")


def main():
    target, n = sys.argv[1], int(sys.argv[2])
    if target.startswith("postgres://") or target.startswith("postgresql://"):
        load_postgres(target, n)
    else:
        load_sqlite(target, n)
    print(f"loaded {n} access requests into {target.split('@')[-1]}")


if __name__ == "__main__":
    main()
