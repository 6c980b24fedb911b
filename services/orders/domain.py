"""Order rules: carts, checkout, the order's status machine, fulfilment, quotes.
(Subscriptions are in subscriptions.py, their renewal run in renewals.py.)

Functions take a SQLAlchemy session and plain values; prices come in already quoted by
catalog (the service layer asks for them), so nothing here talks to another service.
"""
from decimal import Decimal

from datetime import datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from services.common.access import require_staff
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.common.money import Money
from services.common.outbox import emit
from services.common.config import env
from services.common.clock import utcnow
from services.common.paging import keyset_page
from services.orders import subscriptions
from services.orders.models import (SHIPPABLE, Cart, CartLine, Invoice, InvoiceCopyRequest, Order,
                                    OrderLine, Quote, QuoteLine, Shipment, ShipmentLine,
                                    StatusChange)

MAX_QUANTITY = 10000


def part_key(part_number):
    # catalog matches part numbers without regard to case
    return (part_number or "").strip().upper()


def quotes_by_part(priced):
    return {part_key(p["part_number"]): p for p in priced}


def buyer_of(ctx):
    return {"user_id": ctx.user_id, "email": ctx.email, "name": ctx.name, "locale": ctx.locale}


# ---- carts ---------------------------------------------------------------------------

def list_carts(session, ctx):
    # their lines in one more query (a summary counts them), not one per cart
    return session.scalars(select(Cart).where(Cart.company_id == ctx.company_id,
                                              Cart.user_id == ctx.user_id)
                           .order_by(Cart.id).options(selectinload(Cart.lines))).all()


def get_cart(session, ctx, cart_id) -> Cart:
    # with its lines in the same query: every use of a cart reads them
    cart = session.get(Cart, cart_id, options=(joinedload(Cart.lines),))
    if cart is None or cart.company_id != ctx.company_id or cart.user_id != ctx.user_id:
        raise NotFound("no such cart", code="cart_not_found")
    return cart


def create_cart(session, ctx, name):
    cart = Cart(company_id=ctx.company_id, user_id=ctx.user_id, name=name or "Cart")
    session.add(cart)
    session.flush()
    return cart


def rename_cart(session, ctx, cart_id, name):
    cart = get_cart(session, ctx, cart_id)
    cart.name = name
    return cart


def delete_cart(session, ctx, cart_id):
    session.delete(get_cart(session, ctx, cart_id))


def check_quantity(quantity):
    return isinstance(quantity, int) and 0 < quantity <= MAX_QUANTITY


def add_line(session, cart, part_number, quantity, unit_price: Money | None):
    """Add to the cart, merging with a line of the same part number."""
    for line in cart.lines:
        if line.part_number == part_number:
            if not check_quantity(line.quantity + quantity):
                raise Invalid("quantity out of range", code="invalid_quantity",
                              errors={"quantity": [f"at most {MAX_QUANTITY}"]})
            line.quantity += quantity
            return line
    line = CartLine(part_number=part_number, quantity=quantity,
                    seen_unit_price=unit_price.amount if unit_price else None,
                    currency=unit_price.currency if unit_price else None)
    cart.lines.append(line)
    session.flush()
    return line


def quick_add(session, cart, requested, priced):
    """QuickCart: one status per input line, good lines added even when others fail."""
    by_part = quotes_by_part(priced)
    results = []
    for item in requested:
        part, qty = item.get("part_number"), item.get("quantity")
        quote = by_part.get(part_key(part))
        if not check_quantity(qty):
            status = "invalid_quantity"
        elif quote is None or quote["status"] == "not_found":
            status = "not_found"
        elif quote["status"] != "ok":
            status = "not_allowed"
        else:
            add_line(session, cart, quote["part_number"], qty, Money.from_dict(quote["unit_price"]))
            status = "added"
        results.append({"part_number": part, "quantity": qty, "status": status})
    return results


