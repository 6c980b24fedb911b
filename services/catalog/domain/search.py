"""Product search: full text (fulltext.py) with filters, facets (facet_counts.py) and sorts,
each product at the caller's price, within what the caller may see (visibility.py).

A search whose catalogs (grants, catalog_id) have no rules counts, orders and pages from the
column snapshot (columns.py) and reads only the page's rows; any other search reads the ids
of its matches for the facets, counted on the snapshot (one grouped query where there is
none), and queries its page. Both give the same answer.
"""
import base64
import binascii

from sqlalchemy import select

from services.catalog import columns, facet_counts
from services.catalog.domain.pricing import effective_price, order_by_price, priced
from services.catalog.domain.visibility import (allows, catalog_condition, company_catalog,
                                                criteria_conditions, scope_for)
from services.catalog.fulltext import FullText, terms, tune
from services.catalog.models import Product
from services.common.context import CallerContext
from services.common.errors import Invalid

SORTS = ("relevance", "price_asc", "price_desc")
# searches with more results than this, or more full-text matches than RANK_SCAN_LIMIT,
# are in catalog order rather than ranked (see search)
RANK_LIMIT = 2000
RANK_SCAN_LIMIT = 20000
USE_COLUMNS = True  # searches may use the column snapshot (see search)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        offset = int(value)
        if kind != "o" or offset < 0:
            raise ValueError(raw)
        return offset
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("this cursor is not valid", code="invalid_cursor",
                      errors={"cursor": ["Not a cursor from a previous page."]})


def search(session, ctx: CallerContext, currency, criteria=None, limit=50, cursor=None,
           today=None, with_facets=True, grants=True, use_columns=None) -> dict:
    """Products matching `criteria` that the caller may see, priced for the caller's company:
    {items (PricedProducts), next_cursor, total, facets: {manufacturer: [{value, count}],
    category: [...], availability: [...], price: [{min, max, count}]}}.

    Criteria: q (full text over name, description, manufacturer, part_number and
    mfg_part_number), manufacturer, category, language, availability, on_contract,
    price_min and price_max (the caller's unit price, both inclusive), catalog_id, sort
    (relevance | price_asc | price_desc). Facets count the matches per manufacturer,
    category, availability and price range, each ignoring its own filter so that the other
    choices stay visible (facet_counts.py). Relevance is the full-text rank (part numbers
    weigh most, then the name) when at most RANK_LIMIT products are found (among at most
    RANK_SCAN_LIMIT full-text matches); a broader search is in catalog order, as ranking
    every match would cost more than the page is worth: the facets are how one narrows it.

    A search whose catalogs (grants, catalog_id) have no rules counts, orders and pages
    from the column snapshot (columns.py) and reads only the page's rows; any other search
    counts its facets from the ids of its matches (or in one grouped query) and queries its
    page. Both give the same answer (`use_columns=False`, or USE_COLUMNS, forces the second
    with the grouped query).
    """
    criteria = dict(criteria or {})
    sort = criteria.get("sort") or "relevance"
    if sort not in SORTS:
        raise Invalid("unknown sort", code="invalid_sort", errors={"sort": [f"One of {', '.join(SORTS)}."]})
    tune(session)
    scope = scope_for(session, ctx, currency, today, grants=grants)
    chosen = company_catalog(session, ctx, criteria["catalog_id"]) if criteria.get("catalog_id") else None
    words = terms(criteria.get("q"))
    fulltext = FullText(session, words) if words else None
    offset = decode_cursor(cursor)
    restricting = (scope.catalogs or []) + ([chosen] if chosen else [])
    if use_columns is None:
        use_columns = USE_COLUMNS
    if use_columns and with_facets and not any(c.rules for c in restricting):
        found = _search_columns(session, scope, criteria, chosen, fulltext, limit, offset)
        if found is not None:
            return found

    base = [] if scope.allowed is None else [scope.allowed]
    if chosen is not None:
        base.append(catalog_condition(session, scope, chosen))
    filters = criteria_conditions(session, scope, criteria, skip=("q",))
    result = facets(session, scope, criteria, base, fulltext, use_columns) if with_facets else {}
    query = select(Product).where(*base, *filters)
    if sort == "relevance" and fulltext and result.get("total", 0) <= RANK_LIMIT \
            and fulltext.count(session) <= RANK_SCAN_LIMIT:
        query = fulltext.ranked(query)
    elif sort == "relevance":
        query = query.where(fulltext.condition()) if fulltext else query
        query = query.order_by(Product.id)
    else:
        if fulltext:
            query = query.where(fulltext.condition())
        price = effective_price(scope)
        order = price.asc() if sort == "price_asc" else price.desc()
        query = query.order_by(order.nulls_last(), Product.id)
    rows = session.scalars(query.limit(limit + 1).offset(offset)).all()
    result.update(items=priced(session, scope, rows[:limit]),
                  next_cursor=encode_cursor(offset + limit) if len(rows) > limit else None)
    return result


