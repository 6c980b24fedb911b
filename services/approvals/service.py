"""The approvals service: entrypoints only; the rules are in domain.py and rules.py."""
import logging

from services.approvals import domain
from services.approvals import schemas as s
from services.approvals.models import Base
from services.common.access import require_company_user, require_role
from services.common.background import BackgroundLoop
from services.common.base import ServiceBase
from services.common.context import CallerContext
from services.common.csvout import csv_text
from services.common.entrypoints import event_handler, rpc
from services.common.schemas import dump_page, load, page_args
from services.common.standalone import StandaloneRpc

log = logging.getLogger(__name__)


class IdentityDirectory:
    """domain.Directory over identity's RPCs, always scoped to one company."""

    def __init__(self, identity):
        self.identity = identity

    @staticmethod
    def _ctx(company_id):
        return CallerContext(company_id=company_id, staff=True)

    def people(self, company_id, user_ids=(), group_ids=()):
        if not user_ids and not group_ids:
            return []
        return self.identity.get_people(self._ctx(company_id), list(user_ids), list(group_ids))

    def group_ids(self, company_id, user_id):
        return self.identity.group_ids_of(self._ctx(company_id), user_id)

    def company_group_ids(self, company_id, group_ids):
        return self.identity.company_group_ids(self._ctx(company_id), list(group_ids))

    def pas_admins(self, company_id):
        return self.identity.people_with_role(self._ctx(company_id), "pas_admin")


class Reminders(BackgroundLoop):
    """Reminds approvers of requests waiting too long, then escalates them to the PAS
    admins (the company's reminder_days and escalation_days)."""
    switch_env = "APPROVAL_REMINDERS"
    interval_env = "APPROVAL_REMINDER_INTERVAL"
    wake_on_commit = False
    interval = 300.0

    def cycle(self) -> bool:
        with StandaloneRpc.for_container(self.container) as rpc, \
                self.database.session_factory() as session:
            due = domain.remind_and_escalate(session, IdentityDirectory(rpc.identity))
            session.commit()
        if due.reminded or due.escalated:
            log.info("approval reminders: %s reminded, %s escalated", due.reminded, due.escalated)
            self.wake_relay()
        return False


