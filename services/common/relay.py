"""The outbox relay, running inside every service process that emits events.

It publishes unsent outbox rows (`services/common/outbox.py`) to the service's nameko event
exchange with publisher confirms and `mandatory`, then marks them sent. A crash between
commit and publish leaves the row unsent, so it is published later: at-least-once, with
idempotent handlers on the other side. A row the broker returns (no queue bound) stays
unsent and is retried with back-off.
"""
import logging
import os
import signal
import time
from datetime import timedelta

from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.constants import PERSISTENT
from nameko.events import get_event_exchange
from sqlalchemy import func, select

from services.common.background import BackgroundLoop
from services.common.broker import dead_letter_count
from services.common.clock import utcnow
from services.common.config import amqp_uri, env
from services.common.engines import is_postgres
from services.common.metrics import (DEAD_LETTERS, OUTBOX_BACKLOG, OUTBOX_PUBLISHED,
                                     OUTBOX_UNROUTABLE)

log = logging.getLogger(__name__)


def envelope(row) -> dict:
    return {"event_id": row.event_id, "type": row.type, "source": row.source,
            "occurred_at": row.occurred_at.isoformat() + "Z", "request_id": row.request_id,
            "payload": row.payload}


def publish_pending(session, model, publisher, service, batch=200):
    """Publish due rows; returns how many were published. Commits the session."""
    now = utcnow()
    query = (select(model).where(model.sent_at.is_(None), model.next_attempt_at <= now)
             .order_by(model.id).limit(batch).with_for_update(skip_locked=True))
    rows = session.scalars(query).all()
    if not rows:
        session.commit()
        return 0
    if not is_postgres(session):
        # SQLite: one writer at a time, and a service process has one connection; holding
        # it while waiting for the broker's confirms would stall every worker. Publishing
        # outside the transaction may publish a row twice when two processes of a service
        # relay at once; handlers skip a repeated event_id.
        session.commit()
    published = 0
    for row in rows:
        _fault("before_publish")
        exchange = get_event_exchange(row.source, {})
        try:
            # declared here too: an event nobody consumes yet has no exchange otherwise,
            # and publishing to a missing exchange closes the channel
            publisher.publish(
                envelope(row), exchange=exchange, routing_key=row.type, declare=[exchange],
                mandatory=True, delivery_mode=PERSISTENT,
                extra_headers={"nameko.request_id": row.request_id or ""})
        except UndeliverableMessage:
            # every durable consumer queue is declared at deploy time, so a return means
            # nobody listens (e.g. a broadcast with no gateway running): retry for a while
            # in case a consumer is starting, then give up on this row
            row.attempts += 1
            row.last_error = "unroutable: no queue bound for this event"
            row.next_attempt_at = now + timedelta(seconds=min(300, 2 ** min(row.attempts, 8)))
            OUTBOX_UNROUTABLE.labels(service).inc()
            if row.attempts >= int(env("OUTBOX_UNROUTABLE_ATTEMPTS", "8")):
                log.warning("event %s %s had no consumer after %s attempts; dropped",
                            row.type, row.event_id, row.attempts)
                row.sent_at = utcnow()
                row.last_error = "unroutable: dropped, no consumer"
            continue
        _fault("after_publish")
        row.sent_at = utcnow()
        row.attempts += 1
        published += 1
    session.commit()
    OUTBOX_PUBLISHED.labels(service).inc(published)
    return published


def backlog(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.sent_at.is_(None)))


def _fault(point):
    # Fault injection for the crash tests: kill this process at a named point.
    if env("OUTBOX_RELAY_FAULT") == point:
        log.warning("fault injection: killing process at %s", point)
        os.kill(os.getpid(), signal.SIGKILL)


class OutboxRelay(BackgroundLoop):
    """Add `relay = OutboxRelay()` to a service that emits events."""
    switch_env = "OUTBOX_RELAY"
    interval_env = "OUTBOX_RELAY_INTERVAL"

    def setup(self):
        super().setup()
        self.publisher = Publisher(amqp_uri(), use_confirms=True)
        self.counted_at = 0.0

    def _count_dead_letters(self):
        # the queue is shared by all services: every relay reports it (alert on max())
        try:
            DEAD_LETTERS.set(dead_letter_count())
        except Exception as exc:
            log.debug("could not count dead letters: %s", exc)

    def cycle(self) -> bool:
        service = self.container.service_name
        model = self.database.base.OutboxEvent
        if time.monotonic() - self.counted_at > 15:
            self.counted_at = time.monotonic()
            self._count_dead_letters()
        try:
            with self.database.session_factory() as session:
                published = publish_pending(session, model, self.publisher, service)
                OUTBOX_BACKLOG.labels(service).set(backlog(session, model))
                session.commit()
            return bool(published)  # there may be more
        except (OperationalError, OSError, ConnectionError) as exc:
            log.warning("outbox relay of %s: broker or database unavailable: %s", service, exc)
            return False
