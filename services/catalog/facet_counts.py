"""What a search counts beside its page: the matches per manufacturer, category,
availability and price range, each ignoring its own filter so that the other choices stay
visible, and the price-range filter itself.

A price is the caller's unit price for one unit, as search sorts by it: the lowest active
contract price of the company in its currency, else the EPP price for a member, else the
list price; a product with no price in the company's currency has no range and is left out
by a price filter. Prices are compared in cents. The ranges have fixed edges (PRICE_EDGES,
in units of the company's currency): a range holds its lower edge up to a cent below the
next, so `price_min`/`price_max` of a range (both inclusive) select exactly what it counts.

The row queries give one grouped row per (manufacturer, category, availability, range,
within the filter) to `tally`; the column snapshot (columns.py) counts the same in array
operations over the matches (`from_columns`). Both give the same facets.
"""
from decimal import Decimal

import numpy as np
from sqlalchemy import and_, case, false, func, literal_column, not_, or_, select

from services.catalog.columns import AVAILABILITY_CODES
from services.catalog.models import AVAILABILITY, ContractPrice, Product
from services.common.money import Money

FACET_SIZE = 30
# the lower edge of each price range, in units of the company's currency; the last is open
PRICE_EDGES = (0, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
EDGE_CENTS = np.array([e * 100 for e in PRICE_EDGES], dtype=np.int64)
RANGES = len(PRICE_EDGES)
FACETED = ("manufacturer", "category", "availability", "price")


# ---------------------------------------------------------------- the filter

def cents(amount) -> int:
    return int((Decimal(str(amount)) * 100).to_integral_value())


def price_bounds(criteria) -> tuple:
    """(lowest, highest) price in cents the criteria allow, None where open."""
    low, high = criteria.get("price_min"), criteria.get("price_max")
    return (cents(low) if low is not None else None, cents(high) if high is not None else None)


def filters_price(criteria) -> bool:
    return price_bounds(criteria) != (None, None)


def _amount(cents_: int):
    return literal_column(f"{cents_ // 100}.{cents_ % 100:02d}")


def _between(column, low, high):
    conds = []
    if low is not None:
        conds.append(column >= _amount(low))
    if high is not None:
        conds.append(column <= _amount(high))
    return and_(*conds)


def _contract_prices(scope):
    """Part numbers of the company's active contract prices for one unit, in its currency."""
    return (select(ContractPrice.part_number)
            .where(ContractPrice.company_id == scope.company_id,
                   ContractPrice.contract_id.in_(list(scope.active_contracts)),
                   ContractPrice.currency == scope.currency, ContractPrice.min_quantity <= 1)
            .group_by(ContractPrice.part_number))


def _catalog_price(scope):
    """The price of a product without a contract price: EPP for members, else list."""
    if scope.epp:
        return func.coalesce(Product.epp_price, Product.list_price)
    return Product.list_price


def price_conditions(scope, criteria) -> list:
    """The price-range filter as SQL conditions on products (none without a filter).
    Uncorrelated INs: each set is built once, not probed per product."""
    low, high = price_bounds(criteria)
    if low is None and high is None:
        return []
    if low is not None and high is not None and low > high:
        return [false()]
    catalog = and_(Product.currency == scope.currency, _between(_catalog_price(scope), low, high))
    if not scope.active_contracts:
        return [catalog]
    prices = _contract_prices(scope)
    within = prices.having(_between(func.min(ContractPrice.amount), low, high))
    return [or_(Product.part_number.in_(within),
                and_(not_(Product.part_number.in_(prices)), catalog))]


def unit_price_column(scope):
    """(outer join target or None, SQL price) of each product for grouping: a join on the
    company's lowest contract prices, so a whole catalog is priced in one pass."""
    catalog = case((Product.currency == scope.currency, _catalog_price(scope)))
    if not scope.active_contracts:
        return None, catalog
    lowest = (select(ContractPrice.part_number, func.min(ContractPrice.amount).label("amount"))
              .where(ContractPrice.company_id == scope.company_id,
                     ContractPrice.contract_id.in_(list(scope.active_contracts)),
                     ContractPrice.currency == scope.currency, ContractPrice.min_quantity <= 1)
              .group_by(ContractPrice.part_number).subquery("lowest_contract_price"))
    return lowest, func.coalesce(lowest.c.amount, catalog)


# ---------------------------------------------------------------- counting

def sql_groups(session, scope, criteria, conditions) -> list:
    """One grouped query over the products matching `conditions` (every filter but the
    faceted ones): (manufacturer, category, availability, range, within the price filter,
    count) rows for `tally`."""
    lowest, price = unit_price_column(scope)
    inner = select(Product.manufacturer, Product.category, Product.availability,
                   price.label("price"))
    if lowest is not None:
        inner = inner.outerjoin(lowest, lowest.c.part_number == Product.part_number)
    inner = inner.where(*conditions).subquery("matches")
    p = inner.c.price
    # literals, not parameters: the same SQL text in SELECT and GROUP BY on every driver
    number = lambda n: literal_column(str(n))  # noqa: E731
    edges = [(p < _amount(edge * 100), number(i - 1)) for i, edge in enumerate(PRICE_EDGES) if i > 0]
    bucket = case((p.is_(None), number(-1)), *edges, else_=number(RANGES - 1))
    dims = [inner.c.manufacturer, inner.c.category, inner.c.availability, bucket]
    low, high = price_bounds(criteria)
    if (low, high) != (None, None):
        within = case((_between(p, low, high), number(1)), else_=number(0))
        rows = session.execute(select(*dims, within, func.count()).group_by(*dims, within)).all()
        return [(m, c, a, b, bool(w), n) for m, c, a, b, w, n in rows]
    # without a price filter every product is within it
    rows = session.execute(select(*dims, func.count()).group_by(*dims)).all()
    return [(m, c, a, b, True, n) for m, c, a, b, n in rows]


def price_ranges_of(cents_: np.ndarray, priced: np.ndarray) -> np.ndarray:
    """The range of each price in cents (-1: not priced)."""
    ranges = np.searchsorted(EDGE_CENTS, cents_, side="right") - 1
    return np.where(priced & (ranges >= 0), ranges, -1)


def within_bounds(criteria, cents_: np.ndarray, priced: np.ndarray) -> np.ndarray:
    low, high = price_bounds(criteria)
    if low is None and high is None:
        return np.ones(len(cents_), dtype=bool)
    mask = priced.copy()
    if low is not None:
        mask &= cents_ >= low
    if high is not None:
        mask &= cents_ <= high
    return mask


def from_columns(snap, ids, marked, cents_, priced, criteria, allowed, currency) -> tuple:
    """`sql_groups` and `tally` from the column snapshot, in array operations over the
    matches: (total, facets, per id whether it is shown). `allowed(values, on_contract)`
    applies the other filters (language, on contract, catalogs) once per distinct encoded
    value, None when there are none; `marked`: sorted ids on contract, or None when no
    filter needs them."""
    shown = np.ones(len(ids), dtype=bool)
    if allowed is not None:
        keys = snap.codes(ids, marked)  # code * 2 + on contract, with `marked`
        distinct, inverse = np.unique(keys, return_inverse=True)
        split = (lambda k: (k // 2, bool(k % 2))) if marked is not None else (lambda k: (k, False))
        keep = np.fromiter((allowed(snap.decode(code), on_contract)
                            for code, on_contract in map(split, distinct.tolist())),
                           dtype=bool, count=len(distinct))
        shown = keep[inverse.reshape(-1)]
    manufacturer, category, _, availability = snap.split(snap.keys[ids].astype(np.int64))

    def chosen(values, names, wanted):
        if not wanted:
            return None
        return values == names.index(wanted) if wanted in names else np.zeros(len(ids), bool)
    masks = {"manufacturer": chosen(manufacturer, snap.manufacturers, criteria.get("manufacturer")),
             "category": chosen(category, snap.categories, criteria.get("category")),
             "availability": chosen(availability, list(AVAILABILITY_CODES), criteria.get("availability")),
             "price": within_bounds(criteria, cents_, priced) if filters_price(criteria) else None}

    def all_but(dimension):
        mask = shown.copy()
        for d, m in masks.items():
            if d != dimension and m is not None:
                mask &= m
        return mask
    counts = {}
    for dimension, values, names in (("manufacturer", manufacturer, snap.manufacturers),
                                     ("category", category, snap.categories),
                                     ("availability", availability, list(AVAILABILITY_CODES))):
        found = np.bincount(values[all_but(dimension)], minlength=len(names))
        counts[dimension] = {names[i]: int(found[i]) for i in np.flatnonzero(found).tolist()}
    ranges = price_ranges_of(cents_, priced)
    found = np.bincount(ranges[all_but("price") & (ranges >= 0)], minlength=RANGES)
    counts["price"] = {i: int(found[i]) for i in np.flatnonzero(found).tolist()}
    visible = all_but(None)
    return int(visible.sum()), facets_of(counts, currency), visible


def tally(groups, criteria, currency) -> tuple:
    """(total, facets, per group whether its products are shown) from (manufacturer,
    category, availability, range, within the price filter, count) groups."""
    wanted = {d: criteria.get(d) for d in ("manufacturer", "category", "availability")}
    counts = {d: {} for d in FACETED}
    total, shown = 0, []
    for manufacturer, category, availability, bucket, within, count in groups:
        values = {"manufacturer": manufacturer, "category": category,
                  "availability": availability, "price": bucket}
        ok = {d: not wanted[d] or values[d] == wanted[d] for d in wanted}
        ok["price"] = bool(within)
        for dimension in FACETED:
            if dimension == "price" and bucket < 0:
                continue
            if all(passed for d, passed in ok.items() if d != dimension):
                found = counts[dimension]
                found[values[dimension]] = found.get(values[dimension], 0) + count
        passes = all(ok.values())
        shown.append(passes)
        if passes:
            total += count
    return total, facets_of(counts, currency), shown


def facets_of(counts, currency) -> dict:
    """The facets of a search from its counts per dimension ({value: count}; price: {range
    index: count})."""
    return {"manufacturer": _top(counts["manufacturer"]), "category": _top(counts["category"]),
            "availability": [{"value": a, "count": counts["availability"][a]}
                             for a in AVAILABILITY if counts["availability"].get(a)],
            "price": price_ranges(counts["price"], currency)}


def _top(counts):
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
    return [{"value": v, "count": n} for v, n in ordered]


def price_ranges(counts: dict, currency) -> list:
    """[{min, max, count}] of the ranges that hold products, cheapest first; `max` is a
    cent below the next edge, null for the last range."""
    out = []
    for bucket in sorted(counts):
        upper = (Money(Decimal(PRICE_EDGES[bucket + 1]) - Decimal("0.01"), currency).to_dict()
                 if bucket + 1 < RANGES else None)
        out.append({"min": Money(Decimal(PRICE_EDGES[bucket]), currency).to_dict(),
                    "max": upper, "count": counts[bucket]})
    return out