def _search_columns(session, scope, criteria, chosen, fulltext, limit, offset):
    """`search` from the column snapshot; None when the snapshot cannot answer."""
    snap = columns.snapshot(session)
    if snap is None:
        return None
    ids = fulltext.ids(session) if fulltext else snap.ids
    if not snap.covers(ids):
        return None
    catalogs = scope.catalogs
    if catalogs is not None and not catalogs:
        ids = ids[:0]  # grants to catalogs that are gone: nothing
    uses_contracts = criteria.get("on_contract") is not None or any(
        (c.include or {}).get("off_contract") or (c.exclude or {}).get("off_contract")
        for c in (catalogs or []) + ([chosen] if chosen else []))
    marked = columns.on_contract_ids(session, snap, scope.company_id, scope.currency,
                                     list(scope.active_contracts)) if uses_contracts else None
    table = columns.prices(session, snap)
    if table is None:
        return None
    contract = columns.contract_prices(session, snap, scope.company_id, scope.currency,
                                       list(scope.active_contracts))
    cents, has_price = columns.unit_cents(table, ids, scope.currency, scope.epp, contract)

    def allowed(values, on_contract):
        if criteria.get("language") and values[2] != criteria["language"]:
            return False
        if criteria.get("on_contract") is not None and on_contract != criteria["on_contract"]:
            return False
        if catalogs is not None and not any(allows(c, values, on_contract) for c in catalogs):
            return False
        return chosen is None or allows(chosen, values, on_contract)

    checks = (criteria.get("language") or criteria.get("on_contract") is not None
              or catalogs is not None or chosen is not None)
    total, found_facets, shown = facet_counts.from_columns(
        snap, ids, marked, cents, has_price, criteria, allowed if checks else None, scope.currency)
    visible = ids[shown]
    sort = criteria.get("sort") or "relevance"
    if sort != "relevance":
        ordered = order_by_price(table, visible, scope.currency, scope.epp, contract,
                                 descending=sort == "price_desc")
        page = ordered[offset:offset + limit + 1].tolist()
    elif fulltext and total <= RANK_LIMIT and len(ids) <= RANK_SCAN_LIMIT:
        ranks = fulltext.ranks(session, visible)
        page = sorted(visible.tolist(), key=lambda i: (ranks[i], i))[offset:offset + limit + 1]
    else:
        page = visible[offset:offset + limit + 1].tolist()
    rows = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(page)))} if page else {}
    products = [rows[i] for i in page if i in rows]
    return {"items": priced(session, scope, products[:limit]),
            "next_cursor": encode_cursor(offset + limit) if len(products) > limit else None,
            "total": total, "facets": found_facets}


def facets(session, scope, criteria, base, fulltext, use_columns=True) -> dict:
    """Counts per manufacturer, category, availability and price range, and the total
    (facet_counts.py): on the column snapshot from the ids of the matches, or in one
    grouped query (without a snapshot, or `use_columns=False`)."""
    conds = list(base) + criteria_conditions(session, scope, criteria,
                                             skip=("q",) + facet_counts.FACETED)
    if fulltext:
        conds.append(fulltext.condition())
    snap = columns.snapshot(session) if use_columns else None
    table = columns.prices(session, snap) if snap is not None else None
    if table is not None:
        ids = columns.ids_where(session, conds)
        if snap.covers(ids):
            contract = columns.contract_prices(session, snap, scope.company_id, scope.currency,
                                               list(scope.active_contracts))
            cents, has_price = columns.unit_cents(table, ids, scope.currency, scope.epp, contract)
            total, found, _ = facet_counts.from_columns(snap, ids, None, cents, has_price,
                                                        criteria, None, scope.currency)
            return {"total": total, "facets": found}
    groups = facet_counts.sql_groups(session, scope, criteria, conds)
    total, found, _ = facet_counts.tally(groups, criteria, scope.currency)
    return {"total": total, "facets": found}
