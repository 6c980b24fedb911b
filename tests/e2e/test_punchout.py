"""E-procurement on the running system, driven as procurement systems drive it: staff
configure a company's PunchOut; an Ariba-style PunchOutSetupRequest (NetworkID and DUNS
credentials, the user in a UserEmail extrinsic) opens a session whose start link signs the
buyer in, in Chromium, where they add a product at the contract price and transfer the cart:
the handoff page posts the PunchOutOrderMessage (`cxml-urlencoded`) to the BrowserFormPost
URL, a small HTTP server of this test. The OrderRequest for those lines becomes a Procura
order once (same orderID, same order), and its approval and shipment come back to the
company's status URL as StatusUpdateRequest and ShipNoticeRequest. Also: edit and inspect
with ItemOut, SAP OCI in Chromium with the NEW_ITEM-* fields, credentials and hostile XML
refused, the CIF 3.0 export read back by the product import."""
import threading
import uuid
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import defusedxml.ElementTree as DET
import pytest
import requests

from tests.e2e.test_portal import CHROMIUM, Browser
from tests.support import punchout_documents as docs
from tests.support.system import ROOT
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TAG = uuid.uuid4().hex[:6].upper()
LAPTOP, DOCK = f"PO-{TAG}-LAPTOP", f"PO-{TAG}-DOCK"
CSV = f"""part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability
{LAPTOP},20XW00{TAG},Lenovo,Notebooks,ThinkPad X1 Carbon {TAG},Ultralight 14-inch business notebook,2499.00,CAD,en,in_stock
{DOCK},40B0{TAG},Lenovo,Accessories,ThinkPad USB-C Dock {TAG},Dock with 100 W power delivery,289.00,CAD,en,in_stock
"""
CONTRACT = {LAPTOP: "1999.00", DOCK: "249.00"}
SECRET = f"shared-{uuid.uuid4().hex}"
NETWORK_ID, DUNS = f"AN0100{TAG}", "123456789"
CREDS = (NETWORK_ID, DUNS, NETWORK_ID, SECRET)
OCI_USER, OCI_PASSWORD = f"srm-{TAG.lower()}", "oci-password-2026"


class BuyerSystem:
    """The procurement system's side: records what it receives (form posts from the
    browser, status documents from Procura) and answers as such a system does."""

    def __init__(self):
        self.received = []
        self.lock = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.received.append({"path": self.path, "body": body,
                                           "type": self.headers.get("Content-Type", "")})
                    outer.lock.notify_all()
                if self.path.startswith("/status"):
                    reply, kind = (b'<?xml version="1.0"?><cXML payloadID="r@buyer" timestamp="'
                                   b'2026-11-30T10:00:00Z"><Response><Status code="200" text="OK"/>'
                                   b'</Response></cXML>'), "text/xml"
                else:
                    reply, kind = b"<!doctype html><title>Buyer</title><h1>Cart received</h1>", "text/html"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts(self, path):
        with self.lock:
            return [r for r in self.received if r["path"] == path]

    def wait(self, path, count=1, timeout=30):
        return wait_for(lambda: len(self.posts(path)) >= count and self.posts(path), timeout,
                        message=f"{count} posts to {path}")

    def close(self):
        self.server.shutdown()


