"""The order as one aggregate through fulfilment: partial shipments, each with its carrier,
tracking number and delivery note; submitted and processing; who may cancel; staff-only
commands; checkout rules (payment, addresses, billing accounts); paging."""
import pytest
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Conflict, Forbidden, Invalid
from services.orders import domain
from services.orders.models import Base
from services.orders.schemas import OrderOut, QuoteOut

BUYER = CallerContext(user_id=7, company_id=1, email="b@x.test", name="B", currency="CAD")
COLLEAGUE = CallerContext(user_id=9, company_id=1, currency="CAD", features=["recent_orders"])
ADMIN = CallerContext(user_id=10, company_id=1, currency="CAD", roles=["security_admin"],
                      features=["recent_orders"])
STAFF = CallerContext(user_id=1, staff=True)
ADDRESS = {"name": "HQ", "line1": "1 Main", "city": "Montréal", "postal_code": "H2X 1Y4",
           "country": "CA"}
COMPANY = {"billing_accounts": [{"id": 1, "primary": True}, {"id": 2, "primary": False}],
           "addresses": [{"id": 5, "kind": "shipping", **ADDRESS},
                         {"id": 6, "kind": "billing", **ADDRESS}]}


def quote(part, amount="10.00"):
    return {"part_number": part, "status": "ok", "name": part,
            "unit_price": {"amount": amount, "currency": "CAD"}, "price_source": "list",
            "on_contract": False}


@pytest.fixture
def db(session_factory):
    return session_factory("orders", Base)


def approved_order(db, lines=(("A", 3), ("B", 2))):
    cart = domain.create_cart(db, BUYER, "c")
    for part, qty in lines:
        domain.add_line(db, cart, part, qty, None)
    order = domain.place_order(db, BUYER, cart, [quote(p) for p, _ in lines], "CAD", ADDRESS,
                               {"method": "account"})
    domain.approval_decided(db, order.number, True)
    return order


def events(db, kind):
    return [e.payload for e in db.scalars(select(Base.OutboxEvent).order_by(Base.OutboxEvent.id))
            if e.type == kind]


def test_partial_shipments_then_the_rest_each_delivered_with_its_note(db):
    order = approved_order(db)
    domain.fulfil(db, STAFF, order.number, "submitted")
    domain.fulfil(db, STAFF, order.number, "processing")
    domain.ship(db, STAFF, order.number, "UPS", "1Z1", [{"part_number": "a", "quantity": 2}])
    assert order.status == "processing"
    with pytest.raises(Invalid):  # more than is left
        domain.ship(db, STAFF, order.number, "UPS", "1Z2", [{"part_number": "A", "quantity": 2}])
    with pytest.raises(Invalid):
        domain.ship(db, STAFF, order.number, "UPS", "1Z2", [{"part_number": "Z", "quantity": 1}])
    domain.deliver(db, STAFF, order.number, "first box, reception")
    assert order.status == "processing"  # not everything has shipped
    with pytest.raises(Conflict):  # nothing waits for delivery now
        domain.deliver(db, STAFF, order.number, "again")
    domain.ship(db, STAFF, order.number, "Purolator", "329")  # all that is left
    assert order.status == "shipped"
    with pytest.raises(Conflict):
        domain.ship(db, STAFF, order.number, "UPS", "1Z3")
    shipped = events(db, "order_shipped")
    assert [s["complete"] for s in shipped] == [False, True]
    assert shipped[1]["lines"] == [{"part_number": "A", "name": "A", "quantity": 1},
                                   {"part_number": "B", "name": "B", "quantity": 2}]
    domain.deliver(db, STAFF, order.number, "second box, loading dock")
    assert order.status == "delivered"
    view = OrderOut().dump(order)
    assert [(s["carrier"], s["delivery_note"]) for s in view["shipments"]] == \
        [("UPS", "first box, reception"), ("Purolator", "second box, loading dock")]
    assert [l["shipped_quantity"] for l in view["lines"]] == [3, 2]
    note = domain.delivery_note(db, BUYER, order.number)
    assert [d["delivery_note"] for d in note["deliveries"]] == \
        ["first box, reception", "second box, loading dock"]
    assert [h for h in (e["status"] for e in events(db, "order_status_changed"))] == \
        ["approved", "submitted", "processing", "shipped", "delivered"]


def test_fulfilment_is_for_staff_only(db):
    order = approved_order(db)
    for command in (lambda c: domain.ship(db, c, order.number, "UPS", "1"),
                    lambda c: domain.fulfil(db, c, order.number, "submitted"),
                    lambda c: domain.deliver(db, c, order.number, "x"),
                    lambda c: domain.issue_invoice(db, c, order.number)):
        with pytest.raises(Forbidden):
            command(ADMIN)
    with pytest.raises(Conflict):  # back to an earlier status
        domain.fulfil(db, STAFF, order.number, "processing")
        domain.fulfil(db, STAFF, order.number, "submitted")


