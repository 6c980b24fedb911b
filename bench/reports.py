"""Benchmark: every standard report as CSV over 3 years of one company's history.

For each database asked for, on a fresh migrated database: loads 3 years of order history
for one company (`--lines` order lines, about 4 per order, with their shipments, invoices and
approvals; one product name in ten holds a comma and a quote, as real ones do) through
reporting's own `facts.order_rows` (the rows an order_placed event makes), inserted in bulk,
then sums the spend rollups from those lines as a rebuild does (`rollups.refresh`). Then, for
each standard report, a child process does what the reporting service does for
`GET /reports/{key}?format=csv` over the whole window — the same CSV pages of 20,000 rows, one
after the other — and prints its wall time, rows, rows per second and its own peak memory
(VmHWM). The child is the reporting process; its memory is the point.

The machine is shared, so each run also times a baseline in the same way, before and after
the reports: a child reading every order line with a plain SELECT of the order_lines
report's columns (no order, no formatting, no CSV). `time_ratio` is a report's time over the
baseline's (the mean of both), `rate_ratio` its rows per second over the baseline's, and
`cpu_s` the CPU seconds it used (the child's, plus its PostgreSQL backend's): they change
less with the load than seconds do. The load average is printed beside them.

    .venv/bin/python bench/reports.py --db both --lines 1000000
    .venv/bin/python bench/reports.py --db sqlite --lines 200000 --reports order_lines
    .venv/bin/python bench/reports.py --reuse sqlite:////tmp/r.db   # a database kept by --keep

Targets: every grouped report under 2 s, CSV at 100,000 rows/s or better (a million order
lines then take 10 s), peak memory under 300 MB. PostgreSQL comes from PROCURA_TEST_PG
(default postgresql://postgres@127.0.0.1:5432/postgres); a database is created for the run
and dropped after (unless --keep).
"""
import argparse
import csv
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import datetime, timedelta
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from services.common.context import CallerContext  # noqa: E402
from services.common.engines import make_engine, open_session, session_factory  # noqa: E402
from services.reporting.domain import facts, reports, rollups  # noqa: E402
from services.reporting.models import (ApprovalFact, Base, InvoiceFact, OrderFact,  # noqa: E402
                                       OrderLineFact, ShipmentFact)
from services.reporting.domain.engine import CSV_PAGE  # noqa: E402

COMPANY = 1
CALLER = CallerContext(user_id=1, company_id=COMPANY, locale="en",
                       features=["order_reports", "payment_reports"])
MAKERS = ["Dell", "Lenovo", "HP", "Apple", "Microsoft", "Adobe", "Cisco", "Logitech", "Samsung",
          "APC"]
CATEGORIES = ["Notebooks", "Desktops", "Monitors", "Software", "Networking", "Accessories",
              "Storage", "Servers"]
CITIES = [("Toronto", "ON"), ("Montréal", "QC"), ("Vancouver", "BC"), ("Calgary", "AB"),
          ("Ottawa", "ON"), ("Québec", "QC")]
STATUSES = ["invoiced"] * 14 + ["delivered", "shipped", "approved", "pending_approval",
                                "rejected", "cancelled"]


def money(cents):
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": "CAD"}


def order_placed(rnd, n, placed, products, buyers):
    lines = []
    for _ in range(rnd.randint(2, 6)):
        part, maker, category, name, price = rnd.choice(products)
        qty = rnd.randint(1, 10)
        lines.append({"part_number": part, "mfg_part_number": part + "-M", "name": name,
                      "manufacturer": maker, "category": category, "quantity": qty,
                      "unit_price": money(price), "line_total": money(price * qty),
                      "price_source": "contract", "on_contract": rnd.random() < 0.7})
    city, region = rnd.choice(CITIES)
    method = rnd.choice(["card", "purchase_order", "account"])
    payment = {"method": method}
    if method == "card":
        payment["card"] = {"brand": rnd.choice(["visa", "mastercard", "amex"]),
                           "last4": f"{rnd.randint(0, 9999):04d}"}
    total = sum(int(l["line_total"]["amount"].replace(".", "")) for l in lines)
    return {"order_number": f"SO-{n:08d}", "company_id": COMPANY, "buyer": rnd.choice(buyers),
            "currency": "CAD", "lines": lines, "totals": {"total": money(total)},
            "shipping_address": {"city": city, "region": region, "country": "CA"},
            "payment": payment, "billing_account_id": rnd.choice([None, 11, 12, 13]),
            "placed_at": placed.isoformat() + "Z"}


