"""Orders' payloads: HTTP bodies, RPC replies."""
from marshmallow import Schema, fields, validate

from services.common.paging import MAX_ID
from services.common.schemas import (page_of, CompanyRowOut, Id, MoneySchema, PageQuery,
                                     Totals, UtcDateTime)

STATUSES = ("pending_approval", "approved", "submitted", "processing", "shipped", "delivered",
            "invoiced", "rejected", "cancelled")


class CartCreate(Schema):
    # null is no name given (load_args): the default
    name = fields.String(load_default="Cart", allow_none=True,
                         validate=validate.Length(min=1, max=120))


class CartItem(Schema):
    part_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))


class CartLineUpdate(Schema):
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))


class QuickAddLine(Schema):
    part_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # validated per line by the domain, so one bad line does not refuse the others
    quantity = fields.Raw(required=True)


class QuickAdd(Schema):
    lines = fields.List(fields.Nested(QuickAddLine), required=True,
                        validate=validate.Length(min=1, max=500))


class Address(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(load_default=None, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default=None, validate=validate.Length(max=100))
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$"))


class Payment(Schema):
    method = fields.String(required=True, validate=validate.OneOf(["card", "purchase_order", "account"]))
    card_id = Id(load_default=None)
    po_number = fields.String(load_default=None, validate=validate.Length(max=60))


class Checkout(Schema):
    cart_id = Id(required=True)
    billing_account_id = Id(load_default=None)
    shipping_address_id = Id(load_default=None)
    shipping_address = fields.Nested(Address, load_default=None)
    payment = fields.Nested(Payment, required=True)
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))


class OrdersQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    date_from = fields.Date(data_key="from", load_default=None,
                            metadata={"description": "placed on or after this day (UTC)"})
    date_to = fields.Date(data_key="to", load_default=None,
                          metadata={"description": "placed on or before this day (UTC)"})
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={
        "description": "an order number, PO number, part number or product name (or a part)"})


class BackofficeOrdersQuery(OrdersQuery):
    company_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class ShipLine(Schema):
    line_id = Id(metadata={"description": "an order line's id"})
    part_number = fields.String(validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))


class Ship(Schema):
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=60))
    tracking_number = fields.String(required=True, validate=validate.Length(min=1, max=80))
    lines = fields.List(fields.Nested(ShipLine), load_default=None,
                        validate=validate.Length(min=1, max=500), metadata={
                            "description": "the lines (by line_id or part_number) and quantities "
                                           "this shipment carries; all that is left when absent"})


class CartLineOut(Schema):
    id = fields.Integer()
    part_number = fields.String()
    name = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_price = fields.Nested(MoneySchema, allow_none=True)
    status = fields.String()
    price_changed = fields.Boolean()


class CartOut(Schema):
    id = fields.Integer()
    name = fields.String()
    lines = fields.List(fields.Nested(CartLineOut))
    totals = fields.Nested(Totals)


class CartSummary(Schema):
    id = fields.Integer()
    name = fields.String()
    line_count = fields.Integer()


class CartList(Schema):
    items = fields.List(fields.Nested(CartSummary))


class QuickAddResult(Schema):
    lines = fields.List(fields.Dict())


class QuoteLineOut(Schema):
    part_number = fields.String()
    mfg_part_number = fields.String(allow_none=True)
    name = fields.String()
    manufacturer = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_price = fields.Nested(MoneySchema, attribute="unit_price_money")
    line_total = fields.Nested(MoneySchema, attribute="line_total_money")


class OrderLineOut(QuoteLineOut):
    id = fields.Integer()
    shipped_quantity = fields.Integer()
    price_source = fields.String(metadata={"enum": ["contract", "list", "epp", "quote"]})
    on_contract = fields.Boolean()


class StatusChangeBy(Schema):
    user_id = fields.Integer()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class StatusChangeOut(Schema):
    status = fields.String()
    at = UtcDateTime()
    note = fields.String(allow_none=True)
    by = fields.Nested(StatusChangeBy, allow_none=True,
                       metadata={"description": "the approver who approved or rejected"})


class ShipmentLineOut(Schema):
    part_number = fields.String()
    name = fields.String(allow_none=True)
    quantity = fields.Integer()


class ShipmentOut(Schema):
    id = fields.Integer()
    lines = fields.List(fields.Nested(ShipmentLineOut))
    delivery_note = fields.String(allow_none=True)
    carrier = fields.String()
    tracking_number = fields.String()
    tracking_url = fields.String(allow_none=True)
    shipped_at = UtcDateTime()
    delivered_at = UtcDateTime(allow_none=True)


