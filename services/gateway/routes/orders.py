"""Gateway endpoints of the orders service: carts, checkout, orders, fulfilment."""
from marshmallow import Schema

from services.gateway.api import endpoint, forward
from services.common.schemas import PageQuery
from services.gateway.rights import AUTHENTICATED, STAFF, feature
from services.orders import schemas as s


class Empty(Schema):
    pass


class OrdersRoutes:
    list_carts = forward("GET", "/carts", "orders.list_carts", right=AUTHENTICATED,
                         response=s.CartList(), tags=("carts",),
                         summary="The caller's saved carts.")

    @endpoint("POST", "/carts", right=AUTHENTICATED, body=s.CartCreate(), response=s.CartOut(),
              status=201, tags=("carts",))
    def create_cart(self, call):
        """Start a new named cart."""
        return self.orders_rpc.create_cart(call.ctx, call.body.get("name"))

    get_cart = forward("GET", "/carts/<int:cart_id>", "orders.get_cart", right=AUTHENTICATED,
                       response=s.CartOut(), tags=("carts",), errors=(404,),
                       summary=("A cart with current prices; lines whose price changed are "
                                "flagged."))

    @endpoint("PATCH", "/carts/<int:cart_id>", right=AUTHENTICATED, body=s.CartCreate(),
              response=s.CartOut(), tags=("carts",), errors=(404,))
    def rename_cart(self, call, cart_id):
        """Rename a cart."""
        return self.orders_rpc.rename_cart(call.ctx, cart_id, call.body.get("name"))

    delete_cart = forward("DELETE", "/carts/<int:cart_id>", "orders.delete_cart",
                          right=AUTHENTICATED, status=204, tags=("carts",), errors=(404,),
                          summary="Delete a cart.")

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

    remove_cart_item = forward("DELETE", "/carts/<int:cart_id>/items/<int:line_id>",
                               "orders.remove_line", right=AUTHENTICATED, response=s.CartOut(),
                               tags=("carts",), errors=(404,), summary="Remove a line.")

    @endpoint("POST", "/carts/<int:cart_id>/quick-add", right=AUTHENTICATED, body=s.QuickAdd(),
              response=s.QuickAddResult(), tags=("carts",), errors=(404,))
    def quick_add(self, call, cart_id):
        """QuickCart: add many part numbers at once; one status per input line."""
        return self.orders_rpc.quick_add(call.ctx, cart_id, call.body.get("lines"))

    checkout = forward("POST", "/orders", "orders.checkout", right=AUTHENTICATED,
                       body=s.Checkout(), response=s.OrderOut(), status=201, tags=("orders",),
                       idempotent=True, errors=(404, 409), passing=("body", "idempotency_key"),
                       summary="Check out a cart; prices are re-checked. Send an Idempotency-Key.")

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

    get_order = forward("GET", "/orders/<number>", "orders.get_order", right=AUTHENTICATED,
                        response=s.OrderOut(), tags=("orders",), errors=(404,),
                        summary="An order with lines, status history and shipments.")

    cancel_order = forward("POST", "/orders/<number>/cancel", "orders.cancel_order",
                           right=AUTHENTICATED, body=Empty(), response=s.OrderOut(),
                           tags=("orders",), errors=(404, 409),
                           summary="Cancel an order that has not shipped.")

    @endpoint("POST", "/backoffice/orders/<number>/ship", right=STAFF, body=s.Ship(),
              response=s.OrderOut(), tags=("backoffice",), errors=(404, 409))
    def ship_order(self, call, number):
        """Record a shipment with its carrier and tracking number: some lines and quantities
        (`lines`), or all that is left. The order is `shipped` once every line has shipped."""
        return self.orders_rpc.ship_order(call.ctx, number, call.body.get("carrier"),
                                          call.body.get("tracking_number"), call.body.get("lines"))

    accept_order = forward("POST", "/backoffice/orders/<number>/accept", "orders.accept_order",
                           right=STAFF, body=Empty(), response=s.OrderOut(), tags=("backoffice",),
                           errors=(404, 409),
                           summary=("The reseller's fulfilment accepted an approved order: it "
                                    "becomes `submitted`."))

    process_order = forward("POST", "/backoffice/orders/<number>/process", "orders.process_order",
                            right=STAFF, body=Empty(), response=s.OrderOut(), tags=("backoffice",),
                            errors=(404, 409),
                            summary="Staff are preparing the order: it becomes `processing`.")

    @endpoint("POST", "/backoffice/orders/<number>/deliver", right=STAFF, body=s.Deliver(),
              response=s.OrderOut(), tags=("backoffice",), errors=(404, 409))
    def deliver_order(self, call, number):
        """Record a shipment's delivery with its delivery note; the order is `delivered` once
        it has fully shipped and every shipment is delivered."""
        return self.orders_rpc.deliver_order(call.ctx, number, call.body.get("delivery_note"),
                                             call.body.get("shipment_id"))

    invoice_order = forward("POST", "/backoffice/orders/<number>/invoice", "orders.invoice_order",
                            right=STAFF, body=Empty(), response=s.InvoiceOut(), status=201,
                            tags=("backoffice",), errors=(404, 409),
                            summary="Issue the invoice of a delivered order.")

    delivery_note = forward("GET", "/orders/<number>/delivery-note", "orders.delivery_note",
                            right=AUTHENTICATED, response=s.DeliveryNote(), tags=("orders",),
                            errors=(404,), summary="The delivery note of a delivered order.")

    @endpoint("POST", "/orders/<number>/invoice-copy", right=AUTHENTICATED, body=Empty(),
              status=202, tags=("orders",), errors=(404,))
    def invoice_copy(self, call, number):
        """Ask the reseller's billing desk for a copy of the invoice."""
        self.orders_rpc.request_invoice_copy(call.ctx, number)

    list_invoices = forward("GET", "/invoices", "orders.list_invoices",
                            right=feature("payment_reports"), query=PageQuery(),
                            response=s.InvoiceList(), tags=("orders",), passing=("page",),
                            summary="The company's invoices.")

    # ---- quotes
    create_quote = forward("POST", "/backoffice/quotes", "orders.create_quote", right=STAFF,
                           body=s.QuoteIn(), response=s.QuoteOut(), status=201,
                           tags=("backoffice",), errors=(404,), passing=("body",),
                           summary=("Prepare a quote for a company (optionally for one named "
                                    "buyer): lines with their prices in the company's currency, "
                                    "until `expires_on`."))

    list_quotes = forward("GET", "/quotes", "orders.list_quotes", right=AUTHENTICATED,
                          query=PageQuery(), response=s.QuoteList(), tags=("orders",),
                          passing=("page",),
                          summary=("The company's quotes for the caller: those for every buyer "
                                   "and those named for the caller (all of them with the `quotes` "
                                   "right), newest first."))

    get_quote = forward("GET", "/quotes/<int:quote_id>", "orders.get_quote", right=AUTHENTICATED,
                        response=s.QuoteOut(), tags=("orders",), errors=(404,),
                        summary="One quote.")

    convert_quote = forward("POST", "/quotes/<int:quote_id>/convert", "orders.convert_quote",
                            right=AUTHENTICATED, body=s.QuoteConvert(), response=s.OrderOut(),
                            status=201, tags=("orders",), idempotent=True, errors=(404, 409),
                            passing=("body", "idempotency_key"),
                            summary=("Order an open quote at its prices, through checkout and "
                                     "approvals; send an Idempotency-Key. An expired "
                                     "(`quote_expired`) or converted (`quote_converted`) quote is "
                                     "a 409."))

    # ---- subscriptions
    list_subscriptions = forward("GET", "/subscriptions", "orders.list_subscriptions",
                                 right=AUTHENTICATED, query=PageQuery(),
                                 response=s.SubscriptionList(), tags=("subscriptions",),
                                 passing=("page",),
                                 summary=("The caller's subscriptions (the company's with "
                                          "recent_orders), newest first."))

    subscribe = forward("POST", "/subscriptions", "orders.subscribe", right=AUTHENTICATED,
                        body=s.SubscriptionIn(), response=s.Subscribed(), status=201,
                        tags=("subscriptions",), idempotent=True, errors=(404,),
                        passing=("body", "idempotency_key"),
                        summary=("Buy a product sold as a subscription (its `subscription_term`): "
                                 "the first order now, then a renewal order each term, paid by "
                                 "the saved card (which needs consent). Checking out such a "
                                 "product from a cart, paid by card, does the same. Send an "
                                 "Idempotency-Key."))

    get_subscription = forward("GET", "/subscriptions/<int:subscription_id>",
                               "orders.get_subscription", right=AUTHENTICATED,
                               response=s.SubscriptionOut(), tags=("subscriptions",),
                               errors=(404,), summary="A subscription with its renewals.")

    @endpoint("PATCH", "/subscriptions/<int:subscription_id>", right=AUTHENTICATED,
              body=s.SubscriptionCardIn(), response=s.SubscriptionOut(), tags=("subscriptions",),
              errors=(403, 404, 409))
    def switch_subscription_card(self, call, subscription_id):
        """Pay the renewals with another saved card (with consent); clears a card problem."""
        return self.orders_rpc.switch_subscription_card(call.ctx, subscription_id,
                                                        call.body.get("card_id"))

    cancel_subscription = forward("POST", "/subscriptions/<int:subscription_id>/cancel",
                                  "orders.cancel_subscription", right=AUTHENTICATED, body=Empty(),
                                  response=s.SubscriptionOut(), tags=("subscriptions",),
                                  errors=(403, 404, 409),
                                  summary=("End a subscription: no more renewals (its owner, or "
                                           "an administrator)."))
