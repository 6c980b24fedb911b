"""Contracts, company favorites, saved searches and purchase history: validation, rights
and tenant isolation."""
from datetime import timedelta

import pytest

from services.catalog import schemas
from services.common.context import CallerContext
from services.common.errors import Forbidden, Invalid, NotFound
from tests.unit.catalog import replies
from tests.unit.catalog.support import ADMIN, BUYER, OTHER, STAFF, TODAY, contract, events


# ---- contracts

def test_contract_with_prices_and_tiers(db):
    view = contract(db, 1, [("LEN-T14", "1299.00"), ("LEN-T14", "1199.00", "Volume"),
                            ("del-5450", "1500.00")], tiers=[("Volume", 25)])
    assert view["status"] == "active" and view["price_count"] == 3
    assert view["tiers"] == [{"name": "Volume", "min_quantity": 25}]
    assert events(db, "contract_changed") == [{"company_id": 1, "contract_id": view["id"]}]


def test_contract_prices_are_checked(db):
    with pytest.raises(Invalid) as err:
        replies.create_contract(db, STAFF, 1, {
            "name": "x", "starts_on": TODAY, "ends_on": TODAY, "tiers": [{"name": "Gold"}],
            "prices": [{"part_number": "NOPE", "price": {"amount": "1", "currency": "CAD"}},
                       {"part_number": "LEN-T14", "tier": "Silver", "price": {"amount": "1", "currency": "CAD"}},
                       {"part_number": "LEN-X1", "price": {"amount": "1", "currency": "USD"}},
                       {"part_number": "DEL-5450", "price": {"amount": "1", "currency": "CAD"}},
                       {"part_number": "DEL-5450", "price": {"amount": "2", "currency": "CAD"}}]},
            company_currency="CAD")
    errors = err.value.errors["prices"]
    assert set(errors) == {"0", "1", "2", "4"}
    assert "part_number" in errors["0"] and "tier" in errors["1"] and "price" in errors["2"]
    assert events(db, "contract_changed") == []


def test_contract_dates_and_staff_only(db):
    with pytest.raises(Invalid):
        replies.create_contract(db, STAFF, 1, {"name": "x", "starts_on": TODAY,
                                              "ends_on": TODAY - timedelta(days=1)})
    with pytest.raises(Forbidden):
        replies.create_contract(db, ADMIN, 1, {"name": "x", "starts_on": TODAY, "ends_on": TODAY})
    with pytest.raises(schemas.ValidationError):
        schemas.ContractIn().load({"name": "x", "starts_on": "2026-02-01", "ends_on": "2026-01-01"})


def test_list_contracts_of_the_company_with_status(db):
    contract(db, 1, [("LEN-T14", "1")], starts=-30, ends=-1, name="old")
    contract(db, 1, [], starts=-1, ends=30, name="current")
    contract(db, 1, [], starts=5, ends=30, name="next")
    contract(db, 2, [("LEN-T14", "1")], name="theirs")
    listed = replies.list_contracts(db, BUYER, today=TODAY)["items"]
    assert [(c["name"], c["status"]) for c in listed] == [
        ("next", "scheduled"), ("current", "active"), ("old", "expired")]
    assert listed[2]["price_count"] == 1
    page = replies.list_contracts(db, BUYER, limit=2, today=TODAY)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = replies.list_contracts(db, BUYER, limit=2, cursor=page["next_cursor"], today=TODAY)
    assert [c["name"] for c in rest["items"]] == ["old"] and rest["next_cursor"] is None


# ---- favorites

def test_favorites_of_each_kind(db):
    made = [replies.create_favorite(db, ADMIN, data) for data in (
        {"kind": "product", "title": "Laptop", "part_number": "len-t14"},
        {"kind": "comparison", "title": "Monitors", "part_numbers": ["DEL-U2724", "HP-E24"]},
        {"kind": "bundle", "title": "Desk", "lines": [{"part_number": "LOG-MXK", "quantity": 2},
                                                      {"part_number": "DEL-U2724", "quantity": 1}]},
        {"kind": "link", "title": "Policy", "url": "https://intranet.example/it"})]
    assert made[0]["part_number"] == "LEN-T14"
    assert made[2]["lines"][0] == {"part_number": "LOG-MXK", "quantity": 2}
    listed = replies.list_favorites(db, BUYER)["items"]
    assert [f["kind"] for f in listed] == ["link", "bundle", "comparison", "product"]
    assert replies.get_favorite(db, BUYER, made[3]["id"])["url"] == "https://intranet.example/it"
    assert replies.list_favorites(db, OTHER)["items"] == []
    with pytest.raises(NotFound):
        replies.get_favorite(db, OTHER, made[0]["id"])
    with pytest.raises(NotFound):
        replies.delete_favorite(db, OTHER, made[0]["id"])
    with pytest.raises(Forbidden):
        replies.delete_favorite(db, BUYER, made[0]["id"])
    replies.delete_favorite(db, ADMIN, made[0]["id"])
    assert len(replies.list_favorites(db, BUYER)["items"]) == 3


