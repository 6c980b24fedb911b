"""The price rules as pure functions: active contract dates, overlapping contracts, tiers,
the company's currency, the employee purchase program, the list price."""
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.catalog.domain.pricing import ContractOffer, contract_status, epp_member, quote
from services.common.money import Money

TODAY = date(2026, 11, 22)


def offer(amount, currency="CAD", starts=-5, ends=5, min_quantity=1, contract_id=1):
    return ContractOffer(contract_id, Decimal(amount), currency, TODAY + timedelta(days=starts),
                         TODAY + timedelta(days=ends), min_quantity)


def price(offers=(), list_price="100.00", list_currency="CAD", epp_price=None, currency="CAD",
          epp=False, quantity=1, availability="in_stock"):
    return quote(Decimal(list_price) if list_price else None, list_currency,
                 Decimal(epp_price) if epp_price else None, availability, list(offers), currency,
                 TODAY, epp, quantity)


def test_list_price_without_contract():
    q = price()
    assert q.unit_price == Money("100.00", "CAD") and q.price_source == "list"
    assert q.orderable and not q.on_contract


@pytest.mark.parametrize("starts, ends, active", [
    (0, 0, True),       # a one-day contract, today
    (0, 30, True),      # starts today
    (-30, 0, True),     # ends today
    (1, 30, False),     # starts tomorrow
    (-30, -1, False),   # ended yesterday
])
def test_contract_price_only_between_its_dates(starts, ends, active):
    q = price([offer("80.00", starts=starts, ends=ends)])
    assert q.price_source == ("contract" if active else "list")
    assert q.unit_price == Money("80.00" if active else "100.00", "CAD")
    assert q.on_contract is active


def test_overlapping_contracts_lowest_price_wins():
    q = price([offer("90.00", contract_id=1), offer("85.00", contract_id=2),
               offer("70.00", contract_id=3, ends=-1)])
    assert q.unit_price == Money("85.00", "CAD") and q.contract_id == 2


def test_contract_price_above_list_still_wins():
    # the contract is the agreement; the list price is only the fallback
    assert price([offer("120.00")]).unit_price == Money("120.00", "CAD")


def test_tier_price_applies_from_its_min_quantity():
    offers = [offer("90.00"), offer("80.00", min_quantity=10)]
    assert price(offers, quantity=9).unit_price == Money("90.00", "CAD")
    assert price(offers, quantity=10).unit_price == Money("80.00", "CAD")
    only_volume = [offer("80.00", min_quantity=10)]
    assert price(only_volume, quantity=1).price_source == "list"


def test_only_prices_in_the_company_currency_count():
    q = price([offer("60.00", currency="USD")], list_price="100.00", list_currency="USD",
              epp_price="90.00", epp=True, currency="CAD")
    assert q.unit_price is None and q.price_source is None
    assert not q.orderable and not q.on_contract


def test_contract_in_company_currency_makes_a_foreign_list_product_orderable():
    q = price([offer("75.00", currency="CAD")], list_currency="USD")
    assert q.unit_price == Money("75.00", "CAD") and q.orderable


def test_epp_price_for_members_only_and_below_contract():
    assert price(epp_price="92.00", epp=True).price_source == "epp"
    assert price(epp_price="92.00", epp=True).unit_price == Money("92.00", "CAD")
    assert price(epp_price="92.00", epp=False).price_source == "list"
    assert price([offer("95.00")], epp_price="92.00", epp=True).price_source == "contract"
    assert price(epp_price=None, epp=True).price_source == "list"


def test_discontinued_is_priced_but_not_orderable():
    q = price(availability="discontinued")
    assert q.unit_price == Money("100.00", "CAD") and not q.orderable


def test_contract_status():
    assert contract_status(TODAY + timedelta(days=1), TODAY + timedelta(days=9), TODAY) == "scheduled"
    assert contract_status(TODAY, TODAY, TODAY) == "active"
    assert contract_status(TODAY - timedelta(days=9), TODAY - timedelta(days=1), TODAY) == "expired"


def program(**kw):
    base = dict(active=True, starts_on=None, ends_on=None, all_users=False, user_ids=[7])
    base.update(kw)
    return SimpleNamespace(**base)


def test_epp_membership():
    assert epp_member(program(), 7, TODAY)
    assert not epp_member(program(), 8, TODAY)
    assert epp_member(program(all_users=True), 8, TODAY)
    assert not epp_member(program(active=False), 7, TODAY)
    assert not epp_member(program(starts_on=TODAY + timedelta(days=1)), 7, TODAY)
    assert not epp_member(program(ends_on=TODAY - timedelta(days=1)), 7, TODAY)
    assert not epp_member(None, 7, TODAY)
    assert not epp_member(program(all_users=True), None, TODAY)
