"""Product pages and searches kept by the gateway (services/gateway/price_cache.py), on the
running system: an ETag the client sends back gets 304; a price change shows at the next
read, whether it was made through the gateway or heard from catalog on the broker."""
import uuid

from tests.support.waiting import wait_for

HEADER = ("part_number,mfg_part_number,manufacturer,category,name,description,list_price,"
          "currency,language,availability")


def product_line(part, price):
    return f"{part},M-{part},Contoso,Docks,Dock {part},A dock,{price},CAD,en,in_stock"


def import_products(staff, system, *lines):
    r = staff.post(system.api + "/backoffice/products/import",
                   data="\n".join((HEADER,) + lines).encode() + b"\n",
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text


def price(reply):
    return reply.json()["price"]["amount"]


def test_a_kept_product_page_answers_304_and_a_contract_shows_at_the_next_read(system, staff):
    part = f"PC-{uuid.uuid4().hex[:8]}".upper()
    import_products(staff, system, product_line(part, "120.00"))
    company = system.new_company(staff, "Keptprices")
    admin = company.admin
    url = system.api + f"/products/{part}"
    first = admin.get(url)
    assert first.status_code == 200 and price(first) == "120.00"
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = admin.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag

    r = staff.post(system.api + f"/backoffice/companies/{company.id}/contracts",
                   json={"name": "Kept", "starts_on": "2000-01-01", "ends_on": "2999-12-31",
                         "prices": [{"part_number": part,
                                     "price": {"amount": "99.00", "currency": "CAD"}}]})
    assert r.status_code == 201, r.text
    after = admin.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and price(after) == "99.00"
    assert after.json()["price_source"] == "contract" and after.headers["ETag"] != etag


def test_a_search_is_kept_with_its_etag(system, staff):
    tag = uuid.uuid4().hex[:8]
    part = f"PS-{tag}".upper()
    import_products(staff, system, product_line(part, "75.00"))
    buyer = system.session("demo.buyer")
    url = system.api + "/products"
    first = buyer.get(url, params={"q": f"Dock {part}"})
    assert first.status_code == 200
    assert [p["part_number"] for p in first.json()["items"]] == [part]
    etag = first.headers["ETag"]
    assert buyer.get(url, params={"q": f"Dock {part}"},
                     headers={"If-None-Match": etag}).status_code == 304
    # another search is another reply
    other = buyer.get(url, params={"q": f"Nothing {tag}"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.json()["items"] == []


def test_a_price_change_heard_from_catalog_shows_before_the_kept_reply_expires(system, staff,
                                                                               tmp_path):
    """An import from the command line reaches catalog's database directly: the gateway
    learns of it only from catalog's catalog_changed event. The new price shows well within
    PRICE_CACHE_SECONDS (30), the age at which a kept reply would expire anyway."""
    part = f"PE-{uuid.uuid4().hex[:8]}".upper()
    import_products(staff, system, product_line(part, "50.00"))
    buyer = system.session("demo.buyer")
    url = system.api + f"/products/{part}"
    assert price(buyer.get(url)) == "50.00"
    assert price(buyer.get(url)) == "50.00"  # kept
    csv = tmp_path / "reprice.csv"
    csv.write_text("\n".join((HEADER, product_line(part, "45.00"))) + "\n")
    system.cli("import-products", str(csv))
    wait_for(lambda: price(buyer.get(url)) == "45.00", timeout=20,
             message="the new list price on the product page")
