"""Reporting's tables.

The read model (the `*_facts` tables) is fed only by events and can be rebuilt from
`received_events`, the append-only log of every event it was built from. Money is kept in
cents (BIGINT) so that sums over millions of lines are exact and fast on both databases;
month and quarter are stored with each fact so that grouping needs no date functions, which
SQLite and PostgreSQL spell differently. Each fact table has an index on (company, date, id):
the report window and the keyset pages of line-level reports. `spend_rollups` holds the
spent lines' totals per month, kept beside the line facts (see domain/rollups.py).

Custom reports, schedules and hand-entered assets are users' own data, never rebuilt.
"""
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String,
                        Text, UniqueConstraint)

from services.common.clock import utcnow
from services.common.tables import CompanyRow, CreatedAt, JSONText, make_base

Base = make_base()


class FactOfAnOrder:
    """The columns every fact about an order has: its id, its company and its buyer."""
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, nullable=False)
    buyer_id = Column(Integer)
    buyer_name = Column(String(200))


class FactOfAPlacedOrder(FactOfAnOrder):
    """What an order's fact and its lines' facts have alike, copied from the order: when it
    was placed, its status and currency, whom it is billed to and shipped to."""
    buyer_email = Column(String(254))
    status = Column(String(32), nullable=False)
    currency = Column(String(3), nullable=False)
    placed_at = Column(DateTime, nullable=False)
    placed_month = Column(String(7), nullable=False)
    placed_quarter = Column(String(7), nullable=False)
    billing_account = Column(String(64))
    ship_to = Column(String(200))


def report_window(table, dated_by):
    """A fact table's index on (company, date, id): a report's window and its pages."""
    return Index(f"ix_{table}_company_{dated_by.removesuffix('_at')}", "company_id", dated_by,
                 "id")


class ReceivedEvent(Base):
    """Every event the read model was built from, in the order it was applied."""
    __tablename__ = "received_events"
    id = Column(Integer, primary_key=True)
    event_id = Column(String(36), nullable=False, unique=True)
    source = Column(String(40), nullable=False)
    type = Column(String(80), nullable=False)
    occurred_at = Column(DateTime, nullable=False)
    payload = Column(JSONText, nullable=False)
    received_at = Column(DateTime, nullable=False, default=utcnow)


class OrderFact(FactOfAPlacedOrder, Base):
    __tablename__ = "order_facts"
    __table_args__ = (report_window("order_facts", "placed_at"),)
    order_number = Column(String(32), nullable=False, unique=True)
    status_at = Column(DateTime, nullable=False)
    total_cents = Column(BigInteger, nullable=False)
    line_count = Column(Integer, nullable=False)
    payment_method = Column(String(32))
    po_number = Column(String(64))
    card_brand = Column(String(32))
    card_last4 = Column(String(4))


class OrderLineFact(FactOfAPlacedOrder, Base):
    """One ordered line, with what reports group and filter by copied from its order."""
    __tablename__ = "order_line_facts"
    __table_args__ = (UniqueConstraint("order_number", "line_no"),
                      report_window("order_line_facts", "placed_at"))
    order_number = Column(String(32), nullable=False)
    line_no = Column(Integer, nullable=False)
    part_number = Column(String(64), nullable=False)
    mfg_part_number = Column(String(64))
    name = Column(String(300))
    manufacturer = Column(String(120))
    category = Column(String(120))
    quantity = Column(Integer, nullable=False)
    unit_price_cents = Column(BigInteger, nullable=False)
    spend_cents = Column(BigInteger, nullable=False)
    price_source = Column(String(32))
    on_contract = Column(Boolean, nullable=False, default=False)


