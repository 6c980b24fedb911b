"""Custom catalogs: each rule alone, rules combined (AND), include and exclude, and catalog
grants: a user sees the union of their catalogs everywhere; no grants, the whole catalog."""
from dataclasses import replace

import pytest

from services.catalog import schemas
from services.catalog.models import Contract
from services.common.context import CallerContext
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.catalog import replies
from tests.unit.catalog.support import ADMIN, BUYER, OTHER, TODAY, contract, parts

ALL = {"LEN-T14", "LEN-X1", "LEN-M70Q", "DEL-5450", "DEL-U2724", "HP-E24", "LOG-MXK"}


def make(db, name="C", rules=(), include=None, exclude=None, ctx=ADMIN):
    data = schemas.CatalogIn().load({"name": name, "rules": list(rules), "include": include or {},
                                     "exclude": exclude or {}})
    return replies.create_catalog(db, ctx, data)


def allowed(db, catalog):
    """The part numbers a catalog allows, as its admin previews them."""
    return set(parts(replies.catalog_products(db, ADMIN, "CAD", catalog["id"], limit=200, today=TODAY)))


def granted(*catalogs):
    return replace(BUYER, catalog_ids=[c["id"] if isinstance(c, dict) else c for c in catalogs])


def favorite(db, **data):
    return replies.create_favorite(db, ADMIN, data)


def test_no_rules_allow_everything(db):
    assert allowed(db, make(db)) == ALL


def test_rule_part_numbers(db):
    assert allowed(db, make(db, rules=[{"type": "part_numbers", "part_numbers": ["len-t14", "DEL-5450"]}])) \
        == {"LEN-T14", "DEL-5450"}
    # `list` is accepted too
    assert allowed(db, make(db, "L", rules=[{"type": "part_numbers", "list": ["HP-E24"]}])) == {"HP-E24"}


def test_rule_mfg_part_numbers(db):
    assert allowed(db, make(db, rules=[{"type": "mfg_part_numbers",
                                        "mfg_part_numbers": ["MLEN-X1", "MHP-E24"]}])) == {"LEN-X1", "HP-E24"}


def test_rule_contract(db):
    first = contract(db, 1, [("LEN-T14", "1.00"), ("DEL-5450", "2.00")], name="first")
    # the contract's products whatever its dates
    second = contract(db, 1, [("HP-E24", "3.00")], starts=-30, ends=-20, name="second")
    assert allowed(db, make(db, "a", rules=[{"type": "contract", "contract_ids": [first["id"]]}])) \
        == {"LEN-T14", "DEL-5450"}
    assert allowed(db, make(db, "b", rules=[{"type": "contract",
                                             "contract_ids": [first["id"], second["id"]]}])) \
        == {"LEN-T14", "DEL-5450", "HP-E24"}


def test_rule_contract_of_another_company_is_refused(db):
    theirs = contract(db, 2, [("LEN-T14", "1.00")])
    with pytest.raises(Invalid) as err:
        make(db, rules=[{"type": "contract", "contract_ids": [theirs["id"]]}])
    assert "rules" in err.value.errors


def test_rule_standards(db):
    favorite(db, kind="product", title="Standard laptop", part_number="LEN-T14")
    favorite(db, kind="comparison", title="Monitors", part_numbers=["DEL-U2724", "HP-E24"])
    favorite(db, kind="bundle", title="Desk", lines=[{"part_number": "LOG-MXK", "quantity": 2}])
    favorite(db, kind="link", title="Policy", url="https://intranet.example/it")
    replies.create_favorite(db, OTHER, {"kind": "product", "title": "x", "part_number": "LEN-X1"})
    assert allowed(db, make(db, rules=["standards"])) == {"LEN-T14", "DEL-U2724", "HP-E24", "LOG-MXK"}


def test_rule_standards_without_favorites_allows_nothing(db):
    assert allowed(db, make(db, rules=[{"type": "standards"}])) == set()


def test_rule_purchase_history(db):
    replies.record_order(db, {"company_id": 1, "placed_at": "2026-11-01T10:00:00Z",
                             "lines": [{"part_number": "DEL-5450", "quantity": 3}]})
    replies.record_order(db, {"company_id": 2, "placed_at": "2026-11-01T10:00:00Z",
                             "lines": [{"part_number": "LEN-X1", "quantity": 1}]})
    assert allowed(db, make(db, rules=["purchase_history"])) == {"DEL-5450"}


