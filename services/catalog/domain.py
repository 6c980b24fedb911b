"""Catalog rules: the price a company pays, what a caller may see, search, custom catalogs,
contracts, company favorites, saved searches, employee purchase programs and purchase
history.

Prices (pure functions, `quote`): for a company, whose currency is fixed,
1. the lowest active contract price (today within the contract's starts_on..ends_on; several
   contracts may overlap; a contract_tier price applies from its tier's min_quantity),
   `price_source: contract`;
2. else, for a member of the company's employee purchase program, the product's EPP price,
   `price_source: epp`;
3. else the list price, `price_source: list`.
Only prices in the company's currency count: a product with none is `orderable: false`;
nothing is converted. Discontinued products are shown with their price but are not orderable.

A member of the EPP is a user of a company whose program is active today and either open to
all its users (`all_users`) or naming the user among its `user_ids` (a flag kept here, so
identity needs no EPP right).

What a caller may see: a user with catalog grants (ctx.catalog_ids) sees the union of those
custom catalogs of their company, everywhere (search, product page, lookup, price_lines);
a user without grants sees the whole catalog. A grant to a catalog that no longer exists
shows nothing.

A custom catalog is its rules combined with AND (no rules: every product), narrowed by
`include` (a product must match every criterion given) and by `exclude` (a product matching
any criterion given is removed). Criteria: manufacturers, categories, languages, and
`off_contract: true` (not on an active contract of the company).
"""
import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import numpy as np
from sqlalchemy import and_, case, false, func, not_, or_, select, true

from services.catalog import columns, facet_counts, importer
from services.catalog.models import (Contract, ContractPrice, CustomCatalog, EppProgram,
                                     Favorite, Product, PurchaseHistory, SavedSearch)
from services.catalog.search import FullText, terms, tune
from services.catalog.tier_prices import tier_prices
from services.common.context import CallerContext
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.money import Money
from services.common.outbox import emit
from services.common.paging import keyset_page

SOURCE = "catalog"
SORTS = ("relevance", "price_asc", "price_desc")
# searches with more results than this, or more full-text matches than RANK_SCAN_LIMIT,
# are in catalog order rather than ranked (see search)
RANK_LIMIT = 2000
RANK_SCAN_LIMIT = 20000
USE_COLUMNS = True  # searches may use the column snapshot (see search)


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


# =============================================================== prices (pure)

@dataclass(frozen=True)
class ContractOffer:
    """One contract price of a product for a company."""
    contract_id: int
    amount: Decimal
    currency: str
    starts_on: date
    ends_on: date
    min_quantity: int = 1
    tier: str | None = None


@dataclass(frozen=True)
class Quote:
    unit_price: Money | None
    price_source: str | None
    on_contract: bool
    orderable: bool
    contract_id: int | None = None


def contract_is_active(starts_on: date, ends_on: date, today: date) -> bool:
    return starts_on <= today <= ends_on


def contract_status(starts_on: date, ends_on: date, today: date) -> str:
    if today < starts_on:
        return "scheduled"
    return "active" if today <= ends_on else "expired"


def epp_member(program, user_id, today: date) -> bool:
    """Whether `user_id` buys at EPP prices under `program` (an EppProgram or None)."""
    if program is None or not program.active or user_id is None:
        return False
    if program.starts_on is not None and today < program.starts_on:
        return False
    if program.ends_on is not None and today > program.ends_on:
        return False
    return bool(program.all_users) or user_id in (program.user_ids or [])


def quote(list_price, list_currency, epp_price, availability, offers, currency: str,
          today: date, epp: bool = False, quantity: int = 1) -> Quote:
    """The price of one product for a company paying in `currency`."""
    best = None
    for offer in offers:
        if (offer.currency == currency and offer.min_quantity <= quantity
                and contract_is_active(offer.starts_on, offer.ends_on, today)
                and (best is None or offer.amount < best.amount)):
            best = offer
    if best is not None:
        price, source = Money(best.amount, currency), "contract"
    elif epp and epp_price is not None and list_currency == currency:
        price, source = Money(epp_price, currency), "epp"
    elif list_price is not None and list_currency == currency:
        price, source = Money(list_price, currency), "list"
    else:
        price, source = None, None
    return Quote(unit_price=price, price_source=source, on_contract=best is not None,
                 orderable=price is not None and availability != "discontinued",
                 contract_id=best.contract_id if best else None)


# =============================================================== what a caller may see

@dataclass
class Scope:
    """Everything pricing and visibility need about one caller, loaded once per request."""
    company_id: int | None
    user_id: int | None
    currency: str
    today: date
    active_contracts: dict      # contract id -> (starts_on, ends_on)
    epp: bool
    allowed: object = None      # SQL condition on products; None: the whole catalog
    catalogs: list | None = None  # the granted catalogs that exist; None: no grants


