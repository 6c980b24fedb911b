"""Approvals' rules on a real database."""
from sqlalchemy import select

from services.approvals import domain
from services.approvals.models import ApprovalRequest, Base

ORDER = {"order_number": "SO-0000001", "company_id": 1,
         "buyer": {"user_id": 7, "email": "b@x.test", "name": "B", "locale": "en"},
         "totals": {"total": {"amount": "25.00", "currency": "CAD"}}}


def test_order_without_rules_is_approved_once(session_factory):
    db = session_factory("approvals", Base)
    first = domain.order_placed(db, ORDER)
    again = domain.order_placed(db, ORDER)
    db.commit()
    assert first.id == again.id and first.status == "approved"
    events = db.scalars(select(Base.OutboxEvent)).all()
    assert [e.type for e in events] == ["order_approved"]
    assert events[0].payload["order_number"] == "SO-0000001"
    assert len(db.scalars(select(ApprovalRequest)).all()) == 1
