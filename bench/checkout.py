"""Benchmark: sustained checkouts through the whole system started as `make run` starts it.
20 buyers at once, each checkout a fresh cart of 1-3 lines paid by purchase order; prints
checkouts per second and the p50/p99 of `POST /orders`, beside a bare nameko HTTP->RPC echo
pair measured the same way in the same run, and the ratio; and the same checkouts through
nameko services that do nothing (bench/saga_floor.py), the most any change inside
Procura's handlers could reach. Also what each checkout (with
its cart) cost, less dependent on what else the machine is doing than rates: the CPU time
of each Procura process (RabbitMQ's is not counted: it serves other users too), the
messages the broker took and delivered on the run's own vhost, and on PostgreSQL the
transactions committed in the services' databases.

    .venv/bin/python bench/checkout.py [--buyers 20] [--seconds 20] [--idle 20]
    PROCURA_TEST_DB=postgresql .venv/bin/python bench/checkout.py   # on PostgreSQL
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.buyers import checkout_loop  # noqa: E402
from bench.gateway_products import echo_pair  # noqa: E402
from bench.loadgen import percentile, show  # noqa: E402
from bench.saga_floor import saga_floor, show_checkouts  # noqa: E402
from bench.profile import descendants  # noqa: E402
from tests.support.broker import AUTH, MGMT  # noqa: E402
from tests.support.databases import PG_ADMIN_URL, db_kind  # noqa: E402
from tests.support.system import launch_system  # noqa: E402

def cpu_seconds(system) -> dict:
    """{process name: CPU seconds so far} of every process honcho started (the services,
    the mail sink)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid, cmd in descendants(system.proc.pid).items():
        words = cmd.split()
        name = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "serve"),
                    "mail-sink" if "mail-sink" in words else None)
        if name is None:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return found


def show_cpu_per_checkout(before, after, checkouts):
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    total = sum(used.values())
    parts = "  ".join(f"{name} {ms / max(checkouts, 1) * 1000:.1f}"
                      for name, ms in sorted(used.items(), key=lambda kv: -kv[1]))
    print(f"CPU per checkout (with its cart): {total / max(checkouts, 1) * 1000:.1f} ms "
          f"= {parts} (ms)")


def show_idle_cpu(system, seconds):
    """What the system costs while nobody uses it (timers, the relays' polling)."""
    before, started = cpu_seconds(system), time.perf_counter()
    time.sleep(seconds)
    after, elapsed = cpu_seconds(system), time.perf_counter() - started
    used = {name: (after[name] - before.get(name, 0.0)) / elapsed * 1000 for name in after}
    parts = "  ".join(f"{name} {ms:.1f}" for name, ms in sorted(used.items(), key=lambda kv: -kv[1]))
    print(f"CPU per second, idle for {elapsed:.0f} s: {sum(used.values()):.1f} ms = {parts} (ms)")


def broker_messages(system) -> dict:
    """Messages published to and delivered from the run's vhost so far (the management
    API's figures, which lag by a few seconds)."""
    vhost = system.env["AMQP_URI"].rsplit("/", 1)[1]
    stats = requests.get(f"{MGMT}/api/vhosts/{vhost}", auth=AUTH, timeout=5).json()
    counts = stats.get("message_stats") or {}
    return {"published": counts.get("publish", 0), "delivered": counts.get("deliver_get", 0)}


def commits(system) -> int | None:
    """Transactions committed so far in the services' PostgreSQL databases (None on
    SQLite)."""
    if db_kind() != "postgresql":
        return None
    import psycopg2
    names = [url.rsplit("/", 1)[1] for key, url in system.env.items()
             if key.endswith("_DATABASE_URL") and url.startswith("postgres")]
    conn = psycopg2.connect(PG_ADMIN_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute("SELECT sum(xact_commit) FROM pg_stat_database WHERE datname = ANY(%s)",
                        (names,))
            return int(cur.fetchone()[0] or 0)
    finally:
        conn.close()


def counters(system) -> dict:
    return {"cpu": cpu_seconds(system), "broker": broker_messages(system),
            "commits": commits(system)}


def show_costs(before, after, checkouts):
    show_cpu_per_checkout(before["cpu"], after["cpu"], checkouts)
    n = max(checkouts, 1)
    line = (f"broker messages per checkout: "
            f"{(after['broker']['published'] - before['broker']['published']) / n:.1f} published, "
            f"{(after['broker']['delivered'] - before['broker']['delivered']) / n:.1f} delivered")
    if after["commits"] is not None:
        line += f"; PostgreSQL commits per checkout: {(after['commits'] - before['commits']) / n:.1f}"
    print(line)


def drive_checkouts(system, buyers=20, seconds=20.0, token=None):
    """`buyers` threads, each checking out fresh carts of 1-3 lines for `seconds`:
    {latencies (sorted, of POST /orders), errors, elapsed}."""
    token = token or system.login("demo.buyer")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    parts = [p["part_number"] for p in requests.get(
        system.api + "/products", params={"limit": 50}, headers=headers).json()["items"]
        if p["orderable"] and float(p["price"]["amount"]) < 1000]
    return checkout_loop(system.api, headers, parts, buyers, seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--idle", type=float, default=0,
                        help="first, the CPU each process uses for this long with no load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var, \
            launch_system(Path(var), products=300, quick_timers=False) as system:
        time.sleep(6)  # the start's own messages reach the management API's figures
        if args.idle:
            show_idle_cpu(system, args.idle)
        before = counters(system)
        result = drive_checkouts(system, args.buyers, args.seconds)
        time.sleep(6)  # the events and emails of the last checkouts, and the figures' lag
        after = counters(system)
    baseline = echo_pair(args.seconds / 2, args.buyers)
    floor = saga_floor(args.buyers, args.seconds / 2)
    latencies, errors, elapsed = result["latencies"], result["errors"], result["elapsed"]
    rate = len(latencies) / elapsed
    print(f"database: {db_kind()}; {args.buyers} buyers for {elapsed:.1f} s (each checkout a "
          f"fresh cart of 1-3 lines, purchase order); load average {os.getloadavg()[0]:.2f}")
    print(f"{'POST /orders':<44} {rate:>9.1f} checkouts/s  p50 "
          f"{percentile(latencies, 50) * 1000:7.1f} ms  p99 {percentile(latencies, 99) * 1000:7.1f} ms  "
          f"({len(latencies)} ok, {len(errors)} errors)")
    show(f"bare nameko HTTP->RPC echo pair, {args.buyers} conns", baseline)
    print(f"ratio: checkouts/s = {rate / baseline['rps']:.2f}x the echo pair's req/s "
          f"(target of the performance work: 0.2x, p99 under 250 ms)")
    show_checkouts("the same checkouts, empty nameko services", floor)
    print(f"  (bench/saga_floor.py) = {floor['rate'] / baseline['rps']:.2f}x the echo pair's "
          f"req/s; Procura does {rate / floor['rate']:.2f}x the empty services' checkouts/s")
    show_costs(before, after, len(latencies))
    if errors:
        print(f"first error: {errors[0]}")


if __name__ == "__main__":
    main()
