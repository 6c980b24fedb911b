"""Saved payment cards: what the payment gateway's token stands for, and the holder's
consent. The number and CVC never reach this service."""
from sqlalchemy import select

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Forbidden, Invalid, NotFound
from services.common.outbox import emit
from services.common.paging import keyset_page
from services.identity.domain import SOURCE
from services.identity.domain.accounts import own_user
from services.identity.models import PaymentCard

CARD_TERMS_VERSION = "2026-01"


def check_consent(record: dict):
    if record.get("consent") is not True:
        raise Invalid("consent is required to save a card", code="consent_required",
                      errors={"consent": ["You must agree to the saved-card terms."]})


def add_card(session, ctx: CallerContext, record: dict, now=None) -> PaymentCard:
    """Save a card the payment gateway has tokenized; consent is required."""
    now = now or utcnow()
    if ctx.company_id is None:
        raise Forbidden("cards belong to company users")
    check_consent(record)
    missing = [f for f in ("holder_first_name", "holder_last_name", "nickname", "gateway_token",
                           "brand", "last4") if not str(record.get(f) or "").strip()]
    if missing:
        raise Invalid("missing card details", errors={f: ["Missing data for required field."]
                                                      for f in missing})
    user = own_user(session, ctx)
    card = PaymentCard(user_id=user.id, company_id=user.company_id, brand=record["brand"],
                       last4=record["last4"], exp_month=int(record["exp_month"]),
                       exp_year=int(record["exp_year"]),
                       holder_first_name=record["holder_first_name"].strip(),
                       holder_last_name=record["holder_last_name"].strip(),
                       nickname=record["nickname"].strip(), consent_at=now,
                       terms_version=record.get("terms_version") or CARD_TERMS_VERSION,
                       gateway_token=record["gateway_token"], created_at=now)
    session.add(card)
    session.flush()
    emit(session, SOURCE, "card_added", {"user_id": user.id, "company_id": user.company_id,
                                         "card_id": card.id})
    return card


def _cards_of(ctx: CallerContext):
    return select(PaymentCard).where(PaymentCard.user_id == ctx.user_id,
                                     PaymentCard.company_id == ctx.company_id,
                                     PaymentCard.removed_at.is_(None))


def list_cards(session, ctx: CallerContext, limit=50, cursor=None):
    """(cards, next_cursor) of the caller's saved cards."""
    return keyset_page(session, _cards_of(ctx), PaymentCard.id, limit, cursor)


def remove_card(session, ctx: CallerContext, card_id, now=None):
    card = session.scalar(_cards_of(ctx).where(PaymentCard.id == card_id))
    if card is None:
        raise NotFound("no such card")
    card.removed_at = now or utcnow()
    card.gateway_token = None  # the consent ends with the card
    emit(session, SOURCE, "card_removed", {"user_id": card.user_id, "company_id": card.company_id,
                                           "card_id": card.id})


def charge_card(session, ctx: CallerContext, card_id, amount: dict, idempotency_key: str,
                gateway, today=None) -> dict:
    """Charge a saved card of the caller (renewals run as the card's owner): it must carry
    the owner's consent and not have expired. Returns {charge_id, card_id, brand, last4}."""
    card = session.scalar(_cards_of(ctx).where(PaymentCard.id == card_id))
    if card is None or not card.gateway_token or card.consent_at is None:
        raise Invalid("this card no longer carries the owner's consent",
                      code="card_consent_missing")
    today = today or utcnow().date()
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise Invalid("this card has expired", code="card_expired")
    charge_id = gateway.charge(card.gateway_token, amount, idempotency_key)
    return {"charge_id": charge_id, "card_id": card.id, "brand": card.brand, "last4": card.last4}


def get_card(session, ctx: CallerContext, card_id) -> PaymentCard:
    """A saved card for payment: the caller's own, or any for the platform itself."""
    stmt = select(PaymentCard).where(PaymentCard.id == card_id, PaymentCard.removed_at.is_(None))
    if not (ctx.staff and ctx.company_id is None and ctx.user_id is None):
        stmt = stmt.where(PaymentCard.user_id == ctx.user_id,
                          PaymentCard.company_id == ctx.company_id)
    card = session.scalar(stmt)
    if card is None:
        raise NotFound("no such card")
    return card
