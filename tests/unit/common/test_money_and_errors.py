"""Money arithmetic and domain errors crossing the RPC boundary."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nameko.exceptions import deserialize, serialize

from services.common.errors import DomainError, Invalid, NotFound
from services.common.money import Money
from services.common.remote_errors import register_domain_errors


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False),
       st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False))
def test_money_adds_exactly_and_round_trips(a, b):
    total = Money(a, "CAD") + Money(b, "CAD")
    assert total.amount == (a + b).quantize(Decimal("0.01"))
    assert Money.from_dict(total.to_dict()) == total


def test_money_refuses_mixed_currencies_and_bad_input():
    with pytest.raises(ValueError):
        Money("1", "CAD") + Money("1", "USD")
    with pytest.raises(ValueError):
        Money("abc", "CAD")
    with pytest.raises(ValueError):
        Money("NaN", "CAD")
    with pytest.raises(ValueError):
        Money("1", "dollars")


def test_domain_errors_cross_rpc_as_themselves():
    register_domain_errors()  # what the entrypoints and RPC clients do when imported
    error = deserialize(serialize(Invalid("bad", code="consent_required", errors={"consent": ["x"]})))
    assert isinstance(error, Invalid) and error.status == 422
    assert error.code == "consent_required" and error.errors == {"consent": ["x"]}

    class CardExpired(DomainError):
        status = 422
        default_code = "card_expired"

    # a kind defined after registration crosses as itself too
    again = deserialize(serialize(CardExpired("expired")))
    assert type(again) is CardExpired and again.code == "card_expired"
    assert isinstance(deserialize(serialize(NotFound("x"))), NotFound)
