"""Benchmark: the catalog at scale, through its domain functions (no broker, no HTTP).

For each database asked for, on a fresh database: writes N generated products to a CSV file,
imports it (in a child process, whose wall time and peak RSS are measured), on PostgreSQL
builds the search word lists as the catalog service's indexer does after an import (timed;
searches made before that use the GIN index, also measured), gives one company a contract
with 10,000 prices, then prints p50/p95/p99 latencies of
  - a search with a filter and facets (the whole catalog, priced for the company),
  - the same search by a user whose catalog grant narrows what they see,
  - the same searches sorted by price (ascending and descending in turn),
  - a lookup of 100 part numbers,
  - a whole-cart price quote of 20 lines (price_lines).

    .venv/bin/python bench/catalog_search.py --db both --products 200000
    .venv/bin/python bench/catalog_search.py --db sqlite --products 1000000

Targets: search p95 < 50 ms, 100-lookup p95 < 20 ms, import of 1M < 3 min, peak RSS < 500 MB.
PostgreSQL comes from PROCURA_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres);
a database is created for the run and dropped after.
"""
import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.catalog import demo, indexer, schemas  # noqa: E402
from services.catalog.domain import (contracts, custom_catalogs, products,  # noqa: E402
                                     search)
from services.catalog.importer import CSV_COLUMNS  # noqa: E402
from services.catalog.models import Base  # noqa: E402
from services.common.clock import utc_today  # noqa: E402
from services.common.context import CallerContext  # noqa: E402
from services.common.engines import open_session  # noqa: E402

PAGE = schemas.ProductPage()
COMPANY = 1
STAFF = CallerContext(user_id=1, staff=True)
BUYER = CallerContext(user_id=10, company_id=COMPANY, currency="CAD")
SEARCHES = [
    ("thinkpad 32gb", {"manufacturer": "Lenovo"}),
    ("latitude", {"category": "Notebooks"}),
    ("monitor usb-c", {"manufacturer": "Dell"}),
    ("poe switch", {"category": "Networking"}),
    ("nas hard drive", {"manufacturer": "Seagate"}),
    ("headset teams", {"category": "Audio"}),
    ("laserjet", {"availability": "in_stock"}),
    ("nvme ssd 1tb", {"category": "Storage"}),
    ("microsoft 365", {"language": "en"}),
    ("xeon 64gb", {"category": "Servers"}),
    ("ups 1500va", {"manufacturer": "APC"}),
    ("macbook", {"on_contract": False}),
]
ROWS_KEPT = 20000  # part numbers kept for lookups and carts


def percentiles(samples):
    ordered = sorted(samples)

    def at(p):
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
    return {"p50": at(50), "p95": at(95), "p99": at(99), "mean": statistics.mean(ordered)}


def write_csv(path, n):
    """The products as a CSV file; returns a sample of (part_number, currency, list_price)."""
    rng = random.Random(7)
    kept = []
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS + ("epp_price",))
        for i, row in enumerate(demo.generate_products(n)):
            writer.writerow([row[c] for c in CSV_COLUMNS] + [row["epp_price"]])
            if len(kept) < ROWS_KEPT:
                kept.append((row["part_number"], row["currency"], row["list_price"]))
            elif rng.random() < ROWS_KEPT / (i + 1):
                kept[rng.randrange(ROWS_KEPT)] = (row["part_number"], row["currency"], row["list_price"])
    return kept


