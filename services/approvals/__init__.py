"""Approvals: purchase-authorization workflows, approval requests, decisions, audit trail."""
