"""`catalog_changed` for one company: what its users may see or what they pay changed
without a product import or a contract (those emit their own events): its custom catalogs,
the favorites and saved searches their rules name, its purchase history (the first order of
a part number) or its employee purchase program. Whoever keeps priced replies listens
(the gateway's price_cache.py)."""
from services.common.outbox import emit

SOURCE = "catalog"


def company_catalog_changed(session, company_id: int, what: str):
    """`what`: custom_catalogs, favorites, saved_searches, purchase_history or epp."""
    emit(session, SOURCE, "catalog_changed", {"company_id": company_id, "what": what})


def removed(session, row, what: str):
    """Delete `row`, one of its company's `what`, and say so."""
    session.delete(row)
    session.flush()
    company_catalog_changed(session, row.company_id, what)
