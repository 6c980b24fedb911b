"""Benchmark: the order saga under load, through the whole system started as `make run`
starts it. 50 buyers check out at once; one two-step workflow (orders over 1,000 CAD: a
first approver, then a second) applies to every other order. Prints, for orders that need no
approval, the time from `POST /orders` to `approved` and, for the others, from the last
`approve` call to `approved` (target: p99 under 300 ms for both), beside a bare nameko
HTTP→RPC echo pair at the same concurrency measured in the same run, and the checkouts of
as many buyers through nameko services that do nothing (bench/saga_floor.py). The moment an order
becomes `approved` is read from the `orders.order_status_changed` event (its `changed_at`,
the commit of the move), on a queue of the bench's own, so that nothing polls the system.

    .venv/bin/python bench/approvals.py [--buyers 50] [--orders 4]
    PROCURA_TEST_DB=postgresql .venv/bin/python bench/approvals.py   # on PostgreSQL
"""
import argparse
import socket
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from kombu import Connection, Exchange, Queue

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gateway_products import echo_pair  # noqa: E402
from bench.loadgen import percentile, show  # noqa: E402
from bench.saga_floor import saga_floor, show_checkouts  # noqa: E402
from tests.support.databases import db_kind  # noqa: E402
from tests.support.system import launch_system  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402

PASSWORD = "Bench-approvals-2026!"
CSV = """part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability
BENCH-LAPTOP,20XW0042US,Lenovo,Notebooks,Lenovo ThinkPad T14,Business notebook,2400.00,CAD,en,in_stock
BENCH-MOUSE,910-005620,Logitech,Accessories,Logitech MX Master 3S,Wireless mouse,29.99,CAD,en,in_stock
"""
ADDRESS = {"name": "HQ", "line1": "1 King St W", "city": "Toronto", "region": "ON",
           "postal_code": "M5H 1A1", "country": "CA"}


