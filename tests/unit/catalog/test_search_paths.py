"""The column snapshot and the row queries answer every search alike: items and their order
(relevance and both price sorts: contract, EPP and list prices, other currencies, ties),
pages, totals and facets, with filters, grants, a chosen catalog and contracts; and the
snapshot follows imports."""
import itertools
from dataclasses import replace
from decimal import Decimal

import pytest

from services.catalog import columns, importer, schemas
from services.catalog.domain import search as searching
from tests.unit.catalog import replies
from tests.unit.catalog.support import ADMIN, BUYER, STAFF, TODAY, contract, product

WORDS = ["lenovo", "thinkpad", "dell", "monitor", "32gb", "m", "hp", "e24", "q0"]


@pytest.fixture
def catalog_db(db):
    rows = []
    for i in range(120):
        manufacturer = ["Lenovo", "Dell", "HP"][i % 3]
        category = ["Notebooks", "Monitors", "Accessories", "Desktops"][i % 4]
        rows.append(product(f"Q{i:03d}", manufacturer=manufacturer, category=category,
                            name=f"{manufacturer} {'ThinkPad' if i % 5 == 0 else 'Model'} {i} "
                                 f"{'32GB' if i % 2 else '16GB'} {category[:-1]}",
                            language="fr" if i % 7 == 0 else "en",
                            availability=["in_stock", "limited", "backorder", "discontinued"][i % 4 if i % 3 else 0],
                            description="monitor stand" if i % 11 == 0 else "",
                            # prices repeat every 40 products (ties), some in USD, some with EPP
                            price=f"{i % 40 + 10}.50", currency="USD" if i % 13 == 0 else "CAD",
                            epp=f"{i % 40 + 5}.00" if i % 3 == 0 else ""))
    importer.load_rows(db, rows)
    contract(db, 1, [(f"Q{i:03d}", f"{i % 30 + 8}.00") for i in range(0, 120, 4)])
    # a second contract with lower prices for some of the same products: the lowest wins
    contract(db, 1, [(f"Q{i:03d}", f"{i % 20 + 1}.25") for i in range(0, 120, 8)], name="second")
    db.commit()
    return db


@pytest.fixture(autouse=True)
def snapshot_answers(monkeypatch):
    """Counts the searches the snapshot answered, so that a silent fallback is seen."""
    answered = []
    original = searching._search_columns

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        answered.append(result is not None)
        return result
    monkeypatch.setattr(searching, "_search_columns", spy)
    return answered


def both(db, ctx, criteria, limit=7, cursor=None):
    answers = []
    for use_columns in (True, False):
        answers.append(replies.search(db, ctx, "CAD", dict(criteria), limit=limit, cursor=cursor,
                                     today=TODAY, use_columns=use_columns))
    return answers


CRITERIA = [{"q": w} for w in WORDS] + [
    {"q": "thinkpad", "manufacturer": "Lenovo"}, {"q": "model", "category": "Monitors"},
    {"q": "32gb", "language": "fr"}, {"q": "model", "availability": "limited"},
    {"q": "model", "on_contract": True}, {"q": "dell", "on_contract": False},
    {"q": "model 32gb", "manufacturer": "HP", "category": "Desktops"},
    {"q": "q0", "manufacturer": "Dell", "availability": "in_stock", "on_contract": True},
    {"q": "model", "sort": "price_asc"}, {"q": "model", "sort": "price_desc"},
    {"q": "thinkpad", "sort": "price_asc", "on_contract": True},
    {"q": "model 32gb", "sort": "price_desc", "manufacturer": "Dell"},
    {"q": "dell", "sort": "price_asc", "language": "fr"},
    # without words: every product is a match
    {}, {"manufacturer": "Dell", "availability": "limited"}, {"sort": "price_desc", "category": "Monitors"},
    {"price_min": "20", "on_contract": True},
]


@pytest.mark.parametrize("criteria", CRITERIA)
def test_same_answers_without_grants(catalog_db, criteria, snapshot_answers):
    fast, slow = both(catalog_db, BUYER, criteria)
    assert fast == slow
    assert snapshot_answers == [True]


def test_same_answers_with_grants_and_a_chosen_catalog(catalog_db, snapshot_answers):
    make = lambda name, **spec: replies.create_catalog(catalog_db, ADMIN, schemas.CatalogIn().load(  # noqa: E731
        {"name": name, **spec}))
    catalogs = [make("lenovo-en", include={"manufacturers": ["Lenovo"], "languages": ["en"]}),
                make("no-monitors", exclude={"categories": ["Monitors"], "off_contract": True}),
                make("off", include={"off_contract": True}, exclude={"manufacturers": ["HP"]}),
                make("empty")]
    for grants in itertools.chain([[]], itertools.combinations([c["id"] for c in catalogs], 2)):
        user = replace(BUYER, catalog_ids=list(grants))
        for criteria in CRITERIA[:6] + [{"q": "model", "catalog_id": catalogs[1]["id"]},
                                        {"q": "model", "catalog_id": catalogs[2]["id"], "category": "Notebooks"}]:
            fast, slow = both(catalog_db, user, criteria)
            assert fast == slow, (grants, criteria)
    assert snapshot_answers and all(snapshot_answers)


