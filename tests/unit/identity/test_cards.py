"""Saved payment cards: the payment gateway's checks, consent, and that the number and CVC
are never kept or repeated."""
from datetime import date

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Invalid, NotFound
from services.identity.domain import cards
from services.identity.models import Base, PaymentCard
from services.identity.payments import CardRejected, LocalPaymentGateway, card_brand, luhn_ok
from services.identity.schemas import CardInputSchema, PaymentCardSchema, SavedCardSchema
from tests.unit.identity.support import events

TODAY = date(2026, 6, 15)
VISA = "4111 1111 1111 1111"


@pytest.mark.parametrize("number, brand", [
    ("4111111111111111", "Visa"), ("4012888888881881", "Visa"), ("4222222222222", "Visa"),
    ("5555555555554444", "Mastercard"), ("2223003122003222", "Mastercard"),
    ("378282246310005", "Amex"), ("371449635398431", "Amex"),
    ("6011111111111117", "Discover"), ("6445644564456445", "Discover"),
])
def test_brands(number, brand):
    token, got, last4 = LocalPaymentGateway(TODAY).tokenize(
        number, 12, 2027, "1234" if brand == "Amex" else "123")
    assert got == brand and last4 == number[-4:] and token.startswith("tok_")
    assert number not in token


def test_tokens_are_random():
    gw = LocalPaymentGateway(TODAY)
    assert gw.tokenize(VISA, 1, 2030, "123")[0] != gw.tokenize(VISA, 1, 2030, "123")[0]


@pytest.mark.parametrize("number, month, year, cvc, field", [
    ("4111111111111112", 12, 2027, "123", "number"),     # Luhn
    ("41111111", 12, 2027, "123", "number"),             # too short
    ("4111-1111-1111-111x", 12, 2027, "123", "number"),  # not digits
    ("3530111333300000", 12, 2027, "123", "number"),     # JCB: not accepted
    (VISA, 5, 2026, "123", "exp_year"),                  # expired last month
    (VISA, 13, 2027, "123", "exp_month"),
    (VISA, 12, 2027, "12", "cvc"),
    ("378282246310005", 12, 2027, "123", "cvc"),         # Amex wants 4 digits
])
def test_rejected_cards_never_repeat_the_number_or_cvc(number, month, year, cvc, field):
    with pytest.raises(CardRejected) as exc:
        LocalPaymentGateway(TODAY).tokenize(number, month, year, cvc)
    assert exc.value.status == 422 and exc.value.code == "invalid_card"
    assert field in exc.value.errors
    text = repr(exc.value.errors) + str(exc.value) + repr(exc.value.args)
    assert number not in text and number.replace(" ", "")[-8:] not in text
    assert f"'{cvc}'" not in text


def test_card_still_valid_in_its_expiry_month():
    assert LocalPaymentGateway(TODAY).tokenize(VISA, 6, 26, "123")[1] == "Visa"


def test_luhn_and_brand_helpers():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert card_brand("4111111111111111") == "Visa" and card_brand("9111111111111111") is None


def test_input_schema_never_echoes_or_dumps_the_number():
    schema = CardInputSchema()
    with pytest.raises(ValidationError) as exc:
        schema.load({"number": "4111111111111111" * 3, "cvc": "123456789", "exp_month": 1,
                     "exp_year": 2030, "holder_first_name": " ", "holder_last_name": "L",
                     "nickname": "n"})
    assert "4111111111111111" not in repr(exc.value.messages)
    assert "123456789" not in repr(exc.value.messages)
    assert set(exc.value.messages) == {"number", "cvc", "holder_first_name"}
    data = schema.load({"number": VISA, "cvc": "123", "exp_month": 1, "exp_year": 30,
                        "holder_first_name": "Ann", "holder_last_name": "Lee",
                        "nickname": "Corporate", "consent": True})
    assert data["exp_year"] == 2030
    assert schema.dump(data) == {k: v for k, v in data.items() if k not in ("number", "cvc")}


