"""A per-process snapshot of the product columns that searches filter and count on, so that
a search matching tens of thousands of products reads none of their rows.

For every product id the snapshot keeps one small integer that encodes its manufacturer,
category, language and availability (4 bytes a product: 4 MB for a million), and the ids of
every product (8 bytes a product). A search then takes the matching ids from the full-text
index (or every product, without words), counts them per facet and keeps the page's ids,
all in memory; only the page's rows are read. The database stays the truth: the snapshot is
tagged with `catalog_state.products_version`, which every import bumps in its own
transaction, and is rebuilt when the version moves. Prices (price sorts, the price filter
and price ranges) add the products' currencies, list and EPP prices in cents (17 bytes a
product), loaded once per snapshot, and each company's contract prices, so that they too
filter, count and order the matches in memory. Searches that need more than these columns
(catalogs built from rules) read rows for their page, and count their facets here from the
ids the rows give (`ids_where`).
"""
import threading
from dataclasses import dataclass, field

import numpy as np

from sqlalchemy import Text, cast, func, select, text, update

from services.catalog.models import CatalogState, ContractPrice, Product
from services.catalog.fulltext import find_sorted
from services.common.engines import is_postgres

LANGUAGE_CODES = ("en", "fr")
AVAILABILITY_CODES = ("in_stock", "limited", "backorder", "discontinued")
MAX_KEYS = 2 ** 32  # encoded values must fit the array's unsigned 32-bit items
_lock = threading.Lock()
_snapshots: dict = {}   # database URL -> (version, Snapshot or None)


def bump_version(session):
    """Tell every process that products changed (in the transaction that changed them)."""
    session.execute(update(CatalogState).where(CatalogState.id == 1)
                    .values(products_version=CatalogState.products_version + 1))


def current_version(session) -> int | None:
    return session.scalar(select(CatalogState.products_version).where(CatalogState.id == 1))


@dataclass
class Snapshot:
    version: int
    keys: np.ndarray                  # product id -> encoded (manufacturer, category, language, availability)
    manufacturers: list
    categories: list
    # (company, currency, contract ids) -> (sorted product ids, their lowest price in cents)
    contract_prices: dict = field(default_factory=dict)
    prices: "Prices | None" = None
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # every product's, sorted

    def decode(self, key):
        rest, availability = divmod(key, len(AVAILABILITY_CODES))
        rest, language = divmod(rest, len(LANGUAGE_CODES))
        manufacturer, category = divmod(rest, len(self.categories) or 1)
        return (self.manufacturers[manufacturer], self.categories[category],
                LANGUAGE_CODES[language], AVAILABILITY_CODES[availability])

    def split(self, codes: np.ndarray) -> tuple:
        """`decode` over an array of encoded values: (manufacturer, category, language,
        availability) arrays of indexes into manufacturers, categories, LANGUAGE_CODES and
        AVAILABILITY_CODES."""
        rest, availability = np.divmod(codes, len(AVAILABILITY_CODES))
        rest, language = np.divmod(rest, len(LANGUAGE_CODES))
        manufacturer, category = np.divmod(rest, len(self.categories) or 1)
        return manufacturer, category, language, availability

    def covers(self, ids) -> bool:
        return not len(ids) or ids[-1] < len(self.keys)

    def codes(self, ids, marked=None) -> np.ndarray:
        """Per id (a sorted int array), its encoded value; with `marked` (sorted ids),
        value * 2 + (id in marked)."""
        codes = self.keys[ids].astype(np.int64)
        if marked is None:
            return codes
        return codes * 2 + np.isin(ids, marked, assume_unique=True)


def build(session, version) -> Snapshot | None:
    ids = (func.string_agg(cast(Product.id, Text), ",") if is_postgres(session)
           else func.group_concat(Product.id))
    rows = session.execute(select(Product.manufacturer, Product.category, Product.language,
                                  Product.availability, ids)
                           .group_by(Product.manufacturer, Product.category, Product.language,
                                     Product.availability)).all()
    manufacturers = sorted({r[0] for r in rows})
    categories = sorted({r[1] for r in rows})
    if max(len(manufacturers), 1) * max(len(categories), 1) * len(LANGUAGE_CODES) \
            * len(AVAILABILITY_CODES) > MAX_KEYS:
        return None
    m_code = {m: i for i, m in enumerate(manufacturers)}
    c_code = {c: i for i, c in enumerate(categories)}
    size = (session.scalar(select(func.max(Product.id))) or 0) + 1
    keys = np.zeros(size, dtype=np.uint32)
    present = np.zeros(size, dtype=bool)
    for manufacturer, category, language, availability, joined in rows:
        if language not in LANGUAGE_CODES or availability not in AVAILABILITY_CODES:
            return None
        key = (((m_code[manufacturer] * max(len(categories), 1) + c_code[category])
                * len(LANGUAGE_CODES) + LANGUAGE_CODES.index(language))
               * len(AVAILABILITY_CODES) + AVAILABILITY_CODES.index(availability))
        found = np.fromstring(joined, dtype=np.int64, sep=",")
        keys[found] = key
        present[found] = True
    return Snapshot(version, keys, manufacturers, categories, ids=np.flatnonzero(present))


