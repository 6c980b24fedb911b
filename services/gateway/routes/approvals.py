"""Gateway endpoints of the approvals service: workflows (PAS admins), the approvers' inbox
and decisions, the buyers' preview, delegations, settings and the audit trail."""
from services.approvals import schemas as s
from services.common.errors import NotFound
from services.common.schemas import PageQuery
from services.gateway.api import Reply, endpoint, forward
from services.gateway.openapi import CSV, also_answers
from services.gateway.rights import AUTHENTICATED, role

PAS_ADMIN = role("pas_admin")


class ApprovalsRoutes:
    # ---- workflows
    list_workflows = forward("GET", "/approval-workflows", "approvals.list_workflows",
                             right=PAS_ADMIN, query=PageQuery(), response=s.WorkflowList(),
                             tags=("approvals",), passing=("page",),
                             summary="The company's approval workflows.")

    create_workflow = forward("POST", "/approval-workflows", "approvals.create_workflow",
                              right=PAS_ADMIN, body=s.WorkflowIn(), response=s.WorkflowOut(),
                              status=201, tags=("approvals",), passing=("body",),
                              summary=("Create a workflow: its buyers (users, groups), its rules "
                                       "(any matching one triggers it) and its steps in order, "
                                       "each with approvers and how many must approve. Amounts "
                                       "are in the company's currency. A workflow with no buyers "
                                       "applies to nobody."))

    get_workflow = forward("GET", "/approval-workflows/<int:workflow_id>",
                           "approvals.get_workflow", right=PAS_ADMIN, response=s.WorkflowOut(),
                           tags=("approvals",), errors=(404,), summary="One workflow.")

    update_workflow = forward("PATCH", "/approval-workflows/<int:workflow_id>",
                              "approvals.update_workflow", right=PAS_ADMIN, body=s.WorkflowPatch(),
                              response=s.WorkflowOut(), tags=("approvals",), errors=(404,),
                              passing=("body",),
                              summary=("Change, activate or deactivate a workflow. Requests "
                                       "already open keep the version they started with."))

    delete_workflow = forward("DELETE", "/approval-workflows/<int:workflow_id>",
                              "approvals.delete_workflow", right=PAS_ADMIN, status=204,
                              tags=("approvals",), errors=(404,),
                              summary="Delete a workflow; requests already open under it go on.")

    # ---- settings
    get_approval_settings = forward("GET", "/approval-settings", "approvals.get_settings",
                                    right=AUTHENTICATED, response=s.SettingsOut(),
                                    tags=("approvals",),
                                    summary=("The company's approval settings: self-approval, "
                                             "days before a reminder and before an escalation to "
                                             "the PAS admins."))

    set_approval_settings = forward("PUT", "/approval-settings", "approvals.update_settings",
                                    right=PAS_ADMIN, body=s.SettingsIn(), response=s.SettingsOut(),
                                    tags=("approvals",), passing=("body",),
                                    summary=("Change the company's approval settings (the fields "
                                             "sent)."))

    # ---- approvers
    @endpoint("GET", "/approvals", right=AUTHENTICATED, query=s.InboxQuery(),
              response=s.ApprovalList(), tags=("approvals",))
    def list_approvals(self, call):
        """The caller's inbox as approver: `status=pending` lists the requests waiting for
        the caller's decision now, with the order's lines, totals and the rules that
        triggered; other statuses list those the caller was asked to decide."""
        return self.approvals_rpc.inbox(call.ctx, **call.args("status", "limit", "cursor"))

    get_approval = forward("GET", "/approvals/<int:approval_id>", "approvals.get_approval",
                           right=AUTHENTICATED, response=s.ApprovalOut(), tags=("approvals",),
                           errors=(404,),
                           summary=("One request, for its approvers, its buyer and the PAS "
                                    "admins."))

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
    preview_approval = forward("POST", "/approvals/preview", "approvals.preview",
                               right=AUTHENTICATED, body=s.PreviewIn(), response=s.PreviewOut(),
                               tags=("approvals",), errors=(404,), passing=("body",),
                               summary=("Who must approve this cart (`cart_id`) or these `lines`, "
                                        "and why: the workflows that would apply, the rules that "
                                        "triggered each and their steps' approvers."))

    # ---- delegations
    @endpoint("GET", "/approval-delegations", right=AUTHENTICATED, response=s.DelegationOut(),
              tags=("approvals",), errors=(404,))
    def get_delegation(self, call):
        """The caller's delegation; 404 when there is none."""
        found = self.approvals_rpc.get_delegation(call.ctx)
        if found is None:
            raise NotFound("you have no delegation", code="delegation_not_found")
        return found

    set_delegation = forward("PUT", "/approval-delegations", "approvals.set_delegation",
                             right=AUTHENTICATED, body=s.DelegationIn(),
                             response=s.DelegationOut(), tags=("approvals",), passing=("body",),
                             summary=("Delegate your approvals to another user of your company "
                                      "from starts_on to ends_on (inclusive); requests already "
                                      "waiting for you reach them too."))

    delete_delegation = forward("DELETE", "/approval-delegations", "approvals.delete_delegation",
                                right=AUTHENTICATED, status=204, tags=("approvals",),
                                errors=(404,), summary="End the caller's delegation.")

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
