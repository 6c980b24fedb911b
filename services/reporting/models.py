"""Reporting's read model, fed only by events."""
from sqlalchemy import Column, DateTime, Integer, Numeric, String

from services.common.db import make_base

Base = make_base()


class OrderFact(Base):
    __tablename__ = "order_facts"
    id = Column(Integer, primary_key=True)
    order_number = Column(String(32), nullable=False, unique=True)
    company_id = Column(Integer, nullable=False, index=True)
    user_id = Column(Integer, nullable=False)
    status = Column(String(32), nullable=False)
    currency = Column(String(3), nullable=False)
    total = Column(Numeric(14, 2), nullable=False)
    line_count = Column(Integer, nullable=False)
    placed_at = Column(DateTime, nullable=False, index=True)


class OrderLineFact(Base):
    __tablename__ = "order_line_facts"
    id = Column(Integer, primary_key=True)
    order_number = Column(String(32), nullable=False, index=True)
    company_id = Column(Integer, nullable=False, index=True)
    part_number = Column(String(64), nullable=False)
    manufacturer = Column(String(120))
    category = Column(String(120))
    quantity = Column(Integer, nullable=False)
    line_total = Column(Numeric(14, 2), nullable=False)
    placed_at = Column(DateTime, nullable=False)
