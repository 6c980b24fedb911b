"""Subscriptions with a clock the test controls: started at checkout, renewed once per due
date through the normal order path, warned about and cancelled when the card cannot pay.
Identity and catalog answer from tables here (renewals.run takes any RPC object)."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.engines import session_factory as make_factory
from services.common.errors import Invalid, NotFound
from services.orders import domain, renewals, subscriptions
from services.orders.models import Base, Order, Subscription

BUYER = CallerContext(user_id=7, company_id=1, email="b@x.test", name="B", currency="CAD")
ADDRESS = {"name": "HQ", "line1": "1 Main", "city": "Montréal", "postal_code": "H2X 1Y4",
           "country": "CA"}
CARD = {"id": 3, "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2030,
        "consent_at": "2026-01-01T00:00:00Z"}


def priced(part="MS-365", amount="20.00", term="monthly"):
    return [{"part_number": part, "status": "ok", "name": "Microsoft 365",
             "unit_price": {"amount": amount, "currency": "CAD"}, "price_source": "list",
             "on_contract": False, "subscription_term": term}]


class Rpc:
    """identity and catalog as renewals.run calls them."""

    def __init__(self):
        self.cards = {3: dict(CARD)}
        self.price = "22.00"
        self.charges = []
        self.identity, self.catalog = self, self

    def get_card(self, ctx, card_id):
        if card_id not in self.cards:
            raise NotFound("no such card")
        return self.cards[card_id]

    def charge_card(self, ctx, card_id, amount, key):
        card = self.cards.get(card_id)
        if card is None or not card.get("consent_at"):
            raise Invalid("no consent", code="card_consent_missing")
        self.charges.append((card_id, amount, key))
        return {"charge_id": f"ch_{key}", "brand": "Visa", "last4": "4242"}

    def price_lines(self, ctx, currency, lines, with_catalogs=False):
        return {"lines": priced(lines[0]["part_number"], self.price)}


@pytest.fixture
def db(session_factory):
    return session_factory("orders", Base)


@pytest.fixture
def factory(db):
    db.commit()
    return make_factory(db.get_bind(), Base)


def subscribe(db, today=date(2026, 1, 31)):
    cart = domain.create_cart(db, BUYER, "c")
    domain.add_line(db, cart, "MS-365", 5, None)
    order = domain.checkout(db, BUYER, cart, priced(), {
        "payment": {"method": "card", "card_id": 3}, "shipping_address": ADDRESS}, card=CARD,
        today=today)
    sub = db.scalars(select(Subscription)).all()[-1]
    db.commit()  # SQLite has one connection: give it back before a run
    return order, sub


def test_renewal_dates():
    assert subscriptions.add_term(date(2026, 1, 31), "monthly") == date(2026, 2, 28)
    assert subscriptions.add_term(date(2026, 12, 15), "monthly") == date(2027, 1, 15)
    assert subscriptions.add_term(date(2028, 2, 29), "yearly") == date(2029, 2, 28)


def test_a_subscription_line_needs_a_card(db):
    cart = domain.create_cart(db, BUYER, "c")
    domain.add_line(db, cart, "MS-365", 1, None)
    with pytest.raises(Invalid) as exc:
        domain.checkout(db, BUYER, cart, priced(), {"payment": {"method": "account"},
                                                    "shipping_address": ADDRESS})
    assert exc.value.code == "card_required_for_subscription"


def test_renewed_once_per_due_date_through_the_order_path(db, factory):
    order, sub = subscribe(db)
    assert sub.next_renewal_on == date(2026, 2, 28) and sub.quantity == 5
    db.commit()
    rpc = Rpc()
    assert renewals.run(factory, rpc, date(2026, 2, 27))["renewed"] == 0
    assert renewals.run(factory, rpc, date(2026, 2, 28))["renewed"] == 1
    assert renewals.run(factory, rpc, date(2026, 2, 28))["renewed"] == 0  # a restart, same day
    db.expire_all()
    sub = db.get(Subscription, sub.id)
    assert sub.next_renewal_on == date(2026, 3, 28) and [r.due_on for r in sub.renewals] == [date(2026, 2, 28)]
    renewal = db.scalar(select(Order).where(Order.number == sub.renewals[0].order_number))
    assert renewal.status == "pending_approval" and str(renewal.total) == "110.00"
    assert renewal.payment["charge_id"].startswith("ch_subscription-")
    assert [a["amount"] for _, a, _ in rpc.charges] == ["110.00"]
    kinds = [e.type for e in db.scalars(select(Base.OutboxEvent).order_by(Base.OutboxEvent.id))]
    assert kinds.count("order_placed") == 2 and kinds.count("subscription_renewed") == 1
    db.commit()


def test_a_removed_card_is_flagged_at_once_and_the_subscription_ends_at_renewal(db, factory):
    _, sub = subscribe(db)
    assert subscriptions.card_removed(db, 3) == 1
    db.commit()
    (warning,) = [e.payload for e in db.scalars(select(Base.OutboxEvent))
                  if e.type == "subscription_card_missing"]
    assert warning["reason"] == "card_removed" and warning["renewal_on"] == "2026-02-28"
    db.commit()
    rpc = Rpc()
    del rpc.cards[3]
    assert renewals.run(factory, rpc, date(2026, 2, 22))["warned"] == 0  # already told
    assert renewals.run(factory, rpc, date(2026, 2, 28))["cancelled"] == 1
    db.expire_all()
    assert db.get(Subscription, sub.id).status == "cancelled" and rpc.charges == []


def test_an_expiring_card_is_warned_about_before_renewal_and_a_switch_saves_it(db, factory):
    _, sub = subscribe(db)
    rpc = Rpc()
    rpc.cards[3]["exp_year"], rpc.cards[3]["exp_month"] = 2026, 1
    assert renewals.run(factory, rpc, date(2026, 2, 20))["warned"] == 0  # more than 7 days
    assert renewals.run(factory, rpc, date(2026, 2, 21))["warned"] == 1
    assert renewals.run(factory, rpc, date(2026, 2, 22))["warned"] == 0  # once
    db.expire_all()
    assert db.get(Subscription, sub.id).card_problem == "card_expired"
    db.commit()
    with pytest.raises(Invalid):
        subscriptions.switch_card(db, BUYER, sub.id, {"id": 4, "consent_at": None})
    subscriptions.switch_card(db, BUYER, sub.id, dict(CARD, id=4))
    db.commit()
    rpc.cards[4] = dict(CARD, id=4)
    assert renewals.run(factory, rpc, date(2026, 2, 28))["renewed"] == 1


def test_the_owner_cancels(db):
    _, sub = subscribe(db)
    other = CallerContext(user_id=8, company_id=1, features=["recent_orders"])
    from services.common.errors import Forbidden
    with pytest.raises(Forbidden):
        subscriptions.cancel(db, other, sub.id, datetime(2026, 2, 1))
    subscriptions.cancel(db, BUYER, sub.id, datetime(2026, 2, 1))
    assert sub.status == "cancelled" and sub.cancel_reason == "cancelled_by_owner"