def test_a_buyer_cancels_their_own_order_a_colleague_needs_an_admin_role(db):
    order = approved_order(db)
    assert domain.get_order(db, COLLEAGUE, order.number)  # may read it
    with pytest.raises(Forbidden):
        domain.cancel(db, COLLEAGUE, order.number)
    domain.cancel(db, ADMIN, order.number)
    assert order.status == "cancelled" and order.history[-1].by["user_id"] == ADMIN.user_id
    partly = approved_order(db)
    domain.ship(db, STAFF, partly.number, "UPS", "1", [{"part_number": "A", "quantity": 1}])
    with pytest.raises(Conflict) as exc:
        domain.cancel(db, BUYER, partly.number)
    assert exc.value.code == "already_shipped"


def test_checkout_rules():
    with pytest.raises(Invalid):
        domain.checkout_payment({"method": "card"}, None)
    with pytest.raises(Invalid) as exc:
        domain.checkout_payment({"method": "card", "card_id": 3}, {"brand": "visa"})
    assert exc.value.code == "consent_required"
    paid = domain.checkout_payment({"method": "card", "card_id": 3},
                                   {"brand": "visa", "last4": "4242", "consent_at": "2026-01-01"})
    assert paid["card"] == {"brand": "visa", "last4": "4242"}
    with pytest.raises(Invalid):
        domain.checkout_payment({"method": "purchase_order", "po_number": "  "}, None)
    assert domain.checkout_address({"shipping_address_id": 5}, COMPANY)["id"] == 5
    with pytest.raises(Invalid):  # a billing address is not a shipping address
        domain.checkout_address({"shipping_address_id": 6}, COMPANY)
    assert domain.checkout_billing_account(BUYER, 1, COMPANY) == 1
    with pytest.raises(Invalid) as exc:
        domain.checkout_billing_account(BUYER, 2, COMPANY)
    assert exc.value.code == "billing_account_not_allowed"
    linked = CallerContext(user_id=7, company_id=1, features=["linked_accounts"])
    assert domain.checkout_billing_account(linked, 2, COMPANY) == 2
    with pytest.raises(Invalid) as exc:
        domain.checkout_billing_account(linked, 99, COMPANY)
    assert exc.value.code == "billing_account_invalid"


def test_a_bad_cursor_is_a_validation_error(db):
    for bad in ("x", "99999999999999999999999"):
        with pytest.raises(Invalid):
            domain.list_orders(db, BUYER, cursor=bad)
        with pytest.raises(Invalid):
            domain.list_invoices(db, BUYER, cursor=bad)


def test_the_calendars_first_and_last_days_are_a_window_like_any_other(db):
    from datetime import date
    assert domain.list_orders(db, BUYER, date_from=date.min, date_to=date.max)[0] == []
    assert domain.list_orders(db, BUYER, date_to=date.min)[0] == []


def test_a_quote_converts_once_at_its_prices_until_it_expires(db):
    from datetime import date, timedelta
    today = date(2026, 11, 29)
    data = {"company_id": 1, "expires_on": today + timedelta(days=7), "buyer_user_id": None,
            "lines": [{"part_number": "a", "quantity": 2,
                       "unit_price": {"amount": "99.00", "currency": "CAD"}}]}
    with pytest.raises(Forbidden):
        domain.create_quote(db, BUYER, data, "CAD", [quote("A")], today)
    with pytest.raises(Invalid):
        domain.create_quote(db, STAFF, dict(data, expires_on=today - timedelta(days=1)), "CAD",
                            [quote("A")], today)
    q = domain.create_quote(db, STAFF, data, "CAD", [quote("A")], today)
    assert QuoteOut().dump(q)["totals"]["total"] == {"amount": "198.00", "currency": "CAD"}
    request = {"payment": {"method": "account"}, "shipping_address": ADDRESS}
    order = domain.convert_quote(db, BUYER, q.id, request, today=today)
    assert order.status == "pending_approval" and str(order.total) == "198.00"
    assert order.lines[0].price_source == "quote"
    with pytest.raises(Conflict) as exc:
        domain.convert_quote(db, BUYER, q.id, request, today=today)
    assert exc.value.code == "quote_converted"
    late = domain.create_quote(db, STAFF, data, "CAD", [quote("A")], today)
    with pytest.raises(Conflict) as exc:
        domain.convert_quote(db, BUYER, late.id, request, today=today + timedelta(days=8))
    assert exc.value.code == "quote_expired"
    named = domain.create_quote(db, STAFF, dict(data, buyer_user_id=COLLEAGUE.user_id), "CAD",
                                [quote("A")], today)
    from services.common.errors import NotFound
    with pytest.raises(NotFound):
        domain.get_quote(db, BUYER, named.id)
    assert domain.get_quote(db, COLLEAGUE, named.id) is named
    assert [x.id for x in domain.list_quotes(db, BUYER)[0]] == [late.id, q.id]
