"""Purchase authorization: workflows, the approval of placed orders, delegations, reminders,
escalations and the audit trail.

Which workflows apply is decided by `rules.evaluate` (pure). Who the approvers are comes
from identity through a `Directory` (the service passes one that calls identity; tests pass
their own), so this module does no I/O but through the session and that directory. The
caller's unit of work commits.
"""
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import and_, delete, exists, func, select

from services.approvals import rules
from services.approvals.models import (ApprovalRequest, Assignment, AuditEntry, Decision,
                                       Delegation, Settings, Track, Workflow)
from services.common.context import CallerContext
from services.common.clock import utcnow
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.money import Money
from services.common.outbox import emit
from services.common.paging import keyset_page

SOURCE = "approvals"


class Directory(Protocol):
    """The people approvals needs, from identity, always within one company."""

    def people(self, company_id, user_ids=(), group_ids=()) -> list: ...

    def group_ids(self, company_id, user_id) -> list: ...

    def company_group_ids(self, company_id, group_ids) -> list: ...

    def pas_admins(self, company_id) -> list: ...


def _iso(moment):
    return moment.isoformat() + "Z" if moment else None


# ---- settings ---------------------------------------------------------------------------

DEFAULT_SETTINGS = {"allow_self_approval": False, "reminder_days": 2, "escalation_days": 5}


def settings_of(session, company_id) -> dict:
    row = session.get(Settings, company_id)
    if row is None:
        return dict(DEFAULT_SETTINGS)
    return {"allow_self_approval": bool(row.allow_self_approval),
            "reminder_days": row.reminder_days, "escalation_days": row.escalation_days}


def update_settings(session, ctx: CallerContext, changes: dict, now=None) -> dict:
    now = now or utcnow()
    row = session.get(Settings, ctx.company_id)
    if row is None:
        row = Settings(company_id=ctx.company_id, **DEFAULT_SETTINGS)
        session.add(row)
    merged = {**settings_of(session, ctx.company_id), **changes}
    if merged["escalation_days"] <= merged["reminder_days"]:
        # against the settings kept, not only the body: a rule of the company's settings
        raise Invalid("escalation comes after the reminder", code="escalation_before_reminder",
                      errors={"escalation_days": ["must be more than reminder_days"]})
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = now
    audit(session, ctx.company_id, "settings_changed", actor_of(ctx), details=merged, at=now)
    return merged


# ---- audit ------------------------------------------------------------------------------

def actor_of(ctx: CallerContext) -> dict:
    return {"user_id": ctx.user_id, "email": ctx.email, "name": ctx.name, "locale": ctx.locale}


def audit(session, company_id, action, actor=None, request=None, workflow_id=None,
          comment=None, details=None, at=None):
    session.add(AuditEntry(
        company_id=company_id, approval_id=request.id if request else None,
        order_number=request.order_number if request else None, workflow_id=workflow_id,
        action=action, actor_user_id=(actor or {}).get("user_id"), actor=actor,
        comment=comment, details=details, at=at or utcnow()))


def audit_view(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": _iso(entry.at), "action": entry.action,
            "approval_id": entry.approval_id, "order_number": entry.order_number,
            "workflow_id": entry.workflow_id, "actor": entry.actor, "comment": entry.comment,
            "details": entry.details}


def _audit_query(ctx, date_from=None, date_to=None, action=None):
    query = select(AuditEntry).where(AuditEntry.company_id == ctx.company_id)
    if date_from:
        query = query.where(AuditEntry.at >= date_from)
    if date_to:
        query = query.where(AuditEntry.at < date_to)
    if action:
        query = query.where(AuditEntry.action == action)
    return query


def list_audit(session, ctx: CallerContext, limit=50, cursor=None, date_from=None, date_to=None,
               action=None):
    query = _audit_query(ctx, date_from, date_to, action)
    rows, next_cursor = keyset_page(session, query, AuditEntry.id, limit, cursor, descending=True)
    return [audit_view(r) for r in rows], next_cursor


