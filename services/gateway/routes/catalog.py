"""Gateway endpoints of the catalog service: search and product pages at the caller's
prices, contracts, custom catalogs, saved searches, company favorites, the employee purchase
program, and the back office's product import and contract creation.

Prices are in the company's currency: the access token carries it; for an older token
without it, the currency comes from identity and is kept here for a minute per company (a
company's currency never changes).
"""
import time

from services.catalog import schemas as s
from services.common.errors import DomainError, Invalid
from services.common.schemas import PageQuery
from services.gateway.api import Reply, endpoint
from services.gateway.rights import AUTHENTICATED, STAFF, role

CURRENCY_SECONDS = 60.0
_currencies: dict = {}  # company id -> (currency, when fetched)
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel",
             "application/octet-stream", "text/x-cif")


def company_currency(service, call) -> str:
    if call.ctx.currency:
        return call.ctx.currency
    company_id = call.ctx.company_id
    cached = _currencies.get(company_id)
    now = time.monotonic()
    if cached is not None and now - cached[1] < CURRENCY_SECONDS:
        return cached[0]
    currency = service.identity_rpc.get_company(call.ctx)["currency"]
    _currencies[company_id] = (currency, now)
    return currency


def page(call):
    return call.query["limit"], call.query["cursor"]


# files up to 16 MiB (about 80,000 CSV lines) over HTTP; larger catalogs load with
# `procura import-products FILE`
IMPORT_MAX_BODY = 16 * 1024 * 1024
IMPORT_TIMEOUT = 120

