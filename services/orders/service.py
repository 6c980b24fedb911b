"""The orders service: entrypoints only; the rules are in domain.py.

An entrypoint that asks catalog or identity reads what it needs first, then ends its
transaction (`_release`) before it calls them, and writes after their answer: on SQLite
the process has one connection, whose write lock every other worker would wait for while
the call is on its way; on PostgreSQL it holds no connection idle meanwhile."""
from services.common.access import require_staff
from services.common.base import ServiceBase
from services.common.entrypoints import event_handler, rpc
from services.common.errors import Invalid
from services.common.errors import Conflict
from services.common.idempotency import once, replay
from services.common.money import Money
from services.common.context import CallerContext
from services.common.schemas import dump_page, load, load_args, page_args
from services.common.background import BackgroundLoop
from services.common.clock import utcnow
from services.common.standalone import StandaloneRpc
from services.orders import domain, renewals, subscriptions
from services.orders import schemas as s
from services.orders.models import Base


# replies are dumps of the aggregates through the API's output schemas
ORDER, QUOTE, CART = s.OrderOut(), s.QuoteOut(), s.CartOut()
SUBSCRIPTION, INVOICE = s.SubscriptionOut(), s.InvoiceOut()


class Renewals(BackgroundLoop):
    """Warns and renews subscriptions (renewals.run) every SUBSCRIPTION_RENEWAL_INTERVAL
    seconds (default an hour); `SUBSCRIPTION_RENEWALS=off` stops it."""
    switch_env = "SUBSCRIPTION_RENEWALS"
    interval_env = "SUBSCRIPTION_RENEWAL_INTERVAL"
    wake_on_commit = False
    interval = 3600.0

    def cycle(self) -> bool:
        with StandaloneRpc.for_container(self.container) as rpc:
            done = renewals.run(self.database.session_factory, rpc, utcnow().date())
        if any(done.values()):
            self.wake_relay()
        return False