def audit_rows(session, ctx: CallerContext, date_from=None, date_to=None, action=None):
    """Every audit entry of the company, oldest first, streamed in batches (CSV export)."""
    after = 0
    while True:
        query = _audit_query(ctx, date_from, date_to, action).where(AuditEntry.id > after)
        batch = session.scalars(query.order_by(AuditEntry.id).limit(500)).all()
        if not batch:
            return
        for entry in batch:
            yield audit_view(entry)
        after = batch[-1].id


AUDIT_COLUMNS = ("at", "action", "order_number", "approval_id", "workflow_id", "actor_name",
                 "actor_email", "comment", "details")


def audit_csv_row(entry: dict) -> list:
    actor = entry.get("actor") or {}
    return [entry["at"], entry["action"], entry["order_number"] or "", entry["approval_id"] or "",
            entry["workflow_id"] or "", actor.get("name") or "", actor.get("email") or "",
            entry["comment"] or "",
            json.dumps(entry["details"], sort_keys=True) if entry["details"] else ""]


# ---- workflows --------------------------------------------------------------------------

def workflow_dict(wf: Workflow) -> dict:
    return {"id": wf.id, "name": wf.name, "active": bool(wf.active), "version": wf.version,
            **wf.definition, "created_at": _iso(wf.created_at), "updated_at": _iso(wf.updated_at)}


def _check_definition(ctx: CallerContext, definition: dict):
    for i, rule in enumerate(definition.get("rules") or ()):
        amount = rule.get("amount")
        if amount and ctx.currency and amount["currency"] != ctx.currency:
            raise Invalid("amounts are in the company's currency", code="wrong_currency",
                          errors={"rules": {str(i): {"amount": [
                              f"must be in {ctx.currency}, the company's currency"]}}})
    for i, step in enumerate(definition.get("steps") or ()):
        approvers = step.get("approvers") or {}
        if not (approvers.get("user_ids") or approvers.get("group_ids")):
            raise Invalid("each step names approvers", code="validation_failed",
                          errors={"steps": {str(i): {"approvers": ["name at least one user or group"]}}})


def check_people(directory: Directory, company_id, definition: dict):
    """The users and groups a workflow names (its buyers and each step's approvers) are
    active users and groups of the company: an id of another company's, or of nobody, would
    leave the company's orders waiting for approvers who never see them."""
    places = [(("buyers",), definition.get("buyers"))] + [
        (("steps", str(i), "approvers"), step.get("approvers"))
        for i, step in enumerate(definition.get("steps") or ())]
    named = [(path, people or {}) for path, people in places if people is not None]
    user_ids = {u for _, people in named for u in people.get("user_ids") or ()}
    group_ids = {g for _, people in named for g in people.get("group_ids") or ()}
    users = {p["user_id"] for p in directory.people(company_id, user_ids=sorted(user_ids))} \
        if user_ids else set()
    groups = set(directory.company_group_ids(company_id, sorted(group_ids))) \
        if group_ids else set()
    errors = {}
    for path, people in named:
        for key, known, what in (("user_ids", users, "active users"),
                                 ("group_ids", groups, "groups")):
            unknown = sorted(set(people.get(key) or ()) - known)
            if unknown:
                node = errors
                for part in path:
                    node = node.setdefault(part, {})
                node[key] = [f"not {what} of your company: {', '.join(map(str, unknown))}"]
    if errors:
        raise Invalid("a workflow names only active users and groups of your company",
                      code="people_not_found", errors=errors)


def _definition(data: dict) -> dict:
    return {"buyers": data["buyers"], "rules": data["rules"], "steps": data["steps"]}


def _company_workflow(session, ctx, workflow_id) -> Workflow:
    wf = session.get(Workflow, workflow_id)
    if wf is None or wf.company_id != ctx.company_id:
        raise NotFound("no such workflow", code="workflow_not_found")
    return wf


def list_workflows(session, ctx, limit=50, cursor=None):
    rows, next_cursor = keyset_page(session, select(Workflow).where(Workflow.company_id == ctx.company_id),
                              Workflow.id, limit, cursor)
    return [workflow_dict(w) for w in rows], next_cursor