def update_line(session, ctx, cart_id, line_id, quantity):
    cart = get_cart(session, ctx, cart_id)
    line = next((l for l in cart.lines if l.id == line_id), None)
    if line is None:
        raise NotFound("no such cart line", code="cart_line_not_found")
    if not check_quantity(quantity):
        raise Invalid("quantity out of range", code="invalid_quantity",
                      errors={"quantity": [f"between 1 and {MAX_QUANTITY}"]})
    line.quantity = quantity
    return cart


def remove_line(session, ctx, cart_id, line_id):
    cart = get_cart(session, ctx, cart_id)
    line = next((l for l in cart.lines if l.id == line_id), None)
    if line is None:
        raise NotFound("no such cart line", code="cart_line_not_found")
    cart.lines.remove(line)
    return cart


def price_cart(cart, priced, currency):
    """The cart as the buyer sees it: current prices, changes flagged, totals."""
    by_part = quotes_by_part(priced)
    lines, subtotal = [], Money.zero(currency)
    for line in cart.lines:
        quote = by_part.get(part_key(line.part_number), {"status": "not_found"})
        price = Money.from_dict(quote["unit_price"]) if quote.get("unit_price") else None
        changed = (price is not None and line.seen_unit_price is not None
                   and price.amount != Decimal(line.seen_unit_price))
        if price is not None and quote["status"] == "ok":
            subtotal = subtotal + price * line.quantity
        lines.append({"id": line.id, "part_number": line.part_number,
                      "name": quote.get("name"), "quantity": line.quantity,
                      "unit_price": price.to_dict() if price else None,
                      "status": quote["status"], "price_changed": changed})
    return {"id": cart.id, "name": cart.name, "lines": lines,
            "totals": {"subtotal": subtotal.to_dict(), "total": subtotal.to_dict()}}


# ---- checkout ------------------------------------------------------------------------

def checkout_payment(payment: dict, card: dict | None) -> dict:
    """The payment as the order keeps it; a card needs the buyer's consent on record, a
    purchase order its number. `card` is identity's view of payment["card_id"]."""
    payment = dict(payment)
    if payment["method"] == "card":
        if not payment.get("card_id"):
            raise Invalid("choose a saved card", code="card_required",
                          errors={"payment": {"card_id": ["required for card payment"]}})
        if not card or not card.get("consent_at"):
            raise Invalid("this card has no consent on record", code="consent_required")
        payment["card"] = {"brand": card.get("brand"), "last4": card.get("last4")}
    if payment["method"] == "purchase_order" and not (payment.get("po_number") or "").strip():
        raise Invalid("a purchase order number is needed", code="po_number_required",
                      errors={"payment": {"po_number": ["required"]}})
    return payment


def checkout_address(request: dict, company: dict | None) -> dict:
    """The typed shipping address, else the company's address by id (or its first one)."""
    if request.get("shipping_address"):
        return request["shipping_address"]
    wanted = request.get("shipping_address_id")
    for address in (company or {}).get("addresses", []):
        if address.get("kind", "shipping") != "shipping":
            continue
        if wanted is None or address.get("id") == wanted:
            return address
    raise Invalid("choose a shipping address", code="shipping_address_required",
                  errors={"shipping_address": ["required"] if wanted is None
                          else ["not one of your company's addresses"]})


def checkout_billing_account(ctx, wanted, company: dict | None):
    """The company's own account, or a linked one for users with `linked_accounts`."""
    if wanted is None:
        return None
    account = next((a for a in (company or {}).get("billing_accounts", [])
                    if a.get("id") == wanted), None)
    if account is None:
        raise Invalid("not a billing account of your company", code="billing_account_invalid",
                      errors={"billing_account_id": ["not one of your company's accounts"]})
    if not account.get("primary") and "linked_accounts" not in ctx.features:
        raise Invalid("ordering on a linked account needs the linked_accounts right",
                      code="billing_account_not_allowed",
                      errors={"billing_account_id": ["you may use only your company's own account"]})
    return wanted


