"""The checkout's messages with nothing in them: what nameko itself costs for one
checkout as Procura's services exchange it, with nameko's defaults, one process per
service as `make run` runs them, no database, no validation, no email.

A checkout here is the same exchange as bench/checkout.py's: `POST /carts`, one to three
`POST /carts/{id}/items` (each an RPC to orders, which asks catalog for prices), `POST
/orders` (an RPC to orders, which asks catalog, then announces `order_placed`), then the
saga: approvals answers `order_approved`, orders announces `order_status_changed`. The
events reach the same handlers as Procura's: order_placed five services, order_approved
three, order_status_changed three. bench/saga_floor.py drives it."""
import itertools
import json
import os

from nameko.amqp import publish
from nameko.events import EventDispatcher, event_handler
from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http

_numbers = itertools.count(1)
_carts: dict = {}


class FloorGateway:
    name = "floor_gateway"
    orders = RpcProxy("floor_orders")

    @http("POST", "/api/v1/carts")
    def create_cart(self, request):
        return 201, json.dumps(self.orders.create_cart())

    @http("POST", "/api/v1/carts/<cart_id>/items")
    def add_item(self, request, cart_id):
        body = json.loads(request.get_data(as_text=True))
        return 200, json.dumps(self.orders.add_item(cart_id, body["part_number"],
                                                    body["quantity"]))

    @http("POST", "/api/v1/orders")
    def checkout(self, request):
        return 201, json.dumps(self.orders.checkout(json.loads(request.get_data(as_text=True))))


class FloorOrders:
    name = "floor_orders"
    catalog = RpcProxy("floor_catalog")
    dispatch = EventDispatcher()

    @rpc
    def create_cart(self):
        cart_id = str(next(_numbers))
        _carts[cart_id] = []
        return {"id": cart_id, "lines": []}

    @rpc
    def add_item(self, cart_id, part_number, quantity):
        lines = _carts[cart_id] + [{"part_number": part_number, "quantity": quantity}]
        priced = self.catalog.price_lines(lines)
        _carts[cart_id] = lines
        return {"id": cart_id, "lines": priced}

    @rpc
    def checkout(self, request):
        lines = _carts.pop(request["cart_id"])
        priced = self.catalog.price_lines(lines)
        number = f"SO-{next(_numbers):07d}"
        self.dispatch("order_placed", {"number": number, "lines": priced})
        return {"number": number, "status": "pending_approval", "lines": priced}

    @event_handler("floor_approvals", "order_approved")
    def on_order_approved(self, payload):
        self.dispatch("order_status_changed", {"number": payload["number"],
                                               "status": "approved"})


class FloorCatalog:
    name = "floor_catalog"

    @rpc
    def price_lines(self, lines):
        return [dict(line, unit_price={"amount": "10.00", "currency": "CAD"}) for line in lines]

    @event_handler("floor_orders", "order_placed")
    def on_order_placed(self, payload):
        pass


class FloorApprovals:
    name = "floor_approvals"
    dispatch = EventDispatcher()

    @event_handler("floor_orders", "order_placed")
    def on_order_placed(self, payload):
        self.dispatch("order_approved", {"number": payload["number"], "auto": True})

    @event_handler("floor_orders", "order_status_changed")
    def on_order_status_changed(self, payload):
        pass


class FloorReporting:
    name = "floor_reporting"

    @event_handler("floor_orders", "order_placed")
    def on_order_placed(self, payload):
        pass

    @event_handler("floor_approvals", "order_approved")
    def on_order_approved(self, payload):
        pass

    @event_handler("floor_orders", "order_status_changed")
    def on_order_status_changed(self, payload):
        pass


class FloorNotifications:
    name = "floor_notifications"

    @event_handler("floor_orders", "order_placed")
    def on_order_placed(self, payload):
        pass

    @event_handler("floor_approvals", "order_approved")
    def on_order_approved(self, payload):
        pass


class FloorPunchout:
    name = "floor_punchout"

    @event_handler("floor_orders", "order_status_changed")
    def on_order_status_changed(self, payload):
        pass


SERVICES = ("FloorGateway", "FloorOrders", "FloorCatalog", "FloorApprovals", "FloorReporting",
            "FloorNotifications", "FloorPunchout")

if os.environ.get("FLOOR_NO_CONFIRMS"):
    # bench/saga_floor.py --no-confirms: what the floor would be if nameko neither waited
    # for the broker's confirms nor asked it to keep messages on disk (Procura needs both)
    publish.Publisher.use_confirms = False
    publish.Publisher.delivery_mode = 1
