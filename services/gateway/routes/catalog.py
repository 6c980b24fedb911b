"""Gateway endpoints of the catalog service: search and product pages at the caller's
prices, contracts, custom catalogs, saved searches, company favorites, the employee purchase
program, and the back office's product import and contract creation.

Prices are in the company's currency: the access token carries it; for an older token
without it, the currency comes from identity (currencies.py).

Product pages and searches are kept by this process and answered with an ETag
(price_cache.py): catalog's price-changing events, heard on this process's broadcast queues,
and every price-changing request relayed here (applied before its reply) make them stale.
"""
from services.catalog import schemas as s
from services.common.entrypoints import broadcast_handler
from services.common.errors import DomainError, Invalid
from services.common.schemas import PageQuery
from services.gateway.api import endpoint, forward
from services.gateway.currencies import CompanyCurrencies
from services.gateway.price_cache import REPLIES, changing_prices, priced_reply, with_etag
from services.gateway.rights import AUTHENTICATED, STAFF, role

CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel",
             "application/octet-stream", "text/x-cif")


def company_currency(service, call) -> str:
    return service.currencies.of(call.ctx, service.identity_rpc)


# files up to 16 MiB (about 80,000 CSV lines) over HTTP; larger catalogs load with
# `procura import-products FILE`
IMPORT_MAX_BODY = 16 * 1024 * 1024
IMPORT_TIMEOUT = 120

