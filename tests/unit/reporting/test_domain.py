"""Reporting's read model and the orders summary."""
from datetime import datetime

import pytest

from services.common.errors import Invalid, NotFound
from services.reporting import domain
from services.reporting.models import Base


def placed(number, company=1, total="100.00", at="2026-03-05T10:00:00Z"):
    return {"order_number": number, "company_id": company, "user_id": 7, "currency": "CAD",
            "placed_at": at, "totals": {"total": {"amount": total, "currency": "CAD"}},
            "lines": [{"part_number": "A", "quantity": 1, "manufacturer": "Dell",
                       "category": "Notebooks", "line_total": {"amount": total, "currency": "CAD"}}]}


def test_summary_groups_by_month_and_status_per_company(session_factory):
    db = session_factory("reporting", Base)
    domain.record_order_placed(db, placed("SO-1"))
    domain.record_order_placed(db, placed("SO-1"))  # a repeat changes nothing
    domain.record_order_placed(db, placed("SO-2", total="50.50"))
    domain.record_order_placed(db, placed("SO-3", company=2))
    domain.record_status(db, {"order_number": "SO-2", "status": "approved"})
    db.commit()
    rows = domain.orders_summary(db, 1)
    assert rows == [
        {"month": "2026-03", "status": "approved", "orders": 1, "total": "50.50", "currency": "CAD"},
        {"month": "2026-03", "status": "pending_approval", "orders": 1, "total": "100.00",
         "currency": "CAD"}]
    csv = domain.to_csv(domain.run_report(db, 1, "orders_summary"))
    assert csv.splitlines()[0] == "month,status,orders,total,currency"


def test_status_before_placed_is_retried_and_ranges_are_checked(session_factory):
    db = session_factory("reporting", Base)
    with pytest.raises(LookupError):
        domain.record_status(db, {"order_number": "SO-404", "status": "approved"})
    with pytest.raises(Invalid):
        domain.orders_summary(db, 1, datetime(2020, 1, 1), datetime(2024, 1, 1))
    with pytest.raises(NotFound):
        domain.run_report(db, 1, "nope")