class OrderOut(Schema):
    number = fields.String()
    company_id = fields.Integer()
    status = fields.String(metadata={"enum": list(STATUSES)})
    placed_at = UtcDateTime()
    buyer = fields.Dict()
    lines = fields.List(fields.Nested(OrderLineOut))
    totals = fields.Nested(Totals)
    shipping_address = fields.Dict()
    payment = fields.Dict()
    notes = fields.String(allow_none=True)
    status_history = fields.List(fields.Nested(StatusChangeOut), attribute="history")
    approval_id = fields.Integer(allow_none=True, metadata={
        "description": "the approval request (GET /approvals/{id}: every step's decisions)"})
    shipments = fields.List(fields.Nested(ShipmentOut))


class OrderList(Schema):
    items = fields.List(fields.Nested(OrderOut(only=("number", "status", "placed_at", "totals",
                                                     "buyer", "company_id"))))
    next_cursor = fields.String(allow_none=True)


class Deliver(Schema):
    delivery_note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    shipment_id = Id(load_default=None, metadata={
        "description": "the shipment delivered; the latest undelivered one when absent"})


class InvoiceOut(Schema):
    number = fields.String()
    order_number = fields.String(allow_none=True)
    total = fields.Nested(MoneySchema, attribute="total_money")
    issued_at = UtcDateTime()


InvoiceList = page_of(InvoiceOut, "InvoiceList")


class DeliveryNote(Schema):
    order_number = fields.String()
    shipping_address = fields.Dict()
    deliveries = fields.List(fields.Dict())
    lines = fields.List(fields.Dict())


class QuoteLineIn(Schema):
    part_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10000))
    unit_price = fields.Nested(MoneySchema, required=True)


class QuoteIn(Schema):
    company_id = Id(required=True)
    expires_on = fields.Date(required=True)
    buyer_user_id = Id(load_default=None, metadata={
        "description": "the one buyer the quote is for; every buyer of the company when absent"})
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(QuoteLineIn), required=True,
                        validate=validate.Length(min=1, max=500))


class QuoteOut(CompanyRowOut):
    number = fields.String()
    buyer_user_id = fields.Integer(allow_none=True)
    status = fields.String(attribute="status_today",
                           metadata={"enum": ["open", "expired", "converted"]})
    expires_on = UtcDateTime()
    notes = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(QuoteLineOut))
    totals = fields.Nested(Totals)
    created_at = UtcDateTime()
    order_number = fields.String(allow_none=True, metadata={"description": "once converted"})


QuoteList = page_of(QuoteOut, "QuoteList")


class QuoteConvert(Checkout):
    """Checkout's body; the quote's lines and prices are ordered, so a `cart_id` is ignored."""
    cart_id = Id(load_default=None, metadata={"description": "ignored"})


class SubscriptionIn(Schema):
    """One subscription product, paid now and at each renewal by a saved card."""
    part_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=10000))
    card_id = Id(required=True)
    billing_account_id = Id(load_default=None)
    shipping_address_id = Id(load_default=None)
    shipping_address = fields.Nested(Address, load_default=None)
    notes = fields.String(load_default=None, validate=validate.Length(max=2000))


class SubscriptionCardIn(Schema):
    card_id = Id(required=True)


class SubscriptionRenewalOut(Schema):
    due_on = UtcDateTime()
    order_number = fields.String()
    at = UtcDateTime()


class SubscriptionOut(Schema):
    id = fields.Integer()
    part_number = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    term = fields.String(metadata={"enum": ["monthly", "yearly"]})
    unit_price = fields.Nested(MoneySchema, attribute="unit_price_money")
    card_id = fields.Integer()
    status = fields.String(metadata={"enum": ["active", "cancelled"]})
    card_problem = fields.String(allow_none=True, metadata={
        "enum": ["card_removed", "card_expired", "card_consent_missing", None],
        "description": "why the card cannot pay the next renewal; switch cards before it"})
    started_on = UtcDateTime()
    next_renewal_on = UtcDateTime(attribute="next_renewal", allow_none=True)
    origin_order_number = fields.String(allow_none=True)
    renewals = fields.List(fields.Nested(SubscriptionRenewalOut))
    cancelled_at = UtcDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


SubscriptionList = page_of(SubscriptionOut, "SubscriptionList")


class Subscribed(Schema):
    subscription = fields.Nested(SubscriptionOut)
    order = fields.Nested(OrderOut)