def needs_company(request: dict) -> bool:
    """Whether checkout must ask identity for the company's addresses and accounts."""
    return not request.get("shipping_address") or request.get("billing_account_id") is not None


def order_lines(session, ctx, wanted, priced, request: dict, card=None, company=None, today=None):
    """Order lines without a cart (a subscription bought on its own): the checkout rules,
    then the order and the subscriptions it starts."""
    payment = checkout_payment(request["payment"], card)
    subscriptions.require_card_for(priced, payment)
    address = checkout_address(request, company)
    account = checkout_billing_account(ctx, request.get("billing_account_id"), company)
    order = _write_order(session, ctx, [(w["part_number"], w["quantity"]) for w in wanted],
                         priced, ctx.currency, address, payment, account, request.get("notes"))
    return order, subscriptions.start(session, order, priced, payment, today or today_utc())


def checkout(session, ctx, cart, priced, request: dict, card=None, company=None, today=None):
    """Check the checkout request against the company's rules, then place the order; its
    subscription lines start subscriptions on the card paying it."""
    payment = checkout_payment(request["payment"], card)
    subscriptions.require_card_for(priced, payment)
    address = checkout_address(request, company)
    account = checkout_billing_account(ctx, request.get("billing_account_id"), company)
    order = place_order(session, ctx, cart, priced, ctx.currency, address, payment, account,
                        request.get("notes"))
    subscriptions.start(session, order, priced, payment, today or today_utc())
    return order


def place_order(session, ctx, cart, priced, currency, shipping_address, payment,
                billing_account_id=None, notes=None):
    """Check a cart out: the order at catalog's prices (`priced`); the cart goes."""
    if not cart.lines:
        raise Invalid("the cart is empty", code="cart_empty")
    order = _write_order(session, ctx, [(l.part_number, l.quantity) for l in cart.lines], priced,
                         currency, shipping_address, payment, billing_account_id, notes)
    session.delete(cart)  # checked out
    return order


def _write_order(session, ctx, wanted, priced, currency, shipping_address, payment,
                 billing_account_id, notes):
    """Write the order as pending_approval and emit order_placed, in one transaction.
    `wanted` is [(part_number, quantity)]; `priced` has each part's price and details."""
    by_part = quotes_by_part(priced)
    problems = {}
    for part, _ in wanted:
        quote = by_part.get(part_key(part))
        if quote is None or quote["status"] != "ok":
            problems[part] = [quote["status"] if quote else "not_found"]
    if problems:
        raise Invalid("some lines cannot be ordered", code="lines_not_orderable", errors=problems)
    order = Order(company_id=ctx.company_id, user_id=ctx.user_id, buyer=buyer_of(ctx),
                  status="pending_approval", currency=currency, subtotal=0, total=0,
                  shipping_address=shipping_address, payment=payment,
                  billing_account_id=billing_account_id, notes=notes,
                  shipments=[])  # none yet: its reply need not look them up
    subtotal = Money.zero(currency)
    for part, quantity in wanted:
        q = by_part[part_key(part)]
        price = Money.from_dict(q["unit_price"])
        total = price * quantity
        subtotal = subtotal + total
        order.lines.append(OrderLine(
            part_number=q.get("part_number") or part, mfg_part_number=q.get("mfg_part_number"),
            name=q.get("name") or part, manufacturer=q.get("manufacturer"),
            category=q.get("category"), quantity=quantity, unit_price=price.amount,
            line_total=total.amount, price_source=q.get("price_source", "list"),
            on_contract=1 if q.get("on_contract") else 0,
            catalog_ids=list(q.get("catalog_ids") or [])))
    order.subtotal = order.total = subtotal.amount
    order.history.append(StatusChange(status="pending_approval"))
    session.add(order)
    session.flush()
    order.number = f"SO-{order.id:07d}"
    emit(session, "orders", "order_placed", order_placed_payload(order))
    return order


