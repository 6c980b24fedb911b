"""Gateway endpoints of the approvals service: workflows (PAS admins), the approvers' inbox
and decisions, the buyers' preview, delegations, settings and the audit trail."""
from services.approvals import schemas as s
from services.common.errors import NotFound
from services.common.schemas import PageQuery
from services.gateway.api import Reply, endpoint
from services.gateway.openapi import CSV, also_answers
from services.gateway.rights import AUTHENTICATED, role

PAS_ADMIN = role("pas_admin")


class ApprovalsRoutes:
    # ---- workflows
    @endpoint("GET", "/approval-workflows", right=PAS_ADMIN, query=PageQuery(),
              response=s.WorkflowList(), tags=("approvals",))
    def list_workflows(self, call):
        """The company's approval workflows."""
        return self.approvals_rpc.list_workflows(call.ctx, **call.page())

    @endpoint("POST", "/approval-workflows", right=PAS_ADMIN, body=s.WorkflowIn(),
              response=s.WorkflowOut(), status=201, tags=("approvals",))
    def create_workflow(self, call):
        """Create a workflow: its buyers (users, groups), its rules (any matching one
        triggers it) and its steps in order, each with approvers and how many must approve.
        Amounts are in the company's currency. A workflow with no buyers applies to nobody."""
        return self.approvals_rpc.create_workflow(call.ctx, call.body)

    @endpoint("GET", "/approval-workflows/<int:workflow_id>", right=PAS_ADMIN,
              response=s.WorkflowOut(), tags=("approvals",), errors=(404,))
    def get_workflow(self, call, workflow_id):
        """One workflow."""
        return self.approvals_rpc.get_workflow(call.ctx, workflow_id)

    @endpoint("PATCH", "/approval-workflows/<int:workflow_id>", right=PAS_ADMIN,
              body=s.WorkflowPatch(), response=s.WorkflowOut(), tags=("approvals",), errors=(404,))
    def update_workflow(self, call, workflow_id):
        """Change, activate or deactivate a workflow. Requests already open keep the version
        they started with."""
        return self.approvals_rpc.update_workflow(call.ctx, workflow_id,
                                                  call.body)

    @endpoint("DELETE", "/approval-workflows/<int:workflow_id>", right=PAS_ADMIN, status=204,
              tags=("approvals",), errors=(404,))
    def delete_workflow(self, call, workflow_id):
        """Delete a workflow; requests already open under it go on."""
        self.approvals_rpc.delete_workflow(call.ctx, workflow_id)

    # ---- settings
    @endpoint("GET", "/approval-settings", right=AUTHENTICATED, response=s.SettingsOut(),
              tags=("approvals",))
    def get_approval_settings(self, call):
        """The company's approval settings: self-approval, days before a reminder and
        before an escalation to the PAS admins."""
        return self.approvals_rpc.get_settings(call.ctx)

    @endpoint("PUT", "/approval-settings", right=PAS_ADMIN, body=s.SettingsIn(),
              response=s.SettingsOut(), tags=("approvals",))
    def set_approval_settings(self, call):
        """Change the company's approval settings (the fields sent)."""
        return self.approvals_rpc.update_settings(call.ctx, call.body)

    # ---- approvers
    @endpoint("GET", "/approvals", right=AUTHENTICATED, query=s.InboxQuery(),
              response=s.ApprovalList(), tags=("approvals",))
    def list_approvals(self, call):
        """The caller's inbox as approver: `status=pending` lists the requests waiting for
        the caller's decision now, with the order's lines, totals and the rules that
        triggered; other statuses list those the caller was asked to decide."""
        return self.approvals_rpc.inbox(call.ctx, **call.args("status", "limit", "cursor"))

    @endpoint("GET", "/approvals/<int:approval_id>", right=AUTHENTICATED,
              response=s.ApprovalOut(), tags=("approvals",), errors=(404,))
    def get_approval(self, call, approval_id):
        """One request, for its approvers, its buyer and the PAS admins."""
        return self.approvals_rpc.get_approval(call.ctx, approval_id)

    @endpoint("POST", "/approvals/<int:approval_id>/approve", right=AUTHENTICATED,
              body=s.DecisionIn(), response=s.ApprovalOut(), tags=("approvals",),
              errors=(403, 404, 409))
    def approve(self, call, approval_id):
        """Approve the current step (once per approver; a delegate approves for the approver
        who delegated). 403 `own_order` for the buyer unless the company allows it."""
        return self.approvals_rpc.decide(call.ctx, approval_id, True, call.body.get("comment"))

    @endpoint("POST", "/approvals/<int:approval_id>/reject", right=AUTHENTICATED,
              body=s.DecisionIn(), response=s.ApprovalOut(), tags=("approvals",),
              errors=(403, 404, 409))
    def reject(self, call, approval_id):
        """Reject the order; the comment is required and reaches the buyer."""
        return self.approvals_rpc.decide(call.ctx, approval_id, False, call.body.get("comment"))

    # ---- buyers
    @endpoint("POST", "/approvals/preview", right=AUTHENTICATED, body=s.PreviewIn(),
              response=s.PreviewOut(), tags=("approvals",), errors=(404,))
    def preview_approval(self, call):
        """Who must approve this cart (`cart_id`) or these `lines`, and why: the workflows
        that would apply, the rules that triggered each and their steps' approvers."""
        return self.approvals_rpc.preview(call.ctx, call.body)

    # ---- delegations
    @endpoint("GET", "/approval-delegations", right=AUTHENTICATED, response=s.DelegationOut(),
              tags=("approvals",), errors=(404,))
    def get_delegation(self, call):
        """The caller's delegation; 404 when there is none."""
        found = self.approvals_rpc.get_delegation(call.ctx)
        if found is None:
            raise NotFound("you have no delegation", code="delegation_not_found")
        return found

    @endpoint("PUT", "/approval-delegations", right=AUTHENTICATED, body=s.DelegationIn(),
              response=s.DelegationOut(), tags=("approvals",))
    def set_delegation(self, call):
        """Delegate your approvals to another user of your company from starts_on to ends_on
        (inclusive); requests already waiting for you reach them too."""
        return self.approvals_rpc.set_delegation(call.ctx, call.body)

    @endpoint("DELETE", "/approval-delegations", right=AUTHENTICATED, status=204,
              tags=("approvals",), errors=(404,))
    def delete_delegation(self, call):
        """End the caller's delegation."""
        self.approvals_rpc.delete_delegation(call.ctx)

    # ---- audit
    @endpoint("GET", "/approval-audit", right=PAS_ADMIN, query=s.AuditQuery(),
              response=s.AuditList(), tags=("approvals",))
    def approval_audit(self, call):
        """Decisions, reminders, escalations, delegations and workflow changes, newest
        first; `format=csv` exports them all (UTF-8 with a BOM)."""
        q = call.query
        dates = (q.get("from"), q.get("to"))
        if call.wants_csv():
            result = self.approvals_rpc.audit_csv(call.ctx, *dates, q.get("action"))
            return Reply(result["csv"], content_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="{result["filename"]}"'})
        return self.approvals_rpc.audit(call.ctx, *dates, q.get("action"), **call.page())


also_answers(ApprovalsRoutes.approval_audit, ok=CSV)  # format=csv
