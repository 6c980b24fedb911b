"""Products by part number: a product page, a lookup of several, the authoritative prices of
a cart's lines; and the product import (importer.py) that loads them."""
from sqlalchemy import select

from services.catalog import importer
from services.catalog.domain.pricing import (PricedProduct, offers_for, priced, quote_product,
                                             tier_prices)
from services.common.access import require_staff
from services.catalog.domain.visibility import (catalogs_holding, normalise_part_number,
                                                scope_for, visible_products)
from services.catalog.models import Product
from services.common.errors import NotFound
from services.common.outbox import emit

SOURCE = "catalog"


def get_product(session, ctx, currency, part_number, today=None) -> PricedProduct:
    """One product at the caller's price, with its contract tier prices."""
    scope = scope_for(session, ctx, currency, today)
    found, allowed = visible_products(session, scope, [part_number])
    product = found.get(normalise_part_number(part_number))
    if product is None or product.id not in allowed:
        # a product outside the caller's catalogs is as absent as an unknown one
        raise NotFound("no such product", code="product_not_found")
    offers = offers_for(session, scope, [product.part_number])
    q = quote_product(scope, product, offers)
    return PricedProduct(product, q, tier_prices(session, offers.get(product.part_number, ()),
                                                 q, scope.currency))


def lookup(session, ctx, currency, part_numbers, today=None) -> dict:
    """One answer per input part number, in input order: found (with the PricedProduct)
    or not_found (unknown, or outside the caller's catalogs)."""
    scope = scope_for(session, ctx, currency, today)
    found, allowed = visible_products(session, scope, part_numbers)
    visible = [p for p in found.values() if p.id in allowed]
    products = {p.part_number: p for p in priced(session, scope, visible)}
    results = []
    for part in part_numbers:
        product = products.get(normalise_part_number(part))
        results.append({"part_number": part, "status": "found" if product else "not_found",
                        "product": product})
    return {"results": results}


def _quantity(value) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        return 1
    return quantity if quantity >= 1 else 1


def price_lines(session, ctx, currency, lines, today=None, with_catalogs=False) -> dict:
    """Authoritative prices for a whole cart in one call: per input line, in order,
    {part_number, quantity, status: ok | not_found | not_allowed | not_orderable, name,
    mfg_part_number, manufacturer, category, unit_price, price_source, on_contract}, and
    with `with_catalogs` the `catalog_ids` of the company's custom catalogs holding it."""
    scope = scope_for(session, ctx, currency, today)
    found, allowed = visible_products(session, scope, [l.get("part_number") for l in lines])
    holding = (catalogs_holding(session, scope, [p.id for p in found.values() if p.id in allowed])
               if with_catalogs else {})
    offers = offers_for(session, scope, [p.part_number for p in found.values() if p.id in allowed])
    out = []
    for line in lines:
        part = line.get("part_number")
        quantity = _quantity(line.get("quantity", 1))
        product = found.get(normalise_part_number(part))
        entry = {"part_number": part, "quantity": quantity, "status": "not_found", "name": None,
                 "mfg_part_number": None, "manufacturer": None, "category": None,
                 "unit_price": None, "price_source": None, "on_contract": False,
                 "subscription_term": None}
        if product is not None and product.id not in allowed:
            entry["status"] = "not_allowed"
        elif product is not None:
            q = quote_product(scope, product, offers, quantity)
            entry.update(status="ok" if q.orderable else "not_orderable",
                         part_number=product.part_number, name=product.name,
                         mfg_part_number=product.mfg_part_number,
                         manufacturer=product.manufacturer, category=product.category,
                         unit_price=q.unit_price.to_dict() if q.unit_price else None,
                         price_source=q.price_source, on_contract=q.on_contract,
                         subscription_term=product.subscription_term)
            if with_catalogs:
                entry["catalog_ids"] = holding.get(product.id, [])
        out.append(entry)
    return {"currency": scope.currency, "lines": out}


def existing_part_numbers(session, part_numbers) -> set:
    wanted = sorted(set(part_numbers))
    found = set()
    for i in range(0, len(wanted), 500):
        found.update(session.scalars(select(Product.part_number).where(
            Product.part_number.in_(wanted[i:i + 500]))))
    return found


def import_products(session, ctx, source=None, rows=None, commit_every=None) -> dict:
    """Load a CSV or CIF 3.0 catalog from `source` (text, bytes or a file), or product
    dicts from `rows` (staff); see importer.py. Emits catalog_changed."""
    require_staff(ctx)
    if rows is not None:
        report = importer.load_rows(session, rows, commit_every=commit_every)
    else:
        report = importer.load(session, source, commit_every=commit_every)
    if report["imported"] or report["updated"]:
        emit(session, SOURCE, "catalog_changed",
             {"imported": report["imported"], "updated": report["updated"]})
    return report
