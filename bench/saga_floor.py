"""Benchmark: the floor under bench/checkout.py. The same checkouts (a cart, one to three
lines, the order, then the saga's events to the same eleven handlers) through nameko
services that do nothing else (bench/saga_services.py: no database, no validation, no
email), one process per service, with nameko's defaults; beside the bare HTTP->RPC echo
pair measured in the same run. What a checkout costs above this is Procura's own work;
this much no change inside Procura's handlers can take away.

    .venv/bin/python bench/saga_floor.py [--buyers 20] [--seconds 20] [--no-confirms]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.buyers import checkout_loop  # noqa: E402
from bench.gateway_products import echo_pair  # noqa: E402
from bench.loadgen import percentile, show  # noqa: E402
from bench.saga_services import SERVICES  # noqa: E402
from tests.support.system import BIN, ROOT, free_port  # noqa: E402

PARTS = [f"FLOOR-{i:03d}" for i in range(50)]


@contextmanager
def floor_system(confirms=True):
    """The empty services running, one process each: the base URL of their API."""
    env = dict(os.environ, **({} if confirms else {"FLOOR_NO_CONFIRMS": "1"}))
    port = free_port()
    cfg = Path(tempfile.mkdtemp()) / "floor.yaml"
    cfg.write_text(f"AMQP_URI: {os.environ.get('AMQP_URI', 'amqp://guest:guest@127.0.0.1:5672/')}\n"
                   f"WEB_SERVER_ADDRESS: 127.0.0.1:{port}\n")
    procs = [subprocess.Popen([str(BIN / "nameko"), "run", "--config", str(cfg),
                               f"bench.saga_services:{svc}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for svc in SERVICES]
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(150):
            try:
                if requests.post(api + "/carts", json={}, timeout=1).status_code == 201:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the floor services did not start")
        time.sleep(1)  # every event handler's queue bound
        yield api
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


def saga_floor(buyers, seconds, confirms=True):
    """Checkouts through the empty services: {rate, latencies, errors, elapsed}."""
    with floor_system(confirms) as api:
        result = checkout_loop(api, {}, PARTS, buyers, seconds)
    result["rate"] = len(result["latencies"]) / result["elapsed"]
    return result


def show_checkouts(label, result):
    latencies = result["latencies"]
    print(f"{label:<44} {result['rate']:>9.1f} checkouts/s  p50 "
          f"{percentile(latencies, 50) * 1000:7.1f} ms  p99 {percentile(latencies, 99) * 1000:7.1f} ms  "
          f"({len(latencies)} ok, {len(result['errors'])} errors)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--no-confirms", action="store_true",
                        help="nameko's publishers neither wait for confirms nor persist "
                             "messages (unsafe; shows what those cost)")
    args = parser.parse_args()
    floor = saga_floor(args.buyers, args.seconds, not args.no_confirms)
    alone = saga_floor(1, args.seconds / 2, not args.no_confirms)
    baseline = echo_pair(args.seconds / 2, args.buyers)
    echo_alone = echo_pair(args.seconds / 4, 1)
    print(f"{args.buyers} buyers for {floor['elapsed']:.1f} s; load average {os.getloadavg()[0]:.2f}")
    show_checkouts("empty services, POST /orders", floor)
    show(f"bare nameko HTTP->RPC echo pair, {args.buyers} conns", baseline)
    print(f"ratio: checkouts/s = {floor['rate'] / baseline['rps']:.2f}x the echo pair's req/s")
    show_checkouts("empty services, one buyer", alone)
    show("bare nameko HTTP->RPC echo pair, 1 conn", echo_alone)
    if floor["errors"]:
        print(f"first error: {floor['errors'][0]}")


if __name__ == "__main__":
    main()
