"""Tenant isolation over HTTP: another company's users, groups, payment cards, carts,
orders and report figures are never listed, and naming one by its id answers 404 — never
403, which would confirm that it exists — even to a caller holding every right."""
import uuid

import pytest

from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Tenant-e2e-2026!"
ADDRESS = {"name": "Receiving", "line1": "10 Main St", "city": "Ottawa", "region": "ON",
           "postal_code": "K1A 0B1", "country": "CA"}
CARD = {"number": "4111111111111111", "exp_month": 12, "exp_year": 2035, "cvc": "123",
        "holder_first_name": "Bea", "holder_last_name": "Owner", "nickname": "Corporate",
        "consent": True}


class Tenant:
    """A company with its administrator (every right), a second user, a custom group, a
    saved card, a cart with a line, and a placed order."""

    def __init__(self, system, staff, name):
        self.api = system.api
        tag = uuid.uuid4().hex[:8]
        company = system.new_company(staff, name, password=PASSWORD)
        self.admin, self.company_id, self.admin_id = company.admin, company.id, company.admin_id

        r = self.admin.post(self.api + "/company/users", json={
            "username": f"buyer.{tag}", "email": f"buyer.{tag}@{name.lower()}.test",
            "first_name": "Bo", "last_name": name, "groups": ["users"]})
        assert r.status_code == 201, r.text
        self.user = r.json()
        r = self.admin.post(self.api + "/company/groups", json={"name": f"{name} auditors"})
        assert r.status_code == 201, r.text
        self.group = r.json()

        r = self.admin.post(self.api + "/me/payment-cards", json=CARD)
        assert r.status_code == 201, r.text
        self.card = r.json()

        part = self.admin.get(self.api + "/products", params={"limit": 1}).json()["items"][0]
        self.part_number = part["part_number"]
        self.cart = self.admin.post(self.api + "/carts", json={"name": f"{name} cart"}).json()
        r = self.admin.post(self.api + f"/carts/{self.cart['id']}/items",
                            json={"part_number": self.part_number, "quantity": 1})
        assert r.status_code == 201, r.text
        self.line_id = r.json()["lines"][0]["id"]

        order_cart = self.admin.post(self.api + "/carts", json={"name": "to order"}).json()
        self.admin.post(self.api + f"/carts/{order_cart['id']}/items",
                        json={"part_number": self.part_number, "quantity": 2})
        r = self.admin.post(self.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                            json={"cart_id": order_cart["id"], "shipping_address": ADDRESS,
                                  "payment": {"method": "purchase_order", "po_number": name}})
        assert r.status_code == 201, r.text
        self.order = r.json()

    def get(self, path, **kw):
        return self.admin.get(self.api + path, **kw)


@pytest.fixture(scope="module")
def tenants(system, staff):
    return Tenant(system, staff, "Alpha"), Tenant(system, staff, "Bravo")


def ids(page):
    return {item["id"] for item in page["items"]}


def test_each_company_sees_its_own_objects(tenants):
    # the objects exist and their owner reaches them: the 404s below are about tenancy
    for t in tenants:
        assert t.get(f"/company/users/{t.user['id']}").status_code == 200
        assert t.group["id"] in ids(t.get("/company/groups").json())
        assert t.card["id"] in ids(t.get("/me/payment-cards").json())
        assert t.get(f"/carts/{t.cart['id']}").status_code == 200
        assert t.get(f"/orders/{t.order['number']}").status_code == 200