def normalise_currency(currency) -> str:
    if not isinstance(currency, str) or len(currency.strip()) != 3 or not currency.strip().isalpha():
        raise Invalid("a currency code is needed to price products", code="currency_required",
                      errors={"currency": ["Three letters, like CAD."]})
    return currency.strip().upper()


def scope_for(session, ctx: CallerContext, currency, today=None, grants=True) -> Scope:
    """The caller's prices and allowed products. `grants=False` ignores catalog grants (a
    catalog admin previewing a catalog)."""
    today = today or utc_today()
    currency = normalise_currency(currency)
    company_id = ctx.company_id
    active, epp = {}, False
    if company_id is not None:
        for c in session.execute(select(Contract.id, Contract.starts_on, Contract.ends_on).where(
                Contract.company_id == company_id, Contract.starts_on <= today,
                Contract.ends_on >= today)):
            active[c.id] = (c.starts_on, c.ends_on)
        program = session.scalar(select(EppProgram).where(EppProgram.company_id == company_id))
        epp = epp_member(program, ctx.user_id, today)
    scope = Scope(company_id, ctx.user_id, currency, today, active, epp)
    if grants and ctx.catalog_ids:
        catalogs = []
        if company_id is not None:
            catalogs = session.scalars(select(CustomCatalog).where(
                CustomCatalog.company_id == company_id,
                CustomCatalog.id.in_([int(i) for i in ctx.catalog_ids]))).all()
        scope.catalogs = list(catalogs)
        scope.allowed = or_(*[catalog_condition(session, scope, c) for c in catalogs]) \
            if catalogs else false()
    return scope


def on_contract_condition(scope: Scope):
    """Products with an active contract price of the caller's company in its currency."""
    if not scope.active_contracts:
        return false()
    # an uncorrelated IN: both engines build the set once (a correlated EXISTS could probe
    # the contract's prices once per product)
    return Product.part_number.in_(select(ContractPrice.part_number).where(
        ContractPrice.company_id == scope.company_id,
        ContractPrice.contract_id.in_(list(scope.active_contracts)),
        ContractPrice.currency == scope.currency, ContractPrice.min_quantity <= 1))


def favorite_part_numbers(session, company_id) -> set:
    parts = set()
    for kind, data in session.execute(select(Favorite.kind, Favorite.data).where(
            Favorite.company_id == company_id)):
        if kind == "product":
            parts.add(data["part_number"])
        elif kind == "comparison":
            parts.update(data["part_numbers"])
        elif kind == "bundle":
            parts.update(line["part_number"] for line in data["lines"])
    return parts


def criteria_conditions(session, scope: Scope, criteria: dict, skip=()) -> list:
    """SQL conditions for search criteria (q and the filters), except those in `skip`."""
    conds = []
    words = terms(criteria.get("q"))
    if words and "q" not in skip:
        conds.append(FullText(session, words).condition())
    for key, column in (("manufacturer", Product.manufacturer), ("category", Product.category),
                        ("language", Product.language), ("availability", Product.availability)):
        if criteria.get(key) and key not in skip:
            conds.append(column == criteria[key])
    if criteria.get("on_contract") is not None and "on_contract" not in skip:
        cond = on_contract_condition(scope)
        conds.append(cond if criteria["on_contract"] else not_(cond))
    if "price" not in skip:
        conds += facet_counts.price_conditions(scope, criteria)
    return conds


def _filter_conditions(scope, spec: dict) -> list:
    """Conditions for one include/exclude mapping, one per criterion given."""
    conds = []
    for key, column in (("manufacturers", Product.manufacturer), ("categories", Product.category),
                        ("languages", Product.language)):
        if spec.get(key):
            conds.append(column.in_(spec[key]))
    if spec.get("off_contract"):
        conds.append(not_(on_contract_condition(scope)))
    return conds


def rule_condition(session, scope: Scope, company_id, rule: dict):
    kind = rule["type"]
    if kind == "standards":
        parts = favorite_part_numbers(session, company_id)
        return Product.part_number.in_(sorted(parts)) if parts else false()
    if kind == "contract":
        return Product.part_number.in_(select(ContractPrice.part_number).where(
            ContractPrice.company_id == company_id,
            ContractPrice.contract_id.in_(rule["contract_ids"])))
    if kind == "part_numbers":
        return Product.part_number.in_(rule["part_numbers"])
    if kind == "mfg_part_numbers":
        return Product.mfg_part_number.in_(rule["mfg_part_numbers"])
    if kind == "purchase_history":
        return Product.part_number.in_(select(PurchaseHistory.part_number).where(
            PurchaseHistory.company_id == company_id))
    if kind == "saved_search":
        saved = session.scalar(select(SavedSearch).where(SavedSearch.company_id == company_id,
                                                         SavedSearch.id == rule["saved_search_id"]))
        if saved is None:  # deleted since: the rule matches nothing rather than everything
            return false()
        return and_(true(), *criteria_conditions(session, scope, saved.criteria))
    raise Invalid(f"unknown catalog rule {kind!r}", code="unknown_catalog_rule")