def ids_where(session, conditions) -> np.ndarray:
    """Ids of the products meeting `conditions`, ascending (int64): one aggregated string,
    not a row per product."""
    joined = (func.string_agg(cast(Product.id, Text), ",") if is_postgres(session)
              else func.group_concat(Product.id))
    text_ = session.scalar(select(joined).where(*conditions))
    if not text_:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.fromstring(text_, dtype=np.int64, sep=","))


def snapshot(session) -> Snapshot | None:
    """The snapshot of this session's database at its current version (built if needed)."""
    url = str(session.get_bind().url)
    version = current_version(session)
    if version is None:
        return None
    cached = _snapshots.get(url)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _snapshots.get(url)
        if cached is None or cached[0] != version:
            # None (values the snapshot cannot encode) is kept too, not rebuilt every time
            cached = (version, build(session, version))
            if len(_snapshots) > 4:  # tests open many databases; keep memory bounded
                _snapshots.clear()
            _snapshots[url] = cached
    return cached[1]


def contract_prices(session, snap: Snapshot, company_id, currency, contract_ids):
    """(sorted ids, lowest price in cents) of the products with a price (quantity 1, in
    `currency`) on these contracts. A contract's prices never change after it is made, so
    this is kept per snapshot."""
    key = (company_id, currency, tuple(sorted(contract_ids)))
    found = snap.contract_prices.get(key)
    if found is None:
        rows = []
        if contract_ids:
            rows = session.execute(
                select(Product.id, func.min(ContractPrice.amount))
                .join(Product, Product.part_number == ContractPrice.part_number)
                .where(ContractPrice.company_id == company_id,
                       ContractPrice.contract_id.in_(list(contract_ids)),
                       ContractPrice.currency == currency, ContractPrice.min_quantity <= 1)
                .group_by(Product.id).order_by(Product.id)).all()
        found = (np.array([r[0] for r in rows], dtype=np.int64),
                 np.array([round(r[1] * 100) for r in rows], dtype=np.int64))
        if len(snap.contract_prices) > 100:
            snap.contract_prices.clear()
        snap.contract_prices[key] = found
    return found


def on_contract_ids(session, snap: Snapshot, company_id, currency, contract_ids) -> np.ndarray:
    """Sorted ids of the products with a contract price (see contract_prices)."""
    return contract_prices(session, snap, company_id, currency, contract_ids)[0]


@dataclass
class Prices:
    currencies: list          # currency code -> index in `currency`
    currency: np.ndarray      # product id -> currency index (uint8; 255: no such product)
    list_cents: np.ndarray    # product id -> list price in cents
    epp_cents: np.ndarray     # product id -> EPP price in cents, -1: none


def _cents(column):
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def prices(session, snap: Snapshot) -> Prices | None:
    """The snapshot's price columns (loaded once per snapshot); None for more than 255
    currencies."""
    if snap.prices is not None:
        return snap.prices
    with _lock:
        if snap.prices is None:
            postgres = is_postgres(session)
            agg = (lambda e: f"string_agg(CAST({e} AS TEXT), ',')") if postgres else \
                (lambda e: f"group_concat({e})")
            # the aggregates of one group see its rows in one order, so positions match
            rows = session.execute(text(
                f"SELECT currency, {agg('id')}, {agg(_cents('list_price'))}, "
                f"{agg('COALESCE(' + _cents('epp_price') + ', -1)')} FROM products GROUP BY currency")).all()
            if len(rows) > 255:
                return None
            size = len(snap.keys)
            table = Prices({}, np.full(size, 255, dtype=np.uint8), np.zeros(size, dtype=np.int64),
                           np.full(size, -1, dtype=np.int64))
            for code, (currency, ids, list_cents, epp_cents) in enumerate(rows):
                ids = np.fromstring(ids, dtype=np.int64, sep=",")
                keep = ids < size  # products added after the snapshot: not in it
                table.currencies[currency] = code
                table.currency[ids[keep]] = code
                table.list_cents[ids[keep]] = np.fromstring(list_cents, dtype=np.int64, sep=",")[keep]
                table.epp_cents[ids[keep]] = np.fromstring(epp_cents, dtype=np.int64, sep=",")[keep]
            snap.prices = table
    return snap.prices


def unit_cents(table: Prices, ids: np.ndarray, currency: str, epp: bool, contract) -> tuple:
    """(price in cents, priced) per id: the caller's unit price for one unit (the contract
    price, else the EPP price for members, else the list price, in `currency`), as
    domain.effective_price gives it in SQL; `contract` is contract_prices' pair."""
    code = table.currencies.get(currency, -1)
    same = table.currency[ids] == code
    cents = np.where(same, table.list_cents[ids], 0)
    priced = same.copy()
    if epp:
        epp_cents = table.epp_cents[ids]
        cents = np.where(same & (epp_cents >= 0), epp_cents, cents)
    contract_ids, contract_cents = contract
    at, hit = find_sorted(contract_ids, ids)
    if hit.any():
        cents = np.where(hit, contract_cents[at], cents)
        priced |= hit
    return cents, priced
