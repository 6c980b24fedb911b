"""The outbox relay, running inside every service process that emits events.

It publishes unsent outbox rows (`services/common/outbox.py`) to the service's nameko event
exchange with publisher confirms, `mandatory`, and the AMQP `user_id` of the service's
RabbitMQ user (which the broker checks and consumers compare with the event's source), then
marks them sent. A crash between commit and publish leaves the row unsent, so it is
published later: at-least-once, with idempotent handlers on the other side.

The exchange is declared before each publish, so an event nobody consumes never closes the
channel. A row the broker returns (no queue bound) is retried with back-off in case a
consumer is starting, then marked unroutable (`unroutable_at`), in its own state, not sent.

One-time secrets never rest in the outbox: once a row is sent (or found unroutable) the
payload keys that hold them (outbox.SECRET_KEYS) are blanked. Sent and unroutable rows are
deleted after OUTBOX_RETENTION_DAYS (default 7).
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
from sqlalchemy import delete, func, select

from services.common.background import BackgroundLoop
from services.common.broker import dead_letter_count
from services.common.clock import utcnow
from services.common.config import env, uri_user
from services.common.engines import is_postgres
from services.common.metrics import (DEAD_LETTERS, OUTBOX_BACKLOG, OUTBOX_PUBLISHED,
                                     OUTBOX_UNROUTABLE)
from services.common.outbox import without_secrets

log = logging.getLogger(__name__)


def envelope(row) -> dict:
    return {"event_id": row.event_id, "type": row.type, "source": row.source,
            "occurred_at": row.occurred_at.isoformat() + "Z", "request_id": row.request_id,
            "payload": row.payload}


BATCH = 200
BACKLOG_SECONDS = 5.0  # how fresh the backlog gauge is: counting rows on every cycle is not free


def publish_pending(session, model, publisher, service, batch=None):
    """Publish due rows, at most `batch` (BATCH); returns how many were published. Commits
    the session. `publisher` is a nameko Publisher made with the service's `user_id`."""
    batch = batch or BATCH
    now = utcnow()
    query = (select(model).where(model.sent_at.is_(None), model.unroutable_at.is_(None),
                                 model.next_attempt_at <= now)
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
                log.warning("event %s %s had no consumer after %s attempts; marked unroutable",
                            row.type, row.event_id, row.attempts)
                row.unroutable_at = utcnow()
                row.last_error = "unroutable: no queue receives this event"
                row.payload = without_secrets(row.payload)
            continue
        _fault("after_publish")
        row.sent_at = utcnow()
        row.attempts += 1
        row.payload = without_secrets(row.payload)
        published += 1
    session.commit()
    OUTBOX_PUBLISHED.labels(service).inc(published)
    return published


def backlog(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model).where(
        model.sent_at.is_(None), model.unroutable_at.is_(None)))


def retention(name, default_days) -> timedelta:
    return timedelta(days=float(env(name, default_days)))


def prune_outbox(session, model, now=None) -> int:
    """Delete the rows sent or found unroutable more than OUTBOX_RETENTION_DAYS ago; returns
    how many. The caller commits."""
    cutoff = (now or utcnow()) - retention("OUTBOX_RETENTION_DAYS", "7")
    sent = session.execute(delete(model).where(model.sent_at < cutoff)).rowcount
    unroutable = session.execute(delete(model).where(model.unroutable_at < cutoff)).rowcount
    return sent + unroutable


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
        uri = self.container.config["AMQP_URI"]
        self.uri = uri
        # every event says which RabbitMQ user published it; the broker refuses a lie
        self.publisher = Publisher(uri, use_confirms=True, user_id=uri_user(uri))
        self.counted_at = 0.0
        self.backlog_at = 0.0
        self.pruned_at = 0.0

    def _prune(self, model):
        # once an hour (and soon after start): sent rows are kept for a while for the
        # operator, then deleted
        if time.monotonic() - self.pruned_at < float(env("OUTBOX_PRUNE_INTERVAL", "3600")):
            return
        self.pruned_at = time.monotonic()
        with self.database.session_factory() as session:
            pruned = prune_outbox(session, model)
            session.commit()
        if pruned:
            log.info("outbox of %s: %s old rows deleted", self.container.service_name, pruned)

    def _count_dead_letters(self):
        # the queue is shared by all services: every relay reports it (alert on max())
        try:
            DEAD_LETTERS.set(dead_letter_count(self.uri))
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
                if time.monotonic() - self.backlog_at > BACKLOG_SECONDS:
                    self.backlog_at = time.monotonic()
                    OUTBOX_BACKLOG.labels(service).set(backlog(session, model))
                session.commit()
            self._prune(model)
            # a full batch: there may be more at once; rows committed meanwhile by this
            # process have woken the loop already (after_commit_hooks), others' are polled
            return published >= BATCH
        except (OperationalError, OSError, ConnectionError) as exc:
            log.warning("outbox relay of %s: broker or database unavailable: %s", service, exc)
            return False
