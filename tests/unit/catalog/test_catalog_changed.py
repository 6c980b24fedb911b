"""`catalog_changed` for one company, in the same transaction as the change: whatever
changes what its users may see or pay without an import or a contract (custom catalogs, the
favorites and saved searches their rules name, the first order of a part number, its
employee purchase program). Those who keep priced replies (the gateway) listen."""
from services.catalog import schemas
from tests.unit.catalog import replies
from tests.unit.catalog.support import ADMIN, OTHER, STAFF, events


def changes(db):
    return [(e["company_id"], e["what"]) for e in events(db, "catalog_changed")
            if "company_id" in e]


def test_custom_catalogs_favorites_and_saved_searches_tell_of_their_company(db):
    catalog = replies.create_catalog(db, ADMIN, schemas.CatalogIn().load({"name": "C"}))
    replies.update_catalog(db, ADMIN, catalog["id"], {"name": "D"})
    replies.delete_catalog(db, ADMIN, catalog["id"])
    favorite = replies.create_favorite(db, OTHER, {"kind": "product", "title": "x",
                                                   "part_number": "LEN-X1"})
    replies.delete_favorite(db, OTHER, favorite["id"])
    saved = replies.create_saved_search(db, ADMIN, {"name": "s", "criteria": {"q": "dell"}})
    replies.delete_saved_search(db, ADMIN, saved["id"])
    db.commit()
    assert changes(db) == [(1, "custom_catalogs")] * 3 + [(2, "favorites")] * 2 + \
        [(1, "saved_searches")] * 2


def test_the_employee_purchase_program_tells_of_its_company(db):
    replies.set_epp(db, STAFF, 2, {"name": "EPP", "all_users": True})
    db.commit()
    assert changes(db) == [(2, "epp")]


def test_only_the_first_order_of_a_part_number_changes_the_purchase_history_rule(db):
    def order(*parts):
        replies.record_order(db, {"company_id": 1, "placed_at": "2026-11-01T10:00:00Z",
                                  "lines": [{"part_number": p, "quantity": 1} for p in parts]})
    order("LEN-X1")
    order("len-x1")  # the same part number: the history allows nothing new
    order("LEN-X1", "DEL-5450")
    db.commit()
    assert changes(db) == [(1, "purchase_history")] * 2