def catalog_condition(session, scope: Scope, catalog: CustomCatalog):
    """The products a custom catalog allows, as one SQL condition."""
    conds = [rule_condition(session, scope, catalog.company_id, r) for r in catalog.rules or []]
    conds += _filter_conditions(scope, catalog.include or {})
    excluded = _filter_conditions(scope, catalog.exclude or {})
    if excluded:
        conds.append(not_(or_(*excluded)))
    return and_(true(), *conds)


# =============================================================== products

def product_view(product: Product, q: Quote) -> dict:
    return {"part_number": product.part_number, "mfg_part_number": product.mfg_part_number,
            "manufacturer": product.manufacturer, "category": product.category,
            "name": product.name, "description": product.description,
            "language": product.language, "availability": product.availability,
            "list_price": Money(product.list_price, product.currency).to_dict(),
            "price": q.unit_price.to_dict() if q.unit_price else None,
            "price_source": q.price_source, "on_contract": q.on_contract,
            "orderable": q.orderable, "subscription_term": product.subscription_term}


def offers_for(session, scope: Scope, part_numbers) -> dict:
    """Active contract prices of the caller's company, by part number."""
    offers = {}
    parts = sorted(set(part_numbers))
    if not scope.active_contracts or not parts:
        return offers
    for i in range(0, len(parts), 500):
        rows = session.execute(select(
            ContractPrice.contract_id, ContractPrice.part_number, ContractPrice.amount,
            ContractPrice.currency, ContractPrice.min_quantity, ContractPrice.tier).where(
            ContractPrice.company_id == scope.company_id,
            ContractPrice.contract_id.in_(list(scope.active_contracts)),
            ContractPrice.part_number.in_(parts[i:i + 500])))
        for r in rows:
            starts_on, ends_on = scope.active_contracts[r.contract_id]
            offers.setdefault(r.part_number, []).append(ContractOffer(
                r.contract_id, Decimal(r.amount), r.currency, starts_on, ends_on,
                r.min_quantity, r.tier))
    return offers


def quote_product(scope: Scope, product: Product, offers, quantity=1) -> Quote:
    return quote(product.list_price, product.currency, product.epp_price, product.availability,
                 offers.get(product.part_number, ()), scope.currency, scope.today, scope.epp,
                 quantity)


def priced(session, scope: Scope, products) -> list:
    offers = offers_for(session, scope, [p.part_number for p in products])
    return [product_view(p, quote_product(scope, p, offers)) for p in products]


def effective_price(scope: Scope):
    """The caller's unit price (quantity 1) as SQL, for sorting; NULL when not priced."""
    options = []
    if scope.active_contracts:
        options.append(select(func.min(ContractPrice.amount)).where(
            ContractPrice.company_id == scope.company_id,
            ContractPrice.part_number == Product.part_number,
            ContractPrice.contract_id.in_(list(scope.active_contracts)),
            ContractPrice.currency == scope.currency,
            ContractPrice.min_quantity <= 1).scalar_subquery())
    if scope.epp:
        options.append(case((and_(Product.currency == scope.currency,
                                  Product.epp_price.is_not(None)), Product.epp_price)))
    options.append(case((Product.currency == scope.currency, Product.list_price)))
    return func.coalesce(*options) if len(options) > 1 else options[0]


def order_by_price(table: "columns.Prices", ids: np.ndarray, currency: str, epp: bool,
                   contract, descending: bool) -> np.ndarray:
    """`ids` (sorted) ordered by the caller's unit price (quantity 1): the contract price,
    else the EPP price for members, else the list price, in `currency`; unpriced products
    last, ties by id: what effective_price does in SQL, for the column snapshot."""
    cents, priced = columns.unit_cents(table, ids, currency, epp, contract)
    return ids[np.lexsort((ids, -cents if descending else cents, ~priced))]


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


def company_catalog(session, ctx, catalog_id) -> CustomCatalog:
    catalog = session.scalar(select(CustomCatalog).where(CustomCatalog.id == catalog_id,
                                                         CustomCatalog.company_id == ctx.company_id))
    if catalog is None or ctx.company_id is None:
        raise NotFound("no such catalog", code="catalog_not_found")
    return catalog


