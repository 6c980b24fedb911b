"""Loading the catalog: CSV and CIF 3.0, bad lines rejected with their line numbers while the
good ones load, re-imports updating in place, catalog_changed, and batches."""
import io

import pytest
from sqlalchemy import func, select

from services.catalog import importer
from services.catalog.models import Product
from services.common.errors import Forbidden, Invalid
from tests.unit.catalog import replies
from tests.unit.catalog.support import BUYER, STAFF, events

HEADER = "part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability"

CSV = HEADER + """
NEW-1,M-1,Dell,Notebooks,Dell Latitude 7450,"Business notebook, 14 in",2149.00,CAD,en,in_stock
NEW-2,M-2,HP,Printers,HP LaserJet Pro 4001dn,,529,cad,FR-ca,limited
,M-3,HP,Printers,No part number,,10.00,CAD,en,in_stock
NEW-4,M-4,HP,Printers,Bad price,,ten,CAD,en,in_stock
NEW-5,M-5,HP,Printers,Bad currency,,10.00,CA,en,in_stock
NEW-6,M-6,HP,Printers,Bad language,,10.00,CAD,de,in_stock
NEW-7,M-7,HP,Printers,Bad availability,,10.00,CAD,en,soon
NEW-8,M-8,HP,Printers,Too few fields
NEW 9,M-9,HP,Printers,Space in part number,,10.00,CAD,en,in_stock
NEW-10,M-10,HP,Printers,Negative,,-1,CAD,en,

NEW-11,M-11,Lenovo,Notebooks,"ThinkPad, with a comma",,1.005,CAD,,
"""


def product(db, part):
    return db.scalar(select(Product).where(Product.part_number == part))


def count(db):
    return db.scalar(select(func.count()).select_from(Product))


def test_csv_good_lines_load_bad_lines_are_reported(db):
    before = count(db)
    report = replies.import_products(db, STAFF, CSV)
    assert report["format"] == "csv"
    assert report["imported"] == 3 and report["updated"] == 0
    assert [r["line"] for r in report["rejected"]] == [4, 5, 6, 7, 8, 9, 10, 11]
    assert report["rejected_count"] == 8
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert "part_number is empty" in reasons[4]
    assert "list_price" in reasons[5] and "currency" in reasons[6] and "language" in reasons[7]
    assert "availability" in reasons[8] and "fields" in reasons[9]
    assert "part_number" in reasons[10] and "list_price" in reasons[11]
    assert count(db) == before + 3
    two = product(db, "NEW-2")
    assert two.currency == "CAD" and two.language == "fr" and two.availability == "limited"
    assert str(two.list_price) == "529.00" and two.description == ""
    eleven = product(db, "NEW-11")
    assert eleven.name == "ThinkPad, with a comma" and str(eleven.list_price) == "1.01"
    assert eleven.language == "en" and eleven.availability == "in_stock"
    assert events(db, "catalog_changed") == [{"imported": 3, "updated": 0}]


def test_reimport_updates_in_place(db):
    replies.import_products(db, STAFF, CSV)
    first_id = product(db, "NEW-1").id
    again = HEADER + "\nNEW-1,M-1,Dell,Notebooks,Dell Latitude 7450 (2025),,1999.00,CAD,en,backorder\nNEW-99,X,Dell,Notebooks,New,,1,CAD,en,in_stock\n"
    report = replies.import_products(db, STAFF, again)
    assert (report["imported"], report["updated"], report["rejected"]) == (1, 1, [])
    one = product(db, "NEW-1")
    assert one.id == first_id and one.name == "Dell Latitude 7450 (2025)"
    assert str(one.list_price) == "1999.00" and one.availability == "backorder"
    assert events(db, "catalog_changed")[-1] == {"imported": 1, "updated": 1}


def test_a_part_number_twice_in_one_file_keeps_the_last_line(db):
    text = HEADER + "\nDUP-1,A,Dell,Notebooks,First,,1,CAD,en,in_stock\nDUP-1,A,Dell,Notebooks,Second,,2,CAD,en,in_stock\n"
    report = replies.import_products(db, STAFF, text)
    assert (report["imported"], report["updated"]) == (1, 1)
    assert product(db, "DUP-1").name == "Second"


def test_columns_in_any_order_with_an_epp_price(db):
    text = ("currency,list_price,part_number,mfg_part_number,manufacturer,category,name,description,"
            "language,availability,epp_price\nCAD,100,EPP-1,E1,Apple,Notebooks,MacBook,,en,in_stock,89.50\n")
    report = replies.import_products(db, STAFF, text.encode())
    assert report["imported"] == 1
    assert str(product(db, "EPP-1").epp_price) == "89.50"


def test_a_header_without_our_columns_refuses_the_file(db):
    with pytest.raises(Invalid) as err:
        replies.import_products(db, STAFF, "sku,price\nA,1\n")
    assert err.value.code == "invalid_import_header"
    assert "Missing column: part_number." in err.value.errors["header"]
    with pytest.raises(Invalid):
        replies.import_products(db, STAFF, "\n\n")