def test_another_companys_objects_are_not_found(system, tenants):
    alpha, bravo = tenants
    s, api = alpha.admin, system.api
    attempts = [
        s.get(api + f"/company/users/{bravo.user['id']}"),
        s.get(api + f"/company/users/{bravo.admin_id}"),
        s.patch(api + f"/company/users/{bravo.user['id']}", json={"status": "disabled"}),
        s.patch(api + f"/company/users/{bravo.admin_id}", json={"unlock": True}),
        s.patch(api + f"/company/groups/{bravo.group['id']}", json={"name": "Taken over"}),
        s.delete(api + f"/company/groups/{bravo.group['id']}"),
        s.delete(api + f"/me/payment-cards/{bravo.card['id']}"),
        s.get(api + f"/carts/{bravo.cart['id']}"),
        s.patch(api + f"/carts/{bravo.cart['id']}", json={"name": "Mine now"}),
        s.post(api + f"/carts/{bravo.cart['id']}/items",
               json={"part_number": bravo.part_number, "quantity": 1}),
        s.post(api + f"/carts/{bravo.cart['id']}/quick-add",
               json={"lines": [{"part_number": bravo.part_number, "quantity": 1}]}),
        s.patch(api + f"/carts/{bravo.cart['id']}/items/{bravo.line_id}", json={"quantity": 5}),
        s.delete(api + f"/carts/{bravo.cart['id']}/items/{bravo.line_id}"),
        s.delete(api + f"/carts/{bravo.cart['id']}"),
        s.get(api + f"/orders/{bravo.order['number']}"),
        s.post(api + f"/orders/{bravo.order['number']}/cancel", json={}),
        s.get(api + f"/orders/{bravo.order['number']}/delivery-note"),
        s.post(api + f"/orders/{bravo.order['number']}/invoice-copy", json={}),
    ]
    for r in attempts:
        assert r.status_code == 404, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"

    # checking out someone else's cart
    r = s.post(api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
               json={"cart_id": bravo.cart["id"], "shipping_address": ADDRESS,
                     "payment": {"method": "purchase_order", "po_number": "X"}})
    assert r.status_code == 404, r.text
    # or naming another company's group when placing a user
    r = s.patch(api + f"/company/users/{alpha.user['id']}", json={"groups": [bravo.group["id"]]})
    assert r.status_code == 422 and r.json()["code"] == "unknown_group"

    # nothing changed for Bravo
    assert bravo.get(f"/company/users/{bravo.user['id']}").json()["status"] == "active"
    assert bravo.group["name"] in {g["name"] for g in bravo.get("/company/groups").json()["items"]}
    assert bravo.card["id"] in ids(bravo.get("/me/payment-cards").json())
    cart = bravo.get(f"/carts/{bravo.cart['id']}").json()
    assert cart["name"] == bravo.cart["name"]
    assert [line["quantity"] for line in cart["lines"]] == [1]
    assert bravo.get(f"/orders/{bravo.order['number']}").json()["status"] != "cancelled"


def test_another_companys_objects_are_never_listed(system, tenants):
    alpha, bravo = tenants
    users = alpha.get("/company/users", params={"limit": 200}).json()["items"]
    assert {u["id"] for u in users} == {alpha.admin_id, alpha.user["id"]}
    for q in (bravo.user["username"], "bravo"):
        assert alpha.get("/company/users", params={"q": q}).json()["items"] == []
    groups = alpha.get("/company/groups", params={"limit": 200}).json()["items"]
    assert bravo.group["id"] not in {g["id"] for g in groups}
    assert len(groups) == 5  # the four standard groups and Alpha's own
    assert ids(alpha.get("/me/payment-cards").json()) == {alpha.card["id"]}
    assert bravo.cart["id"] not in ids(alpha.get("/carts").json())
    numbers = {o["number"] for o in alpha.get("/orders", params={"limit": 200}).json()["items"]}
    assert numbers == {alpha.order["number"]}
    assert alpha.get("/company").json()["id"] == alpha.company_id


def test_reports_count_only_the_callers_company(system, tenants):
    alpha, bravo = tenants

    def orders_in_report(t):
        rows = t.get("/reports/orders_summary").json().get("items") or []
        return sum(row["orders"] for row in rows)
    # each company's own order reaches its report, and only its own
    wait_for(lambda: system.handled("orders", by="reporting"), timeout=20, interval=0.3,
             message="reporting to handle both companies' orders")
    assert orders_in_report(alpha) == 1 and orders_in_report(bravo) == 1
