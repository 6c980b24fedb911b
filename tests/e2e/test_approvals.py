"""Purchase authorization over HTTP on the running system: workflows, the preview, orders
waiting for two steps of approvers (two of them approving at the same moment), rejection,
self-approval, cancellation, delegation, versions, emails in the approver's language, the
audit trail."""
import threading
import uuid

import pytest

from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSV = """part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability
E2E-APR-LAPTOP,20XW0042US,Lenovo,Notebooks,Lenovo ThinkPad T14,Business notebook,2400.00,CAD,en,in_stock
E2E-APR-MOUSE,910-005620,Logitech,Accessories,Logitech MX Master 3S,Wireless mouse,29.99,CAD,en,in_stock
"""
PASSWORD = "Approvals-e2e-2026!"
ADDRESS = {"name": "HQ", "line1": "1 King St W", "city": "Toronto", "region": "ON",
           "postal_code": "M5H 1A1", "country": "CA"}


def cad(amount):
    return {"amount": amount, "currency": "CAD"}


class Org:
    """A company with a buyer, three approvers (one French), a delegate and a workflow:
    the buyer's orders over 2,000 CAD need both first approvers, then the controller."""

    def __init__(self, system, staff):
        self.system, self.api = system, system.api
        self.company = system.new_company(staff, "Approvals", password=PASSWORD)
        self.admin, self.admin_id = self.company.admin, self.company.admin_id
        self.users = {}
        for key, locale in (("buyer", "en"), ("chloe", "fr"), ("david", "en"),
                            ("controller", "en"), ("delegate", "en")):
            self.add_user(key, locale)
        r = staff.post(self.api + "/backoffice/products/import", data=CSV,
                       headers={"Content-Type": "text/csv"})
        assert r.status_code == 200 and r.json()["rejected"] == [], r.text
        r = self.admin.post(self.api + "/approval-workflows", json={
            "name": "Over 2,000", "buyers": {"user_ids": [self.id("buyer")]},
            "rules": [{"type": "order_total_over", "amount": cad("2000.00")}],
            "steps": [{"approvers": {"user_ids": [self.id("chloe"), self.id("david")]}, "required": 2},
                      {"approvers": {"user_ids": [self.id("controller")]}, "required": 1}]})
        assert r.status_code == 201, r.text
        self.workflow = r.json()

    def add_user(self, key, locale):
        self.users[key] = self.company.add_user(first_name=key.title(), locale=locale,
                                                groups=["users"])

    def id(self, key):
        return self.users[key]["id"]

    def as_(self, key):
        return self.users[key]["session"]

    def order(self, key="buyer", part="E2E-APR-LAPTOP", quantity=1):
        s = self.as_(key) if key != "admin" else self.admin
        cart = s.post(self.api + "/carts", json={"name": "c"}).json()
        r = s.post(self.api + f"/carts/{cart['id']}/items",
                   json={"part_number": part, "quantity": quantity})
        assert r.status_code == 201, r.text
        r = s.post(self.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
            "cart_id": cart["id"], "payment": {"method": "purchase_order", "po_number": "PO-1"},
            "shipping_address": ADDRESS})
        assert r.status_code == 201, r.text
        return r.json()["number"]

    def status(self, number, key="buyer"):
        s = self.as_(key) if key != "admin" else self.admin
        return s.get(self.api + f"/orders/{number}").json()["status"]

    def pending(self, key, number):
        items = self.as_(key).get(self.api + "/approvals", params={"status": "pending"}).json()["items"]
        return next((i for i in items if i["order_number"] == number), None)

    def wait_pending(self, key, number):
        return wait_for(lambda: self.pending(key, number), timeout=20, interval=0.2,
                        message=f"{number} in {key}'s inbox")


@pytest.fixture(scope="module")
def org(system, staff):
    return Org(system, staff)