def get_workflow(session, ctx, workflow_id) -> dict:
    return workflow_dict(_company_workflow(session, ctx, workflow_id))


def create_workflow(session, ctx, data: dict, now=None) -> dict:
    now = now or utcnow()
    definition = _definition(data)
    _check_definition(ctx, definition)
    wf = Workflow(company_id=ctx.company_id, name=data["name"], active=data.get("active", True),
                  version=1, definition=definition, created_at=now, updated_at=now)
    session.add(wf)
    session.flush()
    audit(session, ctx.company_id, "workflow_created", actor_of(ctx), workflow_id=wf.id,
          details=workflow_dict(wf), at=now)
    return workflow_dict(wf)


def update_workflow(session, ctx, workflow_id, changes: dict, now=None) -> dict:
    """A new version of the workflow; requests already open keep the version they started
    with (their tracks hold a snapshot of it)."""
    now = now or utcnow()
    wf = _company_workflow(session, ctx, workflow_id)
    definition = {**wf.definition, **{k: v for k, v in changes.items()
                                       if k in ("buyers", "rules", "steps")}}
    _check_definition(ctx, definition)
    before = workflow_dict(wf)
    wf.definition = definition
    if "name" in changes:
        wf.name = changes["name"]
    if "active" in changes:
        wf.active = changes["active"]
    wf.version += 1
    wf.updated_at = now
    after = workflow_dict(wf)
    action = "workflow_changed"
    if set(changes) == {"active"}:
        action = "workflow_activated" if changes["active"] else "workflow_deactivated"
    audit(session, ctx.company_id, action, actor_of(ctx), workflow_id=wf.id,
          details={"before": before, "after": after}, at=now)
    return after


def delete_workflow(session, ctx, workflow_id, now=None):
    wf = _company_workflow(session, ctx, workflow_id)
    audit(session, ctx.company_id, "workflow_deleted", actor_of(ctx), workflow_id=wf.id,
          details=workflow_dict(wf), at=now)
    session.delete(wf)


def active_workflows(session, company_id) -> list:
    return [workflow_dict(w) for w in session.scalars(
        select(Workflow).where(Workflow.company_id == company_id, Workflow.active.is_(True))
        .order_by(Workflow.id))]


# ---- evaluation (checkout and preview) ---------------------------------------------------

def applying_workflows(session, order: dict, directory: Directory) -> list:
    workflows = active_workflows(session, order["company_id"])
    if not workflows:
        return []
    groups = (directory.group_ids(order["company_id"], order["user_id"])
              if rules.needs_group_ids(workflows) else ())
    return rules.evaluate(order, workflows, groups)


def order_from_prices(ctx: CallerContext, priced: dict) -> dict:
    """An order as the preview evaluates it, from catalog's prices of the caller's lines
    (the orderable ones)."""
    currency = priced.get("currency") or ctx.currency
    lines, subtotal = [], Money.zero(currency)
    for line in priced["lines"]:
        if line.get("status") != "ok" or not line.get("unit_price"):
            continue
        total = Money.from_dict(line["unit_price"]) * line["quantity"]
        subtotal = subtotal + total
        lines.append({**line, "line_total": total.to_dict()})
    if not lines:
        raise Invalid("none of these lines can be ordered", code="lines_not_orderable")
    totals = {"subtotal": subtotal.to_dict(), "total": subtotal.to_dict()}
    return {"company_id": ctx.company_id, "user_id": ctx.user_id, "currency": currency,
            "lines": lines, "totals": totals}


def rule_view(rule: dict) -> dict:
    return {"rule": rule, "description": {"en": rules.describe_rule(rule, "en"),
                                          "fr": rules.describe_rule(rule, "fr")}}


