#!/usr/bin/env python3
"""Start-up to first answered request: starts a server, polls a URL until the first 200, prints
the time since the process was started as one JSON line, then stops the server.

    python3 bench/startup.py NAME URL [--bearer TOKEN] [--timeout 60] -- COMMAND ARGS...

Polls over a fresh connection every millisecond or so (a refused connection returns at once), so
the figure is the server's own start-up plus at most a poll interval.
"""

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("url")
    p.add_argument("--bearer")
    p.add_argument("--timeout", type=float, default=60)
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit("usage: startup.py NAME URL [--bearer TOKEN] [--timeout S] -- COMMAND ARGS...")
    cut = argv.index("--")
    a = p.parse_args(argv[:cut])
    cmd = argv[cut + 1:]
    headers = {"Authorization": f"Bearer {a.bearer}"} if a.bearer else {}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            elapsed = time.perf_counter() - start
            if elapsed > a.timeout:
                sys.exit(f"startup: {a.name} answered no 200 within {a.timeout} s")
            if proc.poll() is not None:
                sys.exit(f"startup: {a.name} exited with {proc.returncode} before answering")
            try:
                with urllib.request.urlopen(urllib.request.Request(a.url, headers=headers), timeout=5) as r:
                    r.read()
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.001)
        ms = (time.perf_counter() - start) * 1000
        print(json.dumps({"name": a.name, "startup_ms": round(ms, 1)}))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
