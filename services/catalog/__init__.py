"""Catalog: products, contracts and their prices, custom catalogs, saved searches, company
favorites, employee purchase programs and purchase history."""