def preview(session, ctx: CallerContext, order: dict, directory: Directory) -> dict:
    """Who must approve this order, and why, by the evaluation checkout uses."""
    settings = settings_of(session, ctx.company_id)
    out = []
    for applying in applying_workflows(session, order, directory):
        steps = []
        for step in applying.steps:
            approvers = _eligible(directory.people(ctx.company_id, **_who(step)),
                                  ctx.user_id, settings)
            steps.append({"approvers": approvers,
                          "required": max(1, min(step.get("required", 1), len(approvers) or 1))})
        out.append({"workflow_id": applying.workflow_id, "name": applying.name,
                    "triggered_by": [rule_view(r) for r in applying.triggered_by],
                    "steps": steps})
    return {"approval_required": bool(out), "workflows": out,
            "totals": order.get("totals"), "lines": order.get("lines")}


def _who(step) -> dict:
    approvers = step.get("approvers") or {}
    return {"user_ids": approvers.get("user_ids") or [], "group_ids": approvers.get("group_ids") or []}


def _eligible(people, buyer_user_id, settings) -> list:
    if settings["allow_self_approval"]:
        return list(people)
    return [p for p in people if p["user_id"] != buyer_user_id]


# ---- the saga: order placed -> approved / rejected --------------------------------------

def order_placed(session, order: dict, directory: Directory, now=None) -> ApprovalRequest:
    """Open the approval request of a placed order: approved at once when no workflow
    applies, else one track per applying workflow, at its first step. Idempotent per order."""
    now = now or utcnow()
    existing = session.scalar(select(ApprovalRequest).where(
        ApprovalRequest.order_number == order["order_number"]))
    if existing is not None:
        return existing
    applying = applying_workflows(session, order, directory)
    request = ApprovalRequest(
        order_number=order["order_number"], company_id=order["company_id"],
        buyer_user_id=order.get("user_id"), buyer=order["buyer"], total=order["totals"]["total"],
        order={"currency": order.get("currency"), "lines": order.get("lines") or [],
               "totals": order["totals"]},
        status="pending" if applying else "approved",
        rule="; ".join(rules.describe_rules(a.triggered_by) for a in applying) or None,
        created_at=now)
    session.add(request)
    session.flush()
    if not applying:
        request.decided_at = now
        audit(session, request.company_id, "auto_approved", request=request,
              comment="no approval workflow applies", at=now)
        _emit_decision(session, request, "order_approved", None, None, auto=True)
        return request
    settings = settings_of(session, request.company_id)
    for a in applying:
        track = Track(request=request, workflow_id=a.workflow_id, workflow_name=a.name,
                      workflow_version=a.version, steps=a.steps, triggered_by=a.triggered_by,
                      current_step=0, status="pending", step_started_at=now)
        session.add(track)
        session.flush()
        _start_step(session, request, track, directory, settings, now)
    return request


def _active_delegations(session, company_id, user_ids, today: date) -> dict:
    if not user_ids:
        return {}
    rows = session.scalars(select(Delegation).where(
        Delegation.company_id == company_id, Delegation.user_id.in_(list(user_ids)),
        Delegation.starts_on <= today, Delegation.ends_on >= today)).all()
    return {d.user_id: d for d in rows}


def _assign(session, track, step, person, on_behalf_of=None, escalated=False) -> bool:
    key = (track.id, step, person["user_id"])
    if session.get(Assignment, key) is not None:
        return False
    session.add(Assignment(track_id=track.id, step=step, user_id=person["user_id"], person=person,
                           on_behalf_of=on_behalf_of, escalated=escalated))
    return True


