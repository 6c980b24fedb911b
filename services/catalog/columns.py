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
from dataclasses import dataclass, field

import numpy as np

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
    keys: np.ndarray                  # product id -> encoded (manufacturer, category, language, availability)
    manufacturers: list
    categories: list
    on_contract: dict = field(default_factory=dict)  # (company, currency, contract ids) -> sorted ids

    def decode(self, key):
        rest, availability = divmod(key, len(AVAILABILITY_CODES))
        rest, language = divmod(rest, len(LANGUAGE_CODES))
        manufacturer, category = divmod(rest, len(self.categories) or 1)
        return (self.manufacturers[manufacturer], self.categories[category],
                LANGUAGE_CODES[language], AVAILABILITY_CODES[availability])

    def covers(self, ids) -> bool:
        return not len(ids) or ids[-1] < len(self.keys)

    def codes(self, ids, marked=None) -> np.ndarray:
        """Per id (a sorted int array), its encoded value; with `marked` (sorted ids),
        value * 2 + (id in marked)."""
        codes = self.keys[ids].astype(np.int64)
        if marked is None:
            return codes
        return codes * 2 + np.isin(ids, marked, assume_unique=True)

    def count(self, ids, marked=None) -> dict:
        """Matches per encoded value; with `marked`, per (value, id in marked)."""
        values, counts = np.unique(self.codes(ids, marked), return_counts=True)
        if marked is None:
            return dict(zip(values.tolist(), counts.tolist()))
        return {(int(v) // 2, bool(v % 2)): int(n) for v, n in zip(values, counts)}


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
    for manufacturer, category, language, availability, joined in rows:
        if language not in LANGUAGE_CODES or availability not in AVAILABILITY_CODES:
            return None
        key = (((m_code[manufacturer] * max(len(categories), 1) + c_code[category])
                * len(LANGUAGE_CODES) + LANGUAGE_CODES.index(language))
               * len(AVAILABILITY_CODES) + AVAILABILITY_CODES.index(availability))
        keys[np.fromstring(joined, dtype=np.int64, sep=",")] = key
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


def on_contract_ids(session, snap: Snapshot, company_id, currency, contract_ids) -> np.ndarray:
    """Ids of the products with a price (quantity 1, in `currency`) on these contracts.
    A contract's prices never change after it is made, so the set is kept per snapshot."""
    key = (company_id, currency, tuple(sorted(contract_ids)))
    found = snap.on_contract.get(key)
    if found is None:
        found = np.zeros(0, dtype=np.int64)
        if contract_ids:
            found = np.unique(np.array(session.scalars(select(Product.id).where(
                Product.part_number.in_(select(ContractPrice.part_number).where(
                    ContractPrice.company_id == company_id,
                    ContractPrice.contract_id.in_(list(contract_ids)),
                    ContractPrice.currency == currency, ContractPrice.min_quantity <= 1)))).all(),
                dtype=np.int64))
        if len(snap.on_contract) > 100:
            snap.on_contract.clear()
        snap.on_contract[key] = found
    return found