def test_same_price_order_for_epp_members(catalog_db, snapshot_answers):
    replies.set_epp(catalog_db, STAFF, 1, {"name": "Staff program", "all_users": True})
    for criteria in ({"q": "model", "sort": "price_asc"}, {"q": "model", "sort": "price_desc"}):
        fast, slow = both(catalog_db, BUYER, criteria, limit=30)
        assert fast == slow
        assert "epp" in {i["price_source"] for i in fast["items"]}
    assert snapshot_answers == [True, True]


def test_price_sorts_put_unpriced_products_last(catalog_db):
    fast, slow = both(catalog_db, BUYER, {"q": "model", "sort": "price_desc"}, limit=200)
    assert fast == slow
    prices = [i["price"]["amount"] if i["price"] else None for i in fast["items"]]
    assert None in prices and prices.index(None) == len([p for p in prices if p is not None])
    priced = [Decimal(p) for p in prices if p is not None]
    assert priced == sorted(priced, reverse=True)


def test_same_pages(catalog_db):
    for criteria in ({"q": "model"}, {"q": "thinkpad"}, {"q": "model", "manufacturer": "Dell"},
                     {"q": "model", "sort": "price_asc"}):
        cursor = None
        while True:
            fast, slow = both(catalog_db, BUYER, criteria, limit=4, cursor=cursor)
            assert fast == slow
            cursor = fast["next_cursor"]
            if cursor is None:
                break


def test_broad_searches_fall_back_to_catalog_order(catalog_db, monkeypatch):
    monkeypatch.setattr(searching, "RANK_LIMIT", 5)
    fast, slow = both(catalog_db, BUYER, {"q": "model"}, limit=10)
    assert fast == slow
    assert [i["part_number"] for i in fast["items"]] == sorted(i["part_number"] for i in fast["items"])


def test_catalogs_with_rules_are_searched_on_rows(catalog_db, snapshot_answers):
    catalog = replies.create_catalog(catalog_db, ADMIN, schemas.CatalogIn().load(
        {"name": "some", "rules": [{"type": "part_numbers", "part_numbers": ["Q001", "Q002", "Q010"]}]}))
    user = replace(BUYER, catalog_ids=[catalog["id"]])
    result = replies.search(catalog_db, user, "CAD", {"q": "model"}, today=TODAY)
    assert {i["part_number"] for i in result["items"]} == {"Q001", "Q002"}
    assert snapshot_answers == []
    # their facets are counted on the snapshot from the ids of the rows: as the grouped query
    for criteria in ({"q": "model"}, {}, {"manufacturer": "HP", "price_max": "30"}):
        fast, slow = both(catalog_db, user, criteria)
        assert fast == slow, criteria


def test_the_snapshot_follows_imports(catalog_db):
    first = columns.snapshot(catalog_db)
    assert columns.snapshot(catalog_db) is first
    importer.load_rows(catalog_db, [product("Q001", manufacturer="Apple", name="Apple Model 1")])
    fast, slow = both(catalog_db, BUYER, {"q": "model", "manufacturer": "Apple"})
    assert fast == slow and [i["part_number"] for i in fast["items"]] == ["Q001"]
    assert columns.snapshot(catalog_db) is not first


def test_same_price_ranges_and_filters_at_the_edges(catalog_db, snapshot_answers):
    importer.load_rows(catalog_db, [
        product(f"EDGE{i}", name=f"Edge model {i}", price=price, epp=epp)
        for i, (price, epp) in enumerate([("49.99", ""), ("50.00", "45.00"), ("99.99", ""),
                                          ("100.00", ""), ("9999.99", ""), ("12000.00", "")])])
    contract(catalog_db, 1, [("EDGE3", "250.00")])  # above its list price: still the price
    catalog_db.commit()
    for user in (BUYER, replace(BUYER, company_id=2)):  # with and without the contract
        for criteria in ({"q": "model"}, {"q": "edge"}, {"q": "model", "price_min": "50"},
                         {"q": "model", "price_max": "49.99", "sort": "price_desc"},
                         {"q": "edge", "price_min": "99.99", "price_max": "250"},
                         {"q": "model", "price_min": "20.5", "price_max": "30", "manufacturer": "Dell"},
                         {"q": "model", "price_min": "10000", "on_contract": False},
                         {"q": "model", "availability": "limited", "price_max": "35"}):
            fast, slow = both(catalog_db, user, criteria, limit=50)
            assert fast == slow, criteria
    edge = replies.search(catalog_db, BUYER, "CAD", {"q": "edge"}, today=TODAY)
    assert [(r["min"]["amount"], r["max"] and r["max"]["amount"], r["count"])
            for r in edge["facets"]["price"]] == [
        ("0.00", "49.99", 1), ("50.00", "99.99", 2), ("250.00", "499.99", 1),
        ("5000.00", "9999.99", 1), ("10000.00", None, 1)]
    found = replies.search(catalog_db, BUYER, "CAD", {"q": "edge", "price_min": "99.99", "price_max": "250"},
                          today=TODAY)
    assert {i["part_number"] for i in found["items"]} == {"EDGE2", "EDGE3"}
    assert all(snapshot_answers)


def test_same_price_filter_for_epp_members(catalog_db, snapshot_answers):
    replies.set_epp(catalog_db, STAFF, 1, {"name": "Staff program", "all_users": True})
    for criteria in ({"q": "model", "price_max": "20"}, {"q": "model", "price_min": "30", "sort": "price_asc"}):
        fast, slow = both(catalog_db, BUYER, criteria, limit=60)
        assert fast == slow and fast["total"] > 0
