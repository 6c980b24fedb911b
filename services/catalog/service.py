"""The catalog service: entrypoints only; the rules are in domain/. Each entrypoint loads its
arguments through schemas.py, calls the domain and dumps the reply through an output schema.

Methods that price take the company's currency as `currency` (the gateway and orders pass
it; the caller context's own `currency` is the fallback). The gateway checks rights before
calling; the administrative methods check them again in the domain, so that no other caller
can skip them.
"""

from services.catalog import cif, schemas
from services.catalog.domain import (contracts, custom_catalogs, epp, favorites, history,
                                     products, saved_searches, search)
from services.catalog.indexer import SearchIndexer
from services.catalog.models import Base
from services.common.base import ServiceBase
from services.common.entrypoints import event_handler, rpc
from services.common.schemas import load, page_args

PRODUCT_PAGE = schemas.ProductPage()
CONTRACT, CONTRACT_PAGE = schemas.ContractOut(), schemas.ContractPage()
EPP, EPP_STAFF = schemas.EppOut(), schemas.EppStaffOut()
CATALOG, CATALOG_PAGE = schemas.CatalogOut(), schemas.CatalogPage()
SAVED_SEARCH, SAVED_SEARCH_PAGE = schemas.SavedSearchOut(), schemas.SavedSearchPage()
FAVORITE, FAVORITE_PAGE = schemas.FavoriteOut(), schemas.FavoritePage()


