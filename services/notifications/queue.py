"""The outgoing mail queue: claiming due messages, recording each attempt's outcome.

Plain functions on a SQLAlchemy session; the caller commits. The delivery worker
(delivery.py) commits a claim before it talks to the SMTP server, and commits each
message's outcome right after the server answered.

Claims: a row is claimed by setting `status = sending`, `claimed_at` and `claimed_by` in
one short transaction. On PostgreSQL the claim selects with `FOR UPDATE SKIP LOCKED`, so
several instances claim disjoint rows without waiting for each other; on SQLite every
transaction starts with `BEGIN IMMEDIATE` (services/common/engines.py), so claims are serialised
by the database's single writer. A claim older than the lease is considered abandoned (its
worker crashed or was killed) and the row is claimed again.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, literal, or_, select, update

from services.common.clock import utcnow
from services.notifications.models import MailAttempt, OutgoingMail
from services.notifications.statuses import FAILED, QUEUED, SENDING, SENT, STATUSES


@dataclass(frozen=True)
class Policy:
    """How the worker paces retries; every value can be set from the environment."""
    batch: int = 50
    lease: float = 300.0          # seconds before an unfinished claim is taken over
    retry_base: float = 2.0       # first retry after this many seconds, then doubling
    retry_max: float = 3600.0     # never wait longer than this between attempts
    max_attempts: int = 25        # then the message is failed (about a day with the defaults)

    def backoff(self, attempts: int) -> float:
        return min(self.retry_max, self.retry_base * (2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class ClaimedMail:
    """What the sender needs, detached from the session (no database during SMTP)."""
    id: int
    message_id: str
    recipient: str
    locale: str
    subject: str
    body_text: str
    body_html: str
    headers: dict
    attachment_filename: str | None
    attachment_content_type: str | None
    attachment: str | None
    attempts: int
    created_at: datetime


def _snapshot(row) -> ClaimedMail:
    return ClaimedMail(id=row.id, message_id=row.message_id, recipient=row.recipient,
                       locale=row.locale, subject=row.subject, body_text=row.body_text,
                       body_html=row.body_html, headers=dict(row.headers or {}),
                       attachment_filename=row.attachment_filename,
                       attachment_content_type=row.attachment_content_type,
                       attachment=row.attachment, attempts=row.attempts,
                       created_at=row.created_at)


def due_condition(now, lease):
    stale = now - timedelta(seconds=lease)
    return or_(and_(OutgoingMail.status == QUEUED, OutgoingMail.next_attempt_at <= now),
               and_(OutgoingMail.status == SENDING, OutgoingMail.claimed_at < stale))


def claim(session, worker: str, policy: Policy = Policy(), now=None) -> list[ClaimedMail]:
    """Claim up to `policy.batch` due messages for `worker`; each claim counts an attempt.
    A message already tried `max_attempts` times is failed instead."""
    now = now or utcnow()
    rows = session.scalars(select(OutgoingMail).where(due_condition(now, policy.lease))
                           .order_by(OutgoingMail.id).limit(policy.batch)
                           .with_for_update(skip_locked=True)).all()
    claimed = []
    for row in rows:
        if row.attempts >= policy.max_attempts:
            row.status = FAILED
            row.claimed_at = row.claimed_by = None
            row.last_error = f"gave up after {row.attempts} attempts: {row.last_error or ''}"[:2000]
            session.add(MailAttempt(mail_id=row.id, number=row.attempts, at=now,
                                    outcome="failed", error="too many attempts", worker=worker))
            continue
        row.status = SENDING
        row.claimed_at = now
        row.claimed_by = worker
        row.attempts += 1
        claimed.append(_snapshot(row))
    session.flush()
    return claimed


def mark_sent(session, mail_id: int, worker: str, now=None) -> bool:
    """The server accepted the message. Recorded even if another worker took the claim
    over meanwhile: the message has gone, whoever holds the claim."""
    now = now or utcnow()
    # two statements, no ORM load: this runs once per message sent. The body goes: it
    # carries one-time links and personal data, and a sent message is never sent again.
    changed = session.execute(
        update(OutgoingMail).where(OutgoingMail.id == mail_id, OutgoingMail.status != SENT)
        .values(status=SENT, sent_at=now, claimed_at=None, claimed_by=None, last_error=None,
                body_text="", body_html="", attachment=None, headers=None)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        return False
    session.execute(insert(MailAttempt).from_select(
        ["mail_id", "number", "at", "outcome", "smtp_code", "worker"],
        select(OutgoingMail.id, OutgoingMail.attempts, literal(now), literal("sent"),
               literal(250), literal(worker)).where(OutgoingMail.id == mail_id)))
    return True


def mark_retry(session, mail_id: int, worker: str, error: str, code=None,
               policy: Policy = Policy(), now=None) -> str | None:
    """A temporary failure: try again after the back-off, or fail the message once it has
    had its attempts. Returns the new status, None if the claim is no longer ours."""
    now = now or utcnow()
    row = session.get(OutgoingMail, mail_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != SENDING or row.claimed_by != worker:
        return None
    row.claimed_at = row.claimed_by = None
    row.last_error = str(error)[:2000]
    if row.attempts >= policy.max_attempts:
        row.status = FAILED
        outcome = "failed"
    else:
        row.status = QUEUED
        row.next_attempt_at = now + timedelta(seconds=policy.backoff(row.attempts))
        outcome = "retry"
    session.add(MailAttempt(mail_id=mail_id, number=row.attempts, at=now, outcome=outcome,
                            smtp_code=code, error=str(error)[:2000], worker=worker))
    session.flush()
    return row.status


def mark_failed(session, mail_id: int, worker: str, error: str, code=None, now=None) -> bool:
    """A permanent refusal (5xx for this recipient or this content): never retried."""
    now = now or utcnow()
    row = session.get(OutgoingMail, mail_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != SENDING or row.claimed_by != worker:
        return False
    row.status = FAILED
    row.claimed_at = row.claimed_by = None
    row.last_error = str(error)[:2000]
    session.add(MailAttempt(mail_id=mail_id, number=row.attempts, at=now, outcome="failed",
                            smtp_code=code, error=str(error)[:2000], worker=worker))
    session.flush()
    return True


def release(session, mail_ids, worker: str) -> int:
    """Give back claimed messages that were not tried (the worker is stopping, or its
    batch took too long), without counting an attempt."""
    if not mail_ids:
        return 0
    result = session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id.in_(list(mail_ids)), OutgoingMail.status == SENDING,
               OutgoingMail.claimed_by == worker)
        .values(status=QUEUED, claimed_at=None, claimed_by=None,
                attempts=OutgoingMail.attempts - 1)
        .execution_options(synchronize_session=False))
    return result.rowcount


def requeue(session, mail_ids=None, now=None) -> int:
    """Put failed messages back in the queue with a fresh attempt budget (operators)."""
    query = (update(OutgoingMail).where(OutgoingMail.status == FAILED)
             .values(status=QUEUED, attempts=0, next_attempt_at=now or utcnow(),
                     claimed_at=None, claimed_by=None)
             .execution_options(synchronize_session=False))
    if mail_ids is not None:
        query = query.where(OutgoingMail.id.in_(list(mail_ids)))
    return session.execute(query).rowcount


def stats(session, now=None) -> dict:
    """Messages by status, and the age in seconds of the oldest message waiting."""
    now = now or utcnow()
    counts = dict(session.execute(select(OutgoingMail.status, func.count())
                                  .group_by(OutgoingMail.status)).all())
    oldest = session.scalar(select(func.min(OutgoingMail.created_at))
                            .where(OutgoingMail.status.in_((QUEUED, SENDING))))
    result = {status: int(counts.get(status, 0)) for status in STATUSES}
    result["oldest_waiting_seconds"] = (now - oldest).total_seconds() if oldest else 0.0
    return result


def next_due_in(session, lease: float, now=None) -> float | None:
    """Seconds until the next message becomes due (None when nothing waits)."""
    now = now or utcnow()
    soonest = session.scalar(select(func.min(OutgoingMail.next_attempt_at))
                             .where(OutgoingMail.status == QUEUED))
    claimed = session.scalar(select(func.min(OutgoingMail.claimed_at))
                             .where(OutgoingMail.status == SENDING))
    candidates = []
    if soonest is not None:
        candidates.append((soonest - now).total_seconds())
    if claimed is not None:
        candidates.append((claimed + timedelta(seconds=lease) - now).total_seconds())
    return max(0.0, min(candidates)) if candidates else None
