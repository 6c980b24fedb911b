"""Catalog rules, one module a concern:

- pricing: the price a company pays (contract, EPP, list), a product's contract tier prices
- visibility: what a caller may see (catalog grants, custom catalogs' rules as SQL)
- products: product pages, lookup by part number, a cart's prices, the product import
- search: full-text search with filters, facets (facet_counts.py) and price sorts
- contracts, epp (employee purchase programs), custom_catalogs, saved_searches, favorites
  (company standards), history (purchase history from orders' events)
- changes: `catalog_changed` for one company whose visible products or prices changed

Functions take a SQLAlchemy session and the caller context, return the domain's objects
(the service dumps them through schemas.py) and never commit.
"""
