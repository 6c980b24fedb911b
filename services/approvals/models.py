"""Approvals' own tables."""
from sqlalchemy import Column, DateTime, Integer, String, Text

from services.common.db import JSONText, make_base, utcnow

Base = make_base()


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"
    id = Column(Integer, primary_key=True)
    order_number = Column(String(32), nullable=False, unique=True)
    company_id = Column(Integer, nullable=False, index=True)
    buyer = Column(JSONText, nullable=False)
    total = Column(JSONText, nullable=False)
    status = Column(String(16), nullable=False, index=True)  # pending|approved|rejected
    rule = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    decided_at = Column(DateTime)


class AuditEntry(Base):
    __tablename__ = "approval_audit"
    id = Column(Integer, primary_key=True)
    approval_id = Column(Integer, nullable=False, index=True)
    action = Column(String(32), nullable=False)
    actor_user_id = Column(Integer)
    comment = Column(Text)
    at = Column(DateTime, nullable=False, default=utcnow)
