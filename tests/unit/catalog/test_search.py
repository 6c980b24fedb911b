"""Full-text search with filters, facets, sorting and pages (run on SQLite FTS5 and on
PostgreSQL tsvector: PROCURA_TEST_DB picks the engine)."""
import pytest

from services.catalog import importer
from services.common.errors import Invalid
from tests.unit.catalog import replies
from tests.unit.catalog.support import BUYER, OTHER, STAFF, TODAY, contract, parts, product


def search(db, ctx=BUYER, **criteria):
    limit = criteria.pop("limit", 50)
    cursor = criteria.pop("cursor", None)
    return replies.search(db, ctx, "CAD", criteria, limit=limit, cursor=cursor, today=TODAY)


def test_words_match_name_manufacturer_part_numbers_and_description(db, both_paths):
    assert set(parts(search(db, q="thinkpad"))) == {"LEN-T14", "LEN-X1"}
    assert parts(search(db, q="latitude 32gb")) == ["DEL-5450"]
    assert set(parts(search(db, q="dell"))) == {"DEL-5450", "DEL-U2724"}
    assert parts(search(db, q="del-5450")) == ["DEL-5450"]          # the reseller part number
    assert parts(search(db, q="MLEN-M70Q")) == ["LEN-M70Q"]          # the manufacturer's
    assert parts(search(db, q="QHD")) == ["DEL-U2724"]               # the description
    assert parts(search(db, q="écran")) == ["DEL-U2724"]
    assert parts(search(db, q="nothing-like-this")) == []


def test_the_last_word_matches_as_a_prefix(db, both_paths):
    assert set(parts(search(db, q="think"))) == {"LEN-T14", "LEN-X1", "LEN-M70Q"}
    assert parts(search(db, q="ultrash")) == ["DEL-U2724"]
    # only the last one
    assert parts(search(db, q="ultrash dell")) == []


def test_punctuation_in_queries_is_harmless(db, both_paths):
    for q in ['"', "thinkpad AND (", "x1 OR *", "NEAR(", "'; drop table products; --", ":*&|!"]:
        search(db, q=q)
    assert set(parts(search(db, q="ThinkPad, (T14)"))) == {"LEN-T14"}


def test_filters(db, both_paths):
    assert parts(search(db, manufacturer="Lenovo", category="Notebooks")) == ["LEN-T14", "LEN-X1"]
    assert parts(search(db, language="fr")) == ["DEL-U2724"]
    assert parts(search(db, availability="discontinued")) == ["LOG-MXK"]
    assert parts(search(db, q="thinkpad", manufacturer="Dell")) == []


def test_relevance_puts_part_number_matches_first(db, both_paths):
    importer.load_rows(db, [product("ACC-1", manufacturer="Targus", category="Accessories",
                                    name="Sleeve for ThinkPad T14", price="39.99")])
    result = search(db, q="t14")
    assert parts(result)[0] == "LEN-T14" and "ACC-1" in parts(result)


def test_facets_count_each_dimension_ignoring_its_own_filter(db, both_paths):
    result = search(db, manufacturer="Dell")
    assert result["total"] == 2
    facets = result["facets"]
    # the manufacturer facet still shows the other manufacturers, with the counts they'd give
    assert {f["value"]: f["count"] for f in facets["manufacturer"]} == {
        "Lenovo": 3, "Dell": 2, "HP": 1, "Logitech": 1}
    assert {f["value"]: f["count"] for f in facets["category"]} == {"Notebooks": 1, "Monitors": 1}
    result = search(db, q="monitor ultrasharp", manufacturer="Dell")
    assert result["total"] == 0
    result = search(db, category="Monitors")
    assert {f["value"]: f["count"] for f in result["facets"]["manufacturer"]} == {"Dell": 1, "HP": 1}
    assert result["facets"]["category"][0] == {"value": "Notebooks", "count": 3}


def test_sort_by_the_callers_price(db, both_paths):
    contract(db, 1, [("LEN-M70Q", "3000.00")])
    asc = parts(search(db, sort="price_asc"))
    # HP-E24 has no CAD price: last whichever the direction
    assert asc == ["LOG-MXK", "DEL-U2724", "LEN-T14", "DEL-5450", "LEN-X1", "LEN-M70Q", "HP-E24"]
    desc = parts(search(db, sort="price_desc"))
    assert desc == ["LEN-M70Q", "LEN-X1", "DEL-5450", "LEN-T14", "DEL-U2724", "LOG-MXK", "HP-E24"]
    # another company's contract does not move anything for us
    assert parts(replies.search(db, OTHER, "CAD", {"sort": "price_desc"}, today=TODAY))[0] == "LEN-X1"


