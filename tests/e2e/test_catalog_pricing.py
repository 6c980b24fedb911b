"""Catalog behaviour over HTTP on the running system: overlapping contracts and their dates,
the company's currency, catalog grants, purchase history after an order, favorites and
imports with bad lines."""
import uuid
from datetime import date, timedelta

import pytest

from services.common.testing import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HEADER = ("part_number,mfg_part_number,manufacturer,category,name,description,list_price,"
          "currency,language,availability")
TAG = uuid.uuid4().hex[:6].upper()
P = {k: f"E2C-{TAG}-{k}" for k in ("T14", "DOCK", "MOUSE", "USD")}
ADDRESS = {"name": "Fabrikam HQ", "line1": "10 Bay St", "city": "Toronto",
           "postal_code": "M5J 2R8", "country": "CA"}
PASSWORD = "Fabrikam-user-2026!"


def days(n):
    return (date.today() + timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def shop(system, staff):
    csv = "\n".join([
        HEADER,
        f"{P['T14']},21MN0001CA,Lenovo,Notebooks,ThinkPad T14 {TAG},Business notebook,1500.00,CAD,en,in_stock",
        f"{P['DOCK']},40B00135CA,Lenovo,Accessories,ThinkPad Dock {TAG},USB-C dock,300.00,CAD,en,in_stock",
        f"{P['MOUSE']},910-005620,Logitech,Accessories,MX Master {TAG},Souris sans fil,120.00,CAD,fr,in_stock",
        f"{P['USD']},210-BKTL,Dell,Monitors,UltraSharp {TAG},Monitor,500.00,USD,en,in_stock",
        f"E2C-{TAG}-BAD,x,Dell,Monitors,,no name,10.00,CAD,en,in_stock",
        f"E2C-{TAG}-BAD2,x,Dell,Monitors,Bad price,x,ten,CAD,en,in_stock"]) + "\n"
    r = staff.post(system.api + "/backoffice/products/import", data=csv,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    report = r.json()
    admin, info = system.new_company(staff, "Fabrikam")
    return {"import": report, "admin": admin, "company_id": info["company_id"]}


def contract(system, staff, company_id, name, starts, ends, prices):
    r = staff.post(system.api + f"/backoffice/companies/{company_id}/contracts", json={
        "name": name, "starts_on": starts, "ends_on": ends,
        "prices": [{"part_number": p, "price": {"amount": a, "currency": "CAD"}}
                   for p, a in prices.items()]})
    assert r.status_code == 201, r.text
    return r.json()


def test_import_reports_bad_lines_and_loads_good_ones(shop):
    report = shop["import"]
    assert report["imported"] == 4
    assert [r["line"] for r in report["rejected"]] == [6, 7]


def test_lowest_active_contract_price_wins(system, staff, shop):
    cid, admin = shop["company_id"], shop["admin"]
    contract(system, staff, cid, "Standard", days(-30), days(300), {P["T14"]: "1350.00"})
    contract(system, staff, cid, "Promo", days(-1), days(30), {P["T14"]: "1299.00"})
    contract(system, staff, cid, "Expired", days(-400), days(-2), {P["T14"]: "999.00",
                                                                   P["DOCK"]: "10.00"})
    contract(system, staff, cid, "Next year", days(100), days(465), {P["T14"]: "899.00"})
    t14 = admin.get(system.api + f"/products/{P['T14']}").json()
    assert t14["price"] == {"amount": "1299.00", "currency": "CAD"}
    assert t14["price_source"] == "contract" and t14["on_contract"] is True
    dock = admin.get(system.api + f"/products/{P['DOCK']}").json()
    assert dock["price"] == {"amount": "300.00", "currency": "CAD"}
    assert dock["price_source"] == "list"
    assert {c["name"] for c in admin.get(system.api + "/contracts").json()["items"]} >= {
        "Standard", "Promo", "Expired", "Next year"}
    # another company does not get Fabrikam's contract price
    other = system.session("demo.buyer")
    assert other.get(system.api + f"/products/{P['T14']}").json()["price"]["amount"] == "1500.00"


def test_only_the_company_currency_is_orderable(system, staff, shop):
    cad = shop["admin"].get(system.api + f"/products/{P['USD']}").json()
    assert cad["price"] is None and cad["orderable"] is False
    usd_admin, _ = system.new_company(staff, "Tailspin", currency="USD")
    usd = usd_admin.get(system.api + f"/products/{P['USD']}").json()
    assert usd["price"] == {"amount": "500.00", "currency": "USD"} and usd["orderable"] is True
    assert usd_admin.get(system.api + f"/products/{P['T14']}").json()["orderable"] is False
    cart = usd_admin.post(system.api + "/carts", json={"name": "x"}).json()
    r = usd_admin.post(system.api + f"/carts/{cart['id']}/items",
                       json={"part_number": P["T14"], "quantity": 1})
    assert r.status_code == 422


def test_catalog_grants_narrow_what_a_user_sees_everywhere(system, shop):
    admin = shop["admin"]
    catalog = admin.post(system.api + "/catalogs", json={
        "name": "Lenovo only", "rules": [], "include": {"manufacturers": ["Lenovo"]}}).json()
    username = f"buyer.{TAG.lower()}"
    r = admin.post(system.api + "/company/users", json={
        "username": username, "email": f"{username}@fabrikam.test", "first_name": "Bo",
        "last_name": "Buyer", "groups": ["users"]})
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    system.set_password(f"{username}@fabrikam.test", username, PASSWORD)
    buyer = system.session(username, PASSWORD)
    assert buyer.get(system.api + f"/products/{P['MOUSE']}").status_code == 200  # no grant yet

    r = admin.patch(system.api + f"/company/users/{user_id}", json={"catalog_ids": [catalog["id"]]})
    assert r.status_code == 200, r.text
    buyer = system.session(username, PASSWORD)  # a token with the new grants
    found = buyer.get(system.api + "/products", params={"q": TAG}).json()
    assert {p["part_number"] for p in found["items"]} == {P["T14"], P["DOCK"]}
    assert {f["value"] for f in found["facets"]["manufacturer"]} == {"Lenovo"}
    assert buyer.get(system.api + f"/products/{P['MOUSE']}").status_code == 404
    lookup = buyer.post(system.api + "/products/lookup",
                        json={"part_numbers": [P["MOUSE"], P["DOCK"], "NOPE-1"]}).json()
    assert [(r["part_number"], r["status"]) for r in lookup["results"]] == [
        (P["MOUSE"], "not_found"), (P["DOCK"], "found"), ("NOPE-1", "not_found")]
    cart = buyer.post(system.api + "/carts", json={"name": "granted"}).json()
    quick = buyer.post(system.api + f"/carts/{cart['id']}/quick-add", json={"lines": [
        {"part_number": P["DOCK"], "quantity": 2}, {"part_number": P["MOUSE"], "quantity": 1},
        {"part_number": "NOPE-1", "quantity": 1}, {"part_number": P["T14"], "quantity": 0}]}).json()
    assert [l["status"] for l in quick["lines"]] == ["added", "not_allowed", "not_found",
                                                     "invalid_quantity"]


def test_purchase_history_catalog_follows_orders(system, shop):
    admin = shop["admin"]
    cart = admin.post(system.api + "/carts", json={"name": "history"}).json()
    admin.post(system.api + f"/carts/{cart['id']}/items", json={"part_number": P["MOUSE"], "quantity": 3})
    r = admin.post(system.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                   json={"cart_id": cart["id"], "shipping_address": ADDRESS,
                         "payment": {"method": "account"}})
    assert r.status_code == 201, r.text
    catalog = admin.post(system.api + "/catalogs", json={
        "name": "Bought before", "rules": [{"type": "purchase_history"}]}).json()

    def bought():
        page = admin.get(system.api + f"/catalogs/{catalog['id']}/products").json()
        return [p["part_number"] for p in page["items"]] or None
    assert wait_for(bought, timeout=20, interval=0.3) == [P["MOUSE"]]


def test_favorites_written_by_eprocurement_admin_read_by_everyone(system, shop):
    admin = shop["admin"]
    r = admin.post(system.api + "/favorites", json={
        "kind": "bundle", "title": "New hire kit",
        "lines": [{"part_number": P["T14"], "quantity": 1}, {"part_number": P["DOCK"], "quantity": 1}]})
    assert r.status_code == 201, r.text
    r = admin.post(system.api + "/favorites", json={"kind": "comparison", "title": "one",
                                                   "part_numbers": [P["T14"]]})
    assert r.status_code == 422  # a comparison needs 2 to 4 products
    buyer = system.session(f"buyer.{TAG.lower()}", PASSWORD)
    titles = [f["title"] for f in buyer.get(system.api + "/favorites").json()["items"]]
    assert "New hire kit" in titles
    assert buyer.post(system.api + "/favorites", json={
        "kind": "link", "title": "x", "url": "https://example.com"}).status_code == 403
