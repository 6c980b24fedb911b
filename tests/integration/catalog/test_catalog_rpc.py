"""catalog in a nameko container on the real broker: import, search and cart prices over RPC,
errors crossing as themselves, catalog_changed and contract_changed published by the outbox
relay, and purchase history fed by orders.order_placed (published here with a plain nameko
event dispatcher, and delivered twice to show it counts once)."""
import uuid

import pytest
from nameko.events import event_handler as nameko_event_handler
from nameko.standalone.events import event_dispatcher

from services.catalog.service import CatalogService
from services.common.context import CallerContext
from services.common.errors import Forbidden, Invalid, NotFound
from tests.support.databases import migrated_database
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

STAFF = CallerContext(user_id=1, staff=True).to_dict()
BUYER = CallerContext(user_id=10, company_id=1, currency="CAD").to_dict()
HEADER = "part_number,mfg_part_number,manufacturer,category,name,description,list_price,currency,language,availability"
CSV = HEADER + """
INT-T14,21MN0001CA,Lenovo,Notebooks,Lenovo ThinkPad T14 Gen 5,Business notebook,1549.00,CAD,en,in_stock
INT-U2724,210-BKTL,Dell,Monitors,Dell UltraSharp U2724D,27 in QHD,579.00,CAD,fr,limited
INT-BAD,X,Dell,Monitors,Bad,,free,CAD,en,in_stock
"""
RECEIVED = []


class CatalogWatcher:
    """Records what catalog publishes."""
    name = "catalog_watcher"

    @nameko_event_handler("catalog", "catalog_changed")
    def on_catalog_changed(self, event):
        RECEIVED.append(event)

    @nameko_event_handler("catalog", "contract_changed")
    def on_contract_changed(self, event):
        RECEIVED.append(event)


@pytest.fixture
def catalog(tmp_path, monkeypatch, start_service, procura_env):
    url, drop = migrated_database("catalog", tmp_path)
    monkeypatch.setenv("CATALOG_DATABASE_URL", url)
    RECEIVED.clear()
    start_service(CatalogWatcher)
    # one worker: events are handled in the order they were published
    start_service(CatalogService, max_workers=1)
    with ServiceRpcProxy("catalog", procura_env, timeout=20) as proxy:
        yield proxy
    drop()


def test_import_search_and_cart_prices(catalog):
    report = catalog.import_products(STAFF, CSV)
    assert (report["imported"], report["updated"]) == (2, 0)
    assert report["rejected"] == [{"line": 4, "reason": "list_price is not a number: 'free'"}]
    found = catalog.search(BUYER, "CAD", {"q": "thinkpad"})
    assert [i["part_number"] for i in found["items"]] == ["INT-T14"]
    assert found["items"][0]["price"] == {"amount": "1549.00", "currency": "CAD"}
    assert found["facets"]["manufacturer"] == [{"value": "Lenovo", "count": 1}]

    contract = catalog.create_contract(STAFF, 1, {
        "name": "Supply agreement", "starts_on": "2020-01-01", "ends_on": "2099-12-31",
        "prices": [{"part_number": "INT-T14", "price": {"amount": "1399.00", "currency": "CAD"}}]},
        "CAD")
    assert contract["status"] == "active"
    quote = catalog.price_lines(BUYER, "CAD", [{"part_number": "INT-T14", "quantity": 3},
                                               {"part_number": "INT-U2724", "quantity": 1},
                                               {"part_number": "NOPE", "quantity": 1}])
    assert [(l["status"], l["price_source"]) for l in quote["lines"]] == [
        ("ok", "contract"), ("ok", "list"), ("not_found", None)]
    assert quote["lines"][0]["unit_price"] == {"amount": "1399.00", "currency": "CAD"}
    looked = catalog.lookup(BUYER, "CAD", ["INT-U2724", "NOPE"])
    assert [r["status"] for r in looked["results"]] == ["found", "not_found"]

    events = wait_for(lambda: len(RECEIVED) >= 2 and RECEIVED, message="catalog events")
    payloads = {e["type"]: e["payload"] for e in events}
    assert payloads["catalog_changed"] == {"imported": 2, "updated": 0}
    assert payloads["contract_changed"] == {"company_id": 1, "contract_id": contract["id"]}


def test_errors_cross_rpc_as_themselves(catalog):
    with pytest.raises(NotFound) as err:
        catalog.get_product(BUYER, "CAD", "NOPE")
    assert err.value.code == "product_not_found" and not err.value.errors
    with pytest.raises(Forbidden):
        catalog.import_products(BUYER, CSV)
    with pytest.raises(Invalid) as err:
        catalog.create_catalog(BUYER | {"roles": ["catalog_admin"]}, {"name": "x", "rules": ["nope"]})
    assert "rules" in err.value.errors


def test_purchase_history_from_order_placed(catalog, procura_env):
    catalog.import_products(STAFF, CSV)

    def order_placed(number, lines):
        return {"event_id": str(uuid.uuid4()), "type": "order_placed", "source": "orders",
                "occurred_at": "2026-11-22T10:00:00Z", "request_id": "r1", "payload": {
                    "order_id": number, "order_number": f"SO-{number}", "company_id": 1,
                    "user_id": 10, "currency": "CAD", "placed_at": "2026-11-22T10:00:00Z",
                    "lines": [{"part_number": p, "quantity": q} for p, q in lines]}}
    first = order_placed(1, [("INT-T14", 2), ("INT-U2724", 1)])
    # a later order that only the marker's part is in: handled after the copies
    marker = order_placed(2, [("INT-U2724", 1)])
    # as orders' RabbitMQ user (all the test's services share guest)
    dispatch = event_dispatcher(procura_env, user_id="guest")
    dispatch("orders", "order_placed", first)
    dispatch("orders", "order_placed", first)  # redelivered: counted once
    dispatch("orders", "order_placed", marker)

    def history():
        items = {i["part_number"]: i for i in catalog.purchase_history(BUYER)["items"]}
        return items if items.get("INT-U2724", {}).get("orders") == 2 else None
    items = wait_for(history, message="the later order in the purchase history")
    assert items["INT-T14"]["quantity"] == 2 and items["INT-T14"]["orders"] == 1
    # and a catalog built on it allows exactly those products
    admin = BUYER | {"roles": ["catalog_admin"]}
    made = catalog.create_catalog(admin, {"name": "Bought before", "rules": ["purchase_history"]})
    listed = catalog.catalog_products(admin, "CAD", made["id"])
    assert {i["part_number"] for i in listed["items"]} == {"INT-T14", "INT-U2724"}
    again = catalog.purchase_history(BUYER)["items"]
    assert {i["part_number"]: i["quantity"] for i in again} == {"INT-T14": 2, "INT-U2724": 2}
