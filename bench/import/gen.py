#!/usr/bin/env python3
"""Writes a large tenant file for the import benchmark (seeded, so every run imports the same data).

    python3 bench/import/gen.py --identities 1000000 --entitlements 100000 > tenant.json

Identities form a management tree (each reports to someone listed earlier, eight reports per
manager), with e-mail, names, a lifecycle state and attributes; entitlements are spread over 20
sources, each with an owner. No ids: the importer derives them from the names.
"""

import argparse
import random
import sys

FIRST = "Ada Ben Cleo Dev Eli Fay Gus Hana Ivo Jia Kai Lea Max Nia Oto Pia Quin Rae Sol Tim Uma Vic Wyn Xia Yul Zoe".split()
LAST = "Abe Bosch Cruz Diaz Eng Fox Gill Holm Ito Jain Kerr Lund Moss Nash Ortiz Park Quist Roth Sato Tull Ueda Voss Wong Xu Yates Zorn".split()
DEPTS = ["Engineering", "Sales", "Finance", "Support", "Operations", "Marketing", "Legal", "IT"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--identities", type=int, default=1_000_000)
    ap.add_argument("--entitlements", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = sys.stdout
    w = out.write
    w('{\n  "gatehouse": "tenant/1",\n  "identities": [\n')
    for i in range(a.identities):
        f, l = rng.choice(FIRST), rng.choice(LAST)
        name = f"u{i:07d}"
        mgr = f',"manager":"u{(i - 1) // 8:07d}"' if i > 0 else ""
        dept = DEPTS[i % len(DEPTS)]
        state = "active" if rng.random() > 0.05 else "inactive"
        sep = ",\n" if i + 1 < a.identities else "\n"
        w(f'    {{"name":"{name}","displayName":"{f} {l}","firstName":"{f}","lastName":"{l}",'
          f'"email":"{name}@example.com"{mgr},"lifecycleState":"{state}",'
          f'"attributes":{{"department":"{dept}","employeeNumber":"{i}"}}}}{sep}')
    w('  ],\n  "sources": [\n')
    n_sources = 20
    for s in range(n_sources):
        sep = ",\n" if s + 1 < n_sources else "\n"
        w(f'    {{"name":"Source {s:02d}","owner":"u{s:07d}","connector":"active-directory"}}{sep}')
    w('  ],\n  "entitlements": [\n')
    for e in range(a.entitlements):
        s = e % n_sources
        owner = rng.randrange(min(a.identities, 10_000))
        sep = ",\n" if e + 1 < a.entitlements else "\n"
        w(f'    {{"source":"Source {s:02d}","attribute":"memberOf","value":"CN=group-{e:06d},OU=Groups",'
          f'"name":"group-{e:06d}","owner":"u{owner:07d}","privileged":{"true" if e % 50 == 0 else "false"}}}{sep}')
    w("  ]\n}\n")


if __name__ == "__main__":
    main()