class ApprovalsService(ServiceBase, name="approvals", models=Base,
                       calls=("identity", "catalog", "orders")):
    reminders = Reminders()

    @property
    def directory(self):
        return IdentityDirectory(self.identity)

    # ---- the saga
    @event_handler("orders", "order_placed")
    def on_order_placed(self, event):
        domain.order_placed(self.db, event["payload"], self.directory)

    # only a cancellation concerns approvals: the other moves are acknowledged untouched
    @event_handler("orders", "order_status_changed",
                   when=lambda payload: payload.get("status") == "cancelled")
    def on_order_status_changed(self, event):
        domain.order_cancelled(self.db, event["payload"]["order_number"])

    # ---- workflows (PAS admins)
    @rpc
    def list_workflows(self, ctx, limit=50, cursor=None):
        require_role(ctx, "pas_admin")
        return dump_page(s.WorkflowList(),
                         domain.list_workflows(self.db, ctx, **page_args(limit, cursor)))

    @rpc
    def get_workflow(self, ctx, workflow_id):
        require_role(ctx, "pas_admin")
        return s.WorkflowOut().dump(domain.get_workflow(self.db, ctx, workflow_id))

    @rpc
    def create_workflow(self, ctx, data):
        require_role(ctx, "pas_admin")
        data = _json(s.WorkflowIn(), data)
        domain.check_people(self.directory, ctx.company_id, data)
        wf = domain.create_workflow(self.db, ctx, data)
        return s.WorkflowOut().dump(wf)

    @rpc
    def update_workflow(self, ctx, workflow_id, changes):
        require_role(ctx, "pas_admin")
        changes = _json(s.WorkflowPatch(), changes)
        domain.check_people(self.directory, ctx.company_id, changes)
        wf = domain.update_workflow(self.db, ctx, workflow_id, changes)
        return s.WorkflowOut().dump(wf)

    @rpc
    def delete_workflow(self, ctx, workflow_id):
        require_role(ctx, "pas_admin")
        domain.delete_workflow(self.db, ctx, workflow_id)

    # ---- settings
    @rpc
    def get_settings(self, ctx):
        require_company_user(ctx)
        return s.SettingsOut().dump(domain.settings_of(self.db, ctx.company_id))

    @rpc
    def update_settings(self, ctx, changes):
        require_role(ctx, "pas_admin")
        return s.SettingsOut().dump(domain.update_settings(
            self.db, ctx, load(s.SettingsIn(), changes, partial=True)))

    # ---- approvers
    @rpc
    def inbox(self, ctx, status=None, limit=50, cursor=None):
        require_company_user(ctx)
        q = load(s.InboxQuery(), {"status": status, "limit": limit, "cursor": cursor})
        return dump_page(s.ApprovalList(),
                         domain.inbox(self.db, ctx, q["status"], q["limit"], q["cursor"]))

    @rpc
    def get_approval(self, ctx, approval_id):
        require_company_user(ctx)
        return s.ApprovalOut().dump(domain.get_request(self.db, ctx, approval_id))

    @rpc
    def decide(self, ctx, approval_id, approve, comment=None):
        require_company_user(ctx)
        body = load(s.DecisionIn(), {"comment": comment})
        request = domain.decide(self.db, ctx, approval_id, bool(approve), body["comment"],
                                self.directory)
        return s.ApprovalOut().dump(domain.request_view(self.db, request, ctx.user_id))

    # ---- buyers
    @rpc
    def preview(self, ctx, body):
        """Who must approve a cart (or lines) and why, by the evaluation checkout uses."""
        require_company_user(ctx)
        body = load(s.PreviewIn(), body)
        if "cart_id" in body:
            cart = self.orders.get_cart(ctx, body["cart_id"])
            wanted = [{"part_number": l["part_number"], "quantity": l["quantity"]}
                      for l in cart["lines"]]
        else:
            wanted = body["lines"]
        priced = self.catalog.price_lines(ctx, ctx.currency, wanted, with_catalogs=True) \
            if wanted else {"currency": ctx.currency, "lines": []}
        order = domain.order_from_prices(ctx, priced)
        return s.PreviewOut().dump(domain.preview(self.db, ctx, order, self.directory))

    # ---- delegations
    @rpc
    def get_delegation(self, ctx):
        require_company_user(ctx)
        found = domain.get_delegation(self.db, ctx)
        return None if found is None else s.DelegationOut().dump(found)

    @rpc
    def set_delegation(self, ctx, data):
        require_company_user(ctx)
        return s.DelegationOut().dump(domain.set_delegation(
            self.db, ctx, load(s.DelegationIn(), data), self.directory))

    @rpc
    def delete_delegation(self, ctx):
        require_company_user(ctx)
        domain.delete_delegation(self.db, ctx)

    # ---- audit
    @rpc
    def audit(self, ctx, date_from=None, date_to=None, action=None, limit=50, cursor=None):
        require_role(ctx, "pas_admin")
        q = load(s.AuditQuery(), {k: v for k, v in (("from", date_from), ("to", date_to),
                                                     ("action", action), ("limit", limit),
                                                     ("cursor", cursor)) if v is not None})
        return dump_page(s.AuditList(), domain.list_audit(
            self.db, ctx, q["limit"], q["cursor"], q["date_from"], q["date_to"], q["action"]))

    @rpc
    def audit_csv(self, ctx, date_from=None, date_to=None, action=None):
        require_role(ctx, "pas_admin")
        q = load(s.AuditQuery(), {k: v for k, v in (("from", date_from), ("to", date_to),
                                                     ("action", action)) if v is not None})
        rows = domain.audit_rows(self.db, ctx, q["date_from"], q["date_to"], q["action"])
        return {"csv": csv_text(domain.AUDIT_COLUMNS, (domain.audit_csv_row(r) for r in rows)),
                "filename": "approval-audit.csv"}


def _json(schema, data, partial=False):
    """Load a body, then back to JSON-safe values (workflow definitions are stored as JSON)."""
    return schema.dump(load(schema, data, partial=partial))
