#!/usr/bin/env python3
"""The table of bench/run.sh: medians over the runs with min–max, per store (SQLite, PostgreSQL),
ratios to the baseline measured in the same runs, and the P4 phases. Exits 1 if any wrk scenario
had non-2xx answers (socket errors are listed).

    python3 bench/summary.py results.jsonl
"""

import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
stores = [s for s in ("sqlite", "postgres") if any(r.get("store") == s for r in rows)]
names = []
for r in rows:
    if r["name"] not in names:
        names.append(r["name"])


def pick(name, store, key):
    return [r[key] for r in rows if r["name"] == name and r.get("store") == store and r.get(key) is not None]


def fmt(values, spec, unit=""):
    if not values:
        return "-"
    med = statistics.median(values)
    text = format(med, spec) + unit
    if len(values) > 1:
        text += f" ({format(min(values), spec)}–{format(max(values), spec)})"
    return text


base = statistics.median(pick("baseline", "-", "rps")) if pick("baseline", "-", "rps") else None
runs = max((r.get("run", 1) for r in rows), default=1)
print(f"medians of {runs} run(s), (min–max) when more than one; ratios are medians / baseline median")
print()
width = 34
header = f"{'scenario':<{width}}"
for s in stores:
    header += f" | {s + ' req/s':>26} {'x base':>6} {'p99 ms':>16}"
print(header)
print("-" * len(header))
if base:
    print(f"{'baseline (fixed body)':<{width}} | {fmt(pick('baseline', '-', 'rps'), ',.0f'):>26} {1:>6.2f} "
          f"{fmt(pick('baseline', '-', 'p99'), '.2f'):>16}")
for name in names:
    if name == "baseline" or not any("rps" in r for r in rows if r["name"] == name):
        continue
    line = f"{name:<{width}}"
    for s in stores:
        rps = pick(name, s, "rps")
        if name.startswith("p5_"):
            rps = pick(name, "prism", "rps") if s == "sqlite" else []
        ratio = f"{statistics.median(rps) / base:.3f}" if rps and base else "-"
        p99 = (pick(name, "prism", "p99") if s == "sqlite" else []) if name.startswith("p5_") else pick(name, s, "p99")
        line += f" | {fmt(rps, ',.0f'):>26} {ratio:>6} {fmt(p99, '.1f'):>16}"
    print(line)
print()
for name in names:
    if any("median_ms" in r for r in rows if r["name"] == name):
        print(f"{name:<{width}}" + "".join(f" | {s}: {fmt(pick(name, s, 'median_ms'), '.1f', ' ms')}" for s in stores)
              + "   (median of 5 calls per run)")
for name in names:
    if any("rss_mb" in r for r in rows if r["name"] == name):
        print(f"{name:<{width}}" + "".join(f" | {s}: {fmt(pick(name, s, 'rss_mb'), '.0f', ' MB')}" for s in stores))
for name in ("gatehouse_startup",):
    if pick(name, "sqlite", "startup_ms") or pick(name, "postgres", "startup_ms"):
        print(f"{'start-up to first answer, Gatehouse':<{width}}"
              + "".join(f" | {s}: {fmt(pick(name, s, 'startup_ms'), '.0f', ' ms')}" for s in stores))
if pick("prism_startup", "prism", "startup_ms"):
    print(f"{'start-up to first answer, Prism':<{width}} | {fmt(pick('prism_startup', 'prism', 'startup_ms'), '.0f', ' ms')}")
    g, p = pick("p1_sdim_get", "sqlite", "rps"), pick("p5_prism_sdim_get", "prism", "rps")
    if g and p:
        ratios = [a / b for a, b in zip(g, p)]
        print(f"{'P5 Gatehouse / Prism, same GET':<{width}} | {fmt(ratios, '.1f', 'x')}   (SQLite P1 / Prism, per run)")

p4 = [r for r in rows if r["name"] == "p4_e2e"]
if p4:
    print()
    n = p4[0]["requests"]
    print(f"P4 end to end, {n} requests ({p4[0]['mode']}), seconds after the first request:")
    phases = ["submitted", "approved", "opened", "closed", "completed"]
    print(f"  {'':<12}" + "".join(f" {p + ' by':>22}" for p in phases) + f" {'total':>22}")
    for s in stores:
        mine = [r for r in p4 if r.get("store") == s]
        if not mine:
            continue
        cells = [fmt([r["phases"][p]["to_s"] for r in mine], ".1f") for p in phases]
        cells.append(fmt([r["total_s"] for r in mine], ".1f", " s"))
        print(f"  {s:<12}" + "".join(f" {c:>22}" for c in cells))
    target = p4[0]["target_s"]
    for s in stores:
        totals = [r["total_s"] for r in p4 if r.get("store") == s]
        if totals:
            med = statistics.median(totals)
            print(f"  {s}: median {med:.1f} s, target <= {target:.0f} s: {'met' if med <= target else 'missed'}")

sock = sorted({r["name"] + "/" + r.get("store", "") for r in rows if r.get("socket_errors")})
if sock:
    print("scenarios with socket errors (wrk timeouts and the like):", ", ".join(sock))
bad = sorted({r["name"] + "/" + r.get("store", "") for r in rows if r.get("errors")})
if bad:
    print("scenarios with non-2xx answers:", ", ".join(bad))
    sys.exit(1)
