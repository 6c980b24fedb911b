"""Orders' own tables."""
from sqlalchemy import Column, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from services.common.db import JSONText, make_base, utcnow

Base = make_base()


class Cart(Base):
    __tablename__ = "carts"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, nullable=False, index=True)
    user_id = Column(Integer, nullable=False, index=True)
    name = Column(String(120), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    lines = relationship("CartLine", order_by="CartLine.id", cascade="all, delete-orphan",
                         back_populates="cart")


class CartLine(Base):
    __tablename__ = "cart_lines"
    id = Column(Integer, primary_key=True)
    cart_id = Column(Integer, ForeignKey("carts.id", ondelete="CASCADE"), nullable=False, index=True)
    part_number = Column(String(64), nullable=False)
    quantity = Column(Integer, nullable=False)
    # the price the buyer saw when adding, to flag a change at checkout
    seen_unit_price = Column(Numeric(14, 2))
    currency = Column(String(3))
    cart = relationship("Cart", back_populates="lines")


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    number = Column(String(32), unique=True)
    company_id = Column(Integer, nullable=False, index=True)
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
    lines = relationship("OrderLine", order_by="OrderLine.id", cascade="all, delete-orphan")
    history = relationship("StatusChange", order_by="StatusChange.id", cascade="all, delete-orphan")
    shipments = relationship("Shipment", order_by="Shipment.id", cascade="all, delete-orphan")


class OrderLine(Base):
    __tablename__ = "order_lines"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    part_number = Column(String(64), nullable=False)
    mfg_part_number = Column(String(64))
    name = Column(String(300), nullable=False)
    manufacturer = Column(String(120))
    category = Column(String(120))
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Numeric(14, 2), nullable=False)
    line_total = Column(Numeric(14, 2), nullable=False)
    price_source = Column(String(16), nullable=False)
    on_contract = Column(Integer, nullable=False, default=0)
    # the company's custom catalogs holding the product at checkout (approval rules)
    catalog_ids = Column(JSONText)


class StatusChange(Base):
    __tablename__ = "order_status_history"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    status = Column(String(32), nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)
    note = Column(Text)
    # who made the change when it was a person (an approver's decision)
    by = Column(JSONText)


class Shipment(Base):
    __tablename__ = "shipments"
    id = Column(Integer, primary_key=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True)
    carrier = Column(String(60), nullable=False)
    tracking_number = Column(String(80), nullable=False)
    shipped_at = Column(DateTime, nullable=False, default=utcnow)
    delivered_at = Column(DateTime)
    delivery_note = Column(Text)


class Invoice(Base):
    __tablename__ = "invoices"
    id = Column(Integer, primary_key=True)
    number = Column(String(32), unique=True)
    order_id = Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
                      unique=True)
    company_id = Column(Integer, nullable=False, index=True)
    currency = Column(String(3), nullable=False)
    total = Column(Numeric(14, 2), nullable=False)
    issued_at = Column(DateTime, nullable=False, default=utcnow)


class InvoiceCopyRequest(Base):
    __tablename__ = "invoice_copy_requests"
    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    requested_by = Column(Integer, nullable=False)
    requested_at = Column(DateTime, nullable=False, default=utcnow)
