"""Procura: the customer portal of a B2B IT reseller, as nameko services."""