def tokenized(**overrides):
    token, brand, last4 = LocalPaymentGateway(TODAY).tokenize(VISA, 12, 2030, "123")
    record = {"gateway_token": token, "brand": brand, "last4": last4, "exp_month": 12,
              "exp_year": 2030, "holder_first_name": "Ann", "holder_last_name": "Lee",
              "nickname": "Corporate", "consent": True}
    record.update(overrides)
    return record


def test_consent_is_required(session, company):
    ctx = company.ctx_of(company.add_user("bob"))
    for consent in (False, None, "yes"):
        with pytest.raises(Invalid) as exc:
            cards.add_card(session, ctx, tokenized(consent=consent))
        assert exc.value.code == "consent_required"
    with pytest.raises(Invalid):
        cards.add_card(session, ctx, tokenized(nickname="  "))
    assert session.scalar(select(PaymentCard)) is None


def test_add_list_get_and_remove(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    card = PaymentCardSchema().dump(cards.add_card(session, ctx, tokenized()))
    assert card["brand"] == "Visa" and card["last4"] == "1111" and card["consent_at"]
    assert card["terms_version"] == cards.CARD_TERMS_VERSION
    assert "gateway_token" not in card  # the reply holds nothing of the card's secret
    assert events(session, "card_added") == [{"user_id": bob.id, "company_id": company.id,
                                              "card_id": card["id"]}]
    rows, _ = cards.list_cards(session, ctx)
    assert PaymentCardSchema(many=True).dump(rows) == [card]
    for_orders = SavedCardSchema().dump(cards.get_card(session, ctx, card["id"]))
    assert for_orders["consent_at"] == card["consent_at"] and for_orders["gateway_token"]
    assert (for_orders["user_id"], for_orders["company_id"]) == (bob.id, company.id)
    # the platform itself (subscription renewals) may read it too
    assert cards.get_card(session, CallerContext.system(), card["id"]).id == card["id"]
    cards.remove_card(session, ctx, card["id"])
    assert events(session, "card_removed")[0]["card_id"] == card["id"]
    assert cards.list_cards(session, ctx)[0] == []
    with pytest.raises(NotFound):
        cards.get_card(session, ctx, card["id"])
    with pytest.raises(NotFound):
        cards.remove_card(session, ctx, card["id"])


def test_charge_needs_consent_and_an_unexpired_card(session, company):
    ctx = company.ctx_of(company.add_user("bob"))
    card = cards.add_card(session, ctx, tokenized())
    gateway = LocalPaymentGateway(TODAY)
    charged = cards.charge_card(session, ctx, card.id, {"amount": "10.00", "currency": "CAD"},
                                "renewal-1", gateway, today=TODAY)
    assert charged["card_id"] == card.id and charged["last4"] == "1111"
    with pytest.raises(Invalid) as exc:
        cards.charge_card(session, ctx, card.id, {"amount": "1.00", "currency": "CAD"},
                          "renewal-2", gateway, today=date(2031, 1, 1))
    assert exc.value.code == "card_expired"
    cards.remove_card(session, ctx, card.id)
    with pytest.raises(Invalid) as exc:
        cards.charge_card(session, ctx, card.id, {"amount": "1.00", "currency": "CAD"},
                          "renewal-3", gateway, today=TODAY)
    assert exc.value.code == "card_consent_missing"


def test_cards_are_private(session, company, other_company):
    bob_ctx = company.ctx_of(company.add_user("bob"))
    colleague = company.ctx_of(company.add_user("eve"))
    stranger = other_company.ctx_of(other_company.add_user("mallory"))
    card = cards.add_card(session, bob_ctx, tokenized())
    for ctx in (colleague, stranger):
        with pytest.raises(NotFound):
            cards.get_card(session, ctx, card.id)
        with pytest.raises(NotFound):
            cards.remove_card(session, ctx, card.id)
        assert cards.list_cards(session, ctx)[0] == []


def test_no_column_could_hold_a_card_number():
    columns = {c.name for c in Base.metadata.tables["payment_cards"].columns}
    assert not columns & {"number", "card_number", "pan", "cvc", "cvv"}
