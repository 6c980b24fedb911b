"""Orders over HTTP on the running system: fulfilment through submitted and processing, a
partial shipment followed by the rest (each with its carrier, tracking number and delivery
note), who may cancel, billing accounts at checkout, paging and ids validated at the edge."""
import uuid

import pytest

from services.common.testing import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSV = """part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability
E2E-ORD-DOCK,40B00135US,Lenovo,Docking,Lenovo USB-C Dock,Dock,289.00,CAD,en,in_stock
E2E-ORD-CABLE,4X90U90619,Lenovo,Cables,Lenovo USB-C cable,Cable,19.00,CAD,en,in_stock
"""
PASSWORD = "Orders-e2e-2026!"
ADDRESS = {"name": "HQ", "line1": "1 King St W", "city": "Toronto", "region": "ON",
           "postal_code": "M5H 1A1", "country": "CA"}


@pytest.fixture(scope="module")
def org(system, staff):
    admin, info = system.new_company(staff, "Orders")
    r = staff.post(system.api + "/backoffice/products/import", data=CSV,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    linked = staff.post(system.api + f"/backoffice/companies/{info['company_id']}/links",
                        json={"account_number": f"L-{uuid.uuid4().hex[:8]}", "name": "Branch"})
    assert linked.status_code == 201, linked.text
    users = {}
    for key, groups in (("buyer", ["users"]), ("colleague", ["power_users"]),
                        ("finance", ["finance_users"])):
        tag = uuid.uuid4().hex[:8]
        username, email = f"{key}.{tag}", f"{key}.{tag}@orders.test"
        r = admin.post(system.api + "/company/users", json={
            "username": username, "email": email, "first_name": key, "last_name": "Test",
            "locale": "en", "groups": groups})
        assert r.status_code == 201, r.text
        system.set_password(email, username, PASSWORD)
        users[key] = system.session(username, PASSWORD)
    return {"admin": admin, "users": users, "linked": linked.json()["id"],
            "company": admin.get(system.api + "/company").json()}


def place(system, session, lines, **extra):
    cart = session.post(system.api + "/carts", json={"name": "c"}).json()
    for part, qty in lines:
        r = session.post(system.api + f"/carts/{cart['id']}/items",
                         json={"part_number": part, "quantity": qty})
        assert r.status_code == 201, r.text
    body = {"cart_id": cart["id"], "payment": {"method": "account"}, "shipping_address": ADDRESS,
            **extra}
    return session.post(system.api + "/orders", json=body,
                        headers={"Idempotency-Key": uuid.uuid4().hex})


def approved(system, session, number):
    return wait_for(lambda: session.get(system.api + f"/orders/{number}").json()
                    if session.get(system.api + f"/orders/{number}").json()["status"] == "approved"
                    else None, timeout=20, interval=0.2)


def test_a_partial_shipment_then_the_rest(system, staff, org):
    buyer, api = org["users"]["buyer"], system.api
    r = place(system, buyer, [("E2E-ORD-DOCK", 3), ("E2E-ORD-CABLE", 5)])
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    order = approved(system, buyer, number)
    assert staff.post(api + f"/backoffice/orders/{number}/accept", json={}).json()["status"] == "submitted"
    assert staff.post(api + f"/backoffice/orders/{number}/process", json={}).json()["status"] == "processing"
    dock = next(l for l in order["lines"] if l["part_number"] == "E2E-ORD-DOCK")
    r = staff.post(api + f"/backoffice/orders/{number}/ship", json={
        "carrier": "UPS", "tracking_number": "1Z001", "lines": [{"line_id": dock["id"], "quantity": 2}]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processing"
    r = staff.post(api + f"/backoffice/orders/{number}/ship", json={
        "carrier": "UPS", "tracking_number": "1Z002", "lines": [{"line_id": dock["id"], "quantity": 2}]})
    assert r.status_code == 422  # one dock is left
    r = staff.post(api + f"/backoffice/orders/{number}/deliver", json={"delivery_note": "Box 1 at reception"})
    assert r.status_code == 200 and r.json()["status"] == "processing"
    assert buyer.post(api + f"/orders/{number}/cancel", json={}).json()["code"] == "already_shipped"
    r = staff.post(api + f"/backoffice/orders/{number}/ship",
                   json={"carrier": "Purolator", "tracking_number": "329002"})
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    shipments = r.json()["shipments"]
    assert [(s["carrier"], [(l["part_number"], l["quantity"]) for l in s["lines"]]) for s in shipments] == [
        ("UPS", [("E2E-ORD-DOCK", 2)]),
        ("Purolator", [("E2E-ORD-DOCK", 1), ("E2E-ORD-CABLE", 5)])]
    r = staff.post(api + f"/backoffice/orders/{number}/deliver",
                   json={"delivery_note": "Box 2 at the dock", "shipment_id": shipments[1]["id"]})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    note = buyer.get(api + f"/orders/{number}/delivery-note").json()
    assert [d["delivery_note"] for d in note["deliveries"]] == ["Box 1 at reception", "Box 2 at the dock"]
    history = [h["status"] for h in buyer.get(api + f"/orders/{number}").json()["status_history"]]
    assert history == ["pending_approval", "approved", "submitted", "processing", "shipped", "delivered"]
    system.wait_mail(lambda m: number in str(m["Subject"]) and "1Z001" in
                     m.get_body(preferencelist=("plain",)).get_content())


def test_who_may_cancel(system, org):
    api, buyer, colleague = system.api, org["users"]["buyer"], org["users"]["colleague"]
    number = place(system, buyer, [("E2E-ORD-CABLE", 1)]).json()["number"]
    assert colleague.get(api + f"/orders/{number}").status_code == 200  # recent_orders reads it
    r = colleague.post(api + f"/orders/{number}/cancel", json={})
    assert r.status_code == 403 and r.json()["code"] == "not_your_order"
    r = org["admin"].post(api + f"/orders/{number}/cancel", json={})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_billing_accounts_at_checkout(system, org):
    own = next(a["id"] for a in org["company"]["billing_accounts"] if a["primary"])
    buyer, finance = org["users"]["buyer"], org["users"]["finance"]
    assert place(system, buyer, [("E2E-ORD-CABLE", 1)], billing_account_id=own).status_code == 201
    r = place(system, buyer, [("E2E-ORD-CABLE", 1)], billing_account_id=org["linked"])
    assert r.status_code == 422 and r.json()["code"] == "billing_account_not_allowed"
    assert place(system, finance, [("E2E-ORD-CABLE", 1)],
                 billing_account_id=org["linked"]).status_code == 201
    r = place(system, finance, [("E2E-ORD-CABLE", 1)], billing_account_id=999999)
    assert r.status_code == 422 and r.json()["code"] == "billing_account_invalid"


def test_paging_and_ids_are_validated_at_the_edge(system, org):
    buyer = org["users"]["buyer"]
    for path in ("/orders?cursor=x", "/invoices?cursor=x", "/orders?cursor=99999999999999999999999"):
        session = org["users"]["finance"] if path.startswith("/invoices") else buyer
        r = session.get(system.api + path)
        assert r.status_code == 422 and r.json()["code"] == "invalid_cursor", (path, r.text)
    r = buyer.get(system.api + "/carts/99999999999999999999999")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/problem+json"
    orders = buyer.get(system.api + "/orders", params={"limit": 1}).json()
    assert len(orders["items"]) == 1 and orders["next_cursor"]
    following = buyer.get(system.api + "/orders", params={"limit": 1, "cursor": orders["next_cursor"]})
    assert following.status_code == 200
    assert following.json()["items"][0]["number"] != orders["items"][0]["number"]