def search(session, ctx: CallerContext, currency, criteria=None, limit=50, cursor=None,
           today=None, with_facets=True, grants=True, use_columns=None) -> dict:
    """Products matching `criteria` that the caller may see, priced for the caller's company:
    {items, next_cursor, total, facets: {manufacturer: [{value, count}], category: [...],
    availability: [...], price: [{min, max, count}]}}.

    Criteria: q (full text over name, description, manufacturer, part_number and
    mfg_part_number), manufacturer, category, language, availability, on_contract,
    price_min and price_max (the caller's unit price, both inclusive), catalog_id, sort
    (relevance | price_asc | price_desc). Facets count the matches per manufacturer,
    category, availability and price range, each ignoring its own filter so that the other
    choices stay visible (facet_counts.py). Relevance is the full-text rank (part numbers weigh most, then the name)
    when at most RANK_LIMIT products are found (among at most RANK_SCAN_LIMIT full-text
    matches); a broader search is in catalog order, as ranking every match would cost more
    than the page is worth: the facets are how one narrows it.

    A search for words (in any order), whose catalogs (grants, catalog_id) have no rules,
    counts, orders and pages from the column snapshot (columns.py) and reads only the
    page's rows; any other search is one grouped query for the facets and one for the page. Both give the
    same answer (`use_columns=False`, or USE_COLUMNS, forces the second).
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
    if (use_columns and fulltext and with_facets
            and not any(c.rules for c in restricting)):
        found = _search_columns(session, scope, criteria, chosen, fulltext, limit, offset)
        if found is not None:
            return found

    base = [] if scope.allowed is None else [scope.allowed]
    if chosen is not None:
        base.append(catalog_condition(session, scope, chosen))
    filters = criteria_conditions(session, scope, criteria, skip=("q",))
    result = facets(session, scope, criteria, base, fulltext) if with_facets else {}
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


def _allows(catalog, values, on_contract) -> bool:
    """catalog_condition for a catalog without rules, on one product's column values."""
    manufacturer, category, language, _ = values
    for spec, wanted in ((catalog.include or {}, True), (catalog.exclude or {}, False)):
        hits = []
        for key, value in (("manufacturers", manufacturer), ("categories", category),
                           ("languages", language)):
            if spec.get(key):
                hits.append(value in spec[key])
        if spec.get("off_contract"):
            hits.append(not on_contract)
        if wanted and not all(hits):
            return False
        if not wanted and any(hits):
            return False
    return True


def _search_columns(session, scope, criteria, chosen, fulltext, limit, offset):
    """`search` from the column snapshot; None when the snapshot cannot answer."""
    snap = columns.snapshot(session)
    if snap is None:
        return None
    ids = fulltext.ids(session)
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
        if catalogs is not None and not any(_allows(c, values, on_contract) for c in catalogs):
            return False
        return chosen is None or _allows(chosen, values, on_contract)

    groups, group_of = facet_counts.column_groups(snap, ids, marked, cents, has_price,
                                                  criteria, allowed)
    total, found_facets, shown = facet_counts.tally(groups, criteria, scope.currency)
    visible = ids[facet_counts.shown_mask(group_of, shown)]
    sort = criteria.get("sort") or "relevance"
    if sort != "relevance":
        ordered = order_by_price(table, visible, scope.currency, scope.epp, contract,
                                      descending=sort == "price_desc")
        page = ordered[offset:offset + limit + 1].tolist()
    elif total <= RANK_LIMIT and len(ids) <= RANK_SCAN_LIMIT:
        ranks = fulltext.ranks(session, visible)
        page = sorted(visible.tolist(), key=lambda i: (ranks[i], i))[offset:offset + limit + 1]
    else:
        page = visible[offset:offset + limit + 1].tolist()
    rows = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(page)))} if page else {}
    products = [rows[i] for i in page if i in rows]
    return {"items": priced(session, scope, products[:limit]),
            "next_cursor": encode_cursor(offset + limit) if len(products) > limit else None,
            "total": total, "facets": found_facets}


def facets(session, scope, criteria, base, fulltext) -> dict:
    """Counts per manufacturer, category, availability and price range, and the total, in
    one grouped query (facet_counts.py)."""
    conds = list(base) + criteria_conditions(session, scope, criteria,
                                             skip=("q",) + facet_counts.FACETED)
    if fulltext:
        conds.append(fulltext.condition())
    groups = facet_counts.sql_groups(session, scope, criteria, conds)
    total, found, _ = facet_counts.tally(groups, criteria, scope.currency)
    return {"total": total, "facets": found}


def normalise_part_number(part_number) -> str:
    return str(part_number or "").strip().upper()


def visible_products(session, scope: Scope, part_numbers) -> tuple[dict, set]:
    """({part_number: Product}, ids of those the caller may see) for exact part numbers."""
    wanted = sorted({normalise_part_number(p) for p in part_numbers} - {""})
    found = {}
    for i in range(0, len(wanted), 500):
        for product in session.scalars(select(Product).where(Product.part_number.in_(wanted[i:i + 500]))):
            found[product.part_number] = product
    if scope.allowed is None:
        return found, {p.id for p in found.values()}
    ids = [p.id for p in found.values()]
    allowed = set()
    for i in range(0, len(ids), 500):
        allowed.update(session.scalars(select(Product.id).where(Product.id.in_(ids[i:i + 500]),
                                                                 scope.allowed)))
    return found, allowed


