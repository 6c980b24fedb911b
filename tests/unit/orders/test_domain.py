"""Orders' rules on a real database (SQLite or PostgreSQL per PROCURA_TEST_DB)."""
import pytest
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Conflict, Invalid, NotFound
from services.orders import domain
from services.orders.models import Base

BUYER = CallerContext(user_id=7, company_id=1, email="b@x.test", name="B", currency="CAD")
OTHER = CallerContext(user_id=8, company_id=2, currency="CAD")
ADDRESS = {"name": "HQ", "line1": "1 Main", "city": "Montréal", "postal_code": "H2X 1Y4",
           "country": "CA"}


def quote(part, amount="10.00", status="ok"):
    return {"part_number": part, "status": status, "name": part,
            "unit_price": {"amount": amount, "currency": "CAD"} if status == "ok" else None,
            "price_source": "list", "on_contract": False}


@pytest.fixture
def db(session_factory):
    return session_factory("orders", Base)


def outbox(db):
    return db.scalars(select(Base.OutboxEvent).order_by(Base.OutboxEvent.id)).all()


def test_checkout_writes_order_and_event_together(db):
    cart = domain.create_cart(db, BUYER, "c")
    domain.add_line(db, cart, "A", 2, None)
    order = domain.place_order(db, BUYER, cart, [quote("A", "12.50")], "CAD", ADDRESS,
                               {"method": "account"})
    db.commit()
    assert order.number.startswith("SO-") and order.status == "pending_approval"
    assert str(order.total) == "25.00"
    (event,) = outbox(db)
    assert event.type == "order_placed" and event.payload["order_number"] == order.number
    assert event.payload["totals"]["total"] == {"amount": "25.00", "currency": "CAD"}
    with pytest.raises(NotFound):
        domain.get_cart(db, BUYER, cart.id)  # checked out


def test_checkout_refuses_empty_cart_and_unorderable_lines(db):
    cart = domain.create_cart(db, BUYER, "c")
    with pytest.raises(Invalid) as e:
        domain.place_order(db, BUYER, cart, [], "CAD", ADDRESS, {"method": "account"})
    assert e.value.code == "cart_empty"
    domain.add_line(db, cart, "A", 1, None)
    with pytest.raises(Invalid) as e:
        domain.place_order(db, BUYER, cart, [quote("A", status="not_allowed")], "CAD", ADDRESS,
                           {"method": "account"})
    assert e.value.errors == {"A": ["not_allowed"]}


def test_another_company_sees_not_found(db):
    cart = domain.create_cart(db, BUYER, "mine")
    with pytest.raises(NotFound):
        domain.get_cart(db, OTHER, cart.id)


def test_quick_add_adds_good_lines_and_reports_each(db):
    cart = domain.create_cart(db, BUYER, "q")
    result = domain.quick_add(db, cart, [
        {"part_number": "A", "quantity": 2}, {"part_number": "NOPE", "quantity": 1},
        {"part_number": "B", "quantity": 0}, {"part_number": "C", "quantity": 1},
        {"part_number": "A", "quantity": 1}],
        [quote("A"), quote("NOPE", status="not_found"), quote("B"), quote("C", status="not_allowed")])
    assert [r["status"] for r in result] == ["added", "not_found", "invalid_quantity",
                                             "not_allowed", "added"]
    assert [(l.part_number, l.quantity) for l in cart.lines] == [("A", 3)]


def test_price_change_is_flagged(db):
    from services.common.money import Money
    cart = domain.create_cart(db, BUYER, "p")
    domain.add_line(db, cart, "A", 1, Money("10.00", "CAD"))
    view = domain.price_cart(cart, [quote("A", "11.00")], "CAD")
    assert view["lines"][0]["price_changed"] is True
    assert view["totals"]["total"] == {"amount": "11.00", "currency": "CAD"}


def test_status_machine_is_guarded_and_repeat_safe(db):
    cart = domain.create_cart(db, BUYER, "c")
    domain.add_line(db, cart, "A", 1, None)
    order = domain.place_order(db, BUYER, cart, [quote("A")], "CAD", ADDRESS, {"method": "account"})
    assert domain.approval_decided(db, order.number, True) is True
    assert domain.approval_decided(db, order.number, True) is False  # redelivered: no-op
    assert domain.approval_decided(db, order.number, False) is False  # already decided
    assert [e.type for e in outbox(db)] == ["order_placed", "order_status_changed"]
    staff = CallerContext(user_id=1, staff=True)
    domain.ship(db, staff, order.number, "Purolator", "329001")
    assert order.status == "shipped"
    assert domain.tracking_url("Purolator", "329001").endswith("pin=329001")
    with pytest.raises(Conflict):
        domain.cancel(db, BUYER, order.number)
    with pytest.raises(Conflict):
        domain.move(db, order, "approved")


def test_deliver_then_invoice_once(db):
    cart = domain.create_cart(db, BUYER, "c")
    domain.add_line(db, cart, "A", 3, None)
    order = domain.place_order(db, BUYER, cart, [quote("A", "5.00")], "CAD", ADDRESS,
                               {"method": "account"})
    staff = CallerContext(user_id=1, staff=True)
    with pytest.raises(Conflict):
        domain.deliver(db, staff, order.number, "x")
    domain.approval_decided(db, order.number, True)
    domain.ship(db, staff, order.number, "UPS", "1Z")
    with pytest.raises(Conflict):
        domain.issue_invoice(db, staff, order.number)
    domain.deliver(db, staff, order.number, "left at reception")
    invoice = domain.issue_invoice(db, staff, order.number)
    assert invoice.number.startswith("INV-") and str(invoice.total) == "15.00"
    with pytest.raises(Conflict):
        domain.issue_invoice(db, staff, order.number)
    domain.request_invoice_copy(db, BUYER, order.number)
    with pytest.raises(NotFound):
        domain.request_invoice_copy(db, OTHER, order.number)
    items, _ = domain.list_invoices(db, BUYER)
    assert [i.order_number for i in items] == [order.number]
    assert domain.list_invoices(db, OTHER)[0] == []
    assert [e.type for e in outbox(db)][-2:] == ["invoice_issued", "invoice_copy_requested"]


def test_part_numbers_match_without_regard_to_case(db):
    cart = domain.create_cart(db, BUYER, "case")
    result = domain.quick_add(db, cart, [{"part_number": "len-t14", "quantity": 1}],
                              [quote("LEN-T14", "10.00")])
    assert result[0]["status"] == "added" and cart.lines[0].part_number == "LEN-T14"
    view = domain.price_cart(cart, [quote("LEN-T14", "10.00")], "CAD")
    assert view["lines"][0]["status"] == "ok"
