"""Catalog's domain functions with their results dumped through the output schemas the
service uses, so that the tests read the replies callers get (domain objects in, JSON-ready
dicts out) while still passing a fixed `today`."""
from services.catalog import schemas as s
from services.catalog.domain import (contracts, custom_catalogs, epp, favorites, history,
                                     products, saved_searches, search as searching)


def dumped(schema, fn):
    def call(*args, **kwargs):
        return schema.dump(fn(*args, **kwargs))
    call.__name__ = fn.__name__
    return call


search = dumped(s.ProductPage(), searching.search)
get_product = dumped(s.ProductDetailOut(), products.get_product)
lookup = dumped(s.LookupReply(), products.lookup)
price_lines = products.price_lines
import_products = dumped(s.ImportReport(), products.import_products)

create_contract = dumped(s.ContractOut(), contracts.create_contract)
list_contracts = dumped(s.ContractPage(), contracts.list_contracts)
get_epp = dumped(s.EppStaffOut(), epp.get_epp)
set_epp = dumped(s.EppStaffOut(), epp.set_epp)

list_catalogs = dumped(s.CatalogPage(), custom_catalogs.list_catalogs)
get_catalog = dumped(s.CatalogOut(), custom_catalogs.get_catalog)
create_catalog = dumped(s.CatalogOut(), custom_catalogs.create_catalog)
update_catalog = dumped(s.CatalogOut(), custom_catalogs.update_catalog)
delete_catalog = custom_catalogs.delete_catalog
catalog_products = dumped(s.ProductPage(), custom_catalogs.catalog_products)

list_saved_searches = dumped(s.SavedSearchPage(), saved_searches.list_saved_searches)
get_saved_search = dumped(s.SavedSearchOut(), saved_searches.get_saved_search)
create_saved_search = dumped(s.SavedSearchOut(), saved_searches.create_saved_search)
delete_saved_search = saved_searches.delete_saved_search

list_favorites = dumped(s.FavoritePage(), favorites.list_favorites)
get_favorite = dumped(s.FavoriteOut(), favorites.get_favorite)
create_favorite = dumped(s.FavoriteOut(), favorites.create_favorite)
delete_favorite = favorites.delete_favorite

record_order = history.record_order
purchase_history = dumped(s.PurchaseHistoryPage(), history.purchase_history)
