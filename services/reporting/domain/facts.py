"""The read model: order, line, shipment, invoice and approval facts, built only from events.

`record_event` appends an event to `received_events` and applies it, in the caller's
transaction. Every applier is idempotent (a repeated event changes nothing) and tolerant of
fields an older publisher did not send (`.get()`, with the envelope's `occurred_at` for
times). An event that overtakes the one it depends on (a status change before its order)
raises `LookupError` before writing anything, so that the handler fails and the event is
retried later; a failed event is rolled back with its log entry. `record_event` also keeps
the spend rollups (rollups.py) in step with the order an event is about.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, insert, select, text, update

from services.common.clock import utcnow
from services.common.engines import dialect_insert, is_postgres

from services.reporting.domain import assets, rollups
from services.reporting.models import (ApprovalFact, InvoiceFact, OrderFact, OrderLineFact,
                                       ReceivedEvent, ShipmentFact, SpendRollup)

# tables rebuilt from the log; custom reports, schedules and assets are users' own data
FACT_TABLES = (OrderLineFact, OrderFact, ShipmentFact, InvoiceFact, ApprovalFact, SpendRollup)


def parse_time(value, fallback=None):
    """An ISO 8601 time (UTC, with or without `Z`) as a naive UTC datetime."""
    value = value or fallback
    if not value:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = (parsed - parsed.utcoffset()).replace(tzinfo=None)
    return parsed


def month_of(moment):
    return f"{moment.year:04d}-{moment.month:02d}"


def quarter_of(moment):
    return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"


def cents(money):
    """`{"amount": "12.50", ...}` (or a bare amount) as 1250."""
    if money is None:
        return 0
    amount = money.get("amount") if isinstance(money, dict) else money
    return int((Decimal(str(amount or 0)) * 100).to_integral_value())


def ship_to(address):
    """The shipping location reports group by: city, region, country."""
    if not address:
        return None
    parts = [address.get(k) for k in ("city", "region", "country")]
    return ", ".join(p for p in parts if p) or address.get("name")


def _person(person):
    person = person or {}
    return person.get("user_id"), person.get("name"), person.get("email")


# ---- orders -----------------------------------------------------------------------------

def order_rows(p, occurred_at=None):
    """The order fact and its line facts from an order_placed payload, as plain dicts
    (the bulk loader of bench/reports.py uses them too)."""
    placed = parse_time(p.get("placed_at"), occurred_at)
    buyer_id, buyer_name, buyer_email = _person(p.get("buyer"))
    buyer_id = buyer_id if buyer_id is not None else p.get("user_id")
    payment = p.get("payment") or {}
    card = payment.get("card") or {}
    billing = p.get("billing_account_id")
    lines = p.get("lines") or []
    currency = p.get("currency") or ((p.get("totals") or {}).get("total") or {}).get("currency")
    common = {"company_id": p["company_id"], "order_number": p["order_number"],
              "placed_at": placed, "placed_month": month_of(placed),
              "placed_quarter": quarter_of(placed), "buyer_id": buyer_id,
              "buyer_name": buyer_name, "buyer_email": buyer_email,
              "billing_account": None if billing is None else str(billing),
              "ship_to": ship_to(p.get("shipping_address")), "status": "pending_approval",
              "currency": currency}
    total = (p.get("totals") or {}).get("total")
    order = dict(common, status_at=placed, line_count=len(lines),
                 total_cents=cents(total) if total else sum(cents(l.get("line_total"))
                                                           for l in lines),
                 payment_method=payment.get("method"), po_number=payment.get("po_number"),
                 card_brand=card.get("brand"), card_last4=card.get("last4"))
    line_rows = [dict(common, line_no=n, part_number=l["part_number"],
                      mfg_part_number=l.get("mfg_part_number"), name=l.get("name"),
                      manufacturer=l.get("manufacturer"), category=l.get("category"),
                      quantity=int(l.get("quantity") or 0),
                      unit_price_cents=cents(l.get("unit_price")),
                      spend_cents=cents(l.get("line_total")), price_source=l.get("price_source"),
                      on_contract=bool(l.get("on_contract")))
                 for n, l in enumerate(lines, start=1)]
    return order, line_rows


def order_placed(session, p, occurred_at):
    if _order(session, p["order_number"]) is not None:
        return
    order, lines = order_rows(p, occurred_at)
    session.add(OrderFact(**order))
    if lines:
        session.execute(insert(OrderLineFact), lines)


def _order(session, number):
    return session.scalar(select(OrderFact).where(OrderFact.order_number == number))


def _known_order(session, number):
    order = _order(session, number)
    if order is None:
        raise LookupError(f"order {number} not recorded yet")
    return order


def order_status_changed(session, p, occurred_at):
    order = _known_order(session, p["order_number"])
    changed = parse_time(p.get("changed_at"), occurred_at)
    if changed < order.status_at:
        return  # an older change delivered late: the newer status stands
    order.status, order.status_at = p["status"], changed
    session.execute(update(OrderLineFact).where(OrderLineFact.order_number == order.order_number)
                    .values(status=p["status"]))


def order_shipped(session, p, occurred_at):
    order = _known_order(session, p["order_number"])
    session.add(ShipmentFact(company_id=order.company_id, order_number=order.order_number,
                             buyer_id=order.buyer_id, buyer_name=order.buyer_name,
                             ship_to=order.ship_to, carrier=p.get("carrier"),
                             tracking_number=p.get("tracking_number"),
                             tracking_url=p.get("tracking_url"),
                             shipped_at=parse_time(p.get("shipped_at"), occurred_at)))


def order_delivered(session, p, occurred_at):
    order = _known_order(session, p["order_number"])
    delivered = parse_time(p.get("delivered_at"), occurred_at)
    shipment = session.scalar(select(ShipmentFact).where(
        ShipmentFact.order_number == order.order_number, ShipmentFact.delivered_at.is_(None))
        .order_by(ShipmentFact.shipped_at.desc(), ShipmentFact.id.desc()).limit(1))
    if shipment is None:  # delivered without a recorded shipment (picked up, for one)
        shipment = ShipmentFact(company_id=order.company_id, order_number=order.order_number,
                                buyer_id=order.buyer_id, buyer_name=order.buyer_name,
                                ship_to=order.ship_to, shipped_at=delivered)
        session.add(shipment)
    shipment.delivered_at = delivered
    shipment.delivery_note = p.get("delivery_note")
    lines = session.scalars(select(OrderLineFact).where(
        OrderLineFact.order_number == order.order_number).order_by(OrderLineFact.line_no)).all()
    assets.record_delivery(session, order, lines, delivered, p.get("lines"))


def invoice_issued(session, p, occurred_at):
    order = _known_order(session, p["order_number"])
    if session.scalar(select(InvoiceFact.id).where(
            InvoiceFact.invoice_number == p["invoice_number"])) is not None:
        return
    issued = parse_time(p.get("issued_at"), occurred_at)
    total = p.get("total") or {}
    session.add(InvoiceFact(company_id=order.company_id, invoice_number=p["invoice_number"],
                            order_number=order.order_number, buyer_id=order.buyer_id,
                            buyer_name=order.buyer_name, billing_account=order.billing_account,
                            currency=total.get("currency") or order.currency,
                            total_cents=cents(total) if total else order.total_cents,
                            issued_at=issued, issued_month=month_of(issued)))


# ---- approvals --------------------------------------------------------------------------
# approval_requested and the decision may be applied in either order: each fills its part.

def _approval(session, p):
    key = str(p.get("approval_id") or f"order:{p['order_number']}")
    fact = session.scalar(select(ApprovalFact).where(ApprovalFact.approval_id == key))
    if fact is None:
        buyer_id, buyer_name, _ = _person(p.get("buyer"))
        fact = ApprovalFact(approval_id=key, company_id=p["company_id"],
                            order_number=p["order_number"], buyer_id=buyer_id,
                            buyer_name=buyer_name, decision="pending")
        session.add(fact)
    return fact


def _turnaround(fact):
    if fact.requested_at and fact.decided_at:
        fact.decide_seconds = int((fact.decided_at - fact.requested_at).total_seconds())


def approval_requested(session, p, occurred_at):
    fact = _approval(session, p)
    fact.rule = p.get("rule")
    total = p.get("total")
    if total:
        fact.total_cents, fact.currency = cents(total), total.get("currency")
    fact.requested_at = parse_time(p.get("requested_at"), occurred_at)
    fact.requested_month = month_of(fact.requested_at)
    _turnaround(fact)


def _decided(decision):
    def apply(session, p, occurred_at):
        fact = _approval(session, p)
        fact.decision = decision
        fact.decided_at = parse_time(p.get("decided_at"), occurred_at)
        fact.decided_by = (p.get("decided_by") or {}).get("name")
        fact.comment = p.get("comment")
        if fact.requested_at is None and p.get("requested_at"):
            fact.requested_at = parse_time(p["requested_at"])
            fact.requested_month = month_of(fact.requested_at)
        _turnaround(fact)
    return apply


APPLIERS = {
    ("orders", "order_placed"): order_placed,
    ("orders", "order_status_changed"): order_status_changed,
    ("orders", "order_shipped"): order_shipped,
    ("orders", "order_delivered"): order_delivered,
    ("orders", "invoice_issued"): invoice_issued,
    ("approvals", "approval_requested"): approval_requested,
    ("approvals", "order_approved"): _decided("approved"),
    ("approvals", "order_rejected"): _decided("rejected"),
}


def apply_event(session, event):
    applier = APPLIERS[(event["source"], event["type"])]
    applier(session, event["payload"], event.get("occurred_at"))
    session.flush()


def record_event(session, event):
    """Apply an event to the read model and log it for rebuilds (caller commits)."""
    # logged first: writing to the log is what a rebuild's lock waits for (see rebuild);
    # an event logged before is not applied again
    logged = session.execute(
        dialect_insert(session)(ReceivedEvent.__table__)
        .values(event_id=event["event_id"], source=event["source"], type=event["type"],
                occurred_at=parse_time(event.get("occurred_at")) or utcnow(),
                payload=event["payload"])
        .on_conflict_do_nothing()).rowcount
    if not logged:
        return False
    # only these change whether an order's lines count as spent
    order_number = (event["payload"].get("order_number") if (event["source"], event["type"])
                    in (("orders", "order_placed"), ("orders", "order_status_changed")) else None)
    was_spent = rollups.spent(session, order_number) if order_number else None
    apply_event(session, event)
    if order_number:
        rollups.follow(session, order_number, was_spent)
    return True


def rebuild(session, batch=2000):
    """Empty the read model and replay the log in the order it was applied, then sum the
    spend rollups from the replayed facts; returns the number of events replayed.
    Hand-entered and edited assets are kept."""
    if is_postgres(session):
        # handlers that are recording an event finish first, later ones wait for the
        # rebuild: none is lost or applied twice (SQLite's write lock does the same)
        session.execute(text("LOCK TABLE received_events IN SHARE ROW EXCLUSIVE MODE"))
    for table in FACT_TABLES:
        session.execute(delete(table))
    replayed, last, waiting = 0, 0, []
    while True:
        events = session.execute(select(ReceivedEvent.id, ReceivedEvent.event_id,
                                        ReceivedEvent.source, ReceivedEvent.type,
                                        ReceivedEvent.occurred_at, ReceivedEvent.payload)
                                 .where(ReceivedEvent.id > last).order_by(ReceivedEvent.id)
                                 .limit(batch)).all()
        if not events:
            if waiting:
                raise LookupError(f"{len(waiting)} logged events name unknown orders")
            rollups.refresh(session)
            return replayed
        for row in events:
            event = {"event_id": row.event_id, "source": row.source, "type": row.type,
                     "occurred_at": row.occurred_at, "payload": row.payload}
            try:
                apply_event(session, event)
            except LookupError:
                # two handlers ran at once and the later-logged order was committed first
                waiting.append(event)
        replayed += len(events)
        last = events[-1].id
        waiting = _apply_waiting(session, waiting)


def _apply_waiting(session, waiting):
    """Apply the events whose order has now been replayed; returns those still waiting."""
    while waiting:
        still = []
        for event in waiting:
            try:
                apply_event(session, event)
            except LookupError:
                still.append(event)
        if len(still) == len(waiting):
            return still
        waiting = still
    return waiting