def get_product(session, ctx, currency, part_number, today=None) -> dict:
    """One product at the caller's price, with its contract tier prices (tier_prices.py)."""
    scope = scope_for(session, ctx, currency, today)
    found, allowed = visible_products(session, scope, [part_number])
    product = found.get(normalise_part_number(part_number))
    if product is None or product.id not in allowed:
        # a product outside the caller's catalogs is as absent as an unknown one
        raise NotFound("no such product", code="product_not_found")
    offers = offers_for(session, scope, [product.part_number])
    q = quote_product(scope, product, offers)
    return {**product_view(product, q), "tier_prices": tier_prices(
        session, scope, offers.get(product.part_number, ()), q)}


def lookup(session, ctx, currency, part_numbers, today=None) -> dict:
    """One answer per input part number, in input order: found (with the priced product)
    or not_found (unknown, or outside the caller's catalogs)."""
    scope = scope_for(session, ctx, currency, today)
    found, allowed = visible_products(session, scope, part_numbers)
    visible = [p for p in found.values() if p.id in allowed]
    views = {v["part_number"]: v for v in priced(session, scope, visible)}
    results = []
    for part in part_numbers:
        view = views.get(normalise_part_number(part))
        results.append({"part_number": part, "status": "found", "product": view} if view
                       else {"part_number": part, "status": "not_found", "product": None})
    return {"results": results}


def _quantity(value) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        return 1
    return quantity if quantity >= 1 else 1


def catalogs_holding(session, scope: Scope, product_ids) -> dict:
    """{product id: [ids of the company's custom catalogs that allow it]}: approval
    workflows have rules on "a line from these catalogs"."""
    out = {i: [] for i in product_ids}
    if scope.company_id is None or not product_ids:
        return out
    for catalog in session.scalars(select(CustomCatalog).where(
            CustomCatalog.company_id == scope.company_id).order_by(CustomCatalog.id)):
        for product_id in session.scalars(select(Product.id).where(
                Product.id.in_(list(product_ids)), catalog_condition(session, scope, catalog))):
            out[product_id].append(catalog.id)
    return out


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


# =============================================================== rights

def require_staff(ctx):
    if not ctx.staff:
        raise Forbidden("this needs reseller staff")


def require_company(ctx):
    if ctx.company_id is None:
        raise Forbidden("this needs a user of a company")


def require_role(ctx, role):
    if ctx.company_id is None or role not in ctx.roles:
        raise Forbidden(f"this needs role {role}")


def newest_first(session, query, id_column, limit, cursor, view) -> dict:
    """A page of `query`, newest first, each row shown by `view`."""
    rows, next_cursor = keyset_page(session, query, id_column, limit, cursor, descending=True)
    return {"items": [view(r) for r in rows], "next_cursor": next_cursor}


# =============================================================== contracts

def contract_view(contract: Contract, today: date, price_count: int | None = None) -> dict:
    view = {"id": contract.id, "company_id": contract.company_id, "name": contract.name,
            "starts_on": contract.starts_on.isoformat(), "ends_on": contract.ends_on.isoformat(),
            "status": contract_status(contract.starts_on, contract.ends_on, today),
            "tiers": contract.tiers or []}
    if price_count is not None:
        view["price_count"] = price_count
    return view


def existing_part_numbers(session, part_numbers) -> set:
    wanted = sorted(set(part_numbers))
    found = set()
    for i in range(0, len(wanted), 500):
        found.update(session.scalars(select(Product.part_number).where(
            Product.part_number.in_(wanted[i:i + 500]))))
    return found


def create_contract(session, ctx, company_id: int, data: dict, company_currency=None,
                    today=None) -> dict:
    """A contract for a company with its prices by part number (staff); emits
    contract_changed. `data`: {name, starts_on, ends_on (dates), tiers [{name,
    min_quantity}], prices [{part_number, price {amount, currency}, tier?}]}."""
    require_staff(ctx)
    today = today or utc_today()
    if data["ends_on"] < data["starts_on"]:
        raise Invalid("a contract ends after it starts", code="invalid_contract_dates",
                      errors={"ends_on": ["Must be on or after starts_on."]})
    tiers = {}
    for i, tier in enumerate(data.get("tiers") or []):
        if tier["name"] in tiers:
            raise Invalid("tier names must differ", errors={"tiers": {str(i): {"name": ["Repeated."]}}})
        tiers[tier["name"]] = int(tier.get("min_quantity") or 1)
    prices = data.get("prices") or []
    parts = [normalise_part_number(p["part_number"]) for p in prices]
    known = existing_part_numbers(session, parts)
    errors, seen = {}, set()
    for i, (p, part) in enumerate(zip(prices, parts)):
        problems = {}
        if part not in known:
            problems["part_number"] = ["No product has this part number."]
        tier = p.get("tier")
        if tier is not None and tier not in tiers:
            problems["tier"] = ["Not one of the contract's tiers."]
        currency = p["price"]["currency"]
        if company_currency and currency != company_currency:
            problems["price"] = [f"Prices must be in the company's currency, {company_currency}."]
        if (part, tier) in seen:
            problems["part_number"] = problems.get("part_number", []) + ["Priced twice for this tier."]
        seen.add((part, tier))
        if problems:
            errors[str(i)] = problems
    if errors:
        raise Invalid("some contract prices are not valid", code="invalid_contract_prices",
                      errors={"prices": errors})
    contract = Contract(company_id=company_id, name=data["name"], starts_on=data["starts_on"],
                        ends_on=data["ends_on"],
                        tiers=[{"name": n, "min_quantity": q} for n, q in tiers.items()])
    session.add(contract)
    session.flush()
    importer.insert_many(session, ContractPrice.__table__, [
        {"contract_id": contract.id, "company_id": company_id, "part_number": part,
         "amount": Money.from_dict(p["price"]).amount, "currency": p["price"]["currency"],
         "tier": p.get("tier"), "min_quantity": tiers.get(p.get("tier"), 1)}
        for p, part in zip(prices, parts)])
    emit(session, SOURCE, "contract_changed", {"company_id": company_id, "contract_id": contract.id})
    return contract_view(contract, today, len(prices))


