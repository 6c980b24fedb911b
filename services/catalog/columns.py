"""A per-process snapshot of the product columns that searches filter and count on, so that
a search matching tens of thousands of products reads none of their rows.

For every product id the snapshot keeps one small integer that encodes its manufacturer,
category, language and availability (4 bytes a product: 4 MB for a million). A search then
takes the matching ids from the full-text index, counts them per encoded value (facets,
total) and keeps the page's ids, all in memory; only the page's rows are read. The database
stays the truth: the snapshot is tagged with `catalog_state.products_version`, which every
import bumps in its own transaction, and is rebuilt when the version moves. Searches that
need more than these columns (price sorts, catalogs built from rules) read rows instead
(domain.search).
"""
import threading
from array import array
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Text, cast, func, select, update

from services.catalog.models import CatalogState, ContractPrice, Product
from services.common.db import is_postgres

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
    keys: array                       # product id -> encoded (manufacturer, category, language, availability)
    manufacturers: list
    categories: list
    on_contract: dict = field(default_factory=dict)  # (company, currency, contract ids) -> ids

    def decode(self, key):
        rest, availability = divmod(key, len(AVAILABILITY_CODES))
        rest, language = divmod(rest, len(LANGUAGE_CODES))
        manufacturer, category = divmod(rest, len(self.categories) or 1)
        return (self.manufacturers[manufacturer], self.categories[category],
                LANGUAGE_CODES[language], AVAILABILITY_CODES[availability])

    def covers(self, ids) -> bool:
        return not ids or ids[-1] < len(self.keys)

    def count(self, ids, marked=None) -> Counter:
        """Matches per encoded value; with `marked` (a set of ids), per (value, id in marked)."""
        keys = self.keys
        if marked is None:
            return Counter(keys[i] for i in ids)
        return Counter((keys[i], i in marked) for i in ids)


def _split(joined):
    return [int(x) for x in joined.split(",")] if joined else []


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
    keys = array("I", bytes(4 * size))
    for manufacturer, category, language, availability, joined in rows:
        if language not in LANGUAGE_CODES or availability not in AVAILABILITY_CODES:
            return None
        key = (((m_code[manufacturer] * max(len(categories), 1) + c_code[category])
                * len(LANGUAGE_CODES) + LANGUAGE_CODES.index(language))
               * len(AVAILABILITY_CODES) + AVAILABILITY_CODES.index(availability))
        for product_id in _split(joined):
            keys[product_id] = key
    return Snapshot(version, keys, manufacturers, categories)


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


def on_contract_ids(session, snap: Snapshot, company_id, currency, contract_ids) -> set:
    """Ids of the products with a price (quantity 1, in `currency`) on these contracts.
    A contract's prices never change after it is made, so the set is kept per snapshot."""
    key = (company_id, currency, tuple(sorted(contract_ids)))
    found = snap.on_contract.get(key)
    if found is None:
        found = set()
        if contract_ids:
            found = set(session.scalars(select(Product.id).where(
                Product.part_number.in_(select(ContractPrice.part_number).where(
                    ContractPrice.company_id == company_id,
                    ContractPrice.contract_id.in_(list(contract_ids)),
                    ContractPrice.currency == currency, ContractPrice.min_quantity <= 1)))))
        if len(snap.on_contract) > 100:
            snap.on_contract.clear()
        snap.on_contract[key] = found
    return found
