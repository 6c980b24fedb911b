"""Approvals on a real database (SQLite or PostgreSQL): the saga's decisions, steps counted
per distinct approver, self-approval, delegation, cancellation, reminders and escalation
with a clock the test controls, workflow versions. Identity's directory is a table here."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from services.approvals import domain
from services.approvals.models import ApprovalRequest, Base
from services.common.context import CallerContext
from services.common.errors import Conflict, Forbidden, Invalid

CUR = "CAD"
T0 = datetime(2026, 11, 2, 9, 0)


def person(uid, locale="en"):
    return {"user_id": uid, "email": f"u{uid}@x.test", "name": f"User {uid}", "locale": locale}


class Directory:
    """Company 1: users 1..9; group 10 = {3, 4} (approvers), group 20 = {1, 2} (buyers);
    user 9 is the PAS admin."""
    groups = {10: [3, 4], 20: [1, 2]}

    def people(self, company_id, user_ids=(), group_ids=()):
        ids = set(user_ids)
        for g in group_ids:
            ids |= set(self.groups.get(g, []))
        return [person(u, "fr" if u == 4 else "en") for u in sorted(ids)
                if company_id == 1 and 1 <= u <= 9]

    def group_ids(self, company_id, user_id):
        return [g for g, members in self.groups.items() if user_id in members]

    def company_group_ids(self, company_id, group_ids):
        return [g for g in group_ids if g in self.groups and company_id == 1]

    def pas_admins(self, company_id):
        return [person(9)]


DIR = Directory()


def ctx(uid, *roles):
    return CallerContext(user_id=uid, company_id=1, roles=list(roles), currency=CUR,
                         email=f"u{uid}@x.test", name=f"User {uid}")


ADMIN = ctx(9, "pas_admin")


def order(number, total="500.00", user_id=1, category="Notebooks"):
    return {"order_number": number, "company_id": 1, "user_id": user_id, "currency": CUR,
            "buyer": person(user_id),
            "lines": [{"part_number": "P1", "quantity": 1, "category": category,
                       "unit_price": {"amount": total, "currency": CUR},
                       "line_total": {"amount": total, "currency": CUR},
                       "on_contract": True, "catalog_ids": []}],
            "totals": {"subtotal": {"amount": total, "currency": CUR},
                       "total": {"amount": total, "currency": CUR}}}


def workflow(db, over="1000", steps=None, buyers=None, **extra):
    data = {"name": f"Over {over}", "active": True,
            "buyers": buyers or {"user_ids": [], "group_ids": [20]},
            "rules": [{"type": "order_total_over", "amount": {"amount": over, "currency": CUR}}],
            "steps": steps or [{"approvers": {"user_ids": [], "group_ids": [10]}, "required": 2},
                               {"approvers": {"user_ids": [5], "group_ids": []}, "required": 1}]}
    data.update(extra)
    return domain.create_workflow(db, ADMIN, data, now=T0)


def events(db, kind=None):
    rows = db.scalars(select(Base.OutboxEvent).order_by(Base.OutboxEvent.id)).all()
    return [(r.type, r.payload) for r in rows if kind is None or r.type == kind]


@pytest.fixture
def db(session_factory):
    return session_factory("approvals", Base)


def test_no_applying_workflow_approves_at_once_and_once(db):
    workflow(db)
    first = domain.order_placed(db, order("SO-1", "500.00"), DIR, now=T0)
    again = domain.order_placed(db, order("SO-1", "500.00"), DIR, now=T0)
    db.commit()
    assert first.id == again.id and first.status == "approved"
    assert [k for k, _ in events(db) if k.startswith("order_")] == ["order_approved"]
    assert events(db, "order_approved")[0][1]["auto"] is True


def test_two_steps_each_counting_distinct_approvers(db):
    workflow(db)
    request = domain.order_placed(db, order("SO-2", "1500.00"), DIR, now=T0)
    db.commit()
    assert request.status == "pending"
    (kind, requested), = events(db, "approval_requested")
    assert [p["user_id"] for p in requested["approvers"]] == [3, 4]
    assert requested["rule_text"]["fr"].startswith("Total de la commande supérieur à 1")
    assert requested["step"] == 1 and requested["steps"] == 2

    domain.decide(db, ctx(3), request.id, True, "ok", DIR, now=T0)
    with pytest.raises(Conflict):  # the same approver twice counts once
        domain.decide(db, ctx(3), request.id, True, "again", DIR, now=T0)
    assert request.tracks[0].current_step == 0
    domain.decide(db, ctx(4), request.id, True, None, DIR, now=T0)
    assert request.tracks[0].current_step == 1 and request.status == "pending"
    assert [p["user_id"] for p in events(db, "approval_requested")[-1][1]["approvers"]] == [5]
    with pytest.raises(Forbidden):  # step 1's approvers cannot decide step 2
        domain.decide(db, ctx(3), request.id, True, None, DIR, now=T0)
    domain.decide(db, ctx(5), request.id, True, "fine", DIR, now=T0)
    db.commit()
    assert request.status == "approved"
    (_, approved), = events(db, "order_approved")
    assert approved["decided_by"]["user_id"] == 5 and approved["auto"] is False
    actions = [e["action"] for e in domain.list_audit(db, ADMIN, limit=200)[0]]
    assert actions.count("approved") == 3 and actions.count("requested") == 2


def test_reject_needs_a_comment_and_ends_the_request(db):
    workflow(db)
    request = domain.order_placed(db, order("SO-3", "1500.00"), DIR, now=T0)
    with pytest.raises(Invalid):
        domain.decide(db, ctx(3), request.id, False, " ", DIR, now=T0)
    domain.decide(db, ctx(3), request.id, False, "Too expensive", DIR, now=T0)
    db.commit()
    assert request.status == "rejected"
    (_, rejected), = events(db, "order_rejected")
    assert rejected["comment"] == "Too expensive" and rejected["decided_by"]["user_id"] == 3
    with pytest.raises(Conflict):
        domain.decide(db, ctx(4), request.id, True, None, DIR, now=T0)


def test_every_applying_workflow_must_approve(db):
    workflow(db, over="1000", steps=[{"approvers": {"user_ids": [3]}, "required": 1}])
    domain.create_workflow(db, ADMIN, {
        "name": "Notebooks", "active": True, "buyers": {"user_ids": [1]},
        "rules": [{"type": "category", "categories": ["Notebooks"]}],
        "steps": [{"approvers": {"user_ids": [6]}, "required": 1}]}, now=T0)
    request = domain.order_placed(db, order("SO-4", "1500.00"), DIR, now=T0)
    assert len(request.tracks) == 2
    domain.decide(db, ctx(3), request.id, True, None, DIR, now=T0)
    assert request.status == "pending"
    domain.decide(db, ctx(6), request.id, True, None, DIR, now=T0)
    assert request.status == "approved"


def test_a_buyer_never_approves_their_own_order_unless_the_company_allows_it(db):
    steps = [{"approvers": {"user_ids": [1, 3]}, "required": 2}]
    workflow(db, steps=steps)
    request = domain.order_placed(db, order("SO-5", "1500.00", user_id=1), DIR, now=T0)
    # the buyer is not assigned, so the step needs the one approver left
    assert request.tracks[0].step_required == 1
    with pytest.raises(Forbidden) as exc:
        domain.decide(db, ctx(1), request.id, True, None, DIR, now=T0)
    assert exc.value.code == "own_order"
    domain.update_settings(db, ADMIN, {"allow_self_approval": True}, now=T0)
    request = domain.order_placed(db, order("SO-6", "1500.00", user_id=1), DIR, now=T0)
    domain.decide(db, ctx(1), request.id, True, None, DIR, now=T0)
    domain.decide(db, ctx(3), request.id, True, None, DIR, now=T0)
    assert request.status == "approved"


def test_a_step_whose_only_approver_is_the_buyer_goes_to_the_pas_admins(db):
    workflow(db, steps=[{"approvers": {"user_ids": [1]}, "required": 1}])
    request = domain.order_placed(db, order("SO-7", "1500.00", user_id=1), DIR, now=T0)
    assert [p["user_id"] for p in events(db, "approval_escalated")[0][1]["approvers"]] == [9]
    domain.decide(db, ctx(9), request.id, True, None, DIR, now=T0)
    assert request.status == "approved"


def test_a_change_never_alters_requests_already_open(db):
    wf = workflow(db, steps=[{"approvers": {"user_ids": [3]}, "required": 1}])
    request = domain.order_placed(db, order("SO-8", "1500.00"), DIR, now=T0)
    domain.update_workflow(db, ADMIN, wf["id"], {
        "steps": [{"approvers": {"user_ids": [6]}, "required": 1}]}, now=T0)
    domain.delete_workflow(db, ADMIN, wf["id"])
    assert request.tracks[0].workflow_version == 1
    domain.decide(db, ctx(3), request.id, True, None, DIR, now=T0)
    assert request.status == "approved"


def test_a_delegate_approves_for_the_approver_while_away(db):
    workflow(db, steps=[{"approvers": {"user_ids": [3]}, "required": 1}])
    request = domain.order_placed(db, order("SO-9", "1500.00"), DIR, now=T0)
    with pytest.raises(Invalid):
        domain.set_delegation(db, ctx(3), {"delegate_user_id": 3, "starts_on": T0.date(),
                                           "ends_on": T0.date()}, DIR, now=T0)
    domain.set_delegation(db, ctx(3), {"delegate_user_id": 7, "starts_on": T0.date(),
                                       "ends_on": T0.date() + timedelta(days=7)}, DIR, now=T0)
    # the request already waiting reaches the delegate
    assert [r["id"] for r in domain.inbox(db, ctx(7), "pending")[0]] == [request.id]
    domain.decide(db, ctx(7), request.id, True, "for User 3", DIR, now=T0)
    assert request.status == "approved"
    # a new request during the delegation reaches both; one decision counts for the approver
    request = domain.order_placed(db, order("SO-10", "1500.00"), DIR, now=T0 + timedelta(days=1))
    assert {r["id"] for r in domain.inbox(db, ctx(3), "pending")[0]} == {request.id}
    domain.delete_delegation(db, ctx(3), now=T0)
    assert domain.inbox(db, ctx(7), "pending")[0] == []


def test_cancelling_the_order_closes_its_request(db):
    workflow(db, steps=[{"approvers": {"user_ids": [3]}, "required": 1}])
    request = domain.order_placed(db, order("SO-11", "1500.00"), DIR, now=T0)
    assert domain.inbox(db, ctx(3), "pending")[0]
    assert domain.order_cancelled(db, "SO-11", now=T0) is True
    assert domain.order_cancelled(db, "SO-11", now=T0) is False
    assert domain.inbox(db, ctx(3), "pending")[0] == []
    assert request.status == "cancelled"


def test_reminder_then_escalation_once_each(db):
    domain.update_settings(db, ADMIN, {"reminder_days": 2, "escalation_days": 4}, now=T0)
    workflow(db, steps=[{"approvers": {"user_ids": [3, 4]}, "required": 2}])
    request = domain.order_placed(db, order("SO-12", "1500.00"), DIR, now=T0)
    domain.decide(db, ctx(3), request.id, True, None, DIR, now=T0)
    assert domain.remind_and_escalate(db, DIR, now=T0 + timedelta(days=1)).reminded == 0
    due = domain.remind_and_escalate(db, DIR, now=T0 + timedelta(days=2, minutes=1))
    assert due.reminded == 1
    (_, reminder), = events(db, "approval_reminder")
    assert [p["user_id"] for p in reminder["approvers"]] == [4]  # not who already approved
    assert domain.remind_and_escalate(db, DIR, now=T0 + timedelta(days=3)).reminded == 0
    assert domain.remind_and_escalate(db, DIR, now=T0 + timedelta(days=4, minutes=1)).escalated == 1
    assert domain.remind_and_escalate(db, DIR, now=T0 + timedelta(days=9)).escalated == 0
    (_, escalated), = events(db, "approval_escalated")
    assert [p["user_id"] for p in escalated["approvers"]] == [9]
    domain.decide(db, ctx(9), request.id, True, "escalated", DIR, now=T0 + timedelta(days=5))
    assert request.status == "approved"
    actions = {e["action"] for e in domain.list_audit(db, ADMIN, limit=200)[0]}
    assert {"reminded", "escalated", "settings_changed", "workflow_created"} <= actions


def test_preview_names_the_approvers_and_why(db):
    workflow(db)
    preview = domain.preview(db, ctx(1), order("-", "1500.00"), DIR)
    assert preview["approval_required"] is True
    (wf,) = preview["workflows"]
    assert wf["triggered_by"][0]["description"]["en"] == "Order total over 1,000.00 CAD"
    assert [[p["user_id"] for p in s["approvers"]] for s in wf["steps"]] == [[3, 4], [5]]
    assert domain.preview(db, ctx(1), order("-", "10.00"), DIR)["approval_required"] is False


def test_amounts_must_be_in_the_company_currency(db):
    with pytest.raises(Invalid):
        workflow(db, rules=[{"type": "order_total_over", "amount": {"amount": "1", "currency": "USD"}}])


def test_requests_of_other_companies_are_not_found(db):
    workflow(db, steps=[{"approvers": {"user_ids": [3]}, "required": 1}])
    request = domain.order_placed(db, order("SO-13", "1500.00"), DIR, now=T0)
    other = CallerContext(user_id=3, company_id=2, currency=CUR)
    from services.common.errors import NotFound
    with pytest.raises(NotFound):
        domain.get_request(db, other, request.id)
    with pytest.raises(NotFound):
        domain.decide(db, other, request.id, True, None, DIR, now=T0)
    assert db.scalar(select(ApprovalRequest.status).where(ApprovalRequest.id == request.id)) == "pending"


def test_a_workflow_names_only_active_users_and_groups_of_the_company():
    steps = [{"approvers": {"user_ids": [3], "group_ids": [10]}},
             {"approvers": {"user_ids": [5, 77], "group_ids": [10, 99]}}]
    domain.check_people(DIR, 1, {"buyers": {"user_ids": [1], "group_ids": [20]},
                                 "steps": steps[:1]})
    with pytest.raises(Invalid) as refused:
        domain.check_people(DIR, 1, {"buyers": {"user_ids": [], "group_ids": [21]},
                                     "steps": steps})
    assert refused.value.code == "people_not_found"
    assert refused.value.errors == {
        "buyers": {"group_ids": ["not groups of your company: 21"]},
        "steps": {"1": {"approvers": {"user_ids": ["not active users of your company: 77"],
                                      "group_ids": ["not groups of your company: 99"]}}}}
    # another company's directory knows none of them
    with pytest.raises(Invalid):
        domain.check_people(DIR, 2, {"steps": steps[:1]})
    # a change that names nobody asks identity nothing
    domain.check_people(None, 1, {"name": "Renamed", "rules": []})
