"""Approvals' own tables: workflows, company settings, requests with one track per applying
workflow, approver assignments, decisions, delegations and the audit trail."""
from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer, PrimaryKeyConstraint,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import relationship

from services.common.clock import utcnow
from services.common.tables import (CompanyRow, CreatedAt, HappenedAt, JSONText, Period,
                                    make_base)

Base = make_base()


class Workflow(CompanyRow, CreatedAt, Base):
    """A PAS workflow. `definition` holds {buyers, rules, steps}; every change bumps
    `version`, and open requests keep the snapshot they started with."""
    __tablename__ = "approval_workflows"
    name = Column(String(200), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    version = Column(Integer, nullable=False, default=1)
    definition = Column(JSONText, nullable=False)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class Settings(Base):
    """A company's approval settings; a company without a row has the defaults."""
    __tablename__ = "approval_settings"
    company_id = Column(Integer, primary_key=True, autoincrement=False)
    allow_self_approval = Column(Boolean, nullable=False, default=False)
    reminder_days = Column(Integer, nullable=False, default=2)
    escalation_days = Column(Integer, nullable=False, default=5)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class ApprovalRequest(CompanyRow, CreatedAt, Base):
    """One per placed order: pending until every track is approved, or one is rejected."""
    __tablename__ = "approval_requests"
    order_number = Column(String(32), nullable=False, unique=True)
    buyer_user_id = Column(Integer)
    buyer = Column(JSONText, nullable=False)
    total = Column(JSONText, nullable=False)
    # the order as placed: {currency, lines, totals}
    order = Column(JSONText)
    status = Column(String(16), nullable=False, index=True)  # pending|approved|rejected|cancelled
    rule = Column(Text)  # the triggering rules in words (English), for lists and exports
    comment = Column(Text)
    decided_at = Column(DateTime)
    tracks = relationship("Track", order_by="Track.id", back_populates="request")


class Track(Base):
    """The progress of one applying workflow (a snapshot of its steps) through its steps."""
    __tablename__ = "approval_tracks"
    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("approval_requests.id"), nullable=False, index=True)
    workflow_id = Column(Integer, nullable=False)
    workflow_name = Column(String(200), nullable=False)
    workflow_version = Column(Integer, nullable=False)
    steps = Column(JSONText, nullable=False)
    triggered_by = Column(JSONText, nullable=False)
    current_step = Column(Integer, nullable=False, default=0)
    # approvals the current step needs (its `required`, capped by the approvers it has)
    step_required = Column(Integer, nullable=False, default=1)
    step_started_at = Column(DateTime, nullable=False, default=utcnow)
    reminded_at = Column(DateTime)
    escalated_at = Column(DateTime)
    status = Column(String(16), nullable=False, index=True)  # pending|approved|rejected|cancelled
    request = relationship("ApprovalRequest", back_populates="tracks")


class Assignment(Base):
    """Who may decide a step of a track: an approver, their delegate (on_behalf_of the
    approver) or a PAS admin after an escalation."""
    __tablename__ = "approval_assignments"
    __table_args__ = (PrimaryKeyConstraint("track_id", "step", "user_id"),)
    track_id = Column(Integer, ForeignKey("approval_tracks.id"), nullable=False)
    step = Column(Integer, nullable=False)
    user_id = Column(Integer, nullable=False, index=True)
    person = Column(JSONText, nullable=False)
    on_behalf_of = Column(Integer)
    escalated = Column(Boolean, nullable=False, default=False)


class Decision(HappenedAt, Base):
    """One approver's decision on one step. Unique per principal (the approver, whoever
    acted for them), so two approvals by one approver, or by them and their delegate,
    count once."""
    __tablename__ = "approval_decisions"
    __table_args__ = (UniqueConstraint("track_id", "step", "principal_user_id",
                                       name="uq_approval_decisions_principal"),)
    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, nullable=False, index=True)
    track_id = Column(Integer, ForeignKey("approval_tracks.id"), nullable=False)
    step = Column(Integer, nullable=False)
    principal_user_id = Column(Integer, nullable=False)
    user_id = Column(Integer, nullable=False)
    person = Column(JSONText, nullable=False)
    decision = Column(String(10), nullable=False)  # approved | rejected
    comment = Column(Text)


class Delegation(CreatedAt, Period, Base):
    """An approver's delegation to another user of their company while away."""
    __tablename__ = "approval_delegations"
    user_id = Column(Integer, primary_key=True, autoincrement=False)
    company_id = Column(Integer, nullable=False, index=True)
    delegate_user_id = Column(Integer, nullable=False)
    delegate = Column(JSONText, nullable=False)


class AuditEntry(HappenedAt, Base):
    __tablename__ = "approval_audit"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, index=True)
    approval_id = Column(Integer, index=True)
    workflow_id = Column(Integer)
    order_number = Column(String(32))
    action = Column(String(32), nullable=False)
    actor_user_id = Column(Integer)
    actor = Column(JSONText)
    comment = Column(Text)
    details = Column(JSONText)