def peak_rss_mb() -> float:
    """This process's own peak resident memory. Not ru_maxrss: Linux carries it across
    fork and exec, so a child started by a large parent would report the parent's size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_child(url, csv_path):
    """Run in a child process: import the file, print the report as JSON."""
    session = open_session("catalog", Base, url)
    started = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as f:
        report = products.import_products(session, STAFF, source=f, commit_every=50000)
    session.commit()
    report["seconds"] = time.perf_counter() - started
    report["peak_rss_mb"] = peak_rss_mb()
    report["rejected"] = report["rejected"][:5]
    print(json.dumps(report))


def fresh_database(kind, folder):
    from services.common.migrations import upgrade
    from tests.support.databases import create_database
    os.environ["PROCURA_TEST_DB"] = kind
    url, drop = create_database("catalog_bench", folder)
    upgrade("catalog", url)
    return url, drop


def timed(fn, runs):
    samples = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def search_as(session, ctx, by_price=False, limit=20):
    def call(i):
        q, filters = SEARCHES[i % len(SEARCHES)]
        if by_price:
            filters = {**filters, "sort": "price_desc" if i % 2 else "price_asc"}
        # the reply as the service sends it
        result = PAGE.dump(search.search(session, ctx, "CAD", {"q": q, **filters}, limit=limit))
        session.rollback()
        return result
    return call


def run(kind, n, runs, folder):
    print(f"\n=== {kind}: {n:,} products")
    url, drop = fresh_database(kind, folder)
    try:
        csv_path = folder / f"products-{n}.csv"
        started = time.perf_counter()
        kept = write_csv(csv_path, n)
        print(f"generated the CSV ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        child = subprocess.run([sys.executable, __file__, "--import-into", url, "--csv", str(csv_path)],
                               capture_output=True, text=True)
        wall = time.perf_counter() - started
        if child.returncode != 0:
            raise SystemExit(child.stderr)
        report = json.loads(child.stdout.strip().splitlines()[-1])
        peak_mb = report["peak_rss_mb"]
        print(f"import: {report['imported']:,} imported, {report['updated']:,} updated, "
              f"{report['rejected_count']} rejected in {report['seconds']:.1f} s "
              f"({report['imported'] / report['seconds']:,.0f} rows/s; process {wall:.1f} s), "
              f"peak RSS {peak_mb:.0f} MB")
        result = {"db": kind, "products": n, "import_s": round(report["seconds"], 1),
                  "import_peak_rss_mb": round(peak_mb)}

        session = open_session("catalog", Base, url)
        if kind == "postgresql":
            before = timed(search_as(session, BUYER), max(24, runs // 8))
            print(f"{'search before the word lists':30s} p50 {before['p50']:7.1f} ms   p95 {before['p95']:7.1f} ms"
                  f"   (GIN index; {max(24, runs // 8)} runs)")
            result["search_before_word_lists"] = {k: round(v, 1) for k, v in before.items()}
            started = time.perf_counter()
            build = indexer.rebuild(session.get_bind())
            seconds = time.perf_counter() - started
            print(f"search word lists: {build['words']:,} words built in {build['seconds']:.1f} s, "
                  f"with VACUUM ANALYZE {seconds:.1f} s")
            result["word_lists_build_s"] = round(seconds, 1)
        rng = random.Random(3)
        cad = [k for k in kept if k[1] == "CAD"]
        on_contract = rng.sample(cad, min(10000, len(cad)))
        started = time.perf_counter()
        today = utc_today()
        contracts.create_contract(session, STAFF, COMPANY, {
            "name": "Bench contract", "starts_on": today - timedelta(days=1),
            "ends_on": today + timedelta(days=365), "tiers": [],
            "prices": [{"part_number": p, "price": {"amount": (Decimal(price) * Decimal("0.85")).quantize(Decimal("0.01")),
                                                    "currency": "CAD"}} for p, _, price in on_contract]})
        session.commit()
        print(f"contract with {len(on_contract):,} prices in {time.perf_counter() - started:.1f} s")
        catalog = custom_catalogs.create_catalog(session, CallerContext(company_id=COMPANY, roles=["catalog_admin"]), {
            "name": "Approved brands", "rules": [],
            "include": {"manufacturers": ["Lenovo", "Dell", "HP", "Cisco", "Logitech", "APC", "Seagate",
                                          "Jabra", "Microsoft", "Samsung"]},
            "exclude": {"languages": ["fr"]}})
        session.commit()
        granted = CallerContext(user_id=11, company_id=COMPANY, currency="CAD", catalog_ids=[catalog.id])

        parts = [k[0] for k in kept]

        def lookup(i):
            products.lookup(session, BUYER, "CAD", rng.sample(parts, 100))
            session.rollback()

        def cart(i):
            lines = [{"part_number": p, "quantity": rng.randint(1, 12)}
                     for p in rng.sample(parts, 15) + [p for p, _, _ in rng.sample(on_contract, 5)]]
            products.price_lines(session, BUYER, "CAD", lines)
            session.rollback()

        hits = [search_as(session, BUYER)(i)["total"] for i in range(len(SEARCHES))]
        print("matches per search: " + ", ".join(f"{q!r}+{list(f)[0]}={h:,}"
                                                  for (q, f), h in zip(SEARCHES, hits)))
        for name, fn in (("search + filter + facets", search_as(session, BUYER)),
                         ("same, with a catalog grant", search_as(session, granted)),
                         ("same, sorted by price", search_as(session, BUYER, by_price=True)),
                         ("lookup of 100 part numbers", lookup),
                         ("cart quote, 20 lines", cart)):
            fn(0)
            stats = timed(fn, runs)
            result[name] = {k: round(v, 1) for k, v in stats.items()}
            print(f"{name:30s} p50 {stats['p50']:7.1f} ms   p95 {stats['p95']:7.1f} ms   "
                  f"p99 {stats['p99']:7.1f} ms   ({runs} runs)")
        session.close()
        session.get_bind().dispose()
        return result
    finally:
        drop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--dir", default=None, help="where the SQLite file and the CSV go")
    parser.add_argument("--import-into", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_into:
        import_child(args.import_into, args.csv)
        return
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for kind in kinds:
            results.append(run(kind, args.products, args.runs, Path(tmp)))
    print("\n" + json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