class BulkWriter:
    """Rows into fact tables as fast as each database takes them: COPY on PostgreSQL, one
    executemany per batch on SQLite, all in one transaction; values are converted by the
    columns' own types, so they read back as if the ORM had written them."""

    def __init__(self, engine):
        self.engine = engine
        self.dialect = engine.dialect
        self.raw = engine.raw_connection()
        self.postgres = self.dialect.name == "postgresql"
        if self.postgres:
            import psycopg2.extensions
            psycopg2.extensions.set_wait_callback(None)  # COPY needs a blocking connection
        else:
            self.raw.execute("BEGIN")

    def write(self, model, rows):
        if not rows:
            return
        table = model.__table__
        names = [c.name for c in table.columns if c.name in rows[0]]
        if self.postgres:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(
                [[row[n] for n in names] for row in rows])
            buffer.seek(0)
            with self.raw.cursor() as cur:
                cur.copy_expert(f"COPY {table.name} ({', '.join(names)}) FROM STDIN "
                                f"WITH (FORMAT csv)", buffer)
            return
        procs = [table.c[n].type.bind_processor(self.dialect) for n in names]
        convert = [(i, p) for i, p in enumerate(procs) if p is not None]
        values = []
        for row in rows:
            value = [row[n] for n in names]
            for i, p in convert:
                value[i] = p(value[i])
            values.append(value)
        self.raw.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
                             f"({', '.join('?' * len(names))})", values)

    def close(self):
        self.raw.commit()
        self.raw.close()


