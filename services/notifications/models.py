"""Notifications' own tables: the outgoing mail queue and its attempts, the email
preferences read model (fed by identity's events), the suppression list and the
unsubscribe tokens."""
from sqlalchemy import (Boolean, Column, DateTime, Index, Integer, String, Text,
                        UniqueConstraint)

from services.common.tables import CreatedAt, HappenedAt, JSONText, Retried, make_base, part_of
from services.notifications.statuses import QUEUED

Base = make_base()


class OutgoingMail(CreatedAt, Retried, Base):
    """One message to one recipient. The Message-ID is derived from the event and the
    recipient, so a redelivered event can never queue a second copy."""
    __tablename__ = "outgoing_mail"
    __table_args__ = (Index("ix_outgoing_mail_due", "status", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(String(255), nullable=False, unique=True)
    event_id = Column(String(36), index=True)
    kind = Column(String(60), nullable=False)
    category = Column(String(30), nullable=False)
    recipient = Column(String(320), nullable=False, index=True)
    locale = Column(String(5), nullable=False)
    subject = Column(Text, nullable=False)
    body_text = Column(Text, nullable=False)
    body_html = Column(Text, nullable=False)
    headers = Column(JSONText)  # extra headers, e.g. List-Unsubscribe on optional mail
    attachment_filename = Column(String(255))
    attachment_content_type = Column(String(100))
    attachment = Column(Text)
    status = Column(String(12), nullable=False, default=QUEUED)
    claimed_at = Column(DateTime)
    claimed_by = Column(String(80))
    sent_at = Column(DateTime)


class MailAttempt(HappenedAt, Base):
    """Each delivery attempt and how it ended, for operators."""
    __tablename__ = "mail_attempts"
    id = Column(Integer, primary_key=True)
    mail_id = part_of("outgoing_mail")
    number = Column(Integer, nullable=False)
    outcome = Column(String(12), nullable=False)  # sent, retry, failed
    smtp_code = Column(Integer)
    error = Column(Text)
    worker = Column(String(80))


class EmailPreference(Base):
    """identity's email preferences of one user, kept from `email_preferences_changed`."""
    __tablename__ = "email_preferences"
    user_id = Column(Integer, primary_key=True, autoincrement=False)
    email = Column(String(320), nullable=False, index=True)
    marketing = Column(Boolean, nullable=False, default=True)
    order_updates = Column(Boolean, nullable=False, default=True)
    report_deliveries = Column(Boolean, nullable=False, default=True)
    # when identity recorded the change: an older event arriving late changes nothing
    as_of = Column(DateTime, nullable=False)


class Suppression(CreatedAt, Base):
    """An address that must receive no optional mail of one stream (marketing,
    report_deliveries), by its own request."""
    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("email", "stream", name="uq_suppressions_email_stream"),)
    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False)
    stream = Column(String(30), nullable=False)
    reason = Column(String(30), nullable=False, default="unsubscribe")


class UnsubscribeToken(CreatedAt, Base):
    """The token of one unsubscribe link, stored as its SHA-256 only."""
    __tablename__ = "unsubscribe_tokens"
    token_hash = Column(String(64), primary_key=True)
    email = Column(String(320), nullable=False)
    stream = Column(String(30), nullable=False)
    locale = Column(String(5), nullable=False, default="en")
    used_at = Column(DateTime)
