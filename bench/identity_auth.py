"""Benchmark of identity and authentication, on the whole system started as `make run`
starts it:

- the argon2id cost of one password hash and one verification (services/identity/passwords.py
  called directly, median of 20);
- POST /api/v1/auth/login requests/s (each one verifies a password);
- authenticated GET /api/v1/me requests/s with p50/p99 (one identity RPC per request),
  alone and while logins run beside it (a login must not hold identity's database
  connection while it hashes);
- identity's RPC count, read from its own metrics port, during a run of authenticated
  GET /api/v1/carts, an endpoint that does not call identity: the gateway verifies tokens
  locally, so the count does not grow with requests. The same count during the /me run
  shows that the counter does see identity's calls.

    .venv/bin/python bench/identity_auth.py [--seconds 10] [--connections 8]
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import run, show  # noqa: E402
from services.identity import passwords  # noqa: E402
from tests.support.system import DEMO_PASSWORD, launch_system  # noqa: E402

RPC_LINE = re.compile(r'procura_entrypoint_requests_total\{([^}]*)\} ([0-9.e+]+)')


def argon2_ms(samples=20):
    """Median milliseconds of one hash and of one verification."""
    hashes, verifies = [], []
    for i in range(samples):
        t0 = time.perf_counter()
        hashed = passwords.hash_password(f"Bench-password-{i}")
        t1 = time.perf_counter()
        assert passwords.verify_password(hashed, f"Bench-password-{i}")
        t2 = time.perf_counter()
        hashes.append((t1 - t0) * 1000)
        verifies.append((t2 - t1) * 1000)
    return statistics.median(hashes), statistics.median(verifies)


def metrics_ports(system, service):
    """The metrics ports a service's processes chose, as they logged them at start."""
    system.log.flush()
    text = (system.var / "system.log").read_text(errors="replace")
    return sorted({int(p) for p in re.findall(rf"metrics of {service} on port (\d+)", text)})


def rpc_calls(ports, service) -> Counter:
    """A service's RPC calls so far, by entrypoint, summed over its processes."""
    calls = Counter()
    for port in ports:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        for labels, value in RPC_LINE.findall(text):
            fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            if fields.get("service") == service and fields.get("kind") == "rpc":
                calls[fields["entrypoint"]] += float(value)
    return calls


def identity_metrics_ports(system):
    return metrics_ports(system, "identity")


def identity_rpc_calls(ports) -> Counter:
    return rpc_calls(ports, "identity")


def delta(after: Counter, before: Counter) -> dict:
    return {k: int(after[k] - before[k]) for k in sorted(after) if after[k] != before[k]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    hash_ms, verify_ms = argon2_ms()

    with tempfile.TemporaryDirectory() as var, launch_system(Path(var), quick_timers=False) as system:
        ports = identity_metrics_ports(system)
        token = system.login("demo.buyer")["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        conns, secs = args.connections, args.seconds

        body = json.dumps({"username": "demo.buyer", "password": DEMO_PASSWORD})
        login = run(system.api + "/auth/login", {"Content-Type": "application/json"},
                    seconds=secs, connections=conns, method="POST", body=body)

        run(system.api + "/me", auth, seconds=2, connections=conns)  # warm up
        before = identity_rpc_calls(ports)
        me = run(system.api + "/me", auth, seconds=secs, connections=conns)
        during_me = delta(identity_rpc_calls(ports), before)

        half = max(1, conns // 2)
        mixed = {}
        beside = threading.Thread(target=lambda: mixed.update(login=run(
            system.api + "/auth/login", {"Content-Type": "application/json"}, seconds=secs,
            connections=half, method="POST", body=body)))
        beside.start()
        mixed["me"] = run(system.api + "/me", auth, seconds=secs, connections=half)
        beside.join()

        run(system.api + "/carts", auth, seconds=2, connections=conns)
        before = identity_rpc_calls(ports)
        carts = run(system.api + "/carts", auth, seconds=secs, connections=conns)
        during_carts = delta(identity_rpc_calls(ports), before)

    print(f"\n{conns} connections, {secs:g} s per run, on {os.cpu_count()} cores, "
          f"identity metrics on port(s) {ports}")
    print(f"argon2id (t={passwords.TIME_COST}, m={passwords.MEMORY_COST_KIB // 1024} MiB, "
          f"p={passwords.PARALLELISM}): hash {hash_ms:.1f} ms, verify {verify_ms:.1f} ms "
          f"(median of 20)")
    show("POST /api/v1/auth/login", login)
    show("GET /api/v1/me (token)", me)
    show(f"GET /api/v1/me, {half} conns, beside logins", mixed["me"])
    show(f"  POST /api/v1/auth/login, {half} conns, beside", mixed["login"])
    show("GET /api/v1/carts (token)", carts)
    print(f"identity RPC calls during the /me run:    {sum(during_me.values())} {during_me} "
          f"(for {me['requests']} requests)")
    print(f"identity RPC calls during the /carts run: {sum(during_carts.values())} "
          f"{during_carts} (for {carts['requests']} requests)")


if __name__ == "__main__":
    main()
