"""The transactional outbox and its relay.

`emit()` writes an event as a row in the same transaction as the state change. The relay,
running inside every service process, publishes unsent rows to the service's nameko event
exchange with publisher confirms and `mandatory`, then marks them sent. A crash between
commit and publish leaves the row unsent, so it is published later: at-least-once, with
idempotent handlers on the other side. A row the broker returns (no queue bound) stays
unsent and is retried with back-off.
"""
import logging
import os
import signal
import time
import uuid
from datetime import timedelta

import eventlet
from eventlet.event import Event
from kombu.exceptions import OperationalError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.constants import PERSISTENT
from nameko.events import get_event_exchange
from nameko.extensions import DependencyProvider
from sqlalchemy import func, select

from services.common.config import amqp_uri, env
from services.common.context import current_request_id
from services.common.db import Database, utcnow
from services.common.metrics import (DEAD_LETTERS, OUTBOX_BACKLOG, OUTBOX_PUBLISHED,
                                     OUTBOX_UNROUTABLE)

log = logging.getLogger(__name__)


def emit(session, source: str, event_type: str, payload: dict, request_id=None):
    """Record an event to publish once this session's transaction commits."""
    model = _outbox_model(session)
    row = model(event_id=str(uuid.uuid4()), source=source, type=event_type, payload=payload,
                request_id=request_id or current_request_id(), occurred_at=utcnow(),
                next_attempt_at=utcnow(), attempts=0)
    session.add(row)
    session.info["after_commit"] = True
    return row


def _outbox_model(session):
    model = session.info.get("outbox_model")
    if model is None:
        raise RuntimeError("session has no outbox model; create it with Database or session_for()")
    return model


def envelope(row) -> dict:
    return {"event_id": row.event_id, "type": row.type, "source": row.source,
            "occurred_at": row.occurred_at.isoformat() + "Z", "request_id": row.request_id,
            "payload": row.payload}


def publish_pending(session, model, publisher, service, batch=200):
    """Publish due rows; returns (published, still_pending). Runs in its own transaction."""
    now = utcnow()
    query = (select(model).where(model.sent_at.is_(None), model.next_attempt_at <= now)
             .order_by(model.id).limit(batch).with_for_update(skip_locked=True))
    rows = session.scalars(query).all()
    published = 0
    for row in rows:
        _fault("before_publish")
        try:
            publisher.publish(
                envelope(row), exchange=get_event_exchange(row.source, {}), routing_key=row.type,
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


class OutboxRelay(DependencyProvider):
    """Add `relay = OutboxRelay()` to a service that emits events."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self.wakeup = Event()
        self.running = False
        self.gt = None

    def setup(self):
        self.database = next(d for d in self.container.dependencies if isinstance(d, Database))
        self.database.after_commit_hooks.append(self.kick)
        self.publisher = Publisher(amqp_uri(), use_confirms=True)
        self.interval = float(env("OUTBOX_RELAY_INTERVAL", self.interval))

    def start(self):
        if env("OUTBOX_RELAY") == "off":
            log.warning("outbox relay disabled by OUTBOX_RELAY=off")
            return
        self.running = True
        self.gt = self.container.spawn_managed_thread(self._run)

    def stop(self):
        self.running = False
        self.kick()
        if self.gt is not None:
            self.gt.wait()

    def kill(self):
        self.running = False
        if self.gt is not None:
            self.gt.kill()

    def kick(self):
        if not self.wakeup.ready():
            self.wakeup.send(True)

    def _count_dead_letters(self):
        # the queue is shared by all services: every relay reports it (alert on max())
        from services.common.entrypoints import dead_letter_count
        try:
            DEAD_LETTERS.set(dead_letter_count())
        except Exception as exc:
            log.debug("could not count dead letters: %s", exc)

    def _run(self):
        service = self.container.service_name
        model = self.database.base.OutboxEvent
        counted_at = 0.0
        while self.running:
            if time.monotonic() - counted_at > 15:
                counted_at = time.monotonic()
                self._count_dead_letters()
            try:
                with self.database.session_factory() as session:
                    published = publish_pending(session, model, self.publisher, service)
                    OUTBOX_BACKLOG.labels(service).set(backlog(session, model))
                    session.commit()
                if published:
                    continue  # there may be more
            except (OperationalError, OSError, ConnectionError) as exc:
                log.warning("outbox relay of %s: broker or database unavailable: %s", service, exc)
            except Exception:
                log.exception("outbox relay of %s failed; retrying", service)
            with eventlet.Timeout(self.interval, False):
                self.wakeup.wait()
            self.wakeup = Event()
