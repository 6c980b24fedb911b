"""The foundation slice over HTTP, as a customer and the reseller's staff would drive it:
company creation with a set-password email, product import, a product page, a cart, an
idempotent checkout, automatic approval, the confirmation email and the orders report."""
import uuid

import pytest
import requests

from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSV = """part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability
E2E-LAT-5450,N021L545014CA,Dell,Notebooks,Dell Latitude 5450 14in i5,"Business notebook, 16 GB, 512 GB SSD",1649.00,CAD,en,in_stock
E2E-MX-KEYS,920-009295,Logitech,Accessories,Logitech MX Keys,Wireless keyboard,139.99,CAD,en,in_stock
"""


@pytest.fixture(scope="module")
def company(system, staff):
    company = system.new_company(staff, "Contoso")
    return {"id": company.id, "admin": company.admin, "email": company.admin_email}


def test_health_docs_and_metrics(system):
    assert requests.get(system.url + "/healthz").json() == {"status": "ok"}
    ready = requests.get(system.url + "/readyz").json()
    assert ready["ready"] and set(ready["services"]) >= {"identity", "catalog", "orders"}
    spec = requests.get(system.api + "/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/v1/orders" in spec["paths"]
    page = requests.get(system.url + "/docs")
    assert "swagger-ui-bundle.js" in page.text
    assert requests.get(system.url + "/docs/swagger-ui-bundle.js").status_code == 200
    assert "procura_entrypoint_requests_total" in requests.get(system.url + "/metrics").text


def test_errors_are_problem_json(system, company):
    r = requests.get(system.api + "/carts")
    assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"
    admin = company["admin"]
    r = admin.post(system.api + "/carts", data="{not json", headers={"X-Request-Id": "req-e2e-1"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert r.headers["X-Request-Id"] == "req-e2e-1"
    # nested past what the parser can follow (a 10 KB body), or NaN, which JSON does not have
    deep = "[" * 5000 + "]" * 5000
    for body in (deep, '{"name": NaN}', '{"name": "x", "n": Infinity}'):
        r = admin.post(system.api + "/carts", data=body,
                       headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "malformed_json", (body[:20], r.text)
    r = requests.post(system.api + "/auth/login", data=deep,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    # text no database or email can keep is refused before any service sees it: an order
    # taken with it would have been lost by the services that report and email it
    r = requests.post(system.api + "/auth/login",
                      data='{"username": "\\ud800", "password": "x"}',
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    checkout = {"cart_id": 1, "payment": {"method": "purchase_order", "po_number": "PO-1"},
                "shipping_address": {"name": "HQ\x00", "line1": "1 Main", "city": "Ottawa",
                                     "postal_code": "K1A 0A1", "country": "CA"}}
    r = admin.post(system.api + "/orders", json=checkout,
                   headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 422 and r.json()["code"] == "nul_character", r.text
    assert "name" in r.json()["errors"]["shipping_address"]
    r = admin.post(system.api + "/carts", json={"name": "x", "n": 10 ** 40})
    assert r.status_code == 422 and r.json()["code"] == "number_out_of_range"
    assert r.json()["errors"] == {"n": ["a whole number beyond 64 bits"]}
    # PunchOut's OCI login reads what fields it can: none in it, as in an empty body
    empty = requests.post(system.api + "/punchout/oci", data="{}",
                          headers={"Content-Type": "application/json"}, allow_redirects=False)
    r = requests.post(system.api + "/punchout/oci", data=deep,
                      headers={"Content-Type": "application/json"}, allow_redirects=False)
    assert r.status_code == empty.status_code == 422
    assert r.headers["Content-Type"] == empty.headers["Content-Type"]
    # ids, cursors and dates at the ends of their ranges
    r = admin.get(system.api + "/products", params={"catalog_id": 2 ** 63})
    assert r.status_code == 422 and "catalog_id" in r.json()["errors"], r.text
    for key in ("orders_summary", "order_lines"):
        r = admin.get(system.api + f"/reports/{key}", params={"cursor": str(2 ** 63)})
        assert r.status_code == 422 and r.json()["code"] == "invalid_cursor", r.text
        r = admin.get(system.api + f"/reports/{key}", params={"to": "9999-12-31"})
        assert r.status_code == 200, r.text
    r = admin.get(system.api + "/assets", params={"cursor": str(2 ** 63)})
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor", r.text
    r = admin.get(system.api + "/orders", params={"to": "9999-12-31"})
    assert r.status_code == 200, r.text
    r = admin.post(system.api + "/carts", json={"name": ""})
    assert r.status_code == 422 and "name" in r.json()["errors"]
    r = admin.post(system.api + "/carts", data="x" * (1024 * 1024 + 10),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = admin.get(system.api + "/orders/SO-9999999")
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"


def test_order_from_import_to_report(system, staff, company):
    r = staff.post(system.api + "/backoffice/products/import", data=CSV,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == []

    admin = company["admin"]
    product = admin.get(system.api + "/products/E2E-LAT-5450")
    assert product.status_code == 200, product.text
    assert product.json()["price"] == {"amount": "1649.00", "currency": "CAD"}

    cart = admin.post(system.api + "/carts", json={"name": "Laptops"}).json()
    r = admin.post(system.api + f"/carts/{cart['id']}/items",
                   json={"part_number": "E2E-LAT-5450", "quantity": 2})
    assert r.status_code == 201, r.text
    assert r.json()["totals"]["total"] == {"amount": "3298.00", "currency": "CAD"}

    checkout = {"cart_id": cart["id"], "payment": {"method": "purchase_order", "po_number": "PO-77"},
                "shipping_address": {"name": "Contoso HQ", "line1": "1 King St W",
                                     "city": "Toronto", "region": "ON", "postal_code": "M5H 1A1",
                                     "country": "CA"}}
    key = uuid.uuid4().hex
    r = admin.post(system.api + "/orders", json=checkout, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending_approval"
    # a retry with the same key replays the first reply: no second order
    again = admin.post(system.api + "/orders", json=checkout, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["number"] == order["number"]
    other = admin.post(system.api + "/orders", json={**checkout, "notes": "x"},
                       headers={"Idempotency-Key": key})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"

    number = order["number"]
    approved = wait_for(lambda: admin.get(system.api + f"/orders/{number}").json()
                          if admin.get(system.api + f"/orders/{number}").json()["status"] == "approved"
                          else None, timeout=30)
    assert [h["status"] for h in approved["status_history"]] == ["pending_approval", "approved"]
    assert len(admin.get(system.api + "/orders").json()["items"]) == 1

    mail = system.wait_mail(lambda m: company["email"] in str(m["To"]) and number in str(m["Subject"]))
    assert number in mail.get_body(preferencelist=("plain",)).get_content()

    def reported():
        rows = admin.get(system.api + "/reports/orders_summary").json()["items"]
        return rows if rows and rows[0]["status"] == "approved" else None
    rows = wait_for(reported, timeout=30)
    assert rows[0]["orders"] == 1 and rows[0]["total"] == "3298.00"
    csv = admin.get(system.api + "/reports/orders_summary", params={"format": "csv"})
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "\ufeffmonth,status,orders,total,currency"
    assert "3298.00" in csv.text


def test_fulfilment_ship_deliver_invoice(system, staff, company):
    admin = company["admin"]
    cart = admin.post(system.api + "/carts", json={"name": "Keyboards"}).json()
    admin.post(system.api + f"/carts/{cart['id']}/items",
               json={"part_number": "E2E-MX-KEYS", "quantity": 3})
    order = admin.post(system.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "cart_id": cart["id"], "payment": {"method": "account"},
        "shipping_address": {"name": "Contoso QC", "line1": "500 rue Sherbrooke O",
                             "city": "Montréal", "region": "QC", "postal_code": "H3A 3C6",
                             "country": "CA"}}).json()
    number = order["number"]
    wait_for(lambda: admin.get(system.api + f"/orders/{number}").json()["status"] == "approved",
             timeout=30)
    assert admin.get(system.api + f"/orders/{number}/delivery-note").status_code == 404
    assert staff.post(system.api + f"/backoffice/orders/{number}/invoice", json={}).status_code == 409
    # a buyer is not staff
    assert admin.post(system.api + f"/backoffice/orders/{number}/ship",
                      json={"carrier": "UPS", "tracking_number": "1Z999"}).status_code == 403
    shipped = staff.post(system.api + f"/backoffice/orders/{number}/ship",
                         json={"carrier": "Purolator", "tracking_number": "329001234"})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["shipments"][0]["tracking_url"].endswith("pin=329001234")
    r = admin.post(system.api + f"/orders/{number}/cancel", json={})
    assert r.status_code == 409 and r.json()["code"] == "already_shipped"
    r = staff.post(system.api + f"/backoffice/orders/{number}/deliver",
                   json={"delivery_note": "Signed by J. Tremblay, reception"})
    assert r.status_code == 200 and r.json()["status"] == "delivered"
    note = admin.get(system.api + f"/orders/{number}/delivery-note").json()
    assert note["deliveries"][0]["delivery_note"] == "Signed by J. Tremblay, reception"
    invoice = staff.post(system.api + f"/backoffice/orders/{number}/invoice", json={})
    assert invoice.status_code == 201, invoice.text
    assert invoice.json()["total"] == {"amount": "419.97", "currency": "CAD"}
    assert admin.post(system.api + f"/orders/{number}/invoice-copy", json={}).status_code == 202
    invoices = admin.get(system.api + "/invoices").json()["items"]
    assert [i["order_number"] for i in invoices] == [number]
    history = [h["status"] for h in admin.get(system.api + f"/orders/{number}").json()["status_history"]]
    assert history == ["pending_approval", "approved", "shipped", "delivered", "invoiced"]
    # the buyer hears about the shipment, with the carrier's tracking link
    mail = system.wait_mail(lambda m: company["email"] in str(m["To"])
                            and "329001234" in m.get_body(preferencelist=("plain",)).get_content())
    assert "purolator.com" in mail.get_body(preferencelist=("plain",)).get_content()
    # the reseller's billing desk receives the invoice-copy request
    system.wait_mail(lambda m: "billing@procura.example" in str(m["To"]))