def test_only_staff_import(db):
    with pytest.raises(Forbidden):
        replies.import_products(db, BUYER, CSV)


CIF = """CIF_I_V3.0
CHARSET: UTF-8
LOADMODE: F
CODEFORMAT: UNSPSC
CURRENCY: CAD
SUPPLIERID_DOMAIN: DUNS
ITEMCOUNT: 5
TIMESTAMP: 2026-11-22 10:00:00
UNUOM: TRUE
FIELDNAMES: Supplier ID,Supplier Part ID,Manufacturer Part ID,Item Description,SPSC Code,Unit Price,Unit of Measure,Lead Time,Manufacturer Name,Short Name,Currency,Language
DATA
942888710,CIF-LAT-7450,N7450-CA,"Dell Latitude 7450 business notebook, 14 in, 16 GB",43211503,2149.00,EA,5,Dell,Dell Latitude 7450,,en_CA
942888710,CIF-CAT-9200,C9200L-24P-4G-E,Cisco Catalyst 9200L 24-port PoE+ switch,43222612,3895.00,EA,10,Cisco,,USD,
942888710,CIF-BAD,X,Bad price,43211503,n/a,EA,5,Dell,,,
942888710,CIF-SHORT,X,Too short
942888710,CIF-UPS,,APC Smart-UPS 1500VA,39121011,1129.00,EA,5,APC,,,fr
ENDOFDATA
"""


def test_cif_maps_its_fields(db):
    report = replies.import_products(db, STAFF, CIF)
    assert report["format"] == "cif"
    assert (report["imported"], report["updated"]) == (3, 0)
    assert [r["line"] for r in report["rejected"]] == [14, 15]
    assert "list_price" in report["rejected"][0]["reason"]
    assert report["warnings"] == []
    laptop = product(db, "CIF-LAT-7450")
    assert (laptop.mfg_part_number, laptop.manufacturer, laptop.category, laptop.name) == \
        ("N7450-CA", "Dell", "Notebooks", "Dell Latitude 7450")
    assert laptop.description.startswith("Dell Latitude 7450 business notebook")
    assert (str(laptop.list_price), laptop.currency, laptop.language) == ("2149.00", "CAD", "en")
    switch = product(db, "CIF-CAT-9200")
    assert switch.category == "Networking" and switch.currency == "USD"
    assert switch.name == "Cisco Catalyst 9200L 24-port PoE+ switch"
    ups = product(db, "CIF-UPS")
    # no manufacturer part number: the supplier's stands in
    assert ups.mfg_part_number == "CIF-UPS" and ups.category == "Power" and ups.language == "fr"


def test_cif_count_and_end_are_checked(db):
    cut = CIF.replace("ITEMCOUNT: 5", "ITEMCOUNT: 7").replace("ENDOFDATA\n", "")
    report = replies.import_products(db, STAFF, cut)
    assert report["imported"] == 3
    assert any("ENDOFDATA" in w for w in report["warnings"])
    assert any("ITEMCOUNT says 7" in w for w in report["warnings"])


def test_cif_without_fieldnames_or_data_is_refused(db):
    with pytest.raises(Invalid):
        replies.import_products(db, STAFF, "CIF_I_V3.0\nCURRENCY: CAD\nDATA\nA,B\nENDOFDATA\n")
    with pytest.raises(Invalid):
        replies.import_products(db, STAFF, "CIF_I_V3.0\nFIELDNAMES: Supplier Part ID\n")


def test_streams_in_batches(db):
    rows = (f"BATCH-{i},M{i},Dell,Notebooks,Dell {i},,{i}.00,CAD,en,in_stock\n" for i in range(1, 26))
    source = io.StringIO(HEADER + "\n" + "".join(rows) + "BATCH-3,M3,Dell,Notebooks,Again,,3,CAD,en,in_stock\n")
    report = importer.load(db, source, batch_size=7)
    assert (report["imported"], report["updated"]) == (25, 1)
    assert product(db, "BATCH-3").name == "Again"


def test_commit_every_commits_as_it_goes(db, session_factory):
    rows = "".join(f"C-{i},M{i},Dell,Notebooks,Dell {i},,{i}.00,CAD,en,in_stock\n" for i in range(10))
    importer.load(db, HEADER + "\n" + rows, commit_every=4, batch_size=4)
    db.rollback()  # what was committed stays
    assert db.scalar(select(func.count()).where(Product.part_number.like("C-%"))) == 8


def test_rejected_details_are_capped(db, monkeypatch):
    monkeypatch.setattr(importer, "MAX_REJECTED", 3)
    report = importer.load(db, HEADER + "\n" + "x\n" * 10)
    assert report["rejected_count"] == 10 and len(report["rejected"]) == 3