def order_placed_payload(order):
    return {"order_id": order.id, "order_number": order.number, "company_id": order.company_id,
            "user_id": order.user_id, "buyer": order.buyer, "currency": order.currency,
            "lines": [line_dict(l, order.currency) for l in order.lines],
            "totals": totals(order), "shipping_address": order.shipping_address,
            "payment": order.payment, "billing_account_id": order.billing_account_id,
            "placed_at": order.placed_at.isoformat() + "Z"}


def line_dict(line, currency):
    return {"part_number": line.part_number, "mfg_part_number": line.mfg_part_number,
            "name": line.name, "manufacturer": line.manufacturer, "category": line.category,
            "quantity": line.quantity,
            "unit_price": Money(line.unit_price, currency).to_dict(),
            "line_total": Money(line.line_total, currency).to_dict(),
            "price_source": line.price_source, "on_contract": bool(line.on_contract),
            "catalog_ids": list(line.catalog_ids or [])}


def totals(order):
    return {"subtotal": Money(order.subtotal, order.currency).to_dict(),
            "total": Money(order.total, order.currency).to_dict()}


# ---- the status machine --------------------------------------------------------------

def find_order(session, number) -> Order | None:
    return session.scalar(select(Order).where(Order.number == number))


def get_order(session, ctx, number) -> Order:
    order = find_order(session, number)
    if order is None or (not ctx.staff and order.company_id != ctx.company_id):
        raise NotFound("no such order", code="order_not_found")
    if not ctx.staff and order.user_id != ctx.user_id and "recent_orders" not in ctx.features:
        raise NotFound("no such order", code="order_not_found")
    return order


def move(session, order, status, note=None, by=None):
    """Move an order on (the aggregate guards the transition) and emit
    order_status_changed. Returns False when the order is already there."""
    previous = order.become(status, note, by)
    if previous is None:
        return False
    session.flush()
    emit(session, "orders", "order_status_changed", {
        "order_number": order.number, "company_id": order.company_id, "user_id": order.user_id,
        "buyer": order.buyer, "status": status, "previous_status": previous, "reason": note,
        "changed_at": order.history[-1].at.isoformat() + "Z"})
    return True


def approval_decided(session, order_number, approved: bool, comment=None, decided_by=None,
                     approval_id=None):
    """From approvals' order_approved / order_rejected."""
    order = find_order(session, order_number)
    if order is None:
        raise NotFound(f"order {order_number} not found", code="order_not_found")
    target = "approved" if approved else "rejected"
    if order.status != "pending_approval":
        return False  # cancelled meanwhile, or already decided
    order.approval_id = approval_id
    return move(session, order, target, comment, decided_by)


ADMIN_ROLES = ("security_admin", "pas_admin")


def cancel(session, ctx, number):
    """A buyer cancels their own order before it ships; a colleague's needs an admin role."""
    order = get_order(session, ctx, number)
    if order.user_id != ctx.user_id and not ctx.staff and \
            not any(r in ctx.roles for r in ADMIN_ROLES):
        raise Forbidden("only its buyer or an administrator cancels an order",
                        code="not_your_order")
    if not order.can_become("cancelled"):
        shipped = order.status in ("shipped", "delivered", "invoiced") or order.shipments
        raise Conflict(f"an order that is {order.status} cannot be cancelled",
                       code="already_shipped" if shipped else "invalid_transition")
    if order.shipments:
        raise Conflict("part of this order has shipped", code="already_shipped")
    by = buyer_of(ctx) if order.user_id != ctx.user_id else None
    move(session, order, "cancelled", "cancelled by the buyer" if by is None else
         "cancelled by an administrator", by)
    return order


def fulfil(session, ctx, number, status):
    """Staff: the reseller's fulfilment accepted the order (`submitted`), or staff are
    preparing it (`processing`)."""
    require_staff(ctx)
    order = get_order(session, ctx, number)
    move(session, order, status)
    return order


