"""The catalog as e-procurement systems take it: items with a UNSPSC code and a unit of
measure at the caller's prices, and the CIF 3.0 file of them (the static catalog a company
loads into SAP Ariba, Coupa or Oracle instead of punching out).

The CIF is what importer.py reads back: `CIF_I_V3.0`, the header lines (LOADMODE F,
CODEFORMAT UNSPSC, CURRENCY, SUPPLIERID_DOMAIN, ITEMCOUNT, TIMESTAMP, UNUOM, FIELDNAMES),
`DATA`, one comma-separated item per line, `ENDOFDATA`. Categories travel as UNSPSC codes:
the reseller's categories map to their UNSPSC commodity or class (the importer's table read
backwards); a category without one is exported under 43000000 (IT equipment) and so comes
back as that code.
"""
import csv
import io
from dataclasses import dataclass

from sqlalchemy import select

from services.catalog.domain.pricing import PricedProduct, ReadsThrough, priced
from services.catalog.domain.visibility import normalise_currency, scope_for, visible_products
from services.catalog.importer import UNSPSC, UNSPSC_ITEMS
from services.catalog.models import Product
from services.common.clock import utcnow

UNIT_OF_MEASURE = "EA"   # UN/CEFACT code: each unit
DEFAULT_UNSPSC = "43000000"
SUPPLIER_ID = "PROCURA"
FIELDNAMES = ("Supplier ID", "Supplier Part ID", "Manufacturer Part ID", "Item Description",
              "SPSC Code", "Unit Price", "Unit of Measure", "Lead Time", "Manufacturer Name",
              "Supplier URL", "Manufacturer URL", "Market Price", "Short Name", "Language",
              "Currency")
BATCH = 1000


def _category_codes() -> dict:
    codes = {}
    for code, name in UNSPSC_ITEMS.items():
        codes.setdefault(name, code)
    for code, name in UNSPSC.items():
        codes.setdefault(name, code + "00")
    return codes


CATEGORY_CODES = _category_codes()


def unspsc_code(category: str | None) -> str:
    """The UNSPSC code (8 digits) of one of the reseller's categories."""
    category = (category or "").strip()
    if category.isdigit() and len(category) in (6, 8):
        return category.ljust(8, "0")
    return CATEGORY_CODES.get(category, DEFAULT_UNSPSC)


@dataclass
class CatalogItem(ReadsThrough):
    """A priced product with its e-procurement fields; reads through to the PricedProduct."""
    priced: PricedProduct
    unspsc: str
    unit_of_measure: str = UNIT_OF_MEASURE
    _through = "priced"


def item(product: PricedProduct) -> CatalogItem:
    return CatalogItem(product, unspsc_code(product.category))


def items(session, ctx, currency, part_numbers=None, today=None):
    """The orderable products the caller may see, priced for the caller's company: those
    part numbers, or the whole catalog (in batches, in catalog order)."""
    scope = scope_for(session, ctx, currency, today)
    if part_numbers is not None:
        found, allowed = visible_products(session, scope, part_numbers)
        products = sorted((p for p in found.values() if p.id in allowed), key=lambda p: p.id)
        for product in priced(session, scope, products):
            if product.quote.orderable:
                yield item(product)
        return
    last = 0
    while True:
        query = select(Product).where(Product.id > last)
        if scope.allowed is not None:
            query = query.where(scope.allowed)
        rows = session.scalars(query.order_by(Product.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        for product in priced(session, scope, rows):
            if product.quote.orderable:
                yield item(product)


def render(catalog_items, currency: str, supplier_id: str = SUPPLIER_ID, now=None,
           comment: str = "") -> str:
    """The CIF 3.0 text of `catalog_items` (each priced in `currency`)."""
    rows = list(catalog_items)
    out = io.StringIO()
    stamp = (now or utcnow()).strftime("%Y-%m-%d %H:%M:%S")
    out.write("CIF_I_V3.0\r\n")
    for key, value in (("CHARSET", "UTF-8"), ("LOADMODE", "F"), ("CODEFORMAT", "UNSPSC"),
                       ("CURRENCY", currency), ("SUPPLIERID_DOMAIN", "NetworkID"),
                       ("ITEMCOUNT", str(len(rows))), ("TIMESTAMP", stamp), ("UNUOM", "TRUE"),
                       ("COMMENTS", comment.replace("\n", " ")[:200])):
        if value:
            out.write(f"{key}: {value}\r\n")
    out.write("FIELDNAMES: " + ", ".join(FIELDNAMES) + "\r\n")
    out.write("DATA\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    for r in rows:
        list_price = r.list_price
        writer.writerow([supplier_id, r.part_number, r.mfg_part_number,
                         r.description or r.name, r.unspsc, str(r.quote.unit_price.amount),
                         r.unit_of_measure, "", r.manufacturer, "", "",
                         str(list_price.amount) if list_price.currency == currency else "",
                         r.name, r.language, currency])
    out.write("ENDOFDATA\r\n")
    return out.getvalue()


def export(session, ctx, currency, part_numbers=None, as_cif=False, today=None) -> dict:
    """{items (CatalogItems)} for those part numbers, or {cif, filename, item_count} for the
    whole catalog the caller may see."""
    currency = normalise_currency(currency)
    found = items(session, ctx, currency, part_numbers, today)
    if not as_cif:
        return {"items": list(found)}
    rows = list(found)
    return {"cif": render(rows, currency, comment="Procura catalog at contract prices"),
            "filename": f"procura-catalog-{currency.lower()}.cif", "item_count": len(rows)}