def test_rule_saved_search(db):
    saved = replies.create_saved_search(db, BUYER, {"name": "Lenovo notebooks", "criteria": {
        "q": "thinkpad", "manufacturer": "Lenovo"}})
    catalog = make(db, rules=[{"type": "saved_search", "saved_search_id": saved["id"]}])
    assert allowed(db, catalog) == {"LEN-T14", "LEN-X1"}
    theirs = replies.create_saved_search(db, OTHER, {"name": "x", "criteria": {"q": "dell"}})
    with pytest.raises(Invalid):
        make(db, "other", rules=[{"type": "saved_search", "saved_search_id": theirs["id"]}])
    # a saved search deleted since matches nothing
    replies.delete_saved_search(db, BUYER, saved["id"])
    assert allowed(db, catalog) == set()


def test_rules_combine_with_and(db):
    contract(db, 1, [("LEN-T14", "1.00"), ("DEL-5450", "2.00"), ("HP-E24", "3.00")])
    ids = [c.id for c in db.query(Contract).filter_by(company_id=1)]
    catalog = make(db, rules=[{"type": "contract", "contract_ids": ids},
                              {"type": "part_numbers", "part_numbers": ["LEN-T14", "LEN-X1", "HP-E24"]}])
    assert allowed(db, catalog) == {"LEN-T14", "HP-E24"}


def test_include_narrows_and_exclude_removes(db, both_paths):
    assert allowed(db, make(db, "a", include={"manufacturers": ["Lenovo", "Dell"]})) \
        == {"LEN-T14", "LEN-X1", "LEN-M70Q", "DEL-5450", "DEL-U2724"}
    assert allowed(db, make(db, "b", include={"manufacturers": ["Lenovo", "Dell"],
                                              "categories": ["Notebooks"]})) \
        == {"LEN-T14", "LEN-X1", "DEL-5450"}
    assert allowed(db, make(db, "c", exclude={"categories": ["Notebooks"], "languages": ["fr"]})) \
        == {"LEN-M70Q", "HP-E24", "LOG-MXK"}
    assert allowed(db, make(db, "d", include={"languages": ["fr"]})) == {"DEL-U2724"}


def test_off_contract(db, both_paths):
    contract(db, 1, [("LEN-T14", "1.00"), ("DEL-5450", "2.00")])
    assert allowed(db, make(db, "only-contract", exclude={"off_contract": True})) == {"LEN-T14", "DEL-5450"}
    assert allowed(db, make(db, "only-off", include={"off_contract": True})) \
        == ALL - {"LEN-T14", "DEL-5450"}


def test_rules_and_filters_together(db):
    catalog = make(db, rules=[{"type": "part_numbers", "part_numbers": ["LEN-T14", "DEL-5450", "DEL-U2724"]}],
                   include={"manufacturers": ["Dell"]}, exclude={"languages": ["fr"]})
    assert allowed(db, catalog) == {"DEL-5450"}


def test_grants_union_applies_everywhere(db, both_paths):
    lenovo = make(db, "lenovo", include={"manufacturers": ["Lenovo"]})
    monitors = make(db, "monitors", include={"categories": ["Monitors"]})
    user = granted(lenovo, monitors)
    expected = {"LEN-T14", "LEN-X1", "LEN-M70Q", "DEL-U2724", "HP-E24"}
    assert set(parts(replies.search(db, user, "CAD", {}, today=TODAY))) == expected
    assert replies.search(db, user, "CAD", {}, today=TODAY)["total"] == 5
    assert replies.get_product(db, user, "CAD", "DEL-U2724", today=TODAY)["part_number"] == "DEL-U2724"
    with pytest.raises(NotFound):
        replies.get_product(db, user, "CAD", "DEL-5450", today=TODAY)
    looked = replies.lookup(db, user, "CAD", ["DEL-5450", "LEN-X1"], today=TODAY)["results"]
    assert [r["status"] for r in looked] == ["not_found", "found"]
    lines = replies.price_lines(db, user, "CAD", [{"part_number": "DEL-5450"}, {"part_number": "LEN-X1"},
                                                 {"part_number": "NOPE"}], today=TODAY)["lines"]
    assert [l["status"] for l in lines] == ["not_allowed", "ok", "not_found"]
    assert lines[0]["unit_price"] is None and lines[0]["name"] is None
    # one catalog of the grants, as a filter
    only = replies.search(db, user, "CAD", {"catalog_id": monitors["id"]}, today=TODAY)
    assert set(parts(only)) == {"DEL-U2724", "HP-E24"}


