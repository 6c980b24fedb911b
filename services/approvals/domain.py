"""Approval rules: which placed orders need an approver, and the decisions.

A company without an active workflow that matches an order has it approved at once.
"""
from sqlalchemy import select

from services.common.outbox import emit
from services.approvals.models import ApprovalRequest, AuditEntry
from services.common.db import utcnow


def matching_rule(workflows, order):
    """The first workflow rule that this order triggers, as text, or None."""
    for workflow in workflows:
        if workflow.get("active", True):
            for rule in workflow.get("rules", []):
                if rule.get("matches", lambda o: False)(order):
                    return rule.get("text")
    return None


def order_placed(session, order, workflows=()):
    """Open an approval request for a placed order; approve it at once if no rule matches."""
    existing = session.scalar(select(ApprovalRequest).where(
        ApprovalRequest.order_number == order["order_number"]))
    if existing is not None:
        return existing
    rule = matching_rule(workflows, order)
    request = ApprovalRequest(order_number=order["order_number"], company_id=order["company_id"],
                              buyer=order["buyer"], total=order["totals"]["total"],
                              status="pending" if rule else "approved", rule=rule)
    session.add(request)
    session.flush()
    if rule is None:
        request.decided_at = utcnow()
        session.add(AuditEntry(approval_id=request.id, action="auto_approved",
                               comment="no approval rule applies"))
        emit(session, "approvals", "order_approved", {
            "approval_id": request.id, "order_number": request.order_number,
            "company_id": request.company_id, "buyer": request.buyer, "decided_by": None,
            "comment": None})
    return request
