"""Subscriptions: products sold as auto-renewing purchases (a catalog term, monthly or
yearly), paid by a saved card that carries the owner's consent.

Checkout starts them; a renewal, once per due date, charges the card through the payment
gateway (identity) and places the renewal order through the normal order path, approvals
included. A card that loses its consent (removed, expired) flags the subscription at once,
its owner is warned before the renewal date, and it is cancelled at renewal if nothing
changed. Functions take plain values and `today`, so a test controls the clock.
"""
from datetime import date, timedelta

from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.money import Money
from services.common.outbox import emit
from services.common.paging import keyset_page
from services.orders import domain
from services.orders.models import Subscription, SubscriptionRenewal

TERMS = ("monthly", "yearly")
# the owner of a subscription whose card cannot pay is warned this long before renewal
WARN_DAYS = 7
CARD_PROBLEMS = ("card_removed", "card_expired", "card_consent_missing")


def add_term(day: date, term: str) -> date:
    """The next renewal date: a month or a year on, the day kept where the month has it."""
    months = 1 if term == "monthly" else 12
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise ValueError(day)


def terms_of(priced) -> dict:
    """{part key: term} of the priced lines sold as subscriptions."""
    return {domain.part_key(p["part_number"]): p["subscription_term"] for p in priced
            if p.get("status") == "ok" and p.get("subscription_term") in TERMS}


def require_subscription_product(line):
    """A subscription is bought only for a product sold as one."""
    if line.get("status") == "ok" and line.get("subscription_term") not in TERMS:
        raise Invalid("this product is not sold as a subscription", code="not_a_subscription",
                      errors={"part_number": ["not a subscription"]})


def require_card_for(priced, payment):
    if terms_of(priced) and payment["method"] != "card":
        raise Invalid("subscriptions are paid by a saved card", code="card_required_for_subscription",
                      errors={"payment": {"method": ["a saved card for the renewals"]}})


def start(session, order, priced, payment, today):
    """The subscriptions an order starts, one per subscription line."""
    terms = terms_of(priced)
    started = []
    for line in order.lines:
        term = terms.get(domain.part_key(line.part_number))
        if term is None:
            continue
        sub = Subscription(company_id=order.company_id, user_id=order.user_id, owner=order.buyer,
                           part_number=line.part_number, name=line.name, quantity=line.quantity,
                           currency=order.currency, unit_price=line.unit_price, term=term,
                           card_id=payment["card_id"], shipping_address=order.shipping_address,
                           billing_account_id=order.billing_account_id, status="active",
                           started_on=today, next_renewal_on=add_term(today, term),
                           origin_order_number=order.number)
        session.add(sub)
        started.append(sub)
    session.flush()
    return started


def get(session, ctx, subscription_id, lock=False) -> Subscription:
    query = select(Subscription).where(Subscription.id == subscription_id)
    sub = session.scalar(query.with_for_update() if lock else query)
    if sub is None or sub.company_id != ctx.company_id or (
            sub.user_id != ctx.user_id and "recent_orders" not in ctx.features):
        raise NotFound("no such subscription", code="subscription_not_found")
    return sub


def list_for(session, ctx, limit=50, cursor=None):
    query = select(Subscription).where(Subscription.company_id == ctx.company_id)
    if "recent_orders" not in ctx.features:
        query = query.where(Subscription.user_id == ctx.user_id)
    return keyset_page(session, query, Subscription.id, limit, cursor, descending=True)


def _own(ctx, sub):
    if sub.user_id != ctx.user_id and not any(r in ctx.roles for r in domain.ADMIN_ROLES):
        raise Forbidden("only its owner or an administrator changes a subscription",
                        code="not_your_subscription")
    if sub.status != "active":
        raise Conflict("this subscription is cancelled", code="subscription_cancelled")


def switch_card(session, ctx, subscription_id, card: dict):
    """The owner names another saved card (identity's view of it, with its consent)."""
    sub = get(session, ctx, subscription_id, lock=True)
    _own(ctx, sub)
    if not card.get("consent_at"):
        raise Invalid("this card has no consent on record", code="consent_required")
    sub.card_id, sub.card_problem, sub.warned_for = card["id"], None, None
    return sub


def cancel(session, ctx, subscription_id, now):
    sub = get(session, ctx, subscription_id, lock=True)
    _own(ctx, sub)
    _end(session, sub, "cancelled_by_owner", now)
    return sub


def _end(session, sub, reason, now):
    sub.status, sub.cancelled_at, sub.cancel_reason = "cancelled", now, reason
    emit(session, "orders", "subscription_cancelled", {
        "subscription_id": sub.id, "company_id": sub.company_id, "buyer": sub.owner,
        "part_number": sub.part_number, "name": sub.name, "reason": reason,
        "cancelled_at": now.isoformat() + "Z"})