class CatalogRoutes:
    # ---- products
    @endpoint("GET", "/products", right=AUTHENTICATED, query=s.ProductSearchQuery(),
              response=s.ProductPage(), tags=("catalog",), errors=(404,), dump=False)
    def search_products(self, call):
        """Full-text search with filters and facets, each product at the caller's price.
        Only products the caller's catalogs allow. `price_min` and `price_max` (both
        inclusive, in the company's currency) filter on the caller's unit price; the facets
        count matches per manufacturer, category, availability and price range."""
        criteria = dict(call.query)
        limit, cursor = criteria.pop("limit"), criteria.pop("cursor")
        return self.catalog_rpc.search(call.ctx, company_currency(self, call), criteria,
                                       limit, cursor)

    @endpoint("POST", "/products/lookup", right=AUTHENTICATED, body=s.LookupBody(),
              response=s.LookupReply(), tags=("catalog",), dump=False)
    def lookup_products(self, call):
        """Several part numbers at once: one result per input, in order."""
        return self.catalog_rpc.lookup(call.ctx, company_currency(self, call),
                                       call.body["part_numbers"])

    @endpoint("GET", "/products/<path:part_number>", right=AUTHENTICATED,
              response=s.ProductDetailOut(), tags=("catalog",), errors=(404,), dump=False)
    def get_product(self, call, part_number):
        """One product at the caller's price, with the contract tier prices that apply."""
        return self.catalog_rpc.get_product(call.ctx, company_currency(self, call), part_number)

    # ---- contracts and the employee purchase program
    @endpoint("GET", "/contracts", right=AUTHENTICATED, query=PageQuery(),
              response=s.ContractPage(), tags=("catalog",), dump=False)
    def list_contracts(self, call):
        """The company's contracts: tiers, dates and status (scheduled, active, expired)."""
        return self.catalog_rpc.list_contracts(call.ctx, *page(call))

    @endpoint("GET", "/epp", right=AUTHENTICATED, response=s.EppOut(), tags=("catalog",),
              errors=(404,), dump=False)
    def get_epp(self, call):
        """The company's employee purchase program, and whether the caller is a member."""
        return self.catalog_rpc.get_epp(call.ctx)

    # ---- custom catalogs
    @endpoint("GET", "/catalogs", right=role("catalog_admin"), query=PageQuery(),
              response=s.CatalogPage(), tags=("catalogs",), dump=False)
    def list_catalogs(self, call):
        """The company's custom catalogs."""
        return self.catalog_rpc.list_catalogs(call.ctx, *page(call))

    @endpoint("POST", "/catalogs", right=role("catalog_admin"), body=s.CatalogIn(),
              response=s.CatalogOut(), status=201, tags=("catalogs",), errors=(409,), dump=False)
    def create_catalog(self, call):
        """A custom catalog: rules combined with AND, narrowed by include and exclude."""
        return self.catalog_rpc.create_catalog(call.ctx, call.body)

    @endpoint("GET", "/catalogs/<int:catalog_id>", right=role("catalog_admin"),
              response=s.CatalogOut(), tags=("catalogs",), errors=(404,), dump=False)
    def get_catalog(self, call, catalog_id):
        """One custom catalog."""
        return self.catalog_rpc.get_catalog(call.ctx, catalog_id)

    @endpoint("PATCH", "/catalogs/<int:catalog_id>", right=role("catalog_admin"),
              body=s.CatalogPatch(), response=s.CatalogOut(), tags=("catalogs",),
              errors=(404, 409), dump=False)
    def update_catalog(self, call, catalog_id):
        """Rename a catalog or change its rules."""
        return self.catalog_rpc.update_catalog(call.ctx, catalog_id, call.body)

    @endpoint("DELETE", "/catalogs/<int:catalog_id>", right=role("catalog_admin"), status=204,
              tags=("catalogs",), errors=(404,))
    def delete_catalog(self, call, catalog_id):
        """Delete a catalog; users granted only this catalog then see no products."""
        self.catalog_rpc.delete_catalog(call.ctx, catalog_id)
        return Reply(status=204)

    @endpoint("GET", "/catalogs/<int:catalog_id>/products", right=AUTHENTICATED,
              query=PageQuery(), response=s.ProductPage(), tags=("catalogs",), errors=(404,), dump=False)
    def list_catalog_products(self, call, catalog_id):
        """The products a catalog allows, priced (within the caller's own catalogs, except
        for a catalog admin)."""
        return self.catalog_rpc.catalog_products(call.ctx, company_currency(self, call),
                                                 catalog_id, *page(call))

    # ---- saved searches
    @endpoint("GET", "/saved-searches", right=AUTHENTICATED, query=PageQuery(),
              response=s.SavedSearchPage(), tags=("catalog",), dump=False)
    def list_saved_searches(self, call):
        """The caller's saved searches."""
        return self.catalog_rpc.list_saved_searches(call.ctx, *page(call))

    @endpoint("POST", "/saved-searches", right=AUTHENTICATED, body=s.SavedSearchIn(),
              response=s.SavedSearchOut(), status=201, tags=("catalog",), dump=False)
    def create_saved_search(self, call):
        """Name and keep advanced-search criteria."""
        return self.catalog_rpc.create_saved_search(call.ctx, call.body)

    @endpoint("GET", "/saved-searches/<int:saved_search_id>", right=AUTHENTICATED,
              response=s.SavedSearchOut(), tags=("catalog",), errors=(404,), dump=False)
    def get_saved_search(self, call, saved_search_id):
        """One of the caller's saved searches."""
        return self.catalog_rpc.get_saved_search(call.ctx, saved_search_id)

    @endpoint("DELETE", "/saved-searches/<int:saved_search_id>", right=AUTHENTICATED,
              status=204, tags=("catalog",), errors=(404,))
    def delete_saved_search(self, call, saved_search_id):
        """Delete one of the caller's saved searches."""
        self.catalog_rpc.delete_saved_search(call.ctx, saved_search_id)
        return Reply(status=204)

    # ---- company favorites (standards)
    @endpoint("GET", "/favorites", right=AUTHENTICATED, query=PageQuery(),
              response=s.FavoritePage(), tags=("catalog",), dump=False)
    def list_favorites(self, call):
        """The company's standards: products, comparisons, bundles and links."""
        return self.catalog_rpc.list_favorites(call.ctx, *page(call))

    @endpoint("POST", "/favorites", right=role("eprocurement_admin"), body=s.FavoriteIn(),
              response=s.FavoriteOut(), status=201, tags=("catalog",), dump=False)
    def create_favorite(self, call):
        """Add a company standard."""
        return self.catalog_rpc.create_favorite(call.ctx, call.body)

    @endpoint("GET", "/favorites/<int:favorite_id>", right=AUTHENTICATED,
              response=s.FavoriteOut(), tags=("catalog",), errors=(404,), dump=False)
    def get_favorite(self, call, favorite_id):
        """One company standard."""
        return self.catalog_rpc.get_favorite(call.ctx, favorite_id)

    @endpoint("DELETE", "/favorites/<int:favorite_id>", right=role("eprocurement_admin"),
              status=204, tags=("catalog",), errors=(404,))
    def delete_favorite(self, call, favorite_id):
        """Remove a company standard."""
        self.catalog_rpc.delete_favorite(call.ctx, favorite_id)
        return Reply(status=204)

    # ---- back office
    @endpoint("POST", "/backoffice/products/import", right=STAFF, raw_body=True,
              response=s.ImportReport(), tags=("backoffice",), errors=(415,),
              max_body=IMPORT_MAX_BODY, dump=False)
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
        return self.catalog_rpc.import_products(call.ctx, decode(data), rpc_timeout=IMPORT_TIMEOUT)

    @endpoint("POST", "/backoffice/companies/<int:company_id>/contracts", right=STAFF,
              body=s.ContractIn(), response=s.ContractOut(), status=201,
              tags=("backoffice",), errors=(404,), dump=False)
    def backoffice_create_contract(self, call, company_id):
        """A contract for a company, with its prices by part number (in the company's
        currency)."""
        company = self.identity_rpc.get_company(call.ctx, company_id)
        return self.catalog_rpc.create_contract(call.ctx, company_id, s.ContractIn().dump(call.body),
                                                company.get("currency"))

    @endpoint("GET", "/backoffice/companies/<int:company_id>/contracts", right=STAFF,
              query=PageQuery(), response=s.ContractPage(), tags=("backoffice",), errors=(404,), dump=False)
    def backoffice_list_contracts(self, call, company_id):
        """A company's contracts, newest first: tiers, dates, status and number of prices."""
        self.identity_rpc.get_company(call.ctx, company_id)
        return self.catalog_rpc.company_contracts(call.ctx, company_id, *page(call))

    @endpoint("GET", "/backoffice/companies/<int:company_id>/epp", right=STAFF,
              response=s.EppStaffOut(), tags=("backoffice",), errors=(404,), dump=False)
    def backoffice_get_epp(self, call, company_id):
        """A company's employee purchase program with its members; 404 `epp_not_found`
        when it has none."""
        self.identity_rpc.get_company(call.ctx, company_id)
        return self.catalog_rpc.company_epp(call.ctx, company_id)

    @endpoint("PUT", "/backoffice/companies/<int:company_id>/epp", right=STAFF, body=s.EppIn(),
              response=s.EppStaffOut(), tags=("backoffice",), errors=(404,), dump=False)
    def backoffice_set_epp(self, call, company_id):
        """Create or replace a company's employee purchase program."""
        self.identity_rpc.get_company(call.ctx, company_id)
        return self.catalog_rpc.set_epp(call.ctx, company_id, s.EppIn().dump(call.body))