@pytest.mark.parametrize("data, field", [
    ({"kind": "product", "title": "x", "part_number": "NOPE"}, "part_number"),
    ({"kind": "product", "title": "x"}, "part_number"),
    ({"kind": "comparison", "title": "x", "part_numbers": ["LEN-T14"]}, "part_numbers"),
    ({"kind": "comparison", "title": "x", "part_numbers": ["LEN-T14", "LEN-X1", "DEL-5450",
                                                           "HP-E24", "LOG-MXK"]}, "part_numbers"),
    ({"kind": "comparison", "title": "x", "part_numbers": ["LEN-T14", "len-t14"]}, "part_numbers"),
    ({"kind": "comparison", "title": "x", "part_numbers": ["LEN-T14", "NOPE"]}, "part_numbers"),
    ({"kind": "bundle", "title": "x", "lines": []}, "lines"),
    ({"kind": "bundle", "title": "x", "lines": [{"part_number": "LEN-T14", "quantity": 0}]}, "lines"),
    ({"kind": "bundle", "title": "x", "lines": [{"part_number": "NOPE", "quantity": 1}]}, "lines"),
    ({"kind": "link", "title": "x", "url": "javascript:alert(1)"}, "url"),
    ({"kind": "link", "title": "x"}, "url"),
    ({"kind": "wishlist", "title": "x"}, "kind"),
    ({"kind": "link", "title": " ", "url": "https://x.example"}, "title"),
])
def test_favorites_are_validated(db, data, field):
    with pytest.raises((Invalid, schemas.ValidationError)) as err:
        try:
            loaded = schemas.FavoriteIn().load(data)
        except schemas.ValidationError as exc:
            assert field in exc.messages
            raise
        replies.create_favorite(db, ADMIN, loaded)
    if isinstance(err.value, Invalid):
        assert field in err.value.errors


def test_only_eprocurement_admins_write_favorites(db):
    with pytest.raises(Forbidden):
        replies.create_favorite(db, BUYER, {"kind": "link", "title": "x", "url": "https://x.example"})


# ---- saved searches

def test_saved_searches_are_the_users_own(db):
    saved = replies.create_saved_search(db, BUYER, schemas.SavedSearchIn().load(
        {"name": "Docks", "criteria": {"q": "dock", "manufacturer": "Dell"}}))
    assert saved["criteria"] == {"q": "dock", "manufacturer": "Dell", "sort": "relevance"}
    colleague = CallerContext(user_id=99, company_id=1)
    assert replies.list_saved_searches(db, colleague)["items"] == []
    with pytest.raises(NotFound):
        replies.get_saved_search(db, colleague, saved["id"])
    with pytest.raises(NotFound):
        replies.delete_saved_search(db, OTHER, saved["id"])
    assert [s["name"] for s in replies.list_saved_searches(db, BUYER)["items"]] == ["Docks"]
    replies.delete_saved_search(db, BUYER, saved["id"])
    with pytest.raises(NotFound):
        replies.get_saved_search(db, BUYER, saved["id"])


# ---- purchase history

def test_purchase_history_from_orders(db):
    replies.record_order(db, {"company_id": 1, "placed_at": "2026-11-01T10:00:00Z", "lines": [
        {"part_number": "LEN-T14", "quantity": 2}, {"part_number": "LEN-T14", "quantity": 1},
        {"part_number": "DEL-5450", "quantity": 5}]})
    replies.record_order(db, {"company_id": 1, "placed_at": "2026-10-01T10:00:00+00:00", "lines": [
        {"part_number": "LEN-T14", "quantity": 4}]})
    replies.record_order(db, {"company_id": 2, "placed_at": "2026-11-02T10:00:00Z", "lines": [
        {"part_number": "HP-E24", "quantity": 1}]})
    items = {i["part_number"]: i for i in replies.purchase_history(db, BUYER)["items"]}
    assert set(items) == {"LEN-T14", "DEL-5450"}
    assert items["LEN-T14"]["quantity"] == 7 and items["LEN-T14"]["orders"] == 2
    # an older order does not move the last ordered date back
    assert items["LEN-T14"]["last_ordered_at"] == "2026-11-01T10:00:00Z"