def _shipment_lines(order, wanted):
    """[(order line, quantity)] for a shipment: the lines asked for, or all that is left."""
    left = order.left_to_ship()
    if not left:
        raise Conflict("everything on this order has shipped", code="already_shipped")
    if not wanted:
        return list(left.items())
    by_id = {l.id: l for l in order.lines}
    by_part = {part_key(l.part_number): l for l in order.lines}
    chosen, errors = {}, {}
    for i, item in enumerate(wanted):
        line = by_id.get(item.get("line_id")) if item.get("line_id") else \
            by_part.get(part_key(item.get("part_number")))
        if line is None:
            errors[str(i)] = ["not a line of this order"]
            continue
        quantity = chosen.get(line, 0) + int(item["quantity"])
        if quantity > left.get(line, 0):
            errors[str(i)] = [f"at most {left.get(line, 0)} left to ship"]
            continue
        chosen[line] = quantity
    if errors:
        raise Invalid("some lines cannot ship", code="validation_failed", errors={"lines": errors})
    return list(chosen.items())


def ship(session, ctx, number, carrier, tracking_number, lines=None):
    """Staff ship some lines (and quantities), or all that is left; the order is `shipped`
    once every line has shipped."""
    require_staff(ctx)
    order = get_order(session, ctx, number)
    if order.status not in SHIPPABLE:
        raise Conflict(f"an order that is {order.status} cannot be shipped",
                       code="invalid_transition")
    shipment = Shipment(carrier=carrier, tracking_number=tracking_number)
    for line, quantity in _shipment_lines(order, lines):
        shipment.lines.append(ShipmentLine(order_line_id=line.id, quantity=quantity))
    order.shipments.append(shipment)
    session.flush()
    complete = not order.left_to_ship()
    if complete:
        move(session, order, "shipped")
    emit(session, "orders", "order_shipped", {
        "order_number": order.number, "company_id": order.company_id, "buyer": order.buyer,
        "shipment_id": shipment.id, "carrier": carrier, "tracking_number": tracking_number,
        "tracking_url": tracking_url(carrier, tracking_number),
        "lines": _shipment_payload_lines(order, shipment), "complete": complete,
        "shipped_at": shipment.shipped_at.isoformat() + "Z"})
    return order


def _shipment_payload_lines(order, shipment):
    by_id = {l.id: l for l in order.lines}
    return [{"part_number": by_id[sl.order_line_id].part_number,
             "name": by_id[sl.order_line_id].name, "quantity": sl.quantity}
            for sl in shipment.lines]


def tracking_url(carrier, tracking_number):
    return Shipment(carrier=carrier, tracking_number=tracking_number).tracking_url


def deliver(session, ctx, number, delivery_note, shipment_id=None):
    """Staff record a shipment's delivery with its delivery note (the latest undelivered one
    unless `shipment_id` says); the order is `delivered` once it has fully shipped and every
    shipment is delivered."""
    require_staff(ctx)
    order = get_order(session, ctx, number)
    waiting = [s for s in order.shipments if s.delivered_at is None]
    if shipment_id is not None:
        waiting = [s for s in waiting if s.id == shipment_id]
        if not waiting and not any(s.id == shipment_id for s in order.shipments):
            raise NotFound("no such shipment on this order", code="shipment_not_found")
    if not waiting:
        raise Conflict("no shipment of this order is waiting for delivery",
                       code="invalid_transition")
    shipment = waiting[-1]
    shipment.delivered_at, shipment.delivery_note = utcnow(), delivery_note
    complete = order.status == "shipped" and all(s.delivered_at for s in order.shipments)
    if complete:
        move(session, order, "delivered")
    emit(session, "orders", "order_delivered", {
        "order_number": order.number, "company_id": order.company_id, "buyer": order.buyer,
        "shipment_id": shipment.id, "delivery_note": delivery_note,
        "lines": _shipment_payload_lines(order, shipment), "complete": complete,
        "shipping_address": order.shipping_address,
        "delivered_at": shipment.delivered_at.isoformat() + "Z"})
    return order


