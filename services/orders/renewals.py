"""The subscription renewal run: for each subscription due, check and charge its card
through identity, price it through catalog, and renew or cancel it (subscriptions.py), one
transaction per subscription. Run by the orders service's timer and by
`procura subscriptions renew [--today DATE]` (a clock you control)."""
import logging

from services.common.clock import utcnow
from services.common.errors import DomainError, NotFound
from services.common.money import Money
from services.orders import subscriptions
from services.orders.models import Subscription

log = logging.getLogger(__name__)


def _card(rpc, sub):
    try:
        return rpc.identity.get_card(subscriptions.owner_context(sub), sub.card_id)
    except NotFound:
        return None


def run(session_factory, rpc, today, now=None) -> dict:
    """Warn owners whose card cannot pay an upcoming renewal, then renew what is due.
    Returns counts; safe to run again for the same day (nothing happens twice)."""
    now = now or utcnow()
    done = {"warned": 0, "renewed": 0, "cancelled": 0}
    with session_factory() as session:
        to_check = subscriptions.to_check(session, today)
        due = subscriptions.due(session, today)
    for subscription_id in to_check:
        with session_factory() as session:
            sub = session.get(Subscription, subscription_id)
            if subscriptions.card_checked(session, subscription_id, _card(rpc, sub), today):
                done["warned"] += 1
            session.commit()
    for subscription_id in due:
        with session_factory() as session:
            sub = subscriptions.lock_due(session, subscription_id, today)
            if sub is None:
                session.rollback()
                continue
            if sub.card_problem:
                subscriptions.cancel_at_renewal(session, sub, sub.card_problem, now)
                done["cancelled"] += 1
                session.commit()
                continue
            ctx = subscriptions.owner_context(sub)
            priced = rpc.catalog.price_lines(ctx, sub.currency, [
                {"part_number": sub.part_number, "quantity": sub.quantity}], with_catalogs=True)
            line = priced["lines"][0]
            if line.get("status") != "ok":  # gone from the catalog, or no longer allowed
                subscriptions.cancel_at_renewal(session, sub, f"product_{line.get('status')}", now)
                done["cancelled"] += 1
                session.commit()
                continue
            amount = (Money.from_dict(line["unit_price"]) * sub.quantity).to_dict()
            try:
                charge = rpc.identity.charge_card(ctx, sub.card_id, amount,
                                                  subscriptions.charge_key(sub))
            except DomainError as exc:
                # no consent, expired or declined: the renewal cannot be paid
                subscriptions.cancel_at_renewal(session, sub, exc.code, now)
                done["cancelled"] += 1
                session.commit()
                continue
            order = subscriptions.renew(session, sub, priced["lines"], charge, now)
            done["renewed" if order is not None else "cancelled"] += 1
            session.commit()
    if any(done.values()):
        log.info("subscription renewals for %s: %s", today, done)
    return done
