"""Prices on a real database: price_lines for a whole cart, lookup and product pages, with
contracts, tiers, EPP programs and tenant isolation."""
import pytest

from services.common.context import CallerContext
from services.common.errors import Forbidden, Invalid, NotFound
from tests.unit.catalog import replies
from tests.unit.catalog.support import BUYER, OTHER, STAFF, TODAY, contract


def line(result, part):
    return next(l for l in result["lines"] if l["part_number"] == part)


def test_price_lines_one_answer_per_line_in_order(db):
    contract(db, 1, [("LEN-T14", "1299.00")])
    result = replies.price_lines(db, BUYER, "CAD", [
        {"part_number": "LEN-T14", "quantity": 2}, {"part_number": "NOPE-1", "quantity": 1},
        {"part_number": "HP-E24", "quantity": 1}, {"part_number": "LOG-MXK", "quantity": 1},
        {"part_number": "len-x1", "quantity": "x"}], today=TODAY)
    assert result["currency"] == "CAD"
    assert [l["status"] for l in result["lines"]] == ["ok", "not_found", "not_orderable",
                                                       "not_orderable", "ok"]
    first = result["lines"][0]
    assert first["unit_price"] == {"amount": "1299.00", "currency": "CAD"}
    assert first["price_source"] == "contract" and first["on_contract"] is True
    assert first["name"] == "Lenovo ThinkPad T14 Gen 5 32GB" and first["manufacturer"] == "Lenovo"
    assert result["lines"][2]["unit_price"] is None  # USD product, CAD company
    # part numbers are matched without regard to case; a bad quantity counts as 1
    assert result["lines"][4]["part_number"] == "LEN-X1" and result["lines"][4]["quantity"] == 1
    assert result["lines"][4]["price_source"] == "list"


def test_contract_prices_are_the_companys_own(db):
    contract(db, 2, [("LEN-T14", "999.00")])
    mine = replies.price_lines(db, BUYER, "CAD", [{"part_number": "LEN-T14"}], today=TODAY)
    theirs = replies.price_lines(db, OTHER, "CAD", [{"part_number": "LEN-T14"}], today=TODAY)
    assert mine["lines"][0]["unit_price"]["amount"] == "1549.00"
    assert theirs["lines"][0]["unit_price"]["amount"] == "999.00"


def test_overlapping_and_expired_contracts_on_the_database(db):
    contract(db, 1, [("LEN-T14", "1400.00")], starts=-30, ends=30, name="A")
    contract(db, 1, [("LEN-T14", "1350.00")], starts=-5, ends=5, name="B")
    contract(db, 1, [("LEN-T14", "1000.00")], starts=-30, ends=-1, name="expired")
    contract(db, 1, [("LEN-T14", "900.00")], starts=1, ends=30, name="scheduled")
    view = replies.get_product(db, BUYER, "CAD", "LEN-T14", today=TODAY)
    assert view["price"] == {"amount": "1350.00", "currency": "CAD"}
    assert view["price_source"] == "contract" and view["on_contract"]


def test_tier_price_by_quantity(db):
    contract(db, 1, [("LEN-T14", "1400.00"), ("LEN-T14", "1300.00", "Volume")],
             tiers=[("Volume", 10)])
    result = replies.price_lines(db, BUYER, "CAD", [{"part_number": "LEN-T14", "quantity": 9},
                                                   {"part_number": "LEN-T14", "quantity": 10}],
                                today=TODAY)
    assert [l["unit_price"]["amount"] for l in result["lines"]] == ["1400.00", "1300.00"]


def test_product_page_lists_the_tier_prices_that_apply(db):
    contract(db, 1, [("LEN-T14", "1400.00"), ("LEN-T14", "1300.00", "Volume"),
                     ("LEN-T14", "1250.00", "Pallet")], tiers=[("Volume", 10), ("Pallet", 50)],
             name="Main")
    contract(db, 1, [("LEN-T14", "1380.00")], starts=-2, ends=3, name="Promo")
    contract(db, 1, [("LEN-T14", "900.00")], starts=-30, ends=-1, name="Expired")
    contract(db, 2, [("LEN-T14", "800.00")], name="Theirs")
    view = replies.get_product(db, BUYER, "CAD", "LEN-T14", today=TODAY)
    assert view["price"] == {"amount": "1380.00", "currency": "CAD"}
    assert [(t["contract_name"], t["tier"], t["min_quantity"], t["price"]["amount"], t["current"])
            for t in view["tier_prices"]] == [
        ("Promo", None, 1, "1380.00", True), ("Main", None, 1, "1400.00", False),
        ("Main", "Volume", 10, "1300.00", False), ("Main", "Pallet", 50, "1250.00", False)]
    assert view["tier_prices"][0]["ends_on"] == "2026-11-25"
    # without an active contract: no tiers, the list price
    assert replies.get_product(db, OTHER, "CAD", "LEN-X1", today=TODAY)["tier_prices"] == []


def test_epp_members_pay_the_epp_price(db):
    replies.set_epp(db, STAFF, 1, {"name": "Employee program", "user_ids": [BUYER.user_id]})
    member = replies.get_product(db, BUYER, "CAD", "LEN-X1", today=TODAY)
    assert member["price"]["amount"] == "2299.00" and member["price_source"] == "epp"
    colleague = CallerContext(user_id=99, company_id=1, currency="CAD")
    assert replies.get_product(db, colleague, "CAD", "LEN-X1", today=TODAY)["price_source"] == "list"
    other = CallerContext(user_id=BUYER.user_id, company_id=2, currency="CAD")
    assert replies.get_product(db, other, "CAD", "LEN-X1", today=TODAY)["price_source"] == "list"
    assert replies.get_epp(db, BUYER)["member"] is True
    assert replies.get_epp(db, colleague)["member"] is False
    with pytest.raises(NotFound):
        replies.get_epp(db, OTHER)
    replies.set_epp(db, STAFF, 1, {"name": "Everyone", "all_users": True})
    assert replies.get_product(db, colleague, "CAD", "LEN-X1", today=TODAY)["price_source"] == "epp"
    with pytest.raises(Forbidden):
        replies.set_epp(db, BUYER, 1, {"name": "mine"})


def test_lookup_in_input_order(db):
    result = replies.lookup(db, BUYER, "CAD", ["DEL-5450", "NOPE", "len-t14", "DEL-5450"],
                           today=TODAY)
    assert [(r["part_number"], r["status"]) for r in result["results"]] == [
        ("DEL-5450", "found"), ("NOPE", "not_found"), ("len-t14", "found"), ("DEL-5450", "found")]
    assert result["results"][2]["product"]["part_number"] == "LEN-T14"
    assert result["results"][1]["product"] is None


def test_unknown_product_is_not_found(db):
    with pytest.raises(NotFound) as err:
        replies.get_product(db, BUYER, "CAD", "NOPE-1")
    assert err.value.code == "product_not_found"


def test_a_currency_is_required(db):
    with pytest.raises(Invalid) as err:
        replies.price_lines(db, CallerContext(company_id=1), None, [{"part_number": "LEN-T14"}])
    assert err.value.code == "currency_required"
