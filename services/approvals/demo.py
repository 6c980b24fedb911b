"""The demo company's approval workflow: demo.buyer's orders over 5,000 CAD wait for
demo.approver."""
from sqlalchemy import select

from services.approvals import domain
from services.approvals.models import Workflow
from services.common.context import CallerContext

DEMO_WORKFLOW = "Orders over 5,000 CAD"


def seed(session, company_id, users: dict):
    if session.scalar(select(Workflow).where(Workflow.company_id == company_id,
                                             Workflow.name == DEMO_WORKFLOW)):
        return
    admin = CallerContext(user_id=users.get("demo.admin"), company_id=company_id,
                          roles=["pas_admin"], currency="CAD")
    domain.create_workflow(session, admin, {
        "name": DEMO_WORKFLOW, "active": True,
        "buyers": {"user_ids": [users["demo.buyer"]], "group_ids": []},
        "rules": [{"type": "order_total_over", "amount": {"amount": "5000.00", "currency": "CAD"}}],
        "steps": [{"approvers": {"user_ids": [users["demo.approver"]], "group_ids": []},
                   "required": 1}]})