def delivery_note(session, ctx, number):
    order = get_order(session, ctx, number)
    delivered = [s for s in order.shipments if s.delivered_at]
    if not delivered:
        raise NotFound("this order has not been delivered yet", code="not_delivered")
    return {"order_number": order.number, "shipping_address": order.shipping_address,
            "deliveries": [{"shipment_id": s.id, "carrier": s.carrier,
                            "tracking_number": s.tracking_number,
                            "delivered_at": s.delivered_at.isoformat() + "Z",
                            "delivery_note": s.delivery_note,
                            "lines": _shipment_payload_lines(order, s)} for s in delivered],
            "lines": [{"part_number": l.part_number, "name": l.name, "quantity": l.quantity}
                      for l in order.lines]}


def issue_invoice(session, ctx, number):
    require_staff(ctx)
    order = get_order(session, ctx, number)
    if order.status != "delivered":
        raise Conflict(f"an order that is {order.status} cannot be invoiced",
                       code="invalid_transition")
    invoice = Invoice(order_id=order.id, company_id=order.company_id, currency=order.currency,
                      total=order.total)
    session.add(invoice)
    session.flush()
    invoice.number = f"INV-{invoice.id:07d}"
    move(session, order, "invoiced")
    emit(session, "orders", "invoice_issued", {
        "order_number": order.number, "invoice_number": invoice.number,
        "company_id": order.company_id, "buyer": order.buyer,
        "total": Money(invoice.total, invoice.currency).to_dict(),
        "issued_at": invoice.issued_at.isoformat() + "Z"})
    return invoice


def invoice_of(session, order):
    return session.scalar(select(Invoice).where(Invoice.order_id == order.id))


def request_invoice_copy(session, ctx, number):
    order = get_order(session, ctx, number)
    invoice = invoice_of(session, order)
    if invoice is None:
        raise NotFound("this order has no invoice yet", code="invoice_not_found")
    session.add(InvoiceCopyRequest(invoice_id=invoice.id, requested_by=ctx.user_id))
    emit(session, "orders", "invoice_copy_requested", {
        "order_number": order.number, "invoice_number": invoice.number,
        "company_id": order.company_id, "buyer": buyer_of(ctx),
        "billing_email": env("BILLING_EMAIL", "billing@procura.example")})
    return invoice


def list_invoices(session, ctx, limit=50, cursor=None):
    query = select(Invoice).where(Invoice.company_id == ctx.company_id)
    return keyset_page(session, query, Invoice.id, limit, cursor, descending=True)


def list_orders(session, ctx, status=None, limit=50, cursor=None, date_from=None, date_to=None,
                q=None, company_id=None):
    """Newest first: the caller's orders, the company's with `recent_orders`, every
    company's (or one's) for staff. `date_from`/`date_to` are days, both included; `q`
    matches the order number, the notes, a PO number or a line's part number or name."""
    if ctx.staff:
        query = select(Order)
        if company_id is not None:
            query = query.where(Order.company_id == company_id)
    else:
        query = select(Order).where(Order.company_id == ctx.company_id)
        if "recent_orders" not in ctx.features:
            query = query.where(Order.user_id == ctx.user_id)
    if status:
        query = query.where(Order.status == status)
    if date_from:
        query = query.where(Order.placed_at >= datetime.combine(date_from, time.min))
    if date_to:
        # to the day's end: the day after may not exist (9999-12-31)
        query = query.where(Order.placed_at <= datetime.combine(date_to, time.max))
    if q:
        like = f"%{q.strip()}%"
        lines = select(OrderLine.order_id).where(or_(OrderLine.part_number.ilike(like),
                                                     OrderLine.name.ilike(like)))
        query = query.where(or_(Order.number.ilike(like), Order.notes.ilike(like),
                                Order.payment.ilike(like), Order.id.in_(lines)))
    return keyset_page(session, query, Order.id, limit, cursor, descending=True)



def cart_summary(cart):
    return {"id": cart.id, "name": cart.name, "line_count": len(cart.lines)}


# ---- quotes ----------------------------------------------------------------------------