def _start_step(session, request, track, directory, settings, now):
    """Assign the current step's approvers (and the delegates of those away), then tell
    them. A step left with no approver (the buyer was the only one) goes to the PAS admins."""
    step = track.steps[track.current_step]
    approvers = _eligible(directory.people(request.company_id, **_who(step)),
                          request.buyer_user_id, settings)
    escalated = False
    if not approvers:
        approvers = _eligible(directory.pas_admins(request.company_id), request.buyer_user_id,
                              settings)
        escalated = True
    track.step_required = max(1, min(int(step.get("required", 1)), len(approvers) or 1))
    track.step_started_at = now
    track.reminded_at = track.escalated_at = None
    delegations = _active_delegations(session, request.company_id,
                                      [p["user_id"] for p in approvers], now.date())
    told = []
    for person in approvers:
        if _assign(session, track, track.current_step, person, escalated=escalated):
            told.append(person)
        delegation = delegations.get(person["user_id"])
        if delegation and delegation.delegate_user_id != request.buyer_user_id:
            if _assign(session, track, track.current_step, delegation.delegate,
                       on_behalf_of=person["user_id"]):
                told.append(delegation.delegate)
    session.flush()
    audit(session, request.company_id, "escalated" if escalated else "requested",
          request=request, workflow_id=track.workflow_id,
          details={"step": track.current_step + 1, "approvers": told,
                   "required": track.step_required}, at=now)
    _emit_request(session, request, track, "approval_escalated" if escalated else "approval_requested",
                  told)


def _emit_request(session, request, track, event_type, approvers):
    if not approvers:
        return
    emit(session, SOURCE, event_type, {
        "approval_id": request.id, "order_number": request.order_number,
        "company_id": request.company_id, "buyer": request.buyer, "approvers": approvers,
        "rule": rules.describe_rules(track.triggered_by, "en"),
        "rule_text": {"en": rules.describe_rules(track.triggered_by, "en"),
                      "fr": rules.describe_rules(track.triggered_by, "fr")},
        "total": request.total,
        "workflow": {"id": track.workflow_id, "name": track.workflow_name,
                     "version": track.workflow_version},
        "step": track.current_step + 1, "steps": len(track.steps),
        "requested_at": _iso(request.created_at)})


def _emit_decision(session, request, event_type, decided_by, comment, auto=False):
    emit(session, SOURCE, event_type, {
        "approval_id": request.id, "order_number": request.order_number,
        "company_id": request.company_id, "buyer": request.buyer, "decided_by": decided_by,
        "comment": comment, "decided_at": _iso(request.decided_at),
        "requested_at": None if auto else _iso(request.created_at), "auto": auto})


def _locked_request(session, ctx, approval_id) -> ApprovalRequest:
    # FOR UPDATE serialises the decisions on one request on PostgreSQL (SQLite's BEGIN
    # IMMEDIATE already does): two approvals at the same moment count once each and the
    # request moves on once
    request = session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == approval_id)
                             .with_for_update())
    if request is None or request.company_id != ctx.company_id:
        raise NotFound("no such approval request", code="approval_not_found")
    return request


def _my_assignments(session, request, user_id) -> list:
    """(track, assignment) pairs the user may decide now."""
    rows = session.execute(
        select(Track, Assignment).join(Assignment, and_(Assignment.track_id == Track.id,
                                                        Assignment.step == Track.current_step))
        .where(Track.request_id == request.id, Track.status == "pending",
               Assignment.user_id == user_id).order_by(Track.id)).all()
    return [(t, a) for t, a in rows]