class SpendRollup(Base):
    """Totals of one company's spent order lines for a month, per grain: all lines of the
    month, or by manufacturer, category, buyer, billing account, shipping location, product or
    contract. A row's dimension columns are those of its grain (the others stay null) and
    carry the line facts' names; `group_key` is the grain's values as one text, so that a
    row can be unique although some of its values are null."""
    __tablename__ = "spend_rollups"
    __table_args__ = (UniqueConstraint("company_id", "grain", "placed_month", "currency",
                                       "group_key"),)
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, nullable=False)
    grain = Column(String(32), nullable=False)
    placed_month = Column(String(7), nullable=False)
    placed_quarter = Column(String(7), nullable=False)
    currency = Column(String(3), nullable=False)
    group_key = Column(Text, nullable=False)
    buyer_name = Column(String(200))
    buyer_email = Column(String(254))
    billing_account = Column(String(64))
    ship_to = Column(String(200))
    part_number = Column(String(64))
    name = Column(String(300))
    manufacturer = Column(String(120))
    category = Column(String(120))
    on_contract = Column(Boolean)
    orders = Column(Integer, nullable=False)
    lines = Column(Integer, nullable=False)
    quantity = Column(BigInteger, nullable=False)
    spend_cents = Column(BigInteger, nullable=False)


class ShipmentFact(FactOfAnOrder, Base):
    __tablename__ = "shipment_facts"
    __table_args__ = (report_window("shipment_facts", "shipped_at"),)
    order_number = Column(String(32), nullable=False, index=True)
    ship_to = Column(String(200))
    carrier = Column(String(80))
    tracking_number = Column(String(120))
    tracking_url = Column(String(500))
    shipped_at = Column(DateTime, nullable=False)
    delivered_at = Column(DateTime)
    delivery_note = Column(Text)


class InvoiceFact(FactOfAnOrder, Base):
    __tablename__ = "invoice_facts"
    __table_args__ = (report_window("invoice_facts", "issued_at"),)
    invoice_number = Column(String(32), nullable=False, unique=True)
    order_number = Column(String(32), nullable=False)
    billing_account = Column(String(64))
    currency = Column(String(3), nullable=False)
    total_cents = Column(BigInteger, nullable=False)
    issued_at = Column(DateTime, nullable=False)
    issued_month = Column(String(7), nullable=False)


class ApprovalFact(FactOfAnOrder, Base):
    """An order's way through approvals: requested (or not, when no rule applied), decided."""
    __tablename__ = "approval_facts"
    __table_args__ = (report_window("approval_facts", "requested_at"),)
    approval_id = Column(String(64), nullable=False, unique=True)
    order_number = Column(String(32), nullable=False)
    rule = Column(Text)
    currency = Column(String(3))
    total_cents = Column(BigInteger)
    requested_at = Column(DateTime)
    requested_month = Column(String(7))
    decision = Column(String(16), nullable=False, default="pending")
    decided_at = Column(DateTime)
    decided_by = Column(String(200))
    comment = Column(Text)
    decide_seconds = Column(Integer)


class CustomReport(CompanyRow, CreatedAt, Base):
    __tablename__ = "custom_reports"
    user_id = Column(Integer, nullable=False)
    name = Column(String(120), nullable=False)
    source = Column(String(32), nullable=False)
    columns = Column(JSONText, nullable=False)
    filters = Column(JSONText, nullable=False)
    group_by = Column(JSONText, nullable=False)


class ReportSchedule(CompanyRow, CreatedAt, Base):
    __tablename__ = "report_schedules"
    user_id = Column(Integer, nullable=False)
    features = Column(JSONText, nullable=False)  # the creator's, checked again at each run
    report_key = Column(String(64), nullable=False)
    params = Column(JSONText, nullable=False)
    frequency = Column(String(16), nullable=False)
    recipients = Column(JSONText, nullable=False)
    locale = Column(String(2), nullable=False, default="en")
    next_run_at = Column(DateTime, nullable=False, index=True)
    last_run_at = Column(DateTime)


class Asset(CompanyRow, CreatedAt, Base):
    """Equipment a company owns: from a delivered order line, or entered by hand."""
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("order_number", "line_no"),)
    origin = Column(String(16), nullable=False)  # purchased | manual
    order_number = Column(String(32))
    line_no = Column(Integer)
    name = Column(String(300), nullable=False)
    manufacturer = Column(String(120))
    part_number = Column(String(64))
    category = Column(String(120))
    serial_number = Column(String(120))
    quantity = Column(Integer, nullable=False, default=1)
    location = Column(String(200))
    purchased_on = Column(Date)
    delivered_on = Column(Date)
    notes = Column(Text)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
