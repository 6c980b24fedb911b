"""A company's order history as the events reporting receives, and the figures expected from
it, computed here from the orders themselves (never from reporting's tables)."""
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from services.common.context import CallerContext
from services.reporting.domain import facts
from services.reporting.models import Base

COMPANY, OTHER = 41, 42
PRODUCTS = [  # part, manufacturer, category, name, price
    ("DEL-LAT5450", "Dell", "Notebooks", "Dell Latitude 5450", "1649.00"),
    ("LEN-T14", "Lenovo", "Notebooks", "ThinkPad T14", "1399.99"),
    ("LOG-MXK", "Logitech", "Accessories", "MX Keys", "139.99"),
    ("MS-O365", "Microsoft", "Software", "Microsoft 365 Business", "264.00"),
    ("ADO-CC", "Adobe", "Logiciels", "Creative Cloud", "899.88"),
    ("CSV-EVIL", "=cmd", "Accessories", "=HYPERLINK(\"http://x\")", "10.00"),
]
BUYERS = [{"user_id": 7, "email": "ann@acme.test", "name": "Ann Buyer", "locale": "en"},
          {"user_id": 8, "email": "rene@acme.test", "name": "René Acheteur", "locale": "fr"}]
PLACES = [{"name": "HQ", "line1": "1 King St W", "city": "Toronto", "region": "ON",
           "postal_code": "M5H 1A1", "country": "CA"},
          {"name": "QC", "line1": "500 rue Sherbrooke O", "city": "Montréal", "region": "QC",
           "postal_code": "H3A 3C6", "country": "CA"}]
CARDS = [{"brand": "visa", "last4": "1111"}, {"brand": "mastercard", "last4": "4444"}]


def money(amount):
    return {"amount": f"{Decimal(amount):.2f}", "currency": "CAD"}


def envelope(source, type_, payload, at):
    return {"event_id": str(uuid.uuid4()), "source": source, "type": type_,
            "occurred_at": at.isoformat() + "Z", "request_id": "t", "payload": payload}


@dataclass
class History:
    events: list = field(default_factory=list)
    orders: list = field(default_factory=list)     # what the test knows of each order
    shipments: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    approvals: list = field(default_factory=list)