def decide(session, ctx: CallerContext, approval_id, approve: bool, comment, directory: Directory,
           now=None) -> ApprovalRequest:
    now = now or utcnow()
    request = _locked_request(session, ctx, approval_id)
    if request.status != "pending":
        raise Conflict(f"this request is already {request.status}", code="approval_closed")
    mine = _my_assignments(session, request, ctx.user_id)
    if not mine:
        if ctx.user_id == request.buyer_user_id:
            raise Forbidden("you cannot approve your own order", code="own_order")
        raise Forbidden("you are not an approver of this request at its current step",
                        code="not_an_approver")
    if not approve and not (comment or "").strip():
        raise Invalid("say why you reject the order", code="validation_failed",
                      errors={"comment": ["required when rejecting"]})
    me = actor_of(ctx)
    recorded = False
    for track, assignment in mine:
        principal = assignment.on_behalf_of or assignment.user_id
        done = session.scalar(select(Decision).where(
            Decision.track_id == track.id, Decision.step == track.current_step,
            Decision.principal_user_id == principal))
        if done is not None:
            continue
        session.add(Decision(request_id=request.id, track_id=track.id, step=track.current_step,
                             principal_user_id=principal, user_id=ctx.user_id, person=me,
                             decision="approved" if approve else "rejected", comment=comment,
                             at=now))
        recorded = True
        audit(session, request.company_id, "approved" if approve else "rejected", me,
              request=request, workflow_id=track.workflow_id, comment=comment,
              details={"step": track.current_step + 1,
                       "on_behalf_of": assignment.on_behalf_of}, at=now)
    if not recorded:
        raise Conflict("you already decided this step", code="already_decided")
    session.flush()
    if not approve:
        for track in request.tracks:
            if track.status == "pending":
                track.status = "rejected"
        request.status, request.decided_at, request.comment = "rejected", now, comment
        _emit_decision(session, request, "order_rejected", me, comment)
        return request
    settings = settings_of(session, request.company_id)
    for track, _ in mine:
        _advance(session, request, track, directory, settings, now)
    if all(t.status == "approved" for t in request.tracks):
        request.status, request.decided_at, request.comment = "approved", now, comment
        _emit_decision(session, request, "order_approved", me, comment)
    return request


def _advance(session, request, track, directory, settings, now):
    if track.status != "pending":
        return
    approvals = len(set(session.scalars(select(Decision.principal_user_id).where(
        Decision.track_id == track.id, Decision.step == track.current_step,
        Decision.decision == "approved")).all()))
    if approvals < track.step_required:
        return
    if track.current_step + 1 >= len(track.steps):
        track.status = "approved"
        return
    track.current_step += 1
    _start_step(session, request, track, directory, settings, now)


def order_cancelled(session, order_number, now=None) -> bool:
    """The buyer cancelled the order: close its open request (approvers no longer see it)."""
    now = now or utcnow()
    request = session.scalar(select(ApprovalRequest).where(
        ApprovalRequest.order_number == order_number).with_for_update())
    if request is None or request.status != "pending":
        return False
    request.status, request.decided_at = "cancelled", now
    for track in request.tracks:
        if track.status == "pending":
            track.status = "cancelled"
    audit(session, request.company_id, "cancelled", request.buyer, request=request,
          comment="the buyer cancelled the order", at=now)
    return True


# ---- approvers' inbox -------------------------------------------------------------------

STATUSES = ("pending", "approved", "rejected", "cancelled")


def request_view(session, request: ApprovalRequest, viewer_id=None) -> dict:
    tracks = []
    for track in request.tracks:
        decisions = session.scalars(select(Decision).where(Decision.track_id == track.id)
                                    .order_by(Decision.id)).all()
        current = session.scalars(select(Assignment).where(
            Assignment.track_id == track.id, Assignment.step == track.current_step)).all()
        tracks.append({
            "workflow_id": track.workflow_id, "name": track.workflow_name,
            "version": track.workflow_version, "status": track.status,
            "triggered_by": [rule_view(r) for r in track.triggered_by],
            "step": track.current_step + 1, "steps": len(track.steps),
            "required": track.step_required,
            "approvers": [a.person for a in current],
            "decisions": [{"step": d.step + 1, "decision": d.decision, "by": d.person,
                           "comment": d.comment, "at": _iso(d.at)} for d in decisions]})
    order = request.order or {}
    view = {"id": request.id, "order_number": request.order_number, "status": request.status,
            "buyer": request.buyer, "total": request.total, "totals": order.get("totals"),
            "lines": order.get("lines") or [], "rule": request.rule, "comment": request.comment,
            "workflows": tracks, "created_at": _iso(request.created_at),
            "decided_at": _iso(request.decided_at)}
    if viewer_id is not None:
        view["can_decide"] = request.status == "pending" and bool(
            _my_assignments(session, request, viewer_id)) and not _decided_all(
                session, request, viewer_id)
    return view


