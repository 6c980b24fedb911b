"""Reporting: a read model of orders built from events, and the reports served from it."""