def list_contracts(session, ctx, limit=50, cursor=None, today=None, company_id=None) -> dict:
    """The caller's company's contracts, newest first; staff name a company."""
    if company_id is None:
        require_company(ctx)
    else:
        require_staff(ctx)
    today = today or utc_today()
    rows, next_cursor = keyset_page(
        session, select(Contract).where(Contract.company_id == (company_id or ctx.company_id)),
        Contract.id, limit, cursor, descending=True)
    counts = dict(session.execute(select(ContractPrice.contract_id, func.count()).where(
        ContractPrice.contract_id.in_([c.id for c in rows])).group_by(ContractPrice.contract_id)).all()) \
        if rows else {}
    return {"items": [contract_view(c, today, counts.get(c.id, 0)) for c in rows],
            "next_cursor": next_cursor}


# =============================================================== employee purchase programs

def epp_view(program: EppProgram, ctx, today) -> dict:
    return {"id": program.id, "company_id": program.company_id, "name": program.name,
            "description": program.description, "active": bool(program.active),
            "starts_on": program.starts_on.isoformat() if program.starts_on else None,
            "ends_on": program.ends_on.isoformat() if program.ends_on else None,
            "all_users": bool(program.all_users), "user_ids": list(program.user_ids or []),
            "member": epp_member(program, ctx.user_id, today)}


def get_epp(session, ctx, today=None, company_id=None) -> dict:
    """The caller's company's program; staff name a company."""
    if company_id is None:
        require_company(ctx)
    else:
        require_staff(ctx)
    program = session.scalar(select(EppProgram).where(
        EppProgram.company_id == (company_id or ctx.company_id)))
    if program is None:
        raise NotFound("this company has no employee purchase program", code="epp_not_found")
    return epp_view(program, ctx, today or utc_today())


def set_epp(session, ctx, company_id: int, data: dict, today=None) -> dict:
    """Create or replace a company's employee purchase program (staff)."""
    require_staff(ctx)
    if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        raise Invalid("a program ends after it starts", errors={"ends_on": ["Must be on or after starts_on."]})
    program = session.scalar(select(EppProgram).where(EppProgram.company_id == company_id))
    if program is None:
        program = EppProgram(company_id=company_id)
        session.add(program)
    program.name = data["name"]
    program.description = data.get("description") or ""
    program.active = bool(data.get("active", True))
    program.starts_on, program.ends_on = data.get("starts_on"), data.get("ends_on")
    program.all_users = bool(data.get("all_users", False))
    program.user_ids = sorted({int(u) for u in data.get("user_ids") or []})
    session.flush()
    return epp_view(program, CallerContext(), today or utc_today())


# =============================================================== custom catalogs

def catalog_view(catalog: CustomCatalog) -> dict:
    return {"id": catalog.id, "name": catalog.name, "rules": catalog.rules or [],
            "include": catalog.include or {}, "exclude": catalog.exclude or {},
            "created_at": catalog.created_at.isoformat() + "Z",
            "updated_at": catalog.updated_at.isoformat() + "Z"}


def _check_rule_references(session, ctx, rules):
    """Contracts and saved searches named by rules must be the caller's company's."""
    errors = {}
    for i, rule in enumerate(rules):
        if rule["type"] == "contract":
            ids = set(rule["contract_ids"])
            mine = set(session.scalars(select(Contract.id).where(
                Contract.company_id == ctx.company_id, Contract.id.in_(ids))))
            if ids - mine:
                errors[str(i)] = {"contract_ids": [f"No such contract: {', '.join(map(str, sorted(ids - mine)))}."]}
        elif rule["type"] == "saved_search":
            saved = session.scalar(select(SavedSearch.id).where(
                SavedSearch.company_id == ctx.company_id, SavedSearch.id == rule["saved_search_id"]))
            if saved is None:
                errors[str(i)] = {"saved_search_id": ["No such saved search."]}
    if errors:
        raise Invalid("some catalog rules are not valid", code="invalid_catalog_rules",
                      errors={"rules": errors})