def _warn(session, sub, reason):
    sub.warned_for = sub.next_renewal_on
    emit(session, "orders", "subscription_card_missing", {
        "subscription_id": sub.id, "company_id": sub.company_id, "buyer": sub.owner,
        "part_number": sub.part_number, "name": sub.name, "reason": reason,
        "renewal_on": sub.next_renewal_on.isoformat()})


def card_removed(session, card_id) -> int:
    """identity says a card was removed: every active subscription on it is flagged and its
    owner told at once."""
    subs = session.scalars(select(Subscription).where(Subscription.card_id == card_id,
                                                      Subscription.status == "active")).all()
    for sub in subs:
        sub.card_problem = "card_removed"
        _warn(session, sub, "card_removed")
    return len(subs)


# ---- the renewal run (the service's timer, or `procura subscriptions renew`) ---------------

def to_check(session, today) -> list:
    """Ids of active subscriptions renewing within WARN_DAYS whose owner was not yet
    warned for that date: their card is checked."""
    return list(session.scalars(select(Subscription.id).where(
        Subscription.status == "active",
        Subscription.next_renewal_on <= today + timedelta(days=WARN_DAYS),
        Subscription.next_renewal_on > today,
        (Subscription.warned_for.is_(None)) | (Subscription.warned_for != Subscription.next_renewal_on)
    ).order_by(Subscription.id)))


def card_checked(session, subscription_id, card: dict | None, today):
    """Warn the owner before the renewal when the card cannot pay it: gone, without consent,
    or expiring before the renewal date."""
    sub = session.scalar(select(Subscription).where(Subscription.id == subscription_id)
                         .with_for_update())
    if sub is None or sub.status != "active" or sub.warned_for == sub.next_renewal_on:
        return None
    problem = card_problem(card, sub.next_renewal_on) or sub.card_problem
    if problem is None:
        return None
    sub.card_problem = problem
    _warn(session, sub, problem)
    return problem


def card_problem(card: dict | None, on: date):
    if card is None:
        return "card_removed"
    if not card.get("consent_at"):
        return "card_consent_missing"
    if (int(card["exp_year"]), int(card["exp_month"])) < (on.year, on.month):
        return "card_expired"
    return None


def due(session, today) -> list:
    return list(session.scalars(select(Subscription.id).where(
        Subscription.status == "active", Subscription.next_renewal_on <= today)
        .order_by(Subscription.id)))


def lock_due(session, subscription_id, today):
    """The subscription if it is still due now (nobody renewed it for this date), locked."""
    sub = session.scalar(select(Subscription).where(Subscription.id == subscription_id)
                         .with_for_update())
    if sub is None or sub.status != "active" or sub.next_renewal_on > today:
        return None
    done = session.scalar(select(SubscriptionRenewal.id).where(
        SubscriptionRenewal.subscription_id == sub.id,
        SubscriptionRenewal.due_on == sub.next_renewal_on))
    return None if done is not None else sub


def charge_key(sub) -> str:
    # the payment gateway charges once per key: a renewal retried after a crash is not
    # charged twice
    return f"subscription-{sub.id}-{sub.next_renewal_on.isoformat()}"


def cancel_at_renewal(session, sub, reason, now):
    _end(session, sub, reason, now)


def renew(session, sub, priced: list, charge: dict, now):
    """Place the renewal order at today's price through the normal order path, record it
    for this due date and move the renewal date on."""
    line = priced[0]
    if line.get("status") != "ok":
        _end(session, sub, f"product_{line.get('status')}", now)
        return None
    ctx = owner_context(sub)
    payment = {"method": "card", "card_id": sub.card_id,
               "card": {"brand": charge.get("brand"), "last4": charge.get("last4")},
               "charge_id": charge["charge_id"]}
    order = domain._write_order(session, ctx, [(sub.part_number, sub.quantity)], priced,
                                sub.currency, sub.shipping_address, payment,
                                sub.billing_account_id, f"Renewal of subscription {sub.id}")
    due_on = sub.next_renewal_on
    session.add(SubscriptionRenewal(subscription_id=sub.id, due_on=due_on,
                                    order_number=order.number, charge_id=charge["charge_id"]))
    sub.unit_price = Money.from_dict(line["unit_price"]).amount
    sub.next_renewal_on = add_term(due_on, sub.term)
    emit(session, "orders", "subscription_renewed", {
        "subscription_id": sub.id, "company_id": sub.company_id, "buyer": sub.owner,
        "part_number": sub.part_number, "name": sub.name, "order_number": order.number,
        "renewed_for": due_on.isoformat(), "next_renewal_on": sub.next_renewal_on.isoformat(),
        "total": domain.totals(order)["total"]})
    return order


def owner_context(sub):
    """The owner's caller context, for the work a renewal does on their behalf."""
    owner = sub.owner or {}
    return CallerContext(user_id=sub.user_id, company_id=sub.company_id, currency=sub.currency,
                         email=owner.get("email"), name=owner.get("name"),
                         locale=owner.get("locale") or "en")