class OrdersService(ServiceBase, name="orders", models=Base, calls=("catalog", "identity")):
    renewals = Renewals()

    def _quote(self, ctx, lines, with_catalogs=False):
        """Authoritative prices for the whole cart, in one call to catalog; at checkout with
        the custom catalogs holding each line, which approval rules look at. `lines` are
        cart lines or (part_number, quantity) pairs."""
        wanted = [{"part_number": p, "quantity": q} for p, q in map(_pair, lines)]
        if not wanted:
            return []
        return self.catalog.price_lines(ctx, ctx.currency, wanted,
                                        with_catalogs=with_catalogs)["lines"]

    def _release(self):
        """End the worker's transaction (what it read is read again when used): the calls
        that follow may take a while."""
        self.db.rollback()

    # ---- carts
    @rpc
    def list_carts(self, ctx):
        return s.CartList().dump(
            {"items": [domain.cart_summary(c) for c in domain.list_carts(self.db, ctx)]})

    @rpc
    def create_cart(self, ctx, name=None):
        name = load_args(s.CartCreate(), name=name)["name"]
        cart = domain.create_cart(self.db, ctx, name)
        return CART.dump(domain.price_cart(cart, [], ctx.currency))

    @rpc
    def get_cart(self, ctx, cart_id):
        lines = _pairs(domain.get_cart(self.db, ctx, cart_id))
        self._release()
        quotes = self._quote(ctx, lines)
        return CART.dump(domain.price_cart(domain.get_cart(self.db, ctx, cart_id), quotes,
                                           ctx.currency))

    @rpc
    def rename_cart(self, ctx, cart_id, name=None):
        name = load_args(s.CartCreate(), name=name)["name"]
        lines = _pairs(domain.get_cart(self.db, ctx, cart_id))
        self._release()
        quotes = self._quote(ctx, lines)
        return CART.dump(domain.price_cart(domain.rename_cart(self.db, ctx, cart_id, name),
                                           quotes, ctx.currency))

    @rpc
    def delete_cart(self, ctx, cart_id):
        domain.delete_cart(self.db, ctx, cart_id)

    @rpc
    def add_item(self, ctx, cart_id, part_number, quantity):
        item = load_args(s.CartItem(), part_number=part_number, quantity=quantity)
        part_number, quantity = item["part_number"], item["quantity"]
        # one quote for the new product and the lines already there
        wanted = _pairs(domain.get_cart(self.db, ctx, cart_id)) + [(part_number, quantity)]
        self._release()
        quotes = self._quote(ctx, wanted)
        line = quotes[-1]
        if line["status"] == "not_found":
            raise Invalid("no such product", code="product_not_found",
                          errors={"part_number": ["not found"]})
        if line["status"] != "ok":
            raise Invalid("this product cannot be ordered", code=f"product_{line['status']}",
                          errors={"part_number": [line["status"]]})
        cart = domain.get_cart(self.db, ctx, cart_id)
        domain.add_line(self.db, cart, line["part_number"], quantity,
                        Money.from_dict(line["unit_price"]))
        return CART.dump(domain.price_cart(cart, quotes, ctx.currency))

    @rpc
    def quick_add(self, ctx, cart_id, lines):
        lines = load_args(s.QuickAdd(), lines=lines)["lines"]
        domain.get_cart(self.db, ctx, cart_id)  # 404 before asking catalog
        self._release()
        priced = self._quote(ctx, [(l["part_number"], 1) for l in lines])
        cart = domain.get_cart(self.db, ctx, cart_id)
        return s.QuickAddResult().dump({"lines": domain.quick_add(self.db, cart, lines, priced)})

    @rpc
    def update_line(self, ctx, cart_id, line_id, quantity):
        quantity = load_args(s.CartLineUpdate(), quantity=quantity)["quantity"]
        # priced as it will be, then changed (the domain checks the change)
        lines = [(l.part_number, quantity if l.id == line_id else l.quantity)
                 for l in domain.get_cart(self.db, ctx, cart_id).lines]
        self._release()
        quotes = self._quote(ctx, lines)
        cart = domain.update_line(self.db, ctx, cart_id, line_id, quantity)
        return CART.dump(domain.price_cart(cart, quotes, ctx.currency))

    @rpc
    def remove_line(self, ctx, cart_id, line_id):
        lines = [(l.part_number, l.quantity)
                 for l in domain.get_cart(self.db, ctx, cart_id).lines if l.id != line_id]
        self._release()
        quotes = self._quote(ctx, lines)
        cart = domain.remove_line(self.db, ctx, cart_id, line_id)
        return CART.dump(domain.price_cart(cart, quotes, ctx.currency))

    # ---- checkout and orders
    @rpc
    def checkout(self, ctx, request, idempotency_key=None):
        request = s.Checkout().dump(load(s.Checkout(), request))  # JSON-safe, as it is kept
        scope = f"checkout:{ctx.company_id}:{ctx.user_id}"
        first = replay(self.db, scope, idempotency_key, request)
        if first is not None:
            return first  # a retry: nothing to ask catalog or identity
        lines = _pairs(domain.get_cart(self.db, ctx, request["cart_id"]))
        self._release()
        card, company = self._payment_of(ctx, request)
        quotes = self._quote(ctx, lines, with_catalogs=True)
        return once(self.db, scope, idempotency_key, request,
                    lambda: self._checkout(ctx, request, lines, quotes, card, company))

    def _payment_of(self, ctx, request):
        """identity's view of the card paying, and the company (addresses, accounts) when
        the request needs it."""
        payment = request["payment"]
        card = (self.identity.get_card(ctx, payment["card_id"])
                if payment["method"] == "card" and payment.get("card_id") else None)
        company = self.identity.get_company(ctx) if domain.needs_company(request) else None
        return card, company

    def _checkout(self, ctx, request, lines, quotes, card, company):
        cart = domain.get_cart(self.db, ctx, request["cart_id"])
        if _pairs(cart) != lines:
            raise Conflict("the cart changed while it was being checked out; check it out "
                           "again", code="cart_changed")
        order = domain.checkout(self.db, ctx, cart, quotes, request, card, company)
        return ORDER.dump(order)

    # ---- quotes
    @rpc
    def create_quote(self, ctx, data):
        require_staff(ctx)
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
        return dump_page(s.QuoteList(),
                         domain.list_quotes(self.db, ctx, **page_args(limit, cursor)))

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
        card, company = self._payment_of(ctx, request)
        order = domain.convert_quote(self.db, ctx, quote_id, request, card, company)
        return ORDER.dump(order)

    @rpc
    def list_orders(self, ctx, status=None, limit=None, cursor=None, query=None):
        """`query` as GET /orders (or /backoffice/orders) takes it; `company_id` counts for
        staff only."""
        q = load_args(s.BackofficeOrdersQuery(), **{**(query or {}), **{
            k: v for k, v in (("status", status), ("limit", limit), ("cursor", cursor))
            if v is not None}})
        return dump_page(s.OrderList(), domain.list_orders(
            self.db, ctx, q["status"], q["limit"], q["cursor"], q["date_from"], q["date_to"],
            q["q"], q["company_id"] if ctx.staff else None))

    @rpc
    def get_order(self, ctx, number):
        return ORDER.dump(domain.get_order(self.db, ctx, number))

    @rpc
    def cancel_order(self, ctx, number):
        return ORDER.dump(domain.cancel(self.db, ctx, number))

    @rpc
    def ship_order(self, ctx, number, carrier, tracking_number, lines=None):
        ship = load_args(s.Ship(), carrier=carrier, tracking_number=tracking_number, lines=lines)
        return ORDER.dump(domain.ship(self.db, ctx, number, ship["carrier"],
                                      ship["tracking_number"], ship["lines"]))

    @rpc
    def deliver_order(self, ctx, number, delivery_note, shipment_id=None):
        note = load_args(s.Deliver(), delivery_note=delivery_note, shipment_id=shipment_id)
        return ORDER.dump(domain.deliver(self.db, ctx, number, note["delivery_note"],
                                         note["shipment_id"]))

    @rpc
    def accept_order(self, ctx, number):
        return ORDER.dump(domain.fulfil(self.db, ctx, number, "submitted"))

    @rpc
    def process_order(self, ctx, number):
        return ORDER.dump(domain.fulfil(self.db, ctx, number, "processing"))

    @rpc
    def delivery_note(self, ctx, number):
        return s.DeliveryNote().dump(domain.delivery_note(self.db, ctx, number))

    @rpc
    def invoice_order(self, ctx, number):
        invoice = domain.issue_invoice(self.db, ctx, number)
        return INVOICE.dump(invoice)

    @rpc
    def request_invoice_copy(self, ctx, number):
        return INVOICE.dump(domain.request_invoice_copy(self.db, ctx, number))

    @rpc
    def list_invoices(self, ctx, limit=50, cursor=None):
        return dump_page(s.InvoiceList(),
                         domain.list_invoices(self.db, ctx, **page_args(limit, cursor)))

    # ---- subscriptions
    @rpc
    def list_subscriptions(self, ctx, limit=50, cursor=None):
        return dump_page(s.SubscriptionList(),
                         subscriptions.list_for(self.db, ctx, **page_args(limit, cursor)))

    @rpc
    def get_subscription(self, ctx, subscription_id):
        return SUBSCRIPTION.dump(subscriptions.get(self.db, ctx, subscription_id))

    @rpc
    def subscribe(self, ctx, request, idempotency_key=None):
        """Order one subscription product: checkout of a single line paid by a saved card."""
        scope = f"subscribe:{ctx.company_id}:{ctx.user_id}"
        first = replay(self.db, scope, idempotency_key, request)
        if first is not None:
            return first
        self._release()
        wanted = load(s.SubscriptionIn(), request)
        ordered = dict(wanted, payment={"method": "card", "card_id": wanted["card_id"]})
        priced = self._quote(ctx, [(wanted["part_number"], wanted["quantity"])],
                             with_catalogs=True)
        subscriptions.require_subscription_product(priced[0])
        card, company = self._payment_of(ctx, ordered)
        return once(self.db, scope, idempotency_key, request,
                    lambda: self._subscribe(ctx, ordered, priced, card, company))

    def _subscribe(self, ctx, request, priced, card, company):
        wanted = [{"part_number": request["part_number"], "quantity": request["quantity"]}]
        order, started = domain.order_lines(self.db, ctx, wanted, priced, request, card, company)
        return {"subscription": SUBSCRIPTION.dump(started[0]), "order": ORDER.dump(order)}

    @rpc
    def switch_subscription_card(self, ctx, subscription_id, card_id):
        card_id = load_args(s.SubscriptionCardIn(), card_id=card_id)["card_id"]
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


def _pair(line) -> tuple:
    return (line.part_number, line.quantity) if hasattr(line, "part_number") else tuple(line)


def _pairs(cart) -> list:
    """The cart's lines as (part_number, quantity), in order."""
    return [(l.part_number, l.quantity) for l in cart.lines]