def _decided_all(session, request, user_id) -> bool:
    for track, assignment in _my_assignments(session, request, user_id):
        principal = assignment.on_behalf_of or assignment.user_id
        if session.scalar(select(Decision.id).where(
                Decision.track_id == track.id, Decision.step == track.current_step,
                Decision.principal_user_id == principal)) is None:
            return False
    return True


def inbox(session, ctx: CallerContext, status=None, limit=50, cursor=None):
    """Requests the caller approves. `pending`: those waiting for the caller's decision now;
    other statuses (or none): every request the caller was asked to decide."""
    query = select(ApprovalRequest).where(ApprovalRequest.company_id == ctx.company_id)
    if status == "pending":
        undecided = ~exists().where(
            Decision.track_id == Track.id, Decision.step == Track.current_step,
            Decision.principal_user_id == func.coalesce(Assignment.on_behalf_of,
                                                        Assignment.user_id))
        waiting = (select(Track.request_id)
                   .join(Assignment, and_(Assignment.track_id == Track.id,
                                          Assignment.step == Track.current_step))
                   .where(Track.status == "pending", Assignment.user_id == ctx.user_id, undecided))
        query = query.where(ApprovalRequest.status == "pending",
                            ApprovalRequest.id.in_(waiting))
    else:
        asked = (select(Track.request_id).join(Assignment, Assignment.track_id == Track.id)
                 .where(Assignment.user_id == ctx.user_id))
        query = query.where(ApprovalRequest.id.in_(asked))
        if status:
            query = query.where(ApprovalRequest.status == status)
    rows, next_cursor = keyset_page(session, query, ApprovalRequest.id, limit, cursor, descending=True)
    return [request_view(session, r, ctx.user_id) for r in rows], next_cursor


def get_request(session, ctx: CallerContext, approval_id) -> dict:
    """A request, for its approvers, its buyer and the PAS admins of the company."""
    request = session.get(ApprovalRequest, approval_id)
    if request is None or request.company_id != ctx.company_id:
        raise NotFound("no such approval request", code="approval_not_found")
    asked = session.scalar(select(Assignment.user_id).join(Track, Track.id == Assignment.track_id)
                           .where(Track.request_id == request.id,
                                  Assignment.user_id == ctx.user_id).limit(1))
    if asked is None and ctx.user_id != request.buyer_user_id and not ctx.has_role("pas_admin"):
        raise NotFound("no such approval request", code="approval_not_found")
    return request_view(session, request, ctx.user_id)


# ---- delegations ------------------------------------------------------------------------

def delegation_view(d: Delegation | None) -> dict | None:
    if d is None:
        return None
    return {"delegate_user_id": d.delegate_user_id, "delegate": d.delegate,
            "starts_on": d.starts_on.isoformat(), "ends_on": d.ends_on.isoformat()}


def get_delegation(session, ctx) -> dict | None:
    return delegation_view(session.get(Delegation, ctx.user_id))


def set_delegation(session, ctx, data: dict, directory: Directory, now=None) -> dict:
    now = now or utcnow()
    delegate_id = int(data["delegate_user_id"])
    if delegate_id == ctx.user_id:
        raise Invalid("delegate to someone else", code="validation_failed",
                      errors={"delegate_user_id": ["cannot be yourself"]})
    if data["ends_on"] < data["starts_on"]:
        raise Invalid("the delegation ends before it starts", code="validation_failed",
                      errors={"ends_on": ["must be on or after starts_on"]})
    found = directory.people(ctx.company_id, user_ids=[delegate_id])
    if not found:
        raise Invalid("no active user of your company has this id", code="validation_failed",
                      errors={"delegate_user_id": ["not an active user of your company"]})
    row = session.get(Delegation, ctx.user_id)
    if row is None:
        row = Delegation(user_id=ctx.user_id, company_id=ctx.company_id)
        session.add(row)
    else:
        _withdraw_delegate(session, ctx.user_id)
    row.delegate_user_id, row.delegate = delegate_id, found[0]
    row.starts_on, row.ends_on, row.created_at = data["starts_on"], data["ends_on"], now
    session.flush()
    audit(session, ctx.company_id, "delegation_set", actor_of(ctx),
          details=delegation_view(row), at=now)
    if row.starts_on <= now.date() <= row.ends_on:
        _delegate_open_steps(session, ctx, row, now)
    return delegation_view(row)