def test_only_pas_admins_manage_workflows_and_bad_ones_are_refused(org):
    api = org.api
    assert org.as_("buyer").get(api + "/approval-workflows").status_code == 403
    assert org.as_("buyer").post(api + "/approval-workflows", json={}).status_code == 403
    good = {"name": "x", "buyers": {"user_ids": [org.id("buyer")]},
            "rules": [{"type": "order_total_over", "amount": cad("10.00")}],
            "steps": [{"approvers": {"user_ids": [org.id("david")]}}]}
    for bad, field in (({**good, "rules": [{"type": "order_total_over",
                                            "amount": {"amount": "10", "currency": "USD"}}]}, "rules"),
                       ({**good, "steps": []}, "steps"),
                       ({**good, "rules": [{"type": "category"}]}, "rules"),
                       ({**good, "rules": [{"type": "moon_phase"}]}, "rules"),
                       ({**good, "steps": [{"approvers": {}}]}, "steps")):
        r = org.admin.post(api + "/approval-workflows", json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["Content-Type"] == "application/problem+json" and field in r.json()["errors"]
    # users and groups of another company (the first company's, ids 1) or of nobody: the
    # company's orders would wait for approvers who never see them
    for people in ({"user_ids": [1]}, {"group_ids": [1]}, {"user_ids": [999999]},
                   {"user_ids": [org.id("david")], "group_ids": [999999]}):
        r = org.admin.post(api + "/approval-workflows", json={**good, "steps": [
            {"approvers": people}]})
        assert r.status_code == 422 and r.json()["code"] == "people_not_found", r.text
        assert "approvers" in r.json()["errors"]["steps"]["0"]
    wf = org.workflow["id"]
    r = org.admin.patch(api + f"/approval-workflows/{wf}", json={"buyers": {"group_ids": [1]}})
    assert r.status_code == 422 and r.json()["errors"] == {
        "buyers": {"group_ids": ["not groups of your company: 1"]}}
    listed = org.admin.get(api + "/approval-workflows").json()["items"]
    assert [w["name"] for w in listed] == ["Over 2,000"]
    assert org.admin.get(api + "/approval-workflows/999999").status_code == 404


def test_the_preview_says_who_must_approve_and_why(org):
    api, buyer = org.api, org.as_("buyer")
    r = buyer.post(api + "/approvals/preview",
                   json={"lines": [{"part_number": "E2E-APR-LAPTOP", "quantity": 1}]})
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["approval_required"] is True
    (wf,) = preview["workflows"]
    assert wf["triggered_by"][0]["description"]["en"] == "Order total over 2,000.00 CAD"
    assert [[p["user_id"] for p in s["approvers"]] for s in wf["steps"]] == \
        [[org.id("chloe"), org.id("david")], [org.id("controller")]]
    assert preview["totals"]["total"] == cad("2400.00")
    cart = buyer.post(api + "/carts", json={"name": "mice"}).json()
    buyer.post(api + f"/carts/{cart['id']}/items", json={"part_number": "E2E-APR-MOUSE", "quantity": 2})
    r = buyer.post(api + "/approvals/preview", json={"cart_id": cart["id"]})
    assert r.status_code == 200 and r.json()["approval_required"] is False
    assert buyer.post(api + "/approvals/preview", json={}).status_code == 422
    assert buyer.post(api + "/approvals/preview", json={"cart_id": 999999}).status_code == 404


def test_an_order_no_workflow_applies_to_is_approved_at_once(org):
    number = org.order(part="E2E-APR-MOUSE")
    wait_for(lambda: org.status(number) == "approved", timeout=20, interval=0.2)


def test_two_steps_two_approvers_at_once_then_the_controller(org):
    system, api = org.system, org.api
    number = org.order()
    assert org.status(number) == "pending_approval"
    request = org.wait_pending("chloe", number)
    assert request["lines"][0]["part_number"] == "E2E-APR-LAPTOP"
    assert request["totals"]["total"] == cad("2400.00")
    assert request["workflows"][0]["triggered_by"][0]["rule"]["type"] == "order_total_over"
    org.wait_pending("david", number)
    # Chloé reads French
    mail = system.wait_mail(lambda m: org.users["chloe"]["email"] in str(m["To"])
                            and number in str(m["Subject"]))
    assert str(mail["Subject"]).startswith("Approbation requise")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Total de la commande supérieur à 2\u202f000,00 CAD" in text
    assert f"/approvals/{request['id']}" in text
    # the buyer cannot approve, and the controller's step has not come yet
    assert org.as_("buyer").post(api + f"/approvals/{request['id']}/approve", json={}).status_code == 403
    assert org.as_("controller").post(api + f"/approvals/{request['id']}/approve",
                                      json={}).status_code == 403

    barrier, replies = threading.Barrier(2), {}

    def approve(key):
        barrier.wait()
        replies[key] = org.as_(key).post(api + f"/approvals/{request['id']}/approve",
                                         json={"comment": f"ok from {key}"})
    threads = [threading.Thread(target=approve, args=(k,)) for k in ("chloe", "david")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [replies[k].status_code for k in ("chloe", "david")] == [200, 200], \
        [r.text for r in replies.values()]
    again = org.as_("chloe").post(api + f"/approvals/{request['id']}/approve", json={})
    assert again.status_code == 403  # step 1 is over for her
    # the step moved on exactly once: one request to the controller
    org.wait_pending("controller", number)
    assert org.pending("chloe", number) is None and org.status(number) == "pending_approval"
    r = org.as_("controller").post(api + f"/approvals/{request['id']}/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    wait_for(lambda: org.status(number) == "approved", timeout=20, interval=0.2)
    placed = org.as_("buyer").get(api + f"/orders/{number}").json()
    history = placed["status_history"]
    assert [h["status"] for h in history] == ["pending_approval", "approved"]
    assert history[1]["by"]["user_id"] == org.id("controller")
    # the buyer follows the whole approval trail from the order
    trail = org.as_("buyer").get(api + f"/approvals/{placed['approval_id']}").json()
    deciders = [(d["step"], d["by"]["user_id"]) for d in trail["workflows"][0]["decisions"]]
    assert sorted(deciders) == sorted([(1, org.id("chloe")), (1, org.id("david")),
                                       (2, org.id("controller"))])
    system.wait_mail(lambda m: org.users["buyer"]["email"] in str(m["To"])
                     and number in str(m["Subject"]) and "approved" in str(m["Subject"]).lower())
    audit = org.admin.get(api + "/approval-audit").json()["items"]
    mine = [e for e in audit if e["order_number"] == number]
    assert sorted(e["action"] for e in mine) == ["approved", "approved", "approved",
                                                 "requested", "requested"]
    csv = org.admin.get(api + "/approval-audit", params={"format": "csv"})
    assert csv.headers["Content-Type"].startswith("text/csv") and csv.text.startswith("\ufeffat,action")
    assert number in csv.text
    assert org.as_("buyer").get(api + "/approval-audit").status_code == 403


def test_a_rejection_with_its_comment_reaches_the_buyer(org):
    system, api = org.system, org.api
    number = org.order()
    request = org.wait_pending("david", number)
    r = org.as_("david").post(api + f"/approvals/{request['id']}/reject", json={})
    assert r.status_code == 422 and "comment" in r.json()["errors"]
    r = org.as_("david").post(api + f"/approvals/{request['id']}/reject",
                              json={"comment": "Use the refurbished stock"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    wait_for(lambda: org.status(number) == "rejected", timeout=20, interval=0.2)
    mail = system.wait_mail(lambda m: org.users["buyer"]["email"] in str(m["To"])
                            and number in str(m["Subject"]) and "rejected" in str(m["Subject"]).lower())
    assert "Use the refurbished stock" in mail.get_body(preferencelist=("plain",)).get_content()
    r = org.as_("chloe").post(api + f"/approvals/{request['id']}/approve", json={})
    assert r.status_code == 409 and r.json()["code"] == "approval_closed"


def test_a_cancelled_order_leaves_the_inbox(org):
    number = org.order()
    org.wait_pending("chloe", number)
    assert org.as_("buyer").post(org.api + f"/orders/{number}/cancel", json={}).status_code == 200
    wait_for(lambda: org.pending("chloe", number) is None, timeout=20, interval=0.2,
             message="the request to leave the inbox")


def test_another_company_sees_none_of_it(org, system, staff):
    other = system.new_company(staff, "Elsewhere").admin
    api = org.api
    number = org.order()
    request = org.wait_pending("chloe", number)
    for method, path in (("get", f"/approvals/{request['id']}"),
                         ("post", f"/approvals/{request['id']}/approve"),
                         ("post", f"/approvals/{request['id']}/reject"),
                         ("get", f"/approval-workflows/{org.workflow['id']}"),
                         ("patch", f"/approval-workflows/{org.workflow['id']}"),
                         ("delete", f"/approval-workflows/{org.workflow['id']}")):
        kwargs = {"json": {"comment": "x"} if method == "post" else {"name": "x"}} \
            if method in ("post", "patch") else {}
        r = getattr(other, method)(api + path, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert other.get(api + "/approvals").json()["items"] == []
    assert all(e["order_number"] != number
               for e in other.get(api + "/approval-audit").json()["items"])
    assert org.pending("chloe", number) is not None


def test_a_buyer_approves_their_own_order_only_if_the_company_allows_it(org):
    api = org.api
    r = org.admin.post(api + "/approval-workflows", json={
        "name": "Admin's notebooks", "buyers": {"user_ids": [org.admin_id]},
        "rules": [{"type": "category", "categories": ["Notebooks"]}],
        "steps": [{"approvers": {"user_ids": [org.admin_id, org.id("david")]}, "required": 1}]})
    assert r.status_code == 201, r.text
    number = org.order("admin")
    request = org.wait_pending("david", number)
    r = org.admin.post(api + f"/approvals/{request['id']}/approve", json={})
    assert r.status_code == 403 and r.json()["code"] == "own_order"
    assert org.admin.put(api + "/approval-settings", json={"allow_self_approval": True}).status_code == 200
    number = org.order("admin")
    request = org.wait_pending("david", number)
    r = org.admin.post(api + f"/approvals/{request['id']}/approve", json={})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    wait_for(lambda: org.status(number, "admin") == "approved", timeout=20, interval=0.2)
    assert org.admin.put(api + "/approval-settings", json={"allow_self_approval": False}).json() \
        ["allow_self_approval"] is False
    org.admin.delete(api + f"/approval-workflows/{r.json()['workflows'][0]['workflow_id']}")


def test_a_delegate_decides_while_the_approver_is_away(org):
    from datetime import date, timedelta
    api = org.api
    today = date.today()
    assert org.as_("david").get(api + "/approval-delegations").status_code == 404
    r = org.as_("david").put(api + "/approval-delegations", json={
        "delegate_user_id": org.id("delegate"), "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=3)).isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["delegate"]["user_id"] == org.id("delegate")
    bad = org.as_("david").put(api + "/approval-delegations", json={
        "delegate_user_id": 999999, "starts_on": today.isoformat(), "ends_on": today.isoformat()})
    assert bad.status_code == 422
    number = org.order()
    request = org.wait_pending("delegate", number)
    r = org.as_("delegate").post(api + f"/approvals/{request['id']}/approve", json={})
    assert r.status_code == 200
    assert org.pending("david", number) is None  # decided on his behalf
    assert org.as_("david").delete(api + "/approval-delegations").status_code == 204
    actions = [e["action"] for e in org.admin.get(api + "/approval-audit").json()["items"]]
    assert "delegation_set" in actions and "delegation_removed" in actions


def test_an_edited_workflow_leaves_open_requests_as_they_started(org):
    api = org.api
    number = org.order()
    request = org.wait_pending("chloe", number)
    wf = org.workflow
    r = org.admin.patch(api + f"/approval-workflows/{wf['id']}", json={
        "steps": [{"approvers": {"user_ids": [org.id("controller")]}, "required": 1}]})
    assert r.status_code == 200 and r.json()["version"] == wf["version"] + 1
    # the open request still waits for step 1 of the version it started with
    assert org.pending("chloe", number) is not None and org.pending("controller", number) is None
    # a new order follows the new version
    newer = org.order()
    org.wait_pending("controller", newer)
    assert org.pending("chloe", newer) is None
    r = org.admin.patch(api + f"/approval-workflows/{wf['id']}", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    number = org.order()
    wait_for(lambda: org.status(number) == "approved", timeout=20, interval=0.2)
    assert org.admin.delete(api + f"/approval-workflows/{wf['id']}").status_code == 204
    assert org.admin.get(api + f"/approval-workflows/{wf['id']}").status_code == 404