def make_history(seed=3, orders=40, start=datetime(2025, 1, 10, 9, 0), company=COMPANY):
    rnd = random.Random(seed)
    h = History()
    at = start
    for n in range(orders):
        at = at + timedelta(days=rnd.randint(3, 25), minutes=rnd.randint(0, 600))
        number = f"SO-{company}{n:05d}"
        buyer = rnd.choice(BUYERS)
        place = rnd.choice(PLACES)
        lines = []
        for product in rnd.sample(PRODUCTS, rnd.randint(1, 3)):
            part, maker, category, name, price = product
            qty = rnd.randint(1, 5)
            on_contract = rnd.random() < 0.5
            lines.append({"part_number": part, "mfg_part_number": part + "-M", "name": name,
                          "manufacturer": maker, "category": category, "quantity": qty,
                          "unit_price": money(price), "line_total": money(Decimal(price) * qty),
                          "price_source": "contract" if on_contract else "list",
                          "on_contract": on_contract})
        total = sum(Decimal(l["line_total"]["amount"]) for l in lines)
        pay = rnd.choice(["card", "purchase_order", "account"])
        payment = {"method": pay}
        if pay == "card":
            payment["card"] = rnd.choice(CARDS)
        if pay == "purchase_order":
            payment["po_number"] = f"PO-{n}"
        billing = rnd.choice([None, 501, 502])
        payload = {"order_id": n, "order_number": number, "company_id": company,
                   "user_id": buyer["user_id"], "buyer": buyer, "currency": "CAD",
                   "lines": lines, "totals": {"subtotal": money(total), "total": money(total)},
                   "shipping_address": place, "payment": payment, "placed_at": at.isoformat() + "Z"}
        if billing:
            payload["billing_account_id"] = billing
        h.events.append(envelope("orders", "order_placed", payload, at))
        order = {"number": number, "at": at, "buyer": buyer, "place": place, "lines": lines,
                 "total": total, "payment": payment, "billing": billing,
                 "status": "pending_approval"}
        h.orders.append(order)

        def status(new, when):
            h.events.append(envelope("orders", "order_status_changed", {
                "order_number": number, "company_id": company, "user_id": buyer["user_id"],
                "buyer": buyer, "status": new, "previous_status": order["status"],
                "changed_at": when.isoformat() + "Z"}, when))
            order["status"] = new

        fate = rnd.random()
        approval_id = f"AP-{company}-{n}"
        if fate < 0.1:  # rejected after a request
            asked, decided = at + timedelta(minutes=1), at + timedelta(hours=5)
            h.events.append(envelope("approvals", "approval_requested", {
                "approval_id": approval_id, "order_number": number, "company_id": company,
                "buyer": buyer, "approvers": [], "rule": "over 1000", "total": money(total),
                "requested_at": asked.isoformat() + "Z"}, asked))
            h.events.append(envelope("approvals", "order_rejected", {
                "approval_id": approval_id, "order_number": number, "company_id": company,
                "buyer": buyer, "decided_by": BUYERS[0], "comment": "no",
                "decided_at": decided.isoformat() + "Z",
                "requested_at": asked.isoformat() + "Z"}, decided))
            h.approvals.append({"month": asked.strftime("%Y-%m"), "decision": "rejected",
                                "seconds": 5 * 3600 - 60})
            status("rejected", decided)
            continue
        if fate < 0.4:  # approved after a request
            asked, decided = at + timedelta(minutes=1), at + timedelta(hours=rnd.randint(1, 48))
            h.events.append(envelope("approvals", "approval_requested", {
                "approval_id": approval_id, "order_number": number, "company_id": company,
                "buyer": buyer, "approvers": [BUYERS[0]], "rule": "over 1000",
                "total": money(total), "requested_at": asked.isoformat() + "Z"}, asked))
            if rnd.random() < 0.2:  # still waiting
                h.approvals.append({"month": asked.strftime("%Y-%m"), "decision": "pending",
                                    "seconds": None})
                continue
            h.events.append(envelope("approvals", "order_approved", {
                "approval_id": approval_id, "order_number": number, "company_id": company,
                "buyer": buyer, "decided_by": BUYERS[0], "comment": "ok",
                "decided_at": decided.isoformat() + "Z",
                "requested_at": asked.isoformat() + "Z"}, decided))
            h.approvals.append({"month": asked.strftime("%Y-%m"), "decision": "approved",
                                "seconds": int((decided - asked).total_seconds())})
        else:  # approved automatically: no request, no turnaround
            decided = at + timedelta(seconds=2)
            h.events.append(envelope("approvals", "order_approved", {
                "approval_id": approval_id, "order_number": number, "company_id": company,
                "buyer": buyer, "decided_by": None, "comment": None,
                "decided_at": decided.isoformat() + "Z", "requested_at": None}, decided))
        when = at + timedelta(days=1)
        status("approved", when)
        step = rnd.random()
        if step < 0.15:
            status("cancelled", when + timedelta(hours=1))
            continue
        if step < 0.3:
            continue  # open: approved, not shipped
        shipped = when + timedelta(days=1)
        h.events.append(envelope("orders", "order_shipped", {
            "order_number": number, "company_id": company, "buyer": buyer, "carrier": "Purolator",
            "tracking_number": f"329{n:05d}", "tracking_url": f"https://p.test/?pin=329{n:05d}",
            "shipped_at": shipped.isoformat() + "Z"}, shipped))
        status("shipped", shipped)
        h.shipments.append({"order": number, "at": shipped})
        if step < 0.45:
            continue
        delivered = shipped + timedelta(days=2)
        h.events.append(envelope("orders", "order_delivered", {
            "order_number": number, "company_id": company, "buyer": buyer,
            "delivery_note": "-signed", "delivered_at": delivered.isoformat() + "Z"}, delivered))
        status("delivered", delivered)
        h.shipments[-1]["delivered"] = delivered
        order["delivered"] = delivered
        if step < 0.6:
            continue
        issued = delivered + timedelta(days=1)
        invoice = f"INV-{company}{n:05d}"
        h.events.append(envelope("orders", "invoice_issued", {
            "order_number": number, "invoice_number": invoice, "company_id": company,
            "buyer": buyer, "total": money(total), "issued_at": issued.isoformat() + "Z"}, issued))
        status("invoiced", issued)
        h.invoices.append({"number": invoice, "total": total, "at": issued})
    return h


def expected_spend(history, key, first=None, last=None):
    """{group: (orders, lines, quantity, spend)} over orders not rejected or cancelled (and
    placed from day `first` to day `last`, when given)."""
    groups = defaultdict(lambda: [set(), 0, 0, Decimal(0)])
    for order in history.orders:
        if order["status"] in ("rejected", "cancelled"):
            continue
        if first and not first <= order["at"].date() <= last:
            continue
        for line in order["lines"]:
            g = groups[key(order, line)]
            g[0].add(order["number"])
            g[1] += 1
            g[2] += line["quantity"]
            g[3] += Decimal(line["line_total"]["amount"])
    return {k: (len(v[0]), v[1], v[2], v[3]) for k, v in groups.items()}


@pytest.fixture
def db(session_factory):
    return session_factory("reporting", Base)


@pytest.fixture
def history():
    return make_history()


@pytest.fixture
def loaded(db, history):
    """The history applied, with a little of another company's for isolation."""
    for event in history.events:
        facts.record_event(db, event)
    for event in make_history(seed=9, orders=5, company=OTHER).events:
        facts.record_event(db, event)
    db.commit()
    return db


def caller(features=("order_reports", "payment_reports"), roles=(), user_id=7,
           company_id=COMPANY, locale="en"):
    return CallerContext(user_id=user_id, company_id=company_id, features=list(features),
                         roles=list(roles), locale=locale)