def _unique_catalog_name(session, ctx, name, except_id=None):
    query = select(CustomCatalog.id).where(CustomCatalog.company_id == ctx.company_id,
                                           CustomCatalog.name == name)
    if except_id is not None:
        query = query.where(CustomCatalog.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict("a catalog with this name exists", code="catalog_name_taken",
                       errors={"name": ["Already used by another catalog."]})


def list_catalogs(session, ctx, limit=50, cursor=None) -> dict:
    require_role(ctx, "catalog_admin")
    return newest_first(session, select(CustomCatalog).where(
        CustomCatalog.company_id == ctx.company_id), CustomCatalog.id, limit, cursor, catalog_view)


def get_catalog(session, ctx, catalog_id) -> dict:
    require_role(ctx, "catalog_admin")
    return catalog_view(company_catalog(session, ctx, catalog_id))


def create_catalog(session, ctx, data: dict) -> dict:
    """`data` as loaded by schemas.CatalogIn: {name, rules, include, exclude}."""
    require_role(ctx, "catalog_admin")
    _unique_catalog_name(session, ctx, data["name"])
    _check_rule_references(session, ctx, data.get("rules") or [])
    catalog = CustomCatalog(company_id=ctx.company_id, name=data["name"],
                            rules=data.get("rules") or [], include=data.get("include") or {},
                            exclude=data.get("exclude") or {})
    session.add(catalog)
    session.flush()
    return catalog_view(catalog)


def update_catalog(session, ctx, catalog_id, changes: dict) -> dict:
    require_role(ctx, "catalog_admin")
    catalog = company_catalog(session, ctx, catalog_id)
    if "name" in changes:
        _unique_catalog_name(session, ctx, changes["name"], except_id=catalog.id)
        catalog.name = changes["name"]
    if "rules" in changes:
        _check_rule_references(session, ctx, changes["rules"] or [])
        catalog.rules = changes["rules"] or []
    for key in ("include", "exclude"):
        if key in changes:
            setattr(catalog, key, changes[key] or {})
    catalog.updated_at = datetime.now(timezone.utc).replace(tzinfo=None)
    session.flush()
    return catalog_view(catalog)


def delete_catalog(session, ctx, catalog_id):
    require_role(ctx, "catalog_admin")
    session.delete(company_catalog(session, ctx, catalog_id))
    session.flush()


def catalog_products(session, ctx, currency, catalog_id, limit=50, cursor=None, today=None) -> dict:
    """The products a catalog allows, priced. A catalog admin sees all of them; anyone else
    sees them within their own grants."""
    company_catalog(session, ctx, catalog_id)
    return search(session, ctx, currency, {"catalog_id": catalog_id}, limit, cursor, today,
                  with_facets=False, grants=not ctx.has_role("catalog_admin"))


# =============================================================== saved searches

def saved_search_view(saved: SavedSearch) -> dict:
    return {"id": saved.id, "name": saved.name, "criteria": saved.criteria or {},
            "created_at": saved.created_at.isoformat() + "Z"}


def _own_saved_search(session, ctx, saved_search_id) -> SavedSearch:
    saved = session.scalar(select(SavedSearch).where(
        SavedSearch.id == saved_search_id, SavedSearch.company_id == ctx.company_id,
        SavedSearch.user_id == ctx.user_id))
    if saved is None or ctx.company_id is None:
        raise NotFound("no such saved search", code="saved_search_not_found")
    return saved


def list_saved_searches(session, ctx, limit=50, cursor=None) -> dict:
    require_company(ctx)
    return newest_first(session, select(SavedSearch).where(
        SavedSearch.company_id == ctx.company_id, SavedSearch.user_id == ctx.user_id),
        SavedSearch.id, limit, cursor, saved_search_view)


def get_saved_search(session, ctx, saved_search_id) -> dict:
    return saved_search_view(_own_saved_search(session, ctx, saved_search_id))


def create_saved_search(session, ctx, data: dict) -> dict:
    require_company(ctx)
    saved = SavedSearch(company_id=ctx.company_id, user_id=ctx.user_id, name=data["name"],
                        criteria={k: v for k, v in (data.get("criteria") or {}).items() if v is not None})
    session.add(saved)
    session.flush()
    return saved_search_view(saved)


def delete_saved_search(session, ctx, saved_search_id):
    session.delete(_own_saved_search(session, ctx, saved_search_id))
    session.flush()


# =============================================================== company favorites

FAVORITE_KINDS = ("product", "comparison", "bundle", "link")


def favorite_view(favorite: Favorite) -> dict:
    return {"id": favorite.id, "kind": favorite.kind, "title": favorite.title,
            **(favorite.data or {}), "created_at": favorite.created_at.isoformat() + "Z"}


def favorite_data(session, data: dict) -> dict:
    """The kind's own fields, checked: a product (part_number), a comparison of 2 to 4
    different products (part_numbers), a bundle (lines of part_number and quantity), or a
    link (an http or https url). Part numbers must name products."""
    kind = data.get("kind")
    if kind not in FAVORITE_KINDS:
        raise Invalid("unknown kind", errors={"kind": [f"One of {', '.join(FAVORITE_KINDS)}."]})
    if kind == "product":
        if not data.get("part_number"):
            raise Invalid("a product favorite names a part number", errors={"part_number": ["Required."]})
        out = {"part_number": normalise_part_number(data["part_number"])}
        parts, field = [out["part_number"]], "part_number"
    elif kind == "comparison":
        parts = [normalise_part_number(p) for p in data.get("part_numbers") or []]
        if not 2 <= len(parts) <= 4 or len(set(parts)) != len(parts):
            raise Invalid("a comparison has 2 to 4 different products",
                          errors={"part_numbers": ["Give 2 to 4 different part numbers."]})
        out, field = {"part_numbers": parts}, "part_numbers"
    elif kind == "bundle":
        lines = data.get("lines") or []
        if not lines:
            raise Invalid("a bundle has lines", errors={"lines": ["Give at least one line."]})
        out = {"lines": [{"part_number": normalise_part_number(l["part_number"]),
                          "quantity": int(l["quantity"])} for l in lines]}
        if any(l["quantity"] < 1 for l in out["lines"]):
            raise Invalid("quantities are at least 1", errors={"lines": ["Quantities are at least 1."]})
        parts, field = [l["part_number"] for l in out["lines"]], "lines"
    else:
        url = (data.get("url") or "").strip()
        if not url.lower().startswith(("http://", "https://")) or len(url) > 2000 or " " in url:
            raise Invalid("a link favorite has an http or https url", errors={"url": ["An http(s) URL."]})
        return {"url": url}
    missing = sorted(set(parts) - existing_part_numbers(session, parts))
    if missing:
        raise Invalid("unknown part numbers", code="unknown_part_numbers",
                      errors={field: [f"No product has part number {p}." for p in missing]})
    return out


def list_favorites(session, ctx, limit=50, cursor=None) -> dict:
    require_company(ctx)
    return newest_first(session, select(Favorite).where(Favorite.company_id == ctx.company_id),
                        Favorite.id, limit, cursor, favorite_view)


def _company_favorite(session, ctx, favorite_id) -> Favorite:
    favorite = session.scalar(select(Favorite).where(Favorite.id == favorite_id,
                                                     Favorite.company_id == ctx.company_id))
    if favorite is None or ctx.company_id is None:
        raise NotFound("no such favorite", code="favorite_not_found")
    return favorite


def get_favorite(session, ctx, favorite_id) -> dict:
    return favorite_view(_company_favorite(session, ctx, favorite_id))


def create_favorite(session, ctx, data: dict) -> dict:
    require_role(ctx, "eprocurement_admin")
    title = (data.get("title") or "").strip()
    if not title:
        raise Invalid("a favorite has a title", errors={"title": ["Required."]})
    favorite = Favorite(company_id=ctx.company_id, kind=data["kind"], title=title[:200],
                        data=favorite_data(session, data), created_by=ctx.user_id)
    session.add(favorite)
    session.flush()
    return favorite_view(favorite)


def delete_favorite(session, ctx, favorite_id):
    require_role(ctx, "eprocurement_admin")
    session.delete(_company_favorite(session, ctx, favorite_id))
    session.flush()


# =============================================================== purchase history

def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def record_order(session, payload: dict):
    """Add an order's lines (orders.order_placed) to its company's purchase history."""
    company_id = payload["company_id"]
    placed_at = _parse_time(payload.get("placed_at"))
    quantities = {}
    for line in payload.get("lines") or []:
        part = normalise_part_number(line.get("part_number"))
        if part:
            quantities[part] = quantities.get(part, 0) + int(line.get("quantity") or 0)
    for part, quantity in sorted(quantities.items()):
        row = session.get(PurchaseHistory, (company_id, part))
        if row is None:
            session.add(PurchaseHistory(company_id=company_id, part_number=part,
                                        last_ordered_at=placed_at, quantity=quantity, orders=1))
        else:
            row.last_ordered_at = max(row.last_ordered_at, placed_at)
            row.quantity += quantity
            row.orders += 1
    session.flush()


def purchase_history(session, ctx, limit=50, cursor=None) -> dict:
    """What the caller's company has ordered, most recent first."""
    require_company(ctx)
    offset = decode_cursor(cursor)
    rows = session.scalars(select(PurchaseHistory).where(PurchaseHistory.company_id == ctx.company_id)
                           .order_by(PurchaseHistory.last_ordered_at.desc(), PurchaseHistory.part_number)
                           .limit(limit + 1).offset(offset)).all()
    return {"items": [{"part_number": r.part_number, "last_ordered_at": r.last_ordered_at.isoformat() + "Z",
                       "quantity": r.quantity, "orders": r.orders} for r in rows[:limit]],
            "next_cursor": encode_cursor(offset + limit) if len(rows) > limit else None}
