"""The catalog service: entrypoints only; the rules are in domain.py.

Methods that price take the company's currency as `currency` (the gateway and orders pass
it; the caller context's own `currency` is the fallback). The gateway checks rights before
calling; the administrative methods check them again in the domain, so that no other caller
can skip them.
"""

from services.catalog import cif, domain, schemas
from services.catalog.indexer import SearchIndexer
from services.catalog.models import Base
from services.common.base import ServiceBase
from services.common.schemas import load
from services.common.unit_of_work import Database
from services.common.entrypoints import event_handler, rpc
from services.common.relay import OutboxRelay


def page_args(limit, cursor):
    return load(schemas.PageQuery(), {"limit": limit, "cursor": cursor})


class CatalogService(ServiceBase):
    name = "catalog"
    db = Database("catalog", Base)
    relay = OutboxRelay()
    indexer = SearchIndexer()  # PostgreSQL's search word lists

    # ---- products and prices
    @rpc
    def search(self, ctx, currency=None, criteria=None, limit=50, cursor=None):
        criteria = load(schemas.ProductSearchQuery(), {**(criteria or {}), "limit": limit,
                                                       "cursor": cursor})
        limit, cursor = criteria.pop("limit"), criteria.pop("cursor")
        return domain.search(self.db, ctx, currency or ctx.currency, criteria, limit, cursor)

    @rpc
    def get_product(self, ctx, currency, part_number):
        return domain.get_product(self.db, ctx, currency or ctx.currency, part_number)

    @rpc
    def lookup(self, ctx, currency, part_numbers):
        body = load(schemas.LookupBody(), {"part_numbers": part_numbers})
        return domain.lookup(self.db, ctx, currency or ctx.currency, body["part_numbers"])

    @rpc
    def price_lines(self, ctx, currency, lines, with_catalogs=False):
        """The prices of a whole cart in one call (orders: carts, QuickCart, checkout;
        approvals: the preview), with the custom catalogs holding each line if asked."""
        args = load(schemas.PriceLinesArgs(), {"lines": lines})
        return domain.price_lines(self.db, ctx, currency or ctx.currency, args["lines"],
                                  with_catalogs=bool(with_catalogs))

    @rpc
    def procurement_catalog(self, ctx, currency, part_numbers=None, as_cif=False):
        """The caller's orderable products for e-procurement (UNSPSC code, unit of measure,
        the caller's price): {items} for some part numbers, or the whole catalog the caller
        may see as a CIF 3.0 file {cif, filename, item_count}; see cif.py."""
        if part_numbers is not None:
            part_numbers = load(schemas.LookupBody(), {"part_numbers": part_numbers})["part_numbers"]
        return cif.export(self.db, ctx, currency or ctx.currency, part_numbers, bool(as_cif))

    @rpc
    def purchase_history(self, ctx, limit=50, cursor=None):
        return domain.purchase_history(self.db, ctx, **page_args(limit, cursor))

    # ---- back office
    @rpc
    def import_products(self, ctx, content):
        """A CSV or CIF 3.0 catalog as text; reply {format, imported, updated, rejected, ...}."""
        return domain.import_products(self.db, ctx, content)

    @rpc
    def create_contract(self, ctx, company_id, contract, company_currency=None):
        data = load(schemas.ContractIn(), contract)
        return domain.create_contract(self.db, ctx, int(company_id), data, company_currency)

    @rpc
    def set_epp(self, ctx, company_id, program):
        return domain.set_epp(self.db, ctx, int(company_id), load(schemas.EppIn(), program))

    @rpc
    def company_contracts(self, ctx, company_id, limit=50, cursor=None):
        return domain.list_contracts(self.db, ctx, **page_args(limit, cursor),
                                     company_id=int(company_id))

    @rpc
    def company_epp(self, ctx, company_id):
        return domain.get_epp(self.db, ctx, company_id=int(company_id))

    # ---- contracts and EPP of the caller's company
    @rpc
    def list_contracts(self, ctx, limit=50, cursor=None):
        return domain.list_contracts(self.db, ctx, **page_args(limit, cursor))

    @rpc
    def get_epp(self, ctx):
        return domain.get_epp(self.db, ctx)

    # ---- custom catalogs
    @rpc
    def list_catalogs(self, ctx, limit=50, cursor=None):
        return domain.list_catalogs(self.db, ctx, **page_args(limit, cursor))

    @rpc
    def get_catalog(self, ctx, catalog_id):
        return domain.get_catalog(self.db, ctx, catalog_id)

    @rpc
    def create_catalog(self, ctx, catalog):
        return domain.create_catalog(self.db, ctx, load(schemas.CatalogIn(), catalog))

    @rpc
    def update_catalog(self, ctx, catalog_id, changes):
        return domain.update_catalog(self.db, ctx, catalog_id,
                                     load(schemas.CatalogPatch(), changes, partial=True))

    @rpc
    def delete_catalog(self, ctx, catalog_id):
        domain.delete_catalog(self.db, ctx, catalog_id)

    @rpc
    def catalog_products(self, ctx, currency, catalog_id, limit=50, cursor=None):
        return domain.catalog_products(self.db, ctx, currency or ctx.currency, catalog_id,
                                       **page_args(limit, cursor))

    # ---- saved searches (the caller's own)
    @rpc
    def list_saved_searches(self, ctx, limit=50, cursor=None):
        return domain.list_saved_searches(self.db, ctx, **page_args(limit, cursor))

    @rpc
    def get_saved_search(self, ctx, saved_search_id):
        return domain.get_saved_search(self.db, ctx, saved_search_id)

    @rpc
    def create_saved_search(self, ctx, saved_search):
        return domain.create_saved_search(self.db, ctx, load(schemas.SavedSearchIn(), saved_search))

    @rpc
    def delete_saved_search(self, ctx, saved_search_id):
        domain.delete_saved_search(self.db, ctx, saved_search_id)

    # ---- company favorites
    @rpc
    def list_favorites(self, ctx, limit=50, cursor=None):
        return domain.list_favorites(self.db, ctx, **page_args(limit, cursor))

    @rpc
    def get_favorite(self, ctx, favorite_id):
        return domain.get_favorite(self.db, ctx, favorite_id)

    @rpc
    def create_favorite(self, ctx, favorite):
        return domain.create_favorite(self.db, ctx, load(schemas.FavoriteIn(), favorite))

    @rpc
    def delete_favorite(self, ctx, favorite_id):
        domain.delete_favorite(self.db, ctx, favorite_id)

    # ---- purchase history, from orders
    @event_handler("orders", "order_placed")
    def on_order_placed(self, event):
        domain.record_order(self.db, event["payload"])
