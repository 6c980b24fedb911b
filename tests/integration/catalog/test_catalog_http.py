"""The catalog endpoints through the gateway, with identity and catalog in their own
containers on the real broker: the staff's import (text/csv and multipart) and contract,
searching and pricing as a buyer, catalog grants given by the security admin, favorites,
saved searches and the EPP, with the rights each endpoint needs."""
import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEADER = "part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability"
CSV = HEADER + """
GW-T14,21MN0001CA,Lenovo,Notebooks,Lenovo ThinkPad T14 Gen 5,Business notebook,1549.00,CAD,en,in_stock
GW-X1,21KC0001CA,Lenovo,Notebooks,Lenovo ThinkPad X1 Carbon Gen 12,Ultralight,2499.00,CAD,en,in_stock
GW-U2724,210-BKTL,Dell,Monitors,Dell UltraSharp U2724D,Écran 27 po,579.00,CAD,fr,limited
"""


def test_catalog_over_http(api):
    base, login = api["base"], api["login"]
    staff, admin, buyer = login("staff"), login("demo.admin"), login("demo.buyer")
    company = api["company_id"]

    # ---- back office: import
    r = staff.post(base + "/backoffice/products/import", data=CSV.encode(),
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["rejected"]) == (3, [])
    again = CSV.replace("1549.00", "1499.00") + "GW-BAD,X,Dell,Monitors,Bad,,,CAD,en,in_stock\n"
    r = staff.post(base + "/backoffice/products/import", files={"file": ("catalog.csv", again.encode())})
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["updated"]) == (0, 3)
    assert r.json()["rejected"][0]["line"] == 5
    r = staff.post(base + "/backoffice/products/import", files={"other": ("c.csv", b"x")})
    assert r.status_code == 422 and r.json()["code"] == "file_required"
    r = staff.post(base + "/backoffice/products/import", json={"part_number": "x"})
    assert r.status_code == 415
    r = staff.post(base + "/backoffice/products/import", data=b"sku,price\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_import_header"
    assert buyer.post(base + "/backoffice/products/import", data=CSV,
                      headers={"Content-Type": "text/csv"}).status_code == 403

    # ---- back office: contract, in the company's currency
    contract = {"name": "Supply", "starts_on": "2020-01-01", "ends_on": "2099-12-31",
                "tiers": [{"name": "Volume", "min_quantity": 10}],
                "prices": [{"part_number": "GW-T14", "price": {"amount": "1299.00", "currency": "CAD"}},
                           {"part_number": "GW-T14", "tier": "Volume",
                            "price": {"amount": "1249.00", "currency": "CAD"}}]}
    r = staff.post(base + f"/backoffice/companies/{company}/contracts", json=contract)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active" and r.json()["price_count"] == 2
    assert staff.post(base + "/backoffice/companies/999999/contracts", json=contract).status_code == 404
    usd = dict(contract, prices=[{"part_number": "GW-X1", "price": {"amount": "1", "currency": "USD"}}])
    r = staff.post(base + f"/backoffice/companies/{company}/contracts", json=usd)
    assert r.status_code == 422 and "prices" in r.json()["errors"]
    r = staff.post(base + f"/backoffice/companies/{company}/contracts", json=dict(contract, ends_on="2019-01-01"))
    assert r.status_code == 422 and "ends_on" in r.json()["errors"]
    assert admin.post(base + f"/backoffice/companies/{company}/contracts", json=contract).status_code == 403

    # ---- a buyer searches at the company's prices
    r = buyer.get(base + "/products", params={"q": "thinkpad", "manufacturer": "Lenovo",
                                              "sort": "price_asc", "limit": 1})
    assert r.status_code == 200, r.text
    page = r.json()
    assert [i["part_number"] for i in page["items"]] == ["GW-T14"] and page["next_cursor"]
    assert page["items"][0]["price"] == {"amount": "1299.00", "currency": "CAD"}
    assert page["items"][0]["price_source"] == "contract" and page["total"] == 2
    assert {f["value"] for f in page["facets"]["manufacturer"]} == {"Lenovo"}
    r = buyer.get(base + "/products", params={"cursor": page["next_cursor"], "q": "thinkpad",
                                              "sort": "price_asc", "limit": 1})
    assert [i["part_number"] for i in r.json()["items"]] == ["GW-X1"]
    assert buyer.get(base + "/products", params={"sort": "best"}).status_code == 422
    assert buyer.get(base + "/products", params={"limit": 500}).status_code == 422
    assert buyer.get(base + "/products", params={"on_contract": "true"}).json()["total"] == 1
    r = buyer.get(base + "/products/gw-u2724")
    assert r.status_code == 200 and r.json()["price"] == {"amount": "579.00", "currency": "CAD"}
    r = buyer.get(base + "/products/NOPE-1")
    assert r.status_code == 404 and r.json()["code"] == "product_not_found" and "errors" not in r.json()
    r = buyer.post(base + "/products/lookup", json={"part_numbers": ["GW-X1", "NOPE"]})
    assert [x["status"] for x in r.json()["results"]] == ["found", "not_found"]
    assert buyer.post(base + "/products/lookup", json={"part_numbers": []}).status_code == 422
    r = buyer.get(base + "/contracts")
    assert [c["name"] for c in r.json()["items"]] == ["Supply"]
    assert requests.get(base + "/products").status_code == 401

    # ---- favorites: e-procurement admin writes, everyone reads
    r = admin.post(base + "/favorites", json={"kind": "comparison", "title": "Notebooks",
                                              "part_numbers": ["GW-T14", "GW-X1"]})
    assert r.status_code == 201, r.text
    favorite = r.json()
    assert buyer.post(base + "/favorites", json={"kind": "link", "title": "x",
                                                 "url": "https://x.example"}).status_code == 403
    r = admin.post(base + "/favorites", json={"kind": "comparison", "title": "x", "part_numbers": ["GW-T14"]})
    assert r.status_code == 422
    assert [f["id"] for f in buyer.get(base + "/favorites").json()["items"]] == [favorite["id"]]
    assert buyer.get(base + f"/favorites/{favorite['id']}").json()["part_numbers"] == ["GW-T14", "GW-X1"]

    # ---- saved searches are the user's own
    r = buyer.post(base + "/saved-searches", json={"name": "Monitors", "criteria": {"q": "ultrasharp"}})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert admin.get(base + f"/saved-searches/{saved['id']}").status_code == 404
    assert [s["name"] for s in buyer.get(base + "/saved-searches").json()["items"]] == ["Monitors"]

    # ---- a custom catalog granted to the buyer narrows everything the buyer sees
    assert buyer.post(base + "/catalogs", json={"name": "x"}).status_code == 403
    r = admin.post(base + "/catalogs", json={"name": "Standards and monitors",
                                             "rules": [{"type": "standards"}],
                                             "exclude": {"manufacturers": ["Lenovo"]}})
    assert r.status_code == 201 and [i["part_number"] for i in admin.get(
        base + f"/catalogs/{r.json()['id']}/products").json()["items"]] == []
    r = admin.patch(base + f"/catalogs/{r.json()['id']}",
                    json={"rules": [{"type": "saved_search", "saved_search_id": saved["id"]}]})
    assert r.status_code == 200, r.text
    catalog = r.json()
    assert admin.post(base + "/catalogs", json={"name": catalog["name"]}).status_code == 409
    assert [c["id"] for c in admin.get(base + "/catalogs").json()["items"]] == [catalog["id"]]
    buyer_id = api["users"]["demo.buyer"]
    r = admin.patch(base + f"/company/users/{buyer_id}", json={"catalog_ids": [catalog["id"]]})
    assert r.status_code == 200, r.text
    buyer = login("demo.buyer")
    assert [i["part_number"] for i in buyer.get(base + "/products").json()["items"]] == ["GW-U2724"]
    assert buyer.get(base + "/products/GW-T14").status_code == 404
    # the user still reads the company's favorites
    assert len(buyer.get(base + "/favorites").json()["items"]) == 1
    assert admin.delete(base + f"/catalogs/{catalog['id']}").status_code == 204
    assert buyer.get(base + "/products").json()["items"] == []

    # ---- the employee purchase program
    assert buyer.get(base + "/epp").status_code == 404
    r = staff.put(base + f"/backoffice/companies/{company}/epp",
                  json={"name": "Employee program", "all_users": True})
    assert r.status_code == 200, r.text
    assert buyer.get(base + "/epp").json()["member"] is True
