"""The catalog over HTTP on the running system, as staff, a company's administrator and its
buyers drive it: imports in both formats (CSV as a text/csv body and as a multipart file,
CIF 3.0) with bad lines reported by line number, re-imports updating products in place,
overlapping contracts and their dates, the company's currency, search filters, facets and
price sorts, lookup and QuickCart, custom catalog rules one by one and combined, catalog
grants everywhere a product is reached, purchase history after an order, company favorites
and the employee purchase program.

Every product here carries a random tag in its part number, so that searches for the tag
see this module's products alone whatever else the running system holds."""
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Catalog-e2e-2026!"
TAG = "K" + uuid.uuid4().hex[:7].upper()
TAG2 = "R" + uuid.uuid4().hex[:7].upper()  # products of the re-import test, outside TAG searches
HEADER = ("part_number,mfg_part_number,manufacturer,category,name,description,list_price,"
          "currency,language,availability")
ADDRESS = {"name": "Fabrikam HQ", "line1": "10 Bay St", "city": "Toronto",
           "postal_code": "M5J 2R8", "country": "CA"}
TODAY = datetime.now(timezone.utc).date()  # contracts are dated in UTC

# key: (manufacturer, category, language, availability, list price, currency, epp price)
CSV_PRODUCTS = {
    "T14": ("Lenovo", "Notebooks", "en", "in_stock", "1500.00", "CAD", "1100.00"),
    "X1": ("Lenovo", "Notebooks", "fr", "limited", "2500.00", "CAD", ""),
    "DOCK": ("Lenovo", "Accessories", "en", "in_stock", "300.00", "CAD", ""),
    "XPS": ("Dell", "Notebooks", "en", "backorder", "1800.00", "CAD", "1000.00"),
    "MON": ("Dell", "Monitors", "fr", "in_stock", "500.00", "CAD", ""),
    "MOUSE": ("Logitech", "Accessories", "fr", "in_stock", "120.00", "CAD", ""),
    "OLD": ("Logitech", "Accessories", "en", "discontinued", "50.00", "CAD", ""),
    "USD": ("HP", "Monitors", "en", "in_stock", "400.00", "USD", ""),
    "USD2": ("HP", "Accessories", "en", "in_stock", "80.00", "USD", ""),
}
MULTIPART_PRODUCTS = {
    "KB": ("Logitech", "Accessories", "en", "in_stock", "90.00", "CAD", ""),
    "HEADSET": ("Jabra", "Audio", "fr", "limited", "210.00", "CAD", ""),
}
CIF_PRODUCTS = {  # as the CIF file below describes them once mapped
    "MBA": ("Apple", "Notebooks", "en", "in_stock", "2199.00", "CAD", ""),
    "M365": ("Microsoft", "Software Licenses", "fr", "in_stock", "249.99", "CAD", ""),
}
PRODUCTS = {**CSV_PRODUCTS, **MULTIPART_PRODUCTS, **CIF_PRODUCTS}
ALL = set(PRODUCTS)
P = {k: f"E2E-{TAG}-{k}" for k in PRODUCTS}
MFG = {k: f"M{TAG}-{k}" for k in PRODUCTS}
KEY_OF = {v: k for k, v in P.items()}

# what Fabrikam's administrator pays (CAD, not an EPP member), given the contracts below:
# the lowest active contract price, else the list price; other currencies are not priced
PRICE = {"T14": "1299.00", "X1": "2300.00", "DOCK": "300.00", "XPS": "1800.00",
         "MON": "450.00", "MOUSE": "120.00", "OLD": "50.00", "USD": None, "USD2": None,
         "KB": "80.00", "HEADSET": "210.00", "MBA": "2199.00", "M365": "249.99"}
SOURCE = {"T14": "contract", "X1": "contract", "MON": "contract", "KB": "contract"}
ON_CONTRACT = {"T14", "X1", "MON", "KB"}


def days(n):
    return (TODAY + timedelta(days=n)).isoformat()


def csv_line(key, spec):
    mfr, cat, lang, avail, price, cur, epp = spec
    description = f'"{mfr} {cat.lower()}, tagged {TAG}"'  # a quoted field with a comma
    return (f"{P[key]},{MFG[key]},{mfr},{cat},{mfr} {key} model,{description},{price},{cur},"
            f"{lang},{avail},{epp}")


BAD = f"E2E-{TAG}-BAD"
CSV_LINES = [HEADER + ",epp_price",                                            # line 1
             *(csv_line(k, CSV_PRODUCTS[k]) for k in list(CSV_PRODUCTS)[:8]),  # lines 2-9
             "",                                                               # line 10
             f"{BAD}1,X,Dell,Monitors,,empty name,10.00,CAD,en,in_stock,",     # 11
             f"{BAD}2,X,Dell,Monitors,Bad price,x,ten,CAD,en,in_stock,",       # 12
             f"{BAD}3,X,Dell,Monitors,Bad currency,x,10.00,CA,en,in_stock,",   # 13
             f"{BAD}4,X,Dell,Monitors",                                        # 14
             f"{BAD}5,X,Dell,Monitors,Bad language,x,10.00,CAD,de,in_stock,",  # 15
             csv_line("USD2", CSV_PRODUCTS["USD2"])]                           # 16
CSV_REJECTED = {11: "name", 12: "list_price", 13: "currency", 14: "fields", 15: "language"}

MULTIPART_LINES = [HEADER + ",epp_price",
                   csv_line("KB", MULTIPART_PRODUCTS["KB"]),
                   csv_line("HEADSET", MULTIPART_PRODUCTS["HEADSET"]),
                   f"{BAD}6,X,Jabra,Audio,Bad availability,x,10.00,CAD,en,soon,"]  # line 4

CIF = "\r\n".join([
    "CIF_I_V3.0",                                    # line 1
    "LOADMODE: F",
    "CODEFORMAT: UNSPSC",
    "CURRENCY: CAD",
    "SUPPLIERID_DOMAIN: NETWORK_ID",                 # line 5
    "ITEMCOUNT: 4",
    "TIMESTAMP: 2026-11-01 10:00:00",
    "UNUOM: TRUE",
    "FIELDNAMES: Supplier ID,Supplier Part ID,Manufacturer Part ID,Item Description,SPSC Code,"
    "Unit Price,Unit of Measure,Lead Time,Manufacturer Name,Short Name,Language",
    "DATA",                                          # line 10
    f'AN01,{P["MBA"]},{MFG["MBA"]},"Apple MacBook Air 13in, M3, tagged {TAG}",43211503,2199.00,'
    f"EA,5,Apple,Apple MBA model,en",
    f"AN01,{P['M365']},{MFG['M365']},Microsoft 365 Business Standard {TAG},43233501,249.99,EA,1,"
    f"Microsoft,Microsoft M365 model,fr_CA",
    f"AN01,{BAD}7,X,Broken price,43211503,abc,EA,1,Apple,Broken,en",  # line 13
    f"AN01,{BAD}8,1.00",                                               # line 14
    "ENDOFDATA", ""])
CIF_REJECTED = {13: "list_price", 14: "fields"}


