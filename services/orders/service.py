"""The orders service: entrypoints only; the rules are in domain.py."""
from services.common.base import ServiceBase
from services.common.unit_of_work import Database
from services.common.entrypoints import event_handler, rpc
from services.common.rpc_client import RpcClient
from services.common.errors import Invalid
from services.common.idempotency import once
from services.common.money import Money
from services.common.relay import OutboxRelay
from services.common.context import CallerContext
from services.common.schemas import load
from services.common.background import BackgroundLoop
from services.common.clock import utcnow
from services.common.standalone import StandaloneRpc
from services.orders import domain, renewals, subscriptions
from services.orders import schemas as s
from services.orders.models import Base


# replies are dumps of the aggregates through the API's output schemas
ORDER, QUOTE = s.OrderOut(), s.QuoteOut()
SUBSCRIPTION, INVOICE = s.SubscriptionOut(), s.InvoiceOut()


class Renewals(BackgroundLoop):
    """Warns and renews subscriptions (renewals.run) every SUBSCRIPTION_RENEWAL_INTERVAL
    seconds (default an hour); `SUBSCRIPTION_RENEWALS=off` stops it."""
    switch_env = "SUBSCRIPTION_RENEWALS"
    interval_env = "SUBSCRIPTION_RENEWAL_INTERVAL"
    wake_on_commit = False

    def __init__(self):
        super().__init__(interval=3600.0)

    def cycle(self) -> bool:
        with StandaloneRpc() as rpc:
            done = renewals.run(self.database.session_factory, rpc, utcnow().date())
        if any(done.values()):
            for hook in self.database.after_commit_hooks:
                hook()  # wake the outbox relay
        return False