class Approved:
    """When each order became approved, from orders' own events."""

    def __init__(self, amqp_uri):
        self.at, self.lock = {}, threading.Lock()
        self.conn = Connection(amqp_uri)
        exchange = Exchange("orders.events", type="topic", durable=True)
        self.queue = Queue(f"bench-approved-{uuid.uuid4().hex[:8]}", exchange,
                           routing_key="order_status_changed", exclusive=True, auto_delete=True)
        self.consumer = self.conn.Consumer([self.queue], callbacks=[self.on_message],
                                           accept=["json"])
        self.consumer.consume()
        self.running = True
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def on_message(self, body, message):
        payload = body.get("payload") or {}
        if payload.get("status") == "approved":
            moment = datetime.fromisoformat(payload["changed_at"].rstrip("Z")).replace(
                tzinfo=timezone.utc).timestamp()
            with self.lock:
                self.at[payload["order_number"]] = moment
        message.ack()

    def drain(self):
        while self.running:
            try:
                self.conn.drain_events(timeout=0.5)
            except socket.timeout:
                continue

    def wait(self, numbers, timeout=120):
        def approved():
            with self.lock:
                return all(n in self.at for n in numbers)
        wait_for(approved, timeout=timeout, interval=0.1, message="every order's approval")

    def close(self):
        self.running = False
        self.thread.join()
        self.conn.release()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--orders", type=int, default=4, help="orders per buyer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var, \
            launch_system(Path(var), products=50, quick_timers=False) as system:
        staff = system.session("e2e.staff", "Staff-password-2026")
        staff.post(system.api + "/backoffice/products/import", data=CSV,
                   headers={"Content-Type": "text/csv"}).raise_for_status()
        company = system.new_company(staff, "Bench", password=PASSWORD)
        admin = company.admin
        first, second, *buyers = company.add_users(
            {"first_name": "first", "groups": ["users"]},
            {"first_name": "second", "groups": ["users"], "features": ["recent_orders"]},
            *({"first_name": f"buyer{i}", "groups": ["users"]} for i in range(args.buyers)))
        users_group = next(g for g in admin.get(system.api + "/company/groups").json()["items"]
                           if g.get("key") == "users")
        admin.post(system.api + "/approval-workflows", json={
            "name": "Over 1,000", "buyers": {"group_ids": [users_group["id"]]},
            "rules": [{"type": "order_total_over", "amount": {"amount": "1000.00", "currency": "CAD"}}],
            "steps": [{"approvers": {"user_ids": [first["id"]]}, "required": 1},
                      {"approvers": {"user_ids": [second["id"]]}, "required": 1}]}).raise_for_status()

        approved = Approved(system.env["AMQP_URI"])
        placed, last_approve, checkout, errors = {}, {}, [], []
        lock = threading.Lock()

        def buyer(user, index):
            s = user["session"]
            for n in range(args.orders):
                part = "BENCH-LAPTOP" if (index + n) % 2 else "BENCH-MOUSE"
                cart = s.post(system.api + "/carts", json={"name": "b"}).json()
                s.post(system.api + f"/carts/{cart['id']}/items",
                       json={"part_number": part, "quantity": 1}).raise_for_status()
                t0 = time.time()
                r = s.post(system.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                           json={"cart_id": cart["id"], "payment": {"method": "account"},
                                 "shipping_address": ADDRESS})
                t1 = time.time()
                if r.status_code != 201:
                    with lock:
                        errors.append(f"checkout {r.status_code}: {r.text[:200]}")
                    continue
                with lock:
                    checkout.append(t1 - t0)
                    placed[r.json()["number"]] = (t0, part == "BENCH-LAPTOP")

        def approver(user, key, expected):
            s, decided = user["session"], 0
            while decided < expected:
                r = s.get(system.api + "/approvals", params={"status": "pending", "limit": 200})
                if r.status_code != 200:
                    with lock:
                        errors.append(f"inbox {r.status_code}: {r.text[:200]}")
                    time.sleep(0.1)
                    continue
                items = r.json()["items"]
                if not items:
                    time.sleep(0.02)
                    continue
                for item in items:
                    t0 = time.time()
                    r = s.post(system.api + f"/approvals/{item['id']}/approve", json={})
                    if r.status_code != 200:
                        continue
                    decided += 1
                    if key == "second":
                        with lock:
                            last_approve[item["order_number"]] = t0

        needing = sum(1 for i in range(args.buyers) for n in range(args.orders) if (i + n) % 2)
        threads = [threading.Thread(target=buyer, args=(u, i)) for i, u in enumerate(buyers)]
        threads += [threading.Thread(target=approver, args=(first, "first", needing)),
                    threading.Thread(target=approver, args=(second, "second", needing))]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        approved.wait(list(placed))
        elapsed = time.perf_counter() - started
        approved.close()
        auto = [approved.at[n] - t0 for n, (t0, needs) in placed.items() if not needs]
        after_approve = [approved.at[n] - t0 for n, t0 in last_approve.items()]

    baseline = echo_pair(5, args.buyers)
    floor = saga_floor(args.buyers, 10)
    print(f"database: {db_kind()}; {args.buyers} buyers x {args.orders} orders in {elapsed:.1f} s; "
          f"{len(auto)} without approval, {len(after_approve)} through two steps")
    for label, values in (("POST /orders (checkout reply)", checkout),
                          ("POST /orders -> approved (no workflow)", auto),
                          ("last approve -> approved (two steps)", after_approve)):
        values.sort()
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        print(f"{label:<44} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
              f"(p99 = {p99 / baseline['p99_ms']:.1f}x the echo pair's p99)")
    show(f"bare nameko HTTP->RPC echo pair, {args.buyers} conns", baseline)
    show_checkouts("the same buyers' checkouts, empty services", floor)
    print("  (bench/saga_floor.py: nameko services that do nothing; their checkout reply "
          "alone is the least any of the figures above can be)")
    if errors:
        print(f"{len(errors)} failed requests, first: {errors[0]}")
    print("target: p99 under 300 ms for both saga figures")


if __name__ == "__main__":
    main()