class CatalogService(ServiceBase, name="catalog", models=Base):
    indexer = SearchIndexer()  # PostgreSQL's search word lists

    # ---- products and prices
    @rpc
    def search(self, ctx, currency=None, criteria=None, limit=None, cursor=None):
        """`criteria` as the search query has them (limit and cursor among them, or given
        apart)."""
        given = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
        criteria = load(schemas.ProductSearchQuery(), {**(criteria or {}), **given})
        limit, cursor = criteria.pop("limit"), criteria.pop("cursor")
        return PRODUCT_PAGE.dump(search.search(self.db, ctx, currency or ctx.currency, criteria,
                                               limit, cursor))

    @rpc
    def get_product(self, ctx, currency, part_number):
        return schemas.ProductDetailOut().dump(
            products.get_product(self.db, ctx, currency or ctx.currency, part_number))

    @rpc
    def lookup(self, ctx, currency, part_numbers):
        body = load(schemas.LookupBody(), {"part_numbers": part_numbers})
        return schemas.LookupReply().dump(
            products.lookup(self.db, ctx, currency or ctx.currency, body["part_numbers"]))

    @rpc
    def price_lines(self, ctx, currency, lines, with_catalogs=False):
        """The prices of a whole cart in one call (orders: carts, QuickCart, checkout;
        approvals: the preview), with the custom catalogs holding each line if asked."""
        args = load(schemas.PriceLinesArgs(), {"lines": lines})
        return products.price_lines(self.db, ctx, currency or ctx.currency, args["lines"],
                                    with_catalogs=bool(with_catalogs))

    @rpc
    def procurement_catalog(self, ctx, currency, part_numbers=None, as_cif=False):
        """The caller's orderable products for e-procurement (UNSPSC code, unit of measure,
        the caller's price): {items} for some part numbers, or the whole catalog the caller
        may see as a CIF 3.0 file {cif, filename, item_count}; see cif.py."""
        if part_numbers is not None:
            part_numbers = load(schemas.LookupBody(), {"part_numbers": part_numbers})["part_numbers"]
        found = cif.export(self.db, ctx, currency or ctx.currency, part_numbers, bool(as_cif))
        return found if as_cif else schemas.ProcurementItems().dump(found)

    @rpc
    def purchase_history(self, ctx, limit=None, cursor=None):
        return schemas.PurchaseHistoryPage().dump(
            history.purchase_history(self.db, ctx, **page_args(limit, cursor)))

    # ---- back office
    @rpc
    def import_products(self, ctx, content):
        """A CSV or CIF 3.0 catalog as text; reply {format, imported, updated, rejected, ...}."""
        return schemas.ImportReport().dump(products.import_products(self.db, ctx, content))

    @rpc
    def create_contract(self, ctx, company_id, contract, company_currency=None):
        data = load(schemas.ContractIn(), contract)
        return CONTRACT.dump(contracts.create_contract(self.db, ctx, int(company_id), data,
                                                       company_currency))

    @rpc
    def set_epp(self, ctx, company_id, program):
        return EPP_STAFF.dump(epp.set_epp(self.db, ctx, int(company_id),
                                          load(schemas.EppIn(), program)))

    @rpc
    def company_contracts(self, ctx, company_id, limit=None, cursor=None):
        return CONTRACT_PAGE.dump(contracts.list_contracts(
            self.db, ctx, **page_args(limit, cursor), company_id=int(company_id)))

    @rpc
    def company_epp(self, ctx, company_id):
        return EPP_STAFF.dump(epp.get_epp(self.db, ctx, company_id=int(company_id)))

    # ---- contracts and EPP of the caller's company
    @rpc
    def list_contracts(self, ctx, limit=None, cursor=None):
        return CONTRACT_PAGE.dump(contracts.list_contracts(self.db, ctx, **page_args(limit, cursor)))

    @rpc
    def get_epp(self, ctx):
        return EPP.dump(epp.get_epp(self.db, ctx))

    # ---- custom catalogs
    @rpc
    def list_catalogs(self, ctx, limit=None, cursor=None):
        return CATALOG_PAGE.dump(custom_catalogs.list_catalogs(self.db, ctx,
                                                               **page_args(limit, cursor)))

    @rpc
    def get_catalog(self, ctx, catalog_id):
        return CATALOG.dump(custom_catalogs.get_catalog(self.db, ctx, catalog_id))

    @rpc
    def create_catalog(self, ctx, catalog):
        return CATALOG.dump(custom_catalogs.create_catalog(self.db, ctx,
                                                           load(schemas.CatalogIn(), catalog)))

    @rpc
    def update_catalog(self, ctx, catalog_id, changes):
        return CATALOG.dump(custom_catalogs.update_catalog(
            self.db, ctx, catalog_id, load(schemas.CatalogPatch(), changes, partial=True)))

    @rpc
    def delete_catalog(self, ctx, catalog_id):
        custom_catalogs.delete_catalog(self.db, ctx, catalog_id)

    @rpc
    def catalog_products(self, ctx, currency, catalog_id, limit=None, cursor=None):
        return PRODUCT_PAGE.dump(custom_catalogs.catalog_products(
            self.db, ctx, currency or ctx.currency, catalog_id, **page_args(limit, cursor)))

    # ---- saved searches (the caller's own)
    @rpc
    def list_saved_searches(self, ctx, limit=None, cursor=None):
        return SAVED_SEARCH_PAGE.dump(saved_searches.list_saved_searches(
            self.db, ctx, **page_args(limit, cursor)))

    @rpc
    def get_saved_search(self, ctx, saved_search_id):
        return SAVED_SEARCH.dump(saved_searches.get_saved_search(self.db, ctx, saved_search_id))

    @rpc
    def create_saved_search(self, ctx, saved_search):
        return SAVED_SEARCH.dump(saved_searches.create_saved_search(
            self.db, ctx, load(schemas.SavedSearchIn(), saved_search)))

    @rpc
    def delete_saved_search(self, ctx, saved_search_id):
        saved_searches.delete_saved_search(self.db, ctx, saved_search_id)

    # ---- company favorites
    @rpc
    def list_favorites(self, ctx, limit=None, cursor=None):
        return FAVORITE_PAGE.dump(favorites.list_favorites(self.db, ctx, **page_args(limit, cursor)))

    @rpc
    def get_favorite(self, ctx, favorite_id):
        return FAVORITE.dump(favorites.get_favorite(self.db, ctx, favorite_id))

    @rpc
    def create_favorite(self, ctx, favorite):
        return FAVORITE.dump(favorites.create_favorite(self.db, ctx,
                                                       load(schemas.FavoriteIn(), favorite)))

    @rpc
    def delete_favorite(self, ctx, favorite_id):
        favorites.delete_favorite(self.db, ctx, favorite_id)

    # ---- purchase history, from orders
    @event_handler("orders", "order_placed")
    def on_order_placed(self, event):
        history.record_order(self.db, event["payload"])