class CatalogRoutes:
    currencies = CompanyCurrencies()

    # ---- what makes kept prices stale (price_cache.py)
    @broadcast_handler("catalog", "catalog_changed")
    def on_catalog_changed(self, event):
        """A product import (every company), or what one company's custom catalogs allow
        (their rules, its favorites, saved searches and purchase history) or its employee
        purchase program."""
        REPLIES.changed((event.get("payload") or {}).get("company_id"))

    @broadcast_handler("catalog", "contract_changed")
    def on_contract_changed(self, event):
        REPLIES.changed((event.get("payload") or {}).get("company_id"))

    # ---- products
    @with_etag
    @endpoint("GET", "/products", right=AUTHENTICATED, query=s.ProductSearchQuery(),
              response=s.ProductPage(), tags=("catalog",), errors=(404,))
    def search_products(self, call):
        """Full-text search with filters and facets, each product at the caller's price.
        Only products the caller's catalogs allow. `price_min` and `price_max` (both
        inclusive, in the company's currency) filter on the caller's unit price; the facets
        count matches per manufacturer, category, availability and price range."""
        currency = company_currency(self, call)
        return priced_reply(call, currency, ("search", tuple(sorted(call.query.items()))),
                            lambda: self.catalog_rpc.search(call.ctx, currency, call.query))

    @endpoint("POST", "/products/lookup", right=AUTHENTICATED, body=s.LookupBody(),
              response=s.LookupReply(), tags=("catalog",))
    def lookup_products(self, call):
        """Several part numbers at once: one result per input, in order."""
        return self.catalog_rpc.lookup(call.ctx, company_currency(self, call),
                                       call.body.get("part_numbers"))

    @with_etag
    @endpoint("GET", "/products/<path:part_number>", right=AUTHENTICATED,
              response=s.ProductDetailOut(), tags=("catalog",), errors=(404,))
    def get_product(self, call, part_number):
        """One product at the caller's price, with the contract tier prices that apply."""
        currency = company_currency(self, call)
        return priced_reply(call, currency, ("product", part_number),
                            lambda: self.catalog_rpc.get_product(call.ctx, currency, part_number))

    # ---- contracts and the employee purchase program
    list_contracts = forward("GET", "/contracts", "catalog.list_contracts", right=AUTHENTICATED,
                             query=PageQuery(), response=s.ContractPage(), tags=("catalog",),
                             passing=("page",),
                             summary=("The company's contracts: tiers, dates and status "
                                      "(scheduled, active, expired)."))

    get_epp = forward("GET", "/epp", "catalog.get_epp", right=AUTHENTICATED, response=s.EppOut(),
                      tags=("catalog",), errors=(404,),
                      summary=("The company's employee purchase program, and whether the caller "
                               "is a member."))

    # ---- custom catalogs
    list_catalogs = forward("GET", "/catalogs", "catalog.list_catalogs",
                            right=role("catalog_admin"), query=PageQuery(),
                            response=s.CatalogPage(), tags=("catalogs",), passing=("page",),
                            summary="The company's custom catalogs.")

    @endpoint("POST", "/catalogs", right=role("catalog_admin"), body=s.CatalogIn(),
              response=s.CatalogOut(), status=201, tags=("catalogs",), errors=(409,))
    def create_catalog(self, call):
        """A custom catalog: rules combined with AND, narrowed by include and exclude."""
        with changing_prices(call.ctx.company_id):
            return self.catalog_rpc.create_catalog(call.ctx, call.body)

    get_catalog = forward("GET", "/catalogs/<int:catalog_id>", "catalog.get_catalog",
                          right=role("catalog_admin"), response=s.CatalogOut(), tags=("catalogs",),
                          errors=(404,), summary="One custom catalog.")

    @endpoint("PATCH", "/catalogs/<int:catalog_id>", right=role("catalog_admin"),
              body=s.CatalogPatch(), response=s.CatalogOut(), tags=("catalogs",),
              errors=(404, 409))
    def update_catalog(self, call, catalog_id):
        """Rename a catalog or change its rules."""
        with changing_prices(call.ctx.company_id):
            return self.catalog_rpc.update_catalog(call.ctx, catalog_id, call.body)

    @endpoint("DELETE", "/catalogs/<int:catalog_id>", right=role("catalog_admin"), status=204,
              tags=("catalogs",), errors=(404,))
    def delete_catalog(self, call, catalog_id):
        """Delete a catalog; users granted only this catalog then see no products."""
        with changing_prices(call.ctx.company_id):
            self.catalog_rpc.delete_catalog(call.ctx, catalog_id)

    @endpoint("GET", "/catalogs/<int:catalog_id>/products", right=AUTHENTICATED,
              query=PageQuery(), response=s.ProductPage(), tags=("catalogs",), errors=(404,))
    def list_catalog_products(self, call, catalog_id):
        """The products a catalog allows, priced (within the caller's own catalogs, except
        for a catalog admin)."""
        return self.catalog_rpc.catalog_products(call.ctx, company_currency(self, call),
                                                 catalog_id, **call.page())

    # ---- saved searches
    list_saved_searches = forward("GET", "/saved-searches", "catalog.list_saved_searches",
                                  right=AUTHENTICATED, query=PageQuery(),
                                  response=s.SavedSearchPage(), tags=("catalog",),
                                  passing=("page",), summary="The caller's saved searches.")

    @endpoint("POST", "/saved-searches", right=AUTHENTICATED, body=s.SavedSearchIn(),
              response=s.SavedSearchOut(), status=201, tags=("catalog",))
    def create_saved_search(self, call):
        """Name and keep advanced-search criteria."""
        with changing_prices(call.ctx.company_id):  # a catalog's rule may name the search
            return self.catalog_rpc.create_saved_search(call.ctx, call.body)

    get_saved_search = forward("GET", "/saved-searches/<int:saved_search_id>",
                               "catalog.get_saved_search", right=AUTHENTICATED,
                               response=s.SavedSearchOut(), tags=("catalog",), errors=(404,),
                               summary="One of the caller's saved searches.")

    @endpoint("DELETE", "/saved-searches/<int:saved_search_id>", right=AUTHENTICATED,
              status=204, tags=("catalog",), errors=(404,))
    def delete_saved_search(self, call, saved_search_id):
        """Delete one of the caller's saved searches."""
        with changing_prices(call.ctx.company_id):  # a catalog's rule may name the search
            self.catalog_rpc.delete_saved_search(call.ctx, saved_search_id)

    # ---- company favorites (standards)
    list_favorites = forward("GET", "/favorites", "catalog.list_favorites", right=AUTHENTICATED,
                             query=PageQuery(), response=s.FavoritePage(), tags=("catalog",),
                             passing=("page",),
                             summary=("The company's standards: products, comparisons, bundles "
                                      "and links."))

    @endpoint("POST", "/favorites", right=role("eprocurement_admin"), body=s.FavoriteIn(),
              response=s.FavoriteOut(), status=201, tags=("catalog",))
    def create_favorite(self, call):
        """Add a company standard."""
        with changing_prices(call.ctx.company_id):  # catalogs of the company's standards
            return self.catalog_rpc.create_favorite(call.ctx, call.body)

    get_favorite = forward("GET", "/favorites/<int:favorite_id>", "catalog.get_favorite",
                           right=AUTHENTICATED, response=s.FavoriteOut(), tags=("catalog",),
                           errors=(404,), summary="One company standard.")

    @endpoint("DELETE", "/favorites/<int:favorite_id>", right=role("eprocurement_admin"),
              status=204, tags=("catalog",), errors=(404,))
    def delete_favorite(self, call, favorite_id):
        """Remove a company standard."""
        with changing_prices(call.ctx.company_id):
            self.catalog_rpc.delete_favorite(call.ctx, favorite_id)

    # ---- back office
    @endpoint("POST", "/backoffice/products/import", right=STAFF, raw_body=True,
              response=s.ImportReport(), tags=("backoffice",), errors=(415,),
              max_body=IMPORT_MAX_BODY)
    def backoffice_import_products(self, call):
        """Load products from a CSV (or CIF 3.0) file: multipart field `file`, or the file
        as a text/csv body. Good lines load even when others are rejected."""
        request = call.request
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise Invalid("send the file in the multipart field `file`", code="file_required",
                              errors={"file": ["Required."]})
            data = upload.read()
        elif request.mimetype in CSV_TYPES or not request.mimetype:
            data = request.get_data(cache=True)
        else:
            raise DomainError("send text/csv, or multipart/form-data with a `file` field",
                              code="unsupported_media_type", status=415)
        # imported here: the importer's module brings numpy (catalog's search columns),
        # which the gateway would otherwise carry for a staff-only upload
        from services.catalog.importer import decode
        # an import of tens of thousands of lines takes longer than an ordinary call
        with changing_prices():
            return self.catalog_rpc.import_products(call.ctx, decode(data),
                                                    rpc_timeout=IMPORT_TIMEOUT)

    @endpoint("POST", "/backoffice/companies/<int:company_id>/contracts", right=STAFF,
              body=s.ContractIn(), response=s.ContractOut(), status=201,
              tags=("backoffice",), errors=(404,))
    def backoffice_create_contract(self, call, company_id):
        """A contract for a company, with its prices by part number (in the company's
        currency)."""
        company = self.identity_rpc.get_company(call.ctx, company_id)
        with changing_prices(company_id):
            return self.catalog_rpc.create_contract(call.ctx, company_id,
                                                    call.body,
                                                    company.get("currency"))

    @endpoint("GET", "/backoffice/companies/<int:company_id>/contracts", right=STAFF,
              query=PageQuery(), response=s.ContractPage(), tags=("backoffice",), errors=(404,))
    def backoffice_list_contracts(self, call, company_id):
        """A company's contracts, newest first: tiers, dates, status and number of prices."""
        self.identity_rpc.get_company(call.ctx, company_id)
        return self.catalog_rpc.company_contracts(call.ctx, company_id, **call.page())

    @endpoint("GET", "/backoffice/companies/<int:company_id>/epp", right=STAFF,
              response=s.EppStaffOut(), tags=("backoffice",), errors=(404,))
    def backoffice_get_epp(self, call, company_id):
        """A company's employee purchase program with its members; 404 `epp_not_found`
        when it has none."""
        self.identity_rpc.get_company(call.ctx, company_id)
        return self.catalog_rpc.company_epp(call.ctx, company_id)

    @endpoint("PUT", "/backoffice/companies/<int:company_id>/epp", right=STAFF, body=s.EppIn(),
              response=s.EppStaffOut(), tags=("backoffice",), errors=(404,))
    def backoffice_set_epp(self, call, company_id):
        """Create or replace a company's employee purchase program."""
        self.identity_rpc.get_company(call.ctx, company_id)
        with changing_prices(company_id):
            return self.catalog_rpc.set_epp(call.ctx, company_id, call.body)
