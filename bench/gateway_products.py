"""Benchmark: GET /api/v1/products/{part_number} with a token, through the whole system
started as `make run` starts it, beside a bare nameko HTTP→RPC echo pair measured the
same way; prints requests/s, p50/p99 and the ratio. Also shows that authenticated requests
make no call to identity (its RPC count does not grow with requests), how many reached
catalog (the gateway keeps the priced reply until a price changes: services/gateway/
price_cache.py), and the same page asked with the ETag of the reply the client holds (304).

    .venv/bin/python bench/gateway_products.py [--seconds 10] [--connections 8]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.identity_auth import metrics_ports, rpc_calls  # noqa: E402
from bench.loadgen import run, show  # noqa: E402
from tests.support.system import BIN, ROOT, free_port, launch_system  # noqa: E402


def echo_pair(seconds, connections):
    port = free_port()
    cfg = Path(tempfile.mkdtemp()) / "echo.yaml"
    cfg.write_text(f"AMQP_URI: {os.environ.get('AMQP_URI', 'amqp://guest:guest@127.0.0.1:5672/')}\n"
                   f"WEB_SERVER_ADDRESS: 127.0.0.1:{port}\n")
    procs = [subprocess.Popen([str(BIN / "nameko"), "run", "--config", str(cfg), f"bench.echo_services:{svc}"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for svc in ("Echo", "EchoGateway")]
    try:
        url = f"http://127.0.0.1:{port}/echo/LEN-20XW0042US"
        for _ in range(100):
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        return run(url, seconds=seconds, connections=connections)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var, launch_system(Path(var), quick_timers=False) as system:
        token = system.login("demo.buyer")["access_token"]
        products = requests.get(system.api + "/products", params={"limit": 1},
                                headers={"Authorization": f"Bearer {token}"}).json()
        part = products["items"][0]["part_number"]
        headers = {"Authorization": f"Bearer {token}"}
        run(system.api + f"/products/{part}", headers, seconds=2, connections=args.connections)
        identity, catalog = metrics_ports(system, "identity"), metrics_ports(system, "catalog")
        before = sum(rpc_calls(identity, "identity").values())
        catalog_before = rpc_calls(catalog, "catalog")["get_product"]
        procura = run(system.api + f"/products/{part}", headers, seconds=args.seconds,
                      connections=args.connections)
        after = sum(rpc_calls(identity, "identity").values())
        catalog_calls = rpc_calls(catalog, "catalog")["get_product"] - catalog_before
        etag = requests.get(system.api + f"/products/{part}", headers=headers).headers["ETag"]
        revalidated = run(system.api + f"/products/{part}", dict(headers, **{
            "If-None-Match": etag}), seconds=args.seconds, connections=args.connections,
            ok_status=304)
    echo = echo_pair(args.seconds, args.connections)
    print(f"\n{args.connections} connections, {args.seconds:g} s each, on {os.cpu_count()} cores")
    show(f"GET /api/v1/products/{part} (token)", procura)
    show("bare nameko HTTP -> RPC echo", echo)
    print(f"ratio procura/echo: {procura['rps'] / echo['rps']:.2f} of the echo's requests/s, "
          f"p50 x{procura['p50_ms'] / echo['p50_ms']:.2f}")
    print(f"identity RPC calls during the run: {after - before:g} "
          f"(for {procura['requests']} authenticated requests)")
    print(f"catalog get_product calls during the run: {catalog_calls:g} "
          f"(for {procura['requests']} requests)")
    show("  the same with If-None-Match (304)", revalidated)
    print(f"ratio with If-None-Match: {revalidated['rps'] / echo['rps']:.2f} of the echo's "
          f"requests/s")


if __name__ == "__main__":
    main()