def keys(page):
    return {KEY_OF.get(p["part_number"], p["part_number"]) for p in page["items"]}


def top(counter):
    return [{"value": v, "count": n} for v, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


AVAILABILITY = ("in_stock", "limited", "backorder", "discontinued")
EDGES = (0, 50, 100, 250, 500, 1000, 2500, 5000, 10000)  # price ranges' lower edges


def price_range(amount):
    lower = max(e for e in EDGES if e <= float(amount))
    upper = EDGES.index(lower) + 1
    return (f"{lower}.00", f"{EDGES[upper] - 1}.99" if upper < len(EDGES) else None)


def facets_of(visible):
    availability = Counter(PRODUCTS[k][3] for k in visible)
    ranges = Counter(price_range(PRICE[k]) for k in visible if PRICE[k])
    return {"manufacturer": top(Counter(PRODUCTS[k][0] for k in visible)),
            "category": top(Counter(PRODUCTS[k][1] for k in visible)),
            "availability": [{"value": a, "count": availability[a]} for a in AVAILABILITY
                             if availability[a]],
            "price": [{"min": money(low), "max": money(high) if high else None, "count": n}
                      for (low, high), n in sorted(ranges.items(), key=lambda r: float(r[0][0]))]}


def money(amount, currency="CAD"):
    return {"amount": amount, "currency": currency}


class Shop:
    """Fabrikam (CAD): its administrator (every admin role), a buyer and an EPP member (both
    in `users`), the module's products imported in three files and Fabrikam's contracts."""

    def __init__(self, system, staff):
        self.system, self.api, self.staff = system, system.api, staff
        self.imports = {
            "csv": staff.post(self.api + "/backoffice/products/import",
                              data="\n".join(CSV_LINES).encode() + b"\n",
                              headers={"Content-Type": "text/csv"}),
            "multipart": staff.post(self.api + "/backoffice/products/import", files={
                "file": ("more.csv", "\n".join(MULTIPART_LINES).encode(), "text/csv")}),
            "cif": staff.post(self.api + "/backoffice/products/import", data=CIF.encode(),
                              headers={"Content-Type": "text/plain"}),
        }
        self.company = system.new_company(staff, "Fabrikam", password=PASSWORD)
        self.admin, self.company_id = self.company.admin, self.company.id
        self.users = {name: self.add_user(name) for name in ("buyer", "member")}
        self.contracts = {}
        for name, starts, ends, prices, tiers in [
                ("Standard", -30, 300, {"T14": "1350.00", "MON": "450.00"}, None),
                ("Promo", -1, 30, {"T14": "1299.00"}, None),
                ("Expired", -400, -1, {"T14": "999.00", "DOCK": "10.00"}, None),
                ("Next year", 100, 465, {"T14": "899.00", "MOUSE": "5.00"}, None),
                ("Ends today", -10, 0, {"X1": "2300.00"}, None),
                ("Starts today", 0, 10, {"KB": "80.00"}, None),
                ("Volume", -5, 60, {"DOCK": "250.00"}, "volume")]:
            body = {"name": name, "starts_on": days(starts), "ends_on": days(ends),
                    "prices": [{"part_number": P[k], "price": money(a), "tier": tiers}
                               for k, a in prices.items()]}
            if tiers:
                body["tiers"] = [{"name": tiers, "min_quantity": 10}]
            r = staff.post(self.api + f"/backoffice/companies/{self.company_id}/contracts", json=body)
            assert r.status_code == 201, r.text
            self.contracts[name] = r.json()

    def add_user(self, name, **fields):
        return self.company.add_user(first_name=name.title(), groups=["users"], **fields)

    def fresh_session(self, name):
        """A new sign-in as one of the users (a token carrying the user's current rights)."""
        return self.system.session(self.users[name]["username"], PASSWORD)

    def search(self, session, status=200, **params):
        r = session.get(self.api + "/products", params={"q": TAG, "limit": 200, **params})
        assert r.status_code == status, r.text
        return r.json()

    def both_paths(self, session, **params):
        """A search answered from the column snapshot (relevance) and by SQL (a price sort):
        the same products, total and facets."""
        ranked = self.search(session, **params)
        by_price = self.search(session, sort="price_asc", **params)
        assert keys(ranked) == keys(by_price), params
        assert (ranked["total"], ranked["facets"]) == (by_price["total"], by_price["facets"]), params
        return ranked

    def catalog(self, name, rules=(), include=None, exclude=None):
        r = self.admin.post(self.api + "/catalogs", json={
            "name": f"{name} {uuid.uuid4().hex[:6]}", "rules": list(rules),
            "include": include or {}, "exclude": exclude or {}})
        assert r.status_code == 201, r.text
        return r.json()

    def catalog_products(self, session, catalog_id):
        r = session.get(self.api + f"/catalogs/{catalog_id}/products", params={"limit": 200})
        assert r.status_code == 200, r.text
        return r.json()

    def cart(self, session, name="cart"):
        r = session.post(self.api + "/carts", json={"name": name})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def add(self, session, cart_id, key_or_part, quantity=1):
        part = P.get(key_or_part, key_or_part)
        return session.post(self.api + f"/carts/{cart_id}/items",
                            json={"part_number": part, "quantity": quantity})

    def checkout(self, session, cart_id):
        return session.post(self.api + "/orders", headers={"Idempotency-Key": uuid.uuid4().hex},
                            json={"cart_id": cart_id, "shipping_address": ADDRESS,
                                  "payment": {"method": "account"}})


@pytest.fixture(scope="module")
def shop(system, staff):
    return Shop(system, staff)


@pytest.fixture(scope="module")
def tailspin(system, staff, shop):
    """A company paying in USD."""
    company = system.new_company(staff, "Tailspin", currency="USD", password=PASSWORD)
    return {"admin": company.admin, "company_id": company.id}


# ------------------------------------------------------------------ imports

def test_imports_load_good_lines_and_report_bad_ones_by_line(shop):
    csv = shop.imports["csv"]
    assert csv.status_code == 200, csv.text
    report = csv.json()
    assert (report["format"], report["imported"], report["updated"]) == ("csv", 9, 0)
    assert {r["line"] for r in report["rejected"]} == set(CSV_REJECTED)
    assert report["rejected_count"] == len(CSV_REJECTED)
    for r in report["rejected"]:
        assert CSV_REJECTED[r["line"]] in r["reason"], r

    multipart = shop.imports["multipart"]
    assert multipart.status_code == 200, multipart.text
    assert (multipart.json()["imported"], multipart.json()["updated"]) == (2, 0)
    assert [(r["line"], "availability" in r["reason"])
            for r in multipart.json()["rejected"]] == [(4, True)]

    cif = shop.imports["cif"]
    assert cif.status_code == 200, cif.text
    report = cif.json()
    assert (report["format"], report["imported"], report["updated"]) == ("cif", 2, 0)
    assert [r["line"] for r in report["rejected"]] == sorted(CIF_REJECTED)
    for r in report["rejected"]:
        assert CIF_REJECTED[r["line"]] in r["reason"], r
    assert report["warnings"] == []

    # every good line is there, as the file described it; no bad line is
    admin = shop.admin
    found = shop.search(admin)
    assert keys(found) == ALL and found["total"] == len(ALL)
    for item in found["items"]:
        key = KEY_OF[item["part_number"]]
        mfr, cat, lang, avail, price, cur, _ = PRODUCTS[key]
        assert (item["mfg_part_number"], item["manufacturer"], item["category"], item["language"],
                item["availability"], item["list_price"]) == (MFG[key], mfr, cat, lang, avail,
                                                              money(price, cur)), item
    mba = admin.get(shop.api + f"/products/{P['MBA']}").json()
    assert mba["name"] == "Apple MBA model"
    assert mba["description"] == f"Apple MacBook Air 13in, M3, tagged {TAG}"
    t14 = admin.get(shop.api + f"/products/{P['T14']}").json()
    assert t14["description"] == f"Lenovo notebooks, tagged {TAG}"
    for n in range(1, 9):
        assert admin.get(shop.api + f"/products/{BAD}{n}").status_code == 404


def test_import_is_for_staff_and_refuses_unreadable_files(shop):
    url, staff = shop.api + "/backoffice/products/import", shop.staff
    text_csv = {"Content-Type": "text/csv"}
    assert shop.admin.post(url, data="\n".join(CSV_LINES),
                           headers=text_csv).status_code == 403
    r = staff.post(url, data=b"sku,price\nA,1\n", headers=text_csv)
    assert r.status_code == 422 and r.json()["code"] == "invalid_import_header"
    r = staff.post(url, data=b"\n\n", headers=text_csv)
    assert r.status_code == 422 and r.json()["code"] == "empty_import_file"
    r = staff.post(url, data=b"CIF_I_V3.0\nCURRENCY: CAD\n", headers=text_csv)
    assert r.status_code == 422 and r.json()["code"] == "invalid_import_header"
    r = staff.post(url, files={"other": ("c.csv", b"x")})
    assert r.status_code == 422 and r.json()["code"] == "file_required"
    assert staff.post(url, json={"part_number": "x"}).status_code == 415


def test_reimport_updates_products_in_place(shop):
    staff, admin, api = shop.staff, shop.admin, shop.api
    part = {k: f"E2E-{TAG2}-{k}" for k in ("R1", "R2", "R3")}
    url = api + "/backoffice/products/import"
    first = "\n".join([HEADER,
                       f"{part['R1']},RM-1,Lenovo,Accessories,Vintage widget {TAG2},Old,100.00,CAD,en,in_stock",
                       f"{part['R2']},RM-2,Lenovo,Accessories,Gadget {TAG2},x,200.00,CAD,en,in_stock"])
    r = staff.post(url, data=first, headers={"Content-Type": "text/csv"})
    assert (r.json()["imported"], r.json()["updated"], r.json()["rejected"]) == (2, 0, []), r.text
    r = staff.post(api + f"/backoffice/companies/{shop.company_id}/contracts", json={
        "name": f"Gadgets {TAG2}", "starts_on": days(-1), "ends_on": days(30),
        "prices": [{"part_number": part["R2"], "price": money("150.00")}]})
    assert r.status_code == 201, r.text
    cart_id = shop.cart(admin, "before the re-import")
    assert shop.add(admin, cart_id, part["R1"]).status_code == 201
    r = admin.post(api + "/favorites", json={"kind": "product", "title": f"Widget {TAG2}",
                                             "part_number": part["R1"]})
    assert r.status_code == 201, r.text
    favorite_id = r.json()["id"]

    # the same part numbers again (one in lower case), changed, and one new product
    second = "\n".join([HEADER,
                        f"{part['R1'].lower()},RM-1B,Logitech,Audio,Renamed speaker {TAG2},New,120.00,CAD,fr,limited",
                        f"{part['R2']},RM-2,Lenovo,Accessories,Gadget {TAG2},x,210.00,CAD,en,in_stock",
                        f"{part['R3']},RM-3,Lenovo,Accessories,Gizmo {TAG2},x,30.00,CAD,en,in_stock"])
    r = staff.post(url, files={"file": ("update.csv", second.encode(), "text/csv")})
    assert (r.json()["imported"], r.json()["updated"], r.json()["rejected"]) == (1, 2, []), r.text
    r1 = admin.get(api + f"/products/{part['R1']}").json()
    assert (r1["name"], r1["mfg_part_number"], r1["manufacturer"], r1["category"], r1["language"],
            r1["availability"], r1["price"]) == (f"Renamed speaker {TAG2}", "RM-1B", "Logitech",
                                                 "Audio", "fr", "limited", money("120.00"))
    found = admin.get(api + "/products", params={"q": TAG2, "limit": 200}).json()
    assert sorted(p["part_number"] for p in found["items"]) == sorted(part.values())
    # the full-text index follows: the new name is found, the old one no longer
    assert [p["part_number"] for p in admin.get(api + "/products", params={
        "q": f"speaker {TAG2}"}).json()["items"]] == [part["R1"]]
    assert admin.get(api + "/products", params={"q": f"vintage {TAG2}"}).json()["items"] == []
    # what refers to the part numbers still does: contract price, cart line, favorite
    r2 = admin.get(api + f"/products/{part['R2']}").json()
    assert (r2["price"], r2["price_source"], r2["list_price"]) == (money("150.00"), "contract",
                                                                   money("210.00"))
    line = admin.get(api + f"/carts/{cart_id}").json()["lines"][0]
    assert (line["part_number"], line["unit_price"], line["price_changed"]) == (
        part["R1"], money("120.00"), True)
    assert admin.get(api + f"/favorites/{favorite_id}").json()["part_number"] == part["R1"]

    # a CIF file updates in place too; a part number twice in one file: the last line wins
    cif = "\n".join(["CIF_I_V3.0", "CURRENCY: CAD", "ITEMCOUNT: 2",
                     "FIELDNAMES: Supplier Part ID,Item Description,SPSC Code,Unit Price,Manufacturer Name",
                     "DATA",
                     f"{part['R3']},Gizmo {TAG2},43211600,31.00,Lenovo",
                     f"{part['R3']},Gizmo {TAG2},43211600,32.00,Lenovo",
                     "ENDOFDATA"])
    r = staff.post(url, data=cif, headers={"Content-Type": "text/plain"})
    assert r.status_code == 200 and r.json()["imported"] == 0 and r.json()["rejected"] == [], r.text
    r3 = admin.get(api + f"/products/{part['R3']}").json()
    assert (r3["price"], r3["category"], r3["mfg_part_number"]) == (money("32.00"), "Accessories",
                                                                    part["R3"])
    assert admin.get(api + "/products", params={"q": TAG2}).json()["total"] == 3
    assert admin.delete(api + f"/favorites/{favorite_id}").status_code == 204


# ------------------------------------------------------------------ contracts and currency

def test_lowest_active_contract_price_wins_and_dates_count(shop):
    admin, api = shop.admin, shop.api
    for key in PRODUCTS:
        product = admin.get(api + f"/products/{P[key]}").json()
        price = PRICE[key]
        assert product["price"] == (money(price) if price else None), key
        assert product["price_source"] == (SOURCE.get(key, "list") if price else None), key
        assert product["on_contract"] == (key in ON_CONTRACT), key
        assert product["orderable"] == (price is not None and key != "OLD"), key

    contracts = {c["name"]: c for c in admin.get(api + "/contracts",
                                                 params={"limit": 200}).json()["items"]}
    assert {n: (c["status"], c["price_count"]) for n, c in contracts.items()
            if n in shop.contracts} == {
        "Standard": ("active", 2), "Promo": ("active", 1), "Expired": ("expired", 2),
        "Next year": ("scheduled", 2), "Ends today": ("active", 1), "Starts today": ("active", 1),
        "Volume": ("active", 1)}
    assert contracts["Volume"]["tiers"] == [{"name": "volume", "min_quantity": 10}]
    assert (contracts["Ends today"]["ends_on"], contracts["Starts today"]["starts_on"]) == (
        TODAY.isoformat(), TODAY.isoformat())

    # a contract_tier price applies from its tier's quantity
    cart_id = shop.cart(admin, "volume")
    r = shop.add(admin, cart_id, "DOCK", 9)
    assert r.status_code == 201 and r.json()["lines"][0]["unit_price"] == money("300.00"), r.text
    line_id = r.json()["lines"][0]["id"]
    r = admin.patch(api + f"/carts/{cart_id}/items/{line_id}", json={"quantity": 10})
    assert r.json()["lines"][0]["unit_price"] == money("250.00"), r.text
    assert r.json()["totals"]["total"] == money("2500.00")

    # the product page lists the tier prices that apply and marks the caller's
    tiers = lambda key: [(t["contract_name"], t["tier"], t["min_quantity"], t["price"]["amount"],  # noqa: E731
                          t["current"]) for t in admin.get(api + f"/products/{P[key]}").json()["tier_prices"]]
    assert tiers("T14") == [("Promo", None, 1, "1299.00", True), ("Standard", None, 1, "1350.00", False)]
    assert tiers("DOCK") == [("Volume", "volume", 10, "250.00", False)]
    assert tiers("MOUSE") == []  # its contract starts next year

    # Fabrikam's contracts are Fabrikam's alone
    other = shop.system.session("demo.buyer")
    assert other.get(api + f"/products/{P['T14']}").json()["price"] == money("1500.00")
    assert not any(c["name"] == "Promo" for c in other.get(api + "/contracts").json()["items"])


def test_contracts_are_checked(shop, tailspin):
    staff, api = shop.staff, shop.api
    url = api + f"/backoffice/companies/{shop.company_id}/contracts"
    base = {"name": "Bad", "starts_on": days(0), "ends_on": days(10)}
    r = staff.post(url, json={**base, "ends_on": days(-1)})
    assert r.status_code == 422 and "ends_on" in r.json()["errors"]
    r = staff.post(url, json={**base, "prices": [{"part_number": f"{BAD}1", "price": money("1.00")}]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_contract_prices"
    # prices are in the company's currency: nothing is converted
    r = staff.post(url, json={**base, "prices": [{"part_number": P["USD"], "price": money("1.00", "USD")}]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_contract_prices"
    r = staff.post(url, json={**base, "prices": [{"part_number": P["DOCK"], "price": money("1.00"),
                                                  "tier": "gold"}]})
    assert r.status_code == 422
    assert shop.admin.post(url, json=base).status_code == 403
    assert staff.post(api + "/backoffice/companies/987654321/contracts", json=base).status_code == 404
    names = {c["name"] for c in shop.admin.get(api + "/contracts", params={"limit": 200}).json()["items"]}
    assert "Bad" not in names
    # staff read a company's contracts as its users do, newest first
    r = staff.get(url, params={"limit": 200})
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["items"]] == [c["name"] for c in shop.admin.get(
        api + "/contracts", params={"limit": 200}).json()["items"]]
    ids = [c["id"] for c in r.json()["items"]]
    assert ids == sorted(ids, reverse=True) and shop.contracts["Volume"]["id"] in ids
    assert staff.get(api + "/backoffice/companies/987654321/contracts").status_code == 404
    assert shop.admin.get(url).status_code == 403


def test_a_company_sees_only_its_currency_as_orderable(shop, tailspin):
    usd, api = tailspin["admin"], shop.api
    usd_product = usd.get(api + f"/products/{P['USD']}").json()
    assert (usd_product["price"], usd_product["price_source"], usd_product["orderable"]) == (
        money("400.00", "USD"), "list", True)
    t14 = usd.get(api + f"/products/{P['T14']}").json()
    assert (t14["price"], t14["price_source"], t14["orderable"], t14["on_contract"]) == (
        None, None, False, False)
    assert t14["list_price"] == money("1500.00")  # shown as it is, never converted
    cad_view = shop.admin.get(api + f"/products/{P['USD']}").json()
    assert (cad_view["price"], cad_view["orderable"]) == (None, False)

    # everything is visible; only USD products are priced, cheapest first, the rest after
    found = shop.search(usd, sort="price_asc")
    assert keys(found) == ALL
    order = [KEY_OF[p["part_number"]] for p in found["items"]]
    assert order[:2] == ["USD2", "USD"]
    assert {p["part_number"]: p["orderable"] for p in found["items"]} == {
        P[k]: k in ("USD", "USD2") for k in ALL}

    # a contract for a USD company is in USD and prices its USD products
    url = api + f"/backoffice/companies/{tailspin['company_id']}/contracts"
    r = shop.staff.post(url, json={"name": "Tailspin CAD", "starts_on": days(-1), "ends_on": days(5),
                                   "prices": [{"part_number": P["T14"], "price": money("1.00")}]})
    assert r.status_code == 422
    r = shop.staff.post(url, json={"name": "Tailspin", "starts_on": days(-1), "ends_on": days(5),
                                   "prices": [{"part_number": P["USD"], "price": money("350.00", "USD")}]})
    assert r.status_code == 201, r.text
    usd_product = usd.get(api + f"/products/{P['USD']}").json()
    assert (usd_product["price"], usd_product["price_source"]) == (money("350.00", "USD"), "contract")

    # carts and orders in USD; a CAD-only product cannot be added
    cart_id = shop.cart(usd, "usd")
    r = shop.add(usd, cart_id, "T14")
    assert r.status_code == 422 and r.json()["code"] == "product_not_orderable"
    r = usd.post(api + f"/carts/{cart_id}/quick-add", json={"lines": [
        {"part_number": P["USD"], "quantity": 2}, {"part_number": P["MON"], "quantity": 1}]})
    assert [l["status"] for l in r.json()["lines"]] == ["added", "not_allowed"]
    order = shop.checkout(usd, cart_id)
    assert order.status_code == 201, order.text
    assert order.json()["totals"]["total"] == money("700.00", "USD")


# ------------------------------------------------------------------ search, lookup, QuickCart

def test_search_filters_and_facets(shop):
    admin = shop.admin
    everything = shop.both_paths(admin)
    assert keys(everything) == ALL and everything["total"] == len(ALL)
    assert everything["facets"] == facets_of(ALL)
    for item in everything["items"]:
        key = KEY_OF[item["part_number"]]
        assert item["price"] == (money(PRICE[key]) if PRICE[key] else None), key

    def where(**wanted):
        index = {"manufacturer": 0, "category": 1, "language": 2, "availability": 3}
        return {k for k, spec in PRODUCTS.items()
                if all(spec[index[f]] == v for f, v in wanted.items())}

    for filters in ({"manufacturer": "Lenovo"}, {"category": "Accessories"},
                    {"language": "fr"}, {"availability": "limited"},
                    {"manufacturer": "Logitech", "language": "en"}):
        found = shop.both_paths(admin, **filters)
        assert keys(found) == where(**filters) and found["total"] == len(where(**filters)), filters

    # a facet ignores its own filter, so the other choices stay visible
    found = shop.both_paths(admin, manufacturer="Lenovo", category="Notebooks")
    assert keys(found) == {"T14", "X1"} and found["total"] == 2
    assert found["facets"] == {
        "manufacturer": facets_of(where(category="Notebooks"))["manufacturer"],
        "category": facets_of(where(manufacturer="Lenovo"))["category"],
        "availability": facets_of({"T14", "X1"})["availability"],
        "price": facets_of({"T14", "X1"})["price"]}
    assert found["facets"] == {
        "manufacturer": [{"value": "Lenovo", "count": 2}, {"value": "Apple", "count": 1},
                         {"value": "Dell", "count": 1}],
        "category": [{"value": "Notebooks", "count": 2}, {"value": "Accessories", "count": 1}],
        "availability": [{"value": "in_stock", "count": 1}, {"value": "limited", "count": 1}],
        "price": [{"min": money("1000.00"), "max": money("2499.99"), "count": 2}]}
    found = shop.both_paths(admin, availability="in_stock")
    assert found["facets"]["availability"] == facets_of(ALL)["availability"]

    # the caller's unit price, both ends inclusive; a price range's facet ignores its filter
    within = {k for k in ALL if PRICE[k] and 249.99 <= float(PRICE[k]) <= 450}
    found = shop.both_paths(admin, price_min="249.99", price_max="450")
    assert keys(found) == within == {"M365", "DOCK", "MON"} and found["total"] == 3
    assert found["facets"]["price"] == facets_of(ALL)["price"]
    assert found["facets"]["manufacturer"] == facets_of(within)["manufacturer"]
    assert keys(shop.both_paths(admin, price_min="2300")) == {"X1"}  # a contract price
    assert shop.search(admin, status=422, price_min="-1")["errors"].keys() == {"price_min"}
    assert shop.search(admin, status=422, price_min="5", price_max="4")["errors"].keys() == {"price_max"}

    assert keys(shop.both_paths(admin, on_contract="true")) == ON_CONTRACT
    assert keys(shop.both_paths(admin, on_contract="false")) == ALL - ON_CONTRACT
    # words narrow within the tag; a word found nowhere finds nothing
    assert keys(shop.both_paths(admin, q=f"{TAG} Logitech")) == where(manufacturer="Logitech")
    assert shop.both_paths(admin, q=f"{TAG} zzqqxx")["total"] == 0

    assert shop.search(admin, status=422, sort="cheapest")["errors"].keys() == {"sort"}
    assert shop.search(admin, status=422, cursor="not-a-cursor")["code"] == "invalid_cursor"


def test_sorting_by_price_and_paging(shop):
    admin = shop.admin
    priced = sorted((k for k in ALL if PRICE[k]), key=lambda k: float(PRICE[k]))
    unpriced = {k for k in ALL if not PRICE[k]}
    ascending = [KEY_OF[p["part_number"]] for p in shop.search(admin, sort="price_asc")["items"]]
    assert ascending[:len(priced)] == priced  # contract prices count; expired and future ones not
    assert set(ascending[len(priced):]) == unpriced  # no price in CAD: last
    descending = [KEY_OF[p["part_number"]] for p in shop.search(admin, sort="price_desc")["items"]]
    assert descending[:len(priced)] == priced[::-1]
    assert set(descending[len(priced):]) == unpriced

    pages, cursor = [], None
    while True:
        params = {"sort": "price_asc", "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = shop.search(admin, **params)
        assert len(page["items"]) <= 4 and page["total"] == len(ALL)
        pages += [KEY_OF[p["part_number"]] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == ascending
    # relevance pages too, without repeating or losing a product
    seen, cursor = [], None
    while True:
        page = shop.search(admin, limit=5, **({"cursor": cursor} if cursor else {}))
        seen += [p["part_number"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(P.values())


def test_lookup_answers_in_input_order(shop):
    asked = [P["MOUSE"].lower(), "NOPE-" + TAG, P["T14"], P["USD"], P["T14"], P["OLD"]]
    r = shop.admin.post(shop.api + "/products/lookup", json={"part_numbers": asked})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["part_number"], x["status"]) for x in results] == [
        (asked[0], "found"), (asked[1], "not_found"), (asked[2], "found"), (asked[3], "found"),
        (asked[4], "found"), (asked[5], "found")]
    assert results[0]["product"]["part_number"] == P["MOUSE"]
    assert results[1]["product"] is None
    assert (results[2]["product"]["price"], results[2]["product"]["price_source"]) == (
        money("1299.00"), "contract")
    assert (results[3]["product"]["price"], results[3]["product"]["orderable"]) == (None, False)
    assert results[5]["product"]["orderable"] is False  # discontinued
    url = shop.api + "/products/lookup"
    assert shop.admin.post(url, json={"part_numbers": []}).status_code == 422
    assert shop.admin.post(url, json={"part_numbers": ["X"] * 501}).status_code == 422


def test_quickcart_statuses(shop):
    admin, api = shop.admin, shop.api
    cart_id = shop.cart(admin, "quick")
    lines = [(P["T14"], 2), ("NOPE-" + TAG, 1), (P["OLD"], 1), (P["USD"], 1), (P["DOCK"], 0),
             (P["DOCK"], -1), (P["DOCK"], "2"), (P["MOUSE"].lower(), 1), (P["T14"], 1)]
    r = admin.post(api + f"/carts/{cart_id}/quick-add", json={"lines": [
        {"part_number": p, "quantity": q} for p, q in lines]})
    assert r.status_code == 200, r.text
    assert [(l["part_number"], l["quantity"], l["status"]) for l in r.json()["lines"]] == [
        (lines[0][0], 2, "added"), (lines[1][0], 1, "not_found"), (lines[2][0], 1, "not_allowed"),
        (lines[3][0], 1, "not_allowed"), (lines[4][0], 0, "invalid_quantity"),
        (lines[5][0], -1, "invalid_quantity"), (lines[6][0], "2", "invalid_quantity"),
        (lines[7][0], 1, "added"), (lines[8][0], 1, "added")]
    cart = admin.get(api + f"/carts/{cart_id}").json()
    assert {(l["part_number"], l["quantity"], l["unit_price"]["amount"]) for l in cart["lines"]} == {
        (P["T14"], 3, "1299.00"), (P["MOUSE"], 1, "120.00")}
    assert cart["totals"]["total"] == money("4017.00")


# ------------------------------------------------------------------ custom catalogs

def test_each_catalog_rule_alone(shop):
    admin, api = shop.admin, shop.api

    def allows(catalog):
        listed = keys(shop.catalog_products(admin, catalog["id"]))
        searched = keys(shop.search(admin, catalog_id=catalog["id"]))
        assert listed == searched, catalog["rules"]
        return listed

    c = shop.contracts
    assert allows(shop.catalog("On contract", [{"type": "contract", "contract_ids": [
        c["Standard"]["id"], c["Ends today"]["id"]]}])) == {"T14", "MON", "X1"}
    assert allows(shop.catalog("Picked", [{"type": "part_numbers", "part_numbers": [
        P["T14"].lower(), P["DOCK"], "NOPE-" + TAG]}])) == {"T14", "DOCK"}
    assert allows(shop.catalog("By mfg", [{
        "type": "mfg_part_numbers", "mfg_part_numbers": [MFG["MON"], MFG["MOUSE"]]}])) == {"MON", "MOUSE"}

    r = admin.post(api + "/saved-searches", json={"name": "Logitech", "criteria": {
        "q": TAG, "manufacturer": "Logitech"}})
    assert r.status_code == 201, r.text
    saved = r.json()
    by_search = shop.catalog("Saved", [{"type": "saved_search", "saved_search_id": saved["id"]}])
    assert allows(by_search) == {"MOUSE", "OLD", "KB"}
    assert admin.delete(api + f"/saved-searches/{saved['id']}").status_code == 204
    assert allows(by_search) == set()  # the search is gone: nothing rather than everything

    # a rule naming another company's contract or an unknown saved search is refused
    demo_contract = shop.system.session("demo.admin").get(api + "/contracts").json()["items"][0]
    for rule in ({"type": "contract", "contract_ids": [demo_contract["id"]]},
                 {"type": "saved_search", "saved_search_id": saved["id"]}):
        r = admin.post(api + "/catalogs", json={"name": "Bad rule", "rules": [rule]})
        assert r.status_code == 422 and r.json()["code"] == "invalid_catalog_rules", r.text
    r = admin.post(api + "/catalogs", json={"name": "Bad rule", "rules": [{"type": "bestsellers"}]})
    assert r.status_code == 422


@pytest.mark.parametrize("include,exclude,expected", [
    ({"manufacturers": ["Dell", "HP"]}, {}, {"XPS", "MON", "USD", "USD2"}),
    ({"categories": ["Monitors"]}, {}, {"MON", "USD"}),
    ({"languages": ["fr"]}, {}, {"X1", "MON", "MOUSE", "HEADSET", "M365"}),
    ({"off_contract": True}, {}, ALL - ON_CONTRACT),
    ({}, {"manufacturers": ["Lenovo"]}, ALL - {"T14", "X1", "DOCK"}),
    ({}, {"categories": ["Accessories", "Audio"]}, ALL - {"DOCK", "MOUSE", "OLD", "USD2", "KB", "HEADSET"}),
    ({}, {"languages": ["en"]}, {"X1", "MON", "MOUSE", "HEADSET", "M365"}),
    ({}, {"off_contract": True}, ON_CONTRACT),
    # include: every criterion given must match; exclude: any one removes
    ({"manufacturers": ["Lenovo", "Logitech"], "languages": ["en"]}, {}, {"T14", "DOCK", "OLD", "KB"}),
    ({}, {"manufacturers": ["Lenovo"], "languages": ["fr"]}, {"XPS", "OLD", "USD", "USD2", "KB", "MBA"}),
    ({"categories": ["Notebooks"]}, {"off_contract": True}, {"T14", "X1"}),
])
def test_include_and_exclude(shop, include, exclude, expected):
    admin = shop.admin
    # without rules: searched from the column snapshot and by SQL
    plain = shop.catalog("Filtered", include=include, exclude=exclude)
    assert keys(shop.both_paths(admin, catalog_id=plain["id"])) == expected
    # with a rule (every product of the module): by SQL, and listed as the catalog's products
    ruled = shop.catalog("Filtered ruled", [{"type": "part_numbers", "part_numbers": list(P.values())}],
                         include=include, exclude=exclude)
    assert keys(shop.catalog_products(admin, ruled["id"])) == expected
    assert keys(shop.search(admin, catalog_id=ruled["id"])) == expected


def test_rules_and_filters_combine(shop):
    admin, api = shop.admin, shop.api
    catalog = shop.catalog("Combined", [
        {"type": "part_numbers", "part_numbers": [P[k] for k in ("T14", "X1", "DOCK", "MON", "MOUSE", "KB")]},
        {"type": "mfg_part_numbers",
         "mfg_part_numbers": [MFG[k] for k in ("X1", "DOCK", "MON", "MOUSE", "KB", "XPS")]}])
    assert keys(shop.catalog_products(admin, catalog["id"])) == {"X1", "DOCK", "MON", "MOUSE", "KB"}
    steps = [({"include": {"categories": ["Accessories", "Notebooks"]}}, {"X1", "DOCK", "MOUSE", "KB"}),
             ({"exclude": {"languages": ["fr"]}}, {"DOCK", "KB"}),
             ({"exclude": {"languages": ["fr"], "off_contract": True}}, {"KB"}),
             ({"rules": [{"type": "contract", "contract_ids": [shop.contracts["Standard"]["id"],
                                                               shop.contracts["Ends today"]["id"]]},
                         {"type": "part_numbers", "part_numbers": [P["T14"], P["MON"], P["DOCK"]]}]},
              {"T14"})]
    for change, expected in steps:
        r = admin.patch(api + f"/catalogs/{catalog['id']}", json=change)
        assert r.status_code == 200, r.text
        assert keys(shop.catalog_products(admin, catalog["id"])) == expected, change
        assert keys(shop.search(admin, catalog_id=catalog["id"])) == expected, change



def test_catalogs_are_the_companys_own(shop, tailspin):
    admin, other, api = shop.admin, tailspin["admin"], shop.api
    catalog = shop.catalog("Private", [{"type": "part_numbers", "part_numbers": [P["DOCK"].lower()]}])
    got = admin.get(api + f"/catalogs/{catalog['id']}").json()
    assert got["rules"] == [{"type": "part_numbers", "part_numbers": [P["DOCK"]]}]
    def listed(session):
        return {c["id"] for c in session.get(api + "/catalogs", params={"limit": 200}).json()["items"]}
    assert catalog["id"] in listed(admin) and catalog["id"] not in listed(other)
    for r in (other.get(api + f"/catalogs/{catalog['id']}"),
              other.patch(api + f"/catalogs/{catalog['id']}", json={"name": "Taken"}),
              other.get(api + f"/catalogs/{catalog['id']}/products"),
              other.get(api + "/products", params={"q": TAG, "catalog_id": catalog["id"]}),
              other.delete(api + f"/catalogs/{catalog['id']}")):
        assert r.status_code == 404, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    assert admin.get(api + f"/catalogs/{catalog['id']}").json()["name"] == catalog["name"]
    r = admin.post(api + "/catalogs", json={"name": catalog["name"]})
    assert r.status_code == 409 and r.json()["code"] == "catalog_name_taken"

# ------------------------------------------------------------------ grants

def test_catalog_grants_narrow_what_a_user_sees_everywhere(shop):
    admin, api = shop.admin, shop.api
    buyer_id = shop.users["buyer"]["id"]
    buyer = shop.fresh_session("buyer")
    assert keys(shop.search(buyer)) == ALL  # no grants: the whole catalog
    assert buyer.get(api + "/catalogs").status_code == 403

    lenovo = shop.catalog("Lenovo", include={"manufacturers": ["Lenovo"]})
    dell = shop.catalog("Dell picks", [{"type": "part_numbers", "part_numbers": [P["XPS"], P["MON"]]}])
    r = admin.patch(api + f"/company/users/{buyer_id}", json={"catalog_ids": [lenovo["id"]]})
    assert r.status_code == 200 and r.json()["catalog_ids"] == [lenovo["id"]], r.text
    buyer = shop.fresh_session("buyer")

    found = shop.both_paths(buyer)
    assert keys(found) == {"T14", "X1", "DOCK"} and found["total"] == 3
    assert found["facets"] == facets_of({"T14", "X1", "DOCK"})
    assert keys(shop.search(buyer, manufacturer="Dell")) == set()
    assert buyer.get(api + f"/products/{P['MON']}").status_code == 404
    assert buyer.get(api + f"/products/{P['T14']}").json()["price"] == money("1299.00")
    assert keys(shop.catalog_products(buyer, dell["id"])) == set()  # within the buyer's grants
    lookup = buyer.post(api + "/products/lookup", json={"part_numbers": [
        P["MON"], P["DOCK"].lower(), "NOPE-" + TAG, P["T14"]]}).json()["results"]
    assert [x["status"] for x in lookup] == ["not_found", "found", "not_found", "found"]

    cart_id = shop.cart(buyer, "granted")
    r = shop.add(buyer, cart_id, "MON")
    assert r.status_code == 422 and r.json()["code"] == "product_not_allowed", r.text
    assert shop.add(buyer, cart_id, "DOCK").status_code == 201
    quick = buyer.post(api + f"/carts/{cart_id}/quick-add", json={"lines": [
        {"part_number": P["T14"], "quantity": 1}, {"part_number": P["MON"], "quantity": 1},
        {"part_number": "NOPE-" + TAG, "quantity": 1}, {"part_number": P["X1"], "quantity": 0}]}).json()
    assert [l["status"] for l in quick["lines"]] == ["added", "not_allowed", "not_found",
                                                     "invalid_quantity"]

    # a group's catalogs add to the user's own: the union
    r = admin.post(api + "/company/groups", json={"name": f"Dell buyers {TAG}",
                                                  "catalog_ids": [dell["id"]]})
    assert r.status_code == 201, r.text
    group_id = r.json()["id"]
    r = admin.patch(api + f"/company/users/{buyer_id}", json={"groups": ["users", group_id]})
    assert r.status_code == 200, r.text
    buyer = shop.fresh_session("buyer")
    found = shop.both_paths(buyer)
    assert keys(found) == {"T14", "X1", "DOCK", "XPS", "MON"}
    assert found["facets"] == facets_of({"T14", "X1", "DOCK", "XPS", "MON"})
    assert buyer.get(api + f"/products/{P['MON']}").status_code == 200
    assert keys(shop.catalog_products(buyer, dell["id"])) == {"XPS", "MON"}
    lookup = buyer.post(api + "/products/lookup", json={"part_numbers": [
        P["MON"], P["MOUSE"]]}).json()["results"]
    assert [x["status"] for x in lookup] == ["found", "not_found"]
    checkout_cart = shop.cart(buyer, "to check out")
    assert shop.add(buyer, checkout_cart, "MON").status_code == 201
    assert shop.add(buyer, checkout_cart, "T14").status_code == 201

    # the group loses its catalog: checkout re-checks and refuses the line no longer allowed
    r = admin.patch(api + f"/company/groups/{group_id}", json={"catalog_ids": []})
    assert r.status_code == 200, r.text
    buyer = shop.fresh_session("buyer")
    cart = buyer.get(api + f"/carts/{checkout_cart}").json()
    assert {l["part_number"]: l["status"] for l in cart["lines"]} == {P["MON"]: "not_allowed",
                                                                      P["T14"]: "ok"}
    assert cart["totals"]["total"] == money("1299.00")
    r = shop.checkout(buyer, checkout_cart)
    assert r.status_code == 422 and r.json()["code"] == "lines_not_orderable", r.text
    assert set(r.json()["errors"]) == {P["MON"]}
    mon_line = next(l for l in cart["lines"] if l["part_number"] == P["MON"])
    assert buyer.delete(api + f"/carts/{checkout_cart}/items/{mon_line['id']}").status_code == 200
    r = shop.checkout(buyer, checkout_cart)
    assert r.status_code == 201, r.text
    assert [l["part_number"] for l in r.json()["lines"]] == [P["T14"]]

    # a grant to a catalog deleted since shows nothing; no grants at all: everything again
    assert admin.delete(api + f"/catalogs/{lenovo['id']}").status_code == 204
    assert shop.search(buyer)["items"] == []
    assert buyer.get(api + f"/products/{P['T14']}").status_code == 404
    r = admin.patch(api + f"/company/users/{buyer_id}", json={"catalog_ids": []})
    assert r.status_code == 200, r.text
    buyer = shop.fresh_session("buyer")
    assert keys(shop.search(buyer)) == ALL
    assert buyer.get(api + f"/products/{P['MOUSE']}").status_code == 200


# ------------------------------------------------------------------ purchase history

def test_purchase_history_catalog_holds_what_was_ordered(system, staff, shop):
    admin, api = shop.admin, shop.api
    litware = system.new_company(staff, "Litware", password=PASSWORD).admin
    history = litware.post(api + "/catalogs", json={"name": "Bought before",
                                                    "rules": [{"type": "purchase_history"}]}).json()
    logitech_history = litware.post(api + "/catalogs", json={
        "name": "Logitech bought before", "rules": ["purchase_history"],
        "include": {"manufacturers": ["Logitech"]}}).json()
    assert shop.catalog_products(litware, history["id"])["items"] == []

    cart_id = shop.cart(litware, "history")
    assert shop.add(litware, cart_id, "MOUSE", 3).status_code == 201
    assert shop.add(litware, cart_id, "MBA", 1).status_code == 201
    r = shop.checkout(litware, cart_id)
    assert r.status_code == 201, r.text

    def bought(session, catalog_id):
        return keys(shop.catalog_products(session, catalog_id)) or None
    # it arrives by event: only this order's products, none of another company's orders
    assert wait_for(lambda: bought(litware, history["id"]), timeout=20, interval=0.3) == {"MOUSE", "MBA"}
    assert keys(shop.catalog_products(litware, logitech_history["id"])) == {"MOUSE"}
    assert keys(shop.search(litware, catalog_id=history["id"])) == {"MOUSE", "MBA"}
    # and Litware's order is not in another company's history
    fabrikam = shop.catalog("Fabrikam history", ["purchase_history"])
    assert not {"MOUSE", "MBA"} & keys(shop.catalog_products(admin, fabrikam["id"]))


# ------------------------------------------------------------------ favorites

def test_favorites_four_kinds_written_by_eprocurement_admin_read_by_all(shop, tailspin):
    admin, api = shop.admin, shop.api
    bodies = [
        {"kind": "product", "title": "Standard mouse", "part_number": P["MOUSE"].lower()},
        {"kind": "comparison", "title": "Notebooks compared", "part_numbers": [P["T14"], P["X1"].lower()]},
        {"kind": "bundle", "title": "New hire kit", "lines": [
            {"part_number": P["DOCK"], "quantity": 2}, {"part_number": P["KB"], "quantity": 1}]},
        {"kind": "link", "title": "Lenovo PSREF", "url": "https://psref.lenovo.com/"}]
    created = []
    for body in bodies:
        r = admin.post(api + "/favorites", json=body)
        assert r.status_code == 201, r.text
        created.append(r.json())
    assert created[0]["part_number"] == P["MOUSE"]
    assert created[1]["part_numbers"] == [P["T14"], P["X1"]]
    assert created[2]["lines"] == [{"part_number": P["DOCK"], "quantity": 2},
                                   {"part_number": P["KB"], "quantity": 1}]
    assert created[3]["url"] == "https://psref.lenovo.com/"

    for bad in ({"kind": "comparison", "title": "one", "part_numbers": [P["T14"]]},
                {"kind": "comparison", "title": "five",
                 "part_numbers": [P[k] for k in ("T14", "X1", "DOCK", "MON", "KB")]},
                {"kind": "product", "title": "unknown", "part_number": "NOPE-" + TAG},
                {"kind": "bundle", "title": "empty", "lines": []},
                {"kind": "link", "title": "ftp", "url": "ftp://example.com/file"},
                {"kind": "video", "title": "x"}):
        assert admin.post(api + "/favorites", json=bad).status_code == 422, bad

    # every user reads them; a buyer cannot write
    ids = [f["id"] for f in created]
    for name in ("buyer", "member"):
        user = shop.fresh_session(name)
        listed = {f["id"]: f for f in user.get(api + "/favorites", params={"limit": 200}).json()["items"]}
        assert set(ids) <= set(listed)
        assert [listed[i]["kind"] for i in ids] == ["product", "comparison", "bundle", "link"]
        assert user.get(api + f"/favorites/{ids[2]}").json()["lines"] == created[2]["lines"]
    buyer = shop.fresh_session("buyer")
    r = buyer.post(api + "/favorites", json={"kind": "link", "title": "x", "url": "https://example.com"})
    assert r.status_code == 403
    assert buyer.delete(api + f"/favorites/{ids[0]}").status_code == 403
    # the right is eprocurement_admin itself, not any administrator's role
    for role, status in (("catalog_admin", 403), ("eprocurement_admin", 201)):
        user = shop.add_user(role.split("_")[0], roles=[role])
        session = shop.system.session(user["username"], PASSWORD)
        r = session.post(api + "/favorites", json={"kind": "link", "title": f"By {role}",
                                                   "url": "https://www.lenovo.com/ca/en/"})
        assert r.status_code == status, (role, r.text)
    assert admin.delete(api + f"/favorites/{r.json()['id']}").status_code == 204
    # another company neither lists nor reaches them
    other = tailspin["admin"]
    assert not set(ids) & {f["id"] for f in other.get(api + "/favorites").json()["items"]}
    assert other.get(api + f"/favorites/{ids[0]}").status_code == 404
    assert other.delete(api + f"/favorites/{ids[0]}").status_code == 404

    # the standards rule: the products of the company's favorites
    standards = shop.catalog("Standards", ["standards"])
    assert keys(shop.catalog_products(admin, standards["id"])) == {"MOUSE", "T14", "X1", "DOCK", "KB"}
    assert admin.delete(api + f"/favorites/{ids[0]}").status_code == 204
    assert keys(shop.catalog_products(admin, standards["id"])) == {"T14", "X1", "DOCK", "KB"}
    assert buyer.get(api + f"/favorites/{ids[0]}").status_code == 404


# ------------------------------------------------------------------ employee purchase program

def test_epp_members_buy_at_epp_prices_below_contracts(shop, tailspin):
    staff, admin, api = shop.staff, shop.admin, shop.api
    member_id = shop.users["member"]["id"]
    member = shop.fresh_session("member")
    url = api + f"/backoffice/companies/{shop.company_id}/epp"
    r = admin.get(api + "/epp")
    assert r.status_code == 404 and r.json()["code"] == "epp_not_found"
    assert admin.put(url, json={"name": "EPP"}).status_code == 403
    assert staff.put(api + "/backoffice/companies/987654321/epp", json={"name": "EPP"}).status_code == 404
    r = staff.put(url, json={"name": "EPP", "starts_on": days(5), "ends_on": days(1)})
    assert r.status_code == 422

    assert staff.get(url).json()["code"] == "epp_not_found"
    r = staff.put(url, json={"name": "Fabrikam EPP", "user_ids": [member_id]})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["active"], r.json()["all_users"]) == ("Fabrikam EPP", True, False)
    assert staff.get(url).json()["user_ids"] == [member_id] == r.json()["user_ids"]
    assert "user_ids" not in admin.get(api + "/epp").json()  # members see no one's membership
    assert admin.get(url).status_code == 403
    assert member.get(api + "/epp").json()["member"] is True
    assert admin.get(api + "/epp").json()["member"] is False
    assert tailspin["admin"].get(api + "/epp").status_code == 404

    def price(session, key):
        p = session.get(api + f"/products/{P[key]}").json()
        return p["price"]["amount"], p["price_source"]
    assert price(member, "XPS") == ("1000.00", "epp")
    assert price(member, "T14") == ("1299.00", "contract")  # a contract price wins over EPP
    assert price(member, "DOCK") == ("300.00", "list")       # no EPP price: the list price
    assert price(admin, "XPS") == ("1800.00", "list")        # not a member
    ascending = [KEY_OF[p["part_number"]] for p in shop.search(member, sort="price_asc")["items"]]
    assert ascending.index("XPS") < ascending.index("T14")
    cart_id = shop.cart(member, "epp")
    r = shop.add(member, cart_id, "XPS", 2)
    assert r.status_code == 201 and r.json()["totals"]["total"] == money("2000.00"), r.text

    r = staff.put(url, json={"name": "Fabrikam EPP", "all_users": True})
    assert r.status_code == 200, r.text
    assert price(admin, "XPS") == ("1000.00", "epp")
    for change in ({"active": False}, {"starts_on": days(10)}, {"ends_on": days(-1)}):
        r = staff.put(url, json={"name": "Fabrikam EPP", "all_users": True, **change})
        assert r.status_code == 200, r.text
        assert price(member, "XPS") == ("1800.00", "list"), change
        assert member.get(api + "/epp").json()["member"] is False
    assert admin.get(api + f"/carts/{cart_id}").status_code == 404  # a cart is its owner's
    cart = member.get(api + f"/carts/{cart_id}").json()
    assert cart["lines"][0]["price_changed"] is True and cart["totals"]["total"] == money("3600.00")
