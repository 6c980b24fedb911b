"""Gateway endpoints of the orders service: carts, checkout, orders, fulfilment."""
from marshmallow import Schema

from services.gateway.api import endpoint
from services.common.schemas import PageQuery
from services.gateway.rights import AUTHENTICATED, STAFF, feature
from services.orders import schemas as s


class Empty(Schema):
    pass


class OrdersRoutes:
    @endpoint("GET", "/carts", right=AUTHENTICATED, response=s.CartList(), tags=("carts",))
    def list_carts(self, call):
        """The caller's saved carts."""
        return self.orders_rpc.list_carts(call.ctx)

    @endpoint("POST", "/carts", right=AUTHENTICATED, body=s.CartCreate(), response=s.CartOut(),
              status=201, tags=("carts",))
    def create_cart(self, call):
        """Start a new named cart."""
        return self.orders_rpc.create_cart(call.ctx, call.body.get("name"))

    @endpoint("GET", "/carts/<int:cart_id>", right=AUTHENTICATED, response=s.CartOut(),
              tags=("carts",), errors=(404,))
    def get_cart(self, call, cart_id):
        """A cart with current prices; lines whose price changed are flagged."""
        return self.orders_rpc.get_cart(call.ctx, cart_id)

    @endpoint("PATCH", "/carts/<int:cart_id>", right=AUTHENTICATED, body=s.CartCreate(),
              response=s.CartOut(), tags=("carts",), errors=(404,))
    def rename_cart(self, call, cart_id):
        """Rename a cart."""
        return self.orders_rpc.rename_cart(call.ctx, cart_id, call.body.get("name"))

    @endpoint("DELETE", "/carts/<int:cart_id>", right=AUTHENTICATED, status=204,
              tags=("carts",), errors=(404,))
    def delete_cart(self, call, cart_id):
        """Delete a cart."""
        self.orders_rpc.delete_cart(call.ctx, cart_id)

    @endpoint("POST", "/carts/<int:cart_id>/items", right=AUTHENTICATED, body=s.CartItem(),
              response=s.CartOut(), status=201, tags=("carts",), errors=(404,))
    def add_cart_item(self, call, cart_id):
        """Add a product to a cart."""
        return self.orders_rpc.add_item(call.ctx, cart_id, call.body.get("part_number"),
                                        call.body.get("quantity"))

    @endpoint("PATCH", "/carts/<int:cart_id>/items/<int:line_id>", right=AUTHENTICATED,
              body=s.CartLineUpdate(), response=s.CartOut(), tags=("carts",), errors=(404,))
    def update_cart_item(self, call, cart_id, line_id):
        """Change a line's quantity."""
        return self.orders_rpc.update_line(call.ctx, cart_id, line_id, call.body.get("quantity"))

    @endpoint("DELETE", "/carts/<int:cart_id>/items/<int:line_id>", right=AUTHENTICATED,
              response=s.CartOut(), tags=("carts",), errors=(404,))
    def remove_cart_item(self, call, cart_id, line_id):
        """Remove a line."""
        return self.orders_rpc.remove_line(call.ctx, cart_id, line_id)

    @endpoint("POST", "/carts/<int:cart_id>/quick-add", right=AUTHENTICATED, body=s.QuickAdd(),
              response=s.QuickAddResult(), tags=("carts",), errors=(404,))
    def quick_add(self, call, cart_id):
        """QuickCart: add many part numbers at once; one status per input line."""
        return self.orders_rpc.quick_add(call.ctx, cart_id, call.body.get("lines"))

    @endpoint("POST", "/orders", right=AUTHENTICATED, body=s.Checkout(), response=s.OrderOut(),
              status=201, tags=("orders",), idempotent=True, errors=(404, 409))
    def checkout(self, call):
        """Check out a cart; prices are re-checked. Send an Idempotency-Key."""
        return self.orders_rpc.checkout(call.ctx, call.body,
                                        idempotency_key=call.idempotency_key)

    @endpoint("GET", "/orders", right=AUTHENTICATED, query=s.OrdersQuery(),
              response=s.OrderList(), tags=("orders",))
    def list_orders(self, call):
        """The caller's orders, or the company's with the recent_orders feature, newest first;
        `from`/`to` (days, included), `q` (order, PO or part number, product name)."""
        return self.orders_rpc.list_orders(call.ctx, query=call.query)

    @endpoint("GET", "/backoffice/orders", right=STAFF, query=s.BackofficeOrdersQuery(),
              response=s.OrderList(), tags=("backoffice",))
    def backoffice_orders(self, call):
        """Every company's orders for fulfilment (`status=approved`, `submitted`, …), newest
        first; `company_id`, `from`, `to`, `q` as for /orders."""
        return self.orders_rpc.list_orders(call.ctx, query=call.query)  # with company_id

    @endpoint("GET", "/orders/<number>", right=AUTHENTICATED, response=s.OrderOut(),
              tags=("orders",), errors=(404,))
    def get_order(self, call, number):
        """An order with lines, status history and shipments."""
        return self.orders_rpc.get_order(call.ctx, number)

    @endpoint("POST", "/orders/<number>/cancel", right=AUTHENTICATED, body=Empty(),
              response=s.OrderOut(), tags=("orders",), errors=(404, 409))
    def cancel_order(self, call, number):
        """Cancel an order that has not shipped."""
        return self.orders_rpc.cancel_order(call.ctx, number)

    @endpoint("POST", "/backoffice/orders/<number>/ship", right=STAFF, body=s.Ship(),
              response=s.OrderOut(), tags=("backoffice",), errors=(404, 409))
    def ship_order(self, call, number):
        """Record a shipment with its carrier and tracking number: some lines and quantities
        (`lines`), or all that is left. The order is `shipped` once every line has shipped."""
        return self.orders_rpc.ship_order(call.ctx, number, call.body.get("carrier"),
                                          call.body.get("tracking_number"), call.body.get("lines"))

    @endpoint("POST", "/backoffice/orders/<number>/accept", right=STAFF, body=Empty(),
              response=s.OrderOut(), tags=("backoffice",), errors=(404, 409))
    def accept_order(self, call, number):
        """The reseller's fulfilment accepted an approved order: it becomes `submitted`."""
        return self.orders_rpc.accept_order(call.ctx, number)

    @endpoint("POST", "/backoffice/orders/<number>/process", right=STAFF, body=Empty(),
              response=s.OrderOut(), tags=("backoffice",), errors=(404, 409))
    def process_order(self, call, number):
        """Staff are preparing the order: it becomes `processing`."""
        return self.orders_rpc.process_order(call.ctx, number)

    @endpoint("POST", "/backoffice/orders/<number>/deliver", right=STAFF, body=s.Deliver(),
              response=s.OrderOut(), tags=("backoffice",), errors=(404, 409))
    def deliver_order(self, call, number):
        """Record a shipment's delivery with its delivery note; the order is `delivered` once
        it has fully shipped and every shipment is delivered."""
        return self.orders_rpc.deliver_order(call.ctx, number, call.body.get("delivery_note"),
                                             call.body.get("shipment_id"))

    @endpoint("POST", "/backoffice/orders/<number>/invoice", right=STAFF, body=Empty(),
              response=s.InvoiceOut(), status=201, tags=("backoffice",), errors=(404, 409))
    def invoice_order(self, call, number):
        """Issue the invoice of a delivered order."""
        return self.orders_rpc.invoice_order(call.ctx, number)

    @endpoint("GET", "/orders/<number>/delivery-note", right=AUTHENTICATED,
              response=s.DeliveryNote(), tags=("orders",), errors=(404,))
    def delivery_note(self, call, number):
        """The delivery note of a delivered order."""
        return self.orders_rpc.delivery_note(call.ctx, number)

    @endpoint("POST", "/orders/<number>/invoice-copy", right=AUTHENTICATED, body=Empty(),
              status=202, tags=("orders",), errors=(404,))
    def invoice_copy(self, call, number):
        """Ask the reseller's billing desk for a copy of the invoice."""
        self.orders_rpc.request_invoice_copy(call.ctx, number)

    @endpoint("GET", "/invoices", right=feature("payment_reports"), query=PageQuery(),
              response=s.InvoiceList(), tags=("orders",))
    def list_invoices(self, call):
        """The company's invoices."""
        return self.orders_rpc.list_invoices(call.ctx, **call.page())

    # ---- quotes
    @endpoint("POST", "/backoffice/quotes", right=STAFF, body=s.QuoteIn(), response=s.QuoteOut(),
              status=201, tags=("backoffice",), errors=(404,))
    def create_quote(self, call):
        """Prepare a quote for a company (optionally for one named buyer): lines with their
        prices in the company's currency, until `expires_on`."""
        return self.orders_rpc.create_quote(call.ctx, call.body)

    @endpoint("GET", "/quotes", right=AUTHENTICATED, query=PageQuery(), response=s.QuoteList(),
              tags=("orders",))
    def list_quotes(self, call):
        """The company's quotes for the caller: those for every buyer and those named for
        the caller (all of them with the `quotes` right), newest first."""
        return self.orders_rpc.list_quotes(call.ctx, **call.page())

    @endpoint("GET", "/quotes/<int:quote_id>", right=AUTHENTICATED, response=s.QuoteOut(),
              tags=("orders",), errors=(404,))
    def get_quote(self, call, quote_id):
        """One quote."""
        return self.orders_rpc.get_quote(call.ctx, quote_id)

    @endpoint("POST", "/quotes/<int:quote_id>/convert", right=AUTHENTICATED,
              body=s.QuoteConvert(), response=s.OrderOut(), status=201, tags=("orders",),
              idempotent=True, errors=(404, 409))
    def convert_quote(self, call, quote_id):
        """Order an open quote at its prices, through checkout and approvals; send an
        Idempotency-Key. An expired (`quote_expired`) or converted (`quote_converted`)
        quote is a 409."""
        return self.orders_rpc.convert_quote(call.ctx, quote_id, call.body,
                                             idempotency_key=call.idempotency_key)

    # ---- subscriptions
    @endpoint("GET", "/subscriptions", right=AUTHENTICATED, query=PageQuery(),
              response=s.SubscriptionList(), tags=("subscriptions",))
    def list_subscriptions(self, call):
        """The caller's subscriptions (the company's with recent_orders), newest first."""
        return self.orders_rpc.list_subscriptions(call.ctx, **call.page())

    @endpoint("POST", "/subscriptions", right=AUTHENTICATED, body=s.SubscriptionIn(),
              response=s.Subscribed(), status=201, tags=("subscriptions",), idempotent=True,
              errors=(404,))
    def subscribe(self, call):
        """Buy a product sold as a subscription (its `subscription_term`): the first order
        now, then a renewal order each term, paid by the saved card (which needs consent).
        Checking out such a product from a cart, paid by card, does the same. Send an
        Idempotency-Key."""
        return self.orders_rpc.subscribe(call.ctx, call.body,
                                         idempotency_key=call.idempotency_key)

    @endpoint("GET", "/subscriptions/<int:subscription_id>", right=AUTHENTICATED,
              response=s.SubscriptionOut(), tags=("subscriptions",), errors=(404,))
    def get_subscription(self, call, subscription_id):
        """A subscription with its renewals."""
        return self.orders_rpc.get_subscription(call.ctx, subscription_id)

    @endpoint("PATCH", "/subscriptions/<int:subscription_id>", right=AUTHENTICATED,
              body=s.SubscriptionCardIn(), response=s.SubscriptionOut(), tags=("subscriptions",),
              errors=(403, 404, 409))
    def switch_subscription_card(self, call, subscription_id):
        """Pay the renewals with another saved card (with consent); clears a card problem."""
        return self.orders_rpc.switch_subscription_card(call.ctx, subscription_id,
                                                        call.body.get("card_id"))

    @endpoint("POST", "/subscriptions/<int:subscription_id>/cancel", right=AUTHENTICATED,
              body=Empty(), response=s.SubscriptionOut(), tags=("subscriptions",),
              errors=(403, 404, 409))
    def cancel_subscription(self, call, subscription_id):
        """End a subscription: no more renewals (its owner, or an administrator)."""
        return self.orders_rpc.cancel_subscription(call.ctx, subscription_id)