def test_no_grants_sees_the_whole_catalog(db, both_paths):
    make(db, "lenovo", include={"manufacturers": ["Lenovo"]})
    assert set(parts(replies.search(db, BUYER, "CAD", {}, today=TODAY))) == ALL


def test_grants_to_catalogs_that_are_gone_or_foreign_show_nothing(db, both_paths):
    theirs = make(db, "theirs", ctx=OTHER)
    assert parts(replies.search(db, granted(theirs), "CAD", {}, today=TODAY)) == []
    mine = make(db, "mine")
    replies.delete_catalog(db, ADMIN, mine["id"])
    assert parts(replies.search(db, granted(mine), "CAD", {}, today=TODAY)) == []


def test_a_user_previews_a_catalog_within_their_grants(db, both_paths):
    lenovo = make(db, "lenovo", include={"manufacturers": ["Lenovo"]})
    notebooks = make(db, "notebooks", include={"categories": ["Notebooks"]})
    user = granted(lenovo)
    seen = parts(replies.catalog_products(db, user, "CAD", notebooks["id"], today=TODAY))
    assert set(seen) == {"LEN-T14", "LEN-X1"}
    admin_with_grants = replace(ADMIN, catalog_ids=[lenovo["id"]])
    assert set(parts(replies.catalog_products(db, admin_with_grants, "CAD", notebooks["id"], today=TODAY))) \
        == {"LEN-T14", "LEN-X1", "DEL-5450"}


def test_catalog_crud_and_tenancy(db):
    catalog = make(db, "Laptops", rules=[{"type": "part_numbers", "part_numbers": ["LEN-T14"]}])
    with pytest.raises(Conflict):
        make(db, "Laptops")
    make(db, "Laptops", ctx=OTHER)  # names are per company
    assert [c["name"] for c in replies.list_catalogs(db, ADMIN)["items"]] == ["Laptops"]
    changed = replies.update_catalog(db, ADMIN, catalog["id"], schemas.CatalogPatch().load(
        {"name": "Notebooks", "include": {"languages": ["en"]}}))
    assert changed["name"] == "Notebooks" and changed["rules"] == catalog["rules"]
    assert changed["include"] == {"languages": ["en"]}
    for call in (lambda: replies.get_catalog(db, OTHER, catalog["id"]),
                 lambda: replies.update_catalog(db, OTHER, catalog["id"], {"name": "x"}),
                 lambda: replies.delete_catalog(db, OTHER, catalog["id"]),
                 lambda: replies.catalog_products(db, OTHER, "CAD", catalog["id"])):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(Forbidden):
        replies.list_catalogs(db, BUYER)
    with pytest.raises(Forbidden):
        make(db, "x", ctx=BUYER)
    replies.delete_catalog(db, ADMIN, catalog["id"])
    with pytest.raises(NotFound):
        replies.get_catalog(db, ADMIN, catalog["id"])


@pytest.mark.parametrize("rule", [
    {"type": "nope"}, {"type": "contract"}, {"type": "contract", "contract_ids": []},
    {"type": "part_numbers", "part_numbers": []}, {"type": "part_numbers", "part_numbers": "X"},
    {"type": "saved_search", "saved_search_id": "1"}, 42, "contract"])
def test_malformed_rules_are_refused(rule):
    with pytest.raises(schemas.ValidationError):
        schemas.CatalogIn().load({"name": "x", "rules": [rule]})


def test_unknown_filter_keys_are_refused():
    with pytest.raises(schemas.ValidationError):
        schemas.CatalogIn().load({"name": "x", "include": {"brands": ["Dell"]}})
    with pytest.raises(schemas.ValidationError):
        schemas.CatalogIn().load({"name": "x", "exclude": {"languages": ["de"]}})


def test_staff_without_company_sees_no_catalogs(db):
    with pytest.raises(Forbidden):
        replies.list_catalogs(db, CallerContext(user_id=1, staff=True))
