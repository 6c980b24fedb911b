"""Benchmark: each service's resident memory (RSS) after the checkout and login benchmarks,
on the whole system started as `make run` starts it. Prints every `procura serve` process's
RSS when the system is up and idle, after `--seconds` of checkouts at `--buyers` (as
bench/checkout.py drives them), and after `--seconds` of logins on `--connections`
(each an argon2id verification, as bench/identity_auth.py drives them), then idle again,
with the heavy native libraries each process has mapped. Target: every service under 80 MB.

    .venv/bin/python bench/memory.py [--buyers 20] [--seconds 20] [--connections 8]
    PROCURA_TEST_DB=postgresql .venv/bin/python bench/memory.py   # on PostgreSQL
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.checkout import drive_checkouts  # noqa: E402
from bench.loadgen import run  # noqa: E402
from bench.profile import services_under  # noqa: E402
from tests.support.databases import db_kind  # noqa: E402
from tests.support.system import DEMO_PASSWORD, launch_system  # noqa: E402

TARGET_MB = 80
# native libraries that say a heavy import happened
HEAVY = {"numpy": "numpy", "psycopg2": "psycopg2", "argon2": "_argon2", "jinja2": "jinja2"}


def rss_mb(pid) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def heavy_imports(pid) -> list:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name, needle in HEAVY.items() if f"/{needle}" in maps]


def snapshot(system) -> dict:
    """{service: (RSS MB, [heavy libraries])} of every process under honcho."""
    return {name: (rss_mb(pid), heavy_imports(pid))
            for name, pid in sorted(services_under(system.proc.pid).items())}


def settle(seconds=3.0):
    # let the last replies, events and emails finish before reading RSS
    time.sleep(seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var, \
            launch_system(Path(var), products=300, quick_timers=False) as system:
        settle()
        phases = {"idle at start": snapshot(system)}
        done = drive_checkouts(system, args.buyers, args.seconds)
        settle()
        phases["after checkouts"] = snapshot(system)
        body = json.dumps({"username": "demo.buyer", "password": DEMO_PASSWORD})
        logins = run(system.api + "/auth/login", {"Content-Type": "application/json"},
                     seconds=args.seconds, connections=args.connections, method="POST",
                     body=body)
        settle()
        phases["after logins"] = snapshot(system)
    print(f"database: {db_kind()}; {len(done['latencies'])} checkouts at {args.buyers} buyers, "
          f"{logins['requests']} logins at {args.connections} connections; load average "
          f"{os.getloadavg()[0]:.2f}")
    names = sorted(phases["after logins"])
    print(f"{'service':<14}" + "".join(f"{p:>17}" for p in phases) + "   heavy libraries")
    over = []
    for name in names:
        cells = "".join(f"{phases[p].get(name, (float('nan'), []))[0]:>14.1f} MB"
                        for p in phases)
        final, heavy = phases["after logins"][name]
        if final >= TARGET_MB:
            over.append(name)
        print(f"{name:<14}{cells}   {', '.join(heavy) or '-'}")
    print(f"target: every service under {TARGET_MB} MB; over: {', '.join(over) or 'none'}")


if __name__ == "__main__":
    main()