def test_items_are_priced(db, both_paths):
    contract(db, 1, [("DEL-5450", "1500.00")])
    items = {i["part_number"]: i for i in search(db, q="dell")["items"]}
    assert items["DEL-5450"]["price"] == {"amount": "1500.00", "currency": "CAD"}
    assert items["DEL-5450"]["list_price"] == {"amount": "1649.00", "currency": "CAD"}
    assert items["DEL-5450"]["price_source"] == "contract" and items["DEL-5450"]["on_contract"]
    assert items["DEL-U2724"]["price_source"] == "list" and not items["DEL-U2724"]["on_contract"]


def test_on_contract_filter(db, both_paths):
    contract(db, 1, [("DEL-5450", "1500.00"), ("HP-E24", "300.00")])
    contract(db, 1, [("LEN-T14", "1.00")], starts=-20, ends=-10)  # expired
    contract(db, 1, [("LEN-X1", "1.00", None, "USD")])             # not in our currency
    assert parts(search(db, on_contract=True)) == ["DEL-5450", "HP-E24"]
    assert "DEL-5450" not in parts(search(db, on_contract=False))
    assert len(parts(search(db, on_contract=False))) == 5


def test_pages_follow_the_cursor(db, both_paths):
    seen, cursor = [], None
    while True:
        page = search(db, limit=3, cursor=cursor)
        seen += parts(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    with pytest.raises(Invalid):
        search(db, cursor="not-a-cursor")


def test_unknown_sort_is_invalid(db):
    with pytest.raises(Invalid):
        search(db, sort="cheapest")


def test_reimport_updates_the_index(db, both_paths):
    importer.load_rows(db, [product("LEN-T14", name="Lenovo ThinkBook 14 Gen 7", price="999.00")])
    assert parts(search(db, q="thinkbook")) == ["LEN-T14"]
    assert "LEN-T14" not in parts(search(db, q="thinkpad"))


def ranges(result):
    return [(r["min"]["amount"], r["max"]["amount"] if r["max"] else None, r["count"])
            for r in result["facets"]["price"]]


def test_price_range_filter_at_the_callers_price(db, both_paths):
    # CAD prices: LOG-MXK 139.99, DEL-U2724 579, LEN-M70Q 899, LEN-T14 1549, DEL-5450 1649,
    # LEN-X1 2499; HP-E24 has no CAD price
    assert parts(search(db, price_min="500", price_max="1549", sort="price_asc")) == [
        "DEL-U2724", "LEN-M70Q", "LEN-T14"]                     # both ends inclusive
    assert parts(search(db, q="lenovo", price_max="1000")) == ["LEN-M70Q"]
    assert "HP-E24" not in parts(search(db, price_min="0"))     # no price to compare
    assert search(db, price_min="3000")["total"] == 0
    contract(db, 1, [("LEN-M70Q", "3000.00")])                  # the contract price counts,
    assert parts(search(db, q="lenovo", price_min="2500")) == ["LEN-M70Q"]  # above list too
    assert search(db, q="lenovo", price_max="1000")["total"] == 0
    replies.set_epp(db, STAFF, 1, {"name": "Program", "all_users": True})
    assert parts(search(db, q="lenovo", price_max="2300")) == ["LEN-T14", "LEN-X1"]  # EPP 2299


def test_price_and_availability_facets_ignore_their_own_filter(db, both_paths):
    result = search(db, q="lenovo", price_max="999.99")
    assert parts(result) == ["LEN-M70Q"] and result["total"] == 1
    assert ranges(result) == [("500.00", "999.99", 1), ("1000.00", "2499.99", 2)]
    assert result["facets"]["manufacturer"] == [{"value": "Lenovo", "count": 1}]
    assert result["facets"]["category"] == [{"value": "Desktops", "count": 1}]
    everything = search(db, availability="discontinued")
    assert parts(everything) == ["LOG-MXK"]
    assert everything["facets"]["availability"] == [{"value": "in_stock", "count": 6},
                                                   {"value": "discontinued", "count": 1}]
    assert ranges(everything) == [("100.00", "249.99", 1)]
    # HP-E24 (USD) is in no range; a range's own bounds select what it counts
    assert ranges(search(db)) == [("100.00", "249.99", 1), ("500.00", "999.99", 2),
                                  ("1000.00", "2499.99", 3)]
    assert search(db, price_min="1000.00", price_max="2499.99")["total"] == 3
