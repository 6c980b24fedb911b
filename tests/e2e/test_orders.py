"""Orders over HTTP on the running system: fulfilment through submitted and processing, a
partial shipment followed by the rest (each with its carrier, tracking number and delivery
note), who may cancel, billing accounts at checkout, paging and ids validated at the edge."""
import uuid

import pytest

from tests.support.waiting import wait_for

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
    company = system.new_company(staff, "Orders", password=PASSWORD)
    admin = company.admin
    r = staff.post(system.api + "/backoffice/products/import", data=CSV,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    linked = staff.post(system.api + f"/backoffice/companies/{company.id}/links",
                        json={"account_number": f"L-{uuid.uuid4().hex[:8]}", "name": "Branch"})
    assert linked.status_code == 201, linked.text
    users = {key: company.add_user(first_name=key, groups=groups)["session"]
             for key, groups in (("buyer", ["users"]), ("colleague", ["power_users"]),
                                 ("finance", ["finance_users"]))}
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


def test_quotes_hold_their_prices_and_convert_once(system, staff, org):
    from datetime import date, timedelta

    from sqlalchemy import create_engine, text
    api, buyer, colleague = system.api, org["users"]["buyer"], org["users"]["colleague"]
    company_id = org["company"]["id"]
    body = {"company_id": company_id, "expires_on": (date.today() + timedelta(days=30)).isoformat(),
            "lines": [{"part_number": "E2E-ORD-DOCK", "quantity": 4,
                       "unit_price": {"amount": "249.00", "currency": "CAD"}}]}
    assert buyer.post(api + "/backoffice/quotes", json=body).status_code == 403
    r = staff.post(api + "/backoffice/quotes", json={**body, "lines": [
        {"part_number": "E2E-ORD-DOCK", "quantity": 1, "unit_price": {"amount": "1", "currency": "USD"}},
        {"part_number": "NOPE-404", "quantity": 1, "unit_price": {"amount": "1", "currency": "CAD"}}]})
    assert r.status_code == 422 and set(r.json()["errors"]["lines"]) == {"0", "1"}
    r = staff.post(api + "/backoffice/quotes", json=body)
    assert r.status_code == 201, r.text
    quote = r.json()
    assert quote["status"] == "open" and quote["totals"]["total"] == {"amount": "996.00", "currency": "CAD"}
    assert [q["id"] for q in buyer.get(api + "/quotes").json()["items"]] == [quote["id"]]

    checkout = {"payment": {"method": "purchase_order", "po_number": "PO-Q1"}, "shipping_address": ADDRESS}
    first_key = uuid.uuid4().hex
    r = buyer.post(api + f"/quotes/{quote['id']}/convert", json=checkout,
                   headers={"Idempotency-Key": first_key})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["lines"][0]["unit_price"] == {"amount": "249.00", "currency": "CAD"}  # not 289.00
    assert order["totals"]["total"] == {"amount": "996.00", "currency": "CAD"}
    again = buyer.post(api + f"/quotes/{quote['id']}/convert", json=checkout,
                       headers={"Idempotency-Key": first_key})
    assert again.status_code == 201 and again.json()["number"] == order["number"]
    other = buyer.post(api + f"/quotes/{quote['id']}/convert", json=checkout,
                       headers={"Idempotency-Key": uuid.uuid4().hex})
    assert other.status_code == 409 and other.json()["code"] == "quote_converted"
    assert buyer.get(api + f"/quotes/{quote['id']}").json()["order_number"] == order["number"]
    approved(system, buyer, order["number"])

    # a quote named for the colleague is theirs; one that expired cannot be ordered
    named = staff.post(api + "/backoffice/quotes", json={
        **body, "buyer_user_id": colleague.get(api + "/me").json()["id"]}).json()
    assert buyer.get(api + f"/quotes/{named['id']}").status_code == 404
    assert colleague.get(api + f"/quotes/{named['id']}").status_code == 200
    engine = create_engine(system.env["ORDERS_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE quotes SET expires_on = :d WHERE id = :i"),
                     {"d": date.today() - timedelta(days=1), "i": named["id"]})
    engine.dispose()
    r = colleague.post(api + f"/quotes/{named['id']}/convert", json=checkout,
                       headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 409 and r.json()["code"] == "quote_expired"
    assert colleague.get(api + f"/quotes/{named['id']}").json()["status"] == "expired"


SUBSCRIPTION_CSV = """part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability,subscription_term
E2E-SUB-M365,CFQ7TTC0LCHC,Microsoft,Software Licenses,Microsoft 365 Business Premium,Monthly seat,29.40,CAD,en,in_stock,monthly
"""


def add_card(system, session, nickname):
    from datetime import date
    r = session.post(system.api + "/me/payment-cards", json={
        "number": "4111111111111111", "exp_month": 9, "exp_year": date.today().year + 2,
        "cvc": "737", "holder_first_name": "Bea", "holder_last_name": "Buyer",
        "nickname": nickname, "consent": True})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_subscriptions_renew_once_and_end_when_the_card_goes(system, staff, org):
    api, buyer = system.api, org["users"]["buyer"]
    assert staff.post(api + "/backoffice/products/import", data=SUBSCRIPTION_CSV,
                      headers={"Content-Type": "text/csv"}).json()["rejected"] == []
    assert buyer.get(api + "/products/E2E-SUB-M365").json()["subscription_term"] == "monthly"
    # a subscription is paid by a saved card
    r = place(system, buyer, [("E2E-SUB-M365", 3)])
    assert r.status_code == 422 and r.json()["code"] == "card_required_for_subscription"
    card_id = add_card(system, buyer, "Licences")
    r = buyer.post(api + "/subscriptions", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "part_number": "E2E-SUB-M365", "quantity": 3, "card_id": card_id, "shipping_address": ADDRESS})
    assert r.status_code == 201, r.text
    sub = r.json()["subscription"]
    assert sub["term"] == "monthly" and sub["status"] == "active" and sub["card_problem"] is None
    approved(system, buyer, r.json()["order"]["number"])

    due = sub["next_renewal_on"]
    assert "1 renewed" in system.cli("subscriptions", "renew", "--today", due)
    assert "0 renewed" in system.cli("subscriptions", "renew", "--today", due)  # once per date
    renewed = buyer.get(api + f"/subscriptions/{sub['id']}").json()
    assert [x["due_on"] for x in renewed["renewals"]] == [due]
    assert renewed["next_renewal_on"] > due
    renewal_order = renewed["renewals"][0]["order_number"]
    order = approved(system, buyer, renewal_order)  # through approvals like any order
    assert order["totals"]["total"] == {"amount": "88.20", "currency": "CAD"}
    assert order["payment"]["method"] == "card"
    system.wait_mail(lambda m: renewal_order in str(m["Subject"]) and "renewed" in str(m["Subject"]).lower())

    # the card goes: flagged at once, the owner told, cancelled at the next renewal
    assert buyer.delete(api + f"/me/payment-cards/{card_id}").status_code == 204
    wait_for(lambda: buyer.get(api + f"/subscriptions/{sub['id']}").json()["card_problem"] == "card_removed",
             timeout=20, interval=0.2, message="the subscription to be flagged")
    system.wait_mail(lambda m: "Action needed" in str(m["Subject"]) and "Microsoft 365" in str(m["Subject"]))
    assert "cancelled" in system.cli("subscriptions", "renew", "--today", renewed["next_renewal_on"])
    ended = buyer.get(api + f"/subscriptions/{sub['id']}").json()
    assert ended["status"] == "cancelled" and ended["cancel_reason"] == "card_removed"
    assert len(ended["renewals"]) == 1


def test_a_subscription_switches_cards_and_its_owner_cancels_it(system, org):
    api, buyer, colleague = system.api, org["users"]["buyer"], org["users"]["colleague"]
    first, second = add_card(system, buyer, "Old"), add_card(system, buyer, "New")
    sub = buyer.post(api + "/subscriptions", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "part_number": "E2E-SUB-M365", "quantity": 1, "card_id": first,
        "shipping_address": ADDRESS}).json()["subscription"]
    r = buyer.patch(api + f"/subscriptions/{sub['id']}", json={"card_id": second})
    assert r.status_code == 200 and r.json()["card_id"] == second
    assert buyer.patch(api + f"/subscriptions/{sub['id']}", json={"card_id": 999999}).status_code == 404
    assert colleague.post(api + f"/subscriptions/{sub['id']}/cancel", json={}).status_code == 403
    r = buyer.post(api + f"/subscriptions/{sub['id']}/cancel", json={})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert buyer.post(api + f"/subscriptions/{sub['id']}/cancel", json={}).status_code == 409
    assert sub["id"] in [x["id"] for x in buyer.get(api + "/subscriptions").json()["items"]]


def test_orders_filtered_by_day_and_words_and_staff_see_every_company(system, staff, org):
    from datetime import date, timedelta
    api, buyer = system.api, org["users"]["buyer"]
    number = place(system, buyer, [("E2E-ORD-DOCK", 1)], notes="for the Laval office").json()["number"]
    today = date.today()

    def numbers(session, path="/orders", **params):
        r = session.get(api + path, params=params)
        assert r.status_code == 200, r.text
        return [o["number"] for o in r.json()["items"]]
    assert number in numbers(buyer, q="laval")
    assert number in numbers(buyer, q="e2e-ord-dock", **{"from": today.isoformat(), "to": today.isoformat()})
    assert number not in numbers(buyer, q="no such words")
    assert numbers(buyer, **{"to": (today - timedelta(days=1)).isoformat()}) == []
    assert buyer.get(api + "/orders", params={"from": "yesterday"}).status_code == 422
    assert buyer.get(api + "/backoffice/orders").status_code == 403
    mine = staff.get(api + "/backoffice/orders", params={"company_id": org["company"]["id"], "q": number})
    assert [o["number"] for o in mine.json()["items"]] == [number]
    assert mine.json()["items"][0]["company_id"] == org["company"]["id"]
