"""Helpers for the tests that run real `procura serve` processes (the `cluster` fixture of
tests/integration/conftest.py): place an order, count rows, wait until a service answers."""
import uuid

from sqlalchemy import func, select

from services.common.context import CallerContext
from services.common.engines import open_session
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for


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


