"""What every service's models start from: a declarative base with the naming convention,
the outbox, processed-events and idempotency-key tables every service has, JSON as text, and
the columns many tables share, defined once: a company's row (`CompanyRow`), its creation
time (`CreatedAt`), when a logged event happened (`HappenedAt`), the days a row applies
(`Period`), delivery retries (`Retried`), the reference of a row that is part of another
(`part_of`)."""
import json

from sqlalchemy import (Column, Date, DateTime, ForeignKey, Integer, MetaData, PrimaryKeyConstraint,
                        String, Text)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from services.common.clock import utcnow

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}


class JSONText(TypeDecorator):
    """JSON stored as text: the same on SQLite and PostgreSQL, Decimals as strings."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, default=str, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


class CompanyRow:
    """A row of one company in a table that holds every company's rows: its id, and its
    company's, indexed since every read is scoped to one company (tenancy.company_row)."""
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, nullable=False, index=True)


class CreatedAt:
    """When the row was made (UTC)."""
    created_at = Column(DateTime, nullable=False, default=utcnow)


class HappenedAt:
    """When what a log or history row records happened (UTC): an attempt, a decision, a
    status change."""
    at = Column(DateTime, nullable=False, default=utcnow)


class Period:
    """The days a row applies, from starts_on to ends_on, both included (a contract, an
    approver's delegation)."""
    starts_on = Column(Date, nullable=False)
    ends_on = Column(Date, nullable=False)


class Retried:
    """A row something is sent from until it gets through (the outbox, the mail queue,
    PunchOut's status posts): how many attempts were made, when the next is due, and the
    last one's error."""
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    last_error = Column(Text)


def part_of(parent_table):
    """The reference of a row that belongs to a row of `parent_table` (a cart's line, an
    order's shipment): deleted with it, and indexed, since it is read through its parent."""
    return Column(Integer, ForeignKey(f"{parent_table}.id", ondelete="CASCADE"), nullable=False,
                  index=True)


def make_base():
    """A declarative base for one service, with the outbox, processed-events and
    idempotency-key tables every service has."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING)

    class OutboxEvent(Retried, Base):
        __tablename__ = "outbox_events"
        id = Column(Integer, primary_key=True, autoincrement=True)
        event_id = Column(String(36), nullable=False, unique=True)
        source = Column(String(40), nullable=False)
        type = Column(String(80), nullable=False)
        payload = Column(JSONText, nullable=False)
        request_id = Column(String(64))
        occurred_at = Column(DateTime, nullable=False, default=utcnow)
        sent_at = Column(DateTime, index=True)
        # no queue received it: given up on, in a state of its own (never `sent_at`)
        unroutable_at = Column(DateTime)

    class ProcessedEvent(Base):
        __tablename__ = "processed_events"
        __table_args__ = (PrimaryKeyConstraint("event_id", "handler"),)
        event_id = Column(String(36), nullable=False)
        handler = Column(String(120), nullable=False)
        processed_at = Column(DateTime, nullable=False, default=utcnow, index=True)

    class IdempotencyKey(Base):
        __tablename__ = "idempotency_keys"
        __table_args__ = (PrimaryKeyConstraint("scope", "key"),)
        scope = Column(String(120), nullable=False)
        key = Column(String(200), nullable=False)
        request_hash = Column(String(64), nullable=False)
        response = Column(JSONText)
        created_at = Column(DateTime, nullable=False, default=utcnow)

    Base.OutboxEvent = OutboxEvent
    Base.ProcessedEvent = ProcessedEvent
    Base.IdempotencyKey = IdempotencyKey
    return Base