def load(url, lines_wanted, seed=1):
    """Three years of history up to now, inserted in bulk, and the rollups summed from it."""
    loading = time.perf_counter()
    rnd = random.Random(seed)
    products = [(f"P{i:05d}", rnd.choice(MAKERS), rnd.choice(CATEGORIES),
                 f'Product {i}, 14" screen' if i % 10 == 0 else f"Product {i}",
                 rnd.randint(500, 300000)) for i in range(5000)]
    buyers = [{"user_id": i, "name": f"Buyer {i}", "email": f"b{i}@acme.test", "locale": "en"}
              for i in range(200)]
    end = datetime.utcnow().replace(microsecond=0)
    start = end - timedelta(days=3 * 365 - 2)
    engine = make_engine(url)
    writer = BulkWriter(engine)
    made_lines, n = 0, 0
    batch = {OrderFact: [], OrderLineFact: [], ShipmentFact: [], InvoiceFact: [],
             ApprovalFact: []}

    def flush():
        for model, rows in batch.items():
            writer.write(model, rows)
            rows.clear()

    while made_lines < lines_wanted:
        placed = start + (end - start) * (made_lines / lines_wanted)
        payload = order_placed(rnd, n, placed, products, buyers)
        order, lines = facts.order_rows(payload)
        lines = lines[:lines_wanted - made_lines]
        status = rnd.choice(STATUSES)
        order["status"] = status
        for line in lines:
            line["status"] = status
        batch[OrderFact].append(order)
        batch[OrderLineFact].extend(lines)
        common = {"company_id": COMPANY, "order_number": order["order_number"],
                  "buyer_id": order["buyer_id"], "buyer_name": order["buyer_name"]}
        if status in ("shipped", "delivered", "invoiced"):
            shipped = placed + timedelta(days=1)
            batch[ShipmentFact].append(dict(
                common, ship_to=order["ship_to"], carrier="Purolator",
                tracking_number=f"329{n:09d}", tracking_url=f"https://p.test/?pin=329{n:09d}",
                shipped_at=shipped, delivered_at=None if status == "shipped"
                else shipped + timedelta(days=2), delivery_note="Signed"))
        if status == "invoiced":
            issued = placed + timedelta(days=4)
            batch[InvoiceFact].append(dict(
                common, invoice_number=f"INV-{n:08d}", billing_account=order["billing_account"],
                currency="CAD", total_cents=order["total_cents"], issued_at=issued,
                issued_month=facts.month_of(issued)))
        if rnd.random() < 0.3:
            asked = placed + timedelta(minutes=1)
            decided = None if status == "pending_approval" else asked + timedelta(
                hours=rnd.randint(1, 72))
            batch[ApprovalFact].append(dict(
                common, approval_id=str(uuid.UUID(int=rnd.getrandbits(128))), rule="over 5000",
                currency="CAD", total_cents=order["total_cents"], requested_at=asked,
                requested_month=facts.month_of(asked),
                decision={"pending_approval": "pending", "rejected": "rejected"}.get(
                    status, "approved"), decided_at=decided,
                decide_seconds=decided and int((decided - asked).total_seconds())))
        made_lines += len(lines)
        n += 1
        if len(batch[OrderLineFact]) >= 50000:
            flush()
    flush()
    writer.close()
    print(f"# loaded {n} orders, {made_lines} lines in {time.perf_counter() - loading:.0f} s",
          flush=True)
    started = time.perf_counter()
    session = session_factory(engine, Base)()
    rollups.refresh(session, COMPANY)
    session.commit()
    session.close()
    print(f"# spend rollups summed from the lines in {time.perf_counter() - started:.0f} s",
          flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    engine.dispose()


def peak_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


BASELINE_COLUMNS = ("placed_at, order_number, buyer_name, status, part_number, mfg_part_number, "
                    "name, manufacturer, category, quantity, unit_price_cents, spend_cents, "
                    "on_contract, currency")


def cpu_seconds(backend_pid=None):
    """This process's CPU time, and its PostgreSQL backend's (same machine) if given."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    seconds = usage.ru_utime + usage.ru_stime
    if backend_pid:
        with open(f"/proc/{backend_pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def run_report(url, key):
    """In the child: the report as the service streams it, CSV pages to /dev/null; or, for
    the key `baseline`, every order line read with a plain SELECT."""
    session = open_session("reporting", Base, url)
    today = datetime.utcnow().date()
    backend = (session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
               if url.startswith("postgres") else None)
    cpu = cpu_seconds(backend)
    started = time.perf_counter()
    rows = size = 0
    cursor = None
    if key == "baseline":
        result = session.connection().exec_driver_sql(
            f"SELECT {BASELINE_COLUMNS} FROM order_line_facts")
        while batch := result.fetchmany(CSV_PAGE):
            rows += len(batch)
        rows += 1  # as if it had a header
    else:
        with open(os.devnull, "w", encoding="utf-8") as sink:
            while True:
                page = reports.csv_page(session, CALLER, key, today, cursor=cursor)
                sink.write(page["csv"])
                size += len(page["csv"])
                rows += page["csv"].count("\r\n")
                cursor = page["next_cursor"]
                if cursor is None:
                    break
                session.rollback()  # one short transaction per page, as each RPC call is
    seconds = time.perf_counter() - started
    cpu = cpu_seconds(backend) - cpu
    session.close()
    print(json.dumps({"rows": rows - 1, "seconds": seconds, "cpu": cpu, "chars": size,
                      "peak_mb": peak_mb()}))


def database(kind):
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="procura-bench-")
        return f"sqlite:///{folder}/reporting.db", lambda: shutil.rmtree(folder, True)
    import psycopg2
    admin_url = os.environ.get("PROCURA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"procura_bench_reports_{uuid.uuid4().hex[:8]}"

    def run(sql):
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.close()
    run(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}", lambda: run(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child(url, key):
    out = subprocess.run([sys.executable, __file__, "--run-report", key, "--url", url],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure(kind, url, keys):
    print(f"# load average before: {load_average()}", flush=True)
    before = child(url, "baseline")
    results = [(key, child(url, key)) for key in keys]
    after = child(url, "baseline")
    base_s = (before["seconds"] + after["seconds"]) / 2
    base_rate = before["rows"] / base_s
    print(f"# baseline (plain SELECT of {before['rows']} order lines): "
          f"{before['seconds']:.2f} s before the reports, {after['seconds']:.2f} s after, "
          f"{base_rate:.0f} rows/s; CPU {before['cpu']:.2f} s and {after['cpu']:.2f} s",
          flush=True)
    print("db,report,rows,seconds,rows_per_s,peak_mb,time_ratio,rate_ratio,cpu_s", flush=True)
    for key, r in results:
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0
        print(f"{kind},{key},{r['rows']},{r['seconds']:.2f},{rate:.0f},{r['peak_mb']:.0f},"
              f"{r['seconds'] / base_s:.2f},{rate / base_rate:.2f},{r['cpu']:.2f}", flush=True)
    slow = [key for key, r in results if r["seconds"] > 2 and r["rows"] / r["seconds"] < 100000]
    rates = [r["rows"] / r["seconds"] for _, r in results if r["rows"] >= 20000]
    worst = f"{min(rates):.0f} rows/s" if rates else "none"
    print(f"# {kind}: slowest CSV of 20,000 rows or more {worst}; over 2 s and under "
          f"100,000 rows/s: "
          f"{', '.join(slow) or 'none'}; most memory "
          f"{max(r['peak_mb'] for _, r in results):.0f} MB; load average after: "
          f"{load_average()}", flush=True)


def bench(kind, lines, keys, keep=False):
    from services.common.migrations import upgrade
    url, drop = database(kind)
    try:
        upgrade("reporting", url)
        print(f"# {kind}", flush=True)
        load(url, lines)
        if keep:
            print(f"# kept: --reuse {url}", flush=True)
        measure(kind, url, keys)
    finally:
        if not keep:
            drop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--reports", default=None, help="comma-separated keys (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    parser.add_argument("--reuse", default=None, help="a database kept by --keep: no loading")
    parser.add_argument("--run-report", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_report:
        return run_report(args.url, args.run_report)
    keys = (args.reports.split(",") if args.reports else
            [r.key for r in reports.STANDARD if r.listed])
    if args.reuse:
        return measure(args.reuse.split(":")[0].split("+")[0], args.reuse, keys)
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        bench(kind, args.lines, keys, args.keep)


if __name__ == "__main__":
    main()
