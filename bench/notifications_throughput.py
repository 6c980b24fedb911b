"""How many emails per second notifications delivers to a local SMTP server.

Starts an aiosmtpd server in this process (a real thread: this process is not
eventlet-patched), one or more `procura serve notifications` processes on a private
RabbitMQ vhost and a fresh database, queues N emails, and times until the server has
them all. Two ways to queue:
- `--via queue` (default): N rendered messages written straight into the queue in one
  transaction; measures delivery alone (claim, build MIME, SMTP, mark sent).
- `--via events`: N `orders.order_placed` events published to the broker; measures the
  whole path (handler renders and queues, then delivery).

    .venv/bin/python bench/notifications_throughput.py --n 1000
    .venv/bin/python bench/notifications_throughput.py --n 1000 --db postgresql --senders 8
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

MGMT = os.environ.get("RABBIT_MGMT", "http://127.0.0.1:15672")
PG_ADMIN = os.environ.get("PROCURA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class Counting:
    """Accepts everything; remembers Message-IDs and when the first and last arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids = []
        self.first = self.last = None

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        head = data.split(b"\r\n\r\n", 1)[0]
        mid = next((line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                    if line.lower().startswith(b"message-id:")), b"")
        now = time.perf_counter()
        with self.lock:
            self.ids.append(mid)
            self.first = self.first or now
            self.last = now
        return "250 OK"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_vhost():
    name = f"procura_bench_{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    requests.put(f"{MGMT}/api/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/api/permissions/{name}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return name, lambda: requests.delete(f"{MGMT}/api/vhosts/{name}", auth=auth, timeout=10)


def make_database(kind, tmp):
    if kind == "sqlite":
        return f"sqlite:///{tmp}/notifications.db", lambda: None
    if kind != "postgresql":
        return kind, lambda: None  # an explicit URL
    import psycopg2
    name = f"procura_bench_notifications_{uuid.uuid4().hex[:8]}"

    def run(sql):
        conn = psycopg2.connect(PG_ADMIN)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.close()
    run(f'CREATE DATABASE "{name}"')
    return (f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}",
            lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def order_payload(i):
    money = {"amount": "1234.50", "currency": "CAD"}
    return {"order_id": i, "order_number": f"SO-B{i:06d}", "company_id": 1, "user_id": 1,
            "buyer": {"user_id": 1, "email": f"buyer{i}@bench.example", "name": "Bench Buyer",
                      "locale": "fr" if i % 2 else "en"},
            "currency": "CAD",
            "lines": [{"part_number": "LT-100", "mfg_part_number": "20XK", "name": "Laptop",
                       "manufacturer": "Lenovo", "category": "laptops", "quantity": 1,
                       "unit_price": money, "line_total": money, "price_source": "contract",
                       "on_contract": True}],
            "totals": {"subtotal": money, "total": money},
            "shipping_address": {"name": "HQ", "line1": "1 Main St", "line2": None,
                                 "city": "Montréal", "region": "QC", "postal_code": "H2X 1Y4",
                                 "country": "CA"},
            "payment": {"method": "account"}, "placed_at": "2026-11-22T10:00:00Z"}


def queue_directly(url, n):
    from services.common.engines import open_session
    from services.notifications import domain
    from services.notifications.models import Base
    session = open_session("notifications", Base, url)
    started = time.perf_counter()
    for i in range(n):
        for mail in domain.mails_for("orders", "order_placed", order_payload(i)):
            domain.queue_mail(session, str(uuid.uuid4()), mail)
    rendered = time.perf_counter()
    session.commit()
    committed = time.perf_counter()
    session.close()
    session.get_bind().dispose()
    return rendered - started, committed


def publish_events(amqp_uri, n):
    from kombu import Connection
    from nameko.standalone.events import get_event_exchange
    exchange = get_event_exchange("orders", {})
    with Connection(amqp_uri) as conn:
        producer = conn.Producer(serializer="json")
        started = time.perf_counter()
        for i in range(n):
            envelope = {"event_id": str(uuid.uuid4()), "type": "order_placed",
                        "source": "orders", "occurred_at": "2026-11-22T10:00:00Z",
                        "request_id": "bench", "payload": order_payload(i)}
            # as orders' RabbitMQ user (here every process shares guest): handlers refuse
            # an event its source's user did not publish
            producer.publish(envelope, exchange=exchange, routing_key="order_placed",
                             delivery_mode=2, declare=[exchange], user_id="guest")
    return started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--via", choices=("queue", "events"), default="queue")
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql or a database URL")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--senders", type=int, default=4, help="MAIL_SENDERS per instance")
    parser.add_argument("--batch", type=int, default=20, help="MAIL_BATCH")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)

    from services.common.migrations import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="procura-bench-"))
    vhost, drop_vhost = make_vhost()
    url, drop_db = make_database(args.db, tmp)
    upgrade("notifications", url)
    handler = Counting()
    port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    amqp_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    env = dict(os.environ, AMQP_URI=amqp_uri, NOTIFICATIONS_DATABASE_URL=url,
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="none",
               MAIL_SENDERS=str(args.senders), MAIL_BATCH=str(args.batch),
               METRICS_DISABLED="1", PROCURA_VAR=str(tmp), LOG_LEVEL="WARNING",
               NOTIFICATIONS_MAX_WORKERS=os.environ.get("NOTIFICATIONS_MAX_WORKERS", "10"))
    processes = []
    try:
        for number in range(args.instances):
            log = open(tmp / f"instance-{number}.log", "w+")
            processes.append((subprocess.Popen(
                [sys.executable, "-m", "services.cli", "serve", "notifications"], cwd=ROOT,
                env=dict(env, LOG_LEVEL="INFO"), stdout=log, stderr=subprocess.STDOUT), log))
        deadline = time.time() + 60
        for process, log in processes:
            while "notifications started" not in Path(log.name).read_text():
                if process.poll() is not None or time.time() > deadline:
                    raise SystemExit("an instance did not start:\n" + Path(log.name).read_text())
                time.sleep(0.1)

        render_seconds = None
        if args.via == "queue":
            render_seconds, t0 = queue_directly(url, args.n)
        else:
            t0 = publish_events(amqp_uri, args.n)
        deadline = time.time() + args.timeout
        while len(handler.ids) < args.n:
            if time.time() > deadline:
                raise SystemExit(f"only {len(handler.ids)} of {args.n} emails in {args.timeout}s")
            time.sleep(0.005)
        done = handler.last
        time.sleep(1)  # anything sent twice would show up now
        result = {
            "emails": args.n, "via": args.via, "database": args.db.split("://")[0],
            "instances": args.instances, "senders_per_instance": args.senders,
            "batch": args.batch,
            "seconds_to_all_delivered": round(done - t0, 3),
            "emails_per_second": round(args.n / (done - t0), 1),
            "steady_emails_per_second": round((args.n - 1) / (handler.last - handler.first), 1)
            if handler.last > handler.first else None,
            "duplicates": len(handler.ids) - len(set(handler.ids)),
        }
        if render_seconds is not None:
            result["render_and_queue_seconds"] = round(render_seconds, 3)
        print(json.dumps(result, indent=2))
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        smtp.stop()
        drop_vhost()
        try:
            drop_db()
        except Exception as exc:
            print(f"could not drop the bench database: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main()
