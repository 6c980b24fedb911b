"""Orders' own tables."""
from decimal import Decimal

from sqlalchemy import (Column, Date, DateTime, ForeignKey, Integer, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import relationship

from services.common.clock import utcnow
from services.common.tables import CompanyRow, CreatedAt, HappenedAt, JSONText, make_base, part_of
from services.common.errors import Conflict
from services.common.money import Money

Base = make_base()


class Cart(CompanyRow, CreatedAt, Base):
    __tablename__ = "carts"
    user_id = Column(Integer, nullable=False, index=True)
    name = Column(String(120), nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    lines = relationship("CartLine", order_by="CartLine.id", cascade="all, delete-orphan",
                         back_populates="cart")


class CartLine(Base):
    __tablename__ = "cart_lines"
    id = Column(Integer, primary_key=True)
    cart_id = part_of("carts")
    part_number = Column(String(64), nullable=False)
    quantity = Column(Integer, nullable=False)
    # the price the buyer saw when adding, to flag a change at checkout
    seen_unit_price = Column(Numeric(14, 2))
    currency = Column(String(3))
    cart = relationship("Cart", back_populates="lines")


# where each status may go next; anything else is refused (and a redelivered event that asks
# for the same move again is a no-op). approved -> submitted: the reseller's fulfilment
# accepted the order; -> processing: staff are preparing it.
TRANSITIONS = {
    "pending_approval": {"approved", "rejected", "cancelled"},
    "approved": {"submitted", "processing", "shipped", "cancelled"},
    "submitted": {"processing", "shipped", "cancelled"},
    "processing": {"shipped", "cancelled"},
    "shipped": {"delivered"},
    "delivered": {"invoiced"},
    "invoiced": set(),
    "rejected": set(),
    "cancelled": set(),
}
SHIPPABLE = ("approved", "submitted", "processing")
CARRIER_TRACKING = {
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "purolator": "https://www.purolator.com/en/shipping/tracker?pin={}",
    "canada post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}


def money(amount, currency) -> dict:
    return Money(amount, currency).to_dict()


class Order(CompanyRow, Base):
    """The order aggregate: its status moves only through `become`, guarded by TRANSITIONS."""
    __tablename__ = "orders"
    number = Column(String(32), unique=True)
    user_id = Column(Integer, nullable=False, index=True)
    buyer = Column(JSONText, nullable=False)
    status = Column(String(32), nullable=False, index=True)
    currency = Column(String(3), nullable=False)
    subtotal = Column(Numeric(14, 2), nullable=False)
    total = Column(Numeric(14, 2), nullable=False)
    shipping_address = Column(JSONText, nullable=False)
    payment = Column(JSONText, nullable=False)
    billing_account_id = Column(Integer)
    notes = Column(Text)
    # the approval request in approvals, where the whole approval trail is
    approval_id = Column(Integer)
    placed_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    lines = relationship("OrderLine", order_by="OrderLine.id", cascade="all, delete-orphan",
                         back_populates="order")
    history = relationship("StatusChange", order_by="StatusChange.id", cascade="all, delete-orphan")
    shipments = relationship("Shipment", order_by="Shipment.id", cascade="all, delete-orphan")

    def can_become(self, status) -> bool:
        return status == self.status or status in TRANSITIONS[self.status]

    def become(self, status, note=None, by=None):
        """Move to `status`, recording it; returns the previous status, or None when the
        order is already there (a repeated request or a redelivered event)."""
        if self.status == status:
            return None
        if status not in TRANSITIONS[self.status]:
            raise Conflict(f"an order that is {self.status} cannot become {status}",
                           code="invalid_transition")
        previous, self.status = self.status, status
        self.history.append(StatusChange(status=status, note=note, by=by))
        return previous

    @property
    def totals(self) -> dict:
        return {"subtotal": money(self.subtotal, self.currency),
                "total": money(self.total, self.currency)}

    def shipped_quantity(self, line) -> int:
        return sum(sl.quantity for s in self.shipments for sl in s.lines
                   if sl.order_line_id == line.id)

    def left_to_ship(self) -> dict:
        """{order line: quantity not shipped yet}, lines fully shipped left out."""
        left = {l: l.quantity - self.shipped_quantity(l) for l in self.lines}
        return {l: q for l, q in left.items() if q > 0}


class PricedLine:
    """What an order line and a quote line have alike: the product, its quantity and unit
    price, and the price and total as Money in the currency of the order or quote holding
    the line (its `currency`)."""
    part_number = Column(String(64), nullable=False)
    mfg_part_number = Column(String(64))
    name = Column(String(300), nullable=False)
    manufacturer = Column(String(120))
    category = Column(String(120))
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Numeric(14, 2), nullable=False)

    @property
    def unit_price_money(self):
        return money(self.unit_price, self.currency)

    @property
    def line_total_money(self):
        return money(self.unit_price * self.quantity, self.currency)


class OrderLine(PricedLine, Base):
    __tablename__ = "order_lines"
    id = Column(Integer, primary_key=True)
    order_id = part_of("orders")
    line_total = Column(Numeric(14, 2), nullable=False)
    price_source = Column(String(16), nullable=False)
    on_contract = Column(Integer, nullable=False, default=0)
    # the company's custom catalogs holding the product at checkout (approval rules)
    catalog_ids = Column(JSONText)
    order = relationship("Order", back_populates="lines")
    currency = association_proxy("order", "currency")

    @property
    def shipped_quantity(self) -> int:
        return self.order.shipped_quantity(self)


class StatusChange(HappenedAt, Base):
    __tablename__ = "order_status_history"
    id = Column(Integer, primary_key=True)
    order_id = part_of("orders")
    status = Column(String(32), nullable=False)
    note = Column(Text)
    # who made the change when it was a person (an approver's decision)
    by = Column(JSONText)


class Shipment(Base):
    __tablename__ = "shipments"
    id = Column(Integer, primary_key=True)
    order_id = part_of("orders")
    carrier = Column(String(60), nullable=False)
    tracking_number = Column(String(80), nullable=False)
    shipped_at = Column(DateTime, nullable=False, default=utcnow)
    delivered_at = Column(DateTime)
    delivery_note = Column(Text)
    lines = relationship("ShipmentLine", order_by="ShipmentLine.id", cascade="all, delete-orphan")

    @property
    def tracking_url(self):
        template = CARRIER_TRACKING.get((self.carrier or "").strip().lower())
        return template.format(self.tracking_number) if template else None


class ShipmentLine(Base):
    """How much of one order line a shipment carries."""
    __tablename__ = "shipment_lines"
    id = Column(Integer, primary_key=True)
    shipment_id = part_of("shipments")
    order_line_id = Column(Integer, ForeignKey("order_lines.id", ondelete="CASCADE"),
                           nullable=False)
    quantity = Column(Integer, nullable=False)
    order_line = relationship("OrderLine")
    part_number = association_proxy("order_line", "part_number")
    name = association_proxy("order_line", "name")


class Invoice(CompanyRow, Base):
    __tablename__ = "invoices"
    number = Column(String(32), unique=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
                      unique=True)
    currency = Column(String(3), nullable=False)
    total = Column(Numeric(14, 2), nullable=False)
    issued_at = Column(DateTime, nullable=False, default=utcnow)
    order = relationship("Order")
    order_number = association_proxy("order", "number")

    @property
    def total_money(self):
        return money(self.total, self.currency)


class InvoiceCopyRequest(Base):
    __tablename__ = "invoice_copy_requests"
    id = Column(Integer, primary_key=True)
    invoice_id = part_of("invoices")
    requested_by = Column(Integer, nullable=False)
    requested_at = Column(DateTime, nullable=False, default=utcnow)


class Quote(CompanyRow, CreatedAt, Base):
    """Prices staff prepared for a company, optionally for one named buyer, until
    `expires_on`; converted once into an order at those prices."""
    __tablename__ = "quotes"
    number = Column(String(32), unique=True)
    buyer_user_id = Column(Integer)
    currency = Column(String(3), nullable=False)
    expires_on = Column(Date, nullable=False)
    notes = Column(Text)
    created_by = Column(Integer)
    converted_at = Column(DateTime)
    order_number = Column(String(32))
    lines = relationship("QuoteLine", order_by="QuoteLine.id", cascade="all, delete-orphan",
                         back_populates="quote")

    def status(self, today=None) -> str:
        if self.converted_at is not None:
            return "converted"
        return "expired" if (today or utcnow().date()) > self.expires_on else "open"

    @property
    def status_today(self) -> str:
        return self.status()

    @property
    def totals(self) -> dict:
        total = sum((l.unit_price * l.quantity for l in self.lines), Decimal(0))
        return {"subtotal": money(total, self.currency), "total": money(total, self.currency)}


class QuoteLine(PricedLine, Base):
    __tablename__ = "quote_lines"
    id = Column(Integer, primary_key=True)
    quote_id = part_of("quotes")
    quote = relationship("Quote", back_populates="lines")
    currency = association_proxy("quote", "currency")


class Subscription(CompanyRow, Base):
    """An auto-renewing purchase, paid by a saved card that carries the owner's consent."""
    __tablename__ = "subscriptions"
    user_id = Column(Integer, nullable=False, index=True)
    owner = Column(JSONText, nullable=False)
    part_number = Column(String(64), nullable=False)
    name = Column(String(300), nullable=False)
    quantity = Column(Integer, nullable=False)
    currency = Column(String(3), nullable=False)
    unit_price = Column(Numeric(14, 2), nullable=False)  # at the last order or renewal
    term = Column(String(10), nullable=False)  # monthly | yearly
    card_id = Column(Integer, nullable=False, index=True)
    shipping_address = Column(JSONText, nullable=False)
    billing_account_id = Column(Integer)
    status = Column(String(16), nullable=False, index=True)  # active | cancelled
    # why the card cannot pay the next renewal (card_removed, card_expired,
    # card_consent_missing), until the owner switches cards
    card_problem = Column(String(40))
    # the renewal date the owner was last warned about
    warned_for = Column(Date)
    started_on = Column(Date, nullable=False)
    next_renewal_on = Column(Date, nullable=False, index=True)
    origin_order_number = Column(String(32))
    cancelled_at = Column(DateTime)
    cancel_reason = Column(String(40))
    renewals = relationship("SubscriptionRenewal", order_by="SubscriptionRenewal.id",
                            cascade="all, delete-orphan")

    @property
    def unit_price_money(self):
        return money(self.unit_price, self.currency)

    @property
    def next_renewal(self):
        """The next renewal date, while there is one."""
        return self.next_renewal_on if self.status == "active" else None


class SubscriptionRenewal(HappenedAt, Base):
    """One renewal per due date, whatever the restarts."""
    __tablename__ = "subscription_renewals"
    __table_args__ = (UniqueConstraint("subscription_id", "due_on",
                                       name="uq_subscription_renewals_due"),)
    id = Column(Integer, primary_key=True)
    subscription_id = part_of("subscriptions")
    due_on = Column(Date, nullable=False)
    order_number = Column(String(32), nullable=False)
    charge_id = Column(String(64), nullable=False)