def today_utc():
    return utcnow().date()


def create_quote(session, ctx, data: dict, company_currency: str, products: list, today=None):
    """Staff prepare a quote for a company. `products` is catalog's answer for the quote's
    part numbers (in order), for their names and to refuse unknown ones."""
    require_staff(ctx)
    today = today or today_utc()
    errors = {}
    if data["expires_on"] < today:
        errors["expires_on"] = ["must be today or later"]
    quote = Quote(company_id=data["company_id"], buyer_user_id=data.get("buyer_user_id"),
                  currency=company_currency, expires_on=data["expires_on"],
                  notes=data.get("notes"), created_by=ctx.user_id)
    for i, (line, product) in enumerate(zip(data["lines"], products)):
        price = line["unit_price"]
        if price["currency"] != company_currency:
            errors.setdefault("lines", {})[str(i)] = {
                "unit_price": [f"must be in {company_currency}, the company's currency"]}
            continue
        if product.get("status") == "not_found":
            errors.setdefault("lines", {})[str(i)] = {"part_number": ["no such product"]}
            continue
        quote.lines.append(QuoteLine(
            part_number=product.get("part_number") or line["part_number"],
            mfg_part_number=product.get("mfg_part_number"),
            name=product.get("name") or line["part_number"], manufacturer=product.get("manufacturer"),
            category=product.get("category"), quantity=line["quantity"],
            unit_price=Money.from_dict(price).amount))
    if errors:
        # rules of the day, the company and the catalog, not of the body's shape
        raise Invalid("this quote cannot be made", code="invalid_quote", errors=errors)
    session.add(quote)
    session.flush()
    quote.number = f"Q-{quote.id:07d}"
    return quote


def _may_see(ctx, quote) -> bool:
    """A quote named for a buyer is theirs (and of users with the quotes right); the
    others are for every buyer of the company."""
    if ctx.staff:
        return True
    if quote.company_id != ctx.company_id:
        return False
    return quote.buyer_user_id in (None, ctx.user_id) or "quotes" in ctx.features


def get_quote(session, ctx, quote_id, lock=False) -> Quote:
    query = select(Quote).where(Quote.id == quote_id)
    quote = session.scalar(query.with_for_update() if lock else query)
    if quote is None or not _may_see(ctx, quote):
        raise NotFound("no such quote", code="quote_not_found")
    return quote


def list_quotes(session, ctx, limit=50, cursor=None):
    query = select(Quote).where(Quote.company_id == ctx.company_id)
    if "quotes" not in ctx.features:
        query = query.where((Quote.buyer_user_id.is_(None)) | (Quote.buyer_user_id == ctx.user_id))
    return keyset_page(session, query, Quote.id, limit, cursor, descending=True)


def convert_quote(session, ctx, quote_id, request: dict, card=None, company=None, today=None):
    """An open quote becomes an order at the quoted prices, through the normal order path
    (approvals included); an expired or converted quote is a 409."""
    today = today or today_utc()
    quote = get_quote(session, ctx, quote_id, lock=True)
    status = quote.status(today)
    if status != "open":
        raise Conflict(f"this quote is {status}", code=f"quote_{status}")
    payment = checkout_payment(request["payment"], card)
    address = checkout_address(request, company)
    account = checkout_billing_account(ctx, request.get("billing_account_id"), company)
    priced = [{"part_number": l.part_number, "status": "ok", "name": l.name,
               "mfg_part_number": l.mfg_part_number, "manufacturer": l.manufacturer,
               "category": l.category,
               "unit_price": Money(l.unit_price, quote.currency).to_dict(),
               # a price agreed with the reseller, like a contract's
               "price_source": "quote", "on_contract": True} for l in quote.lines]
    order = _write_order(session, ctx, [(l.part_number, l.quantity) for l in quote.lines], priced,
                         quote.currency, address, payment, account,
                         request.get("notes") or f"From quote {quote.number}")
    quote.converted_at, quote.order_number = utcnow(), order.number
    return order