class OrdersService(ServiceBase):
    name = "orders"
    db = Database("orders", Base)
    relay = OutboxRelay()
    renewals = Renewals()
    catalog = RpcClient("catalog")
    identity = RpcClient("identity")

    def _quote(self, ctx, lines, with_catalogs=False):
        """Authoritative prices for the whole cart, in one call to catalog; at checkout with
        the custom catalogs holding each line, which approval rules look at."""
        if not lines:
            return []
        reply = self.catalog.price_lines(ctx, ctx.currency,
                                         [{"part_number": l.part_number, "quantity": l.quantity}
                                          for l in lines], with_catalogs=with_catalogs)
        return reply["lines"]

    # ---- carts
    @rpc
    def list_carts(self, ctx):
        return {"items": [domain.cart_summary(c) for c in domain.list_carts(self.db, ctx)]}

    @rpc
    def create_cart(self, ctx, name):
        cart = domain.create_cart(self.db, ctx, name)
        return domain.price_cart(cart, [], ctx.currency)

    @rpc
    def get_cart(self, ctx, cart_id):
        cart = domain.get_cart(self.db, ctx, cart_id)
        return domain.price_cart(cart, self._quote(ctx, cart.lines), ctx.currency)

    @rpc
    def rename_cart(self, ctx, cart_id, name):
        cart = domain.rename_cart(self.db, ctx, cart_id, name)
        return domain.price_cart(cart, self._quote(ctx, cart.lines), ctx.currency)

    @rpc
    def delete_cart(self, ctx, cart_id):
        domain.delete_cart(self.db, ctx, cart_id)

    @rpc
    def add_item(self, ctx, cart_id, part_number, quantity):
        cart = domain.get_cart(self.db, ctx, cart_id)
        # one quote for the new product and the lines already there
        wanted = [{"part_number": l.part_number, "quantity": l.quantity} for l in cart.lines]
        wanted.append({"part_number": part_number, "quantity": quantity})
        quotes = self.catalog.price_lines(ctx, ctx.currency, wanted)["lines"]
        line = quotes[-1]
        if line["status"] == "not_found":
            raise Invalid("no such product", code="product_not_found",
                          errors={"part_number": ["not found"]})
        if line["status"] != "ok":
            raise Invalid("this product cannot be ordered", code=f"product_{line['status']}",
                          errors={"part_number": [line["status"]]})
        domain.add_line(self.db, cart, line["part_number"], quantity,
                        Money.from_dict(line["unit_price"]))
        return domain.price_cart(cart, quotes, ctx.currency)

    @rpc
    def quick_add(self, ctx, cart_id, lines):
        cart = domain.get_cart(self.db, ctx, cart_id)
        wanted = [{"part_number": l["part_number"], "quantity": 1} for l in lines]
        priced = self.catalog.price_lines(ctx, ctx.currency, wanted)["lines"] if wanted else []
        return {"lines": domain.quick_add(self.db, cart, lines, priced)}

    @rpc
    def update_line(self, ctx, cart_id, line_id, quantity):
        cart = domain.update_line(self.db, ctx, cart_id, line_id, quantity)
        return domain.price_cart(cart, self._quote(ctx, cart.lines), ctx.currency)

    @rpc
    def remove_line(self, ctx, cart_id, line_id):
        cart = domain.remove_line(self.db, ctx, cart_id, line_id)
        return domain.price_cart(cart, self._quote(ctx, cart.lines), ctx.currency)

    # ---- checkout and orders
    @rpc
    def checkout(self, ctx, request, idempotency_key=None):
        scope = f"checkout:{ctx.company_id}:{ctx.user_id}"
        return once(self.db, scope, idempotency_key, request, lambda: self._checkout(ctx, request))

    def _checkout(self, ctx, request):
        cart = domain.get_cart(self.db, ctx, request["cart_id"])
        payment = request["payment"]
        card = (self.identity.get_card(ctx, payment["card_id"])
                if payment["method"] == "card" and payment.get("card_id") else None)
        company = self.identity.get_company(ctx) if domain.needs_company(request) else None
        order = domain.checkout(self.db, ctx, cart, self._quote(ctx, cart.lines, True), request,
                                card, company)
        return ORDER.dump(order)

    # ---- quotes
    @rpc
    def create_quote(self, ctx, data):
        domain.require_staff(ctx)
        data = load(s.QuoteIn(), data)
        company = self.identity.get_company(ctx, data["company_id"])
        company_ctx = CallerContext(staff=True, company_id=data["company_id"],
                                    request_id=ctx.request_id)
        products = self.catalog.price_lines(
            company_ctx, company["currency"],
            [{"part_number": l["part_number"], "quantity": l["quantity"]} for l in data["lines"]])
        quote = domain.create_quote(self.db, ctx, data, company["currency"], products["lines"])
        return QUOTE.dump(quote)

    @rpc
    def list_quotes(self, ctx, limit=50, cursor=None):
        rows, next_cursor = domain.list_quotes(self.db, ctx, limit, cursor)
        return s.QuoteList().dump({"items": rows, "next_cursor": next_cursor})

    @rpc
    def get_quote(self, ctx, quote_id):
        return QUOTE.dump(domain.get_quote(self.db, ctx, quote_id))

    @rpc
    def convert_quote(self, ctx, quote_id, request, idempotency_key=None):
        scope = f"quote:{ctx.company_id}:{ctx.user_id}"
        return once(self.db, scope, idempotency_key, {"quote_id": quote_id, **request},
                    lambda: self._convert_quote(ctx, quote_id, request))

    def _convert_quote(self, ctx, quote_id, request):
        request = load(s.QuoteConvert(), request)
        payment = request["payment"]
        card = (self.identity.get_card(ctx, payment["card_id"])
                if payment["method"] == "card" and payment.get("card_id") else None)
        company = self.identity.get_company(ctx) if domain.needs_company(request) else None
        order = domain.convert_quote(self.db, ctx, quote_id, request, card, company)
        return ORDER.dump(order)

    @rpc
    def list_orders(self, ctx, status=None, limit=50, cursor=None, query=None):
        given = dict(query or {}, status=status, limit=limit, cursor=cursor)
        q = load(s.BackofficeOrdersQuery(), {k: v for k, v in given.items() if v is not None})
        rows, next_cursor = domain.list_orders(
            self.db, ctx, q["status"], q["limit"], q["cursor"], q["date_from"], q["date_to"],
            q["q"], q["company_id"] if ctx.staff else None)
        return s.OrderList().dump({"items": rows, "next_cursor": next_cursor})

    @rpc
    def get_order(self, ctx, number):
        return ORDER.dump(domain.get_order(self.db, ctx, number))

    @rpc
    def cancel_order(self, ctx, number):
        return ORDER.dump(domain.cancel(self.db, ctx, number))

    @rpc
    def ship_order(self, ctx, number, carrier, tracking_number, lines=None):
        return ORDER.dump(domain.ship(self.db, ctx, number, carrier, tracking_number,
                                             lines))

    @rpc
    def deliver_order(self, ctx, number, delivery_note, shipment_id=None):
        return ORDER.dump(domain.deliver(self.db, ctx, number, delivery_note,
                                                shipment_id))

    @rpc
    def accept_order(self, ctx, number):
        return ORDER.dump(domain.fulfil(self.db, ctx, number, "submitted"))

    @rpc
    def process_order(self, ctx, number):
        return ORDER.dump(domain.fulfil(self.db, ctx, number, "processing"))

    @rpc
    def delivery_note(self, ctx, number):
        return domain.delivery_note(self.db, ctx, number)

    @rpc
    def invoice_order(self, ctx, number):
        invoice = domain.issue_invoice(self.db, ctx, number)
        return INVOICE.dump(invoice)

    @rpc
    def request_invoice_copy(self, ctx, number):
        return INVOICE.dump(domain.request_invoice_copy(self.db, ctx, number))

    @rpc
    def list_invoices(self, ctx, limit=50, cursor=None):
        rows, next_cursor = domain.list_invoices(self.db, ctx, limit, cursor)
        return s.InvoiceList().dump({"items": rows, "next_cursor": next_cursor})

    # ---- subscriptions
    @rpc
    def list_subscriptions(self, ctx, limit=50, cursor=None):
        rows, next_cursor = subscriptions.list_for(self.db, ctx, limit, cursor)
        return s.SubscriptionList().dump({"items": rows, "next_cursor": next_cursor})

    @rpc
    def get_subscription(self, ctx, subscription_id):
        return SUBSCRIPTION.dump(subscriptions.get(self.db, ctx, subscription_id))

    @rpc
    def subscribe(self, ctx, request, idempotency_key=None):
        """Order one subscription product: checkout of a single line paid by a saved card."""
        scope = f"subscribe:{ctx.company_id}:{ctx.user_id}"
        return once(self.db, scope, idempotency_key, request,
                    lambda: self._subscribe(ctx, load(s.SubscriptionIn(), request)))

    def _subscribe(self, ctx, request):
        wanted = [{"part_number": request["part_number"], "quantity": request["quantity"]}]
        priced = self.catalog.price_lines(ctx, ctx.currency, wanted, with_catalogs=True)["lines"]
        subscriptions.require_subscription_product(priced[0])
        request = dict(request, payment={"method": "card", "card_id": request["card_id"]})
        card = self.identity.get_card(ctx, request["card_id"])
        company = self.identity.get_company(ctx) if domain.needs_company(request) else None
        order, started = domain.order_lines(self.db, ctx, wanted, priced, request, card, company)
        return {"subscription": SUBSCRIPTION.dump(started[0]), "order": ORDER.dump(order)}

    @rpc
    def switch_subscription_card(self, ctx, subscription_id, card_id):
        card = self.identity.get_card(ctx, card_id)
        return SUBSCRIPTION.dump(subscriptions.switch_card(self.db, ctx, subscription_id, card))

    @rpc
    def cancel_subscription(self, ctx, subscription_id):
        return SUBSCRIPTION.dump(subscriptions.cancel(self.db, ctx, subscription_id, utcnow()))

    @event_handler("identity", "card_removed")
    def on_card_removed(self, event):
        subscriptions.card_removed(self.db, event["payload"]["card_id"])

    # ---- the saga
    @event_handler("approvals", "order_approved")
    def on_order_approved(self, event):
        p = event["payload"]
        domain.approval_decided(self.db, p["order_number"], True, p.get("comment"),
                                p.get("decided_by"), p.get("approval_id"))

    @event_handler("approvals", "order_rejected")
    def on_order_rejected(self, event):
        p = event["payload"]
        domain.approval_decided(self.db, p["order_number"], False, p.get("comment"),
                                p.get("decided_by"), p.get("approval_id"))
