"""The catalog for e-procurement: items with UNSPSC codes at the caller's prices, and the
CIF 3.0 export read back by the product import (a round trip on a real database)."""
from sqlalchemy import select

from services.catalog import cif, importer, schemas
from services.catalog.models import Product
from tests.unit.catalog.support import BUYER, OTHER, PRODUCTS, TODAY, contract


def test_unspsc_codes_of_the_resellers_categories():
    assert cif.unspsc_code("Notebooks") == "43211503"
    assert cif.unspsc_code("Desktops") == "43211507"
    assert cif.unspsc_code("Monitors") == "43211900"
    assert cif.unspsc_code("Something else") == cif.DEFAULT_UNSPSC
    assert cif.unspsc_code("432225") == "43222500"
    for category in ("Notebooks", "Monitors", "Accessories", "Software Licenses", "Servers"):
        assert importer.unspsc_category(cif.unspsc_code(category)) == category


def test_items_at_the_callers_prices_only_orderable(db):
    contract(db, 1, [("LEN-T14", "1299.00")])
    found = schemas.ProcurementItems().dump(   # the reply as the service sends it
        cif.export(db, BUYER, "CAD", ["LEN-T14", "HP-E24", "LOG-MXK", "NOPE"], today=TODAY))
    (item,) = found["items"]   # USD-only and discontinued products are not orderable here
    assert item["part_number"] == "LEN-T14"
    assert item["price"] == {"amount": "1299.00", "currency": "CAD"}
    assert (item["unspsc"], item["unit_of_measure"]) == ("43211503", "EA")
    other = cif.export(db, OTHER, "CAD", ["LEN-T14"], today=TODAY)["items"]
    assert str(other[0].quote.unit_price.amount) == "1549.00"   # another company: the list price


def test_the_cif_export_reads_back_through_the_import(db):
    contract(db, 1, [("LEN-T14", "1299.00"), ("DEL-U2724", "499.00")])
    out = cif.export(db, BUYER, "CAD", as_cif=True, today=TODAY)
    text = out["cif"]
    lines = text.splitlines()
    assert lines[0] == "CIF_I_V3.0" and lines[-1] == "ENDOFDATA"
    assert "CURRENCY: CAD" in lines and f"ITEMCOUNT: {out['item_count']}" in lines
    assert out["item_count"] == 5   # 7 products less one in USD and one discontinued
    # read back under other part numbers, beside the originals
    again = text.replace(f"{cif.SUPPLIER_ID},", f"{cif.SUPPLIER_ID},RT-")
    report = importer.load(db, again)
    db.commit()
    assert (report["format"], report["imported"], report["rejected"], report["warnings"]) == \
        ("cif", 5, [], [])
    back = {p.part_number[3:]: p for p in db.scalars(
        select(Product).where(Product.part_number.like("RT-%")))}
    original = {p["part_number"]: p for p in PRODUCTS}
    assert len(back) == 5
    for part, p in back.items():
        o = original[part]
        assert (p.mfg_part_number, p.manufacturer, p.category, p.name, p.language) == \
            (o["mfg_part_number"], o["manufacturer"], o["category"], o["name"], o["language"]), part
        assert p.currency == "CAD"
    # the company's price is the static catalog's price
    assert str(back["LEN-T14"].list_price) == "1299.00"
    assert str(back["DEL-U2724"].list_price) == "499.00"
    assert back["DEL-U2724"].description == "Écran 27 po QHD"