def _delegate_open_steps(session, ctx, delegation, now):
    """Steps already waiting for the approver reach their delegate too."""
    rows = session.execute(
        select(Track, Assignment).join(Assignment, and_(Assignment.track_id == Track.id,
                                                        Assignment.step == Track.current_step))
        .where(Track.status == "pending", Assignment.user_id == ctx.user_id,
               Assignment.on_behalf_of.is_(None))).all()
    for track, _ in rows:
        request = track.request
        if delegation.delegate_user_id == request.buyer_user_id:
            continue
        if _assign(session, track, track.current_step, delegation.delegate,
                   on_behalf_of=ctx.user_id):
            _emit_request(session, request, track, "approval_requested", [delegation.delegate])


def _withdraw_delegate(session, user_id):
    open_tracks = select(Track.id).where(Track.status == "pending")
    session.execute(delete(Assignment).where(Assignment.on_behalf_of == user_id,
                                             Assignment.track_id.in_(open_tracks)))


def delete_delegation(session, ctx, now=None):
    row = session.get(Delegation, ctx.user_id)
    if row is None:
        raise NotFound("you have no delegation", code="delegation_not_found")
    _withdraw_delegate(session, ctx.user_id)
    audit(session, ctx.company_id, "delegation_removed", actor_of(ctx),
          details=delegation_view(row), at=now)
    session.delete(row)


# ---- reminders and escalations ----------------------------------------------------------

@dataclass
class Due:
    reminded: int = 0
    escalated: int = 0


def remind_and_escalate(session, directory: Directory, now=None) -> Due:
    """Steps waiting longer than the company's reminder_days get one reminder to the
    approvers who have not decided; longer than escalation_days, the PAS admins are added
    as approvers once. Runs on a timer; repeated runs do nothing more."""
    now = now or utcnow()
    due = Due()
    tracks = session.scalars(select(Track).join(ApprovalRequest)
                             .where(Track.status == "pending", ApprovalRequest.status == "pending",
                                    Track.escalated_at.is_(None))
                             .order_by(Track.id).with_for_update(skip_locked=True)).all()
    settings_cache = {}
    for track in tracks:
        request = track.request
        settings = settings_cache.setdefault(request.company_id,
                                             settings_of(session, request.company_id))
        waited = now - track.step_started_at
        if waited >= timedelta(days=settings["escalation_days"]):
            admins = _eligible(directory.pas_admins(request.company_id), request.buyer_user_id,
                               settings)
            added = [p for p in admins
                     if _assign(session, track, track.current_step, p, escalated=True)]
            track.escalated_at = now
            track.reminded_at = track.reminded_at or now
            audit(session, request.company_id, "escalated", request=request,
                  workflow_id=track.workflow_id,
                  details={"step": track.current_step + 1, "approvers": added}, at=now)
            _emit_request(session, request, track, "approval_escalated", added or admins)
            due.escalated += 1
        elif track.reminded_at is None and waited >= timedelta(days=settings["reminder_days"]):
            waiting = _undecided(session, track)
            track.reminded_at = now
            audit(session, request.company_id, "reminded", request=request,
                  workflow_id=track.workflow_id,
                  details={"step": track.current_step + 1, "approvers": waiting}, at=now)
            _emit_request(session, request, track, "approval_reminder", waiting)
            due.reminded += 1
    return due


def _undecided(session, track) -> list:
    decided = set(session.scalars(select(Decision.principal_user_id).where(
        Decision.track_id == track.id, Decision.step == track.current_step)).all())
    assignments = session.scalars(select(Assignment).where(
        Assignment.track_id == track.id, Assignment.step == track.current_step)).all()
    return [a.person for a in assignments if (a.on_behalf_of or a.user_id) not in decided]
