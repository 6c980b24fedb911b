"""Reporting over HTTP on the running system: report rights, a report's figures against the
orders placed here, streamed CSV, a scheduled report by email (the schedule's clock moved by
`procura reporting run-schedules --at`), the rebuild, assets and software licenses."""
import csv
import io
import uuid
from decimal import Decimal

import pytest

from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Reporting-e2e-2026!"
TAG = uuid.uuid4().hex[:6].upper()
LAPTOP, SUITE = f"REP-{TAG}-LAT", f"REP-{TAG}-O365"
CSV = f"""part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability
{LAPTOP},N021L5450,Dell,Notebooks,Dell Latitude 5450,Notebook,1649.00,CAD,en,in_stock
{SUITE},KLQ-00211,Microsoft,Software,=Microsoft 365 Business,Yearly subscription,264.00,CAD,en,in_stock
"""
ADDRESS = {"name": "Contoso QC", "line1": "500 rue Sherbrooke O", "city": "Montréal",
           "region": "QC", "postal_code": "H3A 3C6", "country": "CA"}


def rows_of(reply):
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("text/csv")
    text = reply.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture(scope="module")
def company(system, staff):
    r = staff.post(system.api + "/backoffice/products/import", data=CSV,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["rejected"] == [], r.text
    company = system.new_company(staff, "Reporting", password=PASSWORD)
    admin = company.admin
    users = {group: company.add_user(first_name="Rae", last_name=group, groups=[group])["session"]
             for group in ("users", "power_users")}

    placed = []
    for lines in ([(LAPTOP, 2), (SUITE, 3)], [(LAPTOP, 1)]):
        cart = admin.post(system.api + "/carts", json={"name": "r"}).json()
        for part, qty in lines:
            r = admin.post(system.api + f"/carts/{cart['id']}/items",
                           json={"part_number": part, "quantity": qty})
            assert r.status_code == 201, r.text
        r = admin.post(system.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                       json={"cart_id": cart["id"], "shipping_address": ADDRESS,
                             "payment": {"method": "purchase_order", "po_number": "PO-R"}})
        assert r.status_code == 201, r.text
        placed.append(r.json())
    first = placed[0]["number"]
    wait_for(lambda: admin.get(system.api + f"/orders/{first}").json()["status"] == "approved", timeout=60)
    for step, body in (("ship", {"carrier": "Purolator", "tracking_number": f"P{TAG}"}),
                       ("deliver", {"delivery_note": "Signed"}), ("invoice", {})):
        r = staff.post(system.api + f"/backoffice/orders/{first}/{step}", json=body)
        assert r.status_code in (200, 201), r.text
    return {"admin": admin, "orders": placed, **users}


def test_report_rights(system, company):
    users, power, admin = company["users"], company["power_users"], company["admin"]
    assert users.get(system.api + "/reports").status_code == 403
    assert users.get(system.api + "/reports/order_lines").status_code == 403
    assert users.get(system.api + "/invoices").status_code == 403
    assert users.get(system.api + "/licenses").status_code == 403
    # power users hold order reports, not payment reports
    keys = {r["key"] for r in power.get(system.api + "/reports").json()["items"]}
    assert "order_lines" in keys and "invoices" not in keys
    assert power.get(system.api + "/reports/order_lines").status_code == 200
    r = power.get(system.api + "/reports/invoices")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert power.get(system.api + "/invoices").status_code == 403
    listed = admin.get(system.api + "/reports").json()["items"]
    assert len(listed) >= 17 and all(r["title"]["fr"] and r["title"]["en"] for r in listed)
    r = admin.get(system.api + "/reports/order_lines",
                  params={"from": "2021-01-01", "to": "2024-06-30"})
    assert r.status_code == 422 and r.json()["code"] == "range_too_long"


def test_report_figures_and_csv(system, company):
    admin = company["admin"]
    want = {}
    for order in company["orders"]:
        for line in order["lines"]:
            maker = "Dell" if line["part_number"] == LAPTOP else "Microsoft"
            qty, spend = want.get(maker, (0, Decimal(0)))
            want[maker] = (qty + line["quantity"], spend + Decimal(line["line_total"]["amount"]))

    def by_manufacturer():
        items = admin.get(system.api + "/reports/spend_by_manufacturer").json()["items"]
        got = {r["manufacturer"]: (r["quantity"], Decimal(r["spend"])) for r in items}
        return got if got == want else None
    # the system is shared by every end-to-end module: reporting may still be working
    # through what earlier ones did (the contract tests place many orders)
    wait_for(lambda: system.handled("orders", by="reporting"), timeout=120, interval=0.5,
             message="reporting to handle every event of orders")
    wait_for(by_manufacturer, timeout=30, message="the spend by manufacturer")

    page = admin.get(system.api + "/reports/order_lines", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = admin.get(system.api + "/reports/order_lines",
                     params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    dell = admin.get(system.api + "/reports/order_lines",
                     params={"manufacturer": "Dell"}).json()["items"]
    assert sum(r["quantity"] for r in dell) == want["Dell"][0]

    rows = rows_of(admin.get(system.api + "/reports/order_lines", params={"format": "csv"}))
    product = rows[0].index("product")
    assert len(rows) == 4
    assert "'=Microsoft 365 Business" in [r[product] for r in rows[1:]]

    # the rebuilt read model gives the same reports, once every event of the fixture is in:
    # each order decided (the second one's approval was not waited for), and every event
    # orders wrote up to then handled by reporting
    def decided():
        return all(admin.get(system.api + f"/orders/{o['number']}").json()["status"]
                   != "pending_approval" for o in company["orders"])

    def settled():
        get = lambda key: admin.get(system.api + f"/reports/{key}").json()["items"]  # noqa: E731
        return (get("invoices") and any(r["status"] == "invoiced" for r in get("orders_summary"))
                and any(r["delivered_on"] for r in get("shipments")))
    wait_for(settled, timeout=60, message="the first order's invoice and delivery reported")
    wait_for(decided, timeout=30, message="both orders to be decided")
    wait_for(lambda: system.handled("orders", by="reporting"), timeout=120, interval=0.5,
             message="reporting to handle every event of orders")
    keys = ("order_lines", "spend_by_manufacturer", "shipments", "invoices", "orders_summary")
    before = {k: admin.get(system.api + f"/reports/{k}", params={"format": "csv"}).content
              for k in keys}
    assert "rebuilt from" in system.cli("reporting", "rebuild")
    assert {k: admin.get(system.api + f"/reports/{k}", params={"format": "csv"}).content
            for k in keys} == before


def test_scheduled_report_arrives_by_email(system, company):
    admin = company["admin"]
    address = f"cfo.{TAG.lower()}@reporting.test"
    r = admin.post(system.api + "/report-schedules", json={
        "report_key": "spend_by_manufacturer", "frequency": "monthly", "recipients": [address]})
    assert r.status_code == 201, r.text
    schedule = r.json()
    assert [s["id"] for s in admin.get(system.api + "/report-schedules").json()["items"]] \
        == [schedule["id"]]
    assert company["power_users"].delete(
        system.api + "/report-schedules/999999").status_code == 404
    # the clock moves to the moment it is due: it covers this month's orders
    assert "sent: 1" in system.cli("reporting", "run-schedules", "--at", schedule["next_run_at"])
    mail = system.wait_mail(lambda m: address in str(m["To"]))
    attachment = next(mail.iter_attachments())
    assert attachment.get_filename().startswith("spend_by_manufacturer_")
    body = attachment.get_content()
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    assert "Dell" in text and "Microsoft" in text
    assert "sent: 0" in system.cli("reporting", "run-schedules", "--at", schedule["next_run_at"])
    assert admin.delete(system.api + f"/report-schedules/{schedule['id']}").status_code == 204


def test_assets_and_licenses(system, company):
    admin, users = company["admin"], company["users"]
    first = company["orders"][0]["number"]

    def delivered():
        items = admin.get(system.api + "/assets", params={"origin": "purchased"}).json()["items"]
        return items if len(items) == 2 else None
    purchased = wait_for(delivered, timeout=60)
    assert {a["order_number"] for a in purchased} == {first}
    assert {a["part_number"]: a["quantity"] for a in purchased} == {LAPTOP: 2, SUITE: 3}
    assert purchased[0]["location"] == "Montréal, QC, CA"

    r = users.post(system.api + "/assets", json={"name": "Projector", "serial_number": "SN-1",
                                                 "location": "Room 4"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["origin"] == "manual"
    r = admin.patch(system.api + f"/assets/{made['id']}", json={"location": "Room 5"})
    assert r.status_code == 200 and r.json()["location"] == "Room 5"
    assert admin.patch(system.api + f"/assets/{made['id']}", json={"quantity": 0}).status_code \
        == 422
    found = admin.get(system.api + "/assets", params={"q": "room 5"}).json()["items"]
    assert [a["id"] for a in found] == [made["id"]]
    rows = rows_of(admin.get(system.api + "/assets", params={"format": "csv"}))
    assert len(rows) == 4 and rows[0][0] == "id"

    licenses = admin.get(system.api + "/licenses").json()
    assert [(i["part_number"], i["quantity"]) for i in licenses["items"]] == [(SUITE, 3)]
    assert licenses["items"][0]["renewal_on"] > licenses["items"][0]["placed_on"]
    assert [(t["manufacturer"], Decimal(t["spend"])) for t in licenses["totals"]] == \
        [("Microsoft", Decimal("792.00"))]
    rows = rows_of(admin.get(system.api + "/licenses", params={"format": "csv"}))
    assert len(rows) == 2
