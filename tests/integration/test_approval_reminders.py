"""The reminder timer in a real approvals process: a step waiting longer than the company's
escalation_days reaches the PAS admins (found through identity), once."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.common.clock import utcnow
from services.common.engines import open_session
from tests.integration.processes import count, wait_ready
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_request_waiting_too_long_is_escalated_to_the_pas_admins_once(cluster):
    from services.approvals import demo as approvals_demo
    from services.approvals import domain
    from services.approvals.models import Base, Track
    from services.identity import demo as identity_demo
    from services.identity.models import Base as IdentityBase
    env = cluster["env"]
    with open_session("identity", IdentityBase, env["IDENTITY_DATABASE_URL"]) as session:
        people = identity_demo.seed(session)
    users = people["users"]

    class Directory:  # identity is not running yet: the request is opened by hand
        def people(self, company_id, user_ids=(), group_ids=()):
            return [{"user_id": u, "email": f"{u}@x.test", "name": str(u), "locale": "en"}
                    for u in user_ids]

        def group_ids(self, company_id, user_id):
            return []

        def pas_admins(self, company_id):
            return []

    def place(order_number, seed=False):
        """A request for approval waiting ten days, opened by hand."""
        with open_session("approvals", Base, env["APPROVALS_DATABASE_URL"]) as session:
            if seed:
                approvals_demo.seed(session, 1, users)
            total = {"amount": "9000.00", "currency": "CAD"}
            domain.order_placed(session, {
                "order_number": order_number, "company_id": 1, "user_id": users["demo.buyer"],
                "currency": "CAD", "buyer": {"user_id": users["demo.buyer"], "email": "b@x.test",
                                             "name": "B", "locale": "en"},
                "lines": [], "totals": {"subtotal": total, "total": total}},
                Directory(), now=utcnow() - timedelta(days=10))
            session.commit()

    def escalations():
        with open_session("approvals", Base, env["APPROVALS_DATABASE_URL"]) as session:
            return session.scalars(select(Base.OutboxEvent).where(
                Base.OutboxEvent.type == "approval_escalated")).all()

    place("SO-0000042", seed=True)
    for service in ("identity", "approvals"):
        cluster["start"](service, APPROVAL_REMINDER_INTERVAL="0.5")
    for service in ("identity", "approvals"):
        wait_ready(service, env)

    def escalated():
        with open_session("approvals", Base, env["APPROVALS_DATABASE_URL"]) as session:
            tracks = session.scalars(select(Track)).all()
            return tracks and all(t.escalated_at is not None for t in tracks)
    wait_for(escalated, timeout=30, message="the escalation")
    rows = escalations()
    assert len(rows) == 1
    # demo.admin holds every admin role through the administrators group
    assert [p["user_id"] for p in rows[0].payload["approvers"]] == [users["demo.admin"]]

    # a second request, opened now, is escalated by a later cycle, which saw the first one
    # again and left it alone
    place("SO-0000043")
    wait_for(escalated, timeout=30, message="the second escalation")
    assert sorted(r.payload["order_number"] for r in escalations()) == ["SO-0000042",
                                                                        "SO-0000043"]
    wait_for(lambda: count(env, "approvals", Base, Base.OutboxEvent, sent_at=None) == 0,
             timeout=20, message="the escalations to be published")
    assert count(env, "approvals", Base, Base.OutboxEvent, type="approval_escalated") == 2
