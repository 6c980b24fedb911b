"""Benchmark: the catalog benchmark's searches over HTTP through the gateway, beside the
catalog's own time for the same searches in the same run.

For each database asked for: starts Procura as `make run` does (private databases, vhost
and ports), loads N generated products with `procura import-products` (the catalog
benchmark's generator and CSV; on PostgreSQL that also builds the search word lists), then,
for two signed-in users of the demo company,
  - demo.buyer, whose company has a contract,
  - demo.approver, given a catalog grant (the catalog benchmark's "Approved brands"),
runs the twelve searches of bench/catalog_search.py (a page of 50, the API's default):
  - baseline: catalog's search and the dump of its reply, on catalog's database, in this
    process (no broker, no HTTP), as the catalog benchmark measures it,
  - over HTTP on one kept-alive connection, accepting gzip (as browsers do), and without,
  - over HTTP on 8 kept-alive connections, accepting gzip,
and prints p50/p95/p99 and requests/s, each HTTP p95 as a difference to and a ratio of the
baseline's p95. Target: HTTP p95 at most 10 ms above the baseline's p95.

    .venv/bin/python bench/search_http.py --db both --products 1000000
    .venv/bin/python bench/search_http.py --db sqlite --products 50000 --seconds 5

PostgreSQL comes from PROCURA_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres);
its databases are created for the run and dropped after.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode

import jwt
import requests

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.catalog_search import SEARCHES, search_as, timed, write_csv  # noqa: E402
from bench.loadgen import run  # noqa: E402
from services.catalog.models import Base  # noqa: E402
from services.common.engines import open_session  # noqa: E402
from services.common.tokens import context_from_claims  # noqa: E402

LIMIT = 50
TARGET_MS = 10.0
GRANTED_USER = "demo.approver"
APPROVED_BRANDS = {  # the catalog benchmark's grant
    "name": "Approved brands", "rules": [],
    "include": {"manufacturers": ["Lenovo", "Dell", "HP", "Cisco", "Logitech", "APC", "Seagate",
                                  "Jabra", "Microsoft", "Samsung"]},
    "exclude": {"languages": ["fr"]}}


def search_urls(api):
    def value(v):
        return str(v).lower() if isinstance(v, bool) else v
    return [f"{api}/products?" + urlencode({"q": q, **{k: value(v) for k, v in filters.items()},
                                           "limit": LIMIT})
            for q, filters in SEARCHES]


def grant_catalog(system):
    """demo.admin builds the catalog and grants it to GRANTED_USER; returns that user's token."""
    admin = system.session("demo.admin")
    r = admin.post(system.api + "/catalogs", json=APPROVED_BRANDS)
    assert r.status_code == 201, r.text
    users = admin.get(system.api + "/company/users", params={"limit": 200}).json()["items"]
    user = next(u for u in users if u["username"] == GRANTED_USER)
    r = admin.patch(f"{system.api}/company/users/{user['id']}", json={"catalog_ids": [r.json()["id"]]})
    assert r.status_code == 200, r.text
    return system.login(GRANTED_USER)["access_token"]


def caller_of(token):
    """The caller context the catalog service builds from this token (its claims)."""
    return context_from_claims(jwt.decode(token, options={"verify_signature": False}))


def check_same_answers(session, ctx, urls, headers):
    """The HTTP replies and the baseline find the same products, or the comparison is moot."""
    baseline = search_as(session, ctx, limit=LIMIT)
    totals = []
    for i, url in enumerate(urls):
        over_http = requests.get(url, headers=headers).json()
        direct = baseline(i)
        assert over_http["total"] == direct["total"], (url, over_http["total"], direct["total"])
        totals.append(direct["total"])
    return totals


def line(label, stats, base_p95=None, rps=None):
    text = (f"  {label:34s} p50 {stats['p50']:7.1f}  p95 {stats['p95']:7.1f}  "
            f"p99 {stats['p99']:7.1f} ms")
    if rps is not None:
        text += f"  {rps:7.1f} req/s"
    if base_p95 is not None:
        text += f"   p95 {stats['p95'] - base_p95:+6.1f} ms, x{stats['p95'] / base_p95:.2f} baseline"
    print(text)


def measure_user(system, session, label, token, seconds, runs):
    urls = search_urls(system.api)
    auth = {"Authorization": f"Bearer {token}"}
    ctx = caller_of(token)
    totals = check_same_answers(session, ctx, urls, auth)
    print(f"\n{label}: matches per search " + ", ".join(f"{t:,}" for t in totals))
    base = timed(search_as(session, ctx, limit=LIMIT), runs)
    base_rps = 1000 / base["mean"]
    line("catalog search in process (baseline)", base, rps=base_rps)
    result = {"baseline": {**{k: round(v, 1) for k, v in base.items()}, "rps": round(base_rps, 1)}}
    for name, connections, encoding in (("HTTP, 1 connection, gzip", 1, "gzip"),
                                        ("HTTP, 1 connection, no gzip", 1, "identity"),
                                        ("HTTP, 8 connections, gzip", 8, "gzip")):
        got = run(urls, {**auth, "Accept-Encoding": encoding}, seconds=seconds,
                  connections=connections)
        if got["errors"]:
            print(f"  {name}: {got['errors']} errors")
        stats = {"p50": got["p50_ms"], "p95": got["p95_ms"], "p99": got["p99_ms"]}
        line(name, stats, base["p95"], got["rps"])
        result[name] = {**{k: round(v, 1) for k, v in stats.items()}, "rps": round(got["rps"], 1),
                        "p95_minus_baseline": round(stats["p95"] - base["p95"], 1)}
    return result


def run_db(kind, n, seconds, runs, folder):
    from tests.support.system import launch_system
    os.environ["PROCURA_TEST_DB"] = kind
    print(f"\n=== {kind}: {n:,} products")
    csv_path = folder / f"products-{n}.csv"
    if not csv_path.exists():
        started = time.perf_counter()
        write_csv(csv_path, n)
        print(f"generated the CSV ({csv_path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s")
    var = folder / f"var-{kind}"
    var.mkdir()
    # the word lists are built once by import-products; the catalog's own indexer would
    # otherwise start a second build at an unpredictable moment during the measurements
    with launch_system(var, extra_env={"SEARCH_INDEXER": "off", "LOG_LEVEL": "WARNING"},
                       quick_timers=False) as system:
        started = time.perf_counter()
        report = system.cli("import-products", str(csv_path))
        imported = time.perf_counter() - started
        print(f"procura import-products in {imported:.0f} s: {report.strip().splitlines()[0]}")
        session = open_session("catalog", Base, system.env["CATALOG_DATABASE_URL"])
        try:
            result = {"db": kind, "products": n, "import_s": round(imported)}
            result["demo.buyer (contract)"] = measure_user(
                system, session, "demo.buyer (company contract)",
                system.login("demo.buyer")["access_token"], seconds, runs)
            result[f"{GRANTED_USER} (catalog grant)"] = measure_user(
                system, session, f"{GRANTED_USER} (catalog grant)", grant_catalog(system),
                seconds, runs)
        finally:
            session.close()
            session.get_bind().dispose()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10, help="per HTTP measurement")
    parser.add_argument("--runs", type=int, default=120, help="baseline searches per user")
    parser.add_argument("--dir", default=None, help="where the CSV and the SQLite files go")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for kind in kinds:
            results.append(run_db(kind, args.products, args.seconds, args.runs, Path(tmp)))
    print(f"\non {os.cpu_count()} cores; target: HTTP p95 at most {TARGET_MS:g} ms above the baseline's")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
