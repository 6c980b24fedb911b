"""Real `procura serve` processes on the real broker, on private databases and a private
vhost: the crash and downtime tests start, kill and restart them."""
import os
import signal
import subprocess
import uuid

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import func, select

from services.common.context import CallerContext
from services.common.engines import open_session
from services.common.testing import BIN, ROOT, _vhost, migrated_database, wait_for

SERVICES = ("orders", "catalog", "approvals", "reporting", "identity")


@pytest.fixture
def cluster(tmp_path):
    vhost, drop_vhost = _vhost()
    env = dict(os.environ, PROCURA_VAR=str(tmp_path), METRICS_DISABLED="1",
               AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
               EVENT_RETRY_DELAYS="0.3,0.6", OUTBOX_RELAY_INTERVAL="0.2")
    drops = []
    for service in SERVICES:
        url, drop = migrated_database(service, tmp_path)
        env[f"{service.upper()}_DATABASE_URL"] = url
        drops.append(drop)
    from services.catalog import demo
    from services.catalog.models import Base as CatalogBase
    with open_session("catalog", CatalogBase, env["CATALOG_DATABASE_URL"]) as session:
        parts = demo.seed(session, 1, 50)["part_numbers"]
        session.commit()
    subprocess.run([str(BIN / "procura"), "declare-queues"], env=env, check=True, cwd=ROOT,
                   capture_output=True)
    procs = {}

    def start(service, **extra):
        log = open(tmp_path / f"{service}.log", "ab")
        procs[service] = subprocess.Popen([str(BIN / "procura"), "serve", service],
                                          env={**env, **extra}, cwd=ROOT, stdout=log,
                                          stderr=subprocess.STDOUT)
        return procs[service]

    yield {"env": env, "start": start, "parts": parts, "procs": procs, "tmp": tmp_path}
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    drop_vhost()
    for drop in drops:
        drop()


def place_order(cluster, user_id=5, quantity=1):
    """Check out one line as a buyer of company 1; returns the order (None if the orders
    process died before replying)."""
    config = {"AMQP_URI": cluster["env"]["AMQP_URI"]}
    ctx = CallerContext(user_id=user_id, company_id=1, currency="CAD", email="b@northwind.test",
                        name="Buyer", request_id=uuid.uuid4().hex).to_dict()
    with ServiceRpcProxy("orders", config, timeout=20) as orders:
        cart = orders.create_cart(ctx, "crash")
        orders.add_item(ctx, cart["id"], cluster["parts"][0], quantity)
        checkout = {"cart_id": cart["id"], "payment": {"method": "account"},
                    "shipping_address": {"name": "HQ", "line1": "1 Main", "city": "Ottawa",
                                         "postal_code": "K1A 0A1", "country": "CA"}}
        try:
            # the process may die before it can reply: that is the point
            return orders.checkout(ctx, checkout)
        except Exception:
            return None


def count(env, service, base, model, **where):
    with open_session(service, base, env[f"{service.upper()}_DATABASE_URL"]) as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def wait_ready(service, env):
    def pong():
        try:
            with ServiceRpcProxy(service, {"AMQP_URI": env["AMQP_URI"]}, timeout=2) as proxy:
                return proxy.ping({})
        except Exception:
            return None
    wait_for(pong, timeout=30, message=f"{service} to answer")