class PunchoutBrowser(Browser):
    """test_portal's browser driver, playing punchout_browser.py's scenarios."""

    def __init__(self):
        import os
        import subprocess
        import sys
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("punchout_browser.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=ROOT, env=env)
        assert self._reply(60).get("ready")


@pytest.fixture(scope="module")
def buyer_system():
    server = BuyerSystem()
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium is missing at {CHROMIUM}: apt-get install chromium")
    driver = PunchoutBrowser()
    yield driver
    driver.close()


class Acme:
    """A company (CAD) with a contract, a buyer whose email the procurement system sends,
    and a PunchOut configuration."""

    def __init__(self, system, staff, buyer_system):
        r = staff.post(system.api + "/backoffice/products/import", data=CSV.encode(),
                       headers={"Content-Type": "text/csv"})
        assert r.status_code == 200 and not r.json()["rejected"], r.text
        company = system.new_company(staff, "Acme")
        self.admin, self.company_id = company.admin, company.id
        today = date.today()
        r = staff.post(system.api + f"/backoffice/companies/{self.company_id}/contracts", json={
            "name": "E-procurement", "starts_on": (today - timedelta(days=5)).isoformat(),
            "ends_on": (today + timedelta(days=365)).isoformat(),
            "prices": [{"part_number": p, "price": {"amount": a, "currency": "CAD"}}
                       for p, a in CONTRACT.items()]})
        assert r.status_code == 201, r.text
        self.buyer_email = f"jane.{TAG.lower()}@acme.test"
        r = self.admin.post(system.api + "/company/users", json={
            "username": f"jane.{TAG.lower()}", "email": self.buyer_email, "first_name": "Jane",
            "last_name": "Doe", "groups": ["users"]})
        assert r.status_code == 201, r.text
        self.buyer_id = r.json()["id"]
        self.config = {
            "from_credentials": [{"domain": "NetworkID", "identity": NETWORK_ID},
                                 {"domain": "DUNS", "identity": DUNS}],
            "sender": {"domain": "NetworkID", "identity": NETWORK_ID},
            "shared_secret": SECRET, "user_mapping": "user_email",
            "oci_allowed": True, "oci_username": OCI_USER, "oci_password": OCI_PASSWORD,
            "order_status_url": buyer_system.url + "/status"}
        self.url = f"/backoffice/companies/{self.company_id}/punchout"
        r = staff.put(system.api + self.url, json=self.config)
        assert r.status_code == 200, r.text
        self.configured = r.json()


@pytest.fixture(scope="module")
def acme(system, staff, buyer_system):
    return Acme(system, staff, buyer_system)


def post_cxml(system, path, document):
    return requests.post(system.api + f"/punchout/cxml/{path}", data=document.encode(),
                         headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)


def status_of(reply):
    root = DET.fromstring(reply.content)
    status = root.find("Response/Status")
    return int(status.get("code")), (status.text or ""), root


def start_link(system, reply):
    code, _, root = status_of(reply)
    assert reply.status_code == 200 and code == 200, reply.text
    url = root.findtext("Response/PunchOutSetupResponse/StartPage/URL")
    # the link is made with PUBLIC_URL; the test reaches the same gateway on its own port
    assert url.startswith("http://portal.test/api/v1/punchout/start/"), url
    return system.url + urlsplit(url).path


def order_message(post):
    form = parse_qs(post["body"].decode())
    assert list(form) == ["cxml-urlencoded"], list(form)
    return DET.fromstring(form["cxml-urlencoded"][0].encode())


# ---------------------------------------------------------------- configuration

def test_staff_configure_punchout_and_secrets_never_show(system, staff, acme):
    got = staff.get(system.api + acme.url)
    assert got.status_code == 200
    body = got.json()
    assert body["shared_secret_set"] and body["oci_password_set"]
    assert SECRET not in got.text and OCI_PASSWORD not in got.text
    assert body["setup_url"].endswith("/api/v1/punchout/cxml/setup")
    assert body["order_url"].endswith("/api/v1/punchout/cxml/order")
    assert body["from_credentials"][1] == {"domain": "DUNS", "identity": DUNS}
    # a company's administrator is not staff
    assert acme.admin.get(system.api + acme.url).status_code == 403
    assert staff.get(system.api + "/backoffice/companies/999999/punchout").status_code == 404
    bad = staff.put(system.api + acme.url, json=dict(acme.config, user_mapping="fixed"))
    assert bad.status_code == 422 and bad.json()["code"] == "punchout_user_required"


# ---------------------------------------------------------------- refused requests

@pytest.mark.parametrize("creds", [
    (NETWORK_ID, DUNS, NETWORK_ID, "not-the-secret-0000"),
    ("AN0999999999", "000000000", NETWORK_ID, SECRET),
], ids=["wrong-secret", "unknown-from"])
def test_wrong_credentials_get_a_cxml_401(system, acme, buyer_system, creds):
    r = post_cxml(system, "setup", docs.setup_request(creds, post_url=buyer_system.url + "/hook",
                                                      email=acme.buyer_email))
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("text/xml")
    assert status_of(r)[0] == 401


@pytest.mark.parametrize("document", [docs.BILLION_LAUGHS, docs.XXE, "<cXML><Header>",
                                      "not xml at all", ""],
                         ids=["billion-laughs", "xxe", "truncated", "text", "empty"])
def test_hostile_or_malformed_documents_get_a_cxml_400(system, acme, document):
    for path in ("setup", "order"):
        r = post_cxml(system, path, document)
        assert r.status_code == 400, r.text
        assert status_of(r)[0] == 400


# ---------------------------------------------------------------- create, in the browser

@pytest.fixture(scope="module")
def punched_out(system, acme, buyer_system, browser):
    """A create session in Chromium: the laptop at the contract price, transferred."""
    reply = post_cxml(system, "setup", docs.setup_request(
        CREDS, post_url=buyer_system.url + "/hook", cookie=f"COOKIE-{TAG}",
        email=acme.buyer_email.upper()))
    link = start_link(system, reply)
    shown = browser.run("punch_out", system.url, start_url=link, part_number=LAPTOP,
                        hook_url=buyer_system.url + "/hook", quantity=2)
    assert "Cart received" in shown
    (post,) = buyer_system.posts("/hook")
    assert post["type"].startswith("application/x-www-form-urlencoded")
    # the start link served once
    again = requests.get(link, allow_redirects=False)
    assert again.status_code == 410
    return order_message(post)


def test_the_cart_comes_back_as_a_punchout_order_message(punched_out):
    root = punched_out
    assert root.findtext("Header/To/Credential/Identity") == NETWORK_ID
    message = root.find("Message/PunchOutOrderMessage")
    assert message.findtext("BuyerCookie") == f"COOKIE-{TAG}"
    assert message.findtext("PunchOutOrderMessageHeader/Total/Money") == "3998.00"
    (item,) = message.findall("ItemIn")
    assert item.get("quantity") == "2"
    assert item.findtext("ItemID/SupplierPartID") == LAPTOP
    assert item.findtext("ItemID/SupplierPartAuxiliaryID")
    detail = item.find("ItemDetail")
    money = detail.find("UnitPrice/Money")
    assert (money.text, money.get("currency")) == ("1999.00", "CAD")   # the contract price
    assert detail.findtext("Description").startswith("Ultralight 14-inch")
    assert detail.findtext("UnitOfMeasure") == "EA"
    assert detail.findtext("Classification") == "43211503"
    assert detail.findtext("ManufacturerName") == "Lenovo"
    assert detail.findtext("ManufacturerPartID") == f"20XW00{TAG}"


# ---------------------------------------------------------------- the order, and what follows

@pytest.fixture(scope="module")
def ordered(system, acme, punched_out):
    aux = punched_out.findtext("Message/PunchOutOrderMessage/ItemIn/ItemID/SupplierPartAuxiliaryID")
    order_id = f"PO-{TAG}"
    document = docs.order_request(CREDS, order_id=order_id, total="3998.00",
                                  email=acme.buyer_email, payload=f"{order_id}@ariba.acme.test",
                                  items=[docs.item_out(LAPTOP, 2, "1999.00", aux=aux, line=10)])
    first = post_cxml(system, "order", document)
    code, text, _ = status_of(first)
    assert first.status_code == 200 and code == 200, first.text
    number = text.split()[-1]
    return {"order_id": order_id, "number": number, "document": document, "aux": aux}


def test_an_order_request_is_placed_once_through_checkout(system, acme, ordered):
    again = post_cxml(system, "order", ordered["document"])
    assert status_of(again)[:2] == (200, f"Order {ordered['number']}")
    orders = acme.admin.get(system.api + "/orders", params={"q": ordered["order_id"]}).json()["items"]
    assert [o["number"] for o in orders] == [ordered["number"]]
    order = acme.admin.get(system.api + f"/orders/{ordered['number']}").json()
    assert order["payment"]["po_number"] == ordered["order_id"]
    assert order["buyer"]["email"].lower() == acme.buyer_email
    assert [(l["part_number"], l["quantity"], l["unit_price"]["amount"]) for l in order["lines"]] \
        == [(LAPTOP, 2, "1999.00")]
    assert order["shipping_address"]["city"] == "Toronto"
    # the same orderID with other lines is refused, not a second order
    changed = ordered["document"].replace('quantity="2"', 'quantity="3"')
    r = post_cxml(system, "order", changed)
    assert r.status_code == 409 and status_of(r)[0] == 409


def test_prices_other_than_punched_out_are_refused(system, acme, ordered):
    document = docs.order_request(CREDS, order_id=f"PO-{TAG}-CHEAP", total="1000.00",
                                  email=acme.buyer_email,
                                  items=[docs.item_out(LAPTOP, 2, "500.00", aux=ordered["aux"])])
    r = post_cxml(system, "order", document)
    code, text, _ = status_of(r)
    assert r.status_code == 409 and code == 409 and "price" in text
    # nothing was placed, and the orderID stays free for a corrected document
    assert acme.admin.get(system.api + "/orders", params={"q": f"PO-{TAG}-CHEAP"}).json()["items"] == []
    # a test document (deploymentMode="test") is checked the same way, and never placed
    test = document.replace("500.00", "1999.00").replace("1000.00", "3998.00")
    r = post_cxml(system, "order", test.replace('deploymentMode="production"', 'deploymentMode="test"'))
    assert status_of(r)[:2] == (200, "Test order checked; not placed")
    assert acme.admin.get(system.api + "/orders", params={"q": f"PO-{TAG}-CHEAP"}).json()["items"] == []
    # a line the cart cannot take (too many) refuses the whole order: no partial order
    huge = docs.order_request(CREDS, order_id=f"PO-{TAG}-HUGE", total="39980000.00",
                              email=acme.buyer_email, items=[docs.item_out(LAPTOP, 20000, "1999.00")])
    r = post_cxml(system, "order", huge)
    assert r.status_code == 400 and "cannot be ordered" in status_of(r)[1]
    assert acme.admin.get(system.api + "/orders", params={"q": f"PO-{TAG}-HUGE"}).json()["items"] == []


def test_status_and_shipment_go_back_to_the_buyer_system(system, staff, acme, ordered,
                                                        buyer_system):
    number = ordered["number"]
    wait_for(lambda: acme.admin.get(system.api + f"/orders/{number}").json()["status"] == "approved",
             30, message="the order approved (no workflow applies)")
    assert staff.post(system.api + f"/backoffice/orders/{number}/accept", json={}).status_code == 200
    r = staff.post(system.api + f"/backoffice/orders/{number}/ship",
                   json={"carrier": "Purolator", "tracking_number": f"PUR{TAG}"})
    assert r.status_code == 200, r.text
    posts = buyer_system.wait("/status", count=4)
    documents = [DET.fromstring(p["body"]) for p in posts]
    updates = [d for d in documents if d.find("Request/StatusUpdateRequest") is not None]
    notices = [d for d in documents if d.find("Request/ShipNoticeRequest") is not None]
    statuses = [d.find("Request/StatusUpdateRequest/Extrinsic[@name='orderStatus']").text
                for d in updates]
    assert {"approved", "submitted", "shipped"} <= set(statuses), statuses
    for d in updates:
        assert d.find("Request/StatusUpdateRequest/DocumentReference").get("payloadID") == \
            f"{ordered['order_id']}@ariba.acme.test"
        assert d.findtext("Header/To/Credential/Identity") == NETWORK_ID
        assert d.findtext("Header/Sender/Credential/SharedSecret") == SECRET
    (notice,) = notices
    request = notice.find("Request/ShipNoticeRequest")
    assert request.findtext("ShipControl/ShipmentIdentifier") == f"PUR{TAG}"
    assert request.find("ShipNoticePortion/OrderReference").get("orderID") == ordered["order_id"]
    item = request.find("ShipNoticePortion/ShipNoticeItem")
    assert (item.get("lineNumber"), item.get("quantity")) == ("10", "2")
    # one document per event: every payloadID differs
    assert len({d.get("payloadID") for d in documents}) == len(documents)


# ---------------------------------------------------------------- edit and inspect

def started_session(system, link):
    """A browser's cookies after the start link, over plain HTTP."""
    s = requests.Session()
    r = s.get(link, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/punchout", r.text
    s.headers["X-CSRF-Token"] = s.cookies.get("procura_csrf")
    return s


def handoff_fields(system, s):
    r = s.post(system.api + "/punchout/session/transfer", json={})
    assert r.status_code == 200, r.text
    page = s.get(system.url + r.json()["handoff_url"])
    assert page.status_code == 200
    assert "form-action http://127.0.0.1:" in page.headers["Content-Security-Policy"]
    import html
    import re
    fields = [(html.unescape(n), html.unescape(v)) for n, v in
              re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)]
    again = s.get(system.url + r.json()["handoff_url"])
    assert again.status_code == 410
    return fields


def test_edit_starts_from_the_itemout_lines(system, acme, buyer_system, ordered):
    reply = post_cxml(system, "setup", docs.setup_request(
        CREDS, operation="edit", post_url=buyer_system.url + "/hook", email=acme.buyer_email,
        items=[docs.item_out(LAPTOP, 1, "1999.00", aux=ordered["aux"]),
               docs.item_out(DOCK, 3, "249.00", line=2)]))
    s = started_session(system, start_link(system, reply))
    session = s.get(system.api + "/punchout/session").json()
    assert (session["operation"], session["read_only"]) == ("edit", False)
    cart = s.get(system.api + f"/carts/{session['cart_id']}").json()
    assert sorted((l["part_number"], l["quantity"]) for l in cart["lines"]) == \
        [(DOCK, 3), (LAPTOP, 1)]
    line = next(l for l in cart["lines"] if l["part_number"] == DOCK)
    r = s.patch(system.api + f"/carts/{session['cart_id']}/items/{line['id']}", json={"quantity": 1})
    assert r.status_code == 200, r.text
    fields = dict(handoff_fields(system, s))
    root = DET.fromstring(fields["cxml-urlencoded"].encode())
    items = {i.findtext("ItemID/SupplierPartID"): i for i in root.iter("ItemIn")}
    assert items[DOCK].get("quantity") == "1"
    assert items[DOCK].findtext("ItemDetail/UnitPrice/Money") == "249.00"
    assert items[LAPTOP].get("quantity") == "1"
    # the session ended with the transfer, and its cart went with it
    assert s.get(system.api + "/punchout/session").status_code == 404
    assert s.get(system.api + f"/carts/{session['cart_id']}").status_code == 404


def test_inspect_shows_the_lines_and_returns_them_unchanged(system, acme, buyer_system, ordered):
    reply = post_cxml(system, "setup", docs.setup_request(
        CREDS, operation="inspect", post_url=buyer_system.url + "/hook", email=acme.buyer_email,
        items=[docs.item_out(LAPTOP, 2, "1999.00", aux=ordered["aux"], description="As ordered")]))
    s = started_session(system, start_link(system, reply))
    session = s.get(system.api + "/punchout/session").json()
    assert session["read_only"] is True
    assert [(i["part_number"], i["quantity"]) for i in session["items"]] == [(LAPTOP, "2")]
    root = DET.fromstring(dict(handoff_fields(system, s))["cxml-urlencoded"].encode())
    (item,) = root.iter("ItemIn")
    assert item.findtext("ItemID/SupplierPartAuxiliaryID") == ordered["aux"]
    assert item.findtext("ItemDetail/UnitPrice/Money") == "1999.00"


def test_a_user_email_unknown_to_procura_cannot_start(system, acme, buyer_system):
    reply = post_cxml(system, "setup", docs.setup_request(
        CREDS, post_url=buyer_system.url + "/hook", email="nobody@acme.test"))
    r = requests.get(start_link(system, reply), allow_redirects=False)
    assert r.status_code == 404 and "text/html" in r.headers["Content-Type"]


# ---------------------------------------------------------------- OCI

def test_oci_login_then_transfer_in_the_browser(system, acme, buyer_system, browser):
    wrong = requests.get(system.api + "/punchout/oci", params={
        "USERNAME": OCI_USER, "PASSWORD": "wrong", "HOOK_URL": buyer_system.url + "/oci-hook"},
        allow_redirects=False)
    assert wrong.status_code == 401
    r = requests.post(system.api + "/punchout/oci", data={
        "USERNAME": OCI_USER, "PASSWORD": OCI_PASSWORD, "HOOK_URL": buyer_system.url + "/oci-hook",
        "OCI_VERSION": "5.0", "returntarget": "_top", "EMAIL": acme.buyer_email},
        allow_redirects=False)
    assert r.status_code == 303, r.text
    link = system.url + urlsplit(r.headers["Location"]).path
    browser.run("punch_out", system.url, start_url=link, part_number=DOCK,
                hook_url=buyer_system.url + "/oci-hook", quantity=3)
    (post,) = buyer_system.posts("/oci-hook")
    form = {k: v[0] for k, v in parse_qs(post["body"].decode()).items()}
    assert form["NEW_ITEM-VENDORMAT[1]"] == DOCK
    assert form["NEW_ITEM-EXT_PRODUCT_ID[1]"] == DOCK
    assert form["NEW_ITEM-DESCRIPTION[1]"] == f"ThinkPad USB-C Dock {TAG}"
    assert form["NEW_ITEM-QUANTITY[1]"] == "3"
    assert (form["NEW_ITEM-PRICE[1]"], form["NEW_ITEM-CURRENCY[1]"]) == ("249.00", "CAD")
    assert form["NEW_ITEM-UNIT[1]"] == "EA"
    assert form["NEW_ITEM-MATGROUP[1]"] == "43211600"
    assert form["NEW_ITEM-MANUFACTMAT[1]"] == f"40B0{TAG}"
    assert (form["~OkCode"], form["~TARGET"], form["~CALLER"]) == ("ADDI", "_top", "CTLG")


# ---------------------------------------------------------------- the static catalog

def test_cif_export_at_contract_prices_reads_back_through_the_import(system, staff, acme):
    admin = acme.admin
    # a catalog admin grants a user only this module's products, whose export stays small
    catalog = admin.post(system.api + "/catalogs", json={
        "name": f"E-procurement {TAG}", "rules": [{"type": "part_numbers",
                                                   "part_numbers": [LAPTOP, DOCK]}]})
    assert catalog.status_code == 201, catalog.text
    username, email = f"cif.{TAG.lower()}", f"cif.{TAG.lower()}@acme.test"
    r = admin.post(system.api + "/company/users", json={
        "username": username, "email": email, "first_name": "Cif", "last_name": "Export",
        "groups": ["users"]})
    assert r.status_code == 201, r.text
    r = admin.patch(system.api + f"/company/users/{r.json()['id']}",
                    json={"catalog_ids": [catalog.json()["id"]]})
    assert r.status_code == 200, r.text
    system.set_password(email, username, "Cif-export-2026!")
    reader = system.session(username, "Cif-export-2026!")
    r = reader.get(system.api + "/catalogs/export.cif")
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.text
    lines = text.splitlines()
    assert lines[0] == "CIF_I_V3.0" and lines[-1] == "ENDOFDATA"
    assert "CURRENCY: CAD" in lines and "ITEMCOUNT: 2" in lines
    assert any(l.startswith(f"PROCURA,{LAPTOP},20XW00{TAG},") and ",1999.00,EA," in l for l in lines)
    # read back by the product import (under other part numbers, to leave these alone)
    again = text.replace(f"PROCURA,{LAPTOP},", f"PROCURA,RT-{LAPTOP},").replace(
        f"PROCURA,{DOCK},", f"PROCURA,RT-{DOCK},")
    r = staff.post(system.api + "/backoffice/products/import", data=again.encode(),
                   headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["format"], report["imported"], report["rejected"]) == ("cif", 2, [])
    got = admin.get(system.api + f"/products/RT-{LAPTOP}").json()
    assert (got["name"], got["manufacturer"], got["category"], got["mfg_part_number"]) == \
        (f"ThinkPad X1 Carbon {TAG}", "Lenovo", "Notebooks", f"20XW00{TAG}")
    assert got["description"].startswith("Ultralight 14-inch")
    # a static catalog carries the company's price as the item's price
    assert got["list_price"] == {"amount": "1999.00", "currency": "CAD"}
