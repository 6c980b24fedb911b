"""How orders' entrypoints meet catalog: a worker ends its transaction before it asks
catalog for prices (on SQLite its process has one connection, whose write lock every other
worker would otherwise wait for during the call), writes after the answer, and refuses a
checkout whose cart changed meanwhile. Catalog is a stand-in here, which checks that the
worker's session holds no transaction when it is asked; the real services meet in the e2e
tests."""
import pytest
from nameko.testing.services import worker_factory

from services.common.context import CallerContext
from services.common.entrypoints import _Verified
from services.common.errors import Conflict, Invalid
from services.orders import domain
from services.orders.models import Base
from services.orders.service import OrdersService

BUYER = CallerContext(user_id=7, company_id=1, email="b@x.test", name="B", currency="CAD")
ADDRESS = {"name": "HQ", "line1": "1 Main", "city": "Montréal", "postal_code": "H2X 1Y4",
           "country": "CA"}


class Catalog:
    """Prices every line at 10.00; `meanwhile()` runs while it answers."""

    def __init__(self, session):
        self.session, self.asked, self.meanwhile = session, [], None

    def price_lines(self, ctx, currency, lines, with_catalogs=False):
        assert not self.session.in_transaction(), "asked catalog inside a transaction"
        self.asked.append([line["part_number"] for line in lines])
        if self.meanwhile:
            self.meanwhile()
        return {"currency": currency, "lines": [
            {"part_number": line["part_number"], "quantity": line["quantity"], "status": "ok",
             "name": line["part_number"], "unit_price": {"amount": "10.00", "currency": "CAD"},
             "price_source": "list", "on_contract": False, "catalog_ids": []}
            for line in lines]}


@pytest.fixture
def orders(session_factory):
    session = session_factory("orders", Base)
    catalog = Catalog(session)
    service = worker_factory(OrdersService, db=session, catalog=catalog)
    return service, session, catalog


def call(service, method, *args, **kwargs):
    """One worker: the entrypoint commits what it wrote once it is done."""
    reply = getattr(service, method)(_Verified(BUYER, None), *args, **kwargs)
    service.db.commit()
    return reply


def new_cart(session, *parts):
    cart = domain.create_cart(session, BUYER, "c")
    for part in parts:
        domain.add_line(session, cart, part, 1, None)
    session.commit()
    return cart.id


def test_cart_changes_ask_catalog_outside_any_transaction(orders):
    service, session, catalog = orders
    cart_id = new_cart(session, "A")
    reply = call(service, "add_item", cart_id, "B", 2)
    assert [(l["part_number"], l["quantity"]) for l in reply["lines"]] == [("A", 1), ("B", 2)]
    line_b = reply["lines"][1]["id"]
    call(service, "update_line", cart_id, line_b, 3)
    call(service, "get_cart", cart_id)
    reply = call(service, "remove_line", cart_id, line_b)
    assert [l["part_number"] for l in reply["lines"]] == ["A"]
    assert catalog.asked == [["A", "B"], ["A", "B"], ["A", "B"], ["A"]]


def test_checkout_asks_catalog_outside_any_transaction_then_places_the_order(orders):
    service, session, catalog = orders
    cart_id = new_cart(session, "A", "B")
    request = {"cart_id": cart_id, "shipping_address": ADDRESS,
               "payment": {"method": "purchase_order", "po_number": "PO-1"}}
    order = call(service, "checkout", request, idempotency_key="k-1")
    assert order["status"] == "pending_approval" and len(order["lines"]) == 2
    # a retry answers the first reply without asking catalog again
    assert call(service, "checkout", request, idempotency_key="k-1") == order
    assert catalog.asked == [["A", "B"]]


def test_a_cart_changed_while_catalog_prices_it_is_not_checked_out(orders, session_factory):
    service, session, catalog = orders

    def another_worker_adds_a_line():
        cart = domain.get_cart(session, BUYER, cart_id)
        domain.add_line(session, cart, "C", 1, None)
        session.commit()
    cart_id = new_cart(session, "A")
    catalog.meanwhile = another_worker_adds_a_line
    request = {"cart_id": cart_id, "shipping_address": ADDRESS,
               "payment": {"method": "purchase_order", "po_number": "PO-1"}}
    with pytest.raises(Conflict) as refused:
        call(service, "checkout", request, idempotency_key="k-2")
    assert refused.value.code == "cart_changed"


def test_a_key_used_with_another_checkout_is_refused_before_asking_catalog(orders):
    service, session, catalog = orders
    request = {"cart_id": new_cart(session, "A"), "shipping_address": ADDRESS,
               "payment": {"method": "purchase_order", "po_number": "PO-1"}}
    call(service, "checkout", request, idempotency_key="k-3")
    with pytest.raises(Invalid) as refused:
        call(service, "checkout", dict(request, notes="another"), idempotency_key="k-3")
    assert refused.value.code == "idempotency_key_reused"
    assert len(catalog.asked) == 1
