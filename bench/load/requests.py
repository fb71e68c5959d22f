#!/usr/bin/env python3
"""Loads N access requests straight into a stopped Gatehouse's SQLite file (for the list benchmark).

    python3 bench/load/requests.py DATA_DIR/gatehouse.db 1000000

Rows are spread over the tenant's identities and entitlements, over the last year, in all states;
one approval row per request that is still in approval. Seeded, so every run loads the same data.
"""

import random
import sqlite3
import sys


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(7)
    db = sqlite3.connect(path)
    tenant, = db.execute("select id from tenant order by created limit 1").fetchone()
    people = [r[0] for r in db.execute("select id from identity where tenant_id = ?", (tenant,))]
    items = [r for r in db.execute("select id, name, source_id from entitlement where tenant_id = ?", (tenant,))]
    now = int(db.execute("select max(created) from identity").fetchone()[0]) + 86_400_000
    year = 365 * 86_400_000
    states = [("REQUEST_COMPLETED", "DONE")] * 6 + [("EXECUTING", "APPROVAL")] * 2 + [("REJECTED", "DONE"), ("CANCELLED", "DONE")]
    batch, approvals = [], []
    db.execute("begin")
    for i in range(n):
        rid = f"{rng.getrandbits(128):032x}"
        who, by = rng.choice(people), rng.choice(people)
        eid, ename, src = rng.choice(items)
        created = now - rng.randrange(year)
        state, stage = rng.choice(states)
        batch.append((rid, tenant, "GRANT_ACCESS", by, who, "ENTITLEMENT", eid, ename, src, state, stage, created, created + 60_000))
        if stage == "APPROVAL":
            approvals.append((f"{rng.getrandbits(128):032x}", tenant, rid, rng.choice(people), created))
        if len(batch) == 50_000:
            flush(db, batch, approvals)
            batch, approvals = [], []
    flush(db, batch, approvals)
    db.execute("commit")
    db.execute("analyze")
    print(f"loaded {n} access requests into {path}")


def flush(db, batch, approvals):
    db.executemany(
        "insert into access_request (id, tenant_id, request_type, requester_id, requested_for_id, item_type, "
        "item_id, item_name, source_id, state, stage, created, modified) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        batch,
    )
    db.executemany(
        "insert into approval (id, tenant_id, access_request_id, step, scheme, owner_type, owner_id, "
        "original_owner_id, status, created, modified) values (?,?,?,0,'MANAGER','IDENTITY',?,?4,'PENDING',?5,?5)",
        [(a, t, r, o, c) for (a, t, r, o, c) in approvals],
    )


if __name__ == "__main__":
    main()
